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
//! After a deliberate change, regenerate with
//! `UPDATE_GOLDEN=1 cargo test --test names_corpus` and review the diff.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use jit_provisioning::handles::{is_reserved, is_well_formed};
use jit_provisioning::{HandleBase, DEFAULT_MAX_HANDLE_LEN};

fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file)
}

/// `locale<TAB>first<TAB>last<TAB>handle` for every corpus row, handles unique across the
/// batch in row order, as JIT would assign them.
fn assign_all() -> String {
    let corpus = std::fs::read_to_string(data("names.tsv")).unwrap();
    let mut taken = HashSet::new();
    let mut out = String::from("locale\tfirst\tlast\thandle\n");
    for line in corpus.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [locale, first, last] = fields[..] else {
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
        writeln!(out, "{locale}\t{first}\t{last}\t{handle}").unwrap();
    }
    assert_eq!(taken.len(), 10_000);
    out
}

#[test]
fn corpus_handles_keep_every_invariant_and_match_the_golden_file() {
    let actual = assign_all();
    let golden = data("names.handles.tsv");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    let differences: Vec<String> = expected
        .lines()
        .zip(actual.lines())
        .filter(|(e, a)| e != a)
        .take(20)
        .map(|(e, a)| format!("  golden: {e}\n  now:    {a}"))
        .collect();
    assert!(
        differences.is_empty() && expected.lines().count() == actual.lines().count(),
        "handles changed (first 20 shown); if deliberate, UPDATE_GOLDEN=1:\n{}",
        differences.join("\n")
    );
}

#[test]
fn most_corpus_names_need_no_suffix_and_no_fallback() {
    let corpus = std::fs::read_to_string(data("names.tsv")).unwrap();
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
