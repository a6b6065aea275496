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
use crate::dotenv::{self, Expand, Problem, Source, Substitution};
use crate::env;
use crate::error::{Error, Result};
use crate::model::SecretName;
use crate::secret::SecretValue;
use crate::session::Session;
use crate::vault::{Imported, NewSecret};

pub fn run(session: &Session, args: ImportArgs) -> Result<u8> {
    let (secrets, notes) = read(session, &args)?;
    for note in &notes {
        eprintln!("{note}");
    }
    if !notes.is_empty() {
        eprintln!("note: pass --no-expand to take every value exactly as written");
    }
    let (vault, _) = session.open_in(args.environment.as_deref())?;
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

/// Reads, parses and checks the whole file. Also returns what to say
/// about `$` substitutions, entry by entry.
fn read(session: &Session, args: &ImportArgs) -> Result<(Vec<NewSecret>, Vec<String>)> {
    let path = &args.file;
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| Error::io("read", path, e))?);
    // Substitution sees vault's environment without the variables that
    // unlock the vault: whatever the file's text, none of them can end up
    // in a secret.
    let environment: HashMap<String, Zeroizing<String>> = session
        .env
        .iter()
        .filter(|(k, _)| !env::UNLOCKING.iter().any(|u| k == u))
        .filter_map(|(k, v)| {
            Some((
                k.to_str()?.to_owned(),
                Zeroizing::new(v.to_str()?.to_owned()),
            ))
        })
        .collect();
    let expand = match args.no_expand {
        true => Expand::Off,
        false => Expand::From(&environment),
    };
    let entries = dotenv::parse(&bytes, &expand).map_err(|problem| match problem {
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
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut secrets = Vec::with_capacity(entries.len());
    let mut notes = Vec::new();
    for entry in entries {
        let line = entry.line;
        let name =
            SecretName::parse(&entry.name, args.allow_dangerous_name).map_err(|problem| {
                Error::ImportName {
                    path: path.clone(),
                    line,
                    name: entry.name.clone(),
                    problem,
                }
            })?;
        if let Some(first) = first_line.insert(entry.name.clone(), line) {
            return Err(Error::ImportDuplicate {
                path: path.clone(),
                name: entry.name,
                first,
                line,
            });
        }
        if let Some(variable) = entry.substitutions.iter().find_map(|s| s.unlocking) {
            return Err(Error::ImportUnlockVariable {
                path: path.clone(),
                line,
                variable,
            });
        }
        notes.extend(substitution_note(&entry.name, line, &entry.substitutions));
        // Moves the parser's buffer into the zeroized value, without a copy.
        let mut value = entry.value;
        let value = Zeroizing::new(std::mem::take(&mut *value).into_bytes());
        let value = SecretValue::new(value);
        super::input::validate(&name, value.expose(), args.allow_empty)
            .and_then(|()| session.check_rule(&name, &value))
            .map_err(|e| Error::ImportValue {
                path: path.clone(),
                line,
                problem: Box::new(e),
            })?;
        secrets.push(NewSecret {
            name,
            value,
            service: super::metadata_text("--service", args.service.clone())?,
            description: None,
            expires_at: None,
            rotate_every: None,
        });
    }
    Ok((secrets, notes))
}

/// What `$` substitution did to one entry, without the value or the names
/// it referred to (both are text of the value: `P@ss$w0rd`). `None` when it
/// did nothing.
fn substitution_note(name: &str, line: usize, subs: &[Substitution]) -> Option<String> {
    if subs.is_empty() {
        return None;
    }
    let count = |source| subs.iter().filter(|s| s.source == source).count();
    let mut parts = Vec::new();
    let mut say = |n: usize, one: &str, many: &str| match n {
        0 => {}
        1 => parts.push(format!("1 {one}")),
        n => parts.push(format!("{n} {many}")),
    };
    say(
        count(Source::Environment),
        "variable from vault's environment",
        "variables from vault's environment",
    );
    say(
        count(Source::File),
        "variable from an earlier entry",
        "variables from earlier entries",
    );
    say(
        count(Source::Undefined),
        "variable that is not defined and became empty",
        "variables that are not defined and became empty",
    );
    say(
        count(Source::NoName),
        "$ with no name after it, dropped",
        "$ with no name after them, dropped",
    );
    let early = subs.iter().filter(|s| s.stopped_at_underscore).count();
    say(
        early,
        "unbraced name that stopped at _ ($A_B reads $A; write ${A_B})",
        "unbraced names that stopped at _ ($A_B reads $A; write ${A_B})",
    );
    let surprising = early > 0 || count(Source::Undefined) + count(Source::NoName) > 0;
    let kind = if surprising { "warning" } else { "note" };
    Some(format!(
        "{kind}: line {line}, {name}: $ substitution changed the value: {}",
        parts.join(", ")
    ))
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
