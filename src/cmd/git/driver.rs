//! What git calls once `vault git setup` registered vault: the text form of
//! a vault file for `git diff` (textconv) and the merge driver.
//!
//! Both work on files git wrote, usually temporary ones: they open them
//! read-only, never unlock, and need no vault path or identity.

use std::path::{Path, PathBuf};

use crate::cli::{GitMergeArgs, GitTextconvArgs};
use crate::error::{exit, Error, Result};
use crate::merge::{self, Conflict, Merge};
use crate::store::Snapshot;
use crate::vault::Vault;

/// `vault git textconv FILE`.
pub fn textconv(args: GitTextconvArgs) -> Result<u8> {
    let vault = Vault::open_read_only(&args.file)?;
    let text = merge::text_form(&vault.snapshot()?, vault.format_version()?);
    super::super::print(&text)?;
    super::super::OK
}

/// `vault git merge BASE OURS THEIRS [PATH]`: the result replaces OURS and
/// the status is 0; on conflict OURS stays as it was, each conflict is
/// named on stderr, and the status is 1 (git then stops the merge).
pub fn merge(args: GitMergeArgs) -> Result<u8> {
    let path = args
        .path
        .clone()
        .unwrap_or_else(|| args.ours.display().to_string());
    let base = read_side(&args.base, &path, "base")?;
    let ours = read_side(&args.ours, &path, "ours")?.ok_or_else(|| empty(&path, "ours"))?;
    let theirs = read_side(&args.theirs, &path, "theirs")?.ok_or_else(|| empty(&path, "theirs"))?;
    match merge::merge(base.as_ref(), &ours, &theirs)
        .map_err(|_| Error::DifferentVaults { path: path.clone() })?
    {
        Merge::Clean(merged) => {
            merge::write(&args.ours, &merged)?;
            Ok(exit::OK)
        }
        Merge::Conflicts(conflicts) => {
            eprint!("{}", report(&path, &conflicts));
            Ok(exit::FOUND)
        }
    }
}

/// One side's rows; `None` for an empty file (git's stand-in for a base
/// that does not exist).
pub(super) fn read_side(file: &Path, path: &str, side: &str) -> Result<Option<Snapshot>> {
    let empty = std::fs::metadata(file).is_ok_and(|m| m.is_file() && m.len() == 0);
    if empty {
        return Ok(None);
    }
    let snapshot = Vault::open_read_only(file).and_then(|v| v.snapshot());
    match snapshot {
        Ok(s) => Ok(Some(s)),
        Err(Error::NotAVault { reason, .. }) => Err(Error::NotAVault {
            path: PathBuf::from(format!("{path} ({side})")),
            reason,
        }),
        Err(e) => Err(e),
    }
}

fn empty(path: &str, side: &str) -> Error {
    Error::NotAVault {
        path: PathBuf::from(format!("{path} ({side})")),
        reason: "it is empty".into(),
    }
}

/// The conflict report: every conflict on its own line, then the command
/// that settles them.
pub(super) fn report(path: &str, conflicts: &[Conflict]) -> String {
    let count = match conflicts.len() {
        1 => "1 conflict".to_owned(),
        n => format!("{n} conflicts"),
    };
    let mut out = format!("vault: cannot merge {path}: {count}\n");
    for c in conflicts {
        out.push_str(&format!("  {} {}: {}\n", c.subject.as_str(), c.name, c.why));
    }
    let mut names: Vec<&str> = conflicts.iter().map(|c| c.name.as_str()).collect();
    names.dedup();
    out.push_str(&format!(
        "hint: keep one side with `vault --vault {path} git resolve {} --ours` (or --theirs), \
         then `git add {path}` and commit\n",
        names.join(" ")
    ));
    out
}
