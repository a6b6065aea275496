//! Access tokens for machine identities (CI).
//!
//! A token is `vtk1_` followed by the identity's 16-byte id and 32 random
//! bytes, all in lowercase hex, then (since format 3) `_` and the 16-byte
//! pin of the vault's root signing key, so that a fresh CI clone checks the
//! root as strictly as a clone that pinned it. A token without the pin
//! still unlocks. The random part is already full-entropy key
//! material, so the unlock key comes from HKDF-SHA256 (RFC 5869) rather than
//! a slow password hash: CI pays no Argon2 cost.
//!
//! ```text
//! unlock key = HKDF-SHA256(ikm = random part, salt = identity id,
//!                          info = "vault/v1/token-unlock")
//! ```

use zeroize::Zeroizing;

use super::Key;

const PREFIX: &str = "vtk1_";
const ID_HEX: usize = 32;
const SECRET_HEX: usize = 64;

/// A parsed access token. No `Debug`, `Display` or `Clone`.
pub struct AccessToken {
    identity_id: [u8; 16],
    secret: Zeroizing<[u8; 32]>,
    pin: Option<[u8; 16]>,
}

/// Why a token string could not be read; never includes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMalformed {
    Prefix,
    Length,
    NotHex,
}

impl AccessToken {
    /// A new token for `identity_id` with 256 fresh random bits.
    pub fn generate(identity_id: [u8; 16]) -> Self {
        AccessToken {
            identity_id,
            secret: Zeroizing::new(super::random_bytes()),
            pin: None,
        }
    }

    /// The token carrying the root's pin.
    pub fn with_pin(mut self, pin: [u8; 16]) -> Self {
        self.pin = Some(pin);
        self
    }

    /// The root pin the token carries, if any.
    pub fn pin(&self) -> Option<[u8; 16]> {
        self.pin
    }

    /// Parses a token, tolerating surrounding whitespace (a trailing newline
    /// from a CI secret store is common).
    pub fn parse(text: &str) -> Result<Self, TokenMalformed> {
        let text = text.trim();
        let body = text.strip_prefix(PREFIX).ok_or(TokenMalformed::Prefix)?;
        let (id_hex, rest) = body
            .split_at_checked(ID_HEX)
            .ok_or(TokenMalformed::Length)?;
        let rest = rest.strip_prefix('_').ok_or(TokenMalformed::Length)?;
        let (secret_hex, pin_hex) = match rest.split_once('_') {
            Some((secret, pin)) => (secret, Some(pin)),
            None => (rest, None),
        };
        if secret_hex.len() != SECRET_HEX || pin_hex.is_some_and(|p| p.len() != ID_HEX) {
            return Err(TokenMalformed::Length);
        }
        let pin = match pin_hex {
            Some(hex_text) => {
                let mut pin = [0u8; 16];
                hex::decode_to_slice(hex_text, &mut pin).map_err(|_| TokenMalformed::NotHex)?;
                Some(pin)
            }
            None => None,
        };
        let mut identity_id = [0u8; 16];
        hex::decode_to_slice(id_hex, &mut identity_id).map_err(|_| TokenMalformed::NotHex)?;
        let mut secret = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(secret_hex, &mut secret[..]).map_err(|_| TokenMalformed::NotHex)?;
        Ok(AccessToken {
            identity_id,
            secret,
            pin,
        })
    }

    /// The token as the user stores it. Returned in a zeroizing string.
    pub fn encode(&self) -> Zeroizing<String> {
        let pin = self
            .pin
            .map(|p| format!("_{}", hex::encode(p)))
            .unwrap_or_default();
        Zeroizing::new(format!(
            "{PREFIX}{}_{}{pin}",
            hex::encode(self.identity_id),
            hex::encode(&self.secret[..])
        ))
    }

    pub fn identity_id(&self) -> [u8; 16] {
        self.identity_id
    }

    pub fn unlock_key(&self) -> Key {
        token_unlock_key(&self.secret[..], &self.identity_id)
    }
}

/// HKDF-SHA256 from a token's random part to the identity's unlock key.
pub fn token_unlock_key(secret: &[u8], identity_id: &[u8; 16]) -> Key {
    super::kdf::hkdf_key(secret, identity_id, b"vault/v1/token-unlock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let token = AccessToken::generate([7u8; 16]);
        let text = token.encode();
        let parsed = AccessToken::parse(&format!("{}\n", *text)).unwrap();
        assert_eq!(parsed.identity_id(), [7u8; 16]);
        assert_eq!(parsed.unlock_key().expose(), token.unlock_key().expose());
        assert_eq!(parsed.pin(), None);
        let pinned = AccessToken::parse(&token.with_pin([9; 16]).encode()).unwrap();
        assert_eq!(pinned.pin(), Some([9; 16]));
    }

    #[test]
    fn malformed_tokens() {
        let text = AccessToken::generate([1u8; 16]).encode();
        assert_eq!(AccessToken::parse("").err(), Some(TokenMalformed::Prefix));
        assert_eq!(
            AccessToken::parse(&text[..text.len() - 1]).err(),
            Some(TokenMalformed::Length)
        );
        // One character of the hex body, after the `vtk1_` prefix.
        let bad = format!("{}g{}", &text[..5], &text[6..]);
        assert_eq!(AccessToken::parse(&bad).err(), Some(TokenMalformed::NotHex));
        assert_eq!(
            AccessToken::parse("vtk1_é").err(),
            Some(TokenMalformed::Length)
        );
    }
}
