//! The handles a store says are taken, in the form the uniqueness search asks about.

use std::borrow::Cow;
use std::collections::HashSet;

/// Up to this many ASCII handles are compared in place, one by one: for the usual
/// answer (none, or a few `jane-doe-N`) that is quicker than hashing and copies nothing.
const COMPARED_ONE_BY_ONE: usize = 8;

/// A store's answer to "which handles are taken under these stems", ready for the many
/// questions [`HandleBase::resolve`](crate::HandleBase::resolve) asks of it.
///
/// Stores keep handles lower-case as a rule; a handle that is not is compared by its
/// lower-case form, as the store's own uniqueness (case-insensitive) would.
///
/// ```
/// use jit_provisioning::handles::TakenHandles;
///
/// let from_store = vec!["jane-doe".to_owned(), "Jane-Doe-2".to_owned()];
/// let taken = TakenHandles::new(&from_store);
/// assert!(taken.contains("jane-doe-2"));
/// assert!(!taken.contains("jane-doe-3"));
/// ```
#[derive(Debug, Clone)]
pub struct TakenHandles<'a> {
    handles: Lookup<'a>,
}

#[derive(Debug, Clone)]
enum Lookup<'a> {
    /// ASCII handles only, each compared ignoring case.
    InPlace(&'a [String]),
    /// foldhash with a fixed seed: its keys are a stem the engine derived plus numbers the
    /// store assigned, so nobody can choose them to collide, and a fixed seed keeps the
    /// engine from reading the clock or the allocator for randomness.
    Many(HashSet<Cow<'a, str>, foldhash::fast::FixedState>),
}

impl<'a> TakenHandles<'a> {
    /// The taken set of the handles a store returned.
    pub fn new(from_store: &'a [String]) -> Self {
        // An ASCII handle is compared ignoring case in place; any other is lower-cased
        // first, by Unicode's rules (the Kelvin sign `K` is a `k`).
        let few = from_store.len() <= COMPARED_ONE_BY_ONE;
        let handles = if few && from_store.iter().all(|handle| handle.is_ascii()) {
            Lookup::InPlace(from_store)
        } else {
            Lookup::Many(from_store.iter().map(|handle| lower_case(handle)).collect())
        };
        TakenHandles { handles }
    }

    /// Whether `candidate`, a lower-case handle, is taken.
    #[inline]
    pub fn contains(&self, candidate: &str) -> bool {
        match &self.handles {
            Lookup::InPlace(handles) => handles
                .iter()
                .any(|handle| lower_case_equals(handle, candidate)),
            Lookup::Many(handles) => handles.contains(candidate),
        }
    }

    /// How many handles the store returned, counting a handle it returned twice (or in two
    /// cases) once or twice: an upper bound on the distinct taken handles, which is what
    /// the search's attempt bound needs.
    pub fn len(&self) -> usize {
        match &self.handles {
            Lookup::InPlace(handles) => handles.len(),
            Lookup::Many(handles) => handles.len(),
        }
    }

    /// Whether the store returned no handle.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether the ASCII `handle`, lower-cased, is `candidate`.
#[inline]
fn lower_case_equals(handle: &str, candidate: &str) -> bool {
    handle.len() == candidate.len()
        && handle
            .bytes()
            .zip(candidate.bytes())
            .all(|(stored, asked)| stored.to_ascii_lowercase() == asked)
}

fn lower_case(handle: &str) -> Cow<'_, str> {
    if handle.chars().any(char::is_uppercase) {
        Cow::Owned(handle.to_lowercase())
    } else {
        Cow::Borrowed(handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(handles: &[&str]) -> Vec<String> {
        handles.iter().map(|&handle| handle.to_owned()).collect()
    }

    #[test]
    fn few_and_many_answer_alike() {
        for count in [0, 1, COMPARED_ONE_BY_ONE, COMPARED_ONE_BY_ONE + 1, 1_000] {
            let from_store: Vec<String> = (1..=count).map(|n| format!("jane-doe-{n}")).collect();
            let taken = TakenHandles::new(&from_store);
            assert_eq!(taken.len(), count);
            assert_eq!(taken.is_empty(), count == 0);
            for n in 1..=count {
                assert!(taken.contains(&format!("jane-doe-{n}")), "{count}: {n}");
            }
            assert!(!taken.contains(&format!("jane-doe-{}", count + 1)));
            assert!(!taken.contains("jane-doe"));
        }
    }

    #[test]
    fn upper_case_handles_are_compared_lower_case() {
        // The Kelvin sign lower-cases to an ASCII `k`.
        let few = owned(&["Jane-Doe", "\u{212A}im"]);
        let many: Vec<String> = few
            .iter()
            .cloned()
            .chain((0..COMPARED_ONE_BY_ONE).map(|n| format!("x-{n}")))
            .collect();
        for from_store in [&few, &many] {
            let taken = TakenHandles::new(from_store);
            assert!(taken.contains("jane-doe"));
            assert!(taken.contains("kim"));
            assert!(!taken.contains("Jane-Doe"));
        }
    }
}
