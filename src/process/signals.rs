//! Signals while vault supervises a program: the one home of signal-hook.
//!
//! The handlers are installed before the program starts, so a signal that
//! arrives in between is kept and forwarded as soon as it runs, never lost
//! and never fatal to vault alone. SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
//! SIGUSR2 and SIGWINCH are forwarded; SIGINT only when vault has no
//! controlling terminal, because a terminal's Ctrl-C already reaches the
//! whole foreground process group, the program included, and forwarding it
//! again would deliver it twice. Either way vault itself survives it and
//! exits with the program's status.

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::Mutex;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
use signal_hook::iterator::{Handle, Signals};

use super::pty;

/// Signals vault catches while supervising.
const CAUGHT: [i32; 7] = [SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGINT];

/// Installed handlers, not yet forwarding anywhere.
pub struct Caught {
    signals: Signals,
    has_terminal: bool,
}

/// Installs the handlers. Call before starting the program.
pub fn catch() -> io::Result<Caught> {
    Ok(Caught {
        signals: Signals::new(CAUGHT)?,
        has_terminal: std::fs::File::open("/dev/tty").is_ok(),
    })
}

/// Where forwarded signals go. `child` is `None` once the program has been
/// waited for, so a signal never reaches a recycled process ID.
pub struct Target<'a> {
    pub child: &'a Mutex<Option<Pid>>,
    /// The user's terminal and the program's pseudo-terminal, whose window
    /// size follows on SIGWINCH.
    pub window: Option<(BorrowedFd<'a>, BorrowedFd<'a>)>,
}

impl Caught {
    /// A handle that ends [`Caught::forward`] when closed.
    pub fn handle(&self) -> Handle {
        self.signals.handle()
    }

    /// Forwards every caught signal to the program until the handle is
    /// closed.
    pub fn forward(mut self, target: Target<'_>) {
        for number in self.signals.forever() {
            if number == SIGINT && self.has_terminal {
                continue;
            }
            if number == SIGWINCH {
                if let Some((terminal, pseudo)) = target.window {
                    pty::copy_window_size(terminal, pseudo);
                }
            }
            let Ok(signal) = Signal::try_from(number) else {
                continue;
            };
            let child = target.child.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(pid) = *child {
                let _ = kill(pid, signal);
            }
        }
    }
}
