//! The portal: its routes and what each does.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use jit_provisioning::web::{self, Reply, RootSitemap, Sitemap};
use jit_provisioning::{
    AccountStore, IdpBinding, LoginError, Outcome, PortalVisit, Provisioned, Provisioner,
    ReplayGuard, Request, SamlPost, Session as PortalSession,
};
use jit_provisioning_saml::ServiceProvider;
use serde::Deserialize;
use tower_sessions::Session;

use crate::hook::{AfterSignIn, NoHook};
use crate::pages::{DefaultPages, Pages, PortalPage};
use crate::session::{self, Outstanding, SignedIn};

/// Reads the clock; tests pin it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The SSO login portal of every org, ready to become a [`Router`].
pub struct SsoPortal<S> {
    provisioner: Arc<Provisioner<S>>,
    saml: Arc<ServiceProvider>,
    replay_guard: Arc<dyn ReplayGuard>,
    pages: Arc<dyn Pages>,
    sitemap: Arc<dyn Sitemap>,
    hook: Arc<dyn AfterSignIn>,
    clock: Clock,
    origin: Option<String>,
}

impl<S> Clone for SsoPortal<S> {
    fn clone(&self) -> Self {
        Self {
            provisioner: Arc::clone(&self.provisioner),
            saml: Arc::clone(&self.saml),
            replay_guard: Arc::clone(&self.replay_guard),
            pages: Arc::clone(&self.pages),
            sitemap: Arc::clone(&self.sitemap),
            hook: Arc::clone(&self.hook),
            clock: Arc::clone(&self.clock),
            origin: self.origin.clone(),
        }
    }
}

impl<S> std::fmt::Debug for SsoPortal<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoPortal")
            .field("orgs", &self.saml.org_ids())
            .finish_non_exhaustive()
    }
}

impl<S: AccountStore + 'static> SsoPortal<S> {
    /// A portal deciding with `provisioner`, verifying with `saml`, and keeping
    /// assertion ids in `replay_guard` (shared by every app server).
    pub fn new(
        provisioner: Arc<Provisioner<S>>,
        saml: Arc<ServiceProvider>,
        replay_guard: Arc<dyn ReplayGuard>,
    ) -> Self {
        Self {
            provisioner,
            saml,
            replay_guard,
            pages: Arc::new(DefaultPages),
            sitemap: Arc::new(RootSitemap),
            hook: Arc::new(NoHook),
            clock: Arc::new(|| SystemTime::now().into()),
            origin: None,
        }
    }

    /// The app's own page templates.
    pub fn with_pages(mut self, pages: Arc<dyn Pages>) -> Self {
        self.pages = pages;
        self
    }

    /// Where org and user homes are (default `/{org}` and `/{handle}`).
    pub fn with_sitemap(mut self, sitemap: Arc<dyn Sitemap>) -> Self {
        self.sitemap = sitemap;
        self
    }

    /// What the app does after each sign-in.
    pub fn with_hook(mut self, hook: Arc<dyn AfterSignIn>) -> Self {
        self.hook = hook;
        self
    }

    /// The clock (tests pin it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// This site's origin (`https://app.example`): a logout POST from any other origin is
    /// refused. Without it, logout only requires a same-origin `Origin` header when one
    /// is sent.
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into().trim_end_matches('/').to_owned());
        self
    }

    /// The routes, for the app to merge (the session layer goes around them):
    ///
    /// | route | what |
    /// | --- | --- |
    /// | `GET /{org}/login` | the portal page; a member validated recently goes straight to the landing |
    /// | `GET /{org}/login/sso` | the trip to the IdP (the page's button) |
    /// | `POST /{org}/saml/acs` | the assertion consumer |
    /// | `GET /{org}/saml/metadata` | the SP metadata |
    /// | `POST /logout` | ends the session |
    ///
    /// `return_to` (a query parameter of both login routes) is carried through the
    /// trip as `RelayState` and honoured only when it is a safe path on this site.
    pub fn router(self) -> Router {
        Router::new()
            .route("/{org}/login", get(portal_page::<S>))
            .route("/{org}/login/sso", get(start_sso::<S>))
            .route("/{org}/saml/acs", post(assertion_consumer::<S>))
            .route("/{org}/saml/metadata", get(metadata::<S>))
            .route("/logout", post(logout::<S>))
            .with_state(self)
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    fn page(&self, status: StatusCode, message: &str) -> Response {
        (status, Html(self.pages.refusal(status.as_u16(), message))).into_response()
    }

    fn failed(&self, what: &str, error: &dyn std::fmt::Display) -> Response {
        tracing::error!(error = %error, "{what}");
        self.page(StatusCode::INTERNAL_SERVER_ERROR, web::FAILED)
    }

    /// Turns a reply into a response, doing the session work it asks for.
    async fn respond(&self, session: &Session, org: &str, done: &Provisioned) -> Response {
        let now = self.now();
        let reply = match web::reply(
            &self.provisioner,
            self.saml.as_ref(),
            done,
            self.sitemap.as_ref(),
            now,
        )
        .await
        {
            Ok(reply) => reply,
            Err(error) => return self.failed("no reply to a decision", &error),
        };
        match reply {
            Reply::SignIn {
                account,
                handle,
                sso_at,
                location,
            } => {
                let signed_in = SignedIn {
                    account,
                    handle,
                    sso_at,
                    rule: done.decision.rule(),
                    outcome: done.decision.outcome(),
                };
                if let Err(error) = session::sign_in(session, &signed_in).await {
                    return self.failed("the session could not be written", &error);
                }
                if let Some(account) = &done.account {
                    if let Err(error) = self.hook.signed_in(session, account, &done.decision).await
                    {
                        return self.failed("the app's sign-in hook failed", &error);
                    }
                }
                Redirect::to(&location).into_response()
            }
            Reply::Redirect { location } => Redirect::to(&location).into_response(),
            Reply::ToIdp(redirect) => {
                let outstanding = Outstanding {
                    id: redirect.request_id.clone(),
                    org: org.to_owned(),
                    issued_at: redirect.issued_at,
                };
                if let Err(error) = session::expect_answer(session, outstanding).await {
                    return self.failed("the session could not be written", &error);
                }
                match redirect.binding {
                    IdpBinding::Redirect { url } => Redirect::to(&url).into_response(),
                    IdpBinding::Post { url, fields } => {
                        Html(self.pages.post_form(&url, &fields)).into_response()
                    }
                    _ => self.failed("an IdP binding this portal cannot send", &"unknown binding"),
                }
            }
            Reply::Refusal {
                status, message, ..
            } => self.page(
                StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN),
                message,
            ),
        }
    }

    /// The portal visit for `org` by whoever holds `session`.
    async fn visit(
        &self,
        session: &Session,
        org: &str,
        return_to: Option<String>,
    ) -> Result<Provisioned, Response> {
        let signed_in = session::signed_in(session).await;
        let visit = Request::PortalVisit(PortalVisit {
            org: org.to_owned(),
            session: signed_in.map(|signed_in| PortalSession {
                account: signed_in.account,
                sso_at: signed_in.sso_at,
            }),
            return_to,
        });
        let done = self
            .provisioner
            .handle(&visit, self.now())
            .await
            .map_err(|error| self.failed("a portal visit failed", &error))?;
        log_decision(org, &done);
        Ok(done)
    }
}

fn log_decision(org: &str, done: &Provisioned) {
    let decision = &done.decision;
    tracing::info!(
        org,
        outcome = %decision.outcome(),
        rule = decision.rule().id(),
        reason = decision.reason().map(|reason| reason.to_string()).unwrap_or_default(),
        "sign-in decided"
    );
}

/// The login routes' query.
#[derive(Debug, Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
}

async fn portal_page<S: AccountStore + 'static>(
    State(portal): State<SsoPortal<S>>,
    session: Session,
    Path(org): Path<String>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let done = match portal.visit(&session, &org, query.return_to.clone()).await {
        Ok(done) => done,
        Err(response) => return response,
    };
    if done.decision.outcome() != Outcome::RedirectToIdp {
        return portal.respond(&session, &org, &done).await;
    }
    let mut href = format!("/{org}/login/sso");
    if let Some(return_to) = &query.return_to {
        href.push_str("?return_to=");
        href.push_str(&percent_encode(return_to));
    }
    Html(portal.pages.portal(&PortalPage {
        org: &org,
        sign_in_href: &href,
    }))
    .into_response()
}

async fn start_sso<S: AccountStore + 'static>(
    State(portal): State<SsoPortal<S>>,
    session: Session,
    Path(org): Path<String>,
    Query(query): Query<LoginQuery>,
) -> Response {
    match portal.visit(&session, &org, query.return_to).await {
        Ok(done) => portal.respond(&session, &org, &done).await,
        Err(response) => response,
    }
}

/// The HTTP-POST binding's fields.
#[derive(Debug, Deserialize)]
struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

async fn assertion_consumer<S: AccountStore + 'static>(
    State(portal): State<SsoPortal<S>>,
    session: Session,
    Path(org): Path<String>,
    Form(form): Form<AcsForm>,
) -> Response {
    let now = portal.now();
    let post = SamlPost {
        request_ids: session::outstanding(&session, &org, now).await,
        org: org.clone(),
        saml_response: form.saml_response,
        relay_state: form
            .relay_state
            .filter(|relay_state| !relay_state.is_empty()),
    };
    match portal
        .provisioner
        .login(
            portal.saml.as_ref(),
            portal.replay_guard.as_ref(),
            &post,
            now,
        )
        .await
    {
        Ok(done) => {
            log_decision(&org, &done);
            portal.respond(&session, &org, &done).await
        }
        Err(LoginError::Unverified(error)) => {
            let category = match &error {
                jit_provisioning::VerifyError::Refused { category, .. } => category,
                _ => "unverified",
            };
            tracing::warn!(org, category, error = %error, "SAML response refused");
            portal.page(StatusCode::BAD_REQUEST, web::REFUSED_UNVERIFIED)
        }
        Err(error) => portal.failed("a sign-in failed", &error),
    }
}

async fn metadata<S: AccountStore + 'static>(
    State(portal): State<SsoPortal<S>>,
    Path(org): Path<String>,
) -> Response {
    match portal.saml.metadata_xml(&org) {
        Some(xml) => (
            [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response(),
        None => portal.page(StatusCode::NOT_FOUND, "This organization has no SSO login."),
    }
}

async fn logout<S: AccountStore + 'static>(
    State(portal): State<SsoPortal<S>>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    // A cross-site form must not sign people out.
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|origin| origin.to_str().ok());
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let same_site = match (origin, &portal.origin) {
        (Some(origin), Some(ours)) => origin == ours,
        (Some(origin), None) => host.is_some_and(|host| {
            origin
                .split_once("://")
                .is_some_and(|(_, rest)| rest == host)
        }),
        (None, _) => true,
    };
    if !same_site {
        return portal.page(StatusCode::FORBIDDEN, "Sign out from this site's own page.");
    }
    if let Err(error) = session.flush().await {
        return portal.failed("the session could not be ended", &error);
    }
    Redirect::to("/").into_response()
}

/// Percent-encodes everything but RFC 3986's unreserved characters and `/`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
