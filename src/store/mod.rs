//! The vault file: a SQLite database opened through rusqlite.
//!
//! This module owns rusqlite and the file on disk. It stores and returns
//! ciphertext and plaintext metadata only; it never sees a key or a value.
//! Every write runs in one `BEGIN IMMEDIATE` transaction, so concurrent
//! vault processes queue on the write lock instead of failing on upgrade,
//! and a crash leaves either the old state or the new one.

mod access;
mod audit;
mod bundles;
mod exec_log;
mod file;
mod frozen;
mod identities;
mod lossy;
mod open;
mod rows;
mod schema;
mod secrets;
mod snapshot;
mod statements;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};

use crate::error::{Error, Result};

pub use access::GrantRow;
pub use audit::{AuditKeyRow, AuditRow};
pub use bundles::{BundleGrant, BundleRow, GrantMark, MARK_LEN};
pub use exec_log::{path_for as exec_log_path, Taken as TakenExecLog};
pub use file::{check_permissions, PermissionProblem, Stamp};
pub use rows::{
    AccessRow, Authority, CatalogRow, Certificate, Db, IdentityRow, KdfRow, SecretRow, Signed,
    VaultRow,
};
pub use schema::{BUNDLES_FORMAT, ENVIRONMENTS_FORMAT, FORMAT_VERSION, STATEMENTS_FORMAT};
pub use snapshot::{replace_with, Snapshot};
pub use statements::StatementRow;

/// Settings a write needs: every commit reaches the disk before it
/// returns, foreign keys cascade, and deleted content is overwritten, so
/// that a rotated value's old ciphertext and wrapped keys do not linger in
/// free pages.
const WRITE_PRAGMAS: &str =
    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;";

/// How long a command waits for another one's write lock.
const BUSY_TIMEOUT_MS: u32 = 10_000;

/// An open vault file. Its SQLite connection is made when first needed:
/// at once by [`Store::open`], at the first query by [`Store::deferred`]
/// (a warm exec may never need it, `open.rs`).
pub struct Store {
    conn: std::cell::OnceCell<Connection>,
    path: PathBuf,
    /// Opened as immutable: every write fails at once with `ReadOnly`.
    read_only: std::cell::Cell<bool>,
    /// The vault file's owner, whom its side files may also belong to.
    owner: u32,
    /// The file's state when opened, if it had no `-wal` or journal then
    /// (everything committed was in the file itself) and was not migrated.
    stamp: std::cell::Cell<Option<file::Stamp>>,
    /// A [`Reading`] began before the connection was made: connecting
    /// begins its transaction.
    reading: std::cell::Cell<bool>,
    /// Exec reads the file in place while this is set (`frozen.rs`).
    freeze: std::cell::Cell<bool>,
    frozen: std::cell::OnceCell<frozen::Frozen>,
}

impl Store {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's state when opened; `None` if changes may have been
    /// pending beside it (a `-wal` or journal) or it was migrated.
    pub fn stamp(&self) -> Option<Stamp> {
        self.stamp.get()
    }

    /// The file's format version (SQLite's `user_version`).
    pub fn format_version(&self) -> Result<i64> {
        self.conn()?
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| map_err(e, &self.path))
    }

    /// Closes the file, reporting what SQLite could not finish (such as
    /// checkpointing the write-ahead log).
    pub fn close(self) -> Result<()> {
        let path = self.path;
        match self.conn.into_inner() {
            Some(conn) => conn.close().map_err(|(_, e)| map_err(e, &path)),
            None => Ok(()),
        }
    }

    /// Reads outside a write transaction.
    pub fn read(&self) -> Db<'_> {
        match self.connected() {
            Some(conn) => Db::new(conn, &self.path),
            None => Db::deferred(self),
        }
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed only if `f`
    /// succeeds.
    pub fn write<T>(&self, f: impl FnOnce(&Db<'_>) -> Result<T>) -> Result<T> {
        let path = &self.path;
        self.thaw();
        let conn = self.conn()?;
        if self.read_only.get() {
            return Err(Error::ReadOnly(path.clone()));
        }
        // Set outside the transaction: foreign_keys cannot change inside one.
        conn.execute_batch(WRITE_PRAGMAS)
            .map_err(|e| map_err(e, path))?;
        // `new_unchecked` takes `&Connection`: a command never nests writes.
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
            .map_err(|e| map_err(e, path))?;
        let value = f(&Db::new(&tx, path))?;
        tx.commit().map_err(|e| map_err(e, path))?;
        Ok(value)
    }
}

/// One read transaction, held until dropped: every read meanwhile sees the
/// same state of the file (another process's commit in between is not
/// seen), and the write-ahead log's read lock is taken once rather than
/// for each statement. No write may start while it is held.
pub struct Reading<'s> {
    _tx: Option<Transaction<'s>>,
    /// A store not connected yet (a warm exec may never connect,
    /// `open.rs`): its transaction begins when it connects, and ends here.
    deferred: Option<&'s Store>,
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        if let Some(store) = self.deferred {
            store.reading.set(false);
            if let Some(conn) = store.connected() {
                let _ = conn.execute_batch("COMMIT");
            }
        }
    }
}

impl Store {
    /// Starts a [`Reading`]; the first read takes its snapshot.
    pub fn reading(&self) -> Result<Reading<'_>> {
        let Some(conn) = self.connected() else {
            self.reading.set(true);
            return Ok(Reading {
                _tx: None,
                deferred: Some(self),
            });
        };
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Deferred)
            .map_err(|e| map_err(e, &self.path))?;
        Ok(Reading {
            _tx: Some(tx),
            deferred: None,
        })
    }

    /// Appends one line, built by `make` from the last one, to the exec
    /// log (see `exec_log`); returns the log's size afterwards.
    pub fn append_exec_log(&self, make: impl FnOnce(Option<&[u8]>) -> Vec<u8>) -> Result<u64> {
        if self.read_only.get() {
            return Err(Error::ReadOnly(self.path.clone()));
        }
        exec_log::append(&self.path, self.owner, make)
    }

    /// The exec log's bytes (empty when there is none).
    pub fn read_exec_log(&self) -> Result<Vec<u8>> {
        exec_log::read(&self.path, self.owner)
    }

    /// The exec log, locked for folding into the audit log; `None` when
    /// there is none, or when the vault cannot be written anyway.
    pub fn take_exec_log(&self) -> Result<Option<TakenExecLog>> {
        self.conn()?;
        if self.read_only.get() {
            return Ok(None);
        }
        exec_log::take(&self.path, self.owner)
    }

    /// Whether the file has the tables of `format` (an older file opened
    /// read-only is not migrated).
    pub fn has_format(&self, format: i64) -> Result<bool> {
        Ok(self.format_version()? >= format)
    }
}

/// A vault file is data from whoever last wrote it: SQLite may run no
/// function the file's schema names (`trusted_schema`), and defensive mode
/// refuses what would corrupt the file from SQL (writable schema, raw page
/// edits).
fn harden(conn: &Connection, path: &Path) -> Result<()> {
    use rusqlite::config::DbConfig;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .and_then(|_| conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false))
        .map(|_| ())
        .map_err(|e| map_err(e, path))
}

/// `file:PATH?immutable=1`, with PATH percent-encoded (RFC 3986) so that
/// `?`, `#` or `%` in a file name stay part of it.
fn immutable_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &byte in path.as_os_str().as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(byte as char)
            }
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Turns a SQLite failure into the user's terms.
pub(crate) fn map_err(e: rusqlite::Error, path: &Path) -> Error {
    if let rusqlite::Error::SqliteFailure(ref f, _) = e {
        match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => return Error::Busy,
            ErrorCode::DiskFull => return Error::DiskFull,
            ErrorCode::ReadOnly => return Error::ReadOnly(path.to_owned()),
            ErrorCode::NotADatabase => {
                return Error::NotAVault {
                    path: path.to_owned(),
                    reason: "it is not a SQLite database".into(),
                }
            }
            ErrorCode::DatabaseCorrupt => {
                return Error::NotAVault {
                    path: path.to_owned(),
                    reason: "the file is damaged or truncated".into(),
                }
            }
            ErrorCode::CannotOpen | ErrorCode::PermissionDenied => {
                return Error::Io {
                    action: "open",
                    path: path.to_owned(),
                    source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                }
            }
            _ => {}
        }
        // SQLITE_IOERR_WRITE and SQLITE_IOERR_TRUNCATE: what a full disk or
        // a file size limit (EFBIG) looks like from inside SQLite.
        const IOERR_WRITE: i32 = 10 | (3 << 8);
        const IOERR_TRUNCATE: i32 = 10 | (6 << 8);
        if matches!(f.extended_code, IOERR_WRITE | IOERR_TRUNCATE) {
            return Error::DiskFull;
        }
    }
    Error::Database(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(name: &str) -> SecretRow {
        SecretRow {
            id: crate::crypto::random_bytes(),
            name: name.to_owned(),
            service: None,
            description: None,
            version: 1,
            created_at: 0,
            rotated_at: 0,
            expires_at: None,
            needs_rotation: false,
            rotate_every: None,
            sealed_value: vec![0; 40],
            authority: Default::default(),
            signed: Default::default(),
            fingerprints: Vec::new(),
            environment: String::new(),
        }
    }

    /// Every write asks for the secrets not fingerprinted yet: the query
    /// must go through the partial index (`INDEXED BY` refuses to prepare
    /// otherwise), never read every secret.
    #[test]
    fn unfingerprinted_secrets_are_found_through_their_index() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for sql in schema::MIGRATIONS {
            conn.execute_batch(sql).unwrap();
        }
        let sql = rows::unfingerprinted_sql();
        let mut plan = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let steps: Vec<String> = plan
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            steps.iter().any(|s| s.contains("secrets_unfingerprinted")),
            "{steps:?}"
        );
    }

    fn names(store: &Store) -> Vec<String> {
        let names = store.read().secret_names().unwrap();
        names.into_iter().map(|(name, _)| name).collect()
    }

    /// exec selects and decrypts from one state of the file: a commit by
    /// another process meanwhile is seen only once the reading ends.
    #[test]
    fn a_reading_sees_one_state_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.db");
        let writer = Store::create(&path).unwrap();
        writer.write(|db| db.insert_secret(&secret("A"))).unwrap();
        let reader = Store::open(&path).unwrap();

        let reading = reader.reading().unwrap();
        assert_eq!(names(&reader), ["A"]);
        writer.write(|db| db.insert_secret(&secret("B"))).unwrap();
        assert_eq!(names(&reader), ["A"], "a commit showed up mid-reading");
        assert!(
            reader.write(|_| Ok(())).is_err(),
            "a write started inside a reading"
        );
        drop(reading);
        assert_eq!(names(&reader), ["A", "B"]);
    }

    /// The settings writes need are in force in every write, though an
    /// open no longer sets them.
    #[test]
    fn every_write_runs_with_its_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.db");
        drop(Store::create(&path).unwrap());
        let store = Store::open(&path).unwrap();
        let settings = store
            .write(|db| {
                let get = |pragma: &str| -> i64 {
                    db.conn()
                        .unwrap()
                        .query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
                        .unwrap()
                };
                Ok([
                    get("synchronous"),
                    get("foreign_keys"),
                    get("secure_delete"),
                ])
            })
            .unwrap();
        assert_eq!(
            settings,
            [2, 1, 1],
            "synchronous FULL, foreign keys, secure delete"
        );
    }
}
