//! `vault git setup`: registers vault as git's diff text converter and
//! merge driver for the vault file, and keeps its side files out of git;
//! with `--hook`, installs a pre-commit hook that runs `vault scan
//! --staged` (also for a vault kept outside the repository).
//!
//! Writes what is shared through the repository (`.gitattributes`,
//! `.gitignore`) and what each clone keeps for itself (`.git/config`), and
//! says what it changed. Each step first checks whether it is already done,
//! so a second run changes nothing and says so.

use std::path::Path;

use crate::cli::GitSetupArgs;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::session::Session;

/// The line that marks a pre-commit hook as vault's own, to rewrite.
const HOOK_MARK: &str = "# Installed by `vault git setup --hook`";

/// Shown by git in each hunk header of the text form: the block a change
/// is in.
const XFUNCNAME: &str = "^((secret|identity) .*)$";

pub fn run(session: &Session, args: GitSetupArgs) -> Result<u8> {
    if args.hook {
        let hook = match super::vault_in_repo(session) {
            Err(Error::OutsideWorkTree { vault, root }) => {
                let repo = crate::git::repo_containing(&root)?;
                install_hook(&repo, &vault.to_string_lossy())?
            }
            Err(e) => return Err(e),
            Ok((repo, _, rel)) => install_hook(&repo, &rel)?,
        };
        if let Some(line) = &hook {
            super::super::print(&format!("{line}\n"))?;
        }
        if super::vault_in_repo(session).is_err() {
            if hook.is_none() {
                super::super::print(
                    "nothing to change: the pre-commit hook is already installed\n",
                )?;
            }
            return super::super::OK;
        }
    }
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

/// Writes the pre-commit hook that runs `vault scan --staged` with this
/// vault binary on `vault` (relative to the work tree, where git runs
/// hooks, or absolute); says what it did, or `None` when it was already
/// there. A hook vault did not write is left alone.
fn install_hook(repo: &Repo, vault: &str) -> Result<Option<String>> {
    let path = repo.git_path("hooks/pre-commit")?;
    let exe = std::env::current_exe().map_err(|e| Error::GitMissing(e.to_string()))?;
    let text = format!(
        "#!/bin/sh\n{HOOK_MARK}: refuses a commit that records a value\n\
         # stored in the vault, naming the secret (never the value).\n\
         # `git commit --no-verify` skips it.\n\
         exec {} --vault {} scan --staged\n",
        shell_quote(&exe.to_string_lossy()),
        shell_quote(vault)
    );
    match std::fs::read_to_string(&path) {
        Ok(have) if have == text => return Ok(None),
        Ok(have) if !have.contains(HOOK_MARK) => return Err(Error::HookExists(path)),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("read", &path, e)),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    write_executable(&path, &text)?;
    let shown = path.strip_prefix(repo.root()).unwrap_or(&path).display();
    Ok(Some(format!(
        "{shown}: installed a pre-commit hook that runs `vault scan --staged`"
    )))
}

fn write_executable(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).map_err(|e| Error::io("write to", path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io("write to", path, e))
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
