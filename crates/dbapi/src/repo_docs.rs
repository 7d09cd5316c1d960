//! The repository's `docs/` folder, which tests compare with the code. A crate unpacked from
//! its package has no such folder; those comparisons then pass, saying they were skipped.

use std::path::Path;

/// The text of `docs/<name>` in the repository, or `None` outside it.
pub(crate) fn read(name: &str) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if !root.join("Cargo.toml").is_file() || !root.join("docs").is_dir() {
        eprintln!("docs/{name} skipped: this crate is not inside its repository");
        return None;
    }
    let path = root.join("docs").join(name);
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}
