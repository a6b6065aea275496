//! `vault exec --file` and `--render`: the value is on no file system and
//! not in the environment, binary values round-trip, which processes get
//! the descriptor (the supervisor keeps none), templates, masking,
//! `--explain`, and both exec modes (replacing itself, supervising to
//! mask) behaving the same. Real consumers (openssl, curl, ssh-keygen,
//! Python) are in exec_files_tools.rs, bad input in exec_files_refuse.rs.
//! (The suite runs as root, as hostile.rs needs: /proc of the
//! non-dumpable supervisor is root's.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::exec::RunExt;
use crate::support::{Env, Output};

/// A directory outside the env's home for files the test makes itself
/// (keys, certificates), so the home holds only what vault wrote.
pub fn workshop() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// The two exec modes: vault replaced by the program, and vault
/// supervising it to mask its output.
pub const MODES: [&str; 2] = ["never", "always"];

/// Runs `program` in `dir`; it must succeed.
pub fn tool(dir: &Path, program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {out:?}");
}

/// Adds `name` with the bytes of `path` (as `vault add --from-file`
/// reads them: one final newline dropped).
pub fn add_file(env: &Env, name: &str, path: &Path) {
    env.vault(&["add", name, "--from-file"])
        .arg(path)
        .passphrase()
        .run()
        .success();
}

/// `vault exec --mask MODE ARGS -- sh -c SCRIPT`, as the owner.
pub fn exec_sh(env: &Env, mode: &str, args: &[&str], script: &str) -> Output {
    env.vault(&["exec", "--mask", mode])
        .args_of(args)
        .args_of(&["--", "sh", "-c", script])
        .passphrase()
        .run()
}

#[test]
fn the_environment_holds_the_path_and_never_the_value() {
    let env = Env::init();
    env.add("API_TOKEN", "tok_9c2e7f31a8d4");
    let script = r#"
import os
value = open(os.environ["TOKEN_FILE"], "rb").read()
print(value == b"tok_9c2e7f31a8d4", os.environ["TOKEN_FILE"].startswith("/proc/self/fd/"),
      [k for k, v in os.environb.items() if value in v])
"#;
    for mode in MODES {
        env.vault(&["exec", "--mask", mode, "--file", "TOKEN_FILE=API_TOKEN"])
            .args_of(&["--", "python3", "-c", script])
            .passphrase()
            .run()
            .success()
            .stdout_is("True True []\n");
    }
}

/// Deterministic bytes without NUL (a value cannot hold one), not UTF-8,
/// not ending in a newline.
fn binary(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((x >> 24) as u8).max(1)
        })
        .collect();
    bytes[0] = 0xff;
    bytes[len - 1] = b'x';
    bytes
}

#[test]
fn a_100_kib_binary_value_round_trips_exactly() {
    let env = Env::init();
    let work = workshop();
    let value = binary(100 * 1024);
    let expected = work.path().join("expected.bin");
    std::fs::write(&expected, &value).unwrap();
    add_file(&env, "BLOB", &expected);
    for mode in MODES {
        exec_sh(
            &env,
            mode,
            &["--file", "BLOB"],
            &format!(r#"cmp "$BLOB" {} && wc -c < "$BLOB""#, expected.display()),
        )
        .success()
        .stdout_is("102400\n");
    }
    let out = exec_sh(&env, "never", &["--file", "BLOB"], r#"cat "$BLOB""#).success();
    assert_eq!(out.raw_stdout, value);
}

#[test]
fn a_one_line_value_is_the_file_exactly() {
    let env = Env::init();
    env.add("TOKEN", "tok_5b8d1e6a2f");
    exec_sh(
        &env,
        "never",
        &["--file", "TOKEN"],
        r#"od -An -c "$TOKEN" | tr -s ' '"#,
    )
    .success()
    .stdout_is(" t o k _ 5 b 8 d 1 e 6 a 2 f\n");
}

#[test]
fn a_variable_of_the_longest_name_gets_its_file() {
    // The kernel limits a memory file's name to 249 bytes; a variable's
    // may be 255.
    let env = Env::init();
    env.add("TOKEN", "tok_5b8d1e6a2f");
    let var = format!("V{}", "_".repeat(254));
    exec_sh(
        &env,
        "never",
        &["--file", &format!("{var}=TOKEN")],
        &format!("cat \"${var}\""),
    )
    .success()
    .stdout_is("tok_5b8d1e6a2f");
}

#[test]
fn the_file_is_sealed_read_only_and_re_readable() {
    let env = Env::init();
    env.add("TOKEN", "tok_5b8d1e6a2f");
    // vault's tests may run as root, whom the mode does not stop: the
    // seals stop every write, whoever opens the file.
    let script = r#"
import fcntl, os, stat
path = os.environ["TOKEN"]
fd = int(path.rsplit("/", 1)[1])
def refused(f):
    try:
        f()
        return "written"
    except OSError as e:
        return e.errno in (1, 13)
print(oct(stat.S_IMODE(os.stat(path).st_mode)), fcntl.fcntl(fd, 1034) & 15,
      refused(lambda: os.write(fd, b"x")),
      refused(lambda: os.write(os.open(path, os.O_WRONLY), b"x")),
      refused(lambda: os.ftruncate(fd, 0)),
      open(path).read() == open(path).read() == "tok_5b8d1e6a2f",
      os.pread(fd, 3, 4))
"#;
    for mode in MODES {
        env.vault(&["exec", "--mask", mode, "--file", "TOKEN"])
            .args_of(&["--", "python3", "-c", script])
            .passphrase()
            .run()
            .success()
            .stdout_is("0o400 15 True True True True b'5b8'\n");
    }
}

#[test]
fn only_the_program_and_its_shells_children_get_the_descriptor() {
    let mut env = Env::init();
    env.add("TOKEN", "tok_5b8d1e6a2f");
    // vault passes on whatever it inherits, and this test's process runs
    // other tests' threads, one of which may hold a descriptor open at the
    // moment vault is started: both the baseline and vault start from a
    // launcher that holds stdin, stdout and stderr only.
    let launcher: Vec<std::ffi::OsString> = [
        "python3",
        "-c",
        "import os, sys; os.closerange(3, 65536); os.execv(sys.argv[1], sys.argv[1:])",
    ]
    .map(Into::into)
    .to_vec();
    env.wrap(launcher.clone());
    // The shell holds what a shell started without vault holds (stdin,
    // stdout, stderr, and whatever this test's own parent left open) and
    // the file, nothing else of vault's (its database, pipes, signal
    // pipe); a child of the shell inherits the file and reads it;
    // Python's subprocess closes descriptors by default, so its child
    // cannot, unless passed it.
    // The shell lists its descriptors itself, by a glob: the directory it
    // reads is in both lists alike, and no pipe is open while it lists
    // (one made for `$(ls ...)` showed its other end, or not, by timing).
    let fds = "l=; for f in /proc/$$/fd/*; do l=\"$l ${f##*/}\"; done; echo $(echo $l | tr ' ' '\\n' | sort -n)";
    let baseline = Command::new(&launcher[0])
        .args(&launcher[1..])
        .args(["/bin/sh", "-c", fds])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let baseline: Vec<u32> = String::from_utf8_lossy(&baseline.stdout)
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(baseline.starts_with(&[0, 1, 2]), "{baseline:?}");
    let script = r#"n=${TOKEN##*/}
        l=; for f in /proc/$$/fd/*; do l="$l ${f##*/}"; done
        echo $(echo $l | tr ' ' '\n' | sort -n) "[$n]"
        sh -c 'cat "$TOKEN"'; echo
        python3 -c 'import os, subprocess
p = os.environ["TOKEN"]; n = int(p.rsplit("/", 1)[1])
print(subprocess.run(["cat", p], stderr=subprocess.DEVNULL).returncode, flush=True)
subprocess.run(["cat", p], pass_fds=[n])'"#;
    for mode in MODES {
        let out = exec_sh(&env, mode, &["--file", "TOKEN"], script).success();
        let first = out.stdout.lines().next().unwrap_or_default().to_owned();
        let n: u32 = first
            .rsplit('[')
            .next()
            .unwrap()
            .trim_end_matches(']')
            .parse()
            .unwrap();
        let mut expected = baseline.clone();
        expected.push(n);
        expected.sort();
        let expected: Vec<String> = expected.iter().map(u32::to_string).collect();
        let shown = if mode == "never" {
            "tok_5b8d1e6a2f"
        } else {
            "[masked:TOKEN]"
        };
        assert_eq!(
            out.stdout,
            format!("{} [{n}]\n{shown}\n1\n{shown}", expected.join(" ")),
            "{mode}"
        );
    }
}

#[test]
fn a_value_read_from_its_file_and_printed_is_masked() {
    let env = Env::init();
    env.add("TOKEN", "tok_5b8d1e6a2f");
    env.add("DB_PASSWORD", "pw_0a9b8c7d6e");
    std::fs::write(
        env.path().join("app.tmpl"),
        "[db]\npassword = {{ DB_PASSWORD }}\n",
    )
    .unwrap();
    env.vault(&[
        "exec",
        "--file",
        "TOKEN",
        "--render",
        "app.tmpl=APP_CONFIG",
        "--",
    ])
    .args_of(&["sh", "-c", r#"cat "$TOKEN"; echo; cat "$APP_CONFIG" >&2"#])
    .passphrase()
    .run()
    .success()
    .stdout_is("[masked:TOKEN]\n")
    .stderr_is("[db]\npassword = [masked:DB_PASSWORD]\n");
}

#[test]
fn render_replaces_placeholders_and_sets_no_value_variable() {
    let env = Env::init();
    env.add("STRIPE_KEY", "sk_live_51Hx");
    env.add("DB_URL", "postgres://app:pw@db/app");
    env.add("UNUSED", "unused-value-1");
    let template = "# {{ \"{{\" }} NAME }} is a placeholder\nstripe={{STRIPE_KEY}}\nurl = {{ DB_URL }} {{\tSTRIPE_KEY }}\n";
    std::fs::write(env.path().join("app.conf.tmpl"), template).unwrap();
    for mode in MODES {
        env.vault(&["exec", "--mask", mode, "--render", "app.conf.tmpl=APP_CONFIG", "--"])
            .args_of(&["python3", "-c"])
            .arg(
                r#"import os, sys
sys.stdout.buffer.write(open(os.environ["APP_CONFIG"], "rb").read())
print(sorted(k for k in os.environ if k in ("STRIPE_KEY", "DB_URL", "UNUSED")))"#,
            )
            .passphrase()
            .run()
            .success()
            .stdout_is(if mode == "never" {
                "# {{ NAME }} is a placeholder\nstripe=sk_live_51Hx\nurl = postgres://app:pw@db/app sk_live_51Hx\n[]\n"
            } else {
                "# {{ NAME }} is a placeholder\nstripe=[masked:STRIPE_KEY]\nurl = [masked:DB_URL] [masked:STRIPE_KEY]\n[]\n"
            });
    }
    // The run is recorded with the secrets the template used.
    let out = env.vault(&["audit", "--json"]).run().success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let last = json["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "exec");
    assert_eq!(last["secrets"], serde_json::json!(["DB_URL", "STRIPE_KEY"]));
}

#[test]
fn a_secret_given_as_a_file_is_not_also_set_by_service() {
    let env = Env::init();
    for (name, value) in [
        ("GCP_SA_JSON", "{\"k\": \"v-123456\"}"),
        ("GCP_PROJECT", "proj-1"),
    ] {
        env.vault(&["add", name, "--service", "gcp"])
            .passphrase()
            .stdin(value)
            .run()
            .success();
    }
    let script = r#"echo "${GCP_PROJECT-unset} ${GCP_SA_JSON-unset}"; cat "$CREDS"; echo"#;
    exec_sh(
        &env,
        "never",
        &["-s", "gcp", "--file", "CREDS=GCP_SA_JSON"],
        script,
    )
    .success()
    .stdout_is("proj-1 unset\n{\"k\": \"v-123456\"}\n");
    // Named by --only, it is set too: the user asked for it.
    let args = ["--only", "GCP_SA_JSON", "--file", "CREDS=GCP_SA_JSON"];
    exec_sh(&env, "never", &args, script)
        .success()
        .stdout_is("unset {\"k\": \"v-123456\"}\n{\"k\": \"v-123456\"}\n");
}

#[test]
fn explain_says_which_variables_are_files() {
    let env = Env::init();
    env.add("TOKEN", "tok_5b8d1e6a2f");
    env.add("API_KEY", "sk_live_4f9a8b7c");
    std::fs::write(
        env.path().join("app.tmpl"),
        "key={{ API_KEY }} {{ TOKEN }}\n",
    )
    .unwrap();
    let args = [
        "exec",
        "--mask",
        "never",
        "--explain",
        "--only",
        "API_KEY",
        "--file",
        "T=TOKEN",
        "--render",
        "app.tmpl=APP_CONFIG",
        "--",
        "/bin/true",
    ];
    env.vault(&args).passphrase().run().success().stdout_is(
        "identity: owner\ncommand: /bin/true\nmasking: off (--mask never)\n\
             API_KEY     injected\n\
             T           injected as a memory file (the variable holds its path), from TOKEN\n\
             APP_CONFIG  a memory file rendered from app.tmpl with API_KEY, TOKEN\n",
    );
    let mut json_args = args.to_vec();
    json_args.insert(4, "--json");
    let out = env.vault(&json_args).passphrase().run().success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["secrets"][0]["file"], false);
    assert_eq!(json["secrets"][1]["variable"], "T");
    assert_eq!(json["secrets"][1]["file"], true);
    assert_eq!(
        json["rendered"],
        serde_json::json!([{
            "variable": "APP_CONFIG", "template": "app.tmpl", "secrets": ["API_KEY", "TOKEN"],
            "text": "a memory file rendered from app.tmpl with API_KEY, TOKEN",
        }])
    );
}

/// A process killed and reaped when dropped, should a test stop early.
struct Ended(Child);

impl Drop for Ended {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every file under `dirs` holding `needle`, by grep (fast over the
/// whole of `/tmp`): regular files only, links not followed, files that
/// vanish or cannot be read skipped.
pub fn files_holding(dirs: &[PathBuf], needle: &str) -> Vec<PathBuf> {
    let out = Command::new("grep")
        .args(["-rlsF", "-D", "skip", "--", needle])
        .args(dirs)
        .stdin(Stdio::null())
        .output()
        .expect("run grep");
    let mut found: Vec<PathBuf> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn the_value_is_on_no_file_system_during_and_after_the_run() {
    let mut env = Env::init();
    let tmpdir = env.path().join("tmp");
    std::fs::create_dir(&tmpdir).unwrap();
    env.set("TMPDIR", &tmpdir);
    // Unique to this test, so another test's files cannot match it.
    let value = format!("memfile-canary-{}-{:?}", std::process::id(), Instant::now());
    env.add("CANARY", &value);
    std::fs::write(env.path().join("c.tmpl"), "x={{ CANARY }}\n").unwrap();
    let dirs = [
        PathBuf::from("/tmp"),
        tmpdir.clone(),
        env.path().to_owned(),
        env.vault.parent().unwrap().to_owned(),
    ];
    let holding = || files_holding(&dirs, &value);
    for mode in MODES {
        let _ = std::fs::remove_file(env.path().join("ready"));
        let _ = std::fs::remove_file(env.path().join("go"));
        // The program reads both files, says it is ready, and waits (60 s
        // at most) for the test to have looked.
        let mut child = env
            .vault(&[
                "exec", "--mask", mode, "--file", "CANARY", "--render", "c.tmpl=C",
            ])
            .args_of(&["--", "sh", "-c"])
            .arg(
                r#"cat "$CANARY" "$C" > /dev/null && touch ready
                i=0; while [ ! -e go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done"#,
            )
            .passphrase()
            .command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(Ended)
            .unwrap();
        let child = &mut child.0;
        let deadline = Instant::now() + Duration::from_secs(20);
        while !env.path().join("ready").exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // The process vault started as: the program itself when vault
        // replaced itself, which holds both files; the supervisor when
        // masking, which closed its copies once the program had them.
        let memory_files = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
            .unwrap()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .filter(|link| link.to_string_lossy().starts_with("/memfd:vault:"))
            .count();
        let during = holding();
        let still_running = child.try_wait().unwrap().is_none();
        std::fs::write(env.path().join("go"), "").unwrap();
        let status = child.wait().unwrap();
        assert!(
            env.path().join("ready").exists(),
            "the program never read its files"
        );
        assert!(status.success(), "{status:?}");
        assert!(
            still_running,
            "{mode}: the program ended before the walk did"
        );
        assert_eq!(during, Vec::<PathBuf>::new(), "{mode}: during the run");
        assert_eq!(memory_files, if mode == "never" { 2 } else { 0 }, "{mode}");
        assert_eq!(holding(), Vec::<PathBuf>::new(), "{mode}: after");
    }
    // The walk would find it where it is written (a test that cannot fail
    // is worse than none).
    std::fs::write(tmpdir.join("probe"), &value).unwrap();
    assert_eq!(holding(), vec![tmpdir.join("probe")]);
}
