//! `vault scan`: stored values found in files, staged changes, git history
//! and a log on stdin, by value (secrets the identity may use) and by
//! fingerprint (every version of every secret, no grant needed), and
//! never printed. Real git in a temporary home; every run's output is
//! checked for the values themselves (canaries).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{Env, Output, Run, BIN};

/// Values no output may ever contain.
pub const CANARY: &str = "sk_live_CANARY_4f9a2b7c";
pub const CANARY_2: &str = "sk_live_CANARY_second_8e1d";
const BOB_PASSPHRASE: &str = "bob's own passphrase";

/// Asserts that nothing the run printed holds a stored value.
#[track_caller]
pub fn clean(out: Output) -> Output {
    for value in [CANARY, CANARY_2] {
        assert!(
            !out.stdout.contains(value) && !out.stderr.contains(value),
            "a value was printed: {out:#?}"
        );
    }
    out
}

pub fn scan(env: &Env, dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    clean(env.vault(&all).passphrase().current_dir(dir).run())
}

/// A home with a vault holding STRIPE_KEY = CANARY, and a git repository
/// `repo/` (the vault stays outside it, in the data directory).
pub fn setup() -> (Env, PathBuf) {
    let env = Env::init();
    env.add("STRIPE_KEY", CANARY);
    let root = env.path().join("repo");
    std::fs::create_dir(&root).unwrap();
    git(&env, &root, &["init", "-q", "-b", "main"]);
    git(&env, &root, &["config", "user.name", "Test"]);
    git(&env, &root, &["config", "user.email", "test@example.com"]);
    (env, root)
}

/// Runs git in `dir` with the test's home and what vault needs to unlock
/// (for the pre-commit hook), returning its output.
pub fn git_run(env: &Env, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.path())
        .env("XDG_CONFIG_HOME", env.path().join("xdg-config"))
        .env("XDG_DATA_HOME", env.path().join("xdg"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CEILING_DIRECTORIES", env.path().parent().unwrap())
        .env("LANG", "C.UTF-8")
        .env("VAULT_NO_KEYRING", "1")
        .env("VAULT_TEST_KDF", "floor")
        .env("VAULT_PASSPHRASE_FILE", &env.passphrase_file)
        .stdin(Stdio::null())
        .output()
        .expect("run git")
}

#[track_caller]
pub fn git(env: &Env, dir: &Path, args: &[&str]) -> String {
    let out = git_run(env, dir, args);
    assert!(out.status.success(), "git {args:?} failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

pub fn commit(env: &Env, root: &Path, message: &str) -> String {
    git(env, root, &["add", "-A"]);
    git(env, root, &["commit", "-q", "-m", message]);
    git(env, root, &["rev-parse", "HEAD"])
}

pub fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

pub fn add_bob(env: &Env) {
    let file = env.path().join("bob-passphrase");
    std::fs::write(&file, format!("{BOB_PASSPHRASE}\n")).unwrap();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&file)
        .passphrase()
        .run()
        .success();
}

pub fn as_bob(env: &Env, dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--as", "bob", "scan"];
    all.extend_from_slice(args);
    let run: Run = env
        .vault(&all)
        .env("VAULT_PASSPHRASE_FILE", env.path().join("bob-passphrase"))
        .current_dir(dir);
    clean(run.run())
}

#[test]
fn a_value_in_a_file_is_named_by_place_and_secret_never_shown() {
    let (env, root) = setup();
    write(
        &root.join("config/app.yml"),
        format!("stripe:\n  key: {CANARY}\n"),
    );
    write(&root.join(".env"), format!("STRIPE_KEY={CANARY}\n"));
    write(&root.join("README"), "nothing here\n");
    scan(&env, &root, &[])
        .code(1)
        .stdout_is(
            ".env:1:12: STRIPE_KEY version 1 (current value)\n\
             config/app.yml:2:8: STRIPE_KEY version 1 (current value)\n",
        )
        .stderr_is(
            "vault: found STRIPE_KEY in 2 places (2 of 3 files read); no value was printed\n\
             hint: take the values out (and out of git history, if committed), then rotate what leaked: vault rotate STRIPE_KEY\n",
        );
    std::fs::remove_file(root.join(".env")).unwrap();
    std::fs::remove_file(root.join("config/app.yml")).unwrap();
    scan(&env, &root, &[])
        .success()
        .stdout_is("")
        .stderr_is("vault: no stored value found in 1 file (0.0 MiB)\n");
}

#[test]
fn gitignored_files_and_the_vault_itself_are_left_out() {
    let (mut env, root) = setup();
    write(&root.join(".gitignore"), "/build/\n");
    write(&root.join("build/out.txt"), CANARY);
    // A vault kept in the scanned tree is not read (nor its side files).
    let inside = root.join("secrets").join("vault.db");
    std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
    std::fs::copy(&env.vault, &inside).unwrap();
    env.vault = inside;
    scan(&env, &root, &[])
        .success()
        .stderr_is("vault: no stored value found in 1 file (0.0 MiB)\n");
    scan(&env, &root, &["--no-ignore"])
        .code(1)
        .stdout_is("build/out.txt:1:1: STRIPE_KEY version 1 (current value)\n");
    // A path named on the command line is read, ignored or not.
    scan(&env, &root, &["build/out.txt"])
        .code(1)
        .stdout_is("build/out.txt:1:1: STRIPE_KEY version 1 (current value)\n");
    // Also through a symbolic link (which a walk does not follow).
    std::os::unix::fs::symlink("build/out.txt", root.join("link.txt")).unwrap();
    scan(&env, &root, &["link.txt"])
        .code(1)
        .stdout_is("link.txt:1:1: STRIPE_KEY version 1 (current value)\n");
}

#[test]
fn a_value_split_across_two_lines_is_not_found() {
    let (env, root) = setup();
    let (head, tail) = CANARY.split_at(12);
    write(
        &root.join("wrapped.txt"),
        format!("key: {head}\n  {tail}\n"),
    );
    scan(&env, &root, &[])
        .success()
        .stdout_is("")
        .stderr_is("vault: no stored value found in 1 file (0.0 MiB)\n");
}

#[test]
fn a_value_inside_a_longer_token_is_found_by_value_not_by_fingerprint() {
    let (env, root) = setup();
    write(
        &root.join("url.txt"),
        format!("https://user:{CANARY}@example.com/x\n"),
    );
    // Unlocked, with a grant: the value itself is found, anywhere.
    scan(&env, &root, &[])
        .code(1)
        .stdout_is("url.txt:1:14: STRIPE_KEY version 1 (current value)\n");
    // Without the value (rotated away), only whole words are fingerprinted.
    env.vault(&["rotate", "STRIPE_KEY"])
        .passphrase()
        .stdin(CANARY_2)
        .run()
        .success();
    write(&root.join("word.txt"), format!("old key {CANARY}.\n"));
    scan(&env, &root, &[])
        .code(1)
        .stdout_is("word.txt:1:9: STRIPE_KEY version 1 (earlier value)\n");
}

#[test]
fn binary_and_non_utf8_files_are_searched_as_bytes() {
    let (env, root) = setup();
    let mut binary = vec![0u8, 1, 2, 0xff, b'\n', 0, 0];
    binary.extend_from_slice(CANARY.as_bytes());
    binary.extend_from_slice(&[0, 0x80, 0x81]);
    write(&root.join("app.bin"), &binary);
    let mut latin1 = b"caf\xe9 cr\xe8me\nmot de passe=".to_vec();
    latin1.extend_from_slice(CANARY.as_bytes());
    latin1.extend_from_slice(b" \xff\xfe\n");
    write(&root.join("latin1.txt"), &latin1);
    scan(&env, &root, &[]).code(1).stdout_is(
        "app.bin:2:3: STRIPE_KEY version 1 (current value)\n\
         latin1.txt:2:14: STRIPE_KEY version 1 (current value)\n",
    );
}

#[test]
fn an_identity_with_no_grant_finds_a_leak_through_fingerprints() {
    let (env, root) = setup();
    add_bob(&env);
    write(
        &root.join("leak.env"),
        format!("export STRIPE_KEY=\"{CANARY}\"\n"),
    );
    write(&root.join("inside.txt"), format!("x{CANARY}x\n"));
    as_bob(&env, &root, &[])
        .code(1)
        .stdout_is("leak.env:1:20: STRIPE_KEY version 1 (current value)\n");
    let json = as_bob(&env, &root, &["--json"]).code(1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["findings"][0]["by"], "fingerprint");
    assert_eq!(v["findings"][0]["secret"], "STRIPE_KEY");
    // Every version stays fingerprinted after a rotation.
    env.vault(&["rotate", "STRIPE_KEY"])
        .passphrase()
        .stdin(CANARY_2)
        .run()
        .success();
    write(&root.join("new.txt"), format!("{CANARY_2}\n"));
    as_bob(&env, &root, &[]).code(1).stdout_is(
        "leak.env:1:20: STRIPE_KEY version 1 (earlier value)\n\
         new.txt:1:1: STRIPE_KEY version 2 (current value)\n",
    );
}

#[test]
fn stdin_streams_a_100_mib_log() {
    let (env, root) = setup();
    let mut run = env
        .vault(&["scan", "--stdin"])
        .passphrase()
        .current_dir(&root);
    // At most 64 MB of data: a log of 100 MiB cannot be held whole.
    let mut command = Command::new("prlimit");
    command
        .arg("--data=64000000")
        .arg(BIN)
        .args(run.command.get_args())
        .env_clear()
        .current_dir(&root);
    for (k, v) in run.command.get_envs() {
        if let Some(v) = v {
            command.env(k, v);
        }
    }
    run.command = command;
    let mut child = run
        .command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let line = b"2026-12-01T10:00:00Z INFO step 42: downloading artifacts, all is well\n";
        let lines = 100 * 1024 * 1024 / line.len();
        let mut block = Vec::new();
        for n in 0..lines {
            block.extend_from_slice(line);
            if n == lines / 2 {
                block.extend_from_slice(format!("DEBUG token={CANARY}\n").as_bytes());
            }
            if block.len() >= 1 << 20 {
                stdin.write_all(&block).unwrap();
                block.clear();
            }
        }
        block.extend_from_slice(format!("last {CANARY}").as_bytes());
        stdin.write_all(&block).unwrap();
        lines
    });
    let out = child.wait_with_output().unwrap();
    let lines = writer.join().unwrap() as u64;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains(CANARY) && !stderr.contains(CANARY));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "<stdin>:{}:13: STRIPE_KEY version 1 (current value)\n\
             <stdin>:{}:6: STRIPE_KEY version 1 (current value)\n",
            lines / 2 + 2,
            lines + 2
        )
    );
}

#[test]
fn the_value_across_a_read_boundary_is_found_once() {
    let (env, root) = setup();
    // The reader's chunks are 256 KiB: put the value across the first
    // boundary, and the same value again right after it.
    let mut text = vec![b'.'; 256 * 1024 - 5];
    text.extend_from_slice(format!(" {CANARY} {CANARY}\n").as_bytes());
    let out = clean(
        env.vault(&["scan", "--stdin"])
            .passphrase()
            .current_dir(&root)
            .stdin(&text)
            .run(),
    );
    out.code(1).stdout_is(&format!(
        "<stdin>:1:{}: STRIPE_KEY version 1 (current value)\n\
         <stdin>:1:{}: STRIPE_KEY version 1 (current value)\n",
        256 * 1024 - 3,
        256 * 1024 - 3 + CANARY.len() + 1
    ));
}

#[test]
fn a_path_that_does_not_exist_is_refused_before_unlocking() {
    let (env, root) = setup();
    write(&root.join("a.txt"), CANARY);
    clean(
        env.vault(&["scan", "a.txt", "nope"])
            .current_dir(&root)
            .run(),
    )
    .fails(2, "cannot scan nope: no such file", None);
}

#[test]
fn a_directory_that_cannot_be_read_fails_the_scan_and_the_rest_is_still_read() {
    let (mut env, root) = setup();
    write(&root.join("a.txt"), CANARY);
    write(&root.join("locked/b.txt"), CANARY);
    let locked = root.join("locked");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if nix::unistd::geteuid().is_root() {
        // Root reads any directory: drop the capabilities that let it.
        env.wrap(vec![
            "setpriv".into(),
            "--bounding-set=-dac_override,-dac_read_search".into(),
            "--".into(),
        ]);
    }
    let out = scan(&env, &root, &[]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    out.code(2)
        .stdout_is("a.txt:1:1: STRIPE_KEY version 1 (current value)\n")
        .stderr_has("error: cannot read locked: permission denied\n");
}

#[test]
fn a_vault_with_no_secrets_has_nothing_to_scan_for() {
    let env = Env::init();
    let before = env.dump();
    clean(env.vault(&["scan"]).run()).fails(
        2,
        &format!(
            "the vault at {} holds no secrets: there is nothing to scan for",
            env.vault.display()
        ),
        Some("check --vault or VAULT_PATH names the vault whose values to look for; `vault add NAME` stores one"),
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn fingerprints_removed_or_planted_by_hand_are_refused() {
    let (env, root) = setup();
    write(&root.join("a.txt"), CANARY);
    let stored = env.blob("secrets", "fingerprints", "name = 'STRIPE_KEY'");
    assert_eq!(stored.len(), 44);
    let untrusted = "trust check failed: the value of secret STRIPE_KEY does not match its signature by owner (it was changed in the file)";
    // A clean scan first: this clone remembers what it verified, and a
    // change to the fingerprints alone must still be checked again.
    scan(&env, &root, &[]).code(1);
    // Removed: a leak hidden from everyone without the value.
    env.set_blob("secrets", "fingerprints", "name = 'STRIPE_KEY'", b"");
    scan(&env, &root, &[])
        .code(2)
        .stderr_has(&format!("error: {untrusted}\n"));
    // Planted: another record beside the real one.
    let mut planted = stored.clone();
    planted.extend_from_slice(&stored);
    planted[44 + 7] = 9;
    env.set_blob("secrets", "fingerprints", "name = 'STRIPE_KEY'", &planted);
    scan(&env, &root, &[])
        .code(2)
        .stderr_has(&format!("error: {untrusted}\n"));
    env.set_blob("secrets", "fingerprints", "name = 'STRIPE_KEY'", &stored);
    scan(&env, &root, &[]).code(1);
}

#[test]
fn an_upgraded_vault_fingerprints_what_its_managers_hold_at_their_next_write() {
    let env = Env::init();
    env.add("A", CANARY);
    env.add("B", CANARY_2);
    add_bob(&env);
    env.owner_runs(&["grant", "B", "--to", "bob", "--manage"]);
    env.owner_runs(&["revoke", "B", "--from", "owner"]);
    // The file as format 2 left it: no signatures, no fingerprints.
    env.sql(&format!(
        "{} ALTER TABLE audit_keys DROP COLUMN signer; ALTER TABLE audit_keys DROP COLUMN sig; \
         PRAGMA user_version = 2;",
        crate::support::DROP_FORMAT_3
    ));
    std::fs::remove_dir_all(env.path().join("xdg").join("vault").join("trust")).unwrap();
    // The owner's next write signs the file and fingerprints A, whose
    // value it holds; B it cannot read.
    env.add("C", "value-of-c-3");
    assert_eq!(env.blob("secrets", "fingerprints", "name = 'A'").len(), 44);
    assert!(env.blob("secrets", "fingerprints", "name = 'B'").is_empty());
    let root = env.path().join("files");
    write(&root.join("a.txt"), format!("{CANARY}\n{CANARY_2}\n"));
    scan(&env, &root, &[])
        .code(1)
        .stdout_is("a.txt:1:1: A version 1 (current value)\n")
        .stderr_has(
            "vault: note: B has no fingerprint yet (stored before this version of vault), so its earlier values cannot be found, nor its current value without a grant; a manager's next change adds it\n",
        );
}

/// A secret of an environment is named with it, and so is the rotation
/// the hint gives: `K (prod)` is another secret than `K (dev)`.
#[test]
fn a_leak_of_an_environments_secret_names_the_environment() {
    let (env, root) = setup();
    let prod = "sk_live_prodonly_4d1c9b2e7a";
    env.vault(&["add", "DEPLOY_KEY", "--environment", "prod"])
        .passphrase()
        .stdin(prod)
        .run()
        .success();
    write(
        &root.join("deploy.sh"),
        format!("export DEPLOY_KEY={prod}\n"),
    );
    scan(&env, &root, &[])
        .code(1)
        .stdout_is("deploy.sh:1:19: DEPLOY_KEY (prod) version 1 (current value)\n")
        .stderr_is(
            "vault: found DEPLOY_KEY (prod) in 1 place (1 of 1 file read); no value was printed\n\
             hint: take the values out (and out of git history, if committed), then rotate what leaked: vault rotate DEPLOY_KEY --environment prod\n",
        );
}
