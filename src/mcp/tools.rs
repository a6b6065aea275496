//! The four tools, as the host lists them and as their arguments are read:
//! `list_secrets`, `check`, `run` and `request_secret`. Agent
//! configurations rely on these names and arguments; they change only
//! with a new name.
//!
//! Arguments are read strictly (an unknown field, a wrong type or a
//! missing argument is the protocol's "invalid params" error, naming the
//! problem), before the backend is asked anything.

use serde::Deserialize;
use serde_json::{json, Map, Value};

pub(super) const TOOL_NAMES: [&str; 4] = ["list_secrets", "check", "run", "request_secret"];

/// A tool call, its arguments read.
#[derive(Debug)]
pub enum Call {
    ListSecrets,
    Check,
    Run(RunCall),
    RequestSecret { name: String },
}

/// `run`'s arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunCall {
    pub command: Vec<String>,
    #[serde(default)]
    pub secrets: Option<Vec<String>>,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestSecretArgs {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

/// A tool's answer: its structured result, and whether it reports a
/// failure (a command that exited non-zero).
pub struct Reply {
    pub value: Value,
    pub failed: bool,
}

/// Why a call was not answered: a protocol error.
#[derive(Debug)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// Arguments that are malformed or name what the identity may not use
    /// (JSON-RPC -32602).
    InvalidParams,
    /// The identity may not call at all now (expired), or the vault
    /// refused (a trust check): -32001, vault's own code.
    Refused,
}

impl Refusal {
    pub fn invalid(message: impl Into<String>) -> Refusal {
        Refusal {
            kind: RefusalKind::InvalidParams,
            message: message.into(),
            hint: None,
        }
    }
}

/// Reads a call to `name` with `arguments`.
pub fn parse(name: &str, arguments: Option<Map<String, Value>>) -> Result<Call, Refusal> {
    let args = Value::Object(arguments.unwrap_or_default());
    let read = |e: serde_json::Error| Refusal::invalid(format!("{name}: {e}"));
    match name {
        "list_secrets" => serde_json::from_value::<NoArgs>(args)
            .map(|_| Call::ListSecrets)
            .map_err(read),
        "check" => serde_json::from_value::<NoArgs>(args)
            .map(|_| Call::Check)
            .map_err(read),
        "run" => {
            let run: RunCall = serde_json::from_value(args).map_err(read)?;
            if run.command.is_empty() {
                return Err(Refusal::invalid(
                    "run: command is empty: give the program and its arguments, as [\"make\", \"test\"]",
                ));
            }
            if run.reason.trim().is_empty() {
                return Err(Refusal::invalid(
                    "run: reason is empty: say why the command runs (it is recorded in the audit log)",
                ));
            }
            Ok(Call::Run(run))
        }
        "request_secret" => serde_json::from_value::<RequestSecretArgs>(args)
            .map(|a| Call::RequestSecret { name: a.name })
            .map_err(read),
        _ => Err(Refusal::invalid(format!(
            "no tool named {name}: the tools are {}",
            TOOL_NAMES.join(", ")
        ))),
    }
}

/// Each tool's name, description and input schema.
pub fn definitions(limits: &str) -> Vec<(&'static str, String, Value)> {
    let none = json!({ "type": "object", "properties": {}, "additionalProperties": false });
    vec![
        (
            "list_secrets",
            "The secrets this identity may use: names, services, descriptions, environments (null: shared; in_environment: the one run gives in this server's environment), expiry, rotation state and, in a project, whether the manifest declares and requires them. Never a value.".to_owned(),
            none.clone(),
        ),
        (
            "check",
            "In a project, the manifest against the vault in this server's environment, as `vault check --json` reports it: each declared variable missing, not granted, expired, expiring within 7 days or needing rotation, and the secrets it does not declare. Outside one, what needs attention among the secrets this identity may use: expired, expiring within 7 days, needing rotation, access expired or expiring. Never a value.".to_owned(),
            none,
        ),
        (
            "run",
            format!(
                "Run a command with secrets in its environment, as environment variables named after them: each name's secret of this server's environment, else the shared one. Returns the exit status and the command's stdout and stderr, with every secret value (and its base64, hex and URL-encoded forms) replaced by [masked:NAME]. {limits} The reason is recorded in the vault's audit log."
            ),
            json!({
                "type": "object",
                "properties": {
                    "command": {
                        "type": "array", "items": { "type": "string" }, "minItems": 1,
                        "description": "The program and its arguments, not a shell line: [\"make\", \"test\"], or [\"sh\", \"-c\", \"...\"]"
                    },
                    "secrets": {
                        "type": "array", "items": { "type": "string" },
                        "description": "The secrets to put in the environment, by name (default: in a project, the variables its manifest declares, refused when a required one is wanting; else every secret this identity may use; [] for none)"
                    },
                    "reason": { "type": "string", "description": "Why the command runs, for the audit log" }
                },
                "required": ["command", "reason"],
                "additionalProperties": false
            }),
        ),
        (
            "request_secret",
            "Ask for a secret that this identity cannot use yet. Returns the exact command a person runs at their own terminal to add it (the value is typed there, never here), and the grant that gives it to this identity.".to_owned(),
            json!({
                "type": "object",
                "properties": {
                    "name": { "type": "string", "description": "The secret's name, an environment variable name such as STRIPE_KEY" }
                },
                "required": ["name"],
                "additionalProperties": false
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> Option<Map<String, Value>> {
        v.as_object().cloned()
    }

    #[test]
    fn run_reads_its_three_arguments_strictly() {
        let call = parse(
            "run",
            args(json!({ "command": ["true"], "secrets": ["A"], "reason": "r" })),
        )
        .unwrap();
        assert!(matches!(call, Call::Run(RunCall { ref command, .. }) if command == &["true"]));
        let bad = parse("run", args(json!({ "command": "ls", "reason": "r" }))).unwrap_err();
        assert_eq!(
            bad.message,
            "run: invalid type: string \"ls\", expected a sequence"
        );
        let extra = parse(
            "run",
            args(json!({ "command": ["ls"], "reason": "r", "shell": true })),
        )
        .unwrap_err();
        assert!(extra.message.starts_with("run: unknown field `shell`"));
        let missing = parse("run", args(json!({ "command": ["ls"] }))).unwrap_err();
        assert_eq!(missing.message, "run: missing field `reason`");
    }

    #[test]
    fn every_listed_tool_parses() {
        for (name, _, _) in definitions("") {
            assert!(TOOL_NAMES.contains(&name));
        }
        assert!(parse("list_secrets", None).is_ok());
        assert!(parse("check", args(json!({}))).is_ok());
        assert_eq!(
            parse("nope", None).unwrap_err().message,
            "no tool named nope: the tools are list_secrets, check, run, request_secret"
        );
    }
}
