//! Metadata that could rewrite a terminal or forge lines: control
//! characters are refused in every text a user sets, and escaped wherever
//! metadata read from the file is printed (rows put there by SQL, as a
//! hostile writer or a bad merge would); a name that is not UTF-8 shows
//! escaped instead of failing the whole listing.

use crate::support::Env;

const TEXT_HINT: &str =
    "metadata is shown on one line: write it without line breaks, tabs or escape sequences";

#[test]
fn add_refuses_a_control_character_in_service_or_description() {
    let env = Env::init();
    for (option, text, code) in [
        ("--service", "pay\x1b[2J", "U+001B"),
        ("--service", "pay\rbilling", "U+000D"),
        ("--description", "one\n  access mallory manage", "U+000A"),
        ("--description", "tab\there", "U+0009"),
        ("--description", "admin\u{202e}txt.exe", "U+202E"),
    ] {
        env.refuses(
            env.vault(&["add", "API_KEY", option, text])
                .passphrase()
                .stdin("value"),
            2,
            &format!("invalid {option}: it contains the control character {code}"),
            Some(TEXT_HINT),
        );
    }
}

#[test]
fn import_refuses_a_control_character_in_service() {
    let env = Env::init();
    let file = env.path().join("a.env");
    std::fs::write(&file, "A=1\n").unwrap();
    env.refuses(
        env.vault(&["import", "--service", "x\x07"])
            .arg(&file)
            .passphrase(),
        2,
        "invalid --service: it contains the control character U+0007",
        Some(TEXT_HINT),
    );
}

#[test]
fn identity_names_refuse_control_characters() {
    let env = Env::init();
    env.refuses(
        env.vault(&["identity", "add", "ci\x1b]0;pwned\x07", "--token"])
            .passphrase(),
        2,
        "invalid identity name \"ci\\u{1b}]0;pwned\\u{7}\": it contains '\\u{1b}'",
        Some("identity names use letters, digits and . _ - @, starting with a letter or digit"),
    );
}

/// Puts control characters and undecodable bytes into the file by SQL.
fn hostile_rows(env: &Env) {
    env.add("API_KEY", "sk_live_4f9a8b7c");
    env.add("B", "value-b");
    env.vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success();
    env.sql(
        "UPDATE secrets SET service = 'pay' || char(27) || '[2J' || char(10) || '  access mallory manage', \
                            description = 'ok' || char(13) || 'EVIL' WHERE name = 'API_KEY'; \
         UPDATE secrets SET name = CAST(X'42FF' AS TEXT) WHERE name = 'B'; \
         UPDATE identities SET name = 'ci' || char(27) || ']0;x' || char(7) WHERE name = 'ci'; \
         UPDATE audit SET identity = 'own' || char(27) || '[31mer' WHERE seq = 2;",
    );
}

#[track_caller]
fn no_raw_controls(text: &str) {
    assert!(
        !text.contains(['\x1b', '\r', '\x07']),
        "raw control bytes printed: {text:?}"
    );
}

#[test]
fn list_escapes_what_arrived_through_the_file() {
    let env = Env::init();
    hostile_rows(&env);
    let out = env.vault(&["list"]).run().success();
    no_raw_controls(&out.stdout);
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    let api = out.stdout.lines().nth(1).unwrap();
    assert!(api.starts_with("API_KEY  pay\\x1b[2J\\n  access mallory manage  1  "));
    assert!(api.ends_with("  owner (manage)  ok\\rEVIL"), "{api}");
    assert!(out
        .stdout
        .lines()
        .nth(2)
        .unwrap()
        .starts_with("B\\xff    -  "));
    let json = env.vault(&["list", "--json"]).run().success().stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["secrets"][1]["name"], "B\\xff");
    assert_eq!(
        json["secrets"][0]["service"],
        "pay\x1b[2J\n  access mallory manage"
    );
}

#[test]
fn identity_list_status_and_audit_escape_what_arrived_through_the_file() {
    let env = Env::init();
    hostile_rows(&env);
    let out = env.vault(&["identity", "list"]).run().success();
    no_raw_controls(&out.stdout);
    assert!(
        out.stdout.contains("\nci\\x1b]0;x\\x07  machine  "),
        "{}",
        out.stdout
    );

    env.sql("UPDATE identities SET name = 'own' || char(13) || 'er' WHERE name = 'owner';");
    let out = env.vault(&["status"]).run();
    no_raw_controls(&out.stdout);
    assert!(
        out.stdout
            .contains("identity:           own\\rer (person)\n"),
        "{}",
        out.stdout
    );
    let out = env.vault(&["audit"]).run().success();
    no_raw_controls(&out.stdout);
    assert!(
        out.stdout.contains("  own\\x1b[31mer  add  "),
        "{}",
        out.stdout
    );
}

#[test]
fn the_git_text_form_cannot_be_given_forged_lines() {
    let env = Env::init();
    hostile_rows(&env);
    let out = env
        .vault(&["git", "textconv"])
        .arg(&env.vault)
        .run()
        .success();
    no_raw_controls(&out.stdout);
    let text = out.stdout;
    assert!(text.contains("\nsecret API_KEY\n  service pay\\x1b[2J\\n  access mallory manage\n  description ok\\rEVIL\n"), "{text}");
    assert!(
        text.contains("\nidentity ci\\x1b]0;x\\x07\n  kind machine\n"),
        "{text}"
    );
    assert!(text.contains("\nsecret B\\xff\n  service -\n"), "{text}");
    // The only access lines are the real grant and the token's none.
    let access: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  access "))
        .collect();
    assert_eq!(access, ["  access owner manage", "  access owner manage"]);
}

#[test]
fn an_error_naming_a_row_from_the_file_is_escaped() {
    let env = Env::init();
    env.add("API_KEY", "sk_live_4f9a8b7c");
    env.sql("UPDATE secrets SET name = 'API' || char(27) || '[2J_KEY';");
    let out = env
        .vault(&["exec", "--", "true"])
        .passphrase()
        .run()
        .code(125);
    no_raw_controls(&out.stderr);
    assert!(out.stderr.contains("API\\x1b[2J_KEY"), "{out:#?}");
}

/// Completion prints names and services for the shell to show: a name
/// with a control character is not offered, and a service is escaped.
#[test]
fn completion_offers_no_name_with_a_control_character() {
    let env = Env::init();
    env.add("API_KEY", "sk_live_4f9a8b7c");
    env.add("APP_TOKEN", "value-b");
    env.sql(
        "UPDATE secrets SET name = 'API' || char(27) || '[2J' WHERE name = 'API_KEY'; \
         UPDATE secrets SET service = 'ci' || char(27) || '[31m' WHERE name = 'APP_TOKEN';",
    );
    let out = env
        .vault(&["--", "vault", "rotate", "AP"])
        .env("VAULT_COMPLETE", "fish")
        .run()
        .success();
    no_raw_controls(&out.stdout);
    assert_eq!(out.stdout, "APP_TOKEN\tci\\x1b[31m\n");
}

/// A name that is not UTF-8 reaches exec escaped, and its row, signed
/// and sealed under the real name, fails as any hand-edited row does.
#[test]
fn an_undecodable_name_fails_exec_as_an_integrity_error() {
    let env = Env::init();
    env.add("B", "value-b");
    env.sql("UPDATE secrets SET name = CAST(X'42FF' AS TEXT) WHERE name = 'B';");
    // (The harness's dump reads text as UTF-8: compare the rows as hex.)
    let rows = || {
        let conn = rusqlite::Connection::open(&env.vault).unwrap();
        conn.query_row(
            "SELECT group_concat(hex(id) || hex(name) || version || hex(sealed_value)) FROM secrets",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
    };
    let before = rows();
    let out = env
        .vault(&["exec", "--", "touch", "ran"])
        .passphrase()
        .run();
    out.fails(
        125,
        "trust check failed: the value of secret B\\xff does not match its signature by owner (it was changed in the file)",
        Some("someone changed the vault file outside vault: restore it from a copy you trust (`git log -p` on the file shows who changed it)"),
    );
    assert!(!env.path().join("ran").exists());
    assert_eq!(rows(), before);
}
