//! The schema and its migrations.
//!
//! The file says what it is through SQLite's header fields: `application_id`
//! marks it as a vault, `user_version` is the format version. Migrations are
//! append-only: a released step is never edited, a new format adds a step.
//! A file of a newer format is refused before anything is written.

use std::path::Path;

use rusqlite::types::FromSql;
use rusqlite::Connection;

use super::{map_err, Db};
use crate::error::{Error, Result};

/// `VAUL` in ASCII, in SQLite's `application_id` header field.
pub const APPLICATION_ID: i64 = 0x5641_554C;

/// The newest format this build reads and writes.
pub const FORMAT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Step N brings a file from format N to format N+1.
pub(super) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE vault (
    singleton        INTEGER PRIMARY KEY CHECK (singleton = 1),
    id               BLOB NOT NULL CHECK (length(id) = 16),
    created_at       INTEGER NOT NULL,
    default_identity BLOB
);
CREATE TABLE identities (
    id          BLOB PRIMARY KEY CHECK (length(id) = 16),
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('person', 'machine')),
    public_key  BLOB NOT NULL,
    kdf_salt    BLOB,
    kdf_m       INTEGER,
    kdf_t       INTEGER,
    kdf_p       INTEGER,
    sealed_key  BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TABLE secrets (
    id             BLOB PRIMARY KEY CHECK (length(id) = 16),
    name           TEXT NOT NULL UNIQUE,
    service        TEXT,
    description    TEXT,
    version        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    rotated_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    needs_rotation INTEGER NOT NULL DEFAULT 0,
    rotate_every   INTEGER,
    sealed_value   BLOB NOT NULL
);
CREATE INDEX secrets_by_service ON secrets (service);
CREATE TABLE access (
    id            BLOB PRIMARY KEY CHECK (length(id) = 16),
    secret_id     BLOB NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    identity_id   BLOB NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    level         TEXT NOT NULL,
    expires_at    INTEGER,
    writer_public BLOB NOT NULL,
    wrapped_key   BLOB NOT NULL,
    granted_at    INTEGER NOT NULL,
    UNIQUE (secret_id, identity_id)
);
CREATE INDEX access_by_identity ON access (identity_id);
"#,
    // Format 2: the audit log. `prev` is the MAC of the entry this one follows
    // (NULL for the first); `seq` is not unique, so that a future merge of two
    // clones can keep both sides' entries.
    r#"
CREATE TABLE audit_keys (
    id            BLOB PRIMARY KEY CHECK (length(id) = 16),
    identity_id   BLOB NOT NULL UNIQUE REFERENCES identities (id) ON DELETE CASCADE,
    writer_public BLOB NOT NULL,
    wrapped_key   BLOB NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE TABLE audit (
    id        BLOB PRIMARY KEY CHECK (length(id) = 16),
    seq       INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    identity  TEXT NOT NULL,
    action    TEXT NOT NULL,
    names     TEXT NOT NULL,
    detail    TEXT,
    prev      BLOB,
    mac       BLOB NOT NULL
);
CREATE INDEX audit_by_seq ON audit (seq);
CREATE INDEX audit_by_time ON audit (at);
"#,
];

/// Refuses a SQLite file that is not a vault, or is a vault of a newer
/// format. Reads header fields only; writes nothing.
/// What a file's header says.
pub struct Header {
    /// The format version (`user_version`).
    pub format: i64,
    /// SQLite's journal mode (`wal` for every vault this build wrote).
    pub journal_mode: String,
}

/// Reads the header, refusing a file that is not a vault or is of a newer
/// format than this build knows. (Three plain pragmas cost less than one
/// statement joining them as table-valued functions.)
pub fn check_identity(conn: &Connection, path: &Path) -> Result<Header> {
    fn pragma<T: FromSql>(conn: &Connection, path: &Path, name: &str) -> Result<T> {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .map_err(|e| map_err(e, path))
    }
    let app: i64 = pragma(conn, path, "application_id")?;
    let format: i64 = pragma(conn, path, "user_version")?;
    if app != APPLICATION_ID {
        return Err(Error::NotAVault {
            path: path.to_owned(),
            reason: "it is a SQLite database of another program".into(),
        });
    }
    if format > FORMAT_VERSION {
        return Err(Error::NewerFormat {
            path: path.to_owned(),
            found: format,
            supported: FORMAT_VERSION,
        });
    }
    Ok(Header {
        format,
        journal_mode: pragma(conn, path, "journal_mode")?,
    })
}

/// Applies every step the file lacks, inside the caller's write transaction
/// (so two processes opening an old file cannot both migrate it).
pub fn migrate(db: &Db<'_>) -> Result<()> {
    db.migrate(|conn| {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (step, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            conn.execute_batch(sql)?;
            conn.pragma_update(None, "user_version", step as i64 + 1)?;
        }
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
        Ok(())
    })
}
