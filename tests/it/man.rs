//! The shipped completion scripts and manual pages: current with the
//! binary, lint clean, and readable with man(1).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::Env;

const REGENERATE: &str = "cargo run -- generate-assets .";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file of `dir/completions` and `dir/man`, by relative path.
fn assets(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for sub in ["completions", "man"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
            files.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    files
}

#[test]
fn shipped_scripts_and_pages_match_the_binary() {
    let env = Env::new();
    let out = env.path().join("generated");
    env.vault(&["generate-assets", out.to_str().unwrap()])
        .run()
        .success()
        .stdout_has("completion scripts to");
    let generated = assets(&out);
    let shipped = assets(&repo());
    let stale: BTreeSet<&String> = generated
        .keys()
        .chain(shipped.keys())
        .filter(|name| generated.get(*name) != shipped.get(*name))
        .collect();
    assert!(
        stale.is_empty(),
        "completions/ and man/ differ from what this vault generates ({stale:?}); \
         regenerate them with `{REGENERATE}` and commit the result"
    );
    assert!(generated.contains_key("man/vault-identity-add.1"));
    assert!(!generated.keys().any(|n| n.contains("generate-assets")));
}

#[test]
fn vault_completions_prints_the_shipped_script() {
    let env = Env::new();
    for (shell, file) in [
        ("bash", "vault.bash"),
        ("zsh", "_vault"),
        ("fish", "vault.fish"),
        ("elvish", "vault.elv"),
        ("powershell", "_vault.ps1"),
    ] {
        let shipped = std::fs::read_to_string(repo().join("completions").join(file)).unwrap();
        env.vault(&["completions", shell])
            .run()
            .success()
            .stdout_is(&shipped);
    }
}

/// Fails the test unless a tool is installed (scripts/test.sh installs
/// mandoc and man-db, which brings groff): a check never passes by
/// skipping.
fn need(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is not installed (scripts/test.sh installs it)"
    );
}

fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(repo().join("man"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    assert!(pages.len() > 10, "man/ holds {} pages", pages.len());
    pages
}

#[test]
fn pages_are_lint_clean() {
    need("mandoc");
    need("groff");
    for page in pages() {
        let out = Command::new("mandoc")
            .args(["-T", "lint"])
            .arg(&page)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(report, "", "mandoc -T lint {}", page.display());
        let out = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(&page)
            .output()
            .unwrap();
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert_eq!(warnings, "", "groff warnings for {}", page.display());
    }
}

#[test]
fn man_shows_the_main_page_with_statuses_environment_and_files() {
    need("man");
    let out = Command::new("man")
        .arg("-l")
        .arg(repo().join("man/vault.1"))
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("LANG", "C.UTF-8")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "man -l failed: {out:?}");
    for part in [
        "NAME",
        "An encrypted local vault",
        "EXIT STATUS",
        "125 when vault",
        "ENVIRONMENT",
        "VAULT_PASSPHRASE_FILE",
        "FILES",
        "$XDG_DATA_HOME/vault/vault.db",
        "SEE ALSO",
        "vault-identity(1)",
    ] {
        assert!(text.contains(part), "man vault lacks {part:?}:\n{text}");
    }
}

#[test]
fn nested_subcommands_have_their_own_page() {
    let page = std::fs::read_to_string(repo().join("man/vault-identity-add.1")).unwrap();
    for part in [
        ".TH VAULT-IDENTITY-ADD 1 ",
        concat!("\"vault ", env!("CARGO_PKG_VERSION"), "\""),
        "vault\\-identity\\-add \\- Add a person",
        "\\-\\-token",
        ".BR vault (1)",
    ] {
        assert!(page.contains(part), "vault-identity-add.1 lacks {part:?}");
    }
}

/// Every command's page has EXAMPLES; long help never lands under
/// clap_mangen's EXTRA; every JSON shape is in its page (an installed page
/// cannot point at the README); exec's synopsis is its usage line.
#[test]
fn pages_have_examples_json_shapes_and_standard_headings() {
    for page in pages() {
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&page).unwrap();
        assert!(!text.contains(".SH EXTRA"), "{name} has an EXTRA section");
        let has_subcommands =
            ["vault.1", "vault-identity.1", "vault-git.1"].contains(&name.as_str());
        let plumbing =
            ["vault-git-textconv.1", "vault-git-merge.1", "vault-lock.1"].contains(&name.as_str());
        if !has_subcommands && !plumbing {
            assert!(text.contains(".SH \"EXAMPLES\""), "{name} has no EXAMPLES");
        }
    }
    for (page, shape) in [
        ("vault-list.1", "\"rotation_overdue\""),
        ("vault-identity-list.1", "\"identities\""),
        ("vault-audit.1", "detail is an"),
        ("vault-status.1", "\"unlock_methods\""),
        ("vault-exec.1", "\"refused\""),
    ] {
        let text = std::fs::read_to_string(repo().join("man").join(page)).unwrap();
        assert!(
            text.contains(".SH \"JSON OUTPUT\""),
            "{page} has no JSON OUTPUT"
        );
        assert!(text.contains(shape), "{page} lacks {shape}");
    }
    let exec = std::fs::read_to_string(repo().join("man/vault-exec.1")).unwrap();
    assert!(
        exec.contains(".SH SYNOPSIS\nvault exec [OPTIONS] \\-\\- COMMAND [ARGS]...\n"),
        "{exec}"
    );
    assert!(exec.contains(".SH \"EXIT STATUS\"\n.TP\n\\fBN\\fR\nthe command's own status\n"));
}

#[test]
fn long_help_shows_examples_and_global_options_apart() {
    let env = Env::new();
    let out = env.vault(&["add", "--help"]).run().success();
    assert!(
        out.stdout.contains(
            "Examples:\n  vault add STRIPE_KEY --service stripe --expires 90d\n      Asks for the value twice, without echo.\n"
        ),
        "{}",
        out.stdout
    );
    let global = out
        .stdout
        .find("Global options:\n")
        .expect("Global options");
    assert!(out.stdout[global..].contains("--passphrase-file"));
    assert!(!out.stdout[..global].contains("--passphrase-file"));
    let out = env.vault(&["exec", "--help"]).run().success();
    assert!(out
        .stdout
        .contains("Usage: vault exec [OPTIONS] -- COMMAND [ARGS]...\n"));
    // The default path is this platform's own.
    let default = env.path().join("xdg").join("vault").join("vault.db");
    assert!(
        out.stdout
            .contains(&format!("[default: {}]", default.display())),
        "{}",
        out.stdout
    );
}
