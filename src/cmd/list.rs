//! `vault list`: names and metadata, never values, without unlocking.
//!
//! `--json` prints `{"secrets": [...]}`, each secret with `name`, `service`,
//! `description`, `version`, `created`, `rotated`, `expires`, `expired`,
//! `needs_rotation` and `access` (`identity`, `level`, `expires`,
//! `expired`); times are RFC 3339 UTC, absent values `null`.

use crate::cli::ListArgs;
use crate::error::{Error, Result};
use crate::model::SecretInfo;
use crate::session::Session;
use crate::time;

pub fn run(session: &Session, args: ListArgs) -> Result<u8> {
    let vault = session.open()?;
    let secrets = vault.list(args.service.as_deref())?;
    if args.json {
        let json = serde_json::to_string_pretty(&serde_json::json!({ "secrets": secrets }))
            .map_err(|e| Error::Database(e.to_string()))?;
        super::print(&format!("{json}\n"))?;
    } else if secrets.is_empty() {
        eprintln!("no secrets; add one with `vault add NAME`");
    } else {
        super::print(&table(&secrets))?;
    }
    super::OK
}

fn table(secrets: &[SecretInfo]) -> String {
    let now = time::now();
    let header = [
        "NAME",
        "SERVICE",
        "VERSION",
        "CREATED",
        "ROTATED",
        "EXPIRES",
        "STATUS",
        "ACCESS",
        "DESCRIPTION",
    ];
    let rows: Vec<[String; 9]> = secrets.iter().map(|s| row(s, now)).collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
    };
    line(&header.map(String::from));
    for row in &rows {
        line(row);
    }
    out
}

fn row(s: &SecretInfo, now: i64) -> [String; 9] {
    let dash = || "-".to_owned();
    let mut status = Vec::new();
    if s.expired {
        status.push("expired".to_owned());
    } else if let Some(e) = s.expires.filter(|e| e - now < 7 * 86_400) {
        status.push(format!("expires in {}", time::format_span(e - now)));
    }
    if s.needs_rotation {
        status.push("needs rotation".to_owned());
    }
    let access: Vec<String> = s
        .access
        .iter()
        .map(|a| {
            let expiry = match a.expires {
                _ if a.expired => ", expired".to_owned(),
                Some(e) => format!(", until {}", time::format_date(e)),
                None => String::new(),
            };
            format!("{} ({}{expiry})", a.identity, a.level.as_str())
        })
        .collect();
    [
        s.name.to_string(),
        s.service.clone().unwrap_or_else(dash),
        s.version.to_string(),
        time::format_date(s.created),
        time::format_date(s.rotated),
        s.expires.map(time::format_date).unwrap_or_else(dash),
        if status.is_empty() {
            "ok".to_owned()
        } else {
            status.join(", ")
        },
        if access.is_empty() {
            dash()
        } else {
            access.join(", ")
        },
        s.description.clone().unwrap_or_default(),
    ]
}
