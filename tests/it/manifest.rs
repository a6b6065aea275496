//! The project's manifest, `vault.toml`: found from the working directory
//! up, it decides what exec injects per environment (declared names, their
//! secrets, defaults), refuses with 125 naming each required variable that
//! is wanting, and refuses values that break its rules at add, rotate and
//! import. Bad manifests are errors with the file, the line and the key.

use std::path::PathBuf;

use crate::support::{Env, Run};

const MANIFEST: &str = r#"[project]
environment = "dev"
environments = ["dev", "staging", "prod"]

[vars.STRIPE_KEY]
description = "Stripe secret key"
pattern = "^sk_(test|live)_[A-Za-z0-9]+$"
min_length = 12
deny = ["changeme", "xxx"]

[vars.DB_URL]
description = "the database"

[vars.LOG_LEVEL]
default = "info"

[vars.SENTRY_DSN]
required = false

[vars.PAGER_KEY]
environments = ["prod"]
"#;

pub const HINT_UNMET: &str = "`vault check` lists what is missing; add or grant the secrets, or pass --no-manifest to run without the manifest";
pub const HINT_MANIFEST: &str =
    "fix vault.toml (the keys are in vault(1) under MANIFEST), or pass --no-manifest to ignore it";

/// A project directory (with the manifest) and a subdirectory to run in.
pub fn project(manifest: &str) -> (Env, PathBuf) {
    let env = Env::init();
    let root = env.path().join("project");
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("vault.toml"), manifest).unwrap();
    (env, root)
}

fn add(env: &Env, name: &str, environment: Option<&str>, value: &str) {
    let mut args = vec!["add", name];
    if let Some(e) = environment {
        args.extend(["--environment", e]);
    }
    env.vault(&args)
        .arg("--no-manifest")
        .passphrase()
        .stdin(value)
        .run()
        .success();
}

/// Secrets for three environments: STRIPE_KEY per environment, DB_URL
/// shared, PAGER_KEY in prod only, and an UNDECLARED secret.
fn stocked() -> (Env, PathBuf) {
    let (env, root) = project(MANIFEST);
    add(&env, "STRIPE_KEY", Some("dev"), "sk_test_devdevdev1");
    add(&env, "STRIPE_KEY", Some("staging"), "sk_test_stagestage1");
    add(&env, "STRIPE_KEY", Some("prod"), "sk_live_prodprod1");
    add(&env, "DB_URL", None, "postgres://shared");
    add(&env, "PAGER_KEY", Some("prod"), "pager-prod-1");
    add(&env, "UNDECLARED", None, "never-injected-1");
    (env, root)
}

pub fn in_dir(run: Run, root: &std::path::Path) -> Run {
    run.current_dir(root.join("src"))
}

fn shown_vars(env: &Env, root: &std::path::Path, environment: Option<&str>) -> String {
    let script = "for v in STRIPE_KEY DB_URL LOG_LEVEL SENTRY_DSN PAGER_KEY UNDECLARED; do \
                  eval \"printf '%s=%s\\n' $v \\\"\\${$v-unset}\\\"\"; done";
    let mut args = vec!["exec", "--mask", "never"];
    if let Some(e) = environment {
        args.extend(["--environment", e]);
    }
    args.extend(["--", "sh", "-c", script]);
    in_dir(env.vault(&args), root)
        .passphrase()
        .run()
        .success()
        .stdout
}

#[test]
fn exec_injects_what_the_manifest_declares_for_each_environment() {
    let (env, root) = stocked();
    assert_eq!(
        shown_vars(&env, &root, None),
        "STRIPE_KEY=sk_test_devdevdev1\nDB_URL=postgres://shared\nLOG_LEVEL=info\n\
         SENTRY_DSN=unset\nPAGER_KEY=unset\nUNDECLARED=unset\n",
        "the manifest's default environment is dev"
    );
    assert_eq!(
        shown_vars(&env, &root, Some("staging")),
        "STRIPE_KEY=sk_test_stagestage1\nDB_URL=postgres://shared\nLOG_LEVEL=info\n\
         SENTRY_DSN=unset\nPAGER_KEY=unset\nUNDECLARED=unset\n"
    );
    assert_eq!(
        shown_vars(&env, &root, Some("prod")),
        "STRIPE_KEY=sk_live_prodprod1\nDB_URL=postgres://shared\nLOG_LEVEL=info\n\
         SENTRY_DSN=unset\nPAGER_KEY=pager-prod-1\nUNDECLARED=unset\n"
    );
    // Without the manifest, exec is what it always was: every secret.
    let out = in_dir(
        env.vault(&[
            "exec",
            "--no-manifest",
            "--mask",
            "never",
            "--",
            "printenv",
            "UNDECLARED",
        ]),
        &root,
    )
    .passphrase()
    .run()
    .success();
    assert_eq!(out.stdout, "never-injected-1\n");
}

#[test]
fn a_missing_required_variable_stops_exec_naming_it() {
    let (env, root) = stocked();
    let out = in_dir(
        env.vault(&[
            "exec",
            "--environment",
            "prod",
            "--",
            "sh",
            "-c",
            "echo ran",
        ]),
        &root,
    );
    env.sql("DELETE FROM secrets WHERE name = 'PAGER_KEY'");
    let out = out.passphrase().run();
    assert_eq!(out.stdout, "");
    out.fails(
        125,
        "the manifest's required variables are not all available in environment prod: PAGER_KEY (missing)",
        Some(HINT_UNMET),
    );
}

#[test]
fn an_identity_not_granted_a_required_secret_is_refused_naming_each() {
    let (env, root) = stocked();
    let out = env
        .vault(&["identity", "add", "ci", "--token", "--no-manifest"])
        .passphrase()
        .run()
        .success();
    let token = out.stdout.trim().to_owned();
    env.vault(&[
        "grant",
        "STRIPE_KEY",
        "--to",
        "ci",
        "--environment",
        "prod",
        "--no-manifest",
    ])
    .passphrase()
    .run()
    .success();
    let ci = |environment: &str| {
        in_dir(
            env.vault(&[
                "exec",
                "--environment",
                environment,
                "--",
                "sh",
                "-c",
                "echo ran",
            ]),
            &root,
        )
        .env("VAULT_ACCESS_TOKEN", &token)
        .run()
    };
    let out = ci("prod");
    assert_eq!(out.stdout, "");
    out.fails(
        125,
        "the manifest's required variables are not all available in environment prod: DB_URL (not granted to ci), PAGER_KEY (not granted to ci)",
        Some(HINT_UNMET),
    );
    let out = ci("dev");
    assert_eq!(out.stdout, "");
    out.fails(
        125,
        "the manifest's required variables are not all available in environment dev: DB_URL (not granted to ci), STRIPE_KEY (not granted to ci)",
        Some(HINT_UNMET),
    );
}

#[test]
fn a_stored_value_that_breaks_its_rule_or_expired_stops_exec() {
    let (env, root) = stocked();
    // Added before the rule forbade it (or by hand elsewhere).
    env.vault(&[
        "rotate",
        "STRIPE_KEY",
        "--environment",
        "staging",
        "--no-manifest",
    ])
    .passphrase()
    .stdin("pk_test_wrongprefix")
    .run()
    .success();
    let out = in_dir(
        env.vault(&[
            "exec",
            "--environment",
            "staging",
            "--",
            "sh",
            "-c",
            "echo ran",
        ]),
        &root,
    )
    .passphrase()
    .run();
    assert_eq!(out.stdout, "");
    out.fails(
        125,
        "the manifest's required variables are not all available in environment staging: STRIPE_KEY (its value breaks the rule: it must match the pattern ^sk_(test|live)_[A-Za-z0-9]+$)",
        Some(HINT_UNMET),
    );
}

#[test]
fn rules_refuse_a_placeholder_at_add_and_rotate_without_the_value() {
    let (env, root) = stocked();
    let out = env.refuses(
        in_dir(
            env.vault(&["add", "STRIPE_KEY", "--environment", "production1"]),
            &root,
        )
        .passphrase()
        .stdin("changeme"),
        2,
        &format!(
            "{}: environment production1 is not one of project.environments (dev, staging, prod)",
            root.join("vault.toml").display()
        ),
        Some(HINT_MANIFEST),
    );
    assert!(!out.stderr.contains("changeme"));
    for (value, rule) in [
        ("changeme", "it must be at least 12 characters long"),
        (
            "CHANGEME-but-longer",
            "it must match the pattern ^sk_(test|live)_[A-Za-z0-9]+$",
        ),
    ] {
        let out = env.refuses(
            in_dir(env.vault(&["rotate", "STRIPE_KEY"]), &root)
                .passphrase()
                .stdin(value),
            2,
            &format!(
                "the value of STRIPE_KEY breaks the rule of {}: {rule}",
                root.join("vault.toml").display()
            ),
            Some("store a real value (the rule is in the manifest), or change the rule there"),
        );
        assert!(!out.stderr.contains(value));
    }
    let (env, root) = project("[vars.TOKEN]\ndeny = [\"changeme\", \"xxx\"]\n");
    env.refuses(
        in_dir(env.vault(&["add", "TOKEN"]), &root).passphrase().stdin("XXX"),
        2,
        &format!(
            "the value of TOKEN breaks the rule of {}: it is a placeholder that the manifest's deny list refuses",
            root.join("vault.toml").display()
        ),
        Some("store a real value (the rule is in the manifest), or change the rule there"),
    );
}

#[test]
fn a_refused_import_changes_nothing() {
    let (env, root) = stocked();
    let file = root.join(".env");
    std::fs::write(&file, "NEW_ONE=fine-value\nSTRIPE_KEY=changeme\n").unwrap();
    let out = env.refuses(
        in_dir(env.vault(&["import", ".env", "--overwrite", "--environment", "dev"]), &root)
            .current_dir(&root)
            .passphrase(),
        2,
        &format!(
            "line 2 of .env: the value of STRIPE_KEY breaks the rule of {}: it must be at least 12 characters long; nothing was imported",
            root.join("vault.toml").display()
        ),
        Some("store a real value (the rule is in the manifest), or change the rule there"),
    );
    assert!(!out.stderr.contains("changeme"));
}

#[test]
fn the_manifest_names_the_vault_inside_the_project() {
    let (env, root) = project("[project]\nvault = \"secrets/vault.db\"\n\n[vars.A]\n");
    let run = |args: &[&str]| in_dir(env.vault(args), &root).env_remove("VAULT_PATH");
    run(&["init", "--name", "owner"])
        .passphrase()
        .run()
        .success();
    assert!(root.join("secrets/vault.db").is_file());
    run(&["add", "A"])
        .passphrase()
        .stdin("value-of-a")
        .run()
        .success();
    run(&["exec", "--mask", "never", "--", "printenv", "A"])
        .passphrase()
        .run()
        .success()
        .stdout_is("value-of-a\n");
    // --manifest and VAULT_MANIFEST name another one; it must exist.
    let missing = root.join("nope.toml");
    env.vault(&["list", "--manifest", missing.to_str().unwrap()])
        .run()
        .fails(
            2,
            &format!(
                "cannot read the manifest {}: no such file",
                missing.display()
            ),
            None,
        );
    env.vault(&["list"])
        .env("VAULT_MANIFEST", root.join("vault.toml"))
        .env_remove("VAULT_PATH")
        .run()
        .success()
        .stdout_has("A ");
}

#[test]
fn explain_shows_the_manifests_view() {
    let (env, root) = stocked();
    env.sql("DELETE FROM secrets WHERE name = 'DB_URL'");
    let out = in_dir(env.vault(&["exec", "--explain", "--", "true"]), &root)
        .passphrase()
        .run()
        .success();
    assert!(
        out.stdout.ends_with(&format!(
            "manifest: {} (environment dev)\n  LOG_LEVEL: its default, from the manifest\n  SENTRY_DSN: optional, not set\n  DB_URL: required, missing: exec would refuse\n",
            root.join("vault.toml").display()
        )),
        "{}",
        out.stdout
    );
    let out = in_dir(
        env.vault(&["exec", "--explain", "--json", "--", "true"]),
        &root,
    )
    .passphrase()
    .run()
    .success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        json["manifest"],
        serde_json::json!({
            "path": root.join("vault.toml").display().to_string(),
            "environment": "dev",
            "defaults": ["LOG_LEVEL"],
            "files": [],
            "optional_absent": ["SENTRY_DSN"],
            "refused": [{"variable": "DB_URL", "why": "missing"}],
        })
    );
}

#[test]
fn a_first_manifest_is_written_from_a_dotenv_with_names_only() {
    let env = Env::new();
    let dir = env.path().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".env"),
        "STRIPE_KEY=sk_live_secret123\nexport DB_URL='postgres://u:p@h'\n",
    )
    .unwrap();
    let out = env.vault(&["manifest"]).current_dir(&dir).run().success();
    assert_eq!(
        out.stdout,
        "wrote vault.toml with 2 variables from .env (names only, every one required)\n"
    );
    let text = std::fs::read_to_string(dir.join("vault.toml")).unwrap();
    assert!(
        !text.contains("sk_live") && !text.contains("postgres"),
        "{text}"
    );
    assert!(
        text.contains("\n[vars.STRIPE_KEY]\nrequired = true\n"),
        "{text}"
    );
    assert!(
        text.contains("\n[vars.DB_URL]\nrequired = true\n"),
        "{text}"
    );
    // It reads as a manifest, and is never overwritten.
    let before = std::fs::read(dir.join("vault.toml")).unwrap();
    env.vault(&["manifest"]).current_dir(&dir).run().fails(
        2,
        "vault.toml already exists; it was left as it is",
        None,
    );
    assert_eq!(std::fs::read(dir.join("vault.toml")).unwrap(), before);
    env.vault(&["check"]).current_dir(&dir).run().code(2);
}

/// A manifest older than a moment is kept parsed in the data directory;
/// an edit (a new change time) is read again at once.
#[test]
fn a_kept_manifest_follows_every_edit() {
    let (env, root) = project("[vars.A]\n");
    env.add("A", "value-of-a");
    env.add("B", "value-of-b");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let show = || {
        in_dir(
            env.vault(&[
                "exec",
                "--mask",
                "never",
                "--",
                "sh",
                "-c",
                "echo ${A-unset} ${B-unset}",
            ]),
            &root,
        )
        .passphrase()
        .run()
        .success()
        .stdout
    };
    assert_eq!(show(), "value-of-a unset\n");
    let kept = env.path().join("xdg").join("vault").join("manifests");
    assert_eq!(std::fs::read_dir(&kept).unwrap().count(), 1, "kept once");
    assert_eq!(show(), "value-of-a unset\n");
    // Same size, same second: the change time tells.
    std::fs::write(root.join("vault.toml"), "[vars.B]\n").unwrap();
    assert_eq!(show(), "unset value-of-b\n");
}
