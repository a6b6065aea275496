//! The unlock cache: an identity's unlocked secret key kept for a while so
//! that commands at a terminal need no prompt and no Argon2 run.
//!
//! Behind a small trait so that the session can run with no cache at all
//! (CI, tests, `--no-keyring`). Never stores a passphrase.

use zeroize::Zeroizing;

/// Where an unlocked identity key can be kept between commands.
pub trait KeyCache {
    /// The cached key for this vault and identity, if present and fresh.
    fn get(&self, vault: &CacheScope<'_>) -> Option<Zeroizing<Vec<u8>>>;
    /// Keeps `key` for `ttl_secs`; failure is reported, never fatal.
    fn put(&self, vault: &CacheScope<'_>, key: &[u8; 32], ttl_secs: i64) -> Result<(), String>;
    /// Removes the cached key, if any.
    fn remove(&self, vault: &CacheScope<'_>);
}

/// What a cache entry is bound to: one vault file and one identity.
pub struct CacheScope<'a> {
    pub vault_path: &'a std::path::Path,
    pub vault_id: &'a [u8; 16],
    pub identity_id: &'a [u8; 16],
}

/// No cache: every command unlocks anew.
pub struct NoCache;

impl KeyCache for NoCache {
    fn get(&self, _: &CacheScope<'_>) -> Option<Zeroizing<Vec<u8>>> {
        None
    }

    fn put(&self, _: &CacheScope<'_>, _: &[u8; 32], _: i64) -> Result<(), String> {
        Ok(())
    }

    fn remove(&self, _: &CacheScope<'_>) {}
}
