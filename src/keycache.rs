//! The unlock cache: an identity's unlocked secret key kept for a while so
//! that commands at a terminal need no prompt and no Argon2 run.
//!
//! Behind a small trait so that the session can run with no cache at all
//! (CI, tests, `--no-keyring`). Never stores a passphrase. This module is
//! the one home of the `keyring` crate (and, on Linux, `linux-keyutils`).
//!
//! An entry is named from a hash of the vault file's canonical path and
//! the vault id, then a hash of those and the identity id, so another vault
//! or identity never finds it, and `vault lock` finds every entry of the
//! vault file (also of identities whose rows have left it). It holds its
//! own expiry next to the key; an expired entry is removed when read. On
//! Linux the kernel also drops it when its timeout runs out, even if vault
//! never runs again.
//!
//! Why Linux is special: the keyring crate's keyutils store links every
//! entry into the user's persistent keyring (which outlives the login, up
//! to three days, and has no per-key expiry), and when there is no session
//! keyring (headless, containers, CI) it writes the plaintext into the
//! user-session keyring, then fails to link it and reports an error while
//! leaving it there. So vault builds its entries on the session keyring
//! only, refuses to use the user-session keyring as a stand-in, sets the
//! kernel timeout, and removes the entry if any step of storing fails.
//!
//! The timeout is set before the key is reachable: an entry is built in
//! the thread's own keyring (which dies with the process), given its
//! timeout there, and only then linked into the session keyring. A kill at
//! any point leaves either nothing in the session keyring or an entry that
//! expires; storing in place and then setting the timeout, as before, left
//! a window with the key kept for ever.

use zeroize::Zeroizing;

/// How long a terminal unlock is kept, unless `vault unlock --for` says.
pub const DEFAULT_TTL_SECS: i64 = 15 * 60;
/// The longest `vault unlock --for` accepts.
pub const MAX_TTL_SECS: i64 = 24 * 3600;

/// Marks an entry's layout: magic, expiry (i64 big-endian), 32 key bytes.
const MAGIC: &[u8; 8] = b"vaultkc1";
const BLOB_LEN: usize = MAGIC.len() + 8 + 32;

/// A key found in the cache, with when it stops being valid.
pub struct Cached {
    pub key: Zeroizing<[u8; 32]>,
    pub expires: i64,
}

/// Where an unlocked identity key can be kept between commands.
pub trait KeyCache {
    /// Where keys are kept here, or why this cache cannot keep any.
    fn status(&self) -> Result<&'static str, String>;
    /// The cached key for this vault and identity, if present and fresh.
    /// An expired or unreadable entry is removed.
    fn get(&self, scope: &CacheScope<'_>) -> Option<Cached>;
    /// Keeps `key` for `ttl_secs` and returns the expiry; on failure
    /// nothing is left behind, and the reason is returned.
    fn put(&self, scope: &CacheScope<'_>, key: &[u8; 32], ttl_secs: i64) -> Result<i64, String>;
    /// Removes the cached key; whether there was one.
    fn remove(&self, scope: &CacheScope<'_>) -> bool;
    /// Removes every entry of the scope's vault file, whichever identity
    /// it belongs to; how many. (Only where entries can be listed: the
    /// Linux kernel keyring.)
    fn remove_vault(&self, scope: &CacheScope<'_>) -> usize;
}

/// What a cache entry is bound to: one vault file and one identity.
pub struct CacheScope<'a> {
    pub vault_path: &'a std::path::Path,
    pub vault_id: &'a [u8; 16],
    pub identity_id: &'a [u8; 16],
}

impl CacheScope<'_> {
    /// The entry's name: [`CacheScope::vault_prefix`] and 32 hex digits
    /// of a hash of the canonical path, the vault id and the identity id.
    fn entry_name(&self) -> String {
        let digest = crate::crypto::cache_entry_id(
            self.canonical_path().as_os_str().as_encoded_bytes(),
            self.vault_id,
            self.identity_id,
        );
        format!("{}{}", self.vault_prefix(), hex::encode(&digest[..16]))
    }

    /// What every entry of this vault file's name starts with:
    /// `vault-unlock:`, 32 hex digits of a hash of the canonical path and
    /// the vault id, and `:`.
    fn vault_prefix(&self) -> String {
        let digest = crate::crypto::cache_vault_id(
            self.canonical_path().as_os_str().as_encoded_bytes(),
            self.vault_id,
        );
        format!("vault-unlock:{}:", hex::encode(&digest[..16]))
    }

    fn canonical_path(&self) -> std::path::PathBuf {
        std::fs::canonicalize(self.vault_path).unwrap_or_else(|_| self.vault_path.to_owned())
    }
}

/// No cache: every command unlocks anew. Carries why.
pub struct NoCache(pub &'static str);

impl KeyCache for NoCache {
    fn status(&self) -> Result<&'static str, String> {
        Err(self.0.to_owned())
    }

    fn get(&self, _: &CacheScope<'_>) -> Option<Cached> {
        None
    }

    fn put(&self, _: &CacheScope<'_>, _: &[u8; 32], _: i64) -> Result<i64, String> {
        Err(self.0.to_owned())
    }

    fn remove(&self, _: &CacheScope<'_>) -> bool {
        false
    }

    fn remove_vault(&self, _: &CacheScope<'_>) -> usize {
        0
    }
}

/// The OS keyring: Keychain, Credential Manager, or the Linux kernel
/// session keyring.
pub struct KeyringCache;

impl KeyCache for KeyringCache {
    fn status(&self) -> Result<&'static str, String> {
        let store = platform::Store::open()?;
        // A real round trip, with a value that is no secret.
        let name = "vault-unlock:probe";
        let probe = crate::crypto::random_bytes::<16>();
        store.write(name, &probe, 5)?;
        let read = store.read(name);
        store.delete(name);
        match read {
            Some(bytes) if bytes[..] == probe[..] => Ok(platform::NAME),
            _ => Err(format!(
                "the {} did not give back what was stored",
                platform::NAME
            )),
        }
    }

    fn get(&self, scope: &CacheScope<'_>) -> Option<Cached> {
        let store = platform::Store::open().ok()?;
        let name = scope.entry_name();
        let blob = store.read(&name)?;
        match decode(&blob) {
            Some(cached) if cached.expires > crate::time::now() => Some(cached),
            _ => {
                store.delete(&name);
                None
            }
        }
    }

    fn put(&self, scope: &CacheScope<'_>, key: &[u8; 32], ttl_secs: i64) -> Result<i64, String> {
        let store = platform::Store::open()?;
        let expires = crate::time::now() + ttl_secs;
        let mut blob = Zeroizing::new(Vec::with_capacity(BLOB_LEN));
        blob.extend_from_slice(MAGIC);
        blob.extend_from_slice(&expires.to_be_bytes());
        blob.extend_from_slice(key);
        store.write(&scope.entry_name(), &blob, ttl_secs)?;
        Ok(expires)
    }

    fn remove(&self, scope: &CacheScope<'_>) -> bool {
        platform::Store::open().is_ok_and(|store| store.delete(&scope.entry_name()))
    }

    fn remove_vault(&self, scope: &CacheScope<'_>) -> usize {
        platform::Store::open().map_or(0, |store| store.delete_prefixed(&scope.vault_prefix()))
    }
}

/// Reads an entry written by `put`; anything else is `None`.
fn decode(blob: &[u8]) -> Option<Cached> {
    if blob.len() != BLOB_LEN || !blob.starts_with(MAGIC) {
        return None;
    }
    let (expires, key) = blob[MAGIC.len()..].split_at(8);
    let mut cached = Cached {
        key: Zeroizing::new([0u8; 32]),
        expires: i64::from_be_bytes(expires.try_into().ok()?),
    };
    cached.key.copy_from_slice(key);
    Some(cached)
}

#[cfg(target_os = "linux")]
mod platform {
    use keyring::keyutils::KeyutilsCredential;
    use linux_keyutils::{KeyRing, KeyRingIdentifier, KeyType};
    use zeroize::Zeroizing;

    pub const NAME: &str = "Linux kernel session keyring";

    pub struct Store {
        session: KeyRing,
    }

    impl Store {
        /// The session keyring, if this process has a real one. Without
        /// one the kernel hands out the user-session keyring, shared by
        /// every process of the user and kept as long as the user exists:
        /// no place for a key meant to live fifteen minutes.
        pub fn open() -> Result<Store, String> {
            let unreachable = |e| format!("the kernel keyring is not reachable ({e})");
            let session =
                KeyRing::from_special_id(KeyRingIdentifier::Session, false).map_err(unreachable)?;
            let user = KeyRing::from_special_id(KeyRingIdentifier::UserSession, false)
                .map_err(unreachable)?;
            if session == user {
                return Err(
                    "there is no session keyring here (`keyctl session` starts one)".into(),
                );
            }
            Ok(Store { session })
        }

        /// An entry on the session keyring only, never linked into the
        /// persistent keyring.
        fn entry(&self, name: &str) -> keyring::Entry {
            keyring::Entry::new_with_credential(Box::new(KeyutilsCredential {
                session: self.session,
                persistent: None,
                description: name.to_owned(),
            }))
        }

        pub fn read(&self, name: &str) -> Option<Zeroizing<Vec<u8>>> {
            self.entry(name).get_secret().ok().map(Zeroizing::new)
        }

        /// Stores `blob` with the kernel's own timeout, set before the key
        /// is in the session keyring: the key is made in this thread's
        /// keyring (private, and gone when the process ends), timed there,
        /// then linked into the session keyring, where it displaces an
        /// older entry of the same name. On failure the new key is
        /// invalidated and the older entry, if any, is left as it was.
        pub fn write(&self, name: &str, blob: &[u8], ttl_secs: i64) -> Result<(), String> {
            let ttl = usize::try_from(ttl_secs).map_err(|_| "a negative lifetime".to_owned())?;
            let refused = |e: linux_keyutils::KeyError| format!("the {NAME} refused the key ({e})");
            let staging =
                KeyRing::from_special_id(KeyRingIdentifier::Thread, true).map_err(refused)?;
            let key = staging.add_key(name, blob).map_err(refused)?;
            let linked = key
                .set_timeout(ttl)
                .and_then(|()| self.session.link_key(key));
            let _ = staging.unlink_key(key);
            if let Err(e) = linked {
                let _ = key.invalidate();
                return Err(refused(e));
            }
            Ok(())
        }

        /// Invalidates every user key linked in the session keyring whose
        /// name starts with `prefix`; how many.
        pub fn delete_prefixed(&self, prefix: &str) -> usize {
            // linux-keyutils sizes its buffer by this count and trusts the
            // kernel's answer: far more than a session keyring holds.
            const MAX_LINKS: usize = 8192;
            let Ok(links) = self.session.get_links(MAX_LINKS) else {
                return 0;
            };
            links
                .iter()
                .filter_map(|node| node.as_key())
                .filter(|key| {
                    key.metadata().is_ok_and(|m| {
                        m.get_type() == KeyType::User && m.get_description().starts_with(prefix)
                    })
                })
                .filter(|key| key.invalidate().is_ok())
                .count()
        }

        pub fn delete(&self, name: &str) -> bool {
            self.entry(name).delete_credential().is_ok()
        }
    }
}

#[cfg(any(target_os = "macos", target_os = "windows"))]
mod platform {
    use zeroize::Zeroizing;

    #[cfg(target_os = "macos")]
    pub const NAME: &str = "macOS Keychain";
    #[cfg(target_os = "windows")]
    pub const NAME: &str = "Windows Credential Manager";

    /// The service name entries are filed under.
    const SERVICE: &str = "vault";

    pub struct Store;

    impl Store {
        pub fn open() -> Result<Store, String> {
            Ok(Store)
        }

        fn entry(name: &str) -> Option<keyring::Entry> {
            keyring::Entry::new(SERVICE, name).ok()
        }

        pub fn read(&self, name: &str) -> Option<Zeroizing<Vec<u8>>> {
            Self::entry(name)?.get_secret().ok().map(Zeroizing::new)
        }

        /// Stores `blob`; these stores have no timeout of their own, so the
        /// expiry inside the entry is the only one.
        pub fn write(&self, name: &str, blob: &[u8], _ttl_secs: i64) -> Result<(), String> {
            let entry = Self::entry(name).ok_or_else(|| format!("the {NAME} is not reachable"))?;
            entry.set_secret(blob).map_err(|e| {
                self.delete(name);
                format!("the {NAME} refused the key ({e})")
            })
        }

        pub fn delete(&self, name: &str) -> bool {
            Self::entry(name).is_some_and(|e| e.delete_credential().is_ok())
        }

        /// These stores cannot list vault's entries; each expires by the
        /// expiry it carries.
        pub fn delete_prefixed(&self, _: &str) -> usize {
            0
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
mod platform {
    use zeroize::Zeroizing;

    pub const NAME: &str = "OS keyring";

    pub struct Store;

    impl Store {
        pub fn open() -> Result<Store, String> {
            Err("vault knows no keyring on this system".into())
        }

        pub fn read(&self, _: &str) -> Option<Zeroizing<Vec<u8>>> {
            None
        }

        pub fn write(&self, _: &str, _: &[u8], _: i64) -> Result<(), String> {
            Err("vault knows no keyring on this system".into())
        }

        pub fn delete(&self, _: &str) -> bool {
            false
        }

        pub fn delete_prefixed(&self, _: &str) -> usize {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_only_its_own_layout() {
        let mut blob = MAGIC.to_vec();
        blob.extend_from_slice(&1_900_000_000i64.to_be_bytes());
        blob.extend_from_slice(&[7u8; 32]);
        let cached = decode(&blob).expect("a well-formed entry");
        assert_eq!(cached.expires, 1_900_000_000);
        assert_eq!(*cached.key, [7u8; 32]);
        assert!(decode(&blob[..BLOB_LEN - 1]).is_none());
        blob[0] ^= 1;
        assert!(decode(&blob).is_none());
    }

    #[test]
    fn names_differ_by_path_vault_and_identity() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
        let name = |path: &std::path::Path, vault: u8, identity: u8| {
            CacheScope {
                vault_path: path,
                vault_id: &[vault; 16],
                identity_id: &[identity; 16],
            }
            .entry_name()
        };
        let base = name(&a, 1, 1);
        assert_eq!(base, name(&a, 1, 1));
        assert_ne!(base, name(&b, 1, 1));
        assert_ne!(base, name(&a, 2, 1));
        assert_ne!(base, name(&a, 1, 2));
        assert!(base.starts_with("vault-unlock:") && base.len() == 13 + 33 + 32);
        let prefix = |path: &std::path::Path, vault: u8| {
            CacheScope {
                vault_path: path,
                vault_id: &[vault; 16],
                identity_id: &[9; 16],
            }
            .vault_prefix()
        };
        assert!(base.starts_with(&prefix(&a, 1)));
        assert!(name(&a, 1, 2).starts_with(&prefix(&a, 1)));
        assert!(!base.starts_with(&prefix(&b, 1)));
        assert!(!base.starts_with(&prefix(&a, 2)));
    }
}
