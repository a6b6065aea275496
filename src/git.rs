//! Running git, for `vault git setup` and `vault git resolve`: the one place
//! vault starts a git process.
//!
//! git is asked plain questions (where is the work tree, is a path ignored,
//! what does a config key hold, what are the stages of a conflicted file)
//! and its answers are taken as they are. Nothing here knows what a vault
//! is; `cmd/git/` decides what to ask.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::error::{Error, Result};

/// A git work tree.
pub struct Repo {
    root: PathBuf,
}

/// The work tree containing `dir`.
pub fn repo_containing(dir: &Path) -> Result<Repo> {
    let out = run(dir, ["rev-parse", "--show-toplevel"])?;
    if !out.status.success() {
        return Err(Error::NotInRepository(dir.to_owned()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let root = PathBuf::from(text.trim_end_matches(['\n', '\r']));
    let root = root
        .canonicalize()
        .map_err(|e| Error::io("read", &root, e))?;
    Ok(Repo { root })
}

impl Repo {
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A key of this repository's own config (`.git/config`), if set.
    pub fn config_get(&self, key: &str) -> Result<Option<String>> {
        let out = run(&self.root, ["config", "--local", "--get", key])?;
        match out.status.code() {
            Some(0) => Ok(Some(
                String::from_utf8_lossy(&out.stdout)
                    .trim_end_matches('\n')
                    .to_owned(),
            )),
            Some(1) => Ok(None),
            _ => Err(failed("config --get", &out)),
        }
    }

    pub fn config_set(&self, key: &str, value: &str) -> Result<()> {
        let out = run(&self.root, ["config", "--local", key, value])?;
        check("config", &out)
    }

    /// Whether a path (relative to the root) is ignored by the ignore
    /// files, whether or not it is tracked.
    pub fn is_ignored(&self, path: &str) -> Result<bool> {
        let out = run(&self.root, ["check-ignore", "-q", "--no-index", "--", path])?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(failed("check-ignore", &out)),
        }
    }

    /// Whether `path` has unmerged stages in the index (a stopped merge).
    pub fn is_unmerged(&self, path: &str) -> Result<bool> {
        let out = run(&self.root, ["ls-files", "--unmerged", "--", path])?;
        check("ls-files", &out)?;
        Ok(!out.stdout.is_empty())
    }

    /// The content of stage `n` (1 base, 2 ours, 3 theirs) of `path`, or
    /// `None` when the index holds no such stage.
    pub fn stage(&self, n: u8, path: &str) -> Result<Option<Vec<u8>>> {
        let spec = format!(":{n}:{path}");
        let out = run(&self.root, ["show", spec.as_str()])?;
        Ok(out.status.success().then_some(out.stdout))
    }
}

/// Whether git tracks the file at `path` (it came with the repository).
/// `false` outside a work tree, or where git is not installed.
pub fn tracks(path: &Path) -> bool {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return false;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let args = [
        OsStr::new("ls-files"),
        OsStr::new("--error-unmatch"),
        OsStr::new("--"),
        name,
    ];
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run<I, S>(dir: &Path, args: I) -> Result<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::GitMissing(e.to_string().to_lowercase()))
}

fn check(command: &str, out: &Output) -> Result<()> {
    if out.status.success() {
        Ok(())
    } else {
        Err(failed(command, out))
    }
}

fn failed(command: &str, out: &Output) -> Error {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message")
        .trim_start_matches("fatal: ")
        .trim_start_matches("error: ")
        .to_owned();
    Error::Git {
        command: command.to_owned(),
        message,
    }
}
