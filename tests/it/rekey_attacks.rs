//! The attacks `vault passwd --rekey` is for, done as an attacker does
//! them: the old passphrase with an old copy of the file, or its identity
//! row written back into the new file, reads nothing rotated since and
//! signs nothing a clone that saw the rekey accepts; a succession forked
//! from the old key (a rekey of the old copy) or a handover edited in the
//! file is refused, and nothing is lost.

use std::path::{Path, PathBuf};

use crate::rekey::{as_who, clone_dir, rekey, sees, team, write};
use crate::support::*;

/// A copy of the vault file `from` in a directory of its own, `name/`.
fn copy_in(env: &Env, from: &Path, name: &str) -> PathBuf {
    let dir = env.path().join(name);
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("vault.db");
    std::fs::copy(from, &path).unwrap();
    path
}

/// Writes bob's rows of `table` in the file `from` over bob's rows of
/// the vault, every column, as an attacker with the old file would.
fn put_back_bobs(env: &Env, table: &str, from: &Path) {
    let column = if table == "identities" {
        "id"
    } else {
        "identity_id"
    };
    env.sql(&format!(
        "PRAGMA foreign_keys = OFF; ATTACH '{}' AS old; \
         DELETE FROM {table} WHERE {column} = (SELECT id FROM identities WHERE name = 'bob'); \
         INSERT INTO {table} SELECT * FROM old.{table} \
           WHERE {column} = (SELECT id FROM old.identities WHERE name = 'bob'); \
         DETACH old;",
        from.display()
    ));
}

#[test]
fn an_old_copy_and_the_old_passphrase_read_nothing_rotated_and_sign_nothing_accepted() {
    let (env, _) = team();
    let old = env.path().join("old.db");
    std::fs::copy(&env.vault, &old).unwrap();
    rekey(&env, "bob", "bob-passphrase", "bob-2");
    as_who(&env, "carol", "carol-passphrase", &["rotate", "A"])
        .stdin("value-of-a-2")
        .run()
        .success();
    let kept = env.path().join("kept.db");
    std::fs::copy(&env.vault, &kept).unwrap();

    // The attacker takes the old copy, with A as rotated since, and
    // unlocks bob's old sealed key with the old passphrase, in a clone of
    // their own: A's new data key is wrapped for bob's new key only.
    let attack_vault = copy_in(&env, &old, "attack");
    let conn = rusqlite::Connection::open(&attack_vault).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF; ATTACH '{}' AS new; \
         DELETE FROM access WHERE secret_id IN (SELECT id FROM secrets WHERE name = 'A'); \
         DELETE FROM secrets WHERE name = 'A'; \
         INSERT INTO secrets SELECT * FROM new.secrets WHERE name = 'A'; \
         INSERT INTO access SELECT * FROM new.access \
           WHERE secret_id = (SELECT id FROM new.secrets WHERE name = 'A'); \
         DETACH new;",
        env.vault.display()
    ))
    .unwrap();
    drop(conn);
    let attacker = clone_dir(&env, "attacker");
    let attack_before = std::fs::read(&attack_vault).unwrap();
    as_who(&env, "bob", "bob-passphrase", &["exec", "--mask", "never", "--", "printenv", "A"])
        .env("VAULT_PATH", &attack_vault)
        .env("XDG_DATA_HOME", &attacker)
        .run()
        .fails(
            125,
            "integrity check failed for the access of bob to A: the vault file was changed outside vault or is damaged",
            Some("restore the vault file from a backup or from version control"),
        );
    assert_eq!(std::fs::read(&attack_vault).unwrap(), attack_before);
    // Then they put bob's old sealed key back into the new file.
    put_back_bobs(&env, "identities", &old);
    put_back_bobs(&env, "audit_keys", &old);
    // Its writes are signed with the old key.
    as_who(&env, "bob", "bob-passphrase", &["add", "EVIL"])
        .env("XDG_DATA_HOME", &attacker)
        .stdin("planted")
        .run()
        .success();
    // The owner's clone saw bob's new keys: it refuses the file.
    let hint = "someone holding an old passphrase of bob may have signed keys of their own: restore the file from a copy you trust; if you put an older copy back on purpose, run `vault trust accept`";
    let message = "trust check failed: identity bob holds keys this clone did not see it change to (a key succession forked from one of its earlier keys, or an older copy of the file put back)";
    env.refuses(
        env.vault(&["exec", "--mask", "never", "--", "printenv", "EVIL"])
            .passphrase(),
        125,
        message,
        Some(hint),
    );
    env.refuses(
        env.vault(&["rotate", "A"])
            .passphrase()
            .stdin("value-of-a-3"),
        2,
        message,
        Some(hint),
    );
    // Nothing was lost: the file as it was reads as before.
    std::fs::copy(&kept, &env.vault).unwrap();
    assert_eq!(env.value_of("A"), "value-of-a-2");
    assert_eq!(sees(&env, "bob", "bob-2-file", &["A"]), "value-of-a-2\n");
}

#[test]
fn a_succession_forked_from_the_old_key_is_refused_by_a_clone_that_saw_the_real_one() {
    let (env, _) = team();
    let old = env.path().join("old.db");
    std::fs::copy(&env.vault, &old).unwrap();
    rekey(&env, "bob", "bob-passphrase", "bob-2");
    env.owner_runs(&["list"]);
    assert_eq!(env.value_of("A"), "value-of-a-1");
    let kept = env.path().join("kept.db");
    std::fs::copy(&env.vault, &kept).unwrap();

    // The attacker rekeys bob in the old copy with the old passphrase: a
    // handover from bob's old key to keys of their own, which verifies.
    let forked_vault = copy_in(&env, &old, "forked");
    write(&env, "evil", "the attacker's passphrase");
    as_who(
        &env,
        "bob",
        "bob-passphrase",
        &["passwd", "--rekey", "--new-passphrase-file"],
    )
    .arg(env.path().join("evil"))
    .env("VAULT_PATH", &forked_vault)
    .env("XDG_DATA_HOME", clone_dir(&env, "attacker"))
    .run()
    .success();
    put_back_bobs(&env, "identities", &forked_vault);
    let out = env
        .vault(&["git", "textconv"])
        .arg(&env.vault)
        .run()
        .success();
    assert!(out.stdout.contains("\nidentity bob\n"), "{out:?}");
    assert!(out.stdout.contains("  rekeyed once\n"), "{out:?}");

    let hint = "someone holding an old passphrase of bob may have signed keys of their own: restore the file from a copy you trust; if you put an older copy back on purpose, run `vault trust accept`";
    env.refuses(
        env.vault(&["exec", "--mask", "never", "--", "printenv", "A"]).passphrase(),
        125,
        "trust check failed: identity bob holds keys this clone did not see it change to (a key succession forked from one of its earlier keys, or an older copy of the file put back)",
        Some(hint),
    );
    // `vault trust accept` takes a file as it is, on purpose: the forked
    // one, then the real one back.
    env.vault(&["trust", "accept"]).run().success();
    assert_eq!(env.value_of("A"), "value-of-a-1");
    std::fs::copy(&kept, &env.vault).unwrap();
    env.vault(&["exec", "--mask", "never", "--", "true"])
        .passphrase()
        .run()
        .code(125);
    env.vault(&["trust", "accept"]).run().success();
    assert_eq!(env.value_of("A"), "value-of-a-1");
    assert_eq!(sees(&env, "bob", "bob-2-file", &["B"]), "value-of-b-1\n");
}

#[test]
fn a_handover_edited_in_the_file_is_refused() {
    let (env, _) = team();
    rekey(&env, "bob", "bob-passphrase", "bob-2");
    let mut succession = env.blob("identities", "succession", "name = 'bob'");
    assert_eq!(succession.len(), 128);
    succession[100] ^= 1;
    env.set_blob("identities", "succession", "name = 'bob'", &succession);
    env.refuses(
        env.vault(&["rotate", "A"]).passphrase().stdin("value-of-a-2"),
        2,
        "trust check failed: identity bob: its key succession does not verify (a key it handed over to was changed in the file)",
        Some("someone changed the vault file outside vault: restore it from a copy you trust (`git log -p` on the file shows who changed it)"),
    );
}
