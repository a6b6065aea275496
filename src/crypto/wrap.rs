//! Identity key pairs (X25519, RFC 7748) and the wrapping keys derived from
//! them with HKDF-SHA256 (RFC 5869).
//!
//! A secret's data key is wrapped for a grantee under a key that only the
//! writer (who granted) and the grantee can compute:
//!
//! ```text
//! shared  = X25519(writer_secret, grantee_public) = X25519(grantee_secret, writer_public)
//! wrapkey = HKDF-SHA256(ikm = shared, salt = vault id,
//!                       info = "vault/v1/wrap" || writer_public || grantee_public)
//! ```
//!
//! The key depends only on the (writer, grantee) pair, so `exec` computes one
//! X25519 per distinct writer and unwraps every data key symmetrically.

use x25519_dalek::{PublicKey, StaticSecret};

use super::kdf::hkdf_key;
use super::{Key, Unauthentic};

pub const PUBLIC_LEN: usize = 32;

/// The secret half of an identity's key pair. Zeroized on drop (the dalek
/// type zeroizes itself); no `Debug`, no `Clone`.
pub struct IdentitySecret(StaticSecret);

impl IdentitySecret {
    pub fn generate() -> Self {
        IdentitySecret(StaticSecret::from(super::random_bytes::<32>()))
    }

    /// Rebuilds the secret from its 32 stored bytes, refusing any length but 32.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Unauthentic> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| Unauthentic)?;
        Ok(IdentitySecret(StaticSecret::from(arr)))
    }

    pub fn public(&self) -> [u8; PUBLIC_LEN] {
        PublicKey::from(&self.0).to_bytes()
    }

    pub fn expose(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }
}

/// Derives the wrapping key for (writer, grantee). `me` is whichever of the
/// two is computing; `other` is the other party's public key. Fails for a
/// low-order public key, whose shared secret is all zeros.
pub fn wrapping_key(
    me: &IdentitySecret,
    other: &[u8; PUBLIC_LEN],
    writer_public: &[u8; PUBLIC_LEN],
    grantee_public: &[u8; PUBLIC_LEN],
    vault_id: &[u8],
) -> Result<Key, Unauthentic> {
    pair_key(
        me,
        other,
        writer_public,
        grantee_public,
        vault_id,
        b"vault/v1/wrap",
    )
}

/// The key a receive-only identity (`claimant_public`) and the root
/// (`root_public`) share to authenticate the claimant's signing key:
/// the same X25519 exchange as wrapping, under its own HKDF label
/// (`vault/v3/claim`), so the two keys never coincide.
pub fn claim_key(
    me: &IdentitySecret,
    other: &[u8; PUBLIC_LEN],
    claimant_public: &[u8; PUBLIC_LEN],
    root_public: &[u8; PUBLIC_LEN],
    vault_id: &[u8],
) -> Result<Key, Unauthentic> {
    pair_key(
        me,
        other,
        claimant_public,
        root_public,
        vault_id,
        b"vault/v3/claim",
    )
}

/// The key a writer's exec bundle for a grantee is sealed under
/// (HKDF-SHA256, ikm = their wrapping key, salt = the vault id, info
/// `vault/v9/exec-bundle`): the same two parties as the data keys the
/// writer wraps for the grantee, one X25519 between them, and a key that
/// never coincides with the wrapping key itself.
pub fn bundle_key(wrapping: &Key, vault_id: &[u8; 16]) -> Key {
    hkdf_key(wrapping.expose(), vault_id, b"vault/v9/exec-bundle")
}

/// The key exec's cache of a verified view is sealed under (HKDF-SHA256,
/// ikm = the identity's secret key, salt = the vault id, info
/// `vault/v6/exec-cache`): only an unlock of that identity yields it, and
/// it never coincides with a key the vault file uses.
pub fn exec_cache_key(me: &IdentitySecret, vault_id: &[u8; 16]) -> Key {
    hkdf_key(me.expose(), vault_id, b"vault/v6/exec-cache")
}

fn pair_key(
    me: &IdentitySecret,
    other: &[u8; PUBLIC_LEN],
    writer_public: &[u8; PUBLIC_LEN],
    grantee_public: &[u8; PUBLIC_LEN],
    vault_id: &[u8],
    label: &[u8],
) -> Result<Key, Unauthentic> {
    let shared = me.0.diffie_hellman(&PublicKey::from(*other));
    if !shared.was_contributory() {
        return Err(Unauthentic);
    }
    let mut info = Vec::with_capacity(label.len() + 2 * PUBLIC_LEN);
    info.extend_from_slice(label);
    info.extend_from_slice(writer_public);
    info.extend_from_slice(grantee_public);
    Ok(hkdf_key(shared.as_bytes(), vault_id, &info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_derive_the_same_key() {
        let writer = IdentitySecret::generate();
        let grantee = IdentitySecret::generate();
        let (wp, gp) = (writer.public(), grantee.public());
        let a = wrapping_key(&writer, &gp, &wp, &gp, b"vault").unwrap();
        let b = wrapping_key(&grantee, &wp, &wp, &gp, b"vault").unwrap();
        assert_eq!(a.expose(), b.expose());
        let other_vault = wrapping_key(&grantee, &wp, &wp, &gp, b"other").unwrap();
        assert_ne!(a.expose(), other_vault.expose());
    }

    #[test]
    fn low_order_point_is_refused() {
        let me = IdentitySecret::generate();
        let zero = [0u8; 32];
        assert!(wrapping_key(&me, &zero, &zero, &me.public(), b"v").is_err());
    }
}
