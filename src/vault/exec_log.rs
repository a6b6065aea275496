//! exec's audit entries on their way into the log.
//!
//! `vault exec` runs before every script, and a write to the vault file
//! costs a commit and a checkpoint, several fsyncs. So exec appends its
//! entry as one JSON line to the exec log beside the vault (`store::exec_log`),
//! with a MAC under the audit key over everything the entry says (label
//! `exec-log`, the vault id, entry id, time, identity, action, names,
//! detail) and the MAC of the line before it (none for the first line of
//! a log), so that swapping, moving or removing lines is detected as in
//! the audit chain. The next command that writes the vault folds the lines into the
//! audit log in its own transaction: each MAC is checked, each entry gets
//! its place in the chain, and an entry already recorded (a fold whose
//! commit landed but whose removal of the file did not) is skipped by id.
//! `vault audit` shows pending entries after the chain, and `audit verify`
//! checks them too.
//!
//! A line that fails its MAC or does not name the line before it stops the
//! fold, and with it every write, until someone looks: `audit verify`
//! names the line. An unfinished last line (a power cut mid-append) is the
//! one kind of damage that is dropped. Lines written before the chain
//! (no `v`) are checked by their own MAC and name no predecessor.

use serde::{Deserialize, Serialize};

use super::seal::{exec_log_chained_input, exec_log_input};
use super::Vault;
use crate::crypto::{self, Key};
use crate::error::{Error, Result};
use crate::store::{AuditRow, Db, TakenExecLog};

/// Past this size exec folds the log itself, so that a vault only ever
/// exec'd (a CI runner's) does not grow it without end.
const FOLD_AT_BYTES: u64 = 256 * 1024;

/// The layout of a chained line (`v`); 0 for lines written before it.
const CHAINED: u8 = 1;
/// A chained line that carries the digest of its names and detail, and
/// may leave both out when they are the line before's.
const COMPACT: u8 = 2;

#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(default)]
    v: u8,
    /// The MAC of the line before, hex; none for a log's first line.
    #[serde(default)]
    prev: Option<String>,
    id: String,
    at: i64,
    identity: String,
    action: String,
    /// Hex digest of the names and detail (layout 2); both are left out
    /// when the line before has the same digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    same: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    names: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    mac: String,
}

impl Vault {
    /// Appends `row` (an exec entry not yet in the chain) to the exec log,
    /// folding the log into the vault when it has grown large.
    pub(super) fn append_exec_log(&self, key: &Key, row: AuditRow) -> Result<()> {
        let make = |last: Option<&[u8]>| {
            // A last line that is not an entry names nothing; the fold
            // then reports that line, not this one.
            let last = last.and_then(|text| parse(text).ok());
            let same = same_digest(&row);
            let repeats = last
                .as_ref()
                .is_some_and(|l| l.same.as_ref() == Some(&same));
            let prev = last.map(|p| p.mac);
            let mac = crypto::mac(
                key,
                &exec_log_chained_input(&self.id, &row, prev.as_deref()),
            );
            let line = Line {
                v: COMPACT,
                prev: prev.map(hex::encode),
                id: hex::encode(row.id),
                at: row.at,
                identity: row.identity.clone(),
                action: row.action.clone(),
                same: Some(same),
                names: (!repeats).then(|| row.names.clone()),
                detail: if repeats { None } else { row.detail.clone() },
                mac: hex::encode(mac),
            };
            let mut text = serde_json::to_vec(&line).expect("a line serializes");
            text.push(b'\n');
            text
        };
        if self.store.append_exec_log(make)? > FOLD_AT_BYTES {
            // Recorded either way; a fold that fails now is retried by the
            // next exec or write.
            let _ = self.fold_now(key);
        }
        Ok(())
    }

    fn fold_now(&self, key: &Key) -> Result<()> {
        let taken = self.store.write(|db| self.fold_exec_log(db, key))?;
        finish_fold(taken);
        Ok(())
    }

    /// Takes the exec log (inside `db`'s write transaction, so that exec,
    /// which appends without the vault's lock, never waits behind a command
    /// still queuing for it) and chains its entries into the audit log.
    /// Give the result to [`finish_fold`] once the transaction commits.
    pub(super) fn fold_exec_log(&self, db: &Db<'_>, key: &Key) -> Result<Option<TakenExecLog>> {
        let Some(log) = self.store.take_exec_log()? else {
            return Ok(None);
        };
        for row in self.check_exec_log(key, &log.bytes)? {
            if !db.audit_entry_exists(&row.id)? {
                self.chain_row(db, key, row)?;
            }
        }
        Ok(Some(log))
    }

    fn exec_log_broken(&self, line: usize, why: &str) -> Error {
        Error::ExecLogBroken {
            path: crate::store::exec_log_path(self.store.path()),
            line,
            detail: why.to_owned(),
        }
    }

    /// The entries of the exec log `bytes`, each line's MAC checked with
    /// `key` and each chained line checked to name the line before it; the
    /// first line that fails is the error.
    pub(super) fn check_exec_log(&self, key: &Key, bytes: &[u8]) -> Result<Vec<AuditRow>> {
        let mut before: Option<Vec<u8>> = None;
        let mut earlier: Option<AuditRow> = None;
        complete_lines(bytes)
            .map(|(line, text)| {
                let mut parsed = parse(text).map_err(|why| self.exec_log_broken(line, why))?;
                if parsed.chained && parsed.prev != before {
                    return Err(self.exec_log_broken(
                        line,
                        "the line does not follow the line before it (lines were moved or removed)",
                    ));
                }
                if !fill_in(&mut parsed, earlier.as_ref()) {
                    return Err(self.exec_log_broken(
                        line,
                        "the line leaves out names that the line before it does not have",
                    ));
                }
                let input = match parsed.chained {
                    true => exec_log_chained_input(&self.id, &parsed.row, parsed.prev.as_deref()),
                    false => exec_log_input(&self.id, &parsed.row),
                };
                crypto::verify_mac(key, &input, &parsed.mac).map_err(|_| {
                    self.exec_log_broken(line, "the entry does not match its authentication code")
                })?;
                before = Some(parsed.mac);
                earlier = Some(parsed.row.clone());
                Ok(parsed.row)
            })
            .collect()
    }

    /// The exec log's entries as they read, unchecked (for `vault audit`,
    /// which shows the log without unlocking).
    pub(super) fn pending_entries(&self) -> Result<Vec<AuditRow>> {
        let bytes = self.store.read_exec_log()?;
        let mut earlier: Option<AuditRow> = None;
        Ok(complete_lines(&bytes)
            .filter_map(|(_, text)| parse(text).ok())
            .filter_map(|mut parsed| {
                fill_in(&mut parsed, earlier.as_ref()).then_some(())?;
                earlier = Some(parsed.row.clone());
                Some(parsed.row)
            })
            .collect())
    }
}

/// Removes a folded exec log once its entries are committed. A log left
/// behind by a failed removal is folded again next time, its entries
/// skipped as already recorded.
pub(super) fn finish_fold(log: Option<TakenExecLog>) {
    if let Some(log) = log {
        let _ = log.finish();
    }
}

/// The lines that end in a newline, numbered from 1, without it; an
/// unfinished last one was cut off mid-append.
fn complete_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(i, line)| line.strip_suffix(b"\n").map(|line| (i + 1, line)))
}

/// The digest a compact line carries: of the entry's names and detail,
/// hex, 16 bytes (it tells repeats apart; the MAC authenticates).
fn same_digest(row: &AuditRow) -> String {
    let mut fields = crate::crypto::FieldHasher::new("exec-log-same");
    fields.field(row.names.as_bytes());
    match &row.detail {
        Some(detail) => fields.field(&[1]).field(detail.as_bytes()),
        None => fields.field(&[0]),
    };
    hex::encode(&fields.finish()[..16])
}

/// Gives a compact line that left its names and detail out those of
/// `earlier`, the entry of the line before; false when there is none, or
/// its digest differs (the MAC check would fail too, but this names why).
fn fill_in(parsed: &mut Parsed, earlier: Option<&AuditRow>) -> bool {
    if !parsed.borrows {
        return true;
    }
    let Some(earlier) = earlier else {
        return false;
    };
    if parsed.same.as_deref() != Some(same_digest(earlier).as_str()) {
        return false;
    }
    parsed.row.names = earlier.names.clone();
    parsed.row.detail = earlier.detail.clone();
    true
}

/// One line, read: the entry, its MAC, and for a chained line the MAC it
/// names as its predecessor.
struct Parsed {
    row: AuditRow,
    mac: Vec<u8>,
    chained: bool,
    prev: Option<Vec<u8>>,
    /// The digest of names and detail (compact lines), as hex.
    same: Option<String>,
    /// A compact line that left its names and detail out.
    borrows: bool,
}

fn parse(text: &[u8]) -> std::result::Result<Parsed, &'static str> {
    const UNREADABLE: &str = "the line is not an exec entry";
    let line: Line = serde_json::from_slice(text).map_err(|_| UNREADABLE)?;
    let id: [u8; 16] = hex::decode(&line.id)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(UNREADABLE)?;
    let mac = hex::decode(&line.mac).map_err(|_| UNREADABLE)?;
    let chained = match line.v {
        0 if line.prev.is_none() && line.same.is_none() => false,
        CHAINED if line.same.is_none() => true,
        COMPACT if line.same.is_some() => true,
        _ => return Err(UNREADABLE),
    };
    // Before layout 2 every line has its names.
    let borrows = line.names.is_none();
    if borrows && line.v != COMPACT {
        return Err(UNREADABLE);
    }
    let prev = match line.prev {
        Some(prev) => Some(hex::decode(prev).map_err(|_| UNREADABLE)?),
        None => None,
    };
    Ok(Parsed {
        chained,
        prev,
        mac,
        same: line.same,
        borrows,
        row: AuditRow {
            id,
            seq: 0,
            at: line.at,
            identity: line.identity,
            action: line.action,
            names: line.names.unwrap_or_default(),
            detail: line.detail,
            prev: None,
            mac: Vec::new(),
        },
    })
}
