//! The trust attacks that go through git: a crafted branch merged with
//! real git (a swapped identity key, an older copy of a secret), refused
//! by vault's merge driver with the file left as ours; and the text form
//! a reviewer reads, with each identity's role and key fingerprints.

use crate::gitmerge::{git, git_run, repo, BOB_PASSPHRASE};

fn commit(env: &crate::support::Env, root: &std::path::Path, message: &str) {
    git(env, root, &["add", "-A"]);
    git(env, root, &["commit", "-q", "-m", message]);
}

/// A repository with the owner, bob and a secret, set up for vault's
/// diff and merge, committed on main.
fn team_repo() -> (crate::support::Env, std::path::PathBuf) {
    let (env, root) = repo();
    std::fs::write(env.path().join("bob-passphrase"), BOB_PASSPHRASE).unwrap();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(env.path().join("bob-passphrase"))
        .passphrase()
        .run()
        .success();
    env.add("API", "API-v1");
    env.vault(&["git", "setup"])
        .current_dir(&root)
        .run()
        .success();
    commit(&env, &root, "base");
    (env, root)
}

#[test]
fn a_branch_that_swaps_an_identitys_key_is_not_merged() {
    let (env, root) = team_repo();
    git(&env, &root, &["checkout", "-q", "-b", "crafted"]);
    // The attacker's own X25519 key in bob's row, by a script on the file.
    env.sql("UPDATE identities SET public_key = randomblob(32) WHERE name = 'bob'");
    commit(&env, &root, "tidy up");
    git(&env, &root, &["checkout", "-q", "main"]);
    env.add("MAIN_ONLY", "M-v1");
    commit(&env, &root, "main");
    let before = env.dump();

    let out = git_run(&env, &root, &["merge", "--no-edit", "crafted"]);
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "  identity bob: their side changed its keys or name, which vault never does\n"
        ),
        "{stderr}"
    );
    assert_eq!(env.dump(), before, "the working file is ours");
}

#[test]
fn a_branch_that_puts_an_older_secret_back_is_not_merged() {
    let (env, root) = team_repo();
    git(&env, &root, &["checkout", "-q", "-b", "rotated"]);
    env.vault(&["rotate", "API"])
        .passphrase()
        .stdin("API-v2")
        .run()
        .success();
    commit(&env, &root, "rotate API");
    git(&env, &root, &["checkout", "-q", "main"]);
    git(&env, &root, &["merge", "-q", "--no-edit", "rotated"]);
    // The crafted branch starts after the rotation and puts the old file back.
    git(&env, &root, &["checkout", "-q", "-b", "crafted"]);
    git(
        &env,
        &root,
        &["checkout", "HEAD~1", "--", "secrets/vault.db"],
    );
    commit(&env, &root, "restore");
    git(&env, &root, &["checkout", "-q", "main"]);
    env.add("MAIN_ONLY", "M-v1");
    commit(&env, &root, "main");
    let before = env.dump();

    let out = git_run(&env, &root, &["merge", "--no-edit", "crafted"]);
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "  secret API: their side holds an older state of it than the common ancestor\n"
        ),
        "{stderr}"
    );
    assert_eq!(env.dump(), before);
    assert_eq!(env.value_of("API"), "API-v2");
}

#[test]
fn the_text_form_shows_roles_and_key_fingerprints() {
    let (env, root) = team_repo();
    let text = env
        .vault(&["git", "textconv", "secrets/vault.db"])
        .current_dir(&root)
        .run()
        .success()
        .stdout;
    let owner = text.split("\nidentity owner\n").nth(1).unwrap();
    assert!(owner.contains("  role root\n"), "{text}");
    assert!(owner.contains("  receives with SHA256:"), "{text}");
    assert!(owner.contains("  signs with SHA256:"), "{text}");
    let bob = text.split("\nidentity bob\n").nth(1).unwrap();
    assert!(bob.contains("  role member\n"), "{text}");
}

#[test]
fn a_committed_wal_is_refused_never_replayed() {
    let (env, root) = team_repo();
    // The attacker's change, left in a write-ahead log that was never
    // checkpointed, then committed with `git add -f` beside an unchanged
    // vault.db: `git diff` of the vault shows nothing.
    let wal = {
        let mut p = env.vault.clone().into_os_string();
        p.push("-wal");
        std::path::PathBuf::from(p)
    };
    let copy = env.path().join("saved-wal");
    {
        let conn = rusqlite::Connection::open(&env.vault).unwrap();
        conn.execute_batch(
            "PRAGMA wal_autocheckpoint = 0; \
             UPDATE identities SET public_key = randomblob(32) WHERE name = 'bob';",
        )
        .unwrap();
        std::fs::copy(&wal, &copy).unwrap();
        // Closing would checkpoint the change into vault.db: leak the
        // connection instead, as a crashed writer would.
        std::mem::forget(conn);
    }
    git(&env, &root, &["checkout", "--", "secrets/vault.db"]);
    std::fs::copy(&copy, &wal).unwrap();
    git(&env, &root, &["add", "-f", "secrets/vault.db-wal"]);
    git(&env, &root, &["commit", "-q", "-m", "nothing to see"]);
    assert_eq!(
        git(
            &env,
            &root,
            &["diff", "HEAD~1", "--stat", "--", "secrets/vault.db"]
        ),
        ""
    );
    let before = std::fs::read(&env.vault).unwrap();
    let message = format!(
        "error: refusing {}: git tracks it: it came with the repository, and vault never replays a side file it did not write",
        wal.display()
    );
    env.vault(&["grant", "API", "--to", "bob"])
        .passphrase()
        .run()
        .code(2)
        .stderr_has(&message);
    env.vault(&["exec", "--", "true"])
        .passphrase()
        .run()
        .code(125)
        .stderr_has(&message);
    assert_eq!(
        std::fs::read(&env.vault).unwrap(),
        before,
        "nothing was replayed"
    );
}
