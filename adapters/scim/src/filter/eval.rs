//! Evaluating a filter against a resource's JSON, for stores that keep resources in
//! memory and for PATCH value filters.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use super::{AttrPath, CompValue, CompareOp, Filter};
use crate::json::key_ci;
use crate::schema::{same_uri, GROUP_SCHEMA, USER_SCHEMA};

impl Filter {
    /// Whether `resource` (a resource as JSON, or one value of a multi-valued attribute
    /// for the filter inside `[…]`) matches.
    ///
    /// Attribute names match without case; strings compare without case except `id`,
    /// `externalId`, `$ref` and the `value` of references (`members`, `groups`,
    /// `manager`), which are identifiers. A comparison on a multi-valued attribute holds
    /// when it holds for one of its values; `emails eq "x"` compares the `value`s.
    ///
    /// ```
    /// use jit_provisioning_scim::Filter;
    /// use serde_json::json;
    ///
    /// let user = json!({"userName": "Bjensen", "emails": [{"value": "b@example.com", "type": "work"}]});
    /// assert!(Filter::parse(r#"username eq "bjensen""#)?.matches(&user));
    /// assert!(Filter::parse(r#"emails[type eq "work" and value ew "example.com"]"#)?.matches(&user));
    /// assert!(!Filter::parse(r#"not (emails pr)"#)?.matches(&user));
    /// # Ok::<(), jit_provisioning_scim::ScimError>(())
    /// ```
    pub fn matches(&self, resource: &Value) -> bool {
        match self {
            Filter::And(items) => items.iter().all(|f| f.matches(resource)),
            Filter::Or(items) => items.iter().any(|f| f.matches(resource)),
            Filter::Not(inner) => !inner.matches(resource),
            Filter::Present(path) => values_at(resource, path).into_iter().any(present),
            Filter::Compare { path, op, value } => {
                let values = values_at(resource, path);
                let exact = case_exact(path);
                match (op, value) {
                    (CompareOp::Eq, CompValue::Null) => values.is_empty(),
                    (CompareOp::Ne, CompValue::Null) => !values.is_empty(),
                    (CompareOp::Ne, _) => !values
                        .into_iter()
                        .any(|v| compare(v, CompareOp::Eq, value, exact)),
                    _ => values.into_iter().any(|v| compare(v, *op, value, exact)),
                }
            }
            Filter::ValuePath { path, filter } => {
                attribute(resource, path).is_some_and(|v| match v {
                    Value::Array(items) => items.iter().any(|item| filter.matches(item)),
                    other => filter.matches(other),
                })
            }
        }
    }
}

/// The object that holds `path`'s attribute: the resource itself for core attributes,
/// the extension's object for extension attributes.
fn container<'a>(resource: &'a Value, path: &AttrPath) -> Option<&'a Map<String, Value>> {
    let object = resource.as_object()?;
    match path.schema.as_deref() {
        None => Some(object),
        Some(schema) if same_uri(schema, USER_SCHEMA) || same_uri(schema, GROUP_SCHEMA) => {
            Some(object)
        }
        Some(schema) => object.get(&key_ci(object, schema)?)?.as_object(),
    }
}

fn attribute<'a>(resource: &'a Value, path: &AttrPath) -> Option<&'a Value> {
    let object = container(resource, path)?;
    object
        .get(&key_ci(object, &path.name)?)
        .filter(|v| !v.is_null())
}

fn sub_value<'a>(value: &'a Value, sub: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    object.get(&key_ci(object, sub)?).filter(|v| !v.is_null())
}

/// The values `path` names: the attribute's, each value's of a multi-valued one, and for
/// multi-valued complex attributes without a sub-attribute, each value's `value`.
fn values_at<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let Some(value) = attribute(resource, path) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    match &path.sub_attribute {
        Some(sub) => items
            .into_iter()
            .filter_map(|item| sub_value(item, sub))
            .collect(),
        None => items
            .into_iter()
            .filter_map(|item| {
                if item.is_object() {
                    sub_value(item, "value")
                } else {
                    Some(item)
                }
            })
            .collect(),
    }
}

fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(object) => !object.is_empty(),
        _ => true,
    }
}

fn case_exact(path: &AttrPath) -> bool {
    let last = path.sub_attribute.as_deref().unwrap_or(&path.name);
    let reference = ["members", "groups", "manager"]
        .iter()
        .any(|n| path.name.eq_ignore_ascii_case(n));
    ["id", "externalId", "$ref"]
        .iter()
        .any(|n| last.eq_ignore_ascii_case(n))
        || (reference && last.eq_ignore_ascii_case("value"))
        || (reference && path.sub_attribute.is_none())
}

fn compare(actual: &Value, op: CompareOp, expected: &CompValue, exact: bool) -> bool {
    match (actual, expected) {
        (Value::String(a), CompValue::String(b)) => compare_strings(a, op, b, exact),
        (Value::Number(a), CompValue::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => ordered(a.partial_cmp(&b), op),
            _ => false,
        },
        (Value::Bool(a), CompValue::Bool(b)) => op == CompareOp::Eq && a == b,
        _ => false,
    }
}

fn compare_strings(a: &str, op: CompareOp, b: &str, exact: bool) -> bool {
    // The common case, without allocating: equality of ASCII strings.
    if op == CompareOp::Eq && (exact || (a.is_ascii() && b.is_ascii())) {
        return if exact {
            a == b
        } else {
            a.eq_ignore_ascii_case(b)
        };
    }
    let (a, b) = if exact {
        (a.to_owned(), b.to_owned())
    } else {
        (a.to_lowercase(), b.to_lowercase())
    };
    match op {
        CompareOp::Eq => a == b,
        CompareOp::Ne => a != b,
        CompareOp::Co => a.contains(&b),
        CompareOp::Sw => a.starts_with(&b),
        CompareOp::Ew => a.ends_with(&b),
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
            // Times compare as times (`meta.lastModified gt "2011-05-13T04:42:34Z"`).
            let times = (
                DateTime::<FixedOffset>::parse_from_rfc3339(&a),
                DateTime::<FixedOffset>::parse_from_rfc3339(&b),
            );
            let ordering = match times {
                (Ok(a_time), Ok(b_time)) => a_time.cmp(&b_time),
                _ => a.cmp(&b),
            };
            ordered(Some(ordering), op)
        }
    }
}

fn ordered(ordering: Option<Ordering>, op: CompareOp) -> bool {
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn matches(filter: &str, resource: &Value) -> bool {
        Filter::parse(filter)
            .map(|f| f.matches(resource))
            .unwrap_or(false)
    }

    #[test]
    fn compares_like_scim() {
        let user = json!({
            "id": "Abc",
            "userName": "BJensen@example.com",
            "active": true,
            "name": {"givenName": "Barbara"},
            "emails": [{"value": "b@work.example", "type": "work"}, {"value": "b@home.example", "type": "home"}],
            "meta": {"lastModified": "2011-05-13T04:42:34Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"},
        });
        assert!(matches(r#"userName eq "bjensen@example.com""#, &user));
        assert!(!matches(r#"id eq "abc""#, &user));
        assert!(matches(r#"id eq "Abc""#, &user));
        assert!(matches(r#"name.givenName sw "bar""#, &user));
        assert!(matches(r#"emails co "home""#, &user));
        assert!(matches(
            r#"emails[type eq "work"].value eq "b@work.example""#,
            &user
        ));
        assert!(!matches(
            r#"emails[type eq "work"].value eq "b@home.example""#,
            &user
        ));
        assert!(matches("active eq true", &user));
        assert!(!matches(
            r#"meta.lastModified gt "2011-05-13T04:42:34-01:00""#,
            &user
        ));
        assert!(matches(
            r#"meta.lastModified lt "2011-05-13T04:42:34-01:00""#,
            &user
        ));
        assert!(matches(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
            &user
        ));
        assert!(matches("title eq null", &user));
        assert!(matches(r#"title ne "x""#, &user));
        assert!(matches("not (title pr)", &user));
    }
}
