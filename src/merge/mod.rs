//! Three-way merge of vault files, row by row, for git's merge driver.
//!
//! Every row that must survive a merge has a random 128-bit id, so the
//! three versions git hands over (base, ours, theirs) line up by id with no
//! guessing. Identities merge row by row; a secret merges together with its
//! access rows (`unit.rs`), because those are bound to its version. Nothing
//! here unlocks, decrypts or re-wraps: every row of the result is a row one
//! side wrote, beside the rows it was written with, so the result passes the
//! same checks as any vault. What cannot be merged that way is a
//! [`Conflict`], which the user settles by choosing a side for it.
//!
//! Depends on `store` (rows, [`Snapshot`]) only. The audit log of format 2
//! will merge here too: see [`merge_with`].

mod guards;
mod statements;
mod text;
mod unit;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::store::{AccessRow, AuditKeyRow, AuditRow, BundleRow, IdentityRow, SecretRow, Snapshot};
use guards::{keys_changed, signed_as_one, signed_with_replaced_keys, went_back};
use unit::Unit;

pub use text::render as text_form;

/// Replaces `target` with a vault file holding `merged`, atomically (a new
/// file beside it, mode 0600, renamed over it).
pub fn write(target: &std::path::Path, merged: &Snapshot) -> crate::error::Result<()> {
    crate::store::replace_with(target, merged)
}

/// One side of a merge, as git names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Ours,
    Theirs,
}

/// What a conflict is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    Secret,
    Identity,
    Statement,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Secret => "secret",
            Subject::Identity => "identity",
            Subject::Statement => "statement",
        }
    }
}

/// A secret or identity that needs the user's choice of a side.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub subject: Subject,
    /// The name to show: ours, else theirs, else the base's.
    pub name: String,
    pub why: String,
    /// Every name the rows had on any side: any of them selects it.
    names: BTreeSet<String>,
    /// The rows to take from the chosen side.
    ids: Vec<[u8; 16]>,
}

impl Conflict {
    /// Whether the user's `name` selects this conflict.
    pub fn is_named(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// The outcome: a merged vault, or what stands in the way.
pub enum Merge {
    Clean(Snapshot),
    Conflicts(Vec<Conflict>),
}

/// The two sides are copies of different vaults.
#[derive(Debug)]
pub struct DifferentVaults;

/// Why [`resolve`] did not merge.
pub enum Refused {
    DifferentVaults,
    /// Names that select no conflict, and the conflicts there are.
    NotInConflict {
        unknown: Vec<String>,
        conflicts: Vec<Conflict>,
    },
}

/// Merges `ours` and `theirs`, which changed apart from `base` (`None`
/// when git found no common ancestor).
pub fn merge(
    base: Option<&Snapshot>,
    ours: &Snapshot,
    theirs: &Snapshot,
) -> Result<Merge, DifferentVaults> {
    merge_with(base, ours, theirs, &HashMap::new())
}

/// Merges as [`merge`], taking the chosen side wholesale for the rows of
/// each conflict that `names` selects. Returns the names that select no
/// conflict of the plain merge, if any, instead of merging.
///
/// The result may still hold conflicts: those the names did not select.
pub fn resolve(
    base: Option<&Snapshot>,
    ours: &Snapshot,
    theirs: &Snapshot,
    names: &[String],
    side: Side,
) -> Result<Merge, Refused> {
    let plain = merge(base, ours, theirs).map_err(|_| Refused::DifferentVaults)?;
    let conflicts = match plain {
        Merge::Clean(_) => Vec::new(),
        Merge::Conflicts(c) => c,
    };
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| !conflicts.iter().any(|c| c.is_named(n)))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(Refused::NotInConflict { unknown, conflicts });
    }
    let forced: HashMap<[u8; 16], Side> = conflicts
        .iter()
        .filter(|c| names.iter().any(|n| c.is_named(n)))
        .flat_map(|c| c.ids.iter().map(|id| (*id, side)))
        .collect();
    merge_with(base, ours, theirs, &forced).map_err(|_| Refused::DifferentVaults)
}

/// The merge proper. `forced` takes one side's state for a row id.
///
/// The audit log (format 2) is merged at the end, once the merged rows are
/// known and no conflict remains: the union of both sides' entries by id
/// (entries are append-only, so none can conflict), then one `merge` entry
/// joining the branches' newest entries. The driver holds no key, so that
/// entry's tag is an unkeyed digest; the next keyed entry vouches for it.
fn merge_with(
    base: Option<&Snapshot>,
    ours: &Snapshot,
    theirs: &Snapshot,
    forced: &HashMap<[u8; 16], Side>,
) -> Result<Merge, DifferentVaults> {
    if ours.vault.id != theirs.vault.id || base.is_some_and(|b| b.vault.id != ours.vault.id) {
        return Err(DifferentVaults);
    }
    let mut conflicts = Vec::new();
    let identities = merge_identities(base, ours, theirs, forced, &mut conflicts);
    let sides = (base, ours, theirs, &identities[..]);
    let mut secrets = merge_secrets(sides, forced, &mut conflicts);
    name_clashes(
        Subject::Identity,
        identities.iter().map(|i| (i.id, i.name.clone())),
        [base, Some(ours), Some(theirs)].map(|s| s.map(|s| &s.identities[..])),
        |i: &IdentityRow| (i.id, i.name.clone()),
        &mut conflicts,
    );
    // A name is one per environment: secrets clash on (name, environment),
    // so `K (dev)` added on one side and `K (prod)` on the other are two.
    let label = |s: &SecretRow| crate::model::label(&s.name, &s.environment);
    name_clashes(
        Subject::Secret,
        secrets.iter().map(|u| (u.secret.id, label(&u.secret))),
        [base, Some(ours), Some(theirs)].map(|s| s.map(|s| &s.secrets[..])),
        |s: &SecretRow| (s.id, label(s)),
        &mut conflicts,
    );
    let named = statements::merge((base, ours, theirs), &secrets, forced, &mut conflicts);
    if !conflicts.is_empty() {
        conflicts.sort_by(|a, b| (a.subject, &a.name).cmp(&(b.subject, &b.name)));
        return Ok(Merge::Conflicts(conflicts));
    }
    drop_orphaned_access(base, &identities, &mut secrets);
    let vault = ours.vault.clone();
    let default = unit::pick(
        &base.map_or(vault.default_identity, |b| b.vault.default_identity),
        &ours.vault.default_identity,
        &theirs.vault.default_identity,
    )
    .copied()
    .flatten();
    let present = |id: &Option<[u8; 16]>| id.filter(|id| identities.iter().any(|i| i.id == *id));
    let default_identity = present(&default)
        .or_else(|| present(&ours.vault.default_identity))
        .or_else(|| present(&theirs.vault.default_identity));
    let mut access: Vec<AccessRow> = Vec::new();
    let mut secret_rows = Vec::with_capacity(secrets.len());
    for u in secrets {
        access.extend(u.access.into_values());
        secret_rows.push(u.secret);
    }
    let (audit, audit_keys) = merge_audit(base, ours, theirs, &identities);
    let bundles = merge_bundles(ours, theirs, &identities);
    Ok(Merge::Clean(Snapshot {
        vault: crate::store::VaultRow {
            default_identity,
            ..vault
        },
        identities,
        secrets: secret_rows,
        access,
        audit,
        audit_keys,
        statements: named,
        bundles,
    }))
}

/// Exec bundles are an accelerator, never a source of truth: the merge
/// keeps ours for each (writer, grantee), else theirs, for identities the
/// merge keeps. An entry whose rows the merge changed no longer matches
/// them, and exec reads those rows instead (`vault/bundles/`); the
/// writer's next write renews it.
fn merge_bundles(ours: &Snapshot, theirs: &Snapshot, identities: &[IdentityRow]) -> Vec<BundleRow> {
    let kept = |id: &[u8; 16]| identities.iter().any(|i| i.id == *id);
    let mut bundles: BTreeMap<([u8; 16], [u8; 16]), BundleRow> = BTreeMap::new();
    for b in theirs.bundles.iter().chain(&ours.bundles) {
        if kept(&b.writer) && kept(&b.grantee) {
            bundles.insert((b.writer, b.grantee), b.clone());
        }
    }
    bundles.into_values().collect()
}

/// The audit log is append-only: the merge keeps every entry of every side
/// (by id), so the chain forks where the branches parted and `audit verify`
/// checks both branches. Each remaining identity keeps its wrapped copy of
/// the audit key (ours when both sides wrapped one).
fn merge_audit(
    base: Option<&Snapshot>,
    ours: &Snapshot,
    theirs: &Snapshot,
    identities: &[IdentityRow],
) -> (Vec<AuditRow>, Vec<AuditKeyRow>) {
    let sides = [Some(ours), Some(theirs), base];
    let mut entries: BTreeMap<[u8; 16], AuditRow> = BTreeMap::new();
    let mut keys: BTreeMap<[u8; 16], AuditKeyRow> = BTreeMap::new();
    for side in sides.into_iter().flatten() {
        for entry in &side.audit {
            entries.entry(entry.id).or_insert_with(|| entry.clone());
        }
        for key in &side.audit_keys {
            let present = identities.iter().any(|i| i.id == key.identity_id);
            if present {
                keys.entry(key.identity_id).or_insert_with(|| key.clone());
            }
        }
    }
    // A side that wrapped an identity's copy again since the base (a
    // rekey) wins over a side that left it as it was.
    fn copy<'a>(s: Option<&'a Snapshot>, id: &[u8; 16]) -> Option<&'a AuditKeyRow> {
        s.and_then(|s| s.audit_keys.iter().find(|k| k.identity_id == *id))
    }
    for (id, key) in keys.iter_mut() {
        let (b, o, t) = (copy(base, id), copy(Some(ours), id), copy(Some(theirs), id));
        if let (Some(t), true) = (t, o == b && t != b) {
            *key = t.clone();
        }
    }
    let mut audit: Vec<AuditRow> = entries.into_values().collect();
    audit.sort_by_key(|a| (a.seq, a.at, a.id));
    // Where both sides wrote entries since they parted, the log now has
    // several newest entries (named by no other): join them with a merge
    // entry, which later entries follow.
    let named: BTreeSet<&[u8]> = audit.iter().filter_map(|a| a.prev.as_deref()).collect();
    let tips: Vec<&AuditRow> = audit
        .iter()
        .filter(|a| !named.contains(&a.mac[..]))
        .collect();
    if let Some((head, others)) = tips.split_last().filter(|(_, others)| !others.is_empty()) {
        let entry = crate::vault::merge_entry(&ours.vault.id, head, others, crate::time::now());
        audit.push(entry);
    }
    (audit, keys.into_values().collect())
}

fn merge_identities(
    base: Option<&Snapshot>,
    ours: &Snapshot,
    theirs: &Snapshot,
    forced: &HashMap<[u8; 16], Side>,
    conflicts: &mut Vec<Conflict>,
) -> Vec<IdentityRow> {
    let by_id = |s: Option<&Snapshot>| -> BTreeMap<[u8; 16], IdentityRow> {
        s.map(|s| s.identities.iter().map(|i| (i.id, i.clone())).collect())
            .unwrap_or_default()
    };
    let (b, o, t) = (by_id(base), by_id(Some(ours)), by_id(Some(theirs)));
    let ids: BTreeSet<&[u8; 16]> = b.keys().chain(o.keys()).chain(t.keys()).collect();
    let mut merged = Vec::new();
    for id in ids {
        let (bi, oi, ti) = (b.get(id), o.get(id), t.get(id));
        if let (None, Some(why)) = (forced.get(id), keys_changed(&ours.vault.id, bi, oi, ti)) {
            conflicts.push(identity_conflict(id, [bi, oi, ti], why));
            continue;
        }
        let row = match forced.get(id) {
            Some(Side::Ours) => oi,
            Some(Side::Theirs) => ti,
            None => match unit::pick(&bi, &oi, &ti) {
                Some(row) => *row,
                // Removed on one side, changed (a passphrase change) on
                // the other: the removal wins, as a revocation does.
                None if oi.is_none() || ti.is_none() => None,
                None => {
                    let why = "changed on both sides (a passphrase or token changed twice)";
                    conflicts.push(identity_conflict(id, [bi, oi, ti], why.into()));
                    continue;
                }
            },
        };
        merged.extend(row.cloned());
    }
    merged
}

/// A conflict over the identity `id`, as base, ours and theirs hold it.
fn identity_conflict(id: &[u8; 16], sides: [Option<&IdentityRow>; 3], why: String) -> Conflict {
    let names: BTreeSet<String> = sides
        .into_iter()
        .flatten()
        .map(|i| i.name.clone())
        .collect();
    let [_, ours, theirs] = sides;
    Conflict {
        subject: Subject::Identity,
        name: ours.or(theirs).map(|i| i.name.clone()).unwrap_or_default(),
        why,
        names,
        ids: vec![*id],
    }
}

fn units(s: Option<&Snapshot>) -> BTreeMap<[u8; 16], Unit> {
    let Some(s) = s else {
        return BTreeMap::new();
    };
    let mut units: BTreeMap<[u8; 16], Unit> = s
        .secrets
        .iter()
        .map(|secret| {
            let unit = Unit {
                secret: secret.clone(),
                access: BTreeMap::new(),
            };
            (secret.id, unit)
        })
        .collect();
    for row in &s.access {
        if let Some(unit) = units.get_mut(&row.secret_id) {
            unit.access.insert(row.identity_id, row.clone());
        }
    }
    units
}

/// The base, ours, theirs and the merged identities.
type Sides<'a> = (
    Option<&'a Snapshot>,
    &'a Snapshot,
    &'a Snapshot,
    &'a [IdentityRow],
);

fn merge_secrets(
    (base, ours, theirs, identities): Sides<'_>,
    forced: &HashMap<[u8; 16], Side>,
    conflicts: &mut Vec<Conflict>,
) -> Vec<Unit> {
    let (b, o, t) = (units(base), units(Some(ours)), units(Some(theirs)));
    let ids: BTreeSet<&[u8; 16]> = b.keys().chain(o.keys()).chain(t.keys()).collect();
    let mut merged = Vec::new();
    for id in ids {
        let (bu, ou, tu) = (b.get(id), o.get(id), t.get(id));
        let result = match forced.get(id) {
            Some(Side::Ours) => Ok(ou.cloned()),
            Some(Side::Theirs) => Ok(tu.cloned()),
            None => match went_back(bu, ou, tu) {
                Some(why) => Err(why),
                None => unit::merge(bu, ou, tu).and_then(|unit| match unit {
                    Some(u) if !signed_as_one(&u, [bu, ou, tu]) => Err(
                        "changed on both sides in ways no single writer signed: choose one side"
                            .into(),
                    ),
                    Some(u) => {
                        let sources = [(bu, base), (ou, Some(ours)), (tu, Some(theirs))];
                        match signed_with_replaced_keys(&u, sources, identities) {
                            Some(why) => Err(why),
                            None => Ok(Some(u)),
                        }
                    }
                    None => Ok(None),
                }),
            },
        };
        match result {
            Ok(unit) => merged.extend(unit),
            Err(why) => {
                let names: BTreeSet<String> = [bu, ou, tu]
                    .into_iter()
                    .flatten()
                    .map(|u| u.secret.name.clone())
                    .collect();
                conflicts.push(Conflict {
                    subject: Subject::Secret,
                    name: ou
                        .or(tu)
                        .or(bu)
                        .map(|u| u.secret.name.clone())
                        .unwrap_or_default(),
                    why,
                    names,
                    ids: vec![*id],
                });
            }
        }
    }
    merged
}

/// Two different rows that would end up with one name (a secret added on
/// both sides under one name, or renamed onto a name the other side
/// added): a conflict for that name, settled by taking one side's rows.
fn name_clashes<'a, R: 'a>(
    subject: Subject,
    merged: impl Iterator<Item = ([u8; 16], String)>,
    sides: [Option<&'a [R]>; 3],
    key: impl Fn(&'a R) -> ([u8; 16], String),
    conflicts: &mut Vec<Conflict>,
) {
    let mut by_name: BTreeMap<String, Vec<[u8; 16]>> = BTreeMap::new();
    for (id, name) in merged {
        by_name.entry(name).or_default().push(id);
    }
    for (name, ids) in by_name.into_iter().filter(|(_, ids)| ids.len() > 1) {
        let mut names: BTreeSet<String> = BTreeSet::from([name.clone()]);
        for rows in sides.iter().flatten() {
            names.extend(
                rows.iter()
                    .map(&key)
                    .filter(|(id, _)| ids.contains(id))
                    .map(|(_, n)| n),
            );
        }
        // `vault git resolve K` selects `K (prod)` too.
        let plain: Vec<String> = names
            .iter()
            .filter_map(|n| n.split_once(" (").map(|(n, _)| n.to_owned()))
            .collect();
        names.extend(plain);
        conflicts.push(Conflict {
            subject,
            name,
            why: format!("two different {}s have this name", subject.as_str()),
            names,
            ids,
        });
    }
}

/// Access rows whose identity is gone from the merged vault (removed on
/// one side) go too. If such a row is not the base's (a grant or a
/// rotation on the other side gave the removed identity something new),
/// the secret is marked as needing rotation.
fn drop_orphaned_access(base: Option<&Snapshot>, identities: &[IdentityRow], units: &mut [Unit]) {
    let present: BTreeSet<[u8; 16]> = identities.iter().map(|i| i.id).collect();
    let base_rows: &[AccessRow] = base.map(|b| &b.access[..]).unwrap_or_default();
    for unit in units {
        let gone: Vec<[u8; 16]> = unit
            .access
            .keys()
            .filter(|id| !present.contains(*id))
            .copied()
            .collect();
        for id in gone {
            if let Some(row) = unit.access.remove(&id) {
                if !base_rows.contains(&row) {
                    unit.secret.needs_rotation = true;
                }
            }
        }
    }
}
