//! `vault audit verify`: an intact log passes; an entry edited, deleted or
//! reordered by hand in the SQLite file is pinpointed by sequence number
//! and time, with status 2, and the vault is left as it was.

use crate::audit::team_scenario;
use crate::support::Env;

/// The scenario's log: 15 entries across owner, bob and ci.
fn logged() -> (Env, String) {
    let env = Env::init();
    let token = team_scenario(&env);
    assert_eq!(env.audit_count(), 15);
    (env, token)
}

fn hint(intact_up_to: i64) -> String {
    format!(
        "the vault file was changed outside vault; entries 1 to {intact_up_to} are intact; \
         restore it from a backup or from version control to recover the log"
    )
}

/// `audit verify` as the owner and as ci must both fail with `message`,
/// changing nothing.
fn broken(env: &Env, token: &str, message: &str, intact_up_to: i64) {
    let before = (env.dump(), env.audit_dump());
    env.vault(&["audit", "verify"])
        .passphrase()
        .run()
        .fails(2, message, Some(&hint(intact_up_to)));
    env.vault(&["audit", "verify"])
        .env("VAULT_ACCESS_TOKEN", token)
        .run()
        .fails(2, message, Some(&hint(intact_up_to)));
    assert_eq!((env.dump(), env.audit_dump()), before);
}

#[test]
fn an_intact_log_verifies_for_every_identity() {
    let (env, token) = logged();
    let expected = format!(
        "audit log intact: 15 entries, {} to {}\n",
        env.audit_time(1),
        env.audit_time(15)
    );
    env.vault(&["audit", "verify"])
        .passphrase()
        .run()
        .success()
        .stdout_is(&expected);
    env.vault(&["audit", "verify"])
        .env("VAULT_ACCESS_TOKEN", &token)
        .run()
        .success()
        .stdout_is(&expected);
}

#[test]
fn an_edited_entry_is_pinpointed() {
    let (env, token) = logged();
    // Make bob's exec look like it used nothing.
    env.sql("UPDATE audit SET names = '[]' WHERE seq = 8");
    let message = format!(
        "audit log broken at entry 8 (edited): the entry of {} does not match its authentication code",
        env.audit_time(8)
    );
    broken(&env, &token, &message, 7);
}

#[test]
fn an_edited_time_or_actor_is_pinpointed() {
    let (env, token) = logged();
    env.sql("UPDATE audit SET identity = 'owner' WHERE seq = 9");
    let message = format!(
        "audit log broken at entry 9 (edited): the entry of {} does not match its authentication code",
        env.audit_time(9)
    );
    broken(&env, &token, &message, 8);
    env.sql("UPDATE audit SET identity = 'ci', at = at - 86400 WHERE seq = 9");
    let message = format!(
        "audit log broken at entry 9 (edited): the entry of {} does not match its authentication code",
        env.audit_time(9)
    );
    broken(&env, &token, &message, 8);
}

#[test]
fn a_deleted_entry_is_pinpointed() {
    let (env, token) = logged();
    let next = env.audit_time(9);
    env.sql("DELETE FROM audit WHERE seq = 8");
    let message =
        format!("audit log broken at entry 8 (deleted): it is missing; entry 9 of {next} follows");
    broken(&env, &token, &message, 7);
}

#[test]
fn deleted_entries_with_the_rest_renumbered_are_pinpointed() {
    let (env, token) = logged();
    let next = env.audit_time(10);
    env.sql("DELETE FROM audit WHERE seq IN (8, 9); UPDATE audit SET seq = seq - 2 WHERE seq > 9");
    let message = format!(
        "audit log broken at entry 8 (deleted): it is missing and the entries after it were renumbered; the entry of {next} follows"
    );
    broken(&env, &token, &message, 7);
}

#[test]
fn a_reordered_entry_is_pinpointed() {
    let (env, token) = logged();
    let moved = env.audit_time(9);
    env.sql("UPDATE audit SET seq = 17 - seq WHERE seq IN (8, 9)");
    let message = format!(
        "audit log broken at entry 8 (reordered): the entry of {moved} was written as entry 9"
    );
    broken(&env, &token, &message, 7);
}

#[test]
fn the_first_entry_has_no_intact_predecessor() {
    let (env, token) = logged();
    env.sql("UPDATE audit SET action = 'add' WHERE seq = 1");
    let message = format!(
        "audit log broken at entry 1 (edited): the entry of {} does not match its authentication code",
        env.audit_time(1)
    );
    let before = env.audit_dump();
    env.vault(&["audit", "verify"])
        .env("VAULT_ACCESS_TOKEN", &token)
        .run()
        .fails(
            2,
            &message,
            Some("the vault file was changed outside vault; restore it from a backup or from version control to recover the log"),
        );
    assert_eq!(env.audit_dump(), before);
}

/// A chain cannot show that its newest entries were cut off; SECURITY.md
/// says so. This test pins the limit, so that documentation stays true.
#[test]
fn deleting_the_newest_entries_is_not_detected() {
    let (env, _) = logged();
    env.sql("DELETE FROM audit WHERE seq > 12");
    env.vault(&["audit", "verify"])
        .passphrase()
        .run()
        .success()
        .stdout_has("audit log intact: 12 entries, ");
}

#[test]
fn new_entries_follow_a_broken_log_and_it_stays_broken() {
    let (env, token) = logged();
    env.sql("UPDATE audit SET names = '[]' WHERE seq = 8");
    env.add("LATER", "later-value-1");
    assert_eq!(env.audit_count(), 16);
    let message = format!(
        "audit log broken at entry 8 (edited): the entry of {} does not match its authentication code",
        env.audit_time(8)
    );
    broken(&env, &token, &message, 7);
}

#[test]
fn a_tampered_audit_key_is_an_integrity_error_and_exec_still_runs() {
    let env = Env::init();
    env.add("KEEP", "value-1234");
    let mut key = env.blob("audit_keys", "wrapped_key", "1");
    key[30] ^= 1;
    env.set_blob("audit_keys", "wrapped_key", "1", &key);
    let before = (env.dump(), env.audit_dump());
    env.vault(&["audit", "verify"]).passphrase().run().fails(
        2,
        "integrity check failed for the audit key of owner: the vault file was changed outside vault or is damaged",
        Some("restore the vault file from a backup or from version control"),
    );
    env.vault(&["exec", "--mask", "never", "--", "printenv", "KEEP"])
        .passphrase()
        .run()
        .success()
        .stdout_is("value-1234\n")
        .stderr_is(
            "warning: this run is not recorded in the audit log: integrity check failed for the audit key of owner: the vault file was changed outside vault or is damaged\n",
        );
    env.vault(&["add", "NEW"])
        .passphrase()
        .stdin("new-value-1")
        .run()
        .error("trust check failed: the audit key of owner does not match its signature by owner (it was changed in the file)");
    assert_eq!((env.dump(), env.audit_dump()), before);
}
