//! Tampering with the vault file: every sealed field, nonce and stored KDF
//! parameter is authenticated, so a changed byte, a swapped or moved
//! ciphertext, a name edited by hand or a version rolled back is refused,
//! and the secret reaches no one.

use crate::support::Env;

const CANARY: &str = "canary-7f3a9c-never-printed";
const WRONG_HINT: &str = "try again; a wrong passphrase changes nothing";

fn with_canary() -> Env {
    let env = Env::init();
    env.add("CANARY", CANARY);
    env
}

/// Runs `exec -- printenv CANARY` and asserts it is refused with exactly
/// `message` and `hint`, the child never running.
#[track_caller]
fn refused(env: &Env, message: &str, hint: &str, what: &str) {
    let out = env
        .vault(&["exec", "--mask", "never", "--", "printenv", "CANARY"])
        .passphrase()
        .run();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            Some(125),
            "",
            format!("error: {message}\nhint: {hint}\n").as_str()
        ),
        "{what}"
    );
}

#[track_caller]
fn integrity(env: &Env, subject: &str, what: &str) {
    refused(env, &signature_mismatch(subject), TRUST_HINT, what);
}

/// What exec says when bytes of a signed row were changed: `subject` as
/// the integrity error named it (`secret X`, `the access of owner to X`).
fn signature_mismatch(subject: &str) -> String {
    let row = match subject.strip_prefix("secret ") {
        Some(name) => format!("the value of secret {name}"),
        None => subject.to_owned(),
    };
    format!("trust check failed: {row} does not match its signature by owner (it was changed in the file)")
}

const TRUST_HINT: &str = "someone changed the vault file outside vault: restore it from a copy you trust (`git log -p` on the file shows who changed it)";

#[track_caller]
fn still_works(env: &Env) {
    assert_eq!(env.value_of("CANARY"), CANARY);
}

/// Flips each byte of `table.column` in turn (the 24-byte nonce first,
/// then the ciphertext and tag) and checks each flip with `check`.
fn flip_every_byte(env: &Env, table: &str, column: &str, filter: &str, check: impl Fn(&str)) {
    let original = env.blob(table, column, filter);
    assert!(original.len() > 24 + 16, "{table}.{column} is sealed");
    for i in 0..original.len() {
        let mut flipped = original.clone();
        flipped[i] ^= 0x80;
        env.set_blob(table, column, filter, &flipped);
        let part = if i < 24 { "nonce" } else { "body" };
        check(&format!("{table}.{column} byte {i} ({part})"));
    }
    env.set_blob(table, column, filter, &original);
}

#[test]
fn every_byte_of_a_sealed_value() {
    let env = with_canary();
    flip_every_byte(&env, "secrets", "sealed_value", "name = 'CANARY'", |what| {
        integrity(&env, "secret CANARY", what)
    });
    still_works(&env);
}

#[test]
fn every_byte_of_a_wrapped_data_key() {
    let env = with_canary();
    flip_every_byte(&env, "access", "wrapped_key", "1", |what| {
        integrity(&env, "the access of owner to CANARY", what)
    });
    still_works(&env);
}

#[test]
fn every_byte_of_the_sealed_identity_key() {
    let env = with_canary();
    flip_every_byte(&env, "identities", "sealed_key", "name = 'owner'", |what| {
        refused(
            &env,
            "wrong passphrase for identity owner",
            WRONG_HINT,
            what,
        )
    });
    still_works(&env);
}

#[test]
fn every_byte_of_the_kdf_salt() {
    let env = with_canary();
    let original = env.blob("identities", "kdf_salt", "1");
    assert_eq!(original.len(), 16);
    for i in 0..original.len() {
        let mut flipped = original.clone();
        flipped[i] ^= 0x01;
        env.set_blob("identities", "kdf_salt", "1", &flipped);
        refused(
            &env,
            "wrong passphrase for identity owner",
            WRONG_HINT,
            &format!("salt byte {i}"),
        );
    }
    env.set_blob("identities", "kdf_salt", "1", &original);
    still_works(&env);
}

#[test]
fn stronger_kdf_parameters_edited_by_hand() {
    let env = with_canary();
    for column in ["kdf_m", "kdf_t", "kdf_p"] {
        let dump = env.dump();
        env.sql(&format!("UPDATE identities SET {column} = {column} + 1"));
        refused(
            &env,
            "wrong passphrase for identity owner",
            WRONG_HINT,
            column,
        );
        env.sql(&format!("UPDATE identities SET {column} = {column} - 1"));
        assert_eq!(env.dump(), dump);
    }
    still_works(&env);
}

#[test]
fn a_truncated_sealed_value() {
    let env = with_canary();
    let original = env.blob("secrets", "sealed_value", "1");
    for len in [0, 23, 24, 24 + 15, original.len() - 1] {
        env.set_blob("secrets", "sealed_value", "1", &original[..len]);
        integrity(&env, "secret CANARY", &format!("{len} bytes"));
    }
}

#[test]
fn swapping_two_secrets_ciphertexts() {
    let env = with_canary();
    env.add("OTHER", "other-value");
    let canary = env.blob("secrets", "sealed_value", "name = 'CANARY'");
    let other = env.blob("secrets", "sealed_value", "name = 'OTHER'");
    env.set_blob("secrets", "sealed_value", "name = 'CANARY'", &other);
    env.set_blob("secrets", "sealed_value", "name = 'OTHER'", &canary);
    integrity(&env, "secret CANARY", "swapped values");
    env.vault(&[
        "exec", "--mask", "never", "--only", "OTHER", "--", "printenv", "OTHER",
    ])
    .passphrase()
    .run()
    .fails(
        125,
        // exec checks every granted row before it opens any.
        &signature_mismatch("secret CANARY"),
        Some(TRUST_HINT),
    );
}

#[test]
fn swapping_two_wrapped_data_keys() {
    let env = with_canary();
    env.add("OTHER", "other-value");
    let id = |name: &str| format!("secret_id = (SELECT id FROM secrets WHERE name = '{name}')");
    let canary = env.blob("access", "wrapped_key", &id("CANARY"));
    let other = env.blob("access", "wrapped_key", &id("OTHER"));
    env.set_blob("access", "wrapped_key", &id("CANARY"), &other);
    env.set_blob("access", "wrapped_key", &id("OTHER"), &canary);
    integrity(&env, "the access of owner to CANARY", "swapped keys");
}

#[test]
fn a_secret_renamed_by_hand() {
    let env = with_canary();
    env.sql("UPDATE secrets SET name = 'RENAMED' WHERE name = 'CANARY'");
    env.vault(&["exec", "--mask", "never", "--", "printenv", "RENAMED"])
        .passphrase()
        .run()
        .fails(125, &signature_mismatch("secret RENAMED"), Some(TRUST_HINT));
}

#[test]
fn a_version_edited_by_hand() {
    let env = with_canary();
    env.sql("UPDATE secrets SET version = 2");
    integrity(&env, "secret CANARY", "version 1 -> 2");
}

#[test]
fn an_old_ciphertext_put_back_after_rotate() {
    let env = with_canary();
    let old_value = env.blob("secrets", "sealed_value", "1");
    let old_key = env.blob("access", "wrapped_key", "1");
    env.vault(&["rotate", "CANARY"])
        .passphrase()
        .stdin("the new value")
        .run()
        .success();
    env.set_blob("secrets", "sealed_value", "1", &old_value);
    integrity(&env, "secret CANARY", "old value, new key");
    env.set_blob("access", "wrapped_key", "1", &old_key);
    integrity(&env, "secret CANARY", "old value and key");
    // Taking the version back too is still not the old row: the secret's
    // generation and its writer's signature moved on with the rotation.
    env.sql("UPDATE secrets SET version = 1");
    integrity(&env, "secret CANARY", "old value, key and version");
}

#[test]
fn an_access_level_or_expiry_edited_by_hand() {
    let env = with_canary();
    env.sql("UPDATE access SET level = 'use'");
    integrity(&env, "the access of owner to CANARY", "level");
    env.sql("UPDATE access SET level = 'manage', expires_at = 4102444800");
    integrity(&env, "the access of owner to CANARY", "expiry");
}

#[test]
fn identity_records_swapped_between_identities() {
    let env = with_canary();
    let bob_file = env.path().join("bob-passphrase");
    std::fs::write(&bob_file, crate::support::PASSPHRASE).unwrap();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&bob_file)
        .passphrase()
        .run()
        .success();
    // Give the owner bob's whole key record (same passphrase, so only the
    // binding to the identity can tell them apart).
    let who = |name: &str| format!("name = '{name}'");
    for column in ["public_key", "kdf_salt", "sealed_key"] {
        let bob = env.blob("identities", column, &who("bob"));
        env.set_blob("identities", column, &who("owner"), &bob);
    }
    refused(
        &env,
        "wrong passphrase for identity owner",
        WRONG_HINT,
        "bob's record on owner's row",
    );
}
