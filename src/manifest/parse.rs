//! Reading `vault.toml` with the `toml` crate and serde: the file's shape
//! (unknown keys refused), then each value checked, every error with the
//! file, the line and the key. The one home of `toml` in the crate.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::rule::Rule;
use super::{Manifest, Var};
use crate::error::{Error, Result};
use crate::model::{Environment, SecretName};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    project: Option<Project>,
    #[serde(default)]
    vars: BTreeMap<Spanned<String>, Spanned<VarTable>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Project {
    vault: Option<Spanned<String>>,
    environment: Option<Spanned<String>>,
    environments: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VarTable {
    description: Option<String>,
    required: Option<bool>,
    default: Option<Spanned<String>>,
    pattern: Option<Spanned<String>>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    #[serde(default)]
    deny: Vec<String>,
    environments: Option<Vec<Spanned<String>>>,
    /// `"env"` (the default) or `"file"`.
    #[serde(rename = "as")]
    kind: Option<Spanned<String>>,
}

/// Parses the manifest at `path` (its text `text`).
pub fn parse(path: &Path, text: &str) -> Result<Manifest> {
    let lines = Lines::of(text);
    let at = |span: std::ops::Range<usize>, message: String| Error::Manifest {
        path: path.to_owned(),
        line: Some(lines.at(span.start)),
        message,
    };
    let file: File = toml::from_str(text).map_err(|e| Error::Manifest {
        path: path.to_owned(),
        line: e.span().map(|s| lines.at(s.start)),
        message: first_line(e.message()),
    })?;
    let root = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let project = file.project.unwrap_or(Project {
        vault: None,
        environment: None,
        environments: None,
    });
    let environment_at = |key: &str, e: &Spanned<String>| {
        Environment::parse(e.get_ref()).map_err(|problem| {
            at(
                e.span(),
                format!(
                    "{key}: invalid environment name {:?}: {problem}",
                    e.get_ref()
                ),
            )
        })
    };
    let environments = project
        .environments
        .iter()
        .flatten()
        .map(|e| environment_at("project.environments", e))
        .collect::<Result<Vec<_>>>()?;
    let known = |key: &str, e: &Spanned<String>| -> Result<Environment> {
        let parsed = environment_at(key, e)?;
        if !environments.is_empty() && !environments.contains(&parsed) {
            return Err(at(
                e.span(),
                format!(
                    "{key}: {parsed} is not one of project.environments ({})",
                    join(&environments)
                ),
            ));
        }
        Ok(parsed)
    };
    let environment = project
        .environment
        .as_ref()
        .map(|e| known("project.environment", e))
        .transpose()?;
    let vault = project
        .vault
        .as_ref()
        .map(|v| {
            inside(&root, v.get_ref()).ok_or_else(|| {
                at(
                    v.span(),
                    format!(
                        "project.vault: {:?} is outside the project (give a path below the directory of vault.toml)",
                        v.get_ref()
                    ),
                )
            })
        })
        .transpose()?;
    let mut vars = Vec::with_capacity(file.vars.len());
    for (name, table) in file.vars {
        let line = lines.at(name.span().start);
        let key = format!("vars.{}", name.get_ref());
        let var_name = SecretName::parse(name.get_ref(), false).map_err(|problem| {
            at(
                name.span(),
                format!("{key}: invalid variable name: {problem}"),
            )
        })?;
        let t = table.into_inner();
        // Its syntax is checked by `Manifest::check_patterns`, which exec
        // asks only when it has values to check.
        let pattern = t
            .pattern
            .as_ref()
            .map(|p| (p.get_ref().clone(), lines.at(p.span().start)));
        let rule = Rule::new(pattern, t.min_length, t.max_length, t.deny);
        if let Some(default) = &t.default {
            if let Err(why) = rule.check(default.get_ref().as_bytes()) {
                return Err(at(
                    default.span(),
                    format!("{key}.default breaks its own rule: {why}"),
                ));
            }
        }
        let environments = t
            .environments
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|e| known(&format!("{key}.environments"), e))
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        let as_file = match t.kind.as_ref().map(|k| (k.get_ref().as_str(), k.span())) {
            None | Some(("env", _)) => false,
            Some(("file", _)) => true,
            Some((other, span)) => {
                return Err(at(
                    span,
                    format!("{key}.as: unknown value {other:?}, expected \"env\" or \"file\""),
                ))
            }
        };
        vars.push(Var {
            name: var_name,
            description: t.description,
            required: t.required.unwrap_or(true),
            default: t.default.map(Spanned::into_inner),
            rule,
            environments,
            as_file,
            line,
        });
    }
    Ok(Manifest {
        path: path.to_owned(),
        root,
        vault,
        environment,
        environments,
        vars,
        rules: Default::default(),
    })
}

/// `relative` below `root`, or `None` if it is absolute or climbs out
/// (`../x`, `a/../../x`). Lexical: the project's own directories are
/// trusted, as git trusts its work tree.
fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    let path = Path::new(relative);
    let mut depth = 0usize;
    for component in path.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => depth = depth.checked_sub(1)?,
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (depth > 0).then(|| root.join(path))
}

/// Where each line of the text ends, found once: every variable has its
/// line, and exec reads every variable.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Lines {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// The line (from 1) of the byte at `offset`.
    fn at(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or("").trim().to_owned()
}

fn join(environments: &[Environment]) -> String {
    let names: Vec<&str> = environments.iter().map(Environment::as_str).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vault_path_must_stay_inside_the_project() {
        let root = Path::new("/p");
        assert_eq!(
            inside(root, "secrets/v.db"),
            Some(PathBuf::from("/p/secrets/v.db"))
        );
        assert_eq!(
            inside(root, "a/../v.db"),
            Some(PathBuf::from("/p/a/../v.db"))
        );
        assert_eq!(inside(root, "../v.db"), None);
        assert_eq!(inside(root, "a/../../v.db"), None);
        assert_eq!(inside(root, "/etc/v.db"), None);
        assert_eq!(inside(root, "."), None);
    }
}
