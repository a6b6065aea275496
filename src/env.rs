//! The environment variables vault reads, in one place.
//!
//! Names avoid every variable HashiCorp Vault's CLI documents (`VAULT_TOKEN`,
//! `VAULT_ADDR`, `VAULT_NAMESPACE`, ...): many users have both tools.

/// Another vault file than the default.
pub const PATH: &str = "VAULT_PATH";
/// The identity to act as.
pub const IDENTITY: &str = "VAULT_IDENTITY";
/// A machine identity's access token.
pub const ACCESS_TOKEN: &str = "VAULT_ACCESS_TOKEN";
/// A passphrase, for scripts.
pub const PASSPHRASE: &str = "VAULT_PASSPHRASE";
/// A file holding the passphrase, for scripts.
pub const PASSPHRASE_FILE: &str = "VAULT_PASSPHRASE_FILE";
/// `1` turns the keyring unlock cache off.
pub const NO_KEYRING: &str = "VAULT_NO_KEYRING";
/// The environment (`dev`, `prod`...) commands act in.
pub const ENVIRONMENT: &str = "VAULT_ENVIRONMENT";
/// The project's manifest, instead of looking for `vault.toml`.
pub const MANIFEST: &str = "VAULT_MANIFEST";
/// Set to `1` in the environment of `exec`'s child.
pub const EXEC_MARKER: &str = "VAULT_EXEC";
/// Set by the completion scripts when they ask vault for candidates
/// (`VAULT_COMPLETE=bash vault -- vault rotate ST`).
pub const COMPLETE: &str = "VAULT_COMPLETE";
/// Debug builds only: `floor` makes new passphrases use the cheapest allowed
/// Argon2id parameters, so the test suite stays fast. Release builds ignore it.
pub const TEST_KDF: &str = "VAULT_TEST_KDF";
/// Debug builds only: `1` makes opening a pseudo-terminal fail, so the test
/// suite can prove that error. Release builds ignore it.
pub const TEST_NO_PTY: &str = "VAULT_TEST_NO_PTY";

/// Set by CI services (GitHub Actions, GitLab, CircleCI, Buildkite, ...):
/// with `--mask auto`, exec masks at a terminal too. Not vault's own.
pub const CI: &str = "CI";

/// Variables that unlock a vault: never passed to a child.
pub const UNLOCKING: &[&str] = &[ACCESS_TOKEN, PASSPHRASE, PASSPHRASE_FILE];

/// Every variable vault itself reads or sets; none may name a secret.
pub const ALL: &[&str] = &[
    PATH,
    IDENTITY,
    ACCESS_TOKEN,
    PASSPHRASE,
    PASSPHRASE_FILE,
    NO_KEYRING,
    ENVIRONMENT,
    MANIFEST,
    EXEC_MARKER,
    COMPLETE,
    TEST_KDF,
    TEST_NO_PTY,
];

pub fn is_vault_variable(name: &str) -> bool {
    ALL.contains(&name)
}

/// Reads a variable, treating an empty value as unset.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
