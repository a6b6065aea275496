//! Reading dotenv files for `vault import`, as dotenvy 0.15 reads them
//! (quotes, escapes, `export`, comments, multi-line quoted values, `$NAME`
//! substitution): dotenvy's reading is the contract, since it is what a
//! Rust program given the same file reads.
//!
//! vault reads the format with its own port of dotenvy's parser
//! (`lines.rs`, `entry.rs`), which the property test below holds to
//! dotenvy's output, because dotenvy itself cannot do three things import
//! needs: substitute from an environment vault chooses (one without the
//! variables that unlock the vault, whatever the text looks like), record
//! where a substitution happened so import can say so without showing the
//! value, and take values without substitution (`--no-expand`). Each entry
//! and each error carries the number of the line it starts on, and no error
//! carries any text of the file: a line may hold a secret.

mod entry;
mod lines;

use zeroize::Zeroizing;

pub use entry::{Expand, Source, Substitution};

/// One `NAME=value` entry.
pub struct Entry {
    /// The line it starts on, from 1.
    pub line: usize,
    pub name: String,
    pub value: Zeroizing<String>,
    /// The `$` substitutions made in it, in order.
    pub substitutions: Vec<Substitution>,
}

/// Why a file was refused, by line number only.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// Not UTF-8 from this line on.
    NotUtf8 { line: usize },
    /// The entry starting on this line cannot be read.
    Parse { line: usize },
}

/// Parses a whole file: every entry, or the first problem.
pub fn parse(bytes: &[u8], expand: &Expand<'_>) -> Result<Vec<Entry>, Problem> {
    // dotenvy's loaders drop a UTF-8 byte order mark; its iterator does not.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| Problem::NotUtf8 {
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
    })?;
    let mut earlier = entry::Earlier::new();
    let mut out = Vec::new();
    for line in lines::split(text).map_err(|line| Problem::Parse { line })? {
        match entry::parse(line.text, expand, &mut earlier) {
            Ok(None) => {}
            Ok(Some((name, value, substitutions))) => out.push(Entry {
                line: line.number,
                name,
                value,
                substitutions,
            }),
            Err(()) => return Err(Problem::Parse { line: line.number }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    fn lines(text: &str) -> Vec<(usize, String)> {
        parse(text.as_bytes(), &Expand::Off)
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
        for (text, line) in [
            (&b"A=1\n\n# c\nnot an entry\nB=2\n"[..], 4),
            (b"A=1\nB=\"open\nstill open\n", 2),
            (b"A=1\nB=\"two\nlines\" junk\n", 2),
        ] {
            let got = parse(text, &Expand::Off).err();
            assert_eq!(got, Some(Problem::Parse { line }));
        }
    }

    #[test]
    fn invalid_utf8_is_reported_by_line() {
        assert_eq!(
            parse(b"A=1\nB=caf\xe9\n", &Expand::Off).err(),
            Some(Problem::NotUtf8 { line: 2 })
        );
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        assert_eq!(lines("\u{feff}A=1\n"), [(1, "A".into())]);
    }

    fn read(text: &str, environment: &[(&str, &str)]) -> Vec<(String, String, Vec<Substitution>)> {
        let environment: HashMap<String, Zeroizing<String>> = environment
            .iter()
            .map(|(k, v)| (k.to_string(), Zeroizing::new(v.to_string())))
            .collect();
        parse(text.as_bytes(), &Expand::From(&environment))
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.value.to_string(), e.substitutions))
            .collect()
    }

    fn sub(source: Source, stopped_at_underscore: bool) -> Substitution {
        Substitution {
            source,
            stopped_at_underscore,
            unlocking: None,
        }
    }

    /// `\\` is a backslash, so the `$` after it is live: the reference is
    /// recorded by the name it unlocks with, and finds nothing.
    #[test]
    fn an_unlocking_variable_is_named_and_never_found() {
        let got = read(
            "A=\\\\${VAULT_PASSPHRASE}\nB=${VAULT_ACCESS_TOKEN}\nC=$VAULT_PASSPHRASE\n",
            &[],
        );
        assert_eq!(got[0].1, "\\");
        assert_eq!(got[0].2[0].unlocking, Some("VAULT_PASSPHRASE"));
        assert_eq!(got[1].2[0].unlocking, Some("VAULT_ACCESS_TOKEN"));
        // Unbraced, the name stops at `_`: `$VAULT` then `_PASSPHRASE`.
        assert_eq!(got[2].1, "_PASSPHRASE");
        assert_eq!(got[2].2[0].unlocking, None);
    }

    #[test]
    fn substitutions_are_recorded_with_their_source() {
        let got = read(
            "HOST=db\nADDR=$DB_HOST:5432\nURL=${HOST}/${USER}\nPW=P@ss$w0rd!$\nLIT='$HOST'\\$HOST\n",
            &[("USER", "me")],
        );
        let (none, env, file) = (Source::Undefined, Source::Environment, Source::File);
        assert_eq!(
            got,
            [
                ("HOST".into(), "db".into(), vec![]),
                ("ADDR".into(), "_HOST:5432".into(), vec![sub(none, true)]),
                (
                    "URL".into(),
                    "db/me".into(),
                    vec![sub(file, false), sub(env, false)]
                ),
                (
                    "PW".into(),
                    "P@ss!".into(),
                    vec![sub(none, false), sub(Source::NoName, false)]
                ),
                ("LIT".into(), "$HOST$HOST".into(), vec![]),
            ]
        );
    }

    #[test]
    fn the_environment_wins_over_an_earlier_entry() {
        let got = read("HOST=file\nA=$HOST\n", &[("HOST", "env")]);
        assert_eq!(got[1].1, "env");
        assert_eq!(got[1].2, [sub(Source::Environment, false)]);
    }

    #[test]
    fn no_expand_keeps_every_dollar() {
        // With substitution, dotenvy refuses `"x$E"`: the quote after the
        // name is taken as text, so the quote is left open.
        let none = HashMap::new();
        assert!(parse(b"D=\"x$E\"\n", &Expand::From(&none)).is_err());
        assert!(parse(b"D=\"x$E\"\n", &Expand::Off).is_ok());
        let got = parse(b"A=$B\nC=${D}\nD=\"x$E\"\n", &Expand::Off).unwrap();
        let values: Vec<&str> = got.iter().map(|e| e.value.as_str()).collect();
        assert_eq!(values, ["$B", "${D}", "x$E"]);
        assert!(got.iter().all(|e| e.substitutions.is_empty()));
    }

    /// Characters that matter to the format, and a few that do not.
    fn dotenv_text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "A", "b", "Q_1", "x.y", "=", "$", "${", "}", "{", "\"", "'", "\\", "#", " ", "\t",
            "\n", "\r\n", "export ", "é", "$QA", "${QB}", "_", "n", ":",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// The port reads every text as dotenvy does: the same entries, and
        /// an error where dotenvy stops with one. Both substitute from the
        /// test's own environment.
        #[test]
        fn the_port_reads_as_dotenvy_does(text in dotenv_text()) {
            let environment: HashMap<String, Zeroizing<String>> =
                std::env::vars().map(|(k, v)| (k, Zeroizing::new(v))).collect();
            let ours = parse(text.as_bytes(), &Expand::From(&environment));
            let theirs: Vec<Result<(String, String), ()>> =
                dotenvy::from_read_iter(text.as_bytes()).map(|r| r.map_err(|_| ())).collect();
            let theirs_ok: Vec<(String, String)> =
                theirs.iter().take_while(|r| r.is_ok()).map(|r| r.clone().unwrap()).collect();
            let failed = theirs.iter().any(|r| r.is_err());
            match ours {
                Ok(entries) => {
                    prop_assert!(!failed, "dotenvy failed where the port did not");
                    let ours: Vec<(String, String)> =
                        entries.into_iter().map(|e| (e.name, e.value.to_string())).collect();
                    prop_assert_eq!(ours, theirs_ok);
                }
                Err(Problem::Parse { .. }) => prop_assert!(failed, "the port failed where dotenvy did not"),
                Err(Problem::NotUtf8 { .. }) => prop_assert!(false, "texts are UTF-8"),
            }
        }
    }
}
