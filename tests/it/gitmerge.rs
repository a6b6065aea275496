//! A vault in a team's git repository: `vault git setup`, branches that
//! change the vault apart, `git merge` through vault's merge driver, a
//! conflict settled with `vault git resolve`, and the text form `git diff`
//! and `git log -p` show. Real git, in a temporary home: HOME and
//! XDG_CONFIG_HOME point into it and GIT_CONFIG_NOSYSTEM is set, so the
//! user's own git config is never read or written.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Env, Run};

pub const BOB_PASSPHRASE: &str = "bob's own passphrase";

/// A home with a git repository `repo/` whose vault is
/// `repo/secrets/vault.db`, owned by `owner`, not yet committed.
pub fn repo() -> (Env, PathBuf) {
    let mut env = Env::new();
    let root = env.path().join("repo");
    std::fs::create_dir(&root).unwrap();
    git(&env, &root, &["init", "-q", "-b", "main"]);
    git(&env, &root, &["config", "user.name", "Test"]);
    git(&env, &root, &["config", "user.email", "test@example.com"]);
    env.vault = root.join("secrets").join("vault.db");
    env.owner_runs(&["init", "--name", "owner"]);
    (env, root)
}

/// Runs git in `dir` with the test's home; returns its stdout, asserting
/// success.
#[track_caller]
pub fn git(env: &Env, dir: &Path, args: &[&str]) -> String {
    let out = git_run(env, dir, args);
    assert!(out.status.success(), "git {args:?} failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn git_run(env: &Env, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.path())
        .env("XDG_CONFIG_HOME", env.path().join("xdg"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CEILING_DIRECTORIES", env.path().parent().unwrap())
        .env("LANG", "C.UTF-8")
        .env("VAULT_NO_KEYRING", "1")
        .output()
        .expect("run git")
}

fn commit(env: &Env, root: &Path, message: &str) {
    git(env, root, &["add", "-A"]);
    git(env, root, &["commit", "-q", "-m", message]);
}

/// Adds a machine identity and returns its token.
pub fn machine(env: &Env, name: &str) -> String {
    let out = env
        .vault(&["identity", "add", name, "--token"])
        .passphrase()
        .run()
        .success();
    out.stdout.trim().to_owned()
}

/// `NAME=value` lines the child of `exec` sees, among `names`, sorted.
fn seen(run: Run, names: &[&str]) -> Vec<String> {
    let out = run.run().success();
    let mut lines: Vec<String> = out
        .stdout
        .lines()
        .filter(|l| names.iter().any(|n| l.starts_with(&format!("{n}="))))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

const ENV: [&str; 4] = ["exec", "--mask", "never", "--"];

fn exec_env(env: &Env) -> Run {
    let mut args = ENV.to_vec();
    args.push("env");
    env.vault(&args)
}

fn needing_rotation(env: &Env) -> Vec<String> {
    let json = env.vault(&["list", "--json"]).run().success().stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    json["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["needs_rotation"] == true)
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn two_branches_changed_apart_merge_and_every_identity_sees_its_values() {
    let (env, root) = repo();
    std::fs::write(env.path().join("bob-passphrase"), BOB_PASSPHRASE).unwrap();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(env.path().join("bob-passphrase"))
        .passphrase()
        .run()
        .success();
    let ci = machine(&env, "ci");
    for name in [
        "KEEP", "ROT_A", "ROT_B", "GRANT", "REVOKE", "DEL", "REN", "ROTREV",
    ] {
        env.add(name, &format!("{name}-v1"));
    }
    for args in [
        &["grant", "ROT_A", "ROT_B", "REVOKE", "ROTREV", "--to", "ci"][..],
        &["grant", "KEEP", "--to", "bob"],
    ] {
        env.owner_runs(args);
    }
    env.vault(&["git", "setup"])
        .current_dir(&root)
        .run()
        .success();
    commit(&env, &root, "a vault for the team");

    // Branch a: rotate, grant, delete, add, a new machine, rotate ROTREV.
    git(&env, &root, &["checkout", "-q", "-b", "a"]);
    let rotate = |name: &str, value: &str| {
        env.vault(&["rotate", name])
            .passphrase()
            .stdin(value)
            .run()
            .success();
    };
    rotate("ROT_A", "ROT_A-v2");
    rotate("ROTREV", "ROTREV-v2");
    env.owner_runs(&["grant", "GRANT", "--to", "ci"]);
    env.owner_runs(&["delete", "DEL", "--yes"]);
    env.add("NEW_A", "NEW_A-v1");
    let deploy = machine(&env, "deploy");
    env.owner_runs(&["grant", "NEW_A", "--to", "deploy"]);
    commit(&env, &root, "branch a");

    // main: rotate, revoke, rename, add and grant, revoke ROTREV, offboard bob.
    git(&env, &root, &["checkout", "-q", "main"]);
    rotate("ROT_B", "ROT_B-v2");
    for args in [
        &["revoke", "REVOKE", "--from", "ci"][..],
        &["revoke", "ROTREV", "--from", "ci"],
        &["rename", "REN", "REN2"],
        &["grant", "KEEP", "--to", "ci"],
        &["identity", "remove", "bob", "--yes"],
    ] {
        env.owner_runs(args);
    }
    env.add("NEW_B", "NEW_B-v1");
    env.owner_runs(&["grant", "NEW_B", "--to", "ci"]);
    commit(&env, &root, "main");

    git(&env, &root, &["merge", "-q", "--no-edit", "a"]);
    assert_eq!(git(&env, &root, &["status", "--porcelain"]), "");

    let all = [
        "KEEP", "ROT_A", "ROT_B", "GRANT", "REVOKE", "DEL", "REN", "REN2", "ROTREV", "NEW_A",
        "NEW_B",
    ];
    assert_eq!(
        seen(exec_env(&env).passphrase(), &all),
        [
            "GRANT=GRANT-v1",
            "KEEP=KEEP-v1",
            "NEW_A=NEW_A-v1",
            "NEW_B=NEW_B-v1",
            "REN2=REN-v1",
            "REVOKE=REVOKE-v1",
            "ROTREV=ROTREV-v2",
            "ROT_A=ROT_A-v2",
            "ROT_B=ROT_B-v2",
        ]
    );
    assert_eq!(
        seen(exec_env(&env).env("VAULT_ACCESS_TOKEN", &ci), &all),
        [
            "GRANT=GRANT-v1",
            "KEEP=KEEP-v1",
            "NEW_B=NEW_B-v1",
            "ROT_A=ROT_A-v2",
            "ROT_B=ROT_B-v2",
        ]
    );
    assert_eq!(
        seen(exec_env(&env).env("VAULT_ACCESS_TOKEN", &deploy), &all),
        ["NEW_A=NEW_A-v1"]
    );
    // ci was revoked from ROTREV on main while branch a rotated it (and
    // wrapped the new value for ci): it still needs rotating.
    assert_eq!(needing_rotation(&env), ["REVOKE", "ROTREV"]);
    let identities = env.vault(&["identity", "list"]).run().success().stdout;
    assert!(!identities.contains("bob"), "{identities}");
    assert!(identities.contains("deploy"), "{identities}");

    // Both branches' audit entries are kept, the chain forks where they
    // parted, and later entries (the execs above, an add) follow one head.
    let log = env.vault(&["audit"]).run().success().stdout;
    for (action, name) in [
        ("rotate", "ROT_A"),
        ("rotate", "ROT_B"),
        ("add", "NEW_A"),
        ("add", "NEW_B"),
    ] {
        assert!(
            log.lines().any(|l| l.contains(action) && l.contains(name)),
            "{action} {name} is missing from the merged log:\n{log}"
        );
    }
    let merges: Vec<&str> = log
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some("git") && l.contains("merge"))
        .collect();
    assert_eq!(merges.len(), 1, "one entry records the merge:\n{log}");
    env.add("AFTER_MERGE", "v");
    env.vault(&["audit", "verify"])
        .passphrase()
        .run()
        .success()
        .stdout_has("audit log intact");
    env.vault(&["audit", "verify"])
        .env("VAULT_ACCESS_TOKEN", &ci)
        .run()
        .success()
        .stdout_has("audit log intact");
    // The merge entry is vouched for by the keyed entries after it.
    env.sql("UPDATE audit SET detail = '{\"joins\":[]}' WHERE action = 'merge'");
    env.vault(&["audit", "verify"])
        .passphrase()
        .run()
        .code(2)
        .stderr_has("(edited)");
}

#[test]
fn the_same_secret_rotated_on_both_branches_stops_the_merge_until_resolved() {
    let (env, root) = repo();
    env.add("SAME", "SAME-v1");
    env.vault(&["git", "setup"])
        .current_dir(&root)
        .run()
        .success();
    commit(&env, &root, "base");
    git(&env, &root, &["checkout", "-q", "-b", "a"]);
    env.vault(&["rotate", "SAME"])
        .passphrase()
        .stdin("SAME-from-a")
        .run()
        .success();
    env.add("ONLY_A", "A-v1");
    commit(&env, &root, "a");
    git(&env, &root, &["checkout", "-q", "main"]);
    env.vault(&["rotate", "SAME"])
        .passphrase()
        .stdin("SAME-from-main")
        .run()
        .success();
    env.add("ONLY_MAIN", "M-v1");
    commit(&env, &root, "main");

    let out = git_run(&env, &root, &["merge", "--no-edit", "a"]);
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "vault: cannot merge secrets/vault.db: 1 conflict\n  secret SAME: rotated on both sides\n"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("vault --vault secrets/vault.db git resolve SAME --ours"),
        "{stderr}"
    );
    assert_eq!(
        git(&env, &root, &["status", "--porcelain"]),
        "UU secrets/vault.db\n"
    );
    // The working file is ours, as git expects on a conflict.
    assert_eq!(env.value_of("SAME"), "SAME-from-main");

    env.vault(&["git", "resolve", "NOPE", "--theirs"])
        .current_dir(&root)
        .run()
        .fails(
            2,
            "nothing named NOPE is in conflict; in conflict: SAME",
            Some("name the secrets the merge reported"),
        );
    env.vault(&["git", "resolve", "SAME", "--theirs"])
        .current_dir(&root)
        .run()
        .success()
        .stdout_is(
            "resolved SAME by keeping theirs, and merged the rest of secrets/vault.db\n\
             next: git add secrets/vault.db, then git commit\n",
        );
    git(&env, &root, &["add", "secrets/vault.db"]);
    git(&env, &root, &["commit", "-q", "--no-edit"]);
    assert_eq!(env.value_of("SAME"), "SAME-from-a");
    assert_eq!(env.value_of("ONLY_A"), "A-v1");
    assert_eq!(env.value_of("ONLY_MAIN"), "M-v1");
    env.vault(&["git", "resolve", "SAME", "--theirs"])
        .current_dir(&root)
        .run()
        .fails(
            2,
            "secrets/vault.db is not in a stopped merge",
            Some("resolve runs after `git merge` stopped on a conflict in the vault file; `git status` shows it"),
        );
}

#[test]
fn setup_writes_attributes_ignores_and_config_once() {
    let (env, root) = repo();
    let exe = crate::support::BIN;
    env.vault(&["git", "setup"])
        .current_dir(&root)
        .run()
        .success()
        .stdout_is(&format!(
            "set up secrets/vault.db in {root} for git diff and git merge:\n  \
             .gitattributes: added \"/secrets/vault.db diff=vault merge=vault\"\n  \
             .gitignore: added /secrets/vault.db-wal /secrets/vault.db-shm \
             /secrets/vault.db-exec (side files of a vault in use: SQLite's, and exec's \
             entries waiting for the audit log; never commit them)\n  \
             git config: set diff.vault.textconv, diff.vault.xfuncname, merge.vault.name \
             and merge.vault.driver\n\
             commit .gitattributes and .gitignore; every clone runs `vault git setup` once \
             (git does not share its config)\n",
            root = root.canonicalize().unwrap().display()
        ));
    let attributes = std::fs::read_to_string(root.join(".gitattributes")).unwrap();
    assert_eq!(attributes, "/secrets/vault.db diff=vault merge=vault\n");
    let ignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert_eq!(
        ignore,
        "/secrets/vault.db-wal\n/secrets/vault.db-shm\n/secrets/vault.db-exec\n"
    );
    assert_eq!(
        git(&env, &root, &["config", "--local", "merge.vault.driver"]),
        format!("'{exe}' git merge %O %A %B %P\n")
    );
    assert_eq!(
        git(&env, &root, &["config", "--local", "diff.vault.textconv"]),
        format!("'{exe}' git textconv\n")
    );
    let config = std::fs::read(root.join(".git/config")).unwrap();
    env.vault(&["git", "setup"])
        .current_dir(root.join("secrets"))
        .run()
        .success()
        .stdout_is(&format!(
            "nothing to change: secrets/vault.db in {} is already set up\n",
            root.canonicalize().unwrap().display()
        ));
    assert_eq!(std::fs::read(root.join(".git/config")).unwrap(), config);
    assert_eq!(
        std::fs::read_to_string(root.join(".gitattributes")).unwrap(),
        attributes
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".gitignore")).unwrap(),
        ignore
    );
    // The side files are ignored while the vault is in use.
    std::fs::write(root.join("secrets/vault.db-wal"), "x").unwrap();
    std::fs::write(root.join("secrets/vault.db-exec"), "x").unwrap();
    commit(&env, &root, "setup");
    let tracked = git(&env, &root, &["ls-files"]);
    assert_eq!(tracked, ".gitattributes\n.gitignore\nsecrets/vault.db\n");
}

#[test]
fn setup_keeps_existing_ignore_rules_and_adds_only_what_is_missing() {
    let (env, root) = repo();
    std::fs::write(root.join(".gitignore"), "target/\n*-shm").unwrap();
    env.vault(&["git", "setup"])
        .current_dir(&root)
        .run()
        .success()
        .stdout_has(".gitignore: added /secrets/vault.db-wal /secrets/vault.db-exec (side");
    assert_eq!(
        std::fs::read_to_string(root.join(".gitignore")).unwrap(),
        "target/\n*-shm\n/secrets/vault.db-wal\n/secrets/vault.db-exec\n"
    );
}

#[test]
fn setup_outside_a_repository_is_refused() {
    let env = Env::init();
    let dir = env.path().canonicalize().unwrap();
    env.vault(&["git", "setup"])
        .env("GIT_CEILING_DIRECTORIES", env.path().parent().unwrap())
        .run()
        .fails(
            2,
            &format!("not inside a git repository: {}", dir.display()),
            Some("run `vault git setup` inside the repository that holds the vault (or `git init` one first)"),
        );
}

#[test]
fn setup_with_a_vault_outside_the_work_tree_is_refused() {
    let (mut env, root) = repo();
    env.vault = env.path().join("elsewhere").join("vault.db");
    env.owner_runs(&["init", "--name", "owner"]);
    env.vault(&["git", "setup"]).current_dir(&root).run().fails(
        2,
        &format!(
            "the vault file {} is outside the work tree of the repository at {}",
            env.vault.canonicalize().unwrap().display(),
            root.canonicalize().unwrap().display()
        ),
        Some("keep the vault inside the repository and point --vault or VAULT_PATH at it"),
    );
    assert!(!root.join(".gitattributes").exists());
}
