//! `vault passwd`: re-seal the current identity's key under a new
//! passphrase. No secret is re-encrypted. The current passphrase is always
//! asked, even while the identity's key is cached: someone at a terminal
//! left unlocked must not be able to change it. The cached key is removed
//! afterwards: whoever changes a passphrase wants to be asked for the new
//! one.
//!
//! With `--rekey`, the identity also gets a new key pair, and everything
//! it signed or holds is signed and wrapped again (`vault/rekey.rs`); the
//! report names the secrets still wrapped for its old key.

use crate::cli::PasswdArgs;
use crate::error::Result;
use crate::session::Session;

pub fn run(session: &Session, args: PasswdArgs) -> Result<u8> {
    let vault = session.open()?;
    let me = session.unlock_uncached(&vault)?;
    let passphrase =
        session.new_passphrase(args.new_passphrase_file.as_deref(), false, me.name())?;
    let kdf = session.new_kdf_params();
    let report = if args.rekey {
        Some(vault.rekey(&me, &passphrase, kdf)?)
    } else {
        vault.change_passphrase(&me, &passphrase, kdf)?;
        None
    };
    session
        .cache
        .remove(&crate::session::cache_scope(&vault, me.id()));
    let Some(r) = report else {
        super::print(&format!("changed the passphrase of {}\n", me.name()))?;
        return super::OK;
    };
    let mut text = format!(
        "gave {} a new key pair and passphrase: receives with {}, signs with {}\n\
         signed again: {} {}, {} {}\n",
        crate::model::shown(me.name()),
        r.receives_with,
        r.signs_with,
        r.secrets,
        if r.secrets == 1 { "secret" } else { "secrets" },
        r.certificates,
        if r.certificates == 1 {
            "certificate"
        } else {
            "certificates"
        },
    );
    if !r.held.is_empty() {
        text.push_str(&format!(
            "an old copy of the file still opens the current values of these until they are rotated: {}\n",
            names(&r.held)
        ));
    }
    if !r.still_wrapped_for_old_key.is_empty() {
        text.push_str(&format!(
            "still wrapped for the old key (a manager's next rotate of these re-wraps them for the new key): {}\n",
            names(&r.still_wrapped_for_old_key)
        ));
    }
    super::print(&text)?;
    super::OK
}

/// Names read from the file, escaped, in one line.
fn names(names: &[String]) -> String {
    names
        .iter()
        .map(|n| crate::model::shown(n))
        .collect::<Vec<_>>()
        .join(", ")
}
