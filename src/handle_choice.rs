//! How the engine picks a new account's handle, as data a store can run again on fresh
//! data: the lowest free suffix chosen inside the insert.

use serde::{Deserialize, Serialize};

use crate::config::MAX_HANDLE_LEN;
use crate::handle::{search, stems_of, Found, HandleBase};
use crate::taken_handles::TakenHandles;

/// The rule a new account's handle was chosen by: the [`HandleBase`], the longest handle
/// allowed, and the handles the policy keeps from people (built-in and configured
/// reserved words, org ids) that the search under the base's stems could meet.
///
/// The engine proposes the lowest free handle among the handles the store had when it
/// looked; by the time the account is created a concurrent login may have taken it. A
/// store that finds the proposed handle taken runs the same search again, in the same
/// atomic step as the insert, on the handles it holds under [`HandleChoice::stems`], with
/// [`HandleChoice::free_handle`]. A burst of first logins of one name then costs each
/// login one creation, instead of one race per login before it.
///
/// ```
/// use jit_provisioning::{HandleBase, HandleChoice};
///
/// let base = HandleBase::derive(Some("Jane"), Some("Doe"), None);
/// // The config reserves `jane-doe-3` (an org id, say).
/// let choice = HandleChoice::new(base, 39, vec!["jane-doe-3".into()]);
/// assert_eq!(choice.stems(), ["jane-doe"]);
///
/// let in_store = vec!["jane-doe".to_owned(), "jane-doe-2".to_owned()];
/// assert_eq!(choice.free_handle(&in_store).as_deref(), Some("jane-doe-4"));
///
/// // With room for one letter and a suffix, few handles exist at all.
/// let tiny = HandleChoice::new(HandleBase::derive(Some("Jo"), None, None), 3, Vec::new());
/// let all: Vec<String> = ["jo", "j-2", "j-3", "j-4", "j-5", "j-6", "j-7", "j-8", "j-9"]
///     .map(str::to_owned)
///     .to_vec();
/// assert_eq!(tiny.free_handle(&all), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandleChoice {
    /// The base's words.
    base: String,
    /// The longest handle allowed, suffix included.
    max_len: usize,
    /// Lower-case handles the policy keeps, each a stem or a stem followed by `-` and
    /// digits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    kept: Vec<String>,
}

impl HandleChoice {
    /// The rule of a search from `base` for handles of at most `max_len` characters (at
    /// most [`MAX_HANDLE_LEN`]), where the policy keeps the handles in `kept`. Only the
    /// kept handles that the search can meet matter (a stem, or a stem, `-` and digits);
    /// others are harmless.
    pub fn new(base: HandleBase, max_len: usize, kept: Vec<String>) -> Self {
        let mut kept: Vec<String> = kept.into_iter().map(|word| word.to_lowercase()).collect();
        kept.sort_unstable();
        kept.dedup();
        HandleChoice {
            base: base.into_words(),
            max_len: max_len.min(MAX_HANDLE_LEN),
            kept,
        }
    }

    /// The base the handle is made from.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The longest handle allowed.
    pub fn max_len(&self) -> usize {
        // A deserialized choice was not made by `new`: cap it here too, so that no input
        // asks the search for a buffer of any size.
        self.max_len.min(MAX_HANDLE_LEN)
    }

    /// The handles the policy keeps that the search could meet.
    pub fn kept(&self) -> &[String] {
        &self.kept
    }

    /// The stems every candidate starts with ([`HandleBase::stems`]): a store asks for the
    /// handles it holds equal to a stem or to a stem followed by `-` and digits, as
    /// [`AccountStore::taken_handles`](crate::AccountStore::taken_handles) answers.
    pub fn stems(&self) -> Vec<String> {
        stems_of(&self.base, self.max_len())
    }

    /// The lowest free handle by the engine's own rule, given `taken_in_store`: at least
    /// every handle the store holds under [`HandleChoice::stems`] (more is harmless),
    /// compared case-insensitively. `None` when no candidate is free: the store reports
    /// [`CreateError::HandleTaken`](crate::CreateError::HandleTaken), and the provisioner
    /// decides again, which refuses the login with the `no_free_handle` rule.
    pub fn free_handle(&self, taken_in_store: &[String]) -> Option<String> {
        let taken = TakenHandles::new(taken_in_store);
        // Pigeonhole: among this many candidates at least one is neither in the store
        // nor kept, so the first free one is found within the bound.
        let max_attempts = taken
            .len()
            .saturating_add(self.kept.len())
            .saturating_add(1);
        let found = search(&self.base, self.max_len(), max_attempts, |candidate| {
            taken.contains(candidate)
                || self
                    .kept
                    .iter()
                    .any(|kept| kept.eq_ignore_ascii_case(candidate))
        })?;
        match found {
            Found::WholeBase => Some(self.base.clone()),
            Found::Other(handle) => Some(handle),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(given: &str, family: &str, max_len: usize, kept: &[&str]) -> HandleChoice {
        HandleChoice::new(
            HandleBase::derive(Some(given), Some(family), None),
            max_len,
            kept.iter().map(|&word| word.to_owned()).collect(),
        )
    }

    fn owned(handles: &[&str]) -> Vec<String> {
        handles.iter().map(|&handle| handle.to_owned()).collect()
    }

    #[test]
    fn the_proposed_handle_when_free_the_lowest_free_suffix_otherwise() {
        let jane = choice("Jane", "Doe", 39, &[]);
        assert_eq!(jane.free_handle(&[]).as_deref(), Some("jane-doe"));
        let taken = owned(&["Jane-Doe", "jane-doe-2", "jane-doe-4"]);
        assert_eq!(jane.free_handle(&taken).as_deref(), Some("jane-doe-3"));
        let taken: Vec<String> = std::iter::once("jane-doe".to_owned())
            .chain((2..=1_000).map(|n| format!("jane-doe-{n}")))
            .collect();
        assert_eq!(jane.free_handle(&taken).as_deref(), Some("jane-doe-1001"));
    }

    #[test]
    fn kept_handles_are_skipped_in_any_case() {
        let admin = choice("Admin", "", 39, &["Admin", "admin-2"]);
        assert_eq!(admin.kept(), ["admin", "admin-2"]);
        assert_eq!(admin.free_handle(&[]).as_deref(), Some("admin-3"));
        assert_eq!(
            admin.free_handle(&owned(&["admin-3"])).as_deref(),
            Some("admin-4")
        );
    }

    #[test]
    fn long_bases_are_cut_as_the_engine_cuts_them() {
        let long = choice(
            "Maximiliana Alexandra",
            "Konstantinopoulou Papadopoulos",
            39,
            &[],
        );
        assert_eq!(
            long.stems(),
            [
                "maximiliana-alexandra-konstantinopoulou",
                "maximiliana-alexandra",
                "maximiliana"
            ]
        );
        let taken = owned(&["maximiliana-alexandra-konstantinopoulou"]);
        assert_eq!(
            long.free_handle(&taken).as_deref(),
            Some("maximiliana-alexandra-2")
        );
    }

    #[test]
    fn a_deserialized_choice_cannot_ask_for_a_huge_buffer() {
        let json = r#"{"base": "jane-doe", "max_len": 18446744073709551615}"#;
        let choice: HandleChoice = serde_json::from_str(json).unwrap();
        assert_eq!(choice.max_len(), MAX_HANDLE_LEN);
        assert_eq!(
            choice.free_handle(&owned(&["jane-doe"])).as_deref(),
            Some("jane-doe-2")
        );
        let empty: HandleChoice = serde_json::from_str(r#"{"base": "", "max_len": 0}"#).unwrap();
        assert_eq!(empty.free_handle(&[]), None);
        assert!(empty.stems().is_empty());
    }
}
