//! `vault passwd --rekey`: a person gets a brand-new identity secret (so
//! new X25519 and signing keys), sealed under a new passphrase, so that an
//! old passphrase with an old copy of the file opens nothing written
//! after and signs nothing anyone accepts.
//!
//! In one transaction, as the audit entry `rekey` records:
//!
//! 1. the identity hands over from its old keys to the new ones, signed
//!    with the old signing key (`succession.rs`);
//! 2. everything its old signing key signed is signed again with the new
//!    one, since readers check rows against an identity's current key:
//!    the certificates it gave (as an admin), the audit key rows it wrote,
//!    and every secret whose rows or managers list it signed (committed
//!    again, generation + 1). A row it signed but may not write is
//!    refused, as every write refuses it, before anything changes;
//! 3. what it holds is wrapped again for its new key where it may write
//!    the access rows: its audit key, and its access to every secret it
//!    writes (with the rows its old key wrapped for others).
//!
//! Secrets it may only use stay wrapped for the old key: a use-level
//! identity cannot sign its own access row. Their old X25519 keys are kept
//! (`retired_keys`), each sealed under the identity's own wrapping key
//! (itself as writer and grantee), so they still open; a manager's next
//! rotate, grant, revoke or rename wraps them for the new key
//! (`Vault::rewrap_rekeyed`). Rotating them is what ends the old
//! passphrase's reach, and the command lists them.

use std::collections::HashMap;

use super::access::Wrapped;
use super::audit::Event;
use super::seal::{new_kdf_row, retired_keys_aad, seal_person_key};
use super::sign::{manager_ids, signed_by};
use super::succession::{self, Keys};
use super::trust::{pin_of, show_pin, Roster};
use super::{Unlocked, Vault};
use crate::crypto::{self, IdentitySecret, KdfParams, Key};
use crate::error::{Error, Result};
use crate::secret::Passphrase;
use crate::store::{AccessRow, Db, IdentityRow, SecretRow};

/// What a rekey did, for the command to report.
pub struct Rekeyed {
    /// The fingerprints of the new X25519 and signing keys.
    pub receives_with: String,
    pub signs_with: String,
    /// How many secrets were signed again, and certificates given again.
    pub secrets: usize,
    pub certificates: usize,
    /// The secrets it may only use, still wrapped for an old key.
    pub still_wrapped_for_old_key: Vec<String>,
    /// The secrets it may write and held: an old copy of the file holds
    /// their data keys, so their current values stay in its reach until
    /// they are rotated.
    pub held: Vec<String>,
}

/// One secret the old key signed or the identity holds: the row, and the
/// data key when the identity may write the secret and holds it.
struct Owed {
    secret: SecretRow,
    key: Option<Key>,
}

impl Vault {
    /// Gives `me` a new identity secret sealed under `passphrase`, and
    /// signs and wraps again everything its old keys signed and hold.
    pub fn rekey(&self, me: &Unlocked, passphrase: &Passphrase, kdf: KdfParams) -> Result<Rekeyed> {
        let secret = IdentitySecret::generate();
        let next = Unlocked {
            id: me.id,
            name: me.name.clone(),
            public: secret.public(),
            secret,
            wrap_keys: Default::default(),
            signer: Default::default(),
            agent_until: me.agent_until,
            retired: Vec::new(),
            pending: Default::default(),
        };
        let sign_public = next.signer(&self.id).public();
        let mut report = Rekeyed {
            receives_with: show_pin(&pin_of(&next.public)),
            signs_with: show_pin(&pin_of(&sign_public)),
            secrets: 0,
            certificates: 0,
            still_wrapped_for_old_key: Vec::new(),
            held: Vec::new(),
        };
        let event = Event::new("rekey", &[])
            .with("receives", report.receives_with.clone())
            .with("signs", report.signs_with.clone());
        self.audited(me, event, |db, audit_key, roster| {
            let row = db
                .identity_by_id(&me.id)?
                .ok_or_else(|| Error::NoIdentity(me.name.clone()))?;
            if row.kdf.is_none() {
                return Err(Error::Usage(format!(
                    "identity {} unlocks with an access token: `passwd --rekey` is for people; for new keys and a new token, an admin removes it (`vault identity remove {0}`) and adds it again",
                    me.name
                )));
            }
            let (owed, use_only) = self.owed(db, roster, me)?;
            let old_publics: Vec<Vec<u8>> = std::iter::once(&me.secret)
                .chain(&me.retired)
                .map(|s| s.public().to_vec())
                .collect();
            let keep: Vec<&IdentitySecret> = if use_only.is_empty() {
                Vec::new()
            } else {
                std::iter::once(&me.secret).chain(&me.retired).collect()
            };
            let mut new_row = row.clone();
            let to = Keys {
                public: &next.public,
                sign: &sign_public,
            };
            succession::hand_over(&self.id, &mut new_row, me.signer(&self.id), to);
            let kdf = new_kdf_row(kdf);
            new_row.sealed_key = seal_person_key(&self.id, &me.id, &next.secret, passphrase, &kdf);
            new_row.kdf = Some(kdf);
            new_row.retired_keys = self.seal_retired(&new_row, &next.secret, &keep)?;
            db.rekey_identity(&new_row)?;
            report.certificates = self.certify_again(db, &next, &me.id)?;
            self.rewrap_audit_keys(db, me, &next, audit_key)?;
            for Owed { mut secret, key } in owed {
                if let Some(key) = key {
                    report.held.push(super::sign::label_of(&secret));
                    self.rewrap(db, &next, &secret, &key, |access, identity| {
                        access.identity_id == me.id
                            || old_publics.contains(&access.writer_public)
                            || !identity.cert.succession.is_empty()
                    })?;
                }
                if secret.authority.managers_by == me.id[..] {
                    let ids: Vec<[u8; 16]> = manager_ids(&secret.authority).collect();
                    self.sign_managers(&next, &mut secret, &ids);
                }
                self.commit_secret(db, &next, &mut secret)?;
                report.secrets += 1;
            }
            // What the new keys signed is vouched for by their statement.
            self.refresh_bundles(db, &next)?;
            self.seal_statement(db, &next)?;
            // The file as it now is verifies, and this clone remembers the
            // new keys (and moves its pin, for the root).
            self.roster(db)?;
            report.still_wrapped_for_old_key = use_only;
            Ok(())
        })?;
        Ok(report)
    }

    /// The secrets `me`'s old keys signed or hold that it may write, each
    /// checked as it stands (a row it signed but may not write is
    /// refused there: nobody could sign it again), with their data key
    /// where `me` holds it; and the names of those it may only use.
    fn owed(
        &self,
        db: &Db<'_>,
        roster: &Roster,
        me: &Unlocked,
    ) -> Result<(Vec<Owed>, Vec<String>)> {
        let mut access: HashMap<[u8; 16], Vec<AccessRow>> = HashMap::new();
        for row in db.all_access()? {
            access.entry(row.secret_id).or_default().push(row);
        }
        let (mut owed, mut use_only) = (Vec::new(), Vec::new());
        for secret in db.secrets(None)? {
            let rows = access.get(&secret.id).map_or(&[][..], |r| &r[..]);
            let signed = signed_by(&secret, rows, &me.id);
            let held = rows.iter().find(|a| a.identity_id == me.id);
            if !signed && held.is_none() {
                continue;
            }
            let writers = self.check_rows(db, roster, &secret)?;
            let label = super::sign::label_of(&secret);
            // A row `me` signed while it may not write the secret would
            // leave a vault that does not verify: `check_rows` has refused
            // it above, naming the row, so here `me` only uses it.
            if !writers.contains(&me.id) {
                use_only.push(label);
                continue;
            }
            let key = match held {
                Some(row) => Some(self.unwrap_data_key(
                    &mut me.wrap_keys.borrow_mut(),
                    me,
                    &Wrapped::of(&secret, row),
                )?),
                None => None,
            };
            owed.push(Owed { secret, key });
        }
        Ok((owed, use_only))
    }

    /// Wraps the audit key again with `next` as the writer: for itself
    /// (its new key), and for everyone whose copy its old key wrapped.
    fn rewrap_audit_keys(
        &self,
        db: &Db<'_>,
        me: &Unlocked,
        next: &Unlocked,
        audit_key: &Key,
    ) -> Result<()> {
        for row in db.audit_keys()? {
            if row.identity_id == me.id || row.signed.signer == me.id[..] {
                let Some(identity) = db.identity_by_id(&row.identity_id)? else {
                    continue;
                };
                let grantee = self.grantee(db, &identity.name)?;
                db.replace_audit_key(&self.wrap_audit_key(next, &grantee, audit_key)?)?;
            }
        }
        Ok(())
    }

    /// The retired X25519 keys `keep`, each sealed for `row`'s current
    /// key `current` under the identity's own wrapping key (itself as
    /// writer and grantee), bound to the identity and its place in the
    /// list. Empty when none is kept.
    fn seal_retired(
        &self,
        row: &IdentityRow,
        current: &IdentitySecret,
        keep: &[&IdentitySecret],
    ) -> Result<Vec<u8>> {
        let wrap = self.own_wrapping_key(current, &row.name)?;
        let mut blob = Vec::new();
        for (n, retired) in keep.iter().enumerate() {
            let aad = retired_keys_aad(&self.id, &row.id, &row.public_key).with(&n.to_be_bytes());
            blob.extend(crypto::seal(&wrap, &aad, retired.expose()));
        }
        Ok(blob)
    }

    /// The retired keys of `row`, opened with its current key `current`.
    pub(super) fn open_retired(
        &self,
        row: &IdentityRow,
        current: &IdentitySecret,
    ) -> std::result::Result<Vec<IdentitySecret>, ()> {
        if row.retired_keys.is_empty() {
            return Ok(Vec::new());
        }
        let wrap = self.own_wrapping_key(current, &row.name).map_err(|_| ())?;
        let sealed = crypto::NONCE_LEN + 32 + crypto::TAG_LEN;
        if !row.retired_keys.len().is_multiple_of(sealed) {
            return Err(());
        }
        row.retired_keys
            .chunks(sealed)
            .enumerate()
            .map(|(n, one)| {
                let aad =
                    retired_keys_aad(&self.id, &row.id, &row.public_key).with(&n.to_be_bytes());
                let bytes = crypto::open(&wrap, &aad, one).map_err(|_| ())?;
                IdentitySecret::from_slice(&bytes).map_err(|_| ())
            })
            .collect()
    }

    /// The wrapping key of an identity with itself as writer and grantee:
    /// only the holder of `secret` can compute it.
    fn own_wrapping_key(&self, secret: &IdentitySecret, name: &str) -> Result<Key> {
        let public = secret.public();
        crypto::wrapping_key(secret, &public, &public, &public, &self.id)
            .map_err(|_| Error::Integrity(format!("identity {name}")))
    }
}
