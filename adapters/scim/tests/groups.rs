//! `/Groups` over the core's `MemoryStore`: Okta's group push and Entra ID's group
//! provisioning, as their published request shapes have them, with the org's
//! `group_roles` fed by the members, and Entra ID's overage decided on the pushed groups.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::{
    AccountStore, Assertion, Config, MemoryStore, NoSessionRevoker, Policy, Provisioner, Request,
    Role, Rule,
};
use jit_provisioning_scim::{ScimRequest, ScimResponse, ScimService};
use serde_json::{json, Value};

const IDP: &str = "https://idp.acme.example";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
}

/// acme maps `acme-admins` (Okta names groups) and Entra ID's object id of its admins'
/// group to admin; `scim_roles` as given.
fn policy(scim_roles: &str) -> Policy {
    serde_json::from_str::<Config>(&format!(
        r#"{{"orgs": {{"acme": {{"jit": true, "idp": "{IDP}", "scim_roles": "{scim_roles}",
            "required_groups": ["acme-admins", "everyone"],
            "provision": [{{"org": "acme", "role": "member"}}],
            "group_roles": [{{"group": "acme-admins", "org": "acme", "role": "admin"}},
                            {{"group": "7c1e-admins", "org": "acme", "role": "admin"}}]}}}}}}"#
    ))
    .unwrap()
    .validate()
    .unwrap()
}

struct World {
    store: Arc<MemoryStore>,
    service: ScimService,
}

fn world(scim_roles: &str) -> World {
    let store = Arc::new(MemoryStore::new());
    let service = ScimService::new(
        store.clone(),
        policy(scim_roles),
        Arc::new(NoSessionRevoker),
        "https://app.example/scim/v2",
    )
    .with_groups(store.clone());
    World { store, service }
}

impl World {
    async fn send(&self, method: &str, path: &str, query: &str, body: &Value) -> ScimResponse {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(body).unwrap()
        };
        match ScimRequest::parse(method, path, query, &bytes) {
            Ok(operation) => self.service.handle("acme", operation, now()).await,
            Err(refusal) => panic!("{method} {path} was refused: {refusal:?}"),
        }
    }

    /// A SCIM user: its id.
    async fn user(&self, user_name: &str, given: &str) -> String {
        let body = json!({"schemas": [USER], "userName": user_name,
            "name": {"givenName": given, "familyName": "Lima"}, "active": true});
        let made = self.send("POST", "/Users", "", &body).await;
        assert_eq!(made.status, 201);
        body_of(&made)["id"].as_str().unwrap().to_owned()
    }

    async fn role(&self, user_name: &str) -> Option<Role> {
        let identity = jit_provisioning::Identity {
            issuer: IDP.into(),
            subject: user_name.into(),
        };
        let account = self
            .store
            .account_by_identity(&identity)
            .await
            .unwrap()
            .unwrap();
        account.memberships.get("acme").copied()
    }

    async fn members(&self, id: &str) -> Vec<String> {
        let read = self
            .send("GET", &format!("/Groups/{id}"), "", &Value::Null)
            .await;
        assert_eq!(read.status, 200);
        let mut members: Vec<String> = body_of(&read)["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|member| member["value"].as_str().unwrap().to_owned())
            .collect();
        members.sort();
        members
    }
}

fn body_of(response: &ScimResponse) -> &Value {
    response.body.as_ref().unwrap()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn okta_pushes_a_group_renames_it_and_deletes_it() {
    let world = world("raise");
    let ana = world.user("ana@acme.example", "Ana").await;
    let bo = world.user("bo@acme.example", "Bo").await;
    let cy = world.user("cy@acme.example", "Cy").await;

    // Okta's push: the group with its members, then a lookup by name.
    let pushed = world
        .send(
            "POST",
            "/Groups",
            "",
            &json!({"schemas": [GROUP], "displayName": "acme-admins",
                "members": [{"value": ana, "display": "ana@acme.example"}]}),
        )
        .await;
    assert_eq!(pushed.status, 201);
    let group = body_of(&pushed)["id"].as_str().unwrap().to_owned();
    assert_eq!(body_of(&pushed)["members"][0]["value"], json!(ana));
    assert_eq!(body_of(&pushed)["members"][0]["type"], json!("User"));
    assert_eq!(world.role("ana@acme.example").await, Some(Role::Admin));
    assert_eq!(world.role("bo@acme.example").await, Some(Role::Member));

    let found = world
        .send(
            "GET",
            "/Groups",
            "filter=displayName%20eq%20%22ACME-admins%22",
            &Value::Null,
        )
        .await;
    assert_eq!(body_of(&found)["totalResults"], json!(1));
    assert_eq!(body_of(&found)["Resources"][0]["id"], json!(group));

    // One out by filter, one in: Okta's member update.
    let changed = world
        .send(
            "PATCH",
            &format!("/Groups/{group}"),
            "",
            &json!({"schemas": [PATCH], "Operations": [
                {"op": "remove", "path": format!("members[value eq \"{ana}\"]")},
                {"op": "add", "path": "members", "value": [{"value": bo, "display": "bo@acme.example"}]}]}),
        )
        .await;
    assert_eq!(changed.status, 200);
    assert_eq!(body_of(&changed)["members"][0]["value"], json!(bo));
    assert_eq!(world.members(&group).await, vec![bo.clone()]);
    // Raise: Ana stays an admin, Bo becomes one.
    assert_eq!(world.role("ana@acme.example").await, Some(Role::Admin));
    assert_eq!(world.role("bo@acme.example").await, Some(Role::Admin));

    // Okta's full push: `replace` with no path and a value object.
    let full = world
        .send(
            "PATCH",
            &format!("/Groups/{group}"),
            "",
            &json!({"schemas": [PATCH], "Operations": [{"op": "replace",
                "value": {"id": group, "displayName": "Admins", "members": [{"value": cy}, {"value": ana}]}}]}),
        )
        .await;
    assert_eq!(full.status, 200);
    assert_eq!(body_of(&full)["displayName"], json!("Admins"));
    assert_eq!(
        world.members(&group).await,
        sorted(vec![ana.clone(), cy.clone()])
    );
    // Renamed away from `acme-admins`: no role it maps to, and under raise none falls.
    assert_eq!(world.role("cy@acme.example").await, Some(Role::Member));

    let deleted = world
        .send("DELETE", &format!("/Groups/{group}"), "", &Value::Null)
        .await;
    assert_eq!(deleted.status, 204);
    let gone = world
        .send("GET", &format!("/Groups/{group}"), "", &Value::Null)
        .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn entra_id_adds_and_removes_members_with_and_without_its_flag() {
    let world = world("follow");
    let ana = world.user("ana@acme.example", "Ana").await;
    let bo = world.user("bo@acme.example", "Bo").await;

    // Entra ID creates the group bare, its object id as externalId, then adds members.
    let made = world
        .send(
            "POST",
            "/Groups",
            "",
            &json!({"schemas": [GROUP], "externalId": "7c1e-admins", "displayName": "Admins", "members": []}),
        )
        .await;
    assert_eq!(made.status, 201);
    let group = body_of(&made)["id"].as_str().unwrap().to_owned();
    let add = world
        .send(
            "PATCH",
            &format!("/Groups/{group}"),
            "",
            &json!({"schemas": [PATCH], "Operations": [{"op": "Add", "path": "members",
                "value": [{"value": ana}, {"value": bo}]}]}),
        )
        .await;
    assert_eq!(add.status, 200);
    assert_eq!(world.role("ana@acme.example").await, Some(Role::Admin));
    assert_eq!(world.role("bo@acme.example").await, Some(Role::Admin));

    // Its membership question, members left out of the answer.
    let asked = world
        .send(
            "GET",
            "/Groups",
            &format!("filter=id%20eq%20%22{group}%22%20and%20members%20eq%20%22{bo}%22&excludedAttributes=members"),
            &Value::Null,
        )
        .await;
    assert_eq!(body_of(&asked)["totalResults"], json!(1));
    assert!(body_of(&asked)["Resources"][0].get("members").is_none());

    // Removal as a value array (without `aadOptscim062020`)…
    let removed = world
        .send(
            "PATCH",
            &format!("/Groups/{group}"),
            "",
            &json!({"schemas": [PATCH], "Operations": [{"op": "Remove", "path": "members",
                "value": [{"value": ana}]}]}),
        )
        .await;
    assert_eq!(removed.status, 200);
    // …lowers Ana under `follow`.
    assert_eq!(world.role("ana@acme.example").await, Some(Role::Member));
    // …and by filter (with the flag), which would take the last admin away: Bo leaves
    // the group but keeps the role.
    let last = world
        .send(
            "PATCH",
            &format!("/Groups/{group}"),
            "aadOptscim062020",
            &json!({"schemas": [PATCH], "Operations": [{"op": "remove",
                "path": format!("members[value eq \"{bo}\"]")}]}),
        )
        .await;
    assert_eq!(last.status, 200);
    assert!(world.members(&group).await.is_empty());
    assert_eq!(world.role("bo@acme.example").await, Some(Role::Admin));

    // The SAML side: an overage sign-in of Ana, decided on her pushed groups.
    let everyone = world
        .send(
            "POST",
            "/Groups",
            "",
            &json!({"schemas": [GROUP], "displayName": "everyone", "members": [{"value": ana}]}),
        )
        .await;
    assert_eq!(everyone.status, 201);
    let provisioner = Provisioner::new(policy("follow"), Arc::clone(&world.store))
        .with_scim_groups(world.store.clone());
    let mut assertion = Assertion::new("acme", IDP, "ana@acme.example");
    assertion.groups_incomplete = true;
    let done = provisioner
        .handle(&Request::Assertion(assertion.clone()), now())
        .await
        .unwrap();
    assert_eq!(done.decision.rule(), Rule::LinkedMember);
    let refused = Provisioner::new(policy("follow"), Arc::clone(&world.store))
        .handle(&Request::Assertion(assertion), now())
        .await
        .unwrap();
    assert_eq!(refused.decision.rule(), Rule::GroupsOverage);
}

#[tokio::test]
async fn group_refusals_are_scim_errors() {
    let world = world("raise");
    let ana = world.user("ana@acme.example", "Ana").await;
    let made = world
        .send(
            "POST",
            "/Groups",
            "",
            &json!({"schemas": [GROUP], "displayName": "Engineering"}),
        )
        .await;
    let group = body_of(&made)["id"].as_str().unwrap().to_owned();
    let again = world
        .send(
            "POST",
            "/Groups",
            "",
            &json!({"schemas": [GROUP], "displayName": "engineering"}),
        )
        .await;
    assert_eq!(
        (again.status, body_of(&again)["scimType"].clone()),
        (409, json!("uniqueness"))
    );
    // A member who is no user of the org is left out; the rest applies.
    let stranger = world
        .send(
            "PATCH",
            &format!("/Groups/{group}"),
            "excludedAttributes=members",
            &json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members",
                "value": [{"value": ana}, {"value": "not-a-user"}]}]}),
        )
        .await;
    assert_eq!(stranger.status, 200);
    assert!(
        body_of(&stranger).get("members").is_none(),
        "members were excluded"
    );
    assert_eq!(world.members(&group).await, vec![ana.clone()]);
    let stale = ScimRequest::new("DELETE", &format!("/Groups/{group}"), "", b"")
        .with_if_match(Some("W/\"7\""))
        .operation()
        .unwrap();
    assert_eq!(world.service.handle("acme", stale, now()).await.status, 412);
    let unknown = world.send("DELETE", "/Groups/nope", "", &Value::Null).await;
    assert_eq!(unknown.status, 404);
    // Another org never sees acme's group.
    let elsewhere = ScimRequest::parse("GET", &format!("/Groups/{group}"), "", b"").unwrap();
    assert_eq!(
        world
            .service
            .handle("globex", elsewhere, now())
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_search_from_the_root_lists_users_then_groups() {
    let world = world("raise");
    let ana = world.user("ana@acme.example", "Ana").await;
    world.user("bo@acme.example", "Bo").await;
    let made = world
        .send(
            "POST",
            "/Groups",
            "",
            &json!({"schemas": [GROUP], "displayName": "Engineering", "members": [{"value": ana}]}),
        )
        .await;
    assert_eq!(made.status, 201);
    let search = |body: Value| {
        let bytes = serde_json::to_vec(&body).unwrap();
        let operation = ScimRequest::parse("POST", "/.search", "", &bytes).unwrap();
        world.service.handle("acme", operation, now())
    };
    const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
    let everything = search(json!({"schemas": [SEARCH], "count": 2})).await;
    assert_eq!(everything.status, 200);
    let body = body_of(&everything);
    assert_eq!(body["totalResults"], json!(3));
    assert_eq!(body["Resources"].as_array().unwrap().len(), 2);
    assert_eq!(body["Resources"][0]["userName"], json!("ana@acme.example"));
    let last = search(json!({"schemas": [SEARCH], "startIndex": 3})).await;
    assert_eq!(
        body_of(&last)["Resources"][0]["displayName"],
        json!("Engineering")
    );
    let named = search(
        json!({"schemas": [SEARCH], "filter": "displayName eq \"engineering\"",
        "excludedAttributes": ["members"]}),
    )
    .await;
    let body = body_of(&named);
    assert_eq!(body["totalResults"], json!(1));
    assert!(body["Resources"][0].get("members").is_none());
}
