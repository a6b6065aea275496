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

/// The format that gave secrets an environment (the step that rebuilds
/// `secrets`); older files read as if every secret were shared.
pub const ENVIRONMENTS_FORMAT: i64 = 6;

/// The format that adds key successions (`vault passwd --rekey`) to
/// `identities`.
pub const SUCCESSION_FORMAT: i64 = 7;

/// The format that adds statements (`vault/statements.rs`): the
/// `statements` table, and the `stmt` column of `secrets` and `access`.
pub const STATEMENTS_FORMAT: i64 = 8;

/// The format that adds exec bundles (`vault/bundles/`): the `bundles`
/// table.
pub const BUNDLES_FORMAT: i64 = 9;

/// The format that adds the leak guard's fingerprints to `secrets`.
pub const FINGERPRINTS_FORMAT: i64 = 5;

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
    // Format 3: who wrote each row. Identities carry a signing key and a
    // certificate from the identity that added them; secrets their
    // creator, their signed managers list and a generation that every
    // change raises; access rows and audit keys their writer's signature.
    // An empty blob is "not signed yet" (a file upgraded from format 2
    // before its owner's first write).
    r#"
ALTER TABLE identities ADD COLUMN sign_public BLOB NOT NULL DEFAULT X'';
ALTER TABLE identities ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE identities ADD COLUMN certifier BLOB NOT NULL DEFAULT X'';
ALTER TABLE identities ADD COLUMN cert_sig BLOB NOT NULL DEFAULT X'';
ALTER TABLE identities ADD COLUMN sign_claim BLOB NOT NULL DEFAULT X'';
ALTER TABLE secrets ADD COLUMN creator BLOB NOT NULL DEFAULT X'';
ALTER TABLE secrets ADD COLUMN id_nonce BLOB NOT NULL DEFAULT X'';
ALTER TABLE secrets ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE secrets ADD COLUMN managers BLOB NOT NULL DEFAULT X'';
ALTER TABLE secrets ADD COLUMN managers_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE secrets ADD COLUMN managers_by BLOB NOT NULL DEFAULT X'';
ALTER TABLE secrets ADD COLUMN managers_sig BLOB NOT NULL DEFAULT X'';
ALTER TABLE secrets ADD COLUMN signer BLOB NOT NULL DEFAULT X'';
ALTER TABLE secrets ADD COLUMN sig BLOB NOT NULL DEFAULT X'';
ALTER TABLE access ADD COLUMN signer BLOB NOT NULL DEFAULT X'';
ALTER TABLE access ADD COLUMN sig BLOB NOT NULL DEFAULT X'';
ALTER TABLE audit_keys ADD COLUMN signer BLOB NOT NULL DEFAULT X'';
ALTER TABLE audit_keys ADD COLUMN sig BLOB NOT NULL DEFAULT X'';
"#,
    // Format 4: agent identities: a machine identity certified as a coding agent
    // until `agent_until` (NULL for every other identity). The column is
    // bound into the identity's certificate, so an agent that can write
    // the file cannot drop it; a new column rather than a third kind, so
    // the identities table (and its CHECK on kind) is not rebuilt.
    r#"
ALTER TABLE identities ADD COLUMN agent_until INTEGER;
"#,
    // Format 5: the leak guard's fingerprints. Per secret, one record per
    // version of its value (`vault/fingerprint.rs` says the layout): a keyed
    // fingerprint under the vault's scan key, kept across rotations, and
    // bound into the secret row's signature once present. An empty blob is
    // "not fingerprinted yet" (a file upgraded from an earlier format); the
    // partial index holds only those, so that every write finds them
    // without reading every secret.
    r#"
ALTER TABLE secrets ADD COLUMN fingerprints BLOB NOT NULL DEFAULT X'';
CREATE INDEX secrets_unfingerprinted ON secrets (id) WHERE length(fingerprints) = 0;
"#,
    // Format 6: environments. A secret may belong to one environment
    // (`''` is shared by all), and a name is unique per environment, not
    // in the whole vault: `secrets` is rebuilt without its UNIQUE (name).
    // Writes run with foreign keys on (set outside the transaction, where
    // they cannot change), so dropping `secrets` would cascade into
    // `access`: the access rows are set aside in a temporary table first,
    // and `access` is made again as format 3 had it.
    r#"
CREATE TEMP TABLE access_kept AS SELECT * FROM main.access;
DROP TABLE main.access;
CREATE TABLE secrets_next (
    id             BLOB PRIMARY KEY CHECK (length(id) = 16),
    name           TEXT NOT NULL,
    service        TEXT,
    description    TEXT,
    version        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    rotated_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    needs_rotation INTEGER NOT NULL DEFAULT 0,
    rotate_every   INTEGER,
    sealed_value   BLOB NOT NULL,
    creator        BLOB NOT NULL DEFAULT X'',
    id_nonce       BLOB NOT NULL DEFAULT X'',
    generation     INTEGER NOT NULL DEFAULT 0,
    managers       BLOB NOT NULL DEFAULT X'',
    managers_epoch INTEGER NOT NULL DEFAULT 0,
    managers_by    BLOB NOT NULL DEFAULT X'',
    managers_sig   BLOB NOT NULL DEFAULT X'',
    signer         BLOB NOT NULL DEFAULT X'',
    sig            BLOB NOT NULL DEFAULT X'',
    fingerprints   BLOB NOT NULL DEFAULT X'',
    environment    TEXT NOT NULL DEFAULT '',
    UNIQUE (name, environment)
);
INSERT INTO secrets_next (id, name, service, description, version, created_at, rotated_at,
    expires_at, needs_rotation, rotate_every, sealed_value, creator, id_nonce, generation,
    managers, managers_epoch, managers_by, managers_sig, signer, sig, fingerprints)
SELECT id, name, service, description, version, created_at, rotated_at,
    expires_at, needs_rotation, rotate_every, sealed_value, creator, id_nonce, generation,
    managers, managers_epoch, managers_by, managers_sig, signer, sig, fingerprints FROM main.secrets;
DROP TABLE main.secrets;
ALTER TABLE secrets_next RENAME TO secrets;
CREATE INDEX secrets_by_service ON secrets (service);
CREATE INDEX secrets_unfingerprinted ON secrets (id) WHERE length(fingerprints) = 0;
CREATE TABLE access (
    id            BLOB PRIMARY KEY CHECK (length(id) = 16),
    secret_id     BLOB NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    identity_id   BLOB NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    level         TEXT NOT NULL,
    expires_at    INTEGER,
    writer_public BLOB NOT NULL,
    wrapped_key   BLOB NOT NULL,
    granted_at    INTEGER NOT NULL,
    signer        BLOB NOT NULL DEFAULT X'',
    sig           BLOB NOT NULL DEFAULT X'',
    UNIQUE (secret_id, identity_id)
);
INSERT INTO access (id, secret_id, identity_id, level, expires_at, writer_public,
    wrapped_key, granted_at, signer, sig)
SELECT id, secret_id, identity_id, level, expires_at, writer_public,
    wrapped_key, granted_at, signer, sig FROM temp.access_kept;
DROP TABLE temp.access_kept;
CREATE INDEX access_by_identity ON access (identity_id);
"#,
    // Format 7: key successions. An identity that changed its keys
    // (`vault passwd --rekey`) keeps the chain of its earlier keys, each
    // handing over to the next with its signature (`succession`), and the
    // X25519 secret keys it still needs to open what others wrapped for its
    // earlier keys, sealed for its current one (`retired_keys`). Empty for
    // every identity that never changed its keys.
    r#"
ALTER TABLE identities ADD COLUMN succession BLOB NOT NULL DEFAULT X'';
ALTER TABLE identities ADD COLUMN retired_keys BLOB NOT NULL DEFAULT X'';
"#,
    // Format 8: statements. Each write transaction that signs rows also
    // signs one statement listing the SHA-256 of every input it signed
    // (`vault/statements.rs`), so that a reader checks one signature per
    // write, not one per row. `stmt` names the statement that vouches for
    // a row; it is not signed (editing it only sends the reader to the
    // row's own signature, which every row keeps). Empty: none.
    r#"
CREATE TABLE statements (
    id     BLOB PRIMARY KEY CHECK (length(id) = 16),
    signer BLOB NOT NULL,
    body   BLOB NOT NULL,
    sig    BLOB NOT NULL
);
ALTER TABLE secrets ADD COLUMN stmt BLOB NOT NULL DEFAULT X'';
ALTER TABLE access ADD COLUMN stmt BLOB NOT NULL DEFAULT X'';
"#,
    r#"
CREATE TABLE bundles (
    writer  BLOB NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    grantee BLOB NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    sealed  BLOB NOT NULL,
    sig     BLOB NOT NULL,
    PRIMARY KEY (writer, grantee)
);
CREATE INDEX access_marks ON access (identity_id, secret_id, sig);
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

/// The tables and indexes the formats create; SQLite's own automatic
/// indexes (`sqlite_autoindex_*`) come with them.
const OBJECTS: &[(&str, &str)] = &[
    ("table", "vault"),
    ("table", "identities"),
    ("table", "secrets"),
    ("index", "secrets_by_service"),
    ("table", "access"),
    ("index", "access_by_identity"),
    ("table", "audit_keys"),
    ("table", "audit"),
    ("index", "audit_by_seq"),
    ("index", "audit_by_time"),
    ("index", "secrets_unfingerprinted"),
    ("table", "statements"),
    ("table", "bundles"),
    ("index", "access_marks"),
];

/// Refuses a file that carries anything but the format's own tables and
/// indexes: a trigger planted in the file would run inside an honest
/// command's transaction, and a view or an extra table has no place in a
/// vault. Checked before the first statement that reads a table.
pub fn check_objects(conn: &Connection, path: &Path) -> Result<()> {
    const SQL: &str = "SELECT type, name FROM sqlite_schema";
    let mut stmt = conn.prepare(SQL).map_err(|e| map_err(e, path))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(|e| map_err(e, path))?;
    for row in rows {
        let (kind, name) = row.map_err(|e| map_err(e, path))?;
        let known = OBJECTS.iter().any(|(k, n)| *k == kind && *n == name)
            || (kind == "index" && name.starts_with("sqlite_autoindex_"));
        if !known {
            return Err(Error::NotAVault {
                path: path.to_owned(),
                reason: format!(
                    "it holds a {kind} named {} that no vault format has (planted in the file?)",
                    name.escape_debug()
                ),
            });
        }
    }
    Ok(())
}

/// Lets a file of format 3 to 8 opened for reading only (a blob of the
/// git history that `git log -p` converts, a vault in a directory this
/// user cannot write) be read by this format's queries: temporary views,
/// in the connection's own temporary schema (never the file), give it the
/// later columns as their defaults: no agent end (format 4), no
/// fingerprints yet (5), the environment of shared secrets (6), no key
/// succession (7), no statements (8), no bundles (9).
pub fn read_as_current(conn: &Connection, path: &Path, format: i64) -> Result<()> {
    if !(3..FORMAT_VERSION).contains(&format) {
        return Ok(());
    }
    let mut sql = String::new();
    let mut later = Vec::new();
    if format < 4 {
        later.push("NULL AS agent_until");
    }
    if format < SUCCESSION_FORMAT {
        later.push("X'' AS succession, X'' AS retired_keys");
    }
    if !later.is_empty() {
        sql.push_str(&format!(
            "CREATE TEMP VIEW identities AS SELECT *, {} FROM main.identities;",
            later.join(", ")
        ));
    }
    let mut extra = Vec::new();
    if format < ENVIRONMENTS_FORMAT {
        extra.push("'' AS environment");
    }
    if format < FINGERPRINTS_FORMAT {
        extra.push("X'' AS fingerprints");
    }
    if format < STATEMENTS_FORMAT {
        extra.push("X'' AS stmt");
        sql.push_str(
            "CREATE TEMP VIEW access AS SELECT *, X'' AS stmt FROM main.access; \
             CREATE TEMP VIEW statements AS SELECT X'' AS id, X'' AS signer, X'' AS body, \
             X'' AS sig WHERE 0;",
        );
    }
    if format < BUNDLES_FORMAT {
        sql.push_str(
            "CREATE TEMP VIEW bundles AS SELECT X'' AS writer, X'' AS grantee, \
             X'' AS sealed, X'' AS sig WHERE 0;",
        );
    }
    if !extra.is_empty() {
        sql.push_str(&format!(
            "CREATE TEMP VIEW secrets AS SELECT *, {} FROM main.secrets;",
            extra.join(", ")
        ));
    }
    conn.execute_batch(&sql).map_err(|e| map_err(e, path))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// ENVIRONMENTS_FORMAT names the step that rebuilds `secrets` with
    /// its environment, wherever later formats append theirs.
    #[test]
    fn the_environments_format_is_the_step_that_adds_them() {
        let step = MIGRATIONS[ENVIRONMENTS_FORMAT as usize - 1];
        assert!(step.contains("environment    TEXT NOT NULL DEFAULT ''"));
        assert!(MIGRATIONS[..ENVIRONMENTS_FORMAT as usize - 1]
            .iter()
            .all(|s| !s.contains("environment")));
    }
}
