//! Identity signing keys (Ed25519, RFC 8032) and the signatures that say
//! who wrote a row of the vault file; and the digest exec keeps of rows it
//! verified.
//!
//! An identity's signing key is derived from its sealed X25519 secret with
//! HKDF-SHA256 (RFC 5869): one sealed secret per identity, two keys with
//! separate purposes, nothing new to seal or to cache.
//!
//! ```text
//! seed = HKDF-SHA256(ikm = X25519 secret, salt = vault id, info = "vault/v3/sign")
//! signing key = Ed25519 key from seed (RFC 8032, 5.1.5)
//! ```
//!
//! Verification is strict (`verify_strict`): no small-order keys, no
//! non-canonical encodings, so a signature has exactly one valid form.
//!
//! A check of many rows at once (exec on a clone that has not seen the
//! view, `batched`) gathers its signatures and verifies them in one
//! multi-scalar multiplication (ed25519-dalek's `verify_batch`, random
//! coefficients derived from the inputs): about half the work per
//! signature. A batch that fails is checked again one signature at a
//! time, strictly, so the error names the row as before. The batch
//! equation does not itself refuse a small-order `R`; weak keys are
//! refused before they join a batch, and a signature can still only come
//! from the holder of the signing key.

use std::cell::RefCell;
use std::collections::HashMap;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::{Aad, IdentitySecret, Unauthentic};

pub const SIGN_PUBLIC_LEN: usize = 32;
pub const SIGNATURE_LEN: usize = 64;

/// An identity's signing key. Zeroized on drop (the dalek type does it);
/// no `Debug`, no `Clone`.
pub struct Signer25519(SigningKey);

impl Signer25519 {
    /// The signing key of the identity whose X25519 secret is `secret`, in
    /// the vault `vault_id`.
    pub fn derive(secret: &IdentitySecret, vault_id: &[u8; 16]) -> Self {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        super::kdf::hkdf_into(secret.expose(), vault_id, b"vault/v3/sign", &mut seed[..]);
        Signer25519(SigningKey::from_bytes(&seed))
    }

    pub fn public(&self) -> [u8; SIGN_PUBLIC_LEN] {
        self.0.verifying_key().to_bytes()
    }

    /// Signs the encoded statement `input`.
    pub fn sign(&self, input: &Aad) -> [u8; SIGNATURE_LEN] {
        self.0.sign(input.as_bytes()).to_bytes()
    }
}

/// Checks `signature` on `input` by the signing key `public`. Inside
/// [`batched`], the check is gathered into the batch and counts as passed
/// until the batch is verified.
pub fn verify(public: &[u8], input: &Aad, signature: &[u8]) -> Result<(), Unauthentic> {
    let public: [u8; SIGN_PUBLIC_LEN] = public.try_into().map_err(|_| Unauthentic)?;
    let signature: [u8; SIGNATURE_LEN] = signature.try_into().map_err(|_| Unauthentic)?;
    let signature = Signature::from_bytes(&signature);
    BATCH.with_borrow_mut(|batch| match batch {
        Some(batch) => batch.push(&public, input, signature),
        None => {
            let key = VerifyingKey::from_bytes(&public).map_err(|_| Unauthentic)?;
            key.verify_strict(input.as_bytes(), &signature)
                .map_err(|_| Unauthentic)
        }
    })
}

/// Signatures gathered by [`batched`], and each key decompressed once.
#[derive(Default)]
struct Batch {
    keys: HashMap<[u8; SIGN_PUBLIC_LEN], VerifyingKey>,
    messages: Vec<Vec<u8>>,
    signatures: Vec<Signature>,
    signers: Vec<VerifyingKey>,
}

impl Batch {
    fn push(
        &mut self,
        public: &[u8; SIGN_PUBLIC_LEN],
        input: &Aad,
        signature: Signature,
    ) -> Result<(), Unauthentic> {
        let key = match self.keys.get(public) {
            Some(key) => *key,
            None => {
                let key = VerifyingKey::from_bytes(public).map_err(|_| Unauthentic)?;
                if key.is_weak() {
                    return Err(Unauthentic);
                }
                self.keys.insert(*public, key);
                key
            }
        };
        self.messages.push(input.as_bytes().to_vec());
        self.signatures.push(signature);
        self.signers.push(key);
        Ok(())
    }

    fn verify(&self) -> bool {
        let messages: Vec<&[u8]> = self.messages.iter().map(Vec::as_slice).collect();
        ed25519_dalek::verify_batch(&messages, &self.signatures, &self.signers).is_ok()
    }
}

thread_local! {
    static BATCH: RefCell<Option<Batch>> = const { RefCell::new(None) };
}

/// Runs `check` with its signature checks ([`verify`]) gathered into one
/// batch, verified when it returns. When the batch fails, `check` runs
/// again with each signature verified on its own, so that its error names
/// the row; `disagree` is the error should that run pass (it cannot, but
/// the batch is the authority). `check` must be safe to run twice. Inside
/// another `batched`, it joins the outer batch.
pub fn batched<T, E>(
    check: impl Fn() -> Result<T, E>,
    disagree: impl FnOnce() -> E,
) -> Result<T, E> {
    if BATCH.with_borrow(Option::is_some) {
        return check();
    }
    BATCH.set(Some(Batch::default()));
    let gathered = check();
    let batch = BATCH.take().expect("the batch set above");
    let value = gathered?;
    if batch.verify() {
        return Ok(value);
    }
    match check() {
        Ok(_) => Err(disagree()),
        Err(e) => Err(e),
    }
}

/// SHA-256 of a stored field, for a statement that binds it without
/// carrying it (a sealed value, a wrapped key).
pub fn field_digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// What a statement (format 8, entries of the second kind) lists for an
/// input its signer signed: BLAKE2b-256 (RFC 7693) of the input under its
/// own label, a quarter of SHA-256's instructions per byte without CPU
/// extensions. A fresh clone computes three for each secret it hands on.
pub fn statement_digest(input: &[u8]) -> [u8; 32] {
    let mut h = blake2b_256();
    h.update(b"vault statement entry v2\0");
    h.update(input);
    digest_bytes(&h.finalize())
}

/// What an admin signs of an exec bundle it sealed (`vault/bundles/`):
/// BLAKE2b-256 of the sealed bytes under its own label. The seal alone
/// does not say which of its two parties made it (the grantee can compute
/// the same key), and a Poly1305 tag is no commitment to the bytes for
/// whoever holds that key: the signature covers this digest.
pub fn bundle_digest(sealed: &[u8]) -> [u8; 32] {
    let mut h = blake2b_256();
    h.update(b"vault exec bundle v1\0");
    h.update(sealed);
    digest_bytes(&h.finalize())
}

/// BLAKE2b with a 32-byte digest and no key, salt or personalisation:
/// what `b2sum -l 256` computes. blake2b_simd compresses with AVX2 where
/// the CPU has it, found by std's feature detection on the first hash:
/// a fresh clone of a thousand secrets compresses eleven thousand blocks,
/// 21% of its instructions portable, 10% so (docs/BENCHMARKS.md). Unlike
/// sha2 (portable, Cargo.toml), that is worth the `cpuid`s a virtual
/// machine may trap (several microseconds each) on the paths that hash
/// that much: statement digests and row keys. The few digests of a warm
/// exec go through [`FieldHasher::finish`], portable (the blake2 crate),
/// so a warm exec's only detection is chacha20's, for its exec cache.
fn blake2b_256() -> blake2b_simd::State {
    blake2b_256_params().to_state()
}

fn blake2b_256_params() -> blake2b_simd::Params {
    let mut params = blake2b_simd::Params::new();
    params.hash_length(32);
    params
}

fn digest_bytes(hash: &blake2b_simd::Hash) -> [u8; 32] {
    hash.as_bytes()
        .try_into()
        .expect("a 32-byte BLAKE2b digest")
}

/// A digest of many small fields, for remembering what was verified
/// (BLAKE2b-256, RFC 7693): about six times fewer instructions per byte
/// than SHA-256 without CPU extensions, which `exec` pays on every run.
/// Each field is length-prefixed, so two different sequences never
/// digest alike. Not a signature and not a MAC: it only tells whether
/// rows changed since this clone checked their signatures.
pub struct FieldHasher(Vec<u8>);

impl FieldHasher {
    pub fn new(label: &str) -> Self {
        Self::with_capacity(label, 64 * 1024)
    }

    /// A hasher for about `capacity` bytes of fields (one row's, where
    /// exec computes one per row).
    pub fn with_capacity(label: &str, capacity: usize) -> Self {
        let mut h = FieldHasher(Vec::with_capacity(capacity));
        h.field(label.as_bytes());
        h
    }

    /// Adds one field. Fields are gathered and hashed in one pass: a
    /// thousand rows of fifteen short fields cost a third as much that way.
    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0
            .extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// The digest, computed portably: the same bytes as
    /// [`FieldHasher::finish_many`] gives, without its CPU detection.
    pub fn finish(self) -> [u8; 32] {
        use blake2::Digest;
        blake2::Blake2b256::digest(&self.0).into()
    }

    /// Finishes several hashers at once, in order: with AVX2, four inputs
    /// of about one length are compressed side by side for little more
    /// than the cost of one (exec's row keys, four rows at a time).
    pub fn finish_many(hashers: &[FieldHasher]) -> Vec<[u8; 32]> {
        use blake2b_simd::many::{hash_many, HashManyJob};
        let params = blake2b_256_params();
        let mut jobs: Vec<HashManyJob<'_>> = hashers
            .iter()
            .map(|h| HashManyJob::new(&params, &h.0))
            .collect();
        hash_many(jobs.iter_mut());
        jobs.iter()
            .map(|job| digest_bytes(&job.to_hash()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(seed: u8) -> Signer25519 {
        Signer25519(SigningKey::from_bytes(&[seed; 32]))
    }

    fn statement(n: u8) -> Aad {
        let mut aad = Aad::new("batch test");
        aad.part(&[n]);
        aad
    }

    /// Valid signatures pass together; one bad one fails the batch, and
    /// the strict re-run reports the first bad one by its position.
    #[test]
    fn a_batch_passes_whole_or_names_the_bad_signature() {
        let keys: Vec<Signer25519> = (1..=3).map(signer).collect();
        let sigs: Vec<[u8; SIGNATURE_LEN]> = (0..6)
            .map(|i| keys[i % 3].sign(&statement(i as u8)))
            .collect();
        let check = |bad: Option<usize>| {
            batched(
                || {
                    for (i, sig) in sigs.iter().enumerate() {
                        let message = statement(if bad == Some(i) { 99 } else { i as u8 });
                        verify(&keys[i % 3].public(), &message, sig).map_err(|_| i)?;
                    }
                    Ok(())
                },
                || usize::MAX,
            )
        };
        assert_eq!(check(None), Ok(()));
        assert_eq!(check(Some(4)), Err(4));
        assert_eq!(check(Some(0)), Err(0));
        // Outside a batch, nothing is left behind.
        assert!(BATCH.with_borrow(Option::is_none));
    }

    /// A small-order key never joins a batch.
    #[test]
    fn a_weak_key_is_refused_in_a_batch() {
        let identity = ed25519_dalek::VerifyingKey::from_bytes(&{
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        })
        .unwrap();
        assert!(identity.is_weak());
        let result = batched(
            || verify(identity.as_bytes(), &statement(0), &[0u8; SIGNATURE_LEN]),
            || Unauthentic,
        );
        assert!(result.is_err());
    }

    /// RFC 8032, 7.1, test 1: the empty message.
    #[test]
    fn rfc_8032_test_1() {
        let secret =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap();
        let key = SigningKey::from_bytes(&secret.try_into().unwrap());
        assert_eq!(
            hex::encode(key.verifying_key().to_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex::encode(key.sign(b"").to_bytes()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
             5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }

    /// RFC 7693 appendix A gives BLAKE2b-512 of "abc"; this is the
    /// 256-bit variant of the same message, as b2sum -l 256 prints it.
    #[test]
    fn blake2b_256_of_abc() {
        assert_eq!(
            hex::encode(digest_bytes(&blake2b_256().update(b"abc").finalize())),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
        );
        let mut a = FieldHasher::new("t");
        a.field(b"ab").field(b"c");
        let mut b = FieldHasher::new("t");
        b.field(b"a").field(b"bc");
        assert_ne!(a.finish(), b.finish(), "fields are length-prefixed");
    }

    /// Hashed side by side, four at a time and the rest alone, each digest
    /// is the one `finish` gives, in order, whatever the lengths.
    #[test]
    fn hashers_finished_together_digest_as_alone() {
        let hasher = |n: usize| {
            let mut h = FieldHasher::with_capacity("t", 0);
            h.field(&vec![n as u8; n * 61]);
            h
        };
        let many = FieldHasher::finish_many(&(0..7).map(hasher).collect::<Vec<_>>());
        let alone: Vec<[u8; 32]> = (0..7).map(|n| hasher(n).finish()).collect();
        assert_eq!(many, alone);
        assert!(FieldHasher::finish_many(&[]).is_empty());
    }

    #[test]
    fn a_changed_statement_or_key_fails() {
        let id = IdentitySecret::generate();
        let signer = Signer25519::derive(&id, &[1; 16]);
        let input = Aad::new("test").with(b"statement");
        let sig = signer.sign(&input);
        assert!(verify(&signer.public(), &input, &sig).is_ok());
        let other = Aad::new("test").with(b"statemenT");
        assert!(verify(&signer.public(), &other, &sig).is_err());
        let elsewhere = Signer25519::derive(&id, &[2; 16]);
        assert_ne!(elsewhere.public(), signer.public(), "one key per vault");
        assert!(verify(&elsewhere.public(), &input, &sig).is_err());
        assert!(verify(&[0; 32], &input, &sig).is_err(), "a small-order key");
    }
}
