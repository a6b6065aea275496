//! `vault import FILE`: every entry of a dotenv file becomes a secret, in
//! one transaction.
//!
//! The whole file is read and checked first (its format, every name, every
//! value, duplicates), so a refused file changes nothing. Errors name a line
//! number, never a line's text: it may hold a secret. vault never deletes
//! the file; it suggests how to once the values are in the vault (for a
//! regular file only: never `shred -u /dev/stdin`).
//!
//! `--dry-run --json` prints `{"add": [names], "rotate": [names], "skip":
//! [names]}`, and changes nothing.

use std::collections::HashMap;
use std::path::Path;

use zeroize::Zeroizing;

use crate::cli::ImportArgs;
use crate::dotenv::{self, Problem};
use crate::env;
use crate::error::{Error, Result};
use crate::model::SecretName;
use crate::secret::SecretValue;
use crate::session::Session;
use crate::vault::{Imported, NewSecret};

pub fn run(session: &Session, args: ImportArgs) -> Result<u8> {
    let secrets = read(&args)?;
    let vault = session.open()?;
    if args.dry_run {
        let mut done = Imported::default();
        for new in secrets {
            match vault.secret_exists(&new.name)? {
                false => done.added.push(new.name),
                true if args.overwrite => done.rotated.push((new.name, 0)),
                true => done.skipped.push(new.name),
            }
        }
        return report(&args, &done);
    }
    let me = session.unlock(&vault)?;
    let done = vault.import(&me, secrets, args.overwrite)?;
    report(&args, &done)
}

/// Reads, parses and checks the whole file.
fn read(args: &ImportArgs) -> Result<Vec<NewSecret>> {
    let path = &args.file;
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| Error::io("read", path, e))?);
    let entries = dotenv::parse(&bytes).map_err(|problem| match problem {
        Problem::NotUtf8 { line } => Error::ImportNotUtf8 {
            path: path.clone(),
            line,
        },
        Problem::Parse { line } => Error::ImportLine {
            path: path.clone(),
            line,
        },
    })?;
    if entries.is_empty() {
        return Err(Error::ImportEmpty(path.clone()));
    }
    if let Some((line, variable)) = dotenv::references(&bytes)
        .into_iter()
        .find_map(|(line, name)| Some((line, *env::UNLOCKING.iter().find(|u| **u == name)?)))
    {
        return Err(Error::ImportUnlockVariable {
            path: path.clone(),
            line,
            variable,
        });
    }
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut twice: Vec<String> = Vec::new();
    let mut secrets = Vec::with_capacity(entries.len());
    for entry in entries {
        let name =
            SecretName::parse(&entry.name, args.allow_dangerous_name).map_err(|problem| {
                Error::ImportName {
                    path: path.clone(),
                    line: entry.line,
                    name: entry.name.clone(),
                    problem,
                }
            })?;
        if first_line.insert(entry.name.clone(), entry.line).is_some() {
            if !twice.contains(&entry.name) {
                twice.push(entry.name);
            }
            continue;
        }
        // Moves dotenvy's buffer into the zeroized value, without a copy.
        let mut value = entry.value;
        let value = Zeroizing::new(std::mem::take(&mut *value).into_bytes());
        super::input::validate(&name, &value, args.allow_empty)?;
        secrets.push(NewSecret {
            name,
            value: SecretValue::new(value),
            service: super::metadata_text("--service", args.service.clone())?,
            description: None,
            expires_at: None,
            rotate_every: None,
        });
    }
    if !twice.is_empty() {
        return Err(Error::ImportDuplicates {
            path: path.clone(),
            names: super::join_names(&twice),
        });
    }
    Ok(secrets)
}

/// One line per name, a summary, and the advice to delete the file.
fn report(args: &ImportArgs, done: &Imported) -> Result<u8> {
    let dry = args.dry_run;
    if dry && args.json {
        fn names(list: &[SecretName]) -> Vec<&str> {
            list.iter().map(SecretName::as_str).collect()
        }
        let rotate: Vec<SecretName> = done.rotated.iter().map(|(n, _)| n.clone()).collect();
        super::print_json(&serde_json::json!({
            "add": names(&done.added),
            "rotate": names(&rotate),
            "skip": names(&done.skipped),
        }))?;
        return super::OK;
    }
    let mut out = String::new();
    for name in &done.added {
        out.push_str(&format!(
            "{} {name}\n",
            if dry { "would add" } else { "added" }
        ));
    }
    for (name, version) in &done.rotated {
        out.push_str(&match dry {
            true => format!("would rotate {name}\n"),
            false => format!("rotated {name} to version {version}\n"),
        });
    }
    for name in &done.skipped {
        let verb = if dry { "would skip" } else { "skipped" };
        out.push_str(&format!("{verb} {name}: it already exists\n"));
    }
    let (added, rotated, skipped) = (done.added.len(), done.rotated.len(), done.skipped.len());
    out.push_str(&match dry {
        true => format!(
            "dry run: {added} to add, {rotated} to rotate, {skipped} to skip; nothing was changed\n"
        ),
        false => format!("{added} added, {rotated} rotated, {skipped} skipped\n"),
    });
    super::print(&out)?;
    if skipped > 0 {
        eprintln!("hint: pass --overwrite to rotate the secrets that already exist");
    }
    if !args.dry_run && is_a_plain_file(&args.file) {
        eprintln!(
            "hint: {} still holds these values in plain text; once you no longer need it, delete it: shred -u {}",
            args.file.display(),
            shell_word(&args.file)
        );
    }
    super::OK
}

/// Whether `path` is a regular file worth deleting: not a pipe, a device
/// or one of `/dev/stdin`'s links, where `shred -u` would be wrong.
fn is_a_plain_file(path: &Path) -> bool {
    let special = std::fs::canonicalize(path)
        .map(|p| p.starts_with("/dev") || p.starts_with("/proc"))
        .unwrap_or(true)
        || path.starts_with("/dev")
        || path.starts_with("/proc");
    !special && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// A path as one shell word, quoted when it needs to be, never taken for
/// an option.
fn shell_word(path: &Path) -> String {
    let mut text = path.to_string_lossy().into_owned();
    if text.starts_with('-') {
        text.insert_str(0, "./");
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c);
    if text.chars().all(plain) {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
