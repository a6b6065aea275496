//! The upgrade of a vault whose rows carry no signatures (a format 2 file,
//! migrated to format 3's columns): the first identity to write it signs
//! everything as its root.
//!
//! That first write is a moment of trust on first use, as when a clone
//! first pins a root: whoever makes it vouches for the file as it is. The
//! other identities are certified to receive (their X25519 keys, as
//! stored), not to sign: their signing keys derive from secrets only they
//! hold. Each claims its key on its first write (`claim.rs`) and the root
//! certifies it on its next command.

use super::trust::{ROLE_ADMIN, ROLE_MEMBER};
use super::{Unlocked, Vault};
use crate::error::Result;
use crate::model::Level;
use crate::store::Db;

impl Vault {
    pub(super) fn upgrade(&self, db: &Db<'_>, me: &Unlocked) -> Result<()> {
        for row in db.identities()? {
            let cert = if row.id == me.id {
                me.certificate_for(&self.id, &row, ROLE_ADMIN)
            } else {
                me.certify(&self.id, &row, &[], ROLE_MEMBER)
            };
            db.certify_identity(&row.id, &cert)?;
        }
        let access = db.all_access()?;
        for mut secret in db.secrets(None)? {
            secret.authority.creator = me.id.to_vec();
            let managers: Vec<[u8; 16]> = access
                .iter()
                .filter(|a| a.secret_id == secret.id && a.identity_id != me.id)
                .filter(|a| a.level == Level::Manage.as_str())
                .map(|a| a.identity_id)
                .collect();
            if !managers.is_empty() {
                self.sign_managers(me, &mut secret, &managers);
            }
            self.commit_secret(db, me, &mut secret)?;
        }
        for mut key in db.audit_keys()? {
            let keys = (&key.writer_public[..], &key.wrapped_key[..]);
            let input = |form| super::seal::audit_key_input(&self.id, &key.identity_id, keys, form);
            key.signed = self.sign_row(me, super::statements::Kind::AuditKey, input);
            db.resign_audit_key(&key.id, &key.signed)?;
        }
        Ok(())
    }
}
