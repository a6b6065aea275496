//! Reliability under load and crashes: concurrent writers lose nothing, and
//! `kill -9` at random moments leaves either the old state or the new one.
//!
//! Both tests act as a machine identity (access token) so that no Argon2 run
//! dominates; every operation is a real `vault` process.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{Env, Run};

/// A small xorshift generator: reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn from_time() -> Rng {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        eprintln!("random seed: {seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A vault with a machine identity `worker`; returns its token.
fn vault_with_worker() -> (Env, String) {
    let env = Env::init();
    let out = env
        .vault(&["identity", "add", "worker", "--token"])
        .passphrase()
        .run()
        .success();
    (env, out.stdout.trim().to_owned())
}

fn as_worker(env: &Env, token: &str, args: &[&str]) -> Run {
    env.vault(args).env("VAULT_ACCESS_TOKEN", token)
}

/// Every secret the worker can use, with its value, as its programs see it.
fn worker_values(env: &Env, token: &str) -> BTreeMap<String, String> {
    let script = "for n in $(env | sed -n 's/^\\(W[0-9A-Z_]*\\)=.*/\\1/p'); do printf '%s=%s\\n' \"$n\" \"$(printenv \"$n\")\"; done";
    let out = as_worker(
        env,
        token,
        &["exec", "--mask", "never", "--", "sh", "-c", script],
    )
    .run()
    .success();
    out.stdout
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn integrity_ok(env: &Env) {
    let conn = rusqlite::Connection::open(&env.vault).unwrap();
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(result, "ok");
}

#[test]
fn eight_concurrent_writers_lose_nothing() {
    const WRITERS: usize = 8;
    const OPS: usize = 100;
    let (env, token) = vault_with_worker();
    let expected: Vec<BTreeMap<String, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (env, token) = (&env, &token);
                scope.spawn(move || {
                    // Each writer adds, rotates and renames its own secrets;
                    // all of them share the one vault file.
                    let mut mine: BTreeMap<String, String> = BTreeMap::new();
                    for op in 0..OPS {
                        let existing: Vec<String> = mine.keys().cloned().collect();
                        match (op % 3, existing.first()) {
                            (1, Some(name)) => {
                                let value = format!("w{w}-rotated-{op}");
                                as_worker(env, token, &["rotate", name])
                                    .stdin(&value)
                                    .run()
                                    .success();
                                mine.insert(name.clone(), value);
                            }
                            (2, Some(name)) => {
                                let new = format!("W{w}_R{op}");
                                as_worker(env, token, &["rename", name, &new])
                                    .run()
                                    .success();
                                let value = mine.remove(name).unwrap();
                                mine.insert(new, value);
                            }
                            _ => {
                                let name = format!("W{w}_A{op}");
                                let value = format!("w{w}-added-{op}");
                                as_worker(env, token, &["add", &name])
                                    .stdin(&value)
                                    .run()
                                    .success();
                                mine.insert(name, value);
                            }
                        }
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: BTreeMap<String, String> = expected.into_iter().flatten().collect();
    assert!(all.len() >= WRITERS * OPS / 3);
    assert_eq!(worker_values(&env, &token), all);
    integrity_ok(&env);
}

/// One operation of the crash loop, and what it may leave behind.
enum Op {
    Add(String, String),
    Rotate(String, String),
    Rename(String, String),
    Delete(String),
    Grant(String),
}

#[test]
fn kill_nine_at_random_moments_leaves_old_or_new_state() {
    const KILLS: usize = 50;
    let (env, token) = vault_with_worker();
    env.owner_runs(&["identity", "add", "reader", "--token"]);
    let mut rng = Rng::from_time();
    let mut state: BTreeMap<String, String> = BTreeMap::new();
    let (mut kills, mut acknowledged, mut n) = (0, 0, 0);
    while kills < KILLS {
        n += 1;
        assert!(n < 2000, "only {kills} kills landed in {n} runs");
        let names: Vec<String> = state.keys().cloned().collect();
        let pick = |rng: &mut Rng| names[rng.below(names.len() as u64) as usize].clone();
        let op = match (rng.below(5), names.is_empty()) {
            (_, true) | (0, _) => Op::Add(format!("WK{n}"), format!("added-{n}")),
            (1, _) => Op::Rotate(pick(&mut rng), format!("rotated-{n}")),
            (2, _) => Op::Rename(pick(&mut rng), format!("WR{n}")),
            (3, _) => Op::Delete(pick(&mut rng)),
            _ => Op::Grant(pick(&mut rng)),
        };
        let (args, stdin): (Vec<String>, Option<String>) = match &op {
            Op::Add(name, value) => (vec!["add".into(), name.clone()], Some(value.clone())),
            Op::Rotate(name, value) => (vec!["rotate".into(), name.clone()], Some(value.clone())),
            Op::Rename(old, new) => (vec!["rename".into(), old.clone(), new.clone()], None),
            Op::Delete(name) => (vec!["delete".into(), "--yes".into(), name.clone()], None),
            Op::Grant(name) => (
                vec!["grant".into(), name.clone(), "--to".into(), "reader".into()],
                None,
            ),
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut command = as_worker(&env, &token, &args).command;
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command.spawn().unwrap();
        {
            use std::io::Write;
            let mut pipe = child.stdin.take().unwrap();
            let _ = pipe.write_all(stdin.as_deref().unwrap_or("").as_bytes());
        }
        std::thread::sleep(Duration::from_micros(rng.below(25_000)));
        let _ = child.kill();
        let status = child.wait().unwrap();
        let killed = status.signal() == Some(9);
        if killed {
            kills += 1;
        } else {
            assert!(
                status.success(),
                "{op_args:?} failed: {status:?}",
                op_args = args
            );
            acknowledged += 1;
        }
        // What the vault holds now must be the state before or after the op,
        // and exactly the state after it when it was acknowledged.
        let before = state.clone();
        let mut after = state.clone();
        match &op {
            Op::Add(name, value) | Op::Rotate(name, value) => {
                after.insert(name.clone(), value.clone());
            }
            Op::Rename(old, new) => {
                let value = after.remove(old).unwrap();
                after.insert(new.clone(), value);
            }
            Op::Delete(name) => {
                after.remove(name);
            }
            Op::Grant(_) => {}
        }
        let now = worker_values(&env, &token);
        if killed {
            assert!(
                now == before || now == after,
                "run {n}: neither old nor new state"
            );
        } else {
            assert_eq!(now, after, "run {n}: an acknowledged write is missing");
        }
        state = now;
    }
    integrity_ok(&env);
    eprintln!(
        "{kills} kills, {acknowledged} acknowledged writes, {} secrets",
        state.len()
    );
}
