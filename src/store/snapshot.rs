//! A whole vault file as rows in memory, and a new file written from them.
//!
//! This is what merging works on: git hands the merge driver three files
//! (base, ours, theirs), each read here into a [`Snapshot`], and the merged
//! rows are written back as a new file that replaces ours in one rename, so
//! a crash or a refused write leaves ours as it was. Like the rest of the
//! store it sees ciphertext and plaintext metadata only.

use std::path::{Path, PathBuf};

use super::{
    AccessRow, AuditKeyRow, AuditRow, BundleRow, IdentityRow, SecretRow, StatementRow, Store,
    VaultRow,
};
use crate::error::{Error, Result};

/// Every row of one vault file.
#[derive(Clone)]
pub struct Snapshot {
    pub vault: VaultRow,
    pub identities: Vec<IdentityRow>,
    pub secrets: Vec<SecretRow>,
    pub access: Vec<AccessRow>,
    /// The audit log (format 2; empty for an older file).
    pub audit: Vec<AuditRow>,
    /// Each identity's wrapped copy of the audit key.
    pub audit_keys: Vec<AuditKeyRow>,
    /// The statements the rows name (format 8; empty for an older file).
    pub statements: Vec<StatementRow>,
    /// The exec bundles admins sealed (format 9; empty for an older file).
    pub bundles: Vec<BundleRow>,
}

impl Store {
    /// Reads every row in one read transaction (a consistent view even if
    /// another process writes meanwhile).
    pub fn snapshot(&self) -> Result<Snapshot> {
        let _reading = self.reading()?;
        let db = self.read();
        let audited = self.has_format(2)?;
        Ok(Snapshot {
            vault: db.vault()?,
            identities: db.identities()?,
            secrets: db.secrets(None)?,
            access: db.all_access()?,
            audit: if audited {
                db.audit_entries(None)?
            } else {
                Vec::new()
            },
            audit_keys: if audited {
                db.audit_keys()?
            } else {
                Vec::new()
            },
            statements: db.statements()?,
            bundles: db.all_bundles()?,
        })
    }
}

/// Writes `snapshot` as a complete vault file that replaces `target`: a new
/// file (mode 0600) beside it, filled in one transaction and closed, then
/// renamed over `target`. On any failure `target` is left untouched.
pub fn replace_with(target: &Path, snapshot: &Snapshot) -> Result<()> {
    let temp = temp_path(target);
    let written = write_new(&temp, snapshot)
        .and_then(|()| std::fs::rename(&temp, target).map_err(|e| Error::io("replace", target, e)));
    if written.is_err() {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = temp.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
    written?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the rename itself durable; a directory that cannot be
        // opened for syncing (rare) still holds the renamed file.
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

fn write_new(path: &Path, s: &Snapshot) -> Result<()> {
    let store = Store::create(path)?;
    store.write(|db| {
        db.insert_vault(&s.vault)?;
        for identity in &s.identities {
            db.insert_identity(identity)?;
        }
        for secret in &s.secrets {
            db.insert_secret(secret)?;
        }
        for access in &s.access {
            db.insert_access(access)?;
        }
        for key in &s.audit_keys {
            db.insert_audit_key(key)?;
        }
        for entry in &s.audit {
            db.insert_audit(entry)?;
        }
        for statement in &s.statements {
            db.insert_statement(statement)?;
        }
        for bundle in &s.bundles {
            db.put_bundle(bundle)?;
        }
        Ok(())
    })?;
    // Closing the last connection checkpoints the write-ahead log into the
    // file and removes it, so the renamed file is complete on its own.
    store.close()
}

/// `.NAME.PID-NANOS.tmp` in the target's directory: the same file system,
/// so the rename is atomic.
fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vault".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{}-{nanos}.tmp", std::process::id()))
}
