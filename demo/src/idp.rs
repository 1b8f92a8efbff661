//! The test IdP at `/idp`: a page to pick who signs in, then the signed response, posted
//! back to the SP by an auto-submitting form.

use std::io::Read as _;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use jit_provisioning::STATUS_REQUEST_DENIED;
use jit_provisioning_axum::{escape_html, CspNonce};
use jit_provisioning_saml::test_idp::{
    post_form_value, status, BadResponse, ResponseTarget, TestIdp, TestPerson,
};
use serde::Deserialize;

use crate::config::Person;

/// The IdP's routes' state.
#[derive(Clone)]
struct IdpState {
    idp: Arc<TestIdp>,
    people: Arc<Vec<Person>>,
    base_url: Arc<str>,
}

/// The routes under `/idp`.
pub(crate) fn routes(idp: Arc<TestIdp>, people: Vec<Person>, base_url: &str) -> Router {
    Router::new()
        .route("/idp/sso", get(pick).post(answer))
        .route("/idp/metadata", get(metadata))
        .with_state(IdpState {
            idp,
            people: Arc::new(people),
            base_url: base_url.into(),
        })
}

/// What an AuthnRequest asks.
struct AuthnRequest {
    id: String,
    issuer: String,
    acs_url: String,
}

/// Reads an HTTP-Redirect `SAMLRequest` (base64 of DEFLATE).
fn read_request(saml_request: &str) -> Result<AuthnRequest, String> {
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(saml_request.trim())
        .map_err(|error| format!("SAMLRequest is not base64: {error}"))?;
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .take(64 * 1024)
        .read_to_string(&mut xml)
        .map_err(|error| format!("SAMLRequest does not inflate: {error}"))?;
    let doc = uppsala::parse(&xml).map_err(|error| format!("SAMLRequest is not XML: {error}"))?;
    let root = doc.document_element().ok_or("SAMLRequest is empty")?;
    let attribute = |name: &str| {
        doc.get_attribute(root, name)
            .map(str::to_owned)
            .ok_or_else(|| format!("the AuthnRequest has no {name}"))
    };
    let issuer = doc
        .children_iter(root)
        .find(|&child| {
            doc.element(child)
                .is_some_and(|element| element.name.local_name == "Issuer")
        })
        .map(|issuer| doc.text_content_deep(issuer).trim().to_owned())
        .ok_or("the AuthnRequest has no Issuer")?;
    Ok(AuthnRequest {
        id: attribute("ID")?,
        acs_url: attribute("AssertionConsumerServiceURL")?,
        issuer,
    })
}

#[derive(Debug, Deserialize)]
struct Trip {
    #[serde(rename = "SAMLRequest")]
    saml_request: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// A page of the IdP; its inline style and script carry the response's CSP nonce.
fn page(title: &str, nonce: &CspNonce, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style nonce=\"{}\">body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;background:#f6f3ee}}button{{display:block;width:100%;text-align:left;margin:.5rem 0;padding:.8rem 1rem;font-size:1rem;border:1px solid #bbb;border-radius:6px;background:#fff}}.banner{{background:#6b4f2a;color:#fff;padding:.4rem .8rem;border-radius:4px}}</style></head><body><p class=\"banner\">Demo IdP — not a real identity provider</p>{body}</body></html>",
        escape_html(title),
        escape_html(nonce.as_str())
    ))
}

fn bad_request(message: &str, nonce: &CspNonce) -> Response {
    (
        StatusCode::BAD_REQUEST,
        page(
            "Bad request",
            nonce,
            &format!(
                "<p id=\"message\">{}</p><p>Start again from your organization's sign-in page: <a href=\"/\">the demo's portals</a>.</p>",
                escape_html(message)
            ),
        ),
    )
        .into_response()
}

/// The answer posted back to the SP by a form that submits itself: a script with the
/// page's nonce, since the CSP allows no other (nor an `onload` attribute).
fn post_back(acs_url: &str, xml: &str, relay_state: Option<&str>, nonce: &CspNonce) -> Response {
    let relay_state = relay_state.map_or_else(String::new, |relay_state| {
        format!(
            "<input type=\"hidden\" name=\"RelayState\" value=\"{}\">",
            escape_html(relay_state)
        )
    });
    page(
        "Signing in…",
        nonce,
        &format!(
            "<form id=\"answer\" method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"SAMLResponse\" value=\"{}\">{relay_state}<h1>Signing in…</h1><noscript><button type=\"submit\">Continue</button></noscript></form><script nonce=\"{}\">document.getElementById('answer').submit()</script>",
            escape_html(acs_url),
            escape_html(&post_form_value(xml)),
            escape_html(nonce.as_str())
        ),
    )
    .into_response()
}

async fn pick(
    State(state): State<IdpState>,
    nonce: CspNonce,
    Query(trip): Query<Trip>,
) -> Response {
    let request = match read_request(&trip.saml_request) {
        Ok(request) => request,
        Err(message) => return bad_request(&message, &nonce),
    };
    let mut buttons = String::new();
    for (index, person) in state.people.iter().enumerate() {
        buttons.push_str(&format!(
            "<button type=\"submit\" name=\"person\" value=\"{index}\" id=\"person-{index}\">{}</button>",
            escape_html(&person.label)
        ));
    }
    let relay_state = trip
        .relay_state
        .as_deref()
        .map_or_else(String::new, |relay_state| {
            format!(
                "<input type=\"hidden\" name=\"RelayState\" value=\"{}\">",
                escape_html(relay_state)
            )
        });
    page(
        "Who signs in?",
        &nonce,
        &format!(
            "<h1>Who signs in?</h1><p>{} asks who you are.</p><form method=\"post\" action=\"/idp/sso\"><input type=\"hidden\" name=\"SAMLRequest\" value=\"{}\">{relay_state}{buttons}<label><input type=\"checkbox\" name=\"tamper\" value=\"1\" id=\"tamper\"> Send a tampered response (to see it refused)</label></form>",
            escape_html(&request.issuer),
            escape_html(&trip.saml_request),
        ),
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(rename = "SAMLRequest")]
    saml_request: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
    person: usize,
    tamper: Option<String>,
}

async fn answer(
    State(state): State<IdpState>,
    nonce: CspNonce,
    Form(choice): Form<Choice>,
) -> Response {
    let request = match read_request(&choice.saml_request) {
        Ok(request) => request,
        Err(message) => return bad_request(&message, &nonce),
    };
    // A real IdP posts only to the ACS URLs registered for the SP: this one only to
    // the demo itself.
    if !request.acs_url.starts_with(&*state.base_url) {
        return bad_request("this IdP only answers the demo's own SP", &nonce);
    }
    let Some(person) = state.people.get(choice.person) else {
        return bad_request("no such person", &nonce);
    };
    let target = ResponseTarget::new(request.issuer, request.acs_url.clone())
        .with_in_response_to(request.id);
    let now = SystemTime::now().into();
    let xml = if !person.assigned {
        state.idp.error_response(
            &target,
            status::RESPONDER,
            Some(STATUS_REQUEST_DENIED),
            Some("The app is not assigned to this user."),
            now,
        )
    } else {
        let mut someone =
            TestPerson::new(person.subject.clone()).with_groups(person.groups.clone());
        someone.given_name.clone_from(&person.given_name);
        someone.family_name.clone_from(&person.family_name);
        someone.email.clone_from(&person.email);
        if choice.tamper.is_some() {
            state
                .idp
                .bad_response(BadResponse::Tampered, &someone, &target, now)
        } else {
            state.idp.response(&someone, &target, now)
        }
    };
    match xml {
        Ok(xml) => post_back(
            &request.acs_url,
            &xml,
            choice.relay_state.as_deref(),
            &nonce,
        ),
        Err(error) => bad_request(&error.to_string(), &nonce),
    }
}

async fn metadata(State(state): State<IdpState>, nonce: CspNonce) -> Response {
    match state
        .idp
        .metadata_xml(&format!("{}/idp/sso", state.base_url))
    {
        Ok(xml) => (
            [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response(),
        Err(error) => bad_request(&error.to_string(), &nonce),
    }
}
