//! Supervising the program while its output is masked: vault starts it,
//! streams its stdout and stderr through the masker, forwards signals, and
//! returns its exit status (128+N when it died of signal N).
//!
//! When vault's stdout and stderr are one file (the same device and inode,
//! as in CI's `2>&1 | cat`), the program gets one pipe for both, so its
//! lines reach the file in exactly the order it wrote them; otherwise each
//! stream has its own pipe and keeps its own order. stdin is inherited
//! untouched. The relaying itself is `relay.rs`: one loop, no threads.
//! vault returns once the program has exited and its output has been
//! written out.

use std::fs::File;
use std::io::{self, IsTerminal};
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use nix::fcntl::OFlag;
use nix::sys::stat::fstat;
use nix::unistd::pipe2;

use super::relay::{relay, Output, Sink};
use super::signals;
use super::{pty, Launch, Masking};
use crate::error::{Error, Result};

pub fn run(launch: Launch, masking: Masking) -> Result<u8> {
    let caught = signals::catch().map_err(|e| Error::Supervise {
        action: "catch signals",
        source: e,
    })?;
    let on_terminal = (io::stdout().is_terminal(), io::stderr().is_terminal());
    let pty = match on_terminal {
        (false, false) => None,
        _ if !masking.pty_allowed => {
            return Err(Error::NoPty(io::Error::other(
                "turned off by VAULT_TEST_NO_PTY",
            )))
        }
        (true, _) => Some(pty::open(io::stdout()).map_err(Error::NoPty)?),
        (false, true) => Some(pty::open(io::stderr()).map_err(Error::NoPty)?),
    };

    // Where the program's stdout and stderr go: the pseudo-terminal for a
    // stream on a terminal, else a pipe of vault's own, one for both when
    // they go to one file (vault writes what comes through it to stdout,
    // which is that file).
    let pipe = || {
        pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::Supervise {
            action: "open a pipe for the program's output",
            source: e.into(),
        })
    };
    let (mut stdout, mut stderr) = (None, None);
    // The writing ends: stdout's, and stderr's unless it shares stdout's.
    let (out_end, err_end) = match on_terminal {
        (false, false) if same_file(io::stdout(), io::stderr()) => {
            let (read, write) = pipe()?;
            stdout = Some(File::from(read));
            (write, None)
        }
        _ => {
            let end = |is_terminal: bool, reader: &mut Option<File>| match &pty {
                Some(pty) if is_terminal => pty.slave.try_clone().map_err(|e| Error::Supervise {
                    action: "share the pseudo-terminal",
                    source: e,
                }),
                _ => {
                    let (read, write) = pipe()?;
                    *reader = Some(File::from(read));
                    Ok(write)
                }
            };
            (
                end(on_terminal.0, &mut stdout)?,
                Some(end(on_terminal.1, &mut stderr)?),
            )
        }
    };
    let spawned = super::spawn(&launch, |command| {
        command.stdout(out_end.try_clone()?);
        command.stderr(err_end.as_ref().unwrap_or(&out_end).try_clone()?);
        Ok(())
    });
    // The program holds the only copies of the pseudo-terminal's slave and
    // of the pipes' writing ends now, so reading them ends when the program
    // and its children do.
    drop((out_end, err_end));
    // Nor does vault need the environment or its copies of the memory
    // files: the program has them.
    drop(launch);
    let master = pty.map(|p| p.master);
    // The window size is copied onto the master; a second descriptor keeps
    // it while the first is read.
    let master_fd = match &master {
        Some(m) => Some(m.try_clone().map_err(|e| Error::Supervise {
            action: "share the pseudo-terminal",
            source: e,
        })?),
        None => None,
    };
    let mut child = spawned?;

    let sink_of_master = if on_terminal.0 {
        Sink::Stdout
    } else {
        Sink::Stderr
    };
    let outputs: Vec<Output> = [
        stdout.map(|reader| (reader, Sink::Stdout)),
        stderr.map(|reader| (reader, Sink::Stderr)),
        master.map(|reader| (reader, sink_of_master)),
    ]
    .into_iter()
    .flatten()
    .map(|(reader, sink)| Output { reader, sink })
    .collect();
    let (our_stdout, our_stderr) = (io::stdout(), io::stderr());
    let terminal = if on_terminal.0 {
        our_stdout.as_fd()
    } else {
        our_stderr.as_fd()
    };
    let window = master_fd.as_ref().map(|m| (terminal, m.as_fd()));
    let status = relay(outputs, &masking.values, &caught, &mut child, window).map_err(|e| {
        Error::Supervise {
            action: "relay the program's output",
            source: e,
        }
    })?;
    Ok(exit_status(status))
}

/// Whether two descriptors are one file: same device, same inode. Either
/// closed or unreadable counts as different.
fn same_file(a: impl AsFd, b: impl AsFd) -> bool {
    match (fstat(a), fstat(b)) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

/// The status vault exits with: the program's, or 128+N for signal N.
fn exit_status(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code).unwrap_or(u8::MAX),
        (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(u8::MAX),
        (None, None) => u8::MAX,
    }
}
