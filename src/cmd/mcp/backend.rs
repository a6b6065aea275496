//! The four tools, answered from the vault as the agent, in the server's
//! environment: metadata for `list_secrets` and `check` (in a project,
//! `vault check`'s own report), exec's own path for `run` (prepared by
//! `cmd::exec::prepare`, captured by `process::capture`), and the lines a
//! person types for `request_secret`. Every answer is names, metadata and
//! masked output; every refusal is vault's own error, whose message and
//! hint never hold a value.

use std::ffi::OsString;

use serde_json::{json, Value};

use crate::error::Error;
use crate::mcp::{Backend, Call, Refusal, RefusalKind, Reply, RunCall};
use crate::model::{Environment, SecretInfo, SecretName};
use crate::process::{Captured, Limits};
use crate::session::Session;
use crate::time::format;
use crate::vault::{Unlocked, Vault};

/// What `check` calls soon.
const SOON_SECS: i64 = 7 * 86_400;

pub struct VaultBackend<'s> {
    pub session: &'s Session,
    pub vault: Vault,
    pub me: Unlocked,
    /// The environment the vault was opened in (none: shared secrets).
    pub environment: Option<Environment>,
    pub limits: Limits,
}

impl Backend for VaultBackend<'_> {
    fn call(&mut self, call: Call) -> Result<Reply, Refusal> {
        // A server outlives an agent's end: every call asks.
        self.me.check_agent_time().map_err(refusal)?;
        let answer = match call {
            Call::ListSecrets => self.list_secrets(),
            Call::Check => self.check(),
            Call::Run(run) => return self.run(run).map_err(refusal),
            Call::RequestSecret { name } => self.request_secret(&name),
        };
        answer
            .map(|value| Reply {
                value,
                failed: false,
            })
            .map_err(refusal)
    }
}

/// vault's error as a protocol error: what the call asked for is
/// "invalid params"; a refusal of the identity or of the file is vault's
/// own code.
fn refusal(e: Error) -> Refusal {
    let kind = match e {
        Error::NoSecret(_)
        | Error::NotPermitted { .. }
        | Error::Selection(_)
        | Error::InvalidSecretName { .. }
        | Error::CommandNotFound(_)
        | Error::NotExecutable { .. }
        | Error::DangerousAtExec { .. }
        | Error::Expired(_)
        | Error::TooShortToMask(_)
        | Error::Usage(_) => RefusalKind::InvalidParams,
        _ => RefusalKind::Refused,
    };
    // The agent has tools, not a shell at vault's command line.
    let hint = match e {
        Error::NoSecret(_) | Error::NotPermitted { .. } => Some(
            "list_secrets shows the secrets this identity may use; request_secret asks for another"
                .to_owned(),
        ),
        Error::ManifestUnmet { .. } => Some(
            "check shows what the manifest lacks; request_secret asks for a missing one; run with secrets named selects without the manifest"
                .to_owned(),
        ),
        _ => e.hint(),
    };
    Refusal {
        kind,
        message: crate::model::shown(&e.to_string()).into_owned(),
        hint: hint.map(|h| crate::model::shown(&h).into_owned()),
    }
}

impl VaultBackend<'_> {
    fn name(&self) -> String {
        crate::model::shown(self.me.name()).into_owned()
    }

    fn header(&self) -> serde_json::Map<String, Value> {
        let mut map = serde_json::Map::new();
        map.insert("identity".into(), self.name().into());
        map.insert(
            "agent_expires".into(),
            self.me.agent_until().map(format).into(),
        );
        map.insert(
            "environment".into(),
            self.environment.as_ref().map(|e| e.to_string()).into(),
        );
        map.insert(
            "manifest".into(),
            self.session
                .manifest
                .as_ref()
                .map(|m| m.path.display().to_string())
                .into(),
        );
        map
    }

    /// Every secret granted to this identity, with its grant.
    fn granted(&self) -> crate::error::Result<Vec<(SecretInfo, crate::model::AccessInfo)>> {
        let mut out = Vec::new();
        for info in self.vault.list(None)? {
            let access = info
                .access
                .iter()
                .find(|a| a.identity.as_str() == self.me.name())
                .cloned();
            if let Some(access) = access {
                out.push((info, access));
            }
        }
        Ok(out)
    }

    fn list_secrets(&self) -> crate::error::Result<Value> {
        let granted = self.granted()?;
        let here = self.environment.as_ref().map(|e| e.as_str());
        // What `run` gives for a name: its granted secret of this
        // environment, else its granted shared one (exec's choice).
        let chosen = |s: &SecretInfo| match s.environment.as_deref() {
            Some(e) => Some(e) == here,
            None => !granted.iter().any(|(o, _)| {
                o.name == s.name && o.environment.is_some() && o.environment.as_deref() == here
            }),
        };
        let manifest = self.session.manifest.as_ref();
        let secrets: Vec<Value> = granted
            .iter()
            .map(|(s, a)| {
                let mut entry = json!({
                    "name": s.name.as_str(),
                    "environment": s.environment,
                    "in_environment": chosen(s),
                    "service": s.service,
                    "description": s.description,
                    "version": s.version,
                    "expires": s.expires.map(format),
                    "expired": s.expired,
                    "needs_rotation": s.needs_rotation,
                    "rotation_due": s.rotation_due.map(format),
                    "access": a.level.as_str(),
                    "access_expires": a.expires.map(format),
                    "access_expired": a.expired,
                });
                if let Some(m) = manifest {
                    let var = m
                        .var(s.name.as_str())
                        .filter(|v| v.in_environment(self.environment.as_ref()));
                    entry["declared"] = var.is_some().into();
                    entry["required"] = var.is_some_and(|v| v.required).into();
                }
                entry
            })
            .collect();
        let mut map = self.header();
        map.insert("secrets".into(), secrets.into());
        Ok(Value::Object(map))
    }

    fn check(&self) -> crate::error::Result<Value> {
        if let Some(manifest) = &self.session.manifest {
            let report = super::super::check::report(
                manifest,
                &self.vault,
                self.environment.as_ref(),
                Some(self.me.name().to_owned()),
                SOON_SECS,
            )?;
            return serde_json::to_value(&report)
                .map_err(|e| crate::error::Error::Usage(format!("the check report: {e}")));
        }
        let now = crate::time::now();
        let soon = |t: Option<i64>| t.is_some_and(|t| t > now && t <= now + SOON_SECS);
        let mut report: [(&str, Vec<Value>); 6] = [
            ("expired", Vec::new()),
            ("expiring", Vec::new()),
            ("needs_rotation", Vec::new()),
            ("rotation_overdue", Vec::new()),
            ("access_expired", Vec::new()),
            ("access_expiring", Vec::new()),
        ];
        for (s, a) in self.granted()? {
            let name = s.name.as_str();
            let facts = [
                (s.expired, s.expires),
                (soon(s.expires), s.expires),
                (s.needs_rotation, None),
                (s.rotation_overdue, s.rotation_due),
                (a.expired, a.expires),
                (soon(a.expires), a.expires),
            ];
            for (k, (holds, at)) in facts.into_iter().enumerate() {
                if holds {
                    report[k].1.push(match at {
                        Some(at) => json!({ "name": name, "at": format(at) }),
                        None => json!({ "name": name }),
                    });
                }
            }
        }
        let mut map = self.header();
        map.insert(
            "ok".into(),
            report.iter().all(|(_, items)| items.is_empty()).into(),
        );
        for (key, items) in report {
            map.insert(key.into(), items.into());
        }
        map.insert(
            "note".into(),
            "no project manifest here: only the secrets granted to this identity are checked"
                .into(),
        );
        Ok(Value::Object(map))
    }

    fn run(&self, run: RunCall) -> crate::error::Result<Reply> {
        let only = match &run.secrets {
            Some(names) => Some(super::super::existing_secret_names(names)?),
            None => None,
        };
        let reason = super::super::exec::reason(Some(run.reason))?.unwrap_or_default();
        let command: Vec<OsString> = run.command.into_iter().map(OsString::from).collect();
        let prepared = super::super::exec::prepare(
            self.session,
            &self.vault,
            &self.me,
            self.environment.as_ref(),
            only,
            command,
            &reason,
            "mcp",
        )?;
        let captured =
            crate::process::capture(&prepared.launch, prepared.values.as_ref(), self.limits)?;
        let secrets: Vec<&str> = prepared.injected.iter().map(SecretName::as_str).collect();
        let value = outcome(&captured, &secrets, self.limits);
        Ok(Reply {
            value,
            failed: captured.code != Some(0),
        })
    }

    fn request_secret(&self, text: &str) -> crate::error::Result<Value> {
        let name = super::super::new_secret_name(text, false)?;
        let me = self.name();
        let on = self.vault_option();
        let grant = format!("vault grant {name} --to {me}{on}");
        let granted = self
            .granted()?
            .iter()
            .any(|(s, _)| s.name.as_str() == name.as_str());
        Ok(if granted {
            json!({
                "name": name.as_str(),
                "status": "granted",
                "message": format!("{name} is already granted to {me}: name it in run's secrets"),
            })
        } else if self.vault.secret_exists(&name)? {
            json!({
                "name": name.as_str(),
                "status": "not granted",
                "command": grant,
                "message": format!("{name} exists but is not granted to {me}: ask a person who manages it to run `{grant}`"),
            })
        } else {
            let add = format!("vault add {name}{on}");
            json!({
                "name": name.as_str(),
                "status": "missing",
                "command": add,
                "then": grant,
                "message": format!("ask the user to run `{add}` at their own terminal (the value is typed there, never here), then `{grant}`"),
            })
        })
    }

    /// ` --vault PATH` when this is not the default vault, so that the
    /// line a person types acts on the same file.
    fn vault_option(&self) -> String {
        let default = crate::session::default_vault_path().ok();
        if default.as_deref() == Some(self.session.vault_path.as_path()) {
            return String::new();
        }
        let path = std::path::absolute(&self.session.vault_path)
            .unwrap_or_else(|_| self.session.vault_path.clone());
        format!(" --vault {}", shell_quote(&path.to_string_lossy()))
    }
}

/// `run`'s answer: status, masked output with a note where it was cut,
/// and what was injected.
fn outcome(c: &Captured, secrets: &[&str], limits: Limits) -> Value {
    let text = |o: &crate::process::CapturedOutput| {
        let mut s = String::from_utf8_lossy(&o.bytes).into_owned();
        if o.dropped > 0 {
            note(
                &mut s,
                &format!(
                    "[vault: output cut after {} bytes; {} more bytes not shown]",
                    limits.output, o.dropped
                ),
            );
        }
        s
    };
    let mut stderr = text(&c.stderr);
    if c.timed_out {
        note(
            &mut stderr,
            &format!(
                "[vault: the command ran past {} and was ended, with every process of its group]",
                crate::time::format_period(limits.time.as_secs() as i64)
            ),
        );
    }
    json!({
        "exit_status": c.code,
        "signal": c.signal,
        "timed_out": c.timed_out,
        "stdout": text(&c.stdout),
        "stderr": stderr,
        "stdout_cut": c.stdout.dropped > 0,
        "stderr_cut": c.stderr.dropped > 0,
        "secrets": secrets,
    })
}

/// Appends vault's own note on a line of its own.
fn note(text: &mut String, line: &str) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
}

/// A word as a POSIX shell reads it back: bare when it is plain.
fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}
