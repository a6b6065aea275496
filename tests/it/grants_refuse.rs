//! Grants and identities refused: unknown names, tokens that are not
//! one, a wrong passphrase, colliding names, the last manager removed.

use crate::grants::{as_ci, team};

#[test]
fn grant_to_an_unknown_identity() {
    let (env, _) = team();
    env.add("API", "v");
    let before = env.dump();
    env.vault(&["grant", "API", "--to", "nobody"])
        .passphrase()
        .run()
        .error("no identity named nobody")
        .stderr_has("hint: `vault identity list` shows the identities\n");
    assert_eq!(env.dump(), before);
}

#[test]
fn grant_or_revoke_of_an_unknown_secret() {
    let (env, _) = team();
    env.add("API", "v");
    let before = env.dump();
    env.vault(&["grant", "API", "NOPE", "--to", "bob"])
        .passphrase()
        .run()
        .error("no secret named NOPE");
    env.vault(&["revoke", "NOPE", "--from", "bob"])
        .passphrase()
        .run()
        .error("no secret named NOPE");
    assert_eq!(
        env.dump(),
        before,
        "all or nothing: API was not granted either"
    );
}

#[test]
fn revoke_of_access_that_does_not_exist() {
    let (env, _) = team();
    env.add("API", "v");
    let before = env.dump();
    env.vault(&["revoke", "API", "--from", "bob"])
        .passphrase()
        .run()
        .error("identity bob has no access to API to revoke");
    assert_eq!(env.dump(), before);
}

#[test]
fn malformed_truncated_and_wrong_tokens() {
    let (env, token) = team();
    env.add("API", "v");
    env.owner_runs(&["grant", "API", "--to", "ci"]);
    let before = env.dump();
    let hint = "hint: check that VAULT_ACCESS_TOKEN holds the whole token printed by `vault identity add NAME --token`\n";
    as_ci(
        &env,
        "not-a-token",
        &["exec", "--mask", "never", "--", "env"],
    )
    .run()
    .code(125)
    .stderr_is(&format!(
        "error: VAULT_ACCESS_TOKEN is malformed: it does not start with vtk1_\n{hint}"
    ));
    as_ci(
        &env,
        &token[..token.len() - 3],
        &["exec", "--mask", "never", "--", "env"],
    )
    .run()
    .code(125)
    .stderr_is(&format!(
        "error: VAULT_ACCESS_TOKEN is malformed: it has the wrong length (truncated?)\n{hint}"
    ));
    // The last character of the random part, before the root's pin.
    let mut wrong = token.clone();
    let at = wrong.len() - 34;
    let last = if &wrong[at..at + 1] == "0" { "1" } else { "0" };
    wrong.replace_range(at..at + 1, last);
    let out = as_ci(&env, &wrong, &["exec", "--mask", "never", "--", "env"])
        .run()
        .code(125);
    assert_eq!(
        out.stderr,
        format!("error: the access token was rejected by identity ci\n{hint}")
    );
    assert!(!out.stdout.contains("API="));
    assert_eq!(env.dump(), before);
}

#[test]
fn a_wrong_passphrase_for_another_identity() {
    let (env, _) = team();
    env.add("API", "v");
    env.vault(&["exec", "--mask", "never", "--as", "bob", "--", "env"])
        .passphrase()
        .run()
        .code(125)
        .stderr_has("error: wrong passphrase for identity bob\n");
}

#[test]
fn identity_names_that_collide_or_are_invalid() {
    let (env, _) = team();
    let before = env.dump();
    env.vault(&["identity", "add", "ci", "--token"])
        .run()
        .error("an identity named ci already exists");
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(env.path().join("bob-passphrase"))
        .run()
        .error("an identity named bob already exists");
    env.vault(&["identity", "add", "-x", "--token"])
        .run()
        .code(2);
    env.vault(&["identity", "add", "a/b", "--token"])
        .run()
        .error("invalid identity name \"a/b\": it contains '/'");
    assert_eq!(env.dump(), before);
}

#[test]
fn removing_the_last_manager_is_refused() {
    let (env, _) = team();
    env.add("A", "1");
    env.add("B", "2");
    env.add("C", "3");
    env.owner_runs(&["grant", "B", "--to", "bob", "--manage"]);
    let before = env.dump();
    env.vault(&["identity", "remove", "owner", "--yes"])
        .passphrase()
        .run()
        .error("cannot remove identity owner: it is the last one managing A, C")
        .stderr_has(
            "hint: grant manage access to another identity first, or delete those secrets\n",
        );
    assert_eq!(env.dump(), before);
}
