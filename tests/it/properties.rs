//! Property tests (a fuzzer's job, run on every `cargo test`) for every
//! parser of input a user or a file controls: secret and identity names,
//! durations and dates, access tokens, and opening a mutated vault file.
//!
//! A longer run: `PROPTEST_CASES=20000 cargo test --release --test it properties`.

use proptest::prelude::*;
use zeroize::Zeroizing;

use vault::crypto::{AccessToken, KdfParams};
use vault::model::{IdentityName, SecretName};
use vault::secret::{Passphrase, SecretValue};
use vault::vault::{Credential, NewSecret, Vault};

fn env_name_regex(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 255
}

proptest! {
    #[test]
    fn secret_names_accept_exactly_env_names(s in "\\PC{0,40}|[A-Za-z_][A-Za-z0-9_]{0,20}") {
        match SecretName::parse(&s, true) {
            Ok(name) => {
                prop_assert!(env_name_regex(&s));
                prop_assert_eq!(name.as_str(), s.as_str());
            }
            Err(_) => prop_assert!(!env_name_regex(&s) || vault::env::is_vault_variable(&s)),
        }
        if SecretName::parse(&s, false).is_ok() {
            prop_assert!(vault::model::name_danger(&s).is_none_or(|d| !d.class.refused()));
        }
    }

    #[test]
    fn identity_names_never_panic(s in "\\PC{0,80}") {
        if let Ok(name) = IdentityName::parse(&s) {
            prop_assert!(name.as_str().chars().count() <= 64);
            prop_assert!(!name.as_str().contains(char::is_whitespace));
        }
    }

    #[test]
    fn durations_and_dates_never_panic(s in "\\PC{0,30}|[0-9]{1,25}[smhdwy]([0-9]{1,5}[smhdwy])?|[0-9]{4}-[0-9]{2}-[0-9]{2}") {
        let now = 1_800_000_000;
        if let Ok(secs) = vault::time::parse_duration(&s) {
            prop_assert!(secs > 0);
        }
        if let Ok(at) = vault::time::parse_when(&s, now) {
            prop_assert!(at > now);
            prop_assert!(vault::time::format(at).ends_with('Z'));
        }
    }

    #[test]
    fn durations_add_up(n in 1i64..100_000, unit in prop::sample::select(vec![('s', 1i64), ('m', 60), ('h', 3600), ('d', 86_400), ('w', 604_800)])) {
        prop_assert_eq!(vault::time::parse_duration(&format!("{n}{}", unit.0)), Ok(n * unit.1));
    }

    #[test]
    fn tokens_never_panic_and_round_trip(s in "\\PC{0,120}|vtk1_[0-9a-f]{32}_[0-9a-fA-Fg]{60,68}", id in any::<[u8; 16]>()) {
        let _ = AccessToken::parse(&s);
        let token = AccessToken::generate(id);
        let parsed = AccessToken::parse(&token.encode()).unwrap();
        prop_assert_eq!(parsed.identity_id(), id);
        let (a, b) = (parsed.unlock_key(), token.unlock_key());
        prop_assert_eq!(a.expose(), b.expose());
    }
}

/// A vault file's bytes and the (name, value) pairs it holds.
type Pristine = (Vec<u8>, Vec<(String, String)>);

/// A small vault file, built once, and the values it holds.
fn pristine() -> &'static Pristine {
    static CELL: std::sync::OnceLock<Pristine> = std::sync::OnceLock::new();
    CELL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let passphrase = Passphrase::new(Zeroizing::new(b"pw".to_vec()));
        let owner = IdentityName::parse("owner").unwrap();
        let vault = Vault::init(&path, &owner, &passphrase, KdfParams::FLOOR).unwrap();
        let me = vault
            .unlock(
                &vault.identity(None).unwrap(),
                Credential::Passphrase(&passphrase),
            )
            .unwrap();
        let values: Vec<(String, String)> = (0..3)
            .map(|i| (format!("K{i}"), format!("value-{i}")))
            .collect();
        let secrets = values
            .iter()
            .map(|(n, v)| NewSecret {
                name: SecretName::parse(n, false).unwrap(),
                value: SecretValue::new(Zeroizing::new(v.as_bytes().to_vec())),
                service: None,
                description: None,
                expires_at: None,
                rotate_every: None,
            })
            .collect();
        vault.add_many(&me, secrets).unwrap();
        drop(vault);
        // Fold the WAL into the file, so the file alone is the vault.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
            .unwrap();
        drop(conn);
        (std::fs::read(&path).unwrap(), values)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Opening a damaged vault gives an error or the true values: never a
    /// panic, never a wrong value.
    #[test]
    fn a_mutated_vault_file_never_yields_a_wrong_value(
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..6),
        truncate in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let (bytes, values) = pristine();
        let mut bytes = bytes.clone();
        for (at, mask) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        }
        if let Some(at) = truncate {
            bytes.truncate(at.index(bytes.len()));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        std::fs::write(&path, &bytes).unwrap();
        let passphrase = Passphrase::new(Zeroizing::new(b"pw".to_vec()));
        let Ok(vault) = Vault::open(&path) else { return Ok(()) };
        let _ = vault.list(None);
        let Ok(identity) = vault.identity(None) else { return Ok(()) };
        let Ok(me) = vault.unlock(&identity, Credential::Passphrase(&passphrase)) else { return Ok(()) };
        let names: Vec<SecretName> = values
            .iter()
            .map(|(n, _)| SecretName::parse(n, false).unwrap())
            .collect();
        let Ok(grants) = vault.grants(&me) else { return Ok(()) };
        if let Ok((opened, _)) = vault.decrypt(&me, grants, &names) {
            for secret in opened {
                let expected = values.iter().find(|(n, _)| n == secret.name.as_str());
                let expected = expected.map(|(_, v)| v.as_bytes());
                prop_assert_eq!(Some(secret.value.expose()), expected);
            }
        }
    }
}
