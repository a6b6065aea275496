//! vault: an encrypted local secret manager that hands secrets to programs
//! as environment variables.
//!
//! `run` is the whole program: parse the command line, build the session,
//! dispatch to one command, and turn the outcome into output and an exit
//! status. See docs/DESIGN.md for the layout and docs/SECURITY.md for the
//! construction.

// One exception, in process/mod.rs: the hook that makes a supervised
// program die with vault runs between fork and exec, which std only offers
// as an unsafe function. Everything else stays safe code.
#![deny(unsafe_code)]

pub mod cli;
mod cmd;
mod complete;
pub mod crypto;
mod dotenv;
pub mod env;
pub mod error;
mod git;
mod keycache;
mod man;
pub mod manifest;
mod mcp;
pub mod merge;
pub mod model;
mod process;
mod project;
mod scan;
pub mod secret;
mod session;
pub mod store;
mod suggest;
mod terminal;
pub mod time;
mod trust_state;
mod usage;
pub mod vault;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::cli::Cli;
use crate::error::{exit, Error};

/// Runs vault with these arguments (the first is the program name).
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    // A shell asking for completions at TAB time: answer and stop, before
    // anything else (it reads plaintext names only, never a key).
    if let Some(code) = complete::run_if_requested(&args) {
        return code;
    }
    // Keys and values never reach a core dump, and no other process of this
    // user can ptrace us. execve resets this for exec's child.
    let _ = nix::sys::prctl::set_dumpable(false);
    // A file size limit (`ulimit -f`) must fail a write with EFBIG, which
    // SQLite rolls back cleanly, rather than kill vault mid-transaction.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let cli = match Cli::parse_args(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let failed = if is_exec(&args) {
                exit::EXEC_FAILED
            } else {
                exit::FAILURE
            };
            if let Some(answer) = usage::explain(&e, &args) {
                report(&answer);
                return ExitCode::from(failed);
            }
            let _ = e.print();
            return ExitCode::from(match e.exit_code() {
                0 => exit::OK,
                _ => failed,
            });
        }
    };
    let is_exec = matches!(cli.command, cli::Command::Exec(_));
    match cmd::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            report(&e);
            ExitCode::from(match e.exit_code() {
                exit::FAILURE if is_exec => exit::EXEC_FAILED,
                code => code,
            })
        }
    }
}

/// Prints an error and its hint on stderr.
/// Both are escaped as metadata is: an error may name a secret or an
/// identity read from the file.
fn report(e: &Error) {
    eprintln!("error: {}", crate::model::shown(&e.to_string()));
    if let Some(hint) = e.hint() {
        eprintln!("hint: {}", crate::model::shown(&hint));
    }
}

/// Whether a command line that clap refused was meant for `exec`, so its
/// usage errors answer 125 as env(1)'s do.
fn is_exec(args: &[OsString]) -> bool {
    const TAKES_VALUE: &[&str] = &["--vault", "--as", "--passphrase-file"];
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let arg = arg.to_string_lossy();
        if TAKES_VALUE.contains(&arg.as_ref()) {
            iter.next();
        } else if !arg.starts_with('-') {
            return arg == "exec";
        }
    }
    false
}
