//! Secrets handed to the program as files: `--file VAR=SECRET` (or
//! `--file NAME`) gives the program a memory file holding the value, its
//! path in VAR, and `--render TEMPLATE=VAR` a memory file holding the
//! template with its placeholders replaced (template.rs). The value is not
//! in the environment; the file is on no file system (process/memfile.rs).
//!
//! Everything that can fail does so before anything runs (125): a bad or
//! dangerous target, a variable named twice, an unreadable or malformed
//! template (at parse time, before unlocking), a placeholder naming a
//! secret that does not exist, is not granted, or has expired (naming its
//! line). With neither option, exec does none of this work.
//!
//! `--file` reaches the selection as a `--env` mapping does, and the plan
//! marks its variable as a file (as it marks one the manifest declares
//! `as = "file"`, whose memory file is made here too); `--render` selects
//! only the secrets its template names, which are decrypted and masked but
//! not set as variables.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use zeroize::Zeroizing;

use super::plan::{Fate, Plan};
use super::select::Selection;
use super::template::Template;
use crate::error::{Error, Result};
use crate::model::{CatalogEntry, SecretName};
use crate::process::{MemFile, MEMORY_FILES};
use crate::vault::{Decrypted, Skipped};

/// `--file` and `--render`, validated; empty when neither was given.
#[derive(Default)]
pub struct Files {
    /// The variables `--file` sets (their secrets are in `--env`'s list).
    vars: Vec<String>,
    renders: Vec<Render>,
}

struct Render {
    var: String,
    path: PathBuf,
    template: Template,
}

/// What `--explain` and the audit log say of one `--render`.
pub struct Rendered {
    pub var: String,
    pub template: String,
    /// The secrets its template names, in order of first use.
    pub secrets: Vec<SecretName>,
}

impl Files {
    /// Parses `--file` and `--render`, adding each `--file` mapping to
    /// `renames` (`--env`'s, already parsed). A target must be a variable
    /// name that cannot take over the program, unless this exec line
    /// accepts it (`allow_dangerous`), and no two options may name one
    /// variable.
    pub fn parse(
        file: &[String],
        render: &[String],
        allow_dangerous: &[String],
        renames: &mut Vec<(String, SecretName)>,
    ) -> Result<Files> {
        let mut files = Files::default();
        if file.is_empty() && render.is_empty() {
            return Ok(files);
        }
        let mut taken: Vec<(String, &'static str)> =
            renames.iter().map(|(t, _)| (t.clone(), "--env")).collect();
        let mut take = |var: &str, option: &'static str| match taken.iter().find(|(t, _)| t == var)
        {
            Some((_, first)) => Err(Error::TargetTwice {
                var: var.to_owned(),
                first,
                second: option,
            }),
            None => {
                taken.push((var.to_owned(), option));
                Ok(())
            }
        };
        for text in file {
            let (target, secret) = text.split_once('=').unwrap_or((text, text));
            let target = checked_target("--file", target, allow_dangerous)?;
            let secret = crate::cmd::existing_secret_name(secret)?;
            take(&target, "--file")?;
            files.vars.push(target.clone());
            renames.push((target, secret));
        }
        for text in render {
            let shape = || Error::FileShape {
                option: "--render",
                input: text.clone(),
                shape: "TEMPLATE=VAR",
            };
            let (path, target) = text.rsplit_once('=').ok_or_else(shape)?;
            if path.is_empty() {
                return Err(shape());
            }
            let target = checked_target("--render", target, allow_dangerous)?;
            take(&target, "--render")?;
            let path = PathBuf::from(path);
            let bytes =
                std::fs::read(&path).map_err(|e| Error::io("read the template", &path, e))?;
            let template = Template::parse(bytes).map_err(|p| Error::Template {
                path: path.clone(),
                line: p.line,
                problem: p.problem,
            })?;
            files.renders.push(Render {
                var: target,
                path,
                template,
            });
        }
        if !MEMORY_FILES {
            let option = if file.is_empty() {
                "--render"
            } else {
                "--file"
            };
            return Err(Error::NoMemoryFiles { option });
        }
        Ok(files)
    }

    pub fn is_empty(&self) -> bool {
        self.vars.is_empty() && self.renders.is_empty()
    }

    /// Whether `var` is set by `--file`.
    pub fn is_file(&self, var: &str) -> bool {
        self.vars.iter().any(|v| v == var)
    }

    /// Whether exec needs the whole catalog, to tell a placeholder naming
    /// no secret from one naming a secret not granted.
    pub fn needs_catalog(&self) -> bool {
        !self.renders.is_empty()
    }

    /// Every placeholder: the template, the name and its line.
    fn placeholders(&self) -> impl Iterator<Item = (&Render, &str, usize)> {
        self.renders
            .iter()
            .flat_map(|r| r.template.names().into_iter().map(move |(n, l)| (r, n, l)))
    }

    /// Refuses a placeholder naming a secret that does not exist or that
    /// `identity` may not use, by its template and line.
    pub fn check_catalog(&self, catalog: &[CatalogEntry], identity: &str) -> Result<()> {
        for (render, name, line) in self.placeholders() {
            let error = match catalog.iter().find(|s| s.name.as_str() == name) {
                None => Error::NoSecret(name.to_owned()),
                Some(s) if !s.granted => Error::NotPermitted {
                    identity: identity.to_owned(),
                    action: "use",
                    secret: name.to_owned(),
                    have: "no",
                },
                Some(_) => continue,
            };
            return Err(render.error(line, error));
        }
        Ok(())
    }

    /// A secret that `--file` or `--render` hands over as a file is not
    /// also set as its own variable by `--service`: its value stays out of
    /// the environment unless `--only` or `--env` ask for it by name.
    pub fn keep_out_of_environment(
        &self,
        selection: &mut Selection,
        only: &[SecretName],
        renames: &[(String, SecretName)],
    ) {
        if self.is_empty() {
            return;
        }
        let as_file = |name: &str| {
            renames
                .iter()
                .any(|(t, s)| self.is_file(t) && s.as_str() == name)
                || self.placeholders().any(|(_, n, _)| n == name)
        };
        selection.vars.retain(|var, secret| {
            var != secret.as_str()
                || !as_file(var)
                || only.contains(secret)
                || renames.iter().any(|(t, _)| t == var)
        });
    }

    /// The secrets to decrypt: the selection's and the templates' names.
    pub fn wanted(&self, mut wanted: Vec<SecretName>) -> Vec<SecretName> {
        if self.renders.is_empty() {
            return wanted;
        }
        wanted.extend(
            self.placeholders()
                .map(|(_, name, _)| SecretName::stored(name)),
        );
        wanted.sort();
        wanted.dedup();
        wanted
    }

    /// Refuses a placeholder whose secret has expired (unless
    /// `--allow-expired`) or whose grant to `identity` has.
    pub fn check_decrypted(
        &self,
        secrets: &[Decrypted],
        skipped: &[Skipped],
        identity: &str,
        allow_expired: bool,
        now: i64,
    ) -> Result<()> {
        for (render, name, line) in self.placeholders() {
            if skipped.iter().any(|s| s.name.as_str() == name) {
                let why = format!("the access of {identity} to {name} has expired");
                return Err(render.error(line, Error::Selection(why)));
            }
            let expired = secrets
                .iter()
                .find(|s| s.name.as_str() == name)
                .and_then(|s| s.expires_at)
                .is_some_and(|at| at <= now);
            if expired && !allow_expired {
                return Err(render.error(line, Error::Expired(name.to_owned())));
            }
        }
        Ok(())
    }

    /// What `--explain` and the audit log say of each `--render`.
    pub fn rendered(&self) -> Vec<Rendered> {
        self.renders
            .iter()
            .map(|r| Rendered {
                var: r.var.clone(),
                template: r.path.display().to_string(),
                secrets: r
                    .template
                    .names()
                    .into_iter()
                    .map(|(n, _)| SecretName::stored(n))
                    .collect(),
            })
            .collect()
    }

    /// The values the templates use, for masking.
    pub fn mask_values<'a>(
        &'a self,
        secrets: &'a [Decrypted],
    ) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        self.placeholders().filter_map(move |(_, name, _)| {
            secrets
                .iter()
                .find(|s| s.name.as_str() == name)
                .map(|s| (s.name.as_str(), s.value.expose()))
        })
    }

    /// Makes the memory files: one per variable the plan injects as a
    /// file (`--file`, or the manifest's `as = "file"`), one per
    /// `--render`. Each comes with its variable.
    pub fn open(&self, plan: &Plan<'_>, secrets: &[Decrypted]) -> Result<Vec<(String, MemFile)>> {
        let mut made = Vec::new();
        for entry in plan.with_fate(Fate::Inject).filter(|e| e.as_file) {
            if let Some(value) = entry.value.map(|v| v.value.expose()) {
                made.push((entry.var.to_owned(), value_file(entry.var, value)?));
            }
        }
        for render in &self.renders {
            let text = render.template.render(|name| {
                secrets
                    .iter()
                    .find(|s| s.name.as_str() == name)
                    .map(|s| s.value.expose())
            });
            made.push((render.var.clone(), memory_file(&render.var, &text)?));
        }
        Ok(made)
    }
}

/// The memory file of a value given as a file (see [`with_final_newline`]).
pub fn value_file(var: &str, value: &[u8]) -> Result<MemFile> {
    match with_final_newline(value) {
        Some(bytes) => memory_file(var, &bytes),
        None => memory_file(var, value),
    }
}

fn memory_file(var: &str, bytes: &[u8]) -> Result<MemFile> {
    MemFile::new(var, bytes).map_err(|source| Error::MemoryFileCreate {
        var: var.to_owned(),
        source,
    })
}

impl Render {
    fn error(&self, line: usize, error: Error) -> Error {
        Error::TemplateSecret {
            path: self.path.clone(),
            line,
            error: Box::new(error),
        }
    }
}

/// Sets each memory file's variable to its path.
pub fn set_paths(env: &mut BTreeMap<OsString, OsString>, files: &[(String, MemFile)]) {
    for (var, file) in files {
        env.insert(var.into(), file.path());
    }
}

/// The file for a value, when it is not the value itself: a text of
/// several lines that does not end in a newline gets back the newline
/// `vault add` took off the file it read (OpenSSH refuses a key without
/// it). A one-line value (a token) and anything that is not UTF-8 text are
/// exactly the value (`None`).
fn with_final_newline(value: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let lines = value.contains(&b'\n') && !value.ends_with(b"\n");
    if !(lines && std::str::from_utf8(value).is_ok()) {
        return None;
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(value.len() + 1));
    bytes.extend_from_slice(value);
    bytes.push(b'\n');
    Some(bytes)
}

/// A target variable: a valid name, not one of vault's own, and not one
/// that lets a value take over the program unless accepted by name.
fn checked_target(
    option: &'static str,
    target: &str,
    allow_dangerous: &[String],
) -> Result<String> {
    let allowed = allow_dangerous.iter().any(|a| a == target);
    SecretName::parse(target, allowed).map_err(|problem| Error::FileTarget {
        option,
        target: target.to_owned(),
        problem,
    })?;
    Ok(target.to_owned())
}

#[cfg(test)]
mod tests {
    use super::with_final_newline;

    #[test]
    fn a_text_of_several_lines_gets_back_its_final_newline() {
        let file = |v: &[u8]| with_final_newline(v).map(|b| b.to_vec());
        assert_eq!(
            file(b"-----BEGIN\nabc\n-----END"),
            Some(b"-----BEGIN\nabc\n-----END\n".to_vec())
        );
        assert_eq!(file(b"a\nb\n"), None);
        assert_eq!(file(b"token"), None);
        assert_eq!(file(b"\xff\n\xfe"), None);
    }
}
