//! The length-prefixed binary fields of the files vault keeps beside a
//! clone's trust state (`exec_cache.rs`, `warm.rs`) and of exec bundles
//! (`bundles/`): little-endian, each
//! byte string preceded by its length, each optional field by a flag. A
//! reader returns `None` at the first field that does not parse.

use zeroize::Zeroizing;

/// Fields on their way into a file; zeroized on drop (they may be values).
pub(super) struct Writer(pub Zeroizing<Vec<u8>>);

impl Writer {
    /// Bytes of a length both sides know (read back with `Reader::take`).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    pub fn bytes(&mut self, bytes: &[u8]) {
        self.0
            .extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.0.extend_from_slice(bytes);
    }

    pub fn text(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    pub fn number(&mut self, n: i64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    pub fn optional_number(&mut self, n: Option<i64>) {
        self.optional(n.map(i64::to_le_bytes).as_ref().map(|b| &b[..]));
    }

    pub fn optional(&mut self, bytes: Option<&[u8]>) {
        match bytes {
            None => self.0.push(0),
            Some(bytes) => {
                self.0.push(1);
                self.bytes(bytes);
            }
        }
    }
}

/// Fields read back, in the order they were written.
pub(super) struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().ok()?);
        self.take(len as usize)
    }

    pub fn text(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    /// A text field, borrowed from the input.
    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    pub fn number(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    pub fn optional(&mut self) -> Option<Option<&'a [u8]>> {
        match self.take(1)?[0] {
            0 => Some(None),
            1 => self.bytes().map(Some),
            _ => None,
        }
    }

    /// An optional field that must be UTF-8 when present.
    pub fn optional_text(&mut self) -> Option<Option<String>> {
        match self.optional()? {
            None => Some(None),
            Some(b) => Some(Some(String::from_utf8(b.to_vec()).ok()?)),
        }
    }

    pub fn optional_number(&mut self) -> Option<Option<i64>> {
        match self.optional()? {
            None => Some(None),
            Some(b) => Some(Some(i64::from_le_bytes(b.try_into().ok()?))),
        }
    }
}
