//! The audit log's rows: entries and the audit key wrapped for each
//! identity, and the SQL that reads and writes them.
//!
//! Like every other row, these hold plaintext metadata or ciphertext only;
//! the chain's MACs are computed and checked in `vault::audit`.

use rusqlite::{params, Row};

use super::rows::{id16, Db, Sql};
use crate::error::Result;

/// One audit entry as stored. `names` is a JSON array of secret names,
/// `detail` a JSON object (or nothing); both are exactly the text the MAC
/// covers.
#[derive(Clone)]
pub struct AuditRow {
    pub id: [u8; 16],
    pub seq: i64,
    pub at: i64,
    pub identity: String,
    pub action: String,
    pub names: String,
    pub detail: Option<String>,
    pub prev: Option<Vec<u8>>,
    pub mac: Vec<u8>,
}

/// The vault's audit key, wrapped for one identity by a writer.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKeyRow {
    pub id: [u8; 16],
    pub identity_id: [u8; 16],
    pub writer_public: Vec<u8>,
    pub wrapped_key: Vec<u8>,
    pub created_at: i64,
    pub signed: super::Signed,
}

const AUDIT_COLS: &str = "id, seq, at, identity, action, names, detail, prev, mac";

fn audit(row: &Row<'_>) -> Sql<AuditRow> {
    Ok(AuditRow {
        id: id16(row, 0)?,
        seq: row.get(1)?,
        at: row.get(2)?,
        identity: super::lossy::text(row, 3)?,
        action: super::lossy::text(row, 4)?,
        names: super::lossy::text(row, 5)?,
        detail: super::lossy::opt_text(row, 6)?,
        prev: row.get(7)?,
        mac: row.get(8)?,
    })
}

const KEY_COLS: &str = "id, identity_id, writer_public, wrapped_key, created_at, signer, sig";

fn audit_key(row: &Row<'_>) -> Sql<AuditKeyRow> {
    Ok(AuditKeyRow {
        id: id16(row, 0)?,
        identity_id: id16(row, 1)?,
        writer_public: row.get(2)?,
        wrapped_key: row.get(3)?,
        created_at: row.get(4)?,
        signed: super::rows::signed(row, 5)?,
    })
}

/// The head: `max(seq)` is one step down `audit_by_seq`, and only the
/// entries sharing it (a fork not yet merged) are read and ordered, never the
/// whole log, which grows by one entry per exec.
const HEAD_SQL: &str = "SELECT seq, mac FROM audit WHERE seq = (SELECT max(seq) FROM audit) \
                        ORDER BY at DESC, id DESC LIMIT 1";

impl Db<'_> {
    /// Entries from `since` on (every entry without it), oldest first.
    pub fn audit_entries(&self, since: Option<i64>) -> Result<Vec<AuditRow>> {
        let sql = format!(
            "SELECT {AUDIT_COLS} FROM audit WHERE ?1 IS NULL OR at >= ?1 ORDER BY seq, at, id"
        );
        self.collect(&sql, [since], audit)
    }

    /// The newest entry's sequence number and MAC, which the next entry is
    /// chained to. Only those two columns: an entry's names can be large
    /// (an import of a whole file), and every write reads the head.
    pub fn audit_head(&self) -> Result<Option<(i64, Vec<u8>)>> {
        Ok(self
            .collect(HEAD_SQL, [], |r| Ok((r.get(0)?, r.get(1)?)))?
            .pop())
    }

    pub fn audit_entry_exists(&self, id: &[u8; 16]) -> Result<bool> {
        Ok(!self
            .collect("SELECT 1 FROM audit WHERE id = ?1", [&id[..]], |_| Ok(()))?
            .is_empty())
    }

    pub fn insert_audit(&self, a: &AuditRow) -> Result<()> {
        const SQL: &str = "INSERT INTO audit (id, seq, at, identity, action, names, detail, \
                           prev, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
        self.exec(
            SQL,
            params![
                &a.id[..],
                a.seq,
                a.at,
                a.identity,
                a.action,
                a.names,
                a.detail,
                a.prev,
                a.mac
            ],
        )
    }

    /// Whether any identity holds the audit key: none means nobody made it.
    /// Every identity's wrapped copy of the audit key (for merging files).
    pub fn audit_keys(&self) -> Result<Vec<AuditKeyRow>> {
        let sql = format!("SELECT {KEY_COLS} FROM audit_keys ORDER BY id");
        self.collect(&sql, [], audit_key)
    }

    pub fn audit_key_exists(&self) -> Result<bool> {
        Ok(!self
            .collect("SELECT 1 FROM audit_keys LIMIT 1", [], |_| Ok(()))?
            .is_empty())
    }

    pub fn audit_key_for(&self, identity_id: &[u8; 16]) -> Result<Option<AuditKeyRow>> {
        let sql = format!("SELECT {KEY_COLS} FROM audit_keys WHERE identity_id = ?1");
        Ok(self.collect(&sql, [&identity_id[..]], audit_key)?.pop())
    }

    /// Replaces an audit key row's signature (the upgrade from format 2).
    pub fn resign_audit_key(&self, id: &[u8; 16], signed: &super::Signed) -> Result<()> {
        const SQL: &str = "UPDATE audit_keys SET signer = ?2, sig = ?3 WHERE id = ?1";
        self.exec(SQL, params![&id[..], signed.signer, signed.sig])
    }

    /// Replaces the audit key row of `k`'s identity with `k` (wrapped
    /// again by a writer who changed its keys).
    pub fn replace_audit_key(&self, k: &AuditKeyRow) -> Result<()> {
        const SQL: &str = "DELETE FROM audit_keys WHERE identity_id = ?1";
        self.exec(SQL, params![&k.identity_id[..]])?;
        self.insert_audit_key(k)
    }

    pub fn insert_audit_key(&self, k: &AuditKeyRow) -> Result<()> {
        const SQL: &str = "INSERT INTO audit_keys (id, identity_id, writer_public, wrapped_key, \
                           created_at, signer, sig) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
        self.exec(
            SQL,
            params![
                &k.id[..],
                &k.identity_id[..],
                k.writer_public,
                k.wrapped_key,
                k.created_at,
                k.signed.signer,
                k.signed.sig
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::HEAD_SQL;

    /// Every write and every exec reads the head: it must never scan the log.
    #[test]
    fn the_head_is_found_through_the_index() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for sql in super::super::schema::MIGRATIONS {
            conn.execute_batch(sql).unwrap();
        }
        let mut plan = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {HEAD_SQL}"))
            .unwrap();
        let steps: Vec<String> = plan
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(steps.iter().all(|s| !s.starts_with("SCAN")), "{steps:?}");
        assert!(
            steps.iter().any(|s| s.contains("INDEX audit_by_seq")),
            "{steps:?}"
        );
    }
}
