//! The mistakes people make on the command line, and vault's answers: a
//! value typed as an argument (refused without repeating it), a command
//! vault lacks on purpose (`get`, `run`), a mistyped command or option
//! (with "did you mean", never a hidden command), and exec's options
//! mistyped before `--`. Each asserts the exact answer, the status, and
//! that the vault is unchanged.

use crate::support::Env;

/// What `add` and `rotate` answer to a value given as an argument.
fn value_hint(command: &str, name: &str) -> String {
    format!(
        "values are never arguments, which stay in shell history and are visible to other processes: \
         run `vault {command} {name}` and type the value at the hidden prompt, pipe it on stdin, or pass --from-file PATH"
    )
}

/// Runs `args` (with the passphrase and a value on stdin), expects the
/// value-as-argument refusal, and checks the value is nowhere in the output.
#[track_caller]
fn refuses_value(env: &Env, args: &[&str], command: &str, name: &str, value: &str) {
    let out = env.refuses(
        env.vault(args).passphrase().stdin("from stdin"),
        2,
        &format!("`vault {command}` takes no value on its command line; nothing was stored"),
        Some(&value_hint(command, name)),
    );
    assert!(
        !out.stdout.contains(value) && !out.stderr.contains(value),
        "{out:#?}"
    );
}

#[test]
fn add_refuses_a_value_after_the_name() {
    let env = Env::init();
    refuses_value(
        &env,
        &["add", "FOO", "sk_live_bar"],
        "add",
        "FOO",
        "sk_live_bar",
    );
    refuses_value(
        &env,
        &[
            "add",
            "-s",
            "stripe",
            "STRIPE_KEY",
            "--expires",
            "90d",
            "sk_live_bar",
        ],
        "add",
        "STRIPE_KEY",
        "sk_live_bar",
    );
    refuses_value(&env, &["add", "FOO", "two", "words"], "add", "FOO", "two");
}

#[test]
fn add_refuses_name_equals_value() {
    let env = Env::init();
    refuses_value(
        &env,
        &["add", "STRIPE_KEY=sk_live_51Hx"],
        "add",
        "STRIPE_KEY",
        "sk_live_51Hx",
    );
    refuses_value(
        &env,
        &["add", "=sk_live_51Hx"],
        "add",
        "NAME",
        "sk_live_51Hx",
    );
    refuses_value(
        &env,
        &["add", "A-B=sk_live_51Hx"],
        "add",
        "NAME",
        "sk_live_51Hx",
    );
}

#[test]
fn rotate_refuses_a_value_as_argument() {
    let env = Env::init();
    env.add("STRIPE_KEY", "sk_test_old_value");
    refuses_value(
        &env,
        &["rotate", "STRIPE_KEY", "sk_live_new"],
        "rotate",
        "STRIPE_KEY",
        "sk_live_new",
    );
    refuses_value(
        &env,
        &["rotate", "STRIPE_KEY=sk_live_new"],
        "rotate",
        "STRIPE_KEY",
        "sk_live_new",
    );
    assert_eq!(env.value_of("STRIPE_KEY"), "sk_test_old_value");
}

#[test]
fn other_commands_do_not_repeat_what_follows_an_equals_sign() {
    let env = Env::init();
    let out = env.refuses(
        env.vault(&["delete", "--yes", "STRIPE_KEY=sk_live_51Hx"]).passphrase(),
        2,
        "invalid secret name \"STRIPE_KEY=...\": it contains '='",
        Some("names are environment variable names: letters, digits and _, not starting with a digit"),
    );
    assert!(!out.stderr.contains("sk_live"), "{out:#?}");
}

const WRITE_ONLY: &str = "a value reaches a program only through its environment: \
    `vault exec --only NAME -- COMMAND`; `vault list` shows the names";

#[test]
fn there_is_no_get_and_vault_says_why() {
    let env = Env::init();
    env.add("STRIPE_KEY", "sk_test_value");
    for word in ["get", "show", "read", "cat", "export"] {
        env.refuses(
            env.vault(&[word, "STRIPE_KEY"]),
            2,
            &format!("there is no `vault {word}`: secret values are write-only, and vault never shows one"),
            Some(WRITE_ONLY),
        );
    }
}

#[test]
fn run_and_set_point_to_the_commands_that_do_it() {
    let env = Env::init();
    env.refuses(
        env.vault(&["run", "--", "./deploy.sh"]),
        2,
        "there is no `vault run`",
        Some("run a program with secrets in its environment: `vault exec -- COMMAND`"),
    );
    env.refuses(
        env.vault(&["set", "STRIPE_KEY"]),
        2,
        "there is no `vault set`",
        Some(
            "add a secret with `vault add NAME`, or give one a new value with `vault rotate NAME`; \
             the value is asked for, never an argument",
        ),
    );
}

#[test]
fn a_mistyped_command_gets_did_you_mean_canonical_names_first() {
    let env = Env::init();
    env.refuses(
        env.vault(&["lst"]),
        2,
        "unknown command `lst` for `vault`",
        Some("did you mean `list` or `ls`?"),
    );
    env.refuses(
        env.vault(&["identity", "ad", "bob"]),
        2,
        "unknown command `ad` for `vault identity`",
        Some("did you mean `add`?"),
    );
}

/// Regression: `vault get` suggested the hidden `generate-assets`.
#[test]
fn hidden_commands_are_never_suggested() {
    let env = Env::init();
    env.refuses(
        env.vault(&["generate-asset", "."]),
        2,
        "unknown command `generate-asset` for `vault`",
        Some("`vault --help` lists the commands"),
    );
}

/// Regression: `vault exec --onyl DB_URL -- printenv DB_URL` ran `--onyl`
/// as a program and answered 127.
#[test]
fn a_mistyped_exec_option_is_an_unknown_option() {
    let env = Env::init();
    env.add("DB_URL", "postgres://db");
    for (typed, shown, meant) in [
        ("--onyl", "--onyl", "--only"),
        ("--servce", "--servce", "--service"),
        ("--servce=db", "--servce", "--service"),
    ] {
        env.refuses(
            env.vault(&["exec", typed, "DB_URL", "--", "printenv", "DB_URL"])
                .passphrase(),
            125,
            &format!("unknown option {shown} for `vault exec`"),
            Some(&format!(
                "did you mean {meant}? `vault exec --help` lists the options"
            )),
        );
    }
    env.refuses(
        env.vault(&["exec", "--bogus", "--", "true"]).passphrase(),
        125,
        "unknown option --bogus for `vault exec`",
        Some("`vault exec --help` lists the options"),
    );
}

#[test]
fn words_after_the_program_stay_the_programs() {
    let env = Env::init();
    env.add("DB_URL", "postgres://db");
    env.vault(&[
        "exec",
        "--mask",
        "never",
        "--",
        "sh",
        "-c",
        "echo \"$DB_URL\" --onyl",
    ])
    .passphrase()
    .run()
    .success()
    .stdout_is("postgres://db --onyl\n");
    env.vault(&["exec", "--mask", "never", "sh", "-c", "echo \"$DB_URL\""])
        .passphrase()
        .run()
        .success()
        .stdout_is("postgres://db\n");
}

#[test]
fn other_commands_name_their_unknown_option() {
    let env = Env::init();
    env.refuses(
        env.vault(&["list", "--servce", "x"]),
        2,
        "unknown option --servce for `vault list`",
        Some("did you mean --service? `vault list --help` lists the options"),
    );
}

/// A vault with STRIPE_KEY (service stripe) and the owner `owner`.
fn stripe() -> Env {
    let env = Env::init();
    env.vault(&["add", "STRIPE_KEY", "--service", "stripe"])
        .passphrase()
        .stdin("sk_test_value")
        .run()
        .success();
    env
}

/// Regression: `vault list --service strpe` said "no secrets; add one"
/// on a vault of 200.
#[test]
fn an_unknown_service_is_named_with_the_close_ones() {
    let env = stripe();
    env.refuses(
        env.vault(&["list", "--service", "strpe"]),
        2,
        "no secret belongs to service strpe",
        Some("did you mean stripe? `vault list` shows each secret's service"),
    );
    env.refuses(
        env.vault(&["list", "--service", "payments", "--json"]),
        2,
        "no secret belongs to service payments",
        Some("`vault list` shows each secret's service"),
    );
    env.refuses(
        env.vault(&["exec", "--service", "strpe", "--", "true"])
            .passphrase(),
        125,
        "no secret belongs to service strpe",
        Some("did you mean stripe? `vault list` shows each secret's service"),
    );
}

#[test]
fn an_unknown_secret_gets_did_you_mean() {
    let env = stripe();
    env.refuses(
        env.vault(&["rotate", "STRIPE_KY"]).passphrase().stdin("v"),
        2,
        "no secret named STRIPE_KY",
        Some("did you mean STRIPE_KEY? `vault list` shows the names"),
    );
    env.refuses(
        env.vault(&["exec", "--only", "STRIPE_KY", "--", "true"])
            .passphrase(),
        125,
        "no secret named STRIPE_KY",
        Some("did you mean STRIPE_KEY? `vault list` shows the names"),
    );
    env.refuses(
        env.vault(&["delete", "--yes", "DATABASE_URL"]).passphrase(),
        2,
        "no secret named DATABASE_URL",
        Some("`vault list` shows the names"),
    );
}

/// Regression: `vault --as rooot list` listed happily while exec failed.
#[test]
fn an_unknown_identity_is_an_error_everywhere() {
    let env = stripe();
    for args in [&["--as", "ownr", "list"][..], &["--as", "ownr", "audit"]] {
        env.refuses(
            env.vault(args),
            2,
            "no identity named ownr",
            Some("did you mean owner? `vault identity list` shows the identities"),
        );
    }
    env.refuses(
        env.vault(&["list"]).env("VAULT_IDENTITY", "ownr"),
        2,
        "no identity named ownr",
        Some("did you mean owner? `vault identity list` shows the identities"),
    );
    env.refuses(
        env.vault(&["grant", "STRIPE_KEY", "--to", "ownr"])
            .passphrase(),
        2,
        "no identity named ownr",
        Some("did you mean owner? `vault identity list` shows the identities"),
    );
}

/// Regression: `vault import /dev/stdin` advised `shred -u /dev/stdin`.
#[test]
fn importing_from_stdin_gives_no_advice_to_shred_it() {
    let env = Env::init();
    env.vault(&["import", "/dev/stdin"])
        .passphrase()
        .stdin("PIPED=from-a-pipe\n")
        .run()
        .success()
        .stdout_is("added PIPED\n1 added, 0 rotated, 0 skipped\n")
        .stderr_is("");
    assert_eq!(env.value_of("PIPED"), "from-a-pipe");
}
