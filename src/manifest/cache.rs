//! A manifest read once per version of the file: the parsed form kept in
//! this user's data directory, keyed by what `stat` says of the file
//! (device, inode, size, modification and change times to the
//! nanosecond, as git's index keys its entries), so that exec in a
//! project pays for reading a few bytes instead of parsing TOML.
//!
//! The cache is the user's own, like the trust state beside it; a file
//! that does not decode, or that another build wrote, is ignored and
//! written again. Editing the manifest changes its change time, which no
//! one can set back.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::rule::Rule;
use super::{Manifest, Var};
use crate::model::{Environment, SecretName};

const MAGIC: &[u8] = concat!("vault manifest cache 2 ", env!("CARGO_PKG_VERSION"), "\n").as_bytes();

/// Where the parsed form of the manifest at `path` is kept.
pub fn path_for(data_dir: &Path, path: &Path) -> PathBuf {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let name = crate::crypto::field_digest(canonical.as_os_str().as_bytes());
    data_dir
        .join("vault")
        .join("manifests")
        .join(hex::encode(&name[..16]))
}

/// What the cache entry must match: the file as `stat` sees it.
pub fn key(meta: &std::fs::Metadata) -> [i64; 7] {
    [
        meta.dev() as i64,
        meta.ino() as i64,
        meta.size() as i64,
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec(),
    ]
}

/// The manifest kept for `key`, if the entry is there and whole.
pub fn read(cache: &Path, key: &[i64; 7], path: &Path) -> Option<Manifest> {
    let bytes = std::fs::read(cache).ok()?;
    let mut r = Reader(bytes.strip_prefix(MAGIC)?);
    for k in key {
        if r.num()? != *k {
            return None;
        }
    }
    if r.bytes()? != path.as_os_str().as_bytes() {
        return None;
    }
    let root = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let vault = r
        .opt_bytes()?
        .map(|b| PathBuf::from(std::ffi::OsStr::from_bytes(b)));
    let environment = match r.opt_text()? {
        Some(e) => Some(Environment::parse(&e).ok()?),
        None => None,
    };
    let environments = r.environments()?;
    let mut vars = Vec::with_capacity(r.num()? as usize);
    for _ in 0..vars.capacity() {
        let name = SecretName::stored(r.text()?);
        let description = r.opt_text()?;
        let required = r.num()? != 0;
        let default = r.opt_text()?;
        let pattern = r.opt_text()?;
        let pattern_line = r.num()? as usize;
        let min_length = r.opt_num()?.map(|n| n as usize);
        let max_length = r.opt_num()?.map(|n| n as usize);
        let deny = (0..r.num()?)
            .map(|_| r.text())
            .collect::<Option<Vec<_>>>()?;
        let listed = r.num()? != 0;
        let environments = r.environments()?;
        let as_file = r.num()? != 0;
        let line = r.num()? as usize;
        vars.push(Var {
            name,
            description,
            required,
            default,
            rule: Rule::new(
                pattern.map(|p| (p, pattern_line)),
                min_length,
                max_length,
                deny,
            ),
            environments: listed.then_some(environments),
            as_file,
            line,
        });
    }
    let rules: [u8; 32] = r.bytes()?.try_into().ok()?;
    r.0.is_empty().then_some(Manifest {
        path: path.to_owned(),
        root,
        vault,
        environment,
        environments,
        vars,
        rules: rules.into(),
    })
}

/// Whether a file with this key changed too recently to be kept: file
/// times advance by the kernel's clock tick, so a second edit within one
/// tick could keep size and times alike (git's "racy" entries). Such a
/// file is parsed again until it is a little older.
pub fn racy(key: &[i64; 7]) -> bool {
    let now = crate::time::now();
    now - key[5] < 2
}

/// Keeps `manifest` for `key`; a cache that cannot be written is only
/// slower next time.
pub fn write(cache: &Path, key: &[i64; 7], manifest: &Manifest) {
    let mut w = Writer(MAGIC.to_vec());
    for k in key {
        w.num(*k);
    }
    w.bytes(manifest.path.as_os_str().as_bytes());
    w.opt_bytes(manifest.vault.as_ref().map(|v| v.as_os_str().as_bytes()));
    w.opt_bytes(manifest.environment.as_ref().map(|e| e.as_str().as_bytes()));
    w.environments(&manifest.environments);
    w.num(manifest.vars.len() as i64);
    for var in &manifest.vars {
        w.bytes(var.name.as_str().as_bytes());
        w.opt_bytes(var.description.as_deref().map(str::as_bytes));
        w.num(i64::from(var.required));
        w.opt_bytes(var.default.as_deref().map(str::as_bytes));
        w.opt_bytes(var.rule.pattern.as_deref().map(str::as_bytes));
        w.num(var.rule.pattern_line as i64);
        w.opt_num(var.rule.min_length.map(|n| n as i64));
        w.opt_num(var.rule.max_length.map(|n| n as i64));
        w.num(var.rule.deny.len() as i64);
        for deny in &var.rule.deny {
            w.bytes(deny.as_bytes());
        }
        w.num(i64::from(var.environments.is_some()));
        w.environments(var.environments.as_deref().unwrap_or_default());
        w.num(i64::from(var.as_file));
        w.num(var.line as i64);
    }
    w.bytes(&manifest.rules_digest());
    let _ = crate::trust_state::replace(cache, &w.0);
}

struct Writer(Vec<u8>);

impl Writer {
    fn num(&mut self, n: i64) {
        self.0.extend_from_slice(&n.to_be_bytes());
    }
    fn opt_num(&mut self, n: Option<i64>) {
        self.num(i64::from(n.is_some()));
        self.num(n.unwrap_or_default());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.num(b.len() as i64);
        self.0.extend_from_slice(b);
    }
    fn opt_bytes(&mut self, b: Option<&[u8]>) {
        self.num(i64::from(b.is_some()));
        self.bytes(b.unwrap_or_default());
    }
    fn environments(&mut self, list: &[Environment]) {
        self.num(list.len() as i64);
        for e in list {
            self.bytes(e.as_str().as_bytes());
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn num(&mut self) -> Option<i64> {
        let (n, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(i64::from_be_bytes(*n))
    }
    fn opt_num(&mut self) -> Option<Option<i64>> {
        let present = self.num()? != 0;
        let n = self.num()?;
        Some(present.then_some(n))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.num()?).ok()?;
        let (b, rest) = (self.0.get(..len)?, self.0.get(len..)?);
        self.0 = rest;
        Some(b)
    }
    fn opt_bytes(&mut self) -> Option<Option<&'a [u8]>> {
        let present = self.num()? != 0;
        let b = self.bytes()?;
        Some(present.then_some(b))
    }
    fn text(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    fn opt_text(&mut self) -> Option<Option<String>> {
        match self.opt_bytes()? {
            Some(b) => Some(Some(String::from_utf8(b.to_vec()).ok()?)),
            None => Some(None),
        }
    }
    fn environments(&mut self) -> Option<Vec<Environment>> {
        (0..self.num()?)
            .map(|_| Environment::parse(&self.text()?).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_manifest_reads_back_whole_and_only_for_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.toml");
        let text = "[project]\nvault = \"s/v.db\"\nenvironment = \"dev\"\nenvironments = [\"dev\", \"prod\"]\n\n\
                    [vars.A]\ndescription = \"a \\\"quoted\\\"\\nline\"\npattern = \"^a+$\"\nmin_length = 2\n\
                    max_length = 9\ndeny = [\"xx\", \"yy\"]\nenvironments = [\"prod\"]\n\n\
                    [vars.B]\nrequired = false\ndefault = \"info\"\nas = \"file\"\n";
        std::fs::write(&path, text).unwrap();
        let parsed = super::super::parse::parse(&path, text).unwrap();
        let cache = dir.path().join("cache").join("m");
        let key = key(&std::fs::metadata(&path).unwrap());
        write(&cache, &key, &parsed);
        let back = read(&cache, &key, &path).expect("read back");
        assert_eq!(format!("{back:?}"), format!("{parsed:?}"));
        assert!(
            back.var("B").is_some_and(|b| b.as_file) && back.var("A").is_some_and(|a| !a.as_file)
        );
        let mut other = key;
        other[6] += 1;
        assert!(read(&cache, &other, &path).is_none(), "a changed file");
        assert!(read(&cache, &key, &dir.path().join("x.toml")).is_none());
        let mut bytes = std::fs::read(&cache).unwrap();
        bytes.pop();
        std::fs::write(&cache, &bytes).unwrap();
        assert!(read(&cache, &key, &path).is_none(), "a cut entry");
    }
}
