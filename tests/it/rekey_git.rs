//! `vault passwd --rekey` on a branch, merged with real git through
//! vault's merge driver: a one-sided rekey whose handovers verify is
//! taken, and a secret the other branch signed with the keys it replaced
//! is a conflict, not a file that fails to verify.

use std::path::PathBuf;

use crate::gitmerge::{git, git_run, repo};
use crate::rekey::{add_person, as_who, clone_dir, rekey, sees, sees_in, BOB};
use crate::support::Env;

fn commit(env: &Env, root: &std::path::Path, message: &str) {
    git(env, root, &["add", "-A"]);
    git(env, root, &["commit", "-q", "-m", message]);
}

/// A repository with the owner, bob and API (granted to bob), set up for
/// vault's merge, where branch `rekey` rekeyed bob; main checked out.
fn rekeyed_on_a_branch() -> (Env, PathBuf) {
    let (env, root) = repo();
    add_person(&env, "bob", BOB, false);
    env.add("API", "API-v1");
    env.owner_runs(&["grant", "API", "--to", "bob"]);
    env.vault(&["git", "setup"])
        .current_dir(&root)
        .run()
        .success();
    commit(&env, &root, "base");
    git(&env, &root, &["checkout", "-q", "-b", "rekey"]);
    rekey(&env, "bob", "bob-passphrase", "bob-2");
    commit(&env, &root, "rekey bob");
    git(&env, &root, &["checkout", "-q", "main"]);
    (env, root)
}

#[test]
fn a_rekey_on_a_branch_merges_with_git_and_verifies() {
    let (env, root) = rekeyed_on_a_branch();
    env.add("MAIN_ONLY", "M-v1");
    commit(&env, &root, "main");
    git(&env, &root, &["merge", "-q", "--no-edit", "rekey"]);

    assert_eq!(
        sees(&env, "owner", "passphrase", &["API", "MAIN_ONLY"]),
        "API-v1\nM-v1\n"
    );
    assert_eq!(sees(&env, "bob", "bob-2-file", &["API"]), "API-v1\n");
    let out = env
        .vault(&["git", "textconv"])
        .arg(&env.vault)
        .run()
        .success();
    assert!(out.stdout.contains("  rekeyed once\n"), "{out:?}");
    as_who(&env, "owner", "passphrase", &["audit", "verify"])
        .run()
        .success();
    as_who(&env, "bob", "bob-2-file", &["audit", "verify"])
        .run()
        .success();
    let fresh = clone_dir(&env, "fresh");
    assert_eq!(
        sees_in(&env, &fresh, "bob", "bob-2-file", "API"),
        "API-v1\n"
    );
}

#[test]
fn a_secret_signed_with_keys_the_other_branch_replaced_is_not_merged() {
    let (env, root) = rekeyed_on_a_branch();
    // On main, bob still signs with the keys the other branch replaced.
    as_who(&env, "bob", "bob-passphrase", &["add", "BOBS"])
        .stdin("bobs-value")
        .run()
        .success();
    commit(&env, &root, "main");
    let before = env.dump();
    let out = git_run(&env, &root, &["merge", "--no-edit", "rekey"]);
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "  secret BOBS: our side signed it with keys bob replaced on the other side (passwd --rekey): keep the other side's (--theirs) and make the change again\n"
        ),
        "{stderr}"
    );
    assert_eq!(env.dump(), before, "the working file is ours");
    assert_eq!(
        sees(&env, "bob", "bob-passphrase", &["BOBS"]),
        "bobs-value\n"
    );
}
