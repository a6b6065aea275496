//! Completion in real interactive shells: bash (with bash-completion), zsh
//! and fish each run in a private tmux server with a clean home, load the
//! shipped script from where packagers install it, and get keys typed at
//! them; the test reads the screen back. `scripts/test.sh` installs the shells.
//!
//! Nothing here is timed: each step polls the screen until the expected
//! line appears, with a generous limit for a loaded machine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{Env, BIN};

const PROMPT: &str = "READY>";
const PATIENCE: Duration = Duration::from_secs(60);

/// One shell in its own tmux server, killed when dropped.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Starts `shell` in a clean environment inside `home`.
    fn start(home: &Path, vault: &Path, extra: &[(&str, String)], shell: &[&str]) -> Tmux {
        for tool in ["tmux", shell[0]] {
            let found = Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(
                found,
                "{tool} is not installed (scripts/test.sh installs it)"
            );
        }
        let tmux = Tmux {
            socket: home.join("tmux.sock"),
        };
        let bin_dir = Path::new(BIN).parent().unwrap();
        let mut env = vec![
            format!("HOME={}", home.display()),
            format!("PATH={}:/usr/local/bin:/usr/bin:/bin", bin_dir.display()),
            "TERM=screen".to_owned(),
            "LANG=C.UTF-8".to_owned(),
            format!("VAULT_PATH={}", vault.display()),
            "VAULT_NO_KEYRING=1".to_owned(),
        ];
        env.extend(extra.iter().map(|(k, v)| format!("{k}={v}")));
        // The shell starts in `home`, so relative paths complete there.
        let home_dir = home.display().to_string();
        let mut args = vec![
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "150",
            "-y",
            "30",
            "-c",
            &home_dir,
        ];
        args.push("env");
        args.push("-i");
        args.extend(env.iter().map(String::as_str));
        args.extend(shell);
        tmux.run(&args);
        tmux.wait_until(|s| s == [PROMPT], "the first prompt");
        tmux
    }

    fn run(&self, args: &[&str]) {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
    }

    /// The screen's lines without trailing blanks or blank lines.
    fn screen(&self) -> Vec<String> {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .expect("run tmux");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_owned()).collect();
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
    }

    #[track_caller]
    fn wait_until(&self, done: impl Fn(&[String]) -> bool, what: &str) -> Vec<String> {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "waited for {what}; screen:\n{}",
                screen.join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Empties the line and the screen, types `text` and presses TAB.
    fn tab(&self, text: &str) {
        self.run(&["send-keys", "-t", "t", "C-u"]);
        self.wait_until(
            |s| s.last().map(String::as_str) == Some(PROMPT),
            "an empty line",
        );
        self.run(&["send-keys", "-t", "t", "C-l"]);
        self.wait_until(|s| s == [PROMPT], "a clear screen");
        self.run(&["send-keys", "-t", "t", "-l", text]);
        self.run(&["send-keys", "-t", "t", "Tab"]);
    }

    /// TAB turns the line into `expected`.
    #[track_caller]
    fn completes(&self, typed: &str, expected: &str) {
        self.tab(typed);
        let line = format!("{PROMPT} {expected}");
        self.wait_until(|s| s.last() == Some(&line), &line);
    }

    /// TAB leaves the line as typed and prints nothing: `X` typed after it
    /// lands right behind the text once the shell has finished completing.
    #[track_caller]
    fn completes_nothing(&self, typed: &str) {
        self.tab(typed);
        self.run(&["send-keys", "-t", "t", "-l", "X"]);
        let line = format!("{PROMPT} {typed}X");
        let screen = self.wait_until(|s| s.last().is_some_and(|l| l.ends_with('X')), &line);
        assert_eq!(screen, [line], "TAB changed the line or printed something");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// A vault with STRIPE_KEY (service payments) and identities owner and ci.
fn fixture() -> Env {
    let env = Env::init();
    env.vault(&["add", "STRIPE_KEY", "--service", "payments"])
        .passphrase()
        .stdin("value")
        .run()
        .success();
    env.owner_runs(&["identity", "add", "ci", "--token"]);
    env
}

/// Installs a shipped script at `to` (relative to `home`).
fn install(home: &Path, script: &str, to: &str) {
    let target = home.join(to);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("completions")
        .join(script);
    std::fs::copy(source, target).unwrap();
}

/// The same session in every shell: names from the vault, then nothing at
/// all from a missing vault and from a file that is not a vault, each named
/// with `--vault` on the line (which must win over VAULT_PATH).
fn exercise(shell: &Tmux, home: &Path) {
    shell.completes("vault rotate ST", "vault rotate STRIPE_KEY");
    shell.completes(
        "vault grant STRIPE_KEY --to c",
        "vault grant STRIPE_KEY --to ci",
    );
    shell.completes("vault list --service pay", "vault list --service payments");
    shell.completes_nothing("vault --vault /nonexistent/vault.db rotate ST");
    let garbage = home.join("garbage.db");
    std::fs::write(&garbage, "this is not a vault").unwrap();
    shell.completes_nothing(&format!("vault --vault {} rotate ST", garbage.display()));
    // After `exec --`: a command, a script by its path, then files.
    let script = home.join("deploy.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(home.join("notes.txt"), "").unwrap();
    shell.completes("vault exec -- printe", "vault exec -- printenv");
    shell.completes("vault exec -- ./depl", "vault exec -- ./deploy.sh");
    shell.completes(
        "vault exec --only STRIPE_KEY -- cat note",
        "vault exec --only STRIPE_KEY -- cat notes.txt",
    );
}

#[test]
fn bash_with_bash_completion_completes_names() {
    let env = fixture();
    let home = env.path().join("bash");
    install(
        &home,
        "vault.bash",
        "share/bash-completion/completions/vault",
    );
    let rc = home.join("bashrc");
    std::fs::write(
        &rc,
        format!("source /usr/share/bash-completion/bash_completion\nPS1='{PROMPT} '\n"),
    )
    .unwrap();
    let data = home.join("share").display().to_string();
    let rc = rc.display().to_string();
    let shell = Tmux::start(
        &home,
        &env.vault,
        &[("XDG_DATA_HOME", data)],
        &["bash", "--noprofile", "--rcfile", &rc, "-i"],
    );
    exercise(&shell, &home);
}

#[test]
fn zsh_completes_names_from_fpath() {
    let env = fixture();
    let home = env.path().join("zsh");
    install(&home, "_vault", "zfunc/_vault");
    std::fs::write(
        home.join(".zshrc"),
        format!(
            "fpath=({}/zfunc $fpath)\nautoload -Uz compinit\ncompinit -u -d {}/.zcompdump\nPROMPT='{PROMPT} '\n",
            home.display(),
            home.display()
        ),
    )
    .unwrap();
    let zdotdir = home.display().to_string();
    let shell = Tmux::start(&home, &env.vault, &[("ZDOTDIR", zdotdir)], &["zsh", "-i"]);
    exercise(&shell, &home);
}

#[test]
fn fish_completes_names() {
    let env = fixture();
    let home = env.path().join("fish");
    install(&home, "vault.fish", "config/fish/completions/vault.fish");
    std::fs::write(
        home.join("config/fish/config.fish"),
        format!(
            "set -g fish_greeting ''\nset -g fish_autosuggestion_enabled 0\nfunction fish_prompt; printf '{PROMPT} '; end\n"
        ),
    )
    .unwrap();
    let config = home.join("config").display().to_string();
    let data = home.join("share").display().to_string();
    let shell = Tmux::start(
        &home,
        &env.vault,
        &[("XDG_CONFIG_HOME", config), ("XDG_DATA_HOME", data)],
        &["fish", "-i"],
    );
    exercise(&shell, &home);
}
