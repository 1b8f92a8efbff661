//! `TestIdpRouter` end to end, without a server: real AuthnRequests from the SP side in,
//! pages and signed answers out, each answer verified as the SP would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use jit_provisioning::{IdpBinding, IdpTrip, SamlVerifier};
use jit_provisioning_saml::test_idp::{status, TestIdp, TestIdpError, TestIdpRouter, TestPerson};
use jit_provisioning_saml::{
    decode_post, verify, Category, Expected, IdpMetadata, InResponseTo, Limits, ServiceProvider,
    Verified, VerifyError, VerifyOptions,
};
use tower::ServiceExt as _;

use common::idp::{self, jane, ACS_URL, IDP_ENTITY_ID, SP_ENTITY_ID};

const RELAY_STATE: &str = "/acme/projects?tab=open";

fn alex() -> TestPerson {
    TestPerson::new("00u-alex")
        .with_label("Alex, not assigned the app")
        .with_assigned(false)
}

/// A copy of the shared test IdP (the key is the slow part to make).
fn test_idp() -> Arc<TestIdp> {
    let shared = idp::idp();
    Arc::new(TestIdp::from_pem(IDP_ENTITY_ID, shared.key_pem(), &shared.certificate_pem()).unwrap())
}

/// The IdP at `https://idp.test.example`, where the SP's metadata puts it, with Jane and
/// Alex to pick.
fn idp_router() -> TestIdpRouter {
    TestIdpRouter::new(test_idp(), "https://idp.test.example")
        .unwrap()
        .with_people([jane(), alex()])
}

fn now() -> DateTime<Utc> {
    SystemTime::now().into()
}

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(router: TestIdpRouter, request: Request<Body>) -> Page {
    let response = router.router::<()>().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

async fn get(router: TestIdpRouter, uri: &str) -> Page {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post(router: TestIdpRouter, uri: &str, form: &[(&str, &str)]) -> Page {
    let body = form
        .iter()
        .map(|(name, value)| format!("{name}={}", percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    send(router, request).await
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// The value of the hidden input `name` of `page`, unescaped.
fn hidden(page: &str, name: &str) -> Option<String> {
    let value = page
        .split(&format!("name=\"{name}\" value=\""))
        .nth(1)?
        .split('"')
        .next()?;
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// A fresh AuthnRequest from the SP: its id and the path and query the browser is sent
/// to.
async fn redirect_from(saml: &ServiceProvider) -> (String, String) {
    let mut trip = IdpTrip::new("acme", IDP_ENTITY_ID);
    trip.relay_state = Some(RELAY_STATE.into());
    let redirect = saml.authn_request(&trip, now()).await.unwrap();
    let IdpBinding::Redirect { url } = &redirect.binding else {
        panic!("not a redirect");
    };
    let path = url.strip_prefix("https://idp.test.example").unwrap();
    assert!(path.starts_with("/sso?SAMLRequest="), "{path}");
    (redirect.request_id, path.to_owned())
}

/// Asserts the page's security headers, and that its inline style and script carry the
/// policy's nonce.
fn assert_secure(page: &Page) {
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.starts_with("default-src 'none'; script-src 'nonce-"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert_eq!(nonce.len(), 32);
    for tag in ["<script", "<style"] {
        for inline in page.body.split(tag).skip(1) {
            assert!(
                inline.starts_with(&format!(" nonce=\"{nonce}\"")),
                "{tag}{inline}"
            );
        }
    }
    assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(page.headers[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(page.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
}

/// Verifies the answer page's `SAMLResponse` as acme's ACS would, for `request_id`.
fn verify_answer(page: &Page, request_id: &str) -> Result<Verified, VerifyError> {
    let saml = idp::provider();
    let settings = saml.org("acme").unwrap();
    let xml = decode_post(
        &hidden(&page.body, "SAMLResponse").unwrap(),
        Limits::default(),
    )?;
    let requests = [request_id.to_owned()];
    let expected = Expected::new(SP_ENTITY_ID, ACS_URL, InResponseTo::OneOf(&requests));
    verify(
        &xml,
        settings.idp(),
        &expected,
        now(),
        &VerifyOptions::default(),
    )
}

/// Asserts that `page` is the answer, posting itself to acme's ACS with the relay state.
fn assert_posts_to_acs(page: &Page) {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_secure(page);
    assert!(
        page.body.contains(&format!(
            "<form id=\"answer\" method=\"post\" action=\"{ACS_URL}\">"
        )),
        "{}",
        page.body
    );
    assert_eq!(
        hidden(&page.body, "RelayState").as_deref(),
        Some(RELAY_STATE)
    );
    assert!(page
        .body
        .contains("document.getElementById('answer').submit()"));
    assert!(page
        .body
        .contains("<button type=\"submit\" id=\"continue\">"));
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("form-action 'self' https://app.example;"),
        "{csp}"
    );
}

#[tokio::test]
async fn a_redirect_request_gets_the_picker_of_people() {
    let (_, path) = redirect_from(&idp::provider()).await;
    let page = get(idp_router(), &path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_secure(&page);
    assert!(page.body.contains(SP_ENTITY_ID), "{}", page.body);
    assert!(page.body.contains(
        "<button type=\"submit\" name=\"person\" value=\"0\" id=\"person-0\">Jane Doe &lt;jane@acme.example&gt;</button>"
    ), "{}", page.body);
    assert!(page.body.contains(
        "<button type=\"submit\" name=\"person\" value=\"1\" id=\"person-1\">Alex, not assigned the app</button>"
    ), "{}", page.body);
    assert!(page.body.contains("id=\"tamper\""));
    assert!(page.body.contains("<form method=\"post\" action=\"/sso\">"));
    assert_eq!(
        hidden(&page.body, "RelayState").as_deref(),
        Some(RELAY_STATE)
    );
    // The request goes on as the POST binding carries it.
    let carried = hidden(&page.body, "SAMLRequest").unwrap();
    let xml = base64::engine::general_purpose::STANDARD
        .decode(&carried)
        .unwrap();
    assert!(String::from_utf8(xml)
        .unwrap()
        .starts_with("<samlp:AuthnRequest"));
}

#[tokio::test]
async fn picking_someone_posts_a_response_to_the_request_that_verifies() {
    let (request_id, path) = redirect_from(&idp::provider()).await;
    let picker = get(idp_router(), &path).await;
    let saml_request = hidden(&picker.body, "SAMLRequest").unwrap();
    let answer = post(
        idp_router(),
        "/sso",
        &[
            ("SAMLRequest", &saml_request),
            ("RelayState", RELAY_STATE),
            ("person", "0"),
        ],
    )
    .await;
    assert_posts_to_acs(&answer);
    let Verified::Assertion(assertion) = verify_answer(&answer, &request_id).unwrap() else {
        panic!("no assertion");
    };
    assert_eq!(
        assertion.in_response_to.as_deref(),
        Some(request_id.as_str())
    );
    assert_eq!(assertion.name_id.unwrap().value, "00u1jane");
    assert_eq!(assertion.issuer, IDP_ENTITY_ID);

    // The same answer does not answer another request.
    assert_eq!(
        verify_answer(&answer, "_another").unwrap_err().category(),
        Category::InResponseToMismatch
    );
}

#[tokio::test]
async fn someone_not_assigned_is_answered_request_denied() {
    let (request_id, path) = redirect_from(&idp::provider()).await;
    let picker = get(idp_router(), &path).await;
    let saml_request = hidden(&picker.body, "SAMLRequest").unwrap();
    let answer = post(
        idp_router(),
        "/sso",
        &[
            ("SAMLRequest", &saml_request),
            ("RelayState", RELAY_STATE),
            ("person", "1"),
        ],
    )
    .await;
    assert_posts_to_acs(&answer);
    let Verified::Status(refused) = verify_answer(&answer, &request_id).unwrap() else {
        panic!("not a status");
    };
    assert_eq!(refused.status, status::RESPONDER);
    assert_eq!(refused.sub_status.as_deref(), Some(status::REQUEST_DENIED));
    assert!(answer.body.contains("RequestDenied"), "{}", answer.body);
}

#[tokio::test]
async fn a_tampered_answer_is_refused_by_the_sp() {
    let (request_id, path) = redirect_from(&idp::provider()).await;
    let picker = get(idp_router(), &path).await;
    let saml_request = hidden(&picker.body, "SAMLRequest").unwrap();
    let answer = post(
        idp_router(),
        "/sso",
        &[
            ("SAMLRequest", &saml_request),
            ("RelayState", RELAY_STATE),
            ("person", "0"),
            ("tamper", "1"),
        ],
    )
    .await;
    assert_posts_to_acs(&answer);
    assert_eq!(
        verify_answer(&answer, &request_id).unwrap_err().category(),
        Category::BadSignature
    );
}

#[tokio::test]
async fn a_post_binding_request_gets_the_picker_too() {
    let saml = idp::saml_config(serde_json::json!({"binding": "post"}))
        .validate(&idp::policy(), None)
        .unwrap();
    let mut trip = IdpTrip::new("acme", IDP_ENTITY_ID);
    trip.relay_state = Some(RELAY_STATE.into());
    let redirect = saml.authn_request(&trip, now()).await.unwrap();
    let IdpBinding::Post { url, fields } = &redirect.binding else {
        panic!("not a form");
    };
    assert_eq!(url, "https://idp.test.example/sso");
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let picker = post(idp_router(), "/sso", &fields).await;
    assert_eq!(picker.status, StatusCode::OK, "{}", picker.body);
    assert!(picker.body.contains("id=\"person-0\""), "{}", picker.body);

    let answer = post(idp_router().answer_as(jane()), "/sso", &fields).await;
    assert_posts_to_acs(&answer);
    assert!(matches!(
        verify_answer(&answer, &redirect.request_id),
        Ok(Verified::Assertion(_))
    ));
}

#[tokio::test]
async fn a_chosen_person_answers_at_once() {
    let (request_id, path) = redirect_from(&idp::provider()).await;
    let answer = get(idp_router().answer_as(jane()), &path).await;
    assert_posts_to_acs(&answer);
    assert!(!answer.body.contains("id=\"person-0\""));
    let Verified::Assertion(assertion) = verify_answer(&answer, &request_id).unwrap() else {
        panic!("no assertion");
    };
    assert_eq!(assertion.name_id.unwrap().value, "00u1jane");
}

#[tokio::test]
async fn the_metadata_names_the_sso_endpoint_and_the_certificate() {
    let router = TestIdpRouter::new(test_idp(), "http://127.0.0.1:3000/idp/").unwrap();
    assert_eq!(router.sso_url(), "http://127.0.0.1:3000/idp/sso");
    assert_eq!(router.metadata_url(), "http://127.0.0.1:3000/idp/metadata");
    let page = get(router, "/idp/metadata").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.headers[header::CONTENT_TYPE],
        "application/samlmetadata+xml"
    );
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    let metadata = IdpMetadata::parse(&page.body, None).unwrap();
    assert_eq!(metadata.entity_id, IDP_ENTITY_ID);
    assert_eq!(
        metadata.sso_redirect_url.as_deref(),
        Some("http://127.0.0.1:3000/idp/sso")
    );
    assert_eq!(
        metadata.sso_post_url.as_deref(),
        Some("http://127.0.0.1:3000/idp/sso")
    );
    assert_eq!(
        metadata.signing_certificates[0].der(),
        idp::idp().certificate_der()
    );
    // The routes are under the base URL's path only.
    let router = TestIdpRouter::new(test_idp(), "http://127.0.0.1:3000/idp").unwrap();
    assert_eq!(get(router, "/metadata").await.status, StatusCode::NOT_FOUND);
}

#[test]
fn a_base_url_must_be_plain_http() {
    for bad in [
        "ftp://idp.example/idp",
        "/idp",
        "https://idp.example/idp?x=1",
        "https://idp.example/a b",
        "https://idp.example/{idp}",
        "https://idp.example//idp",
        "https://user@idp.example/idp",
    ] {
        assert!(
            matches!(
                TestIdpRouter::new(test_idp(), bad),
                Err(TestIdpError::InvalidBaseUrl(_))
            ),
            "{bad}"
        );
    }
}

/// A POST-binding request from `issuer` for `acs_url`, with `extra` attributes.
fn crafted(issuer: &str, acs_url: &str, extra: &str) -> String {
    let xml = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_crafted" Version="2.0" IssueInstant="2026-11-28T12:00:00Z" AssertionConsumerServiceURL="{acs_url}"{extra}><saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>"#
    );
    base64::engine::general_purpose::STANDARD.encode(xml)
}

#[tokio::test]
async fn an_acs_url_off_the_issuer_s_origin_is_refused() {
    let to_evil = crafted(SP_ENTITY_ID, "https://evil.example/acs", "");
    for fields in [
        vec![("SAMLRequest", to_evil.as_str())],
        vec![("SAMLRequest", to_evil.as_str()), ("person", "0")],
    ] {
        let page = post(idp_router(), "/sso", &fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert_secure(&page);
        assert!(page.body.contains("<p id=\"message\">this test IdP answers only ACS URLs on the origin of the SP&apos;s entity id"), "{}", page.body);
    }
    // Another port is another origin.
    let other_port = crafted(SP_ENTITY_ID, "https://app.example:8443/acme/saml/acs", "");
    let page = post(idp_router(), "/sso", &[("SAMLRequest", &other_port)]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    // An SP named by a URN has no origin: a prefix lets it in, and then only the prefix.
    let urn = crafted("urn:example:sp", "http://127.0.0.1:8080/saml/acs", "");
    let page = post(idp_router(), "/sso", &[("SAMLRequest", &urn)]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let allowed = idp_router().allow_acs_url_prefix("http://127.0.0.1:8080/");
    let page = post(allowed.clone(), "/sso", &[("SAMLRequest", &urn)]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let page = post(allowed.clone(), "/sso", &[("SAMLRequest", &to_evil)]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("under http://127.0.0.1:8080/"),
        "{}",
        page.body
    );
    let page = post(
        idp_router().danger_accept_any_acs_url(),
        "/sso",
        &[("SAMLRequest", &to_evil)],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    // Never a URL that is no http(s) URL, whatever the rule.
    let script = crafted(SP_ENTITY_ID, "javascript:alert(1)", "");
    let page = post(
        idp_router().danger_accept_any_acs_url(),
        "/sso",
        &[("SAMLRequest", &script)],
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn requests_the_idp_cannot_answer_get_a_page_saying_why() {
    let page = get(idp_router(), "/sso?SAMLRequest=%21%21").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_secure(&page);
    assert!(
        page.body
            .contains("<p id=\"message\">`SAMLRequest` is not base64"),
        "{}",
        page.body
    );
    let page = get(idp_router(), "/sso").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("no `SAMLRequest` is given"),
        "{}",
        page.body
    );

    let artifact = crafted(
        SP_ENTITY_ID,
        ACS_URL,
        r#" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact""#,
    );
    let page = post(idp_router(), "/sso", &[("SAMLRequest", &artifact)]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("HTTP-POST only"), "{}", page.body);

    let good = crafted(SP_ENTITY_ID, ACS_URL, "");
    let page = post(
        idp_router(),
        "/sso",
        &[("SAMLRequest", &good), ("person", "7")],
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("no one is person `7` here"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_passive_request_is_answered_no_passive_rather_than_with_a_page() {
    let passive = crafted(SP_ENTITY_ID, ACS_URL, r#" IsPassive="true""#);
    let page = post(idp_router(), "/sso", &[("SAMLRequest", &passive)]).await;
    assert_eq!(page.status, StatusCode::OK);
    let xml = decode_post(
        &hidden(&page.body, "SAMLResponse").unwrap(),
        Limits::default(),
    )
    .unwrap();
    assert!(xml.contains(status::NO_PASSIVE), "{xml}");
    assert!(xml.contains(r#"InResponseTo="_crafted""#), "{xml}");
}
