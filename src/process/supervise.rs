//! Supervising the program while its output is masked: vault starts it,
//! streams its stdout and stderr through the masker, forwards signals, and
//! returns its exit status (128+N when it died of signal N).
//!
//! When vault's stdout and stderr are one file (the same device and inode,
//! as in CI's `2>&1 | cat`), the program gets one pipe for both, so its
//! lines reach the file in exactly the order it wrote them; otherwise each
//! stream has its own pipe and keeps its own order. Each pipe has its own
//! thread, so neither can block the other. stdin is inherited untouched.
//! When a stream's reader goes away (`vault exec -- cmd | head -1`), vault
//! stops reading that stream, so the program sees a closed pipe exactly as
//! it would without vault, and no error is printed. vault returns once the
//! program has exited and its output has been written out.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Mutex;

use nix::fcntl::OFlag;
use nix::sys::stat::fstat;
use nix::sys::wait::{waitid, Id, WaitPidFlag};
use nix::unistd::{pipe2, Pid};
use zeroize::Zeroizing;

use super::mask::{Patterns, Stream};
use super::signals::{self, Target};
use super::{pty, Launch, Masking};
use crate::error::{Error, Result};

/// How much of a stream is read at once.
const CHUNK: usize = 64 * 1024;

/// Where a stream's masked bytes go.
#[derive(Clone, Copy)]
enum Sink {
    Stdout,
    Stderr,
}

impl Sink {
    fn write(self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        match self {
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush())
            }
            Sink::Stderr => io::stderr().lock().write_all(bytes),
        }
    }
}

pub fn run(launch: &Launch, masking: Masking) -> Result<u8> {
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
    let spawned = super::spawn(launch, |command| {
        command.stdout(out_end.try_clone()?);
        command.stderr(err_end.as_ref().unwrap_or(&out_end).try_clone()?);
        Ok(())
    });
    // The program holds the only copies of the pseudo-terminal's slave and
    // of the pipes' writing ends now, so reading them ends when the program
    // and its children do.
    drop((out_end, err_end));
    let master = pty.map(|p| p.master);
    let mut child = spawned?;

    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let alive = Mutex::new(Some(pid));
    let patterns = &masking.patterns;
    let handle = caught.handle();
    let (our_stdout, our_stderr) = (io::stdout(), io::stderr());
    let status = std::thread::scope(|scope| {
        let terminal = if on_terminal.0 {
            our_stdout.as_fd()
        } else {
            our_stderr.as_fd()
        };
        let window = master.as_ref().map(|m| (terminal, m.as_fd()));
        let alive = &alive;
        scope.spawn(move || {
            caught.forward(Target {
                child: alive,
                window,
            })
        });
        if let Some(out) = stdout {
            scope.spawn(move || pump(out, Sink::Stdout, patterns));
        }
        if let Some(err) = stderr {
            scope.spawn(move || pump(err, Sink::Stderr, patterns));
        }
        if let Some(master) = &master {
            let sink = if on_terminal.0 {
                Sink::Stdout
            } else {
                Sink::Stderr
            };
            scope.spawn(move || pump(master, sink, patterns));
        }
        let status = wait(&mut child, pid, alive);
        handle.close();
        status
    });
    status.map(exit_status)
}

/// Whether two descriptors are one file: same device, same inode. Either
/// closed or unreadable counts as different.
fn same_file(a: impl AsFd, b: impl AsFd) -> bool {
    match (fstat(a), fstat(b)) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

/// Waits for the program to exit, marks it gone for the signal forwarder,
/// and only then reaps it, so its process ID cannot be reused in between.
fn wait(
    child: &mut std::process::Child,
    pid: Pid,
    alive: &Mutex<Option<Pid>>,
) -> Result<ExitStatus> {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
    while let Err(nix::errno::Errno::EINTR) = waitid(Id::Pid(pid), flags) {}
    *alive.lock().unwrap_or_else(|e| e.into_inner()) = None;
    child.wait().map_err(|e| Error::Supervise {
        action: "wait for the program",
        source: e,
    })
}

/// The status vault exits with: the program's, or 128+N for signal N.
fn exit_status(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code).unwrap_or(u8::MAX),
        (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(u8::MAX),
        (None, None) => u8::MAX,
    }
}

/// Copies one stream to `sink`, masked, until it ends or `sink` is closed.
/// A pseudo-terminal's master answers EIO once the program is gone: that
/// is its end of file.
fn pump(mut from: impl Read, sink: Sink, patterns: &Patterns) {
    let mut stream = Stream::new(patterns);
    let mut buf = Zeroizing::new(vec![0u8; CHUNK]);
    let mut out = Zeroizing::new(Vec::with_capacity(CHUNK + 1024));
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        out.clear();
        stream.feed(&buf[..n], &mut out);
        if sink.write(&out).is_err() {
            return;
        }
    }
    out.clear();
    stream.finish(&mut out);
    let _ = sink.write(&out);
}
