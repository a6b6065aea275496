//! Opening the vault file (part of `store`): the checks of the file and
//! its side files before SQLite sees them, then the connection.
//!
//! [`Store::open`] connects at once. [`Store::deferred`] checks the file
//! the same way and connects only at the first query: a warm `vault exec`
//! whose view the clone has cached (`vault::exec_cache`, `vault::warm`)
//! runs without ever connecting, so it creates no `-wal` or `-shm`, takes
//! no lock and parses no schema. Whenever it does connect, the connection
//! is made and checked exactly as [`Store::open`] makes it.

use std::cell::{Cell, OnceCell};
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{file, harden, immutable_uri, map_err, schema, Store, FORMAT_VERSION};
use crate::error::{Error, Result};

impl Store {
    /// Creates a new vault file: the directory 0700 and the file 0600, each
    /// created with its mode in one step, then the schema in one transaction.
    pub fn create(path: &Path) -> Result<Store> {
        file::create_new(path)?;
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(|e| map_err(e, path))?;
        harden(&conn, path)?;
        // A new file starts in SQLite's rollback journal; `configure`
        // turns it to WAL.
        configure(&conn, path, "delete")?;
        let store = Store::with(path, nix::unistd::geteuid().as_raw(), None);
        let _ = store.conn.set(conn);
        store.write(schema::migrate)?;
        Ok(store)
    }

    /// Opens an existing vault, refusing anything that is not one and any
    /// newer format before changing a single byte of the file. A vault this
    /// user cannot write (a read-only file or directory) is opened for
    /// reading: `list` and `exec` work, and writes say why they cannot.
    pub fn open(path: &Path) -> Result<Store> {
        let store = Store::deferred(path)?;
        store.conn()?;
        Ok(store)
    }

    /// Checks the file as [`Store::open`] does, and connects at the first
    /// query.
    pub fn deferred(path: &Path) -> Result<Store> {
        let (owner, stamp) = file::check_existing(path)?;
        file::check_directory(path)?;
        let pending = file::check_sqlite_side_files(path, owner)?;
        Ok(Store::with(path, owner, (!pending).then_some(stamp)))
    }

    fn with(path: &Path, owner: u32, stamp: Option<file::Stamp>) -> Store {
        Store {
            conn: OnceCell::new(),
            path: path.to_owned(),
            read_only: Cell::new(false),
            owner,
            stamp: Cell::new(stamp),
            reading: Cell::new(false),
            freeze: Cell::new(false),
            frozen: OnceCell::new(),
        }
    }

    /// Takes the file as one this user cannot write, as an earlier open of
    /// the same unchanged file found (`vault::warm`), without connecting.
    pub fn assume_read_only(&self) {
        self.read_only.set(true);
    }

    /// The connection reads go to, if one was made: the normal one, or
    /// the in-place reading of a clean file (`frozen.rs`).
    pub(super) fn connected(&self) -> Option<&Connection> {
        self.conn.get().or_else(|| self.frozen_conn())
    }

    /// Whether writes are refused (known once connected, or assumed).
    pub fn is_read_only(&self) -> bool {
        self.read_only.get()
    }

    /// The connection, made now if not yet.
    pub(super) fn conn(&self) -> Result<&Connection> {
        if let Some(conn) = self.connected() {
            return Ok(conn);
        }
        if let Some(conn) = self.freeze_now() {
            return self.begin_pending_reading(conn);
        }
        let path = &self.path;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| map_err(e, path))?;
        let header = match schema::check_identity(&conn, path)
            .and_then(|header| harden(&conn, path).map(|()| header))
            .and_then(|header| schema::check_objects(&conn, path).map(|()| header))
            .and_then(|header| configure(&conn, path, &header.journal_mode).map(|()| header))
        {
            Ok(header) => header,
            Err(Error::ReadOnly(_) | Error::Io { .. }) => {
                drop(conn);
                let (conn, _) = open_immutable(path)?;
                self.read_only.set(true);
                return self.begin_pending_reading(self.conn.get_or_init(|| conn));
            }
            Err(e) => return Err(e),
        };
        let conn = self.conn.get_or_init(|| conn);
        if header.format < FORMAT_VERSION {
            self.write(schema::migrate)?;
            self.stamp.set(None);
        }
        self.begin_pending_reading(conn)
    }

    /// Begins the transaction of a [`super::Reading`] taken before the
    /// connection was made; the reading ends it.
    fn begin_pending_reading<'c>(&self, conn: &'c Connection) -> Result<&'c Connection> {
        if self.reading.get() {
            conn.execute_batch("BEGIN DEFERRED")
                .map_err(|e| map_err(e, &self.path))?;
        }
        Ok(conn)
    }

    /// Opens a vault for reading only, for shell completion: never creates,
    /// migrates or changes anything.
    ///
    /// A cleanly closed vault has no `-wal` file; a read-only connection to
    /// it would create `-wal` and `-shm` files it cannot remove, litter in a
    /// directory that may be a git checkout. So it is opened `immutable`
    /// then: a writer starting meanwhile can at worst make this read fail or
    /// miss its newest names, which completion shrugs off.
    ///
    /// Its directory may be shared (git writes the files it converts to
    /// `$TMPDIR`); the side files are checked all the same.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let (owner, _) = file::check_existing(path)?;
        file::check_sqlite_side_files(path, owner)?;
        let mut flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = if file::side_path(path, "-wal").exists() {
            Connection::open_with_flags(path, flags)
        } else {
            flags |= OpenFlags::SQLITE_OPEN_URI;
            Connection::open_with_flags(immutable_uri(path), flags)
        }
        .map_err(|e| map_err(e, path))?;
        let header = schema::check_identity(&conn, path)?;
        harden(&conn, path)?;
        schema::check_objects(&conn, path)?;
        schema::read_as_current(&conn, path, header.format)?;
        conn.busy_timeout(std::time::Duration::from_millis(200))
            .map_err(|e| map_err(e, path))?;
        let store = Store::with(path, owner, None);
        store.read_only.set(true);
        let _ = store.conn.set(conn);
        Ok(store)
    }
}

/// A WAL database whose directory this user cannot write has nowhere to
/// put its shared-memory index; SQLite can still read it as immutable.
/// Returns the connection and the file's format.
pub(super) fn open_immutable(path: &Path) -> Result<(Connection, i64)> {
    let conn = Connection::open_with_flags(
        immutable_uri(path),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| map_err(e, path))?;
    let header = schema::check_identity(&conn, path)?;
    harden(&conn, path)?;
    schema::check_objects(&conn, path)?;
    // An older format cannot be migrated here; it can still be read,
    // as each format only adds tables, and every write says why not.
    schema::read_as_current(&conn, path, header.format)?;
    Ok((conn, header.format))
}

/// Settings of the connection, for a file in `journal_mode`. Those that
/// matter to writes only are set by [`Store::write`], so that a command
/// that only reads (exec) does not pay for them.
fn configure(conn: &Connection, path: &Path, journal_mode: &str) -> Result<()> {
    let run = || -> rusqlite::Result<()> {
        conn.busy_timeout(std::time::Duration::from_millis(
            super::BUSY_TIMEOUT_MS.into(),
        ))?;
        // Pages are read through a mapping of the file instead of copied
        // into SQLite's cache: a fresh clone's exec reads every granted
        // row, and each 4 KiB copied was a page fault of its own (170 of
        // 1,300 at a thousand secrets). SQLite still writes with write(2).
        conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
        // WAL is a property of the file, set once (by `create`).
        let mut mode = journal_mode.to_owned();
        if !mode.eq_ignore_ascii_case("wal") {
            mode = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        }
        if !mode.eq_ignore_ascii_case("wal") {
            // A read-only file or directory cannot switch to WAL; reads
            // still work, and any write reports the read-only file.
            conn.pragma_update(None, "query_only", true)?;
        }
        Ok(())
    };
    run().map_err(|e| map_err(e, path))
}
