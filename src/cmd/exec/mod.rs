//! `vault exec -- COMMAND`: run a program with secrets in its environment.
//!
//! Everything that can fail or prompt happens before the program starts:
//! validate the options, find the program, unlock, select, decrypt, refuse
//! expired secrets, record the run in the audit log (a failure to record
//! warns, never stops the program). Only then does `process` replace vault
//! with the program or, when masking, supervise it. Variables that unlock the vault are
//! removed from the program's environment; it sees `VAULT_EXEC=1`.

mod explain;
mod files;
mod manifest;
mod plan;
mod prepare;
mod select;
mod template;

pub use prepare::prepare;

use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;

use crate::cli::{ExecArgs, MaskMode};
use crate::env;
use crate::error::{Error, Result};
use crate::model::SecretName;
use crate::process::{self, Launch, Masking, Values};
use crate::session::Session;
use crate::vault::{Unlocked, Vault};
use plan::{Fate, Plan};

/// The options, validated.
pub struct Request {
    pub only: Vec<SecretName>,
    pub services: Vec<String>,
    /// `--env TARGET=SECRET`, in order.
    pub renames: Vec<(String, SecretName)>,
    pub clean_env: bool,
    pub no_override: bool,
    pub allow_expired: bool,
    pub explain: bool,
    /// `--allow-dangerous-name`: variables this run accepts though they
    /// can take over the program.
    pub allow_dangerous: Vec<String>,
    /// `--explain --json`.
    pub json: bool,
    /// `--environment`.
    pub environment: Option<String>,
    pub mask: MaskMode,
    /// `--reason`: recorded in the audit log; an agent must give one.
    pub reason: Option<String>,
    /// `--file` and `--render` (whose `--file` mappings are also in
    /// `renames`).
    pub files: files::Files,
    pub command: Vec<OsString>,
}

impl Request {
    fn parse(args: ExecArgs) -> Result<Request> {
        let only = super::existing_secret_names(&args.only)?;
        let mut renames: Vec<(String, SecretName)> = Vec::new();
        for text in &args.rename {
            let (target, secret) = parse_rename(text)?;
            if renames.iter().any(|(t, _)| *t == target) {
                return Err(Error::EnvTargetTwice(target));
            }
            renames.push((target, secret));
        }
        let files = files::Files::parse(
            &args.file,
            &args.render,
            &args.allow_dangerous,
            &mut renames,
        )?;
        Ok(Request {
            only,
            services: args.service,
            renames,
            clean_env: args.clean_env,
            no_override: args.no_override,
            allow_expired: args.allow_expired,
            explain: args.explain,
            allow_dangerous: args.allow_dangerous,
            json: args.json,
            environment: args.environment,
            mask: args.mask,
            reason: reason(args.reason)?,
            files,
            command: args.command,
        })
    }
}

impl Request {
    /// No `--only`, `--service`, `--env`, `--file` or `--render`: every
    /// granted secret.
    fn selects_everything(&self) -> bool {
        self.only.is_empty()
            && self.services.is_empty()
            && self.renames.is_empty()
            && self.files.is_empty()
    }
}

/// The longest `--reason` the audit log keeps.
pub const MAX_REASON: usize = 1000;

/// A reason, trimmed; empty counts as none.
pub fn reason(text: Option<String>) -> Result<Option<String>> {
    let Some(text) = text else { return Ok(None) };
    let text = text.trim();
    if text.chars().count() > MAX_REASON {
        return Err(Error::Usage(format!(
            "--reason is longer than {MAX_REASON} characters"
        )));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// The rules an agent identity's exec follows: output always masked, and
/// a reason for every run (`--explain` runs nothing and needs none).
fn agent_rules(request: &Request, identity: &str) -> Result<()> {
    let rule = if request.mask == MaskMode::Never {
        "always runs with masking: --mask never is refused"
    } else if request.reason.is_none() && !request.explain {
        "must say why it runs a command: --reason is missing"
    } else {
        return Ok(());
    };
    Err(Error::AgentRule {
        identity: identity.to_owned(),
        rule,
    })
}

/// `TARGET=SECRET`: TARGET must be a safe variable name, SECRET a name.
fn parse_rename(text: &str) -> Result<(String, SecretName)> {
    let (target, secret) = text.split_once('=').ok_or_else(|| Error::EnvMappingShape {
        input: text.to_owned(),
    })?;
    SecretName::parse(target, false).map_err(|problem| Error::EnvTarget {
        target: target.to_owned(),
        problem,
    })?;
    Ok((target.to_owned(), super::existing_secret_name(secret)?))
}

/// Whether output is masked, and why, for `--explain`.
pub struct MaskDecision {
    pub on: bool,
    pub why: &'static str,
}

/// `--mask auto` masks when output is not a terminal, and at a terminal too
/// when `CI` says this is a CI job (some runners give jobs a
/// pseudo-terminal): GitHub Actions, GitLab, CircleCI and Buildkite set it.
fn decide_masking(mode: MaskMode, env: &[(OsString, OsString)], agent: bool) -> MaskDecision {
    if agent {
        return MaskDecision {
            on: true,
            why: "an agent identity's output is always masked",
        };
    }
    let terminals = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    let (on, why) = match mode {
        MaskMode::Never => (false, "--mask never"),
        MaskMode::Always => (true, "--mask always"),
        MaskMode::Auto if terminals && in_ci(env) => (true, "CI is set"),
        MaskMode::Auto if terminals => (false, "stdout and stderr are terminals"),
        MaskMode::Auto => (true, "stdout or stderr is not a terminal"),
    };
    MaskDecision { on, why }
}

/// Whether `CI` is set to something other than empty, `0` or `false`.
fn in_ci(env: &[(OsString, OsString)]) -> bool {
    env.iter()
        .find(|(k, _)| k == env::CI)
        .is_some_and(|(_, v)| !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false")))
}

pub fn run(session: &Session, args: ExecArgs) -> Result<u8> {
    let request = Request::parse(args)?;
    let program = match request.command.first() {
        Some(program) => Some(resolve(session, program)?),
        None if request.explain => None,
        None => return Err(Error::NoCommand),
    };

    let (vault, environment) = session.open_for_exec(request.environment.as_deref())?;
    let me = session.unlock(&vault)?;
    let agent = me.agent_until().is_some();
    if agent {
        agent_rules(&request, me.name())?;
    }
    vault.sign_if_unsigned(&me)?;
    // Selecting and decrypting read one state of the file, even if another
    // command writes meanwhile. (Not held over unlocking, which may wait
    // for a passphrase.)
    let reading = vault.reading()?;
    // Shown in notes and `--explain`: escaped, as all metadata from the file.
    let identity = crate::model::shown(me.name()).into_owned();
    // Secrets not granted matter only to --explain and to telling an
    // unknown --service from one with nothing granted.
    let whole_vault =
        request.explain || !request.services.is_empty() || request.files.needs_catalog();
    let grants = vault.grants(&me)?;
    let catalog = if whole_vault {
        vault.catalog(&me)?
    } else {
        grants.catalog()
    };
    let masking = decide_masking(request.mask, &session.env, agent);
    // --explain explains a selection exec would refuse, instead of
    // refusing it: that is when the user needs it.
    let in_project = manifest::applies(
        session.manifest.as_ref(),
        &request.only,
        !request.services.is_empty() || !request.renames.is_empty() || !request.files.is_empty(),
    );
    let mut view = None;
    let selected = match session.manifest.as_ref().filter(|_| in_project) {
        Some(m) => manifest::select(m, environment, &catalog, || vault.catalog(&me), &identity)
            .map(|(selection, v)| {
                view = Some(v);
                selection
            }),
        None => select::select(&request, &catalog, &identity),
    };
    let chosen = selected.and_then(|mut selection| {
        let files = &request.files;
        files.check_catalog(&catalog, &identity)?;
        files.keep_out_of_environment(&mut selection, &request.only, &request.renames);
        let (secrets, skipped) = vault.decrypt(&me, grants, &files.wanted(selection.wanted()))?;
        refuse_expired_access(&selection, &skipped, &identity)?;
        let now = crate::time::now();
        files.check_decrypted(&secrets, &skipped, &identity, request.allow_expired, now)?;
        Ok((selection, secrets, skipped))
    });
    drop(catalog);
    drop(reading);
    // What was read in place of a clean file is handed on only if the
    // file is still as it was (`store::frozen`).
    vault.confirm_unchanged()?;
    let (selection, secrets, skipped) = match chosen {
        Ok(chosen) => chosen,
        Err(e) if request.explain && request.json => {
            let report = explain::Report::new(&identity, &masking, program.as_deref());
            super::print_json(&report.refused(&e))?;
            return super::OK;
        }
        Err(e) if request.explain => {
            super::print(&explain::refusal(
                &e,
                &identity,
                &masking,
                program.as_deref(),
            ))?;
            return super::OK;
        }
        Err(e) => return Err(e),
    };
    let mut plan = Plan::new(
        &request,
        &selection,
        &secrets,
        &skipped,
        &session.env,
        crate::time::now(),
    );
    if let Some(view) = view.as_mut() {
        plan.mark_files(|var| view.is_file(var));
        view.check(&vault, &me, &plan, &secrets)?;
    }
    if request.explain && request.json {
        let report = explain::Report::new(&identity, &masking, program.as_deref());
        let mut report = report.planned(&plan);
        if let Some(view) = &view {
            report["manifest"] = view.json();
        }
        super::print_json(&report)?;
        return super::OK;
    }
    if request.explain {
        let mut text = explain::render(&plan, &identity, &masking, program.as_deref());
        if let Some(view) = &view {
            text.push_str(&view.explain());
        }
        super::print(&text)?;
        return super::OK;
    }
    if let Some(view) = &view {
        view.refusal()?;
    }
    refuse(&plan, &request, agent)?;
    let mut memory = request.files.open(&plan, &secrets)?;
    if let Some(view) = &view {
        memory.extend(view.default_files(&plan, request.no_override)?);
    }
    explain::notes(&plan, &identity, masking.on);
    if selection.vars.is_empty() && request.selects_everything() && view.is_none() {
        eprintln!(
            "warning: identity {identity} has access to no secret: the program runs without any \
             (an identity that manages secrets can grant them: vault grant NAME --to {identity})"
        );
    }
    if session.env.iter().any(|(k, _)| k == env::EXEC_MARKER) {
        eprintln!("warning: running inside another vault exec");
    }
    let program_name = request.command.first().ok_or(Error::NoCommand)?;
    record(
        &vault,
        &me,
        &plan,
        program_name,
        request.reason.as_deref(),
        None,
    );
    drop(me);
    drop(vault);

    let masking = if masking.on {
        // An agent transforms what it handles: its masker also knows each
        // value's encodings (base64, hex, URL-encoding).
        let values = plan.injected().chain(request.files.mask_values(&secrets));
        Values::new(values, agent).map(|values| Masking {
            values,
            pty_allowed: !test_no_pty(session),
        })
    } else {
        None
    };
    let mut env = plan.environment();
    if let Some(view) = &view {
        view.apply(&mut env, request.no_override);
    }
    files::set_paths(&mut env, &memory);
    let launch = Launch {
        program: program.ok_or(Error::NoCommand)?,
        env,
        argv: request.command,
        files: memory.into_iter().map(|(_, file)| file).collect(),
    };
    drop(plan);
    drop(request.files);
    drop(secrets);
    process::run(launch, masking)
}

/// Finds `program` on the `PATH` of the session's environment.
fn resolve(session: &Session, program: &OsStr) -> Result<std::path::PathBuf> {
    let path_var = session
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_os_str());
    process::resolve(program, path_var)
}

/// Refuses a selection naming a secret (`--only`, `--env`) whose access
/// has expired: what exec would skip in a plain run is an error when asked
/// for by name.
fn refuse_expired_access(
    selection: &select::Selection,
    skipped: &[crate::vault::Skipped],
    identity: &str,
) -> Result<()> {
    match skipped
        .iter()
        .find(|s| selection.explicit.contains(&s.name))
    {
        Some(s) => Err(Error::Selection(format!(
            "the access of {identity} to {} has expired",
            s.name
        ))),
        None => Ok(()),
    }
}

/// The refusals of a plan, for every run: a variable that can take over
/// the program, a value too short to mask for an agent, an expired secret.
fn refuse(plan: &Plan<'_>, request: &Request, agent: bool) -> Result<()> {
    refuse_dangerous(plan, request)?;
    if agent {
        prepare::refuse_unmaskable(plan)?;
    }
    let expired: Vec<&SecretName> = plan.with_fate(Fate::Expired).map(|e| &e.secret).collect();
    match expired.is_empty() {
        true => Ok(()),
        false => Err(Error::Expired(super::join_names(&expired))),
    }
}

/// Refuses to inject a variable that lets its value take over the program
/// (`BASH_ENV`, `NODE_OPTIONS`, `LD_PRELOAD`...) unless this exec line
/// accepts it by name: whoever added such a secret opted in with
/// `--allow-dangerous-name` for themselves, and anyone who can write the
/// vault file could have added it; the consumer decides for its own run.
fn refuse_dangerous(plan: &Plan<'_>, request: &Request) -> Result<()> {
    let refused: Vec<&str> = plan
        .with_fate(Fate::Inject)
        .map(|e| e.var)
        .filter(|var| crate::model::name_danger(var).is_some_and(|d| d.class.refused()))
        .filter(|var| !request.allow_dangerous.iter().any(|a| a == var))
        .collect();
    match refused.first() {
        None => Ok(()),
        Some(first) => Err(Error::DangerousAtExec {
            names: refused.join(", "),
            first: (*first).to_owned(),
        }),
    }
}

/// Records this run in the audit log: the injected secrets' names, the
/// program as typed (never its arguments), the working directory, the
/// reason and what asked for the run (`via`: `vault mcp`'s tool). A vault
/// that cannot record it (read-only, or locked by another command for too
/// long) warns once on stderr and runs the program anyway. Returns the
/// names recorded.
fn record(
    vault: &Vault,
    me: &Unlocked,
    plan: &Plan<'_>,
    program: &OsStr,
    reason: Option<&str>,
    via: Option<&'static str>,
) -> Vec<SecretName> {
    let mut names: Vec<SecretName> = plan
        .with_fate(Fate::Inject)
        .map(|e| e.secret.clone())
        .chain(plan.rendered.iter().flat_map(|r| r.secrets.iter().cloned()))
        .collect();
    names.sort();
    names.dedup();
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let run = crate::vault::ExecRun {
        program: &program.to_string_lossy(),
        cwd: &cwd,
        reason,
        via,
    };
    if let Err(e) = vault.record_exec(me, &names, &run) {
        eprintln!("warning: this run is not recorded in the audit log: {e}");
    }
    names
}

/// Debug builds only: `VAULT_TEST_NO_PTY=1` makes opening a
/// pseudo-terminal fail, so the test suite can prove that error.
fn test_no_pty(session: &Session) -> bool {
    cfg!(debug_assertions)
        && session
            .env
            .iter()
            .any(|(k, v)| k == env::TEST_NO_PTY && v == "1")
}
