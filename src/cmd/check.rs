//! `vault check`: the manifest against the vault, without unlocking. For
//! each variable the manifest declares in the environment: is there a
//! secret (the environment's own, else the shared one) or a default, does
//! the current identity hold access to it, has it expired, does it expire
//! soon or need rotation; and which secrets this environment sees that
//! the manifest does not declare. Exit 0 when every required variable is
//! there and granted, 1 when not, 2 on error: a CI or pre-deploy gate.
//!
//! Values cannot be checked against their rules without unlocking; exec
//! checks them before it runs anything, and add, rotate and import before
//! they store one.

use serde::Serialize;

use crate::cli::CheckArgs;
use crate::error::{exit, Error, Result};
use crate::manifest::Manifest;
use crate::model::{shown, Environment, SecretInfo};
use crate::session::Session;
use crate::vault::Vault;

/// What `vault check --json` prints, and `vault mcp`'s `check` tool
/// returns in a project.
#[derive(Serialize)]
pub struct Report {
    manifest: String,
    environment: Option<String>,
    identity: Option<String>,
    pub ok: bool,
    variables: Vec<Variable>,
    undeclared: Vec<String>,
}

#[derive(Serialize)]
struct Variable {
    variable: String,
    required: bool,
    status: &'static str,
    /// The environment of the secret it comes from (none: shared).
    environment: Option<String>,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    expires: Option<i64>,
}

/// Statuses that make a required variable fail the check.
const FAILING: [&str; 3] = ["missing", "not_granted", "expired"];

pub fn run(session: &Session, args: CheckArgs) -> Result<u8> {
    let manifest = session.manifest.as_ref().ok_or_else(|| {
        Error::Usage(format!(
            "no manifest: no {} here or in a directory above",
            crate::manifest::FILE_NAME
        ))
    })?;
    let window = super::period("--expiring", Some(&args.expiring))?.unwrap_or(0);
    let (vault, environment) = session.open_in(args.environment.as_deref())?;
    let identity = session
        .identity_of(&vault)
        .ok()
        .map(|i| i.name().to_owned());
    let report = report(manifest, &vault, environment.as_ref(), identity, window)?;
    let ok = report.ok;
    if args.json {
        super::print_json(&report)?;
    } else {
        super::print(&render(&report))?;
    }
    Ok(if ok { exit::OK } else { exit::FOUND })
}

/// Checks `manifest` against `vault` in `environment`, for `identity`
/// (none: nothing is granted), calling a secret that expires within
/// `window` seconds expiring. Reads metadata only: nothing is unlocked.
pub fn report(
    manifest: &Manifest,
    vault: &Vault,
    environment: Option<&Environment>,
    identity: Option<String>,
    window: i64,
) -> Result<Report> {
    let env = environment.map(|e| e.as_str());
    let now = crate::time::now();
    let secrets = vault.list(None)?;
    // Each name's secret here: its own in this environment, else shared.
    let chosen = |name: &str| -> Option<&SecretInfo> {
        let of = |e: Option<&str>| {
            secrets
                .iter()
                .find(|s| s.name.as_str() == name && s.environment.as_deref() == e)
        };
        env.and_then(|e| of(Some(e))).or_else(|| of(None))
    };
    let mut variables = Vec::new();
    for var in manifest.vars_in(environment) {
        let secret = chosen(var.name.as_str());
        let status = match secret {
            None if var.default.is_some() => "default",
            None if !var.required => "optional_missing",
            None => "missing",
            Some(s) => {
                let granted = s
                    .access
                    .iter()
                    .any(|a| Some(a.identity.as_str()) == identity.as_deref() && !a.expired);
                if !granted {
                    "not_granted"
                } else if s.expired {
                    "expired"
                } else if s.expires.is_some_and(|e| e - now <= window) {
                    "expiring"
                } else if s.needs_rotation || s.rotation_overdue {
                    "needs_rotation"
                } else {
                    "ok"
                }
            }
        };
        variables.push(Variable {
            variable: var.name.to_string(),
            required: var.required,
            status,
            environment: secret.and_then(|s| s.environment.clone()),
            expires: secret.and_then(|s| s.expires),
        });
    }
    let mut undeclared: Vec<String> = secrets
        .iter()
        .filter(|s| s.environment.is_none() || s.environment.as_deref() == env)
        .filter(|s| {
            manifest
                .var(s.name.as_str())
                .is_none_or(|v| !v.in_environment(environment))
        })
        .map(|s| s.name.to_string())
        .collect();
    undeclared.dedup();
    let ok = !variables
        .iter()
        .any(|v| v.required && FAILING.contains(&v.status));
    Ok(Report {
        manifest: manifest.path.display().to_string(),
        environment: env.map(str::to_owned),
        identity,
        ok,
        variables,
        undeclared,
    })
}

fn render(r: &Report) -> String {
    let mut out = format!(
        "manifest {}, environment {}, identity {}\n",
        r.manifest,
        r.environment
            .as_deref()
            .unwrap_or("(none: shared secrets only)"),
        r.identity.as_deref().map_or("(none)".into(), shown)
    );
    let width = r
        .variables
        .iter()
        .map(|v| v.variable.len())
        .max()
        .unwrap_or(0);
    for v in &r.variables {
        let text = match v.status {
            "ok" => "ok".to_owned(),
            "default" => "its default (not a secret)".to_owned(),
            "optional_missing" => "optional, not in the vault".to_owned(),
            "missing" => "missing: no secret here and no default".to_owned(),
            "not_granted" => format!(
                "not granted to {}",
                r.identity
                    .as_deref()
                    .map_or("the current identity".into(), shown)
            ),
            "expired" => "expired".to_owned(),
            "expiring" => format!(
                "expires {}",
                v.expires.map(crate::time::format).unwrap_or_default()
            ),
            _ => "needs rotation".to_owned(),
        };
        let from = v
            .environment
            .as_deref()
            .map(|e| format!(" ({})", shown(e)))
            .unwrap_or_default();
        out.push_str(&format!("  {:width$}  {text}{from}\n", v.variable));
    }
    if !r.undeclared.is_empty() {
        out.push_str(&format!(
            "not declared in the manifest: {}\n",
            super::join_names(&r.undeclared)
        ));
    }
    out.push_str(if r.ok {
        "ok: every required variable is there\n"
    } else {
        "not ok: a required variable is missing, not granted or expired\n"
    });
    out
}
