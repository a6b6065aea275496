//! Exec bundles (format 9): for each grantee, what an admin last wrote of
//! the secrets it holds, sealed for that grantee and signed, so that exec
//! on a clone with no trust state yet (a fresh CI checkout) opens one
//! ciphertext instead of verifying and opening every granted row.
//!
//! A bundle is sealed by its writer W for its grantee G with
//! XChaCha20-Poly1305 under `crypto::bundle_key` of their wrapping key
//! (one X25519 between W and G, as every data key W wraps for G), with the
//! vault id, W and G as associated data, and signed by W (Ed25519 over the
//! digest of the sealed bytes): G computes the same key, so only the
//! signature says W made it. Each entry holds, for one secret G holds, the
//! first bytes of the signature of G's access row as W verified or made
//! it, the generation and managers epoch, the name, environment, the
//! grant's expiry, and the value. The service and the secret's expiry are
//! unsigned metadata: exec reads them from the row, bundled or not.
//!
//! Only admins write bundles: an admin is a writer of every secret, so an
//! entry needs no authority of its own beyond its writer's certificate.
//! An admin's every write that signs or deletes secrets renews its
//! bundles: an entry stays while its access row still carries the
//! signature it records and its secret was not touched; any other grant
//! gets an entry from the rows as this write leaves them, checked as any
//! write checks them before it signs (`Vault::require`), for the secrets
//! the admin can open. Others' writes leave bundles alone; their entries
//! then no longer match and exec reads those rows instead.
//!
//! exec takes its grants from bundles only on a clone that has pinned no
//! root yet, and only when every grant G holds in the file now is matched
//! by an entry of a bundle signed by an admin of the verified roster.
//! Anything else sends it to the rows, checked as without bundles. The
//! pin, freshness (generation and epoch against what this clone has seen)
//! and an environment's own secrets are checked as on the rows. What an
//! entry can stand for is what its admin signed: a row edited in the file
//! changes nothing a bundled exec hands on (a clone with state reads the
//! rows and refuses it), and putting back an older bundle with the rows it
//! matches is putting back an older state of those secrets, which
//! freshness refuses where this clone has seen a newer one, as for rows.

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::bytes::{Reader, Writer};
use super::exec_cache::CachedGrant;
use super::exec_view::ViewRow;
use super::trust::Roster;
use super::{Unlocked, Vault};
use crate::crypto::{self, Aad, Key};
use crate::error::Result;
use crate::model::Level;
use crate::secret::SecretValue;
use crate::store::{BundleGrant, BundleRow, Db, GrantMark, IdentityRow, SecretRow, MARK_LEN};
use crate::trust_state::Seen;

/// Why the signatures of a bundled exec did not all verify: the roster
/// (an error, as on the rows), or a bundle (the rows are read instead).
enum Refused {
    Roster(crate::error::Error),
    Bundle,
}

/// One granted secret as a bundle holds it.
struct Entry {
    mark: GrantMark,
    generation: i64,
    managers_epoch: i64,
    name: String,
    environment: String,
    service: Option<String>,
    expires_at: Option<i64>,
    grant_expires_at: Option<i64>,
    value: Zeroizing<Vec<u8>>,
}

impl Entry {
    fn new(g: BundleGrant, value: &SecretValue) -> Self {
        Entry {
            mark: g.mark,
            generation: g.generation,
            managers_epoch: g.managers_epoch,
            name: g.name,
            environment: g.environment,
            service: g.service,
            expires_at: g.expires_at,
            grant_expires_at: g.grant_expires_at,
            value: Zeroizing::new(value.expose().to_vec()),
        }
    }

    fn matches(&self, mark: &GrantMark) -> bool {
        self.mark == *mark
    }

    fn write(&self, out: &mut Writer) {
        out.raw(&self.mark.secret_id);
        out.raw(&self.mark.access_sig);
        out.number(self.generation);
        out.number(self.managers_epoch);
        out.text(&self.name);
        out.text(&self.environment);
        out.optional(self.service.as_deref().map(str::as_bytes));
        out.optional_number(self.expires_at);
        out.optional_number(self.grant_expires_at);
        out.bytes(&self.value);
    }

    fn read(r: &mut Reader<'_>) -> Option<Self> {
        Some(Entry {
            mark: GrantMark {
                secret_id: r.take(16)?.try_into().ok()?,
                access_sig: r.take(MARK_LEN)?.try_into().ok()?,
            },
            generation: r.number()?,
            managers_epoch: r.number()?,
            name: r.text()?,
            environment: r.text()?,
            service: r.optional_text()?,
            expires_at: r.optional_number()?,
            grant_expires_at: r.optional_number()?,
            value: Zeroizing::new(r.bytes()?.to_vec()),
        })
    }
}

/// A bundle's entries from its plaintext; `None` for one that is cut.
fn decode(plain: &[u8]) -> Option<Vec<Entry>> {
    let mut r = Reader(plain);
    let mut entries = Vec::new();
    while !r.0.is_empty() {
        entries.push(Entry::read(&mut r)?);
    }
    Some(entries)
}

fn bundle_aad(vault_id: &[u8; 16], writer: &[u8; 16], grantee: &[u8; 16]) -> Aad {
    Aad::new("vault exec bundle v1")
        .with(vault_id)
        .with(writer)
        .with(grantee)
}

/// What the writer signs of a bundle: the label `exec-bundle`, the vault
/// id, writer, grantee and the digest of the sealed bytes.
fn bundle_input(vault_id: &[u8; 16], writer: &[u8; 16], grantee: &[u8; 16], sealed: &[u8]) -> Aad {
    Aad::new("exec-bundle")
        .with(vault_id)
        .with(writer)
        .with(grantee)
        .with(&crypto::bundle_digest(sealed))
}

impl Vault {
    /// The grants exec hands on, from the bundles admins sealed for `me`,
    /// when they stand for every grant `me` holds in the file now (see
    /// the module comment); `None` sends exec to the rows.
    pub(super) fn bundled_grants(&self, me: &Unlocked) -> Result<Option<Vec<CachedGrant>>> {
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
        let by_admin = |roster: &Roster, b: &BundleRow| {
            roster
                .members
                .get(&b.writer)
                .filter(|m| m.admin && !m.agent && !m.sign.is_empty())
                .map(|m| m.sign.clone())
        };
        let checked = crypto::batched_signatures(
            || {
                let roster = self.roster(&db).map_err(Refused::Roster)?;
                for b in &bundles {
                    if let Some(sign) = by_admin(&roster, b) {
                        let input = bundle_input(&self.id, &b.writer, &me.id, &b.sealed);
                        crypto::verify_signature(&sign, &input, &b.sig)
                            .map_err(|_| Refused::Bundle)?;
                    }
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
        let publics = public_keys(&db.identities()?);
        let mut entries: Vec<Entry> = Vec::new();
        {
            let mut keys = me.wrap_keys.borrow_mut();
            for b in bundles.iter().filter(|b| by_admin(&roster, b).is_some()) {
                let Some(key) = publics
                    .get(&b.writer)
                    .and_then(|public| keys.bundle_key(&self.id, me, public))
                else {
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
        let chosen = match chosen.iter().any(|e| !e.environment.is_empty()) {
            true => super::environments::choose(chosen, &self.environment(), |e| {
                (&e.name, &e.environment)
            }),
            false => chosen,
        };
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
                name: &e.name,
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
                    let name = crate::model::label(&e.name, &e.environment);
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

impl Vault {
    /// Ends a write by `me`: when `me` is an admin and the write signed or
    /// deleted secrets, renews every bundle `me` seals (see the module
    /// comment), inside the write's transaction.
    pub(super) fn refresh_bundles(&self, db: &Db<'_>, me: &Unlocked) -> Result<()> {
        let touched = me.pending.take_touched();
        if touched.is_empty() {
            return Ok(());
        }
        let roster = self.roster(db)?;
        if !roster
            .members
            .get(&me.id)
            .is_some_and(|m| m.admin && !m.agent)
        {
            return Ok(());
        }
        let publics = public_keys(&db.identities()?);
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
            let Some(public) = publics.get(&grantee) else {
                continue;
            };
            let key = self.bundle_key_for(me, &grantee, public)?;
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

    /// The key `me` seals its bundle for `grantee` under.
    fn bundle_key_for(&self, me: &Unlocked, grantee: &[u8; 16], public: &[u8]) -> Result<Key> {
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| crate::error::Error::Integrity("an identity's public key".into()))?;
        let grantee = super::access::Grantee {
            id: *grantee,
            public,
            agent: false,
        };
        let wrapping = self.wrapping_key_for(me, &grantee)?;
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
    rows: Option<HashMap<[u8; 16], SecretRow>>,
    opened: HashMap<[u8; 16], Option<SecretValue>>,
}

impl<'a> Values<'a> {
    fn new(vault: &'a Vault, db: &'a Db<'a>, roster: &'a Roster, me: &'a Unlocked) -> Self {
        Values {
            vault,
            db,
            roster,
            me,
            rows: None,
            opened: HashMap::new(),
        }
    }

    fn of(&mut self, secret_id: &[u8; 16]) -> Result<Option<&SecretValue>> {
        if !self.opened.contains_key(secret_id) {
            if self.rows.is_none() {
                let all = self.db.secrets(None)?;
                self.rows = Some(all.into_iter().map(|s| (s.id, s)).collect());
            }
            let value = self
                .rows
                .as_ref()
                .and_then(|rows| rows.get(secret_id))
                .and_then(|row| {
                    let (key, _) = self
                        .vault
                        .require(self.db, self.roster, self.me, row, Level::Use, "bundle")
                        .ok()?;
                    self.vault.open_secret(row, &key).ok()
                });
            self.opened.insert(*secret_id, value);
        }
        Ok(self.opened.get(secret_id).and_then(Option::as_ref))
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

fn public_keys(identities: &[IdentityRow]) -> HashMap<[u8; 16], Vec<u8>> {
    identities
        .iter()
        .map(|i| (i.id, i.public_key.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_as_written_and_a_cut_bundle_reads_as_none() {
        let entry = |n: u8, expires: Option<i64>| Entry {
            mark: GrantMark {
                secret_id: [n; 16],
                access_sig: [n + 1; MARK_LEN],
            },
            generation: 7,
            managers_epoch: 2,
            name: format!("K{n}"),
            environment: "prod".into(),
            service: Some("stripe".into()),
            expires_at: None,
            grant_expires_at: expires,
            value: Zeroizing::new(b"s3cr\0t".to_vec()),
        };
        let mut out = Writer(Zeroizing::new(Vec::new()));
        entry(1, Some(5)).write(&mut out);
        entry(3, None).write(&mut out);
        let read = decode(&out.0).expect("decodes");
        assert_eq!(read.len(), 2);
        for (got, want) in read.iter().zip([entry(1, Some(5)), entry(3, None)]) {
            assert!(got.matches(&want.mark));
            assert_eq!((got.generation, got.managers_epoch), (7, 2));
            assert_eq!(
                (&got.name, &got.environment),
                (&want.name, &want.environment)
            );
            assert_eq!(got.grant_expires_at, want.grant_expires_at);
            assert_eq!(
                (got.service.as_deref(), got.expires_at),
                (Some("stripe"), None)
            );
            assert_eq!(&got.value[..], b"s3cr\0t");
        }
        let first = {
            let mut one = Writer(Zeroizing::new(Vec::new()));
            entry(1, Some(5)).write(&mut one);
            one.0.len()
        };
        for cut in (1..first).chain(first + 1..out.0.len()) {
            assert!(decode(&out.0[..cut]).is_none(), "cut at {cut}");
        }
    }
}
