//! Running a command for `vault mcp`'s `run` tool: its output captured,
//! masked and bounded instead of passed on, its time limited.
//!
//! - The command gets stdin from `/dev/null` (vault's own stdin and stdout
//!   carry the protocol) and a pipe each for stdout and stderr.
//! - It starts a process group of its own, so that everything it starts
//!   can be ended with it: at the time limit the whole group gets SIGKILL,
//!   and when the command exits, whatever it left running in its group is
//!   ended too, so that no process holding a secret outlives the call. A
//!   process that leaves the group (`setsid`) escapes this; reading its
//!   output then stops a moment after the command ends.
//! - Each stream is masked as it comes (the masker of exec, with the
//!   encodings), and kept up to a limit; the rest is read and dropped, so
//!   the command never blocks on a full pipe, and counted.
//!
//! One thread, one poll loop, as `relay.rs`; no signal handling: the
//! command's exit is noticed by polling every [`TICK`].

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::{pipe2, Pid};
use zeroize::Zeroizing;

use super::mask::{Stream, Values};
use super::Launch;
use crate::error::{Error, Result};

/// How often the loop looks whether the command has exited.
const TICK: Duration = Duration::from_millis(50);
/// How long output is still read once the command is gone.
const DRAIN: Duration = Duration::from_millis(500);

/// The bounds of one run.
#[derive(Clone, Copy)]
pub struct Limits {
    pub time: Duration,
    /// Bytes of masked output kept per stream.
    pub output: usize,
}

/// What a run produced.
pub struct Captured {
    /// The exit code, or `None` when the command died of a signal.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub stdout: Output,
    pub stderr: Output,
}

/// One stream's masked output, up to the limit.
#[derive(Default)]
pub struct Output {
    pub bytes: Vec<u8>,
    /// Bytes read past the limit and dropped.
    pub dropped: usize,
}

/// Runs `launch` with its output masked by `values`, within `limits`.
pub fn capture(launch: &Launch, values: Option<&Values>, limits: Limits) -> Result<Captured> {
    let pipe = || {
        pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::Supervise {
            action: "open a pipe for the program's output",
            source: e.into(),
        })
    };
    let (out_read, out_write) = pipe()?;
    let (err_read, err_write) = pipe()?;
    let spawned = super::spawn(launch, |command| {
        command
            .stdin(Stdio::null())
            .stdout(out_write.try_clone()?)
            .stderr(err_write.try_clone()?)
            .process_group(0);
        Ok(())
    });
    drop((out_write, err_write));
    let mut child = spawned?;
    let group = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    // A matcher that cannot be built would let values through: refuse.
    let patterns = match values {
        Some(values) => match values.compile() {
            Some(p) => Some(p),
            None => {
                let _ = killpg(group, Signal::SIGKILL);
                let _ = child.wait();
                return Err(Error::Supervise {
                    action: "build the masker",
                    source: io::Error::other("too many or too long values"),
                });
            }
        },
        None => None,
    };
    let mut streams = [
        Capture::new(File::from(out_read), patterns.as_ref(), limits.output),
        Capture::new(File::from(err_read), patterns.as_ref(), limits.output),
    ];
    let started = Instant::now();
    let mut timed_out = false;
    // Once the command has exited or was ended: until when output is read.
    let mut drain_until: Option<Instant> = None;
    let mut buf = Zeroizing::new(vec![0u8; 64 * 1024]);
    loop {
        let open: Vec<usize> = (0..2).filter(|i| streams[*i].open).collect();
        let now = Instant::now();
        if open.is_empty() || drain_until.is_some_and(|d| now >= d) {
            break;
        }
        if drain_until.is_none() {
            if exited(group)? {
                // Whatever it left running in its group goes with it.
                let _ = killpg(group, Signal::SIGKILL);
                drain_until = Some(now + DRAIN);
            } else if now >= started + limits.time {
                let _ = killpg(group, Signal::SIGKILL);
                timed_out = true;
                drain_until = Some(now + DRAIN);
            }
        }
        let mut fds: Vec<PollFd<'_>> = open
            .iter()
            .map(|i| PollFd::new(streams[*i].reader.as_fd(), PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, PollTimeout::from(TICK.as_millis() as u16)) {
            Err(nix::errno::Errno::EINTR) | Ok(0) => continue,
            Err(e) => {
                return Err(Error::Supervise {
                    action: "read the program's output",
                    source: e.into(),
                })
            }
            Ok(_) => {}
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        for (k, i) in open.iter().enumerate() {
            if ready[k] {
                streams[*i].pump(&mut buf);
            }
        }
    }
    // Both outputs may end a moment before the command does (it closes
    // them on its way out), or long before (it closed them itself): it
    // still has until the time limit.
    while !timed_out && !exited(group)? {
        if Instant::now() >= started + limits.time {
            timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = killpg(group, Signal::SIGKILL);
    let status = child.wait().map_err(|e| Error::Supervise {
        action: "wait for the program",
        source: e,
    })?;
    let [stdout, stderr] = streams.map(Capture::finish);
    Ok(Captured {
        code: status.code(),
        signal: status.signal(),
        timed_out,
        stdout,
        stderr,
    })
}

/// Whether the command has exited, without reaping it: its process ID,
/// which names the group, stays taken until `wait`, so the group is never
/// a recycled one.
fn exited(pid: Pid) -> Result<bool> {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(pid), flags) {
        Ok(WaitStatus::StillAlive) => Ok(false),
        Ok(_) => Ok(true),
        Err(nix::errno::Errno::EINTR) => Ok(false),
        Err(e) => Err(Error::Supervise {
            action: "wait for the program",
            source: e.into(),
        }),
    }
}

/// One stream being read: its masker and what it kept.
struct Capture<'p> {
    reader: File,
    open: bool,
    mask: Option<Stream<'p>>,
    out: Output,
    limit: usize,
}

impl<'p> Capture<'p> {
    fn new(reader: File, patterns: Option<&'p super::mask::Patterns>, limit: usize) -> Self {
        Capture {
            reader,
            open: true,
            mask: patterns.map(Stream::new),
            out: Output::default(),
            limit,
        }
    }

    fn pump(&mut self, buf: &mut [u8]) {
        let n = match self.reader.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return,
            Err(_) => 0,
        };
        if n == 0 {
            self.open = false;
            return;
        }
        let chunk = &buf[..n];
        if self.out.bytes.len() >= self.limit {
            self.out.dropped += n;
            return;
        }
        match &mut self.mask {
            Some(stream) => {
                let mut masked = Vec::with_capacity(n);
                stream.feed(chunk, &mut masked);
                self.keep(&masked);
            }
            None => self.keep(chunk),
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.out.bytes.len());
        let (kept, rest) = bytes.split_at(bytes.len().min(room));
        self.out.bytes.extend_from_slice(kept);
        self.out.dropped += rest.len();
    }

    /// What the masker held back, if there is room for it.
    fn finish(mut self) -> Output {
        if let Some(mut stream) = self.mask.take() {
            let mut tail = Vec::new();
            stream.finish(&mut tail);
            if self.out.dropped == 0 {
                self.keep(&tail);
            } else {
                self.out.dropped += tail.len();
            }
        }
        self.out
    }
}
