//! Machine output added for scripts: `vault status --json` and
//! `vault exec --explain --json`, in the shapes their manual pages
//! document.

use serde_json::{json, Value};

use crate::support::Env;

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

#[test]
fn status_json_has_the_documented_shape() {
    let env = Env::new();
    let out = env
        .vault(&["status", "--json"])
        .run()
        .success()
        .stderr_is("");
    assert_eq!(
        parse(&out.stdout),
        json!({
            "vault": env.vault.display().to_string(),
            "format": null,
            "reads_up_to": vault::store::FORMAT_VERSION,
            "keyring": "not used: the unlock cache is off (VAULT_NO_KEYRING is set)",
        })
    );
    let env = Env::init();
    let out = env
        .vault(&["status", "--json"])
        .passphrase()
        .run()
        .success()
        .stderr_is("");
    let file = env.passphrase_file.display().to_string();
    assert_eq!(
        parse(&out.stdout),
        json!({
            "vault": env.vault.display().to_string(),
            "format": vault::store::FORMAT_VERSION,
            "reads_up_to": vault::store::FORMAT_VERSION,
            "permissions": "ok",
            "keyring": "not used: the unlock cache is off (VAULT_NO_KEYRING is set)",
            "identity": { "name": "owner", "kind": "person" },
            "next_unlock": "passphrase",
            "unlock_methods": [
                { "method": "access token", "available": false, "why": "VAULT_ACCESS_TOKEN is not set" },
                { "method": "cached key", "available": false, "why": "the unlock cache is off (VAULT_NO_KEYRING is set)" },
                { "method": "passphrase", "available": true, "why": format!("the passphrase file {file}") },
                { "method": "terminal", "available": false, "why": "no terminal (no /dev/tty)" },
            ],
        })
    );
    let out = env
        .vault(&["--as", "nobody", "status", "--json"])
        .run()
        .success();
    let status = parse(&out.stdout);
    assert_eq!(status["identity"], Value::Null);
    assert_eq!(status["identity_problem"], "no identity named nobody");
}

#[test]
fn explain_json_has_the_documented_shape_and_no_value() {
    let env = Env::init();
    env.add("API_KEY", "sk_live_4f9a8b7c");
    env.add("PIN", "123");
    let before = env.dump();
    let out = env
        .vault(&[
            "exec",
            "--explain",
            "--json",
            "--env",
            "TOKEN=API_KEY",
            "--only",
            "PIN",
        ])
        .passphrase()
        .run()
        .success()
        .stderr_is("");
    assert_eq!(
        parse(&out.stdout),
        json!({
            "identity": "owner",
            "command": null,
            "masking": { "on": true, "why": "stdout or stderr is not a terminal" },
            "secrets": [
                { "variable": "PIN", "secret": "PIN", "fate": "injected", "file": false, "text": "injected, too short to mask (under 6 bytes)" },
                { "variable": "TOKEN", "secret": "API_KEY", "fate": "injected", "file": false, "text": "injected, from API_KEY, masked" },
            ],
            "rendered": [],
            "refused": null,
        })
    );
    assert!(!out.stdout.contains("sk_live") && !out.stdout.contains("123"));
    let out = env
        .vault(&["exec", "--explain", "--json", "--service", "nope"])
        .passphrase()
        .run()
        .success();
    assert_eq!(
        parse(&out.stdout)["refused"],
        json!({
            "error": "no secret belongs to service nope",
            "hint": "`vault list` shows each secret's service",
        })
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn json_without_explain_is_refused_before_anything_runs() {
    let env = Env::init();
    let before = env.dump();
    env.vault(&["exec", "--json", "--", "touch", "ran"])
        .passphrase()
        .run()
        .code(125)
        .stdout_is("")
        .stderr_is(
            "error: the following required arguments were not provided:\n  --explain\n\n\
             Usage: vault exec [OPTIONS] -- COMMAND [ARGS]...\n\n\
             For more information, try '--help'.\n",
        );
    assert!(!env.path().join("ran").exists());
    assert_eq!(env.dump(), before);
}

#[test]
fn import_dry_run_json_names_what_would_happen() {
    let env = Env::init();
    env.add("TOKEN", "old-token-value");
    let file = env.path().join(".env");
    std::fs::write(&file, "NEW=new-value\nTOKEN=new-token\n").unwrap();
    let before = env.dump();
    for (overwrite, expected) in [
        (
            false,
            json!({ "add": ["NEW"], "rotate": [], "skip": ["TOKEN"] }),
        ),
        (
            true,
            json!({ "add": ["NEW"], "rotate": ["TOKEN"], "skip": [] }),
        ),
    ] {
        let mut args = vec!["import", ".env", "--dry-run", "--json"];
        if overwrite {
            args.push("--overwrite");
        }
        let out = env.vault(&args).run().success().stderr_is("");
        assert_eq!(parse(&out.stdout), expected);
        assert!(!out.stdout.contains("value") && !out.stdout.contains("new-token"));
    }
    assert_eq!(env.dump(), before);
}
