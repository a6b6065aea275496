//! Shell completion as the scripts ask for it (`VAULT_COMPLETE=fish vault --
//! vault WORDS...`): which names each argument offers, and that a missing,
//! locked or unreadable vault completes nothing and prints nothing. The
//! same scripts are driven in real shells in `shells.rs`.

use crate::support::{Env, Output, Run};

/// A vault with two secrets in two services and a second identity `ci`.
fn fixture() -> Env {
    let env = Env::init();
    for (name, service) in [("STRIPE_KEY", "payments"), ("GITHUB_TOKEN", "ci")] {
        env.vault(&["add", name, "--service", service])
            .passphrase()
            .stdin("value")
            .run()
            .success();
    }
    env.owner_runs(&["identity", "add", "ci", "--token"]);
    env
}

/// A request for completions of `vault WORDS...`, the last word being the
/// one under the cursor, as fish's script makes it.
fn request(env: &Env, words: &[&str]) -> Run {
    let mut args = vec!["--", "vault"];
    args.extend(words);
    env.vault(&args).env("VAULT_COMPLETE", "fish")
}

/// The raw answer to a request.
fn ask(env: &Env, words: &[&str]) -> Output {
    request(env, words).run()
}

/// The candidates offered, without their notes.
fn complete(env: &Env, words: &[&str]) -> Vec<String> {
    let out = ask(env, words).success().stderr_is("");
    out.stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect()
}

#[test]
fn offers_secret_names_where_a_secret_is_named() {
    let env = fixture();
    for words in [
        &["rotate", "ST"][..],
        &["rename", "ST"],
        &["mv", "ST"],
        &["delete", "ST"],
        &["delete", "GITHUB_TOKEN", "ST"],
        &["grant", "ST"],
        &["revoke", "ST"],
        &["exec", "--only", "ST"],
        &["--as", "owner", "rotate", "ST"],
    ] {
        assert_eq!(complete(&env, words), ["STRIPE_KEY"], "vault {words:?}");
    }
    assert_eq!(
        complete(&env, &["exec", "--only", "GITHUB_TOKEN,ST"]),
        ["GITHUB_TOKEN,STRIPE_KEY"]
    );
}

#[test]
fn shows_each_secrets_service_beside_it() {
    let env = fixture();
    ask(&env, &["rotate", ""])
        .success()
        .stdout_has("GITHUB_TOKEN\tci\n")
        .stdout_has("STRIPE_KEY\tpayments\n");
}

#[test]
fn offers_identity_names_after_to_from_and_as() {
    let env = fixture();
    for words in [
        &["grant", "STRIPE_KEY", "--to", ""][..],
        &["revoke", "STRIPE_KEY", "--from", ""],
        &["--as", ""],
        &["list", "--as", ""],
    ] {
        assert_eq!(complete(&env, words), ["ci", "owner"], "vault {words:?}");
    }
    assert_eq!(complete(&env, &["identity", "remove", "c"]), ["ci"]);
}

#[test]
fn offers_service_names_after_service() {
    let env = fixture();
    assert_eq!(
        complete(&env, &["list", "--service", ""]),
        ["ci", "payments"]
    );
    assert_eq!(complete(&env, &["exec", "-s", "pay"]), ["payments"]);
    assert_eq!(
        complete(&env, &["add", "NEW", "--service", "p"]),
        ["payments"]
    );
}

#[test]
fn reads_the_vault_named_on_the_command_line() {
    let env = fixture();
    let other = Env::init();
    other.add("OTHER_SECRET", "value");
    let path = other.vault.to_str().unwrap();
    assert_eq!(
        complete(&env, &["--vault", path, "rotate", "O"]),
        ["OTHER_SECRET"]
    );
    let joined = format!("--vault={path}");
    assert_eq!(complete(&env, &[&joined, "rotate", "O"]), ["OTHER_SECRET"]);
}

/// Nothing at all: no candidates, no error, success.
#[track_caller]
fn completes_nothing(run: Output) {
    run.success().stdout_is("").stderr_is("");
}

#[test]
fn a_missing_vault_completes_nothing_and_prints_nothing() {
    let env = Env::new();
    completes_nothing(ask(&env, &["rotate", "ST"]));
    completes_nothing(ask(&env, &["grant", "X", "--to", "o"]));
    assert!(!env.vault.exists(), "completion created a vault");
}

#[test]
fn an_unreadable_vault_completes_nothing_and_prints_nothing() {
    let env = Env::new();
    std::fs::create_dir_all(env.vault.parent().unwrap()).unwrap();
    std::fs::write(&env.vault, "not a vault at all, just text").unwrap();
    completes_nothing(ask(&env, &["rotate", "ST"]));
    std::fs::remove_file(&env.vault).unwrap();
    std::fs::create_dir(&env.vault).unwrap();
    completes_nothing(ask(&env, &["rotate", "ST"]));
}

/// A vault another process holds an exclusive lock on.
#[test]
fn a_locked_vault_completes_nothing_and_prints_nothing() {
    let env = fixture();
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    conn.execute_batch(
        "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE secrets SET version = version;",
    )
    .unwrap();
    completes_nothing(ask(&env, &["rotate", "ST"]));
    drop(conn);
    assert_eq!(complete(&env, &["rotate", "ST"]), ["STRIPE_KEY"]);
}

#[test]
fn never_unlocks_and_changes_nothing() {
    let env = fixture();
    let before = env.dump();
    let files = |env: &Env| {
        std::fs::read_dir(env.vault.parent().unwrap())
            .unwrap()
            .count()
    };
    let files_before = files(&env);
    // A passphrase source that would fail if anything tried to read it.
    request(&env, &["rotate", "ST"])
        .env("VAULT_PASSPHRASE_FILE", env.path().join("missing"))
        .env_remove("VAULT_NO_KEYRING")
        .run()
        .success()
        .stderr_is("")
        .stdout_is("STRIPE_KEY\tpayments\n");
    assert_eq!(env.dump(), before);
    assert_eq!(
        files(&env),
        files_before,
        "completion left files beside the vault"
    );
}

#[test]
fn completes_all_of_ten_thousand_secrets() {
    let env = fixture();
    env.sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
         INSERT INTO secrets (id, name, service, description, version, created_at,
                              rotated_at, sealed_value)
         SELECT randomblob(16), printf('BULK_%05d', i), 'bulk', NULL, 1, 0, 0, x'00'
         FROM n;",
    );
    let names = complete(&env, &["rotate", "BULK_"]);
    assert_eq!(names.len(), 10_000);
    assert_eq!(names[0], "BULK_00001");
    assert_eq!(names[9_999], "BULK_10000");
}

#[test]
fn prints_the_script_for_each_shell() {
    let env = Env::new();
    for (shell, needle) in [
        ("bash", "complete -o nospace -o bashdefault"),
        ("zsh", "#compdef vault"),
        ("fish", "complete --keep-order --exclusive --command vault"),
        ("elvish", "set edit:completion:arg-completer[vault]"),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName vault",
        ),
    ] {
        env.vault(&["completions", shell])
            .run()
            .success()
            .stdout_has(needle)
            .stdout_has("VAULT_COMPLETE");
    }
    env.vault(&["completions", "tcsh"])
        .run()
        .code(2)
        .stderr_has("invalid value 'tcsh'");
}

#[test]
fn an_empty_or_zero_request_runs_vault_normally() {
    let env = fixture();
    for value in ["", "0"] {
        env.vault(&["--version"])
            .env("VAULT_COMPLETE", value)
            .run()
            .success()
            .stdout_is(&format!("vault {}\n", env!("CARGO_PKG_VERSION")));
    }
}

/// Regression: `vault <TAB>` offered `mv` and `doctor` in place of
/// `rename` and `status` (one name per command, the first in sort order).
#[test]
fn commands_are_offered_by_their_canonical_names() {
    let env = fixture();
    let offered = complete(&env, &[""]);
    let commands: Vec<&str> = offered
        .iter()
        .map(String::as_str)
        .filter(|c| !c.starts_with('-'))
        .collect();
    assert_eq!(
        commands,
        [
            "init",
            "add",
            "import",
            "list",
            "rename",
            "rotate",
            "delete",
            "exec",
            "mcp",
            "grant",
            "revoke",
            "identity",
            "passwd",
            "audit",
            "scan",
            "unlock",
            "lock",
            "git",
            "status",
            "check",
            "manifest",
            "trust",
            "completions",
            "help"
        ]
    );
    // An alias typed out still completes, to itself.
    assert_eq!(complete(&env, &["mv"]), ["mv"]);
    assert_eq!(complete(&env, &["identity", "l"]), ["list"]);
}

/// Regression: nothing completed after `exec --`.
#[test]
fn after_exec_and_the_escape_come_a_program_then_its_files() {
    let env = fixture();
    let bin = env.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for (name, mode) in [("deploy-prod", 0o755), ("deploy-notes", 0o644)] {
        let path = bin.join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::write(env.path().join("notes.txt"), "").unwrap();
    let with_path = |words: &[&str]| -> Vec<String> {
        let out = request(&env, words)
            .env("PATH", &bin)
            .run()
            .success()
            .stderr_is("");
        out.stdout.lines().map(str::to_owned).collect()
    };
    // The program: commands on PATH (executable ones only)...
    assert_eq!(with_path(&["exec", "--", "depl"]), ["deploy-prod"]);
    assert_eq!(
        with_path(&["exec", "--only", "STRIPE_KEY", "--", "depl"]),
        ["deploy-prod"]
    );
    // ... or a path, when the word has a slash.
    assert_eq!(with_path(&["exec", "--", "./bi"]), ["./bin/"]);
    assert_eq!(
        with_path(&["exec", "--", "./bin/dep"]),
        ["./bin/deploy-prod"]
    );
    // Then files, as for the program itself.
    assert_eq!(with_path(&["exec", "--", "cat", "note"]), ["notes.txt"]);
    assert_eq!(
        with_path(&["exec", "--", "cat", "notes.txt", "./bin/deploy-n"]),
        ["./bin/deploy-notes"]
    );
}

/// Environments after `--environment`: those of the vault's secrets and
/// those the project's manifest lists; after `exec --only`, the manifest's
/// variables too (with their descriptions), beside the vault's secrets.
#[test]
fn offers_environments_and_the_manifests_names() {
    let env = fixture();
    env.vault(&["add", "DB_URL", "--environment", "prod"])
        .passphrase()
        .stdin("value")
        .run()
        .success();
    assert_eq!(complete(&env, &["exec", "--environment", ""]), ["prod"]);
    assert_eq!(complete(&env, &["list", "--environment", "p"]), ["prod"]);
    std::fs::write(
        env.path().join("vault.toml"),
        "[project]\nenvironments = [\"dev\", \"prod\"]\n\n\
         [vars.STRIPE_WEBHOOK]\ndescription = \"webhook signing\"\n[vars.LOG_LEVEL]\ndefault = \"info\"\n",
    )
    .unwrap();
    assert_eq!(
        complete(&env, &["rotate", "--environment", ""]),
        ["prod", "dev"]
    );
    assert_eq!(
        complete(&env, &["exec", "--only", "ST"]),
        ["STRIPE_KEY", "STRIPE_WEBHOOK"]
    );
    let out = ask(&env, &["exec", "--only", "STRIPE_W"]).success();
    assert_eq!(out.stdout, "STRIPE_WEBHOOK\twebhook signing\n");
    assert_eq!(complete(&env, &["exec", "--only", "LOG"]), ["LOG_LEVEL"]);
    // Other commands name stored secrets only.
    assert_eq!(complete(&env, &["rotate", "ST"]), ["STRIPE_KEY"]);
    assert!(complete(&env, &["--no-manifest", "exec", "--only", "LOG"]).is_empty());
}
