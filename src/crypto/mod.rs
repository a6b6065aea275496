//! The vault's cryptography: sealing fields, deriving unlock keys, wrapping
//! data keys between identities, and access tokens.
//!
//! This module owns every RustCrypto crate the vault uses and nothing else:
//! no I/O, no SQL, no printing. Each primitive is a published construction
//! (XChaCha20-Poly1305, Argon2id, X25519, Ed25519, HKDF-SHA256,
//! HMAC-SHA256); nothing here is home
//! made beyond the length-prefixed encoding of associated data.

mod aead;
mod fingerprint;
mod kdf;
mod mac;
mod sign;
mod token;
mod wrap;

pub use aead::{open, seal, Aad, Key, KEY_LEN, NONCE_LEN, TAG_LEN};
pub use fingerprint::{scan_key, Fingerprinter, FINGERPRINT_LEN};
pub use kdf::{derive_unlock_key, KdfParams, ParamsRefused};
pub use mac::{digest, mac, verify_mac, MAC_LEN};
pub use sign::{
    batched as batched_signatures, bundle_digest, field_digest, statement_digest,
    verify as verify_signature, FieldHasher, Signer25519, SIGNATURE_LEN,
};
pub use token::{token_unlock_key, AccessToken, TokenMalformed};
pub use wrap::{bundle_key, claim_key, exec_cache_key, wrapping_key, IdentitySecret, PUBLIC_LEN};

/// Fills `buf` from the operating system's CSPRNG.
///
/// A machine whose CSPRNG fails cannot keep secrets at all, so this is the
/// one place the crate panics on an environmental failure.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    buf
}

/// Names an unlock cache entry: SHA-256 (FIPS 180-4) over the
/// length-prefixed vault file path, vault id and identity id, under a label
/// of its own. Not secret; it only keeps entries of different vaults and
/// identities apart without writing a path into the OS keyring.
pub fn cache_entry_id(path: &[u8], vault_id: &[u8; 16], identity_id: &[u8; 16]) -> [u8; 32] {
    use sha2::Digest;
    let input = Aad::new("vault unlock cache v1")
        .with(path)
        .with(vault_id)
        .with(identity_id);
    sha2::Sha256::digest(input.as_bytes()).into()
}

/// Names the vault file's part of every unlock cache entry name: SHA-256
/// over the length-prefixed path and vault id, under a label of its own,
/// so that `vault lock` can find every entry of one vault file, whichever
/// identity it belongs to.
pub fn cache_vault_id(path: &[u8], vault_id: &[u8; 16]) -> [u8; 32] {
    use sha2::Digest;
    let input = Aad::new("vault unlock cache vault v1")
        .with(path)
        .with(vault_id);
    sha2::Sha256::digest(input.as_bytes()).into()
}

/// A sealed field failed to authenticate: wrong key, or the bytes or their
/// context were changed. Deliberately carries no detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthentic;
