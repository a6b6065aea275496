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

mod capture;
mod encodings;
mod mask;
mod memfile;
mod pty;
mod relay;
mod replace;
mod resolve;
mod shapes;
mod signals;
mod supervise;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use crate::error::{Error, Result};

pub use capture::{capture, Captured, Limits, Output as CapturedOutput};
pub use mask::{Values, MIN_LEN};
pub use memfile::{MemFile, SUPPORTED as MEMORY_FILES};
pub use resolve::resolve;

/// Everything needed to start the program.
pub struct Launch {
    /// The resolved path of the program.
    pub program: PathBuf,
    /// Its arguments, the first being the name it was given as.
    pub argv: Vec<OsString>,
    /// Its whole environment.
    pub env: BTreeMap<OsString, OsString>,
    /// Memory files the program inherits (`--file`, `--render`); their
    /// paths are already in `env`. Usually none.
    pub files: Vec<MemFile>,
}

/// How output is masked when vault supervises.
pub struct Masking {
    pub values: Values,
    /// Debug builds' tests turn this off to prove the error when no
    /// pseudo-terminal can be opened.
    pub pty_allowed: bool,
}

/// Runs the program: replaced (`masking` is `None`) or supervised. Returns
/// the exit status vault should end with.
pub fn run(launch: Launch, masking: Option<Masking>) -> Result<u8> {
    match masking {
        None => Err(replace(launch)),
        Some(masking) => supervise::run(launch, masking),
    }
}

/// The command running `program` with `argv` (the first being the name it
/// is given as) and exactly `env`, with nothing inherited but stdin, stdout
/// and stderr (which callers may change).
fn command(
    program: &std::ffi::OsStr,
    argv: &[OsString],
    env: &BTreeMap<OsString, OsString>,
) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    if let Some(arg0) = argv.first() {
        command.arg0(arg0);
    }
    command.args(argv.iter().skip(1)).env_clear().envs(env);
    command
}

/// Makes the program die with vault: if vault is killed outright
/// (SIGKILL, as a CI runner or Python's `subprocess` timeout does), the
/// kernel sends the program SIGKILL, so no server is left holding a port.
/// If vault is already gone by the time the program starts (the parent
/// died between fork and `prctl`), the program is not started at all.
///
/// The parent-death signal follows the thread that started the program, so
/// callers start it from the thread that waits for it. The kernel clears it
/// when the program executes a set-user-ID file; only the program itself is
/// covered, not processes it starts in turn.
#[allow(unsafe_code)]
fn die_with_vault(command: &mut std::process::Command) {
    let vault = nix::unistd::getpid();
    let hook = move || -> std::io::Result<()> {
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
        if nix::unistd::getppid() != vault {
            return Err(nix::errno::Errno::ESRCH.into());
        }
        Ok(())
    };
    // SAFETY: the hook runs in the child between fork and exec, where only
    // async-signal-safe work is allowed. It makes two system calls
    // (prctl(2), getppid(2)) and builds an io::Error from an errno, none of
    // which allocates, takes a lock or touches the parent's threads.
    unsafe {
        command.pre_exec(hook);
    }
}

/// Starts the program under supervision, its streams set by `streams`
/// (called again for a retry). A script without `#!` (execve answers
/// ENOEXEC) is run by `/bin/sh`, as execvp and shells run it, so it behaves
/// the same whether vault replaces itself or supervises. (glibc's execvp
/// already does this in the child; other C libraries do not.)
fn spawn(
    launch: &Launch,
    streams: impl Fn(&mut std::process::Command) -> std::io::Result<()>,
) -> Result<std::process::Child> {
    let attempt = |program: &std::ffi::OsStr, argv: &[OsString]| {
        inherit(&launch.files)?;
        let mut command = command(program, argv, &launch.env);
        streams(&mut command)?;
        die_with_vault(&mut command);
        command.spawn()
    };
    match attempt(launch.program.as_os_str(), &launch.argv) {
        Err(e) if e.raw_os_error() == Some(nix::libc::ENOEXEC) => {
            let mut argv = vec![OsString::from("/bin/sh"), launch.program.clone().into()];
            argv.extend(launch.argv.iter().skip(1).cloned());
            attempt(std::ffi::OsStr::new("/bin/sh"), &argv)
        }
        other => other,
    }
    .map_err(|e| launch_error(launch, e))
}

/// Replaces this process with the program. Returns only on failure.
fn replace(mut launch: Launch) -> Error {
    if let Err(e) = inherit(&launch.files) {
        return Error::MemoryFile(e);
    }
    let env = std::mem::take(&mut launch.env);
    let e = replace::exec(launch.program.as_os_str(), &launch.argv, env);
    launch_error(&launch, e)
}

/// Makes the memory files inheritable by the program about to start.
fn inherit(files: &[MemFile]) -> std::io::Result<()> {
    files.iter().try_for_each(MemFile::inherit)
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
