//! The domain: a vault file with its identities, secrets and grants, and
//! every operation on them. No printing, no prompting, no environment.
//!
//! Depends on `store` (rows and transactions) and `crypto` (sealing,
//! wrapping and MACs); the commands in `cmd` call it with validated values.
//! Every change is recorded in the audit log (`audit.rs`) in the same
//! transaction.

mod access;
mod audit;
mod bundles;
mod bytes;
mod chain;
mod claim;
mod environments;
mod exec_cache;
mod exec_log;
mod exec_view;
mod fingerprint;
mod identities;
mod import;
mod rekey;
mod scan;
mod seal;
mod secrets;
mod sign;
mod statements;
mod succession;
mod trust;
mod unlock;
mod upgrade;
mod warm;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::crypto::{IdentitySecret, KdfParams};
use crate::error::{Error, Result};
use crate::model::{
    AccessInfo, IdentityInfo, IdentityKind, IdentityName, Level, SecretInfo, SecretName,
};
use crate::secret::Passphrase;
use crate::store::{Db, IdentityRow, Reading, SecretRow, Snapshot, Store, VaultRow};

pub use audit::ExecRun;
pub use chain::merge_entry;
pub use identities::NewIdentity;
pub use import::Imported;
pub use rekey::Rekeyed;
pub use scan::{ScanTargets, Wanted};
pub use secrets::{Decrypted, Grants, NewSecret, Rotation, Skipped};
pub use sign::TrustReport;
pub use succession::{extends as keys_extend, handovers};
pub use trust::{pin_of, show_pin};
pub use unlock::{Credential, Identity, Unlocked};

/// An open vault file.
pub struct Vault {
    store: Store,
    id: [u8; 16],
    default_identity: Option<[u8; 16]>,
    local: RefCell<Local>,
    /// The environment commands act in (`environments.rs`).
    environment: RefCell<Option<String>>,
    /// Opened for exec from the warm index (`warm.rs`): the identity rows
    /// it holds.
    warm: Option<Vec<IdentityRow>>,
    /// Where exec's warm index for this clone is kept.
    warm_place: Option<warm::WarmPlace>,
}

/// What this clone keeps of the vault outside the file (`trust_state`):
/// where, what it holds, and the pin an access token carries.
#[derive(Default)]
struct Local {
    path: Option<PathBuf>,
    state: crate::trust_state::TrustState,
    token_pin: Option<[u8; 16]>,
    changed: bool,
    /// The state file's own `stat` as last read or written: exec's cache
    /// (`exec_cache.rs`) is valid only beside the state it was made with.
    stamp: Option<crate::store::Stamp>,
    /// The identity's audit key as exec's cache held it, for the run's
    /// exec log line.
    audit_key: Option<crate::crypto::Key>,
}

impl Vault {
    /// Creates a vault with its first identity, a person who manages it.
    pub fn init(
        path: &Path,
        owner: &IdentityName,
        passphrase: &Passphrase,
        kdf: KdfParams,
    ) -> Result<Vault> {
        let store = Store::create(path)?;
        let id = crate::crypto::random_bytes();
        let now = crate::time::now();
        let secret = IdentitySecret::generate();
        let mut owner_row = seal::person_identity(&id, owner, &secret, passphrase, kdf, now);
        let owner_id = owner_row.id;
        let vault = Self::assemble(store, id, Some(owner_id));
        let me = Unlocked {
            id: owner_id,
            name: owner.to_string(),
            public: secret.public(),
            secret,
            wrap_keys: Default::default(),
            signer: Default::default(),
            agent_until: None,
            retired: Vec::new(),
            pending: Default::default(),
        };
        // The owner is the vault's root: its certificate signs itself.
        owner_row.cert = me.certificate_for(&id, &owner_row, trust::ROLE_ADMIN);
        // The vault row and the owner first, so that the audit key is made
        // and wrapped for the owner in the same transaction as `init`'s
        // entry, the first of the log.
        vault.write_signed(&me, |db| {
            db.insert_vault(&VaultRow {
                id,
                created_at: now,
                default_identity: Some(owner_id),
            })?;
            db.insert_identity(&owner_row)?;
            let roster = vault.roster(db)?;
            let key = vault.audit_key(db, &me, Some(&roster))?;
            vault.append_event(db, &me, &key, audit::Event::new("init", &[]))
        })?;
        vault.save_local_state();
        Ok(vault)
    }

    pub fn open(path: &Path) -> Result<Vault> {
        Self::from_store(Store::open(path)?)
    }

    /// Opens for reading only (shell completion): changes nothing.
    pub fn open_read_only(path: &Path) -> Result<Vault> {
        Self::from_store(Store::open_read_only(path)?)
    }

    fn from_store(store: Store) -> Result<Vault> {
        let row = store.read().vault()?;
        Ok(Self::assemble(store, row.id, row.default_identity))
    }

    fn assemble(store: Store, id: [u8; 16], default_identity: Option<[u8; 16]>) -> Vault {
        Vault {
            store,
            id,
            default_identity,
            local: RefCell::default(),
            environment: RefCell::default(),
            warm: None,
            warm_place: None,
        }
    }

    /// Keeps this clone's trust state under `data_dir` (the pin, the
    /// newest state seen of every secret), and checks the root against the
    /// pin an access token carries. Without it (the merge driver), nothing
    /// is remembered and no pin is checked.
    pub fn use_local_state(&self, data_dir: &Path, token_pin: Option<[u8; 16]>) {
        let path = match &self.warm_place {
            Some(place) => crate::trust_state::path_for_clone(data_dir, &place.clone_key, &self.id),
            None => crate::trust_state::path_for(data_dir, self.path(), &self.id),
        };
        let stamp = crate::store::Stamp::read(&path);
        let state = crate::trust_state::TrustState::load(&path);
        *self.local.borrow_mut() = Local {
            path: Some(path),
            state,
            token_pin,
            changed: false,
            stamp,
            audit_key: None,
        };
    }

    /// Reads this clone's trust state again, dropping what a command that
    /// failed had noted.
    pub(super) fn reload_local_state(&self) {
        let local = &mut *self.local.borrow_mut();
        if let Some(path) = &local.path {
            local.stamp = crate::store::Stamp::read(path);
            local.state = crate::trust_state::TrustState::load(path);
            local.changed = false;
        }
    }

    /// Writes this clone's trust state back if a command changed it. A
    /// state that cannot be written is only remembered less: the next
    /// command verifies again.
    pub(super) fn save_local_state(&self) {
        let local = &mut *self.local.borrow_mut();
        if let (true, Some(path)) = (local.changed, &local.path) {
            if local.state.save(path).is_ok() {
                local.changed = false;
                local.stamp = crate::store::Stamp::read(path);
            }
        }
    }

    pub fn id(&self) -> &[u8; 16] {
        &self.id
    }

    /// Refuses what exec read if the file changed under its reading
    /// (`store::frozen`).
    pub fn confirm_unchanged(&self) -> Result<()> {
        self.store.confirm_unchanged()
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The file's format version.
    pub fn format_version(&self) -> Result<i64> {
        self.store.format_version()
    }

    /// Holds one read transaction until dropped: the reads meanwhile see
    /// one state of the file (see [`Reading`]). No write may start then.
    pub fn reading(&self) -> Result<Reading<'_>> {
        self.store.reading()
    }

    /// Every row of the file as stored: metadata and ciphertext, nothing
    /// unlocked. What `vault git` shows and merges.
    pub fn snapshot(&self) -> Result<Snapshot> {
        self.store.snapshot()
    }

    /// The identity commands act as when none is named: the vault's default.
    pub fn default_identity_name(&self) -> Result<Option<String>> {
        match self.default_identity {
            Some(id) => Ok(self.store.read().identity_by_id(&id)?.map(|i| i.name)),
            None => Ok(None),
        }
    }

    /// Looks up an identity's row by name.
    pub(crate) fn identity_row(&self, db: &Db<'_>, name: &str) -> Result<IdentityRow> {
        db.identity_by_name(name)?
            .ok_or_else(|| Error::NoIdentity(name.to_owned()))
    }

    /// Every secret's metadata with who has access, optionally one service's.
    pub fn list(&self, service: Option<&str>) -> Result<Vec<SecretInfo>> {
        let db = self.store.read();
        let now = crate::time::now();
        let names: HashMap<[u8; 16], String> = db
            .identities()?
            .into_iter()
            .map(|i| (i.id, i.name))
            .collect();
        let mut access: HashMap<[u8; 16], Vec<AccessInfo>> = HashMap::new();
        for row in db.access_metadata()? {
            let Some(name) = names.get(&row.identity_id) else {
                continue;
            };
            access.entry(row.secret_id).or_default().push(AccessInfo {
                identity: IdentityName::stored(name.clone()),
                level: Level::from_stored(&row.level).unwrap_or(Level::Use),
                expires: row.expires_at,
                expired: row.expires_at.is_some_and(|e| e <= now),
            });
        }
        Ok(db
            .secrets_metadata(service)?
            .into_iter()
            .map(|s| {
                let mut granted = access.remove(&s.id).unwrap_or_default();
                granted.sort_by(|a, b| b.level.cmp(&a.level).then(a.identity.cmp(&b.identity)));
                secret_info(s, granted, now)
            })
            .collect())
    }

    /// Every identity with how many secrets it can use.
    pub fn identities(&self) -> Result<Vec<IdentityInfo>> {
        let db = self.store.read();
        let counts: HashMap<[u8; 16], usize> = db.access_counts()?.into_iter().collect();
        Ok(db
            .identities()?
            .into_iter()
            .map(|i| IdentityInfo {
                secrets: counts.get(&i.id).copied().unwrap_or(0),
                default: self.default_identity == Some(i.id),
                role: if i.cert.certifier == i.id {
                    "root".into()
                } else if i.cert.role.is_empty() {
                    "unsigned".into()
                } else {
                    i.cert.role.clone()
                },
                key: show_pin(&pin_of(&i.public_key)),
                signing_key: (!i.cert.sign_public.is_empty())
                    .then(|| show_pin(&pin_of(&i.cert.sign_public))),
                kind: kind_of(&i),
                expires: i.cert.agent_until,
                name: IdentityName::stored(i.name),
                created: i.created_at,
            })
            .collect())
    }

    /// One kind of name, with a note to show beside it (a secret's
    /// service): the plaintext metadata shell completion reads. One query,
    /// no unlocking.
    pub fn completion_names(&self, kind: NameKind) -> Result<Vec<(String, Option<String>)>> {
        let db = self.store.read();
        match kind {
            NameKind::Secret => db.secret_names(),
            NameKind::Identity => Ok(without_notes(db.identity_names()?)),
            NameKind::Service => Ok(without_notes(db.service_names()?)),
            NameKind::Environment => Ok(without_notes(db.environment_names()?)),
        }
    }

    /// The secret `name` means in the chosen environment exists (its own
    /// or the shared one), or the error saying where it is.
    pub fn resolve_secret(&self, name: &SecretName) -> Result<()> {
        self.secret_row(&self.store.read(), name).map(|_| ())
    }

    /// `name` has a secret in exactly the chosen environment, or the
    /// error saying where it is.
    pub fn exact_secret(&self, name: &SecretName) -> Result<()> {
        self.secret_row_exact(&self.store.read(), name).map(|_| ())
    }

    /// Whether `name` has a secret in exactly the chosen environment.
    pub fn secret_exists(&self, name: &SecretName) -> Result<bool> {
        self.name_taken(&self.store.read(), name.as_str())
    }

    /// Refuses a vault with no secrets, before anything is unlocked: a
    /// scan would look for nothing.
    pub fn require_secrets(&self) -> Result<()> {
        if self.store.read().secret_names()?.is_empty() {
            return Err(Error::NothingToScanFor(self.store.path().to_owned()));
        }
        Ok(())
    }
}

/// The kinds of names shell completion offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Secret,
    Identity,
    Service,
    Environment,
}

fn without_notes(names: Vec<String>) -> Vec<(String, Option<String>)> {
    names.into_iter().map(|n| (n, None)).collect()
}

fn kind_of(row: &IdentityRow) -> IdentityKind {
    if row.kind == "machine" && row.cert.agent_until.is_some() {
        IdentityKind::Agent
    } else if row.kind == "machine" {
        IdentityKind::Machine
    } else {
        IdentityKind::Person
    }
}

fn secret_info(s: SecretRow, access: Vec<AccessInfo>, now: i64) -> SecretInfo {
    let rotation_due = s.rotate_every.and_then(|p| s.rotated_at.checked_add(p));
    SecretInfo {
        expired: s.expires_at.is_some_and(|e| e <= now),
        name: SecretName::stored(s.name),
        environment: (!s.environment.is_empty()).then_some(s.environment),
        service: s.service,
        description: s.description,
        version: s.version,
        created: s.created_at,
        rotated: s.rotated_at,
        expires: s.expires_at,
        needs_rotation: s.needs_rotation,
        rotate_every: s.rotate_every,
        rotation_due,
        rotation_overdue: rotation_due.is_some_and(|d| d < now),
        access,
    }
}
