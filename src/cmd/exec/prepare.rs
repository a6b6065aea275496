//! exec's checks and choices for a run that is not `vault exec`'s own:
//! `vault mcp`'s `run` tool. The same selection, decryption, refusals and
//! audit entry as exec, with an agent's masking (encodings included), and
//! no notes on stderr: the caller reports in its own protocol. In a
//! project, a run that names no secrets gets what the manifest declares,
//! with exec's refusals (`manifest.rs`).

use std::ffi::OsString;

use super::plan::{Fate, Plan};
use super::{manifest, record, refuse, refuse_expired_access, resolve, select, Request};
use crate::cli::MaskMode;
use crate::error::{Error, Result};
use crate::model::{Environment, SecretName};
use crate::process::{self, Launch, Values};
use crate::session::Session;
use crate::vault::{Unlocked, Vault};

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

/// Prepares `command` with the secrets `only` names for `me` in
/// `environment` (the one `vault` was opened in): when `None`, what the
/// session's manifest declares, else every granted one; none when empty.
/// Records the run with `reason`, `via` naming what asked for it.
#[allow(clippy::too_many_arguments)]
pub fn prepare(
    session: &Session,
    vault: &Vault,
    me: &Unlocked,
    environment: Option<&Environment>,
    only: Option<Vec<SecretName>>,
    command: Vec<OsString>,
    reason: &str,
    via: &'static str,
) -> Result<Prepared> {
    let first = command.first().ok_or(Error::NoCommand)?.clone();
    let program = resolve(session, &first)?;
    let nothing = only.as_ref().is_some_and(Vec::is_empty);
    let project = session.manifest.as_ref().filter(|_| only.is_none());
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
        environment: environment.map(|e| e.to_string()),
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
    let mut view = None;
    let selection = match project {
        Some(m) => {
            let whole = || vault.catalog(me);
            let (selection, v) =
                manifest::select(m, environment.cloned(), &catalog, whole, &identity)?;
            view = Some(v);
            selection
        }
        None if nothing => select::Selection {
            vars: Default::default(),
            not_granted: Default::default(),
            explicit: Vec::new(),
        },
        None => select::select(&request, &catalog, &identity)?,
    };
    let (secrets, skipped) = vault.decrypt(me, grants, &selection.wanted())?;
    refuse_expired_access(&selection, &skipped, &identity)?;
    drop(reading);
    let plan = Plan::new(
        &request,
        &selection,
        &secrets,
        &skipped,
        &session.env,
        crate::time::now(),
    );
    if let Some(view) = view.as_mut() {
        view.check(vault, me, &plan, &secrets)?;
        view.refusal()?;
    }
    // An agent's rules: mcp serves agent tokens only.
    refuse(&plan, &request, true)?;
    // As exec: a run that cannot be recorded still runs, with a warning
    // on stderr (the host's log, never the protocol).
    let injected = record(vault, me, &plan, &first, Some(reason), Some(via));
    let mut env = plan.environment();
    if let Some(view) = &view {
        view.apply(&mut env, false);
    }
    Ok(Prepared {
        values: Values::new(plan.injected(), true),
        launch: Launch {
            program,
            env,
            argv: request.command,
            files: Vec::new(),
        },
        injected,
    })
}
