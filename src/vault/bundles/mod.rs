//! Exec bundles (format 9): for each grantee, what an admin last wrote of
//! the secrets it holds, sealed for that grantee and signed, so that exec
//! on a clone with no trust state yet (a fresh CI checkout) opens one
//! ciphertext instead of verifying and opening every granted row.
//!
//! A bundle is sealed by its writer W for its grantee G with
//! XChaCha20-Poly1305 under `crypto::bundle_key` of their wrapping key
//! (one X25519 between W and G, as every data key W wraps for G), with the
//! vault id, W and G as associated data, and signed by W (Ed25519 over the
//! digest of the sealed bytes): G computes the same key, so only the
//! signature says W made it. Each entry holds, for one secret G holds, the
//! first bytes of the signature of G's access row as W verified or made
//! it, the generation and managers epoch, the name, environment, the
//! grant's expiry, and the value. The service and the secret's expiry are
//! unsigned metadata: exec reads them from the row, bundled or not.
//!
//! Only admins write bundles: an admin is a writer of every secret, so an
//! entry needs no authority of its own beyond its writer's certificate.
//! An admin's every write that signs or deletes secrets renews its
//! bundles: an entry stays while its access row still carries the
//! signature it records and its secret was not touched; any other grant
//! gets an entry from the rows as this write leaves them, checked as any
//! write checks them before it signs (`Vault::require`), for the secrets
//! the admin can open. Others' writes leave bundles alone; their entries
//! then no longer match and exec reads those rows instead.
//!
//! exec takes its grants from bundles only on a clone that has pinned no
//! root yet, and only when every grant G holds in the file now is matched
//! by an entry of a bundle signed by an admin of the verified roster.
//! Anything else sends it to the rows, checked as without bundles. The
//! pin, freshness (generation and epoch against what this clone has seen)
//! and an environment's own secrets are checked as on the rows. What an
//! entry can stand for is what its admin signed: a row edited in the file
//! changes nothing a bundled exec hands on (a clone with state reads the
//! rows and refuses it), and putting back an older bundle with the rows it
//! matches is putting back an older state of those secrets, which
//! freshness refuses where this clone has seen a newer one, as for rows.

mod read;
mod write;

use zeroize::Zeroizing;

use super::bytes::{Reader, Writer};
use crate::crypto::{self, Aad};
use crate::model::SecretName;
use crate::secret::SecretValue;
use crate::store::{BundleGrant, GrantMark, MARK_LEN};

/// One granted secret as a bundle holds it.
pub(super) struct Entry {
    pub(super) mark: GrantMark,
    pub(super) generation: i64,
    pub(super) managers_epoch: i64,
    pub(super) name: SecretName,
    pub(super) environment: String,
    pub(super) service: Option<String>,
    pub(super) expires_at: Option<i64>,
    pub(super) grant_expires_at: Option<i64>,
    pub(super) value: Zeroizing<Vec<u8>>,
}

impl Entry {
    pub(super) fn new(g: BundleGrant, value: &SecretValue) -> Self {
        Entry {
            mark: g.mark,
            generation: g.generation,
            managers_epoch: g.managers_epoch,
            name: SecretName::stored(g.name),
            environment: g.environment,
            service: g.service,
            expires_at: g.expires_at,
            grant_expires_at: g.grant_expires_at,
            value: Zeroizing::new(value.expose().to_vec()),
        }
    }

    pub(super) fn matches(&self, mark: &GrantMark) -> bool {
        self.mark == *mark
    }

    pub(super) fn write(&self, out: &mut Writer) {
        out.raw(&self.mark.secret_id);
        out.raw(&self.mark.access_sig);
        out.number(self.generation);
        out.number(self.managers_epoch);
        out.text(self.name.as_str());
        out.text(&self.environment);
        out.optional(self.service.as_deref().map(str::as_bytes));
        out.optional_number(self.expires_at);
        out.optional_number(self.grant_expires_at);
        out.bytes(&self.value);
    }

    fn read(r: &mut Reader<'_>) -> Option<Self> {
        Some(Entry {
            mark: GrantMark {
                secret_id: r.take(16)?.try_into().ok()?,
                access_sig: r.take(MARK_LEN)?.try_into().ok()?,
            },
            generation: r.number()?,
            managers_epoch: r.number()?,
            name: SecretName::stored(r.str()?),
            environment: r.text()?,
            service: r.optional_text()?,
            expires_at: r.optional_number()?,
            grant_expires_at: r.optional_number()?,
            value: Zeroizing::new(r.bytes()?.to_vec()),
        })
    }
}

/// A bundle's entries from its plaintext; `None` for one that is cut.
pub(super) fn decode(plain: &[u8]) -> Option<Vec<Entry>> {
    let mut r = Reader(plain);
    let mut entries = Vec::new();
    while !r.0.is_empty() {
        entries.push(Entry::read(&mut r)?);
    }
    Some(entries)
}

pub(super) fn bundle_aad(vault_id: &[u8; 16], writer: &[u8; 16], grantee: &[u8; 16]) -> Aad {
    Aad::new("vault exec bundle v1")
        .with(vault_id)
        .with(writer)
        .with(grantee)
}

/// What the writer signs of a bundle: the label `exec-bundle`, the vault
/// id, writer, grantee and the digest of the sealed bytes.
pub(super) fn bundle_input(
    vault_id: &[u8; 16],
    writer: &[u8; 16],
    grantee: &[u8; 16],
    sealed: &[u8],
) -> Aad {
    Aad::new("exec-bundle")
        .with(vault_id)
        .with(writer)
        .with(grantee)
        .with(&crypto::bundle_digest(sealed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_as_written_and_a_cut_bundle_reads_as_none() {
        let entry = |n: u8, expires: Option<i64>| Entry {
            mark: GrantMark {
                secret_id: [n; 16],
                access_sig: [n + 1; MARK_LEN],
            },
            generation: 7,
            managers_epoch: 2,
            name: SecretName::stored(format!("K{n}")),
            environment: "prod".into(),
            service: Some("stripe".into()),
            expires_at: None,
            grant_expires_at: expires,
            value: Zeroizing::new(b"s3cr\0t".to_vec()),
        };
        let mut out = Writer(Zeroizing::new(Vec::new()));
        entry(1, Some(5)).write(&mut out);
        entry(3, None).write(&mut out);
        let read = decode(&out.0).expect("decodes");
        assert_eq!(read.len(), 2);
        for (got, want) in read.iter().zip([entry(1, Some(5)), entry(3, None)]) {
            assert!(got.matches(&want.mark));
            assert_eq!((got.generation, got.managers_epoch), (7, 2));
            assert_eq!(
                (&got.name, &got.environment),
                (&want.name, &want.environment)
            );
            assert_eq!(got.grant_expires_at, want.grant_expires_at);
            assert_eq!(
                (got.service.as_deref(), got.expires_at),
                (Some("stripe"), None)
            );
            assert_eq!(&got.value[..], b"s3cr\0t");
        }
        let first = {
            let mut one = Writer(Zeroizing::new(Vec::new()));
            entry(1, Some(5)).write(&mut one);
            one.0.len()
        };
        for cut in (1..first).chain(first + 1..out.0.len()) {
            assert!(decode(&out.0[..cut]).is_none(), "cut at {cut}");
        }
    }
}
