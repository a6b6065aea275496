//! What this clone remembers of a vault between commands, outside the
//! vault file: the root it pinned, the newest state it has seen of every
//! secret, and what it has already verified.
//!
//! A writer of the vault file can change anything in it; it cannot change
//! this file, which lives in the user's own data directory (as ssh keeps
//! `known_hosts`), one per vault file and vault id. Lines of text:
//!
//! ```text
//! root <fingerprint hex>                       the pinned root's signing key
//! seen <identity id hex> <digest hex>          the view exec last verified
//! ruled <identity id hex> <digest hex>         that view passed a manifest's rules
//! own <identity id hex> <secret id hex>        an environment's own secret in that view
//! key <identity id hex> <n> <fingerprint hex>  an identity's signing key after its n-th rekey
//! secret <id hex> <generation> <epoch> <name>  the newest state seen
//! ```
//!
//! The `secret` lines live in `FILE.secrets`, read only when a command
//! checks freshness.
//!
//! Written whole to a new file and renamed over the old one (mode 0600 in
//! a 0700 directory); a file that cannot be read is treated as empty, never
//! as trusted.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One secret's newest state this clone has seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub generation: i64,
    pub epoch: i64,
    pub name: String,
}

#[derive(Default)]
pub struct TrustState {
    pub root: Option<[u8; 16]>,
    /// Per identity: the digest of the exec view last verified in full.
    pub verified: HashMap<[u8; 16], [u8; 32]>,
    /// Per identity: the values of a verified view passed a manifest's
    /// rules (a digest of the view and the rules, no value in it).
    pub ruled: HashMap<[u8; 16], [u8; 32]>,
    /// Per identity: the secrets of an environment (not shared ones) in
    /// the view exec last verified, so that one of them gone, with the
    /// shared secret of its name standing in, is noticed.
    pub own: HashMap<[u8; 16], HashSet<[u8; 16]>>,
    /// Per identity that rekeyed: how many handovers its chain held and
    /// the pin of the signing key the last one led to, when this clone
    /// last verified it. A chain without that key at that place forked.
    pub keys: HashMap<[u8; 16], (usize, [u8; 16])>,
    /// The newest state seen of each secret: one line per secret, kept in
    /// a file of its own (`PATH.secrets`) and read only when a command
    /// checks freshness, so that an exec whose view is unchanged reads a
    /// few lines, not one per secret.
    secrets: Option<HashMap<[u8; 16], Seen>>,
    /// The ids of `secrets` by name, made when first asked and dropped
    /// whenever `secrets` is handed out to change.
    names: Option<HashMap<String, Vec<[u8; 16]>>>,
    secrets_path: Option<PathBuf>,
    /// Keys of the rows exec verified last (16 bytes each, in
    /// `PATH.rows`), read only when a view changed.
    rows: Option<HashSet<[u8; 16]>>,
}

/// Where the state of the vault file `vault_path` with id `vault_id` is
/// kept: `DATA_DIR/vault/trust/HASH`. A vault inside a git work tree has
/// one state per branch: checking out another branch shows that branch's
/// secrets, not an older copy of this one's (the merge driver refuses a
/// branch that went back).
pub fn path_for(data_dir: &Path, vault_path: &Path, vault_id: &[u8; 16]) -> PathBuf {
    path_for_clone(data_dir, &clone_key(vault_path), vault_id)
}

/// What names one clone: the vault file's canonical path and, inside a git
/// work tree, the branch checked out.
pub fn clone_key(vault_path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let canonical = vault_path
        .canonicalize()
        .unwrap_or_else(|_| vault_path.to_owned());
    let mut key = canonical.as_os_str().as_bytes().to_vec();
    if let Some(branch) = git_branch(&canonical) {
        key.push(0);
        key.extend_from_slice(branch.as_bytes());
    }
    key
}

/// [`path_for`], for a clone named by [`clone_key`].
pub fn path_for_clone(data_dir: &Path, key: &[u8], vault_id: &[u8; 16]) -> PathBuf {
    let name = crate::crypto::cache_entry_id(key, vault_id, &[0; 16]);
    data_dir
        .join("vault")
        .join("trust")
        .join(hex::encode(&name[..16]))
}

/// Where exec keeps what opening this clone's vault file without SQLite
/// needs (`vault::warm`): beside the trust states, named by the clone alone
/// (the vault id is among what it holds).
pub fn warm_path(data_dir: &Path, key: &[u8]) -> PathBuf {
    let name = crate::crypto::digest(&crate::crypto::Aad::new("vault warm open v1").with(key));
    data_dir
        .join("vault")
        .join("trust")
        .join(format!("{}.warm", hex::encode(&name[..16])))
}

/// The branch checked out in the git work tree holding `file`, from the
/// nearest `.git` (a directory, or a worktree's file naming one). A few
/// stat calls and one small read; `None` outside git.
fn git_branch(file: &Path) -> Option<String> {
    let mut dir = file.parent()?;
    loop {
        let dot_git = dir.join(".git");
        if let Ok(meta) = std::fs::metadata(&dot_git) {
            let git_dir = if meta.is_dir() {
                dot_git
            } else {
                let text = std::fs::read_to_string(&dot_git).ok()?;
                dir.join(text.strip_prefix("gitdir: ")?.trim())
            };
            let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
            let head = head.trim();
            return Some(head.strip_prefix("ref: ").unwrap_or("detached").to_owned());
        }
        dir = dir.parent()?;
    }
}

impl TrustState {
    /// Reads the state; a missing or unreadable file is an empty state.
    pub fn load(path: &Path) -> TrustState {
        let mut state = TrustState {
            secrets_path: Some(secrets_path(path)),
            ..TrustState::default()
        };
        if let Ok(text) = std::fs::read_to_string(path) {
            state.read(&text);
        }
        state
    }

    /// The newest state seen of every secret, read on first use.
    pub fn secrets(&mut self) -> &mut HashMap<[u8; 16], Seen> {
        self.names = None;
        self.loaded_secrets()
    }

    /// Makes room for `n` secrets seen in all, so that a fresh clone
    /// recording a thousand does not grow its maps ten times over.
    pub fn reserve(&mut self, n: usize) {
        let secrets = self.loaded_secrets();
        secrets.reserve(n.saturating_sub(secrets.len()));
        if let Some(names) = self.names.as_mut() {
            names.reserve(n.saturating_sub(names.len()));
        }
    }

    /// What this clone saw last of the secret `id`.
    pub fn seen(&mut self, id: &[u8; 16]) -> Option<&Seen> {
        self.loaded_secrets().get(id)
    }

    /// Whether this clone knew another secret than `id` by `name`. One
    /// lookup, not a pass over every secret seen: a fresh clone asks it of
    /// each of its secrets.
    pub fn other_known_as(&mut self, name: &str, id: &[u8; 16]) -> bool {
        if self.names.is_none() {
            let mut names: HashMap<String, Vec<[u8; 16]>> = HashMap::new();
            for (id, seen) in self.loaded_secrets().iter() {
                names.entry(seen.name.clone()).or_default().push(*id);
            }
            self.names = Some(names);
        }
        self.names
            .as_ref()
            .and_then(|n| n.get(name))
            .is_some_and(|ids| ids.iter().any(|i| i != id))
    }

    /// Records what this clone saw of the secret `id`.
    pub fn see(&mut self, id: [u8; 16], seen: Seen) {
        if let Some(names) = self.names.as_mut() {
            let old = self.secrets.as_ref().and_then(|s| s.get(&id));
            if let Some(old) = old.filter(|old| old.name != seen.name) {
                if let Some(ids) = names.get_mut(&old.name) {
                    ids.retain(|i| *i != id);
                }
            }
            let ids = names.entry(seen.name.clone()).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        self.loaded_secrets().insert(id, seen);
    }

    fn loaded_secrets(&mut self) -> &mut HashMap<[u8; 16], Seen> {
        if self.secrets.is_none() {
            let text = self
                .secrets_path
                .as_ref()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default();
            self.secrets = Some(HashMap::new());
            self.read(&text);
        }
        self.secrets.get_or_insert_with(HashMap::new)
    }

    /// The keys of rows exec verified, read on first use.
    pub fn rows(&mut self) -> &mut HashSet<[u8; 16]> {
        if self.rows.is_none() {
            let bytes = self
                .secrets_path
                .as_ref()
                .and_then(|p| std::fs::read(p.with_extension("rows")).ok())
                .unwrap_or_default();
            let keys = bytes
                .chunks_exact(16)
                .map(|c| c.try_into().expect("16-byte chunks"))
                .collect();
            self.rows = Some(keys);
        }
        self.rows.get_or_insert_with(HashSet::new)
    }

    fn read(&mut self, text: &str) {
        let state = self;
        for line in text.lines() {
            let mut words = line.split(' ');
            match (words.next(), words.next(), words.next()) {
                (Some("root"), Some(fp), None) => state.root = id_hex(fp),
                (Some("seen"), Some(id), Some(digest)) => {
                    if let (Some(id), Some(digest)) = (id_hex(id), digest_hex(digest)) {
                        state.verified.insert(id, digest);
                    }
                }
                (Some("ruled"), Some(id), Some(digest)) => {
                    if let (Some(id), Some(digest)) = (id_hex(id), digest_hex(digest)) {
                        state.ruled.insert(id, digest);
                    }
                }
                (Some("own"), Some(id), Some(secret)) => {
                    if let (Some(id), Some(secret)) = (id_hex(id), id_hex(secret)) {
                        state.own.entry(id).or_default().insert(secret);
                    }
                }
                (Some("key"), Some(id), Some(at)) => {
                    let pin = words.next().and_then(id_hex);
                    if let (Some(id), Ok(at), Some(pin)) = (id_hex(id), at.parse(), pin) {
                        state.keys.insert(id, (at, pin));
                    }
                }
                (Some("secret"), Some(id), Some(generation)) => {
                    // The name is the rest of the line: a secret of an
                    // environment is `NAME (ENV)`.
                    let (Some(epoch), name) = (words.next(), words.collect::<Vec<_>>().join(" "))
                    else {
                        continue;
                    };
                    if name.is_empty() {
                        continue;
                    }
                    if let (Some(id), Ok(generation), Ok(epoch)) =
                        (id_hex(id), generation.parse(), epoch.parse())
                    {
                        state.secrets.get_or_insert_with(HashMap::new).insert(
                            id,
                            Seen {
                                generation,
                                epoch,
                                name,
                            },
                        );
                    }
                }
                _ => {}
            }
        }
    }

    /// Writes the state whole, replacing the old file in one rename.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        use std::fmt::Write as _;
        // Writing to a String cannot fail.
        let mut text = String::new();
        if let Some(root) = &self.root {
            let _ = writeln!(text, "root {}", Hex(root));
        }
        for (id, digest) in &self.verified {
            let _ = writeln!(text, "seen {} {}", Hex(id), Hex(digest));
        }
        for (id, digest) in &self.ruled {
            let _ = writeln!(text, "ruled {} {}", Hex(id), Hex(digest));
        }
        for (id, secrets) in &self.own {
            for secret in secrets {
                let _ = writeln!(text, "own {} {}", Hex(id), Hex(secret));
            }
        }
        for (id, (at, pin)) in &self.keys {
            let _ = writeln!(text, "key {} {at} {}", Hex(id), Hex(pin));
        }
        if let Some(secrets) = &self.secrets {
            // A fresh clone's first exec writes a line per granted secret:
            // each straight into one buffer, without the formatting
            // machinery (a tenth of that exec's own work at 1,000 secrets).
            let mut lines = Vec::with_capacity(secrets.len() * 96);
            for (id, seen) in secrets {
                secret_line(&mut lines, id, seen);
            }
            replace(&secrets_path(path), &lines)?;
        }
        if let Some(rows) = &self.rows {
            let bytes: Vec<u8> = rows.iter().flatten().copied().collect();
            replace(&path.with_extension("rows"), &bytes)?;
        }
        replace(path, text.as_bytes())
    }
}

/// Bytes shown in lowercase hex, as `hex::encode` would, written where
/// they go instead of into a String of their own.
struct Hex<'a>(&'a [u8]);

impl std::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = [0u8; 64];
        for chunk in self.0.chunks(32) {
            let hex = &mut buf[..chunk.len() * 2];
            hex::encode_to_slice(chunk, hex).map_err(|_| std::fmt::Error)?;
            f.write_str(std::str::from_utf8(hex).map_err(|_| std::fmt::Error)?)?;
        }
        Ok(())
    }
}

/// `secret ID GENERATION EPOCH NAME` and a newline, as `load` reads it.
fn secret_line(out: &mut Vec<u8>, id: &[u8; 16], seen: &Seen) {
    let mut hex = [0u8; 32];
    // Sixteen bytes always fit thirty-two digits.
    let _ = hex::encode_to_slice(id, &mut hex);
    out.extend_from_slice(b"secret ");
    out.extend_from_slice(&hex);
    for n in [seen.generation, seen.epoch] {
        out.push(b' ');
        decimal(out, n);
    }
    out.push(b' ');
    out.extend_from_slice(seen.name.as_bytes());
    out.push(b'\n');
}

/// `n` in decimal, as `Display` writes it.
fn decimal(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

fn secrets_path(path: &Path) -> PathBuf {
    path.with_extension("secrets")
}

/// Writes `bytes` to a file of this user's data directory whole: a new
/// file beside `path` (mode 0600, its directory made 0700 when missing),
/// renamed over `path`, so a reader sees the old file or the new one. The
/// trust state and the kept manifests are written this way.
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path.parent().expect("a data file is in a directory");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".{}.tmp", std::process::id()));
    let temp = PathBuf::from(temp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(bytes)?;
    drop(file);
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

fn id_hex(text: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

fn digest_hex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_known_by_its_ids_through_renames() {
        let seen = |name: &str| Seen {
            generation: 1,
            epoch: 0,
            name: name.to_owned(),
        };
        let mut state = TrustState::default();
        state.secrets().insert([1; 16], seen("A"));
        assert!(state.other_known_as("A", &[2; 16]));
        assert!(!state.other_known_as("A", &[1; 16]));
        // Renamed: A is free, B is taken, with the index kept up to date.
        state.see([1; 16], seen("B"));
        assert!(!state.other_known_as("A", &[2; 16]));
        assert!(state.other_known_as("B", &[2; 16]));
        state.see([2; 16], seen("A"));
        assert!(state.other_known_as("A", &[3; 16]));
        // Changed behind the index's back: it is made again.
        state.secrets().remove(&[2; 16]);
        assert!(!state.other_known_as("A", &[3; 16]));
    }

    #[test]
    fn hex_is_written_as_hex_encode_writes_it() {
        for len in [0, 1, 16, 31, 32, 33, 64, 100] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 5) as u8).collect();
            assert_eq!(Hex(&bytes).to_string(), hex::encode(&bytes), "{len} bytes");
        }
    }

    #[test]
    fn a_secret_line_is_what_formatting_writes() {
        let id: [u8; 16] = std::array::from_fn(|i| (i * 29 + 3) as u8);
        for (generation, epoch) in [
            (0, 0),
            (1, 9),
            (10, 100),
            (-1, i64::MIN),
            (i64::MAX, 12_345),
        ] {
            let seen = Seen {
                generation,
                epoch,
                name: "API_KEY (prod)".into(),
            };
            let mut line = Vec::new();
            secret_line(&mut line, &id, &seen);
            let want = format!(
                "secret {} {generation} {epoch} API_KEY (prod)\n",
                hex::encode(id)
            );
            assert_eq!(String::from_utf8(line).unwrap(), want);
        }
    }

    #[test]
    fn a_saved_state_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t").join("state");
        let mut state = TrustState {
            root: Some([7; 16]),
            ..Default::default()
        };
        state.verified.insert([1; 16], [2; 32]);
        state.ruled.insert([1; 16], [5; 32]);
        state.own.insert([1; 16], HashSet::from([[6; 16], [7; 16]]));
        state.keys.insert([8; 16], (2, [9; 16]));
        let seen = Seen {
            generation: 4,
            epoch: 2,
            name: "STRIPE_KEY".into(),
        };
        let in_prod = Seen {
            name: "STRIPE_KEY (prod)".into(),
            ..seen.clone()
        };
        state.secrets().insert([3; 16], seen.clone());
        state.secrets().insert([4; 16], in_prod.clone());
        state.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(&format!("root {}\n", "07".repeat(16))),
            "{text}"
        );
        assert!(text.contains(&format!("key {} 2 {}\n", "08".repeat(16), "09".repeat(16))));
        let mut back = TrustState::load(&path);
        assert_eq!(back.root, Some([7; 16]));
        assert_eq!(back.verified.get(&[1; 16]), Some(&[2; 32]));
        assert_eq!(back.ruled.get(&[1; 16]), Some(&[5; 32]));
        assert_eq!(
            back.own.get(&[1; 16]),
            Some(&HashSet::from([[6; 16], [7; 16]]))
        );
        assert_eq!(back.keys.get(&[8; 16]), Some(&(2, [9; 16])));
        assert_eq!(back.secrets().get(&[3; 16]), Some(&seen));
        assert_eq!(back.secrets().get(&[4; 16]), Some(&in_prod));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
