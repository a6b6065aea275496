//! The audit log: every change and every exec adds exactly one entry, with
//! who, what, which secrets and (for exec) the program and directory, and
//! never a value; `vault audit` shows it without unlocking.

use crate::hostile::{as_reader, make_read_only};
use crate::support::{Env, Run};

const BOB_PASSPHRASE: &str = "bob's own passphrase";
const CANARY: &str = "canary-value-7f3e9a1c";

/// The log as `identity action secrets detail` lines, from `--json`.
fn log(env: &Env, args: &[&str]) -> Vec<String> {
    let mut all = vec!["audit", "--json"];
    all.extend_from_slice(args);
    let out = env.vault(&all).run().success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let names: Vec<&str> = e["secrets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            let detail: Vec<String> = e["detail"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                .collect();
            format!(
                "{} {} {} [{}] {}",
                e["seq"],
                e["identity"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                names.join(","),
                detail.join(" ")
            )
            .trim_end()
            .to_owned()
        })
        .collect()
}

/// Runs `run`, which must succeed and add exactly one entry.
fn one_entry(env: &Env, run: Run) {
    let before = env.audit_count();
    run.run().success();
    assert_eq!(env.audit_count(), before + 1);
}

/// Runs `run`, which must fail (or only read) and add nothing.
fn no_entry(env: &Env, run: Run, code: i32) {
    let before = env.audit_dump();
    run.run().code(code);
    assert_eq!(env.audit_dump(), before);
}

/// Owner, bob (a person) and ci (a machine); returns ci's token.
pub fn team_scenario(env: &Env) -> String {
    let bob_file = env.path().join("bob-passphrase");
    std::fs::write(&bob_file, BOB_PASSPHRASE).unwrap();
    let owner = |args: &[&str]| env.vault(args).passphrase();
    one_entry(env, owner(&["add", "A"]).stdin(CANARY));
    one_entry(env, owner(&["add", "B"]).stdin("b-value-123"));
    one_entry(
        env,
        owner(&["identity", "add", "bob", "--new-passphrase-file"]).arg(&bob_file),
    );
    let before = env.audit_count();
    let token = owner(&["identity", "add", "ci", "--token"])
        .run()
        .success()
        .stdout
        .trim()
        .to_owned();
    assert_eq!(env.audit_count(), before + 1);
    one_entry(env, owner(&["grant", "A", "--to", "bob"]));
    one_entry(env, owner(&["grant", "A", "B", "--to", "ci", "--manage"]));
    let bob = |args: &[&str]| {
        env.vault(args)
            .env("VAULT_PASSPHRASE_FILE", &bob_file)
            .env("VAULT_IDENTITY", "bob")
    };
    one_entry(
        env,
        bob(&[
            "exec",
            "--mask",
            "never",
            "--",
            "sh",
            "-c",
            "echo ARGV_CANARY",
        ]),
    );
    let ci = |args: &[&str]| env.vault(args).env("VAULT_ACCESS_TOKEN", &token);
    one_entry(env, ci(&["rotate", "A"]).stdin(format!("{CANARY}-2")));
    one_entry(env, ci(&["exec", "--only", "B", "--", "true"]));
    one_entry(env, owner(&["rename", "B", "C"]));
    one_entry(env, owner(&["revoke", "A", "--from", "bob"]));
    one_entry(env, owner(&["delete", "C", "--yes"]));
    one_entry(
        env,
        owner(&["passwd", "--new-passphrase-file"]).arg(&env.passphrase_file),
    );
    one_entry(env, owner(&["identity", "remove", "bob", "--yes"]));
    token
}

#[test]
fn every_command_adds_one_entry_naming_who_what_and_which() {
    let env = Env::init();
    team_scenario(&env);
    let cwd = format!("cwd={}", env.path().display());
    assert_eq!(
        log(&env, &[]),
        [
            "1 owner init []".to_owned(),
            "2 owner add [A]".into(),
            "3 owner add [B]".into(),
            "4 owner identity add [] identity=bob kind=person".into(),
            "5 owner identity add [] identity=ci kind=machine".into(),
            "6 owner grant [A] identity=bob level=use".into(),
            "7 owner grant [A,B] identity=ci level=manage".into(),
            format!("8 bob exec [A] {cwd} program=sh"),
            "9 ci rotate [A]".into(),
            format!("10 ci exec [B] {cwd} program=true"),
            "11 owner rename [B,C]".into(),
            "12 owner revoke [A] identity=bob".into(),
            "13 owner delete [C]".into(),
            "14 owner passwd []".into(),
            "15 owner identity remove [] identity=bob".into(),
        ]
    );
}

#[test]
fn commands_that_fail_or_only_read_add_nothing() {
    let env = Env::init();
    env.add("A", "a-value-123");
    let owner = |args: &[&str]| env.vault(args).passphrase();
    no_entry(&env, owner(&["add", "A"]).stdin("x"), 2);
    no_entry(&env, owner(&["rotate", "NOPE"]).stdin("x"), 2);
    no_entry(&env, owner(&["grant", "A", "--to", "nobody"]), 2);
    no_entry(&env, owner(&["exec", "--only", "NOPE", "--", "true"]), 125);
    no_entry(&env, owner(&["exec", "--explain", "--", "true"]), 0);
    no_entry(&env, owner(&["exec", "--", "no-such-program-here"]), 127);
    no_entry(&env, env.vault(&["list"]), 0);
    no_entry(&env, env.vault(&["audit"]), 0);
    no_entry(&env, owner(&["audit", "verify"]), 0);
    no_entry(&env, env.vault(&["add", "B"]).stdin("x"), 2);
}

#[test]
fn no_value_and_no_argument_reaches_the_log() {
    let env = Env::init();
    team_scenario(&env);
    let text = env.vault(&["audit"]).run().success().stdout;
    let json = env.vault(&["audit", "--json"]).run().success().stdout;
    for shown in [&text, &json, &env.audit_dump()] {
        assert!(!shown.contains("canary-value"), "{shown}");
        assert!(!shown.contains("b-value"), "{shown}");
        assert!(!shown.contains("ARGV_CANARY"), "{shown}");
        assert!(!shown.contains("-c"), "{shown}");
    }
}

#[test]
fn showing_the_log_needs_no_unlocking() {
    let env = Env::init();
    env.add("STRIPE_KEY", "sk_test_123456");
    let time = env.audit_time(2);
    env.vault(&["audit"]).run().success().stdout_is(&format!(
        "SEQ  TIME                  IDENTITY  ACTION  SECRETS     DETAIL\n\
         1    {}  owner     init\n\
         2    {time}  owner     add     STRIPE_KEY\n",
        env.audit_time(1)
    ));
}

#[test]
fn since_and_secret_select_entries() {
    let env = Env::init();
    env.add("A", "a-value-123");
    env.add("B", "b-value-123");
    env.owner_runs(&["rename", "A", "C"]);
    assert_eq!(
        log(&env, &["--secret", "A"]),
        ["2 owner add [A]", "4 owner rename [A,C]"]
    );
    assert_eq!(log(&env, &["--secret", "C"]), ["4 owner rename [A,C]"]);
    assert_eq!(log(&env, &["--since", "1d"]).len(), 4);
    assert_eq!(log(&env, &["--since", "2000-01-01"]).len(), 4);
    env.vault(&["audit", "--since", "2999-01-01"])
        .run()
        .success()
        .stdout_is("")
        .stderr_is("no audit entries\n");
    env.vault(&["audit", "--secret", "NEVER_USED"])
        .run()
        .success()
        .stderr_is("no audit entries\n");
}

#[test]
fn an_unparsable_since_is_refused() {
    let env = Env::init();
    let before = (env.dump(), env.audit_dump());
    env.vault(&["audit", "--since", "yesterday"]).run().fails(
        2,
        "invalid time \"yesterday\": not a date or a duration",
        Some("use a date (2027-01-31) or a duration (90d, 12h)"),
    );
    assert_eq!((env.dump(), env.audit_dump()), before);
}

#[test]
fn an_invalid_secret_name_is_refused() {
    let env = Env::init();
    let before = (env.dump(), env.audit_dump());
    env.vault(&["audit", "--secret", "1X"]).run().fails(
        2,
        "invalid secret name \"1X\": it starts with '1'",
        Some("names are environment variable names: letters, digits and _, not starting with a digit"),
    );
    assert_eq!((env.dump(), env.audit_dump()), before);
}

#[test]
fn a_read_only_vault_runs_the_program_and_warns_once() {
    let env = Env::init();
    env.add("KEEP", "value-1234");
    let before = env.audit_dump();
    make_read_only(&env);
    let out = as_reader(&env, &["exec", "--mask", "never", "--", "printenv", "KEEP"])
        .run()
        .success()
        .stdout_is("value-1234\n");
    // As root the test reads as `nobody`, which also earns the warning
    // about the file's mode; the audit warning comes once either way.
    let warning = format!(
        "warning: this run is not recorded in the audit log: cannot write the vault at {}: it is read-only\n",
        env.vault.display()
    );
    assert_eq!(out.stderr.matches(&warning).count(), 1, "{out:#?}");
    assert_eq!(env.audit_dump(), before);
}

#[test]
fn a_vault_locked_by_another_writer_still_records_the_run_at_once() {
    let env = Env::init();
    env.add("KEEP", "value-1234");
    let holder = rusqlite::Connection::open(&env.vault).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    // exec appends to the exec log: it never waits for the vault's lock.
    env.vault(&["exec", "--mask", "never", "--", "printenv", "KEEP"])
        .passphrase()
        .run()
        .success()
        .stdout_is("value-1234\n")
        .stderr_is("");
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(env.audit_count(), 3);
    assert_eq!(log(&env, &[]).len(), 3);
}

#[test]
fn a_format_1_vault_is_migrated_and_starts_its_log() {
    let env = Env::init();
    env.add("KEEP", "value-1234");
    env.sql(&format!(
        "DROP TABLE audit; DROP TABLE audit_keys; {} PRAGMA user_version = 1;",
        crate::support::DROP_FORMAT_3
    ));
    env.vault(&["audit"])
        .run()
        .success()
        .stderr_is("no audit entries\n");
    assert_eq!(
        env.int("pragma_user_version", "user_version", "1"),
        vault::store::FORMAT_VERSION
    );
    assert_eq!(env.value_of("KEEP"), "value-1234");
    env.add("NEW", "new-value-1");
    assert_eq!(
        log(&env, &[]),
        [
            "1 owner sign []".to_owned(),
            "2 owner exec [KEEP] cwd=".to_owned()
                + &env.path().display().to_string()
                + " program=printenv",
            "3 owner add [NEW]".into()
        ]
    );
    env.vault(&["audit", "verify"])
        .passphrase()
        .run()
        .success()
        .stdout_has("audit log intact: 3 entries, ");
}
