//! Every name of the 10,000-name corpus (50 locales) derives a handle that keeps every
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking
//! invariant, and a golden file pins the exact handles: a transliteration table update
//! would change people's handles, and this test is where that shows.
//!
//! The corpus is `../shared/corpus/names.tsv`, read where CI puts it and never copied
//! here; the golden file holds only our output, one handle per corpus row. After a
//! deliberate change, regenerate it with
//! `UPDATE_GOLDEN=1 cargo test --test names_corpus -- --ignored` and review the diff.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use jit_provisioning::handles::{is_reserved, is_well_formed};
use jit_provisioning::{HandleBase, DEFAULT_MAX_HANDLE_LEN};

/// The golden handles, one per corpus row, in row order.
fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/names.handles.txt")
}

/// The shared corpus: a header, then `locale<TAB>first<TAB>last` rows.
fn corpus() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/names.tsv");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// `(row, handle)` for every corpus row, handles unique across the batch in row order, as
/// JIT would assign them.
fn assign_all(corpus: &str) -> Vec<(&str, String)> {
    let mut taken = HashSet::new();
    let mut out = Vec::new();
    for line in corpus.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [_locale, first, last] = fields[..] else {
            panic!("corpus row is not locale, first, last: {line:?}")
        };
        let base = HandleBase::derive(Some(first), Some(last), None);
        let handle = base
            .resolve(DEFAULT_MAX_HANDLE_LEN, taken.len() + 1, |c| {
                taken.contains(c) || is_reserved(c)
            })
            .unwrap_or_else(|| panic!("no handle for {line:?}"));

        assert!(is_well_formed(&handle), "{line:?} -> {handle:?}");
        assert!(
            handle.len() <= DEFAULT_MAX_HANDLE_LEN,
            "{line:?} -> {handle:?}"
        );
        assert!(!is_reserved(&handle), "{line:?} -> {handle:?}");
        assert!(
            base.stems(DEFAULT_MAX_HANDLE_LEN)
                .iter()
                .any(|stem| handle.starts_with(stem.as_str())),
            "{line:?} -> {handle:?} starts with none of its stems"
        );
        assert!(taken.insert(handle.clone()), "{handle} assigned twice");
        out.push((line, handle));
    }
    assert_eq!(taken.len(), 10_000);
    out
}

#[test]
#[ignore = "reads ../shared/corpus/names.tsv (CI provides it; run with --ignored)"]
fn corpus_handles_keep_every_invariant_and_match_the_golden_file() {
    let corpus = corpus();
    let actual = assign_all(&corpus);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let mut text = String::new();
        for (_, handle) in &actual {
            writeln!(text, "{handle}").unwrap();
        }
        std::fs::write(golden(), text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(golden()).unwrap();
    let differences: Vec<String> = expected
        .lines()
        .zip(&actual)
        .filter(|(e, (_, a))| e != a)
        .take(20)
        .map(|(e, (row, a))| format!("  {row}\n    golden: {e}\n    now:    {a}"))
        .collect();
    assert!(
        differences.is_empty() && expected.lines().count() == actual.len(),
        "handles changed (first 20 shown); if deliberate, UPDATE_GOLDEN=1:\n{}",
        differences.join("\n")
    );
}

#[test]
#[ignore = "reads ../shared/corpus/names.tsv (CI provides it; run with --ignored)"]
fn most_corpus_names_need_no_suffix_and_no_fallback() {
    let corpus = corpus();
    let mut from_names = 0;
    for line in corpus.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let base = HandleBase::derive(fields.get(1).copied(), fields.get(2).copied(), None);
        if base.source() == jit_provisioning::HandleSource::Names {
            from_names += 1;
        }
    }
    // Every script in the corpus transliterates: no real name falls back to `user`.
    assert_eq!(from_names, 10_000);
}
