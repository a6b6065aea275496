//! Reading dotenv files for `vault import`: the one home of the dotenvy
//! crate, which defines the format (quotes, escapes, `export`, comments,
//! multi-line quoted values, `$NAME` substitution).
//!
//! dotenvy reports a rejected line by its text, which may hold a secret,
//! and not by its number. So this module hands dotenvy the file one byte
//! per read and watches how far it has read: each entry, and each error,
//! then carries the number of the line it starts on, and no error carries
//! any text of the file.

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

use zeroize::Zeroizing;

/// One `NAME=value` entry, as dotenvy reads it.
pub struct Entry {
    /// The line it starts on, from 1.
    pub line: usize,
    pub name: String,
    pub value: Zeroizing<String>,
}

/// Why a file was refused, by line number only.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// Not UTF-8 from this line on.
    NotUtf8 { line: usize },
    /// dotenvy rejected the entry starting on this line.
    Parse { line: usize },
}

/// Parses a whole file: every entry, or the first problem.
pub fn parse(bytes: &[u8]) -> Result<Vec<Entry>, Problem> {
    // dotenvy's loaders drop a UTF-8 byte order mark; its iterator does not.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| Problem::NotUtf8 {
        line: line_at(bytes, e.valid_up_to()),
    })?;
    let read = Rc::new(Cell::new(0));
    let mut entries = dotenvy::from_read_iter(Trickle {
        text: text.as_bytes(),
        read: Rc::clone(&read),
    });
    let mut out = Vec::new();
    // Lines are counted as reading goes, not from the start each time: a
    // file of 100,000 entries would otherwise be scanned 100,000 times.
    let (mut counted_to, mut line_of_start) = (0, 1);
    loop {
        let start = read.get();
        line_of_start += newlines(&text.as_bytes()[counted_to..start]);
        counted_to = start;
        let item = entries.next();
        // dotenvy skips blank and comment lines before the entry it returns.
        let line = line_of_start + skipped(&text[start..read.get()]);
        match item {
            None => return Ok(out),
            Some(Ok((name, value))) => out.push(Entry {
                line,
                name,
                value: Zeroizing::new(value),
            }),
            Some(Err(_)) => return Err(Problem::Parse { line }),
        }
    }
}

/// Each `$NAME` or `${NAME}` the file mentions, with its line, where the
/// `$` is not escaped. Quoting is not considered, so a single-quoted one is
/// listed too: this errs on the side of listing.
pub fn references(text: &[u8]) -> Vec<(usize, String)> {
    let is_name = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    let mut found = Vec::new();
    let (mut counted_to, mut line) = (0, 1);
    for (at, _) in text.iter().enumerate().filter(|(_, c)| **c == b'$') {
        if at > 0 && text[at - 1] == b'\\' {
            continue;
        }
        let rest = &text[at + 1..];
        let rest = rest.strip_prefix(b"{").unwrap_or(rest);
        let len = rest.iter().take_while(|c| is_name(c)).count();
        if len > 0 {
            let name = String::from_utf8_lossy(&rest[..len]).into_owned();
            line += newlines(&text[counted_to..at]);
            counted_to = at;
            found.push((line, name));
        }
    }
    found
}

/// The line (from 1) that byte `at` lies on.
fn line_at(bytes: &[u8], at: usize) -> usize {
    1 + newlines(&bytes[..at])
}

fn newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

/// How many whole blank or comment lines `consumed` begins with.
fn skipped(consumed: &str) -> usize {
    consumed
        .split_inclusive('\n')
        .take_while(|l| l.ends_with('\n'))
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        .count()
}

/// A reader that gives one byte per read and records how many it gave.
/// dotenvy's line reader (a `BufReader`) then never holds bytes it has not
/// consumed, so the count is exactly how far dotenvy has parsed.
struct Trickle<'a> {
    text: &'a [u8],
    read: Rc<Cell<usize>>,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let at = self.read.get();
        match (self.text.get(at), buf.first_mut()) {
            (Some(byte), Some(slot)) => {
                *slot = *byte;
                self.read.set(at + 1);
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(usize, String)> {
        parse(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|e| (e.line, e.name))
            .collect()
    }

    #[test]
    fn entries_carry_the_line_they_start_on() {
        let text = "# top\n\nA=1\n  # note\nexport B=\"x\ny\"\n\nC='z'\n";
        assert_eq!(
            lines(text),
            [(3, "A".into()), (5, "B".into()), (8, "C".into())]
        );
    }

    #[test]
    fn a_rejected_line_is_reported_by_number() {
        assert_eq!(
            parse(b"A=1\n\n# c\nnot an entry\nB=2\n").err(),
            Some(Problem::Parse { line: 4 })
        );
        assert_eq!(
            parse(b"A=1\nB=\"open\nstill open\n").err(),
            Some(Problem::Parse { line: 2 })
        );
        assert_eq!(
            parse(b"A=1\nB=\"two\nlines\" junk\n").err(),
            Some(Problem::Parse { line: 2 })
        );
    }

    #[test]
    fn invalid_utf8_is_reported_by_line() {
        assert_eq!(
            parse(b"A=1\nB=caf\xe9\n").err(),
            Some(Problem::NotUtf8 { line: 2 })
        );
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        assert_eq!(lines("\u{feff}A=1\n"), [(1, "A".into())]);
    }

    #[test]
    fn references_skip_escaped_dollars() {
        assert_eq!(
            references(b"A=${X_Y}\nB=\\$Z\nC=$W $\n"),
            [(1, "X_Y".into()), (3, "W".into())]
        );
    }
}
