//! The reports `list` makes for CI to gate on: `--expiring WITHIN` (expiry
//! within WITHIN, expired included) and `--needs-rotation` (an identity's
//! access was revoked since the last rotation, or the secret's own rotation
//! period has passed). A secret is listed with every rule it matches, and
//! `list` exits with status 1 when any does.

use crate::model::shown;
use serde::Serialize;

use crate::cli::ListArgs;
use crate::error::Result;
use crate::model::SecretInfo;
use crate::time;

/// Which reports were asked for; none is a plain listing.
pub struct Rules {
    /// `--expiring`: the text as typed, and in seconds.
    expiring: Option<(String, i64)>,
    needs_rotation: bool,
}

/// One rule a secret matched: a stable `rule` for tools, `text` for people.
#[derive(Debug, Serialize)]
pub struct Match {
    pub rule: &'static str,
    pub text: String,
}

impl Rules {
    pub fn from_args(args: &ListArgs) -> Result<Rules> {
        let expiring = match &args.expiring {
            Some(text) => {
                let within = crate::cmd::period("--expiring", Some(text))?;
                within.map(|w| (text.trim().to_owned(), w))
            }
            None => None,
        };
        Ok(Rules {
            expiring,
            needs_rotation: args.needs_rotation,
        })
    }

    /// Whether any report was asked for.
    pub fn active(&self) -> bool {
        self.expiring.is_some() || self.needs_rotation
    }

    /// Every asked-for rule `s` matches at `now`, in a fixed order.
    pub fn matches(&self, s: &SecretInfo, now: i64) -> Vec<Match> {
        let mut found = Vec::new();
        if let (Some((_, within)), Some(expires)) = (&self.expiring, s.expires) {
            if s.expired || expires <= now {
                found.push(Match {
                    rule: "expired",
                    text: "expired".into(),
                });
            } else if expires - now <= *within {
                found.push(Match {
                    rule: "expiring",
                    text: format!("expires in {}", time::format_span(expires - now)),
                });
            }
        }
        if self.needs_rotation {
            if s.needs_rotation {
                found.push(Match {
                    rule: "revoked_access",
                    text: "revoked access".into(),
                });
            }
            if let Some(due) = s.rotation_due.filter(|_| s.rotation_overdue) {
                found.push(Match {
                    rule: "rotation_overdue",
                    text: format!("rotation overdue by {}", time::format_elapsed(now - due)),
                });
            }
        }
        found
    }

    /// What to say when nothing matched.
    pub fn nothing(&self) -> String {
        match (&self.expiring, self.needs_rotation) {
            (Some((within, _)), true) => {
                format!("no secret expires within {within} or needs rotation")
            }
            (Some((within, _)), false) => format!("no secret expires within {within}"),
            (None, _) => "no secret needs rotation".into(),
        }
    }
}

/// The report as a table: each matching secret and why.
pub fn table(rows: &[(SecretInfo, Vec<Match>)]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|(s, matched)| {
            let why: Vec<&str> = matched.iter().map(|m| m.text.as_str()).collect();
            vec![
                shown(s.name.as_str()).into_owned(),
                s.service
                    .as_deref()
                    .map_or("-".into(), |t| shown(t).into_owned()),
                why.join(", "),
            ]
        })
        .collect();
    crate::cmd::table::render(&["NAME", "SERVICE", "REASON"], &rows, None, Vec::new())
}
