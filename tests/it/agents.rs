//! Agent identities (`vault identity add NAME --agent`): use only, output
//! always masked (encodings too), a reason for every run, an end of their
//! own, and all of it bound into the certificate, so an agent that can
//! write the vault file cannot drop it.

use crate::support::{Env, Output};

/// The canary every test hands an agent: it must never come back.
pub const CANARY: &str = "canary-Zq8x7Wp3Lk";

/// A vault with API_KEY (the canary) and DB_PASSWORD, an agent `claude`
/// granted both, and the agent's token.
pub fn agent_vault(expires: Option<&str>) -> (Env, String) {
    let env = Env::init();
    env.add("API_KEY", CANARY);
    env.add("DB_PASSWORD", "hunter2-but-longer");
    let mut args = vec!["identity", "add", "claude", "--agent"];
    if let Some(when) = expires {
        args.extend(["--expires", when]);
    }
    let out = env.vault(&args).passphrase().run().success();
    env.owner_runs(&["grant", "API_KEY", "DB_PASSWORD", "--to", "claude"]);
    (env, out.stdout.trim_end().to_owned())
}

/// `vault ARGS` as the agent: its token, no passphrase.
fn as_agent(env: &Env, token: &str, args: &[&str]) -> Output {
    env.vault(args).env("VAULT_ACCESS_TOKEN", token).run()
}

#[test]
fn an_agent_gets_a_token_a_default_end_and_lists_as_an_agent() {
    let env = Env::init();
    let out = env
        .vault(&["identity", "add", "claude", "--agent"])
        .passphrase()
        .run()
        .success();
    assert!(out.stdout.starts_with("vtk1_"), "{out:?}");
    let until = env.int("identities", "agent_until", "name = 'claude'");
    let created = env.int("identities", "created_at", "name = 'claude'");
    assert_eq!(until - created, 8 * 3600, "the default is 8h");
    let shown = vault::time::format(until);
    assert!(out.stderr.starts_with(&format!(
        "added agent identity claude, until {shown}; its access token, shown only this once:\n"
    )));
    env.vault(&["identity", "list"])
        .run()
        .success()
        .stdout_has("claude  agent    member")
        .stdout_has(&format!("agent until   {shown}\n"));
    let json = env.vault(&["identity", "list", "--json"]).run().success();
    assert!(json.stdout.contains("\"kind\": \"agent\""), "{json:?}");
    assert!(json.stdout.contains(&format!("\"expires\": \"{shown}\"")));
}

#[test]
fn an_agent_cannot_be_an_admin() {
    env_add_fails(
        &["identity", "add", "claude", "--agent", "--admin"],
        "the argument '--agent' cannot be used with '--admin'",
    );
}

#[test]
fn expires_needs_agent() {
    env_add_fails(
        &["identity", "add", "ci", "--expires", "8h"],
        "error: the following required arguments were not provided:\n  --agent\n",
    );
    env_add_fails(
        &["identity", "add", "ci", "--token", "--expires", "8h"],
        "error: the argument '--token' cannot be used with '--expires <WHEN>'",
    );
}

fn env_add_fails(args: &[&str], part: &str) {
    let env = Env::init();
    env.vault(args).passphrase().run().code(2).stderr_has(part);
}

#[test]
fn an_agent_cannot_be_granted_manage() {
    let (env, _) = agent_vault(None);
    env.refuses(
        env.vault(&["grant", "API_KEY", "--to", "claude", "--manage"])
            .passphrase(),
        2,
        "identity claude is an agent, which only uses secrets: it cannot be granted manage",
        Some("grant it use only: vault grant NAME --to claude"),
    );
}

#[test]
fn an_agent_cannot_exec_with_mask_never() {
    let (env, token) = agent_vault(None);
    let run = env
        .vault(&[
            "exec", "--mask", "never", "--reason", "x", "--", "printenv", "API_KEY",
        ])
        .env("VAULT_ACCESS_TOKEN", &token);
    env.refuses(
        run,
        125,
        "agent identity claude always runs with masking: --mask never is refused",
        Some("leave --mask out: an agent's output is always masked"),
    );
}

#[test]
fn an_agent_cannot_exec_without_a_reason() {
    let (env, token) = agent_vault(None);
    for reason in [None, Some(""), Some("   ")] {
        let mut args = vec!["exec"];
        if let Some(r) = reason {
            args.extend(["--reason", r]);
        }
        args.extend(["--", "printenv", "API_KEY"]);
        let before = env.audit_count();
        as_agent(&env, &token, &args).fails(
            125,
            "agent identity claude must say why it runs a command: --reason is missing",
            Some("say why, for the audit log: vault exec --reason 'run the tests' -- COMMAND"),
        );
        assert_eq!(env.audit_count(), before, "a refused run is not recorded");
    }
}

#[test]
fn an_overlong_reason_is_refused() {
    let (env, token) = agent_vault(None);
    let long = "x".repeat(1001);
    as_agent(&env, &token, &["exec", "--reason", &long, "--", "true"]).fails(
        125,
        "--reason is longer than 1000 characters",
        None,
    );
}

/// Masked always, also into a pipe with `--mask auto`, and the value's
/// base64, hex and URL-encoded forms too; the run is recorded with its
/// reason under the agent's name.
#[test]
fn an_agents_run_is_masked_in_every_encoding_and_recorded_with_its_reason() {
    let (env, token) = agent_vault(None);
    let script = r#"printenv API_KEY; printf %s "$API_KEY" | base64; printf %s "$API_KEY" | od -An -tx1 | tr -d ' \n'; echo; printf 'x%s' "$API_KEY" | base64; python3 -c 'import os, urllib.parse; print(urllib.parse.quote(os.environ["API_KEY"] + "/"))'"#;
    let out = as_agent(
        &env,
        &token,
        &[
            "exec",
            "--reason",
            "check the key's shapes",
            "--",
            "sh",
            "-c",
            script,
        ],
    )
    .success();
    for leaked in [
        CANARY,
        "Y2FuYXJ5LVpxOHg3V3AzTG",
        "63616e6172792d5a713878375770334c6b",
        "eGNhbmFyeS1acTh4N1dwM0xr",
    ] {
        assert!(!out.stdout.contains(leaked), "{leaked} in {out:?}");
    }
    assert_eq!(out.stdout.matches("[masked:API_KEY]").count(), 5, "{out:?}");
    env.vault(&["audit"])
        .run()
        .success()
        .stdout_has("claude    exec          API_KEY,DB_PASSWORD  program=sh")
        .stdout_has(" reason=check the key's shapes\n");
}

#[test]
fn an_agent_cannot_write_the_vault() {
    let (env, token) = agent_vault(None);
    let run = env
        .vault(&["add", "NEW_KEY"])
        .env("VAULT_ACCESS_TOKEN", &token)
        .stdin("a-value-of-its-own");
    env.refuses(
        run,
        2,
        "claude may not change the vault: claude is an agent identity, which only uses secrets",
        None,
    );
}

#[test]
fn an_agent_is_refused_after_its_end() {
    let (env, token) = agent_vault(Some("2s"));
    let until = env.int("identities", "agent_until", "name = 'claude'");
    while vault::time::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    as_agent(&env, &token, &["exec", "--reason", "late", "--", "true"]).fails(
        125,
        &format!(
            "agent identity claude expired at {}",
            vault::time::format(until)
        ),
        Some("an admin adds a new agent for the next session: vault identity remove claude, then vault identity add claude --agent"),
    );
}

/// The agent can write the file (it runs as the user): it drops its flag,
/// or moves its end, with Python's sqlite3. Its certificate no longer
/// verifies, so exec refuses before anything runs, even without the
/// agent's rules.
#[test]
fn an_agent_that_edits_its_flag_in_the_file_is_refused() {
    for (edit, run) in [
        (
            "UPDATE identities SET agent_until = NULL WHERE name = 'claude'",
            ["--mask", "never"],
        ),
        (
            "UPDATE identities SET agent_until = agent_until + 86400 WHERE name = 'claude'",
            ["--reason", "later"],
        ),
    ] {
        let (env, token) = agent_vault(None);
        // A verified run first, so the edit must beat exec's memory of it.
        as_agent(&env, &token, &["exec", "--reason", "warm", "--", "true"]).success();
        let script = format!(
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute(\"{edit}\")\nc.commit()\n"
        );
        let status = std::process::Command::new("python3")
            .args(["-c", &script])
            .arg(&env.vault)
            .status()
            .expect("python3");
        assert!(status.success());
        let args = ["exec", run[0], run[1], "--", "printenv", "API_KEY"];
        as_agent(&env, &token, &args).fails(
            125,
            "trust check failed: identity claude: its certificate does not verify (its keys, name or role were changed in the file, or it was added by no admin)",
            Some("someone changed the vault file outside vault: restore it from a copy you trust (`git log -p` on the file shows who changed it)"),
        );
    }
}

/// A person's exec may give a reason too, and the log keeps it.
#[test]
fn a_persons_reason_is_recorded() {
    let (env, _) = agent_vault(None);
    env.vault(&["exec", "--reason", "deploy", "--", "true"])
        .passphrase()
        .run()
        .success();
    env.vault(&["audit"])
        .run()
        .success()
        .stdout_has("owner     exec          API_KEY,DB_PASSWORD  program=true")
        .stdout_has(" reason=deploy\n");
}

/// The text git diffs shows an agent's end, so a change to it is seen in
/// review.
#[test]
fn the_git_text_form_shows_an_agents_end() {
    let (env, _) = agent_vault(None);
    let until = env.int("identities", "agent_until", "name = 'claude'");
    env.vault(&["git", "textconv"])
        .arg(&env.vault)
        .run()
        .success()
        .stdout_has(&format!(
            "identity claude\n  kind machine\n  created {}\n  role member\n  agent until {}\n",
            vault::time::format(env.int("identities", "created_at", "name = 'claude'")),
            vault::time::format(until)
        ));
}

/// A value under 6 bytes cannot be masked: an agent's run that would
/// inject it is refused, naming it, and runs when it is left out.
#[test]
fn a_value_too_short_to_mask_is_not_handed_to_an_agent() {
    let (env, token) = agent_vault(None);
    env.add("PIN", "1234");
    env.owner_runs(&["grant", "PIN", "--to", "claude"]);
    as_agent(&env, &token, &["exec", "--reason", "r", "--", "printenv", "PIN"]).fails(
        125,
        "not running: PIN is shorter than 6 bytes, too short to mask from an agent",
        Some("name only the secrets the command needs (`secrets` in run, --only in exec), leaving that one out"),
    );
    as_agent(
        &env,
        &token,
        &[
            "exec", "--reason", "r", "--only", "API_KEY", "--", "printenv", "API_KEY",
        ],
    )
    .success()
    .stdout_is("[masked:API_KEY]\n");
}

/// A value that URL-encoding changes is masked in its percent-encoded
/// and form-encoded shapes too.
#[test]
fn an_agents_masker_catches_url_encoding() {
    let (env, token) = agent_vault(None);
    env.add("FORM_SECRET", "p@ss w/rd+Q9z&x");
    env.owner_runs(&["grant", "FORM_SECRET", "--to", "claude"]);
    let script = "import os, urllib.parse as u; v = os.environ['FORM_SECRET']; \
                  print(u.quote(v, safe='')); print(u.quote_plus(v))";
    let out = as_agent(
        &env,
        &token,
        &[
            "exec",
            "--reason",
            "urls",
            "--only",
            "FORM_SECRET",
            "--",
            "python3",
            "-c",
            script,
        ],
    )
    .success();
    assert_eq!(out.stdout, "[masked:FORM_SECRET]\n[masked:FORM_SECRET]\n");
}
