//! `vault mcp` in a project: the server acts in one environment
//! (`--environment`, else the manifest's default) and by the manifest
//! (`vault.toml` found from its working directory, `--manifest`,
//! `--no-manifest`). `list_secrets` shows each secret's environment and
//! whether the manifest requires it, `check` is `vault check --json`'s
//! report, and `run` injects what the manifest declares, with exec's
//! refusals as protocol errors. No value in any message, as everywhere.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::agents::CANARY;
use crate::mcp::{run, talk, Talk};
use crate::support::Env;

const SHARED: &str = "shared-value-Pw7Lx2Vb";
const DEV: &str = "dev-value-Mn4Kq9Rt";

const MANIFEST: &str = r#"[project]
environments = ["dev", "prod"]
environment = "dev"

[vars.API_KEY]
[vars.DB_PASSWORD]
[vars.LOG_LEVEL]
default = "info"
[vars.TRACE]
required = false
"#;

/// MANIFEST, and two required variables the agent cannot have: one
/// nowhere, one not granted to it.
const WANTING: &str = r#"[project]
environments = ["dev", "prod"]

[vars.API_KEY]
[vars.STRIPE_KEY]
[vars.NOT_MINE]
"#;

/// A project whose API_KEY is shared (SHARED), dev's own (DEV) and prod's
/// own (the canary), all granted to the agent claude; DB_PASSWORD shared
/// and granted; EXTRA granted but not declared; NOT_MINE not granted.
fn project() -> (Env, String) {
    let env = Env::init();
    env.add("API_KEY", SHARED);
    for (environment, value) in [("dev", DEV), ("prod", CANARY)] {
        env.vault(&["add", "API_KEY", "--environment", environment])
            .passphrase()
            .stdin(value)
            .run()
            .success();
    }
    env.add("DB_PASSWORD", "hunter2-but-longer");
    env.add("EXTRA", "extra-value-Jd8Hs3Qa");
    env.add("NOT_MINE", "not-mine-value-Xc5Vb7Nm");
    let out = env
        .vault(&["identity", "add", "claude", "--agent"])
        .passphrase()
        .run()
        .success();
    env.owner_runs(&["grant", "API_KEY", "DB_PASSWORD", "EXTRA", "--to", "claude"]);
    for environment in ["dev", "prod"] {
        env.owner_runs(&[
            "grant",
            "API_KEY",
            "--to",
            "claude",
            "--environment",
            environment,
        ]);
    }
    // Written last: the manifest's default environment would take the
    // owner's adds and grants to dev.
    std::fs::write(env.path().join("vault.toml"), MANIFEST).unwrap();
    std::fs::write(env.path().join("wanting.toml"), WANTING).unwrap();
    (env, out.stdout.trim_end().to_owned())
}

/// Every value of the project, in no message either way.
#[track_caller]
fn leaks_nothing(t: &Talk) {
    t.leaks_nothing();
    for value in [
        SHARED,
        DEV,
        "extra-value-Jd8Hs3Qa",
        "not-mine-value-Xc5Vb7Nm",
    ] {
        assert!(!t.stream.contains(value), "{value} in the stream");
    }
}

fn sha256(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A command that prints the sha256 of `$var`: the value is compared
/// without being printed.
fn hash_of(var: &str) -> Value {
    run(
        &["sh", "-c", &format!("printf %s \"${var}\" | sha256sum")],
        "compare the value",
    )
}

/// `list_secrets`' entry for `name` in `environment` (null: shared).
fn entry<'a>(list: &'a Value, name: &str, environment: Value) -> &'a Value {
    list["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name && s["environment"] == environment)
        .unwrap_or_else(|| panic!("no {name} ({environment}) in {list:#}"))
}

#[test]
fn in_prod_the_tools_see_prods_secrets_and_the_manifest() {
    let (env, token) = project();
    let t = talk(
        &env,
        &token,
        &["--environment", "prod"],
        json!([
            { "tool": "list_secrets" },
            { "tool": "check" },
            hash_of("API_KEY"),
            run(&["sh", "-c", "echo ${LOG_LEVEL:-unset} ${EXTRA:-unset} ${NOT_MINE:-unset}"], "what the manifest gives"),
            { "tool": "run", "args": { "command": ["sh", "-c", "printf %s \"$API_KEY\" | sha256sum; echo ${DB_PASSWORD:-unset}"],
                                       "secrets": ["API_KEY"], "reason": "named" } },
        ]),
    );
    leaks_nothing(&t);
    let list = t.structured(0);
    assert_eq!(list["environment"], "prod");
    assert!(list["manifest"].as_str().unwrap().ends_with("vault.toml"));
    let prod = entry(list, "API_KEY", json!("prod"));
    assert_eq!(
        (
            &prod["in_environment"],
            &prod["declared"],
            &prod["required"]
        ),
        (&json!(true), &json!(true), &json!(true)),
        "{prod:#}"
    );
    assert_eq!(
        entry(list, "API_KEY", json!("dev"))["in_environment"],
        false
    );
    assert_eq!(entry(list, "API_KEY", Value::Null)["in_environment"], false);
    let db = entry(list, "DB_PASSWORD", Value::Null);
    assert_eq!(
        (&db["in_environment"], &db["required"]),
        (&json!(true), &json!(true))
    );
    let extra = entry(list, "EXTRA", Value::Null);
    assert_eq!(
        (&extra["declared"], &extra["required"]),
        (&json!(false), &json!(false))
    );
    assert!(list["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["name"] != "NOT_MINE"));

    let check = t.structured(1);
    assert_eq!(check["ok"], true, "{check:#}");
    assert_eq!(check["environment"], "prod");
    assert_eq!(check["identity"], "claude");
    assert_eq!(
        check["variables"][0],
        json!({ "variable": "API_KEY", "required": true, "status": "ok", "environment": "prod", "expires": null })
    );
    assert_eq!(check["variables"][2]["status"], "default");
    assert_eq!(check["undeclared"], json!(["EXTRA", "NOT_MINE"]));

    let hashed = t.structured(2);
    assert_eq!(
        hashed["stdout"],
        format!("{}  -\n", sha256(CANARY)),
        "{hashed:#}"
    );
    assert_eq!(hashed["secrets"], json!(["API_KEY", "DB_PASSWORD"]));
    assert_eq!(t.structured(3)["stdout"], "info unset unset\n");
    let named = t.structured(4);
    assert_eq!(named["stdout"], format!("{}  -\nunset\n", sha256(CANARY)));
    assert_eq!(named["secrets"], json!(["API_KEY"]));
}

#[test]
fn without_an_environment_the_manifests_default_is_used() {
    let (env, token) = project();
    let t = talk(
        &env,
        &token,
        &[],
        json!([{ "tool": "check" }, hash_of("API_KEY")]),
    );
    leaks_nothing(&t);
    assert_eq!(t.structured(0)["environment"], "dev");
    assert_eq!(t.structured(0)["variables"][0]["environment"], "dev");
    assert_eq!(t.structured(1)["stdout"], format!("{}  -\n", sha256(DEV)));
}

#[test]
fn what_the_manifest_requires_and_the_agent_lacks_is_reported_and_refused() {
    let (env, token) = project();
    let t = talk(
        &env,
        &token,
        &["--manifest", "wanting.toml", "--environment", "prod"],
        json!([
            { "tool": "check" },
            run(&["true"], "by the manifest"),
            { "tool": "run", "args": { "command": ["true"], "secrets": ["API_KEY"], "reason": "named" } },
        ]),
    );
    leaks_nothing(&t);
    let check = t.structured(0);
    assert_eq!(check["ok"], false);
    let status = |name: &str| {
        check["variables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["variable"] == name)
            .map(|v| v["status"].clone())
    };
    assert_eq!(status("STRIPE_KEY"), Some(json!("missing")));
    assert_eq!(status("NOT_MINE"), Some(json!("not_granted")));
    assert_eq!(status("API_KEY"), Some(json!("ok")));
    t.error(
        1,
        -32001,
        "the manifest's required variables are not all available in environment prod: \
         NOT_MINE (not granted to claude), STRIPE_KEY (missing)",
    );
    assert!(t.call(1)["error"]["data"]["hint"]
        .as_str()
        .unwrap()
        .starts_with("check shows what the manifest lacks"));
    assert_eq!(t.structured(2)["exit_status"], 0);
}

#[test]
fn with_no_manifest_the_tools_answer_as_outside_a_project() {
    let (env, token) = project();
    let t = talk(
        &env,
        &token,
        &["--no-manifest"],
        json!([
            { "tool": "list_secrets" },
            { "tool": "check" },
            run(&["sh", "-c", "echo ${EXTRA:+set} ${LOG_LEVEL:-unset}"], "all granted"),
            hash_of("API_KEY"),
        ]),
    );
    leaks_nothing(&t);
    let list = t.structured(0);
    assert_eq!(
        (&list["manifest"], &list["environment"]),
        (&Value::Null, &Value::Null)
    );
    assert!(entry(list, "EXTRA", Value::Null).get("required").is_none());
    assert!(t.structured(1).get("variables").is_none());
    assert_eq!(t.structured(1)["ok"], true);
    assert_eq!(t.structured(2)["stdout"], "set unset\n");
    assert_eq!(
        t.structured(3)["stdout"],
        format!("{}  -\n", sha256(SHARED))
    );
}
