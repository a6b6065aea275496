//! What a running vault process exposes: it is not dumpable while it holds
//! keys, and a canary value reaches no argv, error, debug output, temporary
//! file or stored byte.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::process::Stdio;

use crate::hostile::{as_reader, make_read_only};
use crate::support::Env;

const CANARY: &str = "canary-7f3a9c1e-do-not-leak";

/// Every file under `dir`, recursively.
fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn a_process_holding_keys_is_not_dumpable() {
    let env = Env::init();
    make_read_only(&env);
    // `add` unlocks, then waits for the value on stdin: keys are in memory.
    let mut run = as_reader(&env, &["add", "PENDING"]).command;
    let mut child = run
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let proc_dir = format!("/proc/{}", child.id());
    let uid_line = |status: &str| {
        status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(|u| u.parse::<u32>().unwrap())
    };
    // Wait until the process runs as its own user and has unlocked.
    let mut owner = None;
    for _ in 0..200 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let status = std::fs::read_to_string(format!("{proc_dir}/status")).unwrap();
        let wchan = std::fs::read_to_string(format!("{proc_dir}/wchan")).unwrap_or_default();
        if wchan.contains("pipe") || wchan.contains("read") {
            owner = Some((
                uid_line(&status).unwrap(),
                std::fs::metadata(format!("{proc_dir}/environ"))
                    .unwrap()
                    .uid(),
            ));
            break;
        }
    }
    let cmdline = std::fs::read(format!("{proc_dir}/cmdline")).unwrap();
    child.stdin.take().unwrap().write_all(b"x").unwrap();
    child.wait().unwrap();
    let (process_uid, environ_owner) = owner.expect("vault reached its stdin read");
    assert_ne!(process_uid, 0, "the check needs a non-root process");
    // A non-dumpable process's /proc files belong to root (proc(5)).
    assert_eq!(environ_owner, 0, "vault is dumpable while holding keys");
    assert!(!String::from_utf8_lossy(&cmdline).contains("PENDING=")); // argv is names only
}

#[test]
fn a_canary_reaches_nothing_but_the_child() {
    let mut env = Env::init();
    let tmp = env.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    env.set("TMPDIR", &tmp);
    env.set("RUST_BACKTRACE", "full");
    env.set("RUST_LOG", "trace");
    env.add("CANARY", CANARY);
    let mut outputs = Vec::new();
    let nul = format!("{CANARY}\0");
    let big = CANARY.repeat(5000);
    let runs: Vec<(Vec<&str>, Option<&str>)> = vec![
        (vec!["list"], None),
        (vec!["list", "--json"], None),
        (vec!["add", "CANARY"], Some(CANARY)),
        (vec!["add", "OTHER"], Some(nul.as_str())),
        (vec!["add", "OTHER"], Some(big.as_str())),
        (vec!["rotate", "CANARY"], Some(CANARY)),
        (vec!["rename", "CANARY", "CANARY2"], None),
        (
            vec!["exec", "--mask", "never", "--only", "MISSING", "--", "true"],
            None,
        ),
        (vec!["exec", "--mask", "never", "--", "/nonexistent"], None),
        (vec!["identity", "list", "--json"], None),
    ];
    for (args, stdin) in runs {
        let mut run = env.vault(&args).passphrase();
        if let Some(data) = stdin {
            run = run.stdin(data);
        }
        let out = run.run();
        outputs.push(format!("{args:?}\n{}\n{}", out.stdout, out.stderr));
    }
    for out in &outputs {
        assert!(!out.contains(CANARY), "the canary leaked: {out}");
    }
    let child = env
        .vault(&["exec", "--mask", "never", "--", "printenv", "CANARY2"])
        .passphrase()
        .run()
        .success();
    assert_eq!(
        child.stdout,
        format!("{CANARY}\n"),
        "only the child sees it"
    );
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "no temporary files"
    );
    let mut all = Vec::new();
    files(env.path(), &mut all);
    for file in all {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
            "the canary is in {}",
            file.display()
        );
    }
}
