//! Importing many secrets at once (`vault import`): names that are new are
//! added, names that exist are rotated or skipped, all in one write
//! transaction, so an error half-way (a secret `me` may not rotate, a full
//! disk) leaves the vault exactly as it was.
//!
//! Adding and rotating run the same code as `add` and `rotate`
//! (`seal_new`/`insert_new` and `rotate_in`), inside this one transaction.

use super::secrets::{NewSecret, Rotation};
use super::{Unlocked, Vault};
use crate::error::Result;
use crate::model::SecretName;

/// What an import did; each list in the order of the file.
#[derive(Default)]
pub struct Imported {
    pub added: Vec<SecretName>,
    /// Each rotated secret with its new version.
    pub rotated: Vec<(SecretName, i64)>,
    /// Names that exist and were left alone (no `overwrite`).
    pub skipped: Vec<SecretName>,
}

impl Vault {
    /// Adds each secret whose name is free, managed by `me`; rotates each
    /// whose name is taken when `overwrite` (keeping its service,
    /// description, grants and rotation period), else skips it. All or
    /// nothing.
    pub fn import(
        &self,
        me: &Unlocked,
        secrets: Vec<NewSecret>,
        overwrite: bool,
    ) -> Result<Imported> {
        let now = crate::time::now();
        let names: Vec<SecretName> = secrets.iter().map(|s| s.name.clone()).collect();
        self.audited(me, self.event("import", &names), |db, audit_key, roster| {
            let mut done = Imported::default();
            for new in secrets {
                let name = new.name.clone();
                if !self.name_taken(db, name.as_str())? {
                    let row = self.seal_new(me, new, now)?;
                    self.insert_new(db, roster, me, audit_key, row)?;
                    done.added.push(name);
                } else if overwrite {
                    let rotation = Rotation {
                        value: new.value,
                        expires_at: new.expires_at,
                        rotate_every: new.rotate_every,
                    };
                    let version = self.rotate_in(db, roster, me, audit_key, &name, rotation)?;
                    done.rotated.push((name, version));
                } else {
                    done.skipped.push(name);
                }
            }
            Ok(done)
        })
    }
}
