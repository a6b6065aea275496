//! The files a scan of paths reads: each path given, and below each
//! directory every file that `.gitignore`, `.ignore` and git's exclude
//! files do not rule out (the `ignore` crate, as ripgrep walks), hidden
//! files included (`.env` is the classic leak), `.git` itself not, and
//! never the vault file or its side files. Symbolic links are not
//! followed. This module is the `ignore` crate's one home.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Files a scan never reads: the vault file and its side files (ciphertext
/// and names; a value is never there in the clear).
pub struct Skip {
    paths: Vec<PathBuf>,
    /// The vault file's name, to canonicalize only files that could be it.
    name: Option<std::ffi::OsString>,
}

impl Skip {
    pub fn vault(vault: &Path) -> Skip {
        let Ok(real) = vault.canonicalize() else {
            return Skip {
                paths: Vec::new(),
                name: None,
            };
        };
        let mut paths = vec![real.clone()];
        for suffix in ["-wal", "-shm", "-journal", "-exec"] {
            let mut side = real.clone().into_os_string();
            side.push(suffix);
            paths.push(side.into());
        }
        Skip {
            name: real.file_name().map(|n| n.to_owned()),
            paths,
        }
    }

    pub fn skips(&self, path: &Path) -> bool {
        let (Some(name), Some(file)) = (&self.name, path.file_name()) else {
            return false;
        };
        if !file.as_encoded_bytes().starts_with(name.as_encoded_bytes()) {
            return false;
        }
        path.canonicalize()
            .is_ok_and(|real| self.paths.contains(&real))
    }
}

/// Calls `each` for every file to read under `paths`; an entry that cannot
/// be read (a directory without permission) becomes an error, and the walk
/// goes on.
pub fn walk(
    paths: &[PathBuf],
    skip: &Skip,
    honour_ignore: bool,
    mut each: impl FnMut(&Path),
) -> Vec<Error> {
    let mut errors = Vec::new();
    let Some((first, rest)) = paths.split_first() else {
        return errors;
    };
    let mut builder = ignore::WalkBuilder::new(first);
    for path in rest {
        builder.add(path);
    }
    builder
        .hidden(false)
        .require_git(false)
        .git_ignore(honour_ignore)
        .git_exclude(honour_ignore)
        .git_global(honour_ignore)
        .ignore(honour_ignore)
        .parents(honour_ignore)
        .follow_links(false)
        .filter_entry(|entry| entry.file_name() != ".git");
    for entry in builder.build() {
        match entry {
            Ok(entry) => {
                let is_file = entry.file_type().is_some_and(|t| t.is_file());
                if is_file && !skip.skips(entry.path()) {
                    each(entry.path());
                }
            }
            Err(e) => errors.push(walk_error(e)),
        }
    }
    errors
}

/// The path and cause of a walk error, in vault's words.
fn walk_error(e: ignore::Error) -> Error {
    fn parts(e: &ignore::Error) -> (Option<&Path>, Option<&std::io::Error>) {
        match e {
            ignore::Error::WithPath { path, err } => {
                let (_, io) = parts(err);
                (Some(path.as_path()), io)
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                parts(err)
            }
            ignore::Error::Partial(errs) => errs.first().map_or((None, None), parts),
            ignore::Error::Io(io) => (None, Some(io)),
            _ => (None, None),
        }
    }
    match parts(&e) {
        (Some(path), Some(io)) => Error::io(
            "read",
            path.strip_prefix("./").unwrap_or(path),
            std::io::Error::new(io.kind(), io.to_string()),
        ),
        _ => Error::Usage(format!(
            "cannot walk the files to scan: {}",
            e.to_string().to_lowercase()
        )),
    }
}
