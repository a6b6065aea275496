//! The exec log: `VAULT-exec` beside the vault file, where `vault exec`
//! appends its audit entry instead of writing the vault.
//!
//! A write to the vault costs a commit and the checkpoint that leaves no
//! `-wal` beside the file (several fsyncs); exec runs before every script,
//! so it appends one line here instead: one `write` under an exclusive
//! `flock`, held for microseconds, so that the line can name the one before
//! it (the layer above builds it from the last complete line).
//! The next command that writes the vault folds the lines into the audit
//! log inside its own transaction: it takes the file under an exclusive
//! lock, and removes it only once that transaction has committed. Lines are
//! authenticated by the layer above (`vault::exec_log`); this module moves
//! bytes.
//!
//! The file is opened as every side file is (`file::open_side`: no
//! symlink, no blocking on a FIFO) and checked on its descriptor: a regular
//! file of this user or the vault's owner, mode 0600, so a log planted by
//! another user is refused rather than appended to or folded.
//!
//! An appender may open the file just before a fold removes it, then get
//! its lock on the removed file: it checks the link count under the lock
//! and opens again. Lines are not synced to disk: a crash of vault loses
//! nothing, a power cut may lose the newest lines.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};

use super::file::{check_side, open_side};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, Result};

/// The exec log of the vault at `vault`.
pub fn path_for(vault: &Path) -> PathBuf {
    let mut name = vault.as_os_str().to_owned();
    name.push("-exec");
    PathBuf::from(name)
}

fn lock(file: File, how: FlockArg, path: &Path) -> Result<Flock<File>> {
    Flock::lock(file, how).map_err(|(_, errno)| Error::io("lock", path, errno.into()))
}

/// Whether the locked file is still the one at its path (a fold may have
/// removed it between our open and our lock).
fn still_linked(file: &File, path: &Path) -> Result<bool> {
    Ok(file
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .nlink()
        > 0)
}

/// Group and other bits: the log names secrets, programs and directories.
const FORBIDDEN_MODE: u32 = 0o077;

/// Appends the line `make` builds from the log's last complete line (none
/// when the log is empty), newline included, in one write; returns the
/// log's size afterwards. A last line cut off mid-append is dropped first.
/// `owner` owns the vault file.
pub fn append(
    vault: &Path,
    owner: u32,
    make: impl FnOnce(Option<&[u8]>) -> Vec<u8>,
) -> Result<u64> {
    let path = path_for(vault);
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true).mode(0o600);
    loop {
        let file = open_side(&path, &options)?
            .ok_or_else(|| Error::io("open", &path, std::io::Error::from(ErrorKind::NotFound)))?;
        check_side(&file, &path, owner, FORBIDDEN_MODE)?;
        let mut file = lock(file, FlockArg::LockExclusive, &path)?;
        let meta = file.metadata().map_err(|e| Error::io("read", &path, e))?;
        if meta.nlink() == 0 {
            continue;
        }
        let (last, len) = last_line(&file, &path, meta.len())?;
        let line = make(last.as_deref());
        file.write_all(&line)
            .map_err(|e| Error::io("write", &path, e))?;
        return Ok(len + line.len() as u64);
    }
}

/// The last complete line of the log (`len` bytes long), without its
/// newline, read backwards in growing windows from the end (a line is
/// usually well under 4 KiB), and the log's length after it: a cut-off
/// tail is truncated away, so the next line starts clean.
fn last_line(file: &File, path: &Path, len: u64) -> Result<(Option<Vec<u8>>, u64)> {
    let mut window: u64 = 4096;
    loop {
        let start = len.saturating_sub(window);
        let mut buf = vec![0u8; (len - start) as usize];
        file.read_exact_at(&mut buf, start)
            .map_err(|e| Error::io("read", path, e))?;
        let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
            if start == 0 {
                truncate(file, path, 0, len)?;
                return Ok((None, 0));
            }
            window *= 2;
            continue;
        };
        let begin = match buf[..end].iter().rposition(|&b| b == b'\n') {
            Some(newline) => newline + 1,
            None if start == 0 => 0,
            None => {
                window *= 2;
                continue;
            }
        };
        let kept = start + end as u64 + 1;
        truncate(file, path, kept, len)?;
        buf.truncate(end);
        buf.drain(..begin);
        return Ok((Some(buf), kept));
    }
}

fn truncate(file: &File, path: &Path, to: u64, len: u64) -> Result<()> {
    if to < len {
        file.set_len(to).map_err(|e| Error::io("write", path, e))?;
    }
    Ok(())
}

/// The log's bytes, read under a shared lock (empty when there is none).
pub fn read(vault: &Path, owner: u32) -> Result<Vec<u8>> {
    Ok(open_locked(vault, owner, FlockArg::LockShared)?
        .map(|(_, bytes)| bytes)
        .unwrap_or_default())
}

/// The log, held under an exclusive lock until [`Taken::finish`] removes
/// it or the value is dropped (which leaves it for the next fold).
pub struct Taken {
    _file: Flock<File>,
    path: PathBuf,
    pub bytes: Vec<u8>,
}

impl Taken {
    /// Removes the log: call once its lines are committed to the vault.
    pub fn finish(self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &self.path, e)),
        }
    }
}

/// Takes the log for folding; `None` when there is none.
pub fn take(vault: &Path, owner: u32) -> Result<Option<Taken>> {
    Ok(
        open_locked(vault, owner, FlockArg::LockExclusive)?.map(|(file, bytes)| Taken {
            _file: file,
            path: path_for(vault),
            bytes,
        }),
    )
}

fn open_locked(vault: &Path, owner: u32, how: FlockArg) -> Result<Option<(Flock<File>, Vec<u8>)>> {
    let path = path_for(vault);
    let mut options = OpenOptions::new();
    options.read(true);
    loop {
        let Some(file) = open_side(&path, &options)? else {
            return Ok(None);
        };
        check_side(&file, &path, owner, FORBIDDEN_MODE)?;
        let mut file = lock(file, how, &path)?;
        if !still_linked(&file, &path)? {
            continue;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io("read", &path, e))?;
        return Ok(Some((file, bytes)));
    }
}
