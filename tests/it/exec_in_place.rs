//! A fresh clone's exec reads a vault that closed cleanly in place
//! (`store::frozen`): no `-wal` or `-shm` made and removed, a read lock
//! that holds back any checkpoint meanwhile, and a refusal if the file
//! changed under the reading all the same.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::exec_cache::{settle, setup};
use crate::hostile::{chmod, NOBODY};
use crate::side_files::side;
use crate::support::{Env, Output};

/// ci's exec on a machine of its own: a fresh clone, with no trust state
/// until its first run.
fn ci_exec(env: &Env, token: &str, command: &[&str]) -> crate::support::Run {
    let mut args = vec!["exec", "--mask", "never", "--"];
    args.extend_from_slice(command);
    env.vault(&args)
        .env("VAULT_ACCESS_TOKEN", token)
        .env("XDG_DATA_HOME", ci_data(env))
}

fn ci_data(env: &Env) -> PathBuf {
    env.path().join("ci-data")
}

/// ci's exec of `printenv K` under strace: its opens, removals and locks.
fn traced(env: &mut Env, token: &str) -> String {
    crate::exec_cache::traced(env, "openat,unlink,fcntl", |env| {
        ci_exec(env, token, &["printenv", "K"])
    })
}

const LOCK: &str =
    "F_OFD_SETLK, {l_type=F_RDLCK, l_whence=SEEK_SET, l_start=1073741826, l_len=510}) = 0";

#[test]
fn a_fresh_exec_reads_a_settled_vault_in_place() {
    let (mut env, token) = setup();
    settle();
    let trace = traced(&mut env, &token);
    let db = env.vault.display().to_string();
    assert!(trace.contains(LOCK), "{trace}");
    for line in trace.lines().filter(|l| l.contains(&db)) {
        let exec_log = line.contains(&format!("{db}-exec\""));
        assert!(
            exec_log || line.contains("O_RDONLY") && !line.contains("O_CREAT"),
            "{line}\n{trace}"
        );
        assert!(
            !line.starts_with("unlink") && !line.contains(" unlink("),
            "{line}"
        );
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        assert!(!side(&env, suffix).exists(), "{suffix} left behind");
    }
    // What it verified is cached as after any fresh exec: the next run
    // is warm.
    ci_exec(&env, &token, &["printenv", "K"])
        .run()
        .success()
        .stdout_is("value-one\n");
}

#[test]
fn a_vault_changed_a_moment_ago_is_read_through_sqlite() {
    let (mut env, token) = setup();
    let trace = traced(&mut env, &token);
    let db = env.vault.display().to_string();
    assert!(!trace.contains("F_OFD_SETLK"), "{trace}");
    assert!(
        trace.contains(&format!("{db}-wal\", O_RDWR|O_CREAT")),
        "{trace}"
    );
}

/// ci's exec in a thread of its own, held for 1.5 s each time `syscall`
/// on `path` returns (strace's `delay_exit`).
fn held_exec(
    env: &mut Env,
    token: &str,
    syscall: &str,
    path: &std::path::Path,
    command: &[&str],
) -> std::thread::JoinHandle<Output> {
    let prefix = [
        "strace",
        "-qq",
        "-o",
        "/dev/null",
        "-P",
        &path.display().to_string(),
        "-e",
        &format!("inject={syscall}:delay_exit=1500000"),
    ]
    .map(OsString::from)
    .to_vec();
    env.wrap(prefix);
    let run = ci_exec(env, token, command);
    env.wrap(Vec::new());
    std::thread::spawn(move || run.run())
}

fn wait_for(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..300 {
        if ready() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{what} never happened");
}

#[test]
fn a_write_meanwhile_waits_in_the_wal_and_nothing_is_lost() {
    let (mut env, token) = setup();
    settle();
    let before = std::fs::metadata(&env.vault).unwrap();
    // Held where it appends to the exec log: it has read the file and
    // still holds its lock.
    let exec_log = env.exec_log_path();
    let exec = held_exec(&mut env, &token, "openat", &exec_log, &["printenv", "K"]);
    wait_for("exec reaching its log", || exec_log.exists());
    // The owner adds a secret meanwhile: the write commits into the
    // `-wal`, and its close cannot fold it into the file under exec.
    env.vault(&["add", "NEW"])
        .passphrase()
        .stdin("value-new")
        .run()
        .success();
    assert!(side(&env, "-wal").exists(), "the write waits in the -wal");
    let during = std::fs::metadata(&env.vault).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        (during.mtime(), during.mtime_nsec(), during.size()),
        (before.mtime(), before.mtime_nsec(), before.size()),
        "the file exec read did not change under it"
    );
    exec.join().unwrap().success().stdout_is("value-one\n");
    // The next command sees the write, and its close folds the -wal in.
    env.vault(&["list"])
        .passphrase()
        .run()
        .success()
        .stdout_has("NEW");
    assert!(!side(&env, "-wal").exists());
    assert_eq!(env.value_of("NEW"), "value-new");
}

#[test]
fn a_file_changed_under_the_reading_is_refused() {
    let (mut env, token) = setup();
    settle();
    // Held where it first saves the trust state, after reading the rows
    // and before handing anything on.
    let trust = ci_data(&env).join("vault/trust");
    let marker = env.path().join("ran");
    let script = format!("touch {}; printenv K", marker.display());
    let exec = held_exec(&mut env, &token, "mkdir", &trust, &["sh", "-c", &script]);
    wait_for("exec saving its trust state", || trust.exists());
    // Written in place, as a checkpoint in the middle of a very large
    // write would: the same bytes, a new modification time.
    let bytes = std::fs::read(&env.vault).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&env.vault)
        .unwrap();
    std::io::Write::write_all(&mut file, &bytes).unwrap();
    drop(file);
    let message = format!(
        "the vault at {} changed while exec read it: nothing was handed to the program",
        env.vault.display()
    );
    exec.join().unwrap().fails(
        125,
        &message,
        Some("run it again: another vault command was writing a large change at that moment"),
    );
    assert!(!marker.exists(), "the program never ran");
    // Nothing was lost: the next run reads the file through SQLite.
    ci_exec(&env, &token, &["printenv", "K"])
        .run()
        .success()
        .stdout_is("value-one\n");
}

/// A settled vault its owner cannot write (the file 0400, its directory
/// 0500) is read through SQLite as before: the run is not recorded, and
/// says so once, in the words every read-only vault gets. As root, which
/// writes whatever the modes say, the files are handed to `nobody`.
#[test]
fn a_settled_vault_its_owner_cannot_write_is_read_as_before() {
    use std::os::unix::process::CommandExt;
    let env = Env::init();
    env.add("K", "value-one");
    let root = nix::unistd::geteuid().is_root();
    if root {
        let status = std::process::Command::new("chown")
            .args(["-R", &format!("{NOBODY}:{NOBODY}")])
            .arg(env.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    chmod(&env.vault, 0o400);
    chmod(env.vault.parent().unwrap(), 0o500);
    settle();
    let mut run = env
        .vault(&["exec", "--mask", "never", "--", "printenv", "K"])
        .passphrase();
    if root {
        run.command.uid(NOBODY).gid(NOBODY);
    }
    let out = run.run().success().stdout_is("value-one\n");
    let warning = format!(
        "warning: this run is not recorded in the audit log: cannot write the vault at {}: it is read-only\n",
        env.vault.display()
    );
    assert_eq!(out.stderr.matches(&warning).count(), 1, "{out:#?}");
    assert!(!side(&env, "-wal").exists());
    chmod(env.vault.parent().unwrap(), 0o700);
}
