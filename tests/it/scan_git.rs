//! `vault scan` and git: a value committed three commits back found in
//! the branch's history with its commit, what `--staged` reads (the index,
//! only what differs from HEAD), and the pre-commit hook `vault git setup
//! --hook` installs, refusing a leak and letting a clean commit through.

use crate::scan::{clean, commit, git, git_run, scan, setup, write, CANARY};

#[test]
fn a_value_committed_three_commits_back_is_found_in_history_with_its_commit() {
    let (env, root) = setup();
    write(&root.join("config/app.env"), "DEBUG=1\n");
    commit(&env, &root, "config");
    write(
        &root.join("config/app.env"),
        format!("DEBUG=1\nSTRIPE_KEY={CANARY}\n"),
    );
    let leaked = commit(&env, &root, "oops");
    write(&root.join("config/app.env"), "DEBUG=1\n");
    commit(&env, &root, "take it out");
    write(&root.join("notes.txt"), "more\n");
    commit(&env, &root, "notes");
    write(&root.join("notes.txt"), "even more\n");
    commit(&env, &root, "notes again");
    // The working tree is clean; history is not.
    scan(&env, &root, &[]).success();
    scan(&env, &root, &["--git-history"])
        .code(1)
        .stdout_is(&format!(
            "{leaked}:config/app.env:2:12: STRIPE_KEY version 1 (current value)\n"
        ));
    let json = scan(&env, &root, &["--git-history", "--json"]).code(1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["findings"][0]["commit"], leaked.as_str());
    assert_eq!(v["findings"][0]["by"], "value");
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn staged_means_what_the_commit_would_record() {
    let (env, root) = setup();
    write(&root.join("committed.txt"), "fine\n");
    commit(&env, &root, "first");
    write(&root.join("staged.env"), format!("TOKEN={CANARY}\n"));
    git(&env, &root, &["add", "staged.env"]);
    // Not staged: not what the commit records.
    write(&root.join("unstaged.txt"), CANARY);
    scan(&env, &root, &["--staged"])
        .code(1)
        .stdout_is("staged.env:1:7: STRIPE_KEY version 1 (current value)\n");
    // The index, not the working file: fixing the file without `git add`
    // still leaves the value staged.
    write(&root.join("staged.env"), "TOKEN=\n");
    scan(&env, &root, &["--staged"]).code(1);
    git(&env, &root, &["add", "staged.env"]);
    scan(&env, &root, &["--staged"]).success();
}

#[test]
fn the_pre_commit_hook_refuses_a_leak_and_lets_a_clean_commit_through() {
    let (env, root) = setup();
    clean(
        env.vault(&["git", "setup", "--hook"])
            .current_dir(&root)
            .run(),
    )
    .success()
    .stdout_is(
        ".git/hooks/pre-commit: installed a pre-commit hook that runs `vault scan --staged`\n",
    );
    let hook = std::fs::read_to_string(root.join(".git/hooks/pre-commit")).unwrap();
    assert!(hook.contains(&format!("--vault '{}' scan --staged", env.vault.display())));
    // Run again: nothing to change.
    clean(
        env.vault(&["git", "setup", "--hook"])
            .current_dir(&root)
            .run(),
    )
    .success()
    .stdout_is("nothing to change: the pre-commit hook is already installed\n");

    write(
        &root.join("deploy.sh"),
        format!("curl -u {CANARY}: https://api\n"),
    );
    git(&env, &root, &["add", "deploy.sh"]);
    let refused = git_run(&env, &root, &["commit", "-q", "-m", "deploy"]);
    let stdout = String::from_utf8_lossy(&refused.stdout);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{refused:?}");
    // git hands a hook's output to stderr.
    assert!(
        stderr.starts_with("deploy.sh:1:9: STRIPE_KEY version 1 (current value)\n"),
        "{refused:?}"
    );
    assert!(!stdout.contains(CANARY) && !stderr.contains(CANARY));
    assert!(
        git_run(&env, &root, &["rev-parse", "-q", "--verify", "HEAD"])
            .stdout
            .is_empty()
    );

    write(
        &root.join("deploy.sh"),
        "curl -u \"$STRIPE_KEY:\" https://api\n",
    );
    git(&env, &root, &["add", "deploy.sh"]);
    git(&env, &root, &["commit", "-q", "-m", "deploy"]);
    assert_eq!(git(&env, &root, &["log", "--format=%s"]), "deploy");
}

#[test]
fn a_hook_that_vault_did_not_write_is_left_alone() {
    let (env, root) = setup();
    let hook = root.join(".git/hooks/pre-commit");
    write(&hook, "#!/bin/sh\nmake lint\n");
    clean(env.vault(&["git", "setup", "--hook"]).current_dir(&root).run()).fails(
        2,
        &format!("{} already exists and was not written by vault", hook.display()),
        Some(&format!(
            "add the line `vault scan --staged || exit 1` to {} yourself, or move it aside and run `vault git setup --hook` again",
            hook.display()
        )),
    );
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\nmake lint\n"
    );
}
