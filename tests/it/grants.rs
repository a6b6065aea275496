//! Identities and grants: access is enforced by which data keys were wrapped
//! for whom, so editing rows by hand gives nobody a secret.

use crate::support::{Env, Output, Run};

pub const BOB_PASSPHRASE: &str = "bob's own passphrase";

/// A vault with owner, a second person `bob` and a machine `ci`; returns
/// the env and ci's token.
pub fn team() -> (Env, String) {
    let env = Env::init();
    let bob_file = env.path().join("bob-passphrase");
    std::fs::write(&bob_file, BOB_PASSPHRASE).unwrap();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&bob_file)
        .passphrase()
        .run()
        .success()
        .stdout_is("added identity bob; it can use nothing until granted\n");
    let out = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success();
    let token = out.stdout.trim().to_owned();
    assert!(token.starts_with("vtk1_"), "{out:?}");
    (env, token)
}

pub fn as_bob(env: &Env, args: &[&str]) -> Run {
    env.vault(args)
        .env("VAULT_PASSPHRASE_FILE", env.path().join("bob-passphrase"))
        .env("VAULT_IDENTITY", "bob")
}

pub fn as_ci(env: &Env, token: &str, args: &[&str]) -> Run {
    env.vault(args).env("VAULT_ACCESS_TOKEN", token)
}

/// The names of the variables `exec` gives the child, among `names`.
pub fn seen(out: Output, names: &[&str]) -> Vec<String> {
    let out = out.success();
    names
        .iter()
        .filter_map(|n| {
            out.stdout
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{n}=")))
                .map(|v| format!("{n}={v}"))
        })
        .collect()
}

const FIVE: [&str; 5] = ["S1", "S2", "S3", "S4", "S5"];

#[test]
fn three_identities_see_exactly_what_they_were_given() {
    let (env, token) = team();
    for name in FIVE {
        env.add(name, &format!("{name}-v1"));
    }
    env.vault(&["grant", "S1", "S2", "--to", "ci"])
        .passphrase()
        .run()
        .success()
        .stdout_is("granted use access to S1 and S2 to ci\n");
    env.owner_runs(&["grant", "S3", "--to", "bob"]);

    let ci = as_ci(&env, &token, &["exec", "--mask", "never", "--", "env"]).run();
    assert_eq!(seen(ci, &FIVE), ["S1=S1-v1", "S2=S2-v1"]);
    let bob = as_bob(&env, &["exec", "--mask", "never", "--", "env"]).run();
    assert_eq!(seen(bob, &FIVE), ["S3=S3-v1"]);

    let before = env.dump();
    as_bob(&env, &["rotate", "S3"])
        .stdin("bob's value")
        .run()
        .code(2)
        .stderr_is(
            "error: identity bob cannot rotate S3: it has use access\n\
             hint: ask an identity that manages it to do this, or to grant you manage access\n",
        );
    assert_eq!(env.dump(), before);

    for name in ["S1", "S3"] {
        env.vault(&["rotate", name])
            .passphrase()
            .stdin(format!("{name}-v2"))
            .run()
            .success();
    }
    let ci = as_ci(&env, &token, &["exec", "--mask", "never", "--", "env"]).run();
    assert_eq!(seen(ci, &FIVE), ["S1=S1-v2", "S2=S2-v1"]);
    let bob = as_bob(&env, &["exec", "--mask", "never", "--", "env"]).run();
    assert_eq!(seen(bob, &FIVE), ["S3=S3-v2"]);

    env.vault(&["revoke", "S1", "S2", "--from", "ci"])
        .passphrase()
        .run()
        .success()
        .stdout_is("revoked the access of ci to S1 and S2\n");
    let ci = as_ci(&env, &token, &["exec", "--mask", "never", "--", "env"]).run();
    assert_eq!(seen(ci, &FIVE), Vec::<String>::new());
    let list = env.vault(&["list"]).run().success();
    for line in list
        .stdout
        .lines()
        .filter(|l| l.starts_with("S1 ") || l.starts_with("S2 "))
    {
        assert!(line.contains("needs rotation"), "{line}");
    }
    env.vault(&["rotate", "S1"])
        .passphrase()
        .stdin("S1-v3")
        .run()
        .success();
    let json = env.vault(&["list", "--json"]).run().success().stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let flags: Vec<(String, bool)> = json["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["needs_rotation"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(flags[0], ("S1".into(), false));
    assert_eq!(flags[1], ("S2".into(), true));
}

#[test]
fn list_shows_who_has_access_at_which_level() {
    let (env, _) = team();
    env.add("API", "v");
    env.owner_runs(&["grant", "API", "--to", "bob", "--manage"]);
    env.owner_runs(&["grant", "API", "--to", "ci", "--expires", "2099-01-01"]);
    env.vault(&["list"])
        .run()
        .success()
        .stdout_has("bob (manage), owner (manage), ci (use, until 2099-01-01)");
    let json = env.vault(&["identity", "list", "--json"]).run().success();
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let counts: Vec<(String, String, u64)> = json["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_owned(),
                i["kind"].as_str().unwrap().to_owned(),
                i["secrets"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("bob".into(), "person".into(), 1),
            ("ci".into(), "machine".into(), 1),
            ("owner".into(), "person".into(), 1)
        ]
    );
}

#[test]
fn a_manager_by_grant_can_rotate_rename_and_grant() {
    let (env, token) = team();
    env.add("API", "v1");
    env.owner_runs(&["grant", "API", "--to", "bob", "--manage"]);
    as_bob(&env, &["rotate", "API"]).stdin("v2").run().success();
    as_bob(&env, &["rename", "API", "API_KEY"]).run().success();
    as_bob(&env, &["grant", "API_KEY", "--to", "ci"])
        .run()
        .success();
    let ci = as_ci(&env, &token, &["exec", "--mask", "never", "--", "env"]).run();
    assert_eq!(seen(ci, &["API_KEY"]), ["API_KEY=v2"]);
    assert_eq!(env.value_of("API_KEY"), "v2");
}

#[test]
fn a_use_level_identity_cannot_change_a_secret() {
    let (env, _) = team();
    env.add("API", "v1");
    env.add("OTHER", "o");
    env.owner_runs(&["grant", "API", "--to", "bob"]);
    let before = env.dump();
    let cases: [(&[&str], &str); 4] = [
        (
            &["rename", "API", "NEW"],
            "identity bob cannot rename API: it has use access",
        ),
        (
            &["delete", "API", "--yes"],
            "identity bob cannot delete API: it has use access",
        ),
        (
            &["grant", "API", "--to", "ci"],
            "identity bob cannot grant API: it has use access",
        ),
        (
            &["revoke", "API", "--from", "owner"],
            "identity bob cannot revoke access to API: it has use access",
        ),
    ];
    for (args, message) in cases {
        as_bob(&env, args).run().error(message);
    }
    as_bob(&env, &["rotate", "OTHER"])
        .stdin("x")
        .run()
        .error("identity bob cannot rotate OTHER: it has no access");
    assert_eq!(env.dump(), before);
}

#[test]
fn hand_edited_access_rows_give_no_secret() {
    let (env, _) = team();
    env.add("MINE", "owner-only");
    env.add("SHARED", "shared-value");
    env.owner_runs(&["grant", "SHARED", "--to", "bob"]);

    // Raise bob's level by hand: the level is bound to the wrapped key.
    env.sql("UPDATE access SET level = 'manage' WHERE identity_id = (SELECT id FROM identities WHERE name = 'bob')");
    as_bob(&env, &["rotate", "SHARED"]).stdin("stolen").run()
        .error("integrity check failed for the access of bob to SHARED: the vault file was changed outside vault or is damaged");
    let out = as_bob(&env, &["exec", "--mask", "never", "--", "env"]).run();
    assert!(!out.stdout.contains("shared-value"));
    assert_eq!(env.value_of("SHARED"), "shared-value");

    // Point bob's row at another secret.
    env.sql("UPDATE access SET level = 'use', secret_id = (SELECT id FROM secrets WHERE name = 'MINE') \
             WHERE identity_id = (SELECT id FROM identities WHERE name = 'bob')");
    let out = as_bob(&env, &["exec", "--mask", "never", "--", "env"]).run();
    assert_eq!(out.code, Some(125), "{out:?}");
    assert!(
        out.stderr.contains(
            "trust check failed: the access of bob to MINE does not match its signature by owner"
        ),
        "{out:?}"
    );
    assert!(!out.stdout.contains("owner-only"));

    // Copy the owner's row to bob: wrapped for the owner, useless to bob.
    env.sql("DELETE FROM access WHERE identity_id = (SELECT id FROM identities WHERE name = 'bob'); \
             INSERT INTO access SELECT randomblob(16), secret_id, \
               (SELECT id FROM identities WHERE name = 'bob'), 'use', expires_at, writer_public, wrapped_key, granted_at, signer, sig, stmt \
             FROM access WHERE secret_id = (SELECT id FROM secrets WHERE name = 'MINE')");
    let out = as_bob(
        &env,
        &["exec", "--mask", "never", "--only", "MINE", "--", "env"],
    )
    .run();
    assert_eq!(out.code, Some(125), "{out:?}");
    assert!(
        out.stderr.contains(
            "trust check failed: the access of bob to MINE does not match its signature by owner"
        ),
        "{out:?}"
    );
    assert!(!out.stdout.contains("owner-only"));
}

#[test]
fn an_expired_grant_is_not_used() {
    let (env, token) = team();
    env.add("SHORT", "s");
    env.add("LONG", "l");
    env.owner_runs(&["grant", "SHORT", "--to", "ci", "--expires", "1s"]);
    env.owner_runs(&["grant", "LONG", "--to", "ci"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let out = as_ci(&env, &token, &["exec", "--mask", "never", "--", "env"]).run();
    assert_eq!(seen(out, &["SHORT", "LONG"]), ["LONG=l"]);
    as_ci(&env, &token, &["exec", "--mask", "never", "--", "env"])
        .run()
        .success()
        .stderr_has("not injecting SHORT: the access of ci to it has expired");
    as_ci(
        &env,
        &token,
        &["exec", "--mask", "never", "--only", "SHORT", "--", "env"],
    )
    .run()
    .code(125)
    .stderr_has("error: the access of ci to SHORT has expired\n");
    env.vault(&["list"])
        .run()
        .success()
        .stdout_has("ci (use, expired)");
}

#[test]
fn removing_an_identity_is_immediate() {
    let (env, token) = team();
    env.add("API", "v");
    env.owner_runs(&["grant", "API", "--to", "ci"]);
    env.vault(&["identity", "remove", "ci", "--yes"])
        .passphrase()
        .run()
        .success()
        .stdout_is("removed identity ci and all its access\n");
    as_ci(&env, &token, &["exec", "--mask", "never", "--", "env"])
        .run()
        .code(125)
        .stderr_is(
            "error: the access token belongs to no identity of this vault\n\
             hint: the identity may have been removed; ask for a new token\n",
        );
    env.vault(&["list"])
        .run()
        .success()
        .stdout_has("owner (manage)\n");
}

#[test]
fn unlocking_variables_never_reach_the_child() {
    let (env, token) = team();
    env.add("API", "v");
    env.owner_runs(&["grant", "API", "--to", "ci"]);
    let out = as_ci(&env, &token, &["exec", "--mask", "never", "--", "env"])
        .run()
        .success();
    assert!(!out.stdout.contains("VAULT_ACCESS_TOKEN"), "{out:?}");
    assert!(!out.stdout.contains(&token));
    let out = env
        .vault(&["exec", "--mask", "never", "--", "env"])
        .env("VAULT_PASSPHRASE", crate::support::PASSPHRASE)
        .run()
        .success();
    assert!(!out.stdout.contains("VAULT_PASSPHRASE"), "{out:?}");
    assert!(out.stdout.contains("VAULT_EXEC=1\n"));
}

#[test]
fn passwd_reseals_only_the_identity() {
    let env = Env::init();
    env.add("API", "v");
    let new_file = env.path().join("new-passphrase");
    std::fs::write(&new_file, "a new passphrase\n").unwrap();
    let secrets_before = env.dump();
    env.vault(&["passwd", "--new-passphrase-file"])
        .arg(&new_file)
        .passphrase()
        .run()
        .success()
        .stdout_is("changed the passphrase of owner\n");
    let after = env.dump();
    let secrets = |dump: &str| dump.split("secrets\n").nth(1).unwrap().to_owned();
    assert_eq!(
        secrets(&after),
        secrets(&secrets_before),
        "no secret re-encrypted"
    );
    env.vault(&["exec", "--mask", "never", "--", "true"])
        .passphrase()
        .run()
        .code(125)
        .stderr_has("error: wrong passphrase for identity owner\n");
    env.vault(&["exec", "--mask", "never", "--", "printenv", "API"])
        .env("VAULT_PASSPHRASE_FILE", &new_file)
        .run()
        .success()
        .stdout_is("v\n");
}

// --- bad input ---
