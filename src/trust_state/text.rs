//! The trust state's file form (part of `trust_state`): its lines read
//! and written, the `secret` lines in a file of their own, and each file
//! of the state replaced whole through a rename.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Seen, TrustState};

impl TrustState {
    pub(super) fn read(&mut self, text: &str) {
        let state = self;
        for line in text.lines() {
            let mut words = line.split(' ');
            match (words.next(), words.next(), words.next()) {
                (Some("root"), Some(fp), None) => state.root = id_hex(fp),
                (Some("seen"), Some(id), Some(digest)) => {
                    if let (Some(id), Some(digest)) = (id_hex(id), digest_hex(digest)) {
                        state.verified.insert(id, digest);
                    }
                }
                (Some("ruled"), Some(id), Some(digest)) => {
                    if let (Some(id), Some(digest)) = (id_hex(id), digest_hex(digest)) {
                        state.ruled.insert(id, digest);
                    }
                }
                (Some("own"), Some(id), Some(secret)) => {
                    if let (Some(id), Some(secret)) = (id_hex(id), id_hex(secret)) {
                        state.own.entry(id).or_default().insert(secret);
                    }
                }
                (Some("key"), Some(id), Some(at)) => {
                    let pin = words.next().and_then(id_hex);
                    if let (Some(id), Ok(at), Some(pin)) = (id_hex(id), at.parse(), pin) {
                        state.keys.insert(id, (at, pin));
                    }
                }
                (Some("secret"), Some(id), Some(generation)) => {
                    // The name is the rest of the line: a secret of an
                    // environment is `NAME (ENV)`.
                    let (Some(epoch), name) = (words.next(), words.collect::<Vec<_>>().join(" "))
                    else {
                        continue;
                    };
                    if name.is_empty() {
                        continue;
                    }
                    if let (Some(id), Ok(generation), Ok(epoch)) =
                        (id_hex(id), generation.parse(), epoch.parse())
                    {
                        state.secrets.get_or_insert_with(HashMap::new).insert(
                            id,
                            Seen {
                                generation,
                                epoch,
                                name,
                            },
                        );
                    }
                }
                _ => {}
            }
        }
    }

    /// Writes the state whole, replacing the old file in one rename.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        use std::fmt::Write as _;
        // Writing to a String cannot fail.
        let mut text = String::new();
        if let Some(root) = &self.root {
            let _ = writeln!(text, "root {}", Hex(root));
        }
        for (id, digest) in &self.verified {
            let _ = writeln!(text, "seen {} {}", Hex(id), Hex(digest));
        }
        for (id, digest) in &self.ruled {
            let _ = writeln!(text, "ruled {} {}", Hex(id), Hex(digest));
        }
        for (id, secrets) in &self.own {
            for secret in secrets {
                let _ = writeln!(text, "own {} {}", Hex(id), Hex(secret));
            }
        }
        for (id, (at, pin)) in &self.keys {
            let _ = writeln!(text, "key {} {at} {}", Hex(id), Hex(pin));
        }
        if let Some(secrets) = &self.secrets {
            // A fresh clone's first exec writes a line per granted secret:
            // each straight into one buffer, without the formatting
            // machinery (a tenth of that exec's own work at 1,000 secrets).
            let mut lines = Vec::with_capacity(secrets.len() * 96);
            for (id, seen) in secrets {
                secret_line(&mut lines, id, seen);
            }
            replace(&secrets_path(path), &lines)?;
        }
        if let Some(rows) = &self.rows {
            let bytes: Vec<u8> = rows.iter().flatten().copied().collect();
            replace(&path.with_extension("rows"), &bytes)?;
        }
        replace(path, text.as_bytes())
    }
}

/// Bytes shown in lowercase hex, as `hex::encode` would, written where
/// they go instead of into a String of their own.
struct Hex<'a>(&'a [u8]);

impl std::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = [0u8; 64];
        for chunk in self.0.chunks(32) {
            let hex = &mut buf[..chunk.len() * 2];
            hex::encode_to_slice(chunk, hex).map_err(|_| std::fmt::Error)?;
            f.write_str(std::str::from_utf8(hex).map_err(|_| std::fmt::Error)?)?;
        }
        Ok(())
    }
}

/// `secret ID GENERATION EPOCH NAME` and a newline, as `load` reads it.
fn secret_line(out: &mut Vec<u8>, id: &[u8; 16], seen: &Seen) {
    let mut hex = [0u8; 32];
    // Sixteen bytes always fit thirty-two digits.
    let _ = hex::encode_to_slice(id, &mut hex);
    out.extend_from_slice(b"secret ");
    out.extend_from_slice(&hex);
    for n in [seen.generation, seen.epoch] {
        out.push(b' ');
        decimal(out, n);
    }
    out.push(b' ');
    out.extend_from_slice(seen.name.as_bytes());
    out.push(b'\n');
}

/// `n` in decimal, as `Display` writes it.
fn decimal(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

pub(super) fn secrets_path(path: &Path) -> PathBuf {
    path.with_extension("secrets")
}

/// Writes `bytes` to a file of this user's data directory whole: a new
/// file beside `path` (mode 0600, its directory made 0700 when missing),
/// renamed over `path`, so a reader sees the old file or the new one. The
/// trust state and the kept manifests are written this way.
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path.parent().expect("a data file is in a directory");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".{}.tmp", std::process::id()));
    let temp = PathBuf::from(temp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(bytes)?;
    drop(file);
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

fn id_hex(text: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

fn digest_hex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn hex_is_written_as_hex_encode_writes_it() {
        for len in [0, 1, 16, 31, 32, 33, 64, 100] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 5) as u8).collect();
            assert_eq!(Hex(&bytes).to_string(), hex::encode(&bytes), "{len} bytes");
        }
    }

    #[test]
    fn a_secret_line_is_what_formatting_writes() {
        let id: [u8; 16] = std::array::from_fn(|i| (i * 29 + 3) as u8);
        for (generation, epoch) in [
            (0, 0),
            (1, 9),
            (10, 100),
            (-1, i64::MIN),
            (i64::MAX, 12_345),
        ] {
            let seen = Seen {
                generation,
                epoch,
                name: "API_KEY (prod)".into(),
            };
            let mut line = Vec::new();
            secret_line(&mut line, &id, &seen);
            let want = format!(
                "secret {} {generation} {epoch} API_KEY (prod)\n",
                hex::encode(id)
            );
            assert_eq!(String::from_utf8(line).unwrap(), want);
        }
    }

    #[test]
    fn a_saved_state_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t").join("state");
        let mut state = TrustState {
            root: Some([7; 16]),
            ..Default::default()
        };
        state.verified.insert([1; 16], [2; 32]);
        state.ruled.insert([1; 16], [5; 32]);
        state.own.insert([1; 16], HashSet::from([[6; 16], [7; 16]]));
        state.keys.insert([8; 16], (2, [9; 16]));
        let seen = Seen {
            generation: 4,
            epoch: 2,
            name: "STRIPE_KEY".into(),
        };
        let in_prod = Seen {
            name: "STRIPE_KEY (prod)".into(),
            ..seen.clone()
        };
        state.secrets().insert([3; 16], seen.clone());
        state.secrets().insert([4; 16], in_prod.clone());
        state.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(&format!("root {}\n", "07".repeat(16))),
            "{text}"
        );
        assert!(text.contains(&format!("key {} 2 {}\n", "08".repeat(16), "09".repeat(16))));
        let mut back = TrustState::load(&path);
        assert_eq!(back.root, Some([7; 16]));
        assert_eq!(back.verified.get(&[1; 16]), Some(&[2; 32]));
        assert_eq!(back.ruled.get(&[1; 16]), Some(&[5; 32]));
        assert_eq!(
            back.own.get(&[1; 16]),
            Some(&HashSet::from([[6; 16], [7; 16]]))
        );
        assert_eq!(back.keys.get(&[8; 16]), Some(&(2, [9; 16])));
        assert_eq!(back.secrets().get(&[3; 16]), Some(&seen));
        assert_eq!(back.secrets().get(&[4; 16]), Some(&in_prod));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
