//! Tables that fit the terminal: `vault list` and `vault audit` at a narrow
//! terminal shorten, summarise and drop columns in their stated order; into
//! a pipe they stay whole.

use crate::exec::bash;
use crate::support::Env;

/// What `vault ARGS` shows on a terminal `cols` wide (script(1) gives it
/// a pseudo-terminal; stty sets its width).
fn at_width(env: &Env, cols: usize, args: &str) -> String {
    let out = bash(
        env,
        &format!("script -qec 'stty cols {cols}; \"$VAULT\" {args}' /dev/null"),
    );
    assert!(out.status.success(), "{out:#?}");
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

/// A vault whose every row is wider than 80 columns: a long description
/// and three grants.
fn wide() -> Env {
    let env = Env::init();
    env.vault(&[
        "add",
        "STRIPE_KEY",
        "--service",
        "billing",
        "--description",
        "the live key of the payments account, from the dashboard",
    ])
    .passphrase()
    .stdin("sk_live_value")
    .run()
    .success();
    for who in ["ci", "deploy"] {
        env.owner_runs(&["identity", "add", who, "--token"]);
        env.owner_runs(&["grant", "STRIPE_KEY", "--to", who]);
    }
    env
}

/// Regression: `vault list` was about 110 columns and wrapped every row
/// at 80.
#[test]
fn list_fits_a_narrow_terminal_in_the_stated_order() {
    let env = wide();
    let created = vault::time::format_date(env.int("secrets", "created_at", "1"));
    let whole = env.vault(&["list"]).run().success().stdout;
    assert!(whole.lines().nth(1).unwrap().len() > 120, "{whole}");
    assert!(
        whole.contains("owner (manage), ci (use), deploy (use)"),
        "{whole}"
    );
    assert_eq!(
        at_width(&env, 110, "list"),
        format!(
            "NAME        SERVICE  VERSION  CREATED     ROTATED     EXPIRES  ROTATE  STATUS  ACCESS        DESCRIPTION\n\
             STRIPE_KEY  billing  1        {created}  {created}  -        -       ok      3 identities  the live key of…\n"
        )
    );
    assert_eq!(
        at_width(&env, 100, "list"),
        format!(
            "NAME        SERVICE  VERSION  CREATED     ROTATED     EXPIRES  ROTATE  STATUS  ACCESS\n\
             STRIPE_KEY  billing  1        {created}  {created}  -        -       ok      3 identities\n"
        )
    );
    assert_eq!(
        at_width(&env, 80, "list"),
        format!(
            "NAME        SERVICE  VERSION  ROTATED     EXPIRES  STATUS  ACCESS\n\
             STRIPE_KEY  billing  1        {created}  -        ok      3 identities\n"
        )
    );
    for cols in [50, 60, 80, 100] {
        let shown = at_width(&env, cols, "list");
        assert!(
            shown.lines().all(|l| l.chars().count() <= cols),
            "{cols}: {shown}"
        );
    }
}

/// Regression: after an exec of many secrets, every row of `vault audit`
/// was padded to the width of that one list of names.
#[test]
fn audit_counts_long_secret_lists_at_a_terminal() {
    let env = Env::init();
    let names: Vec<String> = (0..40).map(|i| format!("SECRET_NUMBER_{i:02}")).collect();
    for name in &names {
        env.add(name, "a value long enough");
    }
    env.owner_runs(&["exec", "--mask", "never", "--", "true"]);
    let shown = at_width(&env, 100, "audit");
    assert!(shown.lines().all(|l| l.chars().count() <= 100), "{shown}");
    let exec_row = shown.lines().last().unwrap();
    assert!(
        exec_row.contains(" exec    40 secrets  program=true cwd="),
        "{shown}"
    );
    // Into a pipe, the whole list.
    let whole = env.vault(&["audit"]).run().success().stdout;
    assert!(whole.contains(&names.join(",")), "{whole}");
}
