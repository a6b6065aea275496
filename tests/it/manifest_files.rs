//! A manifest's `as = "file"`: in a project, plain `vault exec` gives the
//! variable as a memory file, exactly as `--file NAME` does, in both exec
//! modes: the path in the variable, the value in no variable, masked when
//! the program prints what it read. A default declared a file is a file
//! too. An unknown `as` is a manifest error with its line, and
//! `--explain` says which variables are files.

use crate::exec::RunExt;
use crate::exec_files::MODES;
use crate::manifest::{in_dir, project, HINT_MANIFEST};
use crate::manifest_errors::bad_manifest;
use crate::support::Env;

const MANIFEST: &str = r#"[vars.SA_JSON]
description = "the deploy service account"
as = "file"

[vars.API_TOKEN]
as = "env"

[vars.CA_BUNDLE]
default = "-----BEGIN CERTIFICATE-----\nnot-a-secret\n-----END CERTIFICATE-----"
as = "file"

[vars.LOG_LEVEL]
default = "info"
"#;

const SA: &str = r#"{"type": "service_account", "private_key": "k3y-9f2c7a1e"}"#;

/// The project, with SA_JSON and API_TOKEN in the vault.
fn stocked() -> (Env, std::path::PathBuf) {
    let (env, root) = project(MANIFEST);
    env.add("SA_JSON", SA);
    env.add("API_TOKEN", "tok_7c1d9e4b2a");
    (env, root)
}

#[test]
fn plain_exec_gives_a_declared_file_as_a_memory_file_in_both_modes() {
    let (env, root) = stocked();
    // The default keeps its final newline as a --file value of several
    // lines does.
    let script = format!(
        r#"
import os
path = os.environ["SA_JSON"]
value = open(path, "rb").read()
print(value == {SA:?}.encode(), path.startswith("/proc/self/fd/"),
      [k for k, v in os.environb.items() if b"k3y-9f2c7a1e" in v],
      os.environ["API_TOKEN"] == "tok_7c1d9e4b2a",
      open(os.environ["CA_BUNDLE"], "rb").read()
      == b"-----BEGIN CERTIFICATE-----\nnot-a-secret\n-----END CERTIFICATE-----\n",
      os.environ["CA_BUNDLE"].startswith("/proc/self/fd/"),
      os.environ["LOG_LEVEL"])
"#
    );
    for mode in MODES {
        in_dir(env.vault(&["exec", "--mask", mode]), &root)
            .args_of(&["--", "python3", "-c", &script])
            .passphrase()
            .run()
            .success()
            .stdout_is("True True [] True True True info\n");
    }
    // Read through the path by a plain reader, byte for byte.
    let out = in_dir(
        env.vault(&[
            "exec",
            "--mask",
            "never",
            "--",
            "sh",
            "-c",
            "cat \"$SA_JSON\"",
        ]),
        &root,
    )
    .passphrase()
    .run()
    .success();
    assert_eq!(out.raw_stdout, SA.as_bytes());
}

#[test]
fn a_value_read_from_a_declared_file_and_printed_is_masked() {
    let (env, root) = stocked();
    in_dir(
        env.vault(&[
            "exec",
            "--mask",
            "always",
            "--",
            "sh",
            "-c",
            "cat \"$SA_JSON\"; echo; echo \"$API_TOKEN\"",
        ]),
        &root,
    )
    .passphrase()
    .run()
    .success()
    .stdout_is("[masked:SA_JSON]\n[masked:API_TOKEN]\n");
}

#[test]
fn no_override_keeps_a_set_variable_declared_a_file() {
    let (env, root) = stocked();
    in_dir(
        env.vault(&[
            "exec",
            "--mask",
            "never",
            "--no-override",
            "--",
            "sh",
            "-c",
            "echo \"$CA_BUNDLE\" \"$SA_JSON\"",
        ]),
        &root,
    )
    .env("CA_BUNDLE", "/etc/ssl/ca.pem")
    .env("SA_JSON", "/etc/sa.json")
    .passphrase()
    .run()
    .success()
    .stdout_is("/etc/ssl/ca.pem /etc/sa.json\n");
}

#[test]
fn an_unknown_as_is_a_manifest_error_with_its_line() {
    let message = |value: &str| {
        format!("vars.SA_JSON.as: unknown value \"{value}\", expected \"env\" or \"file\"")
    };
    for value in ["files", "FILE", ""] {
        let text = format!("[vars.SA_JSON]\ndescription = \"x\"\nas = \"{value}\"\n");
        bad_manifest(&text, 3, &message(value));
    }
    bad_manifest(
        "[vars.SA_JSON]\nas = 1\n",
        2,
        "invalid type: integer `1`, expected a string",
    );
    // exec refuses before anything runs, and changes nothing.
    let (env, root) = project("[vars.SA_JSON]\n\nas = \"path\"\n");
    env.add("SA_JSON", SA);
    let out = env.refuses(
        in_dir(env.vault(&["exec", "--", "sh", "-c", "echo ran"]), &root).passphrase(),
        125,
        &format!(
            "{} line 3: {}",
            root.join("vault.toml").display(),
            message("path")
        ),
        Some(HINT_MANIFEST),
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn explain_shows_the_declared_files() {
    let (env, root) = stocked();
    let out = in_dir(
        env.vault(&["exec", "--mask", "never", "--explain", "--", "/bin/true"]),
        &root,
    )
    .passphrase()
    .run()
    .success();
    out.stdout_is(&format!(
        "identity: owner\ncommand: /bin/true\nmasking: off (--mask never)\n\
         API_TOKEN  injected\n\
         SA_JSON    injected as a memory file (the variable holds its path)\n\
         manifest: {} (environment none: shared secrets only)\n  \
         CA_BUNDLE: its default, from the manifest, as a memory file (the variable holds its path)\n  \
         LOG_LEVEL: its default, from the manifest\n",
        root.join("vault.toml").display()
    ));
    let out = in_dir(
        env.vault(&["exec", "--explain", "--json", "--", "/bin/true"]),
        &root,
    )
    .passphrase()
    .run()
    .success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let files: Vec<(&str, bool)> = json["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["variable"].as_str().unwrap(),
                s["file"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(files, [("API_TOKEN", false), ("SA_JSON", true)]);
    assert_eq!(
        json["manifest"]["files"],
        serde_json::json!(["CA_BUNDLE", "SA_JSON"])
    );
    assert_eq!(
        json["manifest"]["defaults"],
        serde_json::json!(["CA_BUNDLE", "LOG_LEVEL"])
    );
}
