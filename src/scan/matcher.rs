//! The search itself: one streaming pass over bytes that finds the stored
//! values (an Aho-Corasick automaton over the current values the identity
//! may use) and the fingerprinted ones (keyed fingerprints of candidate
//! tokens), and reports where, never what.
//!
//! This is aho-corasick's second home beside `process/mask.rs`, on
//! purpose: masking wants leftmost-longest replacement of a stream it
//! writes on, a scan wants every overlapping match of a stream it only
//! reads (a value inside another is a leak of both), so they share no
//! automaton.
//!
//! **Candidate tokens** for fingerprints are the runs of bytes between
//! delimiters (ASCII whitespace and control bytes, and ``"'`,;()[]{}<>|``),
//! each also without what comes up to its first `=` or `:` (`KEY=value`,
//! `key:value`) and without one trailing `.` (the end of a sentence), of
//! the length of some stored value. A value inside a longer token (a
//! password inside a URL) is therefore found by its value only, never by
//! its fingerprint; a value cut by a line break is found by neither.
//!
//! **Streaming**: input is read in chunks of [`CHUNK`] bytes; the longest
//! value's length less one byte is kept from one chunk to the next (so a
//! value across the boundary is found once), and so is an unfinished token
//! of up to [`TOKEN_CAP`] bytes (a longer one can hold no whole value).
//! Memory stays at a few chunks whatever the input's size.

use std::collections::HashMap;
use std::io::{self, Read};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::crypto::{Fingerprinter, FINGERPRINT_LEN};
use crate::vault::ScanTargets;

/// Values shorter than this are not searched, as masking skips them: a
/// PIN or a flag collides with ordinary text, and a hit would hint at it.
pub const MIN_LEN: usize = 6;

/// How much is read at a time.
const CHUNK: usize = 256 * 1024;

/// An unfinished token longer than this is dropped unchecked.
const TOKEN_CAP: usize = 64 * 1024;

/// How a finding was made.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum How {
    /// The current value itself (the identity may use the secret).
    Value,
    /// A whole token whose fingerprint is stored for that version.
    Fingerprint,
}

/// Where a stored value was found: never what.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Finding {
    /// Index into the targets' labels (secret name and version).
    pub label: usize,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in bytes.
    pub column: u64,
    pub how: How,
}

/// The compiled search.
pub struct Matcher {
    automaton: Option<AhoCorasick>,
    /// The label of each automaton pattern.
    value_labels: Vec<usize>,
    longest: usize,
    fingerprints: HashMap<[u8; FINGERPRINT_LEN], Vec<usize>>,
    /// `lengths[n]`: some fingerprinted value is `n` bytes long.
    lengths: Vec<bool>,
    /// The shortest fingerprinted value: shorter words are skipped.
    shortest: usize,
    fingerprinter: Fingerprinter,
}

/// Which bytes end a word, as one table: the tokenizer asks it of every
/// byte of the input.
const DELIMITERS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b <= b' ' as usize {
        table[b] = true;
        b += 1;
    }
    table[0x7f] = true;
    let others = b"\"'`,;()[]{}<>|";
    let mut i = 0;
    while i < others.len() {
        table[others[i] as usize] = true;
        i += 1;
    }
    table
};

fn is_delimiter(b: u8) -> bool {
    DELIMITERS[b as usize]
}

impl Matcher {
    /// Compiles `targets`; values and fingerprints shorter than
    /// [`MIN_LEN`] are left out (the caller names them).
    pub fn new(targets: ScanTargets) -> Matcher {
        let mut values: Vec<(&[u8], usize)> = targets
            .values
            .iter()
            .filter(|(_, v)| v.len() >= MIN_LEN)
            .map(|(label, v)| (v.expose(), *label))
            .collect();
        values.sort();
        values.dedup_by(|a, b| a.0 == b.0);
        let longest = values.iter().map(|(v, _)| v.len()).max().unwrap_or(0);
        // A DFA for a few values (fastest to run); past a hundred, the
        // contiguous NFA, as masking chose (its table grows with every
        // pattern byte, a DFA's with every byte times the alphabet).
        let kind = if values.len() <= 100 {
            AhoCorasickKind::DFA
        } else {
            AhoCorasickKind::ContiguousNFA
        };
        let automaton = (!values.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .kind(Some(kind))
                    .build(values.iter().map(|(v, _)| v))
                    .ok()
            })
            .flatten();
        let value_labels = values.iter().map(|(_, l)| *l).collect();
        let mut fingerprints: HashMap<[u8; FINGERPRINT_LEN], Vec<usize>> = HashMap::new();
        let mut lengths = Vec::new();
        for (label, len, mac) in targets.fingerprints {
            if !(MIN_LEN..=TOKEN_CAP).contains(&len) {
                continue;
            }
            if lengths.len() <= len {
                lengths.resize(len + 1, false);
            }
            lengths[len] = true;
            let labels = fingerprints.entry(mac).or_default();
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        let shortest = lengths.iter().position(|&l| l).unwrap_or(usize::MAX);
        Matcher {
            automaton,
            value_labels,
            longest,
            fingerprints,
            lengths,
            shortest,
            fingerprinter: targets.fingerprinter,
        }
    }

    fn fingerprinted(&self, token: &[u8], at: usize, out: &mut Vec<(usize, usize, How)>) {
        if !self.lengths.get(token.len()).copied().unwrap_or(false) {
            return;
        }
        if let Some(labels) = self.fingerprints.get(&self.fingerprinter.of(token)) {
            out.extend(labels.iter().map(|l| (at, *l, How::Fingerprint)));
        }
    }

    /// The candidates of one token starting at `at`.
    fn token(&self, token: &[u8], at: usize, out: &mut Vec<(usize, usize, How)>) {
        if token.len() < self.shortest {
            return;
        }
        let mut tried: [Option<(usize, usize)>; 4] = [None; 4];
        let mut n = 0;
        let mut add = |start: usize, end: usize| {
            if end > start && !tried[..n].contains(&Some((start, end))) {
                tried[n] = Some((start, end));
                n += 1;
            }
        };
        add(0, token.len());
        if let Some(eq) = token.iter().position(|&b| b == b'=' || b == b':') {
            add(eq + 1, token.len());
        }
        let stripped = token.len() - usize::from(token.ends_with(b"."));
        add(0, stripped);
        if let Some(eq) = token[..stripped]
            .iter()
            .position(|&b| b == b'=' || b == b':')
        {
            add(eq + 1, stripped);
        }
        for (start, end) in tried.into_iter().flatten() {
            self.fingerprinted(&token[start..end], at + start, out);
        }
    }

    /// Scans `input` to its end, calling `found` for each finding in the
    /// order of the input; returns the number of bytes read.
    pub fn scan(&self, mut input: impl Read, mut found: impl FnMut(Finding)) -> io::Result<u64> {
        let mut buf: Vec<u8> = Vec::with_capacity(CHUNK * 2);
        let mut base = Position::default();
        let mut ac_from = 0usize;
        let mut tok_from = 0usize;
        let mut total = 0u64;
        let mut hits: Vec<(usize, usize, How)> = Vec::new();
        let mut eof = false;
        let fingerprints = !self.fingerprints.is_empty();
        loop {
            let want = buf.len() + CHUNK;
            while buf.len() < want {
                let old = buf.len();
                buf.resize(want, 0);
                match input.read(&mut buf[old..]) {
                    Ok(0) => {
                        buf.truncate(old);
                        eof = true;
                        break;
                    }
                    Ok(n) => {
                        buf.truncate(old + n);
                        total += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(old),
                    Err(e) => return Err(e),
                }
            }
            hits.clear();
            if let Some(ac) = &self.automaton {
                for m in ac.find_overlapping_iter(&buf[..]) {
                    if m.end() > ac_from {
                        let label = self.value_labels[m.pattern().as_usize()];
                        hits.push((m.start(), label, How::Value));
                    }
                }
            }
            // Tokens end at the last delimiter read so far (all of them at
            // the end of the input).
            let tok_end = if eof {
                buf.len()
            } else {
                match buf[tok_from..].iter().rposition(|&b| is_delimiter(b)) {
                    Some(at) => tok_from + at + 1,
                    None if buf.len() - tok_from > TOKEN_CAP => buf.len(),
                    None => tok_from,
                }
            };
            if fingerprints {
                let mut start = tok_from;
                for (i, &b) in buf[tok_from..tok_end].iter().enumerate() {
                    if is_delimiter(b) {
                        let at = tok_from + i;
                        if at > start {
                            self.token(&buf[start..at], start, &mut hits);
                        }
                        start = at + 1;
                    }
                }
                if start < tok_end && (eof || tok_end == buf.len()) {
                    self.token(&buf[start..tok_end], start, &mut hits);
                }
            }
            if !hits.is_empty() {
                // One finding per place and secret version; the value
                // itself wins over its fingerprint.
                hits.sort_by_key(|&(at, label, how)| (at, label, how == How::Fingerprint));
                hits.dedup_by_key(|&mut (at, label, _)| (at, label));
                let mut cursor = base;
                let mut cursor_at = 0usize;
                for &(at, label, how) in &hits {
                    cursor.advance(&buf[cursor_at..at], cursor_at);
                    cursor_at = at;
                    found(Finding {
                        label,
                        line: cursor.line,
                        column: (base.offset + at as u64) - cursor.line_start + 1,
                        how,
                    });
                }
            }
            if eof {
                return Ok(total);
            }
            let keep_for_values = buf.len().saturating_sub(self.longest.saturating_sub(1));
            let keep = keep_for_values.min(tok_end);
            base.advance(&buf[..keep], 0);
            base.offset += keep as u64;
            ac_from = buf.len() - keep;
            tok_from = tok_end - keep;
            buf.drain(..keep);
        }
    }
}

/// A place in the input: the absolute offset of the buffer's first byte,
/// and the line (1-based) and absolute offset where the line at the
/// cursor starts.
#[derive(Clone, Copy)]
struct Position {
    offset: u64,
    line: u64,
    line_start: u64,
}

impl Default for Position {
    fn default() -> Self {
        Position {
            offset: 0,
            line: 1,
            line_start: 0,
        }
    }
}

impl Position {
    /// Moves over `bytes`, which start `from` bytes into the buffer.
    fn advance(&mut self, bytes: &[u8], from: usize) {
        let mut newlines = 0u64;
        let mut last = None;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                newlines += 1;
                last = Some(i);
            }
        }
        if let Some(i) = last {
            self.line += newlines;
            self.line_start = self.offset + (from + i + 1) as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Key;
    use crate::secret::SecretValue;
    use crate::vault::{ScanTargets, Wanted};

    /// A matcher that knows `fingerprinted` by fingerprint only (label 0)
    /// and `value` by value (label 1).
    fn matcher(fingerprinted: &[u8], value: Option<&[u8]>) -> Matcher {
        let fingerprinter = Fingerprinter::new(&Key::from_bytes([3; 32]));
        let mac = fingerprinter.of(fingerprinted);
        let label = |name: &str| Wanted {
            name: name.into(),
            version: 1,
            current: true,
        };
        Matcher::new(ScanTargets {
            labels: vec![label("OLD"), label("NEW")],
            values: value
                .map(|v| (1, SecretValue::new(zeroize::Zeroizing::new(v.to_vec()))))
                .into_iter()
                .collect(),
            fingerprints: vec![(0, fingerprinted.len(), mac)],
            fingerprinter,
            unfingerprinted: Vec::new(),
        })
    }

    fn find(m: &Matcher, input: &[u8]) -> Vec<(usize, u64, u64, How)> {
        let mut out = Vec::new();
        m.scan(input, |f| out.push((f.label, f.line, f.column, f.how)))
            .unwrap();
        out
    }

    #[test]
    fn whole_words_are_fingerprinted_with_and_without_their_key() {
        let m = matcher(b"s3cr3t-w0rd", None);
        let fp = How::Fingerprint;
        assert_eq!(find(&m, b"s3cr3t-w0rd"), [(0, 1, 1, fp)]);
        assert_eq!(find(&m, b"a\nPASS=s3cr3t-w0rd\n"), [(0, 2, 6, fp)]);
        assert_eq!(find(&m, b"pass:s3cr3t-w0rd."), [(0, 1, 6, fp)]);
        assert_eq!(find(&m, b"{\"p\":\"s3cr3t-w0rd\"}"), [(0, 1, 7, fp)]);
        assert_eq!(find(&m, b"x s3cr3t-w0rd."), [(0, 1, 3, fp)]);
        // Inside a longer word: not a candidate.
        assert!(find(&m, b"xs3cr3t-w0rd").is_empty());
        assert!(find(&m, b"s3cr3t-w0rdx").is_empty());
        assert!(find(&m, b"s3cr3t-\nw0rd").is_empty());
    }

    #[test]
    fn a_value_is_found_anywhere_and_wins_over_its_fingerprint() {
        let m = matcher(b"s3cr3t-w0rd", Some(b"s3cr3t-w0rd"));
        assert_eq!(find(&m, b"xs3cr3t-w0rdx"), [(1, 1, 2, How::Value)]);
        // One finding per place and label: here two labels share a value.
        assert_eq!(
            find(&m, b" s3cr3t-w0rd"),
            [(0, 1, 2, How::Fingerprint), (1, 1, 2, How::Value)]
        );
    }

    #[test]
    fn a_word_across_a_chunk_boundary_is_fingerprinted_once() {
        let m = matcher(b"s3cr3t-w0rd", None);
        for offset in [CHUNK - 11, CHUNK - 5, CHUNK - 1, CHUNK, CHUNK + 1] {
            let mut input = vec![b'.'; offset];
            input.push(b' ');
            input.extend_from_slice(b"s3cr3t-w0rd s3cr3t-w0rd\nend");
            let col = offset as u64 + 2;
            assert_eq!(
                find(&m, &input),
                [
                    (0, 1, col, How::Fingerprint),
                    (0, 1, col + 12, How::Fingerprint)
                ],
                "at {offset}"
            );
        }
    }

    #[test]
    fn a_word_longer_than_the_cap_is_dropped_and_the_scan_goes_on() {
        let m = matcher(b"s3cr3t-w0rd", None);
        let mut input = vec![b'a'; TOKEN_CAP * 5];
        input.extend_from_slice(b"\ns3cr3t-w0rd\n");
        assert_eq!(find(&m, &input), [(0, 2, 1, How::Fingerprint)]);
    }
}
