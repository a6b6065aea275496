//! `vault passwd`: re-seal the current identity's key under a new
//! passphrase. No secret is re-encrypted.

use crate::cli::PasswdArgs;
use crate::error::Result;
use crate::session::Session;

pub fn run(session: &Session, args: PasswdArgs) -> Result<u8> {
    let vault = session.open()?;
    let me = session.unlock(&vault)?;
    let passphrase =
        session.new_passphrase(args.new_passphrase_file.as_deref(), false, me.name())?;
    vault.change_passphrase(&me, &passphrase, session.new_kdf_params())?;
    super::print(&format!("changed the passphrase of {}\n", me.name()))?;
    super::OK
}
