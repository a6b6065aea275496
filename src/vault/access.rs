//! Access: wrapping a secret's data key for an identity, unwrapping one's
//! own, and the grant and revoke operations built on them.
//!
//! A data key is wrapped under the (writer, grantee) wrapping key and bound
//! to the grant's level and expiry, so a level raised or an expiry extended
//! by hand fails to unwrap. Wrapping keys are cached per writer, so `exec`
//! does one X25519 per distinct writer, not one per secret.

use std::collections::HashMap;

use super::seal::{access_aad, AccessContext};
use super::trust::{Roster, Writers};
use super::{Unlocked, Vault};
use crate::crypto::{self, Aad, Key};
use crate::error::{Error, Result};
use crate::model::{IdentityName, Level, SecretName};
use crate::store::{AccessRow, Db, GrantRow, IdentityRow, SecretRow};

/// Wrapping keys already derived in this process, by writer public key
/// and which of `me`'s keys (0 the current one, then its retired ones).
#[derive(Default)]
pub(super) struct WrapKeys(HashMap<(Vec<u8>, usize), Key>);

impl WrapKeys {
    /// The key under which `writer_public` wrapped data keys for `me`'s
    /// key number `which`.
    fn for_writer(
        &mut self,
        vault_id: &[u8; 16],
        me: &Unlocked,
        writer: &[u8],
        which: usize,
    ) -> Option<&Key> {
        let slot = (writer.to_vec(), which);
        if !self.0.contains_key(&slot) {
            // The current key's public half is the identity row's: a
            // secret that does not yield it derives a key nothing opens
            // with, so the scalar multiplication that would recompute it
            // is spared (3% of a fresh clone's exec).
            let (own, public) = match which {
                0 => (&me.secret, me.public),
                n => {
                    let retired = me.retired.get(n - 1)?;
                    (retired, retired.public())
                }
            };
            let writer_arr: [u8; 32] = writer.try_into().ok()?;
            let key =
                crypto::wrapping_key(own, &writer_arr, &writer_arr, &public, vault_id).ok()?;
            self.0.insert(slot.clone(), key);
        }
        self.0.get(&slot)
    }

    /// The key `writer` sealed its exec bundle for `me` under
    /// (`bundles/`): from their wrapping key, `me`'s current key only.
    pub(super) fn bundle_key(
        &mut self,
        vault_id: &[u8; 16],
        me: &Unlocked,
        writer: &[u8],
    ) -> Option<Key> {
        let wrap = self.for_writer(vault_id, me, writer, 0)?;
        Some(crypto::bundle_key(wrap, vault_id))
    }

    /// Opens a 32-byte key that `writer` wrapped for `me` under `aad`,
    /// with its current key or, for what was wrapped before it rekeyed,
    /// a retired one; `None` when none opens it (a damaged or edited row).
    pub(super) fn open_key(
        &mut self,
        vault_id: &[u8; 16],
        me: &Unlocked,
        writer: &[u8],
        aad: &Aad,
        wrapped: &[u8],
    ) -> Option<Key> {
        (0..=me.retired.len()).find_map(|which| {
            let wrap = self.for_writer(vault_id, me, writer, which)?;
            let bytes = crypto::open(wrap, aad, wrapped).ok()?;
            Some(Key::from_bytes(bytes[..].try_into().ok()?))
        })
    }
}

/// A wrapped data key and everything it is bound to, borrowed from the
/// rows that hold it.
pub(super) struct Wrapped<'a> {
    pub secret_id: &'a [u8; 16],
    pub secret_name: &'a str,
    pub version: i64,
    pub level: &'a str,
    pub expires_at: Option<i64>,
    pub writer_public: &'a [u8],
    pub wrapped_key: &'a [u8],
}

impl<'a> Wrapped<'a> {
    pub(super) fn of(secret: &'a SecretRow, row: &'a AccessRow) -> Self {
        Wrapped {
            secret_id: &secret.id,
            secret_name: &secret.name,
            version: secret.version,
            level: &row.level,
            expires_at: row.expires_at,
            writer_public: &row.writer_public,
            wrapped_key: &row.wrapped_key,
        }
    }

    pub(super) fn granted(row: &'a GrantRow) -> Self {
        Wrapped {
            secret_id: &row.secret_id,
            secret_name: &row.name,
            version: row.version,
            level: &row.level,
            expires_at: row.grant_expires_at,
            writer_public: &row.writer_public,
            wrapped_key: &row.wrapped_key,
        }
    }
}

/// A grantee as the writer sees it: id and public key.
pub(super) struct Grantee {
    pub id: [u8; 16],
    pub public: [u8; 32],
    /// A coding agent: it may be granted use only.
    pub agent: bool,
}

impl Vault {
    /// Unwraps `me`'s data key from `w`, checking it against everything it
    /// is bound to.
    pub(super) fn unwrap_data_key(
        &self,
        keys: &mut WrapKeys,
        me: &Unlocked,
        w: &Wrapped<'_>,
    ) -> Result<Key> {
        let ctx = AccessContext {
            secret_id: w.secret_id,
            identity_id: &me.id,
            version: w.version,
            level: w.level,
            expires_at: w.expires_at,
            writer_public: w.writer_public,
        };
        let aad = access_aad(&self.id, &ctx);
        keys.open_key(&self.id, me, w.writer_public, &aad, w.wrapped_key)
            .ok_or_else(|| {
                Error::Integrity(format!("the access of {} to {}", me.name, w.secret_name))
            })
    }

    /// The key `me` wraps keys under, as their writer, for the grantee
    /// whose X25519 key is `grantee_public`.
    pub(super) fn wrapping_key_for(&self, me: &Unlocked, grantee_public: &[u8; 32]) -> Result<Key> {
        crypto::wrapping_key(
            &me.secret,
            grantee_public,
            &me.public,
            grantee_public,
            &self.id,
        )
        .map_err(|_| Error::Integrity("an identity's public key".into()))
    }

    /// Wraps `data_key` for `grantee`, with `me` as the writer.
    pub(super) fn wrap_for(
        &self,
        me: &Unlocked,
        grantee: &Grantee,
        secret: &SecretRow,
        level: Level,
        expires_at: Option<i64>,
        data_key: &Key,
    ) -> Result<AccessRow> {
        let wrap = self.wrapping_key_for(me, &grantee.public)?;
        let ctx = AccessContext {
            secret_id: &secret.id,
            identity_id: &grantee.id,
            version: secret.version,
            level: level.as_str(),
            expires_at,
            writer_public: &me.public,
        };
        Ok(AccessRow {
            id: crypto::random_bytes(),
            secret_id: secret.id,
            identity_id: grantee.id,
            level: level.as_str().into(),
            expires_at,
            writer_public: me.public.to_vec(),
            wrapped_key: crypto::seal(&wrap, &access_aad(&self.id, &ctx), data_key.expose()),
            granted_at: crate::time::now(),
            signed: Default::default(),
        })
    }

    /// Wraps `data_key` of `secret` again, with `me` as the writer, for
    /// each grantee whose access row `pick` selects, keeping its level,
    /// expiry and grant time.
    pub(super) fn rewrap(
        &self,
        db: &Db<'_>,
        me: &Unlocked,
        secret: &SecretRow,
        data_key: &Key,
        pick: impl Fn(&AccessRow, &IdentityRow) -> bool,
    ) -> Result<()> {
        for row in db.access_for_secret(&secret.id)? {
            let Some(identity) = db.identity_by_id(&row.identity_id)? else {
                continue;
            };
            let Some(level) = Level::from_stored(&row.level) else {
                continue;
            };
            if pick(&row, &identity) {
                let grantee = self.grantee(db, &identity.name)?;
                let mut access =
                    self.wrap_for(me, &grantee, secret, level, row.expires_at, data_key)?;
                access.granted_at = row.granted_at;
                db.put_access(&access)?;
            }
        }
        Ok(())
    }

    /// Every manager's commit of a secret it holds the data key of wraps
    /// it again for each grantee that rekeyed: that grantee's row may be
    /// addressed to a key it retired, which its old passphrase opens.
    pub(super) fn rewrap_rekeyed(
        &self,
        db: &Db<'_>,
        me: &Unlocked,
        secret: &SecretRow,
        data_key: &Key,
    ) -> Result<()> {
        self.rewrap(db, me, secret, data_key, |_, identity| {
            !identity.cert.succession.is_empty()
        })
    }

    /// Checks that `me` holds at least `need` on `secret` (authenticated by
    /// unwrapping) and returns the data key with the secret's writers,
    /// checked (see `sign.rs`): a manager's key is of no use on rows that no
    /// writer signed.
    pub(super) fn require(
        &self,
        db: &Db<'_>,
        roster: &Roster,
        me: &Unlocked,
        secret: &SecretRow,
        need: Level,
        action: &'static str,
    ) -> Result<(Key, Writers)> {
        let denied = |have: &'static str| Error::NotPermitted {
            identity: me.name.clone(),
            action,
            secret: secret.name.clone(),
            have,
        };
        let now = crate::time::now();
        let row = db
            .access_row(&secret.id, &me.id)?
            .ok_or_else(|| denied("no"))?;
        if row.expires_at.is_some_and(|e| e <= now) {
            return Err(denied("expired"));
        }
        let wrapped = Wrapped::of(secret, &row);
        let key = self.unwrap_data_key(&mut me.wrap_keys.borrow_mut(), me, &wrapped)?;
        let writers = self.check_rows(db, roster, secret)?;
        match Level::from_stored(&row.level) {
            Some(level) if level >= need => {
                if need == Level::Manage && !writers.contains(&me.id) {
                    return Err(Error::RoleRefused {
                        identity: me.name.clone(),
                        action,
                        why: format!(
                            "{} holds manage access to {} but is not on its signed managers list: its creator or an admin grants manage again",
                            me.name, secret.name
                        ),
                    });
                }
                Ok((key, writers))
            }
            Some(level) => Err(denied(level.as_str())),
            None => Err(Error::Integrity(format!(
                "the access of {} to {}",
                me.name, secret.name
            ))),
        }
    }

    /// Adds `who` to the signed managers list of `secret` (`level` manage)
    /// or takes it off: only the secret's creator or an admin may.
    fn change_managers(
        &self,
        roster: &Roster,
        me: &Unlocked,
        secret: &mut SecretRow,
        writers: &Writers,
        who: &[u8; 16],
        level: Level,
    ) -> Result<()> {
        if !writers.is_anchor(roster, &me.id) {
            return Err(Error::RoleRefused {
                identity: me.name.clone(),
                action: "change who manages",
                why: format!(
                    "only the creator of {} or an admin can give or take manage access",
                    secret.name
                ),
            });
        }
        let mut ids: Vec<[u8; 16]> = writers
            .managers
            .iter()
            .filter(|m| *m != who)
            .copied()
            .collect();
        if level == Level::Manage && writers.creator != Some(*who) {
            ids.push(*who);
        }
        self.sign_managers(me, secret, &ids);
        Ok(())
    }

    pub(super) fn grantee(&self, db: &Db<'_>, name: &str) -> Result<Grantee> {
        let row = self.identity_row(db, name)?;
        let public: [u8; 32] = row.public_key[..]
            .try_into()
            .map_err(|_| Error::Integrity(format!("identity {name}")))?;
        Ok(Grantee {
            id: row.id,
            public,
            agent: row.cert.agent_until.is_some(),
        })
    }

    /// Gives `to` access at `level` to each secret; replaces an existing
    /// grant's level and expiry. All or nothing.
    pub fn grant(
        &self,
        me: &Unlocked,
        names: &[SecretName],
        to: &IdentityName,
        level: Level,
        expires_at: Option<i64>,
    ) -> Result<()> {
        if to.as_str() == me.name {
            return Err(Error::Usage(format!(
                "identity {to} cannot change its own access"
            )));
        }
        let vault = self;
        let mut event = self
            .event("grant", names)
            .with("identity", to.as_str())
            .with("level", level.as_str());
        if let Some(e) = expires_at {
            event = event.with("expires", crate::time::format(e));
        }
        self.audited(me, event, |db, _, roster| {
            let grantee = vault.grantee(db, to.as_str())?;
            if level == Level::Manage && grantee.agent {
                return Err(Error::AgentManage(to.to_string()));
            }
            for name in names {
                let mut secret = vault.secret_row(db, name)?;
                let (key, writers) =
                    vault.require(db, roster, me, &secret, Level::Manage, "grant")?;
                let was_manager = writers.managers.contains(&grantee.id);
                if (level == Level::Manage) != was_manager {
                    vault.change_managers(roster, me, &mut secret, &writers, &grantee.id, level)?;
                }
                db.put_access(&vault.wrap_for(me, &grantee, &secret, level, expires_at, &key)?)?;
                vault.rewrap_rekeyed(db, me, &secret, &key)?;
                vault.commit_secret(db, me, &mut secret)?;
            }
            Ok(())
        })
    }

    /// Takes away `from`'s access to each secret and marks each as needing
    /// rotation. All or nothing.
    pub fn revoke(&self, me: &Unlocked, names: &[SecretName], from: &IdentityName) -> Result<()> {
        let vault = self;
        let event = self.event("revoke", names).with("identity", from.as_str());
        self.audited(me, event, |db, _, roster| {
            let identity = vault.identity_row(db, from.as_str())?;
            for name in names {
                let mut secret = vault.secret_row(db, name)?;
                let action = "revoke access to";
                let (key, writers) =
                    vault.require(db, roster, me, &secret, Level::Manage, action)?;
                let Some(revoked) = db.access_row(&secret.id, &identity.id)? else {
                    return Err(Error::NoAccessToRevoke {
                        identity: from.to_string(),
                        secret: super::sign::label_of(&secret),
                    });
                };
                let managers = db
                    .access_for_secret(&secret.id)?
                    .into_iter()
                    .filter(|a| a.level == Level::Manage.as_str())
                    .count();
                if revoked.level == Level::Manage.as_str() && managers == 1 {
                    return Err(Error::LastManager {
                        identity: from.to_string(),
                        secrets: name.to_string(),
                    });
                }
                if revoked.level == Level::Manage.as_str() {
                    vault.change_managers(
                        roster,
                        me,
                        &mut secret,
                        &writers,
                        &identity.id,
                        Level::Use,
                    )?;
                }
                db.delete_access(&secret.id, &identity.id)?;
                secret.needs_rotation = true;
                vault.rewrap_rekeyed(db, me, &secret, &key)?;
                vault.commit_secret(db, me, &mut secret)?;
            }
            Ok(())
        })
    }
}
