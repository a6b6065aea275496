//! Which secret a name means in the chosen environment.
//!
//! A name may have one secret per environment and one shared by all. In
//! environment E, a name means its E secret if there is one, else its
//! shared one (an environment's own secret overrides the shared one);
//! with no environment chosen, only its shared one. Each is a secret of
//! its own: its own data key, versions and grants, so an identity granted
//! only the prod secret holds no wrapped key for the dev one. What the
//! environment of a row is, is signed with it (`seal.rs`); this file only
//! chooses among rows.

use std::collections::HashMap;

use super::audit::Event;
use super::Vault;
use crate::error::{Error, Result};
use crate::model::{Environment, SecretName};
use crate::store::{Db, GrantRow, SecretRow};

impl Vault {
    /// Chooses the environment the following commands act in (`None`:
    /// shared secrets only).
    pub fn select_environment(&self, environment: Option<Environment>) {
        *self.environment.borrow_mut() = environment.map(|e| e.as_str().to_owned());
    }

    /// The chosen environment as stored (empty: none).
    pub(super) fn environment(&self) -> String {
        self.environment.borrow().clone().unwrap_or_default()
    }

    /// An audit event naming the chosen environment in its detail.
    pub(super) fn event(&self, action: &'static str, names: &[SecretName]) -> Event {
        let event = Event::new(action, names);
        match self.environment.borrow().as_deref() {
            Some(environment) => event.with("environment", environment),
            None => event,
        }
    }

    /// The secret `name` means in the chosen environment: its own, else
    /// the shared one.
    pub(super) fn secret_row(&self, db: &Db<'_>, name: &SecretName) -> Result<SecretRow> {
        let environment = self.environment();
        if !environment.is_empty() {
            if let Some(row) = db.secret_by_name(name.as_str(), &environment)? {
                return Ok(row);
            }
        }
        match db.secret_by_name(name.as_str(), "")? {
            Some(row) => Ok(row),
            None => Err(self.missing(db, name)?),
        }
    }

    /// The secret `name` in exactly the chosen environment (the shared one
    /// with none chosen): what `delete` removes, so that deleting a prod
    /// override never removes the secret every environment shares.
    pub(super) fn secret_row_exact(&self, db: &Db<'_>, name: &SecretName) -> Result<SecretRow> {
        match db.secret_by_name(name.as_str(), &self.environment())? {
            Some(row) => Ok(row),
            None => Err(self.missing(db, name)?),
        }
    }

    /// Whether `name` is taken in exactly the chosen environment.
    pub(super) fn name_taken(&self, db: &Db<'_>, name: &str) -> Result<bool> {
        db.secret_name_taken(name, &self.environment())
    }

    /// The error for a name with no secret here: unknown, or only in
    /// other environments.
    pub(super) fn missing(&self, db: &Db<'_>, name: &SecretName) -> Result<Error> {
        let found = db.environments_of(name.as_str())?;
        let environment = self.environment();
        Ok(if found.is_empty() {
            Error::NoSecret(name.to_string())
        } else {
            Error::NotInEnvironment {
                name: name.to_string(),
                environment: (!environment.is_empty()).then_some(environment),
                found,
            }
        })
    }

    /// Keeps, of the rows granted to an identity, the one each name means
    /// in the chosen environment: others are not exec's to decrypt.
    pub(super) fn in_environment(&self, rows: Vec<GrantRow>) -> Vec<GrantRow> {
        self.in_environment_by(rows, |r| (&r.name, &r.environment))
    }

    /// [`Vault::in_environment`] of anything with a (name, environment):
    /// a bundle's entries too.
    pub(super) fn in_environment_by<T>(
        &self,
        rows: Vec<T>,
        key: impl Fn(&T) -> (&str, &str),
    ) -> Vec<T> {
        // The usual vault has no environments: nothing to choose, no map.
        if rows.iter().all(|r| key(r).1.is_empty()) {
            return rows;
        }
        choose(rows, &self.environment(), key)
    }
}

/// Of several (name, environment) entries, the one each name means in
/// `environment`: its own, else the shared one. `entries` in any order.
pub(super) fn choose<T>(
    entries: Vec<T>,
    environment: &str,
    key: impl Fn(&T) -> (&str, &str),
) -> Vec<T> {
    let mut chosen: Vec<T> = Vec::with_capacity(entries.len());
    let mut at: HashMap<String, usize> = HashMap::new();
    for entry in entries {
        let (name, env) = key(&entry);
        if !(env.is_empty() || env == environment) {
            continue;
        }
        match at.get(name) {
            Some(_) if env.is_empty() => continue,
            Some(&i) => chosen[i] = entry,
            None => {
                at.insert(name.to_owned(), chosen.len());
                chosen.push(entry);
            }
        }
    }
    chosen
}

impl Vault {
    /// Whether the view `me` last verified passed the rules summed up by
    /// `rules` (a digest the caller makes of the rules and what they
    /// applied to); with it, exec need not check the values again.
    pub fn rules_passed(&self, me: &super::Unlocked, rules: &[u8; 32]) -> bool {
        let local = self.local.borrow();
        local.path.is_some()
            && local
                .state
                .verified
                .get(&me.id)
                .zip(local.state.ruled.get(&me.id))
                .is_some_and(|(view, ruled)| *ruled == rules_key(view, rules))
    }

    /// Remembers that the view `me` last verified passed `rules`.
    pub fn remember_rules(&self, me: &super::Unlocked, rules: &[u8; 32]) {
        let mut local = self.local.borrow_mut();
        let Some(view) = local.state.verified.get(&me.id).copied() else {
            return;
        };
        if local.path.is_some() {
            local.state.ruled.insert(me.id, rules_key(&view, rules));
            local.changed = true;
        }
        drop(local);
        self.save_local_state();
    }
}

/// The view (every granted row, as exec verified it, sealed values
/// included) and the rules: the same pair means the same values under the
/// same rules.
fn rules_key(view: &[u8; 32], rules: &[u8; 32]) -> [u8; 32] {
    let mut h = crate::crypto::FieldHasher::new("vault exec rules v1");
    h.field(view).field(rules);
    h.finish()
}
