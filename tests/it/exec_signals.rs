//! `vault exec` supervising a program while masking: signals reach it,
//! and vault exits with its status (128+N when it died of signal N).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::exec::with_secrets;
use crate::support::{Env, BIN};

/// How long a test waits for something that should take milliseconds,
/// before calling it a hang.
const PATIENCE: Duration = Duration::from_secs(60);

/// A bash script that logs the signals it traps to the file given as $1,
/// announces it is ready, and exits 7 on SIGTERM or 9 on SIGINT, ending
/// the `sleep` it waits on. It gives up by itself after about a minute,
/// so a failing test leaves nothing running.
///
/// It waits in the `wait` builtin, which a trapped signal interrupts at
/// once, not on a `sleep` in the foreground: vault forwards a signal to
/// the program's pid, as kill(1) would, and bash takes a SIGINT that
/// arrives while a foreground child runs as the child's to handle; the
/// child exits normally, and bash drops it ("wait and cooperative exit").
/// A SIGINT that landed during the first `sleep` rather than before it
/// was dropped so, about one run in forty.
const TRAPPER: &str = r#"trap 'echo "got USR1" >> "$1"' USR1
trap 'echo "got TERM" >> "$1"; kill $! 2>/dev/null; exit 7' TERM
trap 'echo "got INT" >> "$1"; kill $! 2>/dev/null; exit 9' INT
echo "ready $API_KEY"
for _ in $(seq 1200); do sleep 0.05 & wait $!; done
exit 99
"#;

/// Starts `vault exec --mask always -- bash trapper.sh log` (under
/// setsid(1), with no controlling terminal, if `detached`) and waits until
/// the script is ready.
fn start_trapper(env: &Env, detached: bool) -> Child {
    std::fs::write(env.path().join("trapper.sh"), TRAPPER).unwrap();
    let template = env.vault(&[]).passphrase().command;
    let mut command = if detached {
        let mut c = Command::new("setsid");
        c.arg(BIN);
        c
    } else {
        Command::new(BIN)
    };
    command
        .args([
            "exec",
            "--mask",
            "always",
            "--",
            "bash",
            "trapper.sh",
            "log",
        ])
        .env_clear()
        .current_dir(env.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in template.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    let mut child = command.spawn().expect("start vault");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready [masked:API_KEY]\n");
    child
}

fn signal(child: &Child, signal: Signal) {
    kill(Pid::from_raw(child.id() as i32), signal).expect("send a signal");
}

/// Waits for the child, failing the test if it hangs.
fn wait(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("vault did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `path` holds `expected`, failing the test if it never does.
fn wait_for_file(path: &Path, expected: &str) {
    let deadline = Instant::now() + PATIENCE;
    while std::fs::read_to_string(path).unwrap_or_default() != expected {
        assert!(
            Instant::now() < deadline,
            "{} never read {expected:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_to_vault_reaches_a_trapping_script_and_its_status_comes_back() {
    let env = with_secrets();
    let mut child = start_trapper(&env, false);
    signal(&child, Signal::SIGUSR1);
    wait_for_file(&env.path().join("log"), "got USR1\n");
    signal(&child, Signal::SIGTERM);
    assert_eq!(wait(&mut child).code(), Some(7));
    assert_eq!(
        std::fs::read_to_string(env.path().join("log")).unwrap(),
        "got USR1\ngot TERM\n"
    );
}

#[test]
fn sigint_is_forwarded_when_there_is_no_controlling_terminal() {
    let env = with_secrets();
    let mut child = start_trapper(&env, true);
    signal(&child, Signal::SIGINT);
    assert_eq!(wait(&mut child).code(), Some(9));
    assert_eq!(
        std::fs::read_to_string(env.path().join("log")).unwrap(),
        "got INT\n"
    );
}

#[test]
fn a_program_killed_by_sigkill_gives_137() {
    let env = with_secrets();
    env.vault(&[
        "exec",
        "--mask",
        "always",
        "--",
        "sh",
        "-c",
        "kill -KILL $$",
    ])
    .passphrase()
    .run()
    .code(137);
}

#[test]
fn exit_statuses_pass_through_when_masking() {
    let env = with_secrets();
    for code in [0, 1, 42, 130] {
        env.vault(&["exec", "--mask", "always", "--", "sh", "-c"])
            .arg(format!("exit {code}"))
            .passphrase()
            .run()
            .code(code);
    }
}
