//! exec's checks and choices for a run that is not `vault exec`'s own:
//! `vault mcp`'s `run` tool. The same selection, decryption, refusals and
//! audit entry as exec, with an agent's masking (encodings included), and
//! no notes on stderr: the caller reports in its own protocol.

use std::ffi::OsString;

use super::plan::{Fate, Plan};
use super::{refuse_dangerous, select, Request};
use crate::cli::MaskMode;
use crate::error::{Error, Result};
use crate::model::SecretName;
use crate::process::{self, Launch, Values};
use crate::session::Session;
use crate::vault::{ExecRun, Unlocked, Vault};

/// Refuses, for an agent, a value too short to mask ([`process::MIN_LEN`]):
/// it would reach the agent as it is.
pub fn refuse_unmaskable(plan: &Plan<'_>) -> Result<()> {
    let short: Vec<&SecretName> = plan
        .with_fate(Fate::Inject)
        .filter(|e| e.value.is_some_and(|v| v.value.len() < process::MIN_LEN))
        .map(|e| &e.secret)
        .collect();
    match short.is_empty() {
        true => Ok(()),
        false => Err(Error::TooShortToMask(super::super::join_names(&short))),
    }
}

/// A run ready to start.
pub struct Prepared {
    pub launch: Launch,
    /// Every injected value and its encodings, to mask.
    pub values: Option<Values>,
    /// The injected secrets' names.
    pub injected: Vec<SecretName>,
}

/// Prepares `command` with the secrets `only` names (every granted one
/// when `None`, none when empty) for `me`, and records the run with
/// `reason`, `via` naming what asked for it.
pub fn prepare(
    session: &Session,
    vault: &Vault,
    me: &Unlocked,
    only: Option<Vec<SecretName>>,
    command: Vec<OsString>,
    reason: &str,
    via: &'static str,
) -> Result<Prepared> {
    let path_var = session
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_os_str());
    let first = command.first().ok_or(Error::NoCommand)?.clone();
    let program = process::resolve(&first, path_var)?;
    let nothing = only.as_ref().is_some_and(Vec::is_empty);
    let request = Request {
        only: only.unwrap_or_default(),
        services: Vec::new(),
        renames: Vec::new(),
        clean_env: false,
        no_override: false,
        allow_expired: false,
        explain: false,
        allow_dangerous: Vec::new(),
        json: false,
        // The run tool acts in no environment: shared secrets only.
        environment: None,
        mask: MaskMode::Always,
        reason: Some(reason.to_owned()),
        // The run tool has no --file or --render.
        files: Default::default(),
        command,
    };
    let reading = vault.reading()?;
    let identity = crate::model::shown(me.name()).into_owned();
    let grants = vault.grants(me)?;
    let catalog = grants.catalog();
    let selection = match nothing {
        false => select::select(&request, &catalog, &identity)?,
        true => select::Selection {
            vars: Default::default(),
            not_granted: Default::default(),
            explicit: Vec::new(),
        },
    };
    let (secrets, skipped) = vault.decrypt(me, grants, &selection.wanted())?;
    if let Some(s) = skipped
        .iter()
        .find(|s| selection.explicit.contains(&s.name))
    {
        return Err(Error::Selection(format!(
            "the access of {identity} to {} has expired",
            s.name
        )));
    }
    drop(reading);
    let plan = Plan::new(
        &request,
        &selection,
        &secrets,
        &skipped,
        &session.env,
        crate::time::now(),
    );
    refuse_dangerous(&plan, &request)?;
    let expired: Vec<&SecretName> = plan.with_fate(Fate::Expired).map(|e| &e.secret).collect();
    if !expired.is_empty() {
        return Err(Error::Expired(super::super::join_names(&expired)));
    }
    refuse_unmaskable(&plan)?;
    let mut injected: Vec<SecretName> = plan
        .with_fate(Fate::Inject)
        .map(|e| e.secret.clone())
        .collect();
    injected.sort();
    injected.dedup();
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let run = ExecRun {
        program: &first.to_string_lossy(),
        cwd: &cwd,
        reason: Some(reason),
        via: Some(via),
    };
    // As exec: a run that cannot be recorded still runs, with a warning
    // on stderr (the host's log, never the protocol).
    if let Err(e) = vault.record_exec(me, &injected, &run) {
        eprintln!("warning: this run is not recorded in the audit log: {e}");
    }
    Ok(Prepared {
        values: Values::new(plan.injected(), true),
        launch: Launch {
            program,
            env: plan.environment(),
            argv: request.command,
            files: Vec::new(),
        },
        injected,
    })
}
