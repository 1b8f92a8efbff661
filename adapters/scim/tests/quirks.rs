//! One test per IdP quirk this crate takes. Sources are listed in the crate README.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use jit_provisioning_scim::{
    Email, Filter, Limits, ListQuery, Manager, Member, MembersChange, PatchKind, PatchOp,
    ResourceKind, ScimGroup, ScimOperation, ScimRequest, ScimType, ScimUser, SimpleFilter,
    ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA,
};
use serde_json::{json, Value};

fn user_patch(operations: Value) -> PatchOp {
    let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations});
    PatchOp::parse(body.to_string().as_bytes(), ResourceKind::User, "u1").unwrap()
}

fn group_patch(operations: Value) -> Result<MembersChange, jit_provisioning_scim::ScimError> {
    let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations});
    Ok(
        PatchOp::parse(body.to_string().as_bytes(), ResourceKind::Group, "g1")?
            .group_change()?
            .members,
    )
}

fn bjensen() -> ScimUser {
    let mut user = ScimUser::new("bjensen@example.com");
    user.id = Some("u1".into());
    user.active = Some(true);
    user.emails = vec![Email::new("bjensen@example.com")
        .with_type("work")
        .primary()];
    user
}

fn created(body: Value) -> ScimUser {
    match ScimRequest::parse("POST", "/Users", "", body.to_string().as_bytes()).unwrap() {
        ScimOperation::CreateUser(user) => user,
        other => panic!("{other:?}"),
    }
}

/// Okta deactivates (and reactivates) with `replace` and no `path`, the value an object.
#[test]
fn okta_replace_without_a_path() {
    let patch = user_patch(json!([{"op": "replace", "value": {"active": false}}]));
    assert_eq!(patch.operations.len(), 1);
    assert_eq!(patch.operations[0].path.to_string(), "active");
    assert_eq!(patch.apply_to_user(&bjensen()).unwrap().active, Some(false));
}

/// Okta renames a pushed group with a path-less `replace` whose value echoes the `id`.
#[test]
fn okta_group_rename_echoes_the_id() {
    let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [
        {"op": "replace", "value": {"id": "g1", "displayName": "Sales EMEA"}}]});
    let patch = PatchOp::parse(body.to_string().as_bytes(), ResourceKind::Group, "g1").unwrap();
    assert_eq!(
        patch.group_change().unwrap().display_name.as_deref(),
        Some("Sales EMEA")
    );
    let other = PatchOp::parse(body.to_string().as_bytes(), ResourceKind::Group, "g2").unwrap_err();
    assert_eq!(other.scim_type(), Some(ScimType::Mutability));
}

/// Okta sends the user's password on create and on "sync password": never kept.
#[test]
fn okta_password_is_never_kept() {
    let user = created(json!({"schemas": [USER_SCHEMA], "userName": "b", "password": "1mz050nq"}));
    assert!(!format!("{user:?}{}", user.to_json()).contains("1mz050nq"));
    let patch = user_patch(
        json!([{"op": "replace", "path": "password", "value": "1mz050nq"},
                                  {"op": "replace", "value": {"password": "1mz050nq"}}]),
    );
    assert!(patch.operations.is_empty());
    assert!(!format!("{patch:?}").contains("1mz050nq"));
}

/// Okta can push a group's whole membership with `replace` `members`.
#[test]
fn okta_full_membership_push() {
    let members = group_patch(json!([{"op": "replace", "path": "members", "value": [
        {"value": "u1", "display": "a@example.com"}, {"value": "u2", "display": "b@example.com"}]}]));
    assert_eq!(
        members.unwrap(),
        MembersChange::Replace(vec![
            Member::new("u1").with_display("a@example.com"),
            Member::new("u2").with_display("b@example.com")
        ])
    );
}

/// Entra ID writes `op` capitalised: `Add`, `Replace`, `Remove`.
#[test]
fn entra_capitalised_ops() {
    let patch = user_patch(json!([
        {"op": "Add", "path": "title", "value": "x"},
        {"op": "Replace", "path": "displayName", "value": "y"},
        {"op": "Remove", "path": "nickName"},
        {"op": "REPLACE", "path": "active", "value": true},
    ]));
    let ops: Vec<PatchKind> = patch.operations.iter().map(|o| o.op).collect();
    assert_eq!(
        ops,
        [
            PatchKind::Add,
            PatchKind::Replace,
            PatchKind::Remove,
            PatchKind::Replace
        ]
    );
}

/// Entra ID (without `aadOptscim062020`) sends booleans as `"True"`/`"False"`.
#[test]
fn entra_string_booleans() {
    let patch = user_patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    assert_eq!(patch.operations[0].value, Some(json!(false)));
    assert_eq!(patch.apply_to_user(&bjensen()).unwrap().active, Some(false));
    let user = created(
        json!({"schemas": [USER_SCHEMA], "userName": "b", "active": "True",
                               "emails": [{"value": "b@x", "primary": "True"}]}),
    );
    assert_eq!(user.active, Some(true));
    assert!(user.emails[0].primary);
    let added = user_patch(
        json!([{"op": "Add", "path": "emails", "value": [{"value": "c@x", "primary": "False"}]}]),
    );
    assert_eq!(
        added.operations[0].value,
        Some(json!([{"value": "c@x", "primary": false}]))
    );
}

/// Entra ID (without `aadOptscim062020`) removes members with `path: members` and the
/// members in `value`; with the flag, with `members[value eq "…"]`.
#[test]
fn entra_member_removal_value_list() {
    let without = group_patch(
        json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]),
    );
    let with = group_patch(json!([
        {"op": "remove", "path": "members[value eq \"u1\"]"},
        {"op": "remove", "path": "members[value eq \"u2\"]"},
    ]));
    let expected = MembersChange::Delta {
        added: vec![],
        removed: vec!["u1".into(), "u2".into()],
    };
    assert_eq!(without.unwrap(), expected);
    assert_eq!(with.unwrap(), expected);
}

/// Entra ID (with `aadOptscim062020`) replaces several attributes in one path-less
/// operation whose keys are paths: `name.givenName`, `urn:…:enterprise:2.0:User:employeeNumber`.
#[test]
fn entra_path_keys_in_a_path_less_value() {
    let patch = user_patch(json!([{"op": "replace", "value": {
        "displayName": "Bjfe",
        "name.givenName": "Kkom",
        "name.familyName": "Unua",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq",
    }}]));
    let user = patch.apply_to_user(&bjensen()).unwrap();
    assert_eq!(user.display_name.as_deref(), Some("Bjfe"));
    let name = user.name.unwrap();
    assert_eq!(
        (name.given_name.as_deref(), name.family_name.as_deref()),
        (Some("Kkom"), Some("Unua"))
    );
    assert_eq!(
        user.enterprise.unwrap().employee_number.as_deref(),
        Some("Aklq")
    );
}

/// Entra ID replaces `emails[type eq "work"].value` whether or not the user has a work
/// address: with none, the address is added.
#[test]
fn entra_filtered_replace_adds_what_is_missing() {
    let mut user = bjensen();
    user.emails.clear();
    let patch = user_patch(
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]),
    );
    let patched = patch.apply_to_user(&user).unwrap();
    assert_eq!(
        patched.emails,
        vec![Email::new("new@example.com").with_type("work")]
    );
    let again = patch.apply_to_user(&patched).unwrap();
    assert_eq!(again.emails, patched.emails, "the second time it replaces");
}

/// Entra ID matches users on `emails[type eq "work"].value eq "…"`, a PATCH path form that
/// RFC 7644 does not allow in filters.
#[test]
fn entra_value_path_with_a_sub_attribute_in_a_filter() {
    let filter = Filter::parse(r#"emails[type eq "work"].value eq "b@example.com""#).unwrap();
    assert_eq!(
        filter.to_string(),
        r#"emails[type eq "work" and value eq "b@example.com"]"#
    );
    assert!(!filter.matches(&bjensen().to_json()));
    assert!(
        Filter::parse(r#"emails[type eq "work"].value eq "bjensen@example.com""#)
            .unwrap()
            .matches(&bjensen().to_json())
    );
    assert_eq!(
        filter.simple(),
        Some(SimpleFilter::Email {
            value: "b@example.com".into(),
            email_type: Some("work".into())
        })
    );
}

/// Entra ID's documentation (`externalId eq jyoung`) and Microsoft's reference code take
/// unquoted values.
#[test]
fn entra_unquoted_filter_values() {
    let query = ListQuery::parse("filter=externalId+eq+jyoung").unwrap();
    assert_eq!(
        query.simple_filter(),
        Some(SimpleFilter::ExternalId("jyoung".into()))
    );
}

/// Entra ID's documentation patches `"path": "manager"` and its sample code posts
/// `department` at the top: Enterprise User attributes without their schema.
#[test]
fn entra_unqualified_enterprise_attributes() {
    let patch = user_patch(
        json!([{"op": "Add", "path": "manager", "value": [{"$ref": "https://x/Users/m1", "value": "m1"}]}]),
    );
    assert_eq!(
        patch.operations[0].path.schema.as_deref(),
        Some(ENTERPRISE_USER_SCHEMA)
    );
    let user = patch.apply_to_user(&bjensen()).unwrap();
    assert_eq!(user.enterprise.unwrap().manager.unwrap().value, "m1");
    let posted = created(
        json!({"schemas": [USER_SCHEMA], "userName": "b", "department": "Sales", "manager": null}),
    );
    assert_eq!(
        posted.enterprise.unwrap().department.as_deref(),
        Some("Sales")
    );
}

/// `manager` as Entra ID's schema example writes it (a bare id), as its PATCH sends it (a
/// list of one), and as OneLogin's template writes it (`managerId`).
#[test]
fn manager_shapes() {
    for manager in [
        json!("m1"),
        json!([{"value": "m1"}]),
        json!({"managerId": "m1"}),
        json!({"value": "m1"}),
    ] {
        let user = created(
            json!({"schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], "userName": "b",
                                   ENTERPRISE_USER_SCHEMA: {"manager": manager}}),
        );
        assert_eq!(
            user.enterprise.unwrap().manager,
            Some(Manager::new("m1")),
            "{manager}"
        );
    }
    let none = created(
        json!({"schemas": [USER_SCHEMA], "userName": "b", ENTERPRISE_USER_SCHEMA: {"manager": ""}}),
    );
    assert_eq!(none.enterprise, None);
}

/// Entra ID reads groups with `excludedAttributes=members`.
#[test]
fn entra_excluded_members() {
    let op = ScimRequest::parse("GET", "/Groups/g1", "excludedAttributes=members", b"").unwrap();
    let ScimOperation::GetGroup { projection, .. } = op else {
        panic!()
    };
    assert!(!projection.includes("members"));
    let mut group = ScimGroup::new("Sales");
    group.members.push(Member::new("u1"));
    let reply = jit_provisioning_scim::ScimResponse::ok_with(&group, &projection);
    assert!(reply.body.unwrap().get("members").is_none());
}

/// Entra ID creates groups listing a schema URI that is not a URN.
#[test]
fn entra_extra_group_schema() {
    let body = json!({"schemas": [GROUP_SCHEMA, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                      "displayName": "Sales", "meta": {"resourceType": "Group"}});
    let op = ScimRequest::parse("POST", "/Groups", "", body.to_string().as_bytes()).unwrap();
    assert!(matches!(op, ScimOperation::CreateGroup(g) if g.display_name == "Sales"));
}

/// Entra ID's sample code sends `null` for attributes without a value, and a misspelt
/// extension URI in `schemas`.
#[test]
fn entra_nulls_and_unknown_schemas() {
    let user = created(
        json!({"schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
        "userName": "b", "addresses": null, "phoneNumbers": null, "title": null, "name": null, "displayName": null}),
    );
    assert_eq!(user, ScimUser::new("b"));
}

/// `?aadOptscim062020` arrives as a query parameter with no value: ignored.
#[test]
fn entra_flag_parameter_is_ignored() {
    let query = ListQuery::parse("aadOptscim062020&filter=userName%20eq%20%22b%22").unwrap();
    assert_eq!(
        query.simple_filter(),
        Some(SimpleFilter::UserName("b".into()))
    );
    ScimRequest::parse("PATCH", "/Users/u1", "aadOptscim062020", br#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]}"#).unwrap();
}

/// Microsoft's reference code tests capitalise sub-attributes (`Primary`) and name
/// attributes in any case; attribute names are case-insensitive (RFC 7643 §2.1).
#[test]
fn attribute_names_in_any_case() {
    let user = created(
        json!({"SCHEMAS": [USER_SCHEMA], "USERNAME": "b", "Emails": [{"Value": "b@x", "Primary": true}],
                               "NAME": {"GIVENNAME": "B"}}),
    );
    assert!(user.emails[0].primary);
    assert_eq!(user.name.unwrap().given_name.as_deref(), Some("B"));
    let patch = user_patch(json!([{"op": "replace", "path": "NAME.FAMILYNAME", "value": "J"}]));
    assert_eq!(patch.operations[0].path.to_string(), "name.familyName");
}

/// Microsoft's reference code tests add a member given as a bare id.
#[test]
fn member_as_a_bare_id() {
    let members = group_patch(json!([{"op": "add", "path": "members", "value": "u1"}])).unwrap();
    assert_eq!(
        members,
        MembersChange::Delta {
            added: vec![Member::new("u1")],
            removed: vec![]
        }
    );
}

/// OneLogin's enterprise template sends `emails` as one object, not a list.
#[test]
fn onelogin_emails_as_one_object() {
    let user = created(
        json!({"schemas": [USER_SCHEMA], "userName": "b", "emails": {"value": "b@x", "type": "work", "primary": true}}),
    );
    assert_eq!(
        user.emails,
        vec![Email::new("b@x").with_type("work").primary()]
    );
}

/// OneLogin's templates put `{$user.active}` in quotes: `"true"`.
#[test]
fn onelogin_string_active() {
    assert_eq!(
        created(json!({"schemas": [USER_SCHEMA], "userName": "b", "active": "false"})).active,
        Some(false)
    );
}

/// OneLogin's SCIM 1.1 templates list `urn:scim:schemas:core:1.0`: refused with
/// `invalidVers`, naming the fix.
#[test]
fn onelogin_scim_1_schemas() {
    let body = json!({"schemas": ["urn:scim:schemas:core:1.0"], "userName": "b"});
    let error = ScimRequest::parse("POST", "/Users", "", body.to_string().as_bytes()).unwrap_err();
    assert_eq!(error.scim_type(), Some(ScimType::InvalidVers));
    assert!(error.detail().contains("SCIM 2.0 connector"));
}

/// Extensions this crate does not know are kept as sent, and PATCH reaches them.
#[test]
fn unknown_extensions_are_kept() {
    let uri = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
    let user =
        created(json!({"schemas": [USER_SCHEMA, uri], "userName": "b", uri: {"tag": "701984"}}));
    assert_eq!(user.extensions.get(uri), Some(&json!({"tag": "701984"})));
    assert!(user.to_json()["schemas"]
        .as_array()
        .unwrap()
        .contains(&json!(uri)));
    let patch = user_patch(json!([{"op": "replace", "value": {uri: {"tag": "1"}}}]));
    assert_eq!(
        patch.apply_to_user(&user).unwrap().extensions.get(uri),
        Some(&json!({"tag": "1"}))
    );
}

/// A group PATCH names at most the configured number of members.
#[test]
fn member_limit_is_configurable() {
    let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}, {"value": "c"}]}]});
    let limits = Limits::default().with_max_members_per_request(2);
    let error = ScimRequest::new("PATCH", "/Groups/g1", "", body.to_string().as_bytes())
        .with_limits(limits)
        .operation()
        .unwrap_err();
    assert_eq!(error.scim_type(), Some(ScimType::TooMany));
}
