//! Statements (format 8) in a merge: rows like any other, kept when a
//! merged row names them.
//!
//! A statement vouches for digests of inputs its signer signed, so any
//! statement of either side may stand beside any merged row: the merge
//! keeps the union, by id, of the statements the merged rows name and
//! drops the rest (as a write does). The same random id with different
//! bytes on two sides is no honest history: a conflict, settled by
//! choosing a side as for any other.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::unit::Unit;
use super::{Conflict, Side, Subject};
use crate::store::{Snapshot, StatementRow};

/// The statements the rows of `units` name, from base, ours and theirs.
pub(super) fn merge(
    (base, ours, theirs): (Option<&Snapshot>, &Snapshot, &Snapshot),
    units: &[Unit],
    forced: &HashMap<[u8; 16], Side>,
    conflicts: &mut Vec<Conflict>,
) -> Vec<StatementRow> {
    let named: BTreeSet<&[u8]> = units
        .iter()
        .flat_map(|u| {
            let access = u.access.values().map(|a| &a.signed.stmt[..]);
            std::iter::once(&u.secret.signed.stmt[..]).chain(access)
        })
        .collect();
    let by_id = |s: Option<&Snapshot>| -> BTreeMap<[u8; 16], StatementRow> {
        s.map(|s| s.statements.iter().map(|r| (r.id, r.clone())).collect())
            .unwrap_or_default()
    };
    let (b, o, t) = (by_id(base), by_id(Some(ours)), by_id(Some(theirs)));
    let mut merged = Vec::new();
    let ids: BTreeSet<&[u8; 16]> = b.keys().chain(o.keys()).chain(t.keys()).collect();
    for id in ids.into_iter().filter(|id| named.contains(&id[..])) {
        let (oi, ti) = (o.get(id), t.get(id));
        let row = match (forced.get(id), oi, ti) {
            (Some(Side::Ours), Some(o), _) | (Some(Side::Theirs), _, Some(o)) => o,
            (_, Some(o), Some(t)) if o != t => {
                let name = hex::encode(id);
                conflicts.push(Conflict {
                    subject: Subject::Statement,
                    name: name.clone(),
                    why: "a statement with the same id differs on the two sides".into(),
                    names: BTreeSet::from([name]),
                    ids: vec![*id],
                });
                continue;
            }
            (_, Some(row), _) | (_, None, Some(row)) => row,
            (_, None, None) => &b[id],
        };
        merged.push(row.clone());
    }
    merged
}
