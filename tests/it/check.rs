//! `vault check`: the manifest against the vault, without unlocking, for
//! CI and pre-deploy gates. Exit 0 when every required variable is there
//! and granted, 1 when not, 2 on error; each failure class in text and JSON.

use crate::support::Env;

const MANIFEST: &str = r#"[project]
environments = ["dev", "prod"]

[vars.GOOD]
[vars.GONE]
[vars.NOT_MINE]
[vars.OLD]
[vars.SOON]
[vars.REVOKED]
[vars.LEVEL]
default = "info"
[vars.MAYBE]
required = false
"#;

/// A vault where ci holds GOOD, OLD, SOON and REVOKED in prod (REVOKED
/// marked for rotation by a revoke from another identity), and NOT_MINE
/// exists but is not ci's; GONE is nowhere. EXTRA is not declared.
fn setup() -> (Env, String) {
    let env = Env::init();
    std::fs::write(env.path().join("vault.toml"), MANIFEST).unwrap();
    let out = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success();
    let token = out.stdout.trim().to_owned();
    let out = env
        .vault(&["identity", "add", "bot", "--token"])
        .passphrase()
        .run()
        .success();
    drop(out);
    for name in ["GOOD", "NOT_MINE", "OLD", "SOON", "REVOKED", "EXTRA"] {
        env.vault(&["add", name, "--environment", "prod"])
            .passphrase()
            .stdin(format!("value-of-{name}"))
            .run()
            .success();
    }
    for name in ["GOOD", "OLD", "SOON", "REVOKED"] {
        env.owner_runs(&["grant", name, "--to", "ci", "--environment", "prod"]);
    }
    env.owner_runs(&["grant", "REVOKED", "--to", "bot", "--environment", "prod"]);
    env.owner_runs(&[
        "revoke",
        "REVOKED",
        "--from",
        "bot",
        "--environment",
        "prod",
    ]);
    let now = vault::time::now();
    env.sql(&format!(
        "UPDATE secrets SET expires_at = {} WHERE name = 'OLD'; \
         UPDATE secrets SET expires_at = {} WHERE name = 'SOON';",
        now - 10,
        now + 3 * 86_400
    ));
    (env, token)
}

#[test]
fn check_reports_each_class_and_exits_1() {
    let (env, token) = setup();
    let before = env.dump();
    let out = env
        .vault(&["check", "--environment", "prod"])
        .env("VAULT_ACCESS_TOKEN", &token)
        .run()
        .code(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[1..]
            .iter()
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>(),
        [
            "GONE missing:",
            "GOOD ok",
            "LEVEL its",
            "MAYBE optional,",
            "NOT_MINE not",
            "OLD expired",
            "REVOKED needs",
            "SOON expires",
            "not declared",
            "not ok:",
        ],
        "{}",
        out.stdout
    );
    assert_eq!(
        lines[0],
        format!(
            "manifest {}, environment prod, identity ci",
            env.path().join("vault.toml").display()
        )
    );
    assert!(
        out.stdout
            .contains("  NOT_MINE  not granted to ci (prod)\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("not declared in the manifest: EXTRA\n"),
        "{}",
        out.stdout
    );
    assert_eq!(env.dump(), before, "check changed the vault");

    let out = env
        .vault(&["check", "--environment", "prod", "--json"])
        .env("VAULT_ACCESS_TOKEN", &token)
        .run()
        .code(1);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let statuses: Vec<(String, String)> = json["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["variable"].as_str().unwrap().into(),
                v["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("GONE", "missing"),
        ("GOOD", "ok"),
        ("LEVEL", "default"),
        ("MAYBE", "optional_missing"),
        ("NOT_MINE", "not_granted"),
        ("OLD", "expired"),
        ("REVOKED", "needs_rotation"),
        ("SOON", "expiring"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(statuses, want);
    assert_eq!(json["ok"], false);
    assert_eq!(json["identity"], "ci");
    assert_eq!(json["environment"], "prod");
    assert_eq!(json["undeclared"], serde_json::json!(["EXTRA"]));
}

#[test]
fn check_exits_0_when_every_required_variable_is_there() {
    let (env, token) = setup();
    std::fs::write(
        env.path().join("vault.toml"),
        "[vars.GOOD]\n[vars.SOON]\n[vars.LEVEL]\ndefault = \"x\"\n",
    )
    .unwrap();
    let out = env
        .vault(&["check", "--environment", "prod", "--json"])
        .env("VAULT_ACCESS_TOKEN", &token)
        .run()
        .code(0);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["ok"], true);
    // In dev nothing is there for ci: 1.
    env.vault(&["check", "--environment", "dev"])
        .env("VAULT_ACCESS_TOKEN", &token)
        .run()
        .code(1)
        .stdout_has("  GOOD   missing: no secret here and no default\n");
}

#[test]
fn check_without_a_manifest_or_with_a_bad_one_exits_2() {
    let env = Env::init();
    env.vault(&["check"]).run().fails(
        2,
        "no manifest: no vault.toml here or in a directory above",
        None,
    );
    std::fs::write(env.path().join("vault.toml"), "[vars.A]\nbogus = 1\n").unwrap();
    env.vault(&["check"])
        .run()
        .code(2)
        .stderr_has("line 2: unknown field `bogus`");
}
