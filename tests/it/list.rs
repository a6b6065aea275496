//! `vault list`: names and metadata without unlocking, as a table and as
//! the documented JSON shape; never a value.

use crate::support::Env;

/// `YYYY-MM-DD` of a stored time, as the table shows it.
fn date(env: &Env, name: &str, column: &str) -> String {
    vault::time::format_date(env.int("secrets", column, &format!("name = '{name}'")))
}

/// RFC 3339 of a stored time, as the JSON shows it.
fn stamp(env: &Env, name: &str, column: &str) -> String {
    vault::time::format(env.int("secrets", column, &format!("name = '{name}'")))
}

fn two_secrets() -> Env {
    let env = Env::init();
    env.vault(&[
        "add",
        "STRIPE_KEY",
        "--service",
        "billing",
        "--description",
        "live payments",
        "--expires",
        "2099-01-31",
    ])
    .passphrase()
    .stdin("sk_live")
    .run()
    .success();
    env.add("DB_PASSWORD", "hunter2");
    env
}

#[test]
fn shows_a_table_without_unlocking() {
    let env = two_secrets();
    let (c1, c2) = (
        date(&env, "DB_PASSWORD", "created_at"),
        date(&env, "STRIPE_KEY", "created_at"),
    );
    let expected = format!(
        "NAME         SERVICE  VERSION  CREATED     ROTATED     EXPIRES     ROTATE  STATUS  ACCESS          DESCRIPTION\n\
         DB_PASSWORD  -        1        {c1}  {c1}  -           -       ok      owner (manage)\n\
         STRIPE_KEY   billing  1        {c2}  {c2}  2099-01-31  -       ok      owner (manage)  live payments\n"
    );
    // No passphrase: listing needs no unlocking.
    env.vault(&["list"])
        .run()
        .success()
        .stdout_is(&expected)
        .stderr_is("");
    env.vault(&["ls"]).run().success().stdout_is(&expected);
}

#[test]
fn prints_the_documented_json_shape() {
    let env = two_secrets();
    let out = env.vault(&["list", "--json"]).run().success().stderr_is("");
    let actual: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let owner = serde_json::json!([
        {"identity": "owner", "level": "manage", "expires": null, "expired": false}
    ]);
    let expected = serde_json::json!({"secrets": [
        {
            "name": "DB_PASSWORD",
            "environment": null,
            "service": null,
            "description": null,
            "version": 1,
            "created": stamp(&env, "DB_PASSWORD", "created_at"),
            "rotated": stamp(&env, "DB_PASSWORD", "rotated_at"),
            "expires": null,
            "expired": false,
            "needs_rotation": false,
            "rotate_every": null,
            "rotation_due": null,
            "rotation_overdue": false,
            "access": owner,
            "matched": [],
        },
        {
            "name": "STRIPE_KEY",
            "environment": null,
            "service": "billing",
            "description": "live payments",
            "version": 1,
            "created": stamp(&env, "STRIPE_KEY", "created_at"),
            "rotated": stamp(&env, "STRIPE_KEY", "rotated_at"),
            "expires": "2099-01-31T00:00:00Z",
            "expired": false,
            "needs_rotation": false,
            "rotate_every": null,
            "rotation_due": null,
            "rotation_overdue": false,
            "access": owner,
            "matched": [],
        },
    ]});
    assert_eq!(actual, expected);
    assert!(out.stdout.ends_with("}\n"));
}

#[test]
fn filters_by_service() {
    let env = two_secrets();
    let c = date(&env, "STRIPE_KEY", "created_at");
    env.vault(&["list", "--service", "billing"])
        .run()
        .success()
        .stdout_is(&format!(
            "NAME        SERVICE  VERSION  CREATED     ROTATED     EXPIRES     ROTATE  STATUS  ACCESS          DESCRIPTION\n\
             STRIPE_KEY  billing  1        {c}  {c}  2099-01-31  -       ok      owner (manage)  live payments\n"
        ));
    let json = env
        .vault(&["list", "-s", "billing", "--json"])
        .run()
        .success()
        .stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> = json["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["STRIPE_KEY"]);
}

/// Regression: an unknown service listed nothing and suggested adding a
/// secret; mistakes with close names are in mistakes.rs.
#[test]
fn an_unknown_service_is_an_error() {
    let env = two_secrets();
    env.refuses(
        env.vault(&["list", "--service", "nope"]),
        2,
        "no secret belongs to service nope",
        Some("`vault list` shows each secret's service"),
    );
}

#[test]
fn marks_expired_secrets() {
    let env = two_secrets();
    env.sql("UPDATE secrets SET expires_at = 86400 WHERE name = 'STRIPE_KEY'");
    let c = date(&env, "STRIPE_KEY", "created_at");
    env.vault(&["list", "-s", "billing"])
        .run()
        .success()
        .stdout_is(&format!(
            "NAME        SERVICE  VERSION  CREATED     ROTATED     EXPIRES     ROTATE  STATUS   ACCESS          DESCRIPTION\n\
             STRIPE_KEY  billing  1        {c}  {c}  1970-01-02  -       expired  owner (manage)  live payments\n"
        ));
    let json = env.vault(&["list", "--json"]).run().success().stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["secrets"][1]["name"], "STRIPE_KEY");
    assert_eq!(json["secrets"][1]["expired"], true);
    assert_eq!(json["secrets"][1]["expires"], "1970-01-02T00:00:00Z");
    assert_eq!(json["secrets"][0]["expired"], false);
}

#[test]
fn warns_of_a_secret_expiring_within_a_week() {
    let env = Env::init();
    env.vault(&["add", "SOON", "--expires", "3d"])
        .passphrase()
        .stdin("v")
        .run()
        .success();
    env.vault(&["list"])
        .run()
        .success()
        .stdout_has("  expires in 3d  owner (manage)\n");
}

#[test]
fn an_empty_vault_says_how_to_add() {
    let env = Env::init();
    env.vault(&["list"])
        .run()
        .success()
        .stdout_is("")
        .stderr_is("no secrets; add one with `vault add NAME`\n");
    env.vault(&["list", "--json"])
        .run()
        .success()
        .stdout_is("{\n  \"secrets\": []\n}\n");
}

#[test]
fn refuses_a_missing_vault_with_a_hint_to_init() {
    let env = Env::new();
    env.vault(&["list"]).run().fails(
        2,
        &format!("no vault at {}", env.vault.display()),
        Some("create one with `vault init`, or point --vault or VAULT_PATH at an existing one"),
    );
    assert!(!env.vault.exists());
}
