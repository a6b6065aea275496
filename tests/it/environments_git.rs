//! Environments in a team repository: the git text form names each
//! secret's environment in its header, and the merge keeps `K (dev)` and
//! `K (prod)` apart, while two different `K (prod)` conflict.

use crate::gitmerge::{git, git_run, repo};
use crate::support::Env;

fn add_in(env: &Env, name: &str, environment: &str, value: &str) {
    env.vault(&["add", name, "--environment", environment])
        .passphrase()
        .stdin(value)
        .run()
        .success();
}

fn value_in(env: &Env, name: &str, environment: &str) -> String {
    env.vault(&[
        "exec",
        "--mask",
        "never",
        "--environment",
        environment,
        "--",
        "printenv",
        name,
    ])
    .passphrase()
    .run()
    .success()
    .stdout
}

fn commit(env: &Env, root: &std::path::Path, message: &str) {
    git(env, root, &["add", "-A"]);
    git(env, root, &["commit", "-q", "-m", message]);
}

#[test]
fn branches_adding_one_name_in_two_environments_merge_and_keep_both() {
    let (env, root) = repo();
    env.add("K", "shared-v1");
    env.vault(&["git", "setup"])
        .current_dir(&root)
        .run()
        .success();
    commit(&env, &root, "base");
    git(&env, &root, &["checkout", "-q", "-b", "a"]);
    add_in(&env, "K", "dev", "dev-v1");
    commit(&env, &root, "dev");
    let diff = git(&env, &root, &["show", "--format=", "HEAD"]);
    assert!(diff.contains("+secret K (dev)\n"), "{diff}");
    git(&env, &root, &["checkout", "-q", "main"]);
    add_in(&env, "K", "prod", "prod-v1");
    commit(&env, &root, "prod");
    git(&env, &root, &["merge", "-q", "--no-edit", "a"]);
    assert_eq!(value_in(&env, "K", "dev"), "dev-v1\n");
    assert_eq!(value_in(&env, "K", "prod"), "prod-v1\n");
    assert_eq!(value_in(&env, "K", "staging"), "shared-v1\n");
}

#[test]
fn two_secrets_of_one_name_in_one_environment_conflict() {
    let (env, root) = repo();
    env.vault(&["git", "setup"])
        .current_dir(&root)
        .run()
        .success();
    env.add("BASE", "base-v1");
    commit(&env, &root, "base");
    git(&env, &root, &["checkout", "-q", "-b", "a"]);
    add_in(&env, "K", "prod", "prod-from-a");
    commit(&env, &root, "a");
    git(&env, &root, &["checkout", "-q", "main"]);
    add_in(&env, "K", "prod", "prod-from-main");
    commit(&env, &root, "main");
    let out = git_run(&env, &root, &["merge", "--no-edit", "a"]);
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("  secret K (prod): two different secrets have this name\n"),
        "{stderr}"
    );
    env.vault(&["git", "resolve", "K", "--theirs"])
        .current_dir(&root)
        .run()
        .success();
    // This clone knew main's K (prod): taking theirs is a choice it
    // confirms, as for any secret replaced under its name.
    env.owner_runs(&["trust", "accept"]);
    assert_eq!(value_in(&env, "K", "prod"), "prod-from-a\n");
}
