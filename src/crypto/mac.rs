//! HMAC-SHA256 (RFC 2104, FIPS 180-4) for the audit log's chain.
//!
//! Each audit entry carries `HMAC-SHA256(audit key, input)`, where the input
//! is built with [`Aad`]: a domain label and length-prefixed parts, so two
//! different entries can never encode to the same bytes. Checking a tag
//! compares in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Aad, Key, Unauthentic};

pub const MAC_LEN: usize = 32;

fn keyed(key: &Key) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key.expose()).expect("HMAC takes a key of any length")
}

/// The tag of `input` under `key`.
pub fn mac(key: &Key, input: &Aad) -> [u8; MAC_LEN] {
    let mut m = keyed(key);
    m.update(input.as_bytes());
    m.finalize().into_bytes().into()
}

/// SHA-256 of `input`, unkeyed: the tag of an audit entry written where no
/// key is held (the merge driver's entry), which the next keyed entry vouches
/// for by naming it.
pub fn digest(input: &Aad) -> [u8; MAC_LEN] {
    use sha2::Digest;
    Sha256::digest(input.as_bytes()).into()
}

/// Checks `tag` against `input` under `key`, in constant time.
pub fn verify_mac(key: &Key, input: &Aad, tag: &[u8]) -> Result<(), Unauthentic> {
    let mut m = keyed(key);
    m.update(input.as_bytes());
    m.verify_slice(tag).map_err(|_| Unauthentic)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2: key "Jefe".
    #[test]
    fn rfc_4231_case_2() {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn any_change_fails() {
        let key = Key::random();
        let input = Aad::new("audit-entry").with(b"one").with(b"two");
        let tag = mac(&key, &input);
        assert_eq!(verify_mac(&key, &input, &tag), Ok(()));
        let other = Aad::new("audit-entry").with(b"one").with(b"twO");
        assert_eq!(verify_mac(&key, &other, &tag), Err(Unauthentic));
        let mut bad = tag;
        bad[31] ^= 1;
        assert_eq!(verify_mac(&key, &input, &bad), Err(Unauthentic));
        assert_eq!(verify_mac(&key, &input, &tag[..31]), Err(Unauthentic));
        assert_eq!(verify_mac(&Key::random(), &input, &tag), Err(Unauthentic));
    }
}
