//! SCIM in the running demo, over HTTP: an IdP's SCIM client creates a person (who then
//! signs in through SAML into that very account), deactivates them (their session ends
//! at once and SAML cannot bring them back), and reactivates them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::client;
use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use jit_provisioning::ScimTokens;
use jit_provisioning_demo::{load_or_make_idp, sqlite_app, DemoConfig};
use jit_provisioning_saml::test_idp::{post_form_value, ResponseTarget, TestPerson};
use jit_provisioning_sqlx::SqliteStore;
use serde_json::{json, Value};

const SUBJECT: &str = "00u-scim-nia";

async fn start(data_dir: &Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let idp = Arc::new(load_or_make_idp(data_dir).unwrap());
    let config = DemoConfig::shipped().unwrap();
    let (router, _) = sqlite_app(&config, idp, &data_dir.join("demo.db"), &base_url)
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base_url
}

/// What `jit-provisioning scim token create --org acme` prints.
async fn token(data_dir: &Path) -> String {
    let url = format!("sqlite://{}", data_dir.join("demo.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    store
        .create("acme", "test", Utc::now())
        .await
        .unwrap()
        .token
}

/// Nia's SAML sign-in through acme's portal and the demo's IdP: the ACS's answer's
/// status, where it sends the browser, and the session cookie.
async fn sign_in(base_url: &str, data_dir: &Path) -> (u16, Option<String>, Option<String>) {
    let trip = client()
        .get(format!("{base_url}/acme/login/sso"))
        .send()
        .await
        .unwrap();
    let cookie = trip.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let location = trip.headers()["location"].to_str().unwrap().to_owned();
    let idp = load_or_make_idp(data_dir).unwrap();
    let target = ResponseTarget::new(
        format!("{base_url}/acme/saml/metadata"),
        format!("{base_url}/acme/saml/acs"),
    )
    .with_in_response_to(common::request_id(&location));
    let person = TestPerson::new(SUBJECT)
        .with_given_name("Nia")
        .with_family_name("Okafor")
        .with_email("nia@acme.example");
    let response = idp.response(&person, &target, Utc::now()).unwrap();
    let answer = client()
        .post(format!("{base_url}/acme/saml/acs"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "SAMLResponse={}",
            common::form_encode(&post_form_value(&response))
        ))
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        answer
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let cookie = header("set-cookie").map(|cookie| cookie.split(';').next().unwrap().to_owned());
    (answer.status().as_u16(), header("location"), cookie)
}

async fn scim(
    base_url: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client()
        .request(method, format!("{base_url}/scim/v2/acme{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .body(body.to_string());
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn active(active: bool) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": active}}]
    })
}

#[tokio::test]
async fn scim_provisions_and_deprovisions_a_person_of_the_running_demo() {
    let data_dir = tempfile::tempdir().unwrap();
    let base_url = start(data_dir.path()).await;
    let token = token(data_dir.path()).await;

    // No token, no answer.
    let (status, _) = scim(&base_url, "jitscim_0", reqwest::Method::GET, "/Users", None).await;
    assert_eq!(status, 401);

    // The IdP creates Nia: an account by the handle rule, before she ever signs in.
    let (status, created) = scim(
        &base_url,
        &token,
        reqwest::Method::POST,
        "/Users",
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": SUBJECT,
            "name": {"givenName": "Nia", "familyName": "Okafor"},
            "emails": [{"value": "nia@acme.example", "primary": true}],
            "active": true
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    // Her first SAML sign-in lands in that account, on the org home.
    let (status, location, cookie) = sign_in(&base_url, data_dir.path()).await;
    assert_eq!((status, location.as_deref()), (303, Some("/acme")));
    let cookie = cookie.unwrap();
    let home = client()
        .get(format!("{base_url}/acme"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    let page = home.text().await.unwrap();
    assert!(page.contains("nia-okafor"), "{page}");
    assert!(page.contains("linked_member"), "{page}");

    // Deactivated: her session ends at once, and SAML does not bring her back.
    let (status, patched) = scim(
        &base_url,
        &token,
        reqwest::Method::PATCH,
        &format!("/Users/{id}"),
        Some(active(false)),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["active"], false);
    let home = client()
        .get(format!("{base_url}/acme"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 401, "the session was ended");
    let (status, location, _) = sign_in(&base_url, data_dir.path()).await;
    assert_eq!(status, 403, "{location:?}");

    // Reactivated: she signs in again.
    let (status, _) = scim(
        &base_url,
        &token,
        reqwest::Method::PATCH,
        &format!("/Users/{id}"),
        Some(active(true)),
    )
    .await;
    assert_eq!(status, 200);
    let (status, location, _) = sign_in(&base_url, data_dir.path()).await;
    assert_eq!((status, location.as_deref()), (303, Some("/acme")));
}
