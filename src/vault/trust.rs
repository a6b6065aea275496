//! Who may write what: the roster of certified identities, the writers of
//! each secret, and the checks every reader makes before it accepts a row.
//!
//! - The **roster**: every identity row carries a certificate signed by the
//!   identity that added it; the chain ends at the root, whose certificate
//!   signs itself and whose signing key this clone pinned (or the access
//!   token carries). Only admins (the root among them) certify. An
//!   identity that changed its keys proves its current ones by its
//!   succession (`succession.rs`): the certificate covers its first keys,
//!   each handover is signed by the keys before it. A pin is any signing
//!   key of the root's chain, and moves forward to the newest.
//! - The **writers** of a secret: its creator (bound into the secret's id,
//!   so nobody can claim to have created an existing secret), every admin,
//!   and the managers that the creator or an admin listed in the secret's
//!   signed managers list.
//! - **Rows**: a secret row and each access row must be signed by one of
//!   the secret's writers at the secret's current generation; every change
//!   raises the generation and re-signs them all, so an old row put back
//!   beside new ones fails.
//! - **Agents** (a machine certified as a coding agent, until a time the
//!   certificate binds) are members that use and never write: no admin
//!   role, and never among a secret's writers, whatever a managers list
//!   or a secret's creator field says.
//! - **Freshness**: this clone remembers the newest generation and
//!   managers epoch it has seen of every secret (`trust_state`), and
//!   refuses a state older than that.
//!
//! Every check lives here; `seal.rs` says what each signature covers.

use std::collections::HashMap;

use super::seal::{
    certificate_input, managers_input, secret_id_for, secret_input, Form, SecretStatement,
};
use super::statements::Vouched;
use super::succession;
use crate::crypto::{self, Aad};
use crate::error::{Error, Result};
use crate::store::{Authority, IdentityRow, Signed};
use crate::trust_state::{Seen, TrustState};

pub(super) const ROLE_ADMIN: &str = "admin";
pub(super) const ROLE_MEMBER: &str = "member";

/// A certified identity.
pub(super) struct Member {
    pub name: String,
    /// Empty for an identity certified to receive only (a format 2 vault's
    /// other identities, after its owner's upgrade).
    pub sign: Vec<u8>,
    /// Its X25519 key, as its row holds it (what exec bundles are sealed
    /// between).
    pub public: Vec<u8>,
    pub admin: bool,
    /// A coding agent: it may use secrets, never write them.
    pub agent: bool,
    /// The pins of its signing keys, oldest first: one for an identity
    /// that never rekeyed, the last being `sign`'s.
    pub chain: Vec<[u8; 16]>,
}

/// Every identity of the vault whose certificate chains to the root.
pub(super) struct Roster {
    pub root: [u8; 16],
    pub root_fingerprint: [u8; 16],
    pub members: HashMap<[u8; 16], Member>,
}

/// The 16-byte pin of a root signing key: the first half of its SHA-256.
pub fn pin_of(sign_public: &[u8]) -> [u8; 16] {
    crypto::field_digest(sign_public)[..16]
        .try_into()
        .expect("16 of 32 bytes")
}

/// A pin as people compare it.
pub fn show_pin(pin: &[u8; 16]) -> String {
    let hex = hex::encode(pin);
    let groups: Vec<&str> = (0..hex.len()).step_by(4).map(|i| &hex[i..i + 4]).collect();
    format!("SHA256:{}", groups.join(":"))
}

/// Whether the file's identities carry certificates at all (a vault
/// upgraded from format 2 has none until its owner's first write).
pub(super) fn is_signed(rows: &[IdentityRow]) -> bool {
    rows.iter().any(|r| !r.cert.sig.is_empty())
}

/// Verifies every certificate, from the root down. Any identity whose
/// certificate does not chain to the root is an error naming it: a key
/// swapped in, a name or role edited, a row added by hand.
pub(super) fn verify_roster(vault_id: &[u8; 16], rows: &[IdentityRow]) -> Result<Roster> {
    let chains: HashMap<[u8; 16], Vec<[u8; 16]>> = rows
        .iter()
        .filter_map(|r| {
            let chain = succession::verify(vault_id, r)?;
            Some((r.id, chain.iter().map(|k| pin_of(k.sign)).collect()))
        })
        .collect();
    let roots: Vec<&IdentityRow> = rows
        .iter()
        .filter(|r| r.cert.certifier == r.id && r.cert.role == ROLE_ADMIN)
        .filter(|r| r.cert.agent_until.is_none() && chains.contains_key(&r.id))
        .filter(|r| {
            crypto::verify_signature(
                succession::first_keys(r).sign,
                &certificate_input(vault_id, r),
                &r.cert.sig,
            )
            .is_ok()
        })
        .collect();
    let root = match roots.as_slice() {
        [root] => *root,
        [] => {
            return Err(Error::Untrusted(
                "the vault has no root identity whose certificate verifies".into(),
            ))
        }
        _ => {
            let names: Vec<&str> = roots.iter().map(|r| r.name.as_str()).collect();
            return Err(Error::Untrusted(format!(
                "the vault has more than one root identity ({})",
                names.join(", ")
            )));
        }
    };
    let mut members = HashMap::new();
    let member = |row: &IdentityRow| Member {
        name: row.name.clone(),
        sign: row.cert.sign_public.clone(),
        public: row.public_key.clone(),
        admin: row.cert.role == ROLE_ADMIN && row.cert.agent_until.is_none(),
        agent: row.cert.agent_until.is_some(),
        chain: chains.get(&row.id).cloned().unwrap_or_default(),
    };
    members.insert(root.id, member(root));
    loop {
        let mut progress = false;
        for row in rows {
            if members.contains_key(&row.id) {
                continue;
            }
            let Ok(certifier) = <[u8; 16]>::try_from(&row.cert.certifier[..]) else {
                continue;
            };
            let Some(by) = members
                .get(&certifier)
                .filter(|m| m.admin && !m.sign.is_empty())
            else {
                continue;
            };
            let role_ok = match row.cert.agent_until {
                None => row.cert.role == ROLE_ADMIN || row.cert.role == ROLE_MEMBER,
                Some(_) => row.cert.role == ROLE_MEMBER && row.kind == "machine",
            };
            if role_ok
                && chains.contains_key(&row.id)
                && row.cert.certifier != row.id
                && crypto::verify_signature(
                    &by.sign,
                    &certificate_input(vault_id, row),
                    &row.cert.sig,
                )
                .is_ok()
            {
                members.insert(row.id, member(row));
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    if let Some(bad) = rows.iter().find(|r| !chains.contains_key(&r.id)) {
        return Err(Error::Untrusted(format!(
            "identity {}: its key succession does not verify (a key it handed over to was changed in the file)",
            bad.name
        )));
    }
    if let Some(bad) = rows.iter().find(|r| !members.contains_key(&r.id)) {
        return Err(Error::Untrusted(format!(
            "identity {}: its certificate does not verify (its keys, name or role were changed in the file, or it was added by no admin)",
            bad.name
        )));
    }
    Ok(Roster {
        root: root.id,
        root_fingerprint: pin_of(&root.cert.sign_public),
        members,
    })
}

impl Roster {
    pub fn name(&self, id: &[u8]) -> String {
        <[u8; 16]>::try_from(id)
            .ok()
            .and_then(|id| self.members.get(&id))
            .map_or_else(|| "an unknown identity".to_owned(), |m| m.name.clone())
    }

    pub fn is_admin(&self, id: &[u8; 16]) -> bool {
        self.members
            .get(id)
            .is_some_and(|m| m.admin && !m.sign.is_empty())
    }

    /// Checks the root against the pin this clone keeps (`state`) or the
    /// token carries; pins it when neither has one yet.
    ///
    /// A pin matches any signing key of the root's chain: the root rekeyed
    /// since, with a handover its pinned key signed. This clone's pin then
    /// moves forward to the current key (a token's cannot: it is text the
    /// token's holder keeps).
    pub fn check_pin(&self, state: &mut TrustState, token_pin: Option<[u8; 16]>) -> Result<bool> {
        let found = self.root_fingerprint;
        let chain = self
            .members
            .get(&self.root)
            .map_or(&[][..], |m| &m.chain[..]);
        if let Some(pin) = token_pin.filter(|p| !chain.contains(p)) {
            return Err(Error::RootChanged {
                found: show_pin(&found),
                pinned: show_pin(&pin),
                source_of_pin: "the access token",
            });
        }
        match state.root {
            Some(pin) if !chain.contains(&pin) => Err(Error::RootChanged {
                found: show_pin(&found),
                pinned: show_pin(&pin),
                source_of_pin: "this clone",
            }),
            Some(pin) if pin == found => Ok(false),
            _ => {
                state.root = Some(found);
                Ok(true)
            }
        }
    }

    /// Refuses an identity whose chain of keys does not hold, at the
    /// place this clone remembers, the key it last saw there: a handover
    /// forked from an older key (signed with an old passphrase), or an
    /// older copy of the file. Remembers the newest key of every identity
    /// that rekeyed; whether anything changed.
    pub fn check_keys(&self, state: &mut TrustState) -> Result<bool> {
        for (id, (at, pin)) in &state.keys {
            if let Some(m) = self.members.get(id) {
                if m.chain.get(*at) != Some(pin) {
                    return Err(Error::KeysForked(m.name.clone()));
                }
            }
        }
        let mut changed = false;
        for (id, m) in &self.members {
            let newest = (m.chain.len().saturating_sub(1), m.chain.last().copied());
            if let (at @ 1.., Some(pin)) = newest {
                if state.keys.get(id) != Some(&(at, pin)) {
                    state.keys.insert(*id, (at, pin));
                    changed = true;
                }
            }
        }
        Ok(changed)
    }
}

/// Who may write one secret.
pub(super) struct Writers {
    ids: Vec<[u8; 16]>,
    pub creator: Option<[u8; 16]>,
    pub managers: Vec<[u8; 16]>,
}

impl Writers {
    pub fn contains(&self, id: &[u8]) -> bool {
        self.ids.iter().any(|w| w[..] == *id)
    }

    /// The secret's anchors: its creator and the admins, who alone may
    /// change its managers list.
    pub fn is_anchor(&self, roster: &Roster, id: &[u8; 16]) -> bool {
        self.creator == Some(*id) || roster.is_admin(id)
    }
}

/// The writers of the secret `name` (`secret_id`, with `authority`).
pub(super) fn writers(
    vault_id: &[u8; 16],
    roster: &Roster,
    (secret_id, name): (&[u8; 16], &str),
    a: &Authority,
    vouched: &Vouched,
) -> Result<Writers> {
    let writes = |id: &[u8; 16]| roster.members.get(id).is_some_and(|m| !m.agent);
    let creator = <[u8; 16]>::try_from(&a.creator[..])
        .ok()
        .filter(|c| writes(c))
        .filter(|c| *c == roster.root || secret_id_for(c, &a.id_nonce) == *secret_id);
    let mut ids: Vec<[u8; 16]> = roster
        .members
        .iter()
        .filter(|(_, m)| m.admin)
        .map(|(id, _)| *id)
        .collect();
    ids.extend(creator);
    let mut managers = Vec::new();
    if !a.managers_sig.is_empty() || !a.managers.is_empty() {
        let by = <[u8; 16]>::try_from(&a.managers_by[..]).ok();
        let anchor = by.filter(|b| creator == Some(*b) || roster.is_admin(b));
        let signed = anchor
            .and_then(|b| roster.members.get(&b).map(|m| (b, m)))
            .is_some_and(|(b, m)| {
                let input = |_| managers_input(vault_id, secret_id, a.managers_epoch, &a.managers);
                verify_by(vouched, (&b, m), &input, &a.managers_sig)
            });
        if !signed || !a.managers.len().is_multiple_of(16) {
            return Err(Error::Untrusted(format!(
                "secret {name}: its managers list is not signed by its creator or an admin"
            )));
        }
        for id in a.managers.chunks(16) {
            let id: [u8; 16] = id.try_into().expect("16-byte chunks");
            managers.push(id);
            if writes(&id) {
                ids.push(id);
            }
        }
    }
    Ok(Writers {
        ids,
        creator,
        managers,
    })
}

/// Whether `member` (`id`) signed `input`: a verified statement of theirs
/// lists it (`statements.rs`), or `sig` is their signature on it.
fn verify_by(
    vouched: &Vouched,
    (id, member): (&[u8; 16], &Member),
    input: &impl Fn(Form) -> Aad,
    sig: &[u8],
) -> bool {
    vouched.vouches(id, input)
        || crypto::verify_signature(&member.sign, &input(Form::Signed), sig).is_ok()
}

/// Checks that `signed` is a signature on `input` by one of `writers`
/// (or vouched for by a statement of theirs); `what` names the row in the
/// error.
pub(super) fn check_signed(
    roster: &Roster,
    (writers, vouched): (&Writers, &Vouched),
    signed: &Signed,
    input: impl Fn(Form) -> Aad,
    what: impl FnOnce() -> String,
) -> Result<()> {
    let member = <[u8; 16]>::try_from(&signed.signer[..])
        .ok()
        .and_then(|id| roster.members.get(&id).map(|m| (id, m)));
    match member {
        None if signed.signer.is_empty() => {
            Err(Error::Untrusted(format!("{} is not signed", what())))
        }
        None => Err(Error::Untrusted(format!(
            "{} is signed by no identity of this vault",
            what()
        ))),
        Some((id, _)) if !writers.contains(&id) => Err(Error::Untrusted(format!(
            "{} was written by {}, who may not write it",
            what(),
            roster.name(&id)
        ))),
        Some((id, m)) if verify_by(vouched, (&id, m), &input, &signed.sig) => Ok(()),
        Some((_, m)) => Err(Error::Untrusted(format!(
            "{} does not match its signature by {} (it was changed in the file)",
            what(),
            m.name
        ))),
    }
}

/// Checks a secret row: its writers, and its signature by one of them.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_secret(
    vault_id: &[u8; 16],
    roster: &Roster,
    secret_id: &[u8; 16],
    (name, environment): (&str, &str),
    version: i64,
    sealed_value: &[u8],
    fingerprints: &[u8],
    authority: &Authority,
    (signed, vouched): (&Signed, &Vouched),
) -> Result<Writers> {
    let label = crate::model::label(name, environment);
    let writers = writers(vault_id, roster, (secret_id, &label), authority, vouched)?;
    let statement = SecretStatement {
        secret_id,
        creator: &authority.creator,
        id_nonce: &authority.id_nonce,
        name,
        environment,
        version,
        generation: authority.generation,
        sealed_value,
        fingerprints,
    };
    check_signed(
        roster,
        (&writers, vouched),
        signed,
        |form| secret_input(vault_id, &statement, form),
        || format!("the value of secret {label}"),
    )?;
    Ok(writers)
}

/// Refuses a secret state older than the newest this clone has seen, and
/// a name that now belongs to another secret (deleted and added again by
/// someone who could not rotate it); remembers the state otherwise.
pub(super) fn check_fresh(
    state: &mut TrustState,
    secret_id: &[u8; 16],
    name: &str,
    (generation, epoch): (i64, i64),
) -> Result<bool> {
    if let Some(seen) = state.seen(secret_id).cloned() {
        if generation < seen.generation || epoch < seen.epoch {
            return Err(Error::RolledBack(format!(
                "secret {name} (generation {generation} here, {} seen before)",
                seen.generation
            )));
        }
        if generation == seen.generation && epoch == seen.epoch && seen.name == name {
            return Ok(false);
        }
    } else if state.other_known_as(name, secret_id) {
        return Err(Error::Untrusted(format!(
            "secret {name} is not the secret this clone knew by that name: it was deleted and added again outside this clone"
        )));
    }
    state.see(
        *secret_id,
        Seen {
            generation,
            epoch,
            name: name.to_owned(),
        },
    );
    Ok(true)
}
