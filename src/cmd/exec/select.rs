//! Which secrets `exec` injects, under which variable names, decided from
//! metadata alone (no value is decrypted for a secret left out).
//!
//! With no `--only`, `--service` or `--env`, every secret granted to the
//! identity is selected. Otherwise each option adds its secrets: `--only`
//! by name, `--service` by service, `--env TARGET=SECRET` under another
//! name (taking the place of a secret whose own name is TARGET). A
//! `--service` that selects nothing is an error, not a silent empty run;
//! `--only` and `--env` name secrets that must exist and be granted, which
//! decrypting checks.

use std::collections::{BTreeMap, BTreeSet};

use super::Request;
use crate::error::{Error, Result};
use crate::model::{CatalogEntry, SecretName};

pub struct Selection {
    /// Each variable to set, with the secret it comes from.
    pub vars: BTreeMap<String, SecretName>,
    /// Secrets the selection reached that the identity may not use.
    pub not_granted: BTreeSet<SecretName>,
    /// Secrets named on the command line: an expired grant to one of them
    /// is an error rather than a note.
    pub explicit: Vec<SecretName>,
}

impl Selection {
    /// The secrets to decrypt, each once.
    pub fn wanted(&self) -> Vec<SecretName> {
        let mut wanted: Vec<SecretName> = self.vars.values().cloned().collect();
        wanted.sort();
        wanted.dedup();
        wanted
    }
}

pub fn select(request: &Request, catalog: &[CatalogEntry], me: &str) -> Result<Selection> {
    let granted = |s: &CatalogEntry| s.granted;
    let mut selection = Selection {
        vars: BTreeMap::new(),
        not_granted: BTreeSet::new(),
        explicit: request.only.clone(),
    };
    let own = |s: &CatalogEntry, selection: &mut Selection| {
        if granted(s) {
            let name = s.name.clone();
            selection.vars.insert(name.to_string(), name);
        } else {
            selection.not_granted.insert(s.name.clone());
        }
    };
    if request.selects_everything() {
        // Built whole, not a name at a time: from an iterator, the maps
        // sort once and fill their nodes in order, where a thousand
        // inserts compare each name a dozen times.
        let (mine, others): (Vec<&CatalogEntry>, _) = catalog.iter().partition(|s| granted(s));
        selection.vars = mine
            .into_iter()
            .map(|s| (s.name.as_str().to_owned(), s.name.clone()))
            .collect();
        selection.not_granted = others.into_iter().map(|s| s.name.clone()).collect();
        return Ok(selection);
    }
    for name in &request.only {
        selection.vars.insert(name.to_string(), name.clone());
    }
    for service in &request.services {
        let of_service: Vec<&CatalogEntry> = catalog
            .iter()
            .filter(|s| s.service.as_deref() == Some(service))
            .collect();
        if of_service.is_empty() {
            return Err(Error::NoService(service.clone()));
        }
        if !of_service.iter().any(|s| granted(s)) {
            return Err(Error::NoAccessInService {
                identity: me.to_owned(),
                service: service.clone(),
            });
        }
        for secret in of_service {
            own(secret, &mut selection);
        }
    }
    for (target, secret) in &request.renames {
        selection.vars.insert(target.clone(), secret.clone());
        selection.explicit.push(secret.clone());
    }
    Ok(selection)
}
