//! Opening a vault for exec without SQLite, when this clone has already
//! verified the file as it is.
//!
//! Beside its cache of a verified view (`exec_cache.rs`), exec keeps what
//! opening the vault needs before any view: the vault id, its default
//! identity and its identities' public rows (names, kinds, public keys,
//! sealed keys, certificates), with the `stat` of the file they were read
//! from (see `store::Stamp`). When the file's `stat` is that one, the
//! rows are the file's rows, and a warm exec takes them from here: it
//! never connects to the database (no `-wal` or `-shm` created and
//! removed, no lock, no schema parsed), and the cache gives it the rest.
//! Anything else it may need (a secret it is not granted, the audit key
//! of a vault that has none yet, folding a long exec log) connects then,
//! as any command does.
//!
//! Nothing here is secret (a sealed key is as sealed as in the file), and
//! nothing is trusted beyond the file: every row was read, in the same
//! read transaction, by an exec that verified the view, and is used only
//! while the file is unchanged; a digest at its end keeps a damaged copy
//! from being taken for them. `DATA_DIR/vault/trust/HASH.warm`, named
//! by the clone (`trust_state::warm_path`), mode 0600 in a 0700 directory.

use std::path::{Path, PathBuf};

use super::bytes::{Reader, Writer};
use super::Vault;
use crate::store::{Certificate, IdentityRow, KdfRow, Stamp, Store};

const MAGIC: &[u8] = b"vault warm open 3\n";

/// The digest that ends the index, over everything before it: a file cut
/// short or damaged on disk is not taken for the vault's rows.
fn seal_digest(body: &[u8]) -> [u8; 32] {
    crate::crypto::digest(&crate::crypto::Aad::new("vault warm open").with(body))
}

/// Where a vault opened for exec keeps its warm index.
pub(super) struct WarmPlace {
    /// The clone's name (`trust_state::clone_key`), computed once.
    pub clone_key: Vec<u8>,
    pub path: PathBuf,
}

impl Vault {
    /// Opens the vault at `path` for exec: without connecting to it when
    /// this clone's warm index was made from the file as it is now.
    pub fn open_for_exec(path: &Path, data_dir: Option<&Path>) -> crate::error::Result<Vault> {
        let store = Store::deferred(path)?;
        store.prefer_frozen();
        let Some(data_dir) = data_dir else {
            return Self::from_store(store);
        };
        let clone_key = crate::trust_state::clone_key(path);
        let place = WarmPlace {
            path: crate::trust_state::warm_path(data_dir, &clone_key),
            clone_key,
        };
        let index = store.stamp().and_then(|stamp| {
            let bytes = std::fs::read(&place.path).ok()?;
            let (body, digest) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
            if seal_digest(body) != digest {
                return None;
            }
            decode(body.strip_prefix(MAGIC)?, stamp)
        });
        let mut vault = match index {
            Some(index) => {
                if index.read_only {
                    store.assume_read_only();
                }
                let mut vault = Self::assemble(store, index.vault_id, index.default_identity);
                vault.warm = Some(index.identities);
                vault
            }
            None => Self::from_store(store)?,
        };
        vault.warm_place = Some(place);
        Ok(vault)
    }

    /// The identity row named `name` or with id `id`, as the warm index
    /// holds it; `None` sends the caller to the file.
    pub(super) fn warm_identity(
        &self,
        name: Option<&str>,
        id: Option<&[u8; 16]>,
    ) -> Option<IdentityRow> {
        self.warm
            .as_ref()?
            .iter()
            .find(|r| name.is_none_or(|n| r.name == n) && id.is_none_or(|i| r.id == *i))
            .cloned()
    }

    /// Writes the warm index beside a cache exec just made: the rows read
    /// in the same transaction, and the file's `stat` from before it.
    pub(super) fn write_warm_index(&self) {
        let (Some(place), Some(stamp)) = (&self.warm_place, self.store.stamp()) else {
            return;
        };
        let Ok(identities) = self.store.read().identities() else {
            return;
        };
        let mut out = Writer(Default::default());
        out.0.extend_from_slice(MAGIC);
        out.bytes(&stamp.to_bytes());
        out.0.push(u8::from(self.store.is_read_only()));
        out.bytes(&self.id);
        out.optional(self.default_identity.as_ref().map(|d| &d[..]));
        for row in &identities {
            encode_identity(&mut out, row);
        }
        let digest = seal_digest(&out.0);
        out.0.extend_from_slice(&digest);
        let _ = crate::trust_state::replace(&place.path, &out.0);
    }
}

struct Index {
    read_only: bool,
    vault_id: [u8; 16],
    default_identity: Option<[u8; 16]>,
    identities: Vec<IdentityRow>,
}

fn encode_identity(out: &mut Writer, row: &IdentityRow) {
    out.bytes(&row.id);
    out.text(&row.name);
    out.text(&row.kind);
    out.bytes(&row.public_key);
    out.0.push(u8::from(row.kdf.is_some()));
    if let Some(kdf) = &row.kdf {
        out.bytes(&kdf.salt);
        out.number(kdf.m_kib);
        out.number(kdf.t);
        out.number(kdf.p);
    }
    out.bytes(&row.sealed_key);
    out.bytes(&row.retired_keys);
    out.number(row.created_at);
    let cert = &row.cert;
    out.bytes(&cert.sign_public);
    out.text(&cert.role);
    out.bytes(&cert.certifier);
    out.bytes(&cert.sig);
    out.bytes(&cert.claim);
    out.optional_number(cert.agent_until);
    out.bytes(&cert.succession);
}

/// The index, if it was made from the file whose `stat` is `stamp`.
fn decode(bytes: &[u8], stamp: Stamp) -> Option<Index> {
    let mut r = Reader(bytes);
    if r.bytes()? != stamp.to_bytes() {
        return None;
    }
    let read_only = r.take(1)?[0] == 1;
    let vault_id = r.bytes()?.try_into().ok()?;
    let default_identity = match r.optional()? {
        Some(id) => Some(id.try_into().ok()?),
        None => None,
    };
    let mut identities = Vec::new();
    while !r.0.is_empty() {
        identities.push(decode_identity(&mut r)?);
    }
    Some(Index {
        read_only,
        vault_id,
        default_identity,
        identities,
    })
}

fn decode_identity(r: &mut Reader<'_>) -> Option<IdentityRow> {
    let id = r.bytes()?.try_into().ok()?;
    let name = r.text()?;
    let kind = r.text()?;
    let public_key = r.bytes()?.to_vec();
    let kdf = match r.take(1)?[0] {
        0 => None,
        _ => Some(KdfRow {
            salt: r.bytes()?.to_vec(),
            m_kib: r.number()?,
            t: r.number()?,
            p: r.number()?,
        }),
    };
    Some(IdentityRow {
        id,
        name,
        kind,
        public_key,
        kdf,
        sealed_key: r.bytes()?.to_vec(),
        retired_keys: r.bytes()?.to_vec(),
        created_at: r.number()?,
        cert: Certificate {
            sign_public: r.bytes()?.to_vec(),
            role: r.text()?,
            certifier: r.bytes()?.to_vec(),
            sig: r.bytes()?.to_vec(),
            claim: r.bytes()?.to_vec(),
            agent_until: r.optional_number()?,
            succession: r.bytes()?.to_vec(),
        },
    })
}
