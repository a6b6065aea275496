//! The vault file on disk before SQLite sees it: creation with safe modes in
//! one step, refusing symlinks and non-files, and the permission check.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

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
pub fn check_existing(path: &Path) -> Result<()> {
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
    Ok(())
}

/// A vault file or directory that others can read or write.
pub struct PermissionProblem {
    pub path: std::path::PathBuf,
    pub mode: u32,
    pub want: u32,
}

/// Checks the vault file (want 0600) and its directory (want no group or
/// other write), as ssh checks its keys.
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
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o022 != 0 && mode & 0o1000 == 0 {
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
