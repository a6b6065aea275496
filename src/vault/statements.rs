//! Statements: one signature per write instead of one check per row.
//!
//! Every row a write signs keeps its own signature, exactly as before
//! (older readers, the merge driver and every other check go on reading
//! them). In addition, the write gathers the SHA-256 of each input it
//! signed and, when its transaction ends, signs one statement over them
//! all; each signed row names that statement in its unsigned `stmt`
//! column. A reader that checks many rows at once (exec on a clone that
//! has not seen the view) verifies the statements the rows name, one
//! signature each, and takes a row's input as signed by its claimed
//! signer when a verified statement of that signer lists its digest;
//! otherwise it verifies the row's own signature. Everything else a
//! reader checks (who may write the row, freshness, the pin) is
//! unchanged: a statement vouches only that its signer signed an input.
//!
//! ```text
//! body = (kind: 1 byte || SHA-256(input): 32 bytes)*
//! sig  = Ed25519(signer, Aad("statement", vault id, statement id, body))
//! ```
//!
//! Depends on `seal.rs` for the inputs and on `store` for the rows.

use std::cell::RefCell;
use std::collections::HashSet;

use super::seal::statement_input;
use super::trust::Roster;
use super::{Unlocked, Vault};
use crate::crypto::{self, Aad};
use crate::error::Result;
use crate::store::{Db, Signed, StatementRow};

/// What an entry of a statement's body is the digest of.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Secret = 1,
    Managers = 2,
    Access = 3,
    AuditKey = 4,
}

const ENTRY_LEN: usize = 33;

/// The statement a write transaction is gathering: its id (given to every
/// row it signs) and body. Kept on the [`Unlocked`] that signs.
#[derive(Default)]
pub(super) struct Pending(RefCell<Option<(Vec<u8>, Vec<u8>)>>);

impl Pending {
    /// Forgets what a transaction that failed gathered.
    fn clear(&self) {
        self.0.borrow_mut().take();
    }

    /// Adds the digest of `input`; the id of the statement it goes in.
    fn add(&self, kind: Kind, input: &Aad) -> Vec<u8> {
        let mut pending = self.0.borrow_mut();
        let (id, body) =
            pending.get_or_insert_with(|| (crypto::random_bytes::<16>().to_vec(), Vec::new()));
        body.push(kind as u8);
        body.extend_from_slice(&crypto::field_digest(input.as_bytes()));
        id.clone()
    }
}

/// The entries of a statement's body, or `None` for a body that is not a
/// whole number of entries of known kinds (cut, or edited).
pub(super) fn parse_body(body: &[u8]) -> Option<Vec<(u8, [u8; 32])>> {
    if body.is_empty() || !body.len().is_multiple_of(ENTRY_LEN) {
        return None;
    }
    body.chunks(ENTRY_LEN)
        .map(|e| {
            let kind = (1..=Kind::AuditKey as u8).contains(&e[0]).then_some(e[0])?;
            Some((kind, e[1..].try_into().expect("32 of 33 bytes")))
        })
        .collect()
}

/// The (signer, digest) pairs that verified statements vouch for.
#[derive(Default)]
pub(super) struct Vouched(HashSet<([u8; 16], [u8; 32])>);

impl Vouched {
    /// Vouches for nothing: every row is checked by its own signature.
    pub fn none() -> Self {
        Vouched::default()
    }

    /// Whether a verified statement of `signer` lists `input`.
    pub fn vouches(&self, signer: &[u8; 16], input: &Aad) -> bool {
        !self.0.is_empty()
            && self
                .0
                .contains(&(*signer, crypto::field_digest(input.as_bytes())))
    }
}

impl Vault {
    /// Signs `input` as `me`, for a row of `kind`, and gathers its digest
    /// into the statement of the current write.
    pub(super) fn sign_row(&self, me: &Unlocked, kind: Kind, input: &Aad) -> Signed {
        let sig = me.signer(&self.id).sign(input).to_vec();
        let stmt = me.pending.add(kind, input);
        Signed {
            signer: me.id.to_vec(),
            sig,
            stmt,
        }
    }

    /// Runs `f` in one write transaction as `me`, ending it with the
    /// statement of what `me` signed for it. Rows a command signs before
    /// its transaction begins (`add` seals and signs new secrets before
    /// taking the write lock) are in it too; what a failed transaction
    /// gathered is forgotten with it.
    pub(super) fn write_signed<T>(
        &self,
        me: &Unlocked,
        f: impl FnOnce(&Db<'_>) -> Result<T>,
    ) -> Result<T> {
        let written = self.store.write(|db| {
            let value = f(db)?;
            self.seal_statement(db, me)?;
            Ok(value)
        });
        if written.is_err() {
            me.pending.clear();
        }
        written
    }

    /// Signs and inserts the statement `signer` gathered, if any, and
    /// deletes the statements no row names any more.
    pub(super) fn seal_statement(&self, db: &Db<'_>, signer: &Unlocked) -> Result<()> {
        if let Some((id, body)) = signer.pending.0.borrow_mut().take() {
            let id: [u8; 16] = id.try_into().expect("a 16-byte id");
            let sig = signer
                .signer(&self.id)
                .sign(&statement_input(&self.id, &id, &body));
            db.insert_statement(&StatementRow {
                id,
                signer: signer.id.to_vec(),
                body,
                sig: sig.to_vec(),
            })?;
        }
        db.drop_unreferenced_statements()
    }

    /// What the statements named by `wanted` vouch for: each one's
    /// signature by a member of `roster` verified, in one batch. When any
    /// of them fails (a statement edited in the file), none vouches: the
    /// rows are checked by their own signatures, as before statements.
    pub(super) fn vouched(
        &self,
        db: &Db<'_>,
        roster: &Roster,
        wanted: &HashSet<&[u8]>,
    ) -> Result<Vouched> {
        if wanted.is_empty() {
            return Ok(Vouched::none());
        }
        let statements: Vec<StatementRow> = db
            .statements()?
            .into_iter()
            .filter(|s| wanted.contains(&s.id[..]))
            .collect();
        // A statement of no member (a key of no identity, an identity
        // removed since) or with a malformed body vouches for nothing and
        // costs nothing; the others are verified.
        let candidates: Vec<([u8; 16], &[u8], Aad, &StatementRow)> = statements
            .iter()
            .filter_map(|s| {
                let signer = <[u8; 16]>::try_from(&s.signer[..]).ok()?;
                let member = roster.members.get(&signer).filter(|m| !m.sign.is_empty())?;
                parse_body(&s.body)?;
                let input = statement_input(&self.id, &s.id, &s.body);
                Some((signer, &member.sign[..], input, s))
            })
            .collect();
        let verifies = |(_, key, input, s): &&([u8; 16], &[u8], Aad, &StatementRow)| {
            crypto::verify_signature(key, input, &s.sig).is_ok()
        };
        let all = crypto::batched_signatures(
            || match candidates.iter().all(|c| verifies(&c)) {
                true => Ok(()),
                false => Err(()),
            },
            || (),
        );
        // A batch that fails (a statement edited in the file, or signed by
        // a key its signer no longer has) is sorted out one by one: each
        // statement that verifies on its own still vouches.
        let mut vouched = HashSet::new();
        for (signer, _, _, s) in candidates.iter().filter(|c| all.is_ok() || verifies(c)) {
            let entries = parse_body(&s.body).expect("parsed above");
            vouched.extend(entries.into_iter().map(|(_, digest)| (*signer, digest)));
        }
        Ok(Vouched(vouched))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: u8, byte: u8) -> Vec<u8> {
        let mut e = vec![kind];
        e.extend_from_slice(&[byte; 32]);
        e
    }

    #[test]
    fn a_body_is_whole_entries_of_known_kinds() {
        let body = [entry(1, 7), entry(3, 9)].concat();
        assert_eq!(parse_body(&body), Some(vec![(1, [7; 32]), (3, [9; 32])]));
    }

    #[test]
    fn a_body_gathered_by_a_write_parses_back() {
        let pending = Pending::default();
        let first = Aad::new("one");
        let id = pending.add(Kind::Secret, &first);
        assert_eq!(pending.add(Kind::Access, &Aad::new("two")), id);
        let (_, body) = pending.0.take().unwrap();
        let entries = parse_body(&body).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], (1, crypto::field_digest(first.as_bytes())));
        assert_eq!(entries[1].0, 3);
    }

    #[test]
    fn a_cut_or_edited_body_vouches_for_nothing() {
        let body = [entry(1, 7), entry(2, 9)].concat();
        assert_eq!(parse_body(&body[..body.len() - 1]), None);
        assert_eq!(parse_body(&body[..32]), None);
        assert_eq!(parse_body(&[]), None);
        let mut unknown = body.clone();
        unknown[ENTRY_LEN] = 5;
        assert_eq!(parse_body(&unknown), None);
        let mut zero = body;
        zero[0] = 0;
        assert_eq!(parse_body(&zero), None);
    }
}
