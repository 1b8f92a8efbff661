//! The portal: its routes and what each does.

use std::convert::Infallible;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use axum::extract::rejection::FormRejection;
use axum::extract::{
    Form, FromRequestParts, NestedPath, Path, Query, Request as HttpRequest, State,
};
use axum::http::request::Parts;
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use jit_provisioning::org::OrgState;
use jit_provisioning::web::{self, Reply, RootSitemap, Sitemap};
use jit_provisioning::{
    AccountStore, IdpBinding, LoginError, PortalVisit, Provisioned, Provisioner, ReplayGuard,
    Request, Rule, SamlPost, Session as PortalSession,
};
use jit_provisioning_saml::ServiceProvider;
use serde::Deserialize;
use tower_sessions::Session;

use crate::headers::{self, CspNonce, FormTarget, SecurityHeaders};
use crate::hook::{AfterSignIn, NoHook};
use crate::pages::{DefaultPages, Link, PageKind, Pages, PortalPage, PostForm, RefusalPage};
use crate::session::{self, Outstanding, SignedIn};

/// What the assertion consumer says when it is opened as a page.
const RELOAD: &str = "This address only receives your SSO provider's answer during sign-in: opening or reloading it cannot sign you in. Start again from your organization's sign-in page.";
/// What the assertion consumer says when the IdP's POST is no form it reads.
const UNREADABLE: &str = "Your SSO provider's answer did not arrive in a form this site can read. Start again from your organization's sign-in page; if it keeps happening, tell your SSO provider's admin.";
/// What any other request the portal cannot read is told.
const BAD_REQUEST: &str =
    "This request could not be read. Start again from your organization's sign-in page.";
/// What a request with a method an address does not answer is told.
const WRONG_METHOD: &str =
    "This address does not open as a page. Start again from your organization's sign-in page.";
/// What a refused response's page adds when the browser brought no session cookie back.
const COOKIE_LOST: &str = "Your browser did not bring this site's session cookie back with the answer from your SSO provider, so the sign-in it started could not be found. Open the site at the same address as its sign-in URL (localhost and 127.0.0.1 are two sites to a browser), and allow its cookies.";

/// Why a browser brings no cookie back, for the log.
const COOKIE_LOST_CAUSES: &str = "the site opened on another host than the ACS URL's (localhost against 127.0.0.1), a cookie the browser refused (SameSite=None without Secure off loopback), or a session that expired";

/// What `GET /logout` says.
const SIGN_OUT_BY_BUTTON: &str =
    "Opening this address does not sign you out: use the Sign out button on the site's pages.";
/// What a sign-out posted from another site is told.
const SIGN_OUT_REFUSED: &str = "You are still signed in: signing out works only from this site's own pages. Use the Sign out button on the site.";
/// What an org's metadata address says when the org has no portal.
const NO_METADATA: &str = "This organization has no SSO login, so there is no SAML metadata here. Check the address with the app's admin.";

/// Reads the clock; tests pin it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The admin pages made from a portal, once their router is made: the assertion
/// consumer hands them the answers to their test sign-ins.
pub(crate) type SsoTests<S> = Arc<RwLock<Option<crate::admin::OrgAdmin<S>>>>;

/// The SSO login portal of every org, ready to become a [`Router`].
pub struct SsoPortal<S> {
    pub(crate) provisioner: Arc<Provisioner<S>>,
    pub(crate) saml: Arc<ServiceProvider>,
    pub(crate) replay_guard: Arc<dyn ReplayGuard>,
    pub(crate) pages: Arc<dyn Pages>,
    sitemap: Arc<dyn Sitemap>,
    hook: Arc<dyn AfterSignIn>,
    pub(crate) clock: Clock,
    pub(crate) origin: Option<String>,
    pub(crate) security: SecurityHeaders,
    /// Whether a refusal page says why the response did not verify.
    refusal_details: bool,
    /// Who answers test sign-ins: the admin pages, once their router is made.
    pub(crate) sso_tests: SsoTests<S>,
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
            security: self.security.clone(),
            refusal_details: self.refusal_details,
            sso_tests: Arc::clone(&self.sso_tests),
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
    /// A portal deciding with `provisioner`, verifying with `saml`, and keeping the
    /// assertion ids it has seen in `replay_guard`. A captured response is refused a
    /// second time only as long as the guard remembers it: in production a guard in the
    /// database, which every app server shares and a restart keeps
    /// (`SqliteReplayGuard` or `PgReplayGuard` of `jit-provisioning-sqlx`);
    /// `MemoryReplayGuard` protects one process, and forgets when it restarts.
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
            security: SecurityHeaders::strict(),
            refusal_details: cfg!(debug_assertions),
            sso_tests: Arc::default(),
        }
    }

    /// Whether the page a refused SAML response ends on says why, as the verifier said
    /// it (the wrong audience, an expired assertion…), under the usual "could not be
    /// verified". On by default in debug builds, so that a first app shows its
    /// misconfiguration on the page and not only in the log; off by default in release
    /// builds, where the reason is only logged (`tracing`, target
    /// `jit_provisioning_axum::portal`), since it helps an attacker probing the checks
    /// as much as a developer.
    pub fn with_refusal_details(mut self, shown: bool) -> Self {
        self.refusal_details = shown;
        self
    }

    /// The security headers of every portal response (default
    /// [`SecurityHeaders::strict`]): loosen them here when the app's [`Pages`] need it.
    pub fn with_security_headers(mut self, headers: SecurityHeaders) -> Self {
        self.security = headers;
        self
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
    /// | `GET /{org}/login` | the portal page for a visitor not signed in; a member validated recently goes straight to the landing, anyone else signed in straight to the IdP |
    /// | `GET /{org}/login/sso` | the trip to the IdP (the page's button) |
    /// | `POST /{org}/saml/acs` | the assertion consumer (`GET`: a page that leads back to the portal); the answer to an org admin's test sign-in goes to the [`OrgAdmin`](crate::OrgAdmin) pages' test instead, and signs no one in |
    /// | `GET /{org}/saml/metadata` | the SP metadata |
    /// | `POST /logout` | ends the session |
    ///
    /// `return_to` (a query parameter of both login routes) is carried through the
    /// trip as `RelayState` and honoured only when it is a safe path on this site.
    ///
    /// Every response carries the [`SecurityHeaders`], and every error a person can see
    /// is a page of the app's [`Pages`], even the ones axum itself would answer in plain
    /// text (a body too large, a method the address does not answer).
    pub fn router(self) -> Router {
        Router::new()
            .route("/{org}/login", get(portal_page::<S>))
            .route("/{org}/login/sso", get(start_sso::<S>))
            .route(
                "/{org}/saml/acs",
                post(assertion_consumer::<S>).get(acs_reload::<S>),
            )
            .route("/{org}/saml/metadata", get(metadata::<S>))
            .route("/logout", post(logout::<S>).get(logout_page::<S>))
            // A route layer, not a layer: the app's own fallback stays the app's.
            .route_layer(middleware::from_fn_with_state(
                self.clone(),
                pages_and_headers::<S>,
            ))
            .with_state(self)
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// A page that ends the sign-in here, with the way back (see [`SsoPortal::render`]).
    fn page(
        &self,
        kind: PageKind,
        status: StatusCode,
        message: &str,
        org: Option<&str>,
        here: &Here,
    ) -> Response {
        self.render(
            RefusalPage::new(kind, status.as_u16(), message, here.nonce()),
            org,
            here,
        )
    }

    /// `page` with the way back: the portal of `org` when it has one, else the site's
    /// home (but not from a portal that does not exist).
    fn render(&self, page: RefusalPage<'_>, org: Option<&str>, here: &Here) -> Response {
        let portal_href = org
            .filter(|org| self.has_open_portal(org))
            .map(|org| (here.link(&format!("/{}/login", percent_encode(org))), org));
        let label;
        let next = match &portal_href {
            Some((href, org)) => {
                label = format!("Back to the sign-in page of {org}");
                Some(Link::new(href, &label))
            }
            None if page.kind == PageKind::NotFound => None,
            None => Some(Link::new("/", "Go to the home page")),
        };
        // A page that borrows the link made here (it lives shorter than `page`'s own text).
        let mut page: RefusalPage<'_> = page;
        if let Some(next) = next {
            page = page.with_next(next);
        }
        let status = StatusCode::from_u16(page.status).unwrap_or(StatusCode::FORBIDDEN);
        (status, Html(self.pages.refusal(&page))).into_response()
    }

    /// Whether `org` has a portal open to sign-ins, to link back to. Under a registry,
    /// as its cache holds the org: the request that renders the page has just looked it
    /// up.
    fn has_open_portal(&self, org: &str) -> bool {
        let open = |policy: &jit_provisioning::OrgPolicy| {
            policy.portal().is_some() && policy.state() == OrgState::Active
        };
        match self.provisioner.registry() {
            None => self.provisioner.policy().org(org).is_some_and(open),
            Some(registry) => registry
                .cached_org(org)
                .is_some_and(|live| open(live.policy())),
        }
    }

    fn failed(
        &self,
        what: &str,
        error: &dyn std::fmt::Display,
        org: Option<&str>,
        here: &Here,
    ) -> Response {
        tracing::error!(error = %error, "{what}");
        self.page(
            PageKind::Failed,
            StatusCode::INTERNAL_SERVER_ERROR,
            web::FAILED,
            org,
            here,
        )
    }

    /// Turns a reply into a response, doing the session work it asks for.
    async fn respond(
        &self,
        session: &Session,
        org: &str,
        done: &Provisioned,
        here: &Here,
    ) -> Response {
        let failed =
            |what: &str, error: &dyn std::fmt::Display| self.failed(what, error, Some(org), here);
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
            Err(error) => return failed("no reply to a decision", &error),
        };
        match reply {
            Reply::SignIn {
                account,
                handle,
                sso_at,
                location,
            } => {
                let mut signed_in = SignedIn::new(
                    account,
                    handle,
                    done.decision.rule(),
                    done.decision.outcome(),
                )
                .with_sso_at(sso_at)
                .with_org(org);
                // The seed: a non-member is signed in but lands on their own home; that
                // page must be able to say why.
                if done
                    .account
                    .as_ref()
                    .is_some_and(|account| !account.is_member_of(org))
                {
                    signed_in = signed_in.with_not_a_member_of(org);
                }
                if let Err(error) = session::sign_in(session, &signed_in).await {
                    return failed("the session could not be written", &error);
                }
                if let Some(account) = &done.account {
                    if let Err(error) = self.hook.signed_in(session, account, &done.decision).await
                    {
                        return failed("the app's sign-in hook failed", &error);
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
                    return failed("the session could not be written", &error);
                }
                match redirect.binding {
                    IdpBinding::Redirect { url } => Redirect::to(&url).into_response(),
                    IdpBinding::Post { url, fields } => {
                        let form = PostForm::new(&url, &fields, here.nonce());
                        let mut response = Html(self.pages.post_form(&form)).into_response();
                        // The form posts to the IdP: the policy's `form-action` must name it.
                        if let Some(target) = form_target(&url) {
                            response.extensions_mut().insert(FormTarget(target));
                        }
                        response
                    }
                    _ => failed("an IdP binding this portal cannot send", &"unknown binding"),
                }
            }
            Reply::Refusal {
                status,
                reason,
                message,
            } => {
                let kind = if status == StatusCode::NOT_FOUND.as_u16() {
                    PageKind::NotFound
                } else {
                    PageKind::Refused
                };
                let page = RefusalPage::new(kind, status, message, here.nonce());
                self.render(page.with_reason(reason), Some(org), here)
            }
        }
    }

    /// The portal visit for `org` by whoever holds `session`.
    async fn visit(
        &self,
        session: &Session,
        org: &str,
        return_to: Option<String>,
        here: &Here,
    ) -> Result<Provisioned, Response> {
        let signed_in = session::signed_in(session).await;
        let mut visit = PortalVisit::new(org);
        visit.session = signed_in.map(|signed_in| {
            // Another org's IdP vouched for the person, not this org's: here the session
            // counts as never validated, so a member goes through this org's IdP and
            // comes back signed in through it (as its admin pages require).
            let sso_at = match &signed_in.org {
                Some(via) if via != org => None,
                _ => signed_in.sso_at,
            };
            PortalSession::new(signed_in.account, sso_at)
        });
        visit.return_to = return_to;
        let visit = Request::PortalVisit(visit);
        let done = self
            .provisioner
            .handle(&visit, self.now())
            .await
            .map_err(|error| self.failed("a portal visit failed", &error, Some(org), here))?;
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
    here: Here,
    Path(org): Path<String>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let done = match portal
        .visit(&session, &org, query.return_to.clone(), &here)
        .await
    {
        Ok(done) => done,
        Err(response) => return response,
    };
    // Only a visitor not signed in sees the page, for its guidance on what to do when
    // the IdP turns them away (Okta, Entra ID and Google answer with a page of their
    // own, not `RequestDenied`), and so that a link to the portal starts no trip by
    // itself. Anyone signed in is known here: a member whose validation is stale, or a
    // non-member, goes straight to the IdP and back, as the seed has it.
    if done.decision.rule() != Rule::PortalAnonymous {
        return portal.respond(&session, &org, &done, &here).await;
    }
    let mut href = here.link(&format!("/{}/login/sso", percent_encode(&org)));
    if let Some(return_to) = &query.return_to {
        href.push_str("?return_to=");
        href.push_str(&percent_encode(return_to));
    }
    Html(
        portal
            .pages
            .portal(&PortalPage::new(&org, &href, here.nonce())),
    )
    .into_response()
}

async fn start_sso<S: AccountStore + 'static>(
    State(portal): State<SsoPortal<S>>,
    session: Session,
    here: Here,
    Path(org): Path<String>,
    Query(query): Query<LoginQuery>,
) -> Response {
    match portal.visit(&session, &org, query.return_to, &here).await {
        Ok(done) => portal.respond(&session, &org, &done, &here).await,
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
    here: Here,
    Path(org): Path<String>,
    form: Result<Form<AcsForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            tracing::warn!(org, status = rejection.status().as_u16(), error = %rejection.body_text(), "an ACS post that is no SAML form");
            return portal.page(
                PageKind::BadRequest,
                rejection.status(),
                UNREADABLE,
                Some(&org),
                &here,
            );
        }
    };
    // An org admin's test sign-in (see the SSO set-up page) is answered by the admin
    // pages, and never signs anyone in.
    let tests = portal
        .sso_tests
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some(admin) = tests {
        if let Some(response) = admin
            .answer_test(&session, &org, &form.saml_response, &here.nonce)
            .await
        {
            return response;
        }
    }
    let now = portal.now();
    let mut post = SamlPost::new(org.clone(), form.saml_response)
        .with_request_ids(session::outstanding(&session, &org, now).await);
    post.relay_state = form
        .relay_state
        .filter(|relay_state| !relay_state.is_empty());
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
            portal.respond(&session, &org, &done, &here).await
        }
        Err(LoginError::Unverified(error)) => {
            let category = match &error {
                jit_provisioning::VerifyError::Refused { category, .. } => category,
                _ => "unverified",
            };
            // An answer to a request, to a browser that has none outstanding: its session
            // cookie did not come back with the IdP's POST.
            let cookie_lost = category == "in_response_to_mismatch" && post.request_ids.is_empty();
            if cookie_lost {
                tracing::warn!(org, category, error = %error, "SAML response refused: the browser brought no session cookie back from the IdP ({COOKIE_LOST_CAUSES})");
            } else {
                tracing::warn!(org, category, error = %error, "SAML response refused");
            }
            let mut message = web::REFUSED_UNVERIFIED.to_owned();
            if cookie_lost {
                message.push_str(&format!(" {COOKIE_LOST}"));
            }
            if portal.refusal_details {
                message.push_str(&format!(" (The check that failed: {error}.)"));
            }
            portal.page(
                PageKind::Unverified,
                StatusCode::BAD_REQUEST,
                &message,
                Some(&org),
                &here,
            )
        }
        Err(error) => portal.failed("a sign-in failed", &error, Some(&org), &here),
    }
}

/// The assertion consumer opened as a page: a reload of the page the IdP's POST
/// landed on, a bookmark, the back button.
async fn acs_reload<S: AccountStore + 'static>(
    State(portal): State<SsoPortal<S>>,
    here: Here,
    Path(org): Path<String>,
) -> Response {
    allow_post(portal.page(
        PageKind::Reload,
        StatusCode::METHOD_NOT_ALLOWED,
        RELOAD,
        Some(&org),
        &here,
    ))
}

async fn metadata<S: AccountStore + 'static>(
    State(portal): State<SsoPortal<S>>,
    here: Here,
    Path(org): Path<String>,
) -> Response {
    match portal.saml.sp_metadata_xml(&org, portal.now()).await {
        Ok(Some(xml)) => (
            [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response(),
        Err(error) => portal.failed("no SP metadata", &error, Some(&org), &here),
        Ok(None) => portal.page(
            PageKind::NotFound,
            StatusCode::NOT_FOUND,
            NO_METADATA,
            None,
            &here,
        ),
    }
}

async fn logout<S: AccountStore + 'static>(
    State(portal): State<SsoPortal<S>>,
    session: Session,
    here: Here,
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
        return portal.page(
            PageKind::SignOutRefused,
            StatusCode::FORBIDDEN,
            SIGN_OUT_REFUSED,
            None,
            &here,
        );
    }
    if let Err(error) = session.flush().await {
        return portal.failed("the session could not be ended", &error, None, &here);
    }
    Redirect::to("/").into_response()
}

/// `GET /logout`: someone typed the address, or followed a link to it.
async fn logout_page<S: AccountStore + 'static>(
    State(portal): State<SsoPortal<S>>,
    here: Here,
) -> Response {
    allow_post(portal.page(
        PageKind::WrongMethod,
        StatusCode::METHOD_NOT_ALLOWED,
        SIGN_OUT_BY_BUTTON,
        None,
        &here,
    ))
}

fn allow_post(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// Around every portal route: the nonce and the security headers, and a page of the
/// app's style for an error that axum answers in plain text (an extractor's rejection,
/// a method the route does not answer).
async fn pages_and_headers<S: AccountStore + 'static>(
    State(portal): State<SsoPortal<S>>,
    request: HttpRequest,
    next: Next,
) -> Response {
    let org = org_of(request.uri().path());
    let mount = mount_of(request.extensions());
    let (request, nonce) = headers::with_nonce(request);
    let mut response = next.run(request).await;
    let status = response.status();
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if (status.is_client_error() || status.is_server_error()) && !is_page {
        tracing::info!(
            status = status.as_u16(),
            "a request the portal's routes could not read"
        );
        let (kind, message) = match status {
            StatusCode::METHOD_NOT_ALLOWED => (PageKind::WrongMethod, WRONG_METHOD),
            status if status.is_server_error() => (PageKind::Failed, web::FAILED),
            _ => (PageKind::BadRequest, BAD_REQUEST),
        };
        let allow = response.headers().get(header::ALLOW).cloned();
        let here = Here {
            nonce: nonce.clone(),
            mount,
        };
        response = portal.page(kind, status, message, org.as_deref(), &here);
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    headers::finish(&portal.security, &nonce, &mut response);
    response
}

/// What a portal page needs of its request: the nonce of its Content-Security-Policy,
/// which its inline script and style carry, and where the portal's router is mounted
/// (`/sso` under `Router::nest("/sso", portal.router())`, empty at the root), which the
/// portal's own links start with.
#[derive(Debug, Clone)]
pub(crate) struct Here {
    nonce: CspNonce,
    mount: String,
}

impl Here {
    /// The value for a `nonce` attribute.
    pub(crate) fn nonce(&self) -> &str {
        self.nonce.as_str()
    }

    /// `path`, one of the portal's own (`/acme/login`), as the browser must ask for it.
    pub(crate) fn link(&self, path: &str) -> String {
        format!("{}{path}", self.mount)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Here {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let nonce = CspNonce::from_request_parts(parts, state).await?;
        Ok(Here {
            nonce,
            mount: mount_of(&parts.extensions),
        })
    }
}

/// The path the router was nested at (axum's [`NestedPath`]), without a trailing slash;
/// empty at the root.
fn mount_of(extensions: &Extensions) -> String {
    extensions
        .get::<NestedPath>()
        .map(|path| path.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

/// The org of a portal address (`/{org}/…`), as it is written in the path.
fn org_of(path: &str) -> Option<String> {
    let mut segments = path.trim_start_matches('/').split('/');
    let org = segments.next()?;
    segments.next()?;
    Some(org.to_owned())
}

/// The `form-action` source for a form that posts to `url`: its origin, or its scheme
/// alone when the origin cannot be written as a source, so that the IdP's form is never
/// blocked; a relative URL needs none.
pub(crate) fn form_target(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once("://")?;
    headers::origin_source(url).or_else(|| {
        scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric())
            .then(|| format!("{}:", scheme.to_ascii_lowercase()))
    })
}

/// Percent-encodes everything but RFC 3986's unreserved characters and `/`.
pub(crate) fn percent_encode(text: &str) -> String {
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
