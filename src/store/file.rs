//! The vault file on disk before SQLite sees it: creation with safe modes in
//! one step, refusing symlinks and non-files, the directory others could
//! plant files in, side files vault did not make, and the permission check.
//!
//! A side file (SQLite's `-wal`, `-shm` and `-journal`, vault's exec log)
//! is opened with `O_NOFOLLOW | O_NONBLOCK` (a symlink fails, a FIFO cannot
//! block) and checked with one `fstat` on the open descriptor, so the file
//! checked is the file used: a regular file owned by this user or by the
//! vault file's owner, that others cannot write. A side file that does not
//! exist costs one failed `open`.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Creates the parent directories (0700) and an empty file (0600), failing
/// if the file exists. The mode is given at creation, never set afterwards.
pub fn create_new(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::io("create the directory", dir, e))?;
        }
    }
    check_directory(path)?;
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(Error::VaultExists(path.to_owned()))
        }
        Err(e) => Err(Error::io("create", path, e)),
    }
}

/// Refuses a missing path, a symlink, a non-file, or a file that does not
/// start with SQLite's header, before SQLite opens (and could change) it.
/// Returns the file's owner, whom its side files must also belong to.
pub fn check_existing(path: &Path) -> Result<(u32, Stamp)> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NoVault(path.to_owned()))
        }
        Err(e) => return Err(Error::io("read", path, e)),
    };
    if meta.file_type().is_symlink() {
        return Err(Error::Symlink(path.to_owned()));
    }
    let not_a_vault = |reason: &str| Error::NotAVault {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if !meta.is_file() {
        return Err(not_a_vault("it is not a regular file"));
    }
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let read = file
        .read(&mut header)
        .map_err(|e| Error::io("read", path, e))?;
    if read == 0 {
        return Err(not_a_vault("it is empty"));
    }
    if read < header.len() || &header != SQLITE_MAGIC {
        return Err(not_a_vault("it is not a SQLite database"));
    }
    Ok((meta.uid(), Stamp::of(&meta)))
}

/// File times come from a clock that ticks coarsely, and a write in the
/// same tick as the one before keeps them: a file changed less than this
/// long ago may change again without its stamp showing it.
pub const SETTLE_SECS: i64 = 2;

/// One state of a file as `stat` shows it: device, inode, size, and the
/// modification and change times to the nanosecond. Any write changes the
/// change time, which no unprivileged process can set back, and a file
/// put in its place has a new inode: what exec's cache of a verified view
/// (`vault::exec_cache`) compares instead of reading the file again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// Whether the file was left alone for the [`SETTLE_SECS`] before `now`
    /// (seconds since the epoch): only then does its next write, whenever
    /// it comes, give it other file times than the ones read now.
    pub fn settled(&self, now: i64) -> bool {
        self.ctime.0 <= now - SETTLE_SECS && self.mtime.0 <= now - SETTLE_SECS
    }

    /// The stamp of the file at `path`, if it can be read.
    pub fn read(path: &Path) -> Option<Stamp> {
        std::fs::metadata(path).ok().map(|m| Stamp::of(&m))
    }

    /// The bytes that stand for this stamp in a cache file's header.
    pub fn to_bytes(self) -> [u8; 56] {
        let fields = [
            self.dev,
            self.ino,
            self.size,
            self.mtime.0 as u64,
            self.mtime.1 as u64,
            self.ctime.0 as u64,
            self.ctime.1 as u64,
        ];
        let mut out = [0u8; 56];
        for (chunk, field) in out.chunks_mut(8).zip(fields) {
            chunk.copy_from_slice(&field.to_le_bytes());
        }
        out
    }
}

/// The directory that holds the vault file (`.` for a bare file name).
pub(super) fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Refuses a vault whose directory group or others can write. There they
/// could create the exec log, a `-wal` or a `-journal` before vault does
/// (SQLite would replay the pages of a planted one), or swap files between
/// a check and a use. The sticky bit (`/tmp`) does not help: it stops
/// others from removing or renaming this user's files, not from creating
/// new ones, so it exempts nothing.
pub fn check_directory(path: &Path) -> Result<()> {
    let dir = directory_of(path);
    let meta = std::fs::metadata(dir).map_err(|e| Error::io("read", dir, e))?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(Error::SharedDirectory {
            dir: dir.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// The side file `PATH-SUFFIX` of the vault at `path` (`-wal`, `-shm`,
/// `-journal`).
pub fn side_path(path: &Path, suffix: &str) -> PathBuf {
    let mut side = path.as_os_str().to_owned();
    side.push(suffix);
    PathBuf::from(side)
}

/// Checks SQLite's side files of the vault at `path`, owned by `owner`,
/// before SQLite opens them: each that exists must pass [`check_side`].
/// Returns whether a `-wal` or a journal exists: changes committed there
/// may not be in the vault file itself yet.
pub fn check_sqlite_side_files(path: &Path, owner: u32) -> Result<bool> {
    let mut pending = false;
    for suffix in ["-wal", "-shm", "-journal"] {
        let side = side_path(path, suffix);
        let mut options = OpenOptions::new();
        options.read(true);
        let opened = match open_side(&side, &options) {
            // A reader of another user's vault: SQLite cannot open it
            // either, and reads the vault as immutable, without it.
            Err(Error::Io { source, .. }) if source.kind() == ErrorKind::PermissionDenied => None,
            opened => opened?,
        };
        if let Some(file) = opened {
            pending |= suffix != "-shm";
            // SQLite gives its side files the vault file's own mode, so a
            // group-readable vault has group-readable side files: only
            // write access for others is refused here.
            check_side(&file, &side, owner, 0o022)?;
            // A `-wal` or journal committed to the repository would be
            // replayed onto the vault: a change `git diff` of the vault
            // never shows. Asked only when one exists, which a vault that
            // closed cleanly never leaves.
            if suffix != "-shm" && crate::git::tracks(&side) {
                return Err(unsafe_side(
                    &side,
                    "git tracks it: it came with the repository, and vault never replays a side file it did not write".into(),
                ));
            }
        }
    }
    Ok(pending)
}

/// Opens a side file with `O_NOFOLLOW | O_NONBLOCK` added to `options`;
/// `None` when it does not exist.
pub fn open_side(path: &Path, options: &OpenOptions) -> Result<Option<File>> {
    let mut options = options.clone();
    options.custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK);
    match options.open(path) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(match e.raw_os_error() {
            Some(nix::libc::ELOOP) => unsafe_side(path, "it is a symbolic link".into()),
            // A FIFO with no reader, or a socket.
            Some(nix::libc::ENXIO) => unsafe_side(path, "it is not a regular file".into()),
            _ => Error::io("open", path, e),
        }),
    }
}

/// Requires an open side file to be a regular file owned by this user or
/// by `owner` (the vault file's), with none of the `forbidden` mode bits.
pub fn check_side(file: &File, path: &Path, owner: u32, forbidden: u32) -> Result<()> {
    let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
    if !meta.is_file() {
        return Err(unsafe_side(path, "it is not a regular file".into()));
    }
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me && meta.uid() != owner {
        return Err(unsafe_side(
            path,
            format!("it belongs to another user (uid {})", meta.uid()),
        ));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & forbidden != 0 {
        return Err(unsafe_side(
            path,
            format!("others can read or write it (mode {mode:04o})"),
        ));
    }
    Ok(())
}

fn unsafe_side(path: &Path, reason: String) -> Error {
    Error::UnsafeSideFile {
        path: path.to_owned(),
        reason,
    }
}

/// A vault file or directory that others can read or write.
pub struct PermissionProblem {
    pub path: std::path::PathBuf,
    pub mode: u32,
    pub want: u32,
}

/// Checks the vault file (want 0600) and its directory (want no group or
/// other write), as ssh checks its keys. (Opening refuses the directory;
/// `vault status` and the read-only opens report it here.)
pub fn check_permissions(path: &Path) -> Vec<PermissionProblem> {
    let mut problems = Vec::new();
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            problems.push(PermissionProblem {
                path: path.to_owned(),
                mode,
                want: 0o600,
            });
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(meta) = std::fs::metadata(dir) {
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o022 != 0 {
                problems.push(PermissionProblem {
                    path: dir.to_owned(),
                    mode,
                    want: 0o700,
                });
            }
        }
    }
    problems
}
