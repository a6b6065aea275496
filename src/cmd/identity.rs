//! `vault identity add|list|remove`: people and machines that can unlock
//! the vault. Adding and removing unlock the acting identity: it wraps the
//! audit key for a newcomer, and the log records who did it.

use crate::cli::{IdentityAddArgs, IdentityCommand, IdentityListArgs, IdentityRemoveArgs};
use crate::error::{Error, Result};
use crate::model::shown;
use crate::session::Session;
use crate::terminal;
use crate::vault::NewIdentity;

pub fn run(session: &Session, command: IdentityCommand) -> Result<u8> {
    match command {
        IdentityCommand::Add(args) => add(session, args),
        IdentityCommand::List(args) => list(session, args),
        IdentityCommand::Remove(args) => remove(session, args),
    }
}

fn add(session: &Session, args: IdentityAddArgs) -> Result<u8> {
    let name = super::identity_name(&args.name)?;
    let vault = session.open()?;
    if vault.identity(Some(name.as_str())).is_ok() {
        return Err(Error::IdentityExists(name.to_string()));
    }
    // The adder wraps the audit key for the newcomer, and is recorded.
    let me = session.unlock(&vault)?;
    if args.agent {
        return add_agent(&vault, &me, &name, args.expires.as_deref());
    }
    if args.token {
        let token = vault
            .add_identity(&me, &name, NewIdentity::Machine, args.admin)?
            .expect("a machine identity has a token");
        eprintln!("added machine identity {name}; its access token, shown only this once:");
        super::print(&format!("{}\n", *token.encode()))?;
        eprintln!(
            "store it as the CI's secret {}; grant access with `vault grant NAME --to {name}`",
            crate::env::ACCESS_TOKEN
        );
    } else {
        let passphrase =
            session.new_passphrase(args.new_passphrase_file.as_deref(), false, name.as_str())?;
        vault.add_identity(
            &me,
            &name,
            NewIdentity::Person(&passphrase, session.new_kdf_params()),
            args.admin,
        )?;
        super::print(&format!(
            "added identity {name}; it can use nothing until granted\n"
        ))?;
    }
    super::OK
}

/// How long an agent identity lasts unless `--expires` says: a working
/// day's session, so a token left in a host's configuration soon stops.
pub const AGENT_DEFAULT_EXPIRY: &str = "8h";

fn add_agent(
    vault: &crate::vault::Vault,
    me: &crate::vault::Unlocked,
    name: &crate::model::IdentityName,
    expires: Option<&str>,
) -> Result<u8> {
    let until =
        super::when(Some(expires.unwrap_or(AGENT_DEFAULT_EXPIRY)))?.expect("a default is given");
    let token = vault
        .add_identity(me, name, NewIdentity::Agent { until }, false)?
        .expect("an agent identity has a token");
    eprintln!(
        "added agent identity {name}, until {}; its access token, shown only this once:",
        crate::time::format(until)
    );
    super::print(&format!("{}\n", *token.encode()))?;
    eprintln!(
        "give it to the agent's host as {} (`vault mcp config` prints the host's configuration); grant it secrets with `vault grant NAME --to {name}`",
        crate::env::ACCESS_TOKEN
    );
    super::OK
}

fn list(session: &Session, args: IdentityListArgs) -> Result<u8> {
    let vault = session.open()?;
    let identities = vault.identities()?;
    if args.json {
        let json = serde_json::to_string_pretty(&serde_json::json!({ "identities": identities }))
            .map_err(|e| Error::Database(e.to_string()))?;
        return super::print(&format!("{json}\n")).map(|_| 0);
    }
    let width = identities
        .iter()
        .map(|i| shown(i.name.as_str()).chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:<width$}  KIND     ROLE      CREATED     SECRETS\n",
        "NAME"
    );
    for i in &identities {
        let default = if i.default { "  (default)" } else { "" };
        out.push_str(&format!(
            "{:<width$}  {:<7}  {:<8}  {}  {}{default}\n",
            shown(i.name.as_str()),
            i.kind.as_str(),
            shown(&i.role),
            crate::time::format_date(i.created),
            i.secrets
        ));
        out.push_str(&format!("{:<width$}    receives with {}\n", "", i.key));
        let signs = i.signing_key.as_deref().unwrap_or("no key (receives only)");
        out.push_str(&format!("{:<width$}    signs with    {signs}\n", ""));
        if let Some(until) = i.expires {
            let ended = if until <= crate::time::now() {
                " (expired)"
            } else {
                ""
            };
            out.push_str(&format!(
                "{:<width$}    agent until   {}{ended}\n",
                "",
                crate::time::format(until)
            ));
        }
    }
    super::print(&out)?;
    super::OK
}

fn remove(session: &Session, args: IdentityRemoveArgs) -> Result<u8> {
    let name = super::identity_name(&args.name)?;
    let vault = session.open()?;
    vault.identity(Some(name.as_str()))?;
    if !args.yes {
        if !terminal::interactive() {
            return Err(Error::NeedsConfirmation);
        }
        let question = format!("Remove identity {name} and all its access?");
        if !terminal::confirm(&question)? {
            return Err(Error::Declined);
        }
    }
    let me = session.unlock(&vault)?;
    let id = vault.remove_identity(&me, &name)?;
    session
        .cache
        .remove(&crate::session::cache_scope(&vault, &id));
    super::print(&format!("removed identity {name} and all its access\n"))?;
    super::OK
}
