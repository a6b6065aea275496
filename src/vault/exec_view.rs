//! exec's check of what it is about to decrypt, and what a clone
//! remembers so it need not check again.
//!
//! Every secret granted to the identity must have its row and the
//! identity's access row signed by a writer of that secret, at a state no
//! older than this clone has seen (the checks are `trust.rs`'s); a row a
//! verified statement of its signer lists needs no signature of its own
//! checked (`statements.rs`). A view this clone verified whole is
//! remembered by one digest; a changed view re-checks only the rows not
//! verified under the same roster.

use super::seal::{access_input, AccessContext};
use super::statements::Vouched;
use super::trust;
use super::{Unlocked, Vault};
use std::collections::HashSet;

use crate::error::Result;
use crate::store::{GrantRow, IdentityRow};

impl Vault {
    /// Checks what exec is about to decrypt: the roster, and for every
    /// secret granted to `me` its row and `me`'s access row, signed by one
    /// of its writers, and no older than this clone has seen. A view this
    /// clone already verified (same digest of every row involved) is not
    /// verified again: exec then pays one hash, not a signature per row.
    pub(super) fn check_exec_view(&self, me: &Unlocked, rows: &[GrantRow]) -> Result<()> {
        let db = self.store.read();
        let identities = db.identities()?;
        let roster_digest = {
            let mut h = crate::crypto::FieldHasher::new("vault exec roster v1");
            roster_fields(&mut h, &self.id, &identities);
            h.finish()
        };
        // Each row's key, once: the view's digest is made of them, and a
        // verified row is remembered by its first half. Four rows are
        // hashed side by side (`FieldHasher::finish_many`).
        let full_keys: Vec<[u8; 32]> = rows
            .chunks(4)
            .flat_map(|four| {
                let hashers: Vec<_> = four
                    .iter()
                    .map(|row| row_hasher(&roster_digest, &me.id, row))
                    .collect();
                crate::crypto::FieldHasher::finish_many(&hashers)
            })
            .collect();
        let digest = {
            let local = self.local.borrow();
            let digest = view_digest(local.token_pin, &roster_digest, &full_keys);
            if local.path.is_some() && local.state.verified.get(&me.id) == Some(&digest) {
                return Ok(());
            }
            digest
        };
        let roster = self.roster(&db)?;
        let verified_before = self.local.borrow_mut().state.rows().clone();
        let keys: Vec<[u8; 16]> = full_keys.iter().map(short_key).collect();
        // The statements that the rows not verified before name (a view
        // with one changed row loads one row's worth), each verified once:
        // the rows they vouch for need no signature of their own checked.
        let wanted = rows
            .iter()
            .zip(&keys)
            .filter(|(_, key)| !verified_before.contains(*key))
            .flat_map(|(row, _)| [&row.secret_signed.stmt[..], &row.access_signed.stmt[..]])
            .filter(|id| !id.is_empty())
            .collect();
        let vouched = self.vouched(&db, &roster, &wanted)?;
        // Every signature of the rows not verified before, in one batch
        // (crypto::sign): a fresh clone checks hundreds at once.
        let verified_now = crate::crypto::batched_signatures(
            || self.check_view_rows(me, (rows, &keys), &roster, &verified_before, &vouched),
            || crate::error::Error::Untrusted("a signature of the view does not verify".into()),
        )?;
        let view: Vec<ViewRow<'_>> = rows.iter().map(ViewRow::of).collect();
        self.check_own_secrets(me, &view)?;
        self.remember_own(me, &view);
        let mut local = self.local.borrow_mut();
        if local.path.is_some() {
            local.state.verified.insert(me.id, digest);
            *local.state.rows() = verified_now;
            local.changed = true;
        }
        drop(local);
        self.save_local_state();
        Ok(())
    }
}

/// What the checks of a view that do not depend on its signatures need of
/// each granted secret.
pub(super) struct ViewRow<'a> {
    pub secret_id: &'a [u8; 16],
    pub name: &'a str,
    pub environment: &'a str,
}

impl<'a> ViewRow<'a> {
    fn of(row: &'a GrantRow) -> Self {
        ViewRow {
            secret_id: &row.secret_id,
            name: &row.name,
            environment: &row.environment,
        }
    }
}

impl Vault {
    /// Refuses a view where a shared secret stands in for an environment's
    /// own secret of the same name that this identity's last verified view
    /// held: someone who can write the file deleted that secret, or the
    /// identity's access row to it, and exec would hand on another value
    /// under the name. (A secret this clone deleted itself is forgotten,
    /// so it does not count; `vault trust accept` takes such a change.)
    pub(super) fn check_own_secrets(&self, me: &Unlocked, rows: &[ViewRow<'_>]) -> Result<()> {
        let environment = self.environment();
        let mut local = self.local.borrow_mut();
        if environment.is_empty() || local.path.is_none() {
            return Ok(());
        }
        let Some(own) = local.state.own.get(&me.id).cloned() else {
            return Ok(());
        };
        let held: HashSet<[u8; 16]> = rows.iter().map(|r| *r.secret_id).collect();
        let gone: Vec<String> = own
            .iter()
            .filter(|id| !held.contains(*id))
            .filter_map(|id| local.state.secrets().get(id).map(|seen| seen.name.clone()))
            .collect();
        for row in rows.iter().filter(|r| r.environment.is_empty()) {
            let label = crate::model::label(row.name, &environment);
            if gone.contains(&label) {
                return Err(crate::error::Error::OwnSecretGone {
                    label,
                    identity: me.name.clone(),
                    environment,
                    name: row.name.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Remembers which of `me`'s granted secrets are its environment's
    /// own, for [`Vault::check_own_secrets`] to hold the next view to.
    pub(super) fn remember_own(&self, me: &Unlocked, rows: &[ViewRow<'_>]) {
        let mut local = self.local.borrow_mut();
        if local.path.is_none() {
            return;
        }
        let own: HashSet<[u8; 16]> = rows
            .iter()
            .filter(|r| !r.environment.is_empty())
            .map(|r| *r.secret_id)
            .collect();
        let changed = if own.is_empty() {
            local.state.own.remove(&me.id).is_some()
        } else {
            local.state.own.insert(me.id, own.clone()) != Some(own)
        };
        local.changed |= changed;
    }

    /// Checks each row of the view that was not verified under this roster
    /// before: fresh, signed by a writer. Returns the keys of every row of
    /// the view, to remember. Safe to run twice (a failed batch does).
    fn check_view_rows(
        &self,
        me: &Unlocked,
        (rows, keys): (&[GrantRow], &[[u8; 16]]),
        roster: &trust::Roster,
        verified_before: &HashSet<[u8; 16]>,
        vouched: &Vouched,
    ) -> Result<HashSet<[u8; 16]>> {
        let mut verified_now = HashSet::with_capacity(rows.len());
        {
            let mut local = self.local.borrow_mut();
            if local.path.is_some() {
                local.state.reserve(rows.len());
            }
        }
        for (row, &key) in rows.iter().zip(keys) {
            {
                let mut local = self.local.borrow_mut();
                if local.path.is_some() {
                    trust::check_fresh(
                        &mut local.state,
                        &row.secret_id,
                        &crate::model::label(&row.name, &row.environment),
                        (row.authority.generation, row.authority.managers_epoch),
                    )?;
                }
            }
            // A row verified before, under the same roster, is not verified
            // again: one changed secret costs its own signatures only.
            verified_now.insert(key);
            if verified_before.contains(&key) {
                continue;
            }
            let writers = trust::check_secret(
                &self.id,
                roster,
                &row.secret_id,
                (&row.name, &row.environment),
                row.version,
                &row.sealed_value,
                &row.fingerprints,
                &row.authority,
                (&row.secret_signed, vouched),
            )?;
            let ctx = AccessContext {
                secret_id: &row.secret_id,
                identity_id: &me.id,
                version: row.version,
                level: &row.level,
                expires_at: row.grant_expires_at,
                writer_public: &row.writer_public,
            };
            let wrapped = (row.authority.generation, &row.wrapped_key[..]);
            let input = |form| access_input(&self.id, &ctx, wrapped, form);
            trust::check_signed(
                roster,
                (&writers, vouched),
                &row.access_signed,
                input,
                || {
                    format!(
                        "the access of {} to {}",
                        me.name,
                        crate::model::label(&row.name, &row.environment)
                    )
                },
            )?;
        }
        Ok(verified_now)
    }
}

/// One digest over every field an exec view's verification depends on:
/// the pin the token carries, the roster (its digest) and each granted
/// row's key, which covers the roster, the identity and every field of
/// the row that is verified ([`row_hasher`]). Built from the keys, the view
/// hashes each row's fields once, not twice.
///
/// Left out, deliberately: the rows' own signatures (a changed signature
/// over unchanged fields vouches for what was already verified), and the
/// wrapped key's bytes: it is authenticated by its AEAD under the
/// (writer, grantee) key, which nobody but the writer named here and this
/// identity can compute, so a change to it fails to open. The sealed
/// value is in: every grantee holds the data key it is sealed under. Who
/// may write the secret (creator, managers list and its signature) is in:
/// a change to it is verified afresh.
fn view_digest(
    token_pin: Option<[u8; 16]>,
    roster_digest: &[u8; 32],
    keys: &[[u8; 32]],
) -> [u8; 32] {
    // Each field is its 4-byte length, then its bytes: the label, the pin
    // and the roster's digest take 78 bytes, each key 36.
    let mut h =
        crate::crypto::FieldHasher::with_capacity("vault exec view v4", 78 + 36 * keys.len());
    h.field(&token_pin.unwrap_or_default()).field(roster_digest);
    for key in keys {
        h.field(key);
    }
    h.finish()
}

pub(super) fn roster_fields(
    h: &mut crate::crypto::FieldHasher,
    vault_id: &[u8; 16],
    identities: &[IdentityRow],
) {
    h.field(vault_id);
    for i in identities {
        let agent = i.cert.agent_until.map(i64::to_be_bytes);
        h.field(&i.id)
            .field(i.name.as_bytes())
            .field(i.kind.as_bytes())
            .field(&i.public_key)
            .field(&i.cert.sign_public)
            .field(i.cert.role.as_bytes())
            .field(&i.cert.certifier)
            // An agent flag dropped or its end moved changes the view, so
            // the certificate is verified again (and then fails).
            .field(agent.as_ref().map_or(&[][..], |b| &b[..]));
    }
}

fn row_fields(h: &mut crate::crypto::FieldHasher, r: &GrantRow) {
    let a = &r.authority;
    h.field(&r.secret_id)
        .field(r.name.as_bytes())
        .field(r.environment.as_bytes())
        .field(&r.version.to_be_bytes())
        .field(&r.sealed_value)
        .field(r.level.as_bytes())
        .field(&r.grant_expires_at.unwrap_or(i64::MIN).to_be_bytes())
        .field(&r.writer_public)
        .field(&a.creator)
        .field(&a.id_nonce)
        .field(&a.generation.to_be_bytes())
        .field(&a.managers)
        .field(&a.managers_epoch.to_be_bytes())
        .field(&a.managers_by)
        .field(&r.secret_signed.signer)
        .field(&r.access_signed.signer);
}

/// A row's fields under one roster, for one identity, to be hashed into
/// the row's key: what the view's digest is made of ([`view_digest`]).
fn row_hasher(
    roster_digest: &[u8; 32],
    identity: &[u8; 16],
    r: &GrantRow,
) -> crate::crypto::FieldHasher {
    let mut h = crate::crypto::FieldHasher::with_capacity("vault exec row v2", 1024);
    h.field(roster_digest)
        .field(identity)
        .field(&r.authority.managers_sig);
    row_fields(&mut h, r);
    h
}

/// What a verified row is remembered by: the first half of its key.
fn short_key(key: &[u8; 32]) -> [u8; 16] {
    key[..16].try_into().expect("16 of 32 bytes")
}
