//! `vault status` (alias `doctor`): what vault would do here and why,
//! without unlocking and without showing anything secret.
//!
//! Reads the vault read-only: the file and its format, its permissions, the
//! identity commands act as, the keyring, and the unlock methods in the
//! order the session tries them, each with why it is or is not available.
//!
//! `--json` prints the same as one object: `vault` (the path), `format`
//! (or `null` when there is no vault yet), `reads_up_to`, `permissions`,
//! `keyring`, `identity` (`{"name", "kind"}`, or `null` with
//! `identity_problem`), `next_unlock` (a method's name, or `null`) and
//! `unlock_methods` (`[{"method", "available", "why"}]`, in the order they
//! are tried).

use serde_json::{json, Value};

use crate::cli::StatusArgs;
use crate::error::{Error, Result};
use crate::keycache::KeyCache;
use crate::model::shown;
use crate::model::IdentityKind;
use crate::session::{cache_scope, Session};
use crate::store::{check_permissions, FORMAT_VERSION};
use crate::vault::Vault;
use crate::{env, terminal, time};

pub fn run(session: &Session, args: StatusArgs) -> Result<u8> {
    let path = &session.vault_path;
    let mut out = Report::default();
    out.line("vault", &path.display().to_string());
    out.json("vault", json!(path.display().to_string()));
    out.json("reads_up_to", json!(FORMAT_VERSION));
    let vault = match Vault::open_read_only(path) {
        Ok(vault) => vault,
        Err(Error::NoVault(_)) => {
            out.line("format", "no vault here yet: `vault init` creates one");
            out.json("format", Value::Null);
            out.line("keyring", &keyring(session.cache.as_ref()));
            out.json("keyring", json!(keyring(session.cache.as_ref())));
            return out.print(args.json);
        }
        Err(e) => return Err(e),
    };
    let version = vault.format_version()?;
    out.line(
        "format",
        &format!("{version} (this vault reads up to {FORMAT_VERSION})"),
    );
    out.json("format", json!(version));
    out.line("permissions", &permissions(path));
    out.json("permissions", json!(permissions(path)));
    out.line("keyring", &keyring(session.cache.as_ref()));
    out.json("keyring", json!(keyring(session.cache.as_ref())));
    let identity = session.identity_of(&vault);
    let person = match &identity {
        Ok(i) => {
            out.line(
                "identity",
                &format!("{} ({})", shown(i.name()), i.kind().as_str()),
            );
            out.json(
                "identity",
                json!({ "name": i.name(), "kind": i.kind().as_str() }),
            );
            i.kind() == IdentityKind::Person
        }
        Err(e) => {
            out.line("identity", &format!("none: {e}"));
            out.json("identity", Value::Null);
            out.json("identity_problem", json!(e.to_string()));
            false
        }
    };

    let token = match session.has_token() {
        true => Ok(format!("{} is set", env::ACCESS_TOKEN)),
        false => Err(format!("{} is not set", env::ACCESS_TOKEN)),
    };
    let cached = match &identity {
        _ if !person => Err("only for a person's identity".to_owned()),
        Ok(i) => match session.cache.get(&cache_scope(&vault, i.id())) {
            Some(c) => Ok(format!(
                "until {} ({} left)",
                time::format(c.expires),
                time::format_span(c.expires - time::now())
            )),
            None if session.cache.status().is_ok() => Err("none cached".to_owned()),
            None => Err(session.cache.status().err().unwrap_or_default()),
        },
        Err(_) => Err("no identity".to_owned()),
    };
    let passphrase = match session.passphrase_source() {
        _ if !person => Err("only for a person's identity".to_owned()),
        Some(source) => Ok(source),
        None => Err(format!(
            "no --passphrase-file, {} or {}",
            env::PASSPHRASE_FILE,
            env::PASSPHRASE
        )),
    };
    let prompt = match terminal::has_terminal() {
        _ if !person => Err("only for a person's identity".to_owned()),
        true => Ok("a hidden prompt".to_owned()),
        false => Err("no terminal (no /dev/tty)".to_owned()),
    };
    let methods = [
        ("access token", token),
        ("cached key", cached),
        ("passphrase", passphrase),
        ("terminal", prompt),
    ];
    let next = methods
        .iter()
        .find(|(_, how)| how.is_ok())
        .map(|(name, _)| *name);
    out.line(
        "next unlock",
        next.unwrap_or("none: every command that needs a key will fail"),
    );
    out.json("next_unlock", json!(next));
    let mut listed = Vec::new();
    for (n, (name, how)) in methods.iter().enumerate() {
        let text = match how {
            Ok(why) => format!("yes, {why}"),
            Err(why) => format!("no, {why}"),
        };
        out.line(&format!("  {}. {name}", n + 1), &text);
        let (available, why) = match how {
            Ok(why) => (true, why),
            Err(why) => (false, why),
        };
        listed.push(json!({ "method": name, "available": available, "why": why }));
    }
    out.json("unlock_methods", Value::Array(listed));
    out.print(args.json)
}

/// Whether the keyring works here, or why it is not used.
fn keyring(cache: &dyn KeyCache) -> String {
    match cache.status() {
        Ok(name) => format!("works here ({name})"),
        Err(why) => format!("not used: {why}"),
    }
}

fn permissions(path: &std::path::Path) -> String {
    let problems = check_permissions(path);
    if problems.is_empty() {
        return "ok".to_owned();
    }
    let each: Vec<String> = problems
        .iter()
        .map(|p| {
            format!(
                "{} is mode {:04o}, run: chmod {:o} {}",
                p.path.display(),
                p.mode,
                p.want,
                p.path.display()
            )
        })
        .collect();
    each.join("; ")
}

/// The report as text (`label:` and a value, the values aligned) and as
/// the JSON object of `--json`.
#[derive(Default)]
struct Report {
    text: String,
    json: serde_json::Map<String, Value>,
}

impl Report {
    fn line(&mut self, label: &str, value: &str) {
        self.text
            .push_str(&format!("{:<20}{value}\n", format!("{label}:")));
    }

    fn json(&mut self, key: &str, value: Value) {
        self.json.insert(key.to_owned(), value);
    }

    fn print(self, json: bool) -> Result<u8> {
        if json {
            super::print_json(&Value::Object(self.json))?;
        } else {
            super::print(&self.text)?;
        }
        super::OK
    }
}
