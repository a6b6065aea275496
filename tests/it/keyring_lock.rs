//! The unlock cache's two guarantees beyond keeping a key: the kernel
//! timeout is set before the key is in the session keyring (so no kill
//! leaves it there for ever), and `vault lock` removes every entry of the
//! vault file, also of identities whose rows have left it, and no other
//! vault's. In throwaway session keyrings, as in keyring.rs.

use std::ffi::OsString;

use crate::keyring::{entry_name, setup, vault};
use crate::support::Env;

/// The value after `= ` at the end of a strace line.
fn result(line: &str) -> &str {
    line.rsplit("= ").next().unwrap().trim()
}

#[test]
fn the_timeout_is_set_before_the_key_reaches_the_session_keyring() {
    let (mut env, keyring) = setup();
    let trace = env.path().join("keyctl.trace");
    let mut prefix = vec![keyring.joiner.clone(), keyring.name.clone().into()];
    for arg in [
        "strace",
        "-f",
        "-qq",
        "-s",
        "200",
        "-e",
        "trace=add_key,keyctl",
        "-o",
    ] {
        prefix.push(OsString::from(arg));
    }
    prefix.push(trace.clone().into());
    env.wrap(prefix);
    vault(&env, &["unlock", "--for", "1h"])
        .passphrase()
        .run()
        .success();
    let name = entry_name(&env.vault, "owner");
    let text = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let id_of = |special: &str| {
        lines
            .iter()
            .rev()
            .find(|l| l.contains(&format!("KEYCTL_GET_KEYRING_ID, {special}")))
            .map(|l| result(l).to_owned())
            .unwrap_or_else(|| panic!("no {special} in {text}"))
    };
    let (session, thread) = (
        id_of("KEY_SPEC_SESSION_KEYRING"),
        id_of("KEY_SPEC_THREAD_KEYRING"),
    );
    let added: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(&format!("add_key(\"user\", \"{name}\"")))
        .collect();
    assert_eq!(added.len(), 1, "{text}");
    let add = lines[added[0]];
    let key = result(add).to_owned();
    assert!(
        add.ends_with(&format!(", {thread}) = {key}")),
        "the key was not made in the thread keyring: {add}"
    );
    let position = |needle: String| {
        lines
            .iter()
            .position(|l| l.contains(&needle))
            .unwrap_or_else(|| panic!("no {needle} in {text}"))
    };
    let timed = position(format!("KEYCTL_SET_TIMEOUT, {key}, 3600) = 0"));
    let linked = position(format!("KEYCTL_LINK, {key}, {session}) = 0"));
    assert!(added[0] < timed && timed < linked, "{text}");
    assert_eq!(keyring.vault_entries().len(), 1);
}

#[test]
fn lock_removes_entries_of_identities_no_longer_in_the_file_and_no_other_vaults() {
    let (env, keyring) = setup();
    let bob_file = env.path().join("bob-passphrase");
    std::fs::write(&bob_file, "bob's own passphrase\n").unwrap();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&bob_file)
        .passphrase()
        .run()
        .success();
    vault(&env, &["unlock", "--for", "1h"])
        .passphrase()
        .run()
        .success();
    vault(&env, &["--as", "bob", "unlock", "--passphrase-file"])
        .arg(&bob_file)
        .run()
        .success();
    // Another vault file in the same keyring keeps its entry.
    let mut other = Env::init();
    keyring.attach(&mut other);
    vault(&other, &["unlock", "--for", "1h"])
        .passphrase()
        .run()
        .success();
    assert_eq!(keyring.vault_entries().len(), 3);
    // bob's rows leave the file (a merge from a clone that removed him).
    env.sql(
        "DELETE FROM access WHERE identity_id = (SELECT id FROM identities WHERE name = 'bob'); \
         DELETE FROM audit_keys WHERE identity_id = (SELECT id FROM identities WHERE name = 'bob'); \
         DELETE FROM identities WHERE name = 'bob';",
    );
    vault(&env, &["lock"]).run().success().stdout_is(
        "locked: removed the cached key of owner and of 1 identity no longer in the vault\n",
    );
    assert_eq!(keyring.vault_entries().len(), 1);
    assert_eq!(
        vault(&other, &["lock"]).run().success().stdout,
        "locked: removed the cached key of owner\n"
    );
    assert_eq!(keyring.vault_entries(), Vec::<String>::new());
}
