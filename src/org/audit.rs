//! The history of an org: who changed what, when.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::OrgConfig;

/// One change to an org, as its history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditEntry {
    /// The org.
    pub org: String,
    /// The version the change made.
    pub version: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who, as the caller named them.
    pub actor: String,
    /// What changed, field by field; the first version lists every field it set.
    pub changes: Vec<FieldChange>,
}

impl AuditEntry {
    /// The entry of `org`'s `version`, written by `actor` at `at`.
    pub fn new(
        org: impl Into<String>,
        version: u64,
        at: DateTime<Utc>,
        actor: impl Into<String>,
        changes: Vec<FieldChange>,
    ) -> Self {
        AuditEntry {
            org: org.into(),
            version,
            at,
            actor: actor.into(),
            changes,
        }
    }
}

/// One field of an org's config that a change set, altered or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldChange {
    /// The field's path in the config, dotted (`jit`, `saml.idp.metadata_url`); a list
    /// is one field.
    pub field: String,
    /// Its value before; `None` when it was not set.
    pub before: Option<Value>,
    /// Its value after; `None` when it is no longer set.
    pub after: Option<Value>,
}

impl FieldChange {
    /// `field` changed from `before` to `after` (`None`: not set).
    pub fn new(field: impl Into<String>, before: Option<Value>, after: Option<Value>) -> Self {
        FieldChange {
            field: field.into(),
            before,
            after,
        }
    }
}

/// The fields that differ between `before` (`None`: the org is new) and `after`, in the
/// order of their paths. Tables are followed key by key; anything else is one field.
pub fn changes_between(before: Option<&OrgConfig>, after: &OrgConfig) -> Vec<FieldChange> {
    let as_json = |config: &OrgConfig| serde_json::to_value(config).unwrap_or(Value::Null);
    let before = before.map(as_json);
    let after = as_json(after);
    let mut changes = Vec::new();
    walk("", before.as_ref(), Some(&after), &mut changes);
    changes
}

fn walk(path: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldChange>) {
    if before == after {
        return;
    }
    let table = |value: Option<&Value>| matches!(value, Some(Value::Object(_)) | None);
    if table(before) && table(after) {
        // A table added, removed or changed: follow it key by key.
        let keys_of = |value: Option<&Value>| match value {
            Some(Value::Object(map)) => map.keys().cloned().collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let keys: BTreeSet<String> = keys_of(before).into_iter().chain(keys_of(after)).collect();
        for key in keys {
            let inner = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            walk(
                &inner,
                before.and_then(|v| v.get(&key)),
                after.and_then(|v| v.get(&key)),
                out,
            );
        }
    } else {
        out.push(FieldChange {
            field: path.to_owned(),
            before: before.cloned(),
            after: after.cloned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> OrgConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_new_org_lists_every_field_it_sets() {
        let changes = changes_between(None, &config(r#"{"jit": true, "idp": "https://idp"}"#));
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["force_authn", "idp", "jit"]);
        assert!(changes.iter().all(|c| c.before.is_none()));
    }

    #[test]
    fn a_change_names_each_field_with_before_and_after() {
        let before = config(
            r#"{"jit": true, "idp": "https://idp", "saml": {"idp": {"metadata_url": "https://a"}}}"#,
        );
        let after = config(
            r#"{"jit": false, "idp": "https://idp", "state": "inactive", "saml": {"idp": {"metadata_url": "https://b"}}}"#,
        );
        let changes = changes_between(Some(&before), &after);
        let summary: Vec<(String, Option<Value>, Option<Value>)> = changes
            .into_iter()
            .map(|c| (c.field, c.before, c.after))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "jit".into(),
                    Some(Value::Bool(true)),
                    Some(Value::Bool(false))
                ),
                (
                    "saml.idp.metadata_url".into(),
                    Some("https://a".into()),
                    Some("https://b".into())
                ),
                ("state".into(), None, Some("inactive".into())),
            ]
        );
    }

    #[test]
    fn nothing_changed_is_no_change() {
        let same = config(r#"{"jit": true, "idp": "https://idp"}"#);
        assert!(changes_between(Some(&same), &same).is_empty());
    }
}
