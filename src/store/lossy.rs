//! Metadata columns read whatever the file holds. A row edited by hand can
//! put invalid UTF-8 or a blob where a name belongs; rusqlite would then
//! fail the whole read, and with it `list`, the git text form and every
//! command that reads all secrets. These read such a value with each
//! undecodable byte written `\xNN` (`model::from_stored_bytes`): the row
//! shows escaped, and its value, bound to the real name, fails its
//! integrity check as any hand-edited row does.

use rusqlite::types::ValueRef;
use rusqlite::Row;

use super::rows::Sql;
use crate::model::from_stored_bytes;

/// A text column that may be NULL.
pub fn opt_text(row: &Row<'_>, idx: usize) -> Sql<Option<String>> {
    match row.get_ref(idx)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Ok(Some(from_stored_bytes(bytes))),
        other => Err(rusqlite::Error::InvalidColumnType(
            idx,
            "text".into(),
            other.data_type(),
        )),
    }
}

/// A text column that must be present.
pub fn text(row: &Row<'_>, idx: usize) -> Sql<String> {
    opt_text(row, idx)?.ok_or(rusqlite::Error::InvalidColumnType(
        idx,
        "text".into(),
        rusqlite::types::Type::Null,
    ))
}
