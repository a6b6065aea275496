//! `vault import FILE`: a dotenv file's entries become secrets byte for
//! byte as dotenvy reads them, in one transaction; every bad file is
//! refused with its line number and leaves the vault exactly as it was.

use std::path::PathBuf;

use crate::support::{Env, Run};

/// A dotenv file exercising the format's corner cases. No `$` is expanded
/// from the environment (vault's differs from the test's).
const CORNERS: &str = r#"# a comment line, then a blank line

PLAIN=value
export EXPORTED=from_an_export_line
DOUBLE="double quoted, # not a comment"
SINGLE='single $quoted \n stays'
ESCAPES="a newline \n and \"quotes\" and \\ and \$ and \'"
UNQUOTED_ESCAPE=a\ b
EQUALS=postgres://u:p@h/db?sslmode=require&x=a=b
TRAILING=spaces\ after   
COMMENTED=value # a trailing comment
  INDENTED = indented
EMPTY_QUOTED=""
PEM="-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7
  indented, with a = sign
-----END PRIVATE KEY-----"
SUBSTITUTED="${PLAIN}-and-more"
UNICODE="héllo wörld ✓"
LAST="no newline at the end""#;

fn write(env: &Env, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = env.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `vault import FILE FLAGS...`, unlocked by the passphrase file.
fn import(env: &Env, file: &PathBuf, flags: &[&str]) -> Run {
    let mut run = env.vault(&["import"]).arg(file);
    for flag in flags {
        run = run.arg(flag);
    }
    run.passphrase()
}

/// Every variable the child of `exec` sees, as raw bytes, from `env -0`.
fn child_env(env: &Env) -> Vec<(String, Vec<u8>)> {
    let out = env
        .vault(&["exec", "--mask", "never", "--", "env", "-0"])
        .passphrase()
        .run()
        .success();
    out.raw_stdout
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let at = e.iter().position(|b| *b == b'=').unwrap();
            (
                String::from_utf8(e[..at].to_vec()).unwrap(),
                e[at + 1..].to_vec(),
            )
        })
        .collect()
}

#[test]
fn the_child_sees_exactly_what_dotenvy_reads() {
    let env = Env::init();
    let file = write(&env, "corners.env", CORNERS);
    let expected: Vec<(String, String)> = dotenvy::from_path_iter(&file)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let names: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "PLAIN",
            "EXPORTED",
            "DOUBLE",
            "SINGLE",
            "ESCAPES",
            "UNQUOTED_ESCAPE",
            "EQUALS",
            "TRAILING",
            "COMMENTED",
            "INDENTED",
            "EMPTY_QUOTED",
            "PEM",
            "SUBSTITUTED",
            "UNICODE",
            "LAST"
        ]
    );
    let mut summary: String = names.iter().map(|n| format!("added {n}\n")).collect();
    summary.push_str("15 added, 0 rotated, 0 skipped\n");
    import(&env, &file, &["--allow-empty"])
        .run()
        .success()
        .stdout_is(&summary);
    let seen = child_env(&env);
    for (name, value) in &expected {
        let got: Vec<&Vec<u8>> = seen
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(got, [value.as_bytes()], "{name}");
    }

    // dotenvy's reading, spelled out for the cases people trip on.
    let by_hand = [
        ("EXPORTED", "from_an_export_line"),
        ("DOUBLE", "double quoted, # not a comment"),
        ("SINGLE", r"single $quoted \n stays"),
        ("ESCAPES", "a newline \n and \"quotes\" and \\ and $ and '"),
        ("UNQUOTED_ESCAPE", "a b"),
        ("EQUALS", "postgres://u:p@h/db?sslmode=require&x=a=b"),
        ("TRAILING", "spaces after"),
        ("COMMENTED", "value"),
        ("INDENTED", "indented"),
        ("EMPTY_QUOTED", ""),
        (
            "PEM",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n  \
             indented, with a = sign\n-----END PRIVATE KEY-----",
        ),
        ("SUBSTITUTED", "value-and-more"),
        ("UNICODE", "héllo wörld ✓"),
        ("LAST", "no newline at the end"),
    ];
    for (name, value) in by_hand {
        let got = seen
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice());
        assert_eq!(got, Some(value.as_bytes()), "{name}");
    }
}

/// A vault with TOKEN (version 1) and a file with TOKEN and NEW.
fn with_existing() -> (Env, PathBuf) {
    let env = Env::init();
    env.add("TOKEN", "old-token");
    let file = write(&env, "app.env", "NEW=new-value\nTOKEN=new-token\n");
    (env, file)
}

#[test]
fn skips_and_lists_names_that_exist() {
    let (env, file) = with_existing();
    import(&env, &file, &[])
        .run()
        .success()
        .stdout_is("added NEW\nskipped TOKEN: it already exists\n1 added, 0 rotated, 1 skipped\n");
    assert_eq!(env.value_of("TOKEN"), "old-token");
    assert_eq!(env.value_of("NEW"), "new-value");
    assert_eq!(env.int("secrets", "version", "name = 'TOKEN'"), 1);
}

#[test]
fn overwrite_rotates_names_that_exist_and_keeps_their_grants() {
    let (env, file) = with_existing();
    let token = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success()
        .stdout
        .trim()
        .to_owned();
    env.owner_runs(&["grant", "TOKEN", "--to", "ci"]);
    import(&env, &file, &["--overwrite"])
        .run()
        .success()
        .stdout_is("added NEW\nrotated TOKEN to version 2\n1 added, 1 rotated, 0 skipped\n");
    assert_eq!(env.int("secrets", "version", "name = 'TOKEN'"), 2);
    assert_eq!(env.value_of("TOKEN"), "new-token");
    // The grantee receives the new value, re-wrapped for it.
    env.vault(&[
        "exec", "--mask", "never", "--only", "TOKEN", "--", "printenv", "TOKEN",
    ])
    .env("VAULT_ACCESS_TOKEN", &token)
    .run()
    .success()
    .stdout_is("new-token\n");
}

#[test]
fn dry_run_lists_names_only_changes_nothing_and_needs_no_unlock() {
    let (env, file) = with_existing();
    let before = env.dump();
    // No .passphrase(): a dry run does not unlock.
    env.vault(&["import", "--dry-run"])
        .arg(&file)
        .run()
        .success()
        .stdout_is(
            "would add NEW\nwould skip TOKEN: it already exists\n\
             dry run: 1 to add, 0 to rotate, 1 to skip; nothing was changed\n",
        )
        .stderr_is("hint: pass --overwrite to rotate the secrets that already exist\n");
    env.vault(&["import", "--dry-run", "--overwrite"])
        .arg(&file)
        .run()
        .success()
        .stdout_is(
            "would add NEW\nwould rotate TOKEN\n\
             dry run: 1 to add, 1 to rotate, 0 to skip; nothing was changed\n",
        )
        .stderr_is("");
    assert_eq!(env.dump(), before);
}

#[test]
fn suggests_deleting_the_file_and_never_deletes_it() {
    let env = Env::init();
    let file = write(&env, "my app.env", "API_KEY=k\n");
    let quoted = format!("'{}'", file.display());
    import(&env, &file, &[]).run().success().stderr_is(&format!(
        "hint: {} still holds these values in plain text; once you no longer need it, \
         delete it: shred -u {quoted}\n",
        file.display()
    ));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "API_KEY=k\n");
}

#[test]
fn new_secrets_get_the_service_and_are_managed_by_the_importer() {
    let env = Env::init();
    let file = write(&env, "stripe.env", "STRIPE_KEY=sk\nSTRIPE_HOOK=wh\n");
    import(&env, &file, &["--service", "stripe"])
        .run()
        .success();
    let json = env.vault(&["list", "--json"]).run().success().stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    for secret in json["secrets"].as_array().unwrap() {
        assert_eq!(secret["service"], "stripe");
        assert_eq!(secret["version"], 1);
        assert_eq!(
            secret["access"],
            serde_json::json!([{"identity": "owner", "level": "manage", "expires": null, "expired": false}])
        );
    }
}

#[test]
fn one_refused_rotation_leaves_the_whole_import_undone() {
    let env = Env::init();
    let bob = env.path().join("bob-passphrase");
    std::fs::write(&bob, "bob's passphrase").unwrap();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&bob)
        .passphrase()
        .run()
        .success();
    env.add("SHARED", "owner's value");
    env.owner_runs(&["grant", "SHARED", "--to", "bob"]);
    // NEW_A comes before SHARED and would be added, but bob may only use
    // SHARED, not rotate it: nothing at all is written.
    let file = write(&env, "bob.env", "NEW_A=a\nSHARED=bobs-value\nNEW_B=b\n");
    env.refuses(
        env.vault(&["import", "--overwrite"])
            .arg(&file)
            .env("VAULT_IDENTITY", "bob")
            .env("VAULT_PASSPHRASE_FILE", &bob),
        2,
        "identity bob cannot rotate SHARED: it has use access",
        Some("ask an identity that manages it to do this, or to grant you manage access"),
    );
}

// --- bad input: each refused with its line, exit 2, the vault unchanged ---

/// Imports `text` and asserts the exact error and hint, and that the vault
/// did not change.
#[track_caller]
fn refused(text: &[u8], message: &str, hint: Option<&str>) {
    let env = Env::init();
    env.add("KEEP", "kept");
    let file = write(&env, "bad.env", text);
    let before = env.dump();
    let message = message.replace("FILE", &file.display().to_string());
    import(&env, &file, &[]).run().fails(2, &message, hint);
    assert_eq!(env.dump(), before);
}

const NAME_HINT: &str =
    "names are environment variable names: letters, digits and _, not starting with a digit";
const LINE_HINT: &str =
    "each entry is NAME=value; quote a value with spaces (the line is not shown: it may hold a secret)";

#[test]
fn refuses_a_file_that_does_not_exist() {
    let env = Env::init();
    let before = env.dump();
    let file = env.path().join("missing.env");
    import(&env, &file, &[]).run().fails(
        2,
        &format!("cannot read {}: no such file", file.display()),
        None,
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn refuses_a_file_that_is_not_utf8() {
    refused(
        b"A=1\nB=2\nCAFE=caf\xe9\n",
        "FILE is not UTF-8 text (line 3); nothing was imported",
        Some("convert it first, for example with `iconv -f LATIN1 -t UTF-8`"),
    );
}

#[test]
fn refuses_a_line_the_parser_rejects_by_number_never_by_content() {
    let env = Env::init();
    let file = write(
        &env,
        "bad.env",
        "# header\nGOOD=1\n\nMULTI=\"two\nlines\"\nPASSWORD=hunter2 is my secret\nLATER=2\n",
    );
    let before = env.dump();
    let out = import(&env, &file, &[]).run().fails(
        2,
        &format!(
            "cannot parse line 6 of {}; nothing was imported",
            file.display()
        ),
        Some(LINE_HINT),
    );
    assert!(!out.stderr.contains("hunter2"));
    assert_eq!(env.dump(), before);
}

#[test]
fn refuses_an_unterminated_quote_by_the_line_it_opens_on() {
    refused(
        b"A=1\nKEY=\"never closed\nB=2\n",
        "cannot parse line 2 of FILE; nothing was imported",
        Some(LINE_HINT),
    );
}

#[test]
fn refuses_a_duplicate_name_by_both_its_lines() {
    refused(
        b"A=1\nB=2\nA=3\nC=4\nB=5\nA=6\n",
        "line 3 of FILE sets A again (first on line 1); nothing was imported",
        Some("keep one entry for each name, then import again"),
    );
}

#[test]
fn refuses_a_name_that_is_not_a_variable_name() {
    refused(
        b"GOOD=1\nmy.key=2\n",
        "invalid secret name \"my.key\" on line 2 of FILE: it contains '.'",
        Some(NAME_HINT),
    );
}

#[test]
fn refuses_a_name_vault_itself_reads() {
    refused(
        b"GOOD=1\n\nVAULT_PATH=/tmp/x\n",
        "invalid secret name \"VAULT_PATH\" on line 3 of FILE: vault uses this variable itself",
        Some(NAME_HINT),
    );
}

#[test]
fn refuses_a_dangerous_name() {
    refused(
        b"GOOD=1\nexport LD_PRELOAD=/tmp/evil.so\n",
        "invalid secret name \"LD_PRELOAD\" on line 2 of FILE: it lets a value make the dynamic loader load or trace code it names",
        Some("pass --allow-dangerous-name if you really mean it"),
    );
}

#[test]
fn accepts_a_dangerous_name_when_allowed() {
    let env = Env::init();
    let file = write(&env, "a.env", "NODE_OPTIONS=--max-old-space-size=4096\n");
    import(&env, &file, &["--allow-dangerous-name"])
        .run()
        .success();
    env.exec_refuses_dangerous("NODE_OPTIONS");
    assert_eq!(
        env.dangerous_value_of("NODE_OPTIONS"),
        "--max-old-space-size=4096"
    );
}

#[test]
fn refuses_an_empty_value_unless_allowed() {
    refused(
        b"GOOD=1\nBLANK=\n",
        "line 2 of FILE: the value of BLANK is empty; nothing was imported",
        Some("pass --allow-empty to store an empty value"),
    );
}

#[test]
fn refuses_a_value_over_the_environment_entry_limit() {
    let mut text = b"BIG=".to_vec();
    text.extend(vec![b'a'; 128 * 1024]);
    refused(
        &text,
        "line 1 of FILE: the value of BIG is too large: 131072 bytes, and one environment entry is limited to 128 KiB; nothing was imported",
        None,
    );
}

#[test]
fn refuses_a_nul_byte_by_its_line() {
    refused(
        b"GOOD=1\n# c\nNUL=\"a\0b\"\n",
        "line 3 of FILE: the value of NUL contains a NUL byte, which an environment variable cannot hold; nothing was imported",
        None,
    );
}

#[test]
fn refuses_a_reference_to_a_variable_that_unlocks_the_vault() {
    refused(
        b"GOOD=1\nSTOLEN=\"${VAULT_PASSPHRASE}\"\n",
        "line 2 of FILE refers to VAULT_PASSPHRASE, which unlocks the vault; nothing was imported",
        Some("vault does not store what unlocks it: write the value itself"),
    );
}

#[test]
fn refuses_a_file_with_no_entries() {
    refused(
        b"# only a comment\n\n",
        "FILE holds no entries; nothing was imported",
        Some("each entry is a line NAME=value"),
    );
}
