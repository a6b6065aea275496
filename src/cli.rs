//! The command line, as clap derive types: the one definition that help,
//! shell completions and man pages are generated from.
//!
//! Only definitions live here; `cmd/` turns each args struct into validated
//! domain values before anything acts. `complete.rs` attaches the vault's
//! names to arguments by id (secrets) or value name (`IDENTITY`, `SERVICE`),
//! and `man.rs` builds the EXIT STATUS and ENVIRONMENT sections of vault(1)
//! from [`AFTER_HELP`]. After changing anything here, regenerate the shipped
//! copies: `cargo run -- generate-assets .`

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

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

/// Exit statuses and environment, shown by `--help` and turned into the
/// EXIT STATUS and ENVIRONMENT sections of vault(1). Keep its shape: a
/// heading ending in `:`, then items as `  TERM  text` (two spaces or more
/// between them) with `    ` continuation lines, or plain paragraphs.
pub const AFTER_HELP: &str = "\
Exit status:
  0    success
  1    a report (list --expiring, list --needs-rotation) found something,
       or git merge found a conflict
  2    vault failed: bad input, refused operation, damaged vault
  exec passes the command's own status through; 125 when vault failed
  before running it, 126 when it could not be run, 127 when not found.

Environment:
  VAULT_PATH             the vault file (default: DATA_DIR/vault/vault.db)
  VAULT_IDENTITY         the identity to act as
  VAULT_ACCESS_TOKEN     a machine identity's access token (CI)
  VAULT_PASSPHRASE_FILE  a file holding the passphrase
  VAULT_PASSPHRASE       the passphrase itself (prefer the file)
  VAULT_NO_KEYRING       1 turns the keyring unlock cache off
  Unlocking variables never reach a program run by exec, which sees
  VAULT_EXEC=1.";

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    // The environment variables behind these options are read in
    // session.rs rather than by clap, so that an empty variable counts as
    // unset instead of as an error.
    /// The vault file [env: VAULT_PATH] [default: DATA_DIR/vault/vault.db]
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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a vault and its first identity
    Init(InitArgs),
    /// Add a secret; the value comes from a hidden prompt, stdin or a file
    Add(AddArgs),
    /// Add every entry of a dotenv (.env) file as a secret, in one transaction
    #[command(after_long_help = IMPORT_AFTER_HELP)]
    Import(ImportArgs),
    /// List secrets and who has access, never their values
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Rename a secret, keeping its value, version, dates and access
    #[command(visible_alias = "mv")]
    Rename(RenameArgs),
    /// Replace a secret's value; its name and every grant stay
    Rotate(RotateArgs),
    /// Delete secrets (asks first)
    #[command(visible_alias = "rm")]
    Delete(DeleteArgs),
    /// Run a command with secrets in its environment
    Exec(ExecArgs),
    /// Give an identity access to secrets
    Grant(GrantArgs),
    /// Take an identity's access to secrets away
    Revoke(RevokeArgs),
    /// Add, list and remove identities (people and machines)
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Change the current identity's passphrase
    Passwd(PasswdArgs),
    /// Show who did what to which secrets, and when; `audit verify` checks it
    ///
    /// Every add, rotate, rename, delete, grant, revoke, identity change and
    /// exec is recorded: time, identity, action, secret names, and for exec
    /// the program and working directory; never a value. Showing the log
    /// needs no unlocking: it is plaintext metadata, like `vault list`.
    Audit(AuditArgs),
    /// Unlock once and keep the unlocked key in the OS keyring for a while
    Unlock(UnlockArgs),
    /// Remove every cached unlocked key of this vault from the OS keyring
    Lock,
    /// Keep the vault in a git repository: diff and merge it row by row
    #[command(subcommand)]
    Git(GitCommand),
    /// Show the vault file, identity, unlock method and keyring; nothing secret
    #[command(visible_alias = "doctor")]
    Status,
    /// Print the shell completion script for SHELL
    ///
    /// The script asks vault for names as you type, reading only the vault's
    /// plaintext metadata: it never unlocks, prompts or touches a keyring.
    Completions(CompletionsArgs),
    /// Write completions/ and man/ under DIR (for the repository and packagers)
    #[command(hide = true)]
    GenerateAssets(GenerateAssetsArgs),
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

/// Where a new value comes from and how long it lives, shared by `add` and
/// `rotate`.
#[derive(Debug, Args)]
pub struct ValueSource {
    /// Read the value from this file instead of stdin or a prompt
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub from_file: Option<PathBuf>,

    /// Accept an empty value
    #[arg(long)]
    pub allow_empty: bool,

    /// When the secret expires: a date (2027-01-31) or a duration (90d, 12h)
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,

    /// How often it should be rotated (90d, 4w); `list --needs-rotation` reports it when overdue
    #[arg(long, value_name = "DURATION")]
    pub rotate_every: Option<String>,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The secret's name: the environment variable the program will see
    pub name: String,

    /// The service it belongs to, for grouping and selection
    #[arg(long, short = 's', value_name = "SERVICE")]
    pub service: Option<String>,

    /// What it is for
    #[arg(long, short = 'd', value_name = "TEXT")]
    pub description: Option<String>,

    #[command(flatten)]
    pub value: ValueSource,

    /// Accept a name that lets a value take over a program (LD_PRELOAD, PATH...)
    #[arg(long)]
    pub allow_dangerous_name: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The dotenv file to read
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: PathBuf,

    /// The service the new secrets belong to
    #[arg(long, short = 's', value_name = "SERVICE")]
    pub service: Option<String>,

    /// Show what would be added, rotated and skipped (names only); change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Rotate secrets that already exist instead of skipping them
    #[arg(long)]
    pub overwrite: bool,

    /// Accept empty values
    #[arg(long)]
    pub allow_empty: bool,

    /// Accept names that let a value take over a program (LD_PRELOAD, PATH...)
    #[arg(long)]
    pub allow_dangerous_name: bool,
}

const IMPORT_AFTER_HELP: &str = "\
The file is read as dotenv defines it: NAME=value lines, an optional export
prefix, # comments, single quotes (literal), double quotes (multi-line
values and the escapes \\n \\\" \\\\ \\$), and $NAME or ${NAME} replaced by an
earlier entry or a variable of vault's environment (single quotes or \\$ keep
a literal $). The whole file is checked before anything is written: if any
line is refused, nothing is imported. New secrets are managed by you; with
--overwrite, existing ones are rotated and keep their service and grants.

vault never deletes the file: once you no longer need it, delete it yourself
(for example with shred -u FILE).";

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only secrets of this service
    #[arg(long, short = 's', value_name = "SERVICE")]
    pub service: Option<String>,

    /// Print JSON (the shape is documented in the README)
    #[arg(long)]
    pub json: bool,

    /// Report secrets that expire within DURATION (30d), expired ones included; exit 1 if any
    #[arg(long, value_name = "DURATION")]
    pub expiring: Option<String>,

    /// Report secrets with revoked access or overdue for rotation; exit 1 if any
    #[arg(long)]
    pub needs_rotation: bool,
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    /// The secret's current name
    pub old: String,
    /// Its new name
    pub new: String,
    /// Accept a new name that lets a value take over a program
    #[arg(long)]
    pub allow_dangerous_name: bool,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The secret to rotate
    pub name: String,

    #[command(flatten)]
    pub value: ValueSource,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The secrets to delete
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,

    /// Do not ask for confirmation (needed without a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = EXEC_AFTER_HELP)]
pub struct ExecArgs {
    /// Inject these secrets (comma-separated or repeated)
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Inject the secrets of this service (repeatable)
    #[arg(long, short = 's', value_name = "SERVICE")]
    pub service: Vec<String>,

    /// Inject SECRET under the variable name TARGET (repeatable)
    #[arg(long = "env", value_name = "TARGET=SECRET")]
    pub rename: Vec<String>,

    /// Give the command only the secrets and PATH, HOME, USER, LANG, TERM, TZ, TMPDIR, SHELL
    #[arg(long)]
    pub clean_env: bool,

    /// Keep a variable already set in the environment instead of the secret
    #[arg(long)]
    pub no_override: bool,

    /// Replace secret values in the command's output by [masked:NAME]
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = MaskMode::Auto)]
    pub mask: MaskMode,

    /// Inject secrets that have expired instead of refusing to run
    #[arg(long)]
    pub allow_expired: bool,

    /// Show what would happen to each secret, without values and without running anything
    #[arg(long)]
    pub explain: bool,

    /// The command to run and its arguments
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<std::ffi::OsString>,
}

const EXEC_AFTER_HELP: &str = "\
Selection: with no --only, --service or --env, every secret granted to the
identity is injected; otherwise each of them adds its secrets.

Masking: values shorter than 6 bytes are not masked, and a value the command
transforms (base64, URL-encoding...) is not recognised. With masking on and
output on a terminal, the command writes to a pseudo-terminal, so it still
sees a terminal. Without masking, vault replaces itself with the command.

Exit status: the command's own; 128+N when it died of signal N; 125 when
vault failed before running it; 126 when it could not be run; 127 when it
was not found.";

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
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The secrets to revoke access to
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,

    /// The identity losing access
    #[arg(long, value_name = "IDENTITY")]
    pub from: String,
}

#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Add a person (asks for their passphrase) or a machine (--token)
    Add(IdentityAddArgs),
    /// List identities
    #[command(visible_alias = "ls")]
    List(IdentityListArgs),
    /// Remove an identity and all its access
    #[command(visible_alias = "rm")]
    Remove(IdentityRemoveArgs),
}

#[derive(Debug, Args)]
pub struct IdentityAddArgs {
    /// The new identity's name
    pub name: String,

    /// A machine identity (CI): print an access token instead of asking for a passphrase
    #[arg(long)]
    pub token: bool,

    /// Read the new identity's passphrase from this file
    #[arg(
        long,
        value_name = "PATH",
        value_hint = ValueHint::FilePath,
        conflicts_with = "token"
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
pub enum AuditCommand {
    /// Unlock and check every entry's authentication code and the chain
    ///
    /// Exits 0 when the log is intact; otherwise 2, naming the first bad
    /// entry by sequence number and time and whether it was edited, deleted
    /// or reordered. Deleting only the newest entries cannot be detected.
    Verify,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// Read the new passphrase from this file
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub new_passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// How long to keep the key: 30s, 15m, 8h (at most 24h)
    #[arg(long = "for", value_name = "DURATION", default_value = "15m")]
    pub duration: String,
}

/// `--mask` values (kept here so completions list them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MaskMode {
    /// Mask when stdout or stderr is not a terminal (a CI log, a file, a pipe)
    Auto,
    /// Always mask, on a pseudo-terminal when output is a terminal
    Always,
    /// Never mask: vault replaces itself with the command
    Never,
}

#[derive(Debug, Subcommand)]
pub enum GitCommand {
    /// Register vault as git's diff and merge driver for the vault file
    ///
    /// Run inside the repository, with --vault (or VAULT_PATH) naming the
    /// vault file in its work tree. Writes the .gitattributes line, adds the
    /// vault's -wal and -shm side files to .gitignore, and sets this
    /// repository's git config. Every clone runs it once: git does not share
    /// its config. Running it again changes nothing.
    Setup,
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
