//! The shapes a value takes in output besides its own bytes, so masking
//! catches the usual ways programs reprint their environment.
//!
//! - Each line of a multi-line value (a PEM key): `env | sort` reorders
//!   lines, and Node's `console.log(process.env)` prints `'line\n' +`
//!   pieces, so the whole value never appears but every line does.
//! - The value as a quoted string literal shows it: JSON (`JSON.stringify`,
//!   `json.dumps`, also with its default `\uXXXX` for non-ASCII), and the
//!   single-quoted literals of Python's `repr` and Node's `util.inspect`
//!   (a quote that is not the delimiter stays bare), which write other
//!   control characters as `\xNN` where JSON writes `\u00NN`.
//!
//! Every shape is built in zeroized buffers, and shapes shorter than the
//! masking minimum are left to the caller to drop. A value in bytes that
//! are not UTF-8 has no string literal; only its lines are shapes.

use zeroize::Zeroizing;

/// Every other shape of `value` (its lines, and the escaped forms of it
/// and of its lines), possibly with repeats and with `value` itself.
pub fn shapes(value: &[u8]) -> Vec<Zeroizing<Vec<u8>>> {
    let mut out = Vec::new();
    let multi_line = value.contains(&b'\n');
    if multi_line {
        for line in value.split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            out.push(Zeroizing::new(line.to_vec()));
            literals(line, &mut out);
        }
    }
    literals(value, &mut out);
    out
}

/// How a literal escapes quotes and non-ASCII text.
#[derive(Clone, Copy)]
enum Style {
    /// JSON: `"` escaped, `'` bare.
    Json,
    /// JSON as Python's `json.dumps` writes it by default: also non-ASCII
    /// as `\uXXXX` (UTF-16 units).
    JsonAscii,
    /// Single-quoted (`repr`, `util.inspect` with both quotes inside):
    /// `'` escaped, `"` bare.
    Single,
    /// A literal whose delimiter is not inside it: both quotes bare.
    Bare,
}

/// Pushes the escaped forms of `text` that differ from it.
fn literals(text: &[u8], out: &mut Vec<Zeroizing<Vec<u8>>>) {
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let plain = |c: char| c.is_ascii() && !c.is_ascii_control() && !matches!(c, '"' | '\'' | '\\');
    if text.chars().all(plain) {
        return;
    }
    for style in [Style::Json, Style::JsonAscii, Style::Single, Style::Bare] {
        out.push(escape(text, style));
    }
}

fn escape(text: &str, style: Style) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() + 8));
    let mut utf8 = [0u8; 4];
    for c in text.chars() {
        let escaped: &[u8] = match (c, style) {
            ('\\', _) => b"\\\\",
            ('\n', _) => b"\\n",
            ('\r', _) => b"\\r",
            ('\t', _) => b"\\t",
            ('"', Style::Json | Style::JsonAscii) => b"\\\"",
            ('\'', Style::Single) => b"\\'",
            ('\u{8}', Style::Json | Style::JsonAscii) => b"\\b",
            ('\u{c}', Style::Json | Style::JsonAscii) => b"\\f",
            (c, Style::Single | Style::Bare) if c.is_ascii_control() => {
                out.extend_from_slice(format!("\\x{:02x}", u32::from(c)).as_bytes());
                continue;
            }
            (c, _)
                if c.is_ascii_control() || (!c.is_ascii() && matches!(style, Style::JsonAscii)) =>
            {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.extend_from_slice(format!("\\u{unit:04x}").as_bytes());
                }
                continue;
            }
            (c, _) => c.encode_utf8(&mut utf8).as_bytes(),
        };
        out.extend_from_slice(escaped);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(value: &str) -> Vec<String> {
        let mut shapes: Vec<String> = shapes(value.as_bytes())
            .iter()
            .map(|s| String::from_utf8(s.to_vec()).unwrap())
            .filter(|s| s != value)
            .collect();
        shapes.sort();
        shapes.dedup();
        shapes
    }

    #[test]
    fn a_plain_value_has_no_other_shape() {
        assert!(all("sk_live_4f9a8b7c").is_empty());
    }

    #[test]
    fn a_multi_line_value_gives_its_lines_and_its_escaped_form() {
        assert_eq!(
            all("-----BEGIN-----\r\nAAAA\nBBBB\n"),
            [
                "",
                "-----BEGIN-----",
                "-----BEGIN-----\\r\\nAAAA\\nBBBB\\n",
                "AAAA",
                "BBBB",
            ]
        );
    }

    /// The forms JSON.stringify, json.dumps, repr and util.inspect print.
    #[test]
    fn quotes_backslashes_and_non_ascii_are_escaped_as_literals_print_them() {
        assert_eq!(
            all("it's \"x\" \\ é\u{1F600}\u{1}"),
            [
                "it's \"x\" \\\\ é\u{1F600}\\x01",
                "it's \\\"x\\\" \\\\ \\u00e9\\ud83d\\ude00\\u0001",
                "it's \\\"x\\\" \\\\ é\u{1F600}\\u0001",
                "it\\'s \"x\" \\\\ é\u{1F600}\\x01",
            ]
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_give_only_their_lines() {
        let shapes = shapes(b"\xff\xfe-line-1\n\xff-line-2\"");
        let shapes: Vec<&[u8]> = shapes.iter().map(|s| s.as_slice()).collect();
        assert_eq!(shapes, [b"\xff\xfe-line-1".as_slice(), b"\xff-line-2\""]);
    }
}
