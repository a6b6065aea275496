//! `vault mcp` outside a client session: starting it (an agent's token
//! only), `vault mcp config`, and raw JSON-RPC lines below what a client
//! library would send.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::agents::agent_vault;
use crate::support::{Env, BIN};

#[test]
fn mcp_needs_an_agent_token() {
    let (env, _) = agent_vault(None);
    env.vault(&["mcp"]).run().fails(
        2,
        "vault mcp unlocks with an agent identity's access token: set VAULT_ACCESS_TOKEN",
        None,
    );
    let ci = env
        .vault(&["identity", "add", "ci", "--token"])
        .passphrase()
        .run()
        .success();
    env.vault(&["mcp"])
        .env("VAULT_ACCESS_TOKEN", ci.stdout.trim())
        .run()
        .fails(
            2,
            "vault mcp serves agent identities only, and ci is not one: add one with `vault identity add NAME --agent`",
            None,
        );
}

#[test]
fn mcp_config_prints_the_hosts_entry_with_the_token_in_its_environment() {
    let env = Env::init();
    let out = env.vault(&["mcp", "config"]).run().success();
    let entry: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        entry,
        json!({ "mcpServers": { "vault": {
            "command": BIN,
            "args": ["mcp"],
            "env": {
                "VAULT_PATH": env.vault.display().to_string(),
                "VAULT_ACCESS_TOKEN": "${VAULT_AGENT_TOKEN}",
            }
        } } })
    );
    assert!(out.stderr.starts_with("the token stays out of argv:"));
    env.vault(&["mcp", "config", "--token-variable", "1BAD"])
        .run()
        .code(2)
        .stderr_has("error: --token-variable 1BAD is not a variable name: ");
}

/// Raw JSON-RPC, below what the Python client would send: a line that is
/// not JSON is dropped and the server answers the next request; an
/// unknown method is "method not found". Never a hang: every read has a
/// deadline, and the server ends when its stdin closes.
#[test]
fn raw_lines_that_are_not_requests_never_stop_the_server() {
    use std::io::{BufRead, BufReader, Write};
    let (env, token) = agent_vault(None);
    let mut server = env
        .vault(&["mcp"])
        .env("VAULT_ACCESS_TOKEN", &token)
        .command;
    let mut child = server
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let (lines, answers) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut ask = |line: &str| {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    };
    let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": { "name": "raw", "version": "0" } } });
    ask(&init.to_string());
    let next = || -> Value {
        let line = answers
            .recv_timeout(Duration::from_secs(60))
            .expect("an answer within a minute");
        serde_json::from_str(&line).unwrap()
    };
    assert_eq!(next()["result"]["serverInfo"]["name"], "vault");
    ask(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    ask("this is not json");
    ask(
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"check","arguments":{"x":1}}}"#,
    );
    let answer = next();
    assert_eq!(answer["id"], 2);
    assert_eq!(answer["error"]["code"], -32602);
    assert_eq!(
        answer["error"]["message"],
        "check: unknown field `x`, there are no fields"
    );
    ask(r#"{"jsonrpc":"2.0","id":3,"method":"nosuch/method"}"#);
    let answer = next();
    assert_eq!(answer["id"], 3);
    assert_eq!(answer["error"]["code"], -32601);
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("vault mcp did not end when its stdin closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.wait().unwrap().success());
}
