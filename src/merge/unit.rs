//! One secret with its access rows, merged as a unit.
//!
//! A secret's access rows wrap its data key and are bound to its version
//! (see `vault/seal.rs`), so they are only valid beside the secret row of
//! the side that wrote them. A rotation changes the secret row and every
//! access row together; merging them one by one could pair a new value with
//! an old key. These rules never combine rows of two different data keys,
//! and they never unwrap or re-wrap anything: the merge holds no key.

use std::collections::{BTreeMap, BTreeSet};

use crate::store::{AccessRow, SecretRow};

/// A secret and its access rows, by grantee identity id (one row per
/// (secret, identity), as the schema's unique key says).
#[derive(Clone, PartialEq, Eq)]
pub struct Unit {
    pub secret: SecretRow,
    pub access: BTreeMap<[u8; 16], AccessRow>,
}

/// Why a unit cannot be merged without a choice.
pub type Why = String;

/// Three-way merge of one secret. `None` means absent (not yet added, or
/// deleted).
pub fn merge(
    base: Option<&Unit>,
    ours: Option<&Unit>,
    theirs: Option<&Unit>,
) -> Result<Option<Unit>, Why> {
    if ours == theirs || theirs == base {
        return Ok(ours.cloned());
    }
    if ours == base {
        return Ok(theirs.cloned());
    }
    match (base, ours, theirs) {
        (Some(b), Some(o), Some(t)) => both_changed(b, o, t),
        (Some(b), None, Some(t)) => deleted_one_side(b, t, "ours", "theirs"),
        (Some(b), Some(o), None) => deleted_one_side(b, o, "theirs", "ours"),
        // The same random id added on both sides: only a copied file does
        // that. Equal grants and metadata are one change; anything else is
        // for the user.
        (None, Some(o), Some(t)) if same_state(o, t) => Ok(Some(o.clone())),
        _ => Err("added on both sides with different contents".into()),
    }
}

/// Deleted on one side, changed on the other: the deletion wins, unless
/// the other side rotated (a new value someone chose to keep).
fn deleted_one_side(
    b: &Unit,
    kept: &Unit,
    deleter: &str,
    keeper: &str,
) -> Result<Option<Unit>, Why> {
    if kept.secret.version != b.secret.version {
        return Err(format!("deleted in {deleter}, rotated in {keeper}"));
    }
    Ok(None)
}

fn both_changed(b: &Unit, o: &Unit, t: &Unit) -> Result<Option<Unit>, Why> {
    let rotated = |u: &Unit| u.secret.version != b.secret.version;
    match (rotated(o), rotated(t)) {
        (true, true) => Err("rotated on both sides".into()),
        (true, false) => rotated_one_side(b, o, t, "ours", "theirs").map(Some),
        (false, true) => rotated_one_side(b, t, o, "theirs", "ours").map(Some),
        (false, false) => same_key(b, o, t).map(Some),
    }
}

/// `r` rotated (new data key, new version); `x` did not. `r`'s value and
/// access rows are kept. Of `x`'s changes, revocations are applied (a
/// revoked identity loses the rotated value too, and the secret is marked
/// as needing rotation: on `r`'s branch the revoked identity was wrapped
/// the new key). A grant added or changed on `x` wraps the old data key
/// and cannot be carried over without unlocking: a conflict.
fn rotated_one_side(b: &Unit, r: &Unit, x: &Unit, rn: &str, xn: &str) -> Result<Unit, Why> {
    if x.secret.name != b.secret.name && x.secret.name != r.secret.name {
        return Err(format!(
            "rotated in {rn}, renamed to {} in {xn}",
            x.secret.name
        ));
    }
    for (id, row) in &x.access {
        if !b.access.get(id).is_some_and(|base| same_grant(base, row)) {
            return Err(format!(
                "rotated in {rn}, access granted or changed in {xn}"
            ));
        }
    }
    let mut merged = r.clone();
    metadata(&b.secret, &r.secret, &x.secret, &mut merged.secret)?;
    let mut revoked = false;
    for id in b.access.keys().filter(|id| !x.access.contains_key(*id)) {
        merged.access.remove(id);
        revoked = true;
    }
    if revoked || (x.secret.needs_rotation && !b.secret.needs_rotation) {
        merged.secret.needs_rotation = true;
    }
    Ok(merged)
}

/// Neither side rotated: both hold the base's data key at the base's
/// version, so rows of either side are valid together.
fn same_key(b: &Unit, o: &Unit, t: &Unit) -> Result<Unit, Why> {
    let mut merged = o.clone();
    // The name and the sealed value go together: the value's associated
    // data binds the name, so a rename re-seals it.
    let (bs, os, ts) = (&b.secret, &o.secret, &t.secret);
    if os.name != ts.name {
        if os.name == bs.name {
            merged.secret.name = ts.name.clone();
            merged.secret.sealed_value = ts.sealed_value.clone();
        } else if ts.name != bs.name {
            return Err(format!(
                "renamed to {} in ours and to {} in theirs",
                os.name, ts.name
            ));
        }
    }
    metadata(bs, os, ts, &mut merged.secret)?;
    merged.secret.needs_rotation = pick(&bs.needs_rotation, &os.needs_rotation, &ts.needs_rotation)
        .copied()
        .unwrap_or(true);
    merged.access.clear();
    let ids: BTreeSet<&[u8; 16]> = b
        .access
        .keys()
        .chain(o.access.keys())
        .chain(t.access.keys())
        .collect();
    for id in ids {
        let (ba, oa, ta) = (b.access.get(id), o.access.get(id), t.access.get(id));
        let row = match pick(&ba, &oa, &ta) {
            Some(row) => row.cloned(),
            // Both sides changed this grant. The same level and expiry is
            // one change made twice; a revocation on either side wins over
            // a changed grant on the other.
            None => match (oa, ta) {
                (Some(o), Some(t)) if same_grant(o, t) => Some(o.clone()),
                (Some(_), Some(_)) => {
                    return Err("access of one identity changed differently on both sides".into())
                }
                _ => {
                    merged.secret.needs_rotation = true;
                    None
                }
            },
        };
        if let Some(row) = row {
            merged.access.insert(*id, row);
        }
    }
    Ok(merged)
}

/// Plaintext fields that no rotation or rename owns: each taken from the
/// side that changed it.
fn metadata(b: &SecretRow, o: &SecretRow, t: &SecretRow, into: &mut SecretRow) -> Result<(), Why> {
    let clash = |field: &str| format!("{field} changed differently on both sides");
    into.service = pick(&b.service, &o.service, &t.service)
        .cloned()
        .ok_or_else(|| clash("service"))?;
    into.description = pick(&b.description, &o.description, &t.description)
        .cloned()
        .ok_or_else(|| clash("description"))?;
    into.rotate_every = pick(&b.rotate_every, &o.rotate_every, &t.rotate_every)
        .copied()
        .ok_or_else(|| clash("rotation interval"))?;
    into.expires_at = pick(&b.expires_at, &o.expires_at, &t.expires_at)
        .copied()
        .ok_or_else(|| clash("expiry"))?;
    Ok(())
}

/// The three-way choice for one value: the side that changed it, or
/// `None` when both changed it differently.
pub fn pick<'a, T: PartialEq>(base: &'a T, ours: &'a T, theirs: &'a T) -> Option<&'a T> {
    if ours == theirs || theirs == base {
        Some(ours)
    } else if ours == base {
        Some(theirs)
    } else {
        None
    }
}

/// Two grants that say the same thing (identity, level, expiry), whatever
/// their ids, writers and ciphertexts.
fn same_grant(a: &AccessRow, b: &AccessRow) -> bool {
    a.identity_id == b.identity_id && a.level == b.level && a.expires_at == b.expires_at
}

fn same_state(a: &Unit, b: &Unit) -> bool {
    a.secret == b.secret
        && a.access.len() == b.access.len()
        && a.access
            .iter()
            .all(|(id, row)| b.access.get(id).is_some_and(|other| same_grant(row, other)))
}
