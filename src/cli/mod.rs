//! The command line, as clap derive types: the one definition that help,
//! shell completions and man pages are generated from.
//!
//! Only definitions live here; `cmd/` turns each args struct into validated
//! domain values before anything acts. `complete.rs` attaches the vault's
//! names to arguments by id (secrets) or value name (`IDENTITY`, `SERVICE`),
//! and `man.rs` builds the EXIT STATUS and ENVIRONMENT sections of vault(1)
//! from [`AFTER_HELP`]. After changing anything here, regenerate the shipped
//! copies: `cargo run -- generate-assets .`

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum, ValueHint};

/// An encrypted local vault that hands secrets to programs as environment
/// variables.
///
/// Values are write-only: once added, they are never displayed again. The
/// way out is into a program's environment: `vault exec -- ./deploy.sh`.
#[derive(Debug, Parser)]
#[command(
    name = "vault",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(after_long_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses a command line (program name first): exec's usual shapes
    /// without clap, as it runs before every script (see `fast.rs`),
    /// everything else with clap.
    pub fn parse_args(args: &[OsString]) -> Result<Cli, clap::Error> {
        if let Some(cli) = fast::parse(args) {
            return Ok(cli);
        }
        // `--help` shows the real default path of this platform; the
        // manual pages, built for every platform, say where to look.
        let mut command = Cli::command();
        if let Ok(default) = crate::session::default_vault_path() {
            let help = format!(
                "The vault file [env: VAULT_PATH] [default: {}]",
                default.display()
            );
            command = command.mut_arg("vault", |arg| arg.help(help.clone()).long_help(help));
        }
        let matches = command.try_get_matches_from_mut(args)?;
        Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))
    }
}

/// Exit statuses and environment, shown by `--help` and turned into the
/// EXIT STATUS and ENVIRONMENT sections of vault(1). Keep its shape: a
/// heading ending in `:`, then items as `  TERM  text` (two spaces or more
/// between them) with `    ` continuation lines, or plain paragraphs.
pub const AFTER_HELP: &str = "\
Exit status:
  0    success
  1    a report (list --expiring, list --needs-rotation) found something,
       scan found a stored value, check found a required variable missing,
       not granted or expired, or git merge found a conflict
  2    vault failed: bad input, refused operation, damaged vault
  exec passes the command's own status through; 125 when vault failed
  before running it, 126 when it could not be run, 127 when not found.

Environment:
  VAULT_PATH             the vault file (default: vault/vault.db in the
                         data directory; see FILES)
  VAULT_IDENTITY         the identity to act as
  VAULT_ACCESS_TOKEN     a machine identity's access token (CI)
  VAULT_PASSPHRASE_FILE  a file holding the passphrase
  VAULT_PASSPHRASE       the passphrase itself (prefer the file)
  VAULT_NO_KEYRING       1 turns the keyring unlock cache off
  VAULT_ENVIRONMENT      the environment (dev, prod...) commands act in
  VAULT_MANIFEST         the project's manifest (default: vault.toml in
                         the working directory or a directory above)
  Unlocking variables never reach a program run by exec, which sees
  VAULT_EXEC=1.

Manifest:
  A project's vault.toml (in the working directory or a directory above,
  or --manifest PATH, VAULT_MANIFEST; --no-manifest ignores it) declares
  the variables the project needs, with no values. In a project, exec
  injects exactly those, for the environment, and refuses (125) naming
  each required one that is missing, not granted, expired or breaks its
  rule; add, rotate and import refuse a value that breaks its rule. Keys:
  project.vault  the vault file, relative to vault.toml, inside the
                 project (an option or VAULT_PATH still wins)
  project.environment  the environment when none is chosen
  project.environments  the only environments allowed
  vars.NAME.description  what it is for
  vars.NAME.required  true (the default) or false
  vars.NAME.default  a value that is not secret, injected as is when the
                 vault has none; never stored in the vault
  vars.NAME.pattern  a regular expression the value must match (searched:
                 anchor it with ^...$)
  vars.NAME.min_length  the fewest characters a value may have
  vars.NAME.max_length  the most characters a value may have
  vars.NAME.deny  placeholder values refused (without case, trimmed)
  vars.NAME.environments  the environments it is declared for (default:
                 all)
  vars.NAME.as   \"env\" (the default) or \"file\": exec gives the program a
                 memory file holding the value (or the default), its
                 path in NAME, as exec --file NAME does";

/// Options every command takes, listed apart from each command's own.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    // The environment variables behind these options are read in
    // session.rs rather than by clap, so that an empty variable counts as
    // unset instead of as an error.
    /// The vault file [env: VAULT_PATH] [default: vault/vault.db in the data directory, see FILES in vault(1)]
    #[arg(long, global = true, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub vault: Option<PathBuf>,

    /// Act as this identity [env: VAULT_IDENTITY] [default: the vault's default identity]
    #[arg(long = "as", global = true, value_name = "IDENTITY")]
    pub as_identity: Option<String>,

    /// Read the passphrase from this file (first line) [env: VAULT_PASSPHRASE_FILE]
    #[arg(long, global = true, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub passphrase_file: Option<PathBuf>,

    /// Do not use the OS keyring to cache an unlocked key
    #[arg(long, global = true)]
    pub no_keyring: bool,

    /// The project's manifest [env: VAULT_MANIFEST] [default: vault.toml here or in a directory above]
    #[arg(long, global = true, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub manifest: Option<PathBuf>,

    /// Ignore the project's manifest (vault.toml)
    #[arg(long, global = true, conflicts_with = "manifest")]
    pub no_manifest: bool,
}

// Aliases are hidden ones, named in each about text: shells list visible
// aliases as completions and keep one name per command, the alias when it
// sorts first (`mv` before `rename`); users should see the canonical name.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a vault and its first identity
    #[command(after_long_help = help::INIT)]
    Init(InitArgs),
    /// Add a secret; the value comes from a hidden prompt, stdin or a file
    #[command(after_long_help = help::ADD)]
    Add(AddArgs),
    /// Add every entry of a dotenv (.env) file as a secret, in one transaction
    #[command(after_long_help = help::IMPORT)]
    Import(ImportArgs),
    /// List secrets and who has access, never their values (alias: ls)
    #[command(alias = "ls", after_long_help = help::LIST)]
    List(ListArgs),
    /// Rename a secret, keeping its value, version, dates and access (alias: mv)
    #[command(alias = "mv", after_long_help = help::RENAME)]
    Rename(RenameArgs),
    /// Replace a secret's value; its name and every grant stay
    #[command(after_long_help = help::ROTATE)]
    Rotate(RotateArgs),
    /// Delete secrets, asking first (alias: rm)
    #[command(alias = "rm", after_long_help = help::DELETE)]
    Delete(DeleteArgs),
    /// Run a command with secrets in its environment
    Exec(ExecArgs),
    /// Serve a coding agent on stdio (Model Context Protocol): names and masked runs, never a value
    ///
    /// Run by the agent's host with an agent identity's token in
    /// VAULT_ACCESS_TOKEN; `vault mcp config` prints the host's
    /// configuration.
    Mcp(McpArgs),
    /// Give an identity access to secrets
    #[command(after_long_help = help::GRANT)]
    Grant(GrantArgs),
    /// Take an identity's access to secrets away
    #[command(after_long_help = help::REVOKE)]
    Revoke(RevokeArgs),
    /// Add, list and remove identities (people and machines)
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Change the current identity's passphrase (with --rekey, its keys too)
    #[command(after_long_help = help::PASSWD)]
    Passwd(PasswdArgs),
    /// Show who did what to which secrets, and when; `audit verify` checks it
    ///
    /// Every add, rotate, rename, delete, grant, revoke, identity change and
    /// exec is recorded: time, identity, action, secret names, and for exec
    /// the program and working directory; never a value. Showing the log
    /// needs no unlocking: it is plaintext metadata, like `vault list`.
    #[command(after_long_help = help::AUDIT)]
    Audit(AuditArgs),
    /// Find stored values in files, staged changes, git history or a log, without printing them
    ///
    /// Looks for the current value of every secret you may use, and through
    /// their fingerprints for every version of every secret (no grant
    /// needed). Each finding names the file, line, column, secret and
    /// version; never the value or the text around it. Exit status 0 when
    /// nothing was found, 1 when something was, 2 on error.
    #[command(after_long_help = help::SCAN)]
    Scan(ScanArgs),
    /// Unlock once and keep the unlocked key in the OS keyring for a while
    #[command(after_long_help = help::UNLOCK)]
    Unlock(UnlockArgs),
    /// Remove every cached unlocked key of this vault from the OS keyring
    #[command(after_long_help = help::LOCK)]
    Lock,
    /// Keep the vault in a git repository: diff and merge it row by row
    #[command(subcommand)]
    Git(GitCommand),
    /// Show the vault, identity, unlock method and keyring; nothing secret (alias: doctor)
    #[command(alias = "doctor", after_long_help = help::STATUS)]
    Status(StatusArgs),
    /// Check the project's manifest against the vault: missing, not granted, expired; no unlocking
    #[command(after_long_help = help::CHECK)]
    Check(CheckArgs),
    /// Write a first manifest (vault.toml) from a .env or .env.example: names only
    #[command(after_long_help = help::MANIFEST)]
    Manifest(ManifestArgs),
    /// Show the vault's root and what this clone pinned; `trust accept` takes a new one on purpose
    #[command(after_long_help = help::TRUST)]
    Trust(TrustArgs),
    /// Print the shell completion script for SHELL
    ///
    /// The script asks vault for names as you type, reading only the vault's
    /// plaintext metadata: it never unlocks, prompts or touches a keyring.
    #[command(after_long_help = help::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Write completions/ and man/ under DIR (for the repository and packagers)
    #[command(hide = true)]
    GenerateAssets(GenerateAssetsArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The environment to check [env: VAULT_ENVIRONMENT] [default: the manifest's]
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,

    /// Print JSON (the shape is in vault-check(1))
    #[arg(long)]
    pub json: bool,

    /// Report secrets that expire within DURATION as expiring
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub expiring: String,
}

#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// The dotenv file to take the names from [default: .env.example, else .env]
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub from: Option<PathBuf>,

    /// Where to write it [default: vault.toml in the working directory]
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TrustArgs {
    /// `accept`: pin the vault's current root and take its current secrets as the newest (after restoring a backup, or a vault re-created on purpose)
    #[arg(value_parser = ["accept"])]
    pub action: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON (the shape is in the manual page, vault-status(1))
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    pub shell: Shell,
}

/// The shells `vault completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct GenerateAssetsArgs {
    /// The directory to write completions/ and man/ into
    #[arg(value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Name of the first identity [default: your user name]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

mod exec;
mod fast;
mod help;
mod mcp;
mod scan;
mod secrets;
mod team;

pub use exec::*;
pub use mcp::*;
pub use scan::*;
pub use secrets::*;
pub use team::*;
