//! `vault mcp`: serve a coding agent over the Model Context Protocol, and
//! `vault mcp config`: print the host's configuration for it.
//!
//! The server unlocks once, with the agent identity's token
//! (`VAULT_ACCESS_TOKEN`: never a prompt, as stdin is the protocol), then
//! answers each tool call from the vault as it is at that moment
//! (`backend.rs`), in one environment (`--environment`, as a command
//! takes it) and, in a project, by its manifest. The protocol itself is
//! `crate::mcp`'s.

mod backend;

use std::time::Duration;

use crate::cli::{McpArgs, McpCommand, McpConfigArgs};
use crate::error::{Error, Result};
use crate::session::Session;

pub fn run(session: &Session, args: McpArgs) -> Result<u8> {
    if let Some(McpCommand::Config(config_args)) = args.command {
        return config(session, config_args);
    }
    let timeout = crate::time::parse_duration(&args.timeout)
        .map_err(|p| Error::period("--timeout", &args.timeout, p))?;
    if args.max_output == 0 {
        return Err(Error::Usage("--max-output must be at least 1 byte".into()));
    }
    let limits = crate::process::Limits {
        time: Duration::from_secs(u64::try_from(timeout).unwrap_or(u64::MAX)),
        output: args.max_output,
    };
    if !session.has_token() {
        return Err(Error::Usage(format!(
            "vault mcp unlocks with an agent identity's access token: set {}",
            crate::env::ACCESS_TOKEN
        )));
    }
    // One environment for the server's life, as for a command.
    let (vault, environment) = session.open_in(args.environment.as_deref())?;
    let me = session.unlock(&vault)?;
    if me.agent_until().is_none() {
        return Err(Error::Usage(format!(
            "vault mcp serves agent identities only, and {} is not one: add one with `vault identity add NAME --agent`",
            crate::model::shown(me.name())
        )));
    }
    // Stated to the host in the tools' descriptions: the limits are part
    // of what `run` promises.
    let about = format!(
        "Limits: each of stdout and stderr is cut after {} bytes, with a note; a command still running after {} is ended with every process of its group.",
        limits.output,
        crate::time::format_period(timeout)
    );
    let mut backend = backend::VaultBackend {
        session,
        vault,
        me,
        environment,
        limits,
    };
    crate::mcp::serve(&mut backend, about)
        .map_err(|e| Error::Usage(format!("the MCP connection failed: {e}")))?;
    super::OK
}

/// Prints an `mcpServers` entry that runs this binary as `vault mcp` on
/// this vault, the token taken from the host's environment.
fn config(session: &Session, args: McpConfigArgs) -> Result<u8> {
    crate::model::SecretName::parse(&args.token_variable, false).map_err(|problem| {
        Error::Usage(format!(
            "--token-variable {} is not a variable name: {problem}",
            crate::model::shown(&args.token_variable)
        ))
    })?;
    let program = std::env::current_exe()
        .map_err(|e| Error::io("find the vault binary", std::path::Path::new("vault"), e))?;
    let vault_path =
        std::path::absolute(&session.vault_path).unwrap_or_else(|_| session.vault_path.clone());
    let entry = serde_json::json!({
        "mcpServers": {
            args.name.as_str(): {
                "command": program.to_string_lossy(),
                "args": ["mcp"],
                "env": {
                    crate::env::PATH: vault_path.to_string_lossy(),
                    crate::env::ACCESS_TOKEN: format!("${{{}}}", args.token_variable),
                }
            }
        }
    });
    super::print_json(&entry)?;
    eprintln!(
        "the token stays out of argv: start the host with {var} set to the agent's token \
         (hosts that expand ${{VAR}} in their configuration read it from there), or put the \
         token itself in place of ${{{var}}} in a configuration file only you can read",
        var = args.token_variable
    );
    super::OK
}
