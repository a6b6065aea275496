//! Finding the program `exec` was given, as execvp would, before anything
//! is unlocked: a typo answers 127 at once instead of after a passphrase
//! prompt, and a file that cannot be run answers 126.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Finds `program` as execvp would: a path if it contains a slash, else the
/// first executable match in `path_var`. A match that exists but cannot be
/// executed answers 126, as shells do.
pub fn resolve(program: &OsStr, path_var: Option<&OsStr>) -> Result<PathBuf> {
    let shown = program.to_string_lossy().into_owned();
    if program.is_empty() {
        return Err(Error::CommandNotFound(shown));
    }
    if program.as_bytes().contains(&b'/') {
        let path = PathBuf::from(program);
        return match check_executable(&path) {
            Found::Executable => Ok(path),
            Found::NotExecutable(e) => Err(Error::NotExecutable {
                program: shown,
                source: e,
            }),
            Found::Missing => Err(Error::CommandNotFound(shown)),
        };
    }
    let mut denied = None;
    let dirs = path_var.unwrap_or(OsStr::new("/usr/local/bin:/usr/bin:/bin"));
    for dir in std::env::split_paths(dirs) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let candidate = dir.join(program);
        match check_executable(&candidate) {
            Found::Executable => return Ok(candidate),
            Found::NotExecutable(e) => denied = denied.or(Some(e)),
            Found::Missing => {}
        }
    }
    match denied {
        Some(source) => Err(Error::NotExecutable {
            program: shown,
            source,
        }),
        None => Err(Error::CommandNotFound(shown)),
    }
}

enum Found {
    Executable,
    NotExecutable(std::io::Error),
    Missing,
}

fn check_executable(path: &Path) -> Found {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Found::NotExecutable(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "is a directory",
        )),
        Ok(meta) if meta.permissions().mode() & 0o111 == 0 => {
            Found::NotExecutable(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
        }
        Ok(_) => match nix::unistd::access(path, nix::unistd::AccessFlags::X_OK) {
            Ok(()) => Found::Executable,
            Err(e) => Found::NotExecutable(std::io::Error::from(e)),
        },
        Err(_) => Found::Missing,
    }
}
