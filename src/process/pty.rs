//! Pseudo-terminals, for a program whose output vault masks while vault's
//! own output is a terminal: the program writes to the pseudo-terminal, so
//! it still sees a terminal (colours, progress bars, line buffering), and
//! vault reads the other side, masks it and writes it to the real terminal.
//!
//! Only the output goes through the pseudo-terminal. The program keeps
//! vault's stdin and controlling terminal, so it reads the keyboard
//! directly, and keys such as Ctrl-C reach it from the terminal itself.
//!
//! The one home of rustix, used for window sizes, which nix only offers
//! through unsafe ioctl macros.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::termios::OutputFlags;

/// Both sides of a new pseudo-terminal. The program gets `slave`; vault
/// reads `master`.
pub struct Pty {
    pub master: File,
    pub slave: OwnedFd,
}

/// Opens a pseudo-terminal with the settings and window size of the
/// terminal `like`, but without output processing: the bytes the program
/// writes reach the masker unchanged ("\n" stays "\n", so a multi-line
/// value still matches), and the user's terminal does the processing once.
/// Neither side leaks into the program beyond its own stdout and stderr.
pub fn open(like: impl AsFd) -> io::Result<Pty> {
    let termios = nix::sys::termios::tcgetattr(like.as_fd())
        .ok()
        .map(|mut t| {
            t.output_flags.remove(OutputFlags::OPOST);
            t
        });
    let pair = nix::pty::openpty(None, termios.as_ref())?;
    for fd in [&pair.master, &pair.slave] {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
    }
    copy_window_size(like, &pair.master);
    Ok(Pty {
        master: File::from(pair.master),
        slave: pair.slave,
    })
}

/// Gives the pseudo-terminal `to` the window size of the terminal `from`
/// (at start, and again on SIGWINCH). A failure leaves the old size.
pub fn copy_window_size(from: impl AsFd, to: impl AsFd) {
    if let Ok(size) = rustix::termios::tcgetwinsize(from) {
        let _ = rustix::termios::tcsetwinsize(to, size);
    }
}
