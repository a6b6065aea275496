//! What every sealed field of the vault binds, in one place.
//!
//! | field                    | key            | associated data binds                          |
//! |--------------------------|----------------|------------------------------------------------|
//! | identity `sealed_key`    | unlock key     | vault id, identity id, kind, public key, KDF salt and parameters |
//! | secret `sealed_value`    | data key       | vault id, secret id, name, version, environment |
//! | access `wrapped_key`     | wrapping key   | vault id, secret id, identity id, version, level, grant expiry, writer's public key |
//! | audit key `wrapped_key`  | wrapping key   | vault id, identity id, writer's public key      |
//! | identity `retired_keys`  | the identity's own wrapping key (itself as writer and grantee) | vault id, identity id, current public key |
//! | audit entry `mac`        | audit key (HMAC) | vault id, entry id, previous MAC, sequence number, time, identity, action, names, detail |
//! | exec log line `mac`      | audit key (HMAC) | vault id, entry id, time, identity, action, names, detail |
//!
//! A field moved to another row, a name or level edited by hand, or a row
//! rolled back to an older version therefore fails to open.

use crate::crypto::{self, Aad, IdentitySecret, KdfParams, Key};
use crate::model::IdentityName;
use crate::secret::Passphrase;
use crate::store::{AuditRow, IdentityRow, KdfRow};

pub fn identity_aad(
    vault_id: &[u8; 16],
    identity_id: &[u8; 16],
    kind: &str,
    public_key: &[u8],
    kdf: Option<&KdfRow>,
) -> Aad {
    let mut aad = Aad::new("identity");
    aad.part(vault_id)
        .part(identity_id)
        .part(kind.as_bytes())
        .part(public_key);
    match kdf {
        Some(k) => aad.part(&k.salt).part(&kdf_params(k).encode()),
        None => aad.part(b"token"),
    };
    aad
}

/// A secret's value is bound to its environment too (format 6), so a
/// value moved between environments by hand fails to open. A shared
/// secret (empty environment) binds exactly what format 3 bound: its
/// values open unchanged after the upgrade.
pub fn value_aad(
    vault_id: &[u8; 16],
    secret_id: &[u8; 16],
    name: &str,
    environment: &str,
    version: i64,
) -> Aad {
    let mut aad = Aad::new("value")
        .with(vault_id)
        .with(secret_id)
        .with(name.as_bytes())
        .with(&version.to_be_bytes());
    in_environment(&mut aad, environment);
    aad
}

/// Adds a secret's environment to what a seal or signature binds, after a
/// label part: nothing for a shared secret (the format 3 encoding), so an
/// environment cannot be added or removed without changing the input.
fn in_environment(aad: &mut Aad, environment: &str) {
    if !environment.is_empty() {
        aad.part(b"environment").part(environment.as_bytes());
    }
}

pub struct AccessContext<'a> {
    pub secret_id: &'a [u8; 16],
    pub identity_id: &'a [u8; 16],
    pub version: i64,
    pub level: &'a str,
    pub expires_at: Option<i64>,
    pub writer_public: &'a [u8],
}

pub fn access_aad(vault_id: &[u8; 16], c: &AccessContext<'_>) -> Aad {
    let expires = c
        .expires_at
        .map(|e| e.to_be_bytes().to_vec())
        .unwrap_or_default();
    Aad::new("access")
        .with(vault_id)
        .with(c.secret_id)
        .with(c.identity_id)
        .with(&c.version.to_be_bytes())
        .with(c.level.as_bytes())
        .with(&expires)
        .with(c.writer_public)
}

/// The audit key wrapped for `identity_id` by the writer whose public key
/// is `writer_public`.
pub fn audit_key_aad(vault_id: &[u8; 16], identity_id: &[u8; 16], writer_public: &[u8]) -> Aad {
    Aad::new("audit-key")
        .with(vault_id)
        .with(identity_id)
        .with(writer_public)
}

/// What an audit entry's MAC covers: every column but the MAC itself, each
/// length-prefixed, with a presence byte before the optional ones so that
/// NULL and an empty value differ.
pub fn audit_entry_input(vault_id: &[u8; 16], e: &AuditRow) -> Aad {
    let mut aad = Aad::new("audit-entry");
    aad.part(vault_id).part(&e.id);
    optional(&mut aad, e.prev.as_deref());
    aad.part(&e.seq.to_be_bytes())
        .part(&e.at.to_be_bytes())
        .part(e.identity.as_bytes())
        .part(e.action.as_bytes())
        .part(e.names.as_bytes());
    optional(&mut aad, e.detail.as_deref().map(str::as_bytes));
    aad
}

/// What an exec log line's MAC covers: the entry without its place in the
/// chain (which the fold gives it).
pub fn exec_log_input(vault_id: &[u8; 16], e: &AuditRow) -> Aad {
    let mut aad = Aad::new("exec-log");
    aad.part(vault_id)
        .part(&e.id)
        .part(&e.at.to_be_bytes())
        .part(e.identity.as_bytes())
        .part(e.action.as_bytes())
        .part(e.names.as_bytes());
    optional(&mut aad, e.detail.as_deref().map(str::as_bytes));
    aad
}

/// What a chained exec log line's MAC covers: the entry as above and the
/// MAC of the line before it in the log (none for the first), so that
/// lines swapped, moved or removed from the middle are detected.
pub fn exec_log_chained_input(vault_id: &[u8; 16], e: &AuditRow, prev: Option<&[u8]>) -> Aad {
    let mut aad = exec_log_input(vault_id, e);
    aad.part(b"exec-log-prev");
    optional(&mut aad, prev);
    aad
}

fn optional(aad: &mut Aad, part: Option<&[u8]>) {
    match part {
        Some(bytes) => aad.part(&[1]).part(bytes),
        None => aad.part(&[0]),
    };
}

/// Stored parameters as the KDF reads them; out-of-range integers become
/// values `KdfParams::check` refuses.
pub fn kdf_params(k: &KdfRow) -> KdfParams {
    let clamp = |v: i64| u32::try_from(v).unwrap_or(if v < 0 { 0 } else { u32::MAX });
    KdfParams {
        m_kib: clamp(k.m_kib),
        t: clamp(k.t),
        p: clamp(k.p),
    }
}

/// A new person identity: its secret key sealed under Argon2id(passphrase).
pub fn person_identity(
    vault_id: &[u8; 16],
    name: &IdentityName,
    secret: &IdentitySecret,
    passphrase: &Passphrase,
    params: KdfParams,
    now: i64,
) -> IdentityRow {
    let id = crypto::random_bytes();
    let kdf = new_kdf_row(params);
    let sealed_key = seal_person_key(vault_id, &id, secret, passphrase, &kdf);
    IdentityRow {
        id,
        name: name.to_string(),
        kind: "person".into(),
        public_key: secret.public().to_vec(),
        kdf: Some(kdf),
        sealed_key,
        created_at: now,
        cert: Default::default(),
        retired_keys: Vec::new(),
    }
}

pub fn new_kdf_row(params: KdfParams) -> KdfRow {
    KdfRow {
        salt: crypto::random_bytes::<16>().to_vec(),
        m_kib: params.m_kib.into(),
        t: params.t.into(),
        p: params.p.into(),
    }
}

/// Seals a person's secret key under the key derived from `passphrase`.
pub fn seal_person_key(
    vault_id: &[u8; 16],
    identity_id: &[u8; 16],
    secret: &IdentitySecret,
    passphrase: &Passphrase,
    kdf: &KdfRow,
) -> Vec<u8> {
    let unlock = crypto::derive_unlock_key(passphrase.expose(), &kdf.salt, kdf_params(kdf))
        .expect("parameters for a new passphrase are within the floor and ceiling");
    let aad = identity_aad(vault_id, identity_id, "person", &secret.public(), Some(kdf));
    crypto::seal(&unlock, &aad, secret.expose())
}

/// Seals a machine's secret key under the key derived from its token.
pub fn seal_machine_key(
    vault_id: &[u8; 16],
    identity_id: &[u8; 16],
    secret: &IdentitySecret,
    unlock: &Key,
) -> Vec<u8> {
    let aad = identity_aad(vault_id, identity_id, "machine", &secret.public(), None);
    crypto::seal(unlock, &aad, secret.expose())
}

// --- signed statements (format 3) ---
//
// | row                  | signed by                    | statement binds |
// |----------------------|------------------------------|-----------------|
// | identity certificate | the identity that added it   | vault id, identity id, name, kind, X25519 key, signing key, role, certifier, and for an agent its end |
// | secret row           | a writer of the secret       | vault id, secret id, creator, id nonce, name, version, generation, SHA-256 of the sealed value, environment (when any), SHA-256 of the fingerprint records (when any) |
// | managers list        | the creator or an admin      | vault id, secret id, epoch, the managers' ids |
// | access row           | a writer of the secret       | vault id, secret id, grantee, version, generation, level, expiry, writer's X25519 key, SHA-256 of the wrapped key |
// | audit key row        | its writer                   | vault id, grantee, writer's X25519 key, SHA-256 of the wrapped key |
// | key handover (format 7) | the keys it hands over from | vault id, identity id, handover number, both key sets |

/// What an identity's certificate signs. An agent's adds two parts (a
/// label and its end), so a certificate signed for an agent never verifies
/// once the flag is dropped or its end moved, and the certificates of
/// every other identity read exactly as before agents existed.
///
/// The keys it covers are the identity's first (format 7): an identity
/// that rekeyed proves its later keys by its succession
/// (`succession.rs`), so its certificate reads as its certifier signed it.
pub fn certificate_input(vault_id: &[u8; 16], row: &IdentityRow) -> Aad {
    let first = super::succession::first_keys(row);
    let mut aad = Aad::new("identity-cert")
        .with(vault_id)
        .with(&row.id)
        .with(row.name.as_bytes())
        .with(row.kind.as_bytes())
        .with(first.public)
        .with(first.sign)
        .with(row.cert.role.as_bytes())
        .with(&row.cert.certifier);
    if let Some(until) = row.cert.agent_until {
        aad.part(b"agent").part(&until.to_be_bytes());
    }
    aad
}

/// What a key handover signs: the identity, which handover of its chain
/// it is (1 for the first), and the keys it goes from and to. Signed by
/// the signing key it goes from.
pub fn succession_input(
    vault_id: &[u8; 16],
    identity_id: &[u8; 16],
    n: u64,
    from: &super::succession::Keys<'_>,
    to: &super::succession::Keys<'_>,
) -> Aad {
    Aad::new("key-handover")
        .with(vault_id)
        .with(identity_id)
        .with(&n.to_be_bytes())
        .with(from.public)
        .with(from.sign)
        .with(to.public)
        .with(to.sign)
}

/// What the retired X25519 keys of an identity (format 7) are sealed
/// with: the identity, and the current key they are sealed for.
pub fn retired_keys_aad(vault_id: &[u8; 16], identity_id: &[u8; 16], public_key: &[u8]) -> Aad {
    Aad::new("retired-keys")
        .with(vault_id)
        .with(identity_id)
        .with(public_key)
}

/// The fields of a secret row its signature covers.
pub struct SecretStatement<'a> {
    pub secret_id: &'a [u8; 16],
    pub creator: &'a [u8],
    pub id_nonce: &'a [u8],
    pub name: &'a str,
    /// Empty for a secret shared by all environments.
    pub environment: &'a str,
    pub version: i64,
    pub generation: i64,
    pub sealed_value: &'a [u8],
    /// The leak guard's fingerprint records (format 5); empty until the
    /// secret is fingerprinted.
    pub fingerprints: &'a [u8],
}

/// What a secret row's signature covers. The environment is signed
/// (format 6): whoever can write the file cannot move a dev secret into
/// prod, or back, without a writer's signature. A row with fingerprints
/// also binds their SHA-256, as two more parts (format 5). A shared secret
/// without fingerprints signs exactly what format 3 signed, so rows signed
/// before still verify, and removing the fingerprints of a row that had
/// some changes what its signature covers.
pub fn secret_input(vault_id: &[u8; 16], s: &SecretStatement<'_>, form: Form) -> Aad {
    let mut aad = Aad::new("secret-row")
        .with(vault_id)
        .with(s.secret_id)
        .with(s.creator)
        .with(s.id_nonce)
        .with(s.name.as_bytes())
        .with(&s.version.to_be_bytes())
        .with(&s.generation.to_be_bytes());
    large(&mut aad, form, s.sealed_value);
    in_environment(&mut aad, s.environment);
    if !s.fingerprints.is_empty() {
        aad.part(b"fingerprints");
        large(&mut aad, form, s.fingerprints);
    }
    aad
}

/// The two encodings of a signed input. `Signed`, what a row's own
/// signature covers, binds each large field (a sealed value, a wrapped
/// key, fingerprint records) by its SHA-256. `Listed`, what a statement's
/// BLAKE2b entry is the digest of (`statements.rs`), holds them whole: a
/// reader checking a row against a statement hashes each byte once, with
/// BLAKE2b alone. The fields, their order and their labels are the same.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Form {
    Signed,
    Listed,
}

fn large(aad: &mut Aad, form: Form, bytes: &[u8]) {
    match form {
        Form::Signed => aad.part(&crypto::field_digest(bytes)),
        Form::Listed => aad.part(bytes),
    };
}

pub fn managers_input(vault_id: &[u8; 16], secret_id: &[u8; 16], epoch: i64, ids: &[u8]) -> Aad {
    Aad::new("managers")
        .with(vault_id)
        .with(secret_id)
        .with(&epoch.to_be_bytes())
        .with(ids)
}

/// What an access row's signature covers: everything its wrapped key is
/// bound to, the wrapped key itself, and the secret's generation.
pub fn access_input(
    vault_id: &[u8; 16],
    c: &AccessContext<'_>,
    (generation, wrapped_key): (i64, &[u8]),
    form: Form,
) -> Aad {
    let mut aad = access_aad(vault_id, c);
    aad.part(b"signed").part(&generation.to_be_bytes());
    large(&mut aad, form, wrapped_key);
    aad
}

pub fn audit_key_input(
    vault_id: &[u8; 16],
    identity_id: &[u8; 16],
    (writer_public, wrapped_key): (&[u8], &[u8]),
    form: Form,
) -> Aad {
    let mut aad = audit_key_aad(vault_id, identity_id, writer_public);
    aad.part(b"signed");
    large(&mut aad, form, wrapped_key);
    aad
}

/// A secret's id, bound to its creator: nobody can claim to have created
/// a secret that exists, as that would take a preimage of SHA-256.
pub fn secret_id_for(creator: &[u8], nonce: &[u8]) -> [u8; 16] {
    let digest = crypto::field_digest(Aad::new("secret-id").with(creator).with(nonce).as_bytes());
    digest[..16].try_into().expect("16 of 32 bytes")
}

/// What a statement's signature covers (`statements.rs`): the vault, the
/// statement's random id and its body, the digests it vouches for.
pub fn statement_input(vault_id: &[u8; 16], id: &[u8; 16], body: &[u8]) -> Aad {
    Aad::new("statement").with(vault_id).with(id).with(body)
}
