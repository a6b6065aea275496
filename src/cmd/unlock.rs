//! `vault unlock` and `vault lock`: keep an identity's unlocked key in the
//! OS keyring for a while, and take every cached key of the vault away at
//! once.
//!
//! `unlock` takes the passphrase from any source (file, environment,
//! terminal), so scripts and tests can use it too; it fails when the key
//! cannot be kept, since keeping it is all the user asked for. A key
//! already cached for at least as long is left as it is, without asking.

use crate::cli::UnlockArgs;
use crate::error::{Error, Result};
use crate::keycache::MAX_TTL_SECS;
use crate::session::{cache_scope, Kept, Session};
use crate::time::WhenProblem;

pub fn unlock(session: &Session, args: UnlockArgs) -> Result<u8> {
    let ttl = duration(&args.duration)?;
    let vault = session.open()?;
    let (me, expires, kept) = session.unlock_and_keep(&vault, ttl)?;
    let until = crate::time::format(expires);
    super::print(&match kept {
        Kept::Now => format!("unlocked {} until {until}\n", me.name()),
        Kept::Already => format!(
            "{} is already unlocked until {until}; nothing was changed\n",
            me.name()
        ),
    })?;
    super::OK
}

pub fn lock(session: &Session) -> Result<u8> {
    let vault = session.open()?;
    let mut removed = Vec::new();
    for info in vault.identities()? {
        let identity = vault.identity(Some(info.name.as_str()))?;
        if session.cache.remove(&cache_scope(&vault, identity.id())) {
            removed.push(crate::model::shown(info.name.as_str()).into_owned());
        }
    }
    // Entries of identities whose rows have left the file (removed in
    // another clone, or by hand): found by the vault file's prefix. The
    // identity id plays no part in it.
    let gone = session.cache.remove_vault(&cache_scope(&vault, &[0; 16]));
    let gone = match gone {
        0 => None,
        1 => Some("1 identity no longer in the vault".to_owned()),
        n => Some(format!("{n} identities no longer in the vault")),
    };
    let whose = match (removed.is_empty(), gone) {
        (true, None) => {
            super::print("nothing to lock: no unlocked key of this vault is cached\n")?;
            return super::OK;
        }
        (true, Some(gone)) => gone,
        (false, None) => super::join_names(&removed),
        (false, Some(gone)) => format!("{} and of {gone}", super::join_names(&removed)),
    };
    super::print(&format!("locked: removed the cached key of {whose}\n"))?;
    super::OK
}

/// `--for DURATION`: positive and at most `MAX_TTL_SECS`.
fn duration(text: &str) -> Result<i64> {
    let refuse = |problem| Error::InvalidDuration {
        input: text.to_owned(),
        problem,
    };
    match crate::time::parse_duration(text) {
        Ok(secs) if secs <= MAX_TTL_SECS => Ok(secs),
        Ok(_) | Err(WhenProblem::TooFar) => Err(refuse("the unlock cache keeps a key 24h at most")),
        Err(_) => Err(refuse("not a duration")),
    }
}
