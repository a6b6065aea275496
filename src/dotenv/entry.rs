//! One logical line of a dotenv file read as dotenvy 0.15 reads it: the
//! name, the value with its quotes and escapes resolved, and each `$NAME` or
//! `${NAME}` replaced. A port of dotenvy's `LineParser` and `parse_value`,
//! kept the same in behaviour (the property test in `mod.rs` compares them),
//! with two differences dotenvy cannot offer: substitution reads the
//! environment it is given, never the process's, and records what it did,
//! so import can say so; and it can be turned off (`--no-expand`).

use std::collections::HashMap;

use zeroize::Zeroizing;

/// Where a substitution took its text from. dotenvy looks in the
/// environment first, then at the file's earlier entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Environment,
    /// An earlier entry of the file (or the entry itself, while it is read).
    File,
    /// Nowhere: it became empty.
    Undefined,
    /// A `$` with no name after it: it was dropped.
    NoName,
}

/// One `$` substitution. Its name is not kept: it is text of the value, and
/// may be part of a password (`P@ss$w0rd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Substitution {
    pub source: Source,
    /// An unbraced name ended at `_`, which shells read as part of it
    /// (`$DB_HOST` is `$DB` followed by `_HOST`).
    pub stopped_at_underscore: bool,
    /// The name, when it is a variable that unlocks the vault (these names
    /// are vault's, not text of a secret). The environment substitution
    /// reads never holds one, so it found nothing there.
    pub unlocking: Option<&'static str>,
}

/// How `$` is read.
pub enum Expand<'a> {
    /// Every `$` is kept as written.
    Off,
    /// Replaced from these variables, then from earlier entries.
    From(&'a HashMap<String, Zeroizing<String>>),
}

/// What earlier entries defined: `None` for an entry with nothing after
/// its `=`, as dotenvy records it.
pub type Earlier = HashMap<String, Option<Zeroizing<String>>>;

/// A parsed entry: name, value, and the substitutions made in it.
pub type Parsed = (String, Zeroizing<String>, Vec<Substitution>);

/// Reads one logical line: `Ok(None)` for a blank or comment line, `Err`
/// when dotenvy would reject it.
pub fn parse(line: &str, expand: &Expand<'_>, earlier: &mut Earlier) -> Result<Option<Parsed>, ()> {
    let mut line = line.trim_end().trim_start();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let mut key = take_key(&mut line)?;
    line = line.trim_start();
    if key == "export" && !line.starts_with('=') {
        key = take_key(&mut line)?;
        line = line.trim_start();
    }
    line = line.strip_prefix('=').ok_or(())?.trim_start();
    if line.is_empty() || line.starts_with('#') {
        earlier.insert(key.clone(), None);
        return Ok(Some((key, Zeroizing::new(String::new()), Vec::new())));
    }
    let mut substitutions = Vec::new();
    let value = value(line, expand, earlier, &mut substitutions)?;
    earlier.insert(key.clone(), Some(value.clone()));
    Ok(Some((key, value, substitutions)))
}

/// A name: an ASCII letter or `_`, then ASCII letters, digits, `_` and `.`.
fn take_key(line: &mut &str) -> Result<String, ()> {
    if !line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err(());
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(line.len());
    let key = line[..end].to_owned();
    *line = &line[end..];
    Ok(key)
}

#[derive(PartialEq, Eq)]
enum Mode {
    None,
    /// `$NAME`, reading the name.
    Block,
    /// `${NAME}`, reading the name.
    Braced,
}

/// dotenvy's `parse_value`, step for step.
fn value(
    input: &str,
    expand: &Expand<'_>,
    earlier: &Earlier,
    substitutions: &mut Vec<Substitution>,
) -> Result<Zeroizing<String>, ()> {
    let (mut strong, mut weak, mut escaped, mut expecting_end) = (false, false, false, false);
    let mut out = Zeroizing::new(String::new());
    let mut mode = Mode::None;
    let mut name = Zeroizing::new(String::new());
    let mut substitute = |name: &mut String, out: &mut String, underscore: bool| {
        let source = apply(name, expand, earlier, out);
        substitutions.push(Substitution {
            source,
            stopped_at_underscore: underscore,
            unlocking: crate::env::UNLOCKING
                .iter()
                .find(|u| **u == name.as_str())
                .copied(),
        });
        name.clear();
    };
    for c in input.chars() {
        if expecting_end {
            match c {
                ' ' | '\t' => continue,
                '#' => break,
                _ => return Err(()),
            }
        } else if escaped {
            match c {
                '\\' | '\'' | '"' | '$' | ' ' => out.push(c),
                'n' => out.push('\n'),
                _ => return Err(()),
            }
            escaped = false;
        } else if strong {
            if c == '\'' {
                strong = false;
            } else {
                out.push(c);
            }
        } else if mode != Mode::None {
            if c.is_alphanumeric() {
                name.push(c);
            } else if mode == Mode::Block {
                if c == '{' && name.is_empty() {
                    mode = Mode::Braced;
                } else {
                    substitute(&mut name, &mut out, c == '_');
                    if c == '$' {
                        mode = Mode::Block;
                    } else {
                        mode = Mode::None;
                        out.push(c);
                    }
                }
            } else if c == '}' {
                mode = Mode::None;
                substitute(&mut name, &mut out, false);
            } else {
                name.push(c);
            }
        } else if c == '$' {
            match expand {
                Expand::Off => out.push(c),
                Expand::From(_) => mode = Mode::Block,
            }
        } else if weak {
            match c {
                '"' => weak = false,
                '\\' => escaped = true,
                _ => out.push(c),
            }
        } else {
            match c {
                '\'' => strong = true,
                '"' => weak = true,
                '\\' => escaped = true,
                ' ' | '\t' => expecting_end = true,
                _ => out.push(c),
            }
        }
    }
    if mode == Mode::Braced || strong || weak {
        return Err(());
    }
    // dotenvy substitutes once more at the end, also when no `$` is open:
    // an empty name that finds nothing and adds nothing. Only a `$` still
    // open is recorded.
    if mode == Mode::Block {
        substitute(&mut name, &mut out, false);
    }
    Ok(out)
}

/// Appends what `name` stands for: the environment's value, else an
/// earlier entry's, else nothing.
fn apply(name: &str, expand: &Expand<'_>, earlier: &Earlier, out: &mut String) -> Source {
    if name.is_empty() {
        return Source::NoName;
    }
    if let Expand::From(environment) = expand {
        if let Some(value) = environment.get(name) {
            out.push_str(value);
            return Source::Environment;
        }
    }
    match earlier.get(name) {
        Some(value) => {
            out.push_str(value.as_deref().map_or("", |v| v.as_str()));
            Source::File
        }
        None => Source::Undefined,
    }
}
