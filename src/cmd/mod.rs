//! One file per subcommand: each turns its clap args into validated domain
//! values, calls the vault, and prints the outcome.
//!
//! Commands return the exit status on success; errors go back to `lib.rs`,
//! which prints them. Output to stdout goes through [`print`], which treats
//! a closed pipe (`vault list | head -1`) as success.

mod add;
mod assets;
mod audit;
mod check;
mod completions;
mod delete;
mod exec;
mod git;
mod grant;
mod identity;
mod import;
mod init;
mod input;
mod list;
mod manifest;
mod mcp;
mod passwd;
mod rename;
mod rotate;
mod scan;
mod status;
pub(crate) mod table;
mod trust;
mod unlock;

use std::io::Write;

use crate::cli::{Cli, Command, GitCommand};
use crate::error::{exit, Error, Result};
use crate::model::{IdentityName, SecretName};
use crate::session::Session;

pub fn run(cli: Cli) -> Result<u8> {
    // Scripts and pages need no vault, so no session: they work on a
    // packager's build machine with no data directory.
    let command = match cli.command {
        Command::Completions(args) => return completions::run(args),
        Command::GenerateAssets(args) => return assets::run(args),
        // git hands these temporary files, never the user's vault.
        Command::Git(GitCommand::Textconv(args)) => return git::textconv(args),
        Command::Git(GitCommand::Merge(args)) => return git::merge(args),
        command => command,
    };
    let exec = matches!(command, Command::Exec(_));
    let session = Session::new(&cli.global, exec)?;
    dispatch(&session, command).map_err(|e| with_close_names(&session, e))
}

fn dispatch(session: &Session, command: Command) -> Result<u8> {
    match command {
        Command::Init(args) => init::run(session, args),
        Command::Add(args) => add::run(session, args),
        Command::Import(args) => import::run(session, args),
        Command::List(args) => list::run(session, args),
        Command::Rename(args) => rename::run(session, args),
        Command::Rotate(args) => rotate::run(session, args),
        Command::Delete(args) => delete::run(session, args),
        Command::Exec(args) => exec::run(session, args),
        Command::Mcp(args) => mcp::run(session, args),
        Command::Grant(args) => grant::grant(session, args),
        Command::Revoke(args) => grant::revoke(session, args),
        Command::Identity(command) => identity::run(session, command),
        Command::Passwd(args) => passwd::run(session, args),
        Command::Audit(args) => audit::run(session, args),
        Command::Scan(args) => scan::run(session, args),
        Command::Unlock(args) => unlock::unlock(session, args),
        Command::Lock => unlock::lock(session),
        Command::Status(args) => status::run(session, args),
        Command::Check(args) => check::run(session, args),
        Command::Manifest(args) => manifest::run(session, args),
        Command::Trust(args) => trust::run(session, args),
        Command::Git(command) => git::run(session, command),
        Command::Completions(_) | Command::GenerateAssets(_) => OK,
    }
}

/// An unknown secret, identity or service name, with the vault's names
/// close to it ("did you mean"), read from its plaintext metadata. Runs
/// only on the way out of a failed command.
fn with_close_names(session: &Session, e: Error) -> Error {
    use crate::vault::{NameKind, Vault};
    let (name, kind) = match &e {
        Error::NoSecret(name) => (name.clone(), NameKind::Secret),
        Error::NoIdentity(name) => (name.clone(), NameKind::Identity),
        Error::NoService(name) => (name.clone(), NameKind::Service),
        _ => return e,
    };
    let Ok(vault) = Vault::open_read_only(&session.vault_path) else {
        return e;
    };
    let names = vault.completion_names(kind).unwrap_or_default();
    let close: Vec<String> = crate::suggest::close(&name, names.iter().map(|(n, _)| n.as_str()))
        .into_iter()
        .map(str::to_owned)
        .collect();
    if close.is_empty() {
        return e;
    }
    Error::Close {
        error: Box::new(e),
        close,
    }
}

/// Writes to stdout; a reader that went away is not an error.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io("write to", std::path::Path::new("stdout"), e)),
    }
}

/// Writes `value` as pretty JSON and a newline to stdout, streaming (a
/// listing of 100,000 secrets is never built as one string); a reader that
/// went away is not an error.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io("write to", std::path::Path::new("stdout"), e)),
    }
}

/// A service or description as typed: trimmed, and none when blank.
pub fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Metadata a user sets (`--service`, `--description`): trimmed, empty
/// as none, and refused if it holds a control character, which would
/// rewrite a terminal or forge lines of the git text form when shown.
pub fn metadata_text(option: &'static str, text: Option<String>) -> Result<Option<String>> {
    let text = non_empty(text);
    if let Some(found) = text.as_deref().and_then(crate::model::text_problem) {
        return Err(Error::ControlInText { option, found });
    }
    Ok(text)
}

/// A secret name a user typed for a new secret.
/// The name argument of `add` or `rotate`, refusing `NAME=value`: the
/// value was typed as an argument, and is not repeated back.
pub fn name_without_value(
    command: &'static str,
    text: &str,
    allow_dangerous: bool,
) -> Result<SecretName> {
    if let Some((name, _)) = text.split_once('=') {
        return Err(Error::ValueAsArgument {
            command,
            name: SecretName::parse(name, true).ok().map(|n| n.to_string()),
        });
    }
    new_secret_name(text, allow_dangerous)
}

pub fn new_secret_name(text: &str, allow_dangerous: bool) -> Result<SecretName> {
    SecretName::parse(text, allow_dangerous).map_err(|p| Error::secret_name(text, p))
}

/// A secret name a user typed to refer to an existing secret: any valid
/// shape, dangerous or not (it was allowed when it was added).
pub fn existing_secret_name(text: &str) -> Result<SecretName> {
    new_secret_name(text, true)
}

pub fn existing_secret_names(texts: &[String]) -> Result<Vec<SecretName>> {
    let mut names: Vec<SecretName> = Vec::with_capacity(texts.len());
    for text in texts {
        let name = existing_secret_name(text)?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

pub fn identity_name(text: &str) -> Result<IdentityName> {
    IdentityName::parse(text).map_err(|p| Error::identity_name(text, p))
}

/// `--expires WHEN`, in the future.
pub fn when(text: Option<&str>) -> Result<Option<i64>> {
    text.map(|t| crate::time::parse_when(t, crate::time::now()).map_err(|p| Error::when(t, p)))
        .transpose()
}

/// A duration option such as `--rotate-every 90d`, in seconds.
pub fn period(option: &'static str, text: Option<&str>) -> Result<Option<i64>> {
    text.map(|t| crate::time::parse_duration(t).map_err(|p| Error::period(option, t, p)))
        .transpose()
}

/// ` in environment prod` after what a command did, or nothing.
pub fn in_environment(environment: Option<&crate::model::Environment>) -> String {
    environment
        .map(|e| format!(" in environment {e}"))
        .unwrap_or_default()
}

/// Joins names for messages: `A, B and C`.
pub fn join_names<T: std::fmt::Display>(names: &[T]) -> String {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

pub const OK: Result<u8> = Ok(exit::OK);
