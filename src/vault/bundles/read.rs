//! The reader's side of exec bundles: a fresh clone's exec takes its
//! grants from them when they stand for every grant (see `mod.rs`).

use super::{bundle_aad, bundle_input, decode, Entry};
use crate::crypto;
use crate::error::Result;
use crate::secret::SecretValue;
use crate::store::GrantMark;
use crate::trust_state::Seen;
use crate::vault::exec_cache::CachedGrant;
use crate::vault::exec_view::ViewRow;
use crate::vault::{Unlocked, Vault};

/// Why the signatures of a bundled exec did not all verify: the roster
/// (an error, as on the rows), or a bundle (the rows are read instead).
enum Refused {
    Roster(crate::error::Error),
    Bundle,
}

impl Vault {
    /// The grants exec hands on, from the bundles admins sealed for `me`,
    /// when they stand for every grant `me` holds in the file now (see
    /// the module comment); `None` sends exec to the rows.
    pub(in crate::vault) fn bundled_grants(
        &self,
        me: &Unlocked,
    ) -> Result<Option<Vec<CachedGrant>>> {
        // Only a clone with no trust state yet: one that has pinned the
        // root reads the rows, and so notices any row changed in the file.
        if self.local.borrow().state.root.is_some() {
            return Ok(None);
        }
        let db = self.store.read();
        let bundles = db.bundles_for(&me.id)?;
        if bundles.is_empty() {
            return Ok(None);
        }
        // The bundles an admin of the roster wrote, their signatures
        // verified in one batch with the roster's certificates.
        let checked = crypto::batched_signatures(
            || {
                let roster = self.roster(&db).map_err(Refused::Roster)?;
                for b in bundles.iter().filter(|b| roster.is_admin(&b.writer)) {
                    let input = bundle_input(&self.id, &b.writer, &me.id, &b.sealed);
                    crypto::verify_signature(&roster.members[&b.writer].sign, &input, &b.sig)
                        .map_err(|_| Refused::Bundle)?;
                }
                Ok(roster)
            },
            || Refused::Bundle,
        );
        let roster = match checked {
            Ok(roster) => roster,
            // A bundle whose signature fails: the rows, checked afresh.
            Err(Refused::Bundle) => return Ok(None),
            Err(Refused::Roster(e)) => return Err(e),
        };
        let mut entries: Vec<Entry> = Vec::new();
        {
            let mut keys = me.wrap_keys.borrow_mut();
            for b in bundles.iter().filter(|b| roster.is_admin(&b.writer)) {
                let writer = &roster.members[&b.writer];
                let Some(key) = keys.bundle_key(&self.id, me, &writer.public) else {
                    continue;
                };
                let aad = bundle_aad(&self.id, &b.writer, &me.id);
                if let Some(opened) = crypto::open(&key, &aad, &b.sealed)
                    .ok()
                    .and_then(|plain| decode(&plain))
                {
                    entries.extend(opened);
                }
            }
        }
        let mut marks = db.grant_marks(&me.id)?;
        let Some(chosen) = matched(entries, &mut marks) else {
            return Ok(None);
        };
        let chosen = self.in_environment_by(chosen, |e| (e.name.as_str(), &e.environment));
        self.check_bundled(me, &chosen)?;
        Ok(Some(self.hand_on(me, chosen)))
    }

    /// What exec checks of bundled grants besides the rows' signatures:
    /// freshness against this clone's trust state, and an environment's
    /// own secrets; the state is saved as after verifying the rows.
    fn check_bundled(&self, me: &Unlocked, chosen: &[Entry]) -> Result<()> {
        let view: Vec<ViewRow<'_>> = chosen
            .iter()
            .map(|e| ViewRow {
                secret_id: &e.mark.secret_id,
                name: e.name.as_str(),
                environment: &e.environment,
            })
            .collect();
        {
            // A clone with no trust state has seen nothing: each secret is
            // recorded as it is now, and no name can belong to another
            // secret seen before (the entries match the file's rows, whose
            // names are one per environment).
            let mut local = self.local.borrow_mut();
            if local.path.is_some() {
                let seen = local.state.secrets();
                seen.reserve(chosen.len());
                for e in chosen {
                    let name = crate::model::label(e.name.as_str(), &e.environment);
                    let (generation, epoch) = (e.generation, e.managers_epoch);
                    seen.insert(
                        e.mark.secret_id,
                        Seen {
                            generation,
                            epoch,
                            name,
                        },
                    );
                }
                local.changed = true;
            }
        }
        self.check_own_secrets(me, &view)?;
        self.remember_own(me, &view);
        let mut local = self.local.borrow_mut();
        if local.path.is_some() {
            // The view this clone now holds verified, by what determines
            // it: each grant's mark. It never equals the digest of a view
            // verified from the rows (another label), so the rows are still
            // checked whenever exec reads them; a manifest's rules passed
            // are remembered against it as against that one.
            let mut h = crate::crypto::FieldHasher::with_capacity(
                "vault exec bundled view v1",
                20 + 40 * chosen.len(),
            );
            h.field(&local.token_pin.unwrap_or_default());
            for e in chosen {
                h.field(&e.mark.secret_id).field(&e.mark.access_sig);
            }
            local.state.verified.insert(me.id, h.finish());
            local.changed = true;
        }
        drop(local);
        self.save_local_state();
        Ok(())
    }

    /// The chosen entries as exec takes them (a grant expired by now has
    /// no value), cached for the next run as a verified view is.
    fn hand_on(&self, me: &Unlocked, mut chosen: Vec<Entry>) -> Vec<CachedGrant> {
        // In name order, as the rows' path keeps them (`Vault::grants`): a
        // bundle is written in it; entries of two bundles are sorted here.
        if !chosen.is_sorted_by(|a, b| a.name <= b.name) {
            chosen.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        }
        let now = crate::time::now();
        let mut cache = self.exec_cache_writer(me);
        let grants: Vec<CachedGrant> = chosen
            .into_iter()
            .map(|e| {
                let live = e.grant_expires_at.is_none_or(|at| at > now);
                CachedGrant {
                    name: e.name,
                    environment: e.environment,
                    service: e.service,
                    expires_at: e.expires_at,
                    grant_expires_at: e.grant_expires_at,
                    value: live.then(|| SecretValue::new(e.value)),
                }
            })
            .collect();
        if let Some(mut writer) = cache.take() {
            for g in &grants {
                writer.add_cached(g);
            }
            self.finish_exec_cache(me, writer);
        }
        grants
    }
}

/// The entries that stand for `marks`, one per grant, in the entries'
/// order (a bundle's is by name, as exec hands them on), or `None` when a
/// grant has none. The marks come in secret-id order from their index;
/// the entries are walked in it through a sorted list of positions.
fn matched(entries: Vec<Entry>, marks: &mut [GrantMark]) -> Option<Vec<Entry>> {
    if !marks.is_sorted_by_key(|m| m.secret_id) {
        marks.sort_unstable_by_key(|m| m.secret_id);
    }
    let mut by_id: Vec<usize> = (0..entries.len()).collect();
    by_id.sort_unstable_by_key(|&i| entries[i].mark.secret_id);
    let mut by_id = by_id.into_iter().peekable();
    let mut used = vec![false; entries.len()];
    for mark in marks.iter() {
        while by_id
            .next_if(|&i| entries[i].mark.secret_id < mark.secret_id)
            .is_some()
        {}
        // Two admins' bundles may each hold the secret: the one whose
        // signature is the row's stands for it.
        let mut found = None;
        while let Some(i) = by_id.next_if(|&i| entries[i].mark.secret_id == mark.secret_id) {
            if found.is_none() && entries[i].matches(mark) {
                found = Some(i);
            }
        }
        used[found?] = true;
    }
    Some(
        entries
            .into_iter()
            .zip(used)
            .filter_map(|(e, used)| used.then_some(e))
            .collect(),
    )
}
