//! `vault exec`'s usual command lines, read without clap (part of `cli`).
//!
//! exec runs before every script a user or a CI job starts, and clap's
//! parse was a tenth of its whole cost: building the command tree and its
//! matcher, and touching that much code for the first time. [`parse`]
//! reads the shapes exec is written in (global options, exec's options as
//! `--name value` or `--name=value`, `-s SERVICE`, then `--` and the
//! program) and gives up, returning `None`, on anything else: help,
//! version, a value that begins with `-`, an option given twice that takes
//! one value, a line without `--`... clap then parses the line, with its
//! own messages. A property test checks that every line this accepts, clap
//! parses to the same [`Cli`]. An option added to exec only in `cli/exec.rs`
//! is simply left to clap.

use std::ffi::OsString;
use std::path::PathBuf;

use super::{Cli, Command, ExecArgs, Global, MaskMode};

/// The exec command line `args` (program name first), or `None` for clap.
pub fn parse(args: &[OsString]) -> Option<Cli> {
    let mut global = Global {
        vault: None,
        as_identity: None,
        passphrase_file: None,
        no_keyring: false,
        manifest: None,
        no_manifest: false,
    };
    let mut exec = ExecArgs {
        only: Vec::new(),
        service: Vec::new(),
        rename: Vec::new(),
        environment: None,
        file: Vec::new(),
        render: Vec::new(),
        clean_env: false,
        no_override: false,
        mask: MaskMode::Auto,
        allow_expired: false,
        allow_dangerous: Vec::new(),
        reason: None,
        explain: false,
        json: false,
        command: Vec::new(),
    };
    let mut mask = None;
    let mut in_exec = false;
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        if in_exec && word == "--" {
            exec.command = words.cloned().collect();
            if exec.command.is_empty() {
                return None;
            }
            exec.mask = mask.unwrap_or(MaskMode::Auto);
            return Some(Cli {
                global,
                command: Command::Exec(exec),
            });
        }
        let word = word.to_str()?;
        if word == "exec" && !in_exec {
            in_exec = true;
            continue;
        }
        let (name, inline) = match word.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (word, None),
        };
        let mut value = || -> Option<String> {
            let value = match inline {
                Some(value) => value,
                None => words.next()?.to_str()?,
            };
            (!value.is_empty() && !value.starts_with('-')).then(|| value.to_owned())
        };
        match name {
            "--vault" => set_once(&mut global.vault, PathBuf::from(value()?))?,
            "--as" => set_once(&mut global.as_identity, value()?)?,
            "--passphrase-file" => set_once(&mut global.passphrase_file, value()?.into())?,
            "--no-keyring" if inline.is_none() => set_flag(&mut global.no_keyring)?,
            "--manifest" if !global.no_manifest => set_once(&mut global.manifest, value()?.into())?,
            "--no-manifest" if inline.is_none() && global.manifest.is_none() => {
                set_flag(&mut global.no_manifest)?
            }
            _ if !in_exec => return None,
            "--only" => exec.only.extend(value()?.split(',').map(str::to_owned)),
            "--service" | "-s" => exec.service.push(value()?),
            "--env" => exec.rename.push(value()?),
            "--environment" => set_once(&mut exec.environment, value()?)?,
            "--mask" => set_once(&mut mask, mask_mode(&value()?)?)?,
            "--reason" => set_once(&mut exec.reason, value()?)?,
            "--clean-env" if inline.is_none() => set_flag(&mut exec.clean_env)?,
            "--no-override" if inline.is_none() => set_flag(&mut exec.no_override)?,
            "--allow-expired" if inline.is_none() => set_flag(&mut exec.allow_expired)?,
            "--explain" if inline.is_none() => set_flag(&mut exec.explain)?,
            _ => return None,
        }
    }
    None
}

/// Sets an option that takes one value; a second one is clap's to refuse.
fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

fn set_flag(flag: &mut bool) -> Option<()> {
    (!*flag).then(|| *flag = true)
}

fn mask_mode(value: &str) -> Option<MaskMode> {
    match value {
        "auto" => Some(MaskMode::Auto),
        "always" => Some(MaskMode::Always),
        "never" => Some(MaskMode::Never),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use proptest::prelude::*;

    fn line(words: &[&str]) -> Vec<OsString> {
        std::iter::once("vault")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    /// What clap makes of the line, as text to compare (`Cli` has no
    /// `PartialEq`: its types are clap's to define).
    fn clap(args: &[OsString]) -> Option<String> {
        Cli::try_parse_from(args).ok().map(|cli| format!("{cli:?}"))
    }

    /// The lines exec is written in take the fast path, and clap agrees.
    #[test]
    fn usual_lines_skip_clap_and_mean_the_same() {
        let usual: &[&[&str]] = &[
            &["exec", "--", "./deploy.sh"],
            &["exec", "--mask", "never", "--", "/bin/true", "-x", "--y"],
            &["exec", "--reason", "run the tests", "--", "cargo", "test"],
            &["exec", "--reason=why", "--only", "A", "--", "x"],
            &["--vault", "v.db", "exec", "--only", "A,B", "--", "env"],
            &[
                "exec",
                "--vault=v.db",
                "--as",
                "ci",
                "-s",
                "stripe",
                "--",
                "x",
            ],
            &[
                "exec",
                "--env",
                "T=S",
                "--env=U=V",
                "--clean-env",
                "--",
                "x",
            ],
            &[
                "exec",
                "--no-override",
                "--allow-expired",
                "--no-keyring",
                "--",
                "x",
            ],
            &[
                "--passphrase-file",
                "p",
                "exec",
                "--mask=always",
                "--explain",
                "--",
                "x",
            ],
            &[
                "exec",
                "--service",
                "a",
                "--service=b",
                "--only",
                "C",
                "--only=D",
                "--",
                "x",
            ],
            &[
                "--manifest",
                "m.toml",
                "exec",
                "--environment",
                "prod",
                "--",
                "x",
            ],
            &["--no-manifest", "exec", "--environment=dev", "--", "x"],
        ];
        for words in usual {
            let args = line(words);
            let fast = parse(&args).map(|cli| format!("{cli:?}"));
            assert!(fast.is_some(), "{words:?} fell back to clap");
            assert_eq!(fast, clap(&args), "{words:?}");
        }
    }

    /// Lines for clap: help, other commands, unknown or doubled options,
    /// values that look like options, no program.
    #[test]
    fn anything_else_is_left_to_clap() {
        let others: &[&[&str]] = &[
            &["exec", "--help", "--", "x"],
            &["exec", "-h"],
            &["--version"],
            &["list", "--", "x"],
            &["exec", "./deploy.sh"],
            &["exec", "--"],
            &["exec", "--bogus", "--", "x"],
            &["exec", "--as", "a", "--as", "b", "--", "x"],
            &["exec", "--mask", "never", "--mask=never", "--", "x"],
            &["exec", "--mask", "sometimes", "--", "x"],
            &["exec", "--explain", "--explain", "--", "x"],
            &["exec", "--only", "--", "x"],
            &["exec", "--only=", "--", "x"],
            &["exec", "-sstripe", "--", "x"],
            &["exec", "--explain=true", "--", "x"],
            &["--only", "A", "exec", "--", "x"],
            &["exec", "exec", "--", "x"],
        ];
        for words in others {
            assert!(parse(&line(words)).is_none(), "{words:?} skipped clap");
        }
    }

    /// A word of an exec command line, from everything the fast path
    /// knows and a few things it must not take for its own.
    fn word() -> impl Strategy<Value = String> {
        const WORDS: &[&str] = &[
            "exec",
            "--",
            "--vault",
            "--as",
            "--passphrase-file",
            "--no-keyring",
            "--manifest",
            "--no-manifest",
            "--environment",
            "--only",
            "--service",
            "-s",
            "--env",
            "--mask",
            "--clean-env",
            "--no-override",
            "--allow-expired",
            "--explain",
            "--reason",
            "--reason=why",
            "--help",
            "-V",
            "list",
            "auto",
            "always",
            "never",
            "A",
            "A,B",
            "A,,B",
            ",A",
            "A,",
            "T=S",
            "=",
            "",
            "-",
            "-x",
            "--x",
            "exec=1",
            "--vault=v",
            "--vault=",
            "--as=ci",
            "--only=A,B",
            "--service=s",
            "--env=T=S",
            "--environment=prod",
            "--manifest=m.toml",
            "--mask=never",
            "--mask=bogus",
            "--explain=1",
            "-s=x",
            "-sx",
            "--no-keyring=1",
        ];
        proptest::sample::select(WORDS).prop_map(str::to_owned)
    }

    /// An option with its value, as one or two words, or a lone word.
    fn item() -> impl Strategy<Value = Vec<String>> {
        const NAMES: &[&str] = &[
            "--vault",
            "--as",
            "--passphrase-file",
            "--only",
            "--service",
            "-s",
            "--env",
            "--environment",
            "--manifest",
            "--mask",
        ];
        const VALUES: &[&str] = &[
            "v", "ci", "A", "A,B", "A,,B", ",A", "A,", "T=S", "=", "", "-", "-x", "never",
            "always", "auto", "bogus", "exec", "--",
        ];
        prop_oneof![
            4 => (
                proptest::sample::select(NAMES),
                proptest::sample::select(VALUES),
                any::<bool>()
            )
                .prop_map(|(name, value, inline)| if inline {
                    vec![format!("{name}={value}")]
                } else {
                    vec![name.to_owned(), value.to_owned()]
                }),
            1 => word().prop_map(|w| vec![w]),
        ]
    }

    /// Mostly the shape exec is written in, options drawn at random.
    fn exec_line() -> impl Strategy<Value = Vec<String>> {
        (
            proptest::collection::vec(item(), 0..3),
            proptest::collection::vec(item(), 0..6),
            proptest::collection::vec(word(), 0..3),
        )
            .prop_map(|(before, after, command)| {
                let mut words: Vec<String> = before.into_iter().flatten().collect();
                words.push("exec".into());
                words.extend(after.into_iter().flatten());
                words.push("--".into());
                words.extend(command);
                words
            })
    }

    fn agrees(words: Vec<String>) -> Result<bool, TestCaseError> {
        let args: Vec<OsString> = std::iter::once("vault".to_owned())
            .chain(words)
            .map(OsString::from)
            .collect();
        let Some(cli) = parse(&args) else {
            return Ok(false);
        };
        prop_assert_eq!(Some(format!("{cli:?}")), clap(&args), "{:?}", args);
        Ok(true)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// Whatever the fast path accepts, clap parses the same way.
        #[test]
        fn the_fast_path_agrees_with_clap(words in exec_line()) {
            agrees(words)?;
        }

        #[test]
        fn random_words_agree_too(words in proptest::collection::vec(word(), 0..10)) {
            agrees(words)?;
        }
    }
}
