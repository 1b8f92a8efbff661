//! Parse, render, parse again: the same thing. Property tests for filters, paths and
//! bodies, and the fixtures' resources.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::path::Path;

use jit_provisioning_scim::{
    AttrPath, CompValue, CompareOp, Filter, PatchOp, PatchPath, ResourceKind, ScimGroup,
    ScimRequest, ScimType, ScimUser,
};
use proptest::prelude::*;
use serde_json::{json, Value};

fn attr_path() -> impl Strategy<Value = AttrPath> {
    let name = prop_oneof![
        Just("userName".to_owned()),
        Just("emails".to_owned()),
        Just("$ref".to_owned()),
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
    ];
    let schema = prop_oneof![
        Just(None),
        Just(Some(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        )),
        Just(Some("urn:ietf:params:scim:schemas:core:2.0:User")),
        Just(Some("urn:example:custom:2.0:User")),
    ];
    (
        schema,
        name,
        proptest::option::of("[a-zA-Z][a-zA-Z0-9]{0,6}"),
    )
        .prop_map(|(schema, name, sub)| {
            let mut path = AttrPath::new(&name);
            if let Some(sub) = sub {
                path = path.with_sub_attribute(&sub);
            }
            if let Some(schema) = schema {
                path = path.with_schema(schema);
            }
            path
        })
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        // Quarters print and parse exactly (serde_json's default float parsing is not
        // exact for every float, which is no concern of the grammar's).
        (-4_000_000i64..4_000_000)
            .prop_map(|n| CompValue::Number(serde_json::Number::from_f64(n as f64 / 4.0).unwrap())),
        any::<String>().prop_map(CompValue::String),
    ]
}

fn comparison() -> impl Strategy<Value = Filter> {
    (
        attr_path(),
        proptest::sample::select(CompareOp::ALL.to_vec()),
        comp_value(),
    )
        .prop_map(|(path, op, value)| {
            // Keep to the comparisons the grammar allows.
            let value = match (op, &value) {
                (CompareOp::Co | CompareOp::Sw | CompareOp::Ew, v) if v.as_str().is_none() => {
                    CompValue::String("x".into())
                }
                (
                    CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le,
                    CompValue::Bool(_) | CompValue::Null,
                ) => CompValue::Number(1.into()),
                _ => value,
            };
            Filter::Compare { path, op, value }
        })
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![3 => comparison(), 1 => attr_path().prop_map(Filter::Present)]
}

fn inner_filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::and),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    let value_path = (attr_path(), inner_filter()).prop_map(|(mut path, filter)| {
        path.sub_attribute = None;
        Filter::ValuePath {
            path,
            filter: Box::new(filter),
        }
    });
    prop_oneof![3 => leaf(), 1 => value_path].prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::and),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn filters_print_and_parse_back(filter in filter()) {
        let text = filter.to_string();
        prop_assume!(text.len() <= jit_provisioning_scim::MAX_FILTER_BYTES);
        let parsed = Filter::parse(&text).map_err(|e| TestCaseError::fail(format!("`{text}`: {e}")))?;
        prop_assert_eq!(parsed, filter);
    }

    #[test]
    fn any_text_is_a_filter_or_invalid_filter(text in any::<String>()) {
        if let Err(error) = Filter::parse(&text) {
            prop_assert_eq!(error.scim_type(), Some(ScimType::InvalidFilter));
        }
    }

    #[test]
    fn filter_like_text_is_a_filter_or_invalid_filter(text in r#"[ a-zA-Z.:\[\]()"\\0-9]{0,80}"#) {
        match Filter::parse(&text) {
            Ok(filter) => prop_assert_eq!(Filter::parse(&filter.to_string()).ok(), Some(filter)),
            Err(error) => prop_assert_eq!(error.scim_type(), Some(ScimType::InvalidFilter)),
        }
    }

    #[test]
    fn patch_paths_print_and_parse_back(path in attr_path(), filter in proptest::option::of(inner_filter()), sub in proptest::option::of("[a-z][a-zA-Z]{0,5}")) {
        let mut patch_path = PatchPath::new(&path.name);
        patch_path.schema = path.schema.clone();
        match filter {
            Some(filter) => {
                patch_path = patch_path.with_filter(filter);
                if let Some(sub) = &sub {
                    patch_path = patch_path.with_sub_attribute(sub);
                }
            }
            None => {
                if let Some(sub) = &path.sub_attribute {
                    patch_path = patch_path.with_sub_attribute(sub);
                }
            }
        }
        let text = patch_path.to_string();
        prop_assume!(text.len() <= jit_provisioning_scim::MAX_FILTER_BYTES);
        prop_assert_eq!(PatchPath::parse(&text).map_err(|e| TestCaseError::fail(format!("`{text}`: {e}")))?, patch_path);
    }

    #[test]
    fn any_body_is_an_operation_or_a_scim_error(body in any::<Vec<u8>>(), method in proptest::sample::select(vec!["POST", "PUT", "PATCH"])) {
        for path in ["/Users", "/Users/u1", "/Groups", "/Groups/g1", "/Users/.search"] {
            if let Err(error) = ScimRequest::parse(method, path, "", &body) {
                prop_assert!(error.status() >= 400);
            }
        }
    }

    #[test]
    fn any_json_patch_is_normalised_or_refused(value in json_value()) {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [value]});
        for kind in [ResourceKind::User, ResourceKind::Group] {
            if let Ok(patch) = PatchOp::parse(body.to_string().as_bytes(), kind, "me") {
                let _ = patch.apply_to_user(&ScimUser::new("b"));
                let _ = patch.group_change();
            }
        }
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("op".to_owned()),
        Just("path".to_owned()),
        Just("value".to_owned()),
        Just("active".to_owned()),
        Just("members".to_owned()),
        Just("emails".to_owned()),
        Just("name.givenName".to_owned()),
        Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_owned()),
        "[a-z]{1,5}",
    ];
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        prop_oneof![
            Just("add"),
            Just("Remove"),
            Just("replace"),
            Just("members"),
            Just("emails[type eq \"work\"].value"),
            Just("members[value eq \"u1\"]"),
            Just("True"),
            Just("id"),
            Just("name"),
            Just("userName"),
        ]
        .prop_map(Value::from),
        "[a-z]{0,4}".prop_map(Value::from),
    ];
    scalar.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn bodies(dir: &str, method: &str, path_prefix: &str) -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for idp in ["okta", "entra", "onelogin"] {
        for entry in std::fs::read_dir(root.join(idp)).unwrap() {
            let fixture: Value =
                serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap())
                    .unwrap();
            let request = &fixture["request"];
            let path = request["path"].as_str().unwrap();
            if request["method"] == method
                && path.starts_with(path_prefix)
                && fixture["expect"].get("error").is_none()
            {
                out.push(request["body"].clone());
            }
        }
    }
    assert!(!out.is_empty(), "{dir}");
    out
}

#[test]
fn users_render_and_read_back() {
    for body in bodies("users", "POST", "/Users")
        .into_iter()
        .chain(bodies("users", "PUT", "/Users"))
    {
        let user = ScimUser::from_json(&body).unwrap();
        let again = ScimUser::from_json(&user.to_json()).unwrap();
        assert_eq!(again, user, "{body}");
    }
}

#[test]
fn groups_render_and_read_back() {
    for body in bodies("groups", "POST", "/Groups") {
        let group = ScimGroup::from_json(&body).unwrap();
        assert_eq!(
            ScimGroup::from_json(&group.to_json()).unwrap(),
            group,
            "{body}"
        );
    }
}

#[test]
fn a_full_user_renders_and_reads_back() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:example:x:2.0:User"],
        "id": "u1", "externalId": "e1", "userName": "b", "displayName": "B J",
        "name": {"formatted": "B J", "givenName": "B", "familyName": "J"},
        "emails": [{"value": "b@w", "type": "work", "primary": true}, {"value": "b@h", "type": "home", "primary": false}],
        "active": false,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "1", "costCenter": "c", "organization": "o", "division": "d", "department": "s",
            "manager": {"value": "m", "$ref": "https://x/Users/m", "displayName": "M"},
        },
        "urn:example:x:2.0:User": {"tag": [1, 2]},
    });
    let user = ScimUser::from_json(&body).unwrap();
    assert_eq!(user.to_json(), body);
}
