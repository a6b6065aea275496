//! What `vault scan` looks for: the current values of the secrets an
//! identity may use, and the fingerprints of every version of every secret
//! (no grant needed), each checked by the trust layer first.
//!
//! Every secret row is checked as any reader checks it (`trust.rs`): signed
//! by one of its writers, no older than this clone has seen. Its
//! fingerprint records are bound into that signature, so none planted or
//! removed by hand is taken. The scan key is derived from `me`'s copy of
//! the audit key, itself checked against its writer's signature.
//!
//! As exec does, a clone remembers one digest of everything that check
//! depends on (the roster, and each secret's signed fields and signer);
//! while it is unchanged, no signature is checked again: ten thousand
//! secrets cost one hash, not ten thousand signatures (a second each,
//! here). Freshness is checked on every scan.

use std::collections::HashMap;

use super::access::Wrapped;
use super::fingerprint::{fingerprinter, records};
use super::trust;
use super::{Unlocked, Vault};
use crate::crypto::{FieldHasher, Fingerprinter, FINGERPRINT_LEN};
use crate::error::{Error, Result};
use crate::secret::SecretValue;
use crate::store::{IdentityRow, SecretRow};

/// A secret version a finding names.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Wanted {
    pub name: String,
    pub version: i64,
    /// Whether `version` is the secret's current one.
    pub current: bool,
}

/// Everything a scan searches for, by index into `labels`.
pub struct ScanTargets {
    pub labels: Vec<Wanted>,
    /// Current values `me` may use: (label, value).
    pub values: Vec<(usize, SecretValue)>,
    /// Stored fingerprints: (label, value length, fingerprint).
    pub fingerprints: Vec<(usize, usize, [u8; FINGERPRINT_LEN])>,
    pub fingerprinter: Fingerprinter,
    /// Secrets with no fingerprint yet (an upgraded vault, before a
    /// manager's next write).
    pub unfingerprinted: Vec<String>,
}

impl Vault {
    /// Reads and checks what `me`'s scan looks for. A vault with no
    /// secrets has nothing to look for: an error, so that a CI gate set up
    /// against the wrong vault does not pass quietly.
    pub fn scan_targets(&self, me: &Unlocked) -> Result<ScanTargets> {
        let db = self.store.read();
        let secrets = db.secrets(None)?;
        if secrets.is_empty() {
            return Err(Error::NothingToScanFor(self.store.path().to_owned()));
        }
        let roster = self.roster(&db)?;
        let identities = db.identities()?;
        let (view_key, digest) = {
            let local = self.local.borrow();
            let key = view_key(&me.id);
            let digest = view_digest(&self.id, &identities, &secrets, local.token_pin);
            let known = local.path.is_some() && local.state.verified.get(&key) == Some(&digest);
            (key, (!known).then_some(digest))
        };
        let audit_key = self
            .existing_audit_key(&db, me, Some(&roster))?
            .ok_or_else(|| Error::Integrity(format!("the audit key of {}", me.name)))?;
        let fingerprinter = fingerprinter(&self.id, &audit_key);
        let mut granted: HashMap<[u8; 16], _> = db
            .granted_secrets(&me.id)?
            .into_iter()
            .map(|g| (g.secret_id, g))
            .collect();
        let now = crate::time::now();
        let mut targets = ScanTargets {
            labels: Vec::new(),
            values: Vec::new(),
            fingerprints: Vec::new(),
            fingerprinter,
            unfingerprinted: Vec::new(),
        };
        let mut keys = me.wrap_keys.borrow_mut();
        for s in &secrets {
            if digest.is_some() {
                trust::check_secret(
                    &self.id,
                    &roster,
                    &s.id,
                    (&s.name, &s.environment),
                    s.version,
                    &s.sealed_value,
                    &s.fingerprints,
                    &s.authority,
                    (&s.signed, &super::statements::Vouched::none()),
                )?;
            }
            self.check_fresh(s)?;
            // Labels of this secret only are searched: ten thousand
            // secrets must not cost a quadratic search.
            let first = targets.labels.len();
            let mut label = |version: i64| {
                let wanted = Wanted {
                    name: crate::model::label(&s.name, &s.environment),
                    version,
                    current: version == s.version,
                };
                match targets.labels[first..].iter().position(|l| *l == wanted) {
                    Some(at) => first + at,
                    None => {
                        targets.labels.push(wanted);
                        targets.labels.len() - 1
                    }
                }
            };
            let records = records(&s.fingerprints);
            let mut found = Vec::with_capacity(records.len() + 1);
            for r in &records {
                found.push((label(r.version), r.len, r.mac));
            }
            let current = granted
                .remove(&s.id)
                .filter(|g| g.grant_expires_at.is_none_or(|e| e > now));
            let mut value = None;
            if let Some(g) = current {
                let key = self.unwrap_data_key(&mut keys, me, &Wrapped::granted(&g))?;
                let opened = self.open_secret(s, &key)?;
                value = Some((label(s.version), opened));
            }
            targets.fingerprints.extend(found);
            targets.values.extend(value);
            if records.is_empty() {
                targets
                    .unfingerprinted
                    .push(crate::model::label(&s.name, &s.environment));
            }
        }
        drop(keys);
        if let Some(digest) = digest {
            let mut local = self.local.borrow_mut();
            if local.path.is_some() {
                local.state.verified.insert(view_key, digest);
                local.changed = true;
            }
        }
        self.save_local_state();
        Ok(targets)
    }
}

/// Where a clone keeps the digest of what `identity`'s scan verified: a
/// key of its own beside exec's (which are identity ids), that no
/// identity id can equal.
fn view_key(identity: &[u8; 16]) -> [u8; 16] {
    let mut h = FieldHasher::new("vault scan view key v1");
    h.field(identity);
    h.finish()[..16].try_into().expect("16 of 32 bytes")
}

/// One digest over every field a scan's trust check depends on: the
/// roster, and each secret's signed fields, fingerprints and writers. As
/// for exec, signatures are left out (a changed signature over unchanged
/// fields vouches for what was already verified).
fn view_digest(
    vault_id: &[u8; 16],
    identities: &[IdentityRow],
    secrets: &[SecretRow],
    token_pin: Option<[u8; 16]>,
) -> [u8; 32] {
    let mut h = FieldHasher::new("vault scan view v1");
    h.field(&token_pin.unwrap_or_default());
    super::exec_view::roster_fields(&mut h, vault_id, identities);
    for s in secrets {
        let a = &s.authority;
        h.field(&s.id)
            .field(s.name.as_bytes())
            .field(s.environment.as_bytes())
            .field(&s.version.to_be_bytes())
            .field(&s.sealed_value)
            .field(&s.fingerprints)
            .field(&a.creator)
            .field(&a.id_nonce)
            .field(&a.generation.to_be_bytes())
            .field(&a.managers)
            .field(&a.managers_epoch.to_be_bytes())
            .field(&a.managers_by)
            .field(&a.managers_sig)
            .field(&s.signed.signer);
    }
    h.finish()
}
