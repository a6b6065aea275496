//! `vault exec --file` and `--render` refusing bad input: each case exits
//! 125 with its exact error and hint, before the program runs, changing
//! nothing in the vault.

use crate::exec::{ran, with_secrets, RunExt};
use crate::support::{Env, Output};

/// Runs `exec ARGS -- touch ran` and checks it fails with exactly
/// `message` and `hint`, runs nothing and changes nothing.
#[track_caller]
fn refuses(env: &Env, args: &[&str], message: &str, hint: &str) -> Output {
    let before = env.dump();
    let out = env
        .vault(&["exec"])
        .args_of(args)
        .args_of(&["--", "touch", "ran"])
        .passphrase()
        .run()
        .fails(125, message, Some(hint));
    assert!(!ran(env), "the program ran: {out:#?}");
    assert_eq!(env.dump(), before);
    out
}

const NAMES_HINT: &str = "variable names use letters, digits and _, not starting with a digit";

#[test]
fn refuses_a_file_naming_an_unknown_secret() {
    let env = with_secrets();
    refuses(
        &env,
        &["--file", "NOPE"],
        "no secret named NOPE",
        "`vault list` shows the names",
    );
    refuses(
        &env,
        &["--file", "CREDS=NOPE"],
        "no secret named NOPE",
        "`vault list` shows the names",
    );
}

#[test]
fn refuses_a_target_that_is_not_a_variable_name() {
    let env = with_secrets();
    refuses(
        &env,
        &["--file", "1BAD=API_KEY"],
        "invalid --file target \"1BAD\": it starts with '1'",
        NAMES_HINT,
    );
    refuses(
        &env,
        &["--file", "=API_KEY"],
        "invalid --file target \"\": it is empty",
        NAMES_HINT,
    );
    refuses(
        &env,
        &["--file", "VAULT_EXEC=API_KEY"],
        "invalid --file target \"VAULT_EXEC\": vault uses this variable itself",
        NAMES_HINT,
    );
    std::fs::write(env.path().join("t.tmpl"), "x\n").unwrap();
    refuses(
        &env,
        &["--render", "t.tmpl=MY-CONF"],
        "invalid --render target \"MY-CONF\": it contains '-'",
        NAMES_HINT,
    );
    refuses(
        &env,
        &["--render", "t.tmpl"],
        "invalid --render \"t.tmpl\": expected TEMPLATE=VAR",
        "write --render app.conf.tmpl=APP_CONFIG: the template, then the variable that gets its path",
    );
}

#[test]
fn refuses_a_dangerous_target_unless_this_line_accepts_it() {
    let env = with_secrets();
    refuses(
        &env,
        &["--file", "BASH_ENV=API_KEY"],
        "invalid --file target \"BASH_ENV\": it lets a value make the shell run a file or command at start-up",
        "if you mean it, accept it for this run: vault exec --allow-dangerous-name BASH_ENV ...",
    );
    std::fs::write(env.path().join("k.tmpl"), "x\n").unwrap();
    refuses(
        &env,
        &["--render", "k.tmpl=KUBECONFIG"],
        "invalid --render target \"KUBECONFIG\": it lets a value point programs at configuration that runs commands",
        "if you mean it, accept it for this run: vault exec --allow-dangerous-name KUBECONFIG ...",
    );
    // Accepted by name on the exec line, as for a stored dangerous name.
    env.vault(&[
        "exec",
        "--mask",
        "never",
        "--allow-dangerous-name",
        "KUBECONFIG",
    ])
    .args_of(&[
        "--render",
        "k.tmpl=KUBECONFIG",
        "--",
        "sh",
        "-c",
        "cat \"$KUBECONFIG\"",
    ])
    .passphrase()
    .run()
    .success()
    .stdout_is("x\n");
}

#[test]
fn refuses_a_variable_named_twice() {
    let env = with_secrets();
    std::fs::write(env.path().join("t.tmpl"), "x\n").unwrap();
    let hint = "give each variable one source";
    refuses(
        &env,
        &["--file", "A=API_KEY", "--file", "A=DB_PASSWORD"],
        "--file names the variable A twice",
        hint,
    );
    refuses(
        &env,
        &["--env", "A=API_KEY", "--file", "A=DB_PASSWORD"],
        "the variable A is named by --env and by --file",
        hint,
    );
    refuses(
        &env,
        &["--file", "API_KEY", "--render", "t.tmpl=API_KEY"],
        "the variable API_KEY is named by --file and by --render",
        hint,
    );
}

const TEMPLATE_HINT: &str =
    "a placeholder is {{ NAME }} on one line; write a literal {{ as {{ \"{{\" }}";

#[test]
fn refuses_a_template_that_cannot_be_read_before_unlocking() {
    let env = with_secrets();
    let before = env.dump();
    // No passphrase: the template is refused first.
    env.vault(&[
        "exec",
        "--render",
        "missing.tmpl=CONF",
        "--",
        "touch",
        "ran",
    ])
    .run()
    .fails(
        125,
        "cannot read the template missing.tmpl: no such file",
        None,
    );
    std::fs::create_dir(env.path().join("dir.tmpl")).unwrap();
    env.vault(&["exec", "--render", "dir.tmpl=CONF", "--", "touch", "ran"])
        .run()
        .fails(
            125,
            "cannot read the template dir.tmpl: it is a directory",
            None,
        );
    assert!(!ran(&env));
    assert_eq!(env.dump(), before);
}

#[test]
fn refuses_a_malformed_template_naming_its_line() {
    let env = with_secrets();
    let cases = [
        (
            "[db]\npassword = {{ DB_PASSWORD\n}}\n",
            "line 2 of the template app.tmpl: unclosed placeholder: {{ without }} on the same line",
        ),
        (
            "a\nb\nc={{ db-password }}\n",
            "line 3 of the template app.tmpl: invalid placeholder \"db-password\": it contains '-'",
        ),
        (
            "{{ }}\n",
            "line 1 of the template app.tmpl: empty placeholder {{ }}",
        ),
    ];
    for (text, message) in cases {
        std::fs::write(env.path().join("app.tmpl"), text).unwrap();
        // Refused before unlocking, too.
        env.vault(&["exec", "--render", "app.tmpl=CONF", "--", "touch", "ran"])
            .run()
            .fails(125, message, Some(TEMPLATE_HINT));
        refuses(&env, &["--render", "app.tmpl=CONF"], message, TEMPLATE_HINT);
    }
}

#[test]
fn refuses_a_placeholder_naming_a_secret_it_cannot_use() {
    let env = with_secrets();
    env.vault(&["identity", "add", "bob", "--new-passphrase-file"])
        .arg(&env.passphrase_file)
        .passphrase()
        .run()
        .success();
    env.vault(&["--as", "bob", "add", "BOB_KEY"])
        .passphrase()
        .stdin("bob-only-value")
        .run()
        .success();
    std::fs::write(
        env.path().join("app.tmpl"),
        "a={{ API_KEY }}\n\nb={{ NOPE }}\n",
    )
    .unwrap();
    refuses(
        &env,
        &["--render", "app.tmpl=CONF"],
        "line 3 of the template app.tmpl: no secret named NOPE",
        "`vault list` shows the names",
    );
    std::fs::write(env.path().join("app.tmpl"), "b={{ BOB_KEY }}\n").unwrap();
    refuses(
        &env,
        &["--render", "app.tmpl=CONF"],
        "line 1 of the template app.tmpl: identity owner cannot use BOB_KEY: it has no access",
        "an identity that manages BOB_KEY can grant it: `vault grant BOB_KEY --to owner`",
    );
    // --explain explains the refusal instead.
    env.vault(&["exec", "--explain", "--render", "app.tmpl=CONF", "--", "true"])
        .passphrase()
        .run()
        .success()
        .stdout_has(
            "exec would refuse to run: line 1 of the template app.tmpl: identity owner cannot use BOB_KEY: it has no access\n",
        );
}

#[test]
fn refuses_a_placeholder_naming_an_expired_secret() {
    let env = with_secrets();
    env.sql("UPDATE secrets SET expires_at = 1 WHERE name = 'API_KEY'");
    std::fs::write(env.path().join("app.tmpl"), "a={{ API_KEY }}\n").unwrap();
    refuses(
        &env,
        &["--render", "app.tmpl=CONF"],
        "line 1 of the template app.tmpl: expired secrets: API_KEY",
        "rotate them, or pass --allow-expired to inject them anyway",
    );
    env.vault(&[
        "exec",
        "--mask",
        "never",
        "--allow-expired",
        "--render",
        "app.tmpl=CONF",
    ])
    .args_of(&["--", "sh", "-c", "cat \"$CONF\""])
    .passphrase()
    .run()
    .success()
    .stdout_is("a=sk_live_4f9a8b7c\n");
}
