//! What happens to each selected variable once the values are decrypted:
//! injected, kept from the environment, refused as expired, skipped for an
//! expired grant, or not granted at all; and the program's environment
//! that follows.
//!
//! The plan is the single source for running, for the notes on stderr and
//! for `--explain`, so what `--explain` says is what `exec` does.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use super::files::Rendered;
use super::select::Selection;
use super::Request;
use crate::env;
use crate::model::SecretName;
use crate::vault::{Decrypted, Skipped};

/// Variables a `--clean-env` program keeps from vault's environment.
pub const CLEAN_ENV_KEEPS: [&str; 8] = [
    "PATH", "HOME", "USER", "LANG", "TERM", "TZ", "TMPDIR", "SHELL",
];

/// How soon an expiry earns a warning.
pub const EXPIRY_WARNING_SECS: i64 = 7 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Inject,
    /// `--no-override` and the variable is already set.
    Kept,
    /// The secret has expired and `--allow-expired` was not given.
    Expired,
    /// The identity's access to the secret has expired.
    GrantExpired,
    NotGranted,
}

pub struct Entry<'a> {
    /// The variable's name, the selection's.
    pub var: &'a str,
    pub secret: SecretName,
    pub fate: Fate,
    /// The decrypted secret, for the fates that have one.
    pub value: Option<&'a Decrypted>,
    /// Given as a memory file (`--file`, or `as = "file"` in the
    /// manifest): the variable holds its path.
    pub as_file: bool,
}

impl Entry<'_> {
    pub fn expires_at(&self) -> Option<i64> {
        self.value.and_then(|v| v.expires_at)
    }
}

pub struct Plan<'a> {
    pub entries: Vec<Entry<'a>>,
    /// The environment before secrets: vault's own, without unlocking
    /// variables (and only the kept few under `--clean-env`).
    base: BTreeMap<OsString, OsString>,
    pub now: i64,
    /// Each `--render`: its variable, template and secrets.
    pub rendered: Vec<Rendered>,
}

impl<'a> Plan<'a> {
    pub fn new(
        request: &Request,
        selection: &'a Selection,
        secrets: &'a [Decrypted],
        skipped: &[Skipped],
        parent: &[(OsString, OsString)],
        now: i64,
    ) -> Plan<'a> {
        let base = base_environment(parent, request.clean_env);
        let by_name: HashMap<&SecretName, &Decrypted> =
            secrets.iter().map(|s| (&s.name, s)).collect();
        let mut entries = Vec::new();
        for (var, secret) in &selection.vars {
            let value = by_name.get(secret).copied();
            let fate = match value {
                None if skipped.iter().any(|s| &s.name == secret) => Fate::GrantExpired,
                None => Fate::NotGranted,
                Some(_) if request.no_override && base.contains_key(OsStr::new(var)) => Fate::Kept,
                Some(v) if !request.allow_expired && v.expires_at.is_some_and(|e| e <= now) => {
                    Fate::Expired
                }
                Some(_) => Fate::Inject,
            };
            entries.push(Entry {
                var,
                secret: secret.clone(),
                fate,
                value,
                as_file: request.files.is_file(var),
            });
        }
        for name in &selection.not_granted {
            entries.push(Entry {
                var: name.as_str(),
                secret: name.clone(),
                fate: Fate::NotGranted,
                value: None,
                as_file: false,
            });
        }
        entries.sort_by(|a, b| a.var.cmp(b.var));
        let rendered = request.files.rendered();
        Plan {
            entries,
            base,
            now,
            rendered,
        }
    }

    /// Marks as memory files the variables `is_file` names: the
    /// manifest's `as = "file"` (`--file`'s are marked by `new`).
    pub fn mark_files(&mut self, is_file: impl Fn(&str) -> bool) {
        for entry in &mut self.entries {
            entry.as_file |= is_file(entry.var);
        }
    }

    /// Whether `var` is in the program's environment before secrets.
    pub fn inherits(&self, var: &str) -> bool {
        self.base.contains_key(OsStr::new(var))
    }

    pub fn with_fate(&self, fate: Fate) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter().filter(move |e| e.fate == fate)
    }

    /// The injected secrets as (secret name, value), for masking.
    pub fn injected(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.with_fate(Fate::Inject)
            .filter_map(|e| e.value.map(|v| (v.name.as_str(), v.value.expose())))
    }

    /// The program's whole environment, but for the paths of memory
    /// files, whose values never enter it.
    pub fn environment(&self) -> BTreeMap<OsString, OsString> {
        // The secrets and the marker, one name each, built whole and then
        // appended, replacing the parent's variables of the same names:
        // two sorted runs merged in one pass, where a thousand inserts
        // compare each name a dozen times.
        let mut injected: BTreeMap<OsString, OsString> = self
            .with_fate(Fate::Inject)
            .filter(|e| !e.as_file)
            .filter_map(|e| Some((e.var.into(), e.value?.value.expose())))
            .map(|(var, value)| (var, OsStr::from_bytes(value).to_owned()))
            .collect();
        injected
            .entry(env::EXEC_MARKER.into())
            .or_insert_with(|| "1".into());
        let mut vars = self.base.clone();
        vars.append(&mut injected);
        vars
    }
}

fn base_environment(parent: &[(OsString, OsString)], clean: bool) -> BTreeMap<OsString, OsString> {
    parent
        .iter()
        .filter(|(k, _)| !env::UNLOCKING.iter().any(|u| k == u))
        .filter(|(k, _)| !clean || CLEAN_ENV_KEEPS.iter().any(|keep| k == keep))
        .cloned()
        .collect()
}
