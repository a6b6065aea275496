//! Running git, for `vault git setup`, `vault git resolve` and `vault
//! scan --staged | --git-history`: the one place vault starts a git process.
//!
//! git is asked plain questions (where is the work tree, is a path ignored,
//! what does a config key hold, what are the stages of a conflicted file)
//! and its answers are taken as they are. Nothing here knows what a vault
//! is; `cmd/git/` decides what to ask.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};

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

    /// A path inside the repository's git directory, as git resolves it
    /// (`hooks/pre-commit` follows `core.hooksPath`).
    pub fn git_path(&self, path: &str) -> Result<PathBuf> {
        let out = run(&self.root, ["rev-parse", "--git-path", path])?;
        check("rev-parse --git-path", &out)?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(self.root.join(text.trim_end_matches(['\n', '\r'])))
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

/// A file's content as git stores it: its path and blob id, and for
/// history the commit that recorded it.
pub struct BlobAt {
    pub commit: Option<String>,
    pub path: String,
    pub blob: String,
}

/// The mode of a submodule entry: a commit of another repository, no blob.
const GITLINK: &str = "160000";

impl Repo {
    /// The blobs `git commit` would record that differ from HEAD (every
    /// staged blob before the first commit): added, modified or retyped
    /// files, as the index holds them.
    pub fn staged(&self) -> Result<Vec<BlobAt>> {
        let out = run(
            &self.root,
            [
                "diff",
                "--cached",
                "--raw",
                "-z",
                "--no-abbrev",
                "--no-renames",
                "--diff-filter=AMT",
            ],
        )?;
        check("diff --cached", &out)?;
        Ok(raw_entries(&out.stdout, None))
    }

    /// Every blob the commits of the current branch added or changed, with
    /// the commit that did (merges: against their first parent), newest
    /// first. A branch with no commit has none.
    pub fn history(&self) -> Result<Vec<BlobAt>> {
        let head = run(&self.root, ["rev-parse", "--verify", "-q", "HEAD"])?;
        if !head.status.success() {
            return Ok(Vec::new());
        }
        let out = run(
            &self.root,
            [
                "log",
                "--format=%x01%H",
                "--raw",
                "-z",
                "--no-abbrev",
                "--no-renames",
                "--diff-merges=first-parent",
                "HEAD",
            ],
        )?;
        check("log", &out)?;
        let mut entries = Vec::new();
        let mut commit = None;
        let mut fields = out.stdout.split(|&b| b == 0).peekable();
        while let Some(field) = fields.next() {
            let field = field.strip_prefix(b"\n").unwrap_or(field);
            if let Some(hash) = field.strip_prefix(b"\x01") {
                commit = Some(String::from_utf8_lossy(hash).into_owned());
            } else if field.starts_with(b":") {
                let path = fields.next().unwrap_or_default();
                entries.extend(raw_entry(field, path, commit.as_deref()));
            }
        }
        Ok(entries)
    }

    /// A `git cat-file --batch` process reading blobs one at a time.
    pub fn blobs(&self) -> Result<Blobs> {
        let mut child = Command::new("git")
            .args(["cat-file", "--batch"])
            .current_dir(&self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::GitMissing(e.to_string().to_lowercase()))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = BufReader::with_capacity(64 * 1024, child.stdout.take().expect("piped"));
        Ok(Blobs {
            child,
            stdin: Some(stdin),
            stdout,
        })
    }
}

/// `git diff --raw -z` output: `:MODE MODE SHA SHA STATUS` and a path,
/// each ended by NUL.
fn raw_entries(out: &[u8], commit: Option<&str>) -> Vec<BlobAt> {
    let mut fields = out.split(|&b| b == 0);
    let mut entries = Vec::new();
    while let Some(meta) = fields.next() {
        if meta.starts_with(b":") {
            let path = fields.next().unwrap_or_default();
            entries.extend(raw_entry(meta, path, commit));
        }
    }
    entries
}

fn raw_entry(meta: &[u8], path: &[u8], commit: Option<&str>) -> Option<BlobAt> {
    let meta = String::from_utf8_lossy(meta);
    let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
    let [_, mode, _, blob, status] = parts.as_slice() else {
        return None;
    };
    if *mode == GITLINK || status.starts_with('D') || blob.bytes().all(|b| b == b'0') {
        return None;
    }
    Some(BlobAt {
        commit: commit.map(str::to_owned),
        path: String::from_utf8_lossy(path).into_owned(),
        blob: (*blob).to_owned(),
    })
}

/// Reads blobs through one `git cat-file --batch`.
pub struct Blobs {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Blobs {
    /// Hands blob `id`'s content to `f` as a stream (never whole in
    /// memory), then skips whatever `f` left unread.
    pub fn read<T>(
        &mut self,
        id: &str,
        f: impl FnOnce(&mut dyn Read) -> std::io::Result<T>,
    ) -> Result<T> {
        let gone = |e: std::io::Error| Error::Git {
            command: "cat-file --batch".into(),
            message: e.to_string().to_lowercase(),
        };
        let stdin = self.stdin.as_mut().expect("open until dropped");
        writeln!(stdin, "{id}")
            .and_then(|()| stdin.flush())
            .map_err(gone)?;
        let mut header = String::new();
        self.stdout.read_line(&mut header).map_err(gone)?;
        let size = match header.trim_end().split(' ').collect::<Vec<_>>().as_slice() {
            [_, "blob", size] => size.parse::<u64>().ok(),
            _ => None,
        }
        .ok_or_else(|| Error::Git {
            command: "cat-file --batch".into(),
            message: format!("no blob {id}"),
        })?;
        let mut body = (&mut self.stdout).take(size);
        let value = f(&mut body).map_err(gone)?;
        std::io::copy(&mut body, &mut std::io::sink()).map_err(gone)?;
        let mut newline = [0u8; 1];
        self.stdout.read_exact(&mut newline).map_err(gone)?;
        Ok(value)
    }
}

impl Drop for Blobs {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
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
