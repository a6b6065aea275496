//! The merge driver's rules, run directly as git would run it
//! (`vault git merge BASE OURS THEIRS PATH`) on copies of one vault, and
//! the text form git shows: readable, sorted, and free of any value or key
//! material (canary test). Bad input: two different vaults, files that are
//! not vaults.

use std::path::PathBuf;

use crate::gitmerge::{git, machine, repo};
use crate::support::{Env, Run};

/// A vault copied three times after `setup`: base, ours, theirs.
struct Three {
    env: Env,
    base: PathBuf,
    ours: PathBuf,
    theirs: PathBuf,
}

impl Three {
    fn new(setup: impl FnOnce(&Env)) -> Three {
        let env = Env::init();
        setup(&env);
        let dir = env.path().join("sides");
        std::fs::create_dir(&dir).unwrap();
        let copy = |name: &str| {
            let path = dir.join(name);
            std::fs::copy(&env.vault, &path).unwrap();
            path
        };
        Three {
            base: copy("base"),
            ours: copy("ours"),
            theirs: copy("theirs"),
            env,
        }
    }

    /// `vault ARGS` on one side's file, as the owner.
    fn on(&self, side: &PathBuf, args: &[&str]) -> Run {
        self.env.vault(args).env("VAULT_PATH", side).passphrase()
    }

    fn merge(&self) -> crate::support::Output {
        self.env
            .vault(&["git", "merge"])
            .arg(&self.base)
            .arg(&self.ours)
            .arg(&self.theirs)
            .arg("secrets/vault.db")
            .run()
    }

    /// The value the owner sees for `name` in the merged file (ours).
    fn value(&self, name: &str) -> String {
        let out = self
            .on(
                &self.ours,
                &[
                    "exec", "--mask", "never", "--only", name, "--", "printenv", name,
                ],
            )
            .run()
            .success();
        out.stdout.trim_end().to_owned()
    }

    #[track_caller]
    fn conflicts(&self, lines: &str) {
        let before = std::fs::read(&self.ours).unwrap();
        let out = self.merge().code(1);
        assert!(
            out.stderr
                .starts_with(&format!("vault: cannot merge secrets/vault.db: {lines}")),
            "{out:#?}"
        );
        assert_eq!(std::fs::read(&self.ours).unwrap(), before, "ours changed");
    }
}

fn two(a: &'static str, b: &'static str) -> impl FnOnce(&Env) {
    move |env: &Env| {
        env.add(a, &format!("{a}-v1"));
        env.add(b, &format!("{b}-v1"));
    }
}

#[test]
fn a_grant_on_one_side_and_a_rotation_on_the_other_conflict() {
    let t = Three::new(|env| {
        env.add("S", "S-v1");
        machine(env, "ci");
    });
    t.on(&t.ours, &["grant", "S", "--to", "ci"]).run().success();
    t.on(&t.theirs, &["rotate", "S"])
        .stdin("S-v2")
        .run()
        .success();
    t.conflicts("1 conflict\n  secret S: rotated in theirs, access granted or changed in ours\n");
}

#[test]
fn renamed_to_two_names_conflicts_and_one_rename_merges() {
    let t = Three::new(two("A", "B"));
    t.on(&t.ours, &["rename", "A", "A_OURS"]).run().success();
    t.on(&t.theirs, &["rename", "A", "A_THEIRS"])
        .run()
        .success();
    t.on(&t.theirs, &["rename", "B", "B2"]).run().success();
    t.conflicts(
        "1 conflict\n  secret A_OURS: renamed to A_OURS in ours and to A_THEIRS in theirs\n",
    );

    let t = Three::new(two("A", "B"));
    t.on(&t.ours, &["rename", "A", "A2"]).run().success();
    t.on(&t.theirs, &["rotate", "B"])
        .stdin("B-v2")
        .run()
        .success();
    t.merge().success();
    assert_eq!(t.value("A2"), "A-v1");
    assert_eq!(t.value("B"), "B-v2");
}

#[test]
fn a_rename_on_one_side_and_a_rotation_on_the_other_conflict() {
    let t = Three::new(two("A", "B"));
    t.on(&t.ours, &["rotate", "A"])
        .stdin("A-v2")
        .run()
        .success();
    t.on(&t.theirs, &["rename", "A", "A2"]).run().success();
    t.conflicts("1 conflict\n  secret A: rotated in ours, renamed to A2 in theirs\n");
}

#[test]
fn a_deletion_wins_over_an_untouched_secret_but_not_over_a_rotation() {
    let t = Three::new(two("A", "B"));
    t.on(&t.ours, &["delete", "A", "--yes"]).run().success();
    t.on(&t.theirs, &["add", "C"]).stdin("C-v1").run().success();
    t.merge().success();
    let list = t.on(&t.ours, &["list"]).run().success().stdout;
    assert!(!list.contains("\nA "), "{list}");
    assert_eq!(t.value("C"), "C-v1");

    let t = Three::new(two("A", "B"));
    t.on(&t.ours, &["delete", "A", "--yes"]).run().success();
    t.on(&t.theirs, &["rotate", "A"])
        .stdin("A-v2")
        .run()
        .success();
    t.conflicts("1 conflict\n  secret A: deleted in ours, rotated in theirs\n");
}

#[test]
fn the_same_name_added_on_both_sides_conflicts_and_resolves_by_side() {
    let t = Three::new(|_| {});
    t.on(&t.ours, &["add", "TOKEN"])
        .stdin("ours")
        .run()
        .success();
    t.on(&t.theirs, &["add", "TOKEN"])
        .stdin("theirs")
        .run()
        .success();
    t.conflicts("1 conflict\n  secret TOKEN: two different secrets have this name\n");
}

#[test]
fn a_revocation_wins_and_marks_the_secret() {
    let t = Three::new(|env| {
        env.add("S", "S-v1");
        machine(env, "ci");
        env.owner_runs(&["grant", "S", "--to", "ci"]);
    });
    t.on(&t.ours, &["revoke", "S", "--from", "ci"])
        .run()
        .success();
    t.on(&t.theirs, &["add", "OTHER"])
        .stdin("x")
        .run()
        .success();
    t.merge().success();
    let list = t.on(&t.ours, &["list"]).run().success().stdout;
    let line = list.lines().find(|l| l.starts_with("S ")).unwrap();
    assert!(line.contains("needs rotation"), "{line}");
    assert!(!line.contains("ci"), "{line}");
}

#[test]
fn two_different_vaults_are_not_merged() {
    let t = Three::new(|_| {});
    let other = Env::init();
    let before = std::fs::read(&t.ours).unwrap();
    t.env
        .vault(&["git", "merge"])
        .arg(&t.base)
        .arg(&t.ours)
        .arg(&other.vault)
        .arg("secrets/vault.db")
        .run()
        .fails(
            2,
            "cannot merge secrets/vault.db: ours and theirs are copies of two different vaults",
            Some("a merge cannot join two vaults; keep one with `git checkout --ours` or `--theirs` and re-add the other's secrets"),
        );
    assert_eq!(std::fs::read(&t.ours).unwrap(), before);
}

#[test]
fn a_file_that_is_not_a_vault_is_refused_by_merge_and_textconv() {
    let t = Three::new(|_| {});
    let text = t.env.path().join("notes.txt");
    std::fs::write(&text, "just some notes\n").unwrap();
    t.env
        .vault(&["git", "merge"])
        .arg(&t.base)
        .arg(&text)
        .arg(&t.theirs)
        .arg("secrets/vault.db")
        .run()
        .fails(
            2,
            "secrets/vault.db (ours) is not a vault file: it is not a SQLite database",
            None,
        );
    assert_eq!(std::fs::read_to_string(&text).unwrap(), "just some notes\n");
    t.env.vault(&["git", "textconv"]).arg(&text).run().fails(
        2,
        &format!(
            "{} is not a vault file: it is not a SQLite database",
            text.display()
        ),
        None,
    );
}

#[test]
fn an_empty_base_merges_two_vaults_with_no_common_ancestor_file() {
    let t = Three::new(|_| {});
    std::fs::write(&t.base, "").unwrap();
    t.on(&t.ours, &["add", "A"]).stdin("A-v1").run().success();
    t.on(&t.theirs, &["add", "B"]).stdin("B-v1").run().success();
    t.merge().success();
    assert_eq!(t.value("A"), "A-v1");
    assert_eq!(t.value("B"), "B-v1");
}

const CANARY: &str = "canary-7f3e9b2c41d8-must-never-appear";
const CANARY2: &str = "second-canary-0be1c9d5-rotated-in";

/// Standard base64 (RFC 4648), enough to look for encoded blobs.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
        }
    }
    out
}

/// Every byte column that is ciphertext or key material, as hex and
/// base64 (whole, and the leading 16 bytes).
fn blob_texts(env: &Env) -> Vec<String> {
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    for sql in [
        "SELECT sealed_value FROM secrets",
        "SELECT wrapped_key FROM access",
        "SELECT writer_public FROM access",
        "SELECT sealed_key FROM identities",
        "SELECT public_key FROM identities",
        "SELECT kdf_salt FROM identities WHERE kdf_salt IS NOT NULL",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap();
        blobs.extend(rows.map(Result::unwrap));
    }
    assert!(blobs.len() >= 8, "{}", blobs.len());
    let mut texts = Vec::new();
    for blob in blobs {
        for part in [&blob[..], &blob[..16.min(blob.len())]] {
            texts.push(hex::encode(part));
            texts.push(hex::encode_upper(part));
            texts.push(base64(part));
        }
    }
    texts
}

#[test]
fn git_diff_and_log_show_the_text_form_and_never_a_value_or_key() {
    let (env, root) = repo();
    env.vault(&["add", "CANARY", "--service", "stripe", "-d", "test key"])
        .passphrase()
        .stdin(CANARY)
        .run()
        .success();
    machine(&env, "ci");
    env.owner_runs(&["grant", "CANARY", "--to", "ci"]);
    env.vault(&["git", "setup"])
        .current_dir(&root)
        .run()
        .success();
    git(&env, &root, &["add", "-A"]);
    git(&env, &root, &["commit", "-q", "-m", "base"]);
    let mut blobs = blob_texts(&env);

    env.vault(&["rotate", "CANARY"])
        .passphrase()
        .stdin(CANARY2)
        .run()
        .success();
    blobs.extend(blob_texts(&env));
    let diff = git(&env, &root, &["diff"]);
    assert!(
        diff.contains("\n secret CANARY\n   service stripe\n   description test key\n-  version 1\n+  version 2\n"),
        "{diff}"
    );
    git(&env, &root, &["commit", "-q", "-a", "-m", "rotate"]);

    let text = env
        .vault(&["git", "textconv"])
        .arg(&env.vault)
        .run()
        .success()
        .stdout;
    for expected in [
        "\nidentity ci\n  kind machine\n  created ",
        "\nidentity owner\n  kind person\n  created ",
        "\nsecret CANARY\n  service stripe\n  description test key\n  version 2\n  created ",
        "  access ci use\n  access owner manage\n",
        "  default identity owner\n",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    let log = git(&env, &root, &["log", "-p"]);
    assert!(log.contains("+secret CANARY\n"), "{log}");
    for output in [&text, &log] {
        for secret in [CANARY, CANARY2] {
            assert!(!output.contains(secret), "a value leaked: {output}");
        }
        for blob in &blobs {
            assert!(
                !output.contains(blob.as_str()),
                "key material {blob} in {output}"
            );
        }
    }
}
