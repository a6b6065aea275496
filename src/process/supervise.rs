//! Supervising the program while its output is masked: vault starts it,
//! streams its stdout and stderr through the masker, forwards signals, and
//! returns its exit status (128+N when it died of signal N).
//!
//! Each stream has its own thread, so neither can block the other and
//! bytes within one stream keep their order. stdin is inherited untouched.
//! When a stream's reader goes away (`vault exec -- cmd | head -1`), vault
//! stops reading that stream, so the program sees a closed pipe exactly as
//! it would without vault, and no error is printed. vault returns once the
//! program has exited and its output has been written out.

use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;

use nix::sys::wait::{waitid, Id, WaitPidFlag};
use nix::unistd::Pid;
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

    let mut command = super::command(launch);
    let output = |is_terminal: bool| -> Result<Stdio> {
        match (&pty, is_terminal) {
            (Some(pty), true) => {
                pty.slave
                    .try_clone()
                    .map(Stdio::from)
                    .map_err(|e| Error::Supervise {
                        action: "share the pseudo-terminal",
                        source: e,
                    })
            }
            _ => Ok(Stdio::piped()),
        }
    };
    command.stdout(output(on_terminal.0)?);
    command.stderr(output(on_terminal.1)?);
    let spawned = command.spawn();
    // The program holds the only copies of the pseudo-terminal's slave now,
    // so reading the master ends when the program and its children do.
    drop(command);
    let master = pty.map(|p| p.master);
    let mut child = spawned.map_err(|e| super::launch_error(launch, e))?;

    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let alive = Mutex::new(Some(pid));
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
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
