//! Masking a value in the shapes real programs print it: the lines of a
//! multi-line value reordered or split, and the value quoted as JSON,
//! Python's `repr` and Node's `util.inspect` print strings. Run with the
//! real `node`, `python3` and `env | sort` in a CI-like setting.

use crate::exec_ci::{ci_command, ci_vault};
use crate::support::Env;

/// A PEM-like private key: every line but the armour is secret.
const PEM: &str = "-----BEGIN PRIVATE KEY-----
MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAu5bQp1TtQn7pSx3a
Xr0Vq8m3bEwvV1CzQK8yZkP0iJ4nT6fHq2cL9dR7sW5eY3uO1aG8hJ2kN4mB6vD0
wIDAQABAkA8sZ+fG2hT6jK9lM3nP5qR7tV9xY1zA3bC5dE7fG9hJ1kL3mN5oP7q
-----END PRIVATE KEY-----
";

/// The lines of [`PEM`] that must never appear.
fn secret_lines() -> Vec<&'static str> {
    PEM.lines().filter(|l| !l.starts_with("-----")).collect()
}

fn pem_vault() -> (Env, String) {
    let (env, token) = ci_vault();
    // `add` drops one final newline; two keep the value's own.
    env.add("TLS_KEY", &format!("{PEM}\n"));
    env.add("QUOTED", "it's \"quoted\" \\ é");
    env.owner_runs(&["grant", "TLS_KEY", "QUOTED", "--to", "ci"]);
    (env, token)
}

/// Runs `vault exec -- PROGRAM ARGS` as CI does, output in one pipe, and
/// asserts no secret line, nor the quoted value in any literal form,
/// appears, and that `TLS_KEY` was masked.
#[track_caller]
fn assert_masked(env: &Env, token: &str, program: &[&str]) {
    let out = ci_command(env, token, crate::support::BIN)
        .arg("exec")
        .arg("--")
        .args(program)
        .output()
        .expect("run vault");
    assert_eq!(out.status.code(), Some(0), "{program:?}: {out:?}");
    let shown = String::from_utf8_lossy(&out.stdout);
    for line in secret_lines() {
        assert!(
            !shown.contains(line),
            "{program:?} showed {line:?}:\n{shown}"
        );
    }
    for leak in ["quoted", "\\u00e9"] {
        assert!(
            !shown.contains(leak),
            "{program:?} showed {leak:?}:\n{shown}"
        );
    }
    assert!(shown.contains("[masked:TLS_KEY]"), "{program:?}:\n{shown}");
    assert!(shown.contains("[masked:QUOTED]"), "{program:?}:\n{shown}");
}

#[test]
fn env_sort_shows_no_line_of_a_multi_line_value() {
    let (env, token) = pem_vault();
    assert_masked(&env, &token, &["sh", "-c", "env | sort"]);
}

#[test]
fn node_printing_process_env_shows_no_line_of_it() {
    let (env, token) = pem_vault();
    assert_masked(&env, &token, &["node", "-e", "console.log(process.env)"]);
    assert_masked(
        &env,
        &token,
        &["node", "-e", "console.log(JSON.stringify(process.env))"],
    );
}

#[test]
fn python_printing_os_environ_shows_no_line_of_it() {
    let (env, token) = pem_vault();
    assert_masked(
        &env,
        &token,
        &["python3", "-c", "import os; print(os.environ)"],
    );
    assert_masked(
        &env,
        &token,
        &[
            "python3",
            "-c",
            "import os, json; print(json.dumps(dict(os.environ)))",
        ],
    );
}
