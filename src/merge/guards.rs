//! What a merge refuses to take from a side although no row conflicts:
//! an identity's keys or name changed by hand (not a rekey), a secret
//! older than the common ancestor (an old copy put back), a merged
//! secret that is not rows one side signed together, and one signed with
//! keys the other side's rekey replaced.

use super::unit::Unit;
use crate::store::{IdentityRow, SecretRow, Snapshot};

/// An existing identity whose keys, name or certificate one side changed
/// by hand (a key swapped in to receive what is granted next): vault
/// never changes a name, and changes keys only by a rekey, whose
/// succession goes on from the base's keys with handovers that verify
/// (`vault::keys_extend`).
pub(super) fn keys_changed(
    vault_id: &[u8; 16],
    base: Option<&IdentityRow>,
    ours: Option<&IdentityRow>,
    theirs: Option<&IdentityRow>,
) -> Option<String> {
    let base = base?;
    let changed = |side: Option<&IdentityRow>| {
        side.is_some_and(|s| {
            let keys = s.public_key != base.public_key
                || (!base.cert.sig.is_empty() && s.cert.sign_public != base.cert.sign_public);
            s.name != base.name || (keys && !crate::vault::keys_extend(vault_id, base, s))
        })
    };
    match (changed(ours), changed(theirs)) {
        (true, _) => Some("our side changed its keys or name, which vault never does".into()),
        (_, true) => Some("their side changed its keys or name, which vault never does".into()),
        _ => None,
    }
}

/// A side that holds an older state of a secret than the base: an old
/// copy put back on a branch.
pub(super) fn went_back(
    base: Option<&Unit>,
    ours: Option<&Unit>,
    theirs: Option<&Unit>,
) -> Option<String> {
    let base = &base?.secret;
    let older = |side: Option<&Unit>| {
        side.is_some_and(|u| {
            u.secret.version < base.version
                || u.secret.authority.generation < base.authority.generation
                || u.secret.authority.managers_epoch < base.authority.managers_epoch
        })
    };
    match (older(ours), older(theirs)) {
        (true, _) => Some("our side holds an older state of it than the common ancestor".into()),
        (_, true) => Some("their side holds an older state of it than the common ancestor".into()),
        _ => None,
    }
}

/// Whether a merged secret is rows one side signed together: its signed
/// fields and every access row as one source wrote them. The merge holds
/// no key, so a mix of two sides' rows could never verify.
pub(super) fn signed_as_one(merged: &Unit, sources: [Option<&Unit>; 3]) -> bool {
    let signed = |a: &SecretRow, b: &SecretRow| {
        a.id == b.id
            && a.name == b.name
            && a.environment == b.environment
            && a.version == b.version
            && a.sealed_value == b.sealed_value
            && a.fingerprints == b.fingerprints
            && a.authority == b.authority
            && a.signed == b.signed
    };
    sources.into_iter().flatten().any(|source| {
        signed(&merged.secret, &source.secret)
            && merged
                .access
                .iter()
                .all(|(who, row)| source.access.get(who) == Some(row))
    })
}

/// A merged secret one of whose signatures was made, on the side it comes
/// from, with keys the merged identity no longer has: a side signed it
/// before the other side's `passwd --rekey` of its signer, so it could
/// not verify after the merge. `sources` are the base, ours and theirs
/// with their version of the secret; `identities` the merged ones.
pub(super) fn signed_with_replaced_keys(
    merged: &Unit,
    sources: [(Option<&Unit>, Option<&Snapshot>); 3],
    identities: &[IdentityRow],
) -> Option<String> {
    let key_in = |rows: &[IdentityRow], id: &[u8]| {
        rows.iter()
            .find(|i| i.id[..] == *id)
            .map(|i| i.cert.sign_public.clone())
    };
    for (signer, sig) in signatures(merged) {
        let Some(now) = key_in(identities, signer) else {
            continue;
        };
        let from: Vec<(usize, &Snapshot)> = sources
            .iter()
            .enumerate()
            .filter_map(|(n, (u, s))| Some((n, (*u)?, (*s)?)))
            .filter(|(_, u, _)| signatures(u).contains(&(signer, sig)))
            .map(|(n, _, s)| (n, s))
            .collect();
        if from
            .iter()
            .any(|(_, s)| key_in(&s.identities, signer).as_ref() == Some(&now))
        {
            continue;
        }
        let (side, other) = match from.iter().find(|(n, _)| *n != 0) {
            Some((1, _)) => ("our side", "theirs"),
            _ => ("their side", "ours"),
        };
        let name = identities
            .iter()
            .find(|i| i.id[..] == *signer)
            .map_or("", |i| i.name.as_str());
        return Some(format!(
            "{side} signed it with keys {name} replaced on the other side (passwd --rekey): keep the other side's (--{other}) and make the change again"
        ));
    }
    None
}

/// Every signature over a secret's rows: (signer, signature).
fn signatures(u: &Unit) -> Vec<(&[u8], &[u8])> {
    let a = &u.secret.authority;
    let mut all = vec![
        (&u.secret.signed.signer[..], &u.secret.signed.sig[..]),
        (&a.managers_by[..], &a.managers_sig[..]),
    ];
    all.extend(
        u.access
            .values()
            .map(|r| (&r.signed.signer[..], &r.signed.sig[..])),
    );
    all.retain(|(signer, _)| !signer.is_empty());
    all
}
