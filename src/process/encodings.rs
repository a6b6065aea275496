//! The encodings of a value that an agent's masker also catches: agents
//! transform what they handle (`echo -n $KEY | base64`, `xxd -p`, a URL
//! built with the value in it), and a masked transcript must not carry
//! the value in another alphabet.
//!
//! - **base64**, standard and URL-safe alphabets: where the value starts in
//!   the encoded stream decides how its bytes fall into groups of three, so
//!   each of the three alignments gives a pattern, made of the characters
//!   that depend on the value's bytes alone (the one or two characters at
//!   each edge that mix in neighbouring bytes are left out, so a value
//!   anywhere in a longer encoded text is found). A value long enough to
//!   be wrapped by `base64` (76 characters a line) is matched line by line
//!   only where a line break does not cut a pattern: not caught.
//! - **hex**, lower and upper case.
//! - **URL-encoding** (percent-encoding of everything but the unreserved
//!   characters, upper and lower case hex, and `+` for a space as forms
//!   write it), only when it differs from the value.
//!
//! JSON and the string literals of Python and Node are `shapes.rs`'s, for
//! everyone. These are for agents only: each is one or more patterns more
//! per value, and a person's `vault exec` should not pay for them.
//!
//! Every pattern is built in a zeroized buffer.

use zeroize::Zeroizing;

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Every encoded form of `value` to mask (possibly with repeats).
pub fn encodings(value: &[u8]) -> Vec<Zeroizing<Vec<u8>>> {
    let mut out = Vec::new();
    for alphabet in [STANDARD, URL_SAFE] {
        for offset in 0..3 {
            out.push(base64_core(value, offset, alphabet));
        }
    }
    out.push(hex(value, b"0123456789abcdef"));
    out.push(hex(value, b"0123456789ABCDEF"));
    for (digits, space_as_plus) in [
        (b"0123456789ABCDEF", false),
        (b"0123456789abcdef", false),
        (b"0123456789ABCDEF", true),
    ] {
        let encoded = percent(value, digits, space_as_plus);
        if encoded[..] != *value {
            out.push(encoded);
        }
    }
    out
}

/// The base64 characters that only `value`'s bytes decide, when `offset`
/// bytes (0, 1 or 2) of something else come before it in its group.
fn base64_core(value: &[u8], offset: usize, alphabet: &[u8; 64]) -> Zeroizing<Vec<u8>> {
    let bits = |i: usize| -> u8 {
        // Bit i of the stream: the value's bytes after `offset` zero bytes.
        let byte = i / 8;
        if byte < offset || byte >= offset + value.len() {
            return 0;
        }
        (value[byte - offset] >> (7 - i % 8)) & 1
    };
    let start_bit = offset * 8;
    let end_bit = (offset + value.len()) * 8;
    // Character c covers bits 6c..6c+6: keep those wholly inside the value.
    let first = start_bit.div_ceil(6);
    let mut out = Zeroizing::new(Vec::with_capacity(value.len() * 4 / 3 + 1));
    let mut c = first;
    while 6 * c + 6 <= end_bit {
        let sextet = (0..6).fold(0u8, |acc, k| (acc << 1) | bits(6 * c + k));
        out.push(alphabet[usize::from(sextet)]);
        c += 1;
    }
    out
}

fn hex(value: &[u8], digits: &[u8; 16]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(value.len() * 2));
    for b in value {
        out.push(digits[usize::from(b >> 4)]);
        out.push(digits[usize::from(b & 0xf)]);
    }
    out
}

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~`.
fn percent(value: &[u8], digits: &[u8; 16], space_as_plus: bool) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(value.len() * 3));
    for &b in value {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b),
            b' ' if space_as_plus => out.push(b'+'),
            _ => {
                out.push(b'%');
                out.push(digits[usize::from(b >> 4)]);
                out.push(digits[usize::from(b & 0xf)]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &Zeroizing<Vec<u8>>) -> String {
        String::from_utf8(v.to_vec()).unwrap()
    }

    /// Each alignment's core is inside the real encoding of the value
    /// after that many other bytes, whatever follows it.
    #[test]
    fn every_alignment_is_found_inside_real_base64() {
        let value = b"canary-Zq8x7Wp3Lk/+?";
        for offset in 0..3 {
            for tail in [&b""[..], b"x", b"xy", b"\n"] {
                let mut stream = b"abc"[..offset].to_vec();
                stream.extend_from_slice(value);
                stream.extend_from_slice(tail);
                let encoded = real_base64(&stream, STANDARD);
                let core = text(&base64_core(value, offset, STANDARD));
                assert!(core.len() >= value.len() * 4 / 3 - 2, "{core}");
                assert!(encoded.contains(&core), "{encoded} lacks {core}");
            }
        }
    }

    #[test]
    fn hex_and_url_forms() {
        let all: Vec<String> = encodings(b"a b/c").iter().map(text).collect();
        assert!(all.contains(&"6120622f63".to_owned()));
        assert!(all.contains(&"6120622F63".to_owned()));
        assert!(all.contains(&"a%20b%2Fc".to_owned()));
        assert!(all.contains(&"a%20b%2fc".to_owned()));
        assert!(all.contains(&"a+b%2Fc".to_owned()));
    }

    #[test]
    fn a_value_that_needs_no_escaping_has_no_url_form() {
        let all: Vec<String> = encodings(b"plain-value_1.2~").iter().map(text).collect();
        assert!(!all.iter().any(|e| e == "plain-value_1.2~"));
    }

    /// A plain reference encoder, for the test above.
    fn real_base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut n = [0u8; 3];
            n[..chunk.len()].copy_from_slice(chunk);
            let v = u32::from(n[0]) << 16 | u32::from(n[1]) << 8 | u32::from(n[2]);
            for k in 0..=chunk.len() {
                out.push(char::from(alphabet[((v >> (18 - 6 * k)) & 63) as usize]));
            }
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
        out
    }
}
