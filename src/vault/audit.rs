//! The audit log: who did what to which secrets, and when, chained with
//! MACs so that an edited, deleted or reordered entry is detected.
//!
//! The MAC key is the vault's *audit key*: 256 random bits, wrapped for
//! every identity exactly as a data key is (under the (writer, grantee)
//! wrapping key, associated data labelled `audit-key`). Whoever first needs
//! it and finds none makes it and wraps it for every identity at once,
//! which takes public keys only. Each entry names the MAC of the entry it
//! follows (`prev`), so a later merge of two clones can add an entry that
//! names two. Entries hold names and metadata, never a value.
//!
//! Recording runs inside the command's own write transaction, so an entry
//! exists exactly when the change it records does. `chain.rs` checks it.

use super::access::Grantee;
use super::exec_log::finish_fold;
use super::seal::{audit_entry_input, audit_key_aad, audit_key_input, Form};
use super::trust::Roster;
use super::{Unlocked, Vault};
use crate::crypto::{self, Key};
use crate::error::{Error, Result};
use crate::model::{AuditEntry, SecretName};
use crate::store::{AuditKeyRow, AuditRow, Db};

/// The format that added the audit log.
pub(super) const AUDIT_FORMAT: i64 = 2;

/// What one command did, as the log records it.
pub(super) struct Event {
    pub action: &'static str,
    pub names: Vec<String>,
    /// Key and value pairs (the grantee, exec's program), stored as a JSON
    /// object; never a value or a key.
    pub detail: Vec<(&'static str, String)>,
}

impl Event {
    pub fn new(action: &'static str, names: &[SecretName]) -> Event {
        Event {
            action,
            names: names.iter().map(|n| n.to_string()).collect(),
            detail: Vec::new(),
        }
    }

    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Event {
        self.detail.push((key, value.into()));
        self
    }

    /// The entry `me` makes now, not yet placed in the chain: names as a
    /// JSON array, the detail as a JSON object (NULL when empty).
    pub fn into_row(self, me: &Unlocked) -> AuditRow {
        let detail = (!self.detail.is_empty()).then(|| {
            let map: serde_json::Map<String, serde_json::Value> = self
                .detail
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.into()))
                .collect();
            serde_json::Value::Object(map).to_string()
        });
        AuditRow {
            id: crypto::random_bytes(),
            seq: 0,
            at: crate::time::now(),
            identity: me.name.clone(),
            action: self.action.to_owned(),
            names: serde_json::Value::from(self.names).to_string(),
            detail,
            prev: None,
            mac: Vec::new(),
        }
    }
}

/// What the audit log records of one run besides the secrets' names:
/// the program as typed (never its arguments), the working directory, the
/// reason given, and what started it when not `vault exec` (`mcp`).
pub struct ExecRun<'a> {
    pub program: &'a str,
    pub cwd: &'a str,
    pub reason: Option<&'a str>,
    pub via: Option<&'static str>,
}

impl Vault {
    /// Runs `f` in one write transaction together with the entry that
    /// records it. `f` gets the audit key (to wrap it for a newcomer).
    pub(super) fn audited<T>(
        &self,
        me: &Unlocked,
        event: Event,
        f: impl FnOnce(&Db<'_>, &Key, &Roster) -> Result<T>,
    ) -> Result<T> {
        if me.agent_until.is_some() {
            return Err(Error::RoleRefused {
                identity: me.name.clone(),
                action: "change the vault",
                why: format!("{} is an agent identity, which only uses secrets", me.name),
            });
        }
        self.refuse_receive_only(me)?;
        let result = self.write_signed(me, |db| {
            let roster = self.roster_for_write(db, me)?;
            let key = self.audit_key(db, me, Some(&roster))?;
            let exec_log = self.fold_exec_log(db, &key)?;
            self.backfill_fingerprints(db, me, &roster, &key)?;
            let value = f(db, &key, &roster)?;
            self.append_event(db, me, &key, event)?;
            Ok((value, exec_log))
        });
        let (value, exec_log) = match result {
            Ok(done) => done,
            Err(e) => {
                // What this command learned is kept only once it committed.
                self.reload_local_state();
                return Err(e);
            }
        };
        finish_fold(exec_log);
        self.save_local_state();
        Ok(value)
    }

    /// Records that `me` ran `program` in `cwd` with `names`: one line
    /// appended to the exec log (`vault::exec_log`), folded into the log by
    /// the next write. A vault whose audit key does not exist yet records
    /// the run in the log at once, making the key.
    pub fn record_exec(
        &self,
        me: &Unlocked,
        names: &[SecretName],
        run: &ExecRun<'_>,
    ) -> Result<()> {
        let mut event = Event::new("exec", names)
            .with("program", run.program)
            .with("cwd", run.cwd);
        if let Some(reason) = run.reason {
            event = event.with("reason", reason);
        }
        if let Some(via) = run.via {
            event = event.with("via", via);
        }
        let cached = self.local.borrow_mut().audit_key.take();
        let key = match cached {
            Some(key) => Some(key),
            None => self.existing_audit_key(&self.store.read(), me, None)?,
        };
        match key {
            Some(key) => self.append_exec_log(&key, event.into_row(me)),
            None => self.write_signed(me, |db| {
                let roster = self.roster_for_write(db, me)?;
                let key = self.audit_key(db, me, Some(&roster))?;
                self.append_event(db, me, &key, event)
            }),
        }
    }

    /// Appends an entry chained to the newest one.
    pub(super) fn append_event(
        &self,
        db: &Db<'_>,
        me: &Unlocked,
        key: &Key,
        event: Event,
    ) -> Result<()> {
        self.chain_row(db, key, event.into_row(me))
    }

    /// Gives `row` (everything but its place in the chain) the next
    /// sequence number, the newest entry's MAC as `prev`, and its own MAC,
    /// then stores it.
    pub(super) fn chain_row(&self, db: &Db<'_>, key: &Key, mut row: AuditRow) -> Result<()> {
        let head = db.audit_head()?;
        row.seq = head.as_ref().map_or(1, |(seq, _)| seq + 1);
        row.prev = head.map(|(_, mac)| mac);
        row.mac = crypto::mac(key, &audit_entry_input(&self.id, &row)).to_vec();
        db.insert_audit(&row)
    }

    /// `me`'s copy of the audit key; made and wrapped for every identity
    /// when nobody has one and the log is empty. A log without a key, or a
    /// key wrapped for others but not for `me`, was changed by hand.
    pub(super) fn audit_key(
        &self,
        db: &Db<'_>,
        me: &Unlocked,
        roster: Option<&Roster>,
    ) -> Result<Key> {
        if let Some(key) = self.existing_audit_key(db, me, roster)? {
            return Ok(key);
        }
        if db.audit_key_exists()? || db.audit_head()?.is_some() {
            return Err(self.damaged_audit_key(me));
        }
        let key = Key::random();
        for identity in db.identities()? {
            let grantee = self.grantee(db, &identity.name)?;
            db.insert_audit_key(&self.wrap_audit_key(me, &grantee, &key)?)?;
        }
        Ok(key)
    }

    /// `me`'s copy of the audit key, if it has one; with a roster, only
    /// if a certified identity wrapped it (a key of the attacker's own
    /// would let them write entries that verify).
    pub(super) fn existing_audit_key(
        &self,
        db: &Db<'_>,
        me: &Unlocked,
        roster: Option<&Roster>,
    ) -> Result<Option<Key>> {
        let Some(row) = db.audit_key_for(&me.id)? else {
            return Ok(None);
        };
        if let Some(roster) = roster {
            let keys = (&row.writer_public[..], &row.wrapped_key[..]);
            let input = audit_key_input(&self.id, &me.id, keys, Form::Signed);
            let signer = <[u8; 16]>::try_from(&row.signed.signer[..])
                .ok()
                .and_then(|id| roster.members.get(&id));
            let why = match signer {
                None => Some("was wrapped by no identity of this vault".to_owned()),
                Some(m) => crypto::verify_signature(&m.sign, &input, &row.signed.sig)
                    .err()
                    .map(|_| {
                        format!(
                            "does not match its signature by {} (it was changed in the file)",
                            m.name
                        )
                    }),
            };
            if let Some(why) = why {
                return Err(Error::Untrusted(format!(
                    "the audit key of {} {why}",
                    me.name
                )));
            }
        }
        let aad = audit_key_aad(&self.id, &me.id, &row.writer_public);
        me.wrap_keys
            .borrow_mut()
            .open_key(&self.id, me, &row.writer_public, &aad, &row.wrapped_key)
            .map(Some)
            .ok_or_else(|| self.damaged_audit_key(me))
    }

    /// Wraps the audit key for `grantee`, with `me` as the writer.
    pub(super) fn wrap_audit_key(
        &self,
        me: &Unlocked,
        grantee: &Grantee,
        key: &Key,
    ) -> Result<AuditKeyRow> {
        let wrap = self.wrapping_key_for(me, &grantee.public)?;
        let aad = audit_key_aad(&self.id, &grantee.id, &me.public);
        let wrapped_key = crypto::seal(&wrap, &aad, key.expose());
        let input = |form| audit_key_input(&self.id, &grantee.id, (&me.public, &wrapped_key), form);
        let signed = self.sign_row(me, super::statements::Kind::AuditKey, input);
        Ok(AuditKeyRow {
            id: crypto::random_bytes(),
            identity_id: grantee.id,
            writer_public: me.public.to_vec(),
            wrapped_key,
            created_at: crate::time::now(),
            signed,
        })
    }

    fn damaged_audit_key(&self, me: &Unlocked) -> Error {
        Error::Integrity(format!("the audit key of {}", me.name))
    }

    /// The log from `since` on, optionally only entries naming `secret`.
    /// Plaintext metadata: no unlocking.
    pub fn audit_log(
        &self,
        since: Option<i64>,
        secret: Option<&SecretName>,
    ) -> Result<Vec<AuditEntry>> {
        if !self.store.has_format(AUDIT_FORMAT)? {
            return Ok(Vec::new());
        }
        let db = self.store.read();
        let mut rows = db.audit_entries(since)?;
        // exec's newest entries, not yet folded, with the numbers the fold
        // will give them.
        let mut seq = db.audit_head()?.map_or(0, |(seq, _)| seq);
        for mut row in self.pending_entries()? {
            seq += 1;
            row.seq = seq;
            if since.is_none_or(|t| row.at >= t) {
                rows.push(row);
            }
        }
        Ok(rows
            .into_iter()
            .map(entry)
            .filter(|e| secret.is_none_or(|s| e.secrets.iter().any(|n| n == s.as_str())))
            .collect())
    }
}

/// A stored row as plain data; text a hand edit made unreadable is shown
/// as it is.
fn entry(row: AuditRow) -> AuditEntry {
    let secrets = serde_json::from_str(&row.names).unwrap_or_else(|_| vec![row.names.clone()]);
    let detail = match &row.detail {
        None => Vec::new(),
        Some(text) => {
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
                Ok(map) => map
                    .into_iter()
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => (k, s),
                        other => (k, other.to_string()),
                    })
                    .collect(),
                Err(_) => vec![("detail".to_owned(), text.clone())],
            }
        }
    };
    AuditEntry {
        seq: row.seq,
        time: row.at,
        identity: row.identity,
        action: row.action,
        secrets,
        detail,
    }
}
