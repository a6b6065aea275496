//! `vault add`: where a value comes from, what a name may be, and every
//! input that is refused without changing the vault.

use crate::support::{Env, NO_PASSPHRASE_HINT, PASSPHRASE};

const NAME_HINT: &str =
    "names are environment variable names: letters, digits and _, not starting with a digit";
const EMPTY_HINT: &str = "pass --allow-empty to store an empty value";
const WHEN_HINT: &str = "use a date (2027-01-31) or a duration (90d, 12h)";

/// The exact bytes the child of `exec` sees for `name`.
fn exact_value(env: &Env, name: &str) -> Vec<u8> {
    env.vault(&["exec", "--mask", "never", "--only", name, "--", "sh", "-c"])
        .arg(format!("printf %s \"${name}\""))
        .passphrase()
        .run()
        .success()
        .raw_stdout
}

#[test]
fn stores_a_value_from_stdin() {
    let env = Env::init();
    env.vault(&["add", "API_KEY"])
        .passphrase()
        .stdin("sk_live_123\n")
        .run()
        .success()
        .stdout_is("added API_KEY\n")
        .stderr_is("");
    assert_eq!(exact_value(&env, "API_KEY"), b"sk_live_123");
}

#[test]
fn drops_exactly_one_trailing_newline_from_stdin() {
    let env = Env::init();
    env.add("TWO_NEWLINES", "value\n\n");
    env.add("NO_NEWLINE", "value");
    assert_eq!(exact_value(&env, "TWO_NEWLINES"), b"value\n");
    assert_eq!(exact_value(&env, "NO_NEWLINE"), b"value");
}

#[test]
fn a_multi_line_pem_key_round_trips_exactly() {
    let env = Env::init();
    let pem = "-----BEGIN PRIVATE KEY-----\n\
               MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n\
               \tindented line, trailing spaces   \n\
               \n\
               -----END PRIVATE KEY-----";
    env.add("TLS_KEY", &format!("{pem}\n"));
    assert_eq!(exact_value(&env, "TLS_KEY"), pem.as_bytes());
}

#[test]
fn reads_the_value_from_a_file() {
    let env = Env::init();
    let file = env.path().join("value.txt");
    std::fs::write(&file, "line one\nline two\n").unwrap();
    env.vault(&["add", "FROM_FILE", "--from-file"])
        .arg(&file)
        .passphrase()
        .run()
        .success()
        .stdout_is("added FROM_FILE\n");
    assert_eq!(exact_value(&env, "FROM_FILE"), b"line one\nline two");
}

#[test]
fn refuses_a_missing_value_file() {
    let env = Env::init();
    let before = env.dump();
    let file = env.path().join("missing.txt");
    env.vault(&["add", "FROM_FILE", "--from-file"])
        .arg(&file)
        .passphrase()
        .run()
        .fails(
            2,
            &format!("cannot read {}: no such file", file.display()),
            None,
        );
    assert_eq!(env.dump(), before);
}

#[test]
fn keeps_service_description_and_expiry() {
    let env = Env::init();
    env.vault(&[
        "add",
        "STRIPE_KEY",
        "--service",
        "billing",
        "--description",
        "live key for payments",
        "--expires",
        "2099-01-31",
    ])
    .passphrase()
    .stdin("sk")
    .run()
    .success();
    let json = env.vault(&["list", "--json"]).run().success().stdout;
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    let secret = &list["secrets"][0];
    assert_eq!(secret["service"], "billing");
    assert_eq!(secret["description"], "live key for payments");
    assert_eq!(secret["expires"], "2099-01-31T00:00:00Z");
}

#[test]
fn accepts_a_duration_for_expires() {
    let env = Env::init();
    env.vault(&["add", "SHORT_LIVED", "--expires", "90d"])
        .passphrase()
        .stdin("v")
        .run()
        .success();
    let expires = env.int("secrets", "expires_at", "name = 'SHORT_LIVED'");
    let created = env.int("secrets", "created_at", "name = 'SHORT_LIVED'");
    // "90d" counts from when the command line was read, a moment before
    // the secret is written: a second may tick in between.
    let ninety_days = 90 * 86_400;
    assert!(
        (ninety_days - 2..=ninety_days).contains(&(expires - created)),
        "{expires} - {created}"
    );
}

#[test]
fn refuses_an_existing_name_with_a_hint_to_rotate() {
    let env = Env::init();
    env.add("TOKEN", "first");
    env.refuses(
        env.vault(&["add", "TOKEN"]).passphrase().stdin("second"),
        2,
        "a secret named TOKEN already exists",
        Some("to replace its value, use `vault rotate TOKEN`"),
    );
    assert_eq!(env.value_of("TOKEN"), "first");
}

/// Asserts that `add NAME` is refused with `problem` and changes nothing.
#[track_caller]
fn refused_name(name: &str, problem: &str, hint: &str) {
    let env = Env::init();
    env.refuses(
        env.vault(&["add", name]).passphrase().stdin("value"),
        2,
        &format!("invalid secret name {name:?}: {problem}"),
        Some(hint),
    );
}

#[test]
fn refuses_a_name_with_a_dash() {
    refused_name("MY-KEY", "it contains '-'", NAME_HINT);
}

#[test]
fn refuses_a_name_starting_with_a_digit() {
    refused_name("1ABC", "it starts with '1'", NAME_HINT);
}

#[test]
fn refuses_an_empty_name() {
    refused_name("", "it is empty", NAME_HINT);
}

// `A=B` as a name is a value typed as an argument: see mistakes.rs.

#[test]
fn refuses_a_name_vault_itself_reads() {
    refused_name(
        "VAULT_PASSPHRASE",
        "vault uses this variable itself",
        NAME_HINT,
    );
}

#[test]
fn accepts_a_dangerous_name_when_allowed() {
    let env = Env::init();
    env.vault(&["add", "PYTHONSTARTUP", "--allow-dangerous-name"])
        .passphrase()
        .stdin("/opt/startup.py")
        .run()
        .success()
        .stdout_is("added PYTHONSTARTUP\n");
    env.exec_refuses_dangerous("PYTHONSTARTUP");
    assert_eq!(env.dangerous_value_of("PYTHONSTARTUP"), "/opt/startup.py");
}

/// Asserts that `add NAME` with `value` on stdin is refused and changes
/// nothing.
#[track_caller]
fn refused_value(value: &[u8], message: &str, hint: Option<&str>) {
    let env = Env::init();
    env.refuses(
        env.vault(&["add", "BIG"]).passphrase().stdin(value),
        2,
        message,
        hint,
    );
}

#[test]
fn refuses_a_value_with_a_nul_byte() {
    refused_value(
        b"before\0after",
        "the value of BIG contains a NUL byte, which an environment variable cannot hold",
        None,
    );
}

#[test]
fn refuses_an_empty_value() {
    refused_value(b"", "the value of BIG is empty", Some(EMPTY_HINT));
}

#[test]
fn refuses_a_value_that_is_only_a_newline() {
    refused_value(b"\n", "the value of BIG is empty", Some(EMPTY_HINT));
}

#[test]
fn refuses_empty_stdin_that_is_not_a_terminal() {
    let env = Env::init();
    let before = env.dump();
    // No .stdin(): the harness gives /dev/null, which is not a terminal.
    env.vault(&["add", "NOTHING"]).passphrase().run().fails(
        2,
        "the value of NOTHING is empty",
        Some(EMPTY_HINT),
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn accepts_an_empty_value_when_allowed() {
    let env = Env::init();
    env.vault(&["add", "BLANK", "--allow-empty"])
        .passphrase()
        .stdin("")
        .run()
        .success();
    assert_eq!(exact_value(&env, "BLANK"), b"");
}

#[test]
fn refuses_a_value_of_128_kib() {
    refused_value(
        &vec![b'a'; 128 * 1024],
        "the value of BIG is too large: 131072 bytes, and one environment entry is limited to 128 KiB",
        None,
    );
}

#[test]
fn refuses_a_value_one_byte_over_the_kernel_limit() {
    // BIG=value\0 must fit in 131072 bytes: 5 bytes go to "BIG=" and "\0".
    refused_value(
        &vec![b'a'; 128 * 1024 - 4],
        "the value of BIG is too large: 131068 bytes, and one environment entry is limited to 128 KiB",
        None,
    );
}

#[test]
fn refuses_a_value_over_the_limit_without_reading_it_all() {
    use std::io::Write;
    let env = Env::init();
    let before = env.dump();
    let mut run = env.vault(&["add", "BIG"]).passphrase();
    let mut child = run
        .command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // 16 MiB offered in 4 KiB writes; vault stops reading after 128 KiB
    // and a byte, so the writes stop at a broken pipe soon after (the pipe
    // holds at most 1 MiB more).
    let mut stdin = child.stdin.take().unwrap();
    let chunk = [b'a'; 4096];
    let mut written = 0usize;
    while written < 16 << 20 && stdin.write_all(&chunk).is_ok() {
        written += chunk.len();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: the value of BIG is too large: more than 131072 bytes, and one environment entry is limited to 128 KiB\n"
    );
    assert!(
        written < 128 * 1024 + 1 + (1 << 20),
        "vault read {written} bytes"
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn refuses_a_file_over_the_limit() {
    let env = Env::init();
    let file = env.path().join("big");
    std::fs::write(&file, vec![b'a'; 4 << 20]).unwrap();
    env.refuses(
        env.vault(&["add", "BIG", "--from-file"])
            .arg(&file)
            .passphrase(),
        2,
        "the value of BIG is too large: more than 131072 bytes, and one environment entry is limited to 128 KiB",
        None,
    );
}

#[test]
fn the_largest_value_the_kernel_accepts_reaches_the_child() {
    let env = Env::init();
    let value = vec![b'a'; 128 * 1024 - 5];
    env.vault(&["add", "BIG"])
        .passphrase()
        .stdin(&value)
        .run()
        .success();
    assert_eq!(exact_value(&env, "BIG"), value);
}

#[test]
fn refuses_an_expiry_in_the_past() {
    let env = Env::init();
    env.refuses(
        env.vault(&["add", "OLD", "--expires", "2020-01-01"])
            .passphrase()
            .stdin("v"),
        2,
        "invalid time \"2020-01-01\": it is in the past",
        Some(WHEN_HINT),
    );
}

#[test]
fn refuses_an_unparsable_expiry() {
    let env = Env::init();
    env.refuses(
        env.vault(&["add", "SOON", "--expires", "next week"])
            .passphrase()
            .stdin("v"),
        2,
        "invalid time \"next week\": not a date or a duration",
        Some(WHEN_HINT),
    );
}

#[test]
fn refuses_a_wrong_passphrase() {
    let env = Env::init();
    env.refuses(
        env.vault(&["add", "TOKEN"])
            .env("VAULT_PASSPHRASE", "not the passphrase")
            .stdin("v"),
        2,
        "wrong passphrase for identity owner",
        Some("try again; a wrong passphrase changes nothing"),
    );
}

#[test]
fn refuses_a_missing_passphrase_file() {
    let env = Env::init();
    let before = env.dump();
    let missing = env.path().join("no-such-file");
    env.vault(&["add", "TOKEN"])
        .env("VAULT_PASSPHRASE_FILE", &missing)
        .stdin("v")
        .run()
        .fails(
            2,
            &format!(
                "cannot read the passphrase file {}: no such file",
                missing.display()
            ),
            None,
        );
    assert_eq!(env.dump(), before);
}

#[test]
fn refuses_an_empty_passphrase_file() {
    let env = Env::init();
    let before = env.dump();
    let empty = env.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    env.vault(&["add", "TOKEN", "--passphrase-file"])
        .arg(&empty)
        .stdin("v")
        .run()
        .fails(
            2,
            &format!("the passphrase file {} is empty", empty.display()),
            None,
        );
    assert_eq!(env.dump(), before);
}

#[test]
fn without_a_passphrase_or_terminal_fails_at_once() {
    let env = Env::init();
    env.refuses(
        env.vault(&["add", "TOKEN"]).stdin("v"),
        2,
        "no passphrase for identity owner: no terminal to ask on",
        Some(NO_PASSPHRASE_HINT),
    );
}

#[test]
fn takes_the_passphrase_from_vault_passphrase() {
    let env = Env::init();
    env.vault(&["add", "TOKEN"])
        .env("VAULT_PASSPHRASE", PASSPHRASE)
        .stdin("v")
        .run()
        .success();
    assert_eq!(env.value_of("TOKEN"), "v");
}

#[test]
fn refuses_a_missing_vault_with_a_hint_to_init() {
    let env = Env::new();
    env.vault(&["add", "TOKEN"])
        .passphrase()
        .stdin("v")
        .run()
        .fails(
            2,
            &format!("no vault at {}", env.vault.display()),
            Some("create one with `vault init`, or point --vault or VAULT_PATH at an existing one"),
        );
    assert!(!env.vault.exists());
    assert!(!env.vault.parent().unwrap().exists());
}
