//! Reading and editing single values of the vault file's rows with SQLite
//! directly, as an attacker with write access to the file would.

#![allow(dead_code)]

use crate::support::Env;

impl Env {
    /// Reads one blob column of the row `WHERE` selects.
    pub fn blob(&self, table: &str, column: &str, filter: &str) -> Vec<u8> {
        let conn = rusqlite::Connection::open(&self.vault).unwrap();
        conn.query_row(
            &format!("SELECT {column} FROM {table} WHERE {filter}"),
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// Overwrites one blob column of the rows `WHERE` selects, as an
    /// attacker with write access to the file would.
    pub fn set_blob(&self, table: &str, column: &str, filter: &str, value: &[u8]) {
        let conn = rusqlite::Connection::open(&self.vault).unwrap();
        let changed = conn
            .execute(
                &format!("UPDATE {table} SET {column} = ?1 WHERE {filter}"),
                [value],
            )
            .unwrap();
        assert_eq!(changed, 1, "{table}.{column} WHERE {filter}");
    }

    /// Reads one integer of the row `WHERE` selects.
    pub fn int(&self, table: &str, column: &str, filter: &str) -> i64 {
        let conn = rusqlite::Connection::open(&self.vault).unwrap();
        conn.query_row(
            &format!("SELECT {column} FROM {table} WHERE {filter}"),
            [],
            |r| r.get(0),
        )
        .unwrap()
    }
}
