//! The IdPs' published request sequences, one `#[test]` per request: each fixture's
//! request must parse to the operation its `expect` describes (or the refusal), and a
//! PATCH with `apply_to` must turn that user into `result`. Sources: fixtures/README.md.
//!
//! After a deliberate change, `SCIM_FIXTURES_BLESS=1 cargo test -p jit-provisioning-scim
//! --test fixtures` rewrites `expect` and `result` from what the code does; review the
//! diff before keeping it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::path::{Path, PathBuf};

use jit_provisioning_scim::{
    GroupChange, ListQuery, MembersChange, Projection, ScimError, ScimOperation, ScimRequest,
    ScimUser,
};
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn projection(p: &Projection) -> Value {
    json!({
        "attributes": p.attributes.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "excluded": p.excluded.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

fn query(q: &ListQuery) -> Value {
    json!({
        "filter": q.filter.as_ref().map(ToString::to_string),
        "simple": q.simple_filter().map(|s| format!("{s:?}")),
        "startIndex": q.start_index,
        "count": q.count,
        "projection": projection(&q.projection),
    })
}

fn change(c: &GroupChange) -> Value {
    let members = match &c.members {
        MembersChange::Delta { added, removed } => json!({
            "added": added.iter().map(|m| m.to_json()).collect::<Vec<_>>(),
            "removed": removed,
        }),
        MembersChange::Replace(all) => {
            json!({"replace": all.iter().map(|m| m.to_json()).collect::<Vec<_>>()})
        }
    };
    json!({"displayName": c.display_name, "externalId": c.external_id, "members": members})
}

fn error(e: &ScimError) -> Value {
    json!({"error": {"status": e.status(), "scimType": e.scim_type().map(|t| t.as_str())}})
}

/// The operation as JSON, through the public API only.
fn describe(op: &ScimOperation) -> Value {
    match op {
        ScimOperation::CreateUser(user) => {
            json!({"operation": "CreateUser", "user": user.to_json()})
        }
        ScimOperation::GetUser { id, projection: p } => {
            json!({"operation": "GetUser", "id": id, "projection": projection(p)})
        }
        ScimOperation::ListUsers(q) => json!({"operation": "ListUsers", "query": query(q)}),
        ScimOperation::ReplaceUser { id, user, .. } => {
            json!({"operation": "ReplaceUser", "id": id, "user": user.to_json()})
        }
        ScimOperation::PatchUser { id, patch, .. } => json!({
            "operation": "PatchUser",
            "id": id,
            "operations": patch.operations.iter().map(|o| json!({
                "op": o.op.as_str(),
                "path": o.path.to_string(),
                "value": o.value,
            })).collect::<Vec<_>>(),
        }),
        ScimOperation::DeleteUser { id, .. } => json!({"operation": "DeleteUser", "id": id}),
        ScimOperation::CreateGroup(group) => {
            json!({"operation": "CreateGroup", "group": group.to_json()})
        }
        ScimOperation::GetGroup { id, projection: p } => {
            json!({"operation": "GetGroup", "id": id, "projection": projection(p)})
        }
        ScimOperation::ListGroups(q) => json!({"operation": "ListGroups", "query": query(q)}),
        ScimOperation::ReplaceGroup { id, group, .. } => {
            json!({"operation": "ReplaceGroup", "id": id, "group": group.to_json()})
        }
        ScimOperation::PatchGroup { id, change: c, .. } => {
            json!({"operation": "PatchGroup", "id": id, "change": change(c)})
        }
        ScimOperation::DeleteGroup { id, .. } => json!({"operation": "DeleteGroup", "id": id}),
        other => json!({"operation": format!("{other:?}")}),
    }
}

fn run(relative: &str) {
    let path = fixtures().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
    let mut fixture: Value = serde_json::from_str(&text).unwrap();
    let request = &fixture["request"];
    let body = match &request["body"] {
        Value::Null => Vec::new(),
        body => body.to_string().into_bytes(),
    };
    let parsed = ScimRequest::parse(
        request["method"].as_str().unwrap(),
        request["path"].as_str().unwrap(),
        request["query"].as_str().unwrap_or_default(),
        &body,
    );
    let actual = match &parsed {
        Ok(op) => describe(op),
        Err(e) => error(e),
    };
    let result = fixture.get("apply_to").map(|base| {
        let Ok(ScimOperation::PatchUser { patch, .. }) = &parsed else {
            panic!("{relative}: `apply_to` is for user PATCH requests")
        };
        let user = ScimUser::from_json(base).unwrap();
        match patch.apply_to_user(&user) {
            Ok(patched) => patched.to_json(),
            Err(e) => error(&e),
        }
    });
    if std::env::var_os("SCIM_FIXTURES_BLESS").is_some() {
        fixture["expect"] = actual;
        if let Some(result) = result {
            fixture["result"] = result;
        }
        std::fs::write(
            &path,
            format!("{}\n", serde_json::to_string_pretty(&fixture).unwrap()),
        )
        .unwrap();
        return;
    }
    assert_eq!(actual, fixture["expect"], "{relative}: the operation");
    if let Some(result) = result {
        assert_eq!(result, fixture["result"], "{relative}: the patched user");
    }
}

macro_rules! fixtures {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                run($file);
            }
        )*

        /// Every fixture file has its test.
        #[test]
        fn every_fixture_is_run() {
            let listed = [$($file),*];
            for idp in ["okta", "entra", "onelogin"] {
                for entry in std::fs::read_dir(fixtures().join(idp)).unwrap() {
                    let name = entry.unwrap().file_name().into_string().unwrap();
                    if name.ends_with(".json") {
                        let relative = format!("{idp}/{name}");
                        assert!(listed.contains(&relative.as_str()), "{relative} has no test");
                    }
                }
            }
        }
    };
}

fixtures! {
    okta_01_find_user_by_username => "okta/01-find-user-by-username.json",
    okta_02_create_user => "okta/02-create-user.json",
    okta_03_get_user => "okta/03-get-user.json",
    okta_04_replace_user => "okta/04-replace-user.json",
    okta_05_deactivate_user => "okta/05-deactivate-user.json",
    okta_06_list_users => "okta/06-list-users.json",
    okta_07_push_group => "okta/07-push-group.json",
    okta_08_list_groups => "okta/08-list-groups.json",
    okta_09_get_group => "okta/09-get-group.json",
    okta_10_rename_group => "okta/10-rename-group.json",
    okta_11_group_members_remove_add => "okta/11-group-members-remove-add.json",
    okta_12_group_members_full_push => "okta/12-group-members-full-push.json",
    okta_13_delete_group => "okta/13-delete-group.json",
    entra_01_test_connection => "entra/01-test-connection.json",
    entra_02_create_user => "entra/02-create-user.json",
    entra_03_get_user => "entra/03-get-user.json",
    entra_04_get_user_by_query => "entra/04-get-user-by-query.json",
    entra_05_update_user_multi_valued => "entra/05-update-user-multi-valued.json",
    entra_06_update_user_single_valued => "entra/06-update-user-single-valued.json",
    entra_07_disable_user => "entra/07-disable-user.json",
    entra_08_delete_user => "entra/08-delete-user.json",
    entra_09_create_group => "entra/09-create-group.json",
    entra_10_get_group => "entra/10-get-group.json",
    entra_11_get_group_by_display_name => "entra/11-get-group-by-display-name.json",
    entra_12_update_group_name => "entra/12-update-group-name.json",
    entra_13_update_group_add_members => "entra/13-update-group-add-members.json",
    entra_14_update_group_remove_members => "entra/14-update-group-remove-members.json",
    entra_15_delete_group => "entra/15-delete-group.json",
    entra_16_discover_schemas => "entra/16-discover-schemas.json",
    entra_17_query_by_work_email => "entra/17-query-by-work-email.json",
    entra_18_query_external_id_bare_word => "entra/18-query-external-id-bare-word.json",
    entra_19_provision_user_sample => "entra/19-provision-user-sample.json",
    entra_20_add_manager => "entra/20-add-manager.json",
    entra_21_query_manager_reference => "entra/21-query-manager-reference.json",
    entra_30_disable_user_without_flag => "entra/30-disable-user-without-flag.json",
    entra_30_disable_user_with_flag => "entra/30-disable-user-with-flag.json",
    entra_31_add_single_value_without_flag => "entra/31-add-single-value-without-flag.json",
    entra_31_add_single_value_with_flag => "entra/31-add-single-value-with-flag.json",
    entra_32_replace_attributes_without_flag => "entra/32-replace-attributes-without-flag.json",
    entra_32_replace_attributes_with_flag => "entra/32-replace-attributes-with-flag.json",
    entra_33_remove_member_without_flag => "entra/33-remove-member-without-flag.json",
    entra_33_remove_member_with_flag => "entra/33-remove-member-with-flag.json",
    entra_40_reference_post_user_string_true => "entra/40-reference-post-user-string-true.json",
    entra_41_reference_remove_all_members => "entra/41-reference-remove-all-members.json",
    entra_42_reference_add_member_bare_id => "entra/42-reference-add-member-bare-id.json",
    entra_43_reference_filter_unquoted => "entra/43-reference-filter-unquoted.json",
    onelogin_01_create_user_v2_enterprise => "onelogin/01-create-user-v2-enterprise.json",
    onelogin_02_create_user_emails_object => "onelogin/02-create-user-emails-object.json",
    onelogin_03_create_user_scim_1_template => "onelogin/03-create-user-scim-1-template.json",
}

fn load(relative: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(relative)).unwrap()).unwrap()
}

/// Entra ID with and without `aadOptscim062020` sends different shapes for the same
/// change; each pair must come out the same.
#[test]
fn entra_flag_pairs_mean_the_same() {
    for step in [
        "30-disable-user",
        "31-add-single-value",
        "32-replace-attributes",
    ] {
        let without = load(&format!("entra/{step}-without-flag.json"));
        let with = load(&format!("entra/{step}-with-flag.json"));
        assert_ne!(
            without["request"]["body"], with["request"]["body"],
            "{step}: the shapes differ"
        );
        assert_eq!(
            without["result"], with["result"],
            "{step}: the patched user"
        );
        assert!(without["result"].get("error").is_none(), "{step}: applies");
    }
    let without = load("entra/33-remove-member-without-flag.json");
    let with = load("entra/33-remove-member-with-flag.json");
    assert_eq!(without["expect"]["change"], with["expect"]["change"]);
}
