//! `vault exec -- COMMAND`: run a program with secrets in its environment.
//!
//! Everything that can fail or prompt happens before the program starts:
//! find the program, unlock, decrypt. Variables that unlock the vault are
//! removed from the program's environment; it sees `VAULT_EXEC=1`.

use std::collections::BTreeMap;
use std::ffi::OsString;

use crate::cli::ExecArgs;
use crate::env;
use crate::error::{Error, Result};
use crate::process;
use crate::session::Session;
use crate::vault::Decrypted;

pub fn run(session: &Session, args: ExecArgs) -> Result<u8> {
    let (program, _) = args.command.split_first().ok_or(Error::NoCommand)?;
    let path_var = session
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_os_str());
    let program_path = process::resolve(program, path_var)?;

    let only = if args.only.is_empty() {
        None
    } else {
        Some(super::existing_secret_names(&args.only)?)
    };
    let vault = session.open()?;
    let me = session.unlock(&vault)?;
    let (secrets, skipped) = vault.decrypt(&me, only.as_deref(), &args.service)?;

    if let Some(name) = only
        .iter()
        .flatten()
        .find(|n| skipped.iter().any(|s| &s.name == *n))
    {
        return Err(Error::Selection(format!(
            "the access of {} to {name} has expired",
            me.name()
        )));
    }
    for s in &skipped {
        eprintln!(
            "vault: not injecting {}: the access of {} to it has expired",
            s.name,
            me.name()
        );
    }
    if secrets.is_empty() && (only.is_some() || !args.service.is_empty()) {
        return Err(Error::Selection(format!(
            "no secret matches --service {} for identity {}",
            args.service.join(", "),
            me.name()
        )));
    }
    if session.env.iter().any(|(k, _)| k == env::EXEC_MARKER) {
        eprintln!("vault: running inside another vault exec");
    }
    let child_env = child_environment(&session.env, &secrets);
    Err(process::replace(&program_path, &args.command, child_env))
}

/// The parent's environment without unlocking variables, plus `VAULT_EXEC=1`
/// and every secret (a secret overrides a variable of the same name).
fn child_environment(
    parent: &[(OsString, OsString)],
    secrets: &[Decrypted],
) -> BTreeMap<OsString, OsString> {
    let mut vars: BTreeMap<OsString, OsString> = parent
        .iter()
        .filter(|(k, _)| !env::UNLOCKING.iter().any(|u| k == u))
        .cloned()
        .collect();
    vars.insert(env::EXEC_MARKER.into(), "1".into());
    for s in secrets {
        use std::os::unix::ffi::OsStrExt;
        vars.insert(
            s.name.as_str().into(),
            std::ffi::OsStr::from_bytes(s.value.expose()).to_owned(),
        );
    }
    vars
}
