//! `vault audit`: the log of who did what to which secrets, shown without
//! unlocking (entries are plaintext metadata, like `vault list`), and
//! `vault audit verify`, which unlocks to check every entry's MAC and the
//! chain, and names the first bad entry.
//!
//! `--json` prints `{"entries": [...]}`, each entry with `seq`, `time`
//! (RFC 3339 UTC), `identity`, `action`, `secrets` and `detail` (an object:
//! a grant's `identity`, `level` and `expires`, exec's `program` and `cwd`).

use super::table::Fit;
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
const DETAIL_ORDER: &[&str] = &[
    "identity", "kind", "level", "expires", "program", "cwd", "via", "reason",
];

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

/// At a terminal the table fits the window: long secret lists become
/// counts ("200 secrets"), then the detail is shortened. Into a pipe it is
/// whole.
fn table(entries: &[AuditEntry]) -> String {
    const SECRETS: usize = 4;
    const DETAIL: usize = 5;
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                time::format(e.time),
                shown(&e.identity).into_owned(),
                shown(&e.action).into_owned(),
                shown(&e.secrets.join(",")).into_owned(),
                detail(e),
            ]
        })
        .collect();
    let counts = entries
        .iter()
        .map(|e| super::table::count(e.secrets.len(), "secret", "secrets"))
        .collect();
    super::table::render(
        &["SEQ", "TIME", "IDENTITY", "ACTION", "SECRETS", "DETAIL"],
        &rows,
        crate::terminal::stdout_width(),
        vec![Fit::Summarise(SECRETS, counts), Fit::Shorten(DETAIL, 20)],
    )
}
