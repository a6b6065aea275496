//! Reports CI can gate on: `list --expiring WITHIN` and `list
//! --needs-rotation` exit 1 when anything matches, 0 when nothing does, 2
//! on error, and say which rule matched; `--rotate-every` at add and rotate
//! time sets the period the second one checks.

use crate::support::Env;

const DAY: i64 = 86_400;
const PERIOD_HINT: &str = "use a duration such as 30d, 12h or 1w2d";

fn add(env: &Env, name: &str, flags: &[&str]) {
    let mut run = env.vault(&["add", name]);
    for flag in flags {
        run = run.arg(flag);
    }
    run.passphrase().stdin("value").run().success();
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap()
}

/// Moves a secret's last rotation `days` into the past, as time would.
/// `rotated_at` is bound into no ciphertext, so the secret still opens.
fn rotated_days_ago(env: &Env, name: &str, days: i64) {
    env.sql(&format!(
        "UPDATE secrets SET rotated_at = rotated_at - {} WHERE name = '{name}'",
        days * DAY
    ));
}

/// SOON expires in 3 days, OLD has expired, LATER expires in 2099, NEVER
/// does not expire; SOON and OLD belong to service web.
fn expiries() -> Env {
    let env = Env::init();
    add(&env, "SOON", &["--expires", "3d", "--service", "web"]);
    add(&env, "OLD", &["--expires", "1d", "--service", "web"]);
    env.sql("UPDATE secrets SET expires_at = 86400 WHERE name = 'OLD'");
    add(&env, "LATER", &["--expires", "2099-01-01"]);
    add(&env, "NEVER", &[]);
    env
}

#[test]
fn expiring_lists_what_expires_within_the_window_and_what_has_expired() {
    let env = expiries();
    env.vault(&["list", "--expiring", "30d"])
        .run()
        .code(1)
        .stdout_is("NAME  SERVICE  REASON\nOLD   web      expired\nSOON  web      expires in 3d\n")
        .stderr_is("");
}

#[test]
fn expiring_exits_0_when_nothing_matches() {
    let env = expiries();
    env.sql("DELETE FROM secrets WHERE name IN ('SOON', 'OLD')");
    env.vault(&["list", "--expiring", "30d"])
        .run()
        .success()
        .stdout_is("")
        .stderr_is("no secret expires within 30d\n");
    env.vault(&["list", "--expiring", "30d", "--json"])
        .run()
        .success()
        .stdout_is("{\n  \"secrets\": []\n}\n");
}

#[test]
fn expiring_combines_with_service_and_json() {
    let env = expiries();
    add(&env, "OTHER_SOON", &["--expires", "2d", "--service", "api"]);
    let out = env
        .vault(&["list", "--expiring", "1w", "--service", "api", "--json"])
        .run()
        .code(1)
        .stderr_is("");
    let list = json(&out.stdout);
    let secrets = list["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0]["name"], "OTHER_SOON");
    assert_eq!(
        secrets[0]["matched"],
        serde_json::json!([{"rule": "expiring", "text": "expires in 2d"}])
    );
    let out = env
        .vault(&["list", "--expiring", "30d", "--json"])
        .run()
        .code(1);
    let list = json(&out.stdout);
    let matched: Vec<(&str, &serde_json::Value)> = list["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), &s["matched"]))
        .collect();
    assert_eq!(
        matched,
        [
            (
                "OLD",
                &serde_json::json!([{"rule": "expired", "text": "expired"}])
            ),
            (
                "OTHER_SOON",
                &serde_json::json!([{"rule": "expiring", "text": "expires in 2d"}])
            ),
            (
                "SOON",
                &serde_json::json!([{"rule": "expiring", "text": "expires in 3d"}])
            ),
        ]
    );
}

#[test]
fn a_window_shorter_than_the_expiry_leaves_it_out() {
    let env = expiries();
    env.vault(&["list", "--expiring", "2d"])
        .run()
        .code(1)
        .stdout_is("NAME  SERVICE  REASON\nOLD   web      expired\n");
}

#[test]
fn refuses_an_unparsable_expiring_window() {
    let env = expiries();
    env.vault(&["list", "--expiring", "soon"]).run().fails(
        2,
        "invalid --expiring \"soon\": not a duration",
        Some(PERIOD_HINT),
    );
    env.vault(&["list", "--expiring", "30"]).run().fails(
        2,
        "invalid --expiring \"30\": not a duration",
        Some(PERIOD_HINT),
    );
}

#[test]
fn a_report_on_a_missing_vault_exits_2() {
    let env = Env::new();
    env.vault(&["list", "--needs-rotation"]).run().fails(
        2,
        &format!("no vault at {}", env.vault.display()),
        Some("create one with `vault init`, or point --vault or VAULT_PATH at an existing one"),
    );
}

/// REVOKED had an identity's access revoked; STALE is 40 days into a
/// 30-day period; FRESH is within its period; PLAIN has no period.
fn rotations() -> Env {
    let env = Env::init();
    add(&env, "REVOKED", &[]);
    add(&env, "STALE", &["--rotate-every", "30d", "--service", "db"]);
    add(&env, "FRESH", &["--rotate-every", "30d"]);
    add(&env, "PLAIN", &[]);
    rotated_days_ago(&env, "STALE", 40);
    rotated_days_ago(&env, "FRESH", 20);
    rotated_days_ago(&env, "PLAIN", 400);
    env.owner_runs(&["identity", "add", "ci", "--token"]);
    env.owner_runs(&["grant", "REVOKED", "--to", "ci"]);
    env.owner_runs(&["revoke", "REVOKED", "--from", "ci"]);
    env
}

#[test]
fn needs_rotation_lists_revoked_access_and_overdue_rotations() {
    let env = rotations();
    env.vault(&["list", "--needs-rotation"])
        .run()
        .code(1)
        .stdout_is(
            "NAME     SERVICE  REASON\n\
             REVOKED  -        revoked access\n\
             STALE    db       rotation overdue by 10d\n",
        )
        .stderr_is("");
    env.vault(&["list", "--needs-rotation", "--service", "db"])
        .run()
        .code(1)
        .stdout_is("NAME   SERVICE  REASON\nSTALE  db       rotation overdue by 10d\n");
}

#[test]
fn needs_rotation_in_json_says_which_rule_matched() {
    let env = rotations();
    // Both reasons at once: STALE also loses an identity's access.
    env.owner_runs(&["grant", "STALE", "--to", "ci"]);
    env.owner_runs(&["revoke", "STALE", "--from", "ci"]);
    let out = env
        .vault(&["list", "--needs-rotation", "--json"])
        .run()
        .code(1);
    let list = json(&out.stdout);
    let stale = &list["secrets"][1];
    assert_eq!(stale["name"], "STALE");
    assert_eq!(
        stale["matched"],
        serde_json::json!([
            {"rule": "revoked_access", "text": "revoked access"},
            {"rule": "rotation_overdue", "text": "rotation overdue by 10d"},
        ])
    );
    assert_eq!(stale["rotate_every"], 30 * DAY);
    assert_eq!(stale["rotation_overdue"], true);
    let rotated = env.int("secrets", "rotated_at", "name = 'STALE'");
    assert_eq!(
        stale["rotation_due"],
        vault::time::format(rotated + 30 * DAY)
    );
}

#[test]
fn rotating_clears_both_reasons() {
    let env = rotations();
    for name in ["REVOKED", "STALE"] {
        env.vault(&["rotate", name])
            .passphrase()
            .stdin("new")
            .run()
            .success();
    }
    env.vault(&["list", "--needs-rotation"])
        .run()
        .success()
        .stdout_is("")
        .stderr_is("no secret needs rotation\n");
}

#[test]
fn both_reports_together_list_either_rule() {
    let env = rotations();
    add(&env, "SOON", &["--expires", "3d"]);
    env.vault(&["list", "--needs-rotation", "--expiring", "7d"])
        .run()
        .code(1)
        .stdout_is(
            "NAME     SERVICE  REASON\n\
             REVOKED  -        revoked access\n\
             SOON     -        expires in 3d\n\
             STALE    db       rotation overdue by 10d\n",
        );
    env.sql("DELETE FROM secrets WHERE name IN ('SOON', 'REVOKED', 'STALE')");
    env.vault(&["list", "--needs-rotation", "--expiring", "7d"])
        .run()
        .success()
        .stderr_is("no secret expires within 7d or needs rotation\n");
}

// --- --rotate-every at add and rotate time ---

fn period(env: &Env, name: &str) -> serde_json::Value {
    let list = json(&env.vault(&["list", "--json"]).run().success().stdout);
    list["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()["rotate_every"]
        .clone()
}

#[test]
fn rotate_keeps_the_period_unless_given_a_new_one() {
    let env = Env::init();
    add(&env, "KEY", &["--rotate-every", "90d"]);
    assert_eq!(period(&env, "KEY"), 90 * DAY);
    env.vault(&["rotate", "KEY"])
        .passphrase()
        .stdin("v2")
        .run()
        .success();
    assert_eq!(period(&env, "KEY"), 90 * DAY);
    env.vault(&["rotate", "KEY", "--rotate-every", "1w2d"])
        .passphrase()
        .stdin("v3")
        .run()
        .success();
    assert_eq!(period(&env, "KEY"), 9 * DAY);
    add(&env, "NONE", &[]);
    assert_eq!(period(&env, "NONE"), serde_json::Value::Null);
}

#[test]
fn the_table_shows_the_period_and_an_overdue_status() {
    let env = Env::init();
    add(&env, "KEY", &["--rotate-every", "90d"]);
    let created = vault::time::format_date(env.int("secrets", "created_at", "name = 'KEY'"));
    env.vault(&["list"]).run().success().stdout_is(&format!(
        "NAME  SERVICE  VERSION  CREATED     ROTATED     EXPIRES  ROTATE  STATUS  ACCESS          DESCRIPTION\n\
         KEY   -        1        {created}  {created}  -        90d     ok      owner (manage)\n"
    ));
    rotated_days_ago(&env, "KEY", 91);
    env.vault(&["list"])
        .run()
        .success()
        .stdout_has("  90d     rotation overdue  owner (manage)\n");
    // The value still opens: rotated_at is bound into no ciphertext.
    assert_eq!(env.value_of("KEY"), "value");
}

#[test]
fn refuses_an_unparsable_rotate_every_on_add() {
    let env = Env::init();
    let before = env.dump();
    env.vault(&["add", "KEY", "--rotate-every", "monthly"])
        .passphrase()
        .stdin("v")
        .run()
        .fails(
            2,
            "invalid --rotate-every \"monthly\": not a duration",
            Some(PERIOD_HINT),
        );
    assert_eq!(env.dump(), before);
}

#[test]
fn refuses_an_unparsable_rotate_every_on_rotate() {
    let env = Env::init();
    add(&env, "KEY", &["--rotate-every", "90d"]);
    let before = env.dump();
    env.vault(&["rotate", "KEY", "--rotate-every", "0d"])
        .passphrase()
        .stdin("v")
        .run()
        .fails(
            2,
            "invalid --rotate-every \"0d\": not a duration",
            Some(PERIOD_HINT),
        );
    assert_eq!(env.dump(), before);
}
