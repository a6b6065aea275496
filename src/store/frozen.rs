//! Reading a vault that closed cleanly where it stands (part of `store`),
//! for exec: without the `-wal` and `-shm` files SQLite creates and
//! removes around every connection to a WAL database.
//!
//! A vault that closed cleanly has everything committed in the file
//! itself. While some process holds a read lock on SQLite's shared-lock
//! bytes of the file, no SQLite connection can take the exclusive lock
//! that checkpointing on close and every rollback-journal write need: a
//! writer that starts meanwhile commits into a new `-wal` and leaves the
//! file as it is (its close finds the lock and keeps the `-wal` for the
//! next connection), exactly as when any other reader is connected. Under
//! that lock, exec reads the file as SQLite's `immutable` database:
//! no side file, no other lock, no shared-memory index.
//!
//! The one writer the lock cannot hold back is a checkpoint that runs in
//! the middle of a transaction of more than a thousand pages (4 MiB). Such
//! a write changes the file's `stat`: exec compares it once its reading is
//! done ([`Store::confirm_unchanged`]) and refuses to hand on what it read
//! if it changed. So only a file left alone for the last two seconds is
//! read this way, whose next write cannot keep its modification time.
//!
//! The lock is an open-file-description lock (`F_OFD_SETLK`): closing
//! another descriptor of the same file (the header check, SQLite's own)
//! does not drop it, and it conflicts with SQLite's `fcntl` locks, also
//! those of this process. Linux has them; elsewhere exec reads through
//! SQLite as before.

use std::fs::File;
use std::path::Path;

use rusqlite::Connection;

use super::{file, file::Stamp, open::open_immutable, Store, FORMAT_VERSION};
use crate::error::{Error, Result};

/// SQLite's lock bytes (`os_unix.c`): `PENDING_BYTE` is the first byte
/// past one gibibyte; the shared range follows the reserved byte.
const SHARED_FIRST: i64 = 0x4000_0000 + 2;
const SHARED_SIZE: i64 = 510;

/// A clean vault read in place: the connection, and the lock that keeps
/// the file as it was read until it is released.
pub(super) struct Frozen {
    pub conn: Connection,
    lock: std::cell::Cell<Option<File>>,
    stamp: Stamp,
    /// The file had changed when the lock was let go.
    changed: std::cell::Cell<bool>,
}

impl Frozen {
    /// Lets go of the file before a write connects to it normally, noting
    /// first whether it changed under what was read.
    fn release(&self, path: &Path) {
        self.changed.set(Stamp::read(path) != Some(self.stamp));
        drop(self.lock.take());
    }

    /// Whether the file changed under what was read: when the lock was let
    /// go, or by now if it is still held.
    fn changed(&self, path: &Path, held: bool) -> bool {
        match held {
            true => Stamp::read(path) != Some(self.stamp),
            false => self.changed.get(),
        }
    }
}

/// Reads the vault at `store`'s path in place, if it can be: a file this
/// user owns and can write, in a directory it can write, with no `-wal` or
/// journal, of the current format, unchanged since it was checked and for
/// the last two seconds. `None` sends the caller to a normal connection.
pub(super) fn open(store: &Store) -> Option<Frozen> {
    let path = store.path();
    let stamp = store.stamp()?;
    if store.owner != nix::unistd::geteuid().as_raw() || !stamp.settled(crate::time::now()) {
        return None;
    }
    // A file this user cannot write is read as SQLite reads it then
    // (`open.rs`), which also tells writes that they cannot.
    let writable = |p: &Path| nix::unistd::access(p, nix::unistd::AccessFlags::W_OK).is_ok();
    if !writable(path) || !writable(file::directory_of(path)) {
        return None;
    }
    let lock = File::open(path).ok()?;
    let meta = lock.metadata().ok()?;
    if Stamp::of(&meta) != stamp || !share_lock(&lock) {
        return None;
    }
    // Under the lock: a writer that connected since the side files were
    // checked has made a `-wal`, whose commits the file does not hold.
    if pending(path) || Stamp::read(path) != Some(stamp) {
        return None;
    }
    let (conn, format) = open_immutable(path).ok()?;
    // An older file is migrated by the normal connection.
    if format != FORMAT_VERSION {
        return None;
    }
    Some(Frozen {
        conn,
        lock: std::cell::Cell::new(Some(lock)),
        stamp,
        changed: std::cell::Cell::new(false),
    })
}

/// Takes a read lock on SQLite's shared-lock bytes of `file`, unless a
/// writer holds them (it is checkpointing or writing the file itself).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn share_lock(file: &File) -> bool {
    use nix::fcntl::{fcntl, FcntlArg};
    use std::os::fd::AsFd;
    let lock = nix::libc::flock {
        l_type: nix::libc::F_RDLCK as i16,
        l_whence: nix::libc::SEEK_SET as i16,
        l_start: SHARED_FIRST,
        l_len: SHARED_SIZE,
        // An open-file-description lock names no process.
        l_pid: 0,
    };
    fcntl(file.as_fd(), FcntlArg::F_OFD_SETLK(&lock)).is_ok()
}

/// Elsewhere there are no open-file-description locks to hold the file
/// with: exec reads it through SQLite, as any command does.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn share_lock(_: &File) -> bool {
    false
}

/// Whether a `-wal` or `-journal` stands beside the vault at `path`.
fn pending(path: &Path) -> bool {
    ["-wal", "-journal"]
        .iter()
        .any(|suffix| std::fs::symlink_metadata(file::side_path(path, suffix)).is_ok())
}

impl Store {
    /// Lets exec read the file in place (`frozen.rs`) when it can.
    pub fn prefer_frozen(&self) {
        self.freeze.set(true);
    }

    /// The in-place reading, while reads go to it.
    pub(super) fn frozen_conn(&self) -> Option<&Connection> {
        match self.freeze.get() {
            true => self.frozen.get().map(|f| &f.conn),
            false => None,
        }
    }

    /// Reads in place from now on, if the file allows it (asked by
    /// `conn` when nothing is connected yet).
    pub(super) fn freeze_now(&self) -> Option<&Connection> {
        if !self.freeze.get() {
            return None;
        }
        match open(self) {
            Some(frozen) => Some(&self.frozen.get_or_init(|| frozen).conn),
            None => {
                self.freeze.set(false);
                None
            }
        }
    }

    /// Ends reading in place before a write connects normally.
    pub(super) fn thaw(&self) {
        if self.freeze.replace(false) {
            if let Some(frozen) = self.frozen.get() {
                frozen.release(&self.path);
            }
        }
    }

    /// Refuses what was read in place if the file changed while it was
    /// read: what only a checkpoint in the middle of a very large write
    /// can do, and what no lock keeps from happening. A write of this
    /// command's own since (folding the exec log) is not such a change.
    pub fn confirm_unchanged(&self) -> Result<()> {
        match self.frozen.get() {
            Some(frozen) if frozen.changed(&self.path, self.freeze.get()) => {
                Err(Error::ChangedWhileRead(self.path.clone()))
            }
            _ => Ok(()),
        }
    }
}
