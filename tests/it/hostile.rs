//! A hostile environment: a symlinked vault, a file open to others,
//! a vault this user cannot write, and a file size limit mid-write. Each is
//! a clear error or warning, and the vault stays intact.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;

use crate::support::{Env, Run};

pub const NOBODY: u32 = 65534;

pub fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_symlinked_vault_is_refused() {
    let env = Env::init();
    env.add("KEEP", "value");
    let link = env.path().join("link.db");
    std::os::unix::fs::symlink(&env.vault, &link).unwrap();
    let before = env.dump();
    env.vault(&["list", "--vault"])
        .arg(&link)
        .run()
        .error(&format!(
            "{} is a symbolic link; vault opens only the real file",
            link.display()
        ))
        .stderr_has(&format!(
            "hint: pass the real path: --vault \"$(readlink -f {})\"\n",
            link.display()
        ));
    assert_eq!(env.dump(), before);
}

#[test]
fn a_vault_file_open_to_others_is_warned_about() {
    let env = Env::init();
    env.add("KEEP", "value");
    chmod(&env.vault, 0o644);
    // Others may read the directory; writing it is refused (side_files.rs).
    chmod(env.vault.parent().unwrap(), 0o755);
    env.vault(&["list"]).run().success().stderr_is(&format!(
        "warning: {file} is accessible by others (mode 0644); run: chmod 600 {file}\n",
        file = env.vault.display(),
    ));
    assert_eq!(env.value_of("KEEP"), "value");
}

/// Runs as a user who may read but not write the vault: `nobody` when the
/// tests run as root (root ignores file modes), else this user after a chmod.
pub fn as_reader(env: &Env, args: &[&str]) -> Run {
    let mut run = env.vault(args).passphrase();
    if nix::unistd::geteuid().is_root() {
        run.command.uid(NOBODY).gid(NOBODY);
    }
    run
}

pub fn make_read_only(env: &Env) {
    let dir = env.vault.parent().unwrap();
    if nix::unistd::geteuid().is_root() {
        // nobody must reach the files: open the path to it, not the files.
        chmod(env.path(), 0o755);
        chmod(dir, 0o755);
        chmod(&env.vault, 0o644);
        chmod(&env.passphrase_file, 0o644);
    } else {
        chmod(&env.vault, 0o400);
        chmod(dir, 0o500);
    }
}

#[test]
fn a_read_only_vault_can_be_used_but_not_changed() {
    let env = Env::init();
    env.add("KEEP", "value");
    let before = env.dump();
    make_read_only(&env);
    as_reader(&env, &["exec", "--mask", "never", "--", "printenv", "KEEP"])
        .run()
        .success()
        .stdout_is("value\n");
    as_reader(&env, &["add", "NEW"])
        .stdin("v")
        .run()
        .error(&format!(
            "cannot write the vault at {}: it is read-only",
            env.vault.display()
        ));
    as_reader(&env, &["rotate", "KEEP"])
        .stdin("v")
        .run()
        .error(&format!(
            "cannot write the vault at {}: it is read-only",
            env.vault.display()
        ));
    assert_eq!(env.dump(), before);
}

#[test]
fn a_file_size_limit_fails_the_write_and_keeps_the_vault() {
    let env = Env::init();
    env.add("KEEP", "value");
    let big: String = (0..120_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let file = env.path().join("big");
    std::fs::write(&file, &big).unwrap();
    let size = std::fs::metadata(&env.vault).unwrap().len();
    // Room for the database as it is, not for the WAL a 120 KB value needs.
    let blocks = size / 512 + 8;
    let before = env.dump();
    let mut run = env.vault(&[]).passphrase();
    let mut sh = std::process::Command::new("sh");
    sh.env_clear()
        .arg("-c")
        .arg(format!(
            "ulimit -f {blocks}; exec \"$0\" add BIG --from-file \"$1\""
        ))
        .arg(crate::support::BIN)
        .arg(&file);
    for (k, v) in run.command.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    run.command = sh;
    run.run().error(
        "cannot write the vault: the disk is full or a file size limit was reached; nothing was changed",
    );
    assert_eq!(env.dump(), before);
    assert_eq!(env.value_of("KEEP"), "value");
}
