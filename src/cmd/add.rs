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
    let (vault, environment) = session.open_in(args.environment.as_deref())?;
    // Refuse a taken name before asking for a value nobody will store.
    if vault.secret_exists(&name)? {
        let label = crate::model::label(
            name.as_str(),
            environment.as_ref().map_or("", |e| e.as_str()),
        );
        return Err(Error::SecretExists(label));
    }
    let me = session.unlock(&vault)?;
    let value = super::input::read_value(&name, &args.value)?;
    session.check_rule(&name, &value)?;
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
    super::print(&format!(
        "added {name}{}\n",
        super::in_environment(environment.as_ref())
    ))?;
    super::OK
}
