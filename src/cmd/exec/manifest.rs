//! exec in a project: the manifest (`vault.toml`) decides what the program
//! gets. Exactly the variables it declares for the environment, each from
//! its secret (the environment's own, else the shared one) or its default;
//! nothing else the identity could read. A required variable that is
//! missing, not granted, expired, or whose value breaks its rule stops
//! exec (status 125) naming each one. A variable declared `as = "file"`
//! is given as a memory file, as `--file NAME` gives it (files.rs): its
//! secret's value, or its default.
//!
//! Used when there is a manifest and no `--only`, `--service` or `--env`,
//! which select as they do without one.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;

use super::plan::{Fate, Plan};
use super::select::Selection;
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::model::{shown, CatalogEntry, Environment, SecretName};
use crate::process::{MemFile, MEMORY_FILES};
use crate::vault::{Decrypted, Unlocked, Vault};

/// What the manifest adds to exec's plan: its defaults, and what it found
/// wanting.
pub struct View<'m> {
    manifest: &'m Manifest,
    environment: Option<Environment>,
    /// Variables injected from their default (no secret here).
    pub defaults: Vec<(&'m str, &'m str)>,
    /// Each problem: the variable and what is wrong with it.
    pub problems: Vec<(String, String)>,
    /// Declared but optional and absent.
    pub absent: Vec<String>,
}

/// The selection the manifest makes, from the secrets granted in this
/// environment (`granted`) and, when some declared name is not among
/// them, every secret's catalog entry (`whole`, read only then).
pub fn select<'m>(
    manifest: &'m Manifest,
    environment: Option<Environment>,
    granted: &[CatalogEntry],
    whole: impl FnOnce() -> Result<Vec<CatalogEntry>>,
    identity: &str,
) -> Result<(Selection, View<'m>)> {
    let mut selection = Selection {
        vars: BTreeMap::new(),
        not_granted: BTreeSet::new(),
        explicit: Vec::new(),
    };
    let mut view = View {
        manifest,
        environment,
        defaults: Vec::new(),
        problems: Vec::new(),
        absent: Vec::new(),
    };
    let granted_names: BTreeSet<&str> = granted.iter().map(|e| e.name.as_str()).collect();
    let mut whole = Some(whole);
    let mut catalog: Option<Vec<CatalogEntry>> = None;
    let declared: Vec<&'m crate::manifest::Var> = manifest
        .vars
        .iter()
        .filter(|v| v.in_environment(view.environment.as_ref()))
        .collect();
    if !MEMORY_FILES && declared.iter().any(|v| v.as_file) {
        return Err(Error::NoMemoryFiles {
            option: "as = \"file\"",
        });
    }
    for var in declared {
        let name = var.name.as_str();
        if granted_names.contains(name) {
            selection.vars.insert(name.to_owned(), var.name.clone());
            if var.required {
                selection.explicit.push(var.name.clone());
            }
            continue;
        }
        let exists = {
            if catalog.is_none() {
                catalog = Some(whole.take().map_or(Ok(Vec::new()), |f| f())?);
            }
            catalog
                .as_ref()
                .is_some_and(|c| c.iter().any(|e| e.name.as_str() == name))
        };
        if let Some(default) = &var.default {
            view.defaults.push((name, default));
        } else if !var.required {
            view.absent.push(name.to_owned());
        } else if exists {
            view.problems
                .push((name.to_owned(), format!("not granted to {identity}")));
        } else {
            view.problems.push((name.to_owned(), "missing".into()));
        }
    }
    Ok((selection, view))
}

impl View<'_> {
    /// Adds the problems the decrypted values show: a required
    /// variable's grant expired, its secret expired, or its value breaks
    /// the manifest's rule.
    ///
    /// Values are checked only when this clone has not seen the same view
    /// pass the same rules (`Vault::rules_passed`): building a matcher per
    /// pattern is most of what a manifest costs exec.
    pub fn check(
        &mut self,
        vault: &Vault,
        me: &Unlocked,
        plan: &Plan<'_>,
        secrets: &[Decrypted],
    ) -> Result<()> {
        let rules = self.rules_digest();
        let checked = vault.rules_passed(me, &rules);
        if !checked {
            self.manifest.check_patterns()?;
        }
        let values: std::collections::HashMap<&SecretName, &Decrypted> = match checked {
            true => Default::default(),
            false => secrets.iter().map(|s| (&s.name, s)).collect(),
        };
        let before = self.problems.len();
        let mut broken = false;
        for entry in &plan.entries {
            let Some(var) = self.manifest.var(entry.var) else {
                continue;
            };
            let problem = match entry.fate {
                Fate::GrantExpired => Some("its access has expired".to_owned()),
                Fate::Expired => Some("expired".to_owned()),
                Fate::NotGranted => Some("not granted".to_owned()),
                Fate::Inject | Fate::Kept => None,
            };
            if let Some(problem) = problem.filter(|_| var.required) {
                self.problems.push((entry.var.to_owned(), problem));
                continue;
            }
            if checked {
                continue;
            }
            let value = values.get(&entry.secret);
            if let Some(Err(rule)) = value.map(|v| var.rule.check(v.value.expose())) {
                broken = true;
                self.problems.push((
                    entry.var.to_owned(),
                    format!("its value breaks the rule: {rule}"),
                ));
            }
        }
        if !checked && !broken && self.problems.len() == before {
            vault.remember_rules(me, &rules);
        }
        self.problems.sort();
        self.problems.dedup();
        Ok(())
    }

    /// A digest of the rules exec applies here: the environment and the
    /// manifest's rules (no value).
    fn rules_digest(&self) -> [u8; 32] {
        let mut h = crate::crypto::FieldHasher::new("vault exec rules in v1");
        h.field(
            self.environment
                .as_ref()
                .map_or("", |e| e.as_str())
                .as_bytes(),
        )
        .field(&self.manifest.rules_digest());
        h.finish()
    }

    /// Refuses to run when something required is wanting.
    pub fn refusal(&self) -> Result<()> {
        if self.problems.is_empty() {
            return Ok(());
        }
        let problems: Vec<String> = self
            .problems
            .iter()
            .map(|(var, why)| format!("{} ({why})", shown(var)))
            .collect();
        Err(Error::ManifestUnmet {
            environment: self.environment.as_ref().map(|e| e.to_string()),
            problems: problems.join(", "),
        })
    }

    /// Whether the manifest declares `var` a file (`as = "file"`).
    pub fn is_file(&self, var: &str) -> bool {
        self.manifest
            .var(var)
            .is_some_and(|v| v.as_file && v.in_environment(self.environment.as_ref()))
    }

    /// The defaults, as the program's environment takes them (but for
    /// those given as files, see [`View::default_files`]); a variable
    /// already set is kept under `--no-override`.
    pub fn apply(&self, env: &mut BTreeMap<OsString, OsString>, no_override: bool) {
        for (name, value) in &self.defaults {
            if self.is_file(name) || (no_override && env.contains_key(std::ffi::OsStr::new(name))) {
                continue;
            }
            env.insert((*name).into(), (*value).into());
        }
    }

    /// The memory files of the defaults declared `as = "file"`, each with
    /// its variable; one already set is kept under `--no-override`.
    pub fn default_files(
        &self,
        plan: &Plan<'_>,
        no_override: bool,
    ) -> Result<Vec<(String, MemFile)>> {
        self.defaults
            .iter()
            .filter(|(name, _)| self.is_file(name))
            .filter(|(name, _)| !(no_override && plan.inherits(name)))
            .map(|(name, value)| {
                super::files::value_file(name, value.as_bytes()).map(|f| ((*name).to_owned(), f))
            })
            .collect()
    }

    /// What `--explain --json` adds, as `"manifest"`: `{"path",
    /// "environment", "defaults": [names], "files": [names declared
    /// `as = "file"` here], "optional_absent": [names], "refused":
    /// [{"variable", "why"}]}`.
    pub fn json(&self) -> serde_json::Value {
        let refused: Vec<serde_json::Value> = self
            .problems
            .iter()
            .map(|(variable, why)| serde_json::json!({"variable": variable, "why": why}))
            .collect();
        serde_json::json!({
            "path": self.manifest.path.display().to_string(),
            "environment": self.environment.as_ref().map(|e| e.to_string()),
            "defaults": self.defaults.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            "files": self
                .manifest
                .vars_in(self.environment.as_ref())
                .filter(|v| v.as_file)
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>(),
            "optional_absent": self.absent,
            "refused": refused,
        })
    }

    /// What `--explain` adds: the manifest, the environment, the defaults
    /// and the problems (no value but the defaults', which are not secret).
    pub fn explain(&self) -> String {
        let mut out = format!(
            "manifest: {} (environment {})\n",
            self.manifest.path.display(),
            self.environment
                .as_ref()
                .map_or("none: shared secrets only".to_owned(), |e| e.to_string())
        );
        for (name, _) in &self.defaults {
            let file = match self.is_file(name) {
                true => ", as a memory file (the variable holds its path)",
                false => "",
            };
            out.push_str(&format!(
                "  {}: its default, from the manifest{file}\n",
                shown(name)
            ));
        }
        for name in &self.absent {
            out.push_str(&format!("  {}: optional, not set\n", shown(name)));
        }
        for (name, why) in &self.problems {
            out.push_str(&format!(
                "  {}: required, {why}: exec would refuse\n",
                shown(name)
            ));
        }
        out
    }
}

/// Whether exec selects by the manifest: there is one, and the command
/// line selects nothing itself.
pub fn applies(manifest: Option<&Manifest>, only: &[SecretName], others: bool) -> bool {
    manifest.is_some() && only.is_empty() && !others
}
