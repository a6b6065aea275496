//! `vault exec` as CI runs it: `CI=true`, stdin from /dev/null, an access
//! token, stdout and stderr captured into one pipe, and the job killed
//! from outside. Output keeps the program's order, the program dies with
//! vault, and a script without `#!` runs the same in every mode.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::exec::with_secrets;
use crate::exec_mask::on_a_terminal;
use crate::support::{Env, BIN};

/// How long a test waits for something that should take milliseconds,
/// before calling it a hang.
const PATIENCE: Duration = Duration::from_secs(60);

/// A vault with API_KEY and DB_PASSWORD granted to a machine identity
/// `ci`, and that identity's access token.
pub fn ci_vault() -> (Env, String) {
    let env = with_secrets();
    let out = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success();
    env.owner_runs(&["grant", "API_KEY", "DB_PASSWORD", "--to", "ci"]);
    (env, out.stdout.trim_end().to_owned())
}

/// Runs `program args` as a CI job would: the env's variables but no
/// passphrase, the token, `CI=true`, `$VAULT` naming the binary, stdin
/// from /dev/null.
pub fn ci_command(env: &Env, token: &str, program: &str) -> Command {
    let template = env.vault(&[]).command;
    let mut command = Command::new(program);
    command.env_clear();
    for (key, value) in template.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command
        .env("VAULT", BIN)
        .env("VAULT_ACCESS_TOKEN", token)
        .env("CI", "true")
        .current_dir(env.path())
        .stdin(Stdio::null());
    command
}

fn ci_bash(env: &Env, token: &str, script: &str) -> Output {
    ci_command(env, token, "bash")
        .arg("-c")
        .arg(script)
        .output()
        .expect("run bash")
}

#[test]
fn trace_lines_stay_beside_their_output_in_one_captured_pipe() {
    let (env, token) = ci_vault();
    let out = ci_bash(
        &env,
        &token,
        r#"expected=$(printf '+ echo one\none\n+ echo two\ntwo\n+ echo three\nthree')
in_order=0
for _ in $(seq 100); do
  run=$("$VAULT" exec -- bash -xc 'echo one; echo two; echo three' </dev/null 2>&1 | cat)
  if [ "$run" = "$expected" ]; then in_order=$((in_order + 1)); else last=$run; fi
done
echo "in order: $in_order of 100"
[ -n "$last" ] && printf 'one out of order:\n%s\n' "$last"
"$VAULT" exec -- printenv API_KEY 2>&1 | cat"#,
    );
    // The last line proves masking was on for these runs.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "in order: 100 of 100\n[masked:API_KEY]\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn separate_stdout_and_stderr_each_keep_their_own_order() {
    let (env, token) = ci_vault();
    let out = ci_bash(
        &env,
        &token,
        r#""$VAULT" exec -- bash -xc 'echo one; echo "$API_KEY"; echo three' 2>err | cat; cat err"#,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "one\n[masked:API_KEY]\nthree\n+ echo one\n+ echo [masked:API_KEY]\n+ echo three\n"
    );
}

/// Whether process `pid` is still running (a zombie counts as gone: it
/// runs nothing and holds no port).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

/// Reads the pid the program wrote to `path`, waiting for it to appear.
fn wait_for_pid(path: &Path) -> i32 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.ends_with('\n') {
            return text.trim().parse().expect("a pid");
        }
        assert!(Instant::now() < deadline, "the program never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asserts that `pid` ends; kills it and fails the test if it does not.
fn assert_ends(pid: i32) {
    let deadline = Instant::now() + PATIENCE;
    while running(pid) {
        if Instant::now() > deadline {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("the program outlived vault");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The program: writes its pid to `pid`, then becomes `sleep SECONDS`
/// (same process, so the pid is the sleep's). Tests sleep far longer than
/// [`PATIENCE`], so a sleep that outlives vault fails them.
fn sleeper(seconds: &str) -> String {
    format!("echo $$ > pid.tmp && mv pid.tmp pid && exec sleep {seconds}")
}

#[test]
fn sigkill_to_vault_kills_the_program_it_supervises() {
    let (env, token) = ci_vault();
    let mut vault = ci_command(&env, &token, BIN)
        .args(["exec", "--", "sh", "-c", &sleeper("600")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start vault");
    let pid = wait_for_pid(&env.path().join("pid"));
    assert!(running(pid), "sleep is not running");
    vault.kill().expect("SIGKILL vault");
    vault.wait().expect("reap vault");
    assert_ends(pid);
}

#[test]
fn a_python_subprocess_timeout_leaves_nothing_running() {
    let (env, token) = ci_vault();
    let script = format!(
        r#"import os, subprocess
try:
    subprocess.run([os.environ["VAULT"], "exec", "--", "sh", "-c", {:?}], capture_output=True, timeout=5)
    print("finished")
except subprocess.TimeoutExpired:
    print("timed out")
"#,
        sleeper("601")
    );
    let out = ci_command(&env, &token, "python3")
        .arg("-c")
        .arg(script)
        .output()
        .expect("run python3");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "timed out\n",
        "{out:?}"
    );
    assert_ends(wait_for_pid(&env.path().join("pid")));
}

#[test]
fn a_script_without_a_shebang_runs_the_same_in_every_mode() {
    let (env, token) = ci_vault();
    let script = env.path().join("job");
    std::fs::write(&script, "echo \"$0 got $1\"\nprintenv API_KEY\nexit 3\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    for (mode, value) in [
        ("never", "sk_live_4f9a8b7c"),
        ("always", "[masked:API_KEY]"),
    ] {
        let out = ci_command(&env, &token, BIN)
            .args(["exec", "--mask", mode, "--", "./job", "arg"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "--mask {mode}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("./job got arg\n{value}\n"),
            "--mask {mode}"
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "--mask {mode}");
    }
}

#[test]
fn ci_set_masks_at_a_terminal_with_mask_auto() {
    let env = with_secrets();
    let shown = on_a_terminal(
        &env,
        r#"CI=true "$VAULT" exec -- sh -c 'test -t 1 && echo "on a terminal: $API_KEY"'
CI=true "$VAULT" exec --explain
"#,
    );
    assert!(
        shown.starts_with("on a terminal: [masked:API_KEY]\n"),
        "{shown}"
    );
    assert!(shown.contains("\nmasking: on (CI is set)\n"), "{shown}");
}

#[test]
fn ci_empty_zero_or_false_leaves_a_terminal_unmasked() {
    let env = with_secrets();
    let shown = on_a_terminal(
        &env,
        r#"for ci in '' 0 false FALSE; do CI=$ci "$VAULT" exec -- printenv API_KEY; done
CI=true "$VAULT" exec --mask never -- printenv API_KEY
"#,
    );
    assert_eq!(shown, "sk_live_4f9a8b7c\n".repeat(5));
}
