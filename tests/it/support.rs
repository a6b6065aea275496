//! The test harness: a temporary home with its own vault, and a small
//! builder to run the binary and assert on its status and output.

#![allow(dead_code)]

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub use crate::output::Output;

/// SQL that takes a vault back to format 2's columns (a file written
/// before signatures), dropping the later formats' columns too.
pub const DROP_FORMAT_3: &str = "\
    DROP TABLE bundles; DROP INDEX access_marks; \
    DROP INDEX secrets_unfingerprinted; ALTER TABLE secrets DROP COLUMN fingerprints; \
    ALTER TABLE identities DROP COLUMN sign_public; ALTER TABLE identities DROP COLUMN role; \
    ALTER TABLE identities DROP COLUMN certifier; ALTER TABLE identities DROP COLUMN cert_sig; \
    ALTER TABLE identities DROP COLUMN sign_claim; \
    ALTER TABLE secrets DROP COLUMN creator; ALTER TABLE secrets DROP COLUMN id_nonce; \
    ALTER TABLE secrets DROP COLUMN generation; ALTER TABLE secrets DROP COLUMN managers; \
    ALTER TABLE secrets DROP COLUMN managers_epoch; ALTER TABLE secrets DROP COLUMN managers_by; \
    ALTER TABLE secrets DROP COLUMN managers_sig; ALTER TABLE secrets DROP COLUMN signer; \
    ALTER TABLE secrets DROP COLUMN sig; ALTER TABLE access DROP COLUMN signer; \
    ALTER TABLE access DROP COLUMN sig; ALTER TABLE identities DROP COLUMN agent_until; \
    ALTER TABLE identities DROP COLUMN succession; ALTER TABLE identities DROP COLUMN retired_keys; \
    DROP TABLE statements; ALTER TABLE secrets DROP COLUMN stmt; ALTER TABLE access DROP COLUMN stmt;";

pub const PASSPHRASE: &str = "correct horse battery staple";
/// The hint when there is nothing to unlock with: a token first (CI).
pub const NO_PASSPHRASE_HINT: &str =
    "in CI, set VAULT_ACCESS_TOKEN to a machine identity's token (`vault identity add ci --token`); \
     otherwise set VAULT_PASSPHRASE_FILE or VAULT_PASSPHRASE, pass --passphrase-file, or run at a terminal";
pub const BIN: &str = env!("CARGO_BIN_EXE_vault");

/// `token` with the last digit of its root pin changed: a token pinning
/// another root.
pub fn with_another_pin(token: &str) -> String {
    let mut forged = token.to_owned();
    let at = forged.len() - 1;
    let last = if forged.ends_with('0') { "1" } else { "0" };
    forged.replace_range(at.., last);
    forged
}

/// Asserts that `out` is the refusal of a token pinning another root.
pub fn refused_for_its_pin(out: &Output) {
    assert!(
        out.stderr
            .starts_with("error: trust check failed: this vault's root is SHA256:")
            && out.stderr.contains(", but the access token pinned SHA256:"),
        "{out:?}"
    );
    assert_eq!(out.stdout, "");
}

/// A temporary home directory with a vault path inside it.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub vault: PathBuf,
    pub passphrase_file: PathBuf,
    extra_env: Vec<(String, OsString)>,
    wrapper: Vec<OsString>,
}

impl Env {
    /// A home with no vault yet.
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("temporary directory");
        let vault = dir.path().join("data").join("vault.db");
        let passphrase_file = dir.path().join("passphrase");
        std::fs::write(&passphrase_file, format!("{PASSPHRASE}\n")).unwrap();
        Env {
            dir,
            vault,
            passphrase_file,
            extra_env: Vec::new(),
            wrapper: Vec::new(),
        }
    }

    /// A home with a vault whose owner is `owner`, unlocked by the
    /// passphrase file.
    pub fn init() -> Env {
        let env = Env::new();
        env.owner_runs(&["init", "--name", "owner"]);
        env
    }

    /// Sets a variable for every later command of this env.
    pub fn set(&mut self, key: &str, value: impl Into<OsString>) {
        self.extra_env.push((key.to_owned(), value.into()));
    }

    /// Runs every later command as `PREFIX... vault ARGS` (for example
    /// inside a test's own kernel session keyring).
    pub fn wrap(&mut self, prefix: Vec<OsString>) {
        self.wrapper = prefix;
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `vault ARGS` with VAULT_PATH set; no passphrase unless asked for.
    pub fn vault(&self, args: &[&str]) -> Run {
        let mut command = match self.wrapper.split_first() {
            Some((program, rest)) => {
                let mut command = Command::new(program);
                command.args(rest).arg(BIN);
                command
            }
            None => Command::new(BIN),
        };
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.dir.path().join("xdg"))
            .env("LANG", "C.UTF-8")
            .env("VAULT_PATH", &self.vault)
            .env("VAULT_NO_KEYRING", "1")
            .env("VAULT_TEST_KDF", "floor")
            .current_dir(self.dir.path());
        for (k, v) in &self.extra_env {
            command.env(k, v);
        }
        detach_from_the_terminal(&mut command);
        Run {
            command,
            stdin: None,
        }
    }

    /// Runs `vault ARGS` as the owner (with the passphrase); it must
    /// succeed.
    pub fn owner_runs(&self, args: &[&str]) {
        self.vault(args).passphrase().run().success();
    }

    /// Adds the machine identity `name`, as the owner; returns its token.
    pub fn add_machine(&self, name: &str) -> String {
        self.vault(&["identity", "add", name, "--token"])
            .passphrase()
            .run()
            .success()
            .stdout
            .trim()
            .to_owned()
    }

    /// Adds a secret with `value` on stdin, as the owner.
    pub fn add(&self, name: &str, value: &str) {
        self.vault(&["add", name])
            .passphrase()
            .stdin(value)
            .run()
            .success();
    }

    /// Rotates `name` to `value`, as the owner.
    pub fn rotate(&self, name: &str, value: &str) {
        self.vault(&["rotate", name])
            .passphrase()
            .stdin(value)
            .run()
            .success();
    }

    /// The X25519 secret of the identity `token` unlocks, as a holder's
    /// own (modified) code has it, and the vault id.
    pub fn token_secret(&self, token: &str) -> (vault::crypto::IdentitySecret, [u8; 16]) {
        use vault::crypto::{AccessToken, IdentitySecret};
        let vault = vault::vault::Vault::open(&self.vault).unwrap();
        let parsed = AccessToken::parse(token).unwrap();
        let identity = vault.identity_for_token(&parsed).unwrap();
        let me = vault
            .unlock(&identity, vault::vault::Credential::Token(&parsed))
            .unwrap();
        let secret = IdentitySecret::from_slice(me.secret_key_bytes()).unwrap();
        (secret, *vault.id())
    }

    /// A secret's id, version, generation, creator and id nonce.
    pub fn secret_state(&self, name: &str) -> (Vec<u8>, i64, i64, Vec<u8>, Vec<u8>) {
        let conn = rusqlite::Connection::open(&self.vault).unwrap();
        conn.query_row(
            "SELECT id, version, generation, creator, id_nonce FROM secrets WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap()
    }

    /// The start of the input a writer signs for the row of the shared
    /// secret `name` at `version` and `generation`, written out as an
    /// attacker's own code would encode it: every field before the sealed
    /// value (its digest, or the value whole in a statement's listed form,
    /// comes next).
    pub fn secret_row_input(
        &self,
        vault_id: &[u8; 16],
        name: &str,
        (version, generation): (i64, i64),
    ) -> vault::crypto::Aad {
        let (secret_id, _, _, creator, nonce) = self.secret_state(name);
        vault::crypto::Aad::new("secret-row")
            .with(vault_id)
            .with(&secret_id)
            .with(&creator)
            .with(&nonce)
            .with(name.as_bytes())
            .with(&version.to_be_bytes())
            .with(&generation.to_be_bytes())
    }

    /// A logical dump of every table, to prove a command changed nothing.
    pub fn dump(&self) -> String {
        let conn = rusqlite::Connection::open_with_flags(
            &self.vault,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open the vault for a dump");
        let mut out = String::new();
        for table in ["vault", "identities", "secrets", "access"] {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))
                .unwrap();
            let cols = stmt.column_count();
            let rows = stmt
                .query_map([], |row| {
                    let mut line = String::new();
                    for i in 0..cols {
                        let v: rusqlite::types::Value = row.get(i)?;
                        line.push_str(&format!("{v:?}|"));
                    }
                    Ok(line)
                })
                .unwrap();
            out.push_str(table);
            out.push('\n');
            for row in rows {
                out.push_str(&row.unwrap());
                out.push('\n');
            }
        }
        out
    }

    /// The audit log's tables, row by row, to prove a command recorded
    /// nothing (`dump` leaves them out: reads that succeed add entries).
    pub fn audit_dump(&self) -> String {
        let conn = rusqlite::Connection::open_with_flags(
            &self.vault,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open the vault for a dump");
        let mut out = String::new();
        for table in ["audit_keys", "audit"] {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
                .unwrap();
            let cols = stmt.column_count();
            let rows = stmt
                .query_map([], |row| {
                    (0..cols)
                        .map(|i| row.get::<_, rusqlite::types::Value>(i))
                        .map(|v| v.map(|v| format!("{v:?}|")))
                        .collect::<rusqlite::Result<String>>()
                })
                .unwrap();
            out.push_str(table);
            out.push('\n');
            for row in rows {
                out.push_str(&row.unwrap());
                out.push('\n');
            }
        }
        out.push_str("exec log\n");
        out.push_str(&self.exec_log());
        out
    }

    /// The exec log beside the vault: exec's entries not yet folded into
    /// the audit log by a write ("" when there is none).
    pub fn exec_log(&self) -> String {
        std::fs::read_to_string(self.exec_log_path()).unwrap_or_default()
    }

    pub fn exec_log_path(&self) -> PathBuf {
        vault::store::exec_log_path(&self.vault)
    }

    /// How many entries the audit log holds, exec's pending ones included.
    pub fn audit_count(&self) -> i64 {
        self.int("audit", "count(*)", "1") + self.exec_log().lines().count() as i64
    }

    /// The recorded time of audit entry `seq`, as `vault audit` prints it.
    pub fn audit_time(&self, seq: i64) -> String {
        vault::time::format(self.int("audit", "at", &format!("seq = {seq}")))
    }

    /// Runs `run`, asserts it fails with exactly `message` (and `hint`) and
    /// status `code`, and that the vault is unchanged: a refused command
    /// loses nothing.
    #[track_caller]
    pub fn refuses(&self, run: Run, code: i32, message: &str, hint: Option<&str>) -> Output {
        let before = self.dump();
        let out = run.run().fails(code, message, hint);
        assert_eq!(self.dump(), before, "a refused command changed the vault");
        out
    }

    /// Runs SQL against the vault file directly, as an attacker would.
    pub fn sql(&self, sql: &str) {
        let conn = rusqlite::Connection::open(&self.vault).unwrap();
        conn.execute_batch(sql).unwrap();
    }

    /// Every file of the vault (database, WAL, shared memory), concatenated.
    pub fn vault_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let dir = self.vault.parent().unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                bytes.extend(std::fs::read(path).unwrap());
            }
        }
        bytes
    }

    /// The value the child of `exec` sees for `name`, as the owner.
    pub fn value_of(&self, name: &str) -> String {
        let out = self
            .vault(&[
                "exec", "--mask", "never", "--only", name, "--", "printenv", name,
            ])
            .passphrase()
            .run()
            .success();
        let mut s = out.stdout;
        assert_eq!(s.pop(), Some('\n'));
        s
    }

    /// What the program sees in `name` when this exec line accepts a
    /// dangerous variable by name.
    pub fn dangerous_value_of(&self, name: &str) -> String {
        let out = self
            .vault(&[
                "exec",
                "--mask",
                "never",
                "--only",
                name,
                "--allow-dangerous-name",
                name,
                "--",
                "printenv",
                name,
            ])
            .passphrase()
            .run()
            .success();
        let mut s = out.stdout;
        assert_eq!(s.pop(), Some('\n'));
        s
    }

    /// Asserts that a plain exec refuses to inject the dangerous `name`.
    #[track_caller]
    pub fn exec_refuses_dangerous(&self, name: &str) {
        self.vault(&["exec", "--only", name, "--", "printenv", name])
            .passphrase()
            .run()
            .fails(
                125,
                &format!("refusing to set {name}: a value there can run code inside the program"),
                Some(&format!("if you trust whoever added it, accept it for this run: vault exec --allow-dangerous-name {name} -- ...")),
            );
    }
}

/// Runs the command in a session of its own, with no controlling terminal:
/// vault asks for a passphrase on `/dev/tty` whenever there is one, and the
/// suite must behave the same from a developer's terminal as in CI (where
/// there is none). The tests of prompts drive a terminal of their own
/// (tty.rs).
fn detach_from_the_terminal(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe and touches no memory of the
    // parent; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
}

pub struct Run {
    pub command: Command,
    stdin: Option<Vec<u8>>,
}

impl Run {
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.command.arg(arg.into());
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.command.env(key, value.into());
        self
    }

    /// Runs the command in `dir` instead of the env's home.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir.as_ref());
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Unlocks with the env's passphrase file.
    pub fn passphrase(self) -> Self {
        let file = self
            .command
            .get_envs()
            .find(|(k, _)| *k == "HOME")
            .and_then(|(_, v)| v.map(|v| Path::new(v).join("passphrase")))
            .expect("HOME is set");
        self.env("VAULT_PASSPHRASE_FILE", file)
    }

    pub fn stdin(mut self, data: impl AsRef<[u8]>) -> Self {
        self.stdin = Some(data.as_ref().to_vec());
        self
    }

    pub fn run(mut self) -> Output {
        self.command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = self.command.spawn().expect("spawn vault");
        if let Some(data) = self.stdin.take() {
            let mut stdin = child.stdin.take().unwrap();
            // A command may refuse before reading its input.
            let _ = stdin.write_all(&data);
        }
        let out = child.wait_with_output().expect("wait for vault");
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            raw_stdout: out.stdout,
        }
    }
}

impl Run {
    /// Runs the command through `sh` with this umask, to prove that the
    /// modes vault gives its files do not depend on the user's umask.
    pub fn umask(mut self, mask: &str) -> Self {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("umask {mask}; exec \"$0\" \"$@\""))
            .arg(self.command.get_program())
            .args(self.command.get_args())
            .env_clear();
        for (key, value) in self.command.get_envs() {
            if let Some(value) = value {
                command.env(key, value);
            }
        }
        if let Some(dir) = self.command.get_current_dir() {
            command.current_dir(dir);
        }
        detach_from_the_terminal(&mut command);
        self.command = command;
        self
    }
}
