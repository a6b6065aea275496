//! Shell completion: the scripts `vault completions SHELL` prints, and the
//! answers they ask the binary for at TAB time.
//!
//! Owns clap_complete (its dynamic engine). The scripts call back into vault
//! as `VAULT_COMPLETE=SHELL vault -- WORDS...`, so every shell completes from
//! the one clap definition in `cli/`; [`run_if_requested`] answers before
//! `lib::run` does anything else. Names come from the vault's plaintext
//! metadata through [`Vault::open_read_only`]: completion never unlocks,
//! prompts or touches a keyring, and when the vault is missing, locked or
//! unreadable it completes nothing and prints nothing, so no error ever
//! lands in the middle of the user's command line.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Arg, Command, CommandFactory};
use clap_complete::engine::{
    ArgValueCandidates, ArgValueCompleter, CompletionCandidate, PathCompleter, ValueCompleter,
};
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
use clap_complete::CompleteEnv;

use crate::cli::{Cli, Shell};
use crate::env;
use crate::error::exit;
use crate::manifest::{Locate, Manifest};
use crate::vault::{NameKind, Vault};

/// The scripts kept under `completions/`, named where each shell (or its
/// packagers) look for them.
pub const SCRIPT_FILES: &[(Shell, &str)] = &[
    (Shell::Bash, "vault.bash"),
    (Shell::Zsh, "_vault"),
    (Shell::Fish, "vault.fish"),
    (Shell::Elvish, "vault.elv"),
    (Shell::Powershell, "_vault.ps1"),
];

/// Arguments that name an existing secret: (subcommand path, argument id).
const SECRET_ARGS: &[(&str, &str)] = &[
    ("rename", "old"),
    ("rotate", "name"),
    ("delete", "names"),
    ("grant", "names"),
    ("revoke", "names"),
    ("exec", "only"),
    ("audit", "secret"),
    ("git resolve", "names"),
];

/// Arguments that name an existing identity besides every one whose value
/// name is `IDENTITY` (`--as`, `--to`, `--from`).
const IDENTITY_ARGS: &[(&str, &str)] = &[("identity remove", "name")];

/// Answers a completion request from a shell script, if this is one.
pub fn run_if_requested(args: &[OsString]) -> Option<ExitCode> {
    let requested = std::env::var_os(env::COMPLETE)?;
    if requested.is_empty() || requested == "0" {
        return None;
    }
    let words: Vec<&OsString> = args.iter().skip_while(|a| *a != "--").skip(1).collect();
    let current_dir = std::env::current_dir().ok();
    let manifest = project_manifest(&words, current_dir.as_deref());
    let vault = Arc::new(vault_path(&words, manifest.as_ref()));
    let line = Arc::new(ProgramLine::from_words(&words));
    let names = Arc::new(Names {
        vault,
        manifest: manifest.map(Arc::new),
    });
    let answered = CompleteEnv::with_factory(move || command(&names, &line))
        .var(env::COMPLETE)
        .bin("vault")
        .completer("vault")
        .try_complete(args, current_dir.as_deref());
    match answered {
        Ok(true) => Some(ExitCode::SUCCESS),
        Ok(false) => None,
        Err(e) => {
            let _ = e.print();
            Some(ExitCode::from(exit::FAILURE))
        }
    }
}

/// The registration script for `shell`: what `vault completions SHELL`
/// prints and `completions/` keeps. It runs `vault` from PATH.
pub fn script(shell: Shell) -> String {
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &Bash,
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
        Shell::Elvish => &Elvish,
        Shell::Powershell => &Powershell,
    };
    let mut buf = Vec::new();
    completer
        .write_registration(env::COMPLETE, "vault", "vault", "vault", &mut buf)
        .expect("writing to memory cannot fail");
    let script = String::from_utf8_lossy(&buf).into_owned();
    match shell {
        Shell::Zsh => zsh_autoloadable(script),
        _ => script,
    }
}

/// clap_complete's zsh script only registers itself, so installed in
/// `fpath` as `_vault` the first TAB of a session would complete nothing.
/// Completing when autoloaded and registering when sourced makes the one
/// file work both ways, as zsh's own completion functions do.
fn zsh_autoloadable(script: String) -> String {
    const REGISTER: &str = "compdef _clap_dynamic_completer_vault vault";
    const BOTH: &str = "if [ \"$funcstack[1]\" = \"_vault\" ]; then\n    \
        _clap_dynamic_completer_vault \"$@\"\nelse\n    \
        compdef _clap_dynamic_completer_vault vault\nfi";
    script.replacen(REGISTER, BOTH, 1)
}

/// Where completion takes names from: the vault, and the project's
/// manifest (its variables after `exec --only`, its environments).
struct Names {
    vault: Arc<PathBuf>,
    manifest: Option<Arc<Manifest>>,
}

/// The manifest the command line would use (`VAULT_MANIFEST`, else
/// `vault.toml` here or above), unless it says `--no-manifest`; none when
/// it cannot be read: completion never prints an error.
fn project_manifest(words: &[&OsString], current_dir: Option<&Path>) -> Option<Manifest> {
    if words.iter().any(|w| *w == "--no-manifest") {
        return None;
    }
    let how = match env::var(env::MANIFEST) {
        Some(path) => Locate::At(path.into()),
        None => Locate::Search(current_dir?.to_owned()),
    };
    Manifest::locate(how, None).ok().flatten()
}

/// The vault the command line being completed names (`--vault PATH` or
/// `--vault=PATH`), else `VAULT_PATH`, else the manifest's, else the
/// default location.
fn vault_path(words: &[&OsString], manifest: Option<&Manifest>) -> PathBuf {
    let before_current = &words[..words.len().saturating_sub(1)];
    let mut iter = before_current.iter().map(|w| w.to_string_lossy());
    let mut named = None;
    while let Some(word) = iter.next() {
        if word == "--" {
            break;
        } else if word == "--vault" {
            // bash splits `--vault=PATH` into three words at the `=`.
            named = iter
                .next()
                .and_then(|w| if w == "=" { iter.next() } else { Some(w) });
        } else if let Some(path) = word.strip_prefix("--vault=") {
            named = Some(path.to_owned().into());
        }
    }
    match named {
        Some(path) => expand_tilde(&path),
        None => env::var(env::PATH)
            .map(PathBuf::from)
            .or_else(|| manifest.and_then(|m| m.vault.clone()))
            .or_else(|| crate::session::default_vault_path().ok())
            .unwrap_or_default(),
    }
}

/// A shell hands completion `~/x.db` unexpanded.
fn expand_tilde(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// The clap command with the vault's names attached to the arguments that
/// take them.
fn command(names: &Arc<Names>, line: &Arc<ProgramLine>) -> Command {
    annotate(built(), "", names, line)
}

/// The whole command tree: subcommands are built lazily (`defer`), so that
/// a run pays only for its own.
fn built() -> Command {
    let mut cli = Cli::command();
    cli.build();
    cli
}

fn annotate(cmd: Command, path: &str, names: &Arc<Names>, line: &Arc<ProgramLine>) -> Command {
    // `mut_args` keeps the arguments in order: positionals are numbered by
    // it (`mut_arg` would move the one it changes to the end).
    let mut cmd = cmd.mut_args(|arg| match kind_for(path, &arg) {
        Some(kind) => {
            let declared = path == "exec" && arg.get_id() == "only";
            arg.add(candidates(names, kind, declared))
        }
        None if path == "exec" && arg.get_id() == "command" => {
            arg.add(ArgValueCompleter::new(ProgramWord(Arc::clone(line))))
        }
        None => arg,
    });
    let subcommands: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in subcommands {
        let sub_path = format!("{path} {name}").trim_start().to_owned();
        cmd = cmd.mut_subcommand(&name, |sub| annotate(sub, &sub_path, names, line));
    }
    cmd
}

fn kind_for(path: &str, arg: &Arg) -> Option<NameKind> {
    let key = (path, arg.get_id().as_str());
    if SECRET_ARGS.contains(&key) {
        return Some(NameKind::Secret);
    }
    if IDENTITY_ARGS.contains(&key) {
        return Some(NameKind::Identity);
    }
    match arg.get_value_names()?.first()?.as_str() {
        "IDENTITY" => Some(NameKind::Identity),
        "SERVICE" => Some(NameKind::Service),
        "ENV" => Some(NameKind::Environment),
        _ => None,
    }
}

/// `declared`: also the manifest's variables (after `exec --only`).
fn candidates(names: &Arc<Names>, kind: NameKind, declared: bool) -> ArgValueCandidates {
    let names = Arc::clone(names);
    ArgValueCandidates::new(move || {
        let mut offered = from_vault(&names.vault, kind);
        if let Some(manifest) = &names.manifest {
            let extra: Vec<(String, Option<String>)> = match kind {
                NameKind::Environment => manifest
                    .environments
                    .iter()
                    .chain(&manifest.environment)
                    .map(|e| (e.to_string(), None))
                    .collect(),
                NameKind::Secret if declared => manifest
                    .vars
                    .iter()
                    .map(|v| (v.name.to_string(), v.description.clone()))
                    .collect(),
                _ => Vec::new(),
            };
            for (name, note) in extra {
                if !offered.iter().any(|c| c.get_value() == name.as_str()) {
                    offered.push(candidate(name, note));
                }
            }
        }
        offered
    })
}

/// The names, each with its note (a secret's service); nothing at all when
/// the vault cannot be read, whatever the reason. A name holding a control
/// character (a row edited by hand) is not offered, and notes are escaped:
/// the shell prints both to the terminal.
fn from_vault(vault: &Path, kind: NameKind) -> Vec<CompletionCandidate> {
    let Ok(vault) = Vault::open_read_only(vault) else {
        return Vec::new();
    };
    let names = vault.completion_names(kind).unwrap_or_default();
    names
        .into_iter()
        .map(|(name, note)| candidate(name, note))
        .filter(|c| crate::model::text_problem(&c.get_value().to_string_lossy()).is_none())
        .collect()
}

fn candidate(name: String, note: Option<String>) -> CompletionCandidate {
    let note = note.map(|n| crate::model::shown(&n).into_owned().into());
    CompletionCandidate::new(name).help(note)
}

/// Where the word being completed sits on an `exec` line: its index among
/// the words after `--` (0 is the program), if it is after `--` at all.
///
/// clap's engine does not count the words after `--` for a completer, so
/// this reads the line itself: bash and zsh pass the index of the word at
/// the cursor (`_CLAP_COMPLETE_INDEX`), fish passes the line up to the
/// cursor, so the word is its last.
struct ProgramLine {
    index_after_escape: Option<usize>,
}

impl ProgramLine {
    fn from_words(words: &[&OsString]) -> ProgramLine {
        let current = std::env::var("_CLAP_COMPLETE_INDEX")
            .ok()
            .and_then(|i| i.parse::<usize>().ok())
            .unwrap_or(words.len().saturating_sub(1));
        let exec = words.iter().position(|w| *w == "exec");
        let escape = exec.and_then(|e| words[e..].iter().position(|w| *w == "--").map(|d| e + d));
        ProgramLine {
            index_after_escape: escape.filter(|d| current > *d).map(|d| current - d - 1),
        }
    }
}

/// The words after `exec --`, completed as the shell would complete them
/// on a line of their own: first a program (a command on PATH, or a path
/// when the word has a `/`), then files.
struct ProgramWord(Arc<ProgramLine>);

impl ValueCompleter for ProgramWord {
    fn complete(&self, current: &OsStr) -> Vec<CompletionCandidate> {
        if self.0.index_after_escape.unwrap_or(0) > 0 {
            return PathCompleter::any().complete(current);
        }
        if current.as_encoded_bytes().contains(&b'/') {
            return PathCompleter::any()
                .filter(|p| p.is_dir() || is_executable(p))
                .complete(current);
        }
        programs(current, std::env::var_os("PATH").as_deref())
    }
}

/// The commands on `path_var` whose names start with `prefix`, each once,
/// sorted.
fn programs(prefix: &OsStr, path_var: Option<&OsStr>) -> Vec<CompletionCandidate> {
    let prefix = prefix.as_encoded_bytes();
    let mut names: Vec<OsString> = std::env::split_paths(path_var.unwrap_or_default())
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().as_encoded_bytes().starts_with(prefix))
        .filter(|entry| is_executable(&entry.path()))
        .map(|entry| entry.file_name())
        .collect();
    names.sort();
    names.dedup();
    names.into_iter().map(CompletionCandidate::new).collect()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table entry still names a real argument: a renamed one would
    /// silently stop completing.
    #[test]
    fn tables_name_real_arguments() {
        let cli = built();
        for (path, id) in SECRET_ARGS.iter().chain(IDENTITY_ARGS) {
            let mut cmd = &cli;
            for name in path.split(' ') {
                cmd = cmd.find_subcommand(name).expect(path);
            }
            assert!(
                cmd.get_arguments().any(|a| a.get_id() == *id),
                "{path} {id}"
            );
        }
    }

    #[test]
    fn the_vault_named_on_the_line_wins() {
        let words = ["vault", "--vault", "/a.db", "rotate", "ST"].map(OsString::from);
        let refs: Vec<&OsString> = words.iter().collect();
        assert_eq!(vault_path(&refs, None), PathBuf::from("/a.db"));
        let words = ["vault", "--vault", "=", "/b.db", "rotate", ""].map(OsString::from);
        let refs: Vec<&OsString> = words.iter().collect();
        assert_eq!(vault_path(&refs, None), PathBuf::from("/b.db"));
    }
}
