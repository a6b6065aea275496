//! Key succession: how an identity that changed its keys (`vault passwd
//! --rekey`) proves that its new keys are its own, without anyone
//! certifying it again.
//!
//! An identity's certificate is signed by the admin that added it (by the
//! root itself, for the root) over its *first* keys. Each rekey appends
//! one handover, signed by the keys it leaves: "identity I, handover N,
//! from these keys to those", as TUF's root rotation and Keybase's
//! sigchain do. The row's `public_key` and `sign_public` are always the
//! current keys, so every other reader uses them as before. A handover
//! carries keys only: the identity's name, kind, role, certifier and
//! agent end exist once in the row and are covered by the certificate, so
//! a rekey cannot raise a role or change who it is.
//!
//! Layout of `identities.succession`: one record per handover, oldest
//! first, each the X25519 key (32 bytes) and signing key (32) it hands
//! over from, then the signature (64) by that signing key over
//! `seal::succession_input`. Empty for an identity that never rekeyed.
//!
//! Whoever holds an old passphrase can sign a handover from the old keys
//! too (a fork): this clone's memory of the keys it last saw
//! (`trust.rs`, `check_keys`) is what refuses it.

use super::seal::succession_input;
use crate::crypto::{self, Signer25519, SIGNATURE_LEN};
use crate::store::IdentityRow;

const KEY_LEN: usize = 32;
const RECORD_LEN: usize = 2 * KEY_LEN + SIGNATURE_LEN;

/// One set of keys an identity held: what it receives and signs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Keys<'a> {
    pub public: &'a [u8],
    pub sign: &'a [u8],
}

/// How many times `row` changed its keys (0 also for a damaged chain,
/// which `verify` refuses).
pub fn handovers(row: &IdentityRow) -> usize {
    row.cert.succession.len() / RECORD_LEN
}

/// The keys the certificate covers: the first of the chain.
pub(super) fn first_keys(row: &IdentityRow) -> Keys<'_> {
    match row.cert.succession.get(..2 * KEY_LEN) {
        Some(first) => Keys {
            public: &first[..KEY_LEN],
            sign: &first[KEY_LEN..],
        },
        None => current(row),
    }
}

fn current(row: &IdentityRow) -> Keys<'_> {
    Keys {
        public: &row.public_key,
        sign: &row.cert.sign_public,
    }
}

/// Every key set of `row`, oldest first, each handover checked against
/// the signing key it leaves; `None` if any does not verify (or the
/// column is not whole records).
pub(super) fn verify<'a>(vault_id: &[u8; 16], row: &'a IdentityRow) -> Option<Vec<Keys<'a>>> {
    let blob = &row.cert.succession;
    if !blob.len().is_multiple_of(RECORD_LEN) {
        return None;
    }
    let mut chain: Vec<Keys<'a>> = blob
        .chunks(RECORD_LEN)
        .map(|r| Keys {
            public: &r[..KEY_LEN],
            sign: &r[KEY_LEN..2 * KEY_LEN],
        })
        .collect();
    chain.push(current(row));
    for (n, record) in blob.chunks(RECORD_LEN).enumerate() {
        let (from, to) = (&chain[n], &chain[n + 1]);
        let input = succession_input(vault_id, &row.id, n as u64 + 1, from, to);
        crypto::verify_signature(from.sign, &input, &record[2 * KEY_LEN..]).ok()?;
    }
    Some(chain)
}

/// Hands `row` over from its current keys to `to`, signed by `from` (the
/// signing key of its current keys): the succession gains one record and
/// the row's keys become `to`'s.
pub(super) fn hand_over(
    vault_id: &[u8; 16],
    row: &mut IdentityRow,
    from: &Signer25519,
    to: Keys<'_>,
) {
    let n = handovers(row) as u64 + 1;
    let sig = from.sign(&succession_input(vault_id, &row.id, n, &current(row), &to));
    let mut record = row.public_key.clone();
    record.extend_from_slice(&row.cert.sign_public);
    record.extend_from_slice(&sig);
    row.cert.succession.extend_from_slice(&record);
    row.public_key = to.public.to_vec();
    row.cert.sign_public = to.sign.to_vec();
}

/// Whether `later` is `earlier` with handovers that verify appended: the
/// same identity, whose chain of keys goes on from where `earlier`'s
/// ended. The merge driver takes a one-sided rekey only then.
pub fn extends(vault_id: &[u8; 16], earlier: &IdentityRow, later: &IdentityRow) -> bool {
    let (Some(before), Some(after)) = (verify(vault_id, earlier), verify(vault_id, later)) else {
        return false;
    };
    earlier.id == later.id && after.len() >= before.len() && after[..before.len()] == before[..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::IdentitySecret;

    const VAULT: [u8; 16] = [7; 16];

    fn keys_of(secret: &IdentitySecret) -> (Vec<u8>, Vec<u8>) {
        let sign = Signer25519::derive(secret, &VAULT).public().to_vec();
        (secret.public().to_vec(), sign)
    }

    fn row_with(secret: &IdentitySecret) -> IdentityRow {
        let (public, sign) = keys_of(secret);
        IdentityRow {
            id: [1; 16],
            name: "bob".into(),
            kind: "person".into(),
            public_key: public,
            kdf: None,
            sealed_key: Vec::new(),
            created_at: 0,
            cert: crate::store::Certificate {
                sign_public: sign,
                ..Default::default()
            },
            retired_keys: Vec::new(),
        }
    }

    fn handed_over(row: &IdentityRow, from: &IdentitySecret, to: &IdentitySecret) -> IdentityRow {
        let mut next = row.clone();
        let (public, sign) = keys_of(to);
        let to = Keys {
            public: &public,
            sign: &sign,
        };
        hand_over(&VAULT, &mut next, &Signer25519::derive(from, &VAULT), to);
        next
    }

    #[test]
    fn a_chain_of_handovers_verifies_and_keeps_the_first_keys() {
        let (k0, k1, k2) = (
            IdentitySecret::generate(),
            IdentitySecret::generate(),
            IdentitySecret::generate(),
        );
        let start = row_with(&k0);
        let once = handed_over(&start, &k0, &k1);
        let twice = handed_over(&once, &k1, &k2);
        assert_eq!(handovers(&twice), 2);
        assert_eq!(verify(&VAULT, &twice).map(|c| c.len()), Some(3));
        assert_eq!(first_keys(&twice), first_keys(&start));
        assert_eq!(twice.public_key, k2.public());
        assert!(extends(&VAULT, &start, &twice));
        assert!(extends(&VAULT, &once, &twice));
        assert!(!extends(&VAULT, &twice, &once), "a chain cut short");
    }

    #[test]
    fn a_handover_not_signed_by_the_keys_it_leaves_fails() {
        let (k0, k1, evil) = (
            IdentitySecret::generate(),
            IdentitySecret::generate(),
            IdentitySecret::generate(),
        );
        let start = row_with(&k0);
        assert!(verify(&VAULT, &handed_over(&start, &evil, &k1)).is_none());
        let mut edited = handed_over(&start, &k0, &k1);
        edited.cert.succession[3] ^= 1;
        assert!(verify(&VAULT, &edited).is_none());
        let mut cut = handed_over(&start, &k0, &k1);
        cut.cert.succession.pop();
        assert!(verify(&VAULT, &cut).is_none());
        let mut moved = handed_over(&start, &k0, &k1);
        moved.id = [2; 16];
        assert!(verify(&VAULT, &moved).is_none(), "bound to the identity");
        // A fork from the old keys verifies alone, but does not extend
        // the real chain.
        let real = handed_over(&start, &k0, &k1);
        let fork = handed_over(&start, &k0, &evil);
        assert!(verify(&VAULT, &fork).is_some());
        assert!(!extends(&VAULT, &real, &fork));
    }
}
