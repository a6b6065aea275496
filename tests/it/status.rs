//! `vault status` (and its alias `doctor`): what the next command would do
//! and why, without unlocking and without showing anything secret.
//!
//! The harness turns the keyring off; status with a real keyring is tested
//! in keyring.rs.

use std::os::unix::fs::PermissionsExt;

use crate::support::{Env, PASSPHRASE};

const CACHE_OFF: &str = "the unlock cache is off (VAULT_NO_KEYRING is set)";

/// The report for the owner of `env`'s vault, with these method lines.
fn report(env: &Env, permissions: &str, identity: &str, next: &str, methods: [&str; 4]) -> String {
    format!(
        "vault:              {}\n\
         format:             {format} (this vault reads up to {format})\n\
         permissions:        {permissions}\n\
         keyring:            not used: {CACHE_OFF}\n\
         identity:           {identity}\n\
         next unlock:        {next}\n  \
         1. access token:  {}\n  \
         2. cached key:    {}\n  \
         3. passphrase:    {}\n  \
         4. terminal:      {}\n",
        env.vault.display(),
        methods[0],
        methods[1],
        methods[2],
        methods[3],
        format = vault::store::FORMAT_VERSION,
    )
}

const NO_TOKEN: &str = "no, VAULT_ACCESS_TOKEN is not set";
const NO_PASSPHRASE: &str = "no, no --passphrase-file, VAULT_PASSPHRASE_FILE or VAULT_PASSPHRASE";
const NO_TERMINAL: &str = "no, no terminal (no /dev/tty)";

#[test]
fn works_while_locked_and_says_why_nothing_can_unlock() {
    let env = Env::init();
    let expected = report(
        &env,
        "ok",
        "owner (person)",
        "none: every command that needs a key will fail",
        [
            NO_TOKEN,
            &format!("no, {CACHE_OFF}"),
            NO_PASSPHRASE,
            NO_TERMINAL,
        ],
    );
    env.vault(&["status"])
        .run()
        .success()
        .stdout_is(&expected)
        .stderr_is("");
    env.vault(&["doctor"]).run().success().stdout_is(&expected);
}

#[test]
fn names_the_passphrase_file_but_never_a_passphrase() {
    let env = Env::init();
    let file = format!("yes, the passphrase file {}", env.passphrase_file.display());
    env.vault(&["status"])
        .passphrase()
        .run()
        .success()
        .stdout_is(&report(
            &env,
            "ok",
            "owner (person)",
            "passphrase",
            [NO_TOKEN, &format!("no, {CACHE_OFF}"), &file, NO_TERMINAL],
        ));
    let out = env
        .vault(&["status"])
        .env("VAULT_PASSPHRASE", PASSPHRASE)
        .run()
        .success()
        .stdout_has("  3. passphrase:    yes, VAULT_PASSPHRASE\n");
    assert!(!out.stdout.contains(PASSPHRASE) && !out.stderr.contains(PASSPHRASE));
}

#[test]
fn an_access_token_comes_first_and_is_never_shown() {
    let env = Env::init();
    let token = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success()
        .stdout;
    let token = token.trim_end();
    let only_people = "no, only for a person's identity";
    let out = env
        .vault(&["status"])
        .env("VAULT_ACCESS_TOKEN", token)
        .run()
        .success()
        .stdout_is(&report(
            &env,
            "ok",
            "ci (machine)",
            "access token",
            [
                "yes, VAULT_ACCESS_TOKEN is set",
                only_people,
                only_people,
                only_people,
            ],
        ));
    assert!(!out.stdout.contains(token));
    env.vault(&["--as", "ci", "status"])
        .run()
        .success()
        .stdout_has("next unlock:        none: every command that needs a key will fail\n");
}

#[test]
fn tells_when_others_can_read_the_vault_file() {
    let env = Env::init();
    std::fs::set_permissions(&env.vault, std::fs::Permissions::from_mode(0o644)).unwrap();
    let path = env.vault.display();
    env.vault(&["status"]).run().success().stdout_has(&format!(
        "permissions:        {path} is mode 0644, run: chmod 600 {path}\n"
    ));
}

#[test]
fn tells_when_there_is_no_vault_yet() {
    let env = Env::new();
    env.vault(&["status"]).run().success().stdout_is(&format!(
        "vault:              {}\n\
         format:             no vault here yet: `vault init` creates one\n\
         keyring:            not used: {CACHE_OFF}\n",
        env.vault.display()
    ));
    assert!(!env.vault.exists());
}

#[test]
fn refuses_a_file_that_is_not_a_vault_and_leaves_it() {
    let env = Env::new();
    std::fs::create_dir_all(env.vault.parent().unwrap()).unwrap();
    std::fs::write(&env.vault, "just some text, long enough to read\n").unwrap();
    env.vault(&["status"]).run().error(&format!(
        "{} is not a vault file: it is not a SQLite database",
        env.vault.display()
    ));
    assert_eq!(
        std::fs::read_to_string(&env.vault).unwrap(),
        "just some text, long enough to read\n"
    );
}

#[test]
fn names_an_unknown_identity() {
    let env = Env::init();
    env.vault(&["--as", "nobody", "status"])
        .run()
        .success()
        .stdout_has("identity:           none: no identity named nobody\n");
}
