//! Names, emails and taken handles through `HandleBase::derive`, `stems` and `resolve`.

#![no_main]

use std::collections::HashSet;

use arbitrary::Arbitrary;
use jit_provisioning::handles::{cut_at_break, is_well_formed};
use jit_provisioning::{is_stem_or_suffixed, HandleBase, MAX_HANDLE_LEN, MIN_HANDLE_LEN};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    given: Option<String>,
    family: Option<String>,
    email: Option<String>,
    /// Mapped into the config's range, `MIN_HANDLE_LEN..=MAX_HANDLE_LEN`.
    max_len: u8,
    /// Taken handles, as a store may spell them.
    taken: Vec<String>,
    /// Taken candidates: the n-th stem, bare or with the suffix `-k`.
    taken_candidates: Vec<(u8, u16)>,
}

fuzz_target!(|input: Input| {
    let span = MAX_HANDLE_LEN - MIN_HANDLE_LEN + 1;
    let max_len = MIN_HANDLE_LEN + usize::from(input.max_len) % span;
    let base = HandleBase::derive(
        input.given.as_deref(),
        input.family.as_deref(),
        input.email.as_deref(),
    );
    assert!(is_well_formed(base.as_str()), "base `{}`", base.as_str());

    let stems = base.stems(max_len);
    assert_eq!(stems.first(), Some(&cut_at_break(base.as_str(), max_len)));
    for stem in &stems {
        assert!(
            is_well_formed(stem) && stem.len() <= max_len,
            "stem `{stem}`"
        );
        assert!(base.as_str().starts_with(stem.as_str()), "stem `{stem}`");
    }

    let mut taken: HashSet<String> = input.taken.iter().map(|h| h.to_lowercase()).collect();
    for &(n, k) in &input.taken_candidates {
        let stem = &stems[usize::from(n) % stems.len()];
        taken.insert(if k < 2 {
            stem.clone()
        } else {
            format!("{stem}-{k}")
        });
    }
    // What a store returns for the stems: the pigeonhole bound then guarantees a handle.
    let under_stems = taken
        .iter()
        .filter(|h| stems.iter().any(|stem| is_stem_or_suffixed(h, stem)))
        .count();
    let resolve = || base.resolve(max_len, under_stems + 1, |c| taken.contains(c));
    let Some(handle) = resolve() else {
        panic!(
            "no handle within {} attempts, max_len {max_len}",
            under_stems + 1
        );
    };
    assert_eq!(
        resolve().as_deref(),
        Some(handle.as_str()),
        "resolve is not deterministic"
    );
    assert!(is_well_formed(&handle), "handle `{handle}`");
    assert!(handle.len() <= max_len, "handle `{handle}` over {max_len}");
    assert!(!taken.contains(&handle), "handle `{handle}` is taken");
    assert!(
        stems.iter().any(|stem| is_stem_or_suffixed(&handle, stem)),
        "handle `{handle}` is under none of the stems {stems:?}"
    );
});
