//! The command line of `vault mcp` (part of `cli`).

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, after_long_help = super::help::MCP)]
pub struct McpArgs {
    #[command(subcommand)]
    pub command: Option<McpCommand>,

    /// The environment (dev, prod...) the tools act in: each name's own secret there, else the shared one [env: VAULT_ENVIRONMENT] [default: the manifest's]
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,

    /// How long one `run` may take; then the command and its process group are ended
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    pub timeout: String,

    /// Bytes of each of stdout and stderr that `run` returns; the rest is cut, with a note
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024)]
    pub max_output: usize,
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Print the agent host's configuration (an mcpServers entry); the token comes from the environment, never argv
    #[command(after_long_help = super::help::MCP_CONFIG)]
    Config(McpConfigArgs),
}

#[derive(Debug, Args)]
pub struct McpConfigArgs {
    /// The server's name in the host's configuration
    #[arg(long, value_name = "NAME", default_value = "vault")]
    pub name: String,

    /// The variable of the host's environment that holds the agent's token
    #[arg(long, value_name = "VAR", default_value = "VAULT_AGENT_TOKEN")]
    pub token_variable: String,
}
