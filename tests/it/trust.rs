//! A shared vault file against its own writers: every attack of the trust
//! issue done as an attacker does it (SQL on the file, an older copy put
//! back, a planted trigger, a forged token pin, rows written with the
//! library by a use-level identity's modified code), each ending in a
//! clear error with no value given and nothing run; and the honest paths
//! beside them.

use crate::support::*;

const TRUST_HINT: &str = "someone changed the vault file outside vault: restore it from a copy you trust (`git log -p` on the file shows who changed it)";
const ROLLBACK_HINT: &str =
    "if you put an older copy back on purpose (a backup), run `vault trust accept`";

/// The owner, bob (a person) and ci (a machine with a token), with A
/// granted to ci for use.
fn team() -> (Env, String) {
    let env = Env::init();
    let bob_file = env.path().join("bob-passphrase");
    std::fs::write(&bob_file, "bob's own passphrase\n").unwrap();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&bob_file)
        .passphrase()
        .run()
        .success();
    let out = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success();
    let token = out.stdout.trim().to_owned();
    env.add("A", "value-of-a-1");
    env.owner_runs(&["grant", "A", "--to", "ci"]);
    (env, token)
}

fn as_ci(env: &Env, token: &str, args: &[&str]) -> Run {
    env.vault(args).env("VAULT_ACCESS_TOKEN", token)
}

fn ci_sees(env: &Env, token: &str, name: &str) -> Output {
    as_ci(
        env,
        token,
        &["exec", "--mask", "never", "--", "printenv", name],
    )
    .run()
}

#[test]
fn a_swapped_public_key_is_refused_before_anything_is_wrapped_for_it() {
    let (env, _) = team();
    // The attacker puts ci's X25519 key (one it could hold) in bob's row.
    env.sql(
        "UPDATE identities SET public_key = (SELECT public_key FROM identities WHERE name = 'ci') \
         WHERE name = 'bob'",
    );
    let before = env.dump();
    env.vault(&["grant", "A", "--to", "bob"]).passphrase().run().fails(
        2,
        "trust check failed: identity bob: its certificate does not verify (its keys, name or role were changed in the file, or it was added by no admin)",
        Some(TRUST_HINT),
    );
    env.vault(&["rotate", "A"])
        .passphrase()
        .stdin("value-of-a-2")
        .run()
        .code(2);
    assert_eq!(
        env.dump(),
        before,
        "nothing was wrapped for the swapped key"
    );
}

#[test]
fn two_identities_names_swapped_by_hand_are_refused() {
    let (env, token) = team();
    env.sql(
        "UPDATE identities SET name = 'tmp' WHERE name = 'bob'; \
         UPDATE identities SET name = 'bob' WHERE name = 'ci'; \
         UPDATE identities SET name = 'ci' WHERE name = 'tmp';",
    );
    let out = ci_sees(&env, &token, "A").code(125);
    assert!(
        out.stderr
            .starts_with("error: trust check failed: identity "),
        "{out:?}"
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn a_secret_copied_in_under_a_name_that_runs_code_reaches_no_one() {
    let (env, token) = team();
    // A copy of A's rows under BASH_ENV, with access for ci: a row no
    // writer of that secret signed.
    env.sql(
        "INSERT INTO secrets SELECT randomblob(16), 'BASH_ENV', service, description, version, \
           created_at, rotated_at, expires_at, needs_rotation, rotate_every, sealed_value, \
           creator, id_nonce, generation, managers, managers_epoch, managers_by, managers_sig, \
           signer, sig, fingerprints, environment, stmt FROM secrets WHERE name = 'A'; \
         INSERT INTO access SELECT randomblob(16), (SELECT id FROM secrets WHERE name = 'BASH_ENV'), \
           identity_id, level, expires_at, writer_public, wrapped_key, granted_at, signer, sig, stmt \
           FROM access WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A') \
           AND identity_id = (SELECT id FROM identities WHERE name = 'ci');",
    );
    let out = as_ci(
        &env,
        &token,
        &["exec", "--mask", "never", "--", "bash", "-c", "echo ran"],
    )
    .run()
    .code(125);
    assert_eq!(out.stdout, "", "the program did not run");
    assert_eq!(
        out.stderr,
        format!("error: trust check failed: the value of secret BASH_ENV does not match its signature by owner (it was changed in the file)\nhint: {TRUST_HINT}\n")
    );
}

#[test]
fn a_dangerous_name_a_manager_allowed_needs_the_consumers_own_opt_in() {
    let (env, token) = team();
    env.vault(&["add", "BASH_ENV", "--allow-dangerous-name"])
        .passphrase()
        .stdin("/tmp/evil.sh")
        .run()
        .success();
    env.owner_runs(&["grant", "BASH_ENV", "--to", "ci"]);
    let out = as_ci(&env, &token, &["exec", "--", "bash", "-c", "echo ran"])
        .run()
        .fails(
            125,
            "refusing to set BASH_ENV: a value there can run code inside the program",
            Some("if you trust whoever added it, accept it for this run: vault exec --allow-dangerous-name BASH_ENV -- ..."),
        );
    assert_eq!(out.stdout, "");
    as_ci(
        &env,
        &token,
        &[
            "exec",
            "--mask",
            "never",
            "--allow-dangerous-name",
            "BASH_ENV",
            "--",
            "printenv",
            "BASH_ENV",
        ],
    )
    .run()
    .success()
    .stdout_is("/tmp/evil.sh\n");
}

#[test]
fn a_trigger_planted_in_the_file_is_refused_before_any_command_runs() {
    let (env, token) = team();
    env.sql(
        "CREATE TRIGGER swap AFTER UPDATE ON secrets BEGIN \
           UPDATE identities SET public_key = X'00' WHERE name = 'bob'; END;",
    );
    let before = env.dump();
    let message = format!(
        "{} is not a vault file: it holds a trigger named swap that no vault format has (planted in the file?)",
        env.vault.display()
    );
    env.vault(&["rotate", "A"])
        .passphrase()
        .stdin("value-of-a-2")
        .run()
        .code(2)
        .stderr_has(&message);
    ci_sees(&env, &token, "A").code(125).stderr_has(&message);
    assert_eq!(env.dump(), before);
}

#[test]
fn an_older_copy_put_back_is_refused_until_accepted_on_purpose() {
    let (env, token) = team();
    assert_eq!(
        ci_sees(&env, &token, "A").success().stdout,
        "value-of-a-1\n"
    );
    let old = std::fs::read(&env.vault).unwrap();
    env.vault(&["rotate", "A"])
        .passphrase()
        .stdin("value-of-a-2")
        .run()
        .success();
    assert_eq!(
        ci_sees(&env, &token, "A").success().stdout,
        "value-of-a-2\n"
    );
    std::fs::write(&env.vault, &old).unwrap();
    ci_sees(&env, &token, "A").fails(
        125,
        "trust check failed: secret A (generation 2 here, 3 seen before) went back since this clone last saw it (an older copy of the file was put back)",
        Some(ROLLBACK_HINT),
    );
    env.owner_runs(&["trust", "accept"]);
    // ci's view of the file is this clone's too: the same state file.
    assert_eq!(
        ci_sees(&env, &token, "A").success().stdout,
        "value-of-a-1\n"
    );
}

#[test]
fn one_secret_rolled_back_with_its_access_rows_is_refused() {
    let (env, token) = team();
    env.add("B", "value-of-b-1");
    ci_sees(&env, &token, "A").success();
    let old_secret = env.blob("secrets", "sig", "name = 'A'");
    let snapshot = "CREATE TABLE old_s AS SELECT * FROM secrets WHERE name = 'A'; \
                    CREATE TABLE old_a AS SELECT * FROM access WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A');";
    let keep = tempfile::NamedTempFile::new().unwrap();
    std::fs::copy(&env.vault, keep.path()).unwrap();
    let _ = (old_secret, snapshot);
    env.vault(&["rotate", "A"])
        .passphrase()
        .stdin("value-of-a-2")
        .run()
        .success();
    ci_sees(&env, &token, "A").success();
    // Put A's old row and access rows back, from the old copy.
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    conn.execute_batch(&format!(
        "ATTACH '{}' AS old; \
         DELETE FROM access WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A'); \
         DELETE FROM secrets WHERE name = 'A'; \
         INSERT INTO secrets SELECT * FROM old.secrets WHERE name = 'A'; \
         INSERT INTO access SELECT * FROM old.access WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A'); \
         DETACH old;",
        keep.path().display()
    ))
    .unwrap();
    drop(conn);
    ci_sees(&env, &token, "A").fails(
        125,
        "trust check failed: secret A (generation 2 here, 3 seen before) went back since this clone last saw it (an older copy of the file was put back)",
        Some(ROLLBACK_HINT),
    );
}

#[test]
fn a_value_a_use_level_identity_wrote_with_its_own_code_is_refused() {
    use vault::crypto::{self, Aad, Signer25519};
    let (env, token) = team();
    // ci's modified code: it unlocks with its token, opens its data key
    // for A, seals a value of its own under it at the next version, and
    // signs the row with its own certified key.
    let (secret, vault_id) = env.token_secret(&token);
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    let (secret_id, version, generation, _, _) = env.secret_state("A");
    let data_key = crypto::Key::random();
    let new_version = version + 1;
    let value_aad = Aad::new("value")
        .with(&vault_id)
        .with(&secret_id)
        .with(b"A")
        .with(&new_version.to_be_bytes());
    let sealed = crypto::seal(&data_key, &value_aad, b"attacker-value");
    let statement = env
        .secret_row_input(&vault_id, "A", (new_version, generation + 1))
        .with(&crypto::field_digest(&sealed));
    let signer = Signer25519::derive(&secret, &vault_id);
    let sig = signer.sign(&statement);
    conn.execute(
        "UPDATE secrets SET version = ?1, generation = ?2, sealed_value = ?3, \
         signer = (SELECT id FROM identities WHERE name = 'ci'), sig = ?4 WHERE name = 'A'",
        rusqlite::params![new_version, generation + 1, sealed, sig.to_vec()],
    )
    .unwrap();
    drop(conn);
    // Every other identity refuses it, naming who wrote it.
    let out = env
        .vault(&["exec", "--mask", "never", "--", "printenv", "A"])
        .passphrase()
        .run()
        .fails(
            125,
            "trust check failed: the value of secret A was written by ci, who may not write it",
            Some(TRUST_HINT),
        );
    assert!(!out.stdout.contains("attacker-value"));
}

#[test]
fn a_token_whose_pin_is_not_this_vaults_root_is_refused() {
    let (env, token) = team();
    let forged = crate::support::with_another_pin(&token);
    let out = ci_sees(&env, &forged, "A").code(125);
    crate::support::refused_for_its_pin(&out);
}

#[test]
fn only_admins_remove_identities_and_the_root_stays() {
    let (env, token) = team();
    let before = env.dump();
    as_ci(&env, &token, &["identity", "remove", "bob", "--yes"])
        .run()
        .fails(
            2,
            "ci may not remove identities: ci is not an admin of this vault",
            None,
        );
    assert_eq!(env.dump(), before);
    env.owner_runs(&["identity", "remove", "bob", "--yes"]);
    assert_eq!(
        ci_sees(&env, &token, "A").success().stdout,
        "value-of-a-1\n"
    );
}

#[test]
fn the_last_manager_cannot_revoke_itself_through_another() {
    let (env, _) = team();
    env.owner_runs(&["grant", "A", "--to", "bob", "--manage"]);
    // bob, a manager by grant, cannot take the creator's manage away.
    env.vault(&["revoke", "A", "--from", "owner"])
        .env("VAULT_PASSPHRASE_FILE", env.path().join("bob-passphrase"))
        .env("VAULT_IDENTITY", "bob")
        .run()
        .fails(
            2,
            "bob may not change who manages: only the creator of A or an admin can give or take manage access",
            None,
        );
}

#[test]
fn identity_list_shows_roles_and_key_fingerprints() {
    let (env, _) = team();
    let out = env.vault(&["identity", "list"]).run().success();
    assert!(out.stdout.contains("owner  person   root"), "{out:?}");
    assert!(out.stdout.contains("ci     machine  member"), "{out:?}");
    assert_eq!(out.stdout.matches("    receives with SHA256:").count(), 3);
    assert_eq!(out.stdout.matches("    signs with    SHA256:").count(), 3);
}

#[test]
fn the_honest_paths_keep_working_and_verify_again_after_each_change() {
    let (env, token) = team();
    env.owner_runs(&["grant", "A", "--to", "bob", "--manage"]);
    let bob = |args: &[&str]| {
        env.vault(args)
            .env("VAULT_PASSPHRASE_FILE", env.path().join("bob-passphrase"))
            .env("VAULT_IDENTITY", "bob")
    };
    bob(&["rotate", "A"]).stdin("value-of-a-2").run().success();
    assert_eq!(
        ci_sees(&env, &token, "A").success().stdout,
        "value-of-a-2\n"
    );
    bob(&["rename", "A", "A2"]).run().success();
    assert_eq!(
        ci_sees(&env, &token, "A2").success().stdout,
        "value-of-a-2\n"
    );
    env.owner_runs(&["revoke", "A2", "--from", "bob"]);
    bob(&["rotate", "A2"]).stdin("value-of-a-3").run().code(2);
    env.owner_runs(&["trust"]);
    env.vault(&["audit", "verify"]).passphrase().run().success();
}

#[test]
fn a_format_2_vault_is_signed_by_its_owner_and_others_claim_their_keys() {
    let (env, _) = team();
    env.owner_runs(&["grant", "A", "--to", "bob"]);
    // The file as format 2 left it: no certificates, no signatures.
    env.sql(&format!(
        "{} ALTER TABLE audit_keys DROP COLUMN signer; ALTER TABLE audit_keys DROP COLUMN sig; \
         PRAGMA user_version = 2;",
        crate::support::DROP_FORMAT_3
    ));
    let bob = |args: &[&str]| {
        env.vault(args)
            .env("VAULT_PASSPHRASE_FILE", env.path().join("bob-passphrase"))
            .env("VAULT_IDENTITY", "bob")
    };
    // On this clone, which pinned the root, that is a downgrade.
    bob(&["exec", "--mask", "never", "--", "printenv", "A"]).run().fails(
        125,
        "trust check failed: the vault file carries no signatures, but this clone or its token pinned a root: an unsigned copy was put in its place",
        Some(TRUST_HINT),
    );
    // A clone that never saw it signed waits for its owner.
    std::fs::remove_dir_all(env.path().join("xdg").join("vault").join("trust")).unwrap();
    bob(&["exec", "--mask", "never", "--", "printenv", "A"]).run().fails(
        125,
        "trust check failed: the vault file carries no signatures yet: its owner's next change (any command that writes) signs it",
        Some(TRUST_HINT),
    );
    // The owner's first command, exec included, signs everything.
    assert_eq!(env.value_of("A"), "value-of-a-1");
    assert_eq!(
        bob(&["exec", "--mask", "never", "--", "printenv", "A"])
            .run()
            .success()
            .stdout,
        "value-of-a-1\n"
    );
    // bob was certified to receive; his first write records a claim.
    let before = env.dump();
    bob(&["add", "BOBS"]).stdin("bob-value-1").run().fails(
        2,
        "bob may not write to this vault yet: its signing key waits for the root (owner) to certify it; the claim is recorded, and the root's next command certifies it",
        None,
    );
    assert_ne!(env.dump(), before, "the claim is in the file");
    let listed = env.vault(&["identity", "list"]).run().success().stdout;
    assert!(
        listed.contains("signs with    no key (receives only)"),
        "{listed}"
    );
    env.add("OWNERS", "owner-value-1");
    bob(&["add", "BOBS"]).stdin("bob-value-1").run().success();
    bob(&["grant", "BOBS", "--to", "owner"]).run().success();
    assert_eq!(env.value_of("BOBS"), "bob-value-1");
}

#[test]
fn a_claim_nobody_but_the_root_could_check_is_not_certified() {
    let (env, token) = team();
    // ci is fully certified; strip its signing key and forge a claim for
    // a key of the attacker's own: its MAC cannot be made without ci's or
    // the root's secret.
    env.sql("UPDATE identities SET sign_claim = randomblob(64) WHERE name = 'ci'");
    env.add("OTHER", "other-value-1");
    let listed = env.vault(&["identity", "list"]).run().success().stdout;
    assert_eq!(
        listed.matches("signs with    SHA256:").count(),
        3,
        "{listed}"
    );
    assert_eq!(
        ci_sees(&env, &token, "A").success().stdout,
        "value-of-a-1\n"
    );
}

/// Regression: a passphrase unlock took whatever key the seal held. The
/// seal binds the stored public key, but someone holding the passphrase
/// can seal another key under it: the unlocked key must yield the stored
/// public key, or the identity is damaged.
#[test]
fn an_unsealed_key_that_is_not_the_stored_keys_secret_is_refused() {
    use vault::crypto::{self, Aad, IdentitySecret, KdfParams};
    let env = Env::init();
    env.add("A", "value-of-a-1");
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    let vault_id: Vec<u8> = conn
        .query_row("SELECT id FROM vault", [], |r| r.get(0))
        .unwrap();
    let (id, public, salt, m, t, p): (Vec<u8>, Vec<u8>, Vec<u8>, u32, u32, u32) = conn
        .query_row(
            "SELECT id, public_key, kdf_salt, kdf_m, kdf_t, kdf_p FROM identities WHERE name = 'owner'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    let params = KdfParams { m_kib: m, t, p };
    let unlock = crypto::derive_unlock_key(PASSPHRASE.as_bytes(), &salt, params).unwrap();
    let aad = Aad::new("identity")
        .with(&vault_id)
        .with(&id)
        .with(b"person")
        .with(&public)
        .with(&salt)
        .with(&params.encode());
    let other = IdentitySecret::generate();
    let sealed = crypto::seal(&unlock, &aad, other.expose());
    conn.execute(
        "UPDATE identities SET sealed_key = ?1 WHERE name = 'owner'",
        [sealed],
    )
    .unwrap();
    drop(conn);
    let before = env.dump();
    env.vault(&["exec", "--", "printenv", "A"]).passphrase().run().fails(
        125,
        "integrity check failed for identity owner: the vault file was changed outside vault or is damaged",
        Some("restore the vault file from a backup or from version control"),
    );
    assert_eq!(env.dump(), before);
}
