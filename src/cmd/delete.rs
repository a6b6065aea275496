//! `vault delete NAME...`: asks first on a terminal, needs `--yes` without
//! one, and says what it removed.

use crate::cli::DeleteArgs;
use crate::error::{Error, Result};
use crate::session::Session;
use crate::terminal;

pub fn run(session: &Session, args: DeleteArgs) -> Result<u8> {
    let names = super::existing_secret_names(&args.names)?;
    let (vault, environment) = session.open_in(args.environment.as_deref())?;
    for name in &names {
        vault.exact_secret(name)?;
    }
    if !args.yes {
        if !terminal::interactive() {
            return Err(Error::NeedsConfirmation);
        }
        let question = format!(
            "Delete {} {}? Its value cannot be recovered.",
            if names.len() == 1 {
                "secret"
            } else {
                "secrets"
            },
            super::join_names(&names),
        ) + &super::in_environment(environment.as_ref());
        if !terminal::confirm(&question)? {
            return Err(Error::Declined);
        }
    }
    let me = session.unlock(&vault)?;
    vault.delete(&me, &names)?;
    super::print(&format!(
        "deleted {}{}\n",
        super::join_names(&names),
        super::in_environment(environment.as_ref())
    ))?;
    super::OK
}
