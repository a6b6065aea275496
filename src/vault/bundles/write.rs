//! The writer's side of exec bundles: an admin's write renews the bundles
//! it seals (see `mod.rs`).

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::{bundle_aad, bundle_input, decode, Entry};
use crate::crypto::{self, Key};
use crate::error::Result;
use crate::model::Level;
use crate::secret::SecretValue;
use crate::store::{BundleGrant, BundleRow, Db};
use crate::vault::bytes::Writer;
use crate::vault::trust::Roster;
use crate::vault::{Unlocked, Vault};

impl Vault {
    /// Ends a write by `me`: when `me` is an admin and the write signed or
    /// deleted secrets, renews every bundle `me` seals (see the module
    /// comment), inside the write's transaction.
    pub(in crate::vault) fn refresh_bundles(&self, db: &Db<'_>, me: &Unlocked) -> Result<()> {
        let touched = me.pending.take_touched();
        if touched.is_empty() {
            return Ok(());
        }
        let roster = self.roster(db)?;
        if !roster.is_admin(&me.id) {
            return Ok(());
        }
        let mut grants: HashMap<[u8; 16], Vec<BundleGrant>> = HashMap::new();
        for g in db.bundle_grants()? {
            grants.entry(g.grantee).or_default().push(g);
        }
        let mut sealed: HashMap<[u8; 16], Vec<u8>> = db
            .bundles_by(&me.id)?
            .into_iter()
            .map(|b| (b.grantee, b.sealed))
            .collect();
        let mut values = Values::new(self, db, &roster, me);
        for (grantee, mut held) in grants {
            // Entries in name order, as exec hands them on (`hand_on`).
            held.sort_unstable_by(|a, b| a.name.cmp(&b.name));
            let Some(member) = roster.members.get(&grantee) else {
                continue;
            };
            let key = self.bundle_key_for(me, &member.public)?;
            let aad = bundle_aad(&self.id, &me.id, &grantee);
            let old = sealed.remove(&grantee);
            let mut before: HashMap<[u8; 16], Entry> = old
                .as_ref()
                .and_then(|s| crypto::open(&key, &aad, s).ok())
                .and_then(|plain| decode(&plain))
                .unwrap_or_default()
                .into_iter()
                .map(|e| (e.mark.secret_id, e))
                .collect();
            let mut changed = old.is_none();
            let mut out = Writer(Zeroizing::new(Vec::new()));
            let mut written = 0;
            for g in held {
                let kept = before
                    .remove(&g.mark.secret_id)
                    .filter(|e| !touched.contains(&e.mark.secret_id) && e.matches(&g.mark));
                let entry = match kept {
                    Some(e) => e,
                    None => {
                        changed = true;
                        match values.of(&g.mark.secret_id)? {
                            Some(value) => Entry::new(g, value),
                            None => continue,
                        }
                    }
                };
                entry.write(&mut out);
                written += 1;
            }
            changed |= !before.is_empty();
            match (changed, written) {
                (false, _) => {}
                (true, 0) => db.delete_bundle(&me.id, &grantee)?,
                (true, _) => {
                    let sealed = crypto::seal(&key, &aad, &out.0);
                    let input = bundle_input(&self.id, &me.id, &grantee, &sealed);
                    let sig = me.signer(&self.id).sign(&input).to_vec();
                    db.put_bundle(&BundleRow {
                        writer: me.id,
                        grantee,
                        sealed,
                        sig,
                    })?
                }
            }
        }
        // Grantees that hold nothing any more.
        for grantee in sealed.keys() {
            db.delete_bundle(&me.id, grantee)?;
        }
        Ok(())
    }

    /// The key `me` seals its bundle under for the grantee whose X25519
    /// key is `public`.
    fn bundle_key_for(&self, me: &Unlocked, public: &[u8]) -> Result<Key> {
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| crate::error::Error::Integrity("an identity's public key".into()))?;
        let wrapping = self.wrapping_key_for(me, &public)?;
        Ok(crypto::bundle_key(&wrapping, &self.id))
    }
}

/// The values a refresh puts into new entries: each secret's rows checked
/// and its value opened once, by the admin writing, as any write checks a
/// secret before it signs it. A secret the admin holds no usable access to,
/// or whose rows do not verify, has none: no entry, and exec reads its
/// rows.
struct Values<'a> {
    vault: &'a Vault,
    db: &'a Db<'a>,
    roster: &'a Roster,
    me: &'a Unlocked,
    opened: HashMap<[u8; 16], Option<SecretValue>>,
}

impl<'a> Values<'a> {
    fn new(vault: &'a Vault, db: &'a Db<'a>, roster: &'a Roster, me: &'a Unlocked) -> Self {
        Values {
            vault,
            db,
            roster,
            me,
            opened: HashMap::new(),
        }
    }

    fn of(&mut self, secret_id: &[u8; 16]) -> Result<Option<&SecretValue>> {
        if !self.opened.contains_key(secret_id) {
            let value = self.db.secret_by_id(secret_id)?.and_then(|row| {
                let (key, _) = self
                    .vault
                    .require(self.db, self.roster, self.me, &row, Level::Use, "bundle")
                    .ok()?;
                self.vault.open_secret(&row, &key).ok()
            });
            self.opened.insert(*secret_id, value);
        }
        Ok(self.opened.get(secret_id).and_then(Option::as_ref))
    }
}
