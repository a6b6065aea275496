//! `vault rotate NAME`: a new value under a new data key, version + 1, and
//! every grant re-wrapped, so consumers go on unchanged. The expiry (while
//! still ahead) and the rotation period stay unless new ones are given.

use crate::cli::RotateArgs;
use crate::error::Result;
use crate::session::Session;
use crate::vault::Rotation;

pub fn run(session: &Session, args: RotateArgs) -> Result<u8> {
    let name = super::name_without_value("rotate", &args.name, true)?;
    let expires_at = super::when(args.value.expires.as_deref())?;
    let rotate_every = super::period("--rotate-every", args.value.rotate_every.as_deref())?;
    let (vault, _) = session.open_in(args.environment.as_deref())?;
    // The secret this environment uses: its own, else the shared one.
    vault.resolve_secret(&name)?;
    let me = session.unlock(&vault)?;
    let value = super::input::read_value(&name, &args.value)?;
    session.check_rule(&name, &value)?;
    let rotation = Rotation {
        value,
        expires_at,
        rotate_every,
    };
    let version = vault.rotate(&me, &name, rotation)?;
    super::print(&format!("rotated {name} to version {version}\n"))?;
    super::OK
}
