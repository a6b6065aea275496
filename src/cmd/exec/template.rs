//! Templates for `vault exec --render`: a config file whose `{{ NAME }}`
//! placeholders are replaced by secret values. The template itself holds
//! no value and can be committed.
//!
//! The whole syntax, on purpose no more (nothing here runs code or reads
//! anything but the values it names):
//!
//! - `{{ NAME }}` is the value of the secret NAME, byte for byte. Blanks
//!   (spaces, tabs) inside the braces are optional: `{{NAME}}` is the same.
//!   NAME is a secret's name (`[A-Za-z_][A-Za-z0-9_]*`).
//! - `{{ "text" }}` is `text` as written (no escapes, no `"` inside): a
//!   literal `{{` is written `{{ "{{" }}`.
//! - A placeholder opens and closes on one line. Every other byte,
//!   including a lone `{` or `}}`, is copied as it is.
//!
//! A `{{` that is not such a placeholder is an error naming its line, never
//! copied silently: a config meant for another template language fails
//! loudly instead of reaching the program half-rendered.
//!
//! Pure: bytes in, pieces out; the values come from the caller.

use zeroize::Zeroizing;

use crate::model::{env_name_shape, shown};

/// A parsed template: text and placeholders, in order.
pub struct Template {
    bytes: Vec<u8>,
    pieces: Vec<Piece>,
}

enum Piece {
    /// Bytes of the template, copied as they are.
    Text(std::ops::Range<usize>),
    /// A secret's value.
    Name { name: String, line: usize },
}

/// Why a template does not parse, and on which line (from 1).
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub problem: String,
}

impl Template {
    pub fn parse(bytes: Vec<u8>) -> Result<Template, Problem> {
        let mut pieces = Vec::new();
        let mut at = 0;
        let mut line = 1;
        while let Some(open) = find(&bytes[at..], b"{{").map(|i| at + i) {
            line += count_lines(&bytes[at..open]);
            if open > at {
                pieces.push(Piece::Text(at..open));
            }
            let end = bytes[open..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| open + i);
            let (piece, next) = placeholder(&bytes, open + 2, end, line)?;
            pieces.push(piece);
            at = next;
        }
        if at < bytes.len() {
            pieces.push(Piece::Text(at..bytes.len()));
        }
        Ok(Template { bytes, pieces })
    }

    /// Each secret the template names, once, with the first line naming it.
    pub fn names(&self) -> Vec<(&str, usize)> {
        let mut names: Vec<(&str, usize)> = Vec::new();
        for piece in &self.pieces {
            if let Piece::Name { name, line } = piece {
                if !names.iter().any(|(n, _)| n == name) {
                    names.push((name, *line));
                }
            }
        }
        names
    }

    /// The rendered text, `value` giving each name's value (every name of
    /// [`Template::names`] must have one; a missing one renders empty, and
    /// callers check them all before).
    pub fn render<'v>(&self, value: impl Fn(&str) -> Option<&'v [u8]>) -> Zeroizing<Vec<u8>> {
        let piece_bytes = |piece: &Piece| -> &[u8] {
            match piece {
                Piece::Text(range) => &self.bytes[range.clone()],
                Piece::Name { name, .. } => value(name).unwrap_or_default(),
            }
        };
        let len = self.pieces.iter().map(|p| piece_bytes(p).len()).sum();
        // Sized once, so the buffer never moves and leaves no copy behind.
        let mut out = Zeroizing::new(Vec::with_capacity(len));
        for piece in &self.pieces {
            out.extend_from_slice(piece_bytes(piece));
        }
        out
    }
}

/// Reads the placeholder whose content starts at `from`, on a line that
/// ends at `end`. Returns it and where the text after it starts.
fn placeholder(
    bytes: &[u8],
    from: usize,
    end: usize,
    line: usize,
) -> Result<(Piece, usize), Problem> {
    let fail = |problem: String| Problem { line, problem };
    let blanks = |mut i: usize| {
        while i < end && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        i
    };
    let start = blanks(from);
    let (piece, after) = if bytes.get(start) == Some(&b'"') {
        let close = bytes[start + 1..end]
            .iter()
            .position(|&b| b == b'"')
            .map(|i| start + 1 + i)
            .ok_or_else(|| fail("unclosed quote in a placeholder".into()))?;
        (Piece::Text(start + 1..close), close + 1)
    } else {
        let stop = (start..end)
            .find(|&i| matches!(bytes[i], b' ' | b'\t' | b'}'))
            .unwrap_or(end);
        let word = &bytes[start..stop];
        if word.is_empty() {
            let problem = if bytes[start..end].starts_with(b"}}") {
                "empty placeholder {{ }}"
            } else {
                "unclosed placeholder: {{ without }} on the same line"
            };
            return Err(fail(problem.into()));
        }
        let text = String::from_utf8_lossy(word);
        if let Err(problem) = env_name_shape(&text) {
            return Err(fail(format!(
                "invalid placeholder {:?}: {problem}",
                shown(&text)
            )));
        }
        let name = Piece::Name {
            name: text.into_owned(),
            line,
        };
        (name, stop)
    };
    let close = blanks(after);
    if bytes[close..end].starts_with(b"}}") {
        Ok((piece, close + 2))
    } else if find(&bytes[close..end], b"}}").is_some() {
        Err(fail(
            "invalid placeholder: it holds one name, or one \"text\"".into(),
        ))
    } else {
        Err(fail(
            "unclosed placeholder: {{ without }} on the same line".into(),
        ))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn count_lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str) -> String {
        let template = Template::parse(text.as_bytes().to_vec()).unwrap();
        let out = template.render(|name| match name {
            "A" => Some(b"alpha".as_slice()),
            "B_2" => Some(b"be\ntwo".as_slice()),
            _ => None,
        });
        String::from_utf8(out.to_vec()).unwrap()
    }

    fn problem(text: &str) -> (usize, String) {
        let p = Template::parse(text.as_bytes().to_vec()).err().unwrap();
        (p.line, p.problem)
    }

    #[test]
    fn replaces_placeholders_with_or_without_blanks() {
        assert_eq!(render("a={{ A }}\nb={{B_2}}\n"), "a=alpha\nb=be\ntwo\n");
        assert_eq!(render("{{\tA  }}{{A}}"), "alphaalpha");
        assert_eq!(render("no placeholder } { }}"), "no placeholder } { }}");
        assert_eq!(render(""), "");
    }

    #[test]
    fn a_quoted_placeholder_is_literal_text() {
        assert_eq!(render(r#"x={{ "{{" }} A }}"#), "x={{ A }}");
        assert_eq!(render(r#"{{"}}"}}"#), "}}");
    }

    #[test]
    fn names_are_listed_once_with_their_first_line() {
        let t = Template::parse(b"{{ A }}\n\n{{ B_2 }} {{ A }}".to_vec()).unwrap();
        assert_eq!(t.names(), vec![("A", 1), ("B_2", 3)]);
    }

    #[test]
    fn bad_placeholders_name_their_line() {
        let unclosed = "unclosed placeholder: {{ without }} on the same line".to_owned();
        assert_eq!(problem("ok\nkey={{ A\n}}"), (2, unclosed.clone()));
        assert_eq!(problem("{{ A } }"), (1, unclosed.clone()));
        assert_eq!(problem("a\nb\n{{"), (3, unclosed));
        assert_eq!(problem("{{ }}"), (1, "empty placeholder {{ }}".into()));
        assert_eq!(
            problem("\n{{ db-url }}"),
            (2, "invalid placeholder \"db-url\": it contains '-'".into())
        );
        assert_eq!(
            problem("{{ A B }}"),
            (
                1,
                "invalid placeholder: it holds one name, or one \"text\"".into()
            )
        );
        assert_eq!(
            problem("{{ \"x }}"),
            (1, "unclosed quote in a placeholder".into())
        );
        assert_eq!(
            problem("{{{ A }}}"),
            (1, "invalid placeholder \"{\": it starts with '{'".into())
        );
    }
}
