//! Signing keys for identities certified to receive only.
//!
//! After a format 2 vault is upgraded, its owner (the root) has certified
//! the other identities' X25519 keys but cannot know their signing keys,
//! which derive from secrets only they hold. Such an identity's first
//! write records a *claim*: its signing key and an HMAC-SHA256 over it
//! under a key only it and the root can compute (X25519 between the two,
//! HKDF label `vault/v3/claim`). The root's next command checks the MAC
//! and certifies the key; nobody else can make a claim the root accepts.

use super::seal::certificate_input;
use super::{Unlocked, Vault};
use crate::crypto::{self, Aad};
use crate::error::{Error, Result};
use crate::store::{Db, IdentityRow};

const CLAIM_LEN: usize = 32 + crypto::MAC_LEN;

fn claim_input(vault_id: &[u8; 16], row: &IdentityRow, sign_public: &[u8]) -> Aad {
    Aad::new("sign-claim")
        .with(certificate_input(vault_id, row).as_bytes())
        .with(sign_public)
}

impl Vault {
    /// When `me` is certified to receive only, records its claim and
    /// refuses the write it came for, saying what happens next.
    pub(super) fn refuse_receive_only(&self, me: &Unlocked) -> Result<()> {
        let db = self.store.read();
        let Some(row) = db.identity_by_id(&me.id)? else {
            return Ok(());
        };
        if row.cert.sig.is_empty() || !row.cert.sign_public.is_empty() {
            return Ok(());
        }
        let root = db
            .identities()?
            .into_iter()
            .find(|r| r.cert.certifier == r.id)
            .ok_or_else(|| Error::Untrusted("the vault has no root identity".into()))?;
        let root_public: [u8; 32] = root.public_key[..]
            .try_into()
            .map_err(|_| Error::Integrity(format!("identity {}", root.name)))?;
        let key = crypto::claim_key(&me.secret, &root_public, &me.public, &root_public, &self.id)
            .map_err(|_| Error::Integrity(format!("identity {}", root.name)))?;
        let sign_public = me.signer(&self.id).public();
        let mut claim = sign_public.to_vec();
        claim.extend_from_slice(&crypto::mac(
            &key,
            &claim_input(&self.id, &row, &sign_public),
        ));
        if row.cert.claim != claim {
            let mut cert = row.cert.clone();
            cert.claim = claim;
            self.store.write(|db| db.certify_identity(&me.id, &cert))?;
        }
        Err(Error::RoleRefused {
            identity: me.name.clone(),
            action: "write to this vault yet",
            why: format!(
                "its signing key waits for the root ({}) to certify it; the claim is recorded, and the root's next command certifies it",
                root.name
            ),
        })
    }

    /// As the root, certifies every signing key claimed with a MAC that
    /// only the claimant and the root can compute. Called inside a write.
    pub(super) fn certify_claims(&self, db: &Db<'_>, me: &Unlocked) -> Result<()> {
        for row in db.identities()? {
            if row.cert.claim.len() != CLAIM_LEN || !row.cert.sign_public.is_empty() {
                continue;
            }
            let Ok(public) = <[u8; 32]>::try_from(&row.public_key[..]) else {
                continue;
            };
            let Ok(key) = crypto::claim_key(&me.secret, &public, &public, &me.public, &self.id)
            else {
                continue;
            };
            let (sign_public, tag) = row.cert.claim.split_at(32);
            if crypto::verify_mac(&key, &claim_input(&self.id, &row, sign_public), tag).is_ok() {
                let cert = me.certify(&self.id, &row, sign_public, &row.cert.role);
                db.certify_identity(&row.id, &cert)?;
            }
        }
        Ok(())
    }
}
