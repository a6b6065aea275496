//! The supervisor's one loop: it waits (poll) on the program's output and
//! on the signal pipe together, masks what the program writes and passes it
//! on, forwards signals, and notices when the program exits. One thread, no
//! locks: a signal is forwarded from the same loop that reaps the program,
//! so it can never reach a process ID that was recycled.
//!
//! Nothing is built before it is needed: the matcher is compiled when the
//! program first writes, and the read buffer is allocated then, so a
//! program that prints nothing costs vault no more than waiting for it.
//! When a stream's reader goes away (`vault exec -- cmd | head -1`), vault
//! stops reading that stream, so the program sees a closed pipe exactly as
//! it would without vault, and no error is printed.

use std::cell::OnceCell;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::process::{Child, ExitStatus};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use zeroize::Zeroizing;

use super::mask::{Patterns, Stream, Values};
use super::pty;
use super::signals::{Caught, Event};

/// How much of a stream is read at once: a whole pipe's worth.
const CHUNK: usize = 64 * 1024;

/// Where a stream's masked bytes go.
#[derive(Clone, Copy)]
pub enum Sink {
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

/// One of the program's outputs: a pipe or the pseudo-terminal's master.
pub struct Output {
    pub reader: File,
    pub sink: Sink,
}

/// The user's terminal and the program's pseudo-terminal, whose window
/// size follows on SIGWINCH.
pub type Window<'a> = Option<(BorrowedFd<'a>, BorrowedFd<'a>)>;

/// Relays until the program has exited and every output has ended, and
/// returns the program's status.
pub fn relay(
    outputs: Vec<Output>,
    values: &Values,
    caught: &Caught,
    child: &mut Child,
    window: Window<'_>,
) -> io::Result<ExitStatus> {
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let patterns: OnceCell<Option<Patterns>> = OnceCell::new();
    let mut live: Vec<Live<'_>> = outputs
        .into_iter()
        .map(|output| Live {
            output,
            stream: None,
        })
        .collect();
    let mut buffers = Buffers::default();
    let mut status = None;
    loop {
        if status.is_none() && live.is_empty() {
            // Outputs closed early; the program may still run.
            status = child.try_wait()?;
        }
        if let (Some(status), true) = (status, live.is_empty()) {
            return Ok(status);
        }
        let ready = wait(&live, caught)?;
        if ready.last() == Some(&true) {
            for event in caught.take() {
                match event {
                    Event::Child if status.is_none() => status = child.try_wait()?,
                    Event::Child => {}
                    Event::Forward(signal) => {
                        if let (Signal::SIGWINCH, Some((terminal, pseudo))) = (signal, window) {
                            pty::copy_window_size(terminal, pseudo);
                        }
                        // Not once reaped: the ID may belong to another
                        // process by then.
                        if status.is_none() {
                            let _ = kill(pid, signal);
                        }
                    }
                }
            }
        }
        for at in (0..live.len()).rev() {
            if ready[at] && !live[at].pump(&mut buffers, &patterns, values) {
                live.remove(at);
            }
        }
    }
}

/// Waits until an output or the signal pipe is readable (or closed), and
/// says which: one flag per output, then the signal pipe's.
fn wait(live: &[Live<'_>], caught: &Caught) -> io::Result<Vec<bool>> {
    let mut fds: Vec<PollFd<'_>> = live
        .iter()
        .map(|l| PollFd::new(l.output.reader.as_fd(), PollFlags::POLLIN))
        .chain([PollFd::new(caught.fd(), PollFlags::POLLIN)])
        .collect();
    loop {
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(_) => break,
        }
    }
    Ok(fds
        .iter()
        .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
        .collect())
}

/// The read buffer and the masked output, allocated at the first output.
#[derive(Default)]
struct Buffers {
    read: Option<Zeroizing<Vec<u8>>>,
    out: Zeroizing<Vec<u8>>,
}

/// An output still open, and its masking state once it has written.
struct Live<'p> {
    output: Output,
    stream: Option<Stream<'p>>,
}

impl<'p> Live<'p> {
    /// Reads what is there, masks it and writes it on. `false` once the
    /// output has ended (end of file; EIO from a pseudo-terminal whose
    /// program is gone) or its reader has gone away.
    fn pump(
        &mut self,
        buffers: &mut Buffers,
        patterns: &'p OnceCell<Option<Patterns>>,
        values: &Values,
    ) -> bool {
        // Until the first output, a small buffer on the stack: a program
        // that writes nothing ends with one read of nothing.
        let mut first = Zeroizing::new([0u8; 512]);
        let buf: &mut [u8] = match &mut buffers.read {
            Some(buf) => buf,
            None => &mut first[..],
        };
        let n = match self.output.reader.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return true,
            Err(_) => 0,
        };
        let buf: &[u8] = &buf[..n];
        let out = &mut buffers.out;
        out.clear();
        if n == 0 {
            // What was held back, if this output ever wrote.
            if let Some(stream) = &mut self.stream {
                stream.finish(out);
                let _ = self.output.sink.write(out);
            }
            return false;
        }
        // A matcher that cannot be built masks nothing, so nothing is
        // written: never the unmasked bytes.
        let Some(patterns) = patterns.get_or_init(|| values.compile()) else {
            return true;
        };
        let stream = self.stream.get_or_insert_with(|| Stream::new(patterns));
        stream.feed(buf, out);
        let written = self.output.sink.write(out).is_ok();
        buffers
            .read
            .get_or_insert_with(|| Zeroizing::new(vec![0u8; CHUNK]));
        written
    }
}
