//! What `exec` tells the user about its plan: the notes on stderr before
//! the program runs, and the `--explain` report on stdout. Both name
//! secrets and dates only, never a value (a value's length is reduced to
//! "too short to mask").

use std::path::Path;

use super::files::Rendered;
use super::plan::{Entry, Fate, Plan, EXPIRY_WARNING_SECS};
use super::MaskDecision;
use crate::error::Error;
use crate::model::{name_danger, shown, SecretName};
use crate::process::MIN_LEN;
use crate::time;

/// The notes printed on stderr just before the program starts.
pub fn notes(plan: &Plan<'_>, identity: &str, masking: bool) {
    for entry in plan.with_fate(Fate::GrantExpired) {
        eprintln!(
            "warning: not injecting {}: the access of {identity} to it has expired",
            shown(entry.secret.as_str())
        );
    }
    for entry in plan.with_fate(Fate::Inject) {
        if let Some(effect) = redirects(entry) {
            eprintln!("vault: injecting {}, which may {effect}", shown(entry.var));
        }
        match entry.expires_at() {
            Some(at) if at <= plan.now => eprintln!(
                "warning: injecting {}, which expired on {}",
                shown(entry.secret.as_str()),
                time::format(at)
            ),
            Some(at) if at <= plan.now + EXPIRY_WARNING_SECS => eprintln!(
                "warning: {} expires in {}, on {}; rotate it soon",
                shown(entry.secret.as_str()),
                time::format_span(at - plan.now),
                time::format(at)
            ),
            _ => {}
        }
    }
    if masking {
        let short: Vec<String> = plan
            .with_fate(Fate::Inject)
            .filter(|e| too_short(e))
            .map(|e| e.secret.to_string())
            .collect();
        if !short.is_empty() {
            eprintln!(
                "warning: not masking {}: values shorter than {MIN_LEN} bytes are not masked",
                crate::cmd::join_names(&short)
            );
        }
    }
}

/// The effect of a variable that is allowed but redirects the program's
/// traffic (a proxy), which exec names each time it injects one.
fn redirects(entry: &Entry<'_>) -> Option<&'static str> {
    name_danger(entry.var)
        .filter(|d| !d.class.refused())
        .map(|d| d.effect)
}

fn too_short(entry: &Entry<'_>) -> bool {
    entry.value.is_some_and(|v| v.value.len() < MIN_LEN)
}

/// The first lines of every `--explain` report.
fn header(identity: &str, masking: &MaskDecision, program: Option<&Path>) -> String {
    let mut out = format!("identity: {identity}\n");
    if let Some(program) = program {
        out.push_str(&format!("command: {}\n", program.display()));
    }
    let on = if masking.on { "on" } else { "off" };
    out.push_str(&format!("masking: {on} ({})\n", masking.why));
    out
}

/// The `--explain` report of a selection exec refuses: what it would
/// answer, and what to do about it.
pub fn refusal(
    error: &Error,
    identity: &str,
    masking: &MaskDecision,
    program: Option<&Path>,
) -> String {
    let mut out = header(identity, masking, program);
    out.push_str(&format!("exec would refuse to run: {error}\n"));
    if let Some(hint) = error.hint() {
        out.push_str(&format!("hint: {hint}\n"));
    }
    out
}

/// The `--explain` report: one line per variable, sorted by name.
pub fn render(
    plan: &Plan<'_>,
    identity: &str,
    masking: &MaskDecision,
    program: Option<&Path>,
) -> String {
    let mut out = header(identity, masking, program);
    if plan.entries.is_empty() && plan.rendered.is_empty() {
        out.push_str("no secret selected\n");
        return out;
    }
    let vars = plan.entries.iter().map(|e| e.var);
    let width = vars
        .chain(plan.rendered.iter().map(|r| r.var.as_str()))
        .map(|var| var.len())
        .max()
        .unwrap_or(0);
    for entry in &plan.entries {
        let what = describe(entry, plan.now, identity, masking.on);
        out.push_str(&format!("{:<width$}  {what}\n", shown(entry.var)));
    }
    for rendered in &plan.rendered {
        let what = describe_rendered(rendered, masking.on);
        out.push_str(&format!("{:<width$}  {what}\n", shown(&rendered.var)));
    }
    out
}

/// A `--render` variable, for `--explain`.
fn describe_rendered(rendered: &Rendered, masking: bool) -> String {
    let mut text = format!("a memory file rendered from {}", shown(&rendered.template));
    if !rendered.secrets.is_empty() {
        let names: Vec<&str> = rendered.secrets.iter().map(SecretName::as_str).collect();
        text.push_str(&format!(" with {}", shown(&names.join(", "))));
        if masking {
            text.push_str(", masked");
        }
    }
    text
}

/// `--explain --json`: `{"identity", "command" (the program's path, or
/// null), "masking": {"on", "why"}, "secrets": [{"variable", "secret",
/// "fate", "file", "text"}], "rendered": [{"variable", "template",
/// "secrets", "text"}], "refused": null or {"error", "hint"}}`. `fate` is
/// one of `injected`, `kept`, `expired`, `grant_expired`, `not_granted`;
/// `file` is true for a memory file (`--file`, `as = "file"`); `text`
/// says the same for people, as the plain report does.
pub struct Report {
    value: serde_json::Value,
}

impl Report {
    pub fn new(identity: &str, masking: &MaskDecision, program: Option<&Path>) -> Report {
        Report {
            value: serde_json::json!({
                "identity": identity,
                "command": program.map(|p| p.display().to_string()),
                "masking": { "on": masking.on, "why": masking.why },
                "secrets": [],
                "rendered": [],
                "refused": null,
            }),
        }
    }

    pub fn planned(mut self, plan: &Plan<'_>) -> serde_json::Value {
        let identity = self.value["identity"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let masking = self.value["masking"]["on"].as_bool().unwrap_or(false);
        let secrets: Vec<serde_json::Value> = plan
            .entries
            .iter()
            .map(|entry| {
                let fate = match entry.fate {
                    Fate::Inject => "injected",
                    Fate::Kept => "kept",
                    Fate::Expired => "expired",
                    Fate::GrantExpired => "grant_expired",
                    Fate::NotGranted => "not_granted",
                };
                serde_json::json!({
                    "variable": entry.var,
                    "secret": entry.secret.as_str(),
                    "fate": fate,
                    "file": entry.as_file,
                    "text": describe(entry, plan.now, &identity, masking),
                })
            })
            .collect();
        self.value["secrets"] = serde_json::Value::Array(secrets);
        let rendered: Vec<serde_json::Value> = plan
            .rendered
            .iter()
            .map(|r| {
                serde_json::json!({
                    "variable": r.var,
                    "template": r.template,
                    "secrets": r.secrets,
                    "text": describe_rendered(r, masking),
                })
            })
            .collect();
        self.value["rendered"] = serde_json::Value::Array(rendered);
        self.value
    }

    pub fn refused(mut self, error: &Error) -> serde_json::Value {
        self.value["refused"] = serde_json::json!({
            "error": error.to_string(),
            "hint": error.hint(),
        });
        self.value
    }
}

fn describe(entry: &Entry<'_>, now: i64, identity: &str, masking: bool) -> String {
    let mut parts: Vec<String> = vec![match entry.fate {
        Fate::Inject if entry.as_file => {
            "injected as a memory file (the variable holds its path)".into()
        }
        Fate::Inject => "injected".into(),
        Fate::Kept => "kept from the environment (--no-override)".into(),
        Fate::Expired => format!(
            "expired on {}: exec refuses to run (--allow-expired injects it)",
            entry.expires_at().map(time::format).unwrap_or_default()
        ),
        Fate::GrantExpired => format!("not injected: the access of {identity} to it has expired"),
        Fate::NotGranted => format!("not granted to {identity}"),
    }];
    if entry.var != entry.secret.as_str() {
        parts.push(format!("from {}", shown(entry.secret.as_str())));
    }
    if entry.fate == Fate::Inject {
        if let Some(effect) = redirects(entry) {
            parts.push(format!("may {effect}"));
        }
        match entry.expires_at() {
            Some(at) if at <= now => parts.push(format!("expired on {}", time::format(at))),
            Some(at) if at <= now + EXPIRY_WARNING_SECS => {
                parts.push(format!("expires on {}", time::format(at)))
            }
            _ => {}
        }
        if masking && too_short(entry) {
            parts.push(format!("too short to mask (under {MIN_LEN} bytes)"));
        } else if masking {
            parts.push("masked".into());
        }
    }
    parts.join(", ")
}
