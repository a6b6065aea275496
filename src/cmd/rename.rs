//! `vault rename OLD NEW`: a new name; value, version, dates and access stay.

use crate::cli::RenameArgs;
use crate::error::Result;
use crate::session::Session;

pub fn run(session: &Session, args: RenameArgs) -> Result<u8> {
    let old = super::existing_secret_name(&args.old)?;
    let new = super::new_secret_name(&args.new, args.allow_dangerous_name)?;
    let (vault, _) = session.open_in(args.environment.as_deref())?;
    let me = session.unlock(&vault)?;
    vault.rename(&me, &old, &new)?;
    super::print(&format!("renamed {old} to {new}\n"))?;
    super::OK
}
