//! Writing as a certified identity: signing the rows a command changes,
//! and checking, before building on a secret, that its rows are as their
//! writers signed them and that `me` may write it.
//!
//! Every change to a secret (add, rotate, rename, grant, revoke) ends in
//! [`Vault::commit_secret`]: the generation goes up by one and the writer
//! signs the secret row and every access row again, so no row of an older
//! state can be put back beside the new ones. Every row signature goes
//! through [`Vault::sign_row`], which also gathers it into the write's
//! statement (`statements.rs`). The readers' side is `trust.rs`.

use super::seal::{
    access_input, managers_input, secret_input, AccessContext, Form, SecretStatement,
};
use super::statements::{Kind, Vouched};
use super::trust::{self, Roster, Writers};
use super::{Unlocked, Vault};
use crate::error::{Error, Result};
use crate::store::{AccessRow, Authority, Db, SecretRow};

impl Vault {
    /// The verified roster, checked against this clone's pin; a file that
    /// has no certificates yet (format 2 content) is upgraded first, with
    /// `me` signing everything as its root.
    pub(super) fn roster_for_write(&self, db: &Db<'_>, me: &Unlocked) -> Result<Roster> {
        let rows = db.identities()?;
        if !trust::is_signed(&rows) {
            if self.default_identity != Some(me.id) {
                return Err(Error::Untrusted(
                    "the vault file carries no signatures yet: its owner (the default identity) signs it with their next change".into(),
                ));
            }
            self.upgrade(db, me)?;
        }
        let roster = self.roster(db)?;
        if roster.root == me.id && rows.iter().any(|r| !r.cert.claim.is_empty()) {
            self.certify_claims(db, me)?;
            return self.roster(db);
        }
        Ok(roster)
    }

    /// The verified roster, checked against this clone's pin (pinning it
    /// on first use).
    pub(super) fn roster(&self, db: &Db<'_>) -> Result<Roster> {
        let rows = db.identities()?;
        if !trust::is_signed(&rows) {
            let pinned = {
                let local = self.local.borrow();
                local.state.root.is_some() || local.token_pin.is_some()
            };
            return Err(Error::Untrusted(if pinned {
                "the vault file carries no signatures, but this clone or its token pinned a root: an unsigned copy was put in its place".into()
            } else {
                "the vault file carries no signatures yet: its owner's next change (any command that writes) signs it".into()
            }));
        }
        let roster = trust::verify_roster(&self.id, &rows)?;
        let mut local = self.local.borrow_mut();
        let token_pin = local.token_pin;
        if local.path.is_some() || token_pin.is_some() {
            let pinned_now = roster.check_pin(&mut local.state, token_pin)?;
            local.changed |= pinned_now && local.path.is_some();
            if local.path.is_some() {
                local.changed |= roster.check_keys(&mut local.state)?;
            }
        }
        Ok(roster)
    }

    /// Checks every row of `secret` and returns its writers: the secret
    /// row and each access row signed by a writer at its generation, and
    /// the state no older than this clone has seen.
    pub(super) fn check_rows(
        &self,
        db: &Db<'_>,
        roster: &Roster,
        secret: &SecretRow,
    ) -> Result<Writers> {
        let writers = trust::check_secret(
            &self.id,
            roster,
            &secret.id,
            (&secret.name, &secret.environment),
            secret.version,
            &secret.sealed_value,
            &secret.fingerprints,
            &secret.authority,
            (&secret.signed, &Vouched::none()),
        )?;
        for row in db.access_for_secret(&secret.id)? {
            let grantee = roster.name(&row.identity_id);
            let input = |form| self.access_statement(secret, &row, form);
            let checks = (&writers, &Vouched::none());
            trust::check_signed(roster, checks, &row.signed, input, || {
                format!("the access of {grantee} to {}", label_of(secret))
            })?;
        }
        self.check_fresh(secret)?;
        Ok(writers)
    }

    /// Refuses `secret` if this clone has seen a newer state of it.
    pub(super) fn check_fresh(&self, secret: &SecretRow) -> Result<()> {
        let mut local = self.local.borrow_mut();
        if local.path.is_none() {
            return Ok(());
        }
        let changed = trust::check_fresh(
            &mut local.state,
            &secret.id,
            &label_of(secret),
            (secret.authority.generation, secret.authority.managers_epoch),
        )?;
        local.changed |= changed;
        Ok(())
    }

    fn access_statement(
        &self,
        secret: &SecretRow,
        row: &AccessRow,
        form: Form,
    ) -> crate::crypto::Aad {
        let ctx = AccessContext {
            secret_id: &secret.id,
            identity_id: &row.identity_id,
            version: secret.version,
            level: &row.level,
            expires_at: row.expires_at,
            writer_public: &row.writer_public,
        };
        let wrapped = (secret.authority.generation, &row.wrapped_key[..]);
        access_input(&self.id, &ctx, wrapped, form)
    }

    /// Signs the secret row as `me`, at its current generation.
    pub(super) fn sign_secret(&self, me: &Unlocked, secret: &mut SecretRow) {
        me.pending.touch(secret.id);
        let statement = SecretStatement {
            secret_id: &secret.id,
            creator: &secret.authority.creator,
            id_nonce: &secret.authority.id_nonce,
            name: &secret.name,
            environment: &secret.environment,
            version: secret.version,
            generation: secret.authority.generation,
            sealed_value: &secret.sealed_value,
            fingerprints: &secret.fingerprints,
        };
        secret.signed = self.sign_row(me, Kind::Secret, |form| {
            secret_input(&self.id, &statement, form)
        });
    }

    /// Signs an access row of `secret` as `me`.
    pub(super) fn sign_access(&self, me: &Unlocked, secret: &SecretRow, row: &mut AccessRow) {
        row.signed = self.sign_row(me, Kind::Access, |form| {
            self.access_statement(secret, row, form)
        });
    }

    /// Certifies again, as `by`, every other identity that `certifier`
    /// certified (its key being replaced or removed); how many.
    pub(super) fn certify_again(
        &self,
        db: &Db<'_>,
        by: &Unlocked,
        certifier: &[u8; 16],
    ) -> Result<usize> {
        let mut count = 0;
        for row in db.identities()? {
            if row.cert.certifier == certifier[..] && row.id != *certifier {
                let cert = by.certify(&self.id, &row, &row.cert.sign_public, &row.cert.role);
                db.certify_identity(&row.id, &cert)?;
                count += 1;
            }
        }
        Ok(count)
    }

    /// Replaces the managers list of `secret` with `ids`, signed by `me`
    /// (its creator or an admin) at the next epoch.
    pub(super) fn sign_managers(&self, me: &Unlocked, secret: &mut SecretRow, ids: &[[u8; 16]]) {
        let a = &mut secret.authority;
        a.managers = ids.concat();
        a.managers_epoch += 1;
        a.managers_by = me.id.to_vec();
        let input = |_| managers_input(&self.id, &secret.id, a.managers_epoch, &a.managers);
        a.managers_sig = self.sign_row(me, Kind::Managers, input).sig;
    }

    /// Ends every change to a secret: the next generation, the secret row
    /// and all its access rows signed by `me`, written back.
    pub(super) fn commit_secret(
        &self,
        db: &Db<'_>,
        me: &Unlocked,
        secret: &mut SecretRow,
    ) -> Result<()> {
        secret.authority.generation += 1;
        self.sign_secret(me, secret);
        db.update_secret(secret)?;
        for mut row in db.access_for_secret(&secret.id)? {
            self.sign_access(me, secret, &mut row);
            db.resign_access(&row.id, &row.signed)?;
        }
        self.remember(secret);
        Ok(())
    }

    /// Notes `secret`'s new state as the newest this clone has seen.
    pub(super) fn remember(&self, secret: &SecretRow) {
        let mut local = self.local.borrow_mut();
        if local.path.is_some() {
            local.state.secrets().insert(
                secret.id,
                crate::trust_state::Seen {
                    generation: secret.authority.generation,
                    epoch: secret.authority.managers_epoch,
                    name: label_of(secret),
                },
            );
            local.changed = true;
        }
    }

    /// Forgets a secret this clone deleted.
    pub(super) fn forget(&self, secret_id: &[u8; 16]) {
        let mut local = self.local.borrow_mut();
        if local.state.secrets().remove(secret_id).is_some() {
            local.changed = true;
        }
    }
}

/// The vault's root as the file says and as this clone pinned it.
pub struct TrustReport {
    pub root: String,
    pub found: String,
    pub pinned: Option<String>,
    /// The pin is an earlier signing key of the root, which rekeyed since:
    /// the next command moves it forward.
    pub pinned_earlier: bool,
}

impl Vault {
    /// The root whose certificate chains the roster, and this clone's pin;
    /// checks every certificate but not the pin.
    pub fn trust_report(&self) -> Result<TrustReport> {
        let roster = self.unpinned_roster(&self.store.read())?;
        Ok(self.report(&roster))
    }

    /// The roster, every certificate checked, the pin not.
    fn unpinned_roster(&self, db: &Db<'_>) -> Result<Roster> {
        let rows = db.identities()?;
        if !trust::is_signed(&rows) {
            return Err(Error::Untrusted(
                "the vault file carries no signatures yet: its owner's next change signs it".into(),
            ));
        }
        trust::verify_roster(&self.id, &rows)
    }

    fn report(&self, roster: &Roster) -> TrustReport {
        let pin = self.local.borrow().state.root;
        let chain = roster.members.get(&roster.root).map(|m| &m.chain);
        TrustReport {
            root: roster.name(&roster.root),
            found: trust::show_pin(&roster.root_fingerprint),
            pinned: pin.as_ref().map(trust::show_pin),
            pinned_earlier: pin.is_some_and(|p| {
                p != roster.root_fingerprint && chain.is_some_and(|c| c.contains(&p))
            }),
        }
    }

    /// Pins the current root and takes every secret's current state as the
    /// newest this clone has seen: what a user does on purpose after
    /// restoring a backup or re-creating the vault.
    pub fn accept_trust(&self) -> Result<TrustReport> {
        let db = self.store.read();
        let roster = self.unpinned_roster(&db)?;
        let mut local = self.local.borrow_mut();
        local.state.root = Some(roster.root_fingerprint);
        local.state.keys.clear();
        roster.check_keys(&mut local.state)?;
        local.state.verified.clear();
        local.state.own.clear();
        local.state.secrets().clear();
        for secret in db.secrets_metadata(None)? {
            trust::check_fresh(
                &mut local.state,
                &secret.id,
                &label_of(&secret),
                (secret.authority.generation, secret.authority.managers_epoch),
            )?;
        }
        local.changed = true;
        drop(local);
        self.save_local_state();
        Ok(self.report(&roster))
    }
}

impl Vault {
    /// Signs a vault whose rows carry no signatures yet (upgraded from
    /// format 2), when `me` is its owner: the first command the owner runs
    /// makes the upgrade, exec included. Anyone else is told to wait for it.
    pub fn sign_if_unsigned(&self, me: &Unlocked) -> Result<()> {
        // A view this clone verified came from a signed file: no query.
        // (An unsigned copy put in its place later fails the pin.)
        let verified = self.local.borrow().state.verified.contains_key(&me.id);
        if verified
            || self.default_identity != Some(me.id)
            || self.store.read().any_certificate()?
        {
            return Ok(());
        }
        let event = super::audit::Event::new("sign", &[]);
        self.audited(me, event, |_, _, _| Ok(()))
    }
}

/// How messages and this clone's freshness state name a secret: its name,
/// and its environment when it has one (two secrets may share a name).
pub(super) fn label_of(secret: &SecretRow) -> String {
    crate::model::label(&secret.name, &secret.environment)
}

/// The ids a secret's managers list holds (a list whose length is not a
/// multiple of 16 is refused by every reader before this is asked).
pub(super) fn manager_ids(a: &Authority) -> impl Iterator<Item = [u8; 16]> + '_ {
    a.managers
        .chunks_exact(16)
        .map(|m| m.try_into().expect("16-byte chunks"))
}

/// Whether `id` signed a row of `secret`: the secret row, its managers
/// list, or one of `access` (any access rows; those of other secrets are
/// passed over).
pub(super) fn signed_by(secret: &SecretRow, access: &[AccessRow], id: &[u8; 16]) -> bool {
    secret.signed.signer == id[..]
        || secret.authority.managers_by == id[..]
        || access
            .iter()
            .any(|a| a.secret_id == secret.id && a.signed.signer == id[..])
}
