//! The leak guard: finding the vault's stored values in files, in what git
//! is about to commit or has committed, and in a log on stdin, and saying
//! where (file, line, column, secret and version), never what.
//!
//! `matcher.rs` is the search (one streaming pass, values and
//! fingerprints); `walk.rs` picks the files of a directory. The values and
//! fingerprints come from `vault::ScanTargets`; git's blobs from `git.rs`.
//! Nothing here prints: `cmd/scan.rs` does.

mod matcher;
mod walk;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use matcher::{Finding, How, Matcher, MIN_LEN};
pub use walk::Skip;

use crate::error::{Error, Result};
use crate::git::{BlobAt, Repo};

/// A finding and where: a file (or `<stdin>`), and for history the commit.
pub struct Hit {
    pub commit: Option<String>,
    pub path: String,
    pub finding: Finding,
}

/// What a scan read and found.
#[derive(Default)]
pub struct Outcome {
    pub hits: Vec<Hit>,
    pub files: u64,
    pub bytes: u64,
    /// Files and directories that could not be read; the scan went on.
    pub errors: Vec<Error>,
}

impl Outcome {
    fn add(&mut self, commit: Option<&str>, path: &str, findings: Vec<Finding>, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
        self.hits.extend(findings.into_iter().map(|finding| Hit {
            commit: commit.map(str::to_owned),
            path: path.to_owned(),
            finding,
        }));
    }
}

fn scan_one(matcher: &Matcher, input: impl Read) -> std::io::Result<(Vec<Finding>, u64)> {
    let mut findings = Vec::new();
    let bytes = matcher.scan(input, |f| findings.push(f))?;
    Ok((findings, bytes))
}

/// A path as findings show it: as given, or below the directory given.
fn shown_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let text = text.strip_prefix("./").unwrap_or(&text);
    crate::model::shown(text).into_owned()
}

/// Scans files and directories. A path that does not exist is an error
/// before anything is read. A file named on the command line is read as
/// it is (through a symbolic link, ignored or not); directories are
/// walked (`walk.rs`).
pub fn paths(
    matcher: &Matcher,
    paths: &[PathBuf],
    skip: &Skip,
    honour_ignore: bool,
) -> Result<Outcome> {
    for path in paths {
        std::fs::symlink_metadata(path).map_err(|e| Error::io("scan", path, e))?;
    }
    let (files, dirs): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .iter()
        .cloned()
        .partition(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()));
    let mut outcome = Outcome::default();
    let mut unread = Vec::new();
    let mut read = |file: &Path| match std::fs::File::open(file).and_then(|f| scan_one(matcher, f))
    {
        Ok((findings, bytes)) => outcome.add(None, &shown_path(file), findings, bytes),
        Err(e) => unread.push(Error::io(
            "read",
            file.strip_prefix("./").unwrap_or(file),
            e,
        )),
    };
    for file in files.iter().filter(|f| !skip.skips(f)) {
        read(file);
    }
    let mut errors = walk::walk(&dirs, skip, honour_ignore, read);
    errors.extend(unread);
    outcome.errors = errors;
    Ok(outcome)
}

/// Scans standard input to its end.
pub fn stdin(matcher: &Matcher) -> Result<Outcome> {
    let (findings, bytes) = scan_one(matcher, std::io::stdin().lock())
        .map_err(|e| Error::io("read", Path::new("stdin"), e))?;
    let mut outcome = Outcome::default();
    outcome.add(None, "<stdin>", findings, bytes);
    Ok(outcome)
}

/// Scans git blobs, each once however many commits or paths share it;
/// `skip` names paths (relative to the work tree) never read, the vault's.
pub fn blobs(
    matcher: &Matcher,
    repo: &Repo,
    entries: Vec<BlobAt>,
    skip: &[String],
) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    let mut done: HashMap<String, Vec<Finding>> = HashMap::new();
    let mut reader = repo.blobs()?;
    for entry in entries {
        if skip.contains(&entry.path) {
            continue;
        }
        let findings = match done.get(&entry.blob) {
            Some(findings) => findings.clone(),
            None => {
                let (findings, bytes) = reader.read(&entry.blob, |r| scan_one(matcher, r))?;
                outcome.bytes += bytes;
                done.insert(entry.blob.clone(), findings.clone());
                findings
            }
        };
        outcome.files += 1;
        let path = crate::model::shown(&entry.path).into_owned();
        outcome.hits.extend(findings.into_iter().map(|finding| Hit {
            commit: entry.commit.clone(),
            path: path.clone(),
            finding,
        }));
    }
    Ok(outcome)
}
