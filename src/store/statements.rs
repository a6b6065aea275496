//! Statements (format 8): one signature by the writer of a transaction
//! over the digests of every row input it signed, and the SQL that reads
//! and writes them (`vault/statements.rs` says what they vouch for and
//! how a reader checks them). Like the rest of the store, this holds
//! public values only.

use rusqlite::params;

use super::rows::{id16, Db};
use crate::error::Result;

/// One statement as stored: its random id, the identity that signed it,
/// the body (the digests it vouches for) and the signature.
#[derive(Clone, PartialEq, Eq)]
pub struct StatementRow {
    pub id: [u8; 16],
    pub signer: Vec<u8>,
    pub body: Vec<u8>,
    pub sig: Vec<u8>,
}

impl Db<'_> {
    pub fn insert_statement(&self, s: &StatementRow) -> Result<()> {
        const SQL: &str = "INSERT INTO statements (id, signer, body, sig) VALUES (?1, ?2, ?3, ?4)";
        self.exec(SQL, params![&s.id[..], s.signer, s.body, s.sig])
    }

    /// Every statement (the file keeps only those a row names).
    pub fn statements(&self) -> Result<Vec<StatementRow>> {
        const SQL: &str = "SELECT id, signer, body, sig FROM statements";
        self.collect(SQL, [], |r| {
            Ok(StatementRow {
                id: id16(r, 0)?,
                signer: r.get(1)?,
                body: r.get(2)?,
                sig: r.get(3)?,
            })
        })
    }

    /// Deletes every statement no secret or access row names any more.
    pub fn drop_unreferenced_statements(&self) -> Result<()> {
        const SQL: &str = "DELETE FROM statements WHERE id NOT IN \
                           (SELECT stmt FROM secrets UNION SELECT stmt FROM access)";
        self.exec(SQL, [])
    }
}
