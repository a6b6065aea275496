//! The project's manifest, `vault.toml`: the variables a project needs,
//! committed beside its code, with no values.
//!
//! Found as git finds `.git`: in the working directory or the nearest
//! directory above it; `--manifest PATH` or `VAULT_MANIFEST` name one,
//! `--no-manifest` ignores it. It may name the vault file (inside the
//! project) and a default environment, and declare a variable a file
//! (`as = "file"`). This module owns the manifest's
//! meaning; `parse.rs` reads the file (`toml`), `rule.rs` checks values
//! (`regex`), `cache.rs` keeps the parsed form. It depends on `model`,
//! `error` and `crypto` (digests) only.

mod cache;
mod parse;
mod rule;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::{Environment, SecretName};

pub use rule::Rule;

/// The file name looked for.
pub const FILE_NAME: &str = "vault.toml";

/// A manifest, read and checked.
#[derive(Debug)]
pub struct Manifest {
    pub path: PathBuf,
    /// The directory it is in: the project's root.
    pub root: PathBuf,
    /// `project.vault`, joined to the root.
    pub vault: Option<PathBuf>,
    /// `project.environment`: the environment when none is chosen.
    pub environment: Option<Environment>,
    /// `project.environments`: the only ones allowed, when given.
    pub environments: Vec<Environment>,
    /// In the order of their names.
    pub vars: Vec<Var>,
    /// A digest of every variable's rule (see [`Manifest::rules_digest`]).
    pub(crate) rules: std::sync::OnceLock<[u8; 32]>,
}

/// One declared variable.
#[derive(Debug)]
pub struct Var {
    pub name: SecretName,
    pub description: Option<String>,
    /// True unless the manifest says `required = false`.
    pub required: bool,
    /// A value that is not secret, injected as is when the vault has none.
    pub default: Option<String>,
    pub rule: Rule,
    /// The environments it is declared for; all when `None`.
    pub environments: Option<Vec<Environment>>,
    /// `as = "file"`: exec gives it to the program as a memory file, the
    /// variable holding its path, as `--file NAME` does (its default too).
    pub as_file: bool,
    /// The line of its table, for messages.
    pub line: usize,
}

impl Var {
    /// Whether this variable is part of the manifest in `environment`.
    pub fn in_environment(&self, environment: Option<&Environment>) -> bool {
        match (&self.environments, environment) {
            (None, _) => true,
            (Some(list), Some(e)) => list.contains(e),
            (Some(_), None) => false,
        }
    }
}

/// Where the manifest comes from, as the command line and environment say.
pub enum Locate {
    /// `--no-manifest`.
    Off,
    /// `--manifest PATH` or `VAULT_MANIFEST`: must exist.
    At(PathBuf),
    /// Look in `start` and the directories above it.
    Search(PathBuf),
}

impl Locate {
    /// `--no-manifest`, else `--manifest PATH`, else `VAULT_MANIFEST`,
    /// else a search from the working directory.
    pub fn from_options(no_manifest: bool, option: Option<PathBuf>) -> Locate {
        if no_manifest {
            return Locate::Off;
        }
        match option.or_else(|| crate::env::var(crate::env::MANIFEST).map(PathBuf::from)) {
            Some(path) => Locate::At(path),
            None => match std::env::current_dir() {
                Ok(dir) => Locate::Search(dir),
                Err(_) => Locate::Off,
            },
        }
    }
}

impl Manifest {
    /// Finds and reads the manifest, if there is one; with `cache`
    /// (this user's data directory), its parsed form is kept there for
    /// the next command (`cache.rs`).
    pub fn locate(how: Locate, cache: Option<&Path>) -> Result<Option<Manifest>> {
        let path = match how {
            Locate::Off => return Ok(None),
            Locate::At(path) => path,
            Locate::Search(start) => match find(&start) {
                Some(path) => path,
                None => return Ok(None),
            },
        };
        let kept = cache.and_then(|dir| {
            let meta = std::fs::metadata(&path).ok()?;
            Some((cache::path_for(dir, &path), cache::key(&meta)))
        });
        if let Some((file, key)) = &kept {
            if let Some(manifest) = cache::read(file, key, &path) {
                return Ok(Some(manifest));
            }
        }
        let manifest = Manifest::load(&path)?;
        if let Some((file, key)) = kept.as_ref().filter(|(_, key)| !cache::racy(key)) {
            cache::write(file, key, &manifest);
        }
        Ok(Some(manifest))
    }

    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => Error::Manifest {
                path: path.to_owned(),
                line: None,
                message: "it is not UTF-8 text".into(),
            },
            _ => Error::io("read the manifest", path, e),
        })?;
        parse::parse(path, &text)
    }

    /// The variable declared as `name`, in any environment. (`vars` are
    /// in the order of their names.)
    pub fn var(&self, name: &str) -> Option<&Var> {
        self.vars
            .binary_search_by(|v| v.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.vars[i])
    }

    /// The variables declared for `environment`.
    pub fn vars_in<'a>(
        &'a self,
        environment: Option<&'a Environment>,
    ) -> impl Iterator<Item = &'a Var> + 'a {
        self.vars
            .iter()
            .filter(move |v| v.in_environment(environment))
    }

    /// Refuses an environment the manifest does not list (when it lists
    /// any): a typo would otherwise select only shared secrets.
    pub fn check_environment(&self, environment: &Environment) -> Result<()> {
        if self.environments.is_empty() || self.environments.contains(environment) {
            return Ok(());
        }
        let known: Vec<&str> = self.environments.iter().map(|e| e.as_str()).collect();
        Err(Error::Manifest {
            path: self.path.clone(),
            line: None,
            message: format!(
                "environment {environment} is not one of project.environments ({})",
                known.join(", ")
            ),
        })
    }

    /// A digest of the rules of every variable (names, patterns, lengths,
    /// deny lists; no value), made once per version of the file (the kept
    /// form carries it): what tells exec that values it checked before
    /// face the same rules.
    pub fn rules_digest(&self) -> [u8; 32] {
        *self.rules.get_or_init(|| {
            let mut h = crate::crypto::FieldHasher::new("vault manifest rules v1");
            for var in &self.vars {
                let rule = &var.rule;
                h.field(var.name.as_str().as_bytes())
                    .field(rule.pattern.as_deref().unwrap_or("").as_bytes())
                    .field(&[u8::from(rule.pattern.is_some())])
                    .field(&rule.min_length.map_or(u64::MAX, |n| n as u64).to_be_bytes())
                    .field(&rule.max_length.map_or(u64::MAX, |n| n as u64).to_be_bytes());
                for deny in &rule.deny {
                    h.field(b"deny").field(deny.as_bytes());
                }
            }
            h.finish()
        })
    }

    /// Checks every pattern's syntax: a bad one is an error with its line.
    /// (Apart from reading, so that an exec whose values were checked
    /// before need not parse a hundred patterns again.)
    pub fn check_patterns(&self) -> Result<()> {
        for var in &self.vars {
            if let Some(pattern) = &var.rule.pattern {
                rule::check_pattern(pattern).map_err(|why| Error::Manifest {
                    path: self.path.clone(),
                    line: Some(var.rule.pattern_line),
                    message: format!("vars.{}.pattern: {why}", var.name),
                })?;
            }
        }
        Ok(())
    }

    /// Checks a value about to be stored as `name` against its rule.
    pub fn check_value(&self, name: &SecretName, value: &[u8]) -> Result<()> {
        match self.var(name.as_str()) {
            Some(var) => var.rule.check(value).map_err(|rule| Error::RuleRefused {
                name: name.to_string(),
                rule,
                path: self.path.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// `vault.toml` in `start` or the nearest directory above it.
fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}
