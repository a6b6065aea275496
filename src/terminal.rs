//! The user's terminal: hidden prompts and yes/no questions.
//!
//! A passphrase is asked on the controlling terminal (`/dev/tty`) whenever
//! there is one, also when stdin is a pipe (`cat key.pem | vault add KEY`),
//! as gpg, ssh and sudo do. A value or a yes/no answer is read from stdin,
//! so those are asked only when stdin is the terminal. Without a terminal
//! the caller reports a clear error at once, so a script or CI job never
//! hangs on a prompt nobody will answer.

use std::io::{BufRead, IsTerminal, Write};

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Whether there is a user at a terminal to ask, on stdin (for a value or
/// a yes/no answer).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && has_terminal()
}

/// Whether vault has a controlling terminal to ask a passphrase on,
/// whatever its stdin is.
pub fn has_terminal() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

/// The width of the terminal stdout writes to, or `None` when stdout is
/// not a terminal (a pipe or a file: tables are printed in full there).
/// `COLUMNS`, when set to a number, wins, as for ls and ps. (rustix, as in
/// process/pty.rs, for the window size nix offers only through unsafe
/// ioctls.)
pub fn stdout_width() -> Option<usize> {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    if let Some(columns) = crate::env::var("COLUMNS").and_then(|c| c.parse::<usize>().ok()) {
        return Some(columns).filter(|c| *c > 0);
    }
    rustix::termios::tcgetwinsize(&stdout)
        .ok()
        .map(|size| usize::from(size.ws_col))
        .filter(|c| *c > 0)
}

/// Reads one line without echo, from the controlling terminal (rpassword
/// opens `/dev/tty` for the prompt and the answer).
/// Ctrl-D (end of input) at the prompt cancels the command, and the error
/// starts on a line of its own rather than after the prompt.
pub fn prompt_hidden(prompt: &str) -> Result<Zeroizing<Vec<u8>>> {
    match rpassword::prompt_password(prompt) {
        Ok(line) => Ok(Zeroizing::new(line.into_bytes())),
        Err(e) => {
            if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
                let _ = tty.write_all(b"\n");
            }
            Err(match e.kind() {
                std::io::ErrorKind::UnexpectedEof => Error::Declined,
                _ => Error::io("read from", std::path::Path::new("the terminal"), e),
            })
        }
    }
}

/// Asks twice without echo; refuses two different entries.
pub fn prompt_hidden_twice(prompt: &str, again: &str) -> Result<Zeroizing<Vec<u8>>> {
    let first = prompt_hidden(prompt)?;
    let second = prompt_hidden(again)?;
    use subtle::ConstantTimeEq;
    if first.len() != second.len() || !bool::from(first.ct_eq(&second)) {
        return Err(Error::PassphraseMismatch);
    }
    Ok(first)
}

/// Asks a yes/no question on stderr; only `y` or `yes` is yes.
pub fn confirm(question: &str) -> Result<bool> {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("read from", std::path::Path::new("the terminal"), e))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
