//! `vault exec` refusing bad input: each case fails with status 125 and an
//! exact message, before the program runs, changing nothing.

use crate::exec::{ran, refused, with_secrets, RunExt};
use crate::support::{Env, Output};

/// Runs `exec ARGS -- touch ran` and checks it was refused with `message`,
/// changing nothing and running nothing.
#[track_caller]
fn refuses(env: &Env, args: &[&str], message: &str) -> Output {
    let before = env.dump();
    let out = env
        .vault(&["exec"])
        .args_of(args)
        .args_of(&["--", "touch", "ran"])
        .passphrase()
        .run();
    let out = refused(out, message);
    assert!(!ran(env), "the program ran: {out:#?}");
    assert_eq!(env.dump(), before);
    out
}

#[test]
fn refuses_an_env_target_that_is_not_a_variable_name() {
    let env = with_secrets();
    refuses(
        &env,
        &["--env", "1BAD=API_KEY"],
        "invalid --env target \"1BAD\": it starts with '1'",
    )
    .stderr_has("hint: variable names use letters, digits and _, not starting with a digit\n");
    refuses(
        &env,
        &["--env", "API_KEY"],
        "invalid --env \"API_KEY\": expected TARGET=SECRET",
    );
    refuses(
        &env,
        &["--env", "LD_PRELOAD=API_KEY"],
        "invalid --env target \"LD_PRELOAD\": it lets a value make the dynamic loader load or trace code it names",
    );
    refuses(
        &env,
        &["--env", "A=API_KEY", "--env", "A=DB_PASSWORD"],
        "--env names the variable A twice",
    );
}

#[test]
fn refuses_an_env_naming_an_unknown_secret() {
    let env = with_secrets();
    refuses(
        &env,
        &["--env", "GITHUB_TOKEN=NOPE"],
        "no secret named NOPE",
    )
    .stderr_has("hint: `vault list` shows the names\n");
}

#[test]
fn refuses_only_and_service_that_select_nothing() {
    let env = with_secrets();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&env.passphrase_file)
        .passphrase()
        .run()
        .success();
    env.vault(&["--as", "bob", "add", "BOB_KEY", "--service", "bobs"])
        .passphrase()
        .stdin("bob-only-value")
        .run()
        .success();
    refuses(&env, &["--only", "NOPE"], "no secret named NOPE");
    refuses(
        &env,
        &["--only", "BOB_KEY"],
        "identity owner cannot use BOB_KEY: it has no access",
    );
    refuses(
        &env,
        &["--service", "nope"],
        "no secret belongs to service nope",
    );
    refuses(
        &env,
        &["--service", "bobs"],
        "identity owner has no access to any secret of service bobs",
    );
}

#[test]
fn refuses_an_unknown_mask_value() {
    let env = with_secrets();
    refuses(
        &env,
        &["--mask", "sometimes"],
        "invalid value 'sometimes' for '--mask <WHEN>'",
    )
    .stderr_has("[possible values: auto, always, never]");
}

#[test]
fn refuses_to_run_without_a_command() {
    let env = with_secrets();
    refused(
        env.vault(&["exec", "--only", "API_KEY"]).passphrase().run(),
        "no command given to run",
    )
    .stderr_has("hint: usage: vault exec [OPTIONS] -- COMMAND [ARGS]...\n");
}
