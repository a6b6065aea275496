//! `vault git resolve NAME... --ours|--theirs`: settles a merge of the
//! vault file that stopped on a conflict.
//!
//! git keeps the three versions of a conflicted file in its index (stage 1
//! the common ancestor, 2 ours, 3 theirs). This reads them, redoes the
//! merge taking the chosen side for each named conflict, and writes the
//! working file in one rename; the user then `git add`s it. Nothing is
//! unlocked: as in the merge driver, every row comes from one side.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::driver::read_side;
use crate::cli::GitResolveArgs;
use crate::error::{Error, Result};
use crate::merge::{self, Merge, Refused, Side};
use crate::session::Session;

pub fn run(session: &Session, args: GitResolveArgs) -> Result<u8> {
    let side = if args.ours { Side::Ours } else { Side::Theirs };
    let (repo, vault, rel) = super::vault_in_repo(session)?;
    if !repo.is_unmerged(&rel)? {
        return Err(Error::NotConflicted(rel));
    }
    let scratch = Scratch::new()?;
    let mut stages = Vec::new();
    for n in 1..=3u8 {
        let file = match repo.stage(n, &rel)? {
            Some(bytes) => Some(scratch.write(&format!("stage{n}"), &bytes)?),
            None if n == 1 => None,
            None => return Err(Error::DeletedInMerge { path: rel }),
        };
        stages.push(file);
    }
    let side_of = |n: usize, label: &str| -> Result<Option<crate::store::Snapshot>> {
        match &stages[n] {
            Some(file) => read_side(file, &rel, label),
            None => Ok(None),
        }
    };
    let base = side_of(0, "base")?;
    let ours = side_of(1, "ours")?.ok_or_else(|| Error::DeletedInMerge { path: rel.clone() })?;
    let theirs =
        side_of(2, "theirs")?.ok_or_else(|| Error::DeletedInMerge { path: rel.clone() })?;
    drop(scratch);

    let merged = match merge::resolve(base.as_ref(), &ours, &theirs, &args.names, side) {
        Err(Refused::DifferentVaults) => return Err(Error::DifferentVaults { path: rel }),
        Err(Refused::NotInConflict { unknown, conflicts }) => {
            let mut names: Vec<&str> = conflicts.iter().map(|c| c.name.as_str()).collect();
            names.dedup();
            return Err(Error::NotInConflict {
                names: super::super::join_names(&unknown),
                conflicts: if names.is_empty() {
                    "nothing".into()
                } else {
                    names.join(", ")
                },
            });
        }
        Ok(Merge::Conflicts(left)) => {
            let left: Vec<String> = left
                .iter()
                .map(|c| format!("{} {} ({})", c.subject.as_str(), c.name, c.why))
                .collect();
            return Err(Error::StillInConflict(left.join(", ")));
        }
        Ok(Merge::Clean(merged)) => merged,
    };
    merge::write(&vault, &merged)?;
    let kept = match side {
        Side::Ours => "ours",
        Side::Theirs => "theirs",
    };
    super::super::print(&format!(
        "resolved {} by keeping {kept}, and merged the rest of {rel}\n\
         next: git add {rel}, then git commit\n",
        super::super::join_names(&args.names)
    ))?;
    super::super::OK
}

/// A private directory (0700) for the stages' copies, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("vault-resolve-{}-{nanos}", std::process::id()));
        DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::io("create the directory", &dir, e))?;
        Ok(Scratch(dir))
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.0.join(name);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io("create", &path, e))?;
        file.write_all(bytes)
            .map_err(|e| Error::io("write to", &path, e))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(Path::new(&self.0));
    }
}
