//! The command line of `vault exec` (part of `cli`).

use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
#[command(
    override_usage = "vault exec [OPTIONS] -- COMMAND [ARGS]...",
    after_long_help = super::help::EXEC
)]
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

    /// The environment (dev, prod...): each name's own secret there, else the shared one [env: VAULT_ENVIRONMENT] [default: the manifest's]
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
    /// Give the command SECRET as a file that exists only in memory, its path in VAR, the value not in the environment (--file NAME: VAR is NAME); repeatable
    #[arg(long = "file", value_name = "VAR=SECRET")]
    pub file: Vec<String>,

    /// Give the command TEMPLATE with each {{ NAME }} replaced by that secret's value, as a file in memory, its path in VAR; repeatable
    #[arg(long = "render", value_name = "TEMPLATE=VAR")]
    pub render: Vec<String>,

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

    /// Let this secret be injected though its variable lets a value take over a program (LD_PRELOAD, BASH_ENV...); repeatable. Whoever added it opted in for themselves, not for you
    #[arg(long = "allow-dangerous-name", value_name = "NAME")]
    pub allow_dangerous: Vec<String>,

    /// Why this command runs, recorded in the audit log; an agent identity must give one
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Show what would happen to each secret, without values and without running anything
    #[arg(long)]
    pub explain: bool,

    /// With --explain, print it as JSON (the shape is in vault-exec(1))
    #[arg(long, requires = "explain")]
    pub json: bool,

    /// The command to run and its arguments
    // No `allow_hyphen_values`: a word before `--` that looks like an
    // option is one, so a mistyped `--onyl` is refused with clap's "did
    // you mean" instead of being run as a program. After the first word of
    // the command, everything is the command's (`trailing_var_arg`).
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// `--mask` values (kept here so completions list them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MaskMode {
    /// Mask when stdout or stderr is not a terminal (a CI log, a file, a pipe), or when CI is set
    Auto,
    /// Always mask, on a pseudo-terminal when output is a terminal
    Always,
    /// Never mask: vault replaces itself with the command
    Never,
}
