//! Rows of the vault file and the SQL that reads and writes them.
//!
//! `Db` wraps a connection or an open transaction; the domain calls it and
//! never sees SQL. Byte columns hold ciphertext or public values only.
//! This file owns the row types, the vault record and the helpers; each
//! table's own SQL is in a file beside it (`secrets.rs`, `access.rs`,
//! `identities.rs`, `bundles.rs`...).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{Error, Result};

/// The vault's own record.
#[derive(Clone, PartialEq, Eq)]
pub struct VaultRow {
    pub id: [u8; 16],
    pub created_at: i64,
    pub default_identity: Option<[u8; 16]>,
}

/// Argon2id settings stored with a person's identity.
#[derive(Clone, PartialEq, Eq)]
pub struct KdfRow {
    pub salt: Vec<u8>,
    pub m_kib: i64,
    pub t: i64,
    pub p: i64,
}

/// Who wrote a row and their signature over it (`vault/seal.rs` says
/// what each covers); empty until the row is signed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Signed {
    pub signer: Vec<u8>,
    pub sig: Vec<u8>,
    /// The id of the statement that vouches for the row too (format 8,
    /// `vault/statements.rs`); not signed, empty when none.
    pub stmt: Vec<u8>,
}

/// An identity's certificate: its signing key and role, signed by the
/// identity that added it (by itself, for the vault's root).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Certificate {
    pub sign_public: Vec<u8>,
    pub role: String,
    pub certifier: Vec<u8>,
    pub sig: Vec<u8>,
    /// An identity certified to receive only, asking the root to certify
    /// its signing key: the key and a MAC only the two can compute.
    pub claim: Vec<u8>,
    /// For a coding agent (a machine identity certified as one), when its
    /// certificate ends; `None` for every other identity. Signed.
    pub agent_until: Option<i64>,
    /// The identity's earlier keys, each with the signature by which it
    /// handed over to the next (format 7; `vault/succession.rs` says the
    /// layout); empty for an identity that never changed its keys. The
    /// certificate's signature covers the first keys of the chain.
    pub succession: Vec<u8>,
}

/// Who may write a secret: its creator (bound into its id), the managers
/// an anchor listed (signed, with an epoch), and the generation every
/// change raises.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Authority {
    pub creator: Vec<u8>,
    pub id_nonce: Vec<u8>,
    pub generation: i64,
    /// Concatenated 16-byte identity ids.
    pub managers: Vec<u8>,
    pub managers_epoch: i64,
    pub managers_by: Vec<u8>,
    pub managers_sig: Vec<u8>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct IdentityRow {
    pub id: [u8; 16],
    pub name: String,
    pub kind: String,
    pub public_key: Vec<u8>,
    pub kdf: Option<KdfRow>,
    pub sealed_key: Vec<u8>,
    pub created_at: i64,
    pub cert: Certificate,
    /// The X25519 secret keys this identity held before its last rekeys,
    /// still needed to open what a manager wrapped for them, sealed for
    /// its current key (format 7; `vault/rekey.rs`); empty when none.
    pub retired_keys: Vec<u8>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct SecretRow {
    pub id: [u8; 16],
    pub name: String,
    pub service: Option<String>,
    pub description: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub rotated_at: i64,
    pub expires_at: Option<i64>,
    pub needs_rotation: bool,
    pub rotate_every: Option<i64>,
    pub sealed_value: Vec<u8>,
    pub authority: Authority,
    pub signed: Signed,
    /// The leak guard's fingerprint records, one per version (format 5;
    /// `vault/fingerprint.rs`): public values, signed with the row.
    pub fingerprints: Vec<u8>,
    /// The environment the secret belongs to; empty for a secret shared by
    /// all (format 6). Fixed when the secret is added.
    pub environment: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct AccessRow {
    pub id: [u8; 16],
    pub secret_id: [u8; 16],
    pub identity_id: [u8; 16],
    pub level: String,
    pub expires_at: Option<i64>,
    pub writer_public: Vec<u8>,
    pub wrapped_key: Vec<u8>,
    pub granted_at: i64,
    pub signed: Signed,
}

pub struct Db<'c> {
    conn: DbConn<'c>,
    path: &'c Path,
}

/// A connection, or the store that makes it at the first query.
#[derive(Clone, Copy)]
enum DbConn<'c> {
    Made(&'c Connection),
    Deferred(&'c super::Store),
}

pub(super) type Sql<T> = rusqlite::Result<T>;

pub(super) fn id16(row: &Row<'_>, idx: usize) -> Sql<[u8; 16]> {
    let bytes = row.get_ref(idx)?.as_blob()?;
    bytes.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Blob,
            "an id is not 16 bytes".into(),
        )
    })
}

pub(super) const SECRET_COLS: &str =
    "id, name, service, description, version, created_at, rotated_at, \
     expires_at, needs_rotation, rotate_every, sealed_value, creator, id_nonce, generation, \
     managers, managers_epoch, managers_by, managers_sig, signer, sig, fingerprints, environment, stmt";

/// The authority columns of a secret from `first` on, in `SECRET_COLS`
/// order.
/// Through the partial index `secrets_unfingerprinted`: every write asks,
/// and must not read a hundred thousand rows to learn there is none.
pub(super) fn unfingerprinted_sql() -> String {
    format!(
        "SELECT {SECRET_COLS} FROM secrets INDEXED BY secrets_unfingerprinted \
         WHERE length(fingerprints) = 0"
    )
}

pub(super) fn authority(row: &Row<'_>, first: usize) -> Sql<Authority> {
    Ok(Authority {
        creator: row.get(first)?,
        id_nonce: row.get(first + 1)?,
        generation: row.get(first + 2)?,
        managers: row.get(first + 3)?,
        managers_epoch: row.get(first + 4)?,
        managers_by: row.get(first + 5)?,
        managers_sig: row.get(first + 6)?,
    })
}

pub(super) fn signed(row: &Row<'_>, first: usize) -> Sql<Signed> {
    Ok(Signed {
        signer: row.get(first)?,
        sig: row.get(first + 1)?,
        stmt: Vec::new(),
    })
}

pub(super) fn secret(row: &Row<'_>) -> Sql<SecretRow> {
    Ok(SecretRow {
        id: id16(row, 0)?,
        name: super::lossy::text(row, 1)?,
        service: super::lossy::opt_text(row, 2)?,
        description: super::lossy::opt_text(row, 3)?,
        version: row.get(4)?,
        created_at: row.get(5)?,
        rotated_at: row.get(6)?,
        expires_at: row.get(7)?,
        needs_rotation: row.get(8)?,
        rotate_every: row.get(9)?,
        sealed_value: row.get(10)?,
        authority: authority(row, 11)?,
        signed: Signed {
            stmt: row.get(22)?,
            ..signed(row, 18)?
        },
        fingerprints: row.get(20)?,
        environment: super::lossy::text(row, 21)?,
    })
}

pub(super) const ACCESS_COLS: &str = "id, secret_id, identity_id, level, expires_at, \
                                       writer_public, wrapped_key, granted_at, signer, sig, stmt";

pub(super) fn access(row: &Row<'_>) -> Sql<AccessRow> {
    Ok(AccessRow {
        id: id16(row, 0)?,
        secret_id: id16(row, 1)?,
        identity_id: id16(row, 2)?,
        level: row.get(3)?,
        expires_at: row.get(4)?,
        writer_public: row.get(5)?,
        wrapped_key: row.get(6)?,
        granted_at: row.get(7)?,
        signed: Signed {
            stmt: row.get(10)?,
            ..signed(row, 8)?
        },
    })
}

/// A secret as `exec --explain` and `--service` select from it: no
/// ciphertext.
pub struct CatalogRow {
    pub name: String,
    pub service: Option<String>,
    pub granted: bool,
    pub environment: String,
}

impl<'c> Db<'c> {
    pub(super) fn new(conn: &'c Connection, path: &'c Path) -> Self {
        Db {
            conn: DbConn::Made(conn),
            path,
        }
    }

    pub(super) fn deferred(store: &'c super::Store) -> Self {
        Db {
            conn: DbConn::Deferred(store),
            path: store.path(),
        }
    }

    /// The connection, made now if the store has not made it yet.
    pub(super) fn conn(&self) -> Result<&'c Connection> {
        match self.conn {
            DbConn::Made(conn) => Ok(conn),
            DbConn::Deferred(store) => store.conn(),
        }
    }

    pub(super) fn err(&self, e: rusqlite::Error) -> Error {
        super::map_err(e, self.path)
    }

    pub(super) fn migrate(&self, f: impl FnOnce(&Connection) -> Sql<()>) -> Result<()> {
        f(self.conn()?).map_err(|e| self.err(e))
    }

    // --- the vault record ---

    pub fn vault(&self) -> Result<VaultRow> {
        const SQL: &str = "SELECT id, created_at, default_identity FROM vault WHERE singleton = 1";
        self.conn()?
            .query_row(SQL, [], |r| {
                let default: Option<Vec<u8>> = r.get(2)?;
                Ok(VaultRow {
                    id: id16(r, 0)?,
                    created_at: r.get(1)?,
                    default_identity: default.and_then(|d| d.try_into().ok()),
                })
            })
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| Error::Database("the vault record is missing".into()))
    }

    pub fn insert_vault(&self, v: &VaultRow) -> Result<()> {
        const SQL: &str =
            "INSERT INTO vault (singleton, id, created_at, default_identity) VALUES (1, ?1, ?2, ?3)";
        self.exec(
            SQL,
            params![
                &v.id[..],
                v.created_at,
                v.default_identity.map(|d| d.to_vec())
            ],
        )
    }

    // --- helpers ---

    pub(super) fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Result<()> {
        self.conn()?
            .execute(sql, params)
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub(super) fn collect<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnMut(&Row<'_>) -> Sql<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn()?.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(params, f).map_err(|e| self.err(e))?;
        rows.collect::<Sql<Vec<T>>>().map_err(|e| self.err(e))
    }
}
