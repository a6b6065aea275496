//! `vault init`: creating a vault, and what it refuses.

use std::os::unix::fs::PermissionsExt;

use crate::support::{Env, PASSPHRASE};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn creates_the_vault_with_safe_modes() {
    let env = Env::new();
    env.vault(&["init", "--name", "alice"])
        .passphrase()
        .run()
        .success()
        .stdout_is(&format!(
            "created vault {} with identity alice\n",
            env.vault.display()
        ));
    assert_eq!(mode(&env.vault), 0o600);
    assert_eq!(mode(env.vault.parent().unwrap()), 0o700);
    env.vault(&["identity", "list"])
        .run()
        .success()
        .stdout_has("alice  person");
}

#[test]
fn takes_the_passphrase_from_the_environment() {
    let env = Env::new();
    env.vault(&["init", "--name", "ci-setup"])
        .env("VAULT_PASSPHRASE", PASSPHRASE)
        .run()
        .success();
    env.add("TOKEN", "abc");
    assert_eq!(env.value_of("TOKEN"), "abc");
}

#[test]
fn refuses_an_existing_vault_and_leaves_it() {
    let env = Env::init();
    env.add("KEEP", "value");
    let before = env.dump();
    env.vault(&["init"]).passphrase().run().error(&format!(
        "a vault already exists at {}",
        env.vault.display()
    ));
    assert_eq!(env.dump(), before);
}

#[test]
fn without_a_passphrase_or_terminal_fails_at_once() {
    let env = Env::new();
    env.vault(&["init", "--name", "bob"])
        .run()
        .error("no passphrase for identity bob: no terminal to ask on");
    assert!(!env.vault.exists());
}

#[test]
fn refuses_an_empty_passphrase_file() {
    let env = Env::new();
    let empty = env.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    env.vault(&["init", "--name", "bob", "--passphrase-file"])
        .arg(&empty)
        .run()
        .error(&format!("the passphrase file {} is empty", empty.display()));
    assert!(!env.vault.exists());
}

#[test]
fn refuses_an_invalid_identity_name() {
    let env = Env::new();
    env.vault(&["init", "--name", "bad name"])
        .passphrase()
        .run()
        .error("invalid identity name \"bad name\": it contains ' '");
    assert!(!env.vault.exists());
}

/// Regression: a 3-character passphrase was taken without a word.
#[test]
fn a_short_scripted_passphrase_is_taken_with_a_warning() {
    let env = Env::new();
    env.vault(&["init", "--name", "alice"])
        .env("VAULT_PASSPHRASE", "abc")
        .run()
        .success()
        .stdout_is(&format!(
            "created vault {} with identity alice\n",
            env.vault.display()
        ))
        .stderr_is(
            "warning: this passphrase has only 3 characters; one of 12 or more \
             (several words) resists guessing far better\n",
        );
    env.vault(&["init", "--name", "bob", "--vault"])
        .arg(env.path().join("other.db"))
        .env("VAULT_PASSPHRASE", "twelve chars")
        .run()
        .success()
        .stderr_is("");
}
