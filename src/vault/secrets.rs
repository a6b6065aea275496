//! Secrets: add, rotate, rename, delete, and decrypting for `exec`.
//!
//! A secret's value is sealed under its own random data key; the data key is
//! wrapped for every identity with access. Adding makes the adder its
//! manager; rotating makes a new data key, bumps the version and re-wraps it
//! for every current grantee with the same level and expiry.

use super::access::{Grantee, Wrapped};
use super::fingerprint;
use super::seal::{secret_id_for, value_aad};
use super::trust::Roster;
use super::{Unlocked, Vault};
use crate::crypto::{self, Key};
use crate::error::{Error, Result};
use crate::model::{CatalogEntry, Level, SecretName};
use crate::secret::SecretValue;
use crate::store::{AccessRow, Authority, Db, GrantRow, SecretRow};

/// A secret to add.
pub struct NewSecret {
    pub name: SecretName,
    pub value: SecretValue,
    pub service: Option<String>,
    pub description: Option<String>,
    pub expires_at: Option<i64>,
    /// How often it should be rotated, in seconds (`--rotate-every`).
    pub rotate_every: Option<i64>,
}

/// A new value for an existing secret.
pub struct Rotation {
    pub value: SecretValue,
    /// A new expiry; `None` keeps the old one while it is still ahead.
    pub expires_at: Option<i64>,
    /// A new rotation period in seconds; `None` keeps the old one.
    pub rotate_every: Option<i64>,
}

/// A secret decrypted for `exec`.
pub struct Decrypted {
    pub name: SecretName,
    pub value: SecretValue,
    pub expires_at: Option<i64>,
}

/// The secrets granted to one identity, as stored; see [`Vault::grants`].
pub struct Grants {
    identity: [u8; 16],
    rows: GrantSource,
}

/// Where the granted secrets come from: the vault file, still to be
/// verified and opened, or this identity's cache of a view it verified
/// from this very file (`exec_cache.rs`).
enum GrantSource {
    Stored(Vec<GrantRow>),
    Cached(Vec<super::exec_cache::CachedGrant>),
}

impl Grants {
    /// The granted secrets' names and services.
    pub fn catalog(&self) -> Vec<CatalogEntry> {
        let entry = |name: SecretName, environment: &str, service: &Option<String>| CatalogEntry {
            name,
            environment: (!environment.is_empty()).then(|| environment.to_owned()),
            service: service.clone(),
            granted: true,
        };
        match &self.rows {
            GrantSource::Stored(rows) => rows
                .iter()
                .map(|r| entry(SecretName::stored(&r.name), &r.environment, &r.service))
                .collect(),
            GrantSource::Cached(rows) => rows
                .iter()
                .map(|r| entry(r.name.clone(), &r.environment, &r.service))
                .collect(),
        }
    }
}

/// A secret the identity was granted but whose grant has expired.
pub struct Skipped {
    pub name: SecretName,
}

impl Vault {
    fn seal_value(&self, secret: &SecretRow, key: &Key, value: &[u8]) -> Vec<u8> {
        let aad = value_aad(
            &self.id,
            &secret.id,
            &secret.name,
            &secret.environment,
            secret.version,
        );
        crypto::seal(key, &aad, value)
    }

    /// Opens the value sealed for version `version` of the secret `id`,
    /// named `name` in `environment`.
    pub(super) fn open_value(
        &self,
        id: &[u8; 16],
        (name, environment): (&str, &str),
        version: i64,
        sealed: &[u8],
        key: &Key,
    ) -> Result<SecretValue> {
        let aad = value_aad(&self.id, id, name, environment, version);
        crypto::open(key, &aad, sealed)
            .map(SecretValue::new)
            .map_err(|_| {
                Error::Integrity(format!("secret {}", crate::model::label(name, environment)))
            })
    }

    /// Opens the current value of the secret `row` (as [`Vault::seal_value`]
    /// sealed it).
    pub(super) fn open_secret(&self, row: &SecretRow, key: &Key) -> Result<SecretValue> {
        self.open_value(
            &row.id,
            (&row.name, &row.environment),
            row.version,
            &row.sealed_value,
            key,
        )
    }

    /// Stores a new secret, managed by `me`.
    pub fn add(&self, me: &Unlocked, new: NewSecret) -> Result<()> {
        self.add_many(me, vec![new])
    }

    /// Stores new secrets in one transaction, all managed by `me`: all are
    /// added, or none when a name is taken.
    pub fn add_many(&self, me: &Unlocked, secrets: Vec<NewSecret>) -> Result<()> {
        let now = crate::time::now();
        // Seal and wrap before taking the write lock, so it is held briefly.
        let rows = secrets
            .into_iter()
            .map(|new| self.seal_new(me, new, now))
            .collect::<Result<Vec<_>>>()?;
        let names: Vec<SecretName> = rows
            .iter()
            .map(|(row, _, _)| SecretName::stored(row.name.clone()))
            .collect();
        self.audited(me, self.event("add", &names), |db, audit_key, roster| {
            rows.into_iter()
                .try_for_each(|row| self.insert_new(db, roster, me, audit_key, row))
        })
    }

    /// A new secret's row, its value sealed under a fresh data key, and
    /// `me`'s manage access to it: everything `insert_new` writes. The
    /// value stays for `insert_new` to fingerprint (the scan key comes
    /// with the audit key, inside the write), which then signs the row.
    pub(super) fn seal_new(
        &self,
        me: &Unlocked,
        new: NewSecret,
        now: i64,
    ) -> Result<(SecretRow, AccessRow, SecretValue)> {
        let owner = Grantee {
            id: me.id,
            public: me.public,
            agent: false,
        };
        let key = Key::random();
        // The id is bound to its creator, so that nobody can later claim
        // to have created this secret.
        let nonce: [u8; 16] = crypto::random_bytes();
        let mut row = SecretRow {
            id: secret_id_for(&me.id, &nonce),
            name: new.name.to_string(),
            service: new.service,
            description: new.description,
            version: 1,
            created_at: now,
            rotated_at: now,
            expires_at: new.expires_at,
            needs_rotation: false,
            rotate_every: new.rotate_every,
            sealed_value: Vec::new(),
            authority: Authority {
                creator: me.id.to_vec(),
                id_nonce: nonce.to_vec(),
                generation: 1,
                ..Authority::default()
            },
            signed: Default::default(),
            fingerprints: Vec::new(),
            environment: self.environment(),
        };
        row.sealed_value = self.seal_value(&row, &key, new.value.expose());
        let mut access = self.wrap_for(me, &owner, &row, Level::Manage, None, &key)?;
        self.sign_access(me, &row, &mut access);
        Ok((row, access, new.value))
    }

    /// Writes a secret made by `seal_new`, inside the caller's transaction,
    /// with its value's fingerprint, signed; refused if its name is taken.
    pub(super) fn insert_new(
        &self,
        db: &Db<'_>,
        roster: &Roster,
        me: &Unlocked,
        audit_key: &Key,
        (mut row, access, value): (SecretRow, AccessRow, SecretValue),
    ) -> Result<()> {
        if roster.members.get(&me.id).is_none_or(|m| m.sign.is_empty()) {
            return Err(Error::RoleRefused {
                identity: me.name.clone(),
                action: "add secrets",
                why: format!("{} has no certified signing key", me.name),
            });
        }
        if db.secret_name_taken(&row.name, &row.environment)? {
            return Err(Error::SecretExists(super::sign::label_of(&row)));
        }
        let fp = fingerprint::fingerprinter(&self.id, audit_key);
        fingerprint::stamp(&mut row, &fp, value.expose());
        self.sign_secret(me, &mut row);
        db.insert_secret(&row)?;
        db.put_access(&access)?;
        self.remember(&row);
        Ok(())
    }

    /// Replaces a secret's value under a new data key and re-wraps it for
    /// every current grantee; see [`Vault::rotate_in`]. Returns the new
    /// version.
    pub fn rotate(&self, me: &Unlocked, name: &SecretName, rotation: Rotation) -> Result<i64> {
        let event = self.event("rotate", std::slice::from_ref(name));
        self.audited(me, event, |db, audit_key, roster| {
            self.rotate_in(db, roster, me, audit_key, name, rotation)
        })
    }

    /// Rotates inside the caller's transaction (`rotate` alone, or many in
    /// `import`). A new expiry replaces the old one; without one the old
    /// expiry stays if it is still ahead, and is dropped if it has passed
    /// (the old value expired, not the new one). The rotation period stays
    /// unless a new one is given. The new value's fingerprint joins those
    /// of the earlier versions.
    pub(super) fn rotate_in(
        &self,
        db: &Db<'_>,
        roster: &Roster,
        me: &Unlocked,
        audit_key: &Key,
        name: &SecretName,
        rotation: Rotation,
    ) -> Result<i64> {
        let mut row = self.secret_row(db, name)?;
        self.require(db, roster, me, &row, Level::Manage, "rotate")?;
        let grants = db.access_for_secret(&row.id)?;
        let key = Key::random();
        row.version += 1;
        row.rotated_at = crate::time::now();
        row.expires_at = rotation
            .expires_at
            .or(row.expires_at.filter(|e| *e > row.rotated_at));
        row.rotate_every = rotation.rotate_every.or(row.rotate_every);
        row.needs_rotation = false;
        row.sealed_value = self.seal_value(&row, &key, rotation.value.expose());
        let fp = fingerprint::fingerprinter(&self.id, audit_key);
        fingerprint::stamp(&mut row, &fp, rotation.value.expose());
        db.update_secret(&row)?;
        for grant in grants {
            let grantee = self.grantee_by_id(db, &grant.identity_id)?;
            let level = Level::from_stored(&grant.level).unwrap_or(Level::Use);
            let access = self.wrap_for(me, &grantee, &row, level, grant.expires_at, &key)?;
            db.put_access(&access)?;
        }
        self.commit_secret(db, me, &mut row)?;
        Ok(row.version)
    }

    fn grantee_by_id(&self, db: &Db<'_>, id: &[u8; 16]) -> Result<Grantee> {
        let row = db
            .identity_by_id(id)?
            .ok_or_else(|| Error::Database("an access row names a missing identity".into()))?;
        self.grantee(db, &row.name)
    }

    /// Renames a secret, keeping its value, version, dates and access. The
    /// value is re-sealed because its associated data binds the name.
    pub fn rename(&self, me: &Unlocked, old: &SecretName, new: &SecretName) -> Result<()> {
        let event = self.event("rename", &[old.clone(), new.clone()]);
        self.audited(me, event, |db, _, roster| {
            let mut row = self.secret_row(db, old)?;
            let (key, _) = self.require(db, roster, me, &row, Level::Manage, "rename")?;
            if db.secret_name_taken(new.as_str(), &row.environment)? {
                return Err(Error::RenameTaken(crate::model::label(
                    new.as_str(),
                    &row.environment,
                )));
            }
            let value = self.open_secret(&row, &key)?;
            row.name = new.to_string();
            row.sealed_value = self.seal_value(&row, &key, value.expose());
            self.rewrap_rekeyed(db, me, &row, &key)?;
            self.commit_secret(db, me, &mut row)
        })
    }

    /// Deletes secrets and every access to them. All or nothing.
    pub fn delete(&self, me: &Unlocked, names: &[SecretName]) -> Result<()> {
        self.audited(me, self.event("delete", names), |db, _, roster| {
            for name in names {
                let row = self.secret_row_exact(db, name)?;
                self.require(db, roster, me, &row, Level::Manage, "delete")?;
                db.delete_secret(&row.id)?;
                me.pending.touch(row.id);
                self.forget(&row.id);
            }
            Ok(())
        })
    }

    /// Every secret's name and service, and whether `me` was granted it.
    /// Metadata only, one query, no ciphertext read.
    pub fn catalog(&self, me: &Unlocked) -> Result<Vec<CatalogEntry>> {
        let rows = self.store.read().secret_catalog(&me.id)?;
        let rows =
            super::environments::choose(rows, &self.environment(), |r| (&r.name, &r.environment));
        Ok(rows
            .into_iter()
            .map(|r| CatalogEntry {
                name: SecretName::stored(r.name),
                environment: (!r.environment.is_empty()).then_some(r.environment),
                service: r.service,
                granted: r.granted,
            })
            .collect())
    }

    /// The secrets granted to `me` as stored: names, services, sealed
    /// values and `me`'s wrapped keys, nothing opened yet. One query: exec
    /// selects from these and opens what it selected.
    pub fn grants(&self, me: &Unlocked) -> Result<Grants> {
        let rows = match self.read_exec_cache(me) {
            Some(cached) => GrantSource::Cached(cached),
            None => match self.bundled_grants(me)? {
                Some(bundled) => GrantSource::Cached(bundled),
                None => {
                    let mut rows = self.in_environment(self.store.read().granted_secrets(&me.id)?);
                    // In name order, paid here once: the exec cache made from
                    // them keeps it, and every warm run then builds the child's
                    // environment (a map by name) from a sorted list.
                    rows.sort_unstable_by(|a, b| a.name.cmp(&b.name));
                    GrantSource::Stored(rows)
                }
            },
        };
        Ok(Grants {
            identity: me.id,
            rows,
        })
    }

    /// Opens the value of a secret granted to `me`.
    pub(super) fn open_granted(
        &self,
        keys: &mut super::access::WrapKeys,
        me: &Unlocked,
        row: &GrantRow,
    ) -> Result<SecretValue> {
        let key = self.unwrap_data_key(keys, me, &Wrapped::granted(row))?;
        self.open_value(
            &row.secret_id,
            (&row.name, &row.environment),
            row.version,
            &row.sealed_value,
            &key,
        )
    }

    /// Decrypts the secrets named in `wanted` from `grants` (read by
    /// [`Vault::grants`] for the same `me`): each must exist and be granted
    /// to `me`. A grant that has expired is skipped, not an error (the
    /// caller decides).
    pub fn decrypt(
        &self,
        me: &Unlocked,
        grants: Grants,
        wanted: &[SecretName],
    ) -> Result<(Vec<Decrypted>, Vec<Skipped>)> {
        debug_assert_eq!(grants.identity, me.id, "grants read for another identity");
        let now = crate::time::now();
        // The names, sorted (exec's are already: sorting them is one pass),
        // looked up by binary search, each marked once seen: at a thousand
        // secrets, hashing them cost a tenth of a warm exec.
        let mut wanted_names: Vec<&str> = wanted.iter().map(|n| n.as_str()).collect();
        wanted_names.sort_unstable();
        wanted_names.dedup();
        let find = |name: &str| wanted_names.binary_search(&name).ok();
        let mut seen = vec![false; wanted_names.len()];
        let picked = match grants.rows {
            GrantSource::Stored(rows) => self.open_stored(me, &rows, |n| find(n).is_some(), now)?,
            GrantSource::Cached(rows) => rows
                .into_iter()
                .filter(|r| find(r.name.as_str()).is_some())
                .map(|r| {
                    let live = r.grant_expires_at.is_none_or(|e| e > now);
                    (r.name, r.value.filter(|_| live), r.expires_at)
                })
                .collect(),
        };
        // Sized once: a Vec of a thousand grown by doubling was copied
        // nine times over.
        let mut opened = Vec::with_capacity(picked.len());
        let mut skipped = Vec::new();
        for (name, value, expires_at) in picked {
            if let Some(at) = find(name.as_str()) {
                seen[at] = true;
            }
            match value {
                Some(value) => opened.push(Decrypted {
                    name,
                    value,
                    expires_at,
                }),
                None => skipped.push(Skipped { name }),
            }
        }
        let unseen = |n: &&SecretName| find(n.as_str()).is_some_and(|at| !seen[at]);
        if let Some(name) = wanted.iter().find(unseen) {
            let db = self.store.read();
            return Err(match self.secret_row(&db, name) {
                Ok(row) => Error::NotPermitted {
                    identity: me.name.clone(),
                    action: "use",
                    secret: super::sign::label_of(&row),
                    have: "no",
                },
                Err(e) => e,
            });
        }
        Ok((opened, skipped))
    }

    /// Verifies the stored view and opens the rows `wanted` names, each as
    /// (name, value, expiry), with no value for a grant that has expired.
    /// The view is cached whole along the way (`exec_cache.rs`), for the
    /// next run to read one file instead of these rows.
    fn open_stored(
        &self,
        me: &Unlocked,
        rows: &[GrantRow],
        wanted: impl Fn(&str) -> bool,
        now: i64,
    ) -> Result<Vec<Picked>> {
        self.check_exec_view(me, rows)?;
        let mut cache = self.exec_cache_writer(me);
        let mut keys = me.wrap_keys.borrow_mut();
        let mut picked = Vec::with_capacity(rows.len());
        for row in rows {
            let wanted = wanted(&row.name);
            if !wanted && cache.is_none() {
                continue;
            }
            let value = match row.grant_expires_at.is_some_and(|e| e <= now) {
                true => None,
                false => match self.open_granted(&mut keys, me, row) {
                    Ok(value) => Some(value),
                    Err(e) if wanted => return Err(e),
                    // Not asked for: exec reports it from the file when it
                    // is, so nothing is cached.
                    Err(_) => {
                        cache = None;
                        continue;
                    }
                },
            };
            if let Some(cache) = cache.as_mut() {
                cache.add(row, value.as_ref());
            }
            if wanted {
                picked.push((SecretName::stored(&row.name), value, row.expires_at));
            }
        }
        drop(keys);
        if let Some(cache) = cache {
            self.finish_exec_cache(me, cache);
        }
        Ok(picked)
    }
}

/// A granted secret decrypt picked: its name, its value (none when the
/// grant has expired) and its own expiry.
type Picked = (SecretName, Option<SecretValue>, Option<i64>);
