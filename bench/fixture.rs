//! Vaults built for the benchmarks through vault's own library: one owner
//! (a person with a passphrase), a machine identity `ci` with manage access
//! to every secret, and optionally more identities granted `S0`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use vault::crypto::KdfParams;
use vault::model::{IdentityName, Level, SecretName};
use vault::secret::{Passphrase, SecretValue};
use vault::vault::{Credential, NewIdentity, NewSecret, Vault};
use zeroize::Zeroizing;

const PASSPHRASE: &str = "benchmark passphrase";
const STDIN_MARKER: &str = "BENCH_STDIN_FILE";

/// The binary under test: `VAULT_BENCH_BIN` when set (the static release
/// build of scripts/build-release.sh, say), else the one cargo built for
/// the bench from the same sources.
pub fn vault_bin() -> PathBuf {
    binary_from_env("VAULT_BENCH_BIN").unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_vault")))
}

/// The binary the variable `var` names, made absolute: commands run from
/// the fixture's temporary directory, where `target/release/vault` (as
/// cargo bench's working directory, the package root, would read it)
/// names nothing.
pub fn binary_from_env(var: &str) -> Option<PathBuf> {
    let bin = PathBuf::from(std::env::var_os(var)?);
    Some(std::path::absolute(&bin).unwrap_or(bin))
}

#[derive(Clone)]
pub struct Fixture(Arc<Inner>);

pub struct Inner {
    _dir: tempfile::TempDir,
    root: PathBuf,
    vault: PathBuf,
    token: String,
    passphrase_file: PathBuf,
    vars: Vec<(String, String)>,
    /// The data directory of the last fresh clone, removed when the next
    /// one is handed out.
    last_fresh: std::sync::Mutex<Option<PathBuf>>,
}

fn value(i: usize) -> String {
    format!(
        "{:032x}",
        (i as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
    )
}

impl Fixture {
    /// A vault of `n` secrets; `S0` is also granted to `extra - 1` more
    /// identities.
    pub fn build(n: usize, extra: usize, real_kdf: bool) -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("vault-bench")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let root = dir.path().to_owned();
        let vault_path = root.join("vault.db");
        let passphrase_file = root.join("passphrase");
        std::fs::write(&passphrase_file, PASSPHRASE).unwrap();
        let passphrase = Passphrase::new(Zeroizing::new(PASSPHRASE.as_bytes().to_vec()));
        let kdf = if real_kdf {
            KdfParams::DEFAULT
        } else {
            KdfParams::FLOOR
        };
        let owner = IdentityName::parse("owner").unwrap();
        let vault = Vault::init(&vault_path, &owner, &passphrase, kdf).unwrap();
        let me = vault
            .unlock(
                &vault.identity(None).unwrap(),
                Credential::Passphrase(&passphrase),
            )
            .unwrap();
        let ci = IdentityName::parse("ci").unwrap();
        let token = vault
            .add_identity(&me, &ci, NewIdentity::Machine, false)
            .unwrap()
            .unwrap();
        let names: Vec<SecretName> = (0..n)
            .map(|i| SecretName::parse(&format!("S{i}"), false).unwrap())
            .collect();
        let vars: Vec<(String, String)> = (0..n).map(|i| (format!("S{i}"), value(i))).collect();
        let secrets = vars
            .iter()
            .map(|(name, v)| NewSecret {
                name: SecretName::parse(name, false).unwrap(),
                value: SecretValue::new(Zeroizing::new(v.as_bytes().to_vec())),
                service: Some("bench".into()),
                description: None,
                expires_at: None,
                rotate_every: None,
            })
            .collect();
        vault.add_many(&me, secrets).unwrap();
        vault.grant(&me, &names, &ci, Level::Manage, None).unwrap();
        for k in 1..extra {
            let name = IdentityName::parse(&format!("m{k}")).unwrap();
            vault
                .add_identity(&me, &name, NewIdentity::Machine, false)
                .unwrap();
            vault
                .grant(&me, &names[..1], &name, Level::Use, None)
                .unwrap();
        }
        // A user's vault was written well before the exec that runs their
        // script; exec caches a verified view only of a file whose last
        // change is two seconds old (vault::exec_cache), so the warm runs
        // measure what a user gets, not a file changed a moment ago.
        drop(vault);
        std::thread::sleep(std::time::Duration::from_millis(2_100));
        Fixture(Arc::new(Inner {
            _dir: dir,
            root,
            vault: vault_path,
            token: token.encode().to_string(),
            passphrase_file,
            vars,
            last_fresh: Default::default(),
        }))
    }

    /// Keeps the vault on disk and prints the variables that reach it, for
    /// profiling by hand: `VAULT_BENCH_FIXTURE=N cargo bench --bench vault`.
    pub fn keep(self) {
        let inner = Arc::into_inner(self.0).expect("the only handle");
        let root = inner._dir.keep();
        println!("HOME={}", root.display());
        println!("VAULT_PATH={}", inner.vault.display());
        println!("VAULT_ACCESS_TOKEN={}", inner.token);
        println!("VAULT_PASSPHRASE_FILE={}", inner.passphrase_file.display());
    }

    /// The fixture's directory.
    pub fn root(&self) -> &std::path::Path {
        &self.0.root
    }

    /// The variables exec injects, as `(name, value)`.
    pub fn vars(&self) -> &[(String, String)] {
        &self.0.vars
    }

    fn vault(&self, args: &[&str]) -> Command {
        let mut c = Command::new(vault_bin());
        c.args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &self.0.root)
            .env("VAULT_PATH", &self.0.vault)
            .env("VAULT_NO_KEYRING", "1")
            .current_dir(&self.0.root);
        c
    }

    /// A project directory whose `vault.toml` declares `S0`..`S{n-1}`,
    /// each with a rule its value passes; exec run there selects by it.
    pub fn project_with_manifest(&self, n: usize) -> PathBuf {
        let project = self.0.root.join("project");
        std::fs::create_dir_all(&project).unwrap();
        let mut text = String::from("[project]\nenvironment = \"prod\"\n");
        for i in 0..n {
            text.push_str(&format!(
                "\n[vars.S{i}]\ndescription = \"secret number {i} of the benchmark\"\n\
                 pattern = \"^[0-9a-f]{{32}}$\"\nmin_length = 32\ndeny = [\"changeme\", \"xxx\"]\n"
            ));
        }
        std::fs::write(project.join("vault.toml"), text).unwrap();
        // A project's manifest is older than the kernel's clock tick: only
        // then is its parsed form kept (see src/manifest/cache.rs).
        std::thread::sleep(std::time::Duration::from_millis(2100));
        project
    }

    /// A data directory no run has used: a clone with no trust state.
    /// The previous one is removed first, outside any timed run: a CI job
    /// starts on a machine with no other clone's files waiting to be
    /// written back, and forty kept clones' files made the later fresh
    /// runs of a round up to a third slower as the kernel wrote them out
    /// (docs/BENCHMARKS.md).
    pub fn fresh_dir(&self, i: usize) -> std::path::PathBuf {
        if let Some(old) = self.0.last_fresh.lock().unwrap().take() {
            let _ = std::fs::remove_dir_all(old);
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = self.0.root.join(format!("fresh-{i}-{nanos}"));
        *self.0.last_fresh.lock().unwrap() = Some(dir.clone());
        dir
    }

    /// Adds a machine identity granted nothing (what `vault scan` finds
    /// through fingerprints alone) and returns its access token.
    pub fn add_ungranted(&self, name: &str) -> String {
        let vault = Vault::open(&self.0.vault).unwrap();
        let passphrase = Passphrase::new(Zeroizing::new(PASSPHRASE.as_bytes().to_vec()));
        let me = vault
            .unlock(
                &vault.identity(None).unwrap(),
                Credential::Passphrase(&passphrase),
            )
            .unwrap();
        let name = IdentityName::parse(name).unwrap();
        let token = vault
            .add_identity(&me, &name, NewIdentity::Machine, false)
            .unwrap()
            .unwrap();
        token.encode().to_string()
    }

    /// `vault ARGS` unlocked by another machine identity's token.
    pub fn vault_with_token(&self, token: &str, args: &[&str]) -> Command {
        let mut c = self.vault(args);
        c.env("VAULT_ACCESS_TOKEN", token);
        c
    }

    pub fn vault_as_ci(&self, args: &[&str]) -> Command {
        let mut c = self.vault(args);
        c.env("VAULT_ACCESS_TOKEN", &self.0.token);
        c
    }

    /// `vault_as_ci` with another binary (`VAULT_BENCH_BASELINE`), to
    /// compare two builds round by round on one machine.
    pub fn other_as_ci(&self, bin: &std::path::Path, args: &[&str]) -> Command {
        let mut c = self.vault_as_ci(args);
        let mut other = Command::new(bin);
        other.args(c.get_args()).env_clear();
        for (key, value) in c.get_envs() {
            if let Some(value) = value {
                other.env(key, value);
            }
        }
        other.current_dir(&self.0.root);
        c = other;
        c
    }

    pub fn vault_as_owner(&self, args: &[&str]) -> Command {
        let mut c = self.vault(args);
        c.env("VAULT_PASSPHRASE_FILE", &self.0.passphrase_file);
        c
    }

    /// `vault ARGS` as the owner, unlocking through the keyring cache only.
    pub fn vault_cached(&self, args: &[&str]) -> Command {
        let mut c = self.vault(args);
        c.env_remove("VAULT_NO_KEYRING");
        c
    }

    /// Caches the owner's key (`vault unlock`); false where no keyring works
    /// (run the benchmarks under `keyctl session -` to have one).
    pub fn unlock_cache(&self) -> bool {
        let mut c = self.vault_owner_with_keyring(&["unlock", "--for", "1h"]);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c.status().is_ok_and(|s| s.success())
    }

    fn vault_owner_with_keyring(&self, args: &[&str]) -> Command {
        let mut c = self.vault_as_owner(args);
        c.env_remove("VAULT_NO_KEYRING");
        c
    }

    /// `vault passwd` to the same passphrase: unlock plus a new seal.
    pub fn passwd_same_passphrase(&self) -> Command {
        let mut c = self.vault_as_owner(&["passwd", "--new-passphrase-file"]);
        c.arg(&self.0.passphrase_file);
        c
    }

    /// The floor: `env VARS... /bin/true`, the same variables exec injects.
    pub fn floor_command(&self) -> (String, Vec<String>) {
        let mut args: Vec<String> = vec!["-i".into(), "PATH=/usr/bin:/bin".into()];
        args.extend(self.0.vars.iter().map(|(k, v)| format!("{k}={v}")));
        args.push("/bin/true".into());
        ("/usr/bin/env".into(), args)
    }

    /// Gives `command` this stdin (kept in a file so a run can be repeated).
    pub fn with_stdin(&self, mut command: Command, data: &str) -> Command {
        let file = self.0.root.join(format!("stdin-{}", data.len()));
        std::fs::write(&file, data).unwrap();
        command.env(STDIN_MARKER, &file);
        let f = std::fs::File::open(&file).unwrap();
        command.stdin(f);
        command
    }
}

/// The stdin a command was given through [`Fixture::with_stdin`], reopened.
pub fn take_stdin(command: &mut Command) -> Stdio {
    command
        .get_envs()
        .find(|(k, _)| *k == STDIN_MARKER)
        .and_then(|(_, v)| v)
        .and_then(|path| std::fs::File::open(path).ok())
        .map(Stdio::from)
        .unwrap_or_else(Stdio::null)
}

/// Argon2id with the default parameters, in process, median of 5.
pub fn argon2_default_ms() -> f64 {
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let start = std::time::Instant::now();
            let _ = vault::crypto::derive_unlock_key(b"p", &[0u8; 16], KdfParams::DEFAULT);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[2]
}
