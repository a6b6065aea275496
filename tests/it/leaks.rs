//! A canary secret's plaintext must appear nowhere but in the environment
//! of `exec`'s child: not in the vault file, its -wal, -shm or journal, and
//! not in any command's output, errors included.

use crate::support::{Env, Output, PASSPHRASE};

const CANARY: &str = "CANARY-1b7e0c55-first";
const ROTATED: &str = "CANARY-9d24f1aa-second";

#[track_caller]
fn clean(out: Output, what: &str) -> Output {
    for canary in [CANARY, ROTATED] {
        assert!(!out.stdout.contains(canary), "{what}: stdout: {out:#?}");
        assert!(!out.stderr.contains(canary), "{what}: stderr: {out:#?}");
    }
    out
}

#[track_caller]
fn file_clean(env: &Env, what: &str) {
    let bytes = env.vault_bytes();
    // Metadata is plaintext, so this proves the search reads real content.
    assert!(bytes.windows(11).any(|w| w == b"svc-billing"), "{what}");
    no_canary(&bytes, what);
}

#[track_caller]
fn no_canary(bytes: &[u8], what: &str) {
    for needle in [CANARY, ROTATED, PASSPHRASE] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{what}: {needle:?} is in the vault's files"
        );
    }
}

#[test]
fn a_canary_appears_only_in_the_child() {
    let env = Env::init();
    // A reader kept open keeps every write in the -wal file, so the check
    // below sees the WAL and shared memory as well as the database.
    let reader = rusqlite::Connection::open(&env.vault).unwrap();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM secrets", [], |r| r.get(0))
        .unwrap();
    let run = |args: &[&str], stdin: &str| {
        let out = env.vault(args).passphrase().stdin(stdin).run();
        clean(out, &args.join(" "))
    };
    run(&["add", "CANARY", "-s", "svc-billing"], CANARY).success();
    run(&["add", "CANARY"], CANARY).code(2);
    run(&["add", "NUL_VALUE"], &format!("{CANARY}\0")).code(2);
    run(&["add", "TOO_BIG"], &CANARY.repeat(8000)).code(2);
    run(&["add", "LD_PRELOAD"], CANARY).code(2);
    run(&["list"], "").success();
    run(&["list", "--json"], "").success();
    run(&["identity", "list", "--json"], "").success();
    run(&["rotate", "CANARY"], ROTATED).success();
    run(&["rotate", "NOPE"], CANARY).code(2);
    run(&["rename", "CANARY", "RENAMED"], "").success();
    run(&["exec", "--mask", "never", "--", "no-such-command"], "").code(127);
    run(
        &["exec", "--mask", "never", "--only", "NOPE", "--", "env"],
        "",
    )
    .code(125);
    run(&["exec", "--mask", "never", "--", "true"], "").success();
    let wrong = env
        .vault(&["exec", "--mask", "never", "--", "env"])
        .env("VAULT_PASSPHRASE", "wrong")
        .run();
    clean(wrong, "wrong passphrase").code(125);
    file_clean(&env, "with the WAL kept");

    // Only the child sees the value, and vault itself adds nothing.
    env.vault(&["exec", "--mask", "never", "--", "printenv", "RENAMED"])
        .passphrase()
        .run()
        .success()
        .stdout_is(&format!("{ROTATED}\n"))
        .stderr_is("");
    run(&["delete", "RENAMED", "--yes"], "").success();
    drop(reader);
    // secure_delete zeroes what was deleted, plaintext metadata included.
    let bytes = env.vault_bytes();
    assert!(
        !bytes.windows(11).any(|w| w == b"svc-billing"),
        "metadata of a deleted secret lingers"
    );
    no_canary(&bytes, "after the last command");
}
