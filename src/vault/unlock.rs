//! Unlocking an identity: from a passphrase, an access token or a cached
//! key to the identity's X25519 secret key.
//!
//! Which credential to try, and in which order, is decided at the edge
//! (`session.rs`); this file only checks one credential against one
//! identity record, refusing stored KDF parameters outside the floor and
//! ceiling before any work.

use std::cell::RefCell;

use super::access::WrapKeys;
use super::seal::{identity_aad, kdf_params};
use super::{kind_of, Vault};
use crate::crypto::{self, AccessToken, IdentitySecret, KdfParams, Key};
use crate::error::{Error, Result};
use crate::model::IdentityKind;
use crate::secret::Passphrase;
use crate::store::{Certificate, IdentityRow, KdfRow};

/// One way to unlock an identity.
pub enum Credential<'a> {
    Passphrase(&'a Passphrase),
    Token(&'a AccessToken),
    /// The identity's secret key as the unlock cache kept it.
    CachedKey(&'a [u8]),
}

/// An identity whose secret key is in memory. Zeroized on drop.
pub struct Unlocked {
    pub(super) id: [u8; 16],
    pub(super) name: String,
    pub(super) secret: IdentitySecret,
    pub(super) public: [u8; 32],
    /// Wrapping keys this identity derived, so that one command (exec
    /// decrypting, then recording its audit entry) does one X25519 per
    /// writer.
    pub(super) wrap_keys: RefCell<WrapKeys>,
    /// The identity's signing key, derived when a write first needs it
    /// (exec never does).
    pub(super) signer: std::cell::OnceCell<crypto::Signer25519>,
    /// For a coding agent, when its certificate ends (as the row says;
    /// every read that hands on a value verifies the certificate).
    pub(super) agent_until: Option<i64>,
    /// The X25519 keys it held before it rekeyed, still needed to open
    /// what a manager wrapped for them (`rekey.rs`); usually none.
    pub(super) retired: Vec<IdentitySecret>,
    /// The statement of the write this identity is signing rows in
    /// (`statements.rs`).
    pub(super) pending: super::statements::Pending,
}

impl Unlocked {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When this identity is a coding agent, the end of its certificate.
    pub fn agent_until(&self) -> Option<i64> {
        self.agent_until
    }

    /// Refuses an agent whose certificate has ended (a long-running
    /// `vault mcp` asks before every call).
    pub fn check_agent_time(&self) -> Result<()> {
        match self.agent_until {
            Some(until) if until <= crate::time::now() => Err(Error::AgentExpired {
                identity: self.name.clone(),
                at: crate::time::format(until),
            }),
            _ => Ok(()),
        }
    }

    pub fn id(&self) -> &[u8; 16] {
        &self.id
    }

    /// The signing key for `vault_id`.
    pub(super) fn signer(&self, vault_id: &[u8; 16]) -> &crypto::Signer25519 {
        self.signer
            .get_or_init(|| crypto::Signer25519::derive(&self.secret, vault_id))
    }

    /// A certificate for the identity `row` (this one, for the root), with
    /// `sign_public` as its signing key, signed by this identity.
    pub(super) fn certify(
        &self,
        vault_id: &[u8; 16],
        row: &IdentityRow,
        sign_public: &[u8],
        role: &str,
    ) -> Certificate {
        let mut row = row.clone();
        row.cert = Certificate {
            sign_public: sign_public.to_vec(),
            role: role.to_owned(),
            certifier: self.id.to_vec(),
            sig: Vec::new(),
            claim: Vec::new(),
            // An agent stays one, until the same time, whoever certifies
            // it again (an admin taking over a removed one's certificates).
            agent_until: row.cert.agent_until,
            // A rekeyed identity keeps its chain of keys.
            succession: row.cert.succession.clone(),
        };
        let sig = self
            .signer(vault_id)
            .sign(&super::seal::certificate_input(vault_id, &row));
        row.cert.sig = sig.to_vec();
        row.cert
    }

    /// This identity's own certificate as the vault's root.
    pub(super) fn certificate_for(
        &self,
        vault_id: &[u8; 16],
        row: &IdentityRow,
        role: &str,
    ) -> Certificate {
        let public = self.signer(vault_id).public();
        self.certify(vault_id, row, &public, role)
    }

    /// The secret key's bytes, for the unlock cache only.
    pub fn secret_key_bytes(&self) -> &[u8; 32] {
        self.secret.expose()
    }
}

/// An identity's public record, as the session needs it to choose how to
/// unlock.
pub struct Identity(pub(super) IdentityRow);

impl Identity {
    pub fn name(&self) -> &str {
        &self.0.name
    }

    pub fn id(&self) -> &[u8; 16] {
        &self.0.id
    }

    pub fn kind(&self) -> IdentityKind {
        kind_of(&self.0)
    }
}

impl Vault {
    /// The identity named `asked`, or the vault's default identity.
    pub fn identity(&self, asked: Option<&str>) -> Result<Identity> {
        let id = match asked {
            Some(_) => None,
            None => Some(self.default_identity.ok_or_else(|| {
                Error::Usage(
                    "this vault has no default identity: name one with --as or VAULT_IDENTITY"
                        .into(),
                )
            })?),
        };
        if let Some(row) = self.warm_identity(asked, id.as_ref()) {
            return Ok(Identity(row));
        }
        let db = self.store.read();
        let row = match (asked, id) {
            (Some(name), _) => self.identity_row(&db, name)?,
            (None, id) => db
                .identity_by_id(&id.expect("the default identity"))?
                .ok_or_else(|| Error::Database("the default identity is missing".into()))?,
        };
        Ok(Identity(row))
    }

    /// The identity an access token belongs to.
    pub fn identity_for_token(&self, token: &AccessToken) -> Result<Identity> {
        if let Some(row) = self.warm_identity(None, Some(&token.identity_id())) {
            return Ok(Identity(row));
        }
        self.store
            .read()
            .identity_by_id(&token.identity_id())?
            .map(Identity)
            .ok_or(Error::TokenUnknownIdentity)
    }

    /// Checks `credential` against `identity` and returns its secret key.
    pub fn unlock(&self, identity: &Identity, credential: Credential<'_>) -> Result<Unlocked> {
        let row = &identity.0;
        let public: [u8; 32] = row.public_key[..]
            .try_into()
            .map_err(|_| self.damaged(row))?;
        let secret = match credential {
            Credential::Passphrase(passphrase) => self.open_with_passphrase(row, passphrase)?,
            Credential::Token(token) => self.open_with_token(row, token)?,
            Credential::CachedKey(bytes) => {
                IdentitySecret::from_slice(bytes).map_err(|_| self.damaged(row))?
            }
        };
        // The seal's associated data binds the public key, but a key that
        // does not yield it (one sealed by someone who knows the passphrase,
        // a cached key of another identity) is unusable all the same: say
        // so now, not at the first grant that fails to open. A token's
        // key is not checked: only the token's holder could have sealed
        // another, and the check is a scalar multiplication on every CI
        // exec; such a key fails at its first grant instead.
        let checked = !matches!(credential, Credential::Token(_));
        if checked && secret.public() != public {
            return Err(self.damaged(row));
        }
        let retired = self
            .open_retired(row, &secret)
            .map_err(|()| self.damaged(row))?;
        let unlocked = Unlocked {
            id: row.id,
            name: row.name.clone(),
            secret,
            public,
            wrap_keys: RefCell::default(),
            signer: Default::default(),
            agent_until: row.cert.agent_until,
            retired,
            pending: Default::default(),
        };
        unlocked.check_agent_time()?;
        Ok(unlocked)
    }

    fn open_with_passphrase(
        &self,
        row: &IdentityRow,
        passphrase: &Passphrase,
    ) -> Result<IdentitySecret> {
        let kdf = match (&row.kdf, kind_of(row)) {
            (Some(kdf), IdentityKind::Person) => kdf,
            _ => {
                return Err(Error::WrongCredentialKind {
                    identity: row.name.clone(),
                    how: "an access token",
                    other: "a passphrase",
                })
            }
        };
        let params = kdf_params(kdf);
        check_params(&row.name, params, kdf)?;
        let key = crypto::derive_unlock_key(passphrase.expose(), &kdf.salt, params)
            .map_err(|_| Error::Integrity(format!("identity {}", row.name)))?;
        self.open_sealed_key(row, &key)
            .map_err(|_| Error::WrongPassphrase(row.name.clone()))
    }

    fn open_with_token(&self, row: &IdentityRow, token: &AccessToken) -> Result<IdentitySecret> {
        if kind_of(row) == IdentityKind::Person || row.kdf.is_some() {
            return Err(Error::WrongCredentialKind {
                identity: row.name.clone(),
                how: "a passphrase",
                other: "an access token",
            });
        }
        self.open_sealed_key(row, &token.unlock_key())
            .map_err(|_| Error::TokenRejected(row.name.clone()))
    }

    fn open_sealed_key(&self, row: &IdentityRow, key: &Key) -> Result<IdentitySecret, ()> {
        let aad = identity_aad(
            &self.id,
            &row.id,
            &row.kind,
            &row.public_key,
            row.kdf.as_ref(),
        );
        let bytes = crypto::open(key, &aad, &row.sealed_key).map_err(|_| ())?;
        IdentitySecret::from_slice(&bytes).map_err(|_| ())
    }

    fn damaged(&self, row: &IdentityRow) -> Error {
        Error::Integrity(format!("identity {}", row.name))
    }
}

/// Refuses parameters outside the floor and ceiling, naming them as stored
/// (a negative or 64-bit value edited into the file is shown as it is).
fn check_params(identity: &str, p: KdfParams, stored: &KdfRow) -> Result<()> {
    use crate::crypto::ParamsRefused;
    let (m_kib, t, p_) = (stored.m_kib, stored.t, stored.p);
    match p.check() {
        Ok(()) => Ok(()),
        Err(ParamsRefused::BelowFloor) => Err(Error::KdfTooWeak {
            identity: identity.to_owned(),
            m_kib,
            t,
            p: p_,
        }),
        Err(ParamsRefused::AboveCeiling) => Err(Error::KdfTooCostly {
            identity: identity.to_owned(),
            m_kib,
            t,
            p: p_,
        }),
    }
}
