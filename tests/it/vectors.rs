//! Known-answer tests: the published vectors for the primitives vault is
//! built on (RFC 9106 Argon2id, draft-irtf-cfrg-xchacha-03 XChaCha20-
//! Poly1305, RFC 7748 X25519), run against the RustCrypto crates vault
//! uses, and vault's own `vault::crypto` checked against those crates, so
//! its constructions are the documented ones. Must-fail cases included.

use argon2::{Algorithm, Argon2, Params, ParamsBuilder, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use vault::crypto::{self, Aad, IdentitySecret, KdfParams, Key, ParamsRefused};

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

fn arr32(text: &str) -> [u8; 32] {
    unhex(text).try_into().unwrap()
}

/// RFC 9106 section 5.3: Argon2id with a secret and associated data.
#[test]
fn argon2id_rfc9106_section_5_3() {
    let params = ParamsBuilder::new()
        .m_cost(32)
        .t_cost(3)
        .p_cost(4)
        .data(argon2::AssociatedData::new(&[0x04; 12]).unwrap())
        .output_len(32)
        .build()
        .unwrap();
    let argon =
        Argon2::new_with_secret(&[0x03; 8], Algorithm::Argon2id, Version::V0x13, params).unwrap();
    let mut tag = [0u8; 32];
    argon
        .hash_password_into(&[0x01; 32], &[0x02; 16], &mut tag)
        .unwrap();
    assert_eq!(
        hex::encode(tag),
        "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
    );
}

/// vault's unlock key is plain Argon2id v1.3 with a 32-byte output.
#[test]
fn vault_unlock_key_is_argon2id_v13() {
    let params = KdfParams::FLOOR;
    let key = crypto::derive_unlock_key(b"passphrase", &[0x02; 16], params).unwrap();
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(params.m_kib, params.t, params.p, Some(32)).unwrap(),
    );
    let mut expected = [0u8; 32];
    argon
        .hash_password_into(b"passphrase", &[0x02; 16], &mut expected)
        .unwrap();
    assert_eq!(key.expose(), &expected);
    let other = crypto::derive_unlock_key(b"passphrasE", &[0x02; 16], params).unwrap();
    assert_ne!(other.expose(), &expected);
}

#[test]
fn vault_refuses_kdf_parameters_outside_floor_and_ceiling() {
    let weak = KdfParams {
        t: 1,
        ..KdfParams::FLOOR
    };
    assert_eq!(
        crypto::derive_unlock_key(b"p", &[0; 16], weak).err(),
        Some(ParamsRefused::BelowFloor)
    );
    let huge = KdfParams {
        m_kib: KdfParams::CEILING.m_kib + 1,
        ..KdfParams::FLOOR
    };
    assert_eq!(
        crypto::derive_unlock_key(b"p", &[0; 16], huge).err(),
        Some(ParamsRefused::AboveCeiling)
    );
}

const XC_KEY: &str = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
const XC_NONCE: &str = "404142434445464748494a4b4c4d4e4f5051525354555657";
const XC_AAD: &str = "50515253c0c1c2c3c4c5c6c7";
const XC_PLAINTEXT: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you \
only one tip for the future, sunscreen would be it.";
const XC_CIPHERTEXT: &str = "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb\
731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452\
2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9\
21f9664c97637da9768812f615c68b13b52e";
const XC_TAG: &str = "c0875924c1c7987947deafd8780acf49";

/// draft-irtf-cfrg-xchacha-03 appendix A.3.1, sealing and opening, and the
/// same vector with one bit of the tag flipped.
#[test]
fn xchacha20poly1305_draft_a_3_1() {
    let cipher = XChaCha20Poly1305::new_from_slice(&unhex(XC_KEY)).unwrap();
    let nonce = XNonce::from(<[u8; 24]>::try_from(unhex(XC_NONCE)).unwrap());
    let aad = unhex(XC_AAD);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: XC_PLAINTEXT,
                aad: &aad,
            },
        )
        .unwrap();
    let mut expected = unhex(XC_CIPHERTEXT);
    expected.extend(unhex(XC_TAG));
    assert_eq!(sealed, expected);
    let mut bad = expected.clone();
    *bad.last_mut().unwrap() ^= 0x01;
    assert!(cipher
        .decrypt(
            &nonce,
            Payload {
                msg: &bad,
                aad: &aad
            }
        )
        .is_err());
}

/// A field vault seals is `nonce || XChaCha20-Poly1305(ciphertext || tag)`
/// over the bytes of its `Aad`: the draft's key, nonce and plaintext, laid
/// out that way, open with `vault::crypto::open`; anything else does not.
#[test]
fn vault_fields_are_nonce_then_xchacha20poly1305() {
    let key = Key::from_bytes(arr32(XC_KEY));
    let aad = Aad::new("value").with(&unhex(XC_AAD));
    let cipher = XChaCha20Poly1305::new_from_slice(&unhex(XC_KEY)).unwrap();
    let nonce: [u8; 24] = unhex(XC_NONCE).try_into().unwrap();
    let mut field = nonce.to_vec();
    field.extend(
        cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: XC_PLAINTEXT,
                    aad: aad.as_bytes(),
                },
            )
            .unwrap(),
    );
    assert_eq!(&crypto::open(&key, &aad, &field).unwrap()[..], XC_PLAINTEXT);

    let other_aad = Aad::new("value").with(&unhex("50515253c0c1c2c3c4c5c6c8"));
    assert!(crypto::open(&key, &other_aad, &field).is_err());
    let other_key = Key::from_bytes([0x80; 32]);
    assert!(crypto::open(&other_key, &aad, &field).is_err());

    // And what vault seals, the crate opens.
    let sealed = crypto::seal(&key, &aad, b"round trip");
    let (nonce, body) = sealed.split_at(24);
    let opened = cipher
        .decrypt(
            &XNonce::from(<[u8; 24]>::try_from(nonce).unwrap()),
            Payload {
                msg: body,
                aad: aad.as_bytes(),
            },
        )
        .unwrap();
    assert_eq!(opened, b"round trip");
}

/// RFC 7748 section 5.2: two scalar multiplications.
#[test]
fn x25519_rfc7748_section_5_2() {
    let vectors = [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ];
    for (scalar, u, out) in vectors {
        assert_eq!(x25519_dalek::x25519(arr32(scalar), arr32(u)), arr32(out));
    }
}

const ALICE_SECRET: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const ALICE_PUBLIC: &str = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const BOB_SECRET: &str = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const BOB_PUBLIC: &str = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
const SHARED: &str = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

/// RFC 7748 section 6.1: the Diffie-Hellman example, through vault's own
/// identity keys.
#[test]
fn x25519_rfc7748_section_6_1() {
    let alice = IdentitySecret::from_slice(&unhex(ALICE_SECRET)).unwrap();
    let bob = IdentitySecret::from_slice(&unhex(BOB_SECRET)).unwrap();
    assert_eq!(alice.public(), arr32(ALICE_PUBLIC));
    assert_eq!(bob.public(), arr32(BOB_PUBLIC));
    let shared = x25519_dalek::x25519(arr32(ALICE_SECRET), arr32(BOB_PUBLIC));
    assert_eq!(shared, arr32(SHARED));
    assert_eq!(
        x25519_dalek::x25519(arr32(BOB_SECRET), arr32(ALICE_PUBLIC)),
        arr32(SHARED)
    );
}

/// The wrapping key is HKDF-SHA256(ikm = X25519 shared secret, salt = vault
/// id, info = "vault/v1/wrap" || writer public || grantee public), the same
/// from both sides.
#[test]
fn wrapping_key_is_hkdf_over_the_rfc7748_shared_secret() {
    let alice = IdentitySecret::from_slice(&unhex(ALICE_SECRET)).unwrap();
    let bob = IdentitySecret::from_slice(&unhex(BOB_SECRET)).unwrap();
    let (ap, bp) = (arr32(ALICE_PUBLIC), arr32(BOB_PUBLIC));
    let vault_id = [0x11u8; 16];
    let mut info = b"vault/v1/wrap".to_vec();
    info.extend(ap);
    info.extend(bp);
    let mut expected = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&vault_id), &unhex(SHARED))
        .expand(&info, &mut expected)
        .unwrap();
    let writer_side = crypto::wrapping_key(&alice, &bp, &ap, &bp, &vault_id).unwrap();
    let grantee_side = crypto::wrapping_key(&bob, &ap, &ap, &bp, &vault_id).unwrap();
    assert_eq!(writer_side.expose(), &expected);
    assert_eq!(grantee_side.expose(), &expected);
    // The roles are bound: the same pair the other way round differs.
    let swapped = crypto::wrapping_key(&alice, &bp, &bp, &ap, &vault_id).unwrap();
    assert_ne!(swapped.expose(), &expected);
    // A low-order point (all zeros) gives no key at all.
    assert!(crypto::wrapping_key(&alice, &[0u8; 32], &ap, &[0u8; 32], &vault_id).is_err());
}

/// A token's unlock key is HKDF-SHA256(ikm = its random part, salt = the
/// identity id, info = "vault/v1/token-unlock").
#[test]
fn token_unlock_key_is_hkdf() {
    let secret = [0x42u8; 32];
    let id = [0x07u8; 16];
    let mut expected = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&id), &secret)
        .expand(b"vault/v1/token-unlock", &mut expected)
        .unwrap();
    assert_eq!(crypto::token_unlock_key(&secret, &id).expose(), &expected);
}
