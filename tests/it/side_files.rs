//! Files beside the vault that vault did not make: an exec log, `-wal`,
//! `-shm` or `-journal` planted by another user, a FIFO in the exec log's
//! place, a side file others can write, and a directory others can write
//! (sticky or not). Each is refused with its own message, nothing planted
//! is appended to or replayed, and the vault is unchanged.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::exec::RunExt;
use crate::support::Env;

const NOBODY: &str = "65534";
const SIDE_HINT: &str = "vault did not make this file; look at it, then move it aside";

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn dir(env: &Env) -> PathBuf {
    env.vault.parent().unwrap().to_owned()
}

pub fn side(env: &Env, suffix: &str) -> PathBuf {
    let mut path = env.vault.as_os_str().to_owned();
    path.push(suffix);
    PathBuf::from(path)
}

/// Whether this test can plant a file as another user (it needs root, as
/// here and on CI); says so when it cannot.
fn can_plant() -> bool {
    let root = nix::unistd::geteuid().is_root();
    if !root {
        eprintln!("skipped: planting a file as another user needs root");
    }
    root
}

/// Writes `bytes` to `path` as user `nobody` (through setpriv), the way
/// another user of a shared directory would, then closes the directory
/// again, so that only the planted file is left to catch.
fn plant(env: &Env, path: &Path, bytes: &[u8]) {
    let dir = dir(env);
    // The test's own read-only dumps leave an empty -wal and -shm behind.
    let _ = std::fs::remove_file(path);
    chmod(env.path(), 0o755);
    chmod(&dir, 0o777);
    let data = env.path().join("planted-bytes");
    std::fs::write(&data, bytes).unwrap();
    chmod(&data, 0o644);
    let status = Command::new("setpriv")
        .args(["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups"])
        .args(["sh", "-c", "umask 022; cat \"$0\" > \"$1\""])
        .arg(&data)
        .arg(path)
        .status()
        .expect("run setpriv");
    assert!(status.success(), "planting {} failed", path.display());
    chmod(&dir, 0o700);
    chmod(env.path(), 0o700);
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(path).unwrap()),
        65534
    );
}

fn side_error(path: &Path, reason: &str) -> String {
    format!("refusing {}: {reason}", path.display())
}

fn side_hint(path: &Path) -> String {
    format!("{SIDE_HINT}: mv {0} {0}.suspect", path.display())
}

#[test]
fn an_exec_log_planted_by_another_user_is_neither_appended_to_nor_folded() {
    if !can_plant() {
        return;
    }
    let env = Env::init();
    env.add("API_KEY", "sk_live_4f9a8b7c");
    let log = env.exec_log_path();
    let planted = b"{\"garbage\":1}\n";
    plant(&env, &log, planted);
    let audit = env.audit_dump();
    let reason = "it belongs to another user (uid 65534)";
    env.vault(&["exec", "--mask", "never", "--", "printenv", "API_KEY"])
        .passphrase()
        .run()
        .success()
        .stdout_is("sk_live_4f9a8b7c\n")
        .stderr_is(&format!(
            "warning: this run is not recorded in the audit log: {}\n",
            side_error(&log, reason)
        ));
    env.refuses(
        env.vault(&["add", "NEW"]).passphrase().stdin("value"),
        2,
        &side_error(&log, reason),
        Some(&side_hint(&log)),
    );
    assert_eq!(std::fs::read(&log).unwrap(), planted);
    assert_eq!(env.audit_dump(), audit);
}

#[test]
fn a_fifo_in_place_of_the_exec_log_does_not_block_exec() {
    let mut env = Env::init();
    env.add("API_KEY", "sk_live_4f9a8b7c");
    let log = env.exec_log_path();
    nix::unistd::mkfifo(&log, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    // Without O_NONBLOCK the open would wait for a reader for ever; the
    // guard turns that into a failure (status 124) instead of a hung suite.
    env.wrap(vec![OsString::from("timeout"), OsString::from("300")]);
    let before = env.dump();
    let reason = "it is not a regular file";
    env.vault(&["exec", "--mask", "never", "--", "printenv", "API_KEY"])
        .passphrase()
        .run()
        .success()
        .stdout_is("sk_live_4f9a8b7c\n")
        .stderr_is(&format!(
            "warning: this run is not recorded in the audit log: {}\n",
            side_error(&log, reason)
        ));
    env.vault(&["add", "NEW"])
        .passphrase()
        .stdin("value")
        .run()
        .fails(2, &side_error(&log, reason), Some(&side_hint(&log)));
    assert_eq!(env.dump(), before);
    assert!(std::fs::symlink_metadata(&log)
        .unwrap()
        .file_type()
        .is_fifo_like());
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for std::fs::FileType {
    fn is_fifo_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_fifo(self)
    }
}

#[test]
fn a_wal_shm_or_journal_planted_by_another_user_is_refused_before_sqlite_reads_it() {
    if !can_plant() {
        return;
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let env = Env::init();
        env.add("API_KEY", "sk_live_4f9a8b7c");
        let before = env.dump();
        let planted = side(&env, suffix);
        plant(&env, &planted, b"not the victim's pages");
        let message = side_error(&planted, "it belongs to another user (uid 65534)");
        let hint = side_hint(&planted);
        env.vault(&["list"]).run().fails(2, &message, Some(&hint));
        let out = env
            .vault(&["exec", "--", "touch", "ran"])
            .passphrase()
            .run();
        crate::exec::refused(out, &message);
        assert!(!env.path().join("ran").exists());
        env.vault(&["add", "NEW"])
            .passphrase()
            .stdin("value")
            .run()
            .fails(2, &message, Some(&hint));
        assert_eq!(std::fs::read(&planted).unwrap(), b"not the victim's pages");
        std::fs::remove_file(&planted).unwrap();
        assert_eq!(env.dump(), before, "{suffix}");
    }
}

#[test]
fn a_side_file_others_can_write_or_a_symlink_is_refused() {
    let env = Env::init();
    env.add("API_KEY", "sk_live_4f9a8b7c");
    let before = env.dump();

    let wal = side(&env, "-wal");
    std::fs::write(&wal, b"").unwrap();
    chmod(&wal, 0o666);
    env.vault(&["list"]).run().fails(
        2,
        &side_error(&wal, "others can read or write it (mode 0666)"),
        Some(&side_hint(&wal)),
    );
    std::fs::remove_file(&wal).unwrap();

    let shm = side(&env, "-shm");
    let _ = std::fs::remove_file(&shm);
    std::os::unix::fs::symlink(env.path().join("elsewhere"), &shm).unwrap();
    env.vault(&["list"]).run().fails(
        2,
        &side_error(&shm, "it is a symbolic link"),
        Some(&side_hint(&shm)),
    );
    std::fs::remove_file(&shm).unwrap();

    let log = env.exec_log_path();
    std::fs::write(&log, b"").unwrap();
    chmod(&log, 0o644);
    env.vault(&["add", "NEW"])
        .passphrase()
        .stdin("value")
        .run()
        .fails(
            2,
            &side_error(&log, "others can read or write it (mode 0644)"),
            Some(&side_hint(&log)),
        );
    assert_eq!(env.dump(), before);
    assert_eq!(std::fs::read(&log).unwrap(), b"");
}

/// A group- or world-writable directory is refused, sticky or not: the
/// sticky bit keeps others from replacing this user's files, not from
/// creating the side files vault has not made yet.
#[test]
fn a_directory_others_can_write_is_refused_sticky_or_not() {
    let env = Env::init();
    env.add("API_KEY", "sk_live_4f9a8b7c");
    let before = env.dump();
    let dir = dir(&env);
    let hint = format!(
        "keep the vault in a directory only you can write: run chmod go-w {}, or move the vault and pass --vault PATH",
        dir.display()
    );
    for mode in [0o777, 0o1777, 0o770, 0o1733] {
        chmod(&dir, mode);
        let message = format!(
            "{} is writable by others (mode {mode:04o}): they could plant files beside the vault",
            dir.display()
        );
        env.vault(&["list"]).run().fails(2, &message, Some(&hint));
        let out = env
            .vault(&["exec", "--", "touch", "ran"])
            .passphrase()
            .run();
        crate::exec::refused(out, &message);
        assert!(!env.path().join("ran").exists());
        assert!(!env.exec_log_path().exists());
        chmod(&dir, 0o700);
        assert_eq!(env.dump(), before, "mode {mode:o}");
    }
    // A directory that is only readable by others is fine.
    chmod(&dir, 0o755);
    env.vault(&["list"]).run().success();
}

#[test]
fn init_refuses_a_directory_others_can_write() {
    let env = Env::new();
    let dir = dir(&env);
    std::fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o1777);
    env.vault(&["init", "--name", "owner"])
        .passphrase()
        .run()
        .fails(
            2,
            &format!(
                "{} is writable by others (mode 1777): they could plant files beside the vault",
                dir.display()
            ),
            Some(&format!(
                "keep the vault in a directory only you can write: run chmod go-w {}, or move the vault and pass --vault PATH",
                dir.display()
            )),
        );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

/// `vault status` still opens a vault in a shared directory, to say so.
#[test]
fn status_reports_a_directory_others_can_write() {
    let env = Env::init();
    let dir = dir(&env);
    chmod(&dir, 0o1777);
    env.vault(&["status"])
        .args_of(&[])
        .run()
        .stdout_has(&format!(
            "{} is mode 1777, run: chmod 700 {}",
            dir.display(),
            dir.display()
        ));
    chmod(&dir, 0o700);
}
