//! envio beside vault: the same variables in an envio profile (one
//! symmetric XChaCha20-Poly1305 blob, no identities, no signatures), so
//! that `envio run` and `vault exec` are measured in one run. envio is not
//! a dependency: the comparison is made where an `envio` binary is found
//! (`VAULT_BENCH_ENVIO`, or `envio` on `PATH` or in `~/.cargo/bin`; install
//! it with `cargo install envio`) and left out elsewhere.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A profile `bench` holding `vars`, in `.envio/` under `dir`.
pub struct Envio {
    bin: PathBuf,
    dir: PathBuf,
    key: String,
}

/// The envio binary, if there is one.
fn find() -> Option<PathBuf> {
    if let Some(bin) = crate::fixture::binary_from_env("VAULT_BENCH_ENVIO") {
        return Some(bin);
    }
    let home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin"));
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(home)
        .map(|d| d.join("envio"))
        .find(|p| p.is_file())
}

impl Envio {
    /// Creates the profile; `None` when envio is absent or refuses (the
    /// report then says so).
    pub fn setup(dir: &Path, vars: &[(String, String)]) -> Option<Envio> {
        let bin = find()?;
        let dir = dir.join("envio");
        std::fs::create_dir_all(&dir).ok()?;
        let base = |args: &[&str]| {
            let mut c = Command::new(&bin);
            c.args(args)
                .current_dir(&dir)
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .env("HOME", &dir)
                .env("NO_COLOR", "1")
                .stdin(Stdio::null());
            c
        };
        base(&["init"])
            .output()
            .ok()?
            .status
            .success()
            .then_some(())?;
        let mut create = base(&["create", "bench", "-k", "symmetric"]);
        if !vars.is_empty() {
            create.arg("-e");
            create.args(vars.iter().map(|(k, v)| format!("{k}={v}")));
        }
        let out = create.output().ok()?;
        if !out.status.success() {
            return None;
        }
        // "Generated Symmetric Key: KEY", possibly in colour.
        let text = String::from_utf8_lossy(&out.stdout);
        let key = text
            .lines()
            .find_map(|l| l.split("Generated Symmetric Key:").nth(1))
            .map(strip_ansi)?
            .trim()
            .to_owned();
        Some(Envio { bin, dir, key })
    }

    /// `envio run bench -- ARGS`, the key in `ENVIO_KEY`.
    pub fn run(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(["run", "bench", "--"])
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &self.dir)
            .env("NO_COLOR", "1")
            .env("ENVIO_KEY", &self.key);
        c
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
