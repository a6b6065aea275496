//! The command line of `vault exec` (part of `cli`).

use clap::{Args, ValueEnum};

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
sees a terminal. With --mask auto, a terminal is masked too when the CI
variable is set (not empty, 0 or false), as CI services set it for jobs they
give a pseudo-terminal. Without masking, vault replaces itself with the
command.

Exit status: the command's own; 128+N when it died of signal N; 125 when
vault failed before running it; 126 when it could not be run; 127 when it
was not found.";

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
