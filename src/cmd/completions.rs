//! `vault completions SHELL`: prints the script that teaches a shell to
//! complete vault's commands, options and the vault's own names.

use crate::cli::CompletionsArgs;
use crate::error::Result;

pub fn run(args: CompletionsArgs) -> Result<u8> {
    super::print(&crate::complete::script(args.shell))?;
    super::OK
}
