//! Identities: adding people and machines, removing them, and changing a
//! passphrase.
//!
//! Adding an identity needs nobody's passphrase but the adder's: it adds a
//! public key, which can use nothing until a manager wraps a data key for
//! it, and the adder wraps the audit key for it (and is recorded as the
//! one who added it). A
//! passphrase change re-seals one identity key and touches no secret, so it
//! costs the same in a vault of ten secrets or of a hundred thousand.

use std::collections::HashMap;

use super::audit::Event;
use super::seal::{self, new_kdf_row, seal_machine_key, seal_person_key};
use super::sign::{manager_ids, signed_by};
use super::trust::{Roster, ROLE_ADMIN, ROLE_MEMBER};
use super::{Unlocked, Vault};
use crate::crypto::{self, AccessToken, IdentitySecret, KdfParams};
use crate::error::{Error, Result};
use crate::model::{IdentityName, Level};
use crate::secret::Passphrase;
use crate::store::{Db, IdentityRow};

/// How a new identity will unlock.
pub enum NewIdentity<'a> {
    Person(&'a Passphrase, KdfParams),
    Machine,
    /// A machine identity certified as a coding agent until this time.
    Agent {
        until: i64,
    },
}

impl Vault {
    /// Adds an identity, with `me` (who is recorded as doing it) wrapping
    /// the audit key for it. For a machine, returns its access token, which
    /// is shown once and stored nowhere.
    pub fn add_identity(
        &self,
        me: &Unlocked,
        name: &IdentityName,
        how: NewIdentity<'_>,
        admin: bool,
    ) -> Result<Option<AccessToken>> {
        let now = crate::time::now();
        let secret = IdentitySecret::generate();
        let (row, token) = match how {
            NewIdentity::Person(passphrase, kdf) => (
                seal::person_identity(&self.id, name, &secret, passphrase, kdf, now),
                None,
            ),
            NewIdentity::Machine | NewIdentity::Agent { .. } => {
                let id = crypto::random_bytes();
                let token = AccessToken::generate(id);
                let row = IdentityRow {
                    id,
                    name: name.to_string(),
                    kind: "machine".into(),
                    public_key: secret.public().to_vec(),
                    kdf: None,
                    sealed_key: seal_machine_key(&self.id, &id, &secret, &token.unlock_key()),
                    created_at: now,
                    cert: Default::default(),
                    retired_keys: Vec::new(),
                };
                (row, Some(token))
            }
        };
        let mut row = row;
        let mut event = Event::new("identity add", &[]).with("identity", name.as_str());
        if let NewIdentity::Agent { until } = how {
            // Bound into the certificate below: the agent cannot drop it.
            row.cert.agent_until = Some(until);
            event = event
                .with("kind", "agent")
                .with("expires", crate::time::format(until));
        } else {
            event = event.with("kind", row.kind.clone());
        }
        let sign_public = crypto::Signer25519::derive(&secret, &self.id).public();
        let role = if admin && row.cert.agent_until.is_none() {
            ROLE_ADMIN
        } else {
            ROLE_MEMBER
        };
        row.cert = me.certify(&self.id, &row, &sign_public, role);
        let root = self.audited(me, event, |db, key, roster| {
            if !roster.is_admin(&me.id) {
                return Err(Error::RoleRefused {
                    identity: me.name.clone(),
                    action: "add identities",
                    why: format!("{} is not an admin of this vault", me.name),
                });
            }
            if db.identity_by_name(name.as_str())?.is_some() {
                return Err(Error::IdentityExists(name.to_string()));
            }
            db.insert_identity(&row)?;
            let grantee = self.grantee(db, name.as_str())?;
            db.insert_audit_key(&self.wrap_audit_key(me, &grantee, key)?)?;
            Ok(roster.root_fingerprint)
        })?;
        // A machine's token carries the root's pin, so that a fresh CI
        // clone checks the root as strictly as a laptop that pinned it.
        Ok(token.map(|t| t.with_pin(root)))
    }

    /// Removes an identity and all its access. Refused when it is the only
    /// identity, or the last one managing some secret. Returns its id, so
    /// the caller can drop a cached key.
    pub fn remove_identity(&self, me: &Unlocked, name: &IdentityName) -> Result<[u8; 16]> {
        let event = Event::new("identity remove", &[]).with("identity", name.as_str());
        self.audited(me, event, |db, _, roster| {
            let row = self.identity_row(db, name.as_str())?;
            if db.identities()?.len() == 1 {
                return Err(Error::LastIdentity(name.to_string()));
            }
            if !roster.is_admin(&me.id) {
                return Err(Error::RoleRefused {
                    identity: me.name.clone(),
                    action: "remove identities",
                    why: format!("{} is not an admin of this vault", me.name),
                });
            }
            let mut managers: HashMap<[u8; 16], usize> = HashMap::new();
            let mut mine = Vec::new();
            for access in db.all_access()? {
                if access.level == Level::Manage.as_str() {
                    *managers.entry(access.secret_id).or_default() += 1;
                    if access.identity_id == row.id {
                        mine.push(access.secret_id);
                    }
                }
            }
            let orphaned: Vec<String> = db
                .secrets(None)?
                .into_iter()
                .filter(|s| mine.contains(&s.id) && managers.get(&s.id) == Some(&1))
                .map(|s| s.name)
                .collect();
            if !orphaned.is_empty() {
                return Err(Error::LastManager {
                    identity: name.to_string(),
                    secrets: orphaned.join(", "),
                });
            }
            if row.id == roster.root {
                return Err(Error::RoleRefused {
                    identity: me.name.clone(),
                    action: "remove identities",
                    why: format!("{} is the vault's root, which every clone pinned", row.name),
                });
            }
            db.delete_identity(&row.id)?;
            self.take_over(db, roster, me, &row.id)?;
            Ok(row.id)
        })
    }

    /// After `gone` was removed, `me` (an admin) signs again what it had
    /// signed: the certificates it gave, and the secrets whose rows or
    /// managers list it wrote, so that they stay valid without it.
    fn take_over(
        &self,
        db: &Db<'_>,
        roster: &Roster,
        me: &Unlocked,
        gone: &[u8; 16],
    ) -> Result<()> {
        self.certify_again(db, me, gone)?;
        let access = db.all_access()?;
        for mut secret in db.secrets(None)? {
            let listed = manager_ids(&secret.authority).any(|m| m == *gone);
            if !(listed || signed_by(&secret, &access, gone)) {
                continue;
            }
            // Vouch only for rows that are as their writers signed them.
            self.check_rows(db, roster, &secret)?;
            if listed || secret.authority.managers_by == gone[..] {
                let ids: Vec<[u8; 16]> = manager_ids(&secret.authority)
                    .filter(|m| m != gone)
                    .collect();
                self.sign_managers(me, &mut secret, &ids);
            }
            self.commit_secret(db, me, &mut secret)?;
        }
        Ok(())
    }

    /// Re-seals `me`'s secret key under a new passphrase.
    pub fn change_passphrase(
        &self,
        me: &Unlocked,
        passphrase: &Passphrase,
        kdf: KdfParams,
    ) -> Result<()> {
        let kdf = new_kdf_row(kdf);
        let sealed = seal_person_key(&self.id, &me.id, &me.secret, passphrase, &kdf);
        self.audited(me, Event::new("passwd", &[]), |db, _, _| {
            let row = db
                .identity_by_id(&me.id)?
                .ok_or_else(|| Error::NoIdentity(me.name.clone()))?;
            if row.kdf.is_none() {
                return Err(Error::WrongCredentialKind {
                    identity: me.name.clone(),
                    how: "an access token",
                    other: "a passphrase",
                });
            }
            db.reseal_identity(&me.id, &kdf, &sealed)
        })
    }
}
