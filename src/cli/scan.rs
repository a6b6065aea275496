//! `vault scan`'s arguments (split from `mod.rs`, which lists the
//! commands).

use std::path::PathBuf;

use clap::{Args, ValueHint};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan [default: the current directory]
    #[arg(
        value_name = "PATH",
        value_hint = ValueHint::AnyPath,
        conflicts_with_all = ["staged", "git_history", "stdin"]
    )]
    pub paths: Vec<PathBuf>,

    /// Scan what `git commit` would record: the staged files that differ from HEAD
    #[arg(long, conflicts_with_all = ["git_history", "stdin"])]
    pub staged: bool,

    /// Scan every file version the current branch's commits recorded, naming the commits
    #[arg(long, conflicts_with = "stdin")]
    pub git_history: bool,

    /// Scan standard input to its end (a CI log)
    #[arg(long)]
    pub stdin: bool,

    /// Also scan files that .gitignore, .ignore and git's excludes leave out
    #[arg(long)]
    pub no_ignore: bool,

    /// Print the findings as JSON (the shape is in vault-scan(1))
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GitSetupArgs {
    /// Also install a pre-commit hook that runs `vault scan --staged` and refuses a commit that records a stored value
    #[arg(long)]
    pub hook: bool,
}
