//! The portal's routes end to end, in process: the trip to the test IdP and back, the
//! session it leaves, and every page a refusal shows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Read as _;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt as _;
use jit_provisioning::{Config, MemoryReplayGuard, MemoryStore, Provisioner};
use jit_provisioning_axum::{session_layer, SsoPortal, NOT_ASSIGNED_GUIDANCE};
use jit_provisioning_saml::test_idp::{
    post_form_value, BadResponse, ResponseTarget, TestIdp, TestPerson,
};
use jit_provisioning_saml::SamlConfig;
use tower::ServiceExt as _;
use tower_sessions::MemoryStore as SessionMemory;

const IDP: &str = "https://idp.test.example/metadata";

fn idp() -> &'static TestIdp {
    static IDP_KEYS: OnceLock<TestIdp> = OnceLock::new();
    IDP_KEYS.get_or_init(|| TestIdp::generate(IDP).unwrap())
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn app(base_url: &str) -> Router {
    let policy: Config = serde_json::from_value(serde_json::json!({
        "orgs": {"acme": {"jit": true, "idp": IDP}}
    }))
    .unwrap();
    let policy = policy.validate().unwrap();
    let saml: SamlConfig = serde_json::from_value(serde_json::json!({
        "sp": {"base_url": base_url},
        "orgs": {"acme": {"idp": {"metadata": idp().metadata_xml("https://idp.test.example/sso").unwrap()}}}
    }))
    .unwrap();
    let saml = saml.validate(&policy, None).unwrap();
    SsoPortal::new(
        Arc::new(Provisioner::new(policy, MemoryStore::new())),
        Arc::new(saml),
        Arc::new(MemoryReplayGuard::new()),
    )
    .with_clock(Arc::new(now))
    .router()
    .layer(session_layer(SessionMemory::default(), base_url))
}

/// A browser's cookie jar of one cookie.
#[derive(Default)]
struct Browser {
    cookie: Option<String>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    set_cookie: Option<String>,
    body: String,
}

impl Browser {
    async fn send(
        &mut self,
        app: &Router,
        request: axum::http::request::Builder,
        body: Body,
    ) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header(header::COOKIE, cookie),
            None => request,
        };
        let response = app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let header_text = |name| {
            response
                .headers()
                .get(name)
                .map(|value: &axum::http::HeaderValue| value.to_str().unwrap().to_owned())
        };
        let set_cookie = header_text(header::SET_COOKIE);
        if let Some(set_cookie) = &set_cookie {
            self.cookie = Some(set_cookie.split(';').next().unwrap().to_owned());
        }
        let status = response.status();
        let location = header_text(header::LOCATION);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            location,
            set_cookie,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    async fn get(&mut self, app: &Router, uri: &str) -> Page {
        self.send(app, Request::get(uri), Body::empty()).await
    }

    async fn post_response(&mut self, app: &Router, xml: &str, relay_state: Option<&str>) -> Page {
        let mut form = format!("SAMLResponse={}", urlencode(&post_form_value(xml)));
        if let Some(relay_state) = relay_state {
            form.push_str(&format!("&RelayState={}", urlencode(relay_state)));
        }
        let request = Request::post("/acme/saml/acs")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.send(app, request, Body::from(form)).await
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let value = query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))?;
    let mut out = Vec::new();
    let mut bytes = value.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let pair: String = [bytes.next()?, bytes.next()?]
                .iter()
                .map(|&b| b as char)
                .collect();
            out.push(u8::from_str_radix(&pair, 16).ok()?);
        } else {
            out.push(byte);
        }
    }
    String::from_utf8(out).ok()
}

/// The AuthnRequest id in an IdP redirect.
fn request_id(location: &str) -> String {
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(query_param(location, "SAMLRequest").unwrap())
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .read_to_string(&mut xml)
        .unwrap();
    xml.split(" ID=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

fn jane() -> TestPerson {
    TestPerson::new("00u1")
        .with_given_name("Jane")
        .with_family_name("Doe")
}

fn target(request_id: &str) -> ResponseTarget {
    ResponseTarget::new(
        "http://127.0.0.1:3000/acme/saml/metadata",
        "http://127.0.0.1:3000/acme/saml/acs",
    )
    .with_in_response_to(request_id)
}

/// Through the portal to the IdP and back: the response the IdP would post.
async fn trip(app: &Router, browser: &mut Browser, query: &str) -> (String, Option<String>) {
    let redirect = browser.get(app, &format!("/acme/login/sso{query}")).await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    let location = redirect.location.unwrap();
    assert!(
        location.starts_with("https://idp.test.example/sso?SAMLRequest="),
        "{location}"
    );
    let id = request_id(&location);
    let xml = idp().response(&jane(), &target(&id), now()).unwrap();
    (xml, query_param(&location, "RelayState"))
}

#[tokio::test]
async fn the_portal_page_offers_sso_and_says_what_to_do_when_not_assigned() {
    let app = app("http://127.0.0.1:3000");
    let page = Browser::default()
        .get(&app, "/acme/login?return_to=/acme/projects")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Sign in with SSO"));
    assert!(
        page.body
            .contains(r#"href="/acme/login/sso?return_to=/acme/projects""#),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains(&jit_provisioning_axum::escape_html(NOT_ASSIGNED_GUIDANCE)));
}

#[tokio::test]
async fn a_first_login_through_the_idp_creates_the_account_and_a_new_session() {
    let app = app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    let (xml, relay_state) = trip(&app, &mut browser, "").await;
    let before = browser.cookie.clone().unwrap();
    let signed_in = browser
        .post_response(&app, &xml, relay_state.as_deref())
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(signed_in.location.as_deref(), Some("/acme"));
    assert_ne!(
        browser.cookie.as_deref(),
        Some(before.as_str()),
        "the session id is rotated at sign-in"
    );

    // Validated a moment ago: straight to the landing.
    let again = browser.get(&app, "/acme/login").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location.as_deref(), Some("/acme"));

    // The same POST again: its request was answered, so the replay answers nothing
    // this browser waits for.
    let replay = browser.post_response(&app, &xml, None).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_deep_link_survives_the_trip_and_an_open_redirect_does_not() {
    let app = app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    let (xml, relay_state) =
        trip(&app, &mut browser, "?return_to=/acme/projects%3Ftab%3Dopen").await;
    assert_eq!(relay_state.as_deref(), Some("/acme/projects?tab=open"));
    let landed = browser
        .post_response(&app, &xml, relay_state.as_deref())
        .await;
    assert_eq!(landed.location.as_deref(), Some("/acme/projects?tab=open"));

    let mut other = Browser::default();
    let redirect = other
        .get(&app, "/acme/login/sso?return_to=//evil.example/x")
        .await;
    let location = redirect.location.unwrap();
    assert_eq!(
        query_param(&location, "RelayState"),
        None,
        "an unsafe return_to is never sent"
    );
    let id = request_id(&location);
    let xml = idp()
        .response(
            &TestPerson::new("00u2")
                .with_given_name("Sam")
                .with_family_name("Lee"),
            &target(&id),
            now(),
        )
        .unwrap();
    let landed = other
        .post_response(&app, &xml, Some("//evil.example/x"))
        .await;
    assert_eq!(
        landed.location.as_deref(),
        Some("/acme"),
        "a forged RelayState is ignored too"
    );
}

#[tokio::test]
async fn a_response_to_a_request_this_browser_did_not_send_is_the_400_page() {
    let app = app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    let _ = trip(&app, &mut browser, "").await;
    let stranger = idp()
        .response(&jane(), &target("_someone_elses"), now())
        .unwrap();
    let page = browser.post_response(&app, &stranger, None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains(&jit_provisioning_axum::escape_html(
        jit_provisioning::web::REFUSED_UNVERIFIED
    )));
    assert!(
        !page.body.contains("_someone_elses"),
        "no internal detail on the page"
    );
}

#[tokio::test]
async fn a_tampered_response_is_the_400_page() {
    let app = app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    let redirect = browser.get(&app, "/acme/login/sso").await;
    let id = request_id(&redirect.location.unwrap());
    let xml = idp()
        .bad_response(BadResponse::Tampered, &jane(), &target(&id), now())
        .unwrap();
    let page = browser.post_response(&app, &xml, None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_org_without_a_portal_is_the_404_page_and_metadata_is_served() {
    let app = app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    assert_eq!(
        browser.get(&app, "/globex/login").await.status,
        StatusCode::NOT_FOUND
    );
    let metadata = browser.get(&app, "/acme/saml/metadata").await;
    assert_eq!(metadata.status, StatusCode::OK);
    assert!(metadata
        .body
        .contains(r#"entityID="http://127.0.0.1:3000/acme/saml/metadata""#));
    assert_eq!(
        browser.get(&app, "/globex/saml/metadata").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_cookie_is_http_only_and_secure_with_same_site_none_except_on_loopback() {
    let mut browser = Browser::default();
    let loopback = browser
        .get(&app("http://127.0.0.1:3000"), "/acme/login/sso")
        .await;
    let cookie = loopback.set_cookie.unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure"),
        "{cookie}"
    );

    let mut browser = Browser::default();
    let deployed = browser
        .get(&app("https://app.example"), "/acme/login/sso")
        .await;
    let cookie = deployed.set_cookie.unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=None")
            && cookie.contains("Secure"),
        "{cookie}"
    );
}

#[tokio::test]
async fn logout_ends_the_session_but_not_from_another_site() {
    let app = app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    let (xml, _) = trip(&app, &mut browser, "").await;
    browser.post_response(&app, &xml, None).await;

    let forged = Request::post("/logout")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::HOST, "127.0.0.1:3000");
    assert_eq!(
        browser.send(&app, forged, Body::empty()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        browser.get(&app, "/acme/login").await.status,
        StatusCode::SEE_OTHER,
        "still signed in"
    );

    let own = Request::post("/logout")
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .header(header::HOST, "127.0.0.1:3000");
    assert_eq!(
        browser.send(&app, own, Body::empty()).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        browser.get(&app, "/acme/login").await.status,
        StatusCode::OK,
        "the portal page again"
    );
}
