//! Access rows: who holds a wrapped data key for which secret, and the SQL
//! that reads and writes them (split from `rows.rs`, which owns the row
//! types and the helpers).

use rusqlite::{params, OptionalExtension};

use super::rows::{access, authority, id16, Db, ACCESS_COLS};
use super::{AccessRow, Authority, Signed};
use crate::error::Result;

/// A secret granted to an identity, as `exec` reads it: name and service,
/// the sealed value, the identity's wrapped key, and what those two are
/// bound to. No dates, no description: ten thousand of these stay small.
pub struct GrantRow {
    pub secret_id: [u8; 16],
    pub name: String,
    /// The secret's environment (empty: shared by all).
    pub environment: String,
    pub service: Option<String>,
    pub version: i64,
    /// The secret's own expiry.
    pub expires_at: Option<i64>,
    pub sealed_value: Vec<u8>,
    pub level: String,
    /// The grant's expiry.
    pub grant_expires_at: Option<i64>,
    pub writer_public: Vec<u8>,
    pub wrapped_key: Vec<u8>,
    /// Who may write the secret, and who wrote its row and this grant.
    pub authority: Authority,
    pub secret_signed: Signed,
    pub access_signed: Signed,
    /// The secret's fingerprint records (its row's signature covers them).
    pub fingerprints: Vec<u8>,
}

impl Db<'_> {
    // --- access ---

    pub fn access_for_secret(&self, secret_id: &[u8; 16]) -> Result<Vec<AccessRow>> {
        let sql = format!("SELECT {ACCESS_COLS} FROM access WHERE secret_id = ?1");
        self.collect(&sql, [&secret_id[..]], access)
    }

    pub fn access_row(
        &self,
        secret_id: &[u8; 16],
        identity_id: &[u8; 16],
    ) -> Result<Option<AccessRow>> {
        let sql =
            format!("SELECT {ACCESS_COLS} FROM access WHERE secret_id = ?1 AND identity_id = ?2");
        self.conn()?
            .query_row(&sql, [&secret_id[..], &identity_id[..]], access)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every access row, for `list` (grouped by the caller).
    /// Every access row without its key material (`writer_public` and
    /// `wrapped_key` left empty): what `list` shows.
    pub fn access_metadata(&self) -> Result<Vec<AccessRow>> {
        let cols = ACCESS_COLS
            .replace("writer_public", "X'' AS writer_public")
            .replace("wrapped_key", "X'' AS wrapped_key");
        let sql = format!("SELECT {cols} FROM access");
        self.collect(&sql, [], access)
    }

    pub fn all_access(&self) -> Result<Vec<AccessRow>> {
        let sql = format!("SELECT {ACCESS_COLS} FROM access");
        self.collect(&sql, [], access)
    }

    /// Every secret an identity holds a wrapped key for, with that key and
    /// everything exec checks before it opens one: the one query `exec`
    /// runs on a file it has no cache of. In no particular order (exec
    /// sorts what it keeps; sorting a thousand rows here would be paid on
    /// every run).
    pub fn granted_secrets(&self, identity_id: &[u8; 16]) -> Result<Vec<GrantRow>> {
        const SQL: &str = "SELECT s.id, s.name, s.service, s.version, s.expires_at, \
                           s.sealed_value, a.level, a.expires_at, a.writer_public, \
                           a.wrapped_key, s.creator, s.id_nonce, s.generation, \
                           s.managers, s.managers_epoch, s.managers_by, s.managers_sig, \
                           s.signer, s.sig, s.stmt, a.signer, a.sig, a.stmt, \
                           s.environment, s.fingerprints \
                           FROM access a JOIN secrets s ON s.id = a.secret_id \
                           WHERE a.identity_id = ?1";
        let signed = |r: &rusqlite::Row<'_>, first: usize| -> rusqlite::Result<Signed> {
            Ok(Signed {
                signer: r.get(first)?,
                sig: r.get(first + 1)?,
                stmt: r.get(first + 2)?,
            })
        };
        self.collect(SQL, [&identity_id[..]], |r| {
            Ok(GrantRow {
                secret_id: id16(r, 0)?,
                name: super::lossy::text(r, 1)?,
                environment: super::lossy::text(r, 23)?,
                service: super::lossy::opt_text(r, 2)?,
                version: r.get(3)?,
                expires_at: r.get(4)?,
                sealed_value: r.get(5)?,
                level: r.get(6)?,
                grant_expires_at: r.get(7)?,
                writer_public: r.get(8)?,
                wrapped_key: r.get(9)?,
                authority: authority(r, 10)?,
                secret_signed: signed(r, 17)?,
                access_signed: signed(r, 20)?,
                fingerprints: r.get(24)?,
            })
        })
    }

    /// Inserts or replaces (secret, identity)'s access.
    pub fn put_access(&self, a: &AccessRow) -> Result<()> {
        self.write_access(
            a,
            " ON CONFLICT (secret_id, identity_id) DO UPDATE SET \
             level = excluded.level, expires_at = excluded.expires_at, \
             writer_public = excluded.writer_public, \
             wrapped_key = excluded.wrapped_key, granted_at = excluded.granted_at, \
             signer = excluded.signer, sig = excluded.sig, stmt = excluded.stmt",
        )
    }

    /// Inserts an access row as it is, id included (writing a merged file);
    /// a second row for the same (secret, identity) is an error.
    pub fn insert_access(&self, a: &AccessRow) -> Result<()> {
        self.write_access(a, "")
    }

    /// Inserts `a`, with `on_conflict` saying what a second row for the
    /// same (secret, identity) does.
    fn write_access(&self, a: &AccessRow, on_conflict: &str) -> Result<()> {
        let sql = format!(
            "INSERT INTO access (id, secret_id, identity_id, level, expires_at, \
             writer_public, wrapped_key, granted_at, signer, sig, stmt) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11){on_conflict}"
        );
        self.exec(
            &sql,
            params![
                &a.id[..],
                &a.secret_id[..],
                &a.identity_id[..],
                a.level,
                a.expires_at,
                a.writer_public,
                a.wrapped_key,
                a.granted_at,
                a.signed.signer,
                a.signed.sig,
                a.signed.stmt
            ],
        )
    }

    /// Replaces an access row's signature (the row re-signed at a new
    /// generation of its secret).
    pub fn resign_access(&self, id: &[u8; 16], signed: &super::Signed) -> Result<()> {
        const SQL: &str = "UPDATE access SET signer = ?2, sig = ?3, stmt = ?4 WHERE id = ?1";
        self.exec(
            SQL,
            params![&id[..], signed.signer, signed.sig, signed.stmt],
        )
    }

    pub fn delete_access(&self, secret_id: &[u8; 16], identity_id: &[u8; 16]) -> Result<()> {
        const SQL: &str = "DELETE FROM access WHERE secret_id = ?1 AND identity_id = ?2";
        self.exec(SQL, params![&secret_id[..], &identity_id[..]])
    }

    /// How many secrets each identity holds a wrapped key for.
    pub fn access_counts(&self) -> Result<Vec<([u8; 16], usize)>> {
        const SQL: &str = "SELECT identity_id, count(*) FROM access GROUP BY identity_id";
        self.collect(SQL, [], |r| Ok((id16(r, 0)?, r.get::<_, i64>(1)? as usize)))
    }
}
