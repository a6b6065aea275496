//! Checking the audit log's chain: every entry's MAC, and that each entry
//! follows the one before it in sequence number and in the MAC it names.
//!
//! The first entry that fails is reported with what happened to it:
//!
//! - *edited*: its MAC does not cover what is stored;
//! - *deleted*: a sequence number is missing, or an entry names a
//!   predecessor that is no longer in the log (deleted, then the later
//!   entries renumbered by hand);
//! - *reordered*: an entry is authentic but sits in another entry's place.
//!
//! A log merged from two copies of the vault (`vault git merge`) forks:
//! both branches' entries follow the entry where the copies parted, and
//! each branch is checked the same way.
//!
//! Deleting the newest entries leaves a shorter chain that is intact: no
//! chain can show that (docs/SECURITY.md says so).

use std::collections::HashSet;

use super::audit::AUDIT_FORMAT;
use super::seal::audit_entry_input;
use super::{Unlocked, Vault};
use crate::crypto::{self, Key};
use crate::error::{Error, Result};
use crate::model::AuditSummary;
use crate::store::AuditRow;

impl Vault {
    /// Checks the whole log with `me`'s copy of the audit key. Reads only.
    pub fn verify_audit(&self, me: &Unlocked) -> Result<AuditSummary> {
        if !self.store.has_format(AUDIT_FORMAT)? {
            return Ok(AuditSummary {
                entries: 0,
                span: None,
            });
        }
        let db = self.store.read();
        let rows = db.audit_entries(None)?;
        let key = match self.existing_audit_key(&db, me, None)? {
            Some(key) => key,
            None if rows.is_empty() => {
                return Ok(AuditSummary {
                    entries: 0,
                    span: None,
                })
            }
            None => return Err(Error::Integrity(format!("the audit key of {}", me.name))),
        };
        let mut summary = Chain {
            vault_id: &self.id,
            key: &key,
            rows: &rows,
        }
        .check()?;
        // Then exec's entries not yet folded into the chain.
        for row in self.check_exec_log(&key, &self.store.read_exec_log()?)? {
            summary.entries += 1;
            summary.span = Some(summary.span.map_or((row.at, row.at), |(a, _)| (a, row.at)));
        }
        Ok(summary)
    }
}

struct Chain<'a> {
    vault_id: &'a [u8; 16],
    key: &'a Key,
    rows: &'a [AuditRow],
}

impl Chain<'_> {
    fn check(&self) -> Result<AuditSummary> {
        let macs: HashSet<&[u8]> = self.rows.iter().map(|r| &r.mac[..]).collect();
        // Rows come in (seq, time, id) order. A linear log has one entry per
        // sequence number. A log merged from two copies of the vault forks:
        // entries of both branches share sequence numbers, each naming an
        // entry of the number before. `parents` holds the entries of the
        // previous number, `group` those of the current one.
        let mut parents: Vec<&AuditRow> = Vec::new();
        let mut group: Vec<&AuditRow> = Vec::new();
        for row in self.rows {
            if group.first().is_some_and(|g| g.seq == row.seq) {
                if !self.authentic(row, row.seq) {
                    return Err(self.unauthentic(row, row.seq, &macs));
                }
                if !names_one_of(row, &parents) {
                    return Err(misplaced(row, row.seq, &macs));
                }
                group.push(row);
                continue;
            }
            if !group.is_empty() {
                parents = std::mem::take(&mut group);
            }
            let seq = parents.first().map_or(1, |b| b.seq + 1);
            if !self.authentic(row, row.seq) {
                return Err(self.unauthentic(row, seq, &macs));
            }
            if row.seq > seq {
                let missing = if row.seq == seq + 1 {
                    "it is missing".to_owned()
                } else {
                    format!("it and the next {} are missing", row.seq - seq - 1)
                };
                return Err(broken(
                    seq,
                    "deleted",
                    format!("{missing}; entry {} of {} follows", row.seq, when(row)),
                ));
            }
            if row.seq < seq {
                return Err(broken(
                    seq,
                    "reordered",
                    format!(
                        "entry {} of {} appears again after entry {}",
                        row.seq,
                        when(row),
                        seq - 1
                    ),
                ));
            }
            if !names_one_of(row, &parents) {
                return Err(misplaced(row, seq, &macs));
            }
            group.push(row);
        }
        Ok(AuditSummary {
            entries: self.rows.len(),
            span: self
                .rows
                .first()
                .zip(self.rows.last())
                .map(|(a, b)| (a.at, b.at)),
        })
    }

    fn authentic(&self, row: &AuditRow, seq: i64) -> bool {
        let input = audit_entry_input(self.vault_id, &AuditRow { seq, ..clone(row) });
        if is_merge_marker(row) {
            return crypto::digest(&input)[..] == row.mac[..];
        }
        crypto::verify_mac(self.key, &input, &row.mac).is_ok()
    }

    /// Why `row`, found where entry `seq` belongs, fails: written as
    /// another entry (reordered, or renumbered after a deletion), or edited.
    fn unauthentic(&self, row: &AuditRow, seq: i64, macs: &HashSet<&[u8]>) -> Error {
        let last = self.rows.iter().map(|r| r.seq).max().unwrap_or(0);
        let written_as = (1..=last.max(seq) + 1)
            .filter(|s| *s != row.seq)
            .find(|s| self.authentic(row, *s));
        match written_as {
            Some(s) if row.prev.as_deref().is_none_or(|p| macs.contains(p)) => broken(
                seq,
                "reordered",
                format!("the entry of {} was written as entry {s}", when(row)),
            ),
            Some(_) => broken(
                seq,
                "deleted",
                format!(
                    "it is missing and the entries after it were renumbered; the entry of {} follows",
                    when(row)
                ),
            ),
            None => broken(
                seq,
                "edited",
                format!(
                    "the entry of {} does not match its authentication code",
                    when(row)
                ),
            ),
        }
    }
}

/// The entry `vault git merge` adds where it joined two branches of the log.
/// It holds no key, so the entry's tag is an unkeyed digest; the next entry
/// written with the key names it, and so vouches for it.
pub const MERGE_IDENTITY: &str = "git";
pub const MERGE_ACTION: &str = "merge";

fn is_merge_marker(row: &AuditRow) -> bool {
    row.identity == MERGE_IDENTITY && row.action == MERGE_ACTION
}

/// The entry recording a merge: it follows `head` (the newest entry) and
/// names every other branch's newest entry (`others`) in its detail.
pub fn merge_entry(
    vault_id: &[u8; 16],
    head: &AuditRow,
    others: &[&AuditRow],
    at: i64,
) -> AuditRow {
    let heads: Vec<String> = others.iter().map(|o| hex::encode(&o.mac)).collect();
    let detail = serde_json::json!({ "joins": heads }).to_string();
    let mut row = AuditRow {
        id: crypto::random_bytes(),
        seq: head.seq + 1,
        at,
        identity: MERGE_IDENTITY.to_owned(),
        action: MERGE_ACTION.to_owned(),
        names: "[]".to_owned(),
        detail: Some(detail),
        prev: Some(head.mac.clone()),
        mac: Vec::new(),
    };
    row.mac = crypto::digest(&audit_entry_input(vault_id, &row)).to_vec();
    row
}

/// Whether `row` names one of `parents` as its predecessor (none for the
/// first entry).
fn names_one_of(row: &AuditRow, parents: &[&AuditRow]) -> bool {
    match &row.prev {
        None => parents.is_empty(),
        Some(prev) => parents.iter().any(|p| p.mac == *prev),
    }
}

/// An authentic entry whose predecessor is not where it belongs: still in
/// the log (reordered) or gone (deleted).
fn misplaced(row: &AuditRow, seq: i64, macs: &HashSet<&[u8]>) -> Error {
    if row.prev.as_deref().is_some_and(|p| macs.contains(p)) {
        broken(
            seq,
            "reordered",
            format!("the entry of {} follows another entry", when(row)),
        )
    } else {
        broken(
            seq,
            "deleted",
            format!("the entry before the one of {} is missing", when(row)),
        )
    }
}

fn when(row: &AuditRow) -> String {
    crate::time::format(row.at)
}

fn broken(seq: i64, kind: &'static str, detail: String) -> Error {
    Error::AuditBroken { seq, kind, detail }
}

fn clone(row: &AuditRow) -> AuditRow {
    AuditRow {
        id: row.id,
        seq: row.seq,
        at: row.at,
        identity: row.identity.clone(),
        action: row.action.clone(),
        names: row.names.clone(),
        detail: row.detail.clone(),
        prev: row.prev.clone(),
        mac: Vec::new(),
    }
}
