//! `ScimService` over the core's `MemoryStore`, driven by the Okta and Entra ID request
//! sequences in fixtures/: SCIM-made accounts, deprovisioning that the SAML sign-in
//! honours, restoring, and the sessions ended.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::{
    AccountId, AccountStore, Assertion, BoxError, Config, MemoryStore, Policy, Provisioner,
    Request, Role, Rule, SessionRevoker,
};
use jit_provisioning_scim::{NameIdField, ScimRequest, ScimResponse, ScimService};
use serde_json::{json, Value};

const IDP: &str = "https://idp.acme.example";
const BASE: &str = "https://app.example/scim/v2";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
}

fn policy() -> Policy {
    serde_json::from_str::<Config>(&format!(
        r#"{{"orgs": {{
            "acme": {{"jit": true, "idp": "{IDP}", "provision": [{{"org": "acme", "role": "member"}}]}},
            "globex": {{"jit": true, "idp": "https://idp.globex.example"}}
        }}}}"#
    ))
    .unwrap()
    .validate()
    .unwrap()
}

/// Remembers every account whose sessions it was asked to end.
#[derive(Default)]
struct Revoked(Mutex<Vec<AccountId>>);

#[async_trait]
impl SessionRevoker for Revoked {
    async fn revoke_sessions(&self, account: &AccountId) -> Result<(), BoxError> {
        self.0.lock().unwrap().push(account.clone());
        Ok(())
    }
}

struct World {
    store: Arc<MemoryStore>,
    revoked: Arc<Revoked>,
    service: ScimService,
    provisioner: Provisioner<Arc<MemoryStore>>,
}

fn world(store: MemoryStore, field: NameIdField) -> World {
    let store = Arc::new(store);
    let revoked = Arc::new(Revoked::default());
    let service = ScimService::new(store.clone(), policy(), revoked.clone(), BASE)
        .with_name_id("acme", field);
    let provisioner =
        Provisioner::new(policy(), Arc::clone(&store)).with_deprovisioning(store.clone());
    World {
        store,
        revoked,
        service,
        provisioner,
    }
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

    /// The fixture's request, with its user id replaced by `id`.
    async fn fixture(&self, name: &str, id: Option<&str>) -> ScimResponse {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let request = &fixture["request"];
        let mut path = request["path"].as_str().unwrap().to_owned();
        if let Some(id) = id {
            if let Some((before, _)) = path.split_once("/Users/") {
                path = format!("{before}/Users/{id}");
            }
        }
        let mut body = request["body"].clone();
        if let (Some(id), Some(object)) = (id, body.as_object_mut()) {
            if object.contains_key("id") {
                object.insert("id".into(), json!(id));
            }
        }
        self.send(
            request["method"].as_str().unwrap(),
            &path,
            request["query"].as_str().unwrap(),
            &body,
        )
        .await
    }

    async fn set_active(&self, id: &str, active: bool) -> ScimResponse {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": active}}]
        });
        self.send("PATCH", &format!("/Users/{id}"), "", &body).await
    }

    /// A SAML sign-in at acme of `subject`: the rule that decided it.
    async fn sign_in(&self, subject: &str, given: &str, family: &str) -> (Rule, Option<AccountId>) {
        let mut assertion = Assertion::new("acme", IDP, subject);
        assertion.given_name = Some(given.into());
        assertion.family_name = Some(family.into());
        assertion.email = Some(subject.into());
        let done = self
            .provisioner
            .handle(&Request::Assertion(assertion), now())
            .await
            .unwrap();
        (done.decision.rule(), done.account.map(|account| account.id))
    }

    fn revoked(&self) -> Vec<AccountId> {
        self.revoked.0.lock().unwrap().clone()
    }
}

fn body(response: &ScimResponse) -> &Value {
    response.body.as_ref().unwrap()
}

#[tokio::test]
async fn okta_provisions_deactivates_and_reactivates() {
    let world = world(MemoryStore::new(), NameIdField::UserName);
    let none = world
        .fixture("okta/01-find-user-by-username.json", None)
        .await;
    assert_eq!(
        (none.status, body(&none)["totalResults"].clone()),
        (200, json!(0))
    );

    let created = world.fixture("okta/02-create-user.json", None).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = body(&created)["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.location.as_deref(),
        Some(format!("{BASE}/acme/Users/{id}").as_str())
    );
    assert_eq!(world.store.len(), 1);
    let account = world.store.snapshot().remove(0);
    assert_eq!(account.handle, "ana-lima");
    assert!(!account.has_password);
    assert_eq!(account.memberships.get("acme"), Some(&Role::Member));

    let found = world
        .fixture("okta/01-find-user-by-username.json", None)
        .await;
    assert_eq!(body(&found)["totalResults"], 1);
    assert_eq!(body(&found)["Resources"][0]["id"], json!(id));
    let got = world.fixture("okta/03-get-user.json", Some(&id)).await;
    assert_eq!(
        (got.status, body(&got)["userName"].clone()),
        (200, json!("ana.lima@example.org"))
    );
    let replaced = world.fixture("okta/04-replace-user.json", Some(&id)).await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);

    // The first SSO sign-in signs in to the SCIM-made account.
    let (rule, signed_in) = world.sign_in("ana.lima@example.org", "Ana", "Lima").await;
    assert_eq!(
        (rule, signed_in.as_ref()),
        (Rule::LinkedMember, Some(&account.id))
    );
    assert_eq!(world.store.len(), 1, "no second account");

    let deactivated = world
        .fixture("okta/05-deactivate-user.json", Some(&id))
        .await;
    assert_eq!(
        (deactivated.status, body(&deactivated)["active"].clone()),
        (200, json!(false))
    );
    let held = world
        .store
        .account_by_id(&account.id)
        .await
        .unwrap()
        .unwrap();
    assert!(held.disabled && !held.is_member_of("acme"), "{held:?}");
    assert_eq!(world.revoked(), std::slice::from_ref(&account.id));
    let (rule, _) = world.sign_in("ana.lima@example.org", "Ana", "Lima").await;
    assert_eq!(rule, Rule::DeprovisionedIdentity);

    let back = world.set_active(&id, true).await;
    assert_eq!(
        (back.status, body(&back)["active"].clone()),
        (200, json!(true))
    );
    let (rule, signed_in) = world.sign_in("ana.lima@example.org", "Ana", "Lima").await;
    assert_eq!(
        (rule, signed_in),
        (Rule::LinkedMember, Some(account.id.clone()))
    );

    let listed = world.fixture("okta/06-list-users.json", None).await;
    assert_eq!(body(&listed)["totalResults"], 1);
    assert_eq!(world.store.len(), 1);
}

#[tokio::test]
async fn entra_id_provisions_renames_disables_and_deletes() {
    let world = world(MemoryStore::new(), NameIdField::UserName);
    let probe = world.fixture("entra/01-test-connection.json", None).await;
    assert_eq!(body(&probe)["totalResults"], 0);
    let created = world.fixture("entra/02-create-user.json", None).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = body(&created)["id"].as_str().unwrap().to_owned();
    let got = world.fixture("entra/03-get-user.json", Some(&id)).await;
    assert_eq!(got.status, 200);
    let found = world.fixture("entra/04-get-user-by-query.json", None).await;
    assert_eq!(body(&found)["Resources"][0]["id"], json!(id));
    let patched = world
        .fixture("entra/05-update-user-multi-valued.json", Some(&id))
        .await;
    assert_eq!(body(&patched)["name"]["familyName"], "Nakamura-Reyes");
    assert_eq!(
        body(&patched)["emails"][0]["value"],
        "kai.n@contoso.example"
    );

    // The NameID is the userName: renaming relinks the account to the new one.
    let renamed = world
        .fixture("entra/06-update-user-single-valued.json", Some(&id))
        .await;
    assert_eq!(body(&renamed)["userName"], "kai.reyes@contoso.example");
    let (rule, account) = world
        .sign_in("kai.reyes@contoso.example", "Kai", "Nakamura")
        .await;
    assert_eq!(rule, Rule::LinkedMember);
    let account = account.unwrap();
    assert_eq!(world.store.len(), 1);

    let disabled = world
        .fixture("entra/30-disable-user-without-flag.json", Some(&id))
        .await;
    assert_eq!(body(&disabled)["active"], false);
    let (rule, _) = world
        .sign_in("kai.reyes@contoso.example", "Kai", "Nakamura")
        .await;
    assert_eq!(rule, Rule::DeprovisionedIdentity);
    assert_eq!(world.revoked(), std::slice::from_ref(&account));

    let back = world.set_active(&id, true).await;
    assert_eq!(back.status, 200);
    let (rule, _) = world
        .sign_in("kai.reyes@contoso.example", "Kai", "Nakamura")
        .await;
    assert_eq!(rule, Rule::LinkedMember);

    let deleted = world.fixture("entra/08-delete-user.json", Some(&id)).await;
    assert_eq!(deleted.status, 204);
    let gone = world.fixture("entra/03-get-user.json", Some(&id)).await;
    assert_eq!(gone.status, 404);
    let (rule, _) = world
        .sign_in("kai.reyes@contoso.example", "Kai", "Nakamura")
        .await;
    assert_eq!(
        rule,
        Rule::DeprovisionedIdentity,
        "a deleted user stays out"
    );
    assert_eq!(world.revoked(), [account.clone(), account]);
}

#[tokio::test]
async fn the_name_id_may_be_the_external_id() {
    let world = world(MemoryStore::new(), NameIdField::ExternalId);
    let created = world.fixture("okta/02-create-user.json", None).await;
    assert_eq!(created.status, 201);
    let (rule, _) = world.sign_in("00u4k7q2zxHnB9cDe5d7", "Ana", "Lima").await;
    assert_eq!(rule, Rule::LinkedMember);
    assert_eq!(world.store.len(), 1);
    let no_external = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "sam@example.org"
    });
    let refused = world.send("POST", "/Users", "", &no_external).await;
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn deprovisioning_a_member_of_another_org_removes_only_the_membership() {
    let world = world(MemoryStore::new(), NameIdField::UserName);
    let created = world.fixture("okta/02-create-user.json", None).await;
    let id = body(&created)["id"].as_str().unwrap().to_owned();
    let account = world.store.snapshot().remove(0);
    // Globex added her too, by hand.
    jit_provisioning::MembershipStore::set_role(&*world.store, &account.id, "globex", Role::Member)
        .await
        .unwrap();

    let off = world.set_active(&id, false).await;
    assert_eq!(off.status, 200);
    let held = world
        .store
        .account_by_id(&account.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!held.disabled, "globex's member is not acme's to disable");
    assert!(!held.is_member_of("acme") && held.is_member_of("globex"));
    assert_eq!(world.revoked(), std::slice::from_ref(&account.id));

    let on = world.set_active(&id, true).await;
    assert_eq!(on.status, 200);
    let held = world
        .store
        .account_by_id(&account.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.memberships.get("acme"), Some(&Role::Member));
}

#[tokio::test]
async fn refusals_are_scim_errors() {
    let world = world(MemoryStore::new(), NameIdField::UserName);
    assert_eq!(
        world.fixture("okta/02-create-user.json", None).await.status,
        201
    );
    let again = world.fixture("okta/02-create-user.json", None).await;
    assert_eq!(
        (again.status, body(&again)["scimType"].clone()),
        (409, json!("uniqueness"))
    );
    let unknown = world.fixture("okta/03-get-user.json", None).await;
    assert_eq!(unknown.status, 404);
    let id = world.store.snapshot().len().to_string();
    let missing = ScimRequest::parse("DELETE", &format!("/Users/x{id}"), "", b"").unwrap();
    assert_eq!(
        world.service.handle("acme", missing, now()).await.status,
        404
    );
    let listed = world.send("GET", "/Users", "", &Value::Null).await;
    let id = body(&listed)["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/Users/{id}");
    let stale = ScimRequest::new("DELETE", &path, "", b"")
        .with_if_match(Some("W/\"9\""))
        .operation()
        .unwrap();
    assert_eq!(world.service.handle("acme", stale, now()).await.status, 412);
    let group = world.fixture("okta/07-push-group.json", None).await;
    assert_eq!(group.status, 501);
    let config = world
        .send("GET", "/ServiceProviderConfig", "", &Value::Null)
        .await;
    assert_eq!(config.status, 200);
    let elsewhere = ScimRequest::parse("GET", "/Users", "", b"").unwrap();
    assert_eq!(
        world
            .service
            .handle("initech", elsewhere, now())
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn attributes_no_field_holds_read_back_as_written() {
    let world = world(MemoryStore::new(), NameIdField::UserName);
    let created = world
        .send(
            "POST",
            "/Users",
            "",
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                "userName": "ana@acme.example",
                "name": {"formatted": "Ana Lima", "givenName": "Ana", "familyName": "Lima"},
                "emails": [{"value": "ana@home.example", "type": "home"},
                           {"value": "ana@acme.example", "type": "work", "primary": true}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                    {"employeeNumber": "701984", "department": "Tour Operations"},
                "active": true
            }),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = body(&created)["id"].as_str().unwrap().to_owned();
    let read = world
        .send("GET", &format!("/Users/{id}"), "", &Value::Null)
        .await;
    let user = body(&read);
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(user["name"]["formatted"], json!("Ana Lima"));
    assert_eq!(user[ENTERPRISE]["employeeNumber"], json!("701984"));
    let home = user["emails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|email| email["value"] == json!("ana@home.example"))
        .unwrap();
    assert_eq!(home["type"], json!("home"));
    assert_ne!(home["primary"], json!(true));

    let patched = world
        .send(
            "PATCH",
            &format!("/Users/{id}"),
            "",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace",
                    "path": format!("{ENTERPRISE}:department"), "value": "Finance"}]}),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(body(&patched)[ENTERPRISE]["department"], json!("Finance"));
    assert_eq!(
        body(&patched)[ENTERPRISE]["employeeNumber"],
        json!("701984")
    );
    let again = world
        .send("GET", &format!("/Users/{id}"), "", &Value::Null)
        .await;
    assert_eq!(body(&again)[ENTERPRISE]["department"], json!("Finance"));
    // The primary address is the one SAML sign-ins and the `emails` filter see first.
    let account = world
        .store
        .account_by_identity(&jit_provisioning::Identity {
            issuer: IDP.into(),
            subject: "ana@acme.example".into(),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.handle, "ana-lima");
}
