//! The command line of the commands for identities, access, the unlock
//! cache, the audit log and git (part of `cli`).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueHint};

#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The secrets to grant
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,

    /// The identity to grant them to
    #[arg(long, value_name = "IDENTITY")]
    pub to: String,

    /// Also let it rotate, rename, delete and grant them
    #[arg(long)]
    pub manage: bool,

    /// When the access ends: a date (2027-01-31) or a duration (90d, 12h)
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,

    /// The environment (dev, prod...): NAME's own secret there, else the one shared by all [env: VAULT_ENVIRONMENT]
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The secrets to revoke access to
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,

    /// The identity losing access
    #[arg(long, value_name = "IDENTITY")]
    pub from: String,

    /// The environment (dev, prod...): NAME's own secret there, else the one shared by all [env: VAULT_ENVIRONMENT]
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum IdentityCommand {
    /// Add a person (asks for their passphrase) or a machine (--token)
    #[command(after_long_help = super::help::IDENTITY_ADD)]
    Add(IdentityAddArgs),
    /// List identities (alias: ls)
    #[command(alias = "ls", after_long_help = super::help::IDENTITY_LIST)]
    List(IdentityListArgs),
    /// Remove an identity and all its access (alias: rm)
    #[command(alias = "rm", after_long_help = super::help::IDENTITY_REMOVE)]
    Remove(IdentityRemoveArgs),
}

#[derive(Debug, Args)]
pub struct IdentityAddArgs {
    /// The new identity's name
    pub name: String,

    /// A machine identity (CI): print an access token instead of asking for a passphrase
    #[arg(long)]
    pub token: bool,

    /// Make it an admin: it may add and remove identities and write every secret
    #[arg(long)]
    pub admin: bool,

    /// A coding agent: a machine identity with its own token that may only use secrets, always masked, each run with a reason, until --expires
    #[arg(long, conflicts_with_all = ["admin", "token"])]
    pub agent: bool,

    /// With --agent, when it stops working: a duration (8h, 30m) or a date [default: 8h]
    #[arg(
        long,
        value_name = "WHEN",
        requires = "agent",
        conflicts_with = "token"
    )]
    pub expires: Option<String>,

    /// Read the new identity's passphrase from this file
    #[arg(
        long,
        value_name = "PATH",
        value_hint = ValueHint::FilePath,
        conflicts_with_all = ["token", "agent"]
    )]
    pub new_passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct IdentityListArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IdentityRemoveArgs {
    /// The identity to remove
    pub name: String,

    /// Do not ask for confirmation (needed without a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,

    /// Only entries since WHEN: a date (2027-01-31), a time, or a duration ago (7d, 12h)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// Only entries that name this secret
    #[arg(long, value_name = "NAME")]
    pub secret: Option<String>,

    /// Print JSON: {"entries": [{"seq", "time", "identity", "action", "secrets", "detail"}]}
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum AuditCommand {
    /// Unlock and check every entry's authentication code and the chain
    ///
    /// Exits 0 when the log is intact; otherwise 2, naming the first bad
    /// entry by sequence number and time and whether it was edited, deleted
    /// or reordered. Entries exec left in the exec log beside the vault, not
    /// yet folded into the chain by a write, are checked too; a bad one is
    /// named by its line. Deleting only the newest entries cannot be
    /// detected.
    #[command(after_long_help = super::help::AUDIT_VERIFY)]
    Verify,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// Read the new passphrase from this file
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub new_passphrase_file: Option<PathBuf>,
    /// Also give the identity a new key pair, and sign and wrap again what it holds
    ///
    /// Use it when the old passphrase may have leaked or a laptop with the
    /// vault file was lost: the old passphrase and any old copy of the file
    /// then open nothing written after, and sign nothing anyone accepts.
    /// Secrets it may only use stay wrapped for the old key until a manager
    /// rotates them; the command lists them.
    #[arg(long)]
    pub rekey: bool,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// How long to keep the key: 30s, 15m, 8h (at most 24h)
    #[arg(long = "for", value_name = "DURATION", default_value = "15m")]
    pub duration: String,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum GitCommand {
    /// Register vault as git's diff and merge driver for the vault file
    ///
    /// Run inside the repository, with --vault (or VAULT_PATH) naming the
    /// vault file in its work tree. Writes the .gitattributes line, adds the
    /// vault's -wal and -shm side files to .gitignore, and sets this
    /// repository's git config. Every clone runs it once: git does not share
    /// its config. Running it again changes nothing.
    #[command(after_long_help = super::help::GIT_SETUP)]
    Setup(super::GitSetupArgs),
    /// Print a vault file as text, without values or keys (git's textconv)
    ///
    /// Names, services, versions, dates, identities and grants, sorted, one
    /// fact a line. Never unlocks; opens the file read-only.
    Textconv(GitTextconvArgs),
    /// Merge two versions of a vault file row by row (git's merge driver)
    ///
    /// Writes the result over OURS and exits 0, or leaves OURS unchanged,
    /// names each conflicting secret and exits 1.
    Merge(GitMergeArgs),
    /// Settle a stopped merge of the vault file by keeping one side for NAME
    ///
    /// Redoes the merge from git's three stages of the file, taking ours or
    /// theirs for each named secret (or identity) in conflict, and writes
    /// the working file; then `git add` it and commit.
    #[command(after_long_help = super::help::GIT_RESOLVE)]
    Resolve(GitResolveArgs),
}

#[derive(Debug, Args)]
pub struct GitTextconvArgs {
    /// The vault file to show
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct GitMergeArgs {
    /// The common ancestor's version (git's %O; empty when there is none)
    #[arg(value_name = "BASE", value_hint = ValueHint::FilePath)]
    pub base: PathBuf,
    /// Our version, replaced by the result (git's %A)
    #[arg(value_name = "OURS", value_hint = ValueHint::FilePath)]
    pub ours: PathBuf,
    /// Their version (git's %B)
    #[arg(value_name = "THEIRS", value_hint = ValueHint::FilePath)]
    pub theirs: PathBuf,
    /// The file's path in the repository, for messages (git's %P)
    #[arg(value_name = "PATH")]
    pub path: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("side").required(true).args(["ours", "theirs"])))]
pub struct GitResolveArgs {
    /// The secrets (or identities) in conflict
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
    /// Keep our side of each
    #[arg(long)]
    pub ours: bool,
    /// Keep their side of each
    #[arg(long)]
    pub theirs: bool,
}
