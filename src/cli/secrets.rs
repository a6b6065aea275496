//! The command line of the commands that store and list secrets: add,
//! import, list, rename, rotate, delete (part of `cli`).

use std::path::PathBuf;

use clap::{Args, ValueHint};

// Where a new value comes from and how long it lives, shared by `add` and
// `rotate`. (A plain comment: a doc comment here would become the about
// text of both, as their subcommands are built after their own.)
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

    /// Add it to this environment only (dev, prod...): a secret of its own, with its own grants [env: VAULT_ENVIRONMENT]
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
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

    /// With --dry-run, print it as JSON (the shape is in vault-import(1))
    #[arg(long, requires = "dry_run")]
    pub json: bool,

    /// Rotate secrets that already exist instead of skipping them
    #[arg(long)]
    pub overwrite: bool,

    /// Accept empty values
    #[arg(long)]
    pub allow_empty: bool,

    /// Accept names that let a value take over a program (LD_PRELOAD, PATH...)
    #[arg(long)]
    pub allow_dangerous_name: bool,

    /// Take every value as written: $NAME and ${NAME} are not replaced
    #[arg(long)]
    pub no_expand: bool,

    /// Import into this environment (dev, prod...): new secrets belong to it [env: VAULT_ENVIRONMENT]
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only secrets of this service
    #[arg(long, short = 's', value_name = "SERVICE")]
    pub service: Option<String>,

    /// Print JSON (the shape is under JSON OUTPUT below and in vault-list(1))
    #[arg(long)]
    pub json: bool,

    /// Report secrets that expire within DURATION (30d), expired ones included; exit 1 if any
    #[arg(long, value_name = "DURATION")]
    pub expiring: Option<String>,

    /// Report secrets with revoked access or overdue for rotation; exit 1 if any
    #[arg(long)]
    pub needs_rotation: bool,

    /// Only what this environment sees: its own secrets and the shared ones [env: VAULT_ENVIRONMENT]
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
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

    /// The environment (dev, prod...): NAME's own secret there, else the one shared by all [env: VAULT_ENVIRONMENT]
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The secret to rotate
    pub name: String,

    #[command(flatten)]
    pub value: ValueSource,

    /// The environment (dev, prod...): NAME's own secret there, else the one shared by all [env: VAULT_ENVIRONMENT]
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The secrets to delete
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,

    /// Do not ask for confirmation (needed without a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Delete the secrets of this environment (never the shared ones) [env: VAULT_ENVIRONMENT]
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
}
