//! The SCIM endpoint over `MemoryStore` and `MemoryScimTokens`: bearer-token
//! authentication first, then the users' lifecycle, the body limit, and discovery.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use jit_provisioning::{
    Config, DeprovisionedIdentities, Identity, MemoryScimTokens, MemoryStore, NoSessionRevoker,
    Policy, ScimTokens,
};
use jit_provisioning_axum::ScimEndpoint;
use jit_provisioning_scim::{ScimService, MAX_BODY_BYTES};
use serde_json::{json, Value};
use tower::ServiceExt;

const IDP: &str = "https://idp.acme.example";
const BASE: &str = "https://app.example/scim/v2";
const SCIM_JSON: &str = "application/scim+json";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

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

struct World {
    store: Arc<MemoryStore>,
    router: Router,
    /// A token of acme's.
    acme: String,
    /// A token of globex's.
    globex: String,
    /// A token acme made, then revoked.
    revoked: String,
}

async fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let tokens = Arc::new(MemoryScimTokens::new());
    let acme = tokens.create("acme", "okta", now()).await.unwrap().token;
    let globex = tokens.create("globex", "entra", now()).await.unwrap().token;
    let gone = tokens.create("acme", "old", now()).await.unwrap();
    assert!(tokens.revoke("acme", &gone.info.id).await.unwrap());
    let service = ScimService::new(store.clone(), policy(), Arc::new(NoSessionRevoker), BASE);
    let router = ScimEndpoint::new(Arc::new(service), tokens)
        .with_clock(Arc::new(now))
        .router();
    World {
        store,
        router,
        acme,
        globex,
        revoked: gone.token,
    }
}

impl World {
    async fn send(&self, request: Request<Body>) -> Response {
        self.router.clone().oneshot(request).await.unwrap()
    }

    /// A request at acme with acme's token.
    async fn acme(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Response) {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.acme));
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, SCIM_JSON);
                Body::from(serde_json::to_vec(&body).unwrap())
            }
            None => Body::empty(),
        };
        let response = self.send(request.body(body).unwrap()).await;
        (response.status(), response)
    }

    /// `GET /scim/v2/acme/Users` with `authorization` as the header (or none).
    async fn users_with(&self, authorization: Option<&str>) -> Response {
        let mut request = Request::builder().uri("/scim/v2/acme/Users");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }
}

async fn json(response: Response) -> Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

fn content_type(response: &Response) -> &str {
    response.headers()[header::CONTENT_TYPE].to_str().unwrap()
}

/// A 401 with the challenge and a SCIM error body.
async fn assert_unauthorized(response: Response) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"scim\""
    );
    assert_eq!(content_type(&response), SCIM_JSON);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    let body = json(response).await;
    assert_eq!(body["schemas"], json!([ERROR_SCHEMA]));
    assert_eq!(body["status"], "401");
}

#[tokio::test]
async fn no_authorization_header_is_401() {
    let world = world().await;
    assert_unauthorized(world.users_with(None).await).await;
}

#[tokio::test]
async fn another_scheme_is_401() {
    let world = world().await;
    let basic = format!("Basic {}", world.acme);
    assert_unauthorized(world.users_with(Some(&basic)).await).await;
}

#[tokio::test]
async fn a_malformed_token_is_401() {
    let world = world().await;
    let upper = format!("Bearer {}", world.acme.to_uppercase());
    assert_unauthorized(world.users_with(Some(&upper)).await).await;
}

#[tokio::test]
async fn an_unknown_token_is_401() {
    let world = world().await;
    let unknown = format!("Bearer jitscim_{}", "0f".repeat(32));
    assert_unauthorized(world.users_with(Some(&unknown)).await).await;
}

#[tokio::test]
async fn a_revoked_token_is_401() {
    let world = world().await;
    let revoked = format!("Bearer {}", world.revoked);
    assert_unauthorized(world.users_with(Some(&revoked)).await).await;
}

#[tokio::test]
async fn another_orgs_token_is_401() {
    let world = world().await;
    let globex = format!("Bearer {}", world.globex);
    assert_unauthorized(world.users_with(Some(&globex)).await).await;
}

#[tokio::test]
async fn an_unauthenticated_write_changes_nothing() {
    let world = world().await;
    let request = Request::builder()
        .method("POST")
        .uri("/scim/v2/acme/Users")
        .header(header::AUTHORIZATION, format!("Bearer {}", world.globex))
        .header(header::CONTENT_TYPE, SCIM_JSON)
        .body(Body::from(
            json!({"schemas": [USER_SCHEMA], "userName": "eve@acme.example"}).to_string(),
        ))
        .unwrap();
    assert_unauthorized(world.send(request).await).await;
    let (status, response) = world
        .acme(
            "GET",
            "/scim/v2/acme/Users?filter=userName%20eq%20%22eve%40acme.example%22",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(response).await["totalResults"], 0);
}

#[tokio::test]
async fn a_users_lifecycle_with_a_valid_token() {
    let world = world().await;
    let (status, created) = world
        .acme(
            "POST",
            "/scim/v2/acme/Users",
            Some(json!({
                "schemas": [USER_SCHEMA],
                "userName": "ana@acme.example",
                "name": {"givenName": "Ana", "familyName": "Lima"},
                "emails": [{"value": "ana@acme.example", "type": "work", "primary": true}],
                "active": true
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(content_type(&created), SCIM_JSON);
    assert_eq!(created.headers()[header::CACHE_CONTROL], "no-store");
    let location = created.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let user = json(created).await;
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("{BASE}/acme/Users/{id}"));
    assert_eq!(user["userName"], "ana@acme.example");

    let (status, got) = world
        .acme("GET", &format!("/scim/v2/acme/Users/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(got).await["id"], id.as_str());

    let (status, listed) = world
        .acme(
            "GET",
            "/scim/v2/acme/Users?filter=userName%20eq%20%22ana%40acme.example%22",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let listed = json(listed).await;
    assert_eq!(listed["totalResults"], 1);
    assert_eq!(listed["Resources"][0]["id"], id.as_str());

    let identity = Identity {
        issuer: IDP.into(),
        subject: "ana@acme.example".into(),
    };
    assert!(world
        .store
        .deprovisioned("acme", &identity)
        .await
        .unwrap()
        .is_none());
    let (status, patched) = world
        .acme(
            "PATCH",
            &format!("/scim/v2/acme/Users/{id}"),
            Some(json!({
                "schemas": [PATCH_SCHEMA],
                "Operations": [{"op": "replace", "value": {"active": false}}]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let patched = json(patched).await;
    assert_eq!(patched["id"], id.as_str());
    assert_eq!(patched["active"], false);
    assert!(
        world
            .store
            .deprovisioned("acme", &identity)
            .await
            .unwrap()
            .is_some(),
        "the identity is deprovisioned at acme"
    );

    let (status, deleted) = world
        .acme("DELETE", &format!("/scim/v2/acme/Users/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let bytes = deleted.into_body().collect().await.unwrap().to_bytes();
    assert!(bytes.is_empty());
    let (status, _) = world
        .acme("GET", &format!("/scim/v2/acme/Users/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let world = world().await;
    let padding = "x".repeat(MAX_BODY_BYTES);
    let body = format!(
        r#"{{"schemas": ["{USER_SCHEMA}"], "userName": "big@acme.example", "nickName": "{padding}"}}"#
    );
    let request = Request::builder()
        .method("POST")
        .uri("/scim/v2/acme/Users")
        .header(header::AUTHORIZATION, format!("Bearer {}", world.acme))
        .header(header::CONTENT_TYPE, SCIM_JSON)
        .body(Body::from(body))
        .unwrap();
    let response = world.send(request).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(content_type(&response), SCIM_JSON);
    let body = json(response).await;
    assert_eq!(body["schemas"], json!([ERROR_SCHEMA]));
    assert_eq!(body["status"], "413");
}

#[tokio::test]
async fn malformed_json_is_400_invalid_syntax() {
    let world = world().await;
    let request = Request::builder()
        .method("POST")
        .uri("/scim/v2/acme/Users")
        .header(header::AUTHORIZATION, format!("Bearer {}", world.acme))
        .header(header::CONTENT_TYPE, SCIM_JSON)
        .body(Body::from(r#"{"schemas": ["#))
        .unwrap();
    let response = world.send(request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(content_type(&response), SCIM_JSON);
    let body = json(response).await;
    assert_eq!(body["scimType"], "invalidSyntax");
}

#[tokio::test]
async fn the_service_provider_config_is_served() {
    let world = world().await;
    let (status, response) = world
        .acme("GET", "/scim/v2/acme/ServiceProviderConfig", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type(&response), SCIM_JSON);
    let body = json(response).await;
    assert_eq!(body["patch"]["supported"], true);
    assert_eq!(body["bulk"]["supported"], false);
}

#[tokio::test]
async fn discovery_needs_the_token_too() {
    let world = world().await;
    let request = Request::builder()
        .uri("/scim/v2/acme/ServiceProviderConfig")
        .body(Body::empty())
        .unwrap();
    assert_unauthorized(world.send(request).await).await;
}

#[tokio::test]
async fn another_method_is_a_scim_405_with_allow() {
    let world = world().await;
    let (status, response) = world.acme("PUT", "/scim/v2/acme/Users", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[header::ALLOW], "GET, POST");
    assert_eq!(content_type(&response), SCIM_JSON);
}

#[tokio::test]
async fn a_search_from_the_root_is_a_list() {
    let world = world().await;
    let (status, response) = world
        .acme(
            "POST",
            "/scim/v2/acme/.search",
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type(&response), SCIM_JSON);
    let body = json(response).await;
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
}

#[tokio::test]
async fn removing_active_is_refused_and_changes_nothing() {
    let world = world().await;
    let (status, created) = world
        .acme(
            "POST",
            "/scim/v2/acme/Users",
            Some(json!({"schemas": [USER_SCHEMA], "userName": "bo@acme.example", "active": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = json(created).await["id"].as_str().unwrap().to_owned();
    let (status, refused) = world
        .acme(
            "PATCH",
            &format!("/scim/v2/acme/Users/{id}"),
            Some(json!({
                "schemas": [PATCH_SCHEMA],
                "Operations": [{"op": "remove", "path": "active"}]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(refused).await["scimType"], "mutability");
    let (status, got) = world
        .acme("GET", &format!("/scim/v2/acme/Users/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let got = json(got).await;
    assert_eq!(
        (&got["active"], &got["meta"]["version"]),
        (&json!(true), &json!("W/\"1\""))
    );
}
