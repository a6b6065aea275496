//! Environments (`dev`, `staging`, `prod`): the name a secret can belong to
//! so that one variable has one value per environment, each its own secret
//! with its own data key and grants.
//!
//! Plain data, safe to print. A secret with no environment is shared by
//! all; [`label`] is how every message names a secret of an environment.

use std::fmt;

use serde::Serialize;

use super::NameProblem;

const ENVIRONMENT_MAX: usize = 64;

/// An environment's name: ASCII letters, digits and `._-`, starting with a
/// letter or digit, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Environment(String);

impl Environment {
    pub fn parse(text: &str) -> Result<Self, NameProblem> {
        let first = text.chars().next().ok_or(NameProblem::Empty)?;
        if text.len() > ENVIRONMENT_MAX {
            return Err(NameProblem::TooLong(ENVIRONMENT_MAX));
        }
        if !first.is_ascii_alphanumeric() {
            return Err(NameProblem::BadStart(first));
        }
        let ok = |c: &char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if let Some(bad) = text.chars().find(|c| !ok(c)) {
            return Err(NameProblem::BadChar(bad));
        }
        Ok(Environment(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret as messages name it: `STRIPE_KEY` when shared, `STRIPE_KEY
/// (prod)` when it belongs to an environment. `environment` as stored
/// (empty: shared); escaped, as all text from the file.
pub fn label(name: &str, environment: &str) -> String {
    if environment.is_empty() {
        name.to_owned()
    } else {
        format!("{name} ({})", super::shown(environment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names() {
        assert!(Environment::parse("prod").is_ok());
        assert!(Environment::parse("eu-west.1_b").is_ok());
        assert_eq!(Environment::parse(""), Err(NameProblem::Empty));
        assert_eq!(Environment::parse("-x"), Err(NameProblem::BadStart('-')));
        assert_eq!(Environment::parse("a b"), Err(NameProblem::BadChar(' ')));
        assert_eq!(
            Environment::parse(&"e".repeat(65)),
            Err(NameProblem::TooLong(64))
        );
        assert_eq!(label("K", ""), "K");
        assert_eq!(label("K", "prod"), "K (prod)");
    }
}
