//! XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03, over RFC 8439) for every
//! sealed field in the vault.
//!
//! A sealed field is `nonce (24 bytes) || ciphertext || tag (16 bytes)`. The
//! nonce is drawn at random for every seal; 192 bits make collisions a
//! non-issue. The associated data is built with [`Aad`], which length-prefixes
//! every part so two different contexts can never encode to the same bytes.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, Zeroizing};

use super::Unauthentic;

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;
pub const TAG_LEN: usize = 16;

/// A 256-bit symmetric key: a data key, an unlock key or a wrapping key.
/// Zeroized on drop; no `Debug`, no `Clone`.
pub struct Key([u8; KEY_LEN]);

impl Key {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Key(bytes)
    }

    /// A fresh random key from the OS CSPRNG.
    pub fn random() -> Self {
        Key(super::random_bytes())
    }

    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Associated data: a domain label followed by length-prefixed parts.
pub struct Aad(Vec<u8>);

impl Aad {
    pub fn new(label: &str) -> Self {
        let mut aad = Aad(Vec::with_capacity(320));
        aad.part(b"vault/v1");
        aad.part(label.as_bytes());
        aad
    }

    pub fn part(&mut self, bytes: &[u8]) -> &mut Self {
        let len = u32::try_from(bytes.len()).expect("associated data parts are small");
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    pub fn with(mut self, bytes: &[u8]) -> Self {
        self.part(bytes);
        self
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

fn cipher(key: &Key) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new_from_slice(key.expose()).expect("key is 32 bytes")
}

/// Seals `plaintext` under `key`, binding `aad`. Returns nonce || ciphertext.
pub fn seal(key: &Key, aad: &Aad, plaintext: &[u8]) -> Vec<u8> {
    seal_with_nonce(key, super::random_bytes(), aad, plaintext)
}

/// Sealing with a caller's nonce, for known-answer tests only.
pub(crate) fn seal_with_nonce(
    key: &Key,
    nonce: [u8; NONCE_LEN],
    aad: &Aad,
    plaintext: &[u8],
) -> Vec<u8> {
    let payload = Payload {
        msg: plaintext,
        aad: aad.as_bytes(),
    };
    let body = cipher(key)
        .encrypt(&XNonce::from(nonce), payload)
        .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
    let mut sealed = Vec::with_capacity(NONCE_LEN + body.len());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&body);
    sealed
}

/// Opens a field made by [`seal`]; any change to the key, nonce, ciphertext,
/// tag or associated data gives [`Unauthentic`].
pub fn open(key: &Key, aad: &Aad, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Unauthentic> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(Unauthentic);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at NONCE_LEN");
    let payload = Payload {
        msg: body,
        aad: aad.as_bytes(),
    };
    cipher(key)
        .decrypt(&XNonce::from(nonce), payload)
        .map(Zeroizing::new)
        .map_err(|_| Unauthentic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_bit_flip_fails() {
        let key = Key::random();
        let aad = Aad::new("test").with(b"context");
        let sealed = seal(&key, &aad, b"hello");
        assert_eq!(&open(&key, &aad, &sealed).unwrap()[..], b"hello");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(open(&key, &aad, &bad).err(), Some(Unauthentic), "byte {i}");
        }
        let other = Aad::new("test").with(b"contexT");
        assert!(open(&key, &other, &sealed).is_err());
        assert!(open(&key, &aad, &sealed[..NONCE_LEN + TAG_LEN - 1]).is_err());
    }

    #[test]
    fn aad_parts_are_unambiguous() {
        let a = Aad::new("x").with(b"ab").with(b"c");
        let b = Aad::new("x").with(b"a").with(b"bc");
        assert_ne!(a.as_bytes(), b.as_bytes());
    }
}
