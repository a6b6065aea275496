//! `vault import` and `$` substitution: every entry it changed is named
//! (never its value), `--no-expand` takes values as written, vault's
//! environment wins over an earlier entry, and nothing that unlocks the
//! vault can be substituted into a secret, however the text is escaped.

use std::path::PathBuf;

use crate::support::{Env, PASSPHRASE};

/// Values people really write, each with a `$` that dotenv expands.
const SURPRISES: &str = "DB_HOST=db.internal
DB_PASSWORD=P@ss$w0rd!
HASH=x$2b$12$abcdefghijk
DB_ADDR=$DB_HOST:5432
URL=${DB_HOST}/x
FROM_ENV=${SUBST_SOURCE}
TRAILING=cost$
PLAIN=nothing-here
";

/// What import says about [`SURPRISES`]: each changed entry by line and
/// name, without a value or a name it referred to.
const SURPRISE_NOTES: &str = "\
warning: line 2, DB_PASSWORD: $ substitution changed the value: 1 variable that is not defined and became empty
warning: line 3, HASH: $ substitution changed the value: 3 variables that are not defined and became empty
warning: line 4, DB_ADDR: $ substitution changed the value: 1 variable that is not defined and became empty, 1 unbraced name that stopped at _ ($A_B reads $A; write ${A_B})
note: line 5, URL: $ substitution changed the value: 1 variable from an earlier entry
note: line 6, FROM_ENV: $ substitution changed the value: 1 variable from vault's environment
warning: line 7, TRAILING: $ substitution changed the value: 1 $ with no name after it, dropped
note: pass --no-expand to take every value exactly as written
";

fn write(env: &Env, text: &str) -> PathBuf {
    let path = env.path().join("app.env");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn dry_run_and_import_name_every_entry_a_substitution_changed() {
    let env = Env::init();
    let file = write(&env, SURPRISES);
    let before = env.dump();
    let out = env
        .vault(&["import", "--dry-run"])
        .arg(&file)
        .env("SUBST_SOURCE", "from-the-env")
        .run()
        .success()
        .stderr_is(SURPRISE_NOTES);
    assert!(out
        .stdout
        .ends_with("dry run: 8 to add, 0 to rotate, 0 to skip; nothing was changed\n"));
    assert_eq!(env.dump(), before);
    let out = env
        .vault(&["import"])
        .arg(&file)
        .env("SUBST_SOURCE", "from-the-env")
        .passphrase()
        .run()
        .success();
    assert!(out.stderr.starts_with(SURPRISE_NOTES), "{}", out.stderr);
    for leak in [
        "w0rd",
        "abcdefghijk",
        "db.internal",
        "from-the-env",
        "SUBST_SOURCE",
    ] {
        assert!(!out.stderr.contains(leak), "{leak}: {}", out.stderr);
    }
    // What dotenvy (and so vault) made of them.
    for (name, value) in [
        ("DB_PASSWORD", "P@ss!"),
        ("HASH", "x"),
        ("DB_ADDR", "_HOST:5432"),
        ("URL", "db.internal/x"),
        ("FROM_ENV", "from-the-env"),
        ("TRAILING", "cost"),
    ] {
        assert_eq!(env.value_of(name), value, "{name}");
    }
}

#[test]
fn no_expand_takes_every_value_as_written() {
    let env = Env::init();
    let file = write(&env, SURPRISES);
    env.vault(&["import", "--no-expand"])
        .arg(&file)
        .env("SUBST_SOURCE", "from-the-env")
        .passphrase()
        .run()
        .success()
        .stdout_has("8 added, 0 rotated, 0 skipped\n");
    for (name, value) in [
        ("DB_PASSWORD", "P@ss$w0rd!"),
        ("HASH", "x$2b$12$abcdefghijk"),
        ("DB_ADDR", "$DB_HOST:5432"),
        ("URL", "${DB_HOST}/x"),
        ("FROM_ENV", "${SUBST_SOURCE}"),
        ("TRAILING", "cost$"),
    ] {
        assert_eq!(env.value_of(name), value, "{name}");
    }
}

/// As the README says: vault's environment wins over an earlier entry.
#[test]
fn vault_environment_wins_over_an_earlier_entry() {
    let env = Env::init();
    let file = write(&env, "HOST=from-the-file\nURL=https://${HOST}/\n");
    env.vault(&["import"])
        .arg(&file)
        .env("HOST", "from-the-env")
        .passphrase()
        .run()
        .success();
    assert_eq!(env.value_of("URL"), "https://from-the-env/");
    assert_eq!(env.value_of("HOST"), "from-the-file");
}

/// Imports `text` unlocked by VAULT_PASSPHRASE (and with an access token
/// in the environment too), and asserts it is refused with exactly this
/// error, status 2, and the vault unchanged.
#[track_caller]
fn refused_with_unlocking_variables_set(text: &str, line: usize, variable: &str) {
    let env = Env::init();
    env.add("KEEP", "kept-value");
    let file = write(&env, text);
    let run = env
        .vault(&["import"])
        .arg(&file)
        .env("VAULT_PASSPHRASE", PASSPHRASE)
        .env("VAULT_ACCESS_TOKEN", "vtk1_not_a_real_token");
    env.refuses(
        run,
        2,
        &format!(
            "line {line} of {} refers to {variable}, which unlocks the vault; nothing was imported",
            file.display()
        ),
        Some("vault does not store what unlocks it: write the value itself"),
    );
}

/// Issue 16: `\\` is an escaped backslash, so the `$` after it is live.
/// Scanning the text for `\$` took it for an escaped one.
#[test]
fn an_escaped_backslash_before_an_unlocking_variable_is_refused() {
    refused_with_unlocking_variables_set(
        "GOOD=1\nSTOLEN=\\\\${VAULT_PASSPHRASE}\n",
        2,
        "VAULT_PASSPHRASE",
    );
    refused_with_unlocking_variables_set(
        "GOOD=1\n\nSTOLEN=\"x\\\\${VAULT_ACCESS_TOKEN}\"\n",
        3,
        "VAULT_ACCESS_TOKEN",
    );
    refused_with_unlocking_variables_set(
        "A=${VAULT_PASSPHRASE_FILE}\n",
        1,
        "VAULT_PASSPHRASE_FILE",
    );
}

/// With `--no-expand` the same text is stored as written, and the child of
/// `exec` never sees the passphrase, in any variable.
#[test]
fn an_unlocking_reference_taken_as_written_never_reaches_a_child() {
    let env = Env::init();
    let file = write(
        &env,
        "STOLEN=\\\\${VAULT_PASSPHRASE}\nALSO=$VAULT_PASSPHRASE\n",
    );
    env.vault(&["import", "--no-expand"])
        .arg(&file)
        .env("VAULT_PASSPHRASE", PASSPHRASE)
        .run()
        .success();
    let out = env
        .vault(&["exec", "--mask", "never", "--", "env"])
        .env("VAULT_PASSPHRASE", PASSPHRASE)
        .run()
        .success();
    assert!(
        out.stdout.contains("STOLEN=\\${VAULT_PASSPHRASE}\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("ALSO=$VAULT_PASSPHRASE\n"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(PASSPHRASE), "{}", out.stdout);
}

/// Unbraced, dotenv's name stops at `_`: `$VAULT_PASSPHRASE` reads `$VAULT`
/// (not an unlocking variable), so the passphrase is not stored either.
#[test]
fn an_unbraced_unlocking_name_reads_a_shorter_name() {
    let env = Env::init();
    let file = write(&env, "ALSO=x$VAULT_PASSPHRASE\n");
    env.vault(&["import"])
        .arg(&file)
        .env("VAULT_PASSPHRASE", PASSPHRASE)
        .run()
        .success()
        .stderr_has("warning: line 1, ALSO: $ substitution changed the value: 1 variable that is not defined and became empty, 1 unbraced name");
    assert_eq!(env.value_of("ALSO"), "x_PASSPHRASE");
}
