//! Identity rows: who can unlock the vault, with their keys, KDF settings
//! and certificates, and the SQL that reads and writes them (split from
//! `rows.rs`, which owns the row types and the helpers).

use rusqlite::{params, OptionalExtension, Row};

use super::rows::{id16, Db, Sql};
use super::{Certificate, IdentityRow, KdfRow};
use crate::error::Result;

const IDENTITY_COLS: &str = "id, name, kind, public_key, kdf_salt, kdf_m, kdf_t, kdf_p, \
                             sealed_key, created_at, sign_public, role, certifier, cert_sig, \
                             sign_claim, agent_until, succession, retired_keys";

fn identity(row: &Row<'_>) -> Sql<IdentityRow> {
    let salt: Option<Vec<u8>> = row.get(4)?;
    let kdf = match salt {
        Some(salt) => Some(KdfRow {
            salt,
            m_kib: row.get(5)?,
            t: row.get(6)?,
            p: row.get(7)?,
        }),
        None => None,
    };
    Ok(IdentityRow {
        id: id16(row, 0)?,
        name: super::lossy::text(row, 1)?,
        kind: super::lossy::text(row, 2)?,
        public_key: row.get(3)?,
        kdf,
        sealed_key: row.get(8)?,
        created_at: row.get(9)?,
        cert: Certificate {
            sign_public: row.get(10)?,
            role: row.get(11)?,
            certifier: row.get(12)?,
            sig: row.get(13)?,
            claim: row.get(14)?,
            agent_until: row.get(15)?,
            succession: row.get(16)?,
        },
        retired_keys: row.get(17)?,
    })
}

impl Db<'_> {
    pub fn identities(&self) -> Result<Vec<IdentityRow>> {
        let sql = format!("SELECT {IDENTITY_COLS} FROM identities ORDER BY name");
        self.collect(&sql, [], identity)
    }

    pub fn identity_by_name(&self, name: &str) -> Result<Option<IdentityRow>> {
        let sql = format!("SELECT {IDENTITY_COLS} FROM identities WHERE name = ?1");
        self.conn()?
            .query_row(&sql, [name], identity)
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn identity_by_id(&self, id: &[u8; 16]) -> Result<Option<IdentityRow>> {
        let sql = format!("SELECT {IDENTITY_COLS} FROM identities WHERE id = ?1");
        self.conn()?
            .query_row(&sql, [&id[..]], identity)
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn insert_identity(&self, i: &IdentityRow) -> Result<()> {
        const SQL: &str = "INSERT INTO identities (id, name, kind, public_key, kdf_salt, kdf_m, \
                           kdf_t, kdf_p, sealed_key, created_at, sign_public, role, certifier, \
                           cert_sig, sign_claim, agent_until, succession, retired_keys) \
                           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, \
                           ?16, ?17, ?18)";
        let kdf = i.kdf.as_ref();
        self.exec(
            SQL,
            params![
                &i.id[..],
                i.name,
                i.kind,
                i.public_key,
                kdf.map(|k| &k.salt),
                kdf.map(|k| k.m_kib),
                kdf.map(|k| k.t),
                kdf.map(|k| k.p),
                i.sealed_key,
                i.created_at,
                i.cert.sign_public,
                i.cert.role,
                i.cert.certifier,
                i.cert.sig,
                i.cert.claim,
                i.cert.agent_until,
                i.cert.succession,
                i.retired_keys
            ],
        )
    }

    /// Replaces an identity's sealed key and KDF settings (passphrase change).
    pub fn reseal_identity(&self, id: &[u8; 16], kdf: &KdfRow, sealed_key: &[u8]) -> Result<()> {
        const SQL: &str = "UPDATE identities SET kdf_salt = ?2, kdf_m = ?3, kdf_t = ?4, \
                           kdf_p = ?5, sealed_key = ?6 WHERE id = ?1";
        self.exec(
            SQL,
            params![&id[..], kdf.salt, kdf.m_kib, kdf.t, kdf.p, sealed_key],
        )
    }

    /// Gives an identity new keys (`vault passwd --rekey`): its X25519
    /// key, its key sealed under a new passphrase, the keys it retired,
    /// and its certificate with the succession that hands over to them.
    pub fn rekey_identity(&self, row: &IdentityRow) -> Result<()> {
        const SQL: &str = "UPDATE identities SET public_key = ?2, sealed_key = ?3, \
                           retired_keys = ?4 WHERE id = ?1";
        self.exec(
            SQL,
            params![
                &row.id[..],
                row.public_key,
                row.sealed_key,
                row.retired_keys
            ],
        )?;
        if let Some(kdf) = &row.kdf {
            self.reseal_identity(&row.id, kdf, &row.sealed_key)?;
        }
        self.certify_identity(&row.id, &row.cert)
    }

    /// Whether any identity carries a certificate (a vault upgraded from
    /// format 2 has none until its owner signs it).
    pub fn any_certificate(&self) -> Result<bool> {
        const SQL: &str = "SELECT 1 FROM identities WHERE cert_sig != X'' LIMIT 1";
        Ok(!self.collect(SQL, [], |_| Ok(()))?.is_empty())
    }

    /// Replaces an identity's certificate (the upgrade from format 2, an
    /// admin certifying again, a rekey).
    pub fn certify_identity(&self, id: &[u8; 16], cert: &Certificate) -> Result<()> {
        const SQL: &str = "UPDATE identities SET sign_public = ?2, role = ?3, certifier = ?4, \
                           cert_sig = ?5, sign_claim = ?6, agent_until = ?7, succession = ?8 \
                           WHERE id = ?1";
        self.exec(
            SQL,
            params![
                &id[..],
                cert.sign_public,
                cert.role,
                cert.certifier,
                cert.sig,
                cert.claim,
                cert.agent_until,
                cert.succession
            ],
        )
    }

    pub fn delete_identity(&self, id: &[u8; 16]) -> Result<()> {
        self.exec("DELETE FROM identities WHERE id = ?1", params![&id[..]])?;
        self.exec(
            "UPDATE vault SET default_identity = NULL WHERE default_identity = ?1",
            params![&id[..]],
        )
    }
}
