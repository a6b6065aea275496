//! `vault git ...`: a vault file kept in a git repository, diffed and merged
//! by vault itself.
//!
//! `setup` registers vault with git; `textconv` and `merge` are what git
//! then calls, on temporary files it wrote (they need no session: no vault
//! path, no identity, nothing unlocked); `resolve` settles a merge that
//! stopped on a conflict. The merge rules live in `merge/`, git's plumbing
//! in `git.rs`.

mod driver;
mod resolve;
mod setup;

use std::path::{Path, PathBuf};

use crate::cli::GitCommand;
use crate::error::{Error, Result};
use crate::git::{self, Repo};
use crate::session::Session;

pub use driver::{merge, textconv};

pub fn run(session: &Session, command: GitCommand) -> Result<u8> {
    match command {
        GitCommand::Setup(args) => setup::run(session, args),
        GitCommand::Resolve(args) => resolve::run(session, args),
        GitCommand::Textconv(args) => textconv(args),
        GitCommand::Merge(args) => merge(args),
    }
}

/// The repository around the current directory, and the session's vault
/// file as a path relative to its root, with `/` separators.
fn vault_in_repo(session: &Session) -> Result<(Repo, PathBuf, String)> {
    let cwd = std::env::current_dir().map_err(|e| Error::io("read", Path::new("."), e))?;
    let repo = git::repo_containing(&cwd)?;
    let vault = cwd.join(&session.vault_path);
    let name = vault
        .file_name()
        .ok_or_else(|| Error::Usage(format!("{} names no file", vault.display())))?;
    let dir = vault.parent().unwrap_or(Path::new("/"));
    let dir = dir.canonicalize().map_err(|e| Error::io("read", dir, e))?;
    let vault = dir.join(name);
    let outside = || Error::OutsideWorkTree {
        vault: vault.clone(),
        root: repo.root().to_owned(),
    };
    let rel = vault.strip_prefix(repo.root()).map_err(|_| outside())?;
    if rel.starts_with(".git") {
        return Err(outside());
    }
    let rel = rel
        .to_str()
        .ok_or_else(|| Error::UnsafeGitPath(rel.to_string_lossy().into_owned()))?
        .to_owned();
    Ok((repo, vault, rel))
}
