//! The unlock cache, for real, in the Linux kernel keyring.
//!
//! Every test that lets vault use a keyring gives it a throwaway session
//! keyring of its own (`SessionKeyring`), so the suite never touches the
//! keyring of the user running it. Tests without one show what happens
//! where there is no keyring (headless, containers, CI).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::session_keyring::SessionKeyring;
use crate::support::{Env, Run, NO_PASSPHRASE_HINT};

const NO_PASSPHRASE: &str = "no passphrase for identity owner: no terminal to ask on";

/// Makes every later command of `env` run at a terminal (`script(1)`
/// gives it one; stdin is typed into it), inside `keyring` if given.
fn at_terminal(env: &mut Env, keyring: Option<&SessionKeyring>) {
    let tty = env.path().join("at-terminal");
    std::fs::write(
        &tty,
        "#!/bin/sh\nexec script -qec \"$(printf '%s ' \"$@\")\" /dev/null\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tty, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut prefix = match keyring {
        Some(k) => vec![k.joiner.clone(), k.name.clone().into()],
        None => Vec::new(),
    };
    prefix.push(tty.into());
    env.wrap(prefix);
}

/// `vault ARGS` with the keyring allowed.
pub fn vault(env: &Env, args: &[&str]) -> Run {
    env.vault(args).env_remove("VAULT_NO_KEYRING")
}

/// A vault in a session keyring of its own, with one secret.
pub fn setup() -> (Env, SessionKeyring) {
    let mut env = Env::init();
    env.add("TOKEN", "abc");
    let keyring = SessionKeyring::new(&env);
    keyring.attach(&mut env);
    (env, keyring)
}

/// The name vault gives the cache entry of `identity` in this vault file.
pub fn entry_name(vault_file: &Path, identity: &str) -> String {
    let conn = rusqlite::Connection::open(vault_file).unwrap();
    let vault_id: Vec<u8> = conn
        .query_row("SELECT id FROM vault", [], |r| r.get(0))
        .unwrap();
    let identity_id: Vec<u8> = conn
        .query_row(
            "SELECT id FROM identities WHERE name = ?1",
            [identity],
            |r| r.get(0),
        )
        .unwrap();
    let path = std::fs::canonicalize(vault_file).unwrap();
    let vault_id: [u8; 16] = vault_id.try_into().unwrap();
    let prefix = ::vault::crypto::cache_vault_id(path.as_os_str().as_encoded_bytes(), &vault_id);
    let digest = ::vault::crypto::cache_entry_id(
        path.as_os_str().as_encoded_bytes(),
        &vault_id,
        &identity_id.try_into().unwrap(),
    );
    format!(
        "vault-unlock:{}:{}",
        hex::encode(&prefix[..16]),
        hex::encode(&digest[..16])
    )
}

/// Lines of /proc/keys naming `entry`, ignoring keys already invalidated.
fn live_keys_named(entry: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/keys")
        .unwrap()
        .lines()
        .filter(|l| l.contains(entry))
        .filter(|l| !l.split_whitespace().nth(1).unwrap_or("").contains('i'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn unlock_once_then_commands_need_no_passphrase_until_lock() {
    let (env, keyring) = setup();
    vault(&env, &["unlock"])
        .passphrase()
        .run()
        .success()
        .stdout_has("unlocked owner until ");
    assert_eq!(keyring.vault_entries().len(), 1);
    vault(
        &env,
        &["exec", "--mask", "never", "--", "printenv", "TOKEN"],
    )
    .run()
    .success()
    .stdout_is("abc\n");
    vault(&env, &["add", "SECOND"]).stdin("two").run().success();
    vault(&env, &["rotate", "TOKEN"])
        .stdin("def")
        .run()
        .success();
    vault(&env, &["lock"])
        .run()
        .success()
        .stdout_is("locked: removed the cached key of owner\n");
    assert_eq!(keyring.vault_entries(), Vec::<String>::new());
    vault(&env, &["exec", "--mask", "never", "--", "true"])
        .run()
        .code(125)
        .stderr_has(&format!("error: {NO_PASSPHRASE}\n"));
    vault(&env, &["lock"])
        .run()
        .success()
        .stdout_is("nothing to lock: no unlocked key of this vault is cached\n");
}

#[test]
fn a_passphrase_typed_at_the_terminal_is_not_asked_again() {
    let (mut env, keyring) = setup();
    at_terminal(&mut env, Some(&keyring));
    vault(
        &env,
        &["exec", "--mask", "never", "--", "printenv", "TOKEN"],
    )
    .stdin(format!("{}\n", crate::support::PASSPHRASE))
    .run()
    .success()
    .stdout_has("Passphrase for owner: ")
    .stdout_has("abc");
    assert_eq!(keyring.vault_entries().len(), 1);
    keyring.attach(&mut env);
    vault(
        &env,
        &["exec", "--mask", "never", "--", "printenv", "TOKEN"],
    )
    .run()
    .success()
    .stdout_is("abc\n");
}

#[test]
fn status_tells_whether_a_key_is_cached_and_until_when() {
    let (env, _keyring) = setup();
    vault(&env, &["status"])
        .run()
        .success()
        .stdout_has("keyring:            works here (Linux kernel session keyring)\n")
        .stdout_has("  2. cached key:    no, none cached\n");
    vault(&env, &["unlock", "--for", "1h"])
        .passphrase()
        .run()
        .success();
    let out = vault(&env, &["status"])
        .passphrase()
        .run()
        .success()
        .stdout_has("next unlock:        cached key\n")
        .stdout_has("  2. cached key:    yes, until ");
    assert!(
        // Rounded up: 1h within the second of unlocking, 60m after it.
        out.stdout.contains(" (60m left)\n") || out.stdout.contains(" (1h left)\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_cached_entry_holds_the_key_not_the_passphrase_and_expires_in_the_kernel() {
    let (env, keyring) = setup();
    vault(&env, &["unlock", "--for", "1h"])
        .passphrase()
        .run()
        .success();
    let name = entry_name(&env.vault, "owner");
    let ids = keyring.vault_entries();
    assert_eq!(ids.len(), 1);
    let payload = Command::new(&keyring.joiner)
        .args([&keyring.name, "keyctl", "pipe", &ids[0]])
        .output()
        .unwrap()
        .stdout;
    assert_eq!(payload.len(), 48);
    assert!(payload.starts_with(b"vaultkc1"));
    let passphrase = crate::support::PASSPHRASE.as_bytes();
    assert!(!payload.windows(passphrase.len()).any(|w| w == passphrase));
    // The kernel's own timeout is set: the expiry column is not "perm".
    let lines = live_keys_named(&name);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_ne!(lines[0].split_whitespace().nth(3), Some("perm"));
}

/// Regression: `vault unlock` while unlocked for 2h asked again and cut
/// the cache to 15 minutes.
#[test]
fn unlocking_again_keeps_a_longer_cached_key_without_asking() {
    let (env, keyring) = setup();
    let first = vault(&env, &["unlock", "--for", "2h"])
        .passphrase()
        .run()
        .success();
    let until = first
        .stdout
        .strip_prefix("unlocked owner until ")
        .expect("unlocked")
        .trim_end()
        .to_owned();
    let entries = keyring.vault_entries();
    for args in [&["unlock"][..], &["unlock", "--for", "1h"]] {
        vault(&env, args)
            .run()
            .success()
            .stdout_is(&format!(
                "owner is already unlocked until {until}; nothing was changed\n"
            ))
            .stderr_is("");
    }
    assert_eq!(keyring.vault_entries(), entries);
    // A longer time than the cached key has left asks for the passphrase.
    vault(&env, &["unlock", "--for", "3h"])
        .run()
        .code(2)
        .stderr_has(&format!("error: {NO_PASSPHRASE}\n"));
}

#[test]
fn a_short_unlock_expires_and_asks_again() {
    let (env, keyring) = setup();
    vault(&env, &["unlock", "--for", "2s"])
        .passphrase()
        .run()
        .success();
    let deadline = Instant::now() + Duration::from_secs(60);
    let refused = loop {
        let out = vault(&env, &["exec", "--mask", "never", "--", "true"]).run();
        if out.code != Some(0) {
            break out;
        }
        assert!(Instant::now() < deadline, "the cached key never expired");
        std::thread::sleep(Duration::from_millis(300));
    };
    refused
        .code(125)
        .stderr_has(&format!("error: {NO_PASSPHRASE}\n"));
    assert_eq!(keyring.vault_entries(), Vec::<String>::new());
}

#[test]
fn another_vault_file_or_identity_does_not_see_the_cached_key() {
    let (env, keyring) = setup();
    let mut other = Env::init();
    keyring.attach(&mut other);
    let bob_file = env.path().join("bob-passphrase");
    std::fs::write(&bob_file, "bob's own passphrase\n").unwrap();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&bob_file)
        .passphrase()
        .run()
        .success();
    let copy = env.path().join("copy.db");
    std::fs::copy(&env.vault, &copy).unwrap();
    vault(&env, &["unlock"]).passphrase().run().success();
    vault(&env, &["exec", "--mask", "never", "--", "true"])
        .run()
        .success();
    vault(&other, &["exec", "--mask", "never", "--", "true"])
        .run()
        .code(125)
        .stderr_has(&format!("error: {NO_PASSPHRASE}\n"));
    // The same vault id and identity at another path: not the same vault.
    vault(&env, &["exec", "--mask", "never", "--", "true"])
        .env("VAULT_PATH", &copy)
        .run()
        .code(125)
        .stderr_has(&format!("error: {NO_PASSPHRASE}\n"));
    vault(
        &env,
        &["--as", "bob", "exec", "--mask", "never", "--", "true"],
    )
    .run()
    .code(125)
    .stderr_has("error: no passphrase for identity bob: no terminal to ask on\n");
}

/// Regression: with a cached key, `vault passwd` went straight to the new
/// passphrase, so anyone at a terminal left unlocked could change it.
#[test]
fn changing_the_passphrase_asks_the_current_one_even_with_a_cached_key() {
    let (env, keyring) = setup();
    vault(&env, &["unlock"]).passphrase().run().success();
    let cached = keyring.vault_entries();
    assert_eq!(cached.len(), 1);
    let new = env.path().join("new-passphrase");
    std::fs::write(&new, "a new passphrase\n").unwrap();
    env.refuses(
        vault(&env, &["passwd", "--new-passphrase-file"]).arg(&new),
        2,
        NO_PASSPHRASE,
        Some(NO_PASSPHRASE_HINT),
    );
    assert_eq!(keyring.vault_entries(), cached);
}

#[test]
fn changing_the_passphrase_removes_the_cached_key() {
    let (env, keyring) = setup();
    vault(&env, &["unlock"]).passphrase().run().success();
    let new = env.path().join("new-passphrase");
    std::fs::write(&new, "a new passphrase\n").unwrap();
    vault(&env, &["passwd", "--new-passphrase-file"])
        .arg(&new)
        .passphrase()
        .run()
        .success()
        .stdout_is("changed the passphrase of owner\n");
    assert_eq!(keyring.vault_entries(), Vec::<String>::new());
    vault(&env, &["exec", "--mask", "never", "--", "true"])
        .run()
        .code(125)
        .stderr_has(&format!("error: {NO_PASSPHRASE}\n"));
}

#[test]
fn removing_an_identity_removes_its_cached_key() {
    let (env, keyring) = setup();
    let bob_file = env.path().join("bob-passphrase");
    std::fs::write(&bob_file, "bob's own passphrase\n").unwrap();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&bob_file)
        .passphrase()
        .run()
        .success();
    vault(&env, &["--as", "bob", "unlock", "--passphrase-file"])
        .arg(&bob_file)
        .run()
        .success()
        .stdout_has("unlocked bob until ");
    assert_eq!(keyring.vault_entries().len(), 1);
    vault(&env, &["identity", "remove", "bob", "--yes"])
        .passphrase()
        .run()
        .success();
    assert_eq!(keyring.vault_entries(), Vec::<String>::new());
}

#[test]
fn the_flag_and_the_variable_turn_the_cache_off() {
    let (env, keyring) = setup();
    vault(&env, &["unlock", "--no-keyring"])
        .passphrase()
        .run()
        .error("cannot keep the unlocked key: the unlock cache is off (--no-keyring)");
    vault(&env, &["unlock"])
        .env("VAULT_NO_KEYRING", "1")
        .passphrase()
        .run()
        .error("cannot keep the unlocked key: the unlock cache is off (VAULT_NO_KEYRING is set)");
    assert_eq!(keyring.vault_entries(), Vec::<String>::new());
    vault(&env, &["unlock"]).passphrase().run().success();
    vault(
        &env,
        &["exec", "--mask", "never", "--no-keyring", "--", "true"],
    )
    .run()
    .code(125)
    .stderr_has(&format!("error: {NO_PASSPHRASE}\n"));
}

#[test]
fn a_wrong_passphrase_caches_nothing() {
    let (env, keyring) = setup();
    let wrong = env.path().join("wrong");
    std::fs::write(&wrong, "not it\n").unwrap();
    vault(&env, &["unlock", "--passphrase-file"])
        .arg(&wrong)
        .run()
        .error("wrong passphrase for identity owner");
    assert_eq!(keyring.vault_entries(), Vec::<String>::new());
}

#[test]
fn refuses_a_bad_duration() {
    let (env, keyring) = setup();
    for (input, problem) in [
        ("abc", "not a duration"),
        ("0s", "not a duration"),
        ("25h", "the unlock cache keeps a key 24h at most"),
        (
            "99999999999999999999d",
            "the unlock cache keeps a key 24h at most",
        ),
    ] {
        vault(&env, &["unlock", "--for", input])
            .passphrase()
            .run()
            .error(&format!("invalid duration {input:?}: {problem}"))
            .stderr_has("hint: use a duration such as 30s, 15m or 8h, at most 24h\n");
    }
    assert_eq!(keyring.vault_entries(), Vec::<String>::new());
}

/// Regression: the keyring crate's Linux store, with no session keyring,
/// wrote the plaintext key into the user-session keyring with no expiry,
/// then failed to link it into the persistent keyring and left it there.
#[test]
fn without_a_session_keyring_everything_works_and_nothing_is_left_behind() {
    let session = Command::new("keyctl")
        .args(["show", "@s"])
        .output()
        .unwrap();
    if !String::from_utf8_lossy(&session.stdout).contains("keyring: _uid_ses.") {
        eprintln!("skipped: this process has a session keyring of its own");
        return;
    }
    let env = Env::init();
    vault(&env, &["unlock"])
        .passphrase()
        .run()
        .error("cannot keep the unlocked key: there is no session keyring here (`keyctl session` starts one)");
    vault(&env, &["add", "TOKEN"])
        .passphrase()
        .stdin("abc")
        .run()
        .success()
        .stderr_is("");
    vault(
        &env,
        &["exec", "--mask", "never", "--", "printenv", "TOKEN"],
    )
    .passphrase()
    .run()
    .success()
    .stdout_is("abc\n")
    .stderr_is("");
    vault(&env, &["rotate", "TOKEN"])
        .passphrase()
        .stdin("def")
        .run()
        .success();
    vault(&env, &["lock"])
        .run()
        .success()
        .stdout_is("nothing to lock: no unlocked key of this vault is cached\n");
    vault(&env, &["exec", "--mask", "never", "--", "true"])
        .run()
        .code(125)
        .stderr_has(&format!("error: {NO_PASSPHRASE}\n"));
    assert_eq!(
        live_keys_named(&entry_name(&env.vault, "owner")),
        Vec::<String>::new()
    );
    // At a terminal: one line of note, and the command works.
    let mut terminal = env;
    at_terminal(&mut terminal, None);
    let out = vault(&terminal, &["exec", "--mask", "never", "--", "printenv", "TOKEN"])
        .stdin(format!("{}\n", crate::support::PASSPHRASE))
        .run()
        .success()
        .stdout_has("warning: the unlocked key is not kept for the next command: there is no session keyring here (`keyctl session` starts one)\r\n")
        .stdout_has("def");
    assert_eq!(out.stdout.matches("warning:").count(), 1);
    let env = terminal;
    assert_eq!(
        live_keys_named(&entry_name(&env.vault, "owner")),
        Vec::<String>::new()
    );
    for keyring in ["@us", "@u"] {
        let out = Command::new("keyctl")
            .args(["show", keyring])
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(!shown.contains("vault-unlock:"), "{keyring}: {shown}");
    }
}
