//! What the generated documentation depends on and rustdoc cannot check for us: Markdown
//! files included as crate docs must not link relatively (their links would point into
//! docs.rs's own tree), and docs built without features must not link to feature-gated
//! items.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The targets of the inline Markdown links `[text](target)` in `text`.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        let after = rest.get(at + 2..).unwrap_or_default();
        let end = after.find(')').unwrap_or(after.len());
        targets.push(after.get(..end).unwrap_or_default().to_owned());
        rest = after;
    }
    targets
}

/// Markdown files read away from the repository: the root README (the crate doc), the
/// case-file format (the `cases` module's doc) and the CLI's README (its crates.io page,
/// where a relative link has no repository to resolve against).
/// The adapters' READMEs are their crate docs, rendered on docs.rs likewise.
const RENDERED_AWAY: [&str; 6] = [
    "README.md",
    "tests/cases/README.md",
    "cli/README.md",
    "adapters/sqlx/README.md",
    "adapters/saml/README.md",
    "adapters/axum/README.md",
];

#[test]
fn markdown_included_in_the_docs_links_only_absolutely() {
    for file in RENDERED_AWAY {
        let text = fs::read_to_string(root().join(file)).unwrap();
        for target in link_targets(&text) {
            let absolute = target.starts_with("https://") || target.starts_with('#');
            // Intra-doc links (`[`Decision`]`, `[x](crate::cases)`) are rustdoc's to check.
            let intra_doc = target.starts_with("crate::") || target.contains("::");
            assert!(
                absolute || intra_doc,
                "{file}: the link to `{target}` is relative: it breaks in the generated docs"
            );
        }
    }
}

fn rust_files_under(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files_under(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn docs_outside_the_testing_module_do_not_link_into_it() {
    // `testing` exists only with the `testing` feature: a link to it from anywhere else
    // is unresolved (a warning, an error under -Dwarnings) in a build without features.
    let testing = root().join("src/testing");
    for file in rust_files_under(&root().join("src")) {
        if file.starts_with(&testing) {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let doc = line.trim_start();
            if doc.starts_with("///") || doc.starts_with("//!") {
                for target in link_targets(doc) {
                    assert!(
                        !target.contains("testing::"),
                        "{}:{}: links to `{target}`, which only the `testing` feature builds",
                        file.display(),
                        number + 1
                    );
                }
            }
        }
    }
}

#[test]
fn every_item_of_the_crate_root_is_in_its_map() {
    // The crate root lists its items alphabetically; the map at the end of its docs is
    // what says which are the entry points and what the rest is for.
    let lib = fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let map_start = lib
        .find("//! # Where to start")
        .expect("src/lib.rs has no `Where to start` section");
    let map = lib.get(map_start..).unwrap_or_default();
    let mut exported = Vec::new();
    let mut in_use = false;
    for line in lib.lines() {
        // Only the crate root's own `pub use`s, not those of its inline modules.
        if line.starts_with("pub use ") {
            in_use = true;
        }
        let line = line.trim();
        if in_use {
            let items = line
                .trim_start_matches("pub use ")
                .split(['{', '}', ',', ';'])
                .map(str::trim)
                .filter(|item| !item.is_empty() && !item.contains("::"));
            exported.extend(items.map(str::to_owned));
            let path_only = line.trim_start_matches("pub use ");
            if let Some((_, last)) = path_only.trim_end_matches(';').rsplit_once("::") {
                if !last.starts_with('{') && !last.is_empty() {
                    exported.push(last.to_owned());
                }
            }
        }
        if line.ends_with(';') {
            in_use = false;
        }
    }
    assert!(exported.iter().any(|item| item == "Provisioner"));
    for item in exported {
        assert!(
            map.contains(&format!("[`{item}`]")),
            "`{item}` is exported from the crate root but not in its `Where to start` map"
        );
    }
}
