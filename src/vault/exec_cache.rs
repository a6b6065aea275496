//! exec's cache of a verified view: the secrets granted to one identity,
//! decrypted, sealed under a key only that identity's unlock yields, kept
//! beside this clone's trust state and valid only while the vault file is
//! the one it was made from.
//!
//! A warm `vault exec` otherwise reads every granted row from SQLite,
//! hashes them all to learn that nothing changed since it last verified
//! them, and opens two ciphertexts per secret; at a thousand secrets that
//! is most of its time. With the cache it compares two `stat` results and
//! opens one ciphertext.
//!
//! The cache is made by an exec that verified the view (every signature,
//! the pin, freshness) from a file that had no `-wal` or journal beside it
//! when opened, and it records that file's `stat` (device, inode, size,
//! modification and change times) and the trust state file's. It is used
//! only when both are the same again: any write to the vault file (a
//! command, git, a script with `sqlite3`) changes its change time, which
//! no unprivileged process can set back, and a file put in its place has
//! a new inode. A file changed less than two seconds before the cache
//! would be made is not cached: a write in the same tick of the file
//! system's clock could leave the same stamp (git calls this "racily
//! clean"). The header (vault id, identity, environment, both stamps, the
//! root pin of the access token in use) is the associated data of the
//! seal, so nothing in it can be edited.
//!
//! What the cache holds is what exec needs after verifying: the identity's
//! audit key (for the run's exec log line), and each granted
//! secret's name, environment, service, expiry, the grant's
//! expiry, and its value (none for a grant already expired). Expiry is
//! checked at every run against the clock, as from the file.
//!
//! `HASH.exec-ID` beside the trust state (`DATA_DIR/vault/trust/`), mode
//! 0600 in a 0700 directory; key `crypto::exec_cache_key`. A cache that
//! is missing, stale or does not open is simply not used.

use zeroize::Zeroizing;

use super::bytes::{Reader, Writer};
use super::{Unlocked, Vault};
use crate::crypto::{self, Aad, Key};
use crate::model::SecretName;
use crate::secret::SecretValue;
use crate::store::GrantRow;

const MAGIC: &[u8] = b"vault exec cache 2\n";

/// One granted secret as the cache keeps it.
pub(super) struct CachedGrant {
    pub name: SecretName,
    pub environment: String,
    pub service: Option<String>,
    pub expires_at: Option<i64>,
    pub grant_expires_at: Option<i64>,
    /// `None` for a grant that had expired when the cache was made.
    pub value: Option<SecretValue>,
}

impl Vault {
    /// The header of this identity's cache for the vault as opened now;
    /// `None` when this run cannot use or make one.
    fn cache_header(&self, me: &Unlocked) -> Option<(std::path::PathBuf, Vec<u8>)> {
        let stamp = self.store.stamp()?;
        let local = self.local.borrow();
        let trust = local.stamp?;
        let environment = self.environment();
        let label = crypto::digest(
            &Aad::new("vault exec cache file v1")
                .with(&me.id)
                .with(environment.as_bytes()),
        );
        let path = local
            .path
            .as_ref()?
            .with_extension(format!("exec-{}", hex::encode(&label[..12])));
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(
            Aad::new("vault exec cache v1")
                .with(&self.id)
                .with(&me.id)
                .with(environment.as_bytes())
                .with(&stamp.to_bytes())
                .with(&trust.to_bytes())
                // The root an access token pins was checked when the view
                // was verified: another pin verifies again.
                .with(local.token_pin.as_ref().map_or(&[][..], |p| &p[..]))
                .as_bytes(),
        );
        Some((path, header))
    }

    /// The granted secrets as this identity's cache holds them, if it was
    /// made from the vault file and trust state as they are now.
    pub(super) fn read_exec_cache(&self, me: &Unlocked) -> Option<Vec<CachedGrant>> {
        let (path, header) = self.cache_header(me)?;
        let bytes = std::fs::read(&path).ok()?;
        let sealed = bytes.strip_prefix(&header[..])?;
        let (key, aad) = self.cache_seal(me, &header);
        let plain = crypto::open(&key, &aad, sealed).ok()?;
        let (audit_key, grants) = decode(&plain)?;
        self.local.borrow_mut().audit_key = audit_key;
        // A cache made before the warm index existed, or whose index is
        // gone: the next run need not connect either.
        if self.warm.is_none() {
            self.write_warm_index();
        }
        Some(grants)
    }

    /// Starts the cache of the view exec just verified, unless the vault
    /// file changed too recently to tell a later change apart.
    pub(super) fn exec_cache_writer(&self, me: &Unlocked) -> Option<CacheWriter> {
        let stamp = self.store.stamp()?;
        if !stamp.settled(crate::time::now()) {
            return None;
        }
        let (path, header) = self.cache_header(me)?;
        let audit_key = self.existing_audit_key(&self.store.read(), me, None).ok()?;
        let mut out = Writer(Zeroizing::new(Vec::new()));
        out.optional(audit_key.as_ref().map(|k| &k.expose()[..]));
        // The run's exec log line needs the key too: no second unwrap.
        self.local.borrow_mut().audit_key = audit_key;
        Some(CacheWriter { path, header, out })
    }

    /// Seals and writes the cache. One that cannot be written is only a
    /// slower next run.
    pub(super) fn finish_exec_cache(&self, me: &Unlocked, cache: CacheWriter) {
        let (key, aad) = self.cache_seal(me, &cache.header);
        let sealed = crypto::seal(&key, &aad, &cache.out.0);
        let mut file = cache.header;
        file.extend_from_slice(&sealed);
        if crate::trust_state::replace(&cache.path, &file).is_ok() {
            self.write_warm_index();
        }
    }

    /// The key and associated data that seal `me`'s cache with `header`.
    fn cache_seal(&self, me: &Unlocked, header: &[u8]) -> (Key, Aad) {
        let key = crypto::exec_cache_key(&me.secret, &self.id);
        (key, Aad::new("vault exec cache").with(header))
    }
}

/// A cache being written: every granted secret goes in, each with its
/// value (none for a grant that has expired).
pub(super) struct CacheWriter {
    path: std::path::PathBuf,
    header: Vec<u8>,
    out: Writer,
}

impl CacheWriter {
    pub fn add(&mut self, row: &GrantRow, value: Option<&SecretValue>) {
        let (name, environment) = (&row.name, &row.environment);
        let dates = (row.expires_at, row.grant_expires_at);
        self.put((name, environment), row.service.as_deref(), dates, value);
    }

    /// Adds a grant exec took from a bundle (`bundles/`).
    pub fn add_cached(&mut self, g: &CachedGrant) {
        let dates = (g.expires_at, g.grant_expires_at);
        let (name, environment) = (g.name.as_str(), &g.environment);
        self.put(
            (name, environment),
            g.service.as_deref(),
            dates,
            g.value.as_ref(),
        );
    }

    fn put(
        &mut self,
        (name, environment): (&str, &str),
        service: Option<&str>,
        (expires_at, grant_expires_at): (Option<i64>, Option<i64>),
        value: Option<&SecretValue>,
    ) {
        let out = &mut self.out;
        out.text(name);
        out.text(environment);
        out.optional(service.map(str::as_bytes));
        out.optional_number(expires_at);
        out.optional_number(grant_expires_at);
        out.optional(value.map(|v| v.expose()));
    }
}

/// The audit key, then the granted secrets.
fn decode(plain: &[u8]) -> Option<(Option<Key>, Vec<CachedGrant>)> {
    let mut r = Reader(plain);
    let audit_key = match r.optional()? {
        None => None,
        Some(bytes) => Some(Key::from_bytes(bytes.try_into().ok()?)),
    };
    let mut out = Vec::new();
    while !r.0.is_empty() {
        out.push(CachedGrant {
            name: SecretName::stored(r.str()?),
            environment: r.text()?,
            service: r.optional_text()?,
            expires_at: r.optional_number()?,
            grant_expires_at: r.optional_number()?,
            value: r
                .optional()?
                .map(|v| SecretValue::new(Zeroizing::new(v.to_vec()))),
        });
    }
    Some((audit_key, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_reads_back_as_written_and_refuses_a_cut() {
        let mut w = Writer(Zeroizing::new(Vec::new()));
        w.optional(Some(&[9; 32]));
        w.text("API_KEY");
        w.text("prod");
        w.optional(Some(b"stripe"));
        w.optional_number(Some(5));
        w.optional_number(None);
        w.optional(Some(b"s3cr\0t"));
        let (key, read) = decode(&w.0).expect("decodes");
        assert_eq!(key.map(|k| *k.expose()), Some([9; 32]));
        assert_eq!(read.len(), 1);
        let g = &read[0];
        assert_eq!(
            (g.name.as_str(), g.environment.as_str()),
            ("API_KEY", "prod")
        );
        assert_eq!(g.service.as_deref(), Some("stripe"));
        assert_eq!((g.expires_at, g.grant_expires_at), (Some(5), None));
        assert_eq!(g.value.as_ref().map(|v| v.expose()), Some(&b"s3cr\0t"[..]));
        // Cut anywhere but between fields (the seal covers those cuts).
        let after_key = 1 + 4 + 32;
        for cut in (1..after_key).chain(after_key + 1..w.0.len()) {
            assert!(decode(&w.0[..cut]).is_none(), "cut at {cut}");
        }
    }
}
