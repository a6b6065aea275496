//! Plain data of the domain: validated names, access levels, points in time
//! and the metadata that `list` shows without unlocking.
//!
//! Everything here is parsed from user input or from the vault file and is
//! safe to print. Depends on nothing else in the crate.

use std::fmt;

use serde::Serialize;

mod danger;
mod environment;
mod text;
pub use danger::{entries as danger_entries, name_danger, Danger, DangerClass, Match};
pub use environment::{label, Environment};
pub use text::{from_stored_bytes, shown, text_problem};

/// Why a name was refused; the caller adds the name itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    Empty,
    TooLong(usize),
    BadStart(char),
    BadChar(char),
    Reserved,
    /// The name runs code or weakens trust ([`name_danger`]).
    Dangerous(Danger),
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameProblem::Empty => write!(f, "it is empty"),
            NameProblem::TooLong(max) => write!(f, "it is longer than {max} characters"),
            NameProblem::BadStart(c) => write!(f, "it starts with {c:?}"),
            NameProblem::BadChar(c) => write!(f, "it contains {c:?}"),
            NameProblem::Reserved => write!(f, "vault uses this variable itself"),
            NameProblem::Dangerous(danger) => write!(f, "it lets a value {}", danger.effect),
        }
    }
}

const SECRET_NAME_MAX: usize = 255;

/// A secret's name: a portable environment variable name
/// (`[A-Za-z_][A-Za-z0-9_]*`, at most 255 bytes).
///
/// Shared, not copied: exec passes each name from the exec cache through
/// the catalog, the selection and the plan, and at a thousand secrets a
/// copy at each step was three thousand allocations of a warm exec's
/// fifteen thousand.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretName(std::sync::Arc<str>);

impl Serialize for SecretName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl SecretName {
    /// Parses a name a user typed. Names that [`name_danger`] classes as
    /// refused are refused unless `allow_dangerous`; the vault's own
    /// variables are always refused.
    pub fn parse(text: &str, allow_dangerous: bool) -> Result<Self, NameProblem> {
        env_name_shape(text)?;
        if crate::env::is_vault_variable(text) {
            return Err(NameProblem::Reserved);
        }
        if let Some(danger) = name_danger(text) {
            if danger.class.refused() && !allow_dangerous {
                return Err(NameProblem::Dangerous(danger));
            }
        }
        Ok(SecretName(text.into()))
    }

    /// A name read back from the vault file: shape checked, never refused as
    /// dangerous (it was allowed when added, and is bound by the AEAD).
    pub fn stored(text: impl AsRef<str>) -> Self {
        SecretName(text.as_ref().into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks `[A-Za-z_][A-Za-z0-9_]*`, the shape POSIX shells accept.
pub fn env_name_shape(text: &str) -> Result<(), NameProblem> {
    let mut chars = text.chars();
    let first = chars.next().ok_or(NameProblem::Empty)?;
    if text.len() > SECRET_NAME_MAX {
        return Err(NameProblem::TooLong(SECRET_NAME_MAX));
    }
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Err(NameProblem::BadStart(first));
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '_')) {
        return Err(NameProblem::BadChar(bad));
    }
    Ok(())
}

const IDENTITY_NAME_MAX: usize = 64;

/// An identity's name: a person or a machine. Letters, digits and `._-@`,
/// starting with a letter or digit, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct IdentityName(String);

impl IdentityName {
    pub fn parse(text: &str) -> Result<Self, NameProblem> {
        let first = text.chars().next().ok_or(NameProblem::Empty)?;
        if text.chars().count() > IDENTITY_NAME_MAX {
            return Err(NameProblem::TooLong(IDENTITY_NAME_MAX));
        }
        if !first.is_ascii_alphanumeric() {
            return Err(NameProblem::BadStart(first));
        }
        let ok = |c: &char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
        if let Some(bad) = text.chars().find(|c| !ok(c)) {
            return Err(NameProblem::BadChar(bad));
        }
        Ok(IdentityName(text.to_owned()))
    }

    pub fn stored(text: String) -> Self {
        IdentityName(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdentityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an identity may do with a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Receive the secret in `exec`.
    Use,
    /// Also rotate, rename, delete and grant it.
    Manage,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Use => "use",
            Level::Manage => "manage",
        }
    }

    pub fn from_stored(text: &str) -> Option<Level> {
        match text {
            "use" => Some(Level::Use),
            "manage" => Some(Level::Manage),
            _ => None,
        }
    }
}

/// Whether an identity unlocks with a passphrase or an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    Person,
    Machine,
    /// A machine identity certified as a coding agent: use only, for a
    /// while, masked and with a reason.
    Agent,
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Person => "person",
            IdentityKind::Machine => "machine",
            IdentityKind::Agent => "agent",
        }
    }
}

/// One identity's access to one secret, as `list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AccessInfo {
    pub identity: IdentityName,
    pub level: Level,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub expires: Option<i64>,
    pub expired: bool,
}

/// A secret's metadata: everything but its value.
#[derive(Debug, Clone, Serialize)]
pub struct SecretInfo {
    pub name: SecretName,
    /// The environment it belongs to; none when shared by all.
    pub environment: Option<String>,
    pub service: Option<String>,
    pub description: Option<String>,
    pub version: i64,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created: i64,
    #[serde(serialize_with = "crate::time::serialize")]
    pub rotated: i64,
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub expires: Option<i64>,
    pub expired: bool,
    /// An identity's access was revoked since the last rotation.
    pub needs_rotation: bool,
    /// The rotation period in seconds (`--rotate-every`), if any.
    pub rotate_every: Option<i64>,
    /// When the next rotation is due: the last rotation plus the period.
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub rotation_due: Option<i64>,
    /// The rotation period has passed since the last rotation.
    pub rotation_overdue: bool,
    pub access: Vec<AccessInfo>,
}

/// A secret as `exec` selects it: name, service, and whether the acting
/// identity was granted it.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub name: SecretName,
    /// The environment of the secret chosen for this name (none: shared).
    pub environment: Option<String>,
    pub service: Option<String>,
    pub granted: bool,
}

/// An identity's public metadata.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityInfo {
    pub name: IdentityName,
    pub kind: IdentityKind,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created: i64,
    pub secrets: usize,
    pub default: bool,
    /// `root`, `admin` or `member`, as its certificate says.
    pub role: String,
    /// Fingerprints of its keys: the X25519 key that receives secrets and
    /// the Ed25519 key that signs (none for an identity certified to
    /// receive only).
    pub key: String,
    pub signing_key: Option<String>,
    /// When an agent identity stops working (none for the others).
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub expires: Option<i64>,
}

/// One entry of the audit log: plaintext metadata, safe to print.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    #[serde(serialize_with = "crate::time::serialize")]
    pub time: i64,
    pub identity: String,
    pub action: String,
    pub secrets: Vec<String>,
    /// Key and value pairs in stored order: the grantee and level of a
    /// grant, exec's program and working directory.
    #[serde(serialize_with = "pairs")]
    pub detail: Vec<(String, String)>,
}

fn pairs<S: serde::Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// What `audit verify` found in an intact log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSummary {
    pub entries: usize,
    /// The oldest and newest entries' times, when there are any.
    pub span: Option<(i64, i64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        assert!(SecretName::parse("STRIPE_KEY", false).is_ok());
        assert!(SecretName::parse("_x1", false).is_ok());
        assert_eq!(SecretName::parse("", false), Err(NameProblem::Empty));
        assert_eq!(
            SecretName::parse("MY-KEY", false),
            Err(NameProblem::BadChar('-'))
        );
        assert_eq!(
            SecretName::parse("1ABC", false),
            Err(NameProblem::BadStart('1'))
        );
        assert_eq!(
            SecretName::parse("A=B", false),
            Err(NameProblem::BadChar('='))
        );
        assert!(matches!(
            SecretName::parse("LD_PRELOAD", false),
            Err(NameProblem::Dangerous(_))
        ));
        assert!(matches!(
            SecretName::parse("dyld_insert_libraries", false),
            Err(NameProblem::Dangerous(_))
        ));
        assert!(SecretName::parse("HTTPS_PROXY", false).is_ok());
        assert!(SecretName::parse("LD_PRELOAD", true).is_ok());
        assert_eq!(
            SecretName::parse("VAULT_PASSPHRASE", true),
            Err(NameProblem::Reserved)
        );
    }

    #[test]
    fn identity_names() {
        assert!(IdentityName::parse("alice@example.com").is_ok());
        assert!(IdentityName::parse("ci-prod_1").is_ok());
        assert_eq!(IdentityName::parse(""), Err(NameProblem::Empty));
        assert_eq!(IdentityName::parse("-x"), Err(NameProblem::BadStart('-')));
        assert_eq!(IdentityName::parse("a b"), Err(NameProblem::BadChar(' ')));
    }
}
