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

mod text;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub(crate) use text::replace;
use text::secrets_path;

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
}
