//! clap's refusals of a command line, turned into vault's own answers for
//! the mistakes people make: a command vault deliberately lacks (`get`,
//! `run`), a mistyped command or option (with "did you mean", from the
//! visible names only), and a value typed as an argument of `add` or
//! `rotate`, which is refused without being repeated.
//!
//! Anything else is left to clap's own message. This runs only after clap
//! has refused a line, so it costs nothing on the way to a command.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Error;
use crate::suggest;

/// Commands people look for to read a value back, which vault has not on
/// purpose: values leave only through `exec`.
const READ_WORDS: &[&str] = &["get", "show", "read", "cat", "export", "print", "reveal"];

/// vault's answer to a line clap refused, or `None` for clap's own.
pub fn explain(e: &clap::Error, args: &[OsString]) -> Option<Error> {
    let (path, positionals) = walk(args);
    match e.kind() {
        ErrorKind::InvalidSubcommand => {
            let word = context(e, ContextKind::InvalidSubcommand)?;
            Some(unknown_command(&path, word))
        }
        ErrorKind::UnknownArgument => {
            let word = context(e, ContextKind::InvalidArg)?;
            if word.starts_with('-') && word != "-" {
                // `--name=value`: only the option's name is repeated.
                let option = word.split('=').next().unwrap_or(word).to_owned();
                let close = context(e, ContextKind::SuggestedArg)
                    .map(|s| vec![s.to_owned()])
                    .unwrap_or_default();
                return Some(Error::UnknownOption {
                    command: path.join(" "),
                    option,
                    close,
                });
            }
            value_as_argument(&path, &positionals)
        }
        _ => None,
    }
}

fn context(e: &clap::Error, kind: ContextKind) -> Option<&str> {
    match e.get(kind)? {
        ContextValue::String(s) => Some(s),
        ContextValue::Strings(v) => v.first().map(String::as_str),
        _ => None,
    }
}

fn unknown_command(path: &[String], word: &str) -> Error {
    if path.len() == 1 {
        if READ_WORDS.contains(&word) {
            return Error::NoReadCommand(word.to_owned());
        }
        let instead = match word {
            "run" | "env" => Some("run a program with secrets in its environment: `vault exec -- COMMAND`"),
            "set" | "put" | "update" | "edit" => Some(
                "add a secret with `vault add NAME`, or give one a new value with `vault rotate NAME`; \
                 the value is asked for, never an argument",
            ),
            _ => None,
        };
        if let Some(instead) = instead {
            return Error::NotACommand {
                word: word.to_owned(),
                instead,
            };
        }
    }
    let mut command = Cli::command();
    command.build();
    for name in &path[1..] {
        command = match command.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => break,
        };
    }
    // Canonical names first, then aliases; never a hidden command.
    let visible: Vec<&clap::Command> = command
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .collect();
    let names = visible
        .iter()
        .map(|c| c.get_name())
        .chain(visible.iter().flat_map(|c| c.get_all_aliases()));
    let close = suggest::close(word, names)
        .into_iter()
        .map(str::to_owned)
        .collect();
    Error::UnknownCommand {
        command: path.join(" "),
        word: word.to_owned(),
        close,
    }
}

/// `vault add NAME VALUE`, `vault rotate NAME VALUE`: the extra word is a
/// value, refused without being repeated.
fn value_as_argument(path: &[String], positionals: &[String]) -> Option<Error> {
    let command = match path.get(1).map(String::as_str) {
        Some("add") => "add",
        Some("rotate") => "rotate",
        _ => return None,
    };
    let name = positionals
        .first()
        .filter(|a| crate::model::SecretName::parse(a, true).is_ok())
        .cloned();
    Some(Error::ValueAsArgument { command, name })
}

/// What a line names: its subcommands from `vault` (`["vault",
/// "identity", "add"]`) and the positional words after them. Options and
/// their values are stepped over, by the definition of the command they
/// belong to.
fn walk(args: &[OsString]) -> (Vec<String>, Vec<String>) {
    // Subcommands are deferred (built only when chosen, for exec's speed):
    // build them all, to see their options. This path runs only on a
    // refused line.
    let mut root = Cli::command();
    root.build();
    let mut command = root.clone();
    let mut path = vec!["vault".to_owned()];
    let mut positionals = Vec::new();
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        let Some(word) = word.to_str() else { break };
        if word == "--" {
            break;
        }
        if word.starts_with('-') && word != "-" {
            let takes_value = !word.contains('=')
                && command
                    .get_arguments()
                    .find(|a| match word.strip_prefix("--") {
                        Some(long) => a.get_long() == Some(long),
                        None => word.len() == 2 && a.get_short() == word.chars().nth(1),
                    })
                    .is_some_and(|a| a.get_action().takes_values());
            if takes_value {
                words.next();
            }
            continue;
        }
        match command
            .find_subcommand(word)
            .filter(|_| positionals.is_empty())
        {
            Some(sub) => {
                path.push(sub.get_name().to_owned());
                command = sub.clone();
            }
            None => positionals.push(word.to_owned()),
        }
    }
    (path, positionals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> (Vec<String>, Vec<String>) {
        let args: Vec<OsString> = std::iter::once("vault")
            .chain(line.split_whitespace())
            .map(OsString::from)
            .collect();
        walk(&args)
    }

    #[test]
    fn options_and_their_values_are_stepped_over() {
        assert_eq!(
            words("--as ci add -s stripe --vault v FOO bar"),
            (
                vec!["vault".to_owned(), "add".to_owned()],
                vec!["FOO".to_owned(), "bar".to_owned()]
            )
        );
        assert_eq!(
            words("identity add --token ci"),
            (
                vec!["vault".to_owned(), "identity".to_owned(), "add".to_owned()],
                vec!["ci".to_owned()]
            )
        );
        assert_eq!(words("mv A B").0, ["vault", "rename"]);
    }
}
