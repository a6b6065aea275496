//! Statements (format 8): each write signs one statement over the digests
//! of the rows it signed, and a fresh clone takes a row a verified
//! statement of its signer lists without checking the row's own
//! signature. Rows whose own signatures are garbage show that statements
//! vouch (in both forms of entry); the rest pin the behaviour: honest
//! files verify, a statement edited in the
//! file only sends the reader back to the rows' own signatures, a forged
//! row is refused exactly as before whatever statement names it, unused
//! statements go, merges keep both sides' statements, and a format-7 file
//! works until its owner's next write adds them.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::gitmerge::{git, machine, repo};
use crate::support::*;

const TRUST_HINT: &str = "someone changed the vault file outside vault: restore it from a copy you trust (`git log -p` on the file shows who changed it)";

/// `vault ARGS` on a clone that has verified nothing yet (its own
/// XDG_DATA_HOME): the path that checks every row, unless an admin's
/// bundle covers the grants (`bundles.rs` here, `vault/bundles/`).
pub fn fresh(env: &Env, args: &[&str]) -> Run {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    let n = CLONES.fetch_add(1, Ordering::Relaxed);
    env.vault(args)
        .env("XDG_DATA_HOME", env.path().join(format!("clone-{n}")))
}

/// What the child of a fresh clone's exec sees in `name`.
fn fresh_value(env: &Env, run: &impl Fn(Run) -> Run, name: &str) -> String {
    let args = ["exec", "--mask", "never", "--", "printenv", name];
    run(fresh(env, &args)).run().success().stdout
}

/// The owner, and ci (a machine with a token) granted A and B for use.
pub fn team() -> (Env, String) {
    let env = Env::init();
    let token = env.add_machine("ci");
    env.add("A", "value-of-a");
    env.add("B", "value-of-b");
    env.owner_runs(&["grant", "A", "B", "--to", "ci"]);
    (env, token)
}

pub fn count(env: &Env, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Runs `vault git setup` in the repository `root`; returns what commits
/// everything there with a message.
fn set_up_git<'a>(env: &'a Env, root: &'a std::path::Path) -> impl Fn(&str) + 'a {
    env.vault(&["git", "setup"])
        .current_dir(root)
        .run()
        .success();
    move |message| {
        git(env, root, &["add", "-A"]);
        git(env, root, &["commit", "-q", "-m", message]);
    }
}

const UNREFERENCED: &str = "SELECT count(*) FROM statements WHERE id NOT IN \
                            (SELECT stmt FROM secrets UNION SELECT stmt FROM access)";

#[test]
fn a_fresh_clone_execs_from_the_statements_of_an_honest_file() {
    let (env, token) = team();
    // A secret added alone: its access row is signed before the
    // transaction that writes it, and vouched for all the same.
    env.add("C", "value-of-c");
    for table in ["secrets", "access"] {
        let unnamed = format!("SELECT count(*) FROM {table} WHERE length(stmt) = 0");
        assert_eq!(count(&env, &unnamed), 0, "{table}");
        let missing =
            format!("SELECT count(*) FROM {table} WHERE stmt NOT IN (SELECT id FROM statements)");
        assert_eq!(count(&env, &missing), 0, "{table}");
    }
    assert_eq!(count(&env, UNREFERENCED), 0);
    // The rows, not an admin's bundle (`vault/bundles/`).
    env.sql("DELETE FROM bundles");
    let owner = |r: Run| r.passphrase();
    assert_eq!(fresh_value(&env, &owner, "A"), "value-of-a\n");
    let ci = |r: Run| r.env("VAULT_ACCESS_TOKEN", &token);
    assert_eq!(fresh_value(&env, &ci, "B"), "value-of-b\n");
}

#[test]
fn an_edited_statement_sends_the_reader_back_to_the_rows_own_signatures() {
    for edit in [
        "UPDATE statements SET sig = zeroblob(64)",
        "UPDATE statements SET body = \
         CAST(substr(body, 1, 1) || randomblob(32) || substr(body, 34) AS BLOB)",
        "UPDATE statements SET body = substr(body, 1, length(body) - 1)",
        "UPDATE statements SET signer = randomblob(16)",
        "DELETE FROM statements",
        "UPDATE secrets SET stmt = randomblob(16); UPDATE access SET stmt = X''",
    ] {
        let (env, token) = team();
        // The rows, not an admin's bundle (`vault/bundles/`).
        env.sql(&format!("{edit}; DELETE FROM bundles"));
        let ci = |r: Run| r.env("VAULT_ACCESS_TOKEN", &token);
        assert_eq!(fresh_value(&env, &ci, "A"), "value-of-a\n", "{edit}");
        let owner = |r: Run| r.passphrase();
        assert_eq!(fresh_value(&env, &owner, "B"), "value-of-b\n", "{edit}");
    }
}

#[test]
fn an_edited_row_is_refused_though_its_statement_is_valid() {
    let (env, token) = team();
    env.sql("UPDATE secrets SET version = version + 1 WHERE name = 'A'");
    bundled_then_rows(&env, &token);
    let run = fresh(&env, &["exec", "--mask", "never", "--", "printenv", "A"])
        .env("VAULT_ACCESS_TOKEN", &token);
    refuses_as_changed(&env, run);
}

/// ci's modified code writes a value of its own for A (sealed under a key
/// of its own: the trust check refuses it before anything is opened),
/// claiming `row_signer` wrote it, with a garbage signature on the row and
/// a statement listing the row's input, signed by `statement_by` with
/// ci's key (ci's own, or another identity's id beside it), or by a key
/// of no identity (`None`).
///
/// The statement lists the row in `entry`'s form: a BLAKE2b entry (kind
/// byte 0x81) over the input with the sealed value whole, as writes make
/// them, or a SHA-256 entry (kind 1) over the input as the row's own
/// signature covers it, as the first statements did.
fn forge(env: &Env, token: &str, row_signer: &str, statement_by: Option<&str>, entry: Entry) {
    use vault::crypto::{self, Aad, IdentitySecret, Signer25519};
    let (ci_secret, vault_id) = env.token_secret(token);
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    let (_, version, generation, _, _) = env.secret_state("A");
    let sealed = vec![7u8; 64];
    let input = env.secret_row_input(&vault_id, "A", (version, generation));
    let (key, signer_id) = match statement_by {
        Some(name) => {
            let id: Vec<u8> = conn
                .query_row("SELECT id FROM identities WHERE name = ?1", [name], |r| {
                    r.get(0)
                })
                .unwrap();
            (ci_secret, id)
        }
        None => (IdentitySecret::generate(), vec![9u8; 16]),
    };
    let body = match entry {
        Entry::Blake2b => {
            let listed = input.with(&sealed);
            [&[0x81][..], &crypto::statement_digest(listed.as_bytes())].concat()
        }
        Entry::Sha256 => {
            let signed = input.with(&crypto::field_digest(&sealed));
            [&[1][..], &crypto::field_digest(signed.as_bytes())].concat()
        }
    };
    let id = [5u8; 16];
    let statement = Aad::new("statement").with(&vault_id).with(&id).with(&body);
    let sig = Signer25519::derive(&key, &vault_id).sign(&statement);
    conn.execute(
        "INSERT INTO statements (id, signer, body, sig) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![&id[..], signer_id, body, sig.to_vec()],
    )
    .unwrap();
    conn.execute(
        "UPDATE secrets SET version = ?1, generation = ?2, sealed_value = ?3, \
         signer = (SELECT id FROM identities WHERE name = ?4), sig = zeroblob(64), stmt = ?5, \
         fingerprints = X'' \
         WHERE name = 'A'",
        rusqlite::params![version, generation, sealed, row_signer, &id[..]],
    )
    .unwrap();
}

/// The two forms of a statement's entries.
#[derive(Clone, Copy, Debug)]
enum Entry {
    Blake2b,
    Sha256,
}

#[test]
fn a_statement_by_an_identity_that_may_not_write_vouches_for_nothing() {
    for entry in [Entry::Blake2b, Entry::Sha256] {
        let (env, token) = team();
        // Claimed as ci's own row: refused as ci's per-row signature is.
        forge(&env, &token, "ci", Some("ci"), entry);
        bundled_then_rows(&env, &token);
        let run = fresh(&env, &["exec", "--mask", "never", "--", "printenv", "A"]).passphrase();
        env.refuses(
            run,
            125,
            "trust check failed: the value of secret A was written by ci, who may not write it",
            Some(TRUST_HINT),
        );
        // Claimed as the owner's: ci's statement does not speak for the owner.
        let (env, token) = team();
        forge(&env, &token, "owner", Some("ci"), entry);
        bundled_then_rows(&env, &token);
        let run = fresh(&env, &["exec", "--mask", "never", "--", "printenv", "A"]).passphrase();
        refuses_as_changed(&env, run);
    }
}

/// A writer's statement vouches for a row in either form of entry: with
/// the row's own signature garbage, the reader gets past the trust check
/// to the value, which does not open (the forged bytes are sealed under
/// no key). Without the statement the same row is refused by its
/// signature. Every honest row's own signature zeroed, a fresh clone still
/// execs from the statements the writes made.
#[test]
fn a_writers_statement_vouches_for_its_rows_in_either_form() {
    for entry in [Entry::Blake2b, Entry::Sha256] {
        let (env, token) = team();
        env.owner_runs(&["grant", "A", "--to", "ci", "--manage"]);
        forge(&env, &token, "ci", Some("ci"), entry);
        bundled_then_rows(&env, &token);
        let run = fresh(&env, &["exec", "--mask", "never", "--", "printenv", "A"])
            .env("VAULT_ACCESS_TOKEN", &token);
        let out = run.run().code(125);
        let first = out.stderr.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            "error: integrity check failed for secret A: the vault file was changed outside vault or is damaged",
            "{entry:?}"
        );
        env.sql("DELETE FROM statements WHERE id = X'05050505050505050505050505050505'");
        let run = fresh(&env, &["exec", "--mask", "never", "--", "printenv", "A"])
            .env("VAULT_ACCESS_TOKEN", &token);
        env.refuses(
            run,
            125,
            "trust check failed: the value of secret A does not match its signature by ci (it was changed in the file)",
            Some(TRUST_HINT),
        );
    }
    let (env, token) = team();
    env.sql(
        "UPDATE secrets SET sig = zeroblob(64); UPDATE access SET sig = zeroblob(64); \
         DELETE FROM bundles",
    );
    let ci = |r: Run| r.env("VAULT_ACCESS_TOKEN", &token);
    assert_eq!(fresh_value(&env, &ci, "A"), "value-of-a\n");
    let owner = |r: Run| r.passphrase();
    assert_eq!(fresh_value(&env, &owner, "B"), "value-of-b\n");
}

/// `run` is refused as a row whose own signature fails is, nothing lost.
fn refuses_as_changed(env: &Env, run: Run) {
    env.refuses(
        run,
        125,
        "trust check failed: the value of secret A does not match its signature by owner (it was changed in the file)",
        Some(TRUST_HINT),
    );
}

/// A fresh clone whose grants an admin's bundle covers hands on what the
/// admin sealed, whatever the rows now say (`vault/bundles/`): the
/// forged or edited row reaches no one. The statements are what the rows
/// are checked by when exec reads them, which the rest of the test makes
/// it do by dropping the bundles.
fn bundled_then_rows(env: &Env, token: &str) {
    let ci = |r: Run| r.env("VAULT_ACCESS_TOKEN", token);
    assert_eq!(fresh_value(env, &ci, "A"), "value-of-a\n");
    env.sql("DELETE FROM bundles");
}

#[test]
fn a_statement_by_a_key_of_no_identity_vouches_for_nothing() {
    let (env, token) = team();
    forge(&env, &token, "owner", None, Entry::Blake2b);
    bundled_then_rows(&env, &token);
    let run = fresh(&env, &["exec", "--mask", "never", "--", "printenv", "A"])
        .env("VAULT_ACCESS_TOKEN", &token);
    refuses_as_changed(&env, run);
}

#[test]
fn statements_no_row_names_are_deleted() {
    let (env, token) = team();
    for round in 1..=2 {
        for name in ["A", "B"] {
            env.rotate(name, &format!("{name}-{round}"));
        }
    }
    assert_eq!(count(&env, UNREFERENCED), 0);
    // The last rotation of each secret wrote its rows; the audit key rows
    // name no statement.
    assert_eq!(count(&env, "SELECT count(*) FROM statements"), 2);
    let ci = |r: Run| r.env("VAULT_ACCESS_TOKEN", &token);
    assert_eq!(fresh_value(&env, &ci, "A"), "A-2\n");
}

#[test]
fn a_merge_keeps_both_sides_statements_and_a_fresh_clone_verifies_it() {
    let (env, root) = repo();
    let ci = machine(&env, "ci");
    env.add("A", "A-1");
    env.add("B", "B-1");
    env.owner_runs(&["grant", "A", "B", "--to", "ci"]);
    let commit = set_up_git(&env, &root);
    commit("a vault");
    let stmt_of = |name: &str| env.blob("secrets", "stmt", &format!("name = '{name}'"));
    git(&env, &root, &["checkout", "-q", "-b", "a"]);
    env.rotate("A", "A-2");
    let from_a = stmt_of("A");
    commit("branch a");
    git(&env, &root, &["checkout", "-q", "main"]);
    env.rotate("B", "B-2");
    let from_main = stmt_of("B");
    commit("main");
    git(&env, &root, &["merge", "-q", "--no-edit", "a"]);
    assert_eq!(stmt_of("A"), from_a);
    assert_eq!(stmt_of("B"), from_main);
    for id in [&from_a, &from_main] {
        let filter = format!("id = X'{}'", hex::encode(id));
        assert_eq!(env.int("statements", "count(*)", &filter), 1);
    }
    assert_eq!(count(&env, UNREFERENCED), 0);
    let with_ci = |r: Run| r.env("VAULT_ACCESS_TOKEN", &ci);
    assert_eq!(fresh_value(&env, &with_ci, "A"), "A-2\n");
    assert_eq!(fresh_value(&env, &with_ci, "B"), "B-2\n");
}

#[test]
fn a_format_7_file_works_and_gains_statements_at_its_owners_next_write() {
    let (env, token) = team();
    env.sql(
        "DROP TABLE statements; ALTER TABLE secrets DROP COLUMN stmt; \
         ALTER TABLE access DROP COLUMN stmt; DROP TABLE bundles; DROP INDEX access_marks; PRAGMA user_version = 7;",
    );
    let ci = |r: Run| r.env("VAULT_ACCESS_TOKEN", &token);
    assert_eq!(fresh_value(&env, &ci, "A"), "value-of-a\n");
    assert_eq!(count(&env, "PRAGMA user_version"), 9);
    assert_eq!(count(&env, "SELECT count(*) FROM statements"), 0);
    env.rotate("A", "value-of-a-2");
    assert_eq!(count(&env, "SELECT count(*) FROM statements"), 1);
    assert_eq!(fresh_value(&env, &ci, "A"), "value-of-a-2\n");
    assert_eq!(fresh_value(&env, &ci, "B"), "value-of-b\n");
}

#[test]
fn a_statement_that_differs_between_the_branches_stops_the_merge_until_resolved() {
    let (env, root) = repo();
    env.add("A", "A-1");
    let commit = set_up_git(&env, &root);
    commit("base");
    let id = hex::encode(env.blob("secrets", "stmt", "name = 'A'"));
    git(&env, &root, &["checkout", "-q", "-b", "a"]);
    env.add("ONLY_A", "A-v1");
    env.sql("UPDATE statements SET sig = zeroblob(64) WHERE id = (SELECT stmt FROM secrets WHERE name = 'A')");
    commit("a");
    git(&env, &root, &["checkout", "-q", "main"]);
    env.add("ONLY_MAIN", "M-v1");
    commit("main");
    let out = crate::gitmerge::git_run(&env, &root, &["merge", "--no-edit", "a"]);
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "vault: cannot merge secrets/vault.db: 1 conflict\n  statement {id}: a statement with the same id differs on the two sides\n"
        )),
        "{stderr}"
    );
    env.vault(&["git", "resolve", &id, "--ours"])
        .current_dir(&root)
        .run()
        .success();
    git(&env, &root, &["add", "secrets/vault.db"]);
    git(&env, &root, &["commit", "-q", "--no-edit"]);
    assert_eq!(env.value_of("ONLY_A"), "A-v1");
    assert_eq!(fresh_value(&env, &|r: Run| r.passphrase(), "A"), "A-1\n");
}
