//! The router and the response side: every endpoint and method, and the replies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use chrono::{TimeZone, Utc};
use jit_provisioning_scim::{
    resource_location, Discovery, ListQuery, ListResponse, Meta, ResourceKind, ScimGroup,
    ScimOperation, ScimRequest, ScimResponse, ScimUser, CONTENT_TYPE, ENTERPRISE_USER_SCHEMA,
    PATCH_OP_SCHEMA, USER_SCHEMA,
};
use serde_json::{json, Value};

fn op(method: &str, path: &str, query: &str, body: Value) -> ScimOperation {
    let body = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    ScimRequest::parse(method, path, query, &body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

#[test]
fn users_and_groups_endpoints() {
    let user = json!({"schemas": [USER_SCHEMA], "userName": "b", "id": "ignored"});
    let group =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "g"});
    let patch = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [{"op": "replace", "path": "displayName", "value": "x"}]});
    assert!(
        matches!(op("POST", "/Users", "", user.clone()), ScimOperation::CreateUser(u) if u.id.is_none())
    );
    assert!(matches!(
        op("GET", "/Users", "", Value::Null),
        ScimOperation::ListUsers(_)
    ));
    assert!(
        matches!(op("GET", "/Users/u%201", "", Value::Null), ScimOperation::GetUser { id, .. } if id == "u 1")
    );
    assert!(
        matches!(op("PUT", "/Users/u1", "", json!({"schemas": [USER_SCHEMA], "userName": "b"})),
        ScimOperation::ReplaceUser { id, user, .. } if id == "u1" && user.id.as_deref() == Some("u1"))
    );
    assert!(matches!(
        op("PATCH", "/Users/u1", "", patch.clone()),
        ScimOperation::PatchUser { .. }
    ));
    assert!(matches!(
        op("DELETE", "/Users/u1", "", Value::Null),
        ScimOperation::DeleteUser { .. }
    ));
    assert!(matches!(
        op("POST", "/Groups", "", group.clone()),
        ScimOperation::CreateGroup(_)
    ));
    assert!(matches!(
        op("GET", "/Groups", "", Value::Null),
        ScimOperation::ListGroups(_)
    ));
    assert!(matches!(
        op("GET", "/Groups/g1", "", Value::Null),
        ScimOperation::GetGroup { .. }
    ));
    assert!(matches!(
        op("PUT", "/Groups/g1", "", group),
        ScimOperation::ReplaceGroup { .. }
    ));
    assert!(
        matches!(op("PATCH", "/Groups/g1", "", patch), ScimOperation::PatchGroup { change, .. } if change.display_name.as_deref() == Some("x"))
    );
    assert!(matches!(
        op("DELETE", "/Groups/g1", "", Value::Null),
        ScimOperation::DeleteGroup { .. }
    ));
}

#[test]
fn paths_are_lenient_about_case_and_slashes() {
    assert!(matches!(
        op("get", "users/", "", Value::Null),
        ScimOperation::ListUsers(_)
    ));
    assert!(matches!(
        op("GET", "/GROUPS/g1/", "", Value::Null),
        ScimOperation::GetGroup { .. }
    ));
    assert!(matches!(
        op("GET", "/serviceproviderconfig", "", Value::Null),
        ScimOperation::GetServiceProviderConfig
    ));
    assert!(matches!(
        op("GET", "/ServiceProviderConfigs", "", Value::Null),
        ScimOperation::GetServiceProviderConfig
    ));
}

#[test]
fn if_match_is_carried() {
    let op = ScimRequest::new("DELETE", "/Users/u1", "", b"")
        .with_if_match(Some("W/\"3\""))
        .operation()
        .unwrap();
    assert_eq!(
        op,
        ScimOperation::DeleteUser {
            id: "u1".into(),
            if_match: Some("W/\"3\"".into())
        }
    );
}

#[test]
fn search_requests_keep_filters_out_of_urls() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName eq \"b\"", "startIndex": 0, "count": 10, "excludedAttributes": ["emails"],
    });
    let ScimOperation::ListUsers(query) = op("POST", "/Users/.search", "", body) else {
        panic!()
    };
    assert_eq!((query.start_index, query.count), (1, 10));
    assert_eq!(query.filter.unwrap().to_string(), "userName eq \"b\"");
    assert!(!query.projection.includes("emails"));
    let bad =
        ScimRequest::parse("POST", "/Groups/.search", "", br#"{"filter": "x pr"}"#).unwrap_err();
    assert_eq!(bad.status(), 400);
}

/// A search of every resource type at once (RFC 7644 §3.4.3) is a `Search`, from the
/// root only and by POST only.
#[test]
fn a_search_from_the_root_searches_everything() {
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "displayName eq \"Engineering\"", "count": 5});
    for path in ["/.search", ".search", "/.search/"] {
        let ScimOperation::Search(query) = op("POST", path, "", body.clone()) else {
            panic!("{path} is not a search");
        };
        assert_eq!(query.count, 5, "{path}");
        assert!(query.filter.is_some(), "{path}");
    }
    assert_eq!(
        ScimRequest::parse("GET", "/.search", "", b"")
            .unwrap_err()
            .status(),
        405
    );
    // Not a search endpoint of some resource type either.
    assert_eq!(
        ScimRequest::parse("POST", "/Widgets/.search", "", b"{}")
            .unwrap_err()
            .status(),
        404
    );
}

#[test]
fn discovery_endpoints() {
    let discovery = Discovery::new("https://app.example/scim/v2/acme/");
    for (path, status) in [
        ("/ServiceProviderConfig", 200),
        ("/Schemas", 200),
        ("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", 200),
        (
            "/Schemas/URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER",
            200,
        ),
        (
            "/Schemas/urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Acore%3A2.0%3AGroup",
            200,
        ),
        ("/ResourceTypes", 200),
        ("/ResourceTypes/user", 200),
    ] {
        let reply = discovery
            .respond(&op("GET", path, "", Value::Null))
            .unwrap();
        assert_eq!(reply.status, status, "{path}");
        assert_eq!(reply.content_type(), Some(CONTENT_TYPE));
    }
    let schemas = discovery.schemas().to_json();
    assert_eq!(schemas["totalResults"], 6);
    assert_eq!(schemas["itemsPerPage"], 6);
    let names: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "User",
            "Group",
            "EnterpriseUser",
            "ServiceProviderConfig",
            "ResourceType",
            "Schema"
        ]
    );
    let user_type = discovery.resource_type("User").unwrap();
    assert_eq!(
        user_type["schemaExtensions"],
        json!([{"schema": ENTERPRISE_USER_SCHEMA, "required": false}])
    );
    assert_eq!(
        user_type["meta"]["location"],
        "https://app.example/scim/v2/acme/ResourceTypes/User"
    );
    assert!(discovery
        .respond(&op("GET", "/Users", "", Value::Null))
        .is_none());
    let filtered = ScimRequest::parse("GET", "/Schemas", "filter=id%20pr", b"").unwrap_err();
    assert_eq!(filtered.status(), 403);
}

#[test]
fn the_user_schema_says_what_rfc_7643_says() {
    let user = Discovery::new("https://x").schema(USER_SCHEMA).unwrap();
    let attribute = |name: &str| {
        user["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()
            .clone()
    };
    let user_name = attribute("userName");
    assert_eq!(
        (
            &user_name["required"],
            &user_name["uniqueness"],
            &user_name["caseExact"],
            &user_name["mutability"]
        ),
        (
            &json!(true),
            &json!("server"),
            &json!(false),
            &json!("readWrite")
        )
    );
    let groups = attribute("groups");
    assert_eq!(
        (&groups["mutability"], &groups["multiValued"]),
        (&json!("readOnly"), &json!(true))
    );
    let emails = attribute("emails");
    assert_eq!(emails["subAttributes"].as_array().unwrap().len(), 3);
    let active = attribute("active");
    assert_eq!(active["type"], "boolean");
    // Unlike RFC 7643 §4.1.1's OPTIONAL: the provider always holds it, so a PATCH may
    // replace it but not remove it (RFC 7644 §3.5.2).
    assert_eq!(active["required"], true);
}

fn stored_user() -> ScimUser {
    let at = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
    let mut user = ScimUser::new("bjensen@example.com");
    user.id = Some("u1".into());
    user.meta = Some(
        Meta::new(ResourceKind::User)
            .with_created(at)
            .with_location(resource_location(
                "https://app.example/scim/v2/acme",
                ResourceKind::User,
                "u1",
            ))
            .with_version("7"),
    );
    user
}

#[test]
fn replies_carry_scim_headers() {
    let created = ScimResponse::created(&stored_user());
    assert_eq!(created.status, 201);
    assert_eq!(
        created.headers(),
        vec![
            ("Content-Type", CONTENT_TYPE.to_owned()),
            (
                "Location",
                "https://app.example/scim/v2/acme/Users/u1".to_owned()
            ),
            ("ETag", "W/\"7\"".to_owned()),
        ]
    );
    let body: Value = serde_json::from_slice(&created.body_bytes()).unwrap();
    assert_eq!(body["meta"]["created"], "2024-05-01T12:00:00Z");
    assert_eq!(body["meta"]["version"], "W/\"7\"");
    let ok = ScimResponse::ok(&stored_user());
    assert_eq!(
        (ok.status, ok.location.clone(), ok.etag.as_deref()),
        (200, None, Some("W/\"7\""))
    );
    let gone = ScimResponse::no_content();
    assert!(gone.headers().is_empty() && gone.body_bytes().is_empty());
}

#[test]
fn list_replies_page_and_project() {
    let query = ListQuery::parse("startIndex=3&count=2&attributes=userName").unwrap();
    let page = ListResponse::of(7, &query, &[stored_user(), stored_user()]);
    let reply = ScimResponse::list(&page);
    let body = reply.body.unwrap();
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(
        (
            body["totalResults"].clone(),
            body["startIndex"].clone(),
            body["itemsPerPage"].clone()
        ),
        (json!(7), json!(3), json!(2))
    );
    assert_eq!(
        body["Resources"][0],
        json!({"schemas": [USER_SCHEMA], "id": "u1", "userName": "bjensen@example.com"})
    );
    let groups: &[ScimGroup] = &[];
    assert_eq!(
        ListResponse::of(0, &query, groups).to_json()["Resources"],
        json!([])
    );
}
