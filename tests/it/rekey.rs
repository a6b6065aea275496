//! `vault passwd --rekey`: an identity's new key pair, and the old
//! passphrase with an old copy of the file reaching nothing written after.
//! The honest path for the root, an admin and a member (a teammate's clone
//! and a CI token pinned to the root's old key go on working), the old
//! passphrase refused, a use-only secret re-wrapped by its manager's next
//! commit, and what the command refuses. The attacks are in
//! `rekey_attacks.rs`, a rekey merged with git in `rekey_git.rs`; both
//! use the helpers here.

use std::path::{Path, PathBuf};

use crate::support::*;

pub(crate) const BOB: &str = "bob's own passphrase";
const WRONG_PASSPHRASE_HINT: &str = "try again; a wrong passphrase changes nothing";

/// The owner (root), carol (an admin), bob (a member) and ci (a token
/// carrying the root's pin). A is the owner's, managed by carol, used by
/// bob and ci; C is carol's own; B is bob's own.
pub(crate) fn team() -> (Env, String) {
    let env = Env::init();
    add_person(&env, "bob", BOB, false);
    add_person(&env, "carol", "carol's own passphrase", true);
    let token = crate::gitmerge::machine(&env, "ci");
    env.add("A", "value-of-a-1");
    env.owner_runs(&["grant", "A", "--to", "bob"]);
    env.owner_runs(&["grant", "A", "--to", "ci"]);
    env.owner_runs(&["grant", "A", "--to", "carol", "--manage"]);
    as_who(&env, "carol", "carol-passphrase", &["add", "C"])
        .stdin("value-of-c-1")
        .run()
        .success();
    as_who(&env, "bob", "bob-passphrase", &["add", "B"])
        .stdin("value-of-b-1")
        .run()
        .success();
    (env, token)
}

/// Adds the person `name` (an admin if `admin`), whose passphrase is in
/// the file `NAME-passphrase`.
pub(crate) fn add_person(env: &Env, name: &str, passphrase: &str, admin: bool) {
    let file = write(env, &format!("{name}-passphrase"), passphrase);
    let mut args = vec!["identity", "add", name, "--new-passphrase-file"];
    if admin {
        args.insert(3, "--admin");
    }
    env.vault(&args).arg(file).passphrase().run().success();
}

pub(crate) fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let path = env.path().join(name);
    std::fs::write(&path, format!("{text}\n")).unwrap();
    path
}

/// `vault --as WHO ARGS`, unlocked by the passphrase in the file `file`.
pub(crate) fn as_who(env: &Env, who: &str, file: &str, args: &[&str]) -> Run {
    let mut line = vec!["--as", who];
    line.extend(args);
    env.vault(&line)
        .env("VAULT_PASSPHRASE_FILE", env.path().join(file))
}

/// `WHO passwd --rekey`, from the passphrase in `old` to `new`.
pub(crate) fn rekey(env: &Env, who: &str, old: &str, new: &str) -> Output {
    let new_file = write(env, &format!("{new}-file"), new);
    as_who(
        env,
        who,
        old,
        &["passwd", "--rekey", "--new-passphrase-file"],
    )
    .arg(new_file)
    .run()
    .success()
}

/// What `printenv NAMES` shows to `who`, unlocked by the file `file`.
pub(crate) fn sees(env: &Env, who: &str, file: &str, names: &[&str]) -> String {
    let mut args = vec!["exec", "--mask", "never", "--", "printenv"];
    args.extend(names);
    as_who(env, who, file, &args).run().success().stdout
}

/// A clone of its own: another data directory, so another trust state.
pub(crate) fn clone_dir(env: &Env, name: &str) -> PathBuf {
    env.path().join(name)
}

fn root_line(data: &Path) -> String {
    let dir = data.join("vault").join("trust");
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none() {
            let text = std::fs::read_to_string(path).unwrap();
            lines.extend(
                text.lines()
                    .filter(|l| l.starts_with("root "))
                    .map(String::from),
            );
        }
    }
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines.remove(0)
}

#[test]
fn the_root_an_admin_and_a_member_rekey_and_the_team_goes_on() {
    let (env, token) = team();
    let teammate = clone_dir(&env, "teammate");
    // The teammate's clone pins the root's first key.
    assert_eq!(
        sees_in(&env, &teammate, "bob", "bob-passphrase", "A"),
        "value-of-a-1\n"
    );
    let old_pin = root_line(&teammate);

    let out = rekey(&env, "owner", "passphrase", "owner-2");
    assert_eq!(
        out.stdout,
        format!(
            "{}signed again: 1 secret, 3 certificates\n\
             an old copy of the file still opens the current values of these until they are rotated: A\n",
            new_keys(&env, "owner")
        )
    );
    // carol certifies erin, whom her rekey certifies again.
    let erin = as_who(
        &env,
        "carol",
        "carol-passphrase",
        &["identity", "add", "erin", "--token"],
    )
    .run()
    .success()
    .stdout;
    as_who(
        &env,
        "carol",
        "carol-passphrase",
        &["grant", "C", "--to", "erin"],
    )
    .run()
    .success();
    let out = rekey(&env, "carol", "carol-passphrase", "carol-2");
    assert_eq!(
        out.stdout,
        format!(
            "{}signed again: 2 secrets, 1 certificate\n\
             an old copy of the file still opens the current values of these until they are rotated: A, C\n",
            new_keys(&env, "carol")
        )
    );
    let out = rekey(&env, "bob", "bob-passphrase", "bob-2");
    assert_eq!(
        out.stdout,
        format!(
            "{}signed again: 1 secret, 0 certificates\n\
             an old copy of the file still opens the current values of these until they are rotated: B\n\
             still wrapped for the old key (a manager's next rotate of these re-wraps them for the new key): A\n",
            new_keys(&env, "bob")
        )
    );

    // Everyone reads, writes and grants with the new passphrases.
    assert_eq!(
        sees(&env, "owner", "owner-2-file", &["A"]),
        "value-of-a-1\n"
    );
    assert_eq!(
        sees(&env, "carol", "carol-2-file", &["A", "C"]),
        "value-of-a-1\nvalue-of-c-1\n"
    );
    assert_eq!(
        sees(&env, "bob", "bob-2-file", &["A", "B"]),
        "value-of-a-1\nvalue-of-b-1\n"
    );
    as_who(&env, "carol", "carol-2-file", &["rotate", "A"])
        .stdin("value-of-a-2")
        .run()
        .success();
    as_who(
        &env,
        "carol",
        "carol-2-file",
        &["grant", "C", "--to", "bob"],
    )
    .run()
    .success();
    as_who(&env, "bob", "bob-2-file", &["grant", "B", "--to", "carol"])
        .run()
        .success();
    as_who(
        &env,
        "owner",
        "owner-2-file",
        &["identity", "add", "dave", "--token"],
    )
    .run()
    .success();
    assert_eq!(
        sees(&env, "bob", "bob-2-file", &["A", "B", "C"]),
        "value-of-a-2\nvalue-of-b-1\nvalue-of-c-1\n"
    );
    assert_eq!(
        sees(&env, "carol", "carol-2-file", &["B"]),
        "value-of-b-1\n"
    );
    as_who(&env, "owner", "owner-2-file", &["list"])
        .run()
        .success();
    as_who(&env, "owner", "owner-2-file", &["audit", "verify"])
        .run()
        .success();
    let out = env.vault(&["audit", "--json"]).run().success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rekeys: Vec<&str> = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "rekey")
        .map(|e| e["identity"].as_str().unwrap())
        .collect();
    assert_eq!(rekeys, ["owner", "carol", "bob"]);

    // The teammate's clone pinned the root's old key: it is told so, and
    // its next command moves the pin forward to the root's new key.
    let out = env
        .vault(&["trust"])
        .env("XDG_DATA_HOME", &teammate)
        .run()
        .success();
    assert!(
        out.stdout.contains(", an earlier key of this root (it rekeyed since): the next command moves the pin forward\n"),
        "{out:?}"
    );
    assert_eq!(
        sees_in(&env, &teammate, "bob", "bob-2-file", "A"),
        "value-of-a-2\n"
    );
    let fresh = clone_dir(&env, "fresh");
    assert_eq!(
        sees_in(&env, &fresh, "owner", "owner-2-file", "A"),
        "value-of-a-2\n"
    );
    assert_ne!(root_line(&teammate), old_pin);
    assert_eq!(root_line(&teammate), root_line(&fresh));

    let out = env
        .vault(&["exec", "--mask", "never", "--", "printenv", "C"])
        .env("VAULT_ACCESS_TOKEN", erin.trim())
        .run()
        .success();
    assert_eq!(out.stdout, "value-of-c-1\n");

    // A CI token carries the root's old pin: a fresh clone takes it.
    let out = env
        .vault(&["exec", "--mask", "never", "--", "printenv", "A"])
        .env("VAULT_ACCESS_TOKEN", &token)
        .env("XDG_DATA_HOME", clone_dir(&env, "ci"))
        .run()
        .success();
    assert_eq!(out.stdout, "value-of-a-2\n");
}

/// The first line of `passwd --rekey`: `who`'s keys, as `identity list`
/// shows them now.
fn new_keys(env: &Env, who: &str) -> String {
    let out = env.vault(&["identity", "list", "--json"]).run().success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let me = json["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == who)
        .unwrap();
    format!(
        "gave {who} a new key pair and passphrase: receives with {}, signs with {}\n",
        me["key"].as_str().unwrap(),
        me["signing_key"].as_str().unwrap()
    )
}

/// `printenv NAME` as `who` in the clone whose data directory is `data`.
pub(crate) fn sees_in(env: &Env, data: &Path, who: &str, file: &str, name: &str) -> String {
    as_who(
        env,
        who,
        file,
        &["exec", "--mask", "never", "--", "printenv", name],
    )
    .env("XDG_DATA_HOME", data)
    .run()
    .success()
    .stdout
}

#[test]
fn the_old_passphrase_no_longer_unlocks() {
    let (env, _) = team();
    rekey(&env, "bob", "bob-passphrase", "bob-2");
    env.refuses(
        as_who(
            &env,
            "bob",
            "bob-passphrase",
            &["exec", "--", "printenv", "A"],
        ),
        125,
        "wrong passphrase for identity bob",
        Some(WRONG_PASSPHRASE_HINT),
    );
    env.refuses(
        as_who(&env, "bob", "bob-passphrase", &["passwd", "--rekey"]),
        2,
        "wrong passphrase for identity bob",
        Some(WRONG_PASSPHRASE_HINT),
    );
    assert_eq!(sees(&env, "bob", "bob-2-file", &["B"]), "value-of-b-1\n");
}

#[test]
fn a_use_only_secret_opens_with_the_retired_key_until_its_manager_wraps_it_again() {
    let (env, _) = team();
    env.add("D", "value-of-d-1");
    env.owner_runs(&["grant", "D", "--to", "bob"]);
    rekey(&env, "bob", "bob-passphrase", "bob-2");
    assert!(!env
        .blob("identities", "retired_keys", "name = 'bob'")
        .is_empty());
    // The retired key still opens what the owner wrapped for the old one.
    assert_eq!(
        sees(&env, "bob", "bob-2-file", &["A", "D"]),
        "value-of-a-1\nvalue-of-d-1\n"
    );
    // A second rekey keeps both retired keys.
    rekey(&env, "bob", "bob-2-file", "bob-3");
    assert_eq!(
        sees(&env, "bob", "bob-3-file", &["A", "D"]),
        "value-of-a-1\nvalue-of-d-1\n"
    );
    // A rotation and a grant by a manager wrap them for the new key.
    env.vault(&["rotate", "A"])
        .passphrase()
        .stdin("value-of-a-2")
        .run()
        .success();
    env.owner_runs(&["grant", "D", "--to", "carol"]);
    env.set_blob("identities", "retired_keys", "name = 'bob'", b"");
    assert_eq!(
        sees(&env, "bob", "bob-3-file", &["A", "D"]),
        "value-of-a-2\nvalue-of-d-1\n"
    );
}

#[test]
fn a_machine_identity_is_told_what_to_do_instead() {
    let (env, token) = team();
    let new_file = write(&env, "new", "a new passphrase");
    env.refuses(
        env.vault(&["passwd", "--rekey", "--new-passphrase-file"])
            .arg(new_file)
            .env("VAULT_ACCESS_TOKEN", &token),
        2,
        "identity ci unlocks with an access token: `passwd --rekey` is for people; for new keys and a new token, an admin removes it (`vault identity remove ci`) and adds it again",
        None,
    );
}

#[test]
fn a_row_the_identity_signed_but_may_not_write_stops_the_rekey() {
    let (env, _) = team();
    // A's row claims bob as its signer, who only uses A.
    let signer = env.blob("secrets", "signer", "name = 'A'");
    env.sql(
        "UPDATE secrets SET signer = (SELECT id FROM identities WHERE name = 'bob') \
         WHERE name = 'A'",
    );
    let new_file = write(&env, "bob-2-file", "bob's second passphrase");
    let before = env.audit_dump();
    env.refuses(
        as_who(&env, "bob", "bob-passphrase", &["passwd", "--rekey", "--new-passphrase-file"])
            .arg(new_file),
        2,
        "trust check failed: the value of secret A was written by bob, who may not write it",
        Some("someone changed the vault file outside vault: restore it from a copy you trust (`git log -p` on the file shows who changed it)"),
    );
    assert_eq!(env.audit_dump(), before);
    // Nothing changed: with A's signer put back, bob's keys are the old ones.
    env.set_blob("secrets", "signer", "name = 'A'", &signer);
    assert_eq!(
        sees(&env, "bob", "bob-passphrase", &["A", "B"]),
        "value-of-a-1\nvalue-of-b-1\n"
    );
}
