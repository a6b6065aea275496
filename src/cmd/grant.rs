//! `vault grant` and `vault revoke`: give and take away an identity's
//! access to secrets.

use crate::cli::{GrantArgs, RevokeArgs};
use crate::error::Result;
use crate::model::Level;
use crate::session::Session;

pub fn grant(session: &Session, args: GrantArgs) -> Result<u8> {
    let names = super::existing_secret_names(&args.names)?;
    let to = super::identity_name(&args.to)?;
    let expires_at = super::when(args.expires.as_deref())?;
    let level = if args.manage {
        Level::Manage
    } else {
        Level::Use
    };
    let (vault, environment) = session.open_in(args.environment.as_deref())?;
    let me = session.unlock(&vault)?;
    vault.grant(&me, &names, &to, level, expires_at)?;
    let until = expires_at
        .map(|e| format!(" until {}", crate::time::format(e)))
        .unwrap_or_default();
    super::print(&format!(
        "granted {} access to {}{} to {to}{until}\n",
        level.as_str(),
        super::join_names(&names),
        super::in_environment(environment.as_ref())
    ))?;
    super::OK
}

pub fn revoke(session: &Session, args: RevokeArgs) -> Result<u8> {
    let names = super::existing_secret_names(&args.names)?;
    let from = super::identity_name(&args.from)?;
    let (vault, environment) = session.open_in(args.environment.as_deref())?;
    let me = session.unlock(&vault)?;
    vault.revoke(&me, &names, &from)?;
    super::print(&format!(
        "revoked the access of {from} to {}{}\n",
        super::join_names(&names),
        super::in_environment(environment.as_ref())
    ))?;
    eprintln!(
        "warning: {from} may have kept what it could read; rotate {} to be sure (marked as needing rotation)",
        super::join_names(&names)
    );
    super::OK
}
