//! The vault file on disk: its modes after every command, its format
//! version, and the files vault refuses to open (not a vault, a newer
//! format, an identity with KDF parameters outside the floor and ceiling),
//! each left exactly as it was.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::Env;

const KDF_HINT: &str =
    "the identity record was changed outside vault; restore the file from a backup";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn sidecar(env: &Env, suffix: &str) -> std::path::PathBuf {
    let mut name = env.vault.clone().into_os_string();
    name.push(suffix);
    name.into()
}

/// Asserts 0600 on the vault and its -wal/-shm (when present), 0700 on its
/// directory.
#[track_caller]
fn assert_modes(env: &Env, after: &str) {
    assert_eq!(mode(&env.vault), 0o600, "vault file after {after}");
    assert_eq!(
        mode(env.vault.parent().unwrap()),
        0o700,
        "directory after {after}"
    );
    for suffix in ["-wal", "-shm", "-journal"] {
        let path = sidecar(env, suffix);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{suffix} after {after}");
        }
    }
}

#[test]
fn init_creates_0600_in_0700_whatever_the_umask() {
    let env = Env::new();
    env.vault(&["init", "--name", "owner"])
        .passphrase()
        .umask("000")
        .run()
        .success();
    assert_modes(&env, "init");
}

#[test]
fn modes_stay_safe_after_every_command() {
    let env = Env::new();
    env.vault(&["init", "--name", "owner"])
        .passphrase()
        .umask("000")
        .run()
        .success();
    // A reader kept open keeps the -wal and -shm files on disk between
    // commands, so their modes can be checked too.
    let reader = rusqlite::Connection::open(&env.vault).unwrap();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM secrets", [], |r| r.get(0))
        .unwrap();
    let bob = env.path().join("bob");
    std::fs::write(&bob, "bob's passphrase").unwrap();
    let bob = bob.to_str().unwrap();
    let steps: &[&[&str]] = &[
        &["add", "TOKEN"],
        &["list"],
        &["list", "--json"],
        &["rotate", "TOKEN"],
        &["rename", "TOKEN", "API_TOKEN"],
        &["exec", "--mask", "never", "--", "true"],
        &["identity", "add", "bob", "--new-passphrase-file", bob],
        &["grant", "API_TOKEN", "--to", "bob"],
        &["revoke", "API_TOKEN", "--from", "bob"],
        &["passwd", "--new-passphrase-file", bob],
        &["delete", "API_TOKEN", "--yes"],
    ];
    let mut passphrase = env.passphrase_file.clone();
    for step in steps {
        env.vault(step)
            .env("VAULT_PASSPHRASE_FILE", &passphrase)
            .stdin("value")
            .umask("000")
            .run()
            .success();
        assert_modes(&env, &step.join(" "));
        if step[0] == "passwd" {
            passphrase = bob.into();
        }
    }
    assert!(sidecar(&env, "-wal").exists());
    assert!(sidecar(&env, "-shm").exists());
}

#[test]
fn records_its_format_and_uses_wal() {
    let env = Env::init();
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    let get = |pragma: &str| -> rusqlite::types::Value {
        conn.query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
            .unwrap()
    };
    use rusqlite::types::Value;
    assert_eq!(
        get("user_version"),
        Value::Integer(vault::store::FORMAT_VERSION)
    );
    const { assert!(vault::store::FORMAT_VERSION >= vault::store::ENVIRONMENTS_FORMAT) };
    assert_eq!(get("application_id"), Value::Integer(0x5641_554C));
    assert_eq!(get("journal_mode"), Value::Text("wal".into()));
}

/// Makes the vault look like it was written by the next format.
fn newer_format(env: &Env) {
    env.sql(&format!(
        "PRAGMA user_version = {}",
        vault::store::FORMAT_VERSION + 1
    ));
    assert!(!sidecar(env, "-wal").exists());
}

#[test]
fn refuses_a_newer_format_and_leaves_it_byte_identical() {
    let env = Env::init();
    env.add("KEEP", "value");
    newer_format(&env);
    let before = std::fs::read(&env.vault).unwrap();
    let message = format!(
        "{} was written by a newer vault (format {}; this vault reads up to {})",
        env.vault.display(),
        vault::store::FORMAT_VERSION + 1,
        vault::store::FORMAT_VERSION
    );
    let hint = Some("upgrade vault to open this file; it was left untouched");
    env.vault(&["list"]).run().fails(2, &message, hint);
    env.vault(&["add", "NEW"])
        .passphrase()
        .stdin("v")
        .run()
        .fails(2, &message, hint);
    env.vault(&["rotate", "KEEP"])
        .passphrase()
        .stdin("v")
        .run()
        .fails(2, &message, hint);
    env.vault(&["exec", "--mask", "never", "--", "true"])
        .passphrase()
        .run()
        .fails(125, &message, hint);
    assert_eq!(std::fs::read(&env.vault).unwrap(), before);
    assert!(!sidecar(&env, "-wal").exists());
    assert!(!sidecar(&env, "-shm").exists());
}

/// Asserts that `list` and `add` refuse the file at the vault path with
/// `reason` and leave it byte-identical.
#[track_caller]
fn not_a_vault(env: &Env, reason: &str) {
    let before = std::fs::read(&env.vault).unwrap();
    let message = format!("{} is not a vault file: {reason}", env.vault.display());
    env.vault(&["list"]).run().fails(2, &message, None);
    env.vault(&["add", "X"])
        .passphrase()
        .stdin("v")
        .run()
        .fails(2, &message, None);
    env.vault(&["exec", "--mask", "never", "--", "true"])
        .passphrase()
        .run()
        .fails(125, &message, None);
    assert_eq!(std::fs::read(&env.vault).unwrap(), before);
    let dir: Vec<_> = std::fs::read_dir(env.vault.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(dir, [env.vault.file_name().unwrap()]);
}

fn with_file(bytes: &[u8]) -> Env {
    let env = Env::new();
    std::fs::create_dir_all(env.vault.parent().unwrap()).unwrap();
    std::fs::write(&env.vault, bytes).unwrap();
    env
}

#[test]
fn refuses_random_bytes() {
    let mut bytes = vec![0u8; 4096];
    getrandom::fill(&mut bytes).unwrap();
    not_a_vault(&with_file(&bytes), "it is not a SQLite database");
}

#[test]
fn refuses_a_truncated_vault() {
    let env = Env::init();
    for i in 0..40 {
        env.add(&format!("S{i}"), &format!("value {i} {}", "x".repeat(40)));
    }
    let whole = std::fs::read(&env.vault).unwrap();
    assert!(whole.len() > 16_384, "the vault spans many pages");
    for cut in [4096, 8192, whole.len() / 2, whole.len() - 4096] {
        std::fs::write(&env.vault, &whole[..cut]).unwrap();
        not_a_vault(&env, "the file is damaged or truncated");
    }
}

#[test]
fn refuses_an_empty_file() {
    not_a_vault(&with_file(b""), "it is empty");
}

#[test]
fn refuses_a_sqlite_database_of_another_program() {
    let env = with_file(b"");
    std::fs::remove_file(&env.vault).unwrap();
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        .unwrap();
    drop(conn);
    not_a_vault(&env, "it is a SQLite database of another program");
}

#[test]
fn refuses_a_directory() {
    let env = Env::new();
    std::fs::create_dir_all(&env.vault).unwrap();
    env.vault(&["list"]).run().fails(
        2,
        &format!(
            "{} is not a vault file: it is not a regular file",
            env.vault.display()
        ),
        None,
    );
}

#[test]
fn init_refuses_a_file_that_is_not_a_vault() {
    let env = with_file(b"my notes");
    env.vault(&["init"]).passphrase().run().fails(
        2,
        &format!("{} already exists and is not a vault", env.vault.display()),
        Some("pass --vault PATH to create the vault elsewhere"),
    );
    assert_eq!(std::fs::read(&env.vault).unwrap(), b"my notes");
}

/// Sets the owner's stored Argon2id parameters and asserts that unlocking
/// is refused with `message` before any work, changing nothing.
#[track_caller]
fn refused_kdf(m: i64, t: i64, p: i64, message: &str) {
    let env = Env::init();
    env.add("KEEP", "value");
    env.sql(&format!(
        "UPDATE identities SET kdf_m = {m}, kdf_t = {t}, kdf_p = {p}"
    ));
    let before = env.dump();
    env.vault(&["exec", "--mask", "never", "--", "true"])
        .passphrase()
        .run()
        .fails(125, message, Some(KDF_HINT));
    env.vault(&["add", "NEW"])
        .passphrase()
        .stdin("v")
        .run()
        .fails(2, message, Some(KDF_HINT));
    assert_eq!(env.dump(), before);
}

fn weak(m: i64, t: i64, p: i64) {
    refused_kdf(
        m,
        t,
        p,
        &format!(
            "identity owner has Argon2id parameters below the floor (m={m} KiB, t={t}, p={p})"
        ),
    );
}

fn absurd(m: i64, t: i64, p: i64) {
    refused_kdf(
        m,
        t,
        p,
        &format!("identity owner has absurd Argon2id parameters (m={m} KiB, t={t}, p={p})"),
    );
}

#[test]
fn refuses_memory_below_the_floor() {
    weak(19 * 1024 - 1, 2, 1);
}

#[test]
fn refuses_one_pass() {
    weak(19 * 1024, 1, 1);
}

#[test]
fn refuses_zero_lanes() {
    weak(19 * 1024, 2, 0);
}

#[test]
fn refuses_negative_parameters() {
    weak(-1, 2, 1);
}

#[test]
fn refuses_absurd_memory_before_allocating() {
    // 4 TiB: allocating it would abort the process, not print an error.
    absurd(4 * 1024 * 1024 * 1024, 2, 1);
    absurd(i64::MAX, 2, 1);
    // Just above what vault ever writes with its margin (256 MiB).
    absurd(256 * 1024 + 1, 2, 1);
}

#[test]
fn refuses_absurd_passes() {
    absurd(19 * 1024, 1_000_000, 1);
    absurd(19 * 1024, 9, 1);
}

#[test]
fn refuses_absurd_lanes() {
    absurd(19 * 1024, 2, 100_000);
    absurd(19 * 1024, 2, 17);
}
