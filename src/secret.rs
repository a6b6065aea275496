//! Types that hold secret bytes: a secret's value and a passphrase.
//!
//! They have no `Debug`, `Display`, `Clone` or `Serialize`, are zeroized on
//! drop, and are read through one accessor, so a value cannot reach a log,
//! an error message or a format string by accident.

use zeroize::Zeroizing;

/// A secret's plaintext value.
pub struct SecretValue(Zeroizing<Vec<u8>>);

impl SecretValue {
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> Self {
        SecretValue(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A passphrase as typed or read from a file.
pub struct Passphrase(Zeroizing<Vec<u8>>);

impl Passphrase {
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> Self {
        Passphrase(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time comparison, for the two entries of a new passphrase.
    pub fn matches(&self, other: &Passphrase) -> bool {
        use subtle::ConstantTimeEq;
        self.0.len() == other.0.len() && bool::from(self.0.ct_eq(&other.0))
    }
}
