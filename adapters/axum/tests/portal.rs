//! The portal's routes end to end, in process: the trip to the test IdP and back, the
//! session it leaves, and every page a refusal shows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{query_param, request_id, urlencode};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use http_body_util::BodyExt as _;
use jit_provisioning::{
    AccountRecord, Config, MemoryReplayGuard, MemoryStore, Provisioner, STATUS_REQUEST_DENIED,
};
use jit_provisioning_axum::{
    escape_html, session_layer, signed_in, Pages, PortalPage, PostForm, RefusalPage,
    SecurityHeaders, SsoPortal, NOT_ASSIGNED_GUIDANCE,
};
use jit_provisioning_saml::test_idp::{
    post_form_value, status, BadResponse, ResponseTarget, TestIdp, TestPerson,
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
    Setup::new().app(base_url)
}

/// A portal to test: acme's policy and SAML settings, the accounts already there, the
/// portal's own options, and a clock the test moves.
struct Setup {
    org: serde_json::Value,
    saml: serde_json::Value,
    accounts: Vec<AccountRecord>,
    customize: Box<dyn Fn(SsoPortal<MemoryStore>) -> SsoPortal<MemoryStore>>,
    /// Seconds past `now()`.
    clock: Arc<AtomicI64>,
}

impl Setup {
    fn new() -> Self {
        Self {
            org: serde_json::json!({"jit": true, "idp": IDP}),
            saml: serde_json::json!({}),
            accounts: Vec::new(),
            customize: Box::new(|portal| portal),
            clock: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Adds `settings` to acme's policy.
    fn org(mut self, settings: serde_json::Value) -> Self {
        self.org
            .as_object_mut()
            .unwrap()
            .extend(settings.as_object().unwrap().clone());
        self
    }

    fn saml(mut self, settings: serde_json::Value) -> Self {
        self.saml = settings;
        self
    }

    fn accounts(mut self, accounts: serde_json::Value) -> Self {
        self.accounts = serde_json::from_value(accounts).unwrap();
        self
    }

    fn portal(
        mut self,
        customize: impl Fn(SsoPortal<MemoryStore>) -> SsoPortal<MemoryStore> + 'static,
    ) -> Self {
        self.customize = Box::new(customize);
        self
    }

    /// The portal, with a `/whoami` page of the app's that shows the session.
    fn app(&self, base_url: &str) -> Router {
        let policy: Config = serde_json::from_value(serde_json::json!({
            "orgs": {"acme": self.org}
        }))
        .unwrap();
        let policy = policy.validate().unwrap();
        let mut org_saml = serde_json::json!({
            "idp": {"metadata": idp().metadata_xml("https://idp.test.example/sso").unwrap()}
        });
        org_saml
            .as_object_mut()
            .unwrap()
            .extend(self.saml.as_object().unwrap().clone());
        let saml: SamlConfig = serde_json::from_value(serde_json::json!({
            "sp": {"base_url": base_url},
            "orgs": {"acme": org_saml}
        }))
        .unwrap();
        let saml = saml.validate(&policy, None).unwrap();
        let store = MemoryStore::with_accounts(self.accounts.clone()).unwrap();
        let clock = Arc::clone(&self.clock);
        let portal = SsoPortal::new(
            Arc::new(Provisioner::new(policy, store)),
            Arc::new(saml),
            Arc::new(MemoryReplayGuard::new()),
        )
        .with_clock(Arc::new(move || {
            now() + TimeDelta::seconds(clock.load(Ordering::SeqCst))
        }));
        (self.customize)(portal)
            .router()
            .route(
                "/whoami",
                get(|session: tower_sessions::Session| async move {
                    let who = signed_in(&session).await.map(|who| {
                        serde_json::json!({"handle": who.handle, "not_a_member_of": who.not_a_member_of})
                    });
                    serde_json::to_string(&who).unwrap()
                }),
            )
            .layer(session_layer(SessionMemory::default(), base_url))
    }

    /// Moves the clock `secs` seconds on.
    fn wait(&self, secs: i64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }

    fn now(&self) -> DateTime<Utc> {
        now() + TimeDelta::seconds(self.clock.load(Ordering::SeqCst))
    }
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
    headers: HeaderMap,
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
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            location,
            set_cookie,
            headers,
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
    // As in a release build: the reason is in the log only.
    let app = Setup::new()
        .portal(|portal| portal.with_refusal_details(false))
        .app("http://127.0.0.1:3000");
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

/// Through the portal to the IdP and back as `person` at `at`: the response the IdP
/// would post.
async fn trip_as(
    app: &Router,
    browser: &mut Browser,
    person: &TestPerson,
    at: DateTime<Utc>,
) -> String {
    let redirect = browser.get(app, "/acme/login/sso").await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER, "{}", redirect.body);
    let id = request_id(&redirect.location.unwrap());
    idp().response(person, &target(&id), at).unwrap()
}

/// The AuthnRequest XML in an IdP redirect.
fn authn_request(location: &str) -> String {
    let (_, query) = location.split_once('?').unwrap();
    jit_provisioning_saml::AuthnRequest::from_redirect_query(query)
        .unwrap()
        .xml
}

async fn whoami(app: &Router, browser: &mut Browser) -> serde_json::Value {
    serde_json::from_str(&browser.get(app, "/whoami").await.body).unwrap()
}

fn header(page: &Page, name: header::HeaderName) -> &str {
    page.headers
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} ({} {})", page.status, page.body))
        .to_str()
        .unwrap()
}

/// The CSP's nonce, after checking that the policy allows no inline code but the nonce's.
fn nonce_of(page: &Page) -> String {
    let csp = header(page, header::CONTENT_SECURITY_POLICY);
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let nonce = csp
        .split("script-src 'nonce-")
        .nth(1)
        .unwrap_or_else(|| panic!("no nonce in {csp}"))
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    assert!(csp.contains(&format!("style-src 'nonce-{nonce}'")), "{csp}");
    assert!(nonce.len() >= 22, "a nonce of at least 128 bits: {nonce}");
    nonce
}

/// Every header the portal's responses carry, at its strict value; for a page, every
/// inline script and style carries the policy's nonce.
fn assert_strict_headers(what: &str, page: &Page) {
    let csp = header(page, header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert_eq!(header(page, header::X_FRAME_OPTIONS), "DENY", "{what}");
    assert_eq!(
        header(page, header::REFERRER_POLICY),
        "no-referrer",
        "{what}"
    );
    assert_eq!(
        header(page, header::X_CONTENT_TYPE_OPTIONS),
        "nosniff",
        "{what}"
    );
    assert_eq!(header(page, header::CACHE_CONTROL), "no-store", "{what}");
    let nonce = nonce_of(page);
    for tag in ["<script", "<style"] {
        for inline in page.body.split(tag).skip(1) {
            assert!(
                inline.starts_with(&format!(" nonce=\"{nonce}\"")),
                "{what}: {tag}{inline}"
            );
        }
    }
    assert!(!page.body.contains(" onload="), "{what}");
}

/// Whether a page is an HTML page of the portal's style with a link to `href`.
fn assert_page_with_link(what: &str, page: &Page, href: &str) {
    assert!(
        header(page, header::CONTENT_TYPE).starts_with("text/html"),
        "{what}: {}",
        page.body
    );
    assert!(page.body.contains("<h1"), "{what}: {}", page.body);
    assert!(
        page.body.contains(&format!("id=\"next\" href=\"{href}\"")),
        "{what}: {}",
        page.body
    );
}

#[tokio::test]
async fn every_portal_response_carries_the_security_headers() {
    let setup = Setup::new();
    let app = setup.app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    let mut seen = Vec::new();

    seen.push(("portal page", browser.get(&app, "/acme/login").await));
    seen.push(("no portal", browser.get(&app, "/globex/login").await));
    let (xml, _) = trip(&app, &mut browser, "").await;
    let mut other = Browser::default();
    seen.push((
        "redirect to the IdP",
        other.get(&app, "/acme/login/sso").await,
    ));
    seen.push(("signed in", browser.post_response(&app, &xml, None).await));
    seen.push(("fresh member", browser.get(&app, "/acme/login").await));
    seen.push(("replayed", browser.post_response(&app, &xml, None).await));
    let denied = {
        let id = request_id(&other.get(&app, "/acme/login/sso").await.location.unwrap());
        idp()
            .error_response(
                &target(&id),
                status::RESPONDER,
                Some(STATUS_REQUEST_DENIED),
                None,
                now(),
            )
            .unwrap()
    };
    seen.push(("refused", other.post_response(&app, &denied, None).await));
    seen.push(("reload", browser.get(&app, "/acme/saml/acs").await));
    let not_a_form = Request::post("/acme/saml/acs").header(header::CONTENT_TYPE, "text/plain");
    seen.push((
        "not a form",
        browser.send(&app, not_a_form, Body::from("hello")).await,
    ));
    seen.push(("metadata", browser.get(&app, "/acme/saml/metadata").await));
    seen.push((
        "no metadata",
        browser.get(&app, "/globex/saml/metadata").await,
    ));
    let forged = Request::post("/logout")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::HOST, "127.0.0.1:3000");
    seen.push((
        "cross-site logout",
        browser.send(&app, forged, Body::empty()).await,
    ));
    seen.push((
        "logout",
        browser
            .send(&app, Request::post("/logout"), Body::empty())
            .await,
    ));

    let statuses: Vec<u16> = seen.iter().map(|(_, page)| page.status.as_u16()).collect();
    assert_eq!(
        statuses,
        [200, 404, 303, 303, 303, 400, 403, 405, 415, 200, 404, 403, 303],
        "each answer it should be"
    );
    for (what, page) in &seen {
        assert_strict_headers(what, page);
    }
    let nonces: std::collections::BTreeSet<String> =
        seen.iter().map(|(_, page)| nonce_of(page)).collect();
    assert_eq!(nonces.len(), seen.len(), "a fresh nonce for each response");

    // The app's own pages are the app's: the portal's headers are not forced on them.
    let whoami = browser.get(&app, "/whoami").await;
    assert!(!whoami.headers.contains_key(header::CONTENT_SECURITY_POLICY));
}

#[tokio::test]
async fn the_post_binding_form_runs_by_its_nonce_and_may_post_to_the_idp_only() {
    let app = Setup::new()
        .saml(serde_json::json!({"binding": "post"}))
        .app("http://127.0.0.1:3000");
    let form = Browser::default().get(&app, "/acme/login/sso").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"SAMLRequest\""), "{}", form.body);
    assert_strict_headers("POST-binding form", &form);
    assert!(
        form.body.contains("<script nonce="),
        "the form submits itself: {}",
        form.body
    );
    let csp = header(&form, header::CONTENT_SECURITY_POLICY);
    assert!(
        csp.contains("form-action 'self' https://idp.test.example;"),
        "{csp}"
    );
    let page = Browser::default().get(&app, "/acme/login").await;
    let csp = header(&page, header::CONTENT_SECURITY_POLICY);
    assert!(
        csp.contains("form-action 'self';"),
        "other pages post home only: {csp}"
    );
}

#[tokio::test]
async fn the_builder_loosens_the_headers() {
    let app = Setup::new()
        .portal(|portal| {
            portal.with_security_headers(
                SecurityHeaders::strict()
                    .allow_framing_by("'self' https://admin.example")
                    .with_referrer_policy("strict-origin-when-cross-origin")
                    .allow_sources("style-src", "https://cdn.example")
                    .allow_sources("font-src", "https://fonts.example"),
            )
        })
        .app("http://127.0.0.1:3000");
    let page = Browser::default().get(&app, "/acme/login").await;
    let csp = header(&page, header::CONTENT_SECURITY_POLICY);
    assert!(
        csp.contains("frame-ancestors 'self' https://admin.example"),
        "{csp}"
    );
    assert!(csp.contains("https://cdn.example"), "{csp}");
    assert!(csp.contains("font-src https://fonts.example"), "{csp}");
    assert!(
        !page.headers.contains_key(header::X_FRAME_OPTIONS),
        "X-Frame-Options cannot name another site: left out"
    );
    assert_eq!(
        header(&page, header::REFERRER_POLICY),
        "strict-origin-when-cross-origin"
    );
    assert_eq!(header(&page, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(header(&page, header::CACHE_CONTROL), "no-store");

    let same_origin = Setup::new()
        .portal(|portal| {
            portal.with_security_headers(SecurityHeaders::strict().allow_framing_by("'self'"))
        })
        .app("http://127.0.0.1:3000");
    let page = Browser::default().get(&same_origin, "/acme/login").await;
    assert_eq!(header(&page, header::X_FRAME_OPTIONS), "SAMEORIGIN");
}

#[tokio::test]
async fn a_member_whose_validation_is_stale_goes_straight_to_the_idp() {
    for force_authn in [false, true] {
        let setup = Setup::new().org(serde_json::json!({
            "reauth_after_secs": 3600,
            "force_authn": force_authn,
            "provision": [{"org": "acme", "role": "member"}]
        }));
        let app = setup.app("http://127.0.0.1:3000");
        let mut browser = Browser::default();
        let xml = trip_as(&app, &mut browser, &jane(), setup.now()).await;
        let signed_in = browser.post_response(&app, &xml, None).await;
        assert_eq!(signed_in.location.as_deref(), Some("/acme"));

        setup.wait(3599);
        let fresh = browser.get(&app, "/acme/login").await;
        assert_eq!(fresh.location.as_deref(), Some("/acme"), "still fresh");

        setup.wait(2);
        let stale = browser
            .get(&app, "/acme/login?return_to=/acme/projects")
            .await;
        assert_eq!(
            stale.status,
            StatusCode::SEE_OTHER,
            "no portal page to click through: {}",
            stale.body
        );
        let location = stale.location.unwrap();
        assert!(
            location.starts_with("https://idp.test.example/sso?SAMLRequest="),
            "{location}"
        );
        assert_eq!(
            query_param(&location, "RelayState").as_deref(),
            Some("/acme/projects")
        );
        assert_eq!(
            authn_request(&location).contains("ForceAuthn=\"true\""),
            force_authn,
            "ForceAuthn where the org asks for it"
        );

        // And back: the answer to that very request signs the member in again.
        let id = request_id(&location);
        let xml = idp().response(&jane(), &target(&id), setup.now()).unwrap();
        let back = browser
            .post_response(&app, &xml, Some("/acme/projects"))
            .await;
        assert_eq!(back.location.as_deref(), Some("/acme/projects"));
    }
}

#[tokio::test]
async fn a_visitor_not_signed_in_keeps_the_page_and_a_signed_in_non_member_goes_to_the_idp() {
    let setup = Setup::new()
        .org(serde_json::json!({"verified_domains": ["acme.example"]}))
        .accounts(serde_json::json!([
            {"id": "7", "handle": "sam-lee", "email": "sam@acme.example"}
        ]));
    let app = setup.app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    let anonymous = browser.get(&app, "/acme/login").await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert!(anonymous.body.contains("id=\"sign-in\""));

    let sam = TestPerson::new("00u-sam")
        .with_given_name("Sam")
        .with_family_name("Lee")
        .with_email("sam@acme.example");
    let xml = trip_as(&app, &mut browser, &sam, setup.now()).await;
    let landed = browser.post_response(&app, &xml, None).await;
    assert_eq!(landed.location.as_deref(), Some("/sam-lee"));

    let again = browser.get(&app, "/acme/login").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert!(again
        .location
        .unwrap()
        .starts_with("https://idp.test.example/sso?SAMLRequest="));
}

#[tokio::test]
async fn a_non_member_s_session_names_the_org_they_are_not_a_member_of() {
    let setup = Setup::new()
        .org(serde_json::json!({
            "verified_domains": ["acme.example"],
            "provision": [{"org": "acme", "role": "member"}]
        }))
        .accounts(serde_json::json!([
            {"id": "7", "handle": "sam-lee", "email": "sam@acme.example"}
        ]));
    let app = setup.app("http://127.0.0.1:3000");

    let mut sam_browser = Browser::default();
    let sam = TestPerson::new("00u-sam")
        .with_given_name("Sam")
        .with_family_name("Lee")
        .with_email("sam@acme.example");
    let xml = trip_as(&app, &mut sam_browser, &sam, setup.now()).await;
    sam_browser.post_response(&app, &xml, None).await;
    assert_eq!(
        whoami(&app, &mut sam_browser).await,
        serde_json::json!({"handle": "sam-lee", "not_a_member_of": "acme"})
    );

    let mut jane_browser = Browser::default();
    let xml = trip_as(&app, &mut jane_browser, &jane(), setup.now()).await;
    jane_browser.post_response(&app, &xml, None).await;
    assert_eq!(
        whoami(&app, &mut jane_browser).await,
        serde_json::json!({"handle": "jane-doe", "not_a_member_of": null}),
        "a new member is a member"
    );
    assert!(jit_provisioning_axum::not_a_member_notice("acme")
        .contains("An admin of acme must invite you"));
}

#[tokio::test]
async fn refusal_pages_lead_back_to_the_org_s_portal() {
    let app = app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    let id = request_id(&browser.get(&app, "/acme/login/sso").await.location.unwrap());
    let denied = idp()
        .error_response(
            &target(&id),
            status::RESPONDER,
            Some(STATUS_REQUEST_DENIED),
            None,
            now(),
        )
        .unwrap();
    let refused = browser.post_response(&app, &denied, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_page_with_link("refused", &refused, "/acme/login");
    assert!(refused.body.contains("Sign-in refused"));

    let tampered = {
        let id = request_id(&browser.get(&app, "/acme/login/sso").await.location.unwrap());
        idp()
            .bad_response(BadResponse::Tampered, &jane(), &target(&id), now())
            .unwrap()
    };
    let unverified = browser.post_response(&app, &tampered, None).await;
    assert_eq!(unverified.status, StatusCode::BAD_REQUEST);
    assert_page_with_link("unverified", &unverified, "/acme/login");

    let no_portal = browser.get(&app, "/globex/login").await;
    assert_eq!(no_portal.status, StatusCode::NOT_FOUND);
    assert!(
        !no_portal.body.contains("id=\"next\""),
        "no way back to a portal that does not exist"
    );
}

#[tokio::test]
async fn a_reload_of_the_assertion_consumer_is_a_page_that_leads_back() {
    let app = app("http://127.0.0.1:3000");
    let page = Browser::default().get(&app, "/acme/saml/acs").await;
    assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&page, header::ALLOW), "POST");
    assert_page_with_link("reload", &page, "/acme/login");
    assert!(page.body.contains("Start again"), "{}", page.body);
}

#[tokio::test]
async fn an_assertion_consumer_post_that_is_no_saml_form_is_a_page() {
    let app = app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    let cases = [
        (
            "text/plain",
            "SAMLResponse=x".to_owned(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "application/x-www-form-urlencoded",
            "RelayState=/acme".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "application/x-www-form-urlencoded",
            format!("SAMLResponse={}", "A".repeat(3 * 1024 * 1024)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (content_type, body, status) in cases {
        let request = Request::post("/acme/saml/acs").header(header::CONTENT_TYPE, content_type);
        let page = browser.send(&app, request, Body::from(body)).await;
        assert_eq!(page.status, status, "{}", page.body);
        assert_page_with_link(status.as_str(), &page, "/acme/login");
        assert!(
            page.body.contains("SSO provider"),
            "{status}: says what happened and what to do: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn a_refused_cross_site_logout_says_so_and_other_dead_ends_are_pages() {
    let app = app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    let forged = Request::post("/logout")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::HOST, "127.0.0.1:3000");
    let refused = browser.send(&app, forged, Body::empty()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        !refused.body.contains("Sign-in refused"),
        "a sign-out is no sign-in: {}",
        refused.body
    );
    assert!(refused.body.contains("Not signed out"), "{}", refused.body);
    assert_page_with_link("cross-site logout", &refused, "/");

    let typed = browser.get(&app, "/logout").await;
    assert_eq!(typed.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(typed.body.contains("Sign out button"), "{}", typed.body);
    assert_page_with_link("GET /logout", &typed, "/");

    let put = browser
        .send(&app, Request::put("/acme/login"), Body::empty())
        .await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(header(&put, header::ALLOW).contains("GET"));
    assert_page_with_link("PUT", &put, "/acme/login");
    assert_strict_headers("PUT", &put);

    let query = browser
        .get(&app, "/acme/login?return_to=/a&return_to=/b")
        .await;
    assert_eq!(query.status, StatusCode::BAD_REQUEST);
    assert_page_with_link("a query that does not parse", &query, "/acme/login");
    assert_strict_headers("a query that does not parse", &query);
}

/// Pages that show what they were asked, to check that every page goes through them.
struct Plain;

impl Pages for Plain {
    fn portal(&self, page: &PortalPage<'_>) -> String {
        format!("portal {}", escape_html(page.org))
    }

    fn refusal(&self, page: &RefusalPage<'_>) -> String {
        format!(
            "refusal {:?} {} next={} reason={}",
            page.kind,
            page.status,
            page.next.map(|next| next.href).unwrap_or("none"),
            page.reason
                .map(|reason| reason.to_string())
                .unwrap_or_default()
        )
    }

    fn post_form(&self, form: &PostForm<'_>) -> String {
        format!("form {}", form.fields.len())
    }
}

#[tokio::test]
async fn every_page_a_person_can_see_is_the_app_s_to_restyle() {
    let app = Setup::new()
        .portal(|portal| portal.with_pages(Arc::new(Plain)))
        .app("http://127.0.0.1:3000");
    let mut browser = Browser::default();
    let mut bodies = Vec::new();
    for uri in ["/acme/login", "/globex/login", "/acme/saml/acs", "/logout"] {
        bodies.push(browser.get(&app, uri).await.body);
    }
    let not_a_form = Request::post("/acme/saml/acs").header(header::CONTENT_TYPE, "text/plain");
    bodies.push(browser.send(&app, not_a_form, Body::from("x")).await.body);
    bodies.push(
        browser
            .send(&app, Request::delete("/acme/saml/metadata"), Body::empty())
            .await
            .body,
    );
    assert_eq!(
        bodies,
        [
            "portal acme",
            "refusal NotFound 404 next=none reason=unknown_org",
            "refusal Reload 405 next=/acme/login reason=",
            "refusal WrongMethod 405 next=/ reason=",
            "refusal BadRequest 415 next=/acme/login reason=",
            "refusal WrongMethod 405 next=/acme/login reason=",
        ]
    );
}

/// `Router::nest("/sso", portal)`: the portal's pages link under the mount, and its SAML
/// endpoints are where the SP's base URL (which names the mount) says.
#[tokio::test]
async fn a_portal_nested_under_a_prefix_links_under_it() {
    let app = Router::new().nest("/sso", app("http://127.0.0.1:3000/sso"));
    let mut browser = Browser::default();
    let page = browser
        .get(&app, "/sso/acme/login?return_to=/acme/projects")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(r#"href="/sso/acme/login/sso?return_to=/acme/projects""#),
        "{}",
        page.body
    );
    let redirect = browser.get(&app, "/sso/acme/login/sso").await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER, "{}", redirect.body);
    let request = authn_request(&redirect.location.unwrap());
    assert!(
        request
            .contains(r#"AssertionConsumerServiceURL="http://127.0.0.1:3000/sso/acme/saml/acs""#),
        "{request}"
    );
    // A refusal's way back is the nested portal page.
    let refused = browser.get(&app, "/sso/acme/saml/acs").await;
    assert_page_with_link("a GET of the nested ACS", &refused, "/sso/acme/login");
    // At the root, nothing changes.
    let root = Browser::default()
        .get(&self::app("http://127.0.0.1:3000"), "/acme/saml/acs")
        .await;
    assert_page_with_link("a GET of the ACS", &root, "/acme/login");
}

/// A response to a request from a browser that brought no cookie back: the page says the
/// cookie was lost, and (in debug builds, or when the app says so) which check failed.
#[tokio::test]
async fn a_lost_cookie_and_the_failed_check_are_on_the_page() {
    let app = app("http://127.0.0.1:3000");
    let redirect = Browser::default().get(&app, "/acme/login/sso").await;
    let id = request_id(&redirect.location.unwrap());
    let xml = idp().response(&jane(), &target(&id), now()).unwrap();
    // Another browser, with no cookie: the IdP's POST came back without it.
    let page = Browser::default().post_response(&app, &xml, None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("did not bring this site"),
        "{}",
        page.body
    );
    assert!(page.body.contains("The check that failed"), "{}", page.body);

    let quiet = Setup::new()
        .portal(|portal| portal.with_refusal_details(false))
        .app("http://127.0.0.1:3000");
    let redirect = Browser::default().get(&quiet, "/acme/login/sso").await;
    let id = request_id(&redirect.location.unwrap());
    let xml = idp().response(&jane(), &target(&id), now()).unwrap();
    let page = Browser::default().post_response(&quiet, &xml, None).await;
    assert!(
        page.body.contains("did not bring this site"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("The check that failed"),
        "{}",
        page.body
    );
}
