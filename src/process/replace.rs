//! Replacing vault with the program (part of `process`): one `execve`
//! with an environment built straight from exec's plan.
//!
//! `std::process::Command::exec` copies the environment into a map of its
//! own and then into the `envp` array: with a thousand secrets, a fifth of
//! a warm exec's instructions. This builds the `envp` array once and calls
//! `execvpe` (glibc's, which runs a file without a `#!` line through
//! `/bin/sh`, as `Command` does), after restoring what a program expects
//! to inherit: an empty signal mask and SIGPIPE at its default (Rust's
//! runtime ignores it, and an ignored signal stays ignored across exec).

use std::collections::BTreeMap;
use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use nix::sys::signal::{self, SigHandler, SigSet, SigmaskHow, Signal};

/// Replaces this process with `program`; returns only on failure, with
/// the process as it was.
#[allow(unsafe_code)]
pub(super) fn exec(
    program: &std::ffi::OsStr,
    argv: &[OsString],
    env: BTreeMap<OsString, OsString>,
) -> std::io::Error {
    let invalid = || std::io::Error::from(std::io::ErrorKind::InvalidInput);
    let Ok(program) = CString::new(program.as_bytes()) else {
        return invalid();
    };
    let Ok(argv) = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
    else {
        return invalid();
    };
    // Each variable's text moves into its entry: no second copy of the
    // environment is ever held.
    let mut envp = Vec::with_capacity(env.len());
    for (key, value) in env {
        // One allocation per entry, with room for `=` and the final NUL.
        let (key, value) = (key.into_vec(), value.into_vec());
        let mut entry = Vec::with_capacity(key.len() + value.len() + 2);
        entry.extend_from_slice(&key);
        entry.push(b'=');
        entry.extend_from_slice(&value);
        drop((key, value));
        match CString::new(entry) {
            Ok(entry) => envp.push(entry),
            Err(_) => return invalid(),
        }
    }
    let mut mask = SigSet::empty();
    let _ = signal::sigprocmask(
        SigmaskHow::SIG_SETMASK,
        Some(&SigSet::empty()),
        Some(&mut mask),
    );
    // SAFETY: setting a signal's disposition to the default installs no
    // handler; nothing runs on another thread at this point.
    let old = unsafe { signal::signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    let Err(errno) = nix::unistd::execvpe(&program, &argv, &envp);
    // SAFETY: as above, restoring the disposition vault had.
    if let Ok(old) = old {
        let _ = unsafe { signal::signal(Signal::SIGPIPE, old) };
    }
    let _ = signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&mask), None);
    std::io::Error::from_raw_os_error(errno as i32)
}
