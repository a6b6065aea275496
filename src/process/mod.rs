//! Running the program `exec` was given: finding it, then either replacing
//! vault with it or supervising it while its output is masked.
//!
//! With nothing to mask, vault replaces itself (execve): the program keeps
//! the PID, the terminal, its signals and its own exit status, and vault
//! does no work at all once it runs. With masking, vault stays as a small
//! supervisor: it streams the program's stdout and stderr through the
//! masker, forwards signals, and exits with the program's status.
//!
//! This module sees secret values only as masking patterns and as the
//! child's environment; it never prints them. It depends on nothing above
//! it (`cmd`, `vault`).

mod mask;
mod pty;
mod resolve;
mod signals;
mod supervise;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use crate::error::{Error, Result};

pub use mask::{Patterns, MIN_LEN};
pub use resolve::resolve;

/// Everything needed to start the program.
pub struct Launch {
    /// The resolved path of the program.
    pub program: PathBuf,
    /// Its arguments, the first being the name it was given as.
    pub argv: Vec<OsString>,
    /// Its whole environment.
    pub env: BTreeMap<OsString, OsString>,
}

/// How output is masked when vault supervises.
pub struct Masking {
    pub patterns: Patterns,
    /// Debug builds' tests turn this off to prove the error when no
    /// pseudo-terminal can be opened.
    pub pty_allowed: bool,
}

/// Runs the program: replaced (`masking` is `None`) or supervised. Returns
/// the exit status vault should end with.
pub fn run(launch: Launch, masking: Option<Masking>) -> Result<u8> {
    match masking {
        None => Err(replace(launch)),
        Some(masking) => supervise::run(&launch, masking),
    }
}

/// The command for `launch`, with nothing inherited but stdin, stdout and
/// stderr (which callers may change).
fn command(launch: &Launch) -> std::process::Command {
    let mut command = std::process::Command::new(&launch.program);
    if let Some(arg0) = launch.argv.first() {
        command.arg0(arg0);
    }
    command
        .args(launch.argv.iter().skip(1))
        .env_clear()
        .envs(&launch.env);
    command
}

/// Replaces this process with the program. Returns only on failure.
fn replace(mut launch: Launch) -> Error {
    let mut command = command(&launch);
    // The command has its own copy of the environment: with ten thousand
    // secrets, a second one is a megabyte of peak memory.
    launch.env.clear();
    launch_error(&launch, command.exec())
}

/// Why the program could not be started: 127 if it vanished since it was
/// resolved, else 126.
fn launch_error(launch: &Launch, e: std::io::Error) -> Error {
    let shown = launch
        .argv
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::CommandNotFound(shown),
        _ => Error::NotExecutable {
            program: shown,
            source: e,
        },
    }
}
