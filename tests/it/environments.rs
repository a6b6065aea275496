//! Environments: one name, one secret per environment, each with its own
//! data key and grants; the environment signed and sealed with the row, so
//! an identity granted prod only cannot get a dev value by editing the
//! file; and an older file upgraded with every secret and grant kept.

use crate::support::Env;

const TRUST_HINT: &str = "someone changed the vault file outside vault: restore it from a copy you trust (`git log -p` on the file shows who changed it)";

/// A vault with K shared, K in dev and K in prod, and a machine
/// identity ci granted the prod one only; returns ci's token.
fn three() -> (Env, String) {
    let env = Env::init();
    env.add("K", "shared-value-1");
    for e in ["dev", "prod"] {
        env.vault(&["add", "K", "--environment", e])
            .passphrase()
            .stdin(format!("{e}-value-1"))
            .run()
            .success()
            .stdout_is(&format!("added K in environment {e}\n"));
    }
    let out = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success();
    let token = out.stdout.trim().to_owned();
    env.owner_runs(&["grant", "K", "--to", "ci", "--environment", "prod"]);
    (env, token)
}

fn printenv(env: &Env, environment: Option<&str>) -> crate::support::Run {
    let mut args = vec!["exec", "--mask", "never"];
    if let Some(e) = environment {
        args.extend(["--environment", e]);
    }
    args.extend(["--", "printenv", "K"]);
    env.vault(&args)
}

#[test]
fn each_environment_gets_its_own_value_and_the_shared_one_fills_in() {
    let (env, _) = three();
    for (e, want) in [
        (None, "shared-value-1\n"),
        (Some("dev"), "dev-value-1\n"),
        (Some("prod"), "prod-value-1\n"),
        (Some("staging"), "shared-value-1\n"),
    ] {
        printenv(&env, e)
            .passphrase()
            .run()
            .success()
            .stdout_is(want);
    }
    // VAULT_ENVIRONMENT chooses too; --environment wins over it.
    printenv(&env, None)
        .env("VAULT_ENVIRONMENT", "dev")
        .passphrase()
        .run()
        .success()
        .stdout_is("dev-value-1\n");
    printenv(&env, Some("prod"))
        .env("VAULT_ENVIRONMENT", "dev")
        .passphrase()
        .run()
        .success()
        .stdout_is("prod-value-1\n");
}

/// A fresh clone that sees `K (dev)` first still takes the shared `K`
/// as another secret, not as `K` deleted and added again.
#[test]
fn a_fresh_clone_tells_one_name_in_two_environments_apart() {
    let (env, _) = three();
    std::fs::remove_dir_all(env.path().join("xdg").join("vault").join("trust")).unwrap();
    printenv(&env, Some("dev"))
        .passphrase()
        .run()
        .success()
        .stdout_is("dev-value-1\n");
    printenv(&env, None)
        .passphrase()
        .run()
        .success()
        .stdout_is("shared-value-1\n");
    printenv(&env, Some("prod"))
        .passphrase()
        .run()
        .success()
        .stdout_is("prod-value-1\n");
    printenv(&env, Some("dev"))
        .passphrase()
        .run()
        .success()
        .stdout_is("dev-value-1\n");
}

#[test]
fn list_shows_the_environment_column_and_filters_by_it() {
    let (env, _) = three();
    let out = env.vault(&["list"]).run().success();
    let names: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split("  ").next().unwrap())
        .collect();
    assert_eq!(names, ["NAME", "K", "K", "K"], "{}", out.stdout);
    let environments: Vec<String> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(environments, ["ENVIRONMENT", "(shared)", "dev", "prod"]);
    let out = env
        .vault(&["list", "--environment", "dev", "--json"])
        .run()
        .success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let seen: Vec<&serde_json::Value> = json["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["environment"])
        .collect();
    assert_eq!(seen, [&serde_json::Value::Null, &serde_json::json!("dev")]);
}

#[test]
fn a_prod_only_identity_gets_nothing_of_dev() {
    let (env, token) = three();
    let ci = |e: &str| printenv(&env, Some(e)).env("VAULT_ACCESS_TOKEN", &token);
    ci("prod").run().success().stdout_is("prod-value-1\n");
    let before = env.dump();
    let out = env
        .vault(&[
            "exec",
            "--mask",
            "never",
            "--environment",
            "dev",
            "--only",
            "K",
            "--",
            "printenv",
            "K",
        ])
        .env("VAULT_ACCESS_TOKEN", &token)
        .run();
    assert_eq!(out.stdout, "");
    out.fails(
        125,
        "identity ci cannot use K (dev): it has no access",
        Some("an identity that manages K (dev) can grant it: `vault grant K --environment dev --to ci`"),
    );
    assert_eq!(env.dump(), before);
}

/// Whoever can write the file points ci's prod access row at the dev
/// secret: the wrapped key is bound to the prod secret's id, and the row
/// to its writer's signature, so ci gets an error, never the dev value.
#[test]
fn access_rows_edited_by_hand_give_an_integrity_error_never_a_dev_value() {
    let (env, token) = three();
    let script = format!(
        "import sqlite3, sys\n\
         c = sqlite3.connect({:?})\n\
         dev = c.execute(\"SELECT id FROM secrets WHERE name = 'K' AND environment = 'dev'\").fetchone()[0]\n\
         ci = c.execute(\"SELECT id FROM identities WHERE name = 'ci'\").fetchone()[0]\n\
         c.execute('UPDATE access SET secret_id = ? WHERE identity_id = ?', (dev, ci))\n\
         c.commit()\n",
        env.vault.display().to_string()
    );
    let status = std::process::Command::new("python3")
        .args(["-c", &script])
        .status()
        .expect("python3");
    assert!(status.success());
    // In prod, ci now holds no prod grant: the program runs without K.
    let out = printenv(&env, Some("prod"))
        .env("VAULT_ACCESS_TOKEN", &token)
        .run();
    assert_eq!((out.code, out.stdout.as_str()), (Some(1), ""), "{out:?}");
    let out = printenv(&env, Some("dev"))
        .env("VAULT_ACCESS_TOKEN", &token)
        .run();
    out.fails(
        125,
        "trust check failed: the access of ci to K (dev) does not match its signature by owner (it was changed in the file)",
        Some(TRUST_HINT),
    );
}

/// Moving a secret between environments by hand (the dev row relabelled
/// prod) breaks the writer's signature over its environment.
#[test]
fn an_environment_edited_by_hand_is_refused() {
    let (env, _) = three();
    env.sql(
        "DELETE FROM secrets WHERE name = 'K' AND environment = 'prod'; \
         UPDATE secrets SET environment = 'prod' WHERE name = 'K' AND environment = 'dev';",
    );
    let out = printenv(&env, Some("prod")).passphrase().run();
    assert!(!out.stdout.contains("dev-value"), "{out:?}");
    out.fails(
        125,
        "trust check failed: the value of secret K (prod) does not match its signature by owner (it was changed in the file)",
        Some(TRUST_HINT),
    );
}

#[test]
fn commands_act_on_the_secret_of_their_environment() {
    let (env, _) = three();
    env.vault(&["rotate", "K", "--environment", "dev"])
        .passphrase()
        .stdin("dev-value-2")
        .run()
        .success()
        .stdout_is("rotated K to version 2\n");
    printenv(&env, Some("dev"))
        .passphrase()
        .run()
        .success()
        .stdout_is("dev-value-2\n");
    printenv(&env, Some("prod"))
        .passphrase()
        .run()
        .success()
        .stdout_is("prod-value-1\n");
    printenv(&env, None)
        .passphrase()
        .run()
        .success()
        .stdout_is("shared-value-1\n");
    // A second secret of one name in one environment is refused.
    env.refuses(
        env.vault(&["add", "K", "--environment", "prod"])
            .passphrase()
            .stdin("x-value"),
        2,
        "a secret named K (prod) already exists",
        Some("to replace its value, use `vault rotate K --environment prod`"),
    );
    // delete never falls back to the shared secret.
    env.refuses(
        env.vault(&["delete", "K", "--environment", "staging", "--yes"]).passphrase(),
        2,
        "no secret named K in environment staging",
        Some("K is in: shared, dev, prod; leave out --environment (and VAULT_ENVIRONMENT) for the shared one, or add one for staging: vault add K --environment staging"),
    );
    env.vault(&["delete", "K", "--environment", "dev", "--yes"])
        .passphrase()
        .run()
        .success()
        .stdout_is("deleted K in environment dev\n");
    printenv(&env, Some("dev"))
        .passphrase()
        .run()
        .success()
        .stdout_is("shared-value-1\n");
}

#[test]
fn a_name_only_in_environments_asks_for_one() {
    let env = Env::init();
    env.vault(&["add", "ONLY", "--environment", "prod"])
        .passphrase()
        .stdin("prod-only-1")
        .run()
        .success();
    env.refuses(
        env.vault(&["rotate", "ONLY"]).passphrase().stdin("x-value"),
        2,
        "no secret named ONLY shared by all environments",
        Some("ONLY is in: prod; choose one with --environment ENV"),
    );
    env.refuses(
        env.vault(&["add", "ONLY", "--environment", "not ok"])
            .passphrase()
            .stdin("x"),
        2,
        "invalid environment name \"not ok\": it contains ' '",
        Some("environment names use letters, digits and . _ -, starting with a letter or digit"),
    );
}

/// `secrets` as it was before environments: no environment, names
/// unique (the file then says the format before `ENVIRONMENTS_FORMAT`).
const TO_BEFORE_ENVIRONMENTS: &str = "\
    PRAGMA foreign_keys = OFF; CREATE TABLE secrets3 (id BLOB PRIMARY KEY CHECK (length(id) = 16), name TEXT NOT NULL UNIQUE, \
    service TEXT, description TEXT, version INTEGER NOT NULL, created_at INTEGER NOT NULL, \
    rotated_at INTEGER NOT NULL, expires_at INTEGER, needs_rotation INTEGER NOT NULL DEFAULT 0, \
    rotate_every INTEGER, sealed_value BLOB NOT NULL, creator BLOB NOT NULL DEFAULT X'', \
    id_nonce BLOB NOT NULL DEFAULT X'', generation INTEGER NOT NULL DEFAULT 0, \
    managers BLOB NOT NULL DEFAULT X'', managers_epoch INTEGER NOT NULL DEFAULT 0, \
    managers_by BLOB NOT NULL DEFAULT X'', managers_sig BLOB NOT NULL DEFAULT X'', \
    signer BLOB NOT NULL DEFAULT X'', sig BLOB NOT NULL DEFAULT X'', \
    fingerprints BLOB NOT NULL DEFAULT X''); \
    INSERT INTO secrets3 SELECT id, name, service, description, version, created_at, rotated_at, \
    expires_at, needs_rotation, rotate_every, sealed_value, creator, id_nonce, generation, \
    managers, managers_epoch, managers_by, managers_sig, signer, sig, fingerprints FROM secrets; \
    DROP TABLE secrets; ALTER TABLE secrets3 RENAME TO secrets; \
    CREATE INDEX secrets_by_service ON secrets (service); \
    CREATE INDEX secrets_unfingerprinted ON secrets (id) WHERE length(fingerprints) = 0; \
    ALTER TABLE identities DROP COLUMN succession; ALTER TABLE identities DROP COLUMN retired_keys; \
    DROP TABLE statements; ALTER TABLE access DROP COLUMN stmt; DROP TABLE bundles; DROP INDEX access_marks;";

#[test]
fn a_file_from_before_environments_upgrades_keeping_every_secret_and_grant() {
    let env = Env::init();
    env.add("A", "value-of-a-1");
    env.add("B", "value-of-b-1");
    let out = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success();
    let token = out.stdout.trim().to_owned();
    env.owner_runs(&["grant", "A", "B", "--to", "ci"]);
    let before = vault::store::ENVIRONMENTS_FORMAT - 1;
    env.sql(&format!(
        "{TO_BEFORE_ENVIRONMENTS} PRAGMA user_version = {before};"
    ));
    let count = |table: &str| env.int(table, "count(*)", "1");
    assert_eq!((count("secrets"), count("access")), (2, 4));
    assert_eq!(env.int("pragma_user_version", "user_version", "1"), before);
    // A blob of the git history from before still reads as text, untouched.
    let old = env.path().join("old.db");
    std::fs::copy(&env.vault, &old).unwrap();
    let before = std::fs::read(&old).unwrap();
    let out = env.vault(&["git", "textconv"]).arg(&old).run().success();
    assert!(
        out.stdout.contains("\nsecret A\n") && out.stdout.contains("\nsecret B\n"),
        "{}",
        out.stdout
    );
    assert_eq!(std::fs::read(&old).unwrap(), before);
    // exec migrates (a write transaction), then runs.
    let out = env
        .vault(&["exec", "--mask", "never", "--", "sh", "-c", "echo $A $B"])
        .env("VAULT_ACCESS_TOKEN", &token)
        .run()
        .success();
    assert_eq!(out.stdout, "value-of-a-1 value-of-b-1\n");
    assert_eq!((count("secrets"), count("access")), (2, 4));
    assert_eq!(
        env.int("pragma_user_version", "user_version", "1"),
        vault::store::FORMAT_VERSION
    );
    assert_eq!(env.value_of("A"), "value-of-a-1");
    // And the name is unique per environment now.
    env.vault(&["add", "A", "--environment", "prod"])
        .passphrase()
        .stdin("value-of-a-prod")
        .run()
        .success();
    env.vault(&["audit", "verify"]).passphrase().run().success();
}
