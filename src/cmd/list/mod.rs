//! `vault list`: names and metadata, never values, without unlocking; and
//! with `--expiring` or `--needs-rotation`, the reports CI gates on
//! (report.rs), which exit with status 1 when anything matches. At a
//! terminal the table fits the window ([`fit`] says how); into a pipe it
//! is whole.
//!
//! `--json` prints `{"secrets": [...]}`, each secret with `name`, `service`,
//! `description`, `version`, `created`, `rotated`, `expires`, `expired`,
//! `needs_rotation`, `rotate_every` (seconds), `rotation_due`,
//! `rotation_overdue`, `access` (`identity`, `level`, `expires`, `expired`)
//! and `matched` (the report rules it matched: `rule`, `text`); times are
//! RFC 3339 UTC, absent values `null`. Fields are only ever added.

mod report;

use serde::Serialize;

use crate::cli::ListArgs;
use crate::error::{exit, Result};
use crate::model::{shown, SecretInfo};
use crate::session::Session;
use crate::time;

use super::table::{self, Fit};
use report::{Match, Rules};

/// A secret as `--json` prints it: its metadata and the rules it matched.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    info: &'a SecretInfo,
    matched: &'a [Match],
}

pub fn run(session: &Session, args: ListArgs) -> Result<u8> {
    let rules = Rules::from_args(&args)?;
    let (vault, environment) = session.open_in(args.environment.as_deref())?;
    // A service no secret belongs to is a mistake to name (with the close
    // ones), not an empty listing.
    if let Some(service) = &args.service {
        let services = vault.completion_names(crate::vault::NameKind::Service)?;
        if !services.iter().any(|(s, _)| s == service) {
            return Err(crate::error::Error::NoService(service.clone()));
        }
    }
    let now = time::now();
    let rows: Vec<(SecretInfo, Vec<Match>)> = vault
        .list(args.service.as_deref())?
        .into_iter()
        .filter(|s| match (&environment, &s.environment) {
            (Some(e), Some(own)) => own == e.as_str(),
            _ => true,
        })
        .map(|s| {
            let matched = rules.matches(&s, now);
            (s, matched)
        })
        .filter(|(_, matched)| !rules.active() || !matched.is_empty())
        .collect();
    if args.json {
        let secrets: Vec<Listed<'_>> = rows
            .iter()
            .map(|(info, matched)| Listed { info, matched })
            .collect();
        #[derive(Serialize)]
        struct Listing<'a> {
            secrets: Vec<Listed<'a>>,
        }
        super::print_json(&Listing { secrets })?;
    } else if rows.is_empty() && rules.active() {
        eprintln!("{}", rules.nothing());
    } else if rows.is_empty() {
        eprintln!("no secrets; add one with `vault add NAME`");
    } else if rules.active() {
        super::print(&report::table(&rows))?;
    } else {
        let listed = &rows;
        let access: Vec<String> = rows
            .iter()
            .map(|(s, _)| table::count(s.access.len(), "identity", "identities"))
            .collect();
        // The environment column appears once a secret has one.
        let environments = rows.iter().any(|(s, _)| s.environment.is_some());
        let mut header: Vec<&str> = HEADER.to_vec();
        let mut rows: Vec<Vec<String>> = rows.iter().map(|(s, _)| row(s, now)).collect();
        if environments {
            header.insert(1, "ENVIRONMENT");
            for (row, (s, _)) in rows.iter_mut().zip(listed.iter()) {
                let environment = s.environment.as_deref().unwrap_or("(shared)");
                row.insert(1, shown(environment).into_owned());
            }
        }
        super::print(&table::render(
            &header,
            &rows,
            crate::terminal::stdout_width(),
            fit(access, usize::from(environments)),
        ))?;
    }
    Ok(match rules.active() && !rows.is_empty() {
        true => exit::FOUND,
        false => exit::OK,
    })
}

const HEADER: [&str; 10] = [
    "NAME",
    "SERVICE",
    "VERSION",
    "CREATED",
    "ROTATED",
    "EXPIRES",
    "ROTATE",
    "STATUS",
    "ACCESS",
    "DESCRIPTION",
];

/// How the table fits a narrow terminal, in this order: count the access
/// ("3 identities"), shorten the description, then drop the
/// description, the rotation period, the creation and rotation dates and
/// the version, then shorten the status and the service.
/// `shift` is 1 when the environment column follows the name.
fn fit(access: Vec<String>, shift: usize) -> Vec<Fit> {
    let [service, version, created, rotated, rotate, status, access_at, description] =
        [1, 2, 3, 4, 6, 7, 8, 9].map(|column| column + shift);
    vec![
        Fit::Summarise(access_at, access),
        Fit::Shorten(description, 12),
        Fit::Drop(description),
        Fit::Drop(rotate),
        Fit::Drop(created),
        Fit::Drop(rotated),
        Fit::Drop(version),
        Fit::Shorten(status, 8),
        Fit::Shorten(service, 8),
    ]
}

fn row(s: &SecretInfo, now: i64) -> Vec<String> {
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
    if s.rotation_overdue {
        status.push("rotation overdue".to_owned());
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
            format!(
                "{} ({}{expiry})",
                shown(a.identity.as_str()),
                a.level.as_str()
            )
        })
        .collect();
    vec![
        shown(s.name.as_str()).into_owned(),
        s.service
            .as_deref()
            .map_or_else(dash, |t| shown(t).into_owned()),
        s.version.to_string(),
        time::format_date(s.created),
        time::format_date(s.rotated),
        s.expires.map(time::format_date).unwrap_or_else(dash),
        s.rotate_every.map(time::format_period).unwrap_or_else(dash),
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
        s.description
            .as_deref()
            .map(shown)
            .unwrap_or_default()
            .into_owned(),
    ]
}
