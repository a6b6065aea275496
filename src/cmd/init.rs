//! `vault init`: create the vault file and its first identity.

use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::session::Session;
use crate::vault::Vault;

pub fn run(session: &Session, args: InitArgs) -> Result<u8> {
    let name = match &args.name {
        Some(name) => super::identity_name(name)?,
        None => super::identity_name(&default_owner_name())?,
    };
    let path = &session.vault_path;
    if path.exists() || path.is_symlink() {
        return Err(match crate::vault::Vault::open_read_only(path) {
            Ok(_) => Error::VaultExists(path.clone()),
            Err(_) => Error::PathTaken(path.clone()),
        });
    }
    let passphrase = session.new_passphrase(None, true, name.as_str())?;
    let vault = Vault::init(
        &session.vault_path,
        &name,
        &passphrase,
        session.new_kdf_params(),
    )?;
    super::print(&format!(
        "created vault {} with identity {name}\n",
        vault.path().display()
    ))?;
    super::OK
}

/// The login name, made into a valid identity name; `owner` if there is none.
fn default_owner_name() -> String {
    let login = std::env::var("USER")
        .ok()
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()?
                .map(|u| u.name)
        })
        .unwrap_or_default();
    let cleaned: String = login
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "owner".to_owned()
    } else {
        cleaned
    }
}
