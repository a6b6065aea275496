//! The leak guard's fingerprints, stored per secret version (format 5).
//!
//! Each secret row carries one record per version of its value that was
//! fingerprinted: the version (8 bytes, big-endian), the value's length in
//! bytes (4 bytes) and HMAC-SHA256 of the value under the vault's scan key
//! (32 bytes, `crypto::Fingerprinter`). Records are kept in version order
//! and never dropped by a rotation, so `vault scan` recognises a value the
//! vault no longer holds. The records are bound into the secret row's
//! signature (`seal::secret_input`): a record planted, edited or removed by
//! someone who can only write the file fails the row's check.
//!
//! A secret of a vault upgraded from an earlier format has no record until
//! someone who may write it, and holds its value, writes the vault: the
//! next write by such an identity fingerprints the current value (earlier
//! values are gone, and cannot be fingerprinted).

use super::trust::Roster;
use super::{Unlocked, Vault};
use crate::crypto::{scan_key, Fingerprinter, Key, FINGERPRINT_LEN};
use crate::model::Level;
use crate::store::{Db, SecretRow};

const RECORD_LEN: usize = 8 + 4 + FINGERPRINT_LEN;

/// One stored fingerprint.
pub struct Fingerprint {
    pub version: i64,
    pub len: usize,
    pub mac: [u8; FINGERPRINT_LEN],
}

/// The records of a row, in stored order; a truncated tail (a hand edit)
/// is ignored here, and fails the row's signature check anyway.
pub fn records(blob: &[u8]) -> Vec<Fingerprint> {
    blob.chunks_exact(RECORD_LEN)
        .map(|r| Fingerprint {
            version: i64::from_be_bytes(r[..8].try_into().expect("8 bytes")),
            len: u32::from_be_bytes(r[8..12].try_into().expect("4 bytes")) as usize,
            mac: r[12..].try_into().expect("32 bytes"),
        })
        .collect()
}

/// The fingerprinter of this vault's scan key, derived from the audit key.
pub(super) fn fingerprinter(vault_id: &[u8; 16], audit_key: &Key) -> Fingerprinter {
    Fingerprinter::new(&scan_key(audit_key, vault_id))
}

/// Adds the record of `value` as `row`'s current version (replacing one
/// already there for that version). The caller signs the row afterwards.
pub(super) fn stamp(row: &mut SecretRow, fp: &Fingerprinter, value: &[u8]) {
    let mut kept: Vec<u8> = row
        .fingerprints
        .chunks_exact(RECORD_LEN)
        .filter(|r| r[..8] != row.version.to_be_bytes())
        .flatten()
        .copied()
        .collect();
    kept.extend_from_slice(&row.version.to_be_bytes());
    kept.extend_from_slice(&u32::try_from(value.len()).unwrap_or(u32::MAX).to_be_bytes());
    kept.extend_from_slice(&fp.of(value));
    row.fingerprints = kept;
}

impl Vault {
    /// Fingerprints the current value of every secret that has no record
    /// yet (a vault upgraded from an earlier format) and that `me` may
    /// write and holds manage access to, signing each as a change of its
    /// own (next generation). A secret whose rows fail their check is left
    /// as it is: `me` signs nothing it could not verify, and the command
    /// that reads it reports it.
    pub(super) fn backfill_fingerprints(
        &self,
        db: &Db<'_>,
        me: &Unlocked,
        roster: &Roster,
        audit_key: &Key,
    ) -> crate::error::Result<()> {
        let pending = db.unfingerprinted_secrets()?;
        if pending.is_empty() {
            return Ok(());
        }
        let fp = fingerprinter(&self.id, audit_key);
        let now = crate::time::now();
        for mut row in pending {
            let Some(access) = db.access_row(&row.id, &me.id)? else {
                continue;
            };
            let manages = Level::from_stored(&access.level) == Some(Level::Manage);
            if !manages || access.expires_at.is_some_and(|e| e <= now) {
                continue;
            }
            let Ok((key, writers)) =
                self.require(db, roster, me, &row, Level::Manage, "fingerprint")
            else {
                continue;
            };
            if !writers.contains(&me.id) {
                continue;
            }
            let value = self.open_secret(&row, &key)?;
            stamp(&mut row, &fp, value.expose());
            self.commit_secret(db, me, &mut row)?;
        }
        Ok(())
    }
}
