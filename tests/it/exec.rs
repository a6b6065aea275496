//! `vault exec`: selection, the program's environment, expiry, nesting,
//! `--explain` and exit statuses without masking, plus the helpers the
//! other exec files share. Bad inputs live in exec_refuse.rs, masking in
//! exec_mask.rs, signals in exec_signals.rs.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{Env, Output, Run, BIN};

/// Several arguments at once.
pub trait RunExt {
    fn args_of(self, args: &[&str]) -> Self;
}

impl RunExt for Run {
    fn args_of(self, args: &[&str]) -> Self {
        args.iter().fold(self, |run, arg| run.arg(*arg))
    }
}

/// Asserts a failure before the program ran: status 125 and this exact
/// error line.
#[track_caller]
pub fn refused(out: Output, message: &str) -> Output {
    out.code(125).stderr_has(&format!("error: {message}\n"))
}

/// Runs a bash script with the env's variables (passphrase included) and
/// `$VAULT` naming the binary, for pipelines and terminals.
pub fn bash(env: &Env, script: &str) -> std::process::Output {
    let template = env.vault(&[]).passphrase().command;
    let mut command = Command::new("bash");
    command.arg("-c").arg(script).env_clear().env("VAULT", BIN);
    for (key, value) in template.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command
        .current_dir(env.path())
        .stdin(Stdio::null())
        .output()
        .expect("run bash")
}

/// A vault with two secrets, long enough to be masked.
pub fn with_secrets() -> Env {
    let env = Env::init();
    env.add("API_KEY", "sk_live_4f9a8b7c");
    env.add("DB_PASSWORD", "hunter2-but-longer");
    env
}

fn add_to_service(env: &Env, name: &str, value: &str, service: &str) {
    env.vault(&["add", name, "--service", service])
        .passphrase()
        .stdin(value)
        .run()
        .success();
}

/// Sets a secret's expiry directly in the file (the expiry is metadata,
/// not bound to the value), as if time had passed.
fn set_expiry(env: &Env, name: &str, at: i64) {
    env.sql(&format!(
        "UPDATE secrets SET expires_at = {at} WHERE name = '{name}'"
    ));
}

pub fn ran(env: &Env) -> bool {
    env.path().join("ran").exists()
}

#[test]
fn injects_every_granted_secret_and_marks_the_environment() {
    let env = with_secrets();
    env.vault(&["exec", "--mask", "never", "--"])
        .args_of(&["sh", "-c", "echo $API_KEY $DB_PASSWORD $VAULT_EXEC"])
        .passphrase()
        .run()
        .success()
        .stdout_is("sk_live_4f9a8b7c hunter2-but-longer 1\n");
}

#[test]
fn unlocking_variables_never_reach_the_program() {
    let env = with_secrets();
    env.vault(&["exec", "--", "printenv", "VAULT_PASSPHRASE_FILE"])
        .passphrase()
        .run()
        .code(1)
        .stdout_is("");
}

#[test]
fn only_and_service_add_their_secrets() {
    let env = with_secrets();
    add_to_service(&env, "STRIPE_KEY", "sk_stripe_1", "stripe");
    add_to_service(&env, "AWS_KEY", "aws-key-123", "aws");
    add_to_service(&env, "AWS_SECRET", "aws-secret-456", "aws");
    let script = "echo ${API_KEY-none} ${DB_PASSWORD-none} ${STRIPE_KEY-none} ${AWS_KEY-none} ${AWS_SECRET-none}";
    env.vault(&[
        "exec", "--mask", "never", "--only", "API_KEY", "-s", "aws", "--",
    ])
    .args_of(&["sh", "-c", script])
    .passphrase()
    .run()
    .success()
    .stdout_is("sk_live_4f9a8b7c none none aws-key-123 aws-secret-456\n");
    env.vault(&["exec", "--mask", "never", "-s", "stripe", "-s", "aws", "--"])
        .args_of(&["sh", "-c", script])
        .passphrase()
        .run()
        .success()
        .stdout_is("none none sk_stripe_1 aws-key-123 aws-secret-456\n");
}

#[test]
fn env_injects_a_secret_under_another_name() {
    let env = with_secrets();
    env.add("GH_BOT_TOKEN", "ghp_bot_token_1");
    env.vault(&[
        "exec",
        "--mask",
        "never",
        "--env",
        "GITHUB_TOKEN=GH_BOT_TOKEN",
        "--",
    ])
    .args_of(&[
        "sh",
        "-c",
        "echo ${GITHUB_TOKEN-none} ${GH_BOT_TOKEN-none} ${API_KEY-none}",
    ])
    .passphrase()
    .run()
    .success()
    .stdout_is("ghp_bot_token_1 none none\n");
}

#[test]
fn clean_env_keeps_only_secrets_and_the_basics() {
    let env = with_secrets();
    let out = env
        .vault(&[
            "exec",
            "--mask",
            "never",
            "--clean-env",
            "--only",
            "API_KEY",
            "--",
            "env",
        ])
        .passphrase()
        .env("TZ", "UTC")
        .env("FOO", "bar")
        .env("AWS_PROFILE", "prod")
        .run()
        .success();
    let mut names: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split('=').next().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["API_KEY", "HOME", "LANG", "PATH", "TZ", "VAULT_EXEC"]
    );
}

#[test]
fn no_override_keeps_a_variable_already_set() {
    let env = with_secrets();
    let script = "echo $API_KEY $DB_PASSWORD";
    env.vault(&["exec", "--mask", "never", "--"])
        .args_of(&["sh", "-c", script])
        .passphrase()
        .env("API_KEY", "from-the-shell")
        .run()
        .success()
        .stdout_is("sk_live_4f9a8b7c hunter2-but-longer\n");
    env.vault(&["exec", "--mask", "never", "--no-override", "--"])
        .args_of(&["sh", "-c", script])
        .passphrase()
        .env("API_KEY", "from-the-shell")
        .run()
        .success()
        .stdout_is("from-the-shell hunter2-but-longer\n");
}

#[test]
fn an_expired_secret_stops_exec_before_anything_runs() {
    let env = with_secrets();
    set_expiry(&env, "API_KEY", 1_600_000_000);
    let before = env.dump();
    let out = env
        .vault(&["exec", "--", "touch", "ran"])
        .passphrase()
        .run();
    refused(out, "expired secrets: API_KEY")
        .stderr_has("hint: rotate them, or pass --allow-expired to inject them anyway\n");
    assert!(!ran(&env));
    assert_eq!(env.dump(), before);
}

#[test]
fn allow_expired_injects_it_with_a_note() {
    let env = with_secrets();
    set_expiry(&env, "API_KEY", 1_600_000_000);
    env.vault(&[
        "exec",
        "--mask",
        "never",
        "--allow-expired",
        "--",
        "printenv",
        "API_KEY",
    ])
    .passphrase()
    .run()
    .success()
    .stdout_is("sk_live_4f9a8b7c\n")
    .stderr_is("warning: injecting API_KEY, which expired on 2020-09-13T12:26:40Z\n");
}

#[test]
fn a_secret_expiring_within_a_week_is_named_in_a_warning() {
    let env = Env::init();
    for (name, expires) in [("SOON", "3d"), ("LATER", "30d")] {
        env.vault(&["add", name, "--expires", expires])
            .passphrase()
            .stdin("value-123456")
            .run()
            .success();
    }
    let out = env
        .vault(&["exec", "--", "true"])
        .passphrase()
        .run()
        .success()
        .stderr_has("warning: SOON expires in ")
        .stderr_has("; rotate it soon\n");
    assert!(!out.stderr.contains("LATER"), "{out:#?}");
}

#[test]
fn a_nested_exec_says_so() {
    let env = with_secrets();
    let inner = env.passphrase_file.to_str().unwrap();
    env.vault(&[
        "exec",
        "--mask",
        "never",
        "--",
        BIN,
        "--passphrase-file",
        inner,
    ])
    .args_of(&["exec", "--mask", "never", "--", "printenv", "VAULT_EXEC"])
    .passphrase()
    .run()
    .success()
    .stdout_is("1\n")
    .stderr_is("warning: running inside another vault exec\n");
}

#[test]
fn exit_statuses_pass_through_without_masking() {
    let env = with_secrets();
    for code in [0, 1, 42, 130] {
        env.vault(&["exec", "--mask", "never", "--", "sh", "-c"])
            .arg(format!("exit {code}"))
            .passphrase()
            .run()
            .code(code);
    }
    let out = bash(
        &env,
        r#""$VAULT" exec --mask never -- sh -c 'kill -KILL $$'; echo "status $?""#,
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "status 137\n");
}

#[test]
fn stdin_passes_through_in_both_modes() {
    let env = with_secrets();
    for mode in ["never", "always"] {
        env.vault(&["exec", "--mask", mode, "--", "cat"])
            .passphrase()
            .stdin("data\n")
            .run()
            .success()
            .stdout_is("data\n");
    }
}

#[test]
fn explain_shows_each_name_without_values_or_running() {
    let env = with_secrets();
    env.add("PIN", "123");
    env.add("OLD_TOKEN", "old-token-value");
    set_expiry(&env, "OLD_TOKEN", 1_600_000_000);
    env.add("GH_BOT_TOKEN", "ghp_bot_token_1");
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&env.passphrase_file)
        .passphrase()
        .run()
        .success();
    env.vault(&["--as", "bob", "add", "BOB_KEY"])
        .passphrase()
        .stdin("bob-only-value")
        .run()
        .success();
    let before = env.dump();
    let out = env
        .vault(&["exec", "--explain", "--no-override", "--", "touch", "ran"])
        .passphrase()
        .env("DB_PASSWORD", "from-the-shell")
        .run()
        .success();
    let command = out.stdout.lines().nth(1).unwrap().to_owned();
    assert!(command.starts_with("command: /") && command.ends_with("/touch"));
    assert_eq!(
        out.stdout.replace(&format!("{command}\n"), ""),
        "\
identity: owner
masking: on (stdout or stderr is not a terminal)
API_KEY       injected, masked
BOB_KEY       not granted to owner
DB_PASSWORD   kept from the environment (--no-override)
GH_BOT_TOKEN  injected, masked
OLD_TOKEN     expired on 2020-09-13T12:26:40Z: exec refuses to run (--allow-expired injects it)
PIN           injected, too short to mask (under 6 bytes)
"
    );
    assert!(!ran(&env));
    assert_eq!(env.dump(), before);
    for value in ["sk_live", "hunter2", "ghp_", "old-token", "bob-only", "123"] {
        assert!(!out.stdout.contains(value), "{out:#?}");
    }
}

#[test]
fn explain_follows_renames_and_masking_choices() {
    let env = with_secrets();
    env.add("GH_BOT_TOKEN", "ghp_bot_token_1");
    env.vault(&["exec", "--explain", "--mask", "never", "--only", "API_KEY"])
        .args_of(&["--env", "GITHUB_TOKEN=GH_BOT_TOKEN"])
        .passphrase()
        .run()
        .success()
        .stdout_is(
            "\
identity: owner
masking: off (--mask never)
API_KEY       injected
GITHUB_TOKEN  injected, from GH_BOT_TOKEN
",
        );
}

#[test]
fn a_missing_program_answers_127_before_unlocking() {
    let env = with_secrets();
    env.vault(&["exec", "--", "no-such-program-here"])
        .run()
        .code(127)
        .stderr_has("error: no-such-program-here: command not found\n");
    let script = env.path().join("not-executable.sh");
    std::fs::write(&script, "echo hi\n").unwrap();
    env.vault(&["exec", "--"])
        .arg(Path::new(&script))
        .run()
        .code(126);
}
