//! `vault delete`: says what it removed, all or nothing, and never deletes
//! without confirmation (`--yes` when there is no terminal to ask on). The
//! questions asked at a real terminal are in `tty.rs`.

use crate::support::Env;

fn with_two() -> Env {
    let env = Env::init();
    env.add("FIRST", "one");
    env.add("SECOND", "two");
    env
}

#[test]
fn deletes_a_secret_and_its_access() {
    let env = with_two();
    env.vault(&["delete", "FIRST", "--yes"])
        .passphrase()
        .run()
        .success()
        .stdout_is("deleted FIRST\n")
        .stderr_is("");
    let out = env.vault(&["list", "--json"]).run().success().stdout;
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["secrets"].as_array().unwrap().len(), 1);
    assert_eq!(json["secrets"][0]["name"], "SECOND");
    assert_eq!(env.int("access", "count(*)", "1"), 1);
    env.vault(&["exec", "--mask", "never", "--only", "FIRST", "--", "true"])
        .passphrase()
        .run()
        .fails(
            125,
            "no secret named FIRST",
            Some("`vault list` shows the names"),
        );
}

#[test]
fn deletes_several_and_names_them() {
    let env = with_two();
    env.add("THIRD", "three");
    env.vault(&["rm", "-y", "FIRST", "SECOND", "THIRD"])
        .passphrase()
        .run()
        .success()
        .stdout_is("deleted FIRST, SECOND and THIRD\n");
    assert_eq!(env.int("secrets", "count(*)", "1"), 0);
    assert_eq!(env.int("access", "count(*)", "1"), 0);
}

#[test]
fn a_missing_name_deletes_nothing() {
    let env = with_two();
    env.refuses(
        env.vault(&["delete", "FIRST", "NOPE", "--yes"])
            .passphrase(),
        2,
        "no secret named NOPE",
        Some("`vault list` shows the names"),
    );
}

#[test]
fn without_a_terminal_needs_yes() {
    let env = with_two();
    env.refuses(
        env.vault(&["delete", "FIRST"]).passphrase(),
        2,
        "refusing to delete without confirmation: there is no terminal to ask on",
        Some("pass --yes to delete without asking"),
    );
}

#[test]
fn refuses_an_invalid_name() {
    let env = with_two();
    env.refuses(
        env.vault(&["delete", "MY-KEY", "--yes"])
        .passphrase(),
        2,
            "invalid secret name \"MY-KEY\": it contains '-'",
            Some("names are environment variable names: letters, digits and _, not starting with a digit"),
    );
}

#[test]
fn refuses_a_wrong_passphrase() {
    let env = with_two();
    env.refuses(
        env.vault(&["delete", "FIRST", "--yes"])
            .env("VAULT_PASSPHRASE", "wrong"),
        2,
        "wrong passphrase for identity owner",
        Some("try again; a wrong passphrase changes nothing"),
    );
}
