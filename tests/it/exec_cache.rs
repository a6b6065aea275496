//! exec's cache of a verified view (`vault::exec_cache`): a warm exec
//! reads it instead of the vault's rows, and never once the file changed,
//! however the change was made: an honest rotate, a Python `sqlite3`
//! script that puts the file's size and modification time back, an older
//! copy written over the file in place.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

use crate::support::Env;

const ROLLBACK_HINT: &str =
    "if you put an older copy back on purpose (a backup), run `vault trust accept`";

/// K granted to the machine identity ci; returns ci's token.
pub fn setup() -> (Env, String) {
    setup_granting(&[])
}

/// K granted to ci with `grant_options`.
fn setup_granting(grant_options: &[&str]) -> (Env, String) {
    let env = Env::init();
    env.add("K", "value-one");
    let token = env.add_machine("ci");
    let mut grant = vec!["grant", "K", "--to", "ci"];
    grant.extend_from_slice(grant_options);
    env.owner_runs(&grant);
    (env, token)
}

fn ci_sees_k(env: &Env, token: &str) -> crate::support::Run {
    env.vault(&["exec", "--mask", "never", "--", "printenv", "K"])
        .env("VAULT_ACCESS_TOKEN", token)
}

/// exec caches only a file whose last change is two seconds old.
pub fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(2_100));
}

fn cache_files(env: &Env) -> Vec<PathBuf> {
    let dir = env.path().join("xdg/vault/trust");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.extension()
            .is_some_and(|e| e.to_string_lossy().starts_with("exec-"))
    });
    files
}

/// The one cache file's inode: exec writes a new file (a new inode) each
/// time it makes the cache, so an unchanged inode means it was read.
fn cache_inode(env: &Env) -> u64 {
    let files = cache_files(env);
    assert_eq!(files.len(), 1, "{files:?}");
    std::fs::metadata(&files[0]).unwrap().ino()
}

fn python(script: &str, args: &[&std::ffi::OsStr]) {
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .status()
        .expect("python3");
    assert!(status.success());
}

#[test]
fn a_warm_exec_reads_the_cache_and_sees_a_rotation_at_once() {
    let (env, token) = setup();
    // A file changed a moment ago is not cached.
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-one\n");
    assert!(cache_files(&env).is_empty());
    settle();
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-one\n");
    let made = cache_inode(&env);
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-one\n");
    assert_eq!(cache_inode(&env), made, "the second run reads the cache");
    // Every run is in the exec log, cached or not.
    assert_eq!(env.exec_log().lines().count(), 3);

    let file = &cache_files(&env)[0];
    let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let bytes = std::fs::read(file).unwrap();
    assert!(!bytes.windows(9).any(|w| w == b"value-one"), "sealed");

    env.vault(&["rotate", "K"])
        .passphrase()
        .stdin("value-two")
        .run()
        .success();
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-two\n");
    settle();
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-two\n");
    let remade = cache_inode(&env);
    assert_ne!(remade, made, "made again from the rotated file");
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-two\n");
    assert_eq!(cache_inode(&env), remade);
}

#[test]
fn a_tampered_row_is_refused_though_size_and_mtime_were_put_back() {
    let (env, token) = setup();
    settle();
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-one\n");
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-one\n");
    let size = std::fs::metadata(&env.vault).unwrap().len();
    // The attacker flips one bit of K's sealed value in place, then puts
    // the file's times back as they were.
    python(
        "import os, sqlite3, sys\n\
         p = sys.argv[1]\n\
         st = os.stat(p)\n\
         c = sqlite3.connect(p)\n\
         v = bytearray(c.execute(\"SELECT sealed_value FROM secrets WHERE name = 'K'\").fetchone()[0])\n\
         v[-1] ^= 1\n\
         c.execute(\"UPDATE secrets SET sealed_value = ? WHERE name = 'K'\", (bytes(v),))\n\
         c.commit()\n\
         c.close()\n\
         os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))\n",
        &[env.vault.as_os_str()],
    );
    assert_eq!(std::fs::metadata(&env.vault).unwrap().len(), size);
    let out = ci_sees_k(&env, &token).run().fails(
        125,
        "trust check failed: the value of secret K does not match its signature by owner (it was changed in the file)",
        Some("someone changed the vault file outside vault: restore it from a copy you trust (`git log -p` on the file shows who changed it)"),
    );
    assert!(!out.stdout.contains("value-one"));
}

#[test]
fn an_older_copy_written_over_the_file_in_place_is_refused() {
    let (env, token) = setup();
    let old = tempfile::NamedTempFile::new().unwrap();
    std::fs::copy(&env.vault, old.path()).unwrap();
    env.vault(&["rotate", "K"])
        .passphrase()
        .stdin("value-two")
        .run()
        .success();
    settle();
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-two\n");
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-two\n");
    // Same inode, the old bytes, the current modification time.
    python(
        "import os, sys\n\
         p, old = sys.argv[1], sys.argv[2]\n\
         st = os.stat(p)\n\
         data = open(old, 'rb').read()\n\
         with open(p, 'r+b') as f:\n\
         \x20   f.write(data)\n\
         \x20   f.truncate()\n\
         os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))\n",
        &[env.vault.as_os_str(), old.path().as_os_str()],
    );
    ci_sees_k(&env, &token).run().fails(
        125,
        "trust check failed: secret K (generation 2 here, 3 seen before) went back since this clone last saw it (an older copy of the file was put back)",
        Some(ROLLBACK_HINT),
    );
}

#[test]
fn a_grant_that_expires_after_the_cache_was_made_ends_on_time() {
    let (env, token) = setup_granting(&["--expires", "5s"]);
    let granted = std::time::Instant::now();
    settle();
    let only_k = |env: &Env| {
        env.vault(&[
            "exec", "--mask", "never", "--only", "K", "--", "printenv", "K",
        ])
        .env("VAULT_ACCESS_TOKEN", &token)
    };
    only_k(&env).run().success().stdout_is("value-one\n");
    let made = cache_inode(&env);
    std::thread::sleep(std::time::Duration::from_secs(6).saturating_sub(granted.elapsed()));
    only_k(&env)
        .run()
        .fails(125, "the access of ci to K has expired", None);
    assert_eq!(cache_inode(&env), made, "decided from the cache");
}

#[test]
fn a_cache_that_does_not_open_is_made_again() {
    let (env, token) = setup();
    settle();
    ci_sees_k(&env, &token).run().success();
    let file = cache_files(&env).remove(0);
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    let broken = cache_inode(&env);
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-one\n");
    assert_ne!(cache_inode(&env), broken, "not used, and made again");
    // The owner's cache is its own: another identity's key opens nothing
    // of ci's, and each is made from its own view.
    let owner = || {
        env.vault(&["exec", "--mask", "never", "--", "printenv", "K"])
            .passphrase()
            .run()
            .success()
            .stdout_is("value-one\n")
    };
    owner();
    owner();
    assert_eq!(cache_files(&env).len(), 2);
}

/// `run` (a vault command of `env`, which prints `value-one`) under
/// strace: its system calls of `calls` (`openat,unlink`), one line each.
pub fn traced(env: &mut Env, calls: &str, run: impl Fn(&Env) -> crate::support::Run) -> String {
    let trace = env.path().join("open.trace");
    let filter = format!("trace={calls}");
    let prefix = ["strace", "-f", "-qq", "-e", &filter, "-o"]
        .map(std::ffi::OsString::from)
        .into_iter()
        .chain([trace.clone().into_os_string()])
        .collect();
    env.wrap(prefix);
    run(env).run().success().stdout_is("value-one\n");
    env.wrap(Vec::new());
    std::fs::read_to_string(&trace).unwrap()
}

fn traced_opens(env: &mut Env, token: &str) -> String {
    traced(env, "openat,unlink", |env| ci_sees_k(env, token))
}

/// Asserts that the traced run never connected to the vault: it only
/// checked the file and its side files, and appended to the exec log.
fn never_connected(env: &Env, opens: &str) {
    let db = env.vault.display().to_string();
    for line in opens.lines().filter(|l| l.contains(&db)) {
        assert!(
            line.contains("O_RDONLY") && !line.contains("O_CREAT") || line.contains("-exec\""),
            "{line}\n{opens}"
        );
        assert!(!line.contains("unlink"), "{line}");
    }
    assert!(
        opens.contains("-exec\""),
        "the run is in the exec log: {opens}"
    );
}

#[test]
fn a_warm_exec_never_connects_to_the_database() {
    let (mut env, token) = setup();
    settle();
    // The first run verifies and caches; the second reads the cache.
    ci_sees_k(&env, &token).run().success();
    ci_sees_k(&env, &token).run().success();
    let opens = traced_opens(&mut env, &token);
    never_connected(&env, &opens);
    assert_eq!(env.exec_log().lines().count(), 3);
    // Once the file changes, exec connects (and verifies) again.
    env.owner_runs(&["grant", "K", "--to", "ci", "--manage"]);
    let opens = traced_opens(&mut env, &token);
    let db = env.vault.display().to_string();
    assert!(
        opens.contains(&format!("{db}-wal\", O_RDWR|O_CREAT")),
        "{opens}"
    );
}

#[test]
fn a_person_named_with_as_runs_warm_too() {
    let (mut env, _) = setup();
    let owner = |env: &Env| {
        env.vault(&[
            "--as", "owner", "exec", "--mask", "never", "--", "printenv", "K",
        ])
        .passphrase()
    };
    settle();
    owner(&env).run().success();
    owner(&env).run().success();
    let opens = traced(&mut env, "openat,unlink", owner);
    never_connected(&env, &opens);
    // A name the vault does not have is refused as from the file.
    env.vault(&["--as", "nobody", "exec", "--", "true"])
        .passphrase()
        .run()
        .fails(
            125,
            "no identity named nobody",
            Some("`vault identity list` shows the identities"),
        );
}

#[test]
fn a_warm_exec_asked_for_what_it_may_not_use_says_so_as_a_cold_one_does() {
    let (env, token) = setup();
    env.add("OTHER", "other-value");
    let refused = |env: &Env| {
        env.vault(&["exec", "--only", "OTHER", "--", "true"])
            .env("VAULT_ACCESS_TOKEN", &token)
            .run()
            .fails(
                125,
                "identity ci cannot use OTHER: it has no access",
                Some("an identity that manages OTHER can grant it: `vault grant OTHER --to ci`"),
            )
    };
    let cold = refused(&env);
    settle();
    ci_sees_k(&env, &token).run().success();
    ci_sees_k(&env, &token).run().success();
    let warm = refused(&env);
    assert_eq!(cold.stderr, warm.stderr);
}

#[test]
fn a_damaged_warm_index_is_not_used() {
    let (env, token) = setup();
    settle();
    ci_sees_k(&env, &token).run().success();
    let dir = env.path().join("xdg/vault/trust");
    let index = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "warm"))
        .expect("a warm index");
    let bytes = std::fs::read(&index).unwrap();
    // Cut short, or with its vault id changed: either way the file is
    // opened as without an index, and the run sees the right value.
    std::fs::write(&index, &bytes[..bytes.len() / 2]).unwrap();
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-one\n");
    let mut bytes = std::fs::read(&index).unwrap();
    let at = b"vault warm open 3\n".len() + 4 + 56 + 1 + 4;
    bytes[at] ^= 0xff;
    std::fs::write(&index, &bytes).unwrap();
    ci_sees_k(&env, &token)
        .run()
        .success()
        .stdout_is("value-one\n");
}

#[test]
fn each_environment_has_its_own_cache() {
    let (env, token) = setup();
    env.vault(&["add", "K", "--environment", "prod"])
        .passphrase()
        .stdin("value-prod")
        .run()
        .success();
    env.owner_runs(&["grant", "K", "--to", "ci", "--environment", "prod"]);
    let sees = |environment: Option<&str>| {
        let mut args = vec!["exec", "--mask", "never"];
        if let Some(e) = environment {
            args.extend(["--environment", e]);
        }
        args.extend(["--", "printenv", "K"]);
        env.vault(&args)
            .env("VAULT_ACCESS_TOKEN", &token)
            .run()
            .success()
            .stdout
    };
    settle();
    for _ in 0..3 {
        assert_eq!(sees(None), "value-one\n");
        assert_eq!(sees(Some("prod")), "value-prod\n");
        assert_eq!(sees(Some("dev")), "value-one\n", "dev has no K of its own");
    }
    assert_eq!(cache_files(&env).len(), 3);
}

#[test]
fn a_token_pinning_another_root_is_refused_on_a_warm_clone_too() {
    let (env, token) = setup();
    settle();
    ci_sees_k(&env, &token).run().success();
    ci_sees_k(&env, &token).run().success();
    let forged = crate::support::with_another_pin(&token);
    let out = ci_sees_k(&env, &forged).run().code(125);
    crate::support::refused_for_its_pin(&out);
}

#[test]
fn after_a_rekey_the_identity_runs_warm_with_its_new_key() {
    let (mut env, _) = setup();
    let owner = |env: &Env| {
        env.vault(&["exec", "--mask", "never", "--", "printenv", "K"])
            .passphrase()
    };
    settle();
    owner(&env).run().success();
    owner(&env).run().success();
    let before = cache_inode(&env);
    // The same passphrase again, in a file of its own: a new key pair.
    let same = env.path().join("same-passphrase");
    std::fs::copy(&env.passphrase_file, &same).unwrap();
    env.vault(&["passwd", "--rekey", "--new-passphrase-file"])
        .arg(&same)
        .passphrase()
        .run()
        .success();
    settle();
    owner(&env).run().success();
    assert_ne!(cache_inode(&env), before, "made again under the new key");
    let opens = traced(&mut env, "openat,unlink", owner);
    never_connected(&env, &opens);
}
