//! Metadata text as it may be shown: the one escaping of control
//! characters and undecodable bytes, and the check that refuses them in
//! what a user sets.
//!
//! Names, services, descriptions and identity names are plaintext in the
//! file, so anyone who can write it can put ESC, CR or a newline there: raw
//! on a terminal they rewrite the screen, and in the git text form a
//! newline forges whole lines. Everything that prints metadata goes through
//! [`shown`]; everything a user sets goes through [`text_problem`].
//! Depends on nothing.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters refused in metadata and escaped when shown: C0 and C1
/// controls, DEL, and the Unicode bidirectional controls that reorder
/// what a terminal or a code review shows (CVE-2021-42574).
pub fn is_unshowable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unshowable character escaped (`\n`, `\r`, `\t`,
/// `\x1b`, `\u{202e}`), borrowed when there is none.
pub fn shown(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unshowable) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unshowable(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unshowable(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text read from the file that may not be UTF-8 (a row edited by hand):
/// valid runs kept, each undecodable byte written `\xNN`, so that one bad
/// row never fails a whole listing.
pub fn from_stored_bytes(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// The first unshowable character of text a user set, if any.
pub fn text_problem(text: &str) -> Option<char> {
    text.chars().find(|c| is_unshowable(*c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(shown("plain café"), "plain café");
        assert!(matches!(shown("plain"), Cow::Borrowed(_)));
        assert_eq!(shown("a\x1b[2Jb\r\nc\t"), "a\\x1b[2Jb\\r\\nc\\t");
        assert_eq!(shown("x\u{7f}\u{85}"), "x\\x7f\\x85");
        assert_eq!(shown("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn undecodable_bytes() {
        assert_eq!(from_stored_bytes(b"OK"), "OK");
        assert_eq!(from_stored_bytes(b"A\xffB\xc3"), "A\\xffB\\xc3");
        assert_eq!(from_stored_bytes("é\u{1b}".as_bytes()), "é\u{1b}");
    }

    #[test]
    fn problems() {
        assert_eq!(text_problem("payments"), None);
        assert_eq!(text_problem("pay\nments"), Some('\n'));
        assert_eq!(text_problem("\u{2066}x"), Some('\u{2066}'));
    }
}
