//! One test per refusal: each request fails exactly one check, shown by the same request
//! with that one thing corrected going through.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use jit_provisioning_scim::{
    Limits, ScimError, ScimOperation, ScimRequest, ScimResponse, ScimType, GROUP_SCHEMA,
    PATCH_OP_SCHEMA, USER_SCHEMA,
};
use serde_json::{json, Value};

fn request(
    method: &str,
    path: &str,
    query: &str,
    body: &Value,
) -> Result<ScimOperation, ScimError> {
    let body = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    ScimRequest::parse(method, path, query, &body)
}

/// `bad` is refused with `scim_type` and `status`; `good`, the same request corrected,
/// goes through.
fn refused_alone(
    (method, path): (&str, &str),
    bad: (&str, Value),
    good: (&str, Value),
    scim_type: Option<ScimType>,
    status: u16,
) -> ScimError {
    let error = request(method, path, bad.0, &bad.1).expect_err("the bad request is refused");
    assert_eq!(error.scim_type(), scim_type, "{error}");
    assert_eq!(error.status(), status, "{error}");
    assert!(!error.detail().is_empty());
    request(method, path, good.0, &good.1)
        .unwrap_or_else(|e| panic!("the corrected request goes through: {e}"));
    let body = error.to_json();
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(body["status"], json!(status.to_string()));
    error
}

fn user(extra: Value) -> Value {
    let mut user = json!({"schemas": [USER_SCHEMA], "userName": "bjensen@example.com"});
    user.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    user
}

fn patch(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations})
}

#[test]
fn invalid_filter() {
    let error = refused_alone(
        ("GET", "/Users"),
        ("filter=userName%20eq%20%22bjensen", Value::Null),
        ("filter=userName%20eq%20%22bjensen%22", Value::Null),
        Some(ScimType::InvalidFilter),
        400,
    );
    assert!(error.detail().contains("no closing quote"), "{error}");
}

#[test]
fn too_many() {
    let members = |n: usize| {
        (0..n)
            .map(|i| json!({"value": format!("u{i}")}))
            .collect::<Vec<_>>()
    };
    let group =
        |n| json!({"schemas": [GROUP_SCHEMA], "displayName": "All hands", "members": members(n)});
    let error = refused_alone(
        ("POST", "/Groups"),
        ("", group(10_001)),
        ("", group(10_000)),
        Some(ScimType::TooMany),
        400,
    );
    assert!(error.detail().contains("10000"), "{error}");
}

#[test]
fn too_many_members_in_one_patch() {
    let add = |n: usize| {
        patch(
            json!([{"op": "add", "path": "members", "value": (0..n).map(|i| json!({"value": format!("u{i}")})).collect::<Vec<_>>()}]),
        )
    };
    refused_alone(
        ("PATCH", "/Groups/g1"),
        ("", add(10_001)),
        ("", add(10_000)),
        Some(ScimType::TooMany),
        400,
    );
}

#[test]
fn too_many_values_in_one_attribute() {
    let emails = |n: usize| {
        (0..n)
            .map(|i| json!({"value": format!("b{i}@example.com")}))
            .collect::<Vec<_>>()
    };
    refused_alone(
        ("POST", "/Users"),
        ("", user(json!({"emails": emails(101)}))),
        ("", user(json!({"emails": emails(100)}))),
        Some(ScimType::TooMany),
        400,
    );
    // Through PATCH: the parse is fine, applying it is refused.
    let add = patch(json!([{"op": "add", "path": "emails", "value": emails(101)}]));
    let ScimOperation::PatchUser { patch, .. } = request("PATCH", "/Users/u1", "", &add).unwrap()
    else {
        panic!()
    };
    let stored = jit_provisioning_scim::ScimUser::new("b");
    assert_eq!(
        patch.apply_to_user(&stored).unwrap_err().scim_type(),
        Some(ScimType::TooMany)
    );
}

#[test]
fn too_many_operations() {
    let ops = |n: usize| {
        patch(Value::Array(vec![
            json!({"op": "add", "path": "title", "value": "x"});
            n
        ]))
    };
    let limits = Limits::default().with_max_patch_operations(3);
    let parse = |body: &Value| {
        ScimRequest::new("PATCH", "/Users/u1", "", body.to_string().as_bytes())
            .with_limits(limits)
            .operation()
    };
    assert_eq!(
        parse(&ops(4)).unwrap_err().scim_type(),
        Some(ScimType::TooMany)
    );
    parse(&ops(3)).unwrap();
}

#[test]
fn uniqueness() {
    // The parser cannot know what is taken: the store answers with this error.
    let error = ScimError::uniqueness("`userName` `bjensen@example.com` is taken in this org");
    assert_eq!(
        (error.status(), error.scim_type()),
        (409, Some(ScimType::Uniqueness))
    );
    let response = ScimResponse::from(error);
    assert_eq!(response.status, 409);
    assert_eq!(response.body.unwrap()["scimType"], "uniqueness");
}

#[test]
fn mutability_of_the_id_in_a_put() {
    let error = refused_alone(
        ("PUT", "/Users/u1"),
        ("", user(json!({"id": "u2"}))),
        ("", user(json!({"id": "u1"}))),
        Some(ScimType::Mutability),
        400,
    );
    assert!(
        error.detail().contains("`u2`") && error.detail().contains("`u1`"),
        "{error}"
    );
}

#[test]
fn mutability_of_the_id_in_a_patch() {
    refused_alone(
        ("PATCH", "/Users/u1"),
        (
            "",
            patch(json!([{"op": "replace", "path": "id", "value": "u2"}])),
        ),
        (
            "",
            patch(json!([{"op": "replace", "path": "displayName", "value": "u2"}])),
        ),
        Some(ScimType::Mutability),
        400,
    );
}

#[test]
fn invalid_syntax() {
    let body = br#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b""#;
    let error = ScimRequest::parse("POST", "/Users", "", body).unwrap_err();
    assert_eq!(
        (error.status(), error.scim_type()),
        (400, Some(ScimType::InvalidSyntax))
    );
    let fixed = br#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b"}"#;
    ScimRequest::parse("POST", "/Users", "", fixed).unwrap();
}

#[test]
fn invalid_syntax_for_the_wrong_schemas() {
    refused_alone(
        ("POST", "/Users"),
        ("", json!({"schemas": [GROUP_SCHEMA], "userName": "b"})),
        ("", json!({"schemas": [USER_SCHEMA], "userName": "b"})),
        Some(ScimType::InvalidSyntax),
        400,
    );
}

#[test]
fn invalid_path() {
    refused_alone(
        ("PATCH", "/Users/u1"),
        (
            "",
            patch(json!([{"op": "replace", "path": "name.givenName.first", "value": "B"}])),
        ),
        (
            "",
            patch(json!([{"op": "replace", "path": "name.givenName", "value": "B"}])),
        ),
        Some(ScimType::InvalidPath),
        400,
    );
}

#[test]
fn no_target() {
    refused_alone(
        ("PATCH", "/Users/u1"),
        ("", patch(json!([{"op": "remove"}]))),
        ("", patch(json!([{"op": "remove", "path": "title"}]))),
        Some(ScimType::NoTarget),
        400,
    );
}

#[test]
fn invalid_value() {
    refused_alone(
        ("POST", "/Users"),
        (
            "",
            json!({"schemas": [USER_SCHEMA], "displayName": "Barbara"}),
        ),
        (
            "",
            json!({"schemas": [USER_SCHEMA], "displayName": "Barbara", "userName": "bjensen"}),
        ),
        Some(ScimType::InvalidValue),
        400,
    );
}

#[test]
fn invalid_value_for_a_wrong_type() {
    refused_alone(
        ("POST", "/Users"),
        ("", user(json!({"active": 1}))),
        ("", user(json!({"active": "true"}))),
        Some(ScimType::InvalidValue),
        400,
    );
}

#[test]
fn invalid_vers() {
    refused_alone(
        ("POST", "/Users"),
        (
            "",
            json!({"schemas": ["urn:scim:schemas:core:1.0"], "userName": "b"}),
        ),
        ("", json!({"schemas": [USER_SCHEMA], "userName": "b"})),
        Some(ScimType::InvalidVers),
        400,
    );
}

#[test]
fn sensitive() {
    refused_alone(
        ("GET", "/Users"),
        ("filter=password%20eq%20%22hunter2%22", Value::Null),
        ("filter=userName%20eq%20%22hunter2%22", Value::Null),
        Some(ScimType::Sensitive),
        403,
    );
}

#[test]
fn not_found() {
    for path in [
        "/Userz",
        "",
        "/",
        "/Users/u1/emails",
        "/Users//",
        "/Schemas/urn:example:nothing",
        "/ResourceTypes/Widget",
    ] {
        let error = request("GET", path, "", &Value::Null).unwrap_err();
        assert_eq!((error.status(), error.scim_type()), (404, None), "{path}");
        assert_eq!(ScimResponse::from(error).body.unwrap()["status"], "404");
    }
    request("GET", "/Users/", "", &Value::Null).unwrap();
}

#[test]
fn method_not_allowed() {
    let error = request("DELETE", "/Users", "", &Value::Null).unwrap_err();
    assert_eq!((error.status(), error.allow()), (405, Some("GET, POST")));
    let response = ScimResponse::from(&error);
    assert!(response
        .headers()
        .contains(&("Allow", "GET, POST".to_owned())));
    for (method, path, allow) in [
        ("POST", "/Users/u1", "GET, PUT, PATCH, DELETE"),
        ("GET", "/Groups/.search", "POST"),
        ("POST", "/ServiceProviderConfig", "GET"),
        ("PUT", "/Schemas", "GET"),
        ("PATCH", "/ResourceTypes/User", "GET"),
        (
            "DELETE",
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            "GET",
        ),
    ] {
        let error = request(method, path, "", &json!({})).unwrap_err();
        assert_eq!(
            (error.status(), error.allow()),
            (405, Some(allow)),
            "{method} {path}"
        );
    }
}

#[test]
fn payload_too_large() {
    let big = user(json!({"displayName": "x".repeat(1024 * 1024)}));
    let error = request("POST", "/Users", "", &big).unwrap_err();
    assert_eq!((error.status(), error.scim_type()), (413, None));
    request("POST", "/Users", "", &user(json!({"displayName": "x"}))).unwrap();
}

#[test]
fn unsupported_media_type() {
    let body = user(json!({})).to_string();
    let parse = |ct| {
        ScimRequest::new("POST", "/Users", "", body.as_bytes())
            .with_content_type(Some(ct))
            .operation()
    };
    assert_eq!(
        parse("application/x-www-form-urlencoded")
            .unwrap_err()
            .status(),
        415
    );
    for ok in [
        "application/scim+json",
        "application/json; charset=utf-8",
        "Application/SCIM+JSON",
    ] {
        parse(ok).unwrap();
    }
}

#[test]
fn not_implemented() {
    assert_eq!(
        request("POST", "/Bulk", "", &json!({}))
            .unwrap_err()
            .status(),
        501
    );
    assert_eq!(
        request("GET", "/Me", "", &Value::Null)
            .unwrap_err()
            .status(),
        501
    );
}
