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
    /// Each handle compared with [`lower_case_equals`].
    InPlace(&'a [String]),
    /// foldhash with a fixed seed: its keys are a stem the engine derived plus numbers the
    /// store assigned, so nobody can choose them to collide, and a fixed seed keeps the
    /// engine from reading the clock or the allocator for randomness.
    Many(HashSet<Cow<'a, str>, foldhash::fast::FixedState>),
}

impl<'a> TakenHandles<'a> {
    /// The taken set of the handles a store returned.
    pub fn new(from_store: &'a [String]) -> Self {
        // A few handles are compared in place, lower-cased by Unicode's rules on the fly
        // (the Kelvin sign `K` is a `k`); more are lower-cased once, into the set.
        let handles = if from_store.len() <= COMPARED_ONE_BY_ONE {
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

/// Whether `handle`, lower-cased by Unicode's rules, is `candidate`, an ASCII handle.
///
/// Of the characters beyond ASCII only the Kelvin sign lower-cases to ASCII (a test checks
/// every one), and it is three bytes long against its `k`'s one. So a handle of the
/// candidate's length matches exactly when it lower-cases to it byte for byte, a shorter
/// one never does, and a longer one only through Kelvin signs, which the
/// character-by-character reading finds. No handle needs reading ahead of the search,
/// which usually asks once.
#[inline]
fn lower_case_equals(handle: &str, candidate: &str) -> bool {
    if handle.len() <= candidate.len() {
        return handle.len() == candidate.len()
            && handle
                .bytes()
                .zip(candidate.bytes())
                .all(|(stored, asked)| stored.to_ascii_lowercase() == asked);
    }
    let mut asked = candidate.bytes();
    for stored in handle.chars() {
        let lower = match stored {
            KELVIN_SIGN => b'k',
            _ => match u8::try_from(stored) {
                Ok(byte) if byte.is_ascii() => byte.to_ascii_lowercase(),
                _ => return false,
            },
        };
        if asked.next() != Some(lower) {
            return false;
        }
    }
    asked.next().is_none()
}

const KELVIN_SIGN: char = '\u{212A}';

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
    fn only_the_kelvin_sign_lower_cases_to_ascii() {
        for c in (0x80..=u32::from(char::MAX)).filter_map(char::from_u32) {
            if c.to_lowercase().all(|lower| lower.is_ascii()) {
                assert_eq!(c, KELVIN_SIGN, "U+{:04X}", u32::from(c));
            }
        }
    }

    #[test]
    fn in_place_comparison_is_unicode_lower_casing() {
        let handles = [
            "jane-doe",
            "Jane-Doe",
            "JANE-DOE",
            "\u{212A}im",
            "\u{212A}\u{212A}",
            "kk",
            "\u{130}van",
            "ivan",
            "i\u{307}van",
            "jane-do",
            "jane-doe-2",
            "ja\u{0301}ne",
            "Ǆ",
            "",
        ];
        let candidates = [
            "jane-doe", "kim", "kk", "ivan", "jane-do", "jane", "k", "ka", "",
        ];
        for handle in handles {
            for candidate in candidates {
                assert_eq!(
                    lower_case_equals(handle, candidate),
                    handle.to_lowercase() == candidate,
                    "{handle:?} {candidate:?}"
                );
            }
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
