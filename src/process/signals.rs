//! Signals while vault supervises a program: the one home of signal-hook.
//!
//! The handlers are installed before the program starts, so a signal that
//! arrives in between is kept and forwarded as soon as it runs, never lost
//! and never fatal to vault alone. SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
//! SIGUSR2 and SIGWINCH are forwarded; SIGINT only when vault has no
//! controlling terminal, because a terminal's Ctrl-C already reaches the
//! whole foreground process group, the program included, and forwarding it
//! again would deliver it twice. Either way vault itself survives it and
//! exits with the program's status. SIGCHLD says the program may have
//! exited.
//!
//! Each handler sets its signal's flag and writes a byte to one pipe, so the
//! supervisor's single poll loop wakes on the pipe beside the program's
//! output, with no thread of its own for signals.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use signal_hook::consts::signal::{
    SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH,
};
use signal_hook::SigId;

/// Signals vault catches while supervising.
const CAUGHT: [i32; 8] = [
    SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGINT, SIGCHLD,
];

/// Installed handlers; removed when dropped.
pub struct Caught {
    flags: Vec<(i32, Arc<AtomicBool>)>,
    ids: Vec<SigId>,
    read: OwnedFd,
}

/// What a batch of signals asks of the supervisor.
pub enum Event {
    /// Send this signal to the program.
    Forward(Signal),
    /// The program may have exited.
    Child,
}

/// Installs the handlers. Call before starting the program.
pub fn catch() -> io::Result<Caught> {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
    let mut caught = Caught {
        flags: Vec::with_capacity(CAUGHT.len()),
        ids: Vec::with_capacity(2 * CAUGHT.len()),
        read,
    };
    for signal in CAUGHT {
        let flag = Arc::new(AtomicBool::new(false));
        // The flag first: handlers run in the order registered, so the
        // flag is set by the time the byte can be read.
        caught
            .ids
            .push(signal_hook::flag::register(signal, Arc::clone(&flag))?);
        // Each handler owns (and closes when removed) its own copy.
        caught.ids.push(signal_hook::low_level::pipe::register(
            signal,
            write.try_clone()?,
        )?);
        caught.flags.push((signal, flag));
    }
    Ok(caught)
}

impl Caught {
    /// Readable when a signal has arrived.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// Empties the pipe and returns what the signals caught since the last
    /// call ask for.
    pub fn take(&self) -> Vec<Event> {
        let mut bytes = [0u8; 64];
        while matches!(nix::unistd::read(&self.read, &mut bytes), Ok(n) if n > 0) {}
        let mut out = Vec::new();
        for (number, flag) in &self.flags {
            if !flag.swap(false, Ordering::SeqCst) {
                continue;
            }
            match (*number, Signal::try_from(*number)) {
                (SIGCHLD, _) => out.push(Event::Child),
                // Asked only when one arrives: an open(2) most runs never
                // need.
                (SIGINT, _) if std::fs::File::open("/dev/tty").is_ok() => {}
                (_, Ok(signal)) => out.push(Event::Forward(signal)),
                (_, Err(_)) => {}
            }
        }
        out
    }
}

impl Drop for Caught {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
