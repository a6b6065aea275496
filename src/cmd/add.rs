//! `vault add NAME`: store a new secret, managed by the current identity.

use crate::cli::AddArgs;
use crate::error::{Error, Result};
use crate::session::Session;
use crate::vault::NewSecret;

pub fn run(session: &Session, args: AddArgs) -> Result<u8> {
    let name = super::name_without_value("add", &args.name, args.allow_dangerous_name)?;
    let expires_at = super::when(args.value.expires.as_deref())?;
    let rotate_every = super::period("--rotate-every", args.value.rotate_every.as_deref())?;
    let service = super::metadata_text("--service", args.service)?;
    let description = super::metadata_text("--description", args.description)?;
    let vault = session.open()?;
    // Refuse a taken name before asking for a value nobody will store.
    if vault.secret_exists(&name)? {
        return Err(Error::SecretExists(name.to_string()));
    }
    let me = session.unlock(&vault)?;
    let value = super::input::read_value(&name, &args.value)?;
    vault.add(
        &me,
        NewSecret {
            name: name.clone(),
            value,
            service,
            description,
            expires_at,
            rotate_every,
        },
    )?;
    super::print(&format!("added {name}\n"))?;
    super::OK
}
