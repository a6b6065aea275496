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

/// Reads and validates the value for `name`.
pub fn read_value(name: &SecretName, source: &ValueSource) -> Result<SecretValue> {
    let raw = if let Some(path) = &source.from_file {
        let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
        drop_one_newline(Zeroizing::new(bytes))
    } else if !std::io::stdin().is_terminal() {
        let mut bytes = Zeroizing::new(Vec::new());
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("read", std::path::Path::new("stdin"), e))?;
        drop_one_newline(bytes)
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
            len: value.len(),
        });
    }
    Ok(())
}
