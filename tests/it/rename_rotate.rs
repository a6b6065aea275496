//! `vault rename` and `vault rotate`: a new name keeps everything else; a
//! new value gets a new version under a new data key, and every grantee
//! keeps working.

use crate::support::Env;

const BOB_PASSPHRASE: &str = "bob's own passphrase";

/// A vault with `API_KEY` (service `billing`) that `bob` may use.
fn shared() -> Env {
    let env = Env::init();
    env.vault(&["add", "API_KEY", "-s", "billing", "-d", "the key"])
        .passphrase()
        .stdin("first value")
        .run()
        .success();
    let bob_file = env.path().join("bob-passphrase");
    std::fs::write(&bob_file, BOB_PASSPHRASE).unwrap();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&bob_file)
        .passphrase()
        .run()
        .success();
    env.owner_runs(&["grant", "API_KEY", "--to", "bob"]);
    env
}

/// What `bob` sees for `name` in exec.
fn bob_sees(env: &Env, name: &str) -> String {
    env.vault(&[
        "exec", "--mask", "never", "--as", "bob", "--only", name, "--", "printenv", name,
    ])
    .env("VAULT_PASSPHRASE", BOB_PASSPHRASE)
    .run()
    .success()
    .stdout
}

/// `list --json`'s entry for `name`.
fn entry(env: &Env, name: &str) -> serde_json::Value {
    let json = env.vault(&["list", "--json"]).run().success().stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    json["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed"))
        .clone()
}

#[test]
fn rename_keeps_value_version_dates_and_access() {
    let env = shared();
    env.vault(&["rotate", "API_KEY"])
        .passphrase()
        .stdin("second value")
        .run()
        .success();
    let mut before = entry(&env, "API_KEY");
    env.vault(&["rename", "API_KEY", "PAYMENTS_KEY"])
        .passphrase()
        .run()
        .success()
        .stdout_is("renamed API_KEY to PAYMENTS_KEY\n")
        .stderr_is("");
    before["name"] = "PAYMENTS_KEY".into();
    assert_eq!(entry(&env, "PAYMENTS_KEY"), before);
    assert_eq!(before["version"], 2);
    assert_eq!(env.value_of("PAYMENTS_KEY"), "second value");
    assert_eq!(bob_sees(&env, "PAYMENTS_KEY"), "second value\n");
    env.vault(&["exec", "--mask", "never", "--only", "API_KEY", "--", "true"])
        .passphrase()
        .run()
        .fails(
            125,
            "no secret named API_KEY",
            Some("`vault list` shows the names"),
        );
}

#[test]
fn rename_refuses_a_taken_name() {
    let env = shared();
    env.add("OTHER", "other value");
    env.refuses(
        env.vault(&["rename", "API_KEY", "OTHER"]).passphrase(),
        2,
        "cannot rename to OTHER: a secret of that name already exists",
        Some("choose another name, or delete that secret first"),
    );
    assert_eq!(env.value_of("OTHER"), "other value");
}

#[test]
fn rename_refuses_a_missing_name() {
    let env = shared();
    env.refuses(
        env.vault(&["rename", "NOPE", "NEW_NAME"]).passphrase(),
        2,
        "no secret named NOPE",
        Some("`vault list` shows the names"),
    );
}

#[test]
fn rename_refuses_an_invalid_new_name() {
    let env = shared();
    env.refuses(
        env.vault(&["rename", "API_KEY", "API-KEY"])
        .passphrase(),
        2,
            "invalid secret name \"API-KEY\": it contains '-'",
            Some("names are environment variable names: letters, digits and _, not starting with a digit"),
    );
}

#[test]
fn rename_refuses_a_dangerous_new_name_unless_allowed() {
    let env = shared();
    env.refuses(
        env.vault(&["rename", "API_KEY", "LD_PRELOAD"]).passphrase(),
        2,
        "invalid secret name \"LD_PRELOAD\": it lets a value make the dynamic loader load or trace code it names",
        Some("pass --allow-dangerous-name if you really mean it"),
    );
    env.vault(&[
        "rename",
        "API_KEY",
        "NODE_OPTIONS",
        "--allow-dangerous-name",
    ])
    .passphrase()
    .run()
    .success()
    .stdout_is("renamed API_KEY to NODE_OPTIONS\n");
}

#[test]
fn rename_refuses_a_wrong_passphrase() {
    let env = shared();
    env.refuses(
        env.vault(&["rename", "API_KEY", "NEW_NAME"])
            .env("VAULT_PASSPHRASE", "wrong"),
        2,
        "wrong passphrase for identity owner",
        Some("try again; a wrong passphrase changes nothing"),
    );
}

#[test]
fn rotate_bumps_the_version_and_replaces_the_value() {
    let env = shared();
    let sealed_before = env.blob("secrets", "sealed_value", "name = 'API_KEY'");
    let wrapped_before = env.blob("access", "wrapped_key", "level = 'use'");
    let before = entry(&env, "API_KEY");
    env.vault(&["rotate", "API_KEY"])
        .passphrase()
        .stdin("second value\n")
        .run()
        .success()
        .stdout_is("rotated API_KEY to version 2\n")
        .stderr_is("");
    let after = entry(&env, "API_KEY");
    assert_eq!(after["version"], 2);
    assert_eq!(after["created"], before["created"]);
    assert_eq!(after["access"], before["access"]);
    assert!(
        env.int("secrets", "rotated_at", "name = 'API_KEY'")
            >= env.int("secrets", "created_at", "name = 'API_KEY'")
    );
    assert_eq!(env.value_of("API_KEY"), "second value");
    // Every grantee's data key was re-wrapped: bob goes on unchanged.
    assert_eq!(bob_sees(&env, "API_KEY"), "second value\n");
    assert_ne!(
        env.blob("secrets", "sealed_value", "name = 'API_KEY'"),
        sealed_before
    );
    assert_ne!(
        env.blob("access", "wrapped_key", "level = 'use'"),
        wrapped_before
    );
    let bytes = env.vault_bytes();
    assert!(!bytes.windows(11).any(|w| w == b"first value"));
}

#[test]
fn rotate_reads_a_file_and_sets_a_new_expiry() {
    let env = shared();
    let file = env.path().join("new-value");
    std::fs::write(&file, "from a file\n").unwrap();
    env.vault(&[
        "rotate",
        "API_KEY",
        "--expires",
        "2099-12-31",
        "--from-file",
    ])
    .arg(&file)
    .passphrase()
    .run()
    .success()
    .stdout_is("rotated API_KEY to version 2\n");
    assert_eq!(env.value_of("API_KEY"), "from a file");
    assert_eq!(entry(&env, "API_KEY")["expires"], "2099-12-31T00:00:00Z");
}

#[test]
fn rotate_clears_needs_rotation_after_a_revoke() {
    let env = shared();
    env.owner_runs(&["revoke", "API_KEY", "--from", "bob"]);
    assert_eq!(entry(&env, "API_KEY")["needs_rotation"], true);
    env.vault(&["rotate", "API_KEY"])
        .passphrase()
        .stdin("fresh")
        .run()
        .success();
    assert_eq!(entry(&env, "API_KEY")["needs_rotation"], false);
}

#[test]
fn rotate_refuses_a_missing_name() {
    let env = shared();
    env.refuses(
        env.vault(&["rotate", "NOPE"]).passphrase().stdin("v"),
        2,
        "no secret named NOPE",
        Some("`vault list` shows the names"),
    );
}

#[test]
fn rotate_refuses_an_empty_value() {
    let env = shared();
    env.refuses(
        env.vault(&["rotate", "API_KEY"]).passphrase(),
        2,
        "the value of API_KEY is empty",
        Some("pass --allow-empty to store an empty value"),
    );
}

#[test]
fn rotate_refuses_a_value_with_a_nul_byte() {
    let env = shared();
    env.refuses(
        env.vault(&["rotate", "API_KEY"]).passphrase().stdin("a\0b"),
        2,
        "the value of API_KEY contains a NUL byte, which an environment variable cannot hold",
        None,
    );
}

#[test]
fn rotate_refuses_an_expiry_in_the_past() {
    let env = shared();
    env.refuses(
        env.vault(&["rotate", "API_KEY", "--expires", "1999-12-31"])
            .passphrase()
            .stdin("v"),
        2,
        "invalid time \"1999-12-31\": it is in the past",
        Some("use a date (2027-01-31) or a duration (90d, 12h)"),
    );
}

#[test]
fn rotate_refuses_a_wrong_passphrase() {
    let env = shared();
    env.refuses(
        env.vault(&["rotate", "API_KEY"])
            .env("VAULT_PASSPHRASE", "wrong")
            .stdin("v"),
        2,
        "wrong passphrase for identity owner",
        Some("try again; a wrong passphrase changes nothing"),
    );
}
