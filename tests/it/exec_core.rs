//! `vault exec`: secrets in the child's environment, the unlocking
//! variables kept out of it, and env(1)'s exit status contract (the child's
//! own; 125 when vault failed first; 126 not executable; 127 not found).

use std::os::unix::fs::PermissionsExt;

use crate::support::{Env, NO_PASSPHRASE_HINT, PASSPHRASE};

fn with_secrets() -> Env {
    let env = Env::init();
    env.vault(&["add", "DB_URL", "-s", "db"])
        .passphrase()
        .stdin("postgres://db")
        .run()
        .success();
    env.vault(&["add", "API_KEY", "-s", "api"])
        .passphrase()
        .stdin("sk_123")
        .run()
        .success();
    env
}

/// The child's environment, one `NAME=value` per line, sorted.
fn child_env(out: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    lines
}

#[test]
fn the_child_gets_every_secret_and_vault_exec() {
    let env = with_secrets();
    let out = env
        .vault(&["exec", "--mask", "never", "--", "env"])
        .passphrase()
        .run()
        .success()
        .stderr_is("");
    let vars = child_env(&out.stdout);
    assert!(vars.contains(&"DB_URL=postgres://db"), "{vars:?}");
    assert!(vars.contains(&"API_KEY=sk_123"), "{vars:?}");
    assert!(vars.contains(&"VAULT_EXEC=1"), "{vars:?}");
}

#[test]
fn only_selects_secrets() {
    let env = with_secrets();
    let out = env
        .vault(&["exec", "--mask", "never", "--only", "API_KEY", "--", "env"])
        .passphrase()
        .run()
        .success();
    let vars = child_env(&out.stdout);
    assert!(vars.contains(&"API_KEY=sk_123"), "{vars:?}");
    assert!(!vars.iter().any(|v| v.starts_with("DB_URL=")), "{vars:?}");
}

#[test]
fn service_selects_secrets() {
    let env = with_secrets();
    let out = env
        .vault(&["exec", "--mask", "never", "--service", "db", "--", "env"])
        .passphrase()
        .run()
        .success();
    let vars = child_env(&out.stdout);
    assert!(vars.contains(&"DB_URL=postgres://db"), "{vars:?}");
    assert!(!vars.iter().any(|v| v.starts_with("API_KEY=")), "{vars:?}");
}

#[test]
fn a_secret_overrides_a_variable_of_the_same_name() {
    let env = with_secrets();
    env.vault(&["exec", "--mask", "never", "--", "printenv", "API_KEY"])
        .passphrase()
        .env("API_KEY", "from the parent")
        .run()
        .success()
        .stdout_is("sk_123\n");
}

#[test]
fn passes_arguments_through_untouched() {
    let env = with_secrets();
    env.vault(&[
        "exec",
        "--",
        "sh",
        "-c",
        "printf '[%s]' \"$@\"",
        "sh",
        "--only",
        "-x",
        "",
    ])
    .passphrase()
    .run()
    .success()
    .stdout_is("[--only][-x][]");
}

#[test]
fn the_child_never_sees_a_passphrase_or_its_file() {
    let env = with_secrets();
    let out = env
        .vault(&["exec", "--mask", "never", "--", "env"])
        .passphrase()
        .env("VAULT_PASSPHRASE", PASSPHRASE)
        .run()
        .success();
    assert!(!out.stdout.contains("VAULT_PASSPHRASE"), "{}", out.stdout);
    assert!(!out.stdout.contains(PASSPHRASE), "{}", out.stdout);
    let out = env
        .vault(&["exec", "--mask", "never", "--", "env"])
        .env("VAULT_PASSPHRASE", PASSPHRASE)
        .run()
        .success();
    assert!(!out.stdout.contains("VAULT_PASSPHRASE"), "{}", out.stdout);
    assert!(!out.stdout.contains(PASSPHRASE), "{}", out.stdout);
}

#[test]
fn the_child_never_sees_the_access_token() {
    let env = with_secrets();
    let token = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success()
        .stdout;
    let token = token.trim_end();
    env.owner_runs(&["grant", "API_KEY", "--to", "ci"]);
    let out = env
        .vault(&["exec", "--mask", "never", "--", "env"])
        .env("VAULT_ACCESS_TOKEN", token)
        .run()
        .success();
    let vars = child_env(&out.stdout);
    assert!(vars.contains(&"API_KEY=sk_123"), "{vars:?}");
    assert!(!out.stdout.contains("VAULT_ACCESS_TOKEN"), "{}", out.stdout);
    assert!(!out.stdout.contains(token), "{}", out.stdout);
}

#[test]
fn passes_the_childs_exit_status_through() {
    let env = with_secrets();
    for status in [0, 1, 42] {
        env.vault(&["exec", "--mask", "never", "--", "sh", "-c"])
            .arg(format!("exit {status}"))
            .passphrase()
            .run()
            .code(status)
            .stdout_is("")
            .stderr_is("");
    }
}

#[test]
fn replaces_itself_with_the_child() {
    let env = with_secrets();
    let mut command = env
        .vault(&["exec", "--mask", "never", "--", "sh", "-c", "echo $$"])
        .passphrase()
        .command;
    let child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{pid}\n"));
}

#[test]
fn answers_127_for_a_command_not_found() {
    let env = with_secrets();
    env.vault(&["exec", "--mask", "never", "--", "no-such-command-anywhere"])
        .passphrase()
        .run()
        .fails(
            127,
            "no-such-command-anywhere: command not found",
            Some("check the command's name and PATH"),
        );
    env.vault(&["exec", "--mask", "never", "--", "./missing-script"])
        .passphrase()
        .run()
        .fails(
            127,
            "./missing-script: command not found",
            Some("check the command's name and PATH"),
        );
}

#[test]
fn answers_126_for_a_file_that_is_not_executable() {
    let env = with_secrets();
    let script = env.path().join("script.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    env.vault(&["exec", "--mask", "never", "--", "./script.sh"])
        .passphrase()
        .run()
        .fails(126, "./script.sh: cannot run: permission denied", None);
}

#[test]
fn answers_126_for_a_directory() {
    let env = with_secrets();
    env.vault(&["exec", "--mask", "never", "--", "/"])
        .passphrase()
        .run()
        .fails(126, "/: cannot run: is a directory", None);
}

#[test]
fn answers_125_for_a_wrong_passphrase() {
    let env = with_secrets();
    let before = env.dump();
    env.vault(&["exec", "--mask", "never", "--", "echo", "ran"])
        .env("VAULT_PASSPHRASE", "wrong")
        .run()
        .fails(
            125,
            "wrong passphrase for identity owner",
            Some("try again; a wrong passphrase changes nothing"),
        );
    assert_eq!(env.dump(), before);
}

#[test]
fn answers_125_without_a_passphrase_or_terminal() {
    let env = with_secrets();
    env.vault(&["exec", "--mask", "never", "--", "echo", "ran"])
        .run()
        .fails(
            125,
            "no passphrase for identity owner: no terminal to ask on",
            Some(NO_PASSPHRASE_HINT),
        );
}

#[test]
fn answers_125_for_no_command() {
    let env = with_secrets();
    for args in [&["exec"][..], &["exec", "--mask", "never", "--"][..]] {
        env.vault(args).passphrase().run().fails(
            125,
            "no command given to run",
            Some("usage: vault exec [OPTIONS] -- COMMAND [ARGS]..."),
        );
    }
}

#[test]
fn answers_125_for_only_naming_a_missing_secret() {
    let env = with_secrets();
    env.vault(&[
        "exec",
        "--mask",
        "never",
        "--only",
        "API_KEY,NOPE",
        "--",
        "echo",
        "ran",
    ])
    .passphrase()
    .run()
    .fails(
        125,
        "no secret named NOPE",
        Some("`vault list` shows the names"),
    );
}

#[test]
fn answers_125_for_a_service_with_no_secrets() {
    let env = with_secrets();
    env.vault(&[
        "exec",
        "--mask",
        "never",
        "--service",
        "nope",
        "--",
        "echo",
        "ran",
    ])
    .passphrase()
    .run()
    .fails(
        125,
        "no secret belongs to service nope",
        Some("`vault list` shows each secret's service"),
    );
}

#[test]
fn answers_125_for_a_missing_vault() {
    let env = Env::new();
    env.vault(&["exec", "--mask", "never", "--", "echo", "ran"])
        .passphrase()
        .run()
        .fails(
            125,
            &format!("no vault at {}", env.vault.display()),
            Some("create one with `vault init`, or point --vault or VAULT_PATH at an existing one"),
        );
}

#[test]
fn answers_125_for_a_usage_error() {
    let env = with_secrets();
    env.vault(&["exec", "--mask", "never", "--only"])
        .passphrase()
        .run()
        .code(125)
        .stderr_is(
            "error: a value is required for '--only <NAME,...>' but none was supplied\n\n\
         For more information, try '--help'.\n",
        );
}
