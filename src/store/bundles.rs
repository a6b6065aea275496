//! Exec bundles (format 9): what an admin sealed for one grantee so that a
//! clone with no trust state yet (a fresh CI checkout) can run exec without
//! verifying a signature per row, and the SQL that reads and writes them
//! (`vault/bundles/` says what a bundle holds and when a reader may use
//! it). Like the rest of the store, this holds ciphertext and public
//! values only.

use rusqlite::params;

use super::rows::{id16, Db};
use crate::error::Result;

/// One bundle as stored: sealed by `writer` for `grantee`, and signed by
/// `writer`.
#[derive(Clone, PartialEq, Eq)]
pub struct BundleRow {
    pub writer: [u8; 16],
    pub grantee: [u8; 16],
    pub sealed: Vec<u8>,
    pub sig: Vec<u8>,
}

/// How many leading bytes of an access row's signature a bundle records.
/// A signature's first half is its `R`, a commitment only its signer can
/// compute to the exact bytes it signed; sixteen of them tell the row a
/// bundle was made from from any other state of it.
pub const MARK_LEN: usize = 16;

/// A grant as a bundle is matched against it: the secret, and the leading
/// bytes of the signature of the grantee's access row. Every change to a
/// secret (a rotation, a rename, a grant or revoke to anyone, a new
/// managers list) raises its generation and signs all its access rows
/// again, so a bundle's entry stands for a grant only while the secret is
/// in the state the entry was made from.
#[derive(Clone, PartialEq, Eq)]
pub struct GrantMark {
    pub secret_id: [u8; 16],
    pub access_sig: [u8; MARK_LEN],
}

impl GrantMark {
    /// The mark of a grant from its stored columns; a signature too short
    /// to have one (none yet, or cut) marks nothing a bundle holds.
    fn of(secret_id: [u8; 16], access_sig: &[u8]) -> Self {
        let mut mark = [0u8; MARK_LEN];
        if let Some(head) = access_sig.get(..MARK_LEN) {
            mark.copy_from_slice(head);
        }
        GrantMark {
            secret_id,
            access_sig: mark,
        }
    }
}

/// A grant as a writer puts it into a bundle: its mark, the grantee, and
/// what exec needs of the secret besides its value.
pub struct BundleGrant {
    pub mark: GrantMark,
    pub grantee: [u8; 16],
    pub name: String,
    pub environment: String,
    pub service: Option<String>,
    pub expires_at: Option<i64>,
    pub grant_expires_at: Option<i64>,
    pub generation: i64,
    pub managers_epoch: i64,
}

impl Db<'_> {
    /// The bundles sealed for `grantee`, by any writer.
    pub fn bundles_for(&self, grantee: &[u8; 16]) -> Result<Vec<BundleRow>> {
        const SQL: &str = "SELECT writer, grantee, sealed, sig FROM bundles WHERE grantee = ?1";
        self.collect(SQL, [&grantee[..]], bundle)
    }

    /// The bundles `writer` sealed, for every grantee.
    pub fn bundles_by(&self, writer: &[u8; 16]) -> Result<Vec<BundleRow>> {
        const SQL: &str = "SELECT writer, grantee, sealed, sig FROM bundles WHERE writer = ?1";
        self.collect(SQL, [&writer[..]], bundle)
    }

    /// Every bundle (writing a merged file).
    pub fn all_bundles(&self) -> Result<Vec<BundleRow>> {
        self.collect(
            "SELECT writer, grantee, sealed, sig FROM bundles",
            [],
            bundle,
        )
    }

    /// Inserts or replaces (writer, grantee)'s bundle.
    pub fn put_bundle(&self, b: &BundleRow) -> Result<()> {
        const SQL: &str = "INSERT INTO bundles (writer, grantee, sealed, sig) \
                           VALUES (?1, ?2, ?3, ?4) ON CONFLICT (writer, grantee) \
                           DO UPDATE SET sealed = excluded.sealed, sig = excluded.sig";
        self.exec(SQL, params![&b.writer[..], &b.grantee[..], b.sealed, b.sig])
    }

    pub fn delete_bundle(&self, writer: &[u8; 16], grantee: &[u8; 16]) -> Result<()> {
        const SQL: &str = "DELETE FROM bundles WHERE writer = ?1 AND grantee = ?2";
        self.exec(SQL, [&writer[..], &grantee[..]])
    }

    /// The marks of every grant `grantee` holds, in secret-id order: the
    /// one query a bundled exec runs over the rows, an index-only scan of
    /// `access_marks`, read in place.
    pub fn grant_marks(&self, grantee: &[u8; 16]) -> Result<Vec<GrantMark>> {
        // No `INDEXED BY`: a file missing the index is read in another
        // order (the caller sorts what is not sorted), not refused.
        const SQL: &str = "SELECT secret_id, sig FROM access \
                           WHERE identity_id = ?1 ORDER BY secret_id";
        let mut stmt = self.conn()?.prepare_cached(SQL).map_err(|e| self.err(e))?;
        let mut rows = stmt.query([&grantee[..]]).map_err(|e| self.err(e))?;
        let mut marks = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let read = || Ok::<_, rusqlite::Error>((id16(r, 0)?, r.get_ref(1)?.as_blob()?));
            let (id, access_sig) = read().map_err(|e| self.err(e))?;
            marks.push(GrantMark::of(id, access_sig));
        }
        Ok(marks)
    }

    /// Every grant of the vault, as a writer's bundles are made of them.
    pub fn bundle_grants(&self) -> Result<Vec<BundleGrant>> {
        const SQL: &str = "SELECT a.secret_id, a.sig, a.identity_id, s.name, \
                           s.environment, a.expires_at, s.generation, s.managers_epoch, \
                           s.service, s.expires_at \
                           FROM access a JOIN secrets s ON s.id = a.secret_id";
        self.collect(SQL, [], |r| {
            Ok(BundleGrant {
                mark: GrantMark::of(id16(r, 0)?, r.get_ref(1)?.as_blob()?),
                grantee: id16(r, 2)?,
                name: super::lossy::text(r, 3)?,
                environment: super::lossy::text(r, 4)?,
                grant_expires_at: r.get(5)?,
                generation: r.get(6)?,
                managers_epoch: r.get(7)?,
                service: super::lossy::opt_text(r, 8)?,
                expires_at: r.get(9)?,
            })
        })
    }
}

fn bundle(r: &rusqlite::Row<'_>) -> rusqlite::Result<BundleRow> {
    Ok(BundleRow {
        writer: id16(r, 0)?,
        grantee: id16(r, 1)?,
        sealed: r.get(2)?,
        sig: r.get(3)?,
    })
}
