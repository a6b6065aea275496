//! `vault passwd`: re-seal the current identity's key under a new
//! passphrase. No secret is re-encrypted. The current passphrase is always
//! asked, even while the identity's key is cached: someone at a terminal
//! left unlocked must not be able to change it. The cached key is removed
//! afterwards: whoever changes a passphrase wants to be asked for the new
//! one.

use crate::cli::PasswdArgs;
use crate::error::Result;
use crate::session::Session;

pub fn run(session: &Session, args: PasswdArgs) -> Result<u8> {
    let vault = session.open()?;
    let me = session.unlock_uncached(&vault)?;
    let passphrase =
        session.new_passphrase(args.new_passphrase_file.as_deref(), false, me.name())?;
    vault.change_passphrase(&me, &passphrase, session.new_kdf_params())?;
    session
        .cache
        .remove(&crate::session::cache_scope(&vault, me.id()));
    super::print(&format!("changed the passphrase of {}\n", me.name()))?;
    super::OK
}
