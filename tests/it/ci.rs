//! What a CI job is told: a token without use access to a secret it names
//! is told who can grant it and how, `--explain` explains a selection exec
//! would refuse instead of refusing it, and a token with no grants at all
//! runs its program with a warning rather than in silence.

use crate::support::{Env, Run};

/// A vault with GITHUB_TOKEN (service gh) and a machine identity `ci`
/// granted nothing; returns the token.
fn ci_vault() -> (Env, String) {
    let env = Env::init();
    env.vault(&["add", "GITHUB_TOKEN", "--service", "gh"])
        .passphrase()
        .stdin("ghp_0123456789abcdef")
        .run()
        .success();
    let out = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success();
    (env, out.stdout.trim().to_owned())
}

fn as_ci(env: &Env, token: &str, args: &[&str]) -> Run {
    env.vault(args).env("VAULT_ACCESS_TOKEN", token)
}

const GRANT_HINT: &str =
    "an identity that manages GITHUB_TOKEN can grant it: `vault grant GITHUB_TOKEN --to ci`";

/// Regression: a token without use access was told to ask for manage
/// access, which it does not need.
#[test]
fn a_token_without_use_access_is_told_how_to_get_it() {
    let (env, token) = ci_vault();
    env.refuses(
        as_ci(
            &env,
            &token,
            &["exec", "--only", "GITHUB_TOKEN", "--", "true"],
        ),
        125,
        "identity ci cannot use GITHUB_TOKEN: it has no access",
        Some(GRANT_HINT),
    );
    env.refuses(
        as_ci(&env, &token, &["exec", "--service", "gh", "--", "true"]),
        125,
        "identity ci has no access to any secret of service gh",
        Some("an identity that manages them can grant them: `vault grant NAME... --to ci`"),
    );
}

/// Regression: `--explain` failed with 125 exactly when the selection
/// would fail, when it is needed most.
#[test]
fn explain_explains_a_selection_exec_would_refuse() {
    let (env, token) = ci_vault();
    let header = "identity: ci\nmasking: on (stdout or stderr is not a terminal)\n";
    for (args, refusal, hint) in [
        (
            &["--only", "GITHUB_TOKEN"][..],
            "identity ci cannot use GITHUB_TOKEN: it has no access",
            GRANT_HINT,
        ),
        (
            &["--service", "gh"][..],
            "identity ci has no access to any secret of service gh",
            "an identity that manages them can grant them: `vault grant NAME... --to ci`",
        ),
        (
            &["--service", "nope"][..],
            "no secret belongs to service nope",
            "`vault list` shows each secret's service",
        ),
    ] {
        let before = env.dump();
        let mut line = vec!["exec", "--explain"];
        line.extend(args);
        as_ci(&env, &token, &line)
            .run()
            .success()
            .stdout_is(&format!(
                "{header}exec would refuse to run: {refusal}\nhint: {hint}\n"
            ))
            .stderr_is("");
        assert_eq!(env.dump(), before);
    }
}

/// Regression: a token granted nothing ran its script with no secrets and
/// no word.
#[test]
fn a_token_with_no_grants_runs_with_a_warning() {
    let (env, token) = ci_vault();
    as_ci(
        &env,
        &token,
        &[
            "exec",
            "--",
            "sh",
            "-c",
            "echo ran ${GITHUB_TOKEN:-without it}",
        ],
    )
    .run()
    .success()
    .stdout_is("ran without it\n")
    .stderr_is(
        "warning: identity ci has access to no secret: the program runs without any \
             (an identity that manages secrets can grant them: vault grant NAME --to ci)\n",
    );
    env.owner_runs(&["grant", "GITHUB_TOKEN", "--to", "ci"]);
    as_ci(&env, &token, &["exec", "--", "true"])
        .run()
        .success()
        .stderr_is("");
}
