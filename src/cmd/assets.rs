//! `vault generate-assets DIR` (hidden): writes the completion scripts to
//! DIR/completions and the manual pages to DIR/man, the copies the
//! repository keeps so packagers can install them without building.
//!
//! Regenerate the repository's copies with `cargo run -- generate-assets .`;
//! a test fails while they differ from what the binary generates.

use std::path::Path;

use crate::cli::GenerateAssetsArgs;
use crate::complete::{script, SCRIPT_FILES};
use crate::error::{Error, Result};

pub fn run(args: GenerateAssetsArgs) -> Result<u8> {
    let completions = args.dir.join("completions");
    let man = args.dir.join("man");
    create_dir(&completions)?;
    create_dir(&man)?;
    for (shell, file) in SCRIPT_FILES {
        write(&completions.join(file), &script(*shell))?;
    }
    let pages = crate::man::pages();
    remove_stale_pages(&man, &pages)?;
    for (file, page) in &pages {
        write(&man.join(file), page)?;
    }
    super::print(&format!(
        "wrote {} completion scripts to {} and {} manual pages to {}\n",
        SCRIPT_FILES.len(),
        completions.display(),
        pages.len(),
        man.display()
    ))?;
    super::OK
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io("write to", path, e))
}

/// Pages of subcommands that no longer exist would otherwise linger.
fn remove_stale_pages(man: &Path, pages: &[(String, String)]) -> Result<()> {
    let entries = std::fs::read_dir(man).map_err(|e| Error::io("read", man, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io("read", man, e))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(".1") && !pages.iter().any(|(file, _)| *file == name) {
            std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
        }
    }
    Ok(())
}
