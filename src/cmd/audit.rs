//! `vault audit`: the log of who did what to which secrets, shown without
//! unlocking (entries are plaintext metadata, like `vault list`), and
//! `vault audit verify`, which unlocks to check every entry's MAC and the
//! chain, and names the first bad entry.
//!
//! `--json` prints `{"entries": [...]}`, each entry with `seq`, `time`
//! (RFC 3339 UTC), `identity`, `action`, `secrets` and `detail` (an object:
//! a grant's `identity`, `level` and `expires`, exec's `program` and `cwd`).

use crate::cli::{AuditArgs, AuditCommand};
use crate::error::{Error, Result};
use crate::model::shown;
use crate::model::AuditEntry;
use crate::session::Session;
use crate::time;

pub fn run(session: &Session, args: AuditArgs) -> Result<u8> {
    if let Some(AuditCommand::Verify) = args.command {
        return verify(session);
    }
    let since = args
        .since
        .as_deref()
        .map(|t| time::parse_since(t, time::now()).map_err(|p| Error::when(t, p)))
        .transpose()?;
    let secret = args
        .secret
        .as_deref()
        .map(super::existing_secret_name)
        .transpose()?;
    let vault = session.open()?;
    let entries = vault.audit_log(since, secret.as_ref())?;
    if args.json {
        let json = serde_json::to_string_pretty(&serde_json::json!({ "entries": entries }))
            .map_err(|e| Error::Database(e.to_string()))?;
        super::print(&format!("{json}\n"))?;
    } else if entries.is_empty() {
        eprintln!("no audit entries");
    } else {
        super::print(&table(&entries))?;
    }
    super::OK
}

fn verify(session: &Session) -> Result<u8> {
    let vault = session.open()?;
    let me = session.unlock(&vault)?;
    let summary = vault.verify_audit(&me)?;
    let text = match summary.span {
        None => "audit log intact: no entries\n".to_owned(),
        Some((first, last)) => format!(
            "audit log intact: {} {}, {} to {}\n",
            summary.entries,
            if summary.entries == 1 {
                "entry"
            } else {
                "entries"
            },
            time::format(first),
            time::format(last)
        ),
    };
    super::print(&text)?;
    super::OK
}

/// Detail keys in the order they read best; others after them.
const DETAIL_ORDER: &[&str] = &["identity", "kind", "level", "expires", "program", "cwd"];

fn detail(entry: &AuditEntry) -> String {
    let rank = |k: &str| {
        DETAIL_ORDER
            .iter()
            .position(|o| *o == k)
            .unwrap_or(usize::MAX)
    };
    let mut pairs: Vec<&(String, String)> = entry.detail.iter().collect();
    pairs.sort_by_key(|(k, _)| rank(k));
    let words: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", shown(k), shown(v)))
        .collect();
    words.join(" ")
}

fn table(entries: &[AuditEntry]) -> String {
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            [
                e.seq.to_string(),
                time::format(e.time),
                shown(&e.identity).into_owned(),
                shown(&e.action).into_owned(),
                shown(&e.secrets.join(",")).into_owned(),
                detail(e),
            ]
        })
        .collect();
    let header = ["SEQ", "TIME", "IDENTITY", "ACTION", "SECRETS", "DETAIL"];
    let mut width = header.map(str::len);
    for row in &rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  ", w = width[i]));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header);
    for row in &rows {
        out.push_str(&line(row.each_ref().map(String::as_str)));
    }
    out
}
