//! Argon2id (RFC 9106) from a passphrase to an identity's unlock key, and
//! HKDF-SHA256 (RFC 5869) for every key vault derives from another key.
//!
//! The parameters and salt are stored with each identity. Before any work,
//! stored parameters are checked against a floor (so a file edited to weaker
//! settings is refused rather than quietly accepted) and a ceiling (so a file
//! edited to absurd settings cannot stall or exhaust the machine). The
//! ceiling is what vault itself writes (DEFAULT) with a margin, not what
//! Argon2 allows: at the old 4 GiB / 64 passes one unlock took 22-42 s.

use argon2::{Algorithm, Argon2, Params, Version};
use hkdf::Hkdf;
use sha2::Sha256;

use super::Key;

/// HKDF-SHA256 of `ikm` under `salt`, expanded with `info` into `out`
/// (at most 8,160 bytes; vault asks for 32).
pub(super) fn hkdf_into(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) {
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
}

/// A 32-byte key by [`hkdf_into`].
pub(super) fn hkdf_key(ikm: &[u8], salt: &[u8], info: &[u8]) -> Key {
    let mut okm = [0u8; 32];
    hkdf_into(ikm, salt, info, &mut okm);
    Key::from_bytes(okm)
}

/// Argon2id cost parameters: memory in KiB, passes, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

/// Why stored parameters were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamsRefused {
    BelowFloor,
    AboveCeiling,
}

impl KdfParams {
    /// The default for new passphrases: 64 MiB, 3 passes, 4 lanes.
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 4,
    };
    /// The weakest parameters accepted (OWASP's Argon2id minimum).
    pub const FLOOR: KdfParams = KdfParams {
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
    };
    /// The costliest parameters accepted: 256 MiB, 8 passes, 16 lanes;
    /// four times DEFAULT's memory and under three times its passes, so
    /// about ten times its cost (some 2 s here) at worst.
    pub const CEILING: KdfParams = KdfParams {
        m_kib: 256 * 1024,
        t: 8,
        p: 16,
    };

    /// Refuses parameters outside [FLOOR, CEILING] before any allocation.
    pub fn check(self) -> Result<(), ParamsRefused> {
        let (f, c) = (Self::FLOOR, Self::CEILING);
        if self.m_kib < f.m_kib || self.t < f.t || self.p < f.p {
            return Err(ParamsRefused::BelowFloor);
        }
        if self.m_kib > c.m_kib || self.t > c.t || self.p > c.p || self.m_kib < 8 * self.p {
            return Err(ParamsRefused::AboveCeiling);
        }
        Ok(())
    }

    /// The bytes bound into the identity record's associated data.
    pub fn encode(self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[..4].copy_from_slice(&self.m_kib.to_be_bytes());
        out[4..8].copy_from_slice(&self.t.to_be_bytes());
        out[8..].copy_from_slice(&self.p.to_be_bytes());
        out
    }
}

/// Derives a 256-bit unlock key with Argon2id v1.3 from `passphrase` and a
/// 16-byte or longer `salt`. Parameters must have passed [`KdfParams::check`].
pub fn derive_unlock_key(
    passphrase: &[u8],
    salt: &[u8],
    params: KdfParams,
) -> Result<Key, ParamsRefused> {
    params.check()?;
    raw_argon2id(passphrase, salt, params).ok_or(ParamsRefused::AboveCeiling)
}

fn raw_argon2id(passphrase: &[u8], salt: &[u8], params: KdfParams) -> Option<Key> {
    let argon_params = Params::new(params.m_kib, params.t, params.p, Some(32)).ok()?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
    let mut out = [0u8; 32];
    argon.hash_password_into(passphrase, salt, &mut out).ok()?;
    Some(Key::from_bytes(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_and_ceiling() {
        assert_eq!(KdfParams::DEFAULT.check(), Ok(()));
        assert_eq!(KdfParams::FLOOR.check(), Ok(()));
        let weak = KdfParams {
            m_kib: 19 * 1024 - 1,
            ..KdfParams::FLOOR
        };
        assert_eq!(weak.check(), Err(ParamsRefused::BelowFloor));
        let one_pass = KdfParams {
            t: 1,
            ..KdfParams::DEFAULT
        };
        assert_eq!(one_pass.check(), Err(ParamsRefused::BelowFloor));
        let huge = KdfParams {
            m_kib: u32::MAX,
            ..KdfParams::DEFAULT
        };
        assert_eq!(huge.check(), Err(ParamsRefused::AboveCeiling));
        assert_eq!(KdfParams::CEILING.check(), Ok(()));
        for over in [
            KdfParams {
                m_kib: 256 * 1024 + 1,
                ..KdfParams::CEILING
            },
            KdfParams {
                t: 9,
                ..KdfParams::CEILING
            },
            KdfParams {
                p: 17,
                ..KdfParams::CEILING
            },
        ] {
            assert_eq!(over.check(), Err(ParamsRefused::AboveCeiling));
        }
    }
}
