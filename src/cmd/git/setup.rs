//! `vault git setup`: registers vault as git's diff text converter and
//! merge driver for the vault file, and keeps its side files out of git.
//!
//! Writes what is shared through the repository (`.gitattributes`,
//! `.gitignore`) and what each clone keeps for itself (`.git/config`), and
//! says what it changed. Each step first checks whether it is already done,
//! so a second run changes nothing and says so.

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::session::Session;

/// Shown by git in each hunk header of the text form: the block a change
/// is in.
const XFUNCNAME: &str = "^((secret|identity) .*)$";

pub fn run(session: &Session) -> Result<u8> {
    let (repo, _, rel) = super::vault_in_repo(session)?;
    if rel.contains(|c: char| c.is_whitespace() || c.is_control() || "\"'\\*?[]!#".contains(c)) {
        return Err(Error::UnsafeGitPath(rel));
    }
    let mut done = Vec::new();

    let line = format!("/{rel} diff=vault merge=vault");
    if append_missing(&repo, ".gitattributes", std::slice::from_ref(&line))? {
        done.push(format!(".gitattributes: added \"{line}\""));
    }

    let mut ignore = Vec::new();
    for suffix in ["-wal", "-shm", "-exec"] {
        let side = format!("{rel}{suffix}");
        if !repo.is_ignored(&side)? {
            ignore.push(format!("/{side}"));
        }
    }
    if !ignore.is_empty() && append_missing(&repo, ".gitignore", &ignore)? {
        done.push(format!(
            ".gitignore: added {} (side files of a vault in use: SQLite's, and exec's \
             entries waiting for the audit log; never commit them)",
            ignore.join(" ")
        ));
    }

    let exe = std::env::current_exe().map_err(|e| Error::GitMissing(e.to_string()))?;
    let exe = shell_quote(&exe.to_string_lossy());
    let config = [
        ("diff.vault.textconv", format!("{exe} git textconv")),
        ("diff.vault.xfuncname", XFUNCNAME.to_owned()),
        (
            "merge.vault.name",
            "vault: merge vault files row by row".to_owned(),
        ),
        ("merge.vault.driver", format!("{exe} git merge %O %A %B %P")),
    ];
    let mut set = Vec::new();
    for (key, value) in &config {
        if repo.config_get(key)?.as_deref() != Some(value.as_str()) {
            repo.config_set(key, value)?;
            set.push(*key);
        }
    }
    if !set.is_empty() {
        done.push(format!(
            "git config: set {}",
            super::super::join_names(&set)
        ));
    }

    let root = repo.root().display();
    let text = if done.is_empty() {
        format!("nothing to change: {rel} in {root} is already set up\n")
    } else {
        let mut text = format!("set up {rel} in {root} for git diff and git merge:\n");
        for d in &done {
            text.push_str(&format!("  {d}\n"));
        }
        text.push_str(
            "commit .gitattributes and .gitignore; every clone runs `vault git setup` once \
             (git does not share its config)\n",
        );
        text
    };
    super::super::print(&text)?;
    super::super::OK
}

/// Appends the lines `file` (at the repository root) lacks; returns
/// whether it wrote anything.
fn append_missing(repo: &Repo, file: &str, lines: &[String]) -> Result<bool> {
    let path = repo.root().join(file);
    let mut text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let missing: Vec<&String> = lines
        .iter()
        .filter(|l| !text.lines().any(|have| have.trim() == l.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(false);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for line in missing {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(&path, text).map_err(|e| Error::io("write to", &path, e))?;
    Ok(true)
}

/// Quotes a word for the shell git runs drivers with.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
