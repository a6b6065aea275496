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
//! body  = entry*
//! entry = kind | 0x80: 1 byte || BLAKE2b-256("vault statement entry v2" 0 || input): 32 bytes
//!       | kind: 1 byte        || SHA-256(input): 32 bytes   (the first statements)
//! sig   = Ed25519(signer, Aad("statement", vault id, statement id, body))
//! ```
//!
//! Writes list BLAKE2b digests: a fresh clone hashes every row it hands
//! on, and BLAKE2b takes a quarter of SHA-256's instructions per byte
//! where the CPU has no SHA extensions. Entries of the first kind, as the
//! statements written before were, still vouch: a reader computes the
//! SHA-256 of an input only when a statement it verified lists one.
//!
//! Depends on `seal.rs` for the inputs and on `store` for the rows.

use std::cell::RefCell;
use std::collections::HashSet;

use super::seal::{statement_input, Form};
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

/// The bit of an entry's kind byte that says its digest is BLAKE2b's.
const BLAKE2B: u8 = 0x80;

/// The digest an entry of a statement holds: by the algorithm its kind
/// byte names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Digest {
    Sha256,
    Blake2b,
}

impl Digest {
    /// The digest of the input `input` encodes in each [`Form`]: BLAKE2b
    /// of the listed form, SHA-256 (the first statements) of the signed.
    fn of(self, input: &impl Fn(Form) -> Aad) -> [u8; 32] {
        match self {
            Digest::Sha256 => crypto::field_digest(input(Form::Signed).as_bytes()),
            Digest::Blake2b => crypto::statement_digest(input(Form::Listed).as_bytes()),
        }
    }
}

/// What a write transaction is gathering: the statement (its id, given
/// to every row it signs, and body), and the secrets it signed or deleted,
/// whose entries the writer's exec bundles renew (`bundles/`). Kept on
/// the [`Unlocked`] that signs.
#[derive(Default)]
pub(super) struct Pending {
    statement: RefCell<Option<(Vec<u8>, Vec<u8>)>>,
    secrets: RefCell<HashSet<[u8; 16]>>,
}

impl Pending {
    /// Forgets what a transaction that failed gathered.
    fn clear(&self) {
        self.statement.borrow_mut().take();
        self.secrets.borrow_mut().clear();
    }

    /// Notes a secret this write signed or deleted.
    pub(super) fn touch(&self, secret_id: [u8; 16]) {
        self.secrets.borrow_mut().insert(secret_id);
    }

    /// The secrets this write signed or deleted, forgotten here.
    pub(super) fn take_touched(&self) -> HashSet<[u8; 16]> {
        std::mem::take(&mut *self.secrets.borrow_mut())
    }

    /// Adds the digest of `input`; the id of the statement it goes in.
    fn add(&self, kind: Kind, input: &impl Fn(Form) -> Aad) -> Vec<u8> {
        let mut pending = self.statement.borrow_mut();
        let (id, body) =
            pending.get_or_insert_with(|| (crypto::random_bytes::<16>().to_vec(), Vec::new()));
        body.push(kind as u8 | BLAKE2B);
        body.extend_from_slice(&Digest::Blake2b.of(input));
        id.clone()
    }
}

/// The entries of a statement's body, each as (kind, digest algorithm,
/// digest), or `None` for a body that is not a whole number of entries of
/// known kinds (cut, or edited).
pub(super) fn parse_body(body: &[u8]) -> Option<Vec<(u8, Digest, [u8; 32])>> {
    if body.is_empty() || !body.len().is_multiple_of(ENTRY_LEN) {
        return None;
    }
    body.chunks(ENTRY_LEN)
        .map(|e| {
            let (kind, digest) = match e[0] & BLAKE2B {
                0 => (e[0], Digest::Sha256),
                _ => (e[0] & !BLAKE2B, Digest::Blake2b),
            };
            let kind = (1..=Kind::AuditKey as u8).contains(&kind).then_some(kind)?;
            Some((kind, digest, e[1..].try_into().expect("32 of 33 bytes")))
        })
        .collect()
}

/// The (digest, signer) pairs that verified statements vouch for, by
/// digest algorithm, each sorted for binary search: a fresh clone looks up
/// three inputs per secret among thousands of entries, and a statement's
/// entries (chosen by whoever wrote it) cannot be made to collide in a
/// sorted list as they could in a hash table.
#[derive(Default)]
pub(super) struct Vouched {
    blake2b: Vec<Entry>,
    sha256: Vec<Entry>,
}

/// A digest a statement lists, and its signer.
type Entry = ([u8; 32], [u8; 16]);

/// What entries are sorted by: their digest's first eight bytes, one
/// integer comparison where the whole pair would be two `memcmp`s.
fn prefix((digest, _): &Entry) -> u64 {
    u64::from_be_bytes(digest[..8].try_into().expect("8 of 32 bytes"))
}

impl Vouched {
    /// Vouches for nothing: every row is checked by its own signature.
    pub fn none() -> Self {
        Vouched::default()
    }

    fn new(entries: impl Iterator<Item = ([u8; 16], Digest, [u8; 32])>) -> Self {
        let mut v = Vouched::none();
        for (signer, digest, bytes) in entries {
            match digest {
                Digest::Blake2b => v.blake2b.push((bytes, signer)),
                Digest::Sha256 => v.sha256.push((bytes, signer)),
            }
        }
        v.blake2b.sort_unstable_by_key(prefix);
        v.sha256.sort_unstable_by_key(prefix);
        v
    }

    /// Whether a verified statement of `signer` lists `input`. An input
    /// is hashed only with the algorithms the statements used.
    pub fn vouches(&self, signer: &[u8; 16], input: &impl Fn(Form) -> Aad) -> bool {
        let lists = |entries: &[Entry], digest: Digest| {
            if entries.is_empty() {
                return false;
            }
            let wanted = (digest.of(input), *signer);
            let from = entries.partition_point(|e| prefix(e) < prefix(&wanted));
            entries[from..]
                .iter()
                .take_while(|e| prefix(e) == prefix(&wanted))
                .any(|e| *e == wanted)
        };
        lists(&self.blake2b, Digest::Blake2b) || lists(&self.sha256, Digest::Sha256)
    }
}

impl Vault {
    /// Signs `input` (its signed form) as `me`, for a row of `kind`, and
    /// gathers its digest (of its listed form) into the statement of the
    /// current write.
    pub(super) fn sign_row(
        &self,
        me: &Unlocked,
        kind: Kind,
        input: impl Fn(Form) -> Aad,
    ) -> Signed {
        let sig = me.signer(&self.id).sign(&input(Form::Signed)).to_vec();
        let stmt = me.pending.add(kind, &input);
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
            self.refresh_bundles(db, me)?;
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
        if let Some((id, body)) = signer.pending.statement.borrow_mut().take() {
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
        let entries = candidates
            .iter()
            .filter(|c| all.is_ok() || verifies(c))
            .flat_map(|(signer, _, _, s)| {
                let entries = parse_body(&s.body).expect("parsed above");
                entries
                    .into_iter()
                    .map(|(_, alg, digest)| (*signer, alg, digest))
            });
        Ok(Vouched::new(entries))
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
        let body = [entry(1, 7), entry(0x83, 9)].concat();
        assert_eq!(
            parse_body(&body),
            Some(vec![
                (1, Digest::Sha256, [7; 32]),
                (3, Digest::Blake2b, [9; 32])
            ])
        );
    }

    #[test]
    fn a_body_gathered_by_a_write_parses_back() {
        let pending = Pending::default();
        let first = |_: Form| Aad::new("one");
        let id = pending.add(Kind::Secret, &first);
        assert_eq!(pending.add(Kind::Access, &|_: Form| Aad::new("two")), id);
        let (_, body) = pending.statement.take().unwrap();
        let entries = parse_body(&body).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0],
            (
                1,
                Digest::Blake2b,
                crypto::statement_digest(first(Form::Listed).as_bytes())
            )
        );
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
        let mut zero = body.clone();
        zero[0] = 0;
        assert_eq!(parse_body(&zero), None);
        let mut unknown_blake = body;
        unknown_blake[0] = BLAKE2B | 5;
        assert_eq!(parse_body(&unknown_blake), None);
    }
}

#[cfg(test)]
mod vouched_tests {
    use super::*;

    #[test]
    fn an_input_is_vouched_for_by_either_digest_of_its_signer_only() {
        let (alice, bob) = ([1; 16], [2; 16]);
        // Two encodings of one input, as seal.rs makes them.
        let input = |name: &'static str| {
            move |form: Form| Aad::new(name).with(format!("{form:?}").as_bytes())
        };
        let (new, old, unlisted) = (input("new"), input("old"), input("unlisted"));
        let vouched = Vouched::new(
            [
                (alice, Digest::Blake2b, Digest::Blake2b.of(&new)),
                (alice, Digest::Sha256, Digest::Sha256.of(&old)),
            ]
            .into_iter(),
        );
        assert!(vouched.vouches(&alice, &new));
        assert!(vouched.vouches(&alice, &old));
        assert!(!vouched.vouches(&bob, &new));
        assert!(!vouched.vouches(&alice, &unlisted));
        assert!(!Vouched::none().vouches(&alice, &new));
        // Each digest is of its own form: BLAKE2b of the listed one,
        // SHA-256 of the signed one.
        let listed = crypto::statement_digest(new(Form::Listed).as_bytes());
        assert_eq!(Digest::Blake2b.of(&new), listed);
        let signed = crypto::field_digest(old(Form::Signed).as_bytes());
        assert_eq!(Digest::Sha256.of(&old), signed);
    }
}
