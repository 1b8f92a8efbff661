//! The test IdP's HTTP side: an axum router that receives AuthnRequests, asks who signs
//! in, and posts the signed answer back to the SP.
//!
//! The pages are self-contained: each response carries its own Content-Security-Policy,
//! whose nonce is the one on the page's inline style and script, and the other security
//! headers, so the router needs no middleware and an app's own header middleware (one
//! that sets only what a response does not carry yet) leaves them as they are.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};

use super::{
    post_form_value, status, BadResponse, ResponseTarget, TestIdp, TestIdpError, TestPerson,
};
use crate::decode_request::{
    percent_decode, AuthnRequest, AuthnRequestError, MAX_AUTHN_REQUEST_BYTES,
};
use crate::metadata::HTTP_POST;
use crate::xml::escape;

/// The largest form the SSO endpoint reads: a POST-binding request of the largest size,
/// percent-encoded, and a relay state.
const MAX_FORM_BYTES: usize = 4 * MAX_AUTHN_REQUEST_BYTES + 8 * 1024;

/// The `StatusMessage` of the answer to someone not assigned the app.
const NOT_ASSIGNED: &str = "The app is not assigned to this user.";

/// The test IdP's HTTP side, as an axum [`Router`]: an SSO endpoint that reads
/// AuthnRequests, a page that asks who signs in, the auto-posting answer, and the IdP's
/// metadata. Feature `test-idp`.
///
/// # Never in production
///
/// **This IdP signs in whoever is picked, for any SP that asks, with no password.** An
/// app that trusts its certificate can be entered by anyone who reaches it as anyone.
/// It is for tests, demos and clicking through an app on a developer's machine: never
/// mount it in a deployed app, and never let a deployed app trust its metadata.
///
/// # Routes
///
/// Under the path of the base URL given to [`TestIdpRouter::new`]
/// (`http://127.0.0.1:3000/idp` serves `/idp/…`):
///
/// | route | what it does |
/// | --- | --- |
/// | `GET {path}/sso` | the HTTP-Redirect binding: reads `SAMLRequest`, `RelayState` (and reports, never checks, `SigAlg` and `Signature`) with [`AuthnRequest::from_redirect_query`] |
/// | `POST {path}/sso` | the HTTP-POST binding (`SAMLRequest`, `RelayState`), with [`AuthnRequest::from_post_form`]; with a `person` field too, the picker's choice |
/// | `GET {path}/metadata` | [`TestIdp::metadata_xml`] for the SSO URL, `application/samlmetadata+xml` |
///
/// A request is answered with a page listing the people ([`TestIdpRouter::with_person`])
/// as buttons (`id="person-0"`, …) and a "send a tampered response" checkbox
/// (`id="tamper"`, [`BadResponse::Tampered`]). The page posts the choice back to the SSO
/// endpoint, with the request in the HTTP-POST binding's form (base64 of its XML); the
/// answer is a page whose form posts `SAMLResponse` and the `RelayState` to the request's
/// ACS URL, submitted by a script, or by its Continue button where scripts do not run. The
/// response answers the request: `InResponseTo` is its `ID`, `Destination` and
/// `Recipient` its `AssertionConsumerServiceURL`, the audience its `Issuer`; someone not
/// [assigned](TestPerson::assigned) gets a `Responder` / `RequestDenied` status instead.
/// With [`TestIdpRouter::answer_as`] there is no page: every request is answered at once.
/// A request that is `IsPassive` is answered with `NoPassive` when the page would be
/// needed. A request that cannot be read, names no ACS URL, one that is not allowed (see
/// below), or a `ProtocolBinding` other than HTTP-POST gets a 400 page saying why
/// (`id="message"`).
///
/// # Where answers may go
///
/// A real IdP posts only to the ACS URLs registered for the SP. This one has no
/// registry, so by default it posts only to an ACS URL on the **origin of the request's
/// `Issuer`** (scheme, host and port): an SP whose entity id is
/// `https://app.example/acme/saml/metadata` may have its answers at
/// `https://app.example/acme/saml/acs`, and a crafted request cannot send someone's
/// answer to another site. An SP whose entity id is no URL (a URN) needs
/// [`TestIdpRouter::allow_acs_url_prefix`], which then replaces the origin rule; and
/// [`TestIdpRouter::danger_accept_any_acs_url`] turns the check off.
///
/// # Security headers
///
/// Every response carries `Content-Security-Policy: default-src 'none'; script-src
/// 'nonce-…'; style-src 'nonce-…'; img-src 'self'; form-action 'self' <the ACS URL's
/// origin>; frame-ancestors 'none'; base-uri 'none'` with a fresh nonce (the page's
/// style and script carry it), `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`,
/// `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`.
///
/// # Example
///
/// ```no_run
/// use std::sync::Arc;
/// use jit_provisioning_saml::test_idp::{TestIdp, TestIdpRouter, TestPerson};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let idp = Arc::new(TestIdp::generate("urn:example:test-idp")?);
/// let idp_routes = TestIdpRouter::new(idp, "http://127.0.0.1:3000/idp")?
///     .with_person(TestPerson::new("00u-jane").with_given_name("Jane").with_family_name("Doe"))
///     .with_person(TestPerson::new("00u-alex").with_label("Alex, not assigned").with_assigned(false));
/// // The SP's org trusts http://127.0.0.1:3000/idp/metadata.
/// let app: axum::Router = axum::Router::new().merge(idp_routes.router());
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TestIdpRouter {
    idp: Arc<TestIdp>,
    base_url: String,
    path: String,
    people: Vec<TestPerson>,
    chosen: Option<TestPerson>,
    acs_urls: AcsUrls,
}

/// Which ACS URLs the router posts answers to.
#[derive(Debug, Clone)]
enum AcsUrls {
    /// Those on the origin of the request's `Issuer`.
    IssuerOrigin,
    /// Those under one of these prefixes.
    Prefixes(Vec<String>),
    /// Any `http` or `https` URL.
    Any,
}

impl TestIdpRouter {
    /// The HTTP side of `idp`, whose routes are under `base_url`, the URL the browser
    /// reaches them at (`http://127.0.0.1:3000/idp`: the router serves `/idp/sso` and
    /// `/idp/metadata`, and the metadata names `http://127.0.0.1:3000/idp/sso`). No one
    /// to pick yet: add them with [`TestIdpRouter::with_person`].
    ///
    /// # Errors
    ///
    /// [`TestIdpError::InvalidBaseUrl`] when `base_url` is not an `http` or `https` URL
    /// whose path is plain (letters, digits, `-`, `.`, `_`, `~`, `/`; no query).
    pub fn new(idp: Arc<TestIdp>, base_url: &str) -> Result<Self, TestIdpError> {
        let invalid = || TestIdpError::InvalidBaseUrl(base_url.to_owned());
        let trimmed = base_url.trim_end_matches('/');
        origin(trimmed).ok_or_else(invalid)?;
        let (_, rest) = trimmed.split_once("://").ok_or_else(invalid)?;
        let path = rest
            .find(['/', '?', '#'])
            .map_or("", |at| rest.get(at..).unwrap_or(""));
        let plain = path.split('/').skip(1).all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
        });
        if !(path.is_empty() || path.starts_with('/') && plain) {
            return Err(invalid());
        }
        Ok(Self {
            idp,
            base_url: trimmed.to_owned(),
            path: path.to_owned(),
            people: Vec::new(),
            chosen: None,
            acs_urls: AcsUrls::IssuerOrigin,
        })
    }

    /// Adds someone to the picker, after those added before.
    #[must_use]
    pub fn with_person(mut self, person: TestPerson) -> Self {
        self.people.push(person);
        self
    }

    /// Adds several people to the picker, in order.
    #[must_use]
    pub fn with_people(mut self, people: impl IntoIterator<Item = TestPerson>) -> Self {
        self.people.extend(people);
        self
    }

    /// Answers every request at once as `person`, with no page to pick from: for tests
    /// that drive an app end to end without a browser, and for an app that wants one
    /// click to sign in.
    #[must_use]
    pub fn answer_as(mut self, person: TestPerson) -> Self {
        self.chosen = Some(person);
        self
    }

    /// Posts answers to ACS URLs under `prefix` (`http://127.0.0.1:3000/`), and, once
    /// any prefix is given, to no other. A prefix ends at a `/`, `?` or `#` of the URL:
    /// `http://127.0.0.1:3000` does not let in `http://127.0.0.1:30001/acs`.
    #[must_use]
    pub fn allow_acs_url_prefix(mut self, prefix: impl Into<String>) -> Self {
        match &mut self.acs_urls {
            AcsUrls::Prefixes(prefixes) => prefixes.push(prefix.into()),
            other => *other = AcsUrls::Prefixes(vec![prefix.into()]),
        }
        self
    }

    /// Posts answers to whatever `http` or `https` ACS URL a request names: anyone who
    /// crafts a request then receives the answer of whoever clicks through it. For a
    /// test that needs it, never for an IdP reachable by others.
    #[must_use]
    pub fn danger_accept_any_acs_url(mut self) -> Self {
        self.acs_urls = AcsUrls::Any;
        self
    }

    /// The SSO endpoint's URL: `{base_url}/sso`, for both bindings.
    pub fn sso_url(&self) -> String {
        format!("{}/sso", self.base_url)
    }

    /// The metadata's URL: `{base_url}/metadata`.
    pub fn metadata_url(&self) -> String {
        format!("{}/metadata", self.base_url)
    }

    /// The metadata the router serves: [`TestIdp::metadata_xml`] for
    /// [`TestIdpRouter::sso_url`].
    ///
    /// # Errors
    ///
    /// As [`TestIdp::metadata_xml`].
    pub fn metadata_xml(&self) -> Result<String, TestIdpError> {
        self.idp.metadata_xml(&self.sso_url())
    }

    /// The routes, ready to merge into the app's router (of any state).
    pub fn router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let sso = format!("{}/sso", self.path);
        let metadata_route = format!("{}/metadata", self.path);
        Router::new()
            .route(&sso, get(sso_get).post(sso_post))
            .route(&metadata_route, get(metadata))
            .with_state(Arc::new(self))
    }

    /// A request read: refused, answered at once, or the picker.
    fn on_request(&self, request: &AuthnRequest) -> Response {
        let acs_url = match self.acs_url(request) {
            Ok(acs_url) => acs_url,
            Err(message) => return error_page(StatusCode::BAD_REQUEST, &message),
        };
        if let Some(person) = &self.chosen {
            return self.answer(request, acs_url, person, Answer::Honest);
        }
        if request.is_passive {
            return self.answer(request, acs_url, &TestPerson::default(), Answer::NoPassive);
        }
        self.picker(request, acs_url)
    }

    /// The ACS URL the answer to `request` goes to, if the request names one that is
    /// allowed; else why not.
    fn acs_url<'r>(&self, request: &'r AuthnRequest) -> Result<&'r str, String> {
        if let Some(binding) = &request.protocol_binding {
            if binding != HTTP_POST {
                return Err(format!(
                    "the AuthnRequest asks for its answer by `{binding}`; this test IdP answers by HTTP-POST only"
                ));
            }
        }
        let Some(acs_url) = request.acs_url.as_deref() else {
            return Err("the AuthnRequest names no AssertionConsumerServiceURL, and this test IdP has no SP metadata to find one in".into());
        };
        let Some(acs_origin) = origin(acs_url) else {
            return Err(format!(
                "the ACS URL `{acs_url}` is not an http or https URL"
            ));
        };
        let allowed = match &self.acs_urls {
            AcsUrls::IssuerOrigin => {
                origin(&request.issuer).is_some_and(|issuer| issuer == acs_origin)
            }
            AcsUrls::Prefixes(prefixes) => prefixes.iter().any(|prefix| under(acs_url, prefix)),
            AcsUrls::Any => true,
        };
        if allowed {
            Ok(acs_url)
        } else {
            let rule = match &self.acs_urls {
                AcsUrls::Prefixes(prefixes) => format!("under {}", prefixes.join(", ")),
                _ => format!("on the origin of the SP's entity id `{}`", request.issuer),
            };
            Err(format!(
                "this test IdP answers only ACS URLs {rule}, not `{acs_url}`"
            ))
        }
    }

    /// The page that asks who signs in.
    fn picker(&self, request: &AuthnRequest, acs_url: &str) -> Response {
        let mut body = format!(
            "<h1>Who signs in?</h1><p><code>{}</code> asks who you are; the answer goes to <code>{}</code>.</p>",
            escape(&request.issuer),
            escape(acs_url),
        );
        if self.people.is_empty() {
            body.push_str("<p id=\"message\">No one to sign in as: this IdP has no people (<code>TestIdpRouter::with_person</code>).</p>");
            return page(StatusCode::OK, "Who signs in?", &body, None, false);
        }
        let _ = write!(
            body,
            "<form method=\"post\" action=\"{}/sso\"><input type=\"hidden\" name=\"SAMLRequest\" value=\"{}\">",
            escape(&self.path),
            post_form_value(&request.xml),
        );
        push_relay_state(&mut body, request.relay_state.as_deref());
        for (index, person) in self.people.iter().enumerate() {
            let _ = write!(
                body,
                "<button type=\"submit\" name=\"person\" value=\"{index}\" id=\"person-{index}\">{}</button>",
                escape(&person.display_label())
            );
        }
        body.push_str("<label><input type=\"checkbox\" name=\"tamper\" value=\"1\" id=\"tamper\"> Send a tampered response (to see it refused)</label></form>");
        page(StatusCode::OK, "Who signs in?", &body, None, false)
    }

    /// The signed answer, on a page that posts it to `acs_url`.
    fn answer(
        &self,
        request: &AuthnRequest,
        acs_url: &str,
        person: &TestPerson,
        kind: Answer,
    ) -> Response {
        let target = ResponseTarget::new(request.issuer.clone(), acs_url)
            .with_in_response_to(request.id.clone());
        let now: DateTime<Utc> = SystemTime::now().into();
        let (xml, what) = match kind {
            Answer::NoPassive => (
                self.idp.error_response(
                    &target,
                    status::RESPONDER,
                    Some(status::NO_PASSIVE),
                    None,
                    now,
                ),
                "No one is signed in here, and the request asks for no page: answering NoPassive."
                    .to_owned(),
            ),
            _ if !person.assigned => (
                self.idp.error_response(
                    &target,
                    status::RESPONDER,
                    Some(status::REQUEST_DENIED),
                    Some(NOT_ASSIGNED),
                    now,
                ),
                format!(
                    "{} is not assigned the app: answering RequestDenied.",
                    person.display_label()
                ),
            ),
            Answer::Tampered => (
                self.idp
                    .bad_response(BadResponse::Tampered, person, &target, now),
                format!("Signing in as {}, tampered with.", person.display_label()),
            ),
            Answer::Honest => (
                self.idp.response(person, &target, now),
                format!("Signing in as {}.", person.display_label()),
            ),
        };
        let xml = match xml {
            Ok(xml) => xml,
            Err(error) => {
                return error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("the test IdP could not sign its answer: {error}"),
                )
            }
        };
        let mut body = format!(
            "<form id=\"answer\" method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"SAMLResponse\" value=\"{}\">",
            escape(acs_url),
            post_form_value(&xml),
        );
        push_relay_state(&mut body, request.relay_state.as_deref());
        let _ = write!(
            body,
            "<h1>Signing in…</h1><p>{}</p><p>Posting the answer to <code>{}</code>.</p><button type=\"submit\" id=\"continue\">Continue</button></form>",
            escape(&what),
            escape(acs_url),
        );
        page(StatusCode::OK, "Signing in…", &body, origin(acs_url), true)
    }

    /// A POST to the SSO endpoint: a request by the HTTP-POST binding, or the picker's
    /// choice.
    fn on_post(&self, body: &[u8]) -> Response {
        let form = match PostedForm::read(body) {
            Ok(form) => form,
            Err(error) => return error_page(StatusCode::BAD_REQUEST, &error.to_string()),
        };
        let Some(saml_request) = form.saml_request else {
            return error_page(
                StatusCode::BAD_REQUEST,
                &AuthnRequestError::MissingParameter("SAMLRequest").to_string(),
            );
        };
        let request = match AuthnRequest::from_post_form(&saml_request, form.relay_state.as_deref())
        {
            Ok(request) => request,
            Err(error) => return error_page(StatusCode::BAD_REQUEST, &error.to_string()),
        };
        let Some(choice) = form.person else {
            return self.on_request(&request);
        };
        let acs_url = match self.acs_url(&request) {
            Ok(acs_url) => acs_url,
            Err(message) => return error_page(StatusCode::BAD_REQUEST, &message),
        };
        let Some(person) = choice
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|index| self.people.get(index))
        else {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("no one is person `{choice}` here"),
            );
        };
        let kind = if form.tamper {
            Answer::Tampered
        } else {
            Answer::Honest
        };
        self.answer(&request, acs_url, person, kind)
    }
}

/// What kind of answer is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Honest,
    Tampered,
    NoPassive,
}

/// The fields of a form posted to the SSO endpoint.
#[derive(Debug, Default)]
struct PostedForm {
    saml_request: Option<String>,
    relay_state: Option<String>,
    person: Option<String>,
    tamper: bool,
}

impl PostedForm {
    /// Reads `application/x-www-form-urlencoded` text. A `+` in `SAMLRequest` stays a
    /// `+`: base64 has no spaces, and some clients do not encode it.
    fn read(body: &[u8]) -> Result<Self, AuthnRequestError> {
        let body =
            std::str::from_utf8(body).map_err(|_| AuthnRequestError::BadEncoding("the form"))?;
        let mut form = Self::default();
        for pair in body.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (slot, name, plus_is_space) = match name {
                "SAMLRequest" => (&mut form.saml_request, "SAMLRequest", false),
                "RelayState" => (&mut form.relay_state, "RelayState", true),
                "person" => (&mut form.person, "person", true),
                "tamper" => {
                    form.tamper = true;
                    continue;
                }
                _ => continue,
            };
            let value = String::from_utf8(percent_decode(value, name, plus_is_space)?)
                .map_err(|_| AuthnRequestError::BadEncoding(name))?;
            if slot.replace(value).is_some() {
                return Err(AuthnRequestError::DuplicateParameter(name));
            }
        }
        Ok(form)
    }
}

async fn sso_get(State(router): State<Arc<TestIdpRouter>>, RawQuery(query): RawQuery) -> Response {
    match AuthnRequest::from_redirect_query(query.as_deref().unwrap_or_default()) {
        Ok(request) => router.on_request(&request),
        Err(error) => error_page(StatusCode::BAD_REQUEST, &error.to_string()),
    }
}

async fn sso_post(State(router): State<Arc<TestIdpRouter>>, body: Body) -> Response {
    match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => router.on_post(&bytes),
        Err(_) => error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the form could not be read (it may hold at most {MAX_FORM_BYTES} bytes)"),
        ),
    }
}

async fn metadata(State(router): State<Arc<TestIdpRouter>>) -> Response {
    match router.metadata_xml() {
        Ok(xml) => {
            let mut response = (
                [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
                xml,
            )
                .into_response();
            secure(&mut response, &nonce(), None);
            response
        }
        Err(error) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    }
}

/// The 4xx or 5xx page saying why.
fn error_page(status: StatusCode, message: &str) -> Response {
    let title = if status.is_client_error() {
        "Bad request"
    } else {
        "The test IdP failed"
    };
    let body = format!(
        "<h1>{title}</h1><p id=\"message\">{}</p><p>Start again from the app's sign-in page.</p>",
        escape(message)
    );
    page(status, title, &body, None, false)
}

fn push_relay_state(body: &mut String, relay_state: Option<&str>) {
    if let Some(relay_state) = relay_state {
        let _ = write!(
            body,
            "<input type=\"hidden\" name=\"RelayState\" value=\"{}\">",
            escape(relay_state)
        );
    }
}

/// A page of the IdP with a fresh nonce on its style (and on the script that submits
/// its `answer` form, when `submit`), its forms allowed to post to `form_target` too.
fn page(
    status: StatusCode,
    title: &str,
    body: &str,
    form_target: Option<String>,
    submit: bool,
) -> Response {
    let nonce = nonce();
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style nonce=\"{nonce}\">body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;background:#f6f3ee}}button{{display:block;width:100%;text-align:left;margin:.5rem 0;padding:.8rem 1rem;font-size:1rem;border:1px solid #bbb;border-radius:6px;background:#fff}}code{{overflow-wrap:anywhere}}.banner{{background:#6b4f2a;color:#fff;padding:.4rem .8rem;border-radius:4px}}</style></head><body><p class=\"banner\">Test IdP: it signs in whoever is picked. Never use it in production.</p>{body}",
        escape(title),
    );
    if submit {
        let _ = write!(
            html,
            "<script nonce=\"{nonce}\">document.getElementById('answer').submit()</script>"
        );
    }
    html.push_str("</body></html>");
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    secure(&mut response, &nonce, form_target.as_deref());
    response
}

/// Sets the security headers a response does not carry yet.
fn secure(response: &mut Response, nonce: &str, form_target: Option<&str>) {
    let source = if nonce.is_empty() {
        "'none'".to_owned()
    } else {
        format!("'nonce-{nonce}'")
    };
    let mut form_action = "'self'".to_owned();
    if let Some(target) = form_target {
        form_action.push(' ');
        form_action.push_str(target);
    }
    let policy = format!(
        "default-src 'none'; script-src {source}; style-src {source}; img-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    );
    let policy = HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
    });
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, policy),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ] {
        headers.entry(name).or_insert(value);
    }
}

/// 128 random bits in hex; empty (no inline style or script runs, the Continue button
/// still works) when the system has no randomness to give.
fn nonce() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        return String::new();
    }
    bytes
        .iter()
        .fold(String::with_capacity(32), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// `scheme://host[:port]` of an `http` or `https` URL, lowercased, without a default
/// port: also a CSP source. `None` for anything else, or a URL with user info.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let plain = !authority.is_empty()
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !plain {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

/// Whether `url` is `prefix` or lies under it: the prefix ends at a `/`, `?` or `#`.
fn under(url: &str, prefix: &str) -> bool {
    url.strip_prefix(prefix).is_some_and(|rest| {
        rest.is_empty() || prefix.ends_with('/') || rest.starts_with(['/', '?', '#'])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_without_default_ports_or_case() {
        assert_eq!(
            origin("HTTPS://App.Example:443/acme/saml/acs").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            origin("http://127.0.0.1:3000/idp").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(origin("javascript://x/%0aalert(1)"), None);
        assert_eq!(origin("https://user@evil.example/"), None);
        assert_eq!(origin("urn:example:sp"), None);
    }

    #[test]
    fn a_prefix_ends_at_a_path_boundary() {
        assert!(under(
            "http://127.0.0.1:3000/acme/saml/acs",
            "http://127.0.0.1:3000"
        ));
        assert!(under(
            "http://127.0.0.1:3000/acme/saml/acs",
            "http://127.0.0.1:3000/"
        ));
        assert!(!under(
            "http://127.0.0.1:30001/acs",
            "http://127.0.0.1:3000"
        ));
        assert!(!under(
            "http://127.0.0.1:3000.evil.example/acs",
            "http://127.0.0.1:3000"
        ));
    }
}
