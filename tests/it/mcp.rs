//! `vault mcp` driven by a real MCP client: the Python `mcp` package from
//! PyPI (tests/mcp/client.py), over stdio, through a proxy that records
//! every byte both ways (tests/mcp/record.py). The canary value must be
//! in none of it, in any encoding, whatever the agent runs.
//!
//! The client lives in a virtual environment outside the repository,
//! which scripts/test.sh makes: `$VAULT_TEST_MCP_PYTHON`, or
//! `~/.cache/vault-tests/mcp-venv/bin/python`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::agents::{agent_vault, CANARY};
use crate::support::{Env, BIN};

/// The canary's other shapes that must not appear either: base64 (the
/// part every alignment shares), hex, and DB_PASSWORD's value.
pub(crate) const LEAKS: &[&str] = &[
    CANARY,
    "Y2FuYXJ5LVpxOHg3V3AzTG",
    "63616e6172792d5a713878375770334c6b",
    "hunter2-but-longer",
];

fn python() -> PathBuf {
    let path = std::env::var_os("VAULT_TEST_MCP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is set");
            Path::new(&home).join(".cache/vault-tests/mcp-venv/bin/python")
        });
    assert!(
        path.exists(),
        "the MCP tests need the Python mcp package in a virtual environment at {}: \
         run scripts/test.sh, or python3 -m venv ~/.cache/vault-tests/mcp-venv && \
         ~/.cache/vault-tests/mcp-venv/bin/pip install mcp",
        path.display()
    );
    path
}

/// One client session: what it got back and the recorded stream.
pub(crate) struct Talk {
    pub(crate) result: Value,
    /// Every byte both ways, and the server's stderr.
    pub(crate) stream: String,
}

impl Talk {
    pub(crate) fn call(&self, i: usize) -> &Value {
        &self.result["calls"][i]
    }

    /// Call `i`'s structured result.
    pub(crate) fn structured(&self, i: usize) -> &Value {
        let call = self.call(i);
        assert!(call["result"].is_object(), "call {i}: {call:#}");
        &call["result"]["structuredContent"]
    }

    #[track_caller]
    pub(crate) fn error(&self, i: usize, code: i64, message: &str) {
        let call = self.call(i);
        assert_eq!(call["error"]["code"], code, "call {i}: {call:#}");
        assert_eq!(call["error"]["message"], message, "call {i}: {call:#}");
    }

    #[track_caller]
    pub(crate) fn leaks_nothing(&self) {
        for leak in LEAKS {
            assert!(
                !self.stream.contains(leak),
                "{leak} in the stream:\n{}",
                self.stream
            );
        }
    }
}

/// Runs `calls` through the Python client against `vault mcp ARGS` as
/// the agent whose token is `token`. Ends the client (and so the server)
/// if it takes too long.
pub(crate) fn talk(env: &Env, token: &str, args: &[&str], calls: Value) -> Talk {
    let dir = env.path();
    let scenario = dir.join("scenario.json");
    let result = dir.join("result.json");
    let log = dir.join("stream");
    std::fs::write(&scenario, calls.to_string()).unwrap();
    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/client.py");
    let template = env.vault(&[]).command;
    let mut command = Command::new(python());
    command.env_clear();
    for (k, v) in template.get_envs() {
        if let Some(v) = v {
            command.env(k, v);
        }
    }
    command
        .env("VAULT_ACCESS_TOKEN", token)
        .current_dir(dir)
        .arg(&client)
        .arg(&scenario)
        .arg(&result)
        .arg(&log)
        .arg(BIN)
        .arg("mcp")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run the Python MCP client");
    let deadline = Instant::now() + Duration::from_secs(300);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the MCP client hung");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the MCP client failed: {stderr}");
    let mut stream = String::new();
    for side in ["in", "out", "err"] {
        let bytes = std::fs::read(dir.join(format!("stream.{side}"))).unwrap();
        stream.push_str(&String::from_utf8_lossy(&bytes));
    }
    stream.push_str(&stderr);
    let result = serde_json::from_slice(&std::fs::read(&result).unwrap()).unwrap();
    Talk { result, stream }
}

pub(crate) fn run(command: &[&str], reason: &str) -> Value {
    json!({ "tool": "run", "args": { "command": command, "reason": reason } })
}

#[test]
fn no_message_carries_a_value_whatever_the_agent_runs() {
    let (env, token) = agent_vault(None);
    let print_repr = "import os; print(repr(os.environ['API_KEY']))";
    let fail = "import os; raise SystemExit('bad token: ' + os.environ['API_KEY'])";
    let t = talk(
        &env,
        &token,
        &[],
        json!([
            { "tool": "list_secrets" },
            { "tool": "check" },
            run(&["printenv", "API_KEY"], "print it"),
            run(&["env"], "list the environment"),
            run(&["sh", "-c", "echo -n $API_KEY | base64"], "encode it"),
            run(&["python3", "-c", print_repr], "repr it"),
            run(&["python3", "-c", fail], "fail with it"),
            run(&["sh", "-c", "echo \"error: bad key $API_KEY\" >&2; exit 1"], "shell error"),
            { "tool": "run", "args": { "command": ["printenv", "API_KEY", "DB_PASSWORD"],
                                       "secrets": ["API_KEY"], "reason": "one secret" } },
            { "tool": "request_secret", "args": { "name": "NEW_KEY" } },
            { "tool": "request_secret", "args": { "name": "API_KEY" } },
            { "tool": "run", "args": { "command": ["sh", "-c", "echo ${API_KEY:-none}"],
                                       "secrets": [], "reason": "no secret" } },
        ]),
    );
    t.leaks_nothing();
    assert_eq!(t.structured(11)["stdout"], "none\n");
    assert_eq!(t.structured(11)["secrets"], json!([]));
    assert_eq!(t.result["server"], "vault");
    assert_eq!(
        t.result["tools"],
        json!(["list_secrets", "check", "run", "request_secret"])
    );
    assert_eq!(
        t.result["schemas"]["run"]["required"],
        json!(["command", "reason"])
    );
    let names: Vec<&Value> = t.structured(0)["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["name"])
        .collect();
    assert_eq!(names, [&json!("API_KEY"), &json!("DB_PASSWORD")]);
    assert_eq!(t.structured(1)["ok"], true);
    let printed = t.structured(2);
    assert_eq!(printed["stdout"], "[masked:API_KEY]\n");
    assert_eq!(printed["exit_status"], 0, "{printed:#}");
    assert_eq!(printed["secrets"], json!(["API_KEY", "DB_PASSWORD"]));
    let env_out = t.structured(3)["stdout"].as_str().unwrap();
    assert!(env_out.contains("API_KEY=[masked:API_KEY]\n"), "{env_out}");
    assert!(env_out.contains("DB_PASSWORD=[masked:DB_PASSWORD]\n"));
    assert!(!env_out.contains("VAULT_ACCESS_TOKEN"), "{env_out}");
    assert!(t.structured(4)["stdout"]
        .as_str()
        .unwrap()
        .starts_with("[masked:API_KEY]"));
    assert_eq!(t.structured(5)["stdout"], "'[masked:API_KEY]'\n");
    let failed = &t.call(6)["result"];
    assert_eq!(failed["isError"], true);
    assert_eq!(failed["structuredContent"]["exit_status"], 1);
    assert_eq!(
        failed["structuredContent"]["stderr"],
        "bad token: [masked:API_KEY]\n"
    );
    assert_eq!(
        t.structured(7)["stderr"],
        "error: bad key [masked:API_KEY]\n"
    );
    let one = t.structured(8);
    assert_eq!(one["stdout"], "[masked:API_KEY]\n");
    assert_eq!(one["exit_status"], 1, "DB_PASSWORD was not given");
    let vault_opt = format!(" --vault {}", env.vault.display());
    assert_eq!(
        t.structured(9)["command"],
        format!("vault add NEW_KEY{vault_opt}")
    );
    assert_eq!(
        t.structured(9)["then"],
        format!("vault grant NEW_KEY --to claude{vault_opt}")
    );
    assert_eq!(t.structured(10)["status"], "granted");
    // Each run is in the audit log under the agent's name, with its reason.
    let audit = env.vault(&["audit"]).run().success().stdout;
    for reason in ["print it", "encode it", "fail with it", "one secret"] {
        assert!(
            audit.contains(&format!("via=mcp reason={reason}\n")),
            "{reason}: {audit}"
        );
    }
    assert!(audit.contains("  claude    exec          API_KEY              program=printenv cwd="));
}

#[test]
fn bad_calls_are_protocol_errors() {
    let (env, token) = agent_vault(None);
    env.add("OTHER_KEY", "not-for-the-agent");
    let t = talk(
        &env,
        &token,
        &[],
        json!([
            { "tool": "nope" },
            { "tool": "run", "args": { "command": "ls", "reason": "x" } },
            { "tool": "run", "args": { "command": ["ls"] } },
            { "tool": "run", "args": { "command": [], "reason": "x" } },
            { "tool": "run", "args": { "command": ["ls"], "reason": "x", "shell": true } },
            { "tool": "run", "args": { "command": ["true"], "secrets": ["OTHER_KEY"], "reason": "x" } },
            { "tool": "run", "args": { "command": ["true"], "secrets": ["NO_SUCH"], "reason": "x" } },
            run(&["no-such-command-here"], "x"),
            { "tool": "request_secret", "args": { "name": "9bad" } },
            { "tool": "run", "args": { "command": ["true"], "reason": "  " } },
        ]),
    );
    t.leaks_nothing();
    t.error(
        0,
        -32602,
        "no tool named nope: the tools are list_secrets, check, run, request_secret",
    );
    t.error(
        1,
        -32602,
        "run: invalid type: string \"ls\", expected a sequence",
    );
    t.error(2, -32602, "run: missing field `reason`");
    t.error(
        3,
        -32602,
        "run: command is empty: give the program and its arguments, as [\"make\", \"test\"]",
    );
    t.error(
        4,
        -32602,
        "run: unknown field `shell`, expected one of `command`, `secrets`, `reason`",
    );
    t.error(
        5,
        -32602,
        "identity claude cannot use OTHER_KEY: it has no access",
    );
    t.error(6, -32602, "no secret named NO_SUCH");
    assert_eq!(
        t.call(6)["error"]["data"]["hint"],
        "list_secrets shows the secrets this identity may use; request_secret asks for another"
    );
    t.error(7, -32602, "no-such-command-here: command not found");
    assert_eq!(t.call(8)["error"]["code"], -32602);
    t.error(
        9,
        -32602,
        "run: reason is empty: say why the command runs (it is recorded in the audit log)",
    );
}

#[test]
fn output_past_the_limit_is_cut_with_a_note() {
    let (env, token) = agent_vault(None);
    let t = talk(
        &env,
        &token,
        &["--max-output", "1000"],
        json!([run(&["python3", "-c", "print('x' * 5000)"], "a lot")]),
    );
    let out = t.structured(0);
    assert_eq!(
        out["stdout"],
        format!(
            "{}\n[vault: output cut after 1000 bytes; 4001 more bytes not shown]\n",
            "x".repeat(1000)
        )
    );
    assert_eq!(out["stdout_cut"], true);
    assert_eq!(out["exit_status"], 0);
}

#[test]
fn a_command_past_the_time_limit_is_ended_with_its_children() {
    let (env, token) = agent_vault(None);
    let pidfile = env.path().join("child.pid");
    let script = format!("sleep 300 & echo $! > {}; sleep 300", pidfile.display());
    let started = Instant::now();
    let t = talk(
        &env,
        &token,
        &["--timeout", "2s"],
        json!([run(&["sh", "-c", &script], "wait"), { "tool": "check" }]),
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    let out = t.structured(0);
    assert_eq!(out["timed_out"], true);
    assert_eq!(out["signal"], 9);
    assert_eq!(out["exit_status"], Value::Null);
    assert_eq!(
        out["stderr"],
        "[vault: the command ran past 2s and was ended, with every process of its group]\n"
    );
    assert_eq!(t.structured(1)["ok"], true, "the server still answers");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(gone(pid), "the background sleep {pid} outlived the call");
}

/// Whether a process is gone: no such process, or a zombie waiting for
/// its reaper.
fn gone(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .is_some_and(|s| s.trim_start().starts_with('Z')) =>
            {
                return true
            }
            Ok(_) if Instant::now() > deadline => return false,
            Ok(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[test]
fn an_agent_past_its_end_is_refused_by_a_protocol_error() {
    // Long enough for the server to start on a busy machine.
    let (env, token) = agent_vault(Some("10s"));
    let until = env.int("identities", "agent_until", "name = 'claude'");
    let wait = (until - vault::time::now() + 1).max(1);
    let t = talk(
        &env,
        &token,
        &[],
        json!([
            { "tool": "list_secrets" },
            { "tool": "run", "args": { "command": ["sleep", wait.to_string()], "reason": "wait" } },
            run(&["printenv", "API_KEY"], "too late"),
        ]),
    );
    t.leaks_nothing();
    assert_eq!(t.structured(0)["identity"], "claude");
    t.error(
        2,
        -32001,
        &format!(
            "agent identity claude expired at {}",
            vault::time::format(until)
        ),
    );
}
