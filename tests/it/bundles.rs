//! Exec bundles (format 9): an admin's writes seal and sign, for each
//! grantee, what it holds, and a clone with no trust state yet (a fresh
//! CI checkout) takes its grants from them instead of verifying every
//! row. Attacked the way someone who can write the file would: rows and
//! bundles edited with SQL, a bundle forged by its own grantee (who can
//! compute the seal's key), an older bundle put back over newer rows, an
//! older copy of the whole file put back, and a file of the format before.

use crate::statements::{count, fresh, team};
use crate::support::*;

const TRUST_HINT: &str = "someone changed the vault file outside vault: restore it from a copy you trust (`git log -p` on the file shows who changed it)";

/// What ci's exec on a fresh clone hands `name`.
fn ci_sees(env: &Env, token: &str, name: &str) -> String {
    fresh(env, &["exec", "--mask", "never", "--", "printenv", name])
        .env("VAULT_ACCESS_TOKEN", token)
        .run()
        .success()
        .stdout
}

/// Whether ci's fresh exec takes its grants from a bundle: run against a
/// copy of the file whose every sealed value is zeroed, which the rows'
/// path refuses and a bundle never reads.
fn bundled(env: &Env, token: &str) -> bool {
    let copy = env.path().join("probe.db");
    std::fs::copy(&env.vault, &copy).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    conn.execute_batch("UPDATE secrets SET sealed_value = zeroblob(length(sealed_value))")
        .unwrap();
    drop(conn);
    let out = fresh(env, &["exec", "--mask", "never", "--", "true"])
        .env("VAULT_ACCESS_TOKEN", token)
        .env("VAULT_PATH", &copy)
        .run();
    std::fs::remove_file(&copy).unwrap();
    out.code == Some(0)
}

#[test]
fn an_admins_writes_seal_a_bundle_per_grantee_and_a_fresh_clone_execs_from_it() {
    let (env, token) = team();
    let for_ci = "SELECT count(*) FROM bundles b JOIN identities w ON w.id = b.writer \
                  JOIN identities g ON g.id = b.grantee \
                  WHERE w.name = 'owner' AND g.name = 'ci' AND length(b.sig) = 64";
    assert_eq!(count(&env, for_ci), 1);
    assert!(bundled(&env, &token));
    assert_eq!(ci_sees(&env, &token, "A"), "value-of-a\n");
    assert_eq!(ci_sees(&env, &token, "B"), "value-of-b\n");
    // A rotation renews it: the new value, from the bundle.
    env.rotate("A", "value-of-a-2");
    assert!(bundled(&env, &token));
    assert_eq!(ci_sees(&env, &token, "A"), "value-of-a-2\n");
    // A revoke takes the secret out of ci's bundle; removing ci drops it.
    env.owner_runs(&["revoke", "B", "--from", "ci"]);
    assert!(bundled(&env, &token));
    fresh(&env, &["exec", "--only", "B", "--", "true"])
        .env("VAULT_ACCESS_TOKEN", &token)
        .run()
        .code(125);
    env.owner_runs(&["identity", "remove", "ci", "--yes"]);
    assert_eq!(count(&env, for_ci), 0);
}

#[test]
fn a_row_edited_in_the_file_reaches_no_one_and_a_clone_with_state_refuses_it() {
    let (env, token) = team();
    let own = |env: &Env| {
        env.vault(&["exec", "--mask", "never", "--", "printenv", "A"])
            .passphrase()
            .run()
            .success()
            .stdout
    };
    assert_eq!(own(&env), "value-of-a\n");
    env.sql("UPDATE secrets SET sealed_value = zeroblob(length(sealed_value)) WHERE name = 'A'");
    let before = env.dump();
    // The fresh clone hands on what the admin sealed, not the row.
    assert_eq!(ci_sees(&env, &token, "A"), "value-of-a\n");
    // The owner's clone has pinned the root: it reads the rows, and says so.
    let run = env
        .vault(&["exec", "--mask", "never", "--", "printenv", "A"])
        .passphrase();
    env.refuses(
        run,
        125,
        "trust check failed: the value of secret A does not match its signature by owner (it was changed in the file)",
        Some(TRUST_HINT),
    );
    // With no bundle, a fresh clone reads the rows too.
    env.sql("DELETE FROM bundles");
    let run = fresh(&env, &["exec", "--mask", "never", "--", "printenv", "A"])
        .env("VAULT_ACCESS_TOKEN", &token);
    env.refuses(
        run,
        125,
        "trust check failed: the value of secret A does not match its signature by owner (it was changed in the file)",
        Some(TRUST_HINT),
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn a_bundle_edited_in_the_file_sends_exec_to_the_rows() {
    for edit in [
        "UPDATE bundles SET sealed = CAST(substr(sealed, 1, 30) || X'00' || substr(sealed, 32) AS BLOB)",
        "UPDATE bundles SET sig = zeroblob(64)",
        "UPDATE bundles SET sealed = substr(sealed, 1, length(sealed) - 1)",
        "UPDATE bundles SET writer = (SELECT id FROM identities WHERE name = 'ci')",
    ] {
        let (env, token) = team();
        env.sql(edit);
        assert!(!bundled(&env, &token), "{edit}");
        assert_eq!(ci_sees(&env, &token, "A"), "value-of-a\n", "{edit}");
    }
}

/// ci's own code: it can compute the key its bundle from the owner is
/// sealed under (the same X25519 as the owner's), so it can seal a bundle
/// of its choosing for itself. It cannot sign as the owner.
#[test]
fn a_bundle_its_grantee_forged_is_not_used() {
    use vault::crypto::{self, Aad, Signer25519};
    let (env, token) = team();
    let (ci_secret, vault_id) = env.token_secret(&token);
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    let id_of = |name: &str| -> [u8; 16] {
        let id: Vec<u8> = conn
            .query_row("SELECT id FROM identities WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .unwrap();
        id.try_into().unwrap()
    };
    let (owner, ci) = (id_of("owner"), id_of("ci"));
    let owner_public: [u8; 32] = conn
        .query_row(
            "SELECT public_key FROM identities WHERE name = 'owner'",
            [],
            |r| r.get::<_, Vec<u8>>(0),
        )
        .unwrap()
        .try_into()
        .unwrap();
    let (sealed, sig): (Vec<u8>, Vec<u8>) = conn
        .query_row(
            "SELECT sealed, sig FROM bundles WHERE writer = ?1 AND grantee = ?2",
            [&owner[..], &ci[..]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let wrapping = crypto::wrapping_key(
        &ci_secret,
        &owner_public,
        &owner_public,
        &ci_secret.public(),
        &vault_id,
    )
    .unwrap();
    let key = crypto::bundle_key(&wrapping, &vault_id);
    let aad = |writer: &[u8; 16]| {
        Aad::new("vault exec bundle v1")
            .with(&vault_id)
            .with(writer)
            .with(&ci)
    };
    // The real bundle opens with it: the forgery below is a faithful one.
    let plain = crypto::open(&key, &aad(&owner), &sealed).unwrap();
    let needle = b"value-of-a";
    let at = plain
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let mut forged = plain.to_vec();
    forged[at..at + needle.len()].copy_from_slice(b"FORGED-VAL");
    let forged = crypto::seal(&key, &aad(&owner), &forged);
    let ci_signs = |writer: &[u8; 16], sealed: &[u8]| {
        let input = Aad::new("exec-bundle")
            .with(&vault_id)
            .with(writer)
            .with(&ci)
            .with(&crypto::bundle_digest(sealed));
        Signer25519::derive(&ci_secret, &vault_id)
            .sign(&input)
            .to_vec()
    };
    drop(conn);
    // Each write on its own connection, closed: the file holds it whole.
    let put = |writer: &[u8; 16], sealed: &[u8], sig: &[u8]| {
        let conn = rusqlite::Connection::open(&env.vault).unwrap();
        conn.execute_batch("DELETE FROM bundles").unwrap();
        conn.execute(
            "INSERT INTO bundles (writer, grantee, sealed, sig) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![&writer[..], &ci[..], sealed, sig],
        )
        .unwrap();
    };
    // The owner's signature over the bundle it made, kept; signed by ci
    // as if by the owner; and as ci's own bundle (ci is no admin).
    let ci_own = {
        let wrapping_self = crypto::wrapping_key(
            &ci_secret,
            &ci_secret.public(),
            &ci_secret.public(),
            &ci_secret.public(),
            &vault_id,
        )
        .unwrap();
        crypto::seal(
            &crypto::bundle_key(&wrapping_self, &vault_id),
            &aad(&ci),
            &plain,
        )
    };
    for (writer, sealed, sig, what) in [
        (
            owner,
            forged.clone(),
            sig.clone(),
            "the owner's old signature",
        ),
        (
            owner,
            forged.clone(),
            ci_signs(&owner, &forged),
            "signed by ci",
        ),
        (
            ci,
            ci_own.clone(),
            ci_signs(&ci, &ci_own),
            "ci's own bundle",
        ),
    ] {
        put(&writer, &sealed, &sig);
        assert!(!bundled(&env, &token), "{what}");
        assert_eq!(ci_sees(&env, &token, "A"), "value-of-a\n", "{what}");
    }
}

#[test]
fn an_older_bundle_put_back_over_newer_rows_is_not_used() {
    let (env, token) = team();
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    type Stored = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);
    let rows: Vec<Stored> = conn
        .prepare("SELECT writer, grantee, sealed, sig FROM bundles")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(conn);
    assert_eq!(rows.len(), 2);
    env.rotate("A", "value-of-a-2");
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    for (writer, grantee, sealed, sig) in &rows {
        conn.execute(
            "UPDATE bundles SET sealed = ?3, sig = ?4 WHERE writer = ?1 AND grantee = ?2",
            rusqlite::params![writer, grantee, sealed, sig],
        )
        .unwrap();
    }
    drop(conn);
    assert!(!bundled(&env, &token));
    assert_eq!(ci_sees(&env, &token, "A"), "value-of-a-2\n");
}

#[test]
fn an_older_copy_of_the_file_put_back_is_refused_by_a_clone_that_saw_the_newer() {
    let (env, token) = team();
    let old = std::fs::read(&env.vault).unwrap();
    let (_, _, was, _, _) = env.secret_state("A");
    env.rotate("A", "value-of-a-2");
    let (_, _, now, _, _) = env.secret_state("A");
    // A clone's first exec, bundled, records what it saw.
    let clone = env.path().join("ci-clone");
    let ci = |env: &Env| {
        env.vault(&["exec", "--mask", "never", "--", "printenv", "A"])
            .env("VAULT_ACCESS_TOKEN", &token)
            .env("XDG_DATA_HOME", &clone)
    };
    assert!(bundled(&env, &token));
    ci(&env).run().success().stdout_is("value-of-a-2\n");
    std::fs::write(&env.vault, &old).unwrap();
    let before = env.dump();
    env.refuses(
        ci(&env),
        125,
        &format!("trust check failed: secret A (generation {was} here, {now} seen before) went back since this clone last saw it (an older copy of the file was put back)"),
        Some("if you put an older copy back on purpose (a backup), run `vault trust accept`"),
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn a_write_by_a_manager_who_is_no_admin_sends_exec_to_the_rows_until_an_admin_writes() {
    let (env, token) = team();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&env.passphrase_file)
        .passphrase()
        .run()
        .success();
    env.owner_runs(&["grant", "A", "--to", "bob", "--manage"]);
    env.vault(&["--as", "bob", "rotate", "A"])
        .passphrase()
        .stdin("value-of-a-bob")
        .run()
        .success();
    assert!(!bundled(&env, &token));
    assert_eq!(ci_sees(&env, &token, "A"), "value-of-a-bob\n");
    // The owner's next write renews every bundle it seals, from the rows
    // it checks as any write does.
    env.rotate("B", "value-of-b-2");
    assert!(bundled(&env, &token));
    assert_eq!(ci_sees(&env, &token, "A"), "value-of-a-bob\n");
    assert_eq!(ci_sees(&env, &token, "B"), "value-of-b-2\n");
}

#[test]
fn a_format_8_file_gains_bundles_at_its_owners_next_write() {
    let (env, token) = team();
    env.sql("DROP TABLE bundles; DROP INDEX access_marks; PRAGMA user_version = 8;");
    assert_eq!(ci_sees(&env, &token, "A"), "value-of-a\n");
    assert_eq!(count(&env, "PRAGMA user_version"), 9);
    assert_eq!(count(&env, "SELECT count(*) FROM bundles"), 0);
    env.rotate("A", "value-of-a-2");
    assert!(bundled(&env, &token));
    assert_eq!(ci_sees(&env, &token, "A"), "value-of-a-2\n");
    assert_eq!(ci_sees(&env, &token, "B"), "value-of-b\n");
}
