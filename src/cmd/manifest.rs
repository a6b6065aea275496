//! `vault manifest`: a first `vault.toml` from a project's `.env.example`
//! or `.env`, names only. Every variable is declared required; no value
//! is read into the manifest (the dotenv parser reads them, and they are
//! dropped at once), so a `.env` full of secrets is safe to start from.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::ManifestArgs;
use crate::dotenv::{self, Expand, Problem};
use crate::error::{Error, Result};
use crate::manifest::FILE_NAME;
use crate::session::Session;

pub fn run(_session: &Session, args: ManifestArgs) -> Result<u8> {
    let from = match args.from {
        Some(path) => path,
        None => default_source()?,
    };
    let output = args.output.unwrap_or_else(|| PathBuf::from(FILE_NAME));
    let bytes =
        zeroize::Zeroizing::new(std::fs::read(&from).map_err(|e| Error::io("read", &from, e))?);
    let entries = dotenv::parse(&bytes, &Expand::Off).map_err(|problem| match problem {
        Problem::NotUtf8 { line } => Error::ImportNotUtf8 {
            path: from.clone(),
            line,
        },
        Problem::Parse { line } => Error::ImportLine {
            path: from.clone(),
            line,
        },
    })?;
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        crate::model::SecretName::parse(&entry.name, false).map_err(|problem| {
            Error::ImportName {
                path: from.clone(),
                line: entry.line,
                name: entry.name.clone(),
                problem,
            }
        })?;
        if !names.contains(&entry.name) {
            names.push(entry.name);
        }
    }
    if names.is_empty() {
        return Err(Error::ImportEmpty(from));
    }
    let text = render(&from, &names);
    write_new(&output, &text)?;
    super::print(&format!(
        "wrote {} with {} from {} (names only, every one required)\n",
        output.display(),
        super::table::count(names.len(), "variable", "variables"),
        from.display()
    ))?;
    super::OK
}

/// `.env.example` if there is one (names, usually no values), else `.env`.
fn default_source() -> Result<PathBuf> {
    [".env.example", ".env"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| Error::Usage("no .env.example or .env here to take the names from".into()))
}

fn render(from: &Path, names: &[String]) -> String {
    let mut text = format!(
        "# The variables this project needs, for `vault exec` and `vault check`.\n\
         # Written from {} (names only). Keys: vault(1), MANIFEST.\n\n\
         [project]\n\
         # vault = \"secrets/vault.db\"   # a vault kept in the repository\n\
         # environment = \"dev\"          # the default environment\n",
        from.display()
    );
    for name in names {
        let _ = write!(text, "\n[vars.{name}]\nrequired = true\n");
    }
    text
}

/// Writes a new file; an existing one is never replaced.
fn write_new(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Usage(format!(
                "{} already exists; it was left as it is",
                path.display()
            )),
            _ => Error::io("create", path, e),
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::io("write", path, e))
}
