//! Secret rows: the SQL that reads and writes the `secrets` table and the
//! names and services drawn from it (split from `rows.rs`, which owns the
//! row types and the helpers).

use rusqlite::{params, OptionalExtension};

use super::rows::{secret, unfingerprinted_sql, CatalogRow, Db, SECRET_COLS};
use super::SecretRow;
use crate::error::Result;

impl Db<'_> {
    /// Secrets without their ciphertext (`sealed_value` left empty), one
    /// service's or all: what `list` shows, for a fraction of the reading.
    pub fn secrets_metadata(&self, service: Option<&str>) -> Result<Vec<SecretRow>> {
        let cols = SECRET_COLS.replace("sealed_value", "X'' AS sealed_value");
        let sql =
            format!("SELECT {cols} FROM secrets WHERE ?1 IS NULL OR service = ?1 ORDER BY name, environment");
        self.collect(&sql, [service], secret)
    }

    pub fn secrets(&self, service: Option<&str>) -> Result<Vec<SecretRow>> {
        let sql = format!(
            "SELECT {SECRET_COLS} FROM secrets WHERE ?1 IS NULL OR service = ?1 ORDER BY name, environment"
        );
        self.collect(&sql, [service], secret)
    }

    /// Secrets with no fingerprint record yet (a vault upgraded from an
    /// earlier format), for the next write to fingerprint.
    pub fn unfingerprinted_secrets(&self) -> Result<Vec<SecretRow>> {
        self.collect(&unfingerprinted_sql(), [], secret)
    }

    /// The secret whose id is `id`.
    pub fn secret_by_id(&self, id: &[u8; 16]) -> Result<Option<SecretRow>> {
        let sql = format!("SELECT {SECRET_COLS} FROM secrets WHERE id = ?1");
        self.conn()?
            .query_row(&sql, [&id[..]], secret)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The secret named `name` in `environment` (empty: the shared one).
    pub fn secret_by_name(&self, name: &str, environment: &str) -> Result<Option<SecretRow>> {
        let sql = format!("SELECT {SECRET_COLS} FROM secrets WHERE name = ?1 AND environment = ?2");
        self.conn()?
            .query_row(&sql, [name, environment], secret)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Whether `name` is taken in `environment`.
    pub fn secret_name_taken(&self, name: &str, environment: &str) -> Result<bool> {
        const SQL: &str = "SELECT 1 FROM secrets WHERE name = ?1 AND environment = ?2";
        self.conn()?
            .query_row(SQL, [name, environment], |_| Ok(()))
            .optional()
            .map(|o| o.is_some())
            .map_err(|e| self.err(e))
    }

    /// The environments a name exists in (empty string: shared), sorted.
    pub fn environments_of(&self, name: &str) -> Result<Vec<String>> {
        const SQL: &str = "SELECT environment FROM secrets WHERE name = ?1 ORDER BY environment";
        self.collect(SQL, [name], |r| super::lossy::text(r, 0))
    }

    /// Every environment some secret belongs to: what completion offers.
    pub fn environment_names(&self) -> Result<Vec<String>> {
        const SQL: &str = "SELECT DISTINCT environment FROM secrets WHERE environment <> '' \
                           ORDER BY environment";
        self.collect(SQL, [], |r| r.get(0))
    }

    pub fn insert_secret(&self, s: &SecretRow) -> Result<()> {
        const SQL: &str = "INSERT INTO secrets (id, name, service, description, version, \
                           created_at, rotated_at, expires_at, needs_rotation, rotate_every, \
                           sealed_value, creator, id_nonce, generation, managers, \
                           managers_epoch, managers_by, managers_sig, signer, sig, \
                           fingerprints, environment, stmt) \
                           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, \
                           ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)";
        let a = &s.authority;
        self.exec(
            SQL,
            params![
                &s.id[..],
                s.name,
                s.service,
                s.description,
                s.version,
                s.created_at,
                s.rotated_at,
                s.expires_at,
                s.needs_rotation,
                s.rotate_every,
                s.sealed_value,
                a.creator,
                a.id_nonce,
                a.generation,
                a.managers,
                a.managers_epoch,
                a.managers_by,
                a.managers_sig,
                s.signed.signer,
                s.signed.sig,
                s.fingerprints,
                s.environment,
                s.signed.stmt
            ],
        )
    }

    /// Writes back a secret's mutable columns (rotate, rename).
    pub fn update_secret(&self, s: &SecretRow) -> Result<()> {
        const SQL: &str = "UPDATE secrets SET name = ?2, service = ?3, description = ?4, \
                           version = ?5, rotated_at = ?6, expires_at = ?7, needs_rotation = ?8, \
                           rotate_every = ?9, sealed_value = ?10, generation = ?11, \
                           managers = ?12, managers_epoch = ?13, managers_by = ?14, \
                           managers_sig = ?15, signer = ?16, sig = ?17, creator = ?18, \
                           id_nonce = ?19, fingerprints = ?20, stmt = ?21 WHERE id = ?1";
        let a = &s.authority;
        self.exec(
            SQL,
            params![
                &s.id[..],
                s.name,
                s.service,
                s.description,
                s.version,
                s.rotated_at,
                s.expires_at,
                s.needs_rotation,
                s.rotate_every,
                s.sealed_value,
                a.generation,
                a.managers,
                a.managers_epoch,
                a.managers_by,
                a.managers_sig,
                s.signed.signer,
                s.signed.sig,
                a.creator,
                a.id_nonce,
                s.fingerprints,
                s.signed.stmt
            ],
        )
    }

    pub fn delete_secret(&self, id: &[u8; 16]) -> Result<()> {
        self.exec("DELETE FROM secrets WHERE id = ?1", params![&id[..]])
    }

    /// Every secret's name and service, and whether `identity_id` holds a
    /// wrapped key for it: what `exec --explain` and `exec --service`
    /// select from, without reading any ciphertext.
    pub fn secret_catalog(&self, identity_id: &[u8; 16]) -> Result<Vec<CatalogRow>> {
        const SQL: &str = "SELECT s.name, s.service, EXISTS (SELECT 1 FROM access a \
                           WHERE a.secret_id = s.id AND a.identity_id = ?1), s.environment \
                           FROM secrets s ORDER BY s.name";
        self.collect(SQL, [&identity_id[..]], |r| {
            Ok(CatalogRow {
                name: super::lossy::text(r, 0)?,
                service: super::lossy::opt_text(r, 1)?,
                granted: r.get(2)?,
                environment: super::lossy::text(r, 3)?,
            })
        })
    }

    /// Names and services only: what shell completion reads (a name in
    /// several environments once).
    pub fn secret_names(&self) -> Result<Vec<(String, Option<String>)>> {
        const SQL: &str = "SELECT name, max(service) FROM secrets GROUP BY name ORDER BY name";
        self.collect(SQL, [], |r| Ok((r.get(0)?, r.get(1)?)))
    }

    pub fn identity_names(&self) -> Result<Vec<String>> {
        self.collect("SELECT name FROM identities ORDER BY name", [], |r| {
            r.get(0)
        })
    }

    pub fn service_names(&self) -> Result<Vec<String>> {
        const SQL: &str =
            "SELECT DISTINCT service FROM secrets WHERE service IS NOT NULL ORDER BY service";
        self.collect(SQL, [], |r| r.get(0))
    }
}
