//! `vault scan`: finds the vault's stored values in files, in what git is
//! about to commit or has committed, or in a log on stdin, and names each
//! place (file, line, column, secret and version), never the value or the
//! text around it. Exit status 0 when clean, 1 when something was found,
//! 2 on error (a file that could not be read included: a gate must not
//! pass on what it did not see).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cli::ScanArgs;
use crate::error::{exit, Error, Result};
use crate::git;
use crate::scan::{self, How, Matcher, Outcome, Skip, MIN_LEN};
use crate::session::Session;
use crate::vault::Wanted;

/// Where the bytes come from.
enum Source {
    Paths(Vec<PathBuf>),
    Stdin,
    Staged(git::Repo),
    History(git::Repo),
}

pub fn run(session: &Session, args: ScanArgs) -> Result<u8> {
    let vault = session.open()?;
    vault.require_secrets()?;
    // Everything that can fail on the user's input fails before unlocking.
    let source = if args.stdin {
        Source::Stdin
    } else if args.staged || args.git_history {
        let cwd = std::env::current_dir().map_err(|e| Error::io("read", Path::new("."), e))?;
        let repo = git::repo_containing(&cwd)?;
        if args.staged {
            Source::Staged(repo)
        } else {
            Source::History(repo)
        }
    } else {
        let paths = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        for path in &paths {
            std::fs::symlink_metadata(path).map_err(|e| Error::io("scan", path, e))?;
        }
        Source::Paths(paths)
    };
    let me = session.unlock(&vault)?;
    let targets = vault.scan_targets(&me)?;
    let labels: Vec<Wanted> = targets.labels.clone();
    let short: BTreeSet<&str> = targets
        .values
        .iter()
        .filter(|(_, v)| v.len() < MIN_LEN)
        .map(|(l, _)| labels[*l].name.as_str())
        .collect();
    let unfingerprinted = targets.unfingerprinted.clone();
    let matcher = Matcher::new(targets);
    let outcome = match &source {
        Source::Paths(paths) => scan::paths(
            &matcher,
            paths,
            &Skip::vault(&session.vault_path),
            !args.no_ignore,
        )?,
        Source::Stdin => scan::stdin(&matcher)?,
        Source::Staged(repo) => {
            let skip = vault_paths_in(repo, &session.vault_path);
            scan::blobs(&matcher, repo, repo.staged()?, &skip)?
        }
        Source::History(repo) => {
            let skip = vault_paths_in(repo, &session.vault_path);
            scan::blobs(&matcher, repo, repo.history()?, &skip)?
        }
    };
    for name in &short {
        eprintln!("vault: note: the value of {name} is shorter than {MIN_LEN} bytes and is not searched for");
    }
    if !unfingerprinted.is_empty() {
        eprintln!(
            "vault: note: {} {} no fingerprint yet (stored before this version of vault), so {} earlier values cannot be found, nor {} current value without a grant; a manager's next change adds it",
            super::join_names(&unfingerprinted),
            if unfingerprinted.len() == 1 { "has" } else { "have" },
            if unfingerprinted.len() == 1 { "its" } else { "their" },
            if unfingerprinted.len() == 1 { "its" } else { "their" },
        );
    }
    report(&outcome, &labels, args.json)?;
    for e in &outcome.errors {
        eprintln!("error: {e}");
    }
    Ok(if !outcome.errors.is_empty() {
        exit::FAILURE
    } else if outcome.hits.is_empty() {
        exit::OK
    } else {
        exit::FOUND
    })
}

/// The vault file and its side files as paths of `repo`'s work tree, which
/// a git scan leaves out (none when the vault is elsewhere).
fn vault_paths_in(repo: &git::Repo, vault: &Path) -> Vec<String> {
    let Some(real) = vault
        .parent()
        .map(|d| {
            if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            }
        })
        .and_then(|d| d.canonicalize().ok())
        .zip(vault.file_name())
        .map(|(dir, name)| dir.join(name))
    else {
        return Vec::new();
    };
    let Some(rel) = real.strip_prefix(repo.root()).ok().and_then(|r| r.to_str()) else {
        return Vec::new();
    };
    ["", "-wal", "-shm", "-journal", "-exec"]
        .iter()
        .map(|suffix| format!("{rel}{suffix}"))
        .collect()
}

fn report(outcome: &Outcome, labels: &[Wanted], json: bool) -> Result<()> {
    if json {
        let findings: Vec<serde_json::Value> = outcome
            .hits
            .iter()
            .map(|hit| {
                let label = &labels[hit.finding.label];
                serde_json::json!({
                    "path": hit.path,
                    "commit": hit.commit,
                    "line": hit.finding.line,
                    "column": hit.finding.column,
                    "secret": label.name,
                    "version": label.version,
                    "current": label.current,
                    "by": match hit.finding.how { How::Value => "value", How::Fingerprint => "fingerprint" },
                })
            })
            .collect();
        super::print_json(&serde_json::json!({
            "findings": findings,
            "files": outcome.files,
            "bytes": outcome.bytes,
        }))?;
    } else {
        let mut text = String::new();
        for hit in &outcome.hits {
            let label = &labels[hit.finding.label];
            if let Some(commit) = &hit.commit {
                text.push_str(commit);
                text.push(':');
            }
            text.push_str(&format!(
                "{}:{}:{}: {} version {} ({})\n",
                hit.path,
                hit.finding.line,
                hit.finding.column,
                label.name,
                label.version,
                if label.current {
                    "current value"
                } else {
                    "earlier value"
                },
            ));
        }
        super::print(&text)?;
    }
    let size = outcome.bytes as f64 / (1024.0 * 1024.0);
    let files = plural(outcome.files, "file", "files");
    if outcome.hits.is_empty() {
        eprintln!("vault: no stored value found in {files} ({size:.1} MiB)");
    } else {
        let names: BTreeSet<&str> = outcome
            .hits
            .iter()
            .map(|h| labels[h.finding.label].name.as_str())
            .collect();
        let names: Vec<&str> = names.into_iter().collect();
        let places: BTreeSet<(&Option<String>, &str)> = outcome
            .hits
            .iter()
            .map(|h| (&h.commit, h.path.as_str()))
            .collect();
        eprintln!(
            "vault: found {} in {} ({} of {files} read); no value was printed",
            super::join_names(&names),
            plural(outcome.hits.len() as u64, "place", "places"),
            places.len(),
        );
        eprintln!(
            "hint: take the values out (and out of git history, if committed), then rotate what leaked: vault rotate {}",
            crate::error::command_for(names[0])
        );
    }
    Ok(())
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
