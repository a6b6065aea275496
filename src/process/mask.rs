//! Masking: replacing every injected value in a stream of output by
//! `[masked:NAME]`, also when the value arrives split across reads.
//!
//! One Aho-Corasick automaton (leftmost-longest) finds every value in one
//! pass, however many secrets there are. A stream keeps back only the tail
//! that could still be the start of a value (a proper prefix of one), so a
//! prompt or a progress line that is not a secret is never delayed waiting
//! for more output; everything else is written at once, byte for byte.
//!
//! Limits, by construction: a value the program transforms (reversing,
//! slicing, and for anyone but an agent base64, hex and URL-encoding: see
//! `encodings.rs`) is not recognised, and values shorter
//! than [`MIN_LEN`] bytes are not masked at all, because masking them would
//! mangle ordinary output and the markers would hint at the value.
//!
//! The patterns are kept as [`SecretValue`]s (zeroized on drop); the
//! automaton's own tables cannot be zeroized, and live in vault's memory,
//! which is not dumpable, for as long as the program runs.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use zeroize::Zeroizing;

use super::encodings::encodings;
use super::shapes::shapes;
use crate::secret::SecretValue;

/// Values shorter than this many bytes are not masked (a port, a flag, a
/// PIN): they collide with ordinary output.
pub const MIN_LEN: usize = 6;

/// The values to mask, not yet compiled. The matcher costs milliseconds to
/// build at a thousand values, so the supervisor builds it only when the
/// program first writes: a program that prints nothing pays nothing.
pub struct Values {
    pairs: Vec<(String, SecretValue)>,
    /// Also mask each value's encodings (an agent's run).
    encoded: bool,
}

impl Values {
    /// Keeps the `(name, value)` pairs long enough to mask ([`MIN_LEN`];
    /// the caller warns about the others). `None` when none is. With
    /// `encoded`, each value's base64, hex and URL-encoded forms are
    /// masked too.
    pub fn new<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        encoded: bool,
    ) -> Option<Values> {
        let kept: Vec<(String, SecretValue)> = pairs
            .into_iter()
            .filter(|(_, value)| value.len() >= MIN_LEN)
            .map(|(name, value)| {
                let value = SecretValue::new(Zeroizing::new(value.to_vec()));
                (name.to_owned(), value)
            })
            .collect();
        (!kept.is_empty()).then_some(Values {
            pairs: kept,
            encoded,
        })
    }

    /// Builds the matcher. `None` only if the automaton cannot be built.
    pub fn compile(&self) -> Option<Patterns> {
        let pairs = self.pairs.iter().map(|(n, v)| (n.as_str(), v.expose()));
        Patterns::build(pairs, self.encoded)
    }
}

/// The values to mask, compiled once and shared by every stream.
pub struct Patterns {
    automaton: AhoCorasick,
    /// Indexed by pattern id, in byte order (to test "is this a prefix
    /// of a value"), without repeats.
    values: Vec<SecretValue>,
    /// The marker of each pattern's secret, by pattern id.
    owners: Vec<usize>,
    markers: Vec<Vec<u8>>,
    longest: usize,
}

impl Patterns {
    /// Compiles `(name, value)` pairs. Values shorter than [`MIN_LEN`] are
    /// left out; the caller warns about them. Returns `None` when nothing is
    /// left to mask.
    #[cfg(test)]
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Option<Patterns> {
        Self::build(pairs, false)
    }

    /// As [`Patterns::new`], with each value's encodings too when `encoded`.
    fn build<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        encoded: bool,
    ) -> Option<Patterns> {
        // Every value and its other shapes (its lines, its escaped forms:
        // see shapes.rs), each with the index of its secret's marker.
        let mut candidates: Vec<(SecretValue, usize)> = Vec::new();
        let mut markers = Vec::new();
        for (name, value) in pairs {
            if value.len() < MIN_LEN {
                continue;
            }
            let marker = markers.len();
            markers.push(format!("[masked:{name}]").into_bytes());
            candidates.push((SecretValue::new(Zeroizing::new(value.to_vec())), marker));
            let extra = if encoded {
                encodings(value)
            } else {
                Vec::new()
            };
            for shape in shapes(value).into_iter().chain(extra) {
                if shape.len() >= MIN_LEN {
                    candidates.push((SecretValue::new(shape), marker));
                }
            }
        }
        // Sorted by bytes, stably, so a value two secrets share (or a line
        // of one that is another's value) is kept once, under the name that
        // came first.
        candidates.sort_by(|a, b| a.0.expose().cmp(b.0.expose()));
        candidates.dedup_by(|later, first| later.0.expose() == first.0.expose());
        if candidates.is_empty() {
            return None;
        }
        let (values, owners): (Vec<SecretValue>, Vec<usize>) = candidates.into_iter().unzip();
        // A contiguous NFA, not the DFA the crate picks for up to about a
        // hundred patterns: with 100 values of 40 bytes the DFA takes 2.1 ms
        // and 1 MB to build against 0.3 ms and 68 KB, and searches 570
        // against 330 MB/s, so it pays off only after some 150 MB of output,
        // more than most commands ever write.
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(values.iter().map(|v| v.expose()))
            .ok()?;
        let longest = values.iter().map(|v| v.len()).max().unwrap_or(0);
        Some(Patterns {
            automaton,
            values,
            owners,
            markers,
            longest,
        })
    }

    /// Whether `tail` is the start of some value but not a whole one of the
    /// same length (more bytes could still make it a match).
    fn could_continue(&self, tail: &[u8]) -> bool {
        let from = self.values.partition_point(|v| v.expose() < tail);
        self.values[from..]
            .iter()
            .map(|v| v.expose())
            .take_while(|v| v.starts_with(tail))
            .any(|v| v.len() > tail.len())
    }

    /// Where, at or after `from`, the tail of `buf` that must be held back
    /// begins: the earliest position whose rest could grow into a value.
    fn hold_start(&self, buf: &[u8], from: usize) -> usize {
        let earliest = buf.len().saturating_sub(self.longest - 1).max(from);
        (earliest..buf.len())
            .find(|p| self.could_continue(&buf[*p..]))
            .unwrap_or(buf.len())
    }
}

/// One output stream's masking state: the bytes held back so far.
pub struct Stream<'p> {
    patterns: &'p Patterns,
    pending: Zeroizing<Vec<u8>>,
}

impl<'p> Stream<'p> {
    pub fn new(patterns: &'p Patterns) -> Self {
        Stream {
            patterns,
            pending: Zeroizing::new(Vec::new()),
        }
    }

    /// Masks what can be decided of `pending + chunk` into `out`, keeping
    /// back only a possible start of a value.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.pending.is_empty() {
            let keep = self.mask(chunk, false, out);
            self.pending.extend_from_slice(&chunk[keep..]);
        } else {
            let mut buf = Zeroizing::new(std::mem::take(&mut *self.pending));
            buf.extend_from_slice(chunk);
            let keep = self.mask(&buf, false, out);
            self.pending.extend_from_slice(&buf[keep..]);
        }
    }

    /// The stream ended: what was held back is written out, masked.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let buf = Zeroizing::new(std::mem::take(&mut *self.pending));
        self.mask(&buf, true, out);
    }

    /// Writes `buf` masked into `out` up to the point that cannot be decided
    /// yet, and returns that point (`buf.len()` at the end of the stream).
    ///
    /// A match starting before the hold point lies wholly inside `buf` (else
    /// its start would be a possible prefix, hence at or after the hold
    /// point), so leftmost-longest here agrees with the whole stream.
    fn mask(&self, buf: &[u8], at_end: bool, out: &mut Vec<u8>) -> usize {
        let p = self.patterns;
        let hold_from = |from| {
            if at_end {
                buf.len()
            } else {
                p.hold_start(buf, from)
            }
        };
        let mut pos = 0;
        let mut hold = hold_from(0);
        while let Some(m) = p.automaton.find(Input::new(buf).range(pos..)) {
            if m.start() >= hold {
                break;
            }
            out.extend_from_slice(&buf[pos..m.start()]);
            out.extend_from_slice(&p.markers[p.owners[m.pattern().as_usize()]]);
            pos = m.end();
            if pos > hold {
                hold = hold_from(pos);
            }
        }
        out.extend_from_slice(&buf[pos..hold]);
        hold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two secrets with one value: masked once, under the first name.
    #[test]
    fn a_shared_value_is_masked_under_the_first_name() {
        let p = patterns(&[("A_KEY", "shared-value-1"), ("B_KEY", "shared-value-1")]);
        assert_eq!(p.values.len(), 1);
        let mut out = Vec::new();
        let mut stream = Stream::new(&p);
        stream.feed(b"x shared-value-1 y", &mut out);
        stream.finish(&mut out);
        assert_eq!(out, b"x [masked:A_KEY] y");
    }

    /// A hundred values build a contiguous NFA, not the DFA the crate
    /// would pick (see `Patterns::new`): exec pays the build every run.
    #[test]
    fn a_hundred_values_build_the_cheap_automaton() {
        let values: Vec<(String, String)> = (0..100)
            .map(|i| (format!("S{i}"), format!("value-{i:04}-0123456789abcdef")))
            .collect();
        let p = Patterns::new(values.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))).unwrap();
        assert_eq!(p.automaton.kind(), AhoCorasickKind::ContiguousNFA);
    }

    fn patterns(pairs: &[(&str, &str)]) -> Patterns {
        Patterns::new(pairs.iter().map(|(n, v)| (*n, v.as_bytes()))).unwrap()
    }

    /// Feeds `chunks` one by one; returns what came out after each chunk
    /// and in all.
    fn run(p: &Patterns, chunks: &[&str]) -> (Vec<String>, String) {
        let mut stream = Stream::new(p);
        let mut steps = Vec::new();
        let mut all = Vec::new();
        for chunk in chunks {
            let mut out = Vec::new();
            stream.feed(chunk.as_bytes(), &mut out);
            steps.push(String::from_utf8(out.clone()).unwrap());
            all.extend(out);
        }
        stream.finish(&mut all);
        (steps, String::from_utf8(all).unwrap())
    }

    #[test]
    fn masks_whole_values() {
        let p = patterns(&[("KEY", "sk_live_123")]);
        let (_, all) = run(&p, &["a sk_live_123 b sk_live_123\n"]);
        assert_eq!(all, "a [masked:KEY] b [masked:KEY]\n");
    }

    #[test]
    fn masks_a_value_split_at_every_point() {
        let p = patterns(&[("KEY", "sk_live_123")]);
        let text = "x=sk_live_123;";
        for cut in 0..=text.len() {
            let (_, all) = run(&p, &[&text[..cut], &text[cut..]]);
            assert_eq!(all, "x=[masked:KEY];", "cut at {cut}");
        }
    }

    #[test]
    fn masks_a_value_fed_byte_by_byte() {
        let p = patterns(&[("A", "abcdef"), ("B", "abcdefgh")]);
        let text = "abcdefgh abcdefg abcdef";
        let chunks: Vec<&str> = (0..text.len()).map(|i| &text[i..i + 1]).collect();
        let (_, all) = run(&p, &chunks);
        assert_eq!(all, "[masked:B] [masked:A]g [masked:A]");
    }

    #[test]
    fn holds_back_only_a_possible_prefix() {
        let p = patterns(&[("KEY", "secret-value")]);
        let (steps, _) = run(&p, &["Password: ", "no sec", "ret here"]);
        assert_eq!(steps, ["Password: ", "no ", "secret here"]);
    }

    #[test]
    fn prefers_the_longest_value_across_reads() {
        let p = patterns(&[("SHORT", "abcdef"), ("LONG", "abcdefghij")]);
        let (steps, all) = run(&p, &["--abcdef", "ghij--"]);
        assert_eq!(steps, ["--", "[masked:LONG]--"]);
        assert_eq!(all, "--[masked:LONG]--");
        let (_, all) = run(&p, &["--abcdef", "ghi"]);
        assert_eq!(all, "--[masked:SHORT]ghi");
    }

    #[test]
    fn leaves_other_bytes_exact() {
        let p = patterns(&[("KEY", "needle-42")]);
        let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let mut stream = Stream::new(&p);
        let mut out = Vec::new();
        for chunk in bytes.chunks(333) {
            stream.feed(chunk, &mut out);
        }
        stream.finish(&mut out);
        assert_eq!(out, bytes);
    }

    /// An agent's masker catches the value base64-encoded at any place in
    /// the encoded text, and its hex; a person's does not pay for it.
    #[test]
    fn an_agents_masker_catches_encodings() {
        let values = Values::new([("KEY", b"canary-Zq8x7Wp3Lk".as_slice())], true).unwrap();
        let p = values.compile().unwrap();
        for text in [
            "Y2FuYXJ5LVpxOHg3V3AzTGs=\n",
            "eFkY2FuYXJ5LVpxOHg3V3AzTGs=",
            "63616e6172792d5a713878375770334c6b",
        ] {
            let (_, all) = run(&p, &[text]);
            assert!(all.contains("[masked:KEY]"), "{text} -> {all}");
        }
        let person = Values::new([("KEY", b"canary-Zq8x7Wp3Lk".as_slice())], false).unwrap();
        let (_, all) = run(&person.compile().unwrap(), &["Y2FuYXJ5LVpxOHg3V3AzTGs="]);
        assert_eq!(all, "Y2FuYXJ5LVpxOHg3V3AzTGs=");
    }

    #[test]
    fn skips_short_values_and_masks_multi_line_ones() {
        assert!(Patterns::new([("PIN", b"12345".as_slice())]).is_none());
        let p = patterns(&[("PEM", "line one\nline two")]);
        let (_, all) = run(&p, &["<line one\n", "line two>"]);
        assert_eq!(all, "<[masked:PEM]>");
    }
}
