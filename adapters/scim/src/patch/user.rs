//! Applying a PATCH to a user: on the user's JSON, then read back with the same checks
//! as a PUT, so that a PATCH can never make a user a PUT would refuse.

use serde_json::{Map, Value};

use super::{PatchKind, PatchOp, PatchOperation, PatchPath};
use crate::error::{ScimError, ScimType};
use crate::filter::{CompValue, CompareOp, Filter};
use crate::json::{items, key_ci};
use crate::schema::{
    canonical_name, find, same_uri, ENTERPRISE_USER_ATTRS, ENTERPRISE_USER_SCHEMA, USER_ATTRS,
};
use crate::user::{too_many_values, ScimUser};

impl PatchOp {
    /// Applies the operations, in order, to `user`, and returns the changed user; `id`,
    /// `groups` and `meta` stay as they were (the store updates `meta`).
    ///
    /// Refusals: `mutability` for read-only attributes and for removing `active` (a
    /// required attribute: it may be replaced, never unassigned), `noTarget` for a value
    /// filter that selects nothing where there is nothing to create, and the refusals of
    /// [`ScimUser::from_json`] for a result that is not a valid user (`invalidValue` for a
    /// removed `userName`).
    ///
    /// A `replace` (or `add`) through a value filter of equalities that matches nothing
    /// adds the value the filter describes: Entra ID replaces
    /// `emails[type eq "work"].value` whether or not the user has a work address yet.
    ///
    /// ```
    /// use jit_provisioning_scim::{PatchOp, ResourceKind, ScimUser};
    ///
    /// let user = ScimUser::new("bjensen");
    /// let body = br#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    ///     "Operations": [{"op": "Replace", "path": "active", "value": "False"},
    ///                    {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "b@example.com"}]}"#;
    /// let patched = PatchOp::parse(body, ResourceKind::User, "u1")?.apply_to_user(&user)?;
    /// assert_eq!(patched.active, Some(false));
    /// assert_eq!(patched.emails[0].value, "b@example.com");
    /// assert_eq!(patched.emails[0].email_type.as_deref(), Some("work"));
    /// # Ok::<(), jit_provisioning_scim::ScimError>(())
    /// ```
    pub fn apply_to_user(&self, user: &ScimUser) -> Result<ScimUser, ScimError> {
        let mut document = user.to_json();
        let Some(object) = document.as_object_mut() else {
            return Err(ScimError::internal());
        };
        for operation in &self.operations {
            apply(object, operation)?;
        }
        let mut patched = ScimUser::from_json(&document)?;
        // `active` is published as required: a user who has it always has it, so a
        // PATCH that leaves it unassigned (`remove`, or a `null` value) is refused, as
        // RFC 7644 §3.5.2 has it for a required attribute, rather than quietly leaving
        // the user as active as before.
        if patched.active.is_none() && user.active.is_some() {
            return Err(ScimError::new(
                ScimType::Mutability,
                "`active` is required and cannot be removed; replace it with true or false",
            ));
        }
        patched.id.clone_from(&user.id);
        patched.groups.clone_from(&user.groups);
        patched.meta.clone_from(&user.meta);
        Ok(patched)
    }
}

fn apply(document: &mut Map<String, Value>, operation: &PatchOperation) -> Result<(), ScimError> {
    let path = &operation.path;
    let core = path.in_core();
    if core
        && ["id", "meta", "groups", "schemas"]
            .iter()
            .any(|n| path.is(n))
    {
        return Err(ScimError::new(
            ScimType::Mutability,
            format!("`{}` is read-only", path.attribute),
        ));
    }
    let container = match (&path.schema, core) {
        (Some(schema), false) => {
            let key = key_ci(document, schema).unwrap_or_else(|| schema.clone());
            if operation.op == PatchKind::Remove && !document.contains_key(&key) {
                return Ok(());
            }
            let entry = document
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            match entry.as_object_mut() {
                Some(container) => container,
                None => return Err(ScimError::internal()),
            }
        }
        _ => document,
    };
    let attrs = if core {
        Some(USER_ATTRS)
    } else if path
        .schema
        .as_deref()
        .is_some_and(|s| same_uri(s, ENTERPRISE_USER_SCHEMA))
    {
        Some(ENTERPRISE_USER_ATTRS)
    } else {
        None
    };
    let def = attrs.and_then(|a| find(a, &path.attribute));
    let key = key_ci(container, &path.attribute).unwrap_or_else(|| {
        canonical_name(&path.attribute).map_or_else(|| path.attribute.clone(), str::to_owned)
    });
    let multi = def.map_or_else(
        || container.get(&key).is_some_and(Value::is_array),
        |d| d.multi,
    );
    let complex = def.is_some_and(|d| d.is_complex());
    match (operation.op, &path.value_filter) {
        (PatchKind::Remove, None) => remove(container, &key, path.sub_attribute.as_deref()),
        (PatchKind::Remove, Some(filter)) => {
            if let Some(Value::Array(list)) = container.get_mut(&key) {
                match &path.sub_attribute {
                    None => list.retain(|item| !filter.matches(item)),
                    Some(sub) => {
                        for item in list.iter_mut().filter(|item| filter.matches(item)) {
                            if let Some(object) = item.as_object_mut() {
                                remove(object, sub, None);
                            }
                        }
                    }
                }
                if list.is_empty() {
                    container.remove(&key);
                }
            }
        }
        (_, None) => {
            let value = operation.value.clone().unwrap_or(Value::Null);
            match &path.sub_attribute {
                Some(sub) => set_sub(container, &key, sub, value, multi),
                None if multi => set_values(container, &key, &value, operation.op)?,
                None if complex
                    || (value.is_object() && container.get(&key).is_some_and(Value::is_object)) =>
                {
                    merge(container, &key, &value)
                }
                None => {
                    container.insert(key.clone(), value);
                }
            }
        }
        (_, Some(filter)) => {
            let value = operation.value.clone().unwrap_or(Value::Null);
            set_filtered(container, &key, filter, path, value)?;
        }
    }
    if multi {
        if let Some(Value::Array(list)) = container.get(&key) {
            too_many_values(&key, list.len())?;
        }
        one_primary(container, &key);
    }
    Ok(())
}

fn remove(object: &mut Map<String, Value>, key: &str, sub: Option<&str>) {
    let Some(key) = key_ci(object, key) else {
        return;
    };
    let Some(sub) = sub else {
        object.remove(&key);
        return;
    };
    match object.get_mut(&key) {
        Some(Value::Object(inner)) => {
            if let Some(sub_key) = key_ci(inner, sub) {
                inner.remove(&sub_key);
            }
        }
        Some(Value::Array(list)) => {
            for inner in list.iter_mut().filter_map(Value::as_object_mut) {
                if let Some(sub_key) = key_ci(inner, sub) {
                    inner.remove(&sub_key);
                }
            }
        }
        _ => {}
    }
}

fn set_ci(object: &mut Map<String, Value>, name: &str, value: Value) {
    let key = key_ci(object, name)
        .unwrap_or_else(|| canonical_name(name).map_or_else(|| name.to_owned(), str::to_owned));
    object.insert(key, value);
}

/// `name.givenName`: the sub-attribute of a complex attribute (of each value, for a
/// multi-valued one).
fn set_sub(container: &mut Map<String, Value>, key: &str, sub: &str, value: Value, multi: bool) {
    let entry = container.entry(key.to_owned()).or_insert_with(|| {
        if multi {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        }
    });
    match entry {
        Value::Array(list) => {
            for item in list.iter_mut().filter_map(Value::as_object_mut) {
                set_ci(item, sub, value.clone());
            }
        }
        Value::Object(object) => set_ci(object, sub, value),
        other => {
            let mut object = Map::new();
            set_ci(&mut object, sub, value);
            *other = Value::Object(object);
        }
    }
}

/// A multi-valued attribute: `replace` sets the values, `add` appends the new ones.
fn set_values(
    container: &mut Map<String, Value>,
    key: &str,
    value: &Value,
    op: PatchKind,
) -> Result<(), ScimError> {
    let new: Vec<Value> = items(value).into_iter().cloned().collect();
    // Checked before the duplicates are looked for, which is quadratic.
    too_many_values(key, new.len())?;
    if op == PatchKind::Replace {
        container.insert(key.to_owned(), Value::Array(new));
        return Ok(());
    }
    let entry = container
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(Vec::new());
    }
    if let Value::Array(list) = entry {
        for item in new {
            if !list.contains(&item) {
                list.push(item);
            }
        }
    }
    Ok(())
}

/// A complex attribute: the given sub-attributes replace theirs, the others stay
/// (RFC 7644 §3.5.2.1, §3.5.2.3).
fn merge(container: &mut Map<String, Value>, key: &str, value: &Value) {
    let Value::Object(update) = value else {
        container.insert(key.to_owned(), value.clone());
        return;
    };
    let entry = container
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(object) = entry {
        for (name, v) in update {
            set_ci(object, name, v.clone());
        }
    }
}

/// `emails[type eq "work"].value`: sets the sub-attribute (or merges the value) in each
/// matching value; when none matches and the filter is made of equalities, adds the value
/// it describes.
fn set_filtered(
    container: &mut Map<String, Value>,
    key: &str,
    filter: &Filter,
    path: &PatchPath,
    value: Value,
) -> Result<(), ScimError> {
    let entry = container
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(vec![entry.clone()]);
    }
    let Value::Array(list) = entry else {
        return Err(ScimError::internal());
    };
    let mut matched = false;
    for item in list.iter_mut().filter(|item| filter.matches(item)) {
        matched = true;
        if let Some(object) = item.as_object_mut() {
            write_into(object, path.sub_attribute.as_deref(), &value);
        }
    }
    if matched {
        return Ok(());
    }
    let Some(mut seed) = seed(filter) else {
        return Err(ScimError::new(
            ScimType::NoTarget,
            format!("no value of `{}` matches `[{filter}]`", path.attribute),
        ));
    };
    write_into(&mut seed, path.sub_attribute.as_deref(), &value);
    list.push(Value::Object(seed));
    Ok(())
}

fn write_into(object: &mut Map<String, Value>, sub: Option<&str>, value: &Value) {
    match (sub, value) {
        (Some(sub), _) => set_ci(object, sub, value.clone()),
        (None, Value::Object(update)) => {
            for (name, v) in update {
                set_ci(object, name, v.clone());
            }
        }
        (None, other) => set_ci(object, "value", other.clone()),
    }
}

/// The value a filter of equalities describes: `type eq "work"` → `{"type": "work"}`.
fn seed(filter: &Filter) -> Option<Map<String, Value>> {
    let mut object = Map::new();
    let parts: Vec<&Filter> = match filter {
        Filter::And(items) => items.iter().collect(),
        other => vec![other],
    };
    for part in parts {
        match part {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } if path.sub_attribute.is_none() && path.schema.is_none() => {
                if *value == CompValue::Null {
                    return None;
                }
                object.insert(path.name.clone(), value.to_json());
            }
            _ => return None,
        }
    }
    Some(object)
}

/// At most one value is primary: when several are, the last one set stays primary
/// (RFC 7643 §2.4).
fn one_primary(container: &mut Map<String, Value>, key: &str) {
    let Some(Value::Array(list)) = container.get_mut(key) else {
        return;
    };
    let is_primary = |item: &Value| {
        item.as_object()
            .and_then(|o| key_ci(o, "primary").and_then(|k| o.get(&k)))
            .is_some_and(|p| {
                p == &Value::Bool(true)
                    || p.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
            })
    };
    let primaries = list.iter().filter(|item| is_primary(item)).count();
    if primaries < 2 {
        return;
    }
    let mut seen = 0;
    for item in list.iter_mut() {
        if is_primary(item) {
            seen += 1;
            if seen < primaries {
                if let Some(object) = item.as_object_mut() {
                    set_ci(object, "primary", Value::Bool(false));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::meta::ResourceKind;
    use crate::schema::PATCH_OP_SCHEMA;
    use crate::user::{Email, Name};

    fn patch(operations: Value) -> Result<PatchOp, ScimError> {
        let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations});
        PatchOp::parse(body.to_string().as_bytes(), ResourceKind::User, "u1")
    }

    fn applied(user: &ScimUser, operations: Value) -> Result<ScimUser, ScimError> {
        patch(operations)?.apply_to_user(user)
    }

    fn base() -> ScimUser {
        let mut user = ScimUser::new("bjensen");
        user.id = Some("u1".into());
        user.name = Some(Name::new("Barbara", "Jensen"));
        user.emails = vec![Email::new("b@work.example").with_type("work").primary()];
        user.active = Some(true);
        user
    }

    #[test]
    fn replaces_adds_and_removes() {
        let user = base();
        let patched = applied(
            &user,
            json!([
                {"op": "replace", "path": "name.familyName", "value": "Smith"},
                {"op": "add", "path": "emails", "value": [{"value": "b@home.example", "type": "home", "primary": "True"}]},
                {"op": "add", "path": "displayName", "value": "Babs"},
                {"op": "remove", "path": "emails[type eq \"work\"]"},
            ]),
        );
        let patched = patched.unwrap_or_else(|e| ScimUser::new(&e.to_string()));
        assert_eq!(
            patched.name.as_ref().and_then(|n| n.family_name.as_deref()),
            Some("Smith")
        );
        assert_eq!(
            patched.name.as_ref().and_then(|n| n.given_name.as_deref()),
            Some("Barbara")
        );
        assert_eq!(
            patched.emails,
            vec![Email::new("b@home.example").with_type("home").primary()]
        );
        assert_eq!(patched.display_name.as_deref(), Some("Babs"));
        assert_eq!(patched.id.as_deref(), Some("u1"));
    }

    #[test]
    fn a_new_primary_demotes_the_old() {
        let patched = applied(
            &base(),
            json!([{"op": "add", "path": "emails", "value": {"value": "n@x", "primary": true}}]),
        );
        let emails = patched.map(|u| u.emails).unwrap_or_default();
        assert_eq!(
            emails
                .iter()
                .filter(|e| e.primary)
                .map(|e| e.value.as_str())
                .collect::<Vec<_>>(),
            ["n@x"]
        );
        assert_eq!(emails.len(), 2);
    }

    #[test]
    fn no_target_and_mutability() {
        let kind = |ops: Value| applied(&base(), ops).err().and_then(|e| e.scim_type());
        assert_eq!(
            kind(
                json!([{"op": "replace", "path": "emails[value sw \"nobody\"].type", "value": "home"}])
            ),
            Some(ScimType::NoTarget)
        );
        assert_eq!(
            kind(json!([{"op": "remove", "path": "userName"}])),
            Some(ScimType::InvalidValue)
        );
        let by_hand = PatchOp {
            operations: vec![PatchOperation::new(
                PatchKind::Replace,
                PatchPath::new("id"),
                Some(json!("x")),
            )],
        };
        assert_eq!(
            by_hand
                .apply_to_user(&base())
                .err()
                .and_then(|e| e.scim_type()),
            Some(ScimType::Mutability)
        );
    }

    #[test]
    fn active_is_replaced_never_removed() {
        let kind =
            |user: &ScimUser, ops: Value| applied(user, ops).err().and_then(|e| e.scim_type());
        for ops in [
            json!([{"op": "remove", "path": "active"}]),
            json!([{"op": "Remove", "path": "ACTIVE"}]),
            json!([{"op": "replace", "value": {"active": null}}]),
        ] {
            assert_eq!(
                kind(&base(), ops.clone()),
                Some(ScimType::Mutability),
                "{ops}"
            );
        }
        // A `null` through the path is no boolean: refused before it could unassign.
        assert!(applied(
            &base(),
            json!([{"op": "replace", "path": "active", "value": null}])
        )
        .is_err());
        let inactive = applied(
            &base(),
            json!([{"op": "replace", "path": "active", "value": false}]),
        );
        assert_eq!(inactive.ok().and_then(|u| u.active), Some(false));
        // A user that never had it (a store that keeps no `active`) has nothing to lose.
        let mut without = base();
        without.active = None;
        assert_eq!(
            applied(&without, json!([{"op": "remove", "path": "active"}])).ok(),
            Some(without)
        );
    }

    #[test]
    fn removing_what_is_not_there_is_nothing() {
        let user = base();
        let patched = applied(
            &user,
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}, {"op": "remove", "path": "title"}]),
        );
        assert_eq!(patched.ok(), Some(user));
    }

    #[test]
    fn extensions_are_patched() {
        let patched = applied(
            &base(),
            json!([
                {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": [{"$ref": null, "value": "m1"}]},
                {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:tag", "value": "701984"},
            ]),
        );
        let patched = patched.unwrap_or_else(|e| ScimUser::new(&e.to_string()));
        let manager = patched.enterprise.and_then(|e| e.manager).map(|m| m.value);
        assert_eq!(manager.as_deref(), Some("m1"));
        assert_eq!(
            patched
                .extensions
                .get("urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"),
            Some(&json!({"tag": "701984"}))
        );
    }
}
