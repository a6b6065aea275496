//! Reading a new secret value: from `--from-file`, from stdin when it is not
//! a terminal, or from a hidden prompt asked twice. There is deliberately no
//! way to pass a value as an argument, where it would land in shell history
//! and in `/proc/PID/cmdline`.

use std::io::{IsTerminal, Read};

use zeroize::Zeroizing;

use crate::cli::ValueSource;
use crate::error::{Error, Result};
use crate::model::SecretName;
use crate::secret::SecretValue;
use crate::terminal;

/// The kernel's limit for one environment entry (`NAME=value\0`),
/// MAX_ARG_STRLEN on Linux.
const ENV_ENTRY_MAX: usize = 128 * 1024;

/// The most a value's source is read: one byte more than any value that
/// fits, so a larger one is refused without being held whole (a 1 GiB
/// stdin once peaked at 2 GiB before the refusal). Reserved up front, so
/// the buffer never moves and leaves no copy behind to zeroize.
const READ_LIMIT: usize = ENV_ENTRY_MAX + 1;

/// Reads and validates the value for `name`.
pub fn read_value(name: &SecretName, source: &ValueSource) -> Result<SecretValue> {
    let raw = if let Some(path) = &source.from_file {
        let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
        drop_one_newline(read_limited(name, file, path)?)
    } else if !std::io::stdin().is_terminal() {
        let stdin = std::io::stdin().lock();
        drop_one_newline(read_limited(name, stdin, std::path::Path::new("stdin"))?)
    } else if terminal::interactive() {
        terminal::prompt_hidden_twice(&format!("Value for {name}: "), "Repeat it: ").map_err(
            |e| match e {
                Error::PassphraseMismatch => {
                    Error::Usage("the two entries differ: nothing was stored".into())
                }
                other => other,
            },
        )?
    } else {
        return Err(Error::NoValue(name.to_string()));
    };
    validate(name, &raw, source.allow_empty)?;
    Ok(SecretValue::new(raw))
}

/// Reads at most [`READ_LIMIT`] bytes; refuses a source with more.
fn read_limited(
    name: &SecretName,
    source: impl Read,
    path: &std::path::Path,
) -> Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(READ_LIMIT));
    source
        .take(READ_LIMIT as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    if bytes.len() >= READ_LIMIT {
        return Err(Error::ValueTooLarge {
            name: name.to_string(),
            size: format!("more than {ENV_ENTRY_MAX} bytes"),
        });
    }
    Ok(bytes)
}

/// Drops exactly one trailing `\n`, so `echo value |` and files ending in a
/// newline store what was meant, and multi-line values such as PEM keys
/// round-trip exactly.
fn drop_one_newline(mut bytes: Zeroizing<Vec<u8>>) -> Zeroizing<Vec<u8>> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}

pub(super) fn validate(name: &SecretName, value: &[u8], allow_empty: bool) -> Result<()> {
    if value.is_empty() && !allow_empty {
        return Err(Error::EmptyValue(name.to_string()));
    }
    if value.contains(&0) {
        return Err(Error::NulInValue(name.to_string()));
    }
    if name.as_str().len() + 1 + value.len() + 1 > ENV_ENTRY_MAX {
        return Err(Error::ValueTooLarge {
            name: name.to_string(),
            size: format!("{} bytes", value.len()),
        });
    }
    Ok(())
}
