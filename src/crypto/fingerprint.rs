//! The leak guard's keyed fingerprints: HMAC-SHA256 (RFC 2104) of a value
//! under the vault's scan key, so that `vault scan` can recognise a value
//! (also one the vault no longer holds) without holding or showing it.
//!
//! The scan key is HKDF-SHA256 (RFC 5869) of the audit key (ikm), with the
//! vault id as salt and `vault/v5/scan-key` as info: every identity holds
//! the audit key (wrapped for it, signed by its writer), so every identity
//! holds the scan key, and the two keys never coincide. A fingerprint is
//! the MAC of the label `fingerprint` and the length-prefixed value, in
//! [`Aad`]'s encoding, so it can never equal an audit entry's MAC.
//!
//! Checking a candidate costs two SHA-256 blocks for a value up to 47
//! bytes: the keyed state (the padded key's block) is computed once and
//! cloned per candidate.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Aad, Key};

pub const FINGERPRINT_LEN: usize = 32;

/// The scan key of the vault `vault_id` whose audit key is `audit_key`.
pub fn scan_key(audit_key: &Key, vault_id: &[u8; 16]) -> Key {
    super::kdf::hkdf_key(audit_key.expose(), vault_id, b"vault/v5/scan-key")
}

/// Fingerprints values under one scan key.
pub struct Fingerprinter {
    /// The keyed HMAC state after the label, cloned for each value.
    keyed: Hmac<Sha256>,
}

impl Fingerprinter {
    pub fn new(scan_key: &Key) -> Fingerprinter {
        let mut keyed = <Hmac<Sha256> as Mac>::new_from_slice(scan_key.expose())
            .expect("HMAC takes a key of any length");
        keyed.update(Aad::new("fingerprint").as_bytes());
        Fingerprinter { keyed }
    }

    /// HMAC-SHA256(scan key, Aad("fingerprint") || len(value) || value).
    pub fn of(&self, value: &[u8]) -> [u8; FINGERPRINT_LEN] {
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        let mut m = self.keyed.clone();
        m.update(&len.to_be_bytes());
        m.update(value);
        m.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fingerprint is the documented HMAC over the documented
    /// encoding, computed independently here.
    #[test]
    fn a_fingerprint_is_the_hmac_of_the_labelled_value() {
        let key = Key::from_bytes([7; 32]);
        let input = Aad::new("fingerprint").with(b"hunter2-canary");
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&[7; 32]).unwrap();
        m.update(input.as_bytes());
        let expected: [u8; 32] = m.finalize().into_bytes().into();
        assert_eq!(Fingerprinter::new(&key).of(b"hunter2-canary"), expected);
    }

    #[test]
    fn keys_and_values_keep_fingerprints_apart() {
        let a = Fingerprinter::new(&Key::from_bytes([1; 32]));
        let b = Fingerprinter::new(&Key::from_bytes([2; 32]));
        assert_ne!(a.of(b"value-one"), b.of(b"value-one"));
        assert_ne!(a.of(b"value-one"), a.of(b"value-two"));
        assert_eq!(a.of(b"value-one"), a.of(b"value-one"));
    }

    /// The scan key is neither the audit key nor the same for two vaults.
    #[test]
    fn the_scan_key_is_its_own() {
        let audit = Key::from_bytes([9; 32]);
        let one = scan_key(&audit, &[1; 16]);
        assert_ne!(one.expose(), audit.expose());
        assert_ne!(one.expose(), scan_key(&audit, &[2; 16]).expose());
        assert_eq!(one.expose(), scan_key(&audit, &[1; 16]).expose());
    }
}
