//! The keys every object of the case format may hold, checked before serde sees a case.
//!
//! serde's `deny_unknown_fields` names the key but neither where it is nor what was
//! meant; a walk over the JSON can say both (`.accounts[0]`, "did you mean
//! `memberships`?"), and it covers the objects whose types cannot deny unknown fields.

use serde_json::Value;

/// What a JSON value must look like, as far as keys go; serde checks the rest.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    /// A value whose keys, if any, are not ours to check (strings, numbers, instants).
    Leaf,
    /// An object with these keys and no others, each value of its shape.
    Object(&'static [(&'static str, Shape)]),
    /// An object whose keys are free (org ids), each value of this shape.
    Map(&'static Shape),
    /// An array whose items have this shape.
    List(&'static Shape),
}

use Shape::{Leaf, List, Map, Object};

const GRANT: Shape = Object(&[("org", Leaf), ("role", Leaf)]);

const ORG: Shape = Object(&[
    ("jit", Leaf),
    ("idp", Leaf),
    ("provision", List(&GRANT)),
    ("reauth_after_secs", Leaf),
    ("force_authn", Leaf),
    ("verified_domains", Leaf),
    ("required_groups", Leaf),
    ("group_roles", List(&GROUP_ROLE)),
    ("sync_roles", Leaf),
    ("scim_roles", Leaf),
    ("scim_name_id", Leaf),
    ("state", Leaf),
    ("saml", SAML),
]);

/// An org's SAML settings: the keys of `jit-provisioning-saml`'s `OrgSamlConfig`, whose
/// tests check that the two agree.
pub(crate) const SAML: Shape = Object(&[
    (
        "idp",
        Object(&[
            ("metadata", Leaf),
            ("metadata_file", Leaf),
            ("metadata_url", Leaf),
            ("entity_id", Leaf),
            ("sso_url", Leaf),
            ("certificates", Leaf),
        ]),
    ),
    // A trust change waiting for its test sign-in (the SAML adapter's `PendingTrust`),
    // which the admin pages write and the adapter checks.
    ("pending", Leaf),
    (
        "options",
        Object(&[
            ("allow_sha1", Leaf),
            ("require_signed_response", Leaf),
            ("require_signed_assertion", Leaf),
            ("allow_idp_initiated", Leaf),
            ("skew_secs", Leaf),
            ("insecure_allow_rsa1_5_key_transport", Leaf),
        ]),
    ),
    (
        "attributes",
        Object(&[
            ("preset", Leaf),
            ("given_name", Leaf),
            ("family_name", Leaf),
            ("email", Leaf),
            ("display_name", Leaf),
            ("groups", Leaf),
            // `"name_id"` or `{ "attribute": "<name>" }`.
            ("subject", Leaf),
            ("group_separator", Leaf),
        ]),
    ),
    ("binding", Leaf),
    ("sign_requests", Leaf),
    ("sp_entity_id", Leaf),
    ("acs_url", Leaf),
]);

const GROUP_ROLE: Shape = Object(&[("group", Leaf), ("org", Leaf), ("role", Leaf)]);

/// The provisioning config, inline or in a config file.
pub(crate) const CONFIG: Shape = Object(&[
    ("deployment", Leaf),
    ("orgs", Map(&ORG)),
    ("reserved_handles", Leaf),
    ("max_handle_len", Leaf),
]);

/// `"config": {"file": …}`.
pub(crate) const CONFIG_FILE: Shape = Object(&[("file", Leaf)]);

/// An account named by id (a string) or by the step that made it (`{"step": N}`).
const ACCOUNT_REF: Shape = Object(&[("step", Leaf)]);

const ACCOUNT: Shape = Object(&[
    ("id", Leaf),
    ("handle", Leaf),
    ("email", Leaf),
    (
        "identities",
        List(&Object(&[("issuer", Leaf), ("subject", Leaf)])),
    ),
    // Org id → role: the keys are free.
    ("memberships", Leaf),
    ("disabled", Leaf),
    ("has_password", Leaf),
    ("given_name", Leaf),
    ("family_name", Leaf),
]);

const REQUEST: Shape = Object(&[
    (
        "portal_visit",
        Object(&[
            ("org", Leaf),
            (
                "session",
                Object(&[("account", ACCOUNT_REF), ("sso_at", Leaf)]),
            ),
            ("return_to", Leaf),
        ]),
    ),
    (
        "assertion",
        Object(&[
            ("org", Leaf),
            ("issuer", Leaf),
            ("subject", Leaf),
            ("given_name", Leaf),
            ("family_name", Leaf),
            ("email", Leaf),
            ("groups", Leaf),
            ("groups_incomplete", Leaf),
            ("authn_instant", Leaf),
            ("return_to", Leaf),
        ]),
    ),
    (
        "idp_error",
        Object(&[("org", Leaf), ("status", Leaf), ("sub_status", Leaf)]),
    ),
]);

const EXPECT: Shape = Object(&[
    ("outcome", Leaf),
    ("account", ACCOUNT_REF),
    ("handle", Leaf),
    ("grants", List(&GRANT)),
    ("raises", List(&GRANT)),
    ("linked", Leaf),
    ("password", Leaf),
    ("given_name", Leaf),
    ("family_name", Leaf),
    (
        "landing",
        Object(&[("org_home", Leaf), ("user_home", Leaf), ("path", Leaf)]),
    ),
    ("force_authn", Leaf),
    ("reason", Leaf),
    ("rule", Leaf),
    ("message", Leaf),
]);

const STEP: Shape = Object(&[
    ("name", Leaf),
    ("now", Leaf),
    ("request", REQUEST),
    ("expect", EXPECT),
]);

/// One case. Its `config` is checked on its own: inline it is [`CONFIG`], as a reference
/// [`CONFIG_FILE`], and a config file's errors name that file.
pub(crate) const CASE: Shape = Object(&[
    ("format", Leaf),
    ("name", Leaf),
    ("now", Leaf),
    ("config", Leaf),
    ("accounts", List(&ACCOUNT)),
    (
        "invites",
        List(&Object(&[
            ("org", Leaf),
            ("role", Leaf),
            ("account", Leaf),
            ("email", Leaf),
            ("subject", Object(&[("issuer", Leaf), ("subject", Leaf)])),
            ("expires_at", Leaf),
        ])),
    ),
    (
        "deprovisioned",
        List(&Object(&[
            ("org", Leaf),
            ("issuer", Leaf),
            ("subject", Leaf),
            ("by", Leaf),
            ("at", Leaf),
        ])),
    ),
    ("request", REQUEST),
    ("expect", EXPECT),
    ("steps", List(&STEP)),
]);

/// The first key in `value` that `shape` does not allow, as a message naming where it
/// is (a jq path, from `at`: `.config` for a case's inline config, empty for a whole
/// case or config file), the nearest valid key and every valid key there.
pub(crate) fn check_keys(value: &Value, shape: Shape, at: &str) -> Result<(), String> {
    walk(value, shape, &mut at.to_owned())
}

fn walk(value: &Value, shape: Shape, path: &mut String) -> Result<(), String> {
    match (shape, value) {
        (Object(fields), Value::Object(object)) => {
            for (key, item) in object {
                let Some((_, inner)) = fields.iter().find(|(name, _)| name == key) else {
                    let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
                    let place = if path.is_empty() { "." } else { path.as_str() };
                    return Err(format!(
                        "unknown key `{key}` at `{place}`: {}",
                        suggestion(key, &names)
                    ));
                };
                let len = path.len();
                path.push('.');
                path.push_str(key);
                walk(item, *inner, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        (Map(inner), Value::Object(object)) => {
            for (key, item) in object {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                walk(item, *inner, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        (List(inner), Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{index}]"));
                walk(item, *inner, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        // A value of another type than expected is serde's to report, with its type.
        _ => Ok(()),
    }
}

/// "did you mean `nearest`? expected one of `a`, `b`": what a load error says when a
/// name is not in a closed list.
pub(crate) fn suggestion(written: &str, valid: &[&str]) -> String {
    let listed: Vec<String> = valid.iter().map(|name| format!("`{name}`")).collect();
    match nearest(written, valid) {
        Some(near) => format!(
            "did you mean `{near}`? expected one of {}",
            listed.join(", ")
        ),
        None => format!("expected one of {}", listed.join(", ")),
    }
}

/// The valid name closest to `written` (ignoring case), when it shares enough with it
/// to be a plausible intent; the first of equals.
///
/// Edit distance alone prefers short names (`redirect` is nearer `error` than
/// `redirect_to_idp`), so a shared start or end counts in the name's favour.
fn nearest<'a>(written: &str, valid: &[&'a str]) -> Option<&'a str> {
    // A name far longer than every valid one is no slip of the finger, and comparing it
    // would cost its length times theirs in time and memory.
    let longest = valid.iter().map(|name| name.chars().count()).max()?;
    if written.chars().count() > 2 * longest + 4 {
        return None;
    }
    let written = written.to_lowercase();
    let scored = valid.iter().map(|name| {
        let distance = edit_distance(&written, name);
        let shared = shared_ends(&written, name);
        let plausible = distance * 2 <= name.chars().count().max(written.chars().count())
            || shared >= 3
            || name.contains(written.as_str())
            || written.contains(name);
        (distance.saturating_sub(shared), distance, plausible, *name)
    });
    let (_, _, plausible, name) =
        scored.min_by_key(|(score, distance, _, _)| (*score, *distance))?;
    plausible.then_some(name)
}

/// How many characters `a` and `b` share at their start plus at their end, never more
/// than the shorter one has.
fn shared_ends(a: &str, b: &str) -> usize {
    let prefix = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let suffix = a
        .chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .count();
    (prefix + suffix).min(a.chars().count().min(b.chars().count()))
}

/// Edit distance in characters, a swap of two neighbours counting as one edit (`ipd` for
/// `idp` is one slip, not two).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: the distance between the first i characters of a and the first j of b.
    let mut rows: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| {
            (0..=b.len())
                .map(|j| {
                    if i == 0 {
                        j
                    } else if j == 0 {
                        i
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect();
    let at = |rows: &Vec<Vec<usize>>, i: usize, j: usize| {
        rows.get(i)
            .and_then(|row| row.get(j))
            .copied()
            .unwrap_or(usize::MAX / 2)
    };
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let (ca, cb) = (a.get(i - 1), b.get(j - 1));
            let mut best = (at(&rows, i - 1, j) + 1)
                .min(at(&rows, i, j - 1) + 1)
                .min(at(&rows, i - 1, j - 1) + usize::from(ca != cb));
            let swapped = i > 1 && j > 1 && ca == b.get(j - 2) && a.get(i - 2) == cb;
            if swapped {
                best = best.min(at(&rows, i - 2, j - 2) + 1);
            }
            if let Some(cell) = rows.get_mut(i).and_then(|row| row.get_mut(j)) {
                *cell = best;
            }
        }
    }
    at(&rows, a.len(), b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("membership", "memberships"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("ipd", "idp"), 1);
        assert_eq!(edit_distance("abc", ""), 3);
    }

    #[test]
    fn a_suggestion_is_made_only_when_plausible() {
        let outcomes = ["signed_in", "redirect_to_idp", "denied"];
        assert_eq!(nearest("redirect", &outcomes), Some("redirect_to_idp"));
        assert_eq!(nearest("Denied", &outcomes), Some("denied"));
        assert_eq!(nearest("zzz", &outcomes), None);
        assert_eq!(nearest(&"redirect".repeat(10_000), &outcomes), None);
        let message = suggestion("zzz", &outcomes);
        assert_eq!(
            message,
            "expected one of `signed_in`, `redirect_to_idp`, `denied`"
        );
    }

    #[test]
    fn paths_name_where_the_key_is() {
        let case: Value =
            serde_json::from_str(r#"{"accounts": [{"id": "1"}, {"id": "2", "handel": "x"}]}"#)
                .unwrap();
        let message = check_keys(&case, CASE, "").unwrap_err();
        assert!(
            message.starts_with("unknown key `handel` at `.accounts[1]`: did you mean `handle`?"),
            "{message}"
        );
        let top: Value = serde_json::from_str(r#"{"nme": "x"}"#).unwrap();
        assert!(check_keys(&top, CASE, "")
            .unwrap_err()
            .starts_with("unknown key `nme` at `.`: did you mean `name`?"));
    }

    #[test]
    fn free_keys_are_free_and_wrong_types_are_left_to_serde() {
        let config: Value = serde_json::from_str(
            r#"{"orgs": {"any-org-id": {"jit": true}}, "reserved_handles": 3}"#,
        )
        .unwrap();
        assert!(check_keys(&config, CONFIG, "").is_ok());
        let accounts_not_a_list: Value = serde_json::from_str(r#"{"accounts": {"x": 1}}"#).unwrap();
        assert!(check_keys(&accounts_not_a_list, CASE, "").is_ok());
    }
}
