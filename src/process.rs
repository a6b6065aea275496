//! Running the program `exec` was given: finding it, building its
//! environment, and replacing vault with it.
//!
//! The program is looked up before anything is unlocked, so a typo answers
//! 127 at once instead of after a passphrase prompt. With nothing to
//! supervise, vault replaces itself (execve): the program keeps the PID,
//! the terminal, its signals and its own exit status.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
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

/// Replaces this process with `program`. Returns only on failure.
pub fn replace(
    program: &Path,
    argv: &[OsString],
    env: impl IntoIterator<Item = (OsString, OsString)>,
) -> Error {
    let mut command = std::process::Command::new(program);
    if let Some(arg0) = argv.first() {
        command.arg0(arg0);
    }
    command.args(argv.iter().skip(1)).env_clear().envs(env);
    let e = command.exec();
    let shown = argv
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::CommandNotFound(shown),
        _ => Error::NotExecutable {
            program: shown,
            source: e,
        },
    }
}
