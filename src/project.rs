//! What a command knows of the project it runs in: the environment it
//! acts in (`--environment`, `VAULT_ENVIRONMENT`, the manifest's default)
//! and the manifest's rules for values. Part of `Session`, apart from
//! `session.rs`, which owns unlocking.

use crate::error::{Error, Result};
use crate::model::Environment;
use crate::secret::SecretValue;
use crate::session::Session;
use crate::vault::Vault;

impl Session {
    /// [`Session::open_in`] for exec: without connecting to the vault file
    /// when this clone verified it as it is (`vault::warm`).
    pub fn open_for_exec(&self, option: Option<&str>) -> Result<(Vault, Option<Environment>)> {
        let environment = self.environment(option)?;
        let vault = self.open_as(true)?;
        vault.select_environment(environment.clone());
        Ok((vault, environment))
    }

    /// The environment a command acts in: `--environment`, else
    /// `VAULT_ENVIRONMENT`, else the manifest's default; `None` for the
    /// shared secrets only. A manifest that lists its environments
    /// refuses any other.
    pub fn environment(&self, option: Option<&str>) -> Result<Option<Environment>> {
        let Some(text) = option.or(self.environment.as_deref()) else {
            return Ok(self.manifest.as_ref().and_then(|m| m.environment.clone()));
        };
        let environment =
            Environment::parse(text).map_err(|problem| Error::InvalidEnvironment {
                name: text.to_owned(),
                problem,
            })?;
        if let Some(manifest) = &self.manifest {
            manifest.check_environment(&environment)?;
        }
        Ok(Some(environment))
    }

    /// Checks a value about to be stored as `name` against the manifest's
    /// rule for it (none without a manifest).
    pub fn check_rule(&self, name: &crate::model::SecretName, value: &SecretValue) -> Result<()> {
        match &self.manifest {
            Some(manifest) => manifest.check_value(name, value.expose()),
            None => Ok(()),
        }
    }

    /// Opens the vault to act in the environment `option` chooses (see
    /// [`Session::environment`]).
    pub fn open_in(&self, option: Option<&str>) -> Result<(Vault, Option<Environment>)> {
        let environment = self.environment(option)?;
        let vault = self.open_as(false)?;
        vault.select_environment(environment.clone());
        Ok((vault, environment))
    }
}
