//! Manual pages: vault(1) and one page per subcommand, rendered from the
//! clap definition by clap_mangen.
//!
//! Owns clap_mangen. vault(1)'s EXIT STATUS and ENVIRONMENT sections are
//! built from [`cli::AFTER_HELP`], so `vault --help` and the manual can never
//! disagree; FILES lives here because only the manual shows it.

use std::io::Write;

use clap::{Command, CommandFactory};
use clap_mangen::Man;

use crate::cli::{self, Cli};

/// The date on every page's title line: the last change worth telling
/// readers about. Bump it with a release.
const DATE: &str = "2026-11-23";

/// The FILES section of vault(1): where the vault lives when neither
/// `--vault` nor `VAULT_PATH` names it, and the files beside it.
const FILES: &[(&str, &str)] = &[
    (
        "$XDG_DATA_HOME/vault/vault.db",
        "The default vault on Linux and other Unix systems \
         (~/.local/share/vault/vault.db when XDG_DATA_HOME is unset). \
         vault init creates it 0600 in a 0700 directory.",
    ),
    (
        "~/Library/Application Support/vault/vault.db",
        "The default vault on macOS.",
    ),
    (
        "PATH-wal, PATH-shm",
        "SQLite's write-ahead log and its index, beside the vault file PATH \
         while a vault command runs. Copy or commit a vault when no command \
         is using it.",
    ),
    (
        "PATH-exec",
        "The exec log: one authenticated line per vault exec, created 0600 \
         beside the vault file PATH and folded into the audit log by the next \
         command that writes the vault. vault git setup keeps it out of git.",
    ),
];

/// Every page as (file name, roff source), vault.1 first.
pub fn pages() -> Vec<(String, String)> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = vec![("vault.1".to_owned(), main_page(&cmd))];
    subcommand_pages(&cmd, &mut pages);
    pages
}

/// One of clap_mangen's section renderers.
type Section = fn(&Man, &mut dyn Write) -> std::io::Result<()>;

fn main_page(cmd: &Command) -> String {
    let man = Man::new(cmd.clone()).title("VAULT").date(DATE);
    let mut out: Vec<u8> = Vec::new();
    let parts: [Section; 6] = [
        Man::render_title,
        Man::render_name_section,
        Man::render_synopsis_section,
        Man::render_description_section,
        Man::render_options_section,
        Man::render_subcommands_section,
    ];
    for part in parts {
        part(&man, &mut out).expect("writing to memory cannot fail");
    }
    let mut page = String::from_utf8_lossy(&out).into_owned();
    page.push_str(&help_sections(cli::AFTER_HELP));
    page.push_str(".SH FILES\n");
    for (term, text) in FILES {
        page.push_str(&format!(
            ".TP\n\\fI{}\\fR\n{}\n",
            escape(term),
            escape(text)
        ));
    }
    let see_also: Vec<String> = visible(cmd)
        .map(|sub| format!(".BR {} (1)", escape(&page_name(sub))))
        .collect();
    page.push_str(&format!(".SH \"SEE ALSO\"\n{}\n", see_also.join(" ,\n")));
    let mut version = Vec::new();
    man.render_version_section(&mut version)
        .expect("writing to memory cannot fail");
    page.push_str(&String::from_utf8_lossy(&version));
    tidy(&page)
}

fn subcommand_pages(cmd: &Command, pages: &mut Vec<(String, String)>) {
    for sub in visible(cmd) {
        let man = Man::new(sub.clone())
            .title(page_name(sub).to_uppercase())
            .source(format!("vault {}", env!("CARGO_PKG_VERSION")))
            .date(DATE);
        // clap_mangen's own `render` puts the long help under a heading
        // EXTRA; its sections (EXAMPLES, EXIT STATUS, JSON OUTPUT...) get
        // their own headings here, as on vault(1).
        let mut out: Vec<u8> = Vec::new();
        let mut parts: Vec<Section> = vec![Man::render_title, Man::render_name_section];
        // A usage line the command states (exec's `-- COMMAND [ARGS]...`)
        // is the synopsis; clap_mangen would list every option instead.
        match sub.get_overridden_usage() {
            Some(usage) => {
                for part in parts.drain(..) {
                    part(&man, &mut out).expect("writing to memory cannot fail");
                }
                let usage = escape(&usage.to_string());
                out.extend_from_slice(format!(".SH SYNOPSIS\n{usage}\n").as_bytes());
            }
            None => parts.push(Man::render_synopsis_section),
        }
        parts.push(Man::render_description_section);
        parts.push(Man::render_options_section);
        if visible(sub).next().is_some() {
            parts.push(Man::render_subcommands_section);
        }
        for part in parts {
            part(&man, &mut out).expect("writing to memory cannot fail");
        }
        let mut page = String::from_utf8_lossy(&out).into_owned();
        if let Some(help) = sub.get_after_long_help() {
            page.push_str(&help_sections(&help.to_string()));
        }
        page.push_str(".SH \"SEE ALSO\"\n.BR vault (1)\n");
        let mut version = Vec::new();
        man.render_version_section(&mut version)
            .expect("writing to memory cannot fail");
        page.push_str(&String::from_utf8_lossy(&version));
        pages.push((format!("{}.1", page_name(sub)), tidy(&page)));
        subcommand_pages(sub, pages);
    }
}

fn visible(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

/// `vault-identity-add`, as clap names a built subcommand.
fn page_name(cmd: &Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned()
}

/// Turns `--help`'s trailing text into man sections: a line `Heading:`
/// starts a section, `  TERM  text` an item, as does a line followed by
/// deeper-indented ones (an example and what it does), deeper-indented
/// lines continue it, any other indented line is running text, and an
/// unindented line that is not a heading is a paragraph of its own.
fn help_sections(text: &str) -> String {
    let mut out = String::new();
    let mut in_paragraph = false;
    let lines: Vec<&str> = text.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let next_indent = lines
            .get(n + 1)
            .map(|l| l.len() - l.trim_start().len())
            .unwrap_or(0);
        if trimmed.is_empty() {
            in_paragraph = false;
            continue;
        } else if indent == 0 && trimmed.ends_with(':') {
            let heading = trimmed.trim_end_matches(':').to_uppercase();
            out.push_str(&format!(".SH \"{heading}\"\n"));
            // A heading starts a paragraph of its own.
            in_paragraph = true;
        } else if indent == 0 {
            if !in_paragraph {
                out.push_str(".PP\n");
                in_paragraph = true;
            }
            out.push_str(&format!("{}\n", escape(trimmed)));
        } else if indent > 2 {
            out.push_str(&format!("{}\n", escape(trimmed)));
        } else if next_indent > 2 && !trimmed.contains("  ") {
            out.push_str(&format!(".TP\n\\fB{}\\fR\n", escape(trimmed)));
            in_paragraph = false;
        } else if let Some((term, rest)) = trimmed.split_once("  ") {
            let term = escape(term);
            out.push_str(&format!(".TP\n\\fB{term}\\fR\n{}\n", escape(rest.trim())));
            in_paragraph = false;
        } else {
            if !in_paragraph {
                out.push_str(".PP\n");
                in_paragraph = true;
            }
            out.push_str(&format!("{}\n", escape(trimmed)));
        }
    }
    out
}

/// Makes clap_mangen's output lint clean (`mandoc -T lint`): no blank line
/// between two breaks, no trailing blanks, and text lines of at most 80
/// bytes, broken at plain spaces, which roff's filling joins again (lines
/// in `.nf` blocks are kept as they are).
fn tidy(page: &str) -> String {
    let page = page.replace(".br\n\n.br\n", ".sp\n");
    let mut out = String::with_capacity(page.len());
    let mut filling = true;
    for line in page.lines() {
        let line = line.trim_end();
        match line {
            ".nf" => filling = false,
            ".fi" => filling = true,
            _ => {}
        }
        if line.starts_with(['.', '\'']) || !filling {
            out.push_str(line);
            out.push('\n');
        } else {
            wrap(line, &mut out);
        }
    }
    out
}

/// Breaks a text line at spaces that are not escaped (`\ `), never leaving
/// a control character at the start of a continuation line.
fn wrap(line: &str, out: &mut String) {
    const WIDTH: usize = 80;
    let mut rest = line;
    while rest.len() > WIDTH {
        let bytes = rest.as_bytes();
        let breakable = |i: usize| bytes[i] == b' ' && (i == 0 || bytes[i - 1] != b'\\');
        let at = (1..=WIDTH)
            .rev()
            .find(|&i| breakable(i))
            .or_else(|| (WIDTH..rest.len()).find(|&i| breakable(i)));
        let Some(at) = at else { break };
        out.push_str(&rest[..at]);
        out.push('\n');
        rest = &rest[at + 1..];
        if rest.starts_with(['.', '\'']) {
            out.push_str("\\&");
        }
    }
    out.push_str(rest);
    out.push('\n');
}

/// Escapes text for roff: backslashes, hyphens (so they stay hyphens and
/// can be searched for), and a leading control character.
fn escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_text_becomes_sections_with_items() {
        let roff = help_sections("Exit status:\n  0    success\n  exec passes\n  it on\n");
        assert_eq!(
            roff,
            ".SH \"EXIT STATUS\"\n.TP\n\\fB0\\fR\nsuccess\n.PP\nexec passes\nit on\n"
        );
    }

    #[test]
    fn long_lines_break_at_plain_spaces_only() {
        let long = format!("{} .b\\ c", "a".repeat(78));
        assert_eq!(tidy(&long), format!("{}\n\\&.b\\ c\n", "a".repeat(78)));
    }

    #[test]
    fn the_main_page_documents_statuses_environment_and_files() {
        let page = &pages()[0].1;
        for part in [
            ".SH \"EXIT STATUS\"",
            "\\fB2\\fR\nvault failed",
            ".SH \"ENVIRONMENT\"",
            "\\fBVAULT_PATH\\fR",
            ".SH FILES",
        ] {
            assert!(page.contains(part), "vault.1 lacks {part}");
        }
    }
}
