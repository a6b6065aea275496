//! One command's context: which vault file, which identity, and how to
//! unlock it, read from the options and the environment once, at the start.
//!
//! Unlocking follows the documented order: an access token
//! (`VAULT_ACCESS_TOKEN`), a cached key in the OS keyring, a passphrase from
//! `--passphrase-file`, `VAULT_PASSPHRASE_FILE` or `VAULT_PASSPHRASE`, a
//! hidden prompt on the terminal (`/dev/tty`, also when stdin is a pipe);
//! otherwise a clear error at once.
//!
//! A passphrase typed at the prompt leaves the unlocked key in the unlock
//! cache for `DEFAULT_TTL_SECS`; a scripted passphrase does not (scripts say
//! so with `vault unlock`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::cli::Global;
use crate::crypto::{AccessToken, KdfParams, TokenMalformed};
use crate::env;
use crate::error::{Error, Result};
use crate::keycache::{CacheScope, KeyCache, KeyringCache, NoCache, DEFAULT_TTL_SECS};
use crate::manifest::{Locate, Manifest};
use crate::model::IdentityKind;
use crate::secret::Passphrase;
use crate::terminal;
use crate::vault::{Credential, Identity, Unlocked, Vault};

/// How many times a terminal user may retype a wrong passphrase.
const PROMPT_ATTEMPTS: usize = 3;

pub struct Session {
    pub vault_path: PathBuf,
    pub identity: Option<String>,
    passphrase_file: Option<PathBuf>,
    passphrase: Option<Zeroizing<String>>,
    token: Option<Zeroizing<String>>,
    /// The environment vault started with, for `exec`'s child.
    pub env: Vec<(OsString, OsString)>,
    pub cache: Box<dyn KeyCache>,
    /// False when the user turned the cache off: then it stays silent.
    cache_on: bool,
    /// The project's manifest, when there is one (`vault.toml`).
    pub manifest: Option<Manifest>,
    /// `VAULT_ENVIRONMENT` (see `project.rs`).
    pub(crate) environment: Option<String>,
}

/// Whether `vault unlock` kept the key now or found it kept long enough.
#[derive(PartialEq, Eq)]
pub enum Kept {
    Now,
    Already,
}

/// How a command was unlocked.
#[derive(PartialEq, Eq)]
enum How {
    Token,
    Cache,
    Scripted,
    Prompt,
}

impl Session {
    /// Reads the options and the environment: the one place where vault
    /// reads its own environment variables. An option wins over its
    /// variable; an empty variable counts as unset.
    /// `exec`: a manifest's patterns are checked when exec needs them,
    /// not when it is read.
    pub fn new(global: &Global, exec: bool) -> Result<Session> {
        let data_dir = dirs::data_dir();
        let how = Locate::from_options(global.no_manifest, global.manifest.clone());
        let manifest = Manifest::locate(how, data_dir.as_deref())?;
        if let Some(manifest) = manifest.as_ref().filter(|_| !exec) {
            manifest.check_patterns()?;
        }
        // An option or variable wins over the manifest's vault, which wins
        // over the default.
        let vault_path = match global
            .vault
            .clone()
            .or_else(|| env::var(env::PATH).map(PathBuf::from))
            .or_else(|| manifest.as_ref().and_then(|m| m.vault.clone()))
        {
            Some(path) => path,
            None => default_vault_path()?,
        };
        let off = if global.no_keyring {
            Some("the unlock cache is off (--no-keyring)")
        } else if env::var(env::NO_KEYRING).is_some_and(|v| v != "0") {
            Some("the unlock cache is off (VAULT_NO_KEYRING is set)")
        } else {
            None
        };
        let cache: Box<dyn KeyCache> = match off {
            Some(why) => Box::new(NoCache(why)),
            None => Box::new(KeyringCache),
        };
        Ok(Session {
            vault_path,
            identity: global
                .as_identity
                .clone()
                .or_else(|| env::var(env::IDENTITY))
                .filter(|s| !s.is_empty()),
            passphrase_file: global
                .passphrase_file
                .clone()
                .or_else(|| env::var(env::PASSPHRASE_FILE).map(PathBuf::from)),
            passphrase: env::var(env::PASSPHRASE).map(Zeroizing::new),
            token: env::var(env::ACCESS_TOKEN).map(Zeroizing::new),
            env: std::env::vars_os().collect(),
            cache,
            cache_on: off.is_none(),
            manifest,
            environment: env::var(env::ENVIRONMENT),
        })
    }

    /// Opens the vault. An identity asked for (`--as`, `VAULT_IDENTITY`)
    /// must exist, also for commands that never unlock (`list`, `audit`):
    /// a misspelt `--as` is an error everywhere, not only where it unlocks.
    pub fn open(&self) -> Result<Vault> {
        self.open_as(false)
    }

    /// Opens the vault; for exec, without connecting to it while this
    /// clone's warm index holds what exec needs (`vault::warm`).
    pub fn open_as(&self, exec: bool) -> Result<Vault> {
        let vault = match exec {
            true => Vault::open_for_exec(&self.vault_path, dirs::data_dir().as_deref())?,
            false => Vault::open(&self.vault_path)?,
        };
        warn_permissions(vault.path());
        let token_pin = self
            .token
            .as_deref()
            .and_then(|t| AccessToken::parse(t).ok())
            .and_then(|t| t.pin());
        if let Some(data) = dirs::data_dir() {
            vault.use_local_state(&data, token_pin);
        }
        if let Some(name) = &self.identity {
            vault.identity(Some(name))?;
        }
        Ok(vault)
    }

    /// Argon2id parameters for a new passphrase. Debug builds honour
    /// `VAULT_TEST_KDF=floor` so tests stay fast; release builds ignore it.
    pub fn new_kdf_params(&self) -> KdfParams {
        if cfg!(debug_assertions) && env::var(env::TEST_KDF).as_deref() == Some("floor") {
            KdfParams::FLOOR
        } else {
            KdfParams::DEFAULT
        }
    }

    /// Unlocks the identity this command acts as. A passphrase typed at
    /// the terminal leaves the key in the unlock cache for a while.
    pub fn unlock(&self, vault: &Vault) -> Result<Unlocked> {
        let (unlocked, how) = self.unlock_by(vault, true)?;
        if how == How::Prompt && self.cache_on {
            let scope = cache_scope(vault, unlocked.id());
            if let Err(why) = self
                .cache
                .put(&scope, unlocked.secret_key_bytes(), DEFAULT_TTL_SECS)
            {
                if first_time_in_this_terminal_session("no-keyring") {
                    eprintln!("warning: the unlocked key is not kept for the next command: {why}");
                }
            }
        }
        Ok(unlocked)
    }

    /// Unlocks with the passphrase (or token) itself, never from the
    /// cache: for `vault passwd`, so that nobody at a terminal left
    /// unlocked can change the passphrase without knowing it.
    pub fn unlock_uncached(&self, vault: &Vault) -> Result<Unlocked> {
        self.unlock_by(vault, false).map(|(unlocked, _)| unlocked)
    }

    /// `vault unlock`: unlocks anew, never from the cache, from any
    /// passphrase source, and keeps the key for `ttl_secs`. Returns the
    /// unlocked identity and when its cached key expires.
    pub fn unlock_and_keep(&self, vault: &Vault, ttl_secs: i64) -> Result<(Unlocked, i64, Kept)> {
        if self.token.is_some() {
            return Err(Error::Usage(format!(
                "{} is set: a machine identity unlocks at once and needs no cache",
                env::ACCESS_TOKEN
            )));
        }
        // Ask for no passphrase when the key could not be kept anyway.
        self.cache.status().map_err(Error::CacheUnavailable)?;
        // A key already cached for at least as long is kept as it is:
        // neither asked for again nor cut short. A longer time asks anew.
        let identity = vault.identity(self.identity.as_deref())?;
        let scope = cache_scope(vault, identity.id());
        if let Some(cached) = self.cache.get(&scope) {
            if cached.expires >= crate::time::now() + ttl_secs {
                if let Ok(unlocked) =
                    vault.unlock(&identity, Credential::CachedKey(&cached.key[..]))
                {
                    return Ok((unlocked, cached.expires, Kept::Already));
                }
            }
        }
        let (unlocked, _) = self.unlock_by(vault, false)?;
        let scope = cache_scope(vault, unlocked.id());
        let expires = self
            .cache
            .put(&scope, unlocked.secret_key_bytes(), ttl_secs)
            .map_err(Error::CacheUnavailable)?;
        Ok((unlocked, expires, Kept::Now))
    }

    fn unlock_by(&self, vault: &Vault, use_cache: bool) -> Result<(Unlocked, How)> {
        if let Some(text) = &self.token {
            return Ok((self.unlock_with_token(vault, text)?, How::Token));
        }
        let identity = vault.identity(self.identity.as_deref())?;
        if identity.kind() != IdentityKind::Person {
            return Err(Error::Usage(format!(
                "identity {} unlocks with an access token: set {}",
                identity.name(),
                env::ACCESS_TOKEN
            )));
        }
        let scope = cache_scope(vault, identity.id());
        if let Some(cached) = use_cache.then(|| self.cache.get(&scope)).flatten() {
            // A key that no longer opens this identity is dropped, and the
            // user is asked as if nothing had been cached.
            match vault.unlock(&identity, Credential::CachedKey(&cached.key[..])) {
                Ok(unlocked) => return Ok((unlocked, How::Cache)),
                Err(_) => {
                    self.cache.remove(&scope);
                }
            }
        }
        if let Some(passphrase) = self.scripted_passphrase()? {
            let unlocked = vault.unlock(&identity, Credential::Passphrase(&passphrase))?;
            return Ok((unlocked, How::Scripted));
        }
        if !terminal::has_terminal() {
            return Err(Error::NoPassphrase(identity.name().to_owned()));
        }
        Ok((self.unlock_at_prompt(vault, &identity)?, How::Prompt))
    }

    /// The identity the next command acts as, without unlocking: the
    /// token's when `VAULT_ACCESS_TOKEN` is set (for `vault status`).
    pub fn identity_of(&self, vault: &Vault) -> Result<Identity> {
        match &self.token {
            Some(text) => {
                let token = AccessToken::parse(text)
                    .map_err(|_| Error::Usage(format!("{} is malformed", env::ACCESS_TOKEN)))?;
                vault.identity_for_token(&token)
            }
            None => vault.identity(self.identity.as_deref()),
        }
    }

    /// Whether `VAULT_ACCESS_TOKEN` is set (for `vault status`).
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Where a scripted passphrase would come from, if anywhere (for
    /// `vault status`; never the passphrase itself).
    pub fn passphrase_source(&self) -> Option<String> {
        match (&self.passphrase_file, &self.passphrase) {
            (Some(path), _) => Some(format!("the passphrase file {}", path.display())),
            (None, Some(_)) => Some(env::PASSPHRASE.to_owned()),
            (None, None) => None,
        }
    }

    fn unlock_with_token(&self, vault: &Vault, text: &str) -> Result<Unlocked> {
        let token = AccessToken::parse(text).map_err(|m| {
            let why = match m {
                TokenMalformed::Prefix => "it does not start with vtk1_",
                TokenMalformed::Length => "it has the wrong length (truncated?)",
                TokenMalformed::NotHex => "it contains characters a token never has",
            };
            Error::MalformedToken(why)
        })?;
        let identity = vault.identity_for_token(&token)?;
        if let Some(asked) = &self.identity {
            if asked != identity.name() {
                return Err(Error::TokenIdentityMismatch {
                    token: identity.name().to_owned(),
                    asked: asked.clone(),
                });
            }
        }
        vault.unlock(&identity, Credential::Token(&token))
    }

    fn unlock_at_prompt(&self, vault: &Vault, identity: &Identity) -> Result<Unlocked> {
        let prompt = format!("Passphrase for {}: ", identity.name());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let passphrase = Passphrase::new(terminal::prompt_hidden(&prompt)?);
            match vault.unlock(identity, Credential::Passphrase(&passphrase)) {
                Err(Error::WrongPassphrase(_)) if attempt < PROMPT_ATTEMPTS => {
                    eprintln!("wrong passphrase, try again");
                }
                other => return other,
            }
        }
    }

    /// A passphrase given by a script: `--passphrase-file`,
    /// `VAULT_PASSPHRASE_FILE`, then `VAULT_PASSPHRASE`.
    fn scripted_passphrase(&self) -> Result<Option<Passphrase>> {
        if let Some(path) = &self.passphrase_file {
            return read_passphrase_file(path).map(Some);
        }
        Ok(self
            .passphrase
            .as_ref()
            .map(|p| Passphrase::new(Zeroizing::new(p.as_bytes().to_vec()))))
    }

    /// The passphrase for a new identity: `file` if given, else the
    /// session's scripted passphrase (for `init` only), else asked twice.
    pub fn new_passphrase(
        &self,
        file: Option<&Path>,
        use_scripted: bool,
        who: &str,
    ) -> Result<Passphrase> {
        let given = match file {
            Some(path) => Some(read_passphrase_file(path)?),
            None if use_scripted => self.scripted_passphrase()?,
            None => None,
        };
        let passphrase = match given {
            Some(p) => p,
            None if terminal::has_terminal() => new_passphrase_at_prompt(who)?,
            None => return Err(Error::NoPassphrase(who.to_owned())),
        };
        if passphrase.is_empty() {
            return Err(Error::EmptyPassphrase);
        }
        warn_if_short(&passphrase);
        Ok(passphrase)
    }
}

/// Whether this is the first time in this terminal session (the login or
/// terminal window, by its session id) that vault gives the note `what`:
/// a note that cannot change until the user acts is said once, not after
/// every prompt. The mark is an empty file in the runtime directory; when
/// it cannot be written the note is given every time.
fn first_time_in_this_terminal_session(what: &str) -> bool {
    let Ok(sid) = nix::unistd::getsid(None) else {
        return true;
    };
    let dir = dirs::runtime_dir().unwrap_or_else(std::env::temp_dir);
    first_time(
        &dir,
        &format!("{}-noted-{what}-{sid}", nix::unistd::getuid()),
    )
}

/// Creates the mark `vault-NAME` in `dir` unless it is there already.
fn first_time(dir: &Path, name: &str) -> bool {
    let mark = dir.join(format!("vault-{name}"));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(mark)
    {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::AlreadyExists,
    }
}

/// A passphrase shorter than this earns a warning (not a refusal: the
/// user may know better, and a script's file may be what it is).
const SHORT_PASSPHRASE: usize = 12;

/// Asks for a new passphrase twice, and again when the two differ, up to
/// `PROMPT_ATTEMPTS` times.
fn new_passphrase_at_prompt(who: &str) -> Result<Passphrase> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match terminal::prompt_hidden_twice(&format!("New passphrase for {who}: "), "Repeat it: ") {
            Err(Error::PassphraseMismatch) if attempt < PROMPT_ATTEMPTS => {
                eprintln!("the passphrases do not match, try again");
            }
            other => return other.map(Passphrase::new),
        }
    }
}

fn warn_if_short(passphrase: &Passphrase) {
    // Counted in place: no copy of the passphrase is made.
    let bytes = passphrase.expose();
    let chars = std::str::from_utf8(bytes).map_or(bytes.len(), |s| s.chars().count());
    if chars < SHORT_PASSPHRASE {
        eprintln!(
            "warning: this passphrase has only {chars} characters; one of {SHORT_PASSPHRASE} or more \
             (several words) resists guessing far better"
        );
    }
}

/// What a cache entry for this identity of this vault is bound to.
pub fn cache_scope<'a>(vault: &'a Vault, identity_id: &'a [u8; 16]) -> CacheScope<'a> {
    CacheScope {
        vault_path: vault.path(),
        vault_id: vault.id(),
        identity_id,
    }
}

/// Reads a passphrase file: its first line, without the line ending.
fn read_passphrase_file(path: &Path) -> Result<Passphrase> {
    let bytes = Zeroizing::new(
        std::fs::read(path).map_err(|e| Error::io("read the passphrase file", path, e))?,
    );
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Err(Error::EmptyPassphraseFile(path.to_owned()));
    }
    Ok(Passphrase::new(Zeroizing::new(line.to_vec())))
}

/// `dirs::data_dir()/vault/vault.db`.
pub(crate) fn default_vault_path() -> Result<PathBuf> {
    dirs::data_dir()
        .map(|d| d.join("vault").join("vault.db"))
        .ok_or_else(|| {
            Error::Usage(format!(
                "cannot find a data directory for the vault: pass --vault PATH or set {}",
                env::PATH
            ))
        })
}

/// Warns, as ssh does, when others can read the vault file or write its
/// directory.
pub fn warn_permissions(path: &Path) {
    for p in crate::store::check_permissions(path) {
        eprintln!(
            "warning: {} is accessible by others (mode {:04o}); run: chmod {:o} {}",
            p.path.display(),
            p.mode,
            p.want,
            p.path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_given_once_per_mark() {
        let dir = tempfile::tempdir().unwrap();
        assert!(first_time(dir.path(), "0-noted-x-42"));
        assert!(!first_time(dir.path(), "0-noted-x-42"));
        assert!(first_time(dir.path(), "0-noted-x-43"));
        // Where no mark can be written, the note is given every time.
        let missing = dir.path().join("missing");
        assert!(first_time(&missing, "0-noted-x-42"));
        assert!(first_time(&missing, "0-noted-x-42"));
    }
}
