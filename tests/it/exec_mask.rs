//! `vault exec` masking: values replaced in output as it streams, other
//! bytes untouched, pipes that close early, large output, and programs on
//! a pseudo-terminal.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::exec::{bash, with_secrets};
use crate::support::Env;

/// Deterministic bytes covering every value, for binary checks.
fn blob(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn a_secret_printed_into_a_pipe_is_masked() {
    let env = with_secrets();
    env.vault(&["exec", "--", "sh", "-c"])
        .arg(r#"printf 'token=%s;\n' "$API_KEY"; echo "db $DB_PASSWORD" >&2"#)
        .passphrase()
        .run()
        .success()
        .stdout_is("token=[masked:API_KEY];\n")
        .stderr_is("db [masked:DB_PASSWORD]\n");
}

#[test]
fn a_secret_split_across_two_writes_with_a_pause_is_masked() {
    let env = with_secrets();
    env.vault(&["exec", "--", "sh", "-c"])
        .arg(r#"printf %s "${API_KEY%????}"; sleep 0.3; printf '%s\n' "${API_KEY#????????????}""#)
        .passphrase()
        .run()
        .success()
        .stdout_is("[masked:API_KEY]\n");
}

#[test]
fn a_held_back_prefix_comes_out_when_it_is_not_a_secret() {
    let env = with_secrets();
    env.vault(&[
        "exec",
        "--",
        "sh",
        "-c",
        "printf sk_live_; sleep 0.2; echo zzz",
    ])
    .passphrase()
    .run()
    .success()
    .stdout_is("sk_live_zzz\n");
}

#[test]
fn a_binary_blob_passes_unchanged_in_both_modes() {
    let env = with_secrets();
    let bytes = blob(1 << 20);
    std::fs::write(env.path().join("blob"), &bytes).unwrap();
    for mode in ["always", "never"] {
        let out = env
            .vault(&["exec", "--mask", mode, "--", "cat", "blob"])
            .passphrase()
            .run()
            .success();
        assert!(out.raw_stdout == bytes, "--mask {mode} changed the bytes");
    }
}

#[test]
fn several_megabytes_written_fast_arrive_whole_and_in_order() {
    let env = with_secrets();
    let mut input = String::new();
    let mut expected = String::new();
    for i in 0..200_000 {
        let line = if i % 997 == 0 {
            format!("line {i:07} key=sk_live_4f9a8b7c end\n")
        } else {
            format!("line {i:07} some ordinary output here\n")
        };
        expected.push_str(&line.replace("sk_live_4f9a8b7c", "[masked:API_KEY]"));
        input.push_str(&line);
    }
    assert!(input.len() > 7_000_000);
    std::fs::write(env.path().join("big"), &input).unwrap();
    let out = env
        .vault(&["exec", "--", "cat", "big"])
        .passphrase()
        .run()
        .success();
    assert_eq!(out.stdout.len(), expected.len());
    assert!(out.stdout == expected, "output differs from the input");
}

#[test]
fn a_program_closing_its_stdout_early_does_not_hang_vault() {
    let env = with_secrets();
    env.vault(&["exec", "--mask", "always", "--", "sh", "-c"])
        .arg(r#"exec >&-; sleep 0.2; echo "still here $API_KEY" >&2; exit 3"#)
        .passphrase()
        .run()
        .code(3)
        .stdout_is("")
        .stderr_is("still here [masked:API_KEY]\n");
}

#[test]
fn a_reader_closing_early_ends_vault_quietly() {
    let env = with_secrets();
    let out = bash(
        &env,
        r#""$VAULT" exec --mask always -- sh -c 'while :; do echo "$API_KEY"; done' | head -n 2; echo "status ${PIPESTATUS[0]}""#,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "[masked:API_KEY]\n[masked:API_KEY]\nstatus 141\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn short_values_are_named_and_left_unmasked() {
    let env = Env::init();
    env.add("PIN", "12345");
    env.add("API_KEY", "sk_live_4f9a8b7c");
    env.vault(&["exec", "--", "sh", "-c", "echo $PIN $API_KEY"])
        .passphrase()
        .run()
        .success()
        .stdout_is("12345 [masked:API_KEY]\n")
        .stderr_is("warning: not masking PIN: values shorter than 6 bytes are not masked\n");
}

#[test]
fn mask_never_leaves_output_alone() {
    let env = with_secrets();
    env.vault(&["exec", "--mask", "never", "--", "printenv", "API_KEY"])
        .passphrase()
        .run()
        .success()
        .stdout_is("sk_live_4f9a8b7c\n");
}

#[test]
fn mask_always_into_pipes_needs_no_terminal() {
    let env = with_secrets();
    env.vault(&["exec", "--mask", "always", "--", "sh", "-c"])
        .arg("test -t 1 || echo \"not a terminal: $API_KEY\"")
        .passphrase()
        .run()
        .success()
        .stdout_is("not a terminal: [masked:API_KEY]\n");
}

/// Runs `inner` (a shell script) on a fresh pseudo-terminal with script(1),
/// and returns everything the terminal showed.
pub fn on_a_terminal(env: &Env, inner: &str) -> String {
    let inner_sh = env.path().join("inner.sh");
    std::fs::write(&inner_sh, inner).unwrap();
    let out = bash(
        env,
        &format!("script -qec 'sh {}' /dev/null", inner_sh.display()),
    );
    assert!(out.status.success(), "script failed: {out:#?}");
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

#[test]
fn mask_always_on_a_terminal_still_gives_the_program_a_terminal() {
    let env = with_secrets();
    let shown = on_a_terminal(
        &env,
        r#""$VAULT" exec --mask always -- sh -c 'test -t 1 && echo "stdout is a terminal"; test -t 2 && echo "stderr is a terminal $DB_PASSWORD" >&2; echo "$API_KEY"'
echo "status $?"
"#,
    );
    assert_eq!(
        shown,
        "stdout is a terminal\nstderr is a terminal [masked:DB_PASSWORD]\n[masked:API_KEY]\nstatus 0\n"
    );
}

#[test]
fn mask_auto_on_a_terminal_does_not_mask() {
    let env = with_secrets();
    let shown = on_a_terminal(&env, r#""$VAULT" exec -- printenv API_KEY"#);
    assert_eq!(shown, "sk_live_4f9a8b7c\n");
}

#[test]
fn mask_always_without_a_pseudo_terminal_fails_before_running() {
    let env = with_secrets();
    let shown = on_a_terminal(
        &env,
        r#"VAULT_TEST_NO_PTY=1 "$VAULT" exec --mask always -- touch ran
echo "status $?"
"#,
    );
    assert_eq!(
        shown,
        "error: cannot open a pseudo-terminal for the program's output: turned off by VAULT_TEST_NO_PTY\n\
         hint: pass --mask never to run it on the terminal unmasked, or send its output to a file or pipe, where it is masked without one\n\
         status 125\n"
    );
    assert!(!env.path().join("ran").exists());
    // Into a pipe, the same run needs no pseudo-terminal and works.
    env.vault(&["exec", "--mask", "always", "--", "printenv", "API_KEY"])
        .env("VAULT_TEST_NO_PTY", "1")
        .passphrase()
        .run()
        .success()
        .stdout_is("[masked:API_KEY]\n");
}

/// Waits until the last line of `path` is `expected`, failing the test if
/// it never is.
fn wait_for_last_line(path: &Path, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().last() == Some(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "last line never {expected:?}: {text:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A tmux server on a socket in the test's own directory, killed (with
/// everything in its panes) when the test ends, even when it fails.
struct Tmux<'a> {
    env: &'a Env,
    socket: std::path::PathBuf,
}

impl Tmux<'_> {
    fn run(&self, args: &str) -> std::process::Output {
        bash(
            self.env,
            &format!("tmux -S '{}' {args}", self.socket.display()),
        )
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        self.run("kill-server");
    }
}

#[test]
fn the_pseudo_terminal_follows_the_window_size() {
    let env = with_secrets();
    let dir = env.path().display().to_string();
    let inner = env.path().join("inner.sh");
    // Every path is absolute: the script must not depend on the directory
    // tmux starts its pane in.
    std::fs::write(
        &inner,
        format!(
            r#"cd '{dir}' || exit 1
"$VAULT" exec --mask always -- bash -c 'trap "stty size <&1 >> sizes" WINCH; stty size <&1 >> sizes; for _ in $(seq 1200); do sleep 0.05; [ -e stop ] && exit 0; done'"#
        ),
    )
    .unwrap();
    let tmux = Tmux {
        env: &env,
        socket: env.path().join("tmux.sock"),
    };
    let started = tmux.run(&format!(
        "new-session -d -c '{dir}' -x 100 -y 30 'sh {}'",
        inner.display()
    ));
    assert!(started.status.success(), "{started:#?}");
    let sizes = env.path().join("sizes");
    wait_for_last_line(&sizes, "30 100");
    tmux.run("resize-window -t 0 -x 120 -y 40");
    wait_for_last_line(&sizes, "40 120");
    std::fs::write(env.path().join("stop"), "").unwrap();
}
