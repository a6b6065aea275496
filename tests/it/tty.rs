//! At a real terminal (driven through tmux): init asks for the passphrase
//! twice and refuses two different entries, add asks for the value hidden,
//! and delete asks before deleting.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Env, BIN, PASSPHRASE};

/// How long to wait for the pane before calling the command hung. Only a
/// guard against a hang: nothing asserts how long anything takes.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// A detached tmux server of its own running one vault command in a pane.
struct Terminal {
    socket: PathBuf,
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl Terminal {
    /// Runs `vault ARGS` in a fresh pane with the env's variables plus
    /// `vars`, under umask 000; the pane stays open after it exits.
    fn run(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Terminal {
        Terminal::start(env, "", args, vars)
    }

    /// As [`Terminal::run`], with `file` piped to vault's stdin (`cat FILE |
    /// vault ARGS`): the terminal is still there, on `/dev/tty`.
    fn run_piped(env: &Env, file: &Path, args: &[&str], vars: &[(&str, &str)]) -> Terminal {
        let pipe = format!("cat {} | ", quote(&file.to_string_lossy()));
        Terminal::start(env, &pipe, args, vars)
    }

    fn start(env: &Env, pipe: &str, args: &[&str], vars: &[(&str, &str)]) -> Terminal {
        let socket = env.path().join("tmux.sock");
        let mut script = format!(
            "umask 000; cd {} && {pipe}env -i",
            quote(&env.path().to_string_lossy())
        );
        let home = env.path().to_string_lossy().into_owned();
        let base = [
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("HOME", home.as_str()),
            ("TERM", "xterm"),
            ("LANG", "C.UTF-8"),
            ("VAULT_PATH", env.vault.to_str().unwrap()),
            ("VAULT_NO_KEYRING", "1"),
            ("VAULT_TEST_KDF", "floor"),
        ];
        for (k, v) in base.iter().chain(vars) {
            script.push_str(&format!(" {k}={}", quote(v)));
        }
        script.push(' ');
        script.push_str(&quote(BIN));
        for arg in args {
            script.push(' ');
            script.push_str(&quote(arg));
        }
        script.push_str("; echo \"[exit $?]\"; sleep 3600");
        let terminal = Terminal { socket };
        terminal.tmux(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "200",
            "-y",
            "50",
            &script,
        ]);
        terminal
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env("TERM", "xterm")
            .output()
            .expect("tmux is installed (scripts/test.sh installs it)");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits until the pane shows `text` (tmux drops trailing spaces);
    /// returns the whole screen.
    #[track_caller]
    fn wait_for(&self, text: &str) -> String {
        let start = std::time::Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "the pane never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Waits until the pane's terminal has echo turned off, as a hidden
    /// prompt does before it reads; typing earlier could be echoed.
    #[track_caller]
    fn wait_for_hidden_input(&self) {
        let tty = self.tmux(&["display-message", "-p", "-t", "t", "#{pane_tty}"]);
        let start = std::time::Instant::now();
        loop {
            let out = Command::new("stty")
                .args(["-a", "-F", tty.trim()])
                .output()
                .expect("stty");
            let flags = String::from_utf8_lossy(&out.stdout).into_owned();
            if flags.split_whitespace().any(|f| f == "-echo") {
                return;
            }
            assert!(start.elapsed() < PATIENCE, "echo never went off:\n{flags}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Waits for a hidden prompt, then types `text` and Enter.
    #[track_caller]
    fn type_hidden(&self, prompt: &str, text: &str) {
        self.wait_for(prompt);
        self.wait_for_hidden_input();
        self.type_line(text);
    }

    /// Types `text` and Enter.
    fn type_line(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", text]);
        self.tmux(&["send-keys", "-t", "t", "Enter"]);
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

#[test]
fn init_asks_twice_without_echo() {
    let env = Env::new();
    let term = Terminal::run(&env, &["init", "--name", "alice"], &[]);
    term.type_hidden("New passphrase for alice:", "typed-at-the-terminal");
    term.type_hidden("Repeat it:", "typed-at-the-terminal");
    let screen = term.wait_for("[exit 0]");
    assert!(
        screen.contains(&format!(
            "created vault {} with identity alice",
            env.vault.display()
        )),
        "{screen}"
    );
    assert!(!screen.contains("typed-at-the-terminal"), "{screen}");
    env.vault(&["exec", "--mask", "never", "--", "true"])
        .env("VAULT_PASSPHRASE", "typed-at-the-terminal")
        .run()
        .success();
}

/// Regression: init gave up on two different entries instead of asking
/// again.
#[test]
fn init_asks_again_when_the_two_entries_differ() {
    let env = Env::new();
    let term = Terminal::run(&env, &["init", "--name", "alice"], &[]);
    term.type_hidden("New passphrase for alice:", "first entry of many words");
    term.type_hidden("Repeat it:", "second entry of many words");
    term.wait_for("the passphrases do not match, try again\nNew passphrase for alice:");
    term.wait_for_hidden_input();
    term.type_line("the entry that stays");
    term.type_hidden("Repeat it:", "the entry that stays");
    let screen = term.wait_for("[exit 0]");
    assert!(
        screen.contains(&format!(
            "Repeat it:\ncreated vault {} with identity alice\n[exit 0]",
            env.vault.display()
        )),
        "{screen}"
    );
    env.vault(&["exec", "--mask", "never", "--", "true"])
        .env("VAULT_PASSPHRASE", "the entry that stays")
        .run()
        .success();
}

#[test]
fn init_gives_up_after_three_different_pairs() {
    let env = Env::new();
    let term = Terminal::run(&env, &["init", "--name", "alice"], &[]);
    for _ in 0..3 {
        term.type_hidden("New passphrase for alice:", "first entry of many words");
        term.type_hidden("Repeat it:", "second entry of many words");
    }
    let screen = term.wait_for("[exit 2]");
    assert!(
        screen.contains("Repeat it:\nerror: the passphrases do not match\n[exit 2]"),
        "{screen}"
    );
    assert_eq!(screen.matches("try again").count(), 2, "{screen}");
    assert!(!env.vault.exists());
}

/// Regression: Ctrl-D at a prompt printed the error on the prompt's line.
#[test]
fn ctrl_d_at_a_prompt_cancels_on_a_line_of_its_own() {
    let env = Env::new();
    let term = Terminal::run(&env, &["init", "--name", "alice"], &[]);
    term.wait_for("New passphrase for alice:");
    term.wait_for_hidden_input();
    term.tmux(&["send-keys", "-t", "t", "C-d"]);
    let screen = term.wait_for("[exit 2]");
    assert!(
        screen
            .contains("New passphrase for alice:\nerror: cancelled: nothing was changed\n[exit 2]"),
        "{screen}"
    );
    assert!(!env.vault.exists());
}

/// A short passphrase is taken, with a word about it.
#[test]
fn a_short_passphrase_earns_a_warning() {
    let env = Env::new();
    let term = Terminal::run(&env, &["init", "--name", "alice"], &[]);
    term.type_hidden("New passphrase for alice:", "abc");
    term.type_hidden("Repeat it:", "abc");
    let screen = term.wait_for("[exit 0]");
    assert!(
        screen.contains(
            "Repeat it:\nwarning: this passphrase has only 3 characters; one of 12 or more \
             (several words) resists guessing far better\ncreated vault"
        ),
        "{screen}"
    );
}

#[test]
fn add_asks_for_the_value_without_echo() {
    let env = Env::init();
    let file = env.passphrase_file.to_str().unwrap();
    let term = Terminal::run(&env, &["add", "TYPED"], &[("VAULT_PASSPHRASE_FILE", file)]);
    term.type_hidden("Value for TYPED:", "typed value 42");
    term.type_hidden("Repeat it:", "typed value 42");
    let screen = term.wait_for("[exit 0]");
    assert!(
        screen.contains("Repeat it:\nadded TYPED\n[exit 0]"),
        "{screen}"
    );
    assert!(!screen.contains("typed value"), "{screen}");
    assert_eq!(env.value_of("TYPED"), "typed value 42");
}

#[test]
fn add_refuses_two_different_values() {
    let env = Env::init();
    let before = env.dump();
    let file = env.passphrase_file.to_str().unwrap();
    let term = Terminal::run(&env, &["add", "TYPED"], &[("VAULT_PASSPHRASE_FILE", file)]);
    term.type_hidden("Value for TYPED:", "one value");
    term.type_hidden("Repeat it:", "another value");
    let screen = term.wait_for("[exit 2]");
    assert!(
        screen.contains("Repeat it:\nerror: the two entries differ: nothing was stored\n[exit 2]"),
        "{screen}"
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn unlocks_at_a_passphrase_prompt() {
    let env = Env::init();
    env.add("SHOWN", "to the child");
    let term = Terminal::run(
        &env,
        &["exec", "--mask", "never", "--", "printenv", "SHOWN"],
        &[],
    );
    term.type_hidden("Passphrase for owner:", "not it");
    term.wait_for("wrong passphrase, try again");
    term.wait_for_hidden_input();
    term.type_line(PASSPHRASE);
    let screen = term.wait_for("[exit 0]");
    assert!(screen.contains("to the child\n[exit 0]"), "{screen}");
    assert!(!screen.contains(PASSPHRASE), "{screen}");
}

/// Regression: `cat key.pem | vault add DEPLOY_KEY`, the README's own
/// line, answered "no terminal to ask on" to a user sitting at one.
#[test]
fn a_piped_value_still_asks_the_passphrase_on_the_terminal() {
    let env = Env::init();
    let pem = env.path().join("key.pem");
    std::fs::write(&pem, "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n").unwrap();
    let term = Terminal::run_piped(&env, &pem, &["add", "DEPLOY_KEY"], &[]);
    term.type_hidden("Passphrase for owner:", PASSPHRASE);
    let screen = term.wait_for("[exit 0]");
    assert!(
        screen.contains("Passphrase for owner:\nadded DEPLOY_KEY\n[exit 0]"),
        "{screen}"
    );
    assert!(!screen.contains(PASSPHRASE), "{screen}");
    drop(term);
    assert_eq!(
        env.value_of("DEPLOY_KEY"),
        "-----BEGIN KEY-----\nMIIB\n-----END KEY-----"
    );
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn delete_asks_and_no_keeps_the_secret() {
    let env = Env::init();
    env.add("GONE", "value");
    let before = env.dump();
    let file = env.passphrase_file.to_str().unwrap();
    let term = Terminal::run(
        &env,
        &["delete", "GONE"],
        &[("VAULT_PASSPHRASE_FILE", file)],
    );
    term.wait_for("Delete secret GONE? Its value cannot be recovered. [y/N]");
    // vault has the file open while it waits: the -wal and -shm it created
    // under umask 000 are private too.
    for suffix in ["-wal", "-shm"] {
        let mut path = env.vault.clone().into_os_string();
        path.push(suffix);
        assert_eq!(mode(std::path::Path::new(&path)), 0o600, "{suffix}");
    }
    term.type_line("n");
    let screen = term.wait_for("[exit 2]");
    assert!(
        screen.contains("[y/N] n\nerror: cancelled: nothing was changed\n[exit 2]"),
        "{screen}"
    );
    drop(term);
    assert_eq!(env.dump(), before);
}

#[test]
fn delete_asks_and_yes_deletes() {
    let env = Env::init();
    env.add("GONE", "value");
    let file = env.passphrase_file.to_str().unwrap();
    let term = Terminal::run(
        &env,
        &["delete", "GONE"],
        &[("VAULT_PASSPHRASE_FILE", file)],
    );
    term.wait_for("Delete secret GONE? Its value cannot be recovered. [y/N]");
    term.type_line("y");
    let screen = term.wait_for("[exit 0]");
    assert!(
        screen.contains("[y/N] y\ndeleted GONE\n[exit 0]"),
        "{screen}"
    );
    assert_eq!(env.int("secrets", "count(*)", "1"), 0);
}
