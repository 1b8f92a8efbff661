//! The org admin's pages: an org's members, its open invites and what its admins did,
//! its SSO set-up, and (when the app has them) its SCIM tokens, as HTML pages with plain
//! forms and as a JSON API.
//!
//! Every request is let in by the [`AdminAuthorization`] (by default
//! [`RequireOrgAdmin`]), asked again each time with the account as the store holds it
//! then; every write must also come from this site and carry the session's CSRF token;
//! every change is recorded in the [`AuditLog`].

mod access;
mod actions;
mod csrf;
mod owner;
mod page;
mod scim_tokens;
mod sso;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FormRejection};
use axum::extract::{Form, Path, Query, Request as HttpRequest, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use chrono::{DateTime, Utc};
use jit_provisioning::{
    AccountId, AccountStore, AuditLog, MembershipStore, OwnerLinks, Provisioner, Role, ScimTokens,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

pub use access::{AdminAccess, AdminAuthorization, AdminRefusal, AdminVisitor, RequireOrgAdmin};
pub use csrf::{CSRF_FIELD, CSRF_HEADER};
pub use owner::{OWNER_ACTOR, OWNER_SESSION_HOURS};
pub(crate) use page::render as render_members;
pub use page::{MembersPage, Notice, PendingInvite};

use self::actions::{
    event_json, invite_json, json_reply, member_json, missing_invitee, parse_role, Acting, Desk,
    Done, Problem, Whom,
};
use self::page::admin_path;
use crate::headers::{self, CspNonce, SecurityHeaders};
use crate::pages::{Link, PageKind, Pages, RefusalPage};
use crate::portal::{percent_encode, Clock, SsoPortal};
use crate::session;

/// How many admin events the members page shows.
pub const RECENT_EVENTS: usize = 20;
/// The most events `GET /{org}/admin/api/events` answers with.
pub const MAX_EVENTS: usize = 100;

/// Where the notice of the last change waits for the page that shows it.
const NOTICE: &str = "jit.admin.notice";

/// The org admin's pages of every org, ready to become a [`Router`] that the app merges
/// beside [`SsoPortal::router`], under the same session layer.
///
/// ```
/// use std::sync::Arc;
///
/// use jit_provisioning::{MemoryAuditLog, MemoryReplayGuard, MemoryStore, Provisioner};
/// use jit_provisioning_axum::{OrgAdmin, SsoPortal};
/// # use jit_provisioning::Config;
/// # use jit_provisioning_saml::{test_idp::TestIdp, SamlConfig};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let policy: Config = serde_json::from_value(serde_json::json!({"orgs": {}}))?;
/// # let policy = policy.validate()?;
/// # let saml: SamlConfig = serde_json::from_value(serde_json::json!({"sp": {"base_url": "https://app.example"}, "orgs": {}}))?;
/// # let saml = Arc::new(saml.validate(&policy, None)?);
///
/// // One store for accounts, memberships and invites, shared.
/// let store = Arc::new(MemoryStore::new());
/// let provisioner = Provisioner::new(policy, Arc::clone(&store)).with_invites(store.clone());
/// let portal = SsoPortal::new(Arc::new(provisioner), saml, Arc::new(MemoryReplayGuard::new()))
///     .with_origin("https://app.example");
/// let admin = OrgAdmin::new(&portal, store, Arc::new(MemoryAuditLog::new()));
/// let app: axum::Router = portal.router().merge(admin.router());
/// // .layer(session_layer(…)) around both.
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
pub struct OrgAdmin<S> {
    provisioner: Arc<Provisioner<S>>,
    memberships: Arc<dyn MembershipStore>,
    audit: Arc<dyn AuditLog>,
    /// Where owner links are redeemed, when the app has them.
    owner_links: Option<Arc<dyn OwnerLinks>>,
    /// The orgs' SCIM tokens, when the app serves SCIM: the SCIM page is there only then.
    scim_tokens: Option<Arc<dyn ScimTokens>>,
    /// The URL the org's SCIM endpoints are under, but for `/{org}` (default: the SP's
    /// base URL and `/scim/v2`).
    scim_base_url: Option<String>,
    authorization: Arc<dyn AdminAuthorization>,
    pages: Arc<dyn Pages>,
    clock: Clock,
    origin: Option<String>,
    security: SecurityHeaders,
    /// The SSO set-up page's share of the portal: its SAML settings, its replay guard,
    /// and where its assertion consumer finds these pages for test sign-ins.
    sso: sso::Shared<S>,
}

impl<S> Clone for OrgAdmin<S> {
    fn clone(&self) -> Self {
        Self {
            provisioner: Arc::clone(&self.provisioner),
            memberships: Arc::clone(&self.memberships),
            audit: Arc::clone(&self.audit),
            owner_links: self.owner_links.clone(),
            scim_tokens: self.scim_tokens.clone(),
            scim_base_url: self.scim_base_url.clone(),
            authorization: Arc::clone(&self.authorization),
            pages: Arc::clone(&self.pages),
            clock: Arc::clone(&self.clock),
            origin: self.origin.clone(),
            security: self.security.clone(),
            sso: self.sso.clone(),
        }
    }
}

impl<S> std::fmt::Debug for OrgAdmin<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgAdmin")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Why a request was not let in.
enum Gate {
    /// No one is signed in: to the portal (a page) or a 401 (the API).
    NotSignedIn,
    /// Refused or failed.
    Refused(Problem),
}

impl From<Problem> for Gate {
    fn from(problem: Problem) -> Self {
        Gate::Refused(problem)
    }
}

/// Who was let in.
struct Admitted {
    /// The org's IdP entity id, if it has SSO.
    idp: Option<String>,
    /// The admin's handle, as the store has it now.
    actor: String,
}

impl<S: AccountStore + 'static> OrgAdmin<S> {
    /// The admin pages beside `portal`, whose provisioner (the orgs, their IdPs, the
    /// accounts), pages, clock, origin and security headers they share; changing
    /// memberships and invites in `store` (usually the accounts' store, which the
    /// provisioner accepts invites from), and recording every change in `audit`.
    pub fn new<M>(portal: &SsoPortal<S>, store: Arc<M>, audit: Arc<dyn AuditLog>) -> Self
    where
        M: MembershipStore + 'static,
    {
        Self {
            provisioner: Arc::clone(&portal.provisioner),
            memberships: store,
            audit,
            owner_links: None,
            scim_tokens: None,
            scim_base_url: None,
            authorization: Arc::new(RequireOrgAdmin),
            pages: Arc::clone(&portal.pages),
            clock: Arc::clone(&portal.clock),
            origin: portal.origin.clone(),
            security: portal.security.clone(),
            sso: sso::Shared::of(portal),
        }
    }

    /// Opens the pages to whoever redeems an owner link of the org (made by
    /// `jit-provisioning orgs owner-link`, kept in `links`): for
    /// [`OWNER_SESSION_HOURS`], without an account, before the org's SSO works. Their
    /// actions are audited as done by [`OWNER_ACTOR`]. Off by default.
    pub fn with_owner_links(mut self, links: Arc<dyn OwnerLinks>) -> Self {
        self.owner_links = Some(links);
        self
    }

    /// Adds the SCIM page (`/{org}/admin/scim`) and its API: the org's SCIM base URL,
    /// its tokens, and the forms that create and revoke them, kept in `tokens` (the
    /// store the app's [`ScimEndpoint`](crate::ScimEndpoint) authenticates with). Off
    /// by default: without it, the page is a 404 and the navigation does not name it.
    pub fn with_scim_tokens(mut self, tokens: Arc<dyn ScimTokens>) -> Self {
        self.scim_tokens = Some(tokens);
        self
    }

    /// The URL an org's SCIM endpoints are under, before `/{org}`: the base URL given to
    /// `ScimService::new` (`https://app.example/scim/v2`). The SCIM page shows it
    /// followed by `/{org}`, for the IdP's SCIM connection. Default: the SP's base URL
    /// (`sp.base_url`, where the SSO page's ACS URLs are) followed by `/scim/v2`.
    pub fn with_scim_base_url(mut self, url: impl Into<String>) -> Self {
        self.scim_base_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Who may use the pages (default [`RequireOrgAdmin`]).
    pub fn with_authorization(mut self, authorization: Arc<dyn AdminAuthorization>) -> Self {
        self.authorization = authorization;
        self
    }

    /// This site's origin (`https://app.example`), which every write must come from
    /// (default: the portal's, [`SsoPortal::with_origin`]; without one, a write's
    /// `Origin` must name the `Host` it was sent to).
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into().trim_end_matches('/').to_owned());
        self
    }

    /// The page templates (default: the portal's).
    pub fn with_pages(mut self, pages: Arc<dyn Pages>) -> Self {
        self.pages = pages;
        self
    }

    /// The clock (default: the portal's).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The security headers (default: the portal's).
    pub fn with_security_headers(mut self, headers: SecurityHeaders) -> Self {
        self.security = headers;
        self
    }

    /// The routes, for the app to merge beside the portal's (the session layer goes
    /// around both):
    ///
    /// | route | what |
    /// | --- | --- |
    /// | `GET /{org}/admin/members` | the members page: members, open invites, recent changes, and the forms |
    /// | `POST /{org}/admin/members/role` | form: change a member's role |
    /// | `POST /{org}/admin/members/remove` | form: remove a member |
    /// | `POST /{org}/admin/invites` | form: invite an account by handle, or a person by email |
    /// | `POST /{org}/admin/invites/revoke` | form: revoke an invite |
    /// | `GET /{org}/admin/api/members` | `{"members": […]}` |
    /// | `PUT /{org}/admin/api/members/{account}` | `{"role": …}`: the member |
    /// | `DELETE /{org}/admin/api/members/{account}` | 204 |
    /// | `GET /{org}/admin/api/invites` | `{"invites": […]}` |
    /// | `POST /{org}/admin/api/invites` | `{"handle" or "email": …, "role": …, "subject"?: …}`: 201, the invite |
    /// | `DELETE /{org}/admin/api/invites/{id}` | 204 |
    /// | `GET /{org}/admin/api/events` | `{"events": […]}`, newest first (`?limit=`, at most 100) |
    /// | `GET /{org}/admin/owner/{token}` | an owner link: a button that uses it ([`OrgAdmin::with_owner_links`]) |
    /// | `POST /{org}/admin/owner` | form: uses the owner link up, opens the pages |
    /// | `GET /{org}/admin/sso` | the SSO set-up page: what to enter in the IdP, the IdP's trust in use and pending, the settings, and the forms |
    /// | `GET /{org}/admin/sso/sp-metadata.xml` | the SP metadata, as a download |
    /// | `POST /{org}/admin/sso/settings` | form: save the SSO settings |
    /// | `POST /{org}/admin/sso/metadata` | form: stage new IdP metadata (pasted, a file read as text, or a URL) as pending |
    /// | `POST /{org}/admin/sso/test` | form: a test sign-in, with the pending trust (or the one in use): off to the IdP |
    /// | `GET /{org}/admin/sso/test` | the last test sign-in's result: every check, the attributes, what they map to |
    /// | `POST /{org}/admin/sso/activate` | form: make the pending trust, tested, the one in use |
    /// | `GET`, `PUT /{org}/admin/api/sso` | the same as JSON; `PUT` saves settings (`{"version": …, …}`) |
    /// | `POST /{org}/admin/api/sso/metadata` | `{"version": …, "xml" or "url": …}`: stage |
    /// | `POST /{org}/admin/api/sso/test` | a test sign-in: `{"redirect": …}`, where to send the browser |
    /// | `GET /{org}/admin/api/sso/test` | the last test sign-in's result |
    /// | `POST /{org}/admin/api/sso/activate` | `{"fingerprint": …}`: activate |
    ///
    /// With [`OrgAdmin::with_scim_tokens`] (else these are 404s):
    ///
    /// | route | what |
    /// | --- | --- |
    /// | `GET /{org}/admin/scim` | the SCIM page: the org's SCIM base URL, its tokens (label, hint, made, last used; never a secret), and the forms |
    /// | `POST /{org}/admin/scim/tokens` | form: make a token (`label`): the page that shows its secret, once |
    /// | `POST /{org}/admin/scim/tokens/revoke` | form: revoke a token (`token`: its id) |
    /// | `GET /{org}/admin/api/scim/tokens` | `{"base_url": …, "tokens": […]}` |
    /// | `POST /{org}/admin/api/scim/tokens` | `{"label"?: …}`: 201, the token with its secret (`"token"`), shown once |
    /// | `DELETE /{org}/admin/api/scim/tokens/{id}` | 204 |
    ///
    /// A form's answer is a 303 back to its page, which then shows a notice of what was
    /// done or why nothing was (but a new SCIM token's, which is the page of its
    /// secret). The API's errors are `{"error": code, "message": …}`.
    pub fn router(self) -> Router {
        self.answer_test_sign_ins();
        Router::new()
            .route("/{org}/admin/members", get(members_page::<S>))
            .route("/{org}/admin/members/role", post(form_set_role::<S>))
            .route("/{org}/admin/members/remove", post(form_remove::<S>))
            .route("/{org}/admin/invites", post(form_invite::<S>))
            .route("/{org}/admin/invites/revoke", post(form_revoke::<S>))
            .route("/{org}/admin/api/members", get(api_members::<S>))
            .route(
                "/{org}/admin/api/members/{account}",
                put(api_set_role::<S>).delete(api_remove::<S>),
            )
            .route(
                "/{org}/admin/api/invites",
                get(api_invites::<S>).post(api_invite::<S>),
            )
            .route("/{org}/admin/api/invites/{id}", delete(api_revoke::<S>))
            .route("/{org}/admin/api/events", get(api_events::<S>))
            .route(
                "/{org}/admin/owner/{token}",
                get(owner::owner_link_page::<S>),
            )
            .route("/{org}/admin/owner", post(owner::redeem_owner_link::<S>))
            .merge(sso::routes::<S>())
            .merge(if self.scim_tokens.is_some() {
                scim_tokens::routes::<S>()
            } else {
                Router::new()
            })
            .route_layer(middleware::from_fn_with_state(
                self.clone(),
                headers_and_errors::<S>,
            ))
            .with_state(self)
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    fn desk(&self) -> Desk<'_> {
        Desk {
            accounts: self.provisioner.store(),
            memberships: self.memberships.as_ref(),
            audit: self.audit.as_ref(),
        }
    }

    /// Lets the request in or says why not. A write (`csrf` given: the request's
    /// headers and the token it carries) must also pass both CSRF checks.
    async fn admit(
        &self,
        session: &Session,
        org: &str,
        csrf: Option<(&HeaderMap, Option<&str>)>,
    ) -> Result<Admitted, Gate> {
        let policy = self
            .provisioner
            .policy_for(org)
            .await
            .map_err(|error| Problem::failed("the org could not be read", &error))?;
        let idp = policy
            .org(org)
            .map(|org| org.portal().map(|portal| portal.idp().to_owned()))
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::NOT_FOUND,
                    "no_such_org",
                    format!("there is no organization `{org}` here: check the address"),
                )
            })?;
        if self.owner_links.is_some() && owner::holds_grant(session, org, self.now()).await {
            if let Some((headers, token)) = csrf {
                csrf::check_origin(headers, self.origin.as_deref())?;
                csrf::check_token(session, token).await?;
            }
            return Ok(Admitted {
                idp,
                actor: OWNER_ACTOR.to_owned(),
            });
        }
        let signed_in = session::signed_in(session).await.ok_or(Gate::NotSignedIn)?;
        if let Some((headers, token)) = csrf {
            let checked = match csrf::check_origin(headers, self.origin.as_deref()) {
                Ok(()) => csrf::check_token(session, token).await,
                Err(problem) => Err(problem),
            };
            if let Err(problem) = checked {
                tracing::warn!(org, account = %signed_in.account, code = problem.code, "an admin write refused: {}", problem.message);
                return Err(problem.into());
            }
        }
        let account = self
            .provisioner
            .store()
            .account_by_id(&signed_in.account)
            .await
            .map_err(|error| Problem::failed("the signed-in account could not be read", &error))?;
        let visitor = AdminVisitor::new(org, &signed_in, account.as_ref());
        match self.authorization.authorize(&visitor).await {
            Ok(AdminAccess::Allowed) => {}
            Ok(AdminAccess::Refused(refusal)) => {
                tracing::info!(org, account = %signed_in.account, code = refusal.code(), "admin pages refused");
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    refusal.code(),
                    refusal.message(org),
                )
                .into());
            }
            Err(error) => {
                return Err(Problem::failed("the admin authorization failed", &error).into())
            }
        }
        let actor = account.map_or(signed_in.handle, |account| account.handle);
        Ok(Admitted { idp, actor })
    }

    /// A page that ends here: refused, or failed.
    fn problem_page(&self, problem: &Problem, org: &str, nonce: &CspNonce) -> Response {
        let members = admin_path(org, "/members");
        let sign_in = sign_in_path(org);
        let sign_in_label = format!("Sign in through the SSO of {org}");
        let (kind, next) = match (problem.status, problem.code) {
            (StatusCode::FORBIDDEN, "signed_in_elsewhere") => (
                PageKind::NotAllowed,
                Some(Link::new(&sign_in, &sign_in_label)),
            ),
            (StatusCode::FORBIDDEN, "csrf_origin" | "csrf_token") => (
                PageKind::FormRefused,
                Some(Link::new(&members, "Back to the members page")),
            ),
            (StatusCode::FORBIDDEN, _) => (
                PageKind::NotAllowed,
                Some(Link::new("/", "Go to the home page")),
            ),
            (StatusCode::NOT_FOUND, _) => (
                PageKind::NoSuchOrg,
                Some(Link::new("/", "Go to the home page")),
            ),
            (status, _) if status.is_server_error() => (
                PageKind::Failed,
                Some(Link::new(&members, "Back to the members page")),
            ),
            _ => (
                PageKind::BadRequest,
                Some(Link::new(&members, "Back to the members page")),
            ),
        };
        let message = sentence(&problem.message);
        let mut page = RefusalPage::new(kind, problem.status.as_u16(), &message, nonce.as_str());
        if let Some(next) = next {
            page = page.with_next(next);
        }
        (problem.status, Html(self.pages.refusal(&page))).into_response()
    }

    /// A page's request let in, or the page that answers it instead.
    async fn page_gate(
        &self,
        session: &Session,
        org: &str,
        csrf: Option<(&HeaderMap, Option<&str>)>,
        nonce: &CspNonce,
    ) -> Result<Admitted, Response> {
        match self.admit(session, org, csrf).await {
            Ok(admitted) => Ok(admitted),
            Err(Gate::NotSignedIn) => Err(Redirect::to(&sign_in_path(org)).into_response()),
            Err(Gate::Refused(problem)) => Err(self.problem_page(&problem, org, nonce)),
        }
    }

    /// An API request let in, or the JSON error that answers it instead.
    async fn api_gate(
        &self,
        session: &Session,
        org: &str,
        write: Option<&HeaderMap>,
    ) -> Result<Admitted, Response> {
        let csrf = write.map(|headers| {
            let token = headers
                .get(CSRF_HEADER)
                .and_then(|value| value.to_str().ok());
            (headers, token)
        });
        match self.admit(session, org, csrf).await {
            Ok(admitted) => Ok(admitted),
            Err(Gate::NotSignedIn) => Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "not_signed_in",
                format!(
                    "no one is signed in: sign in through the sign-in page of {org}, /{}/login",
                    percent_encode(org)
                ),
            )
            .json()),
            Err(Gate::Refused(problem)) => Err(problem.json()),
        }
    }

    fn acting<'a>(&self, org: &'a str, admitted: &'a Admitted) -> Acting<'a> {
        Acting {
            org,
            idp: admitted.idp.as_deref(),
            actor: &admitted.actor,
            now: self.now(),
        }
    }

    /// A form's answer: back to the members page, with the notice of what happened.
    async fn after_form(
        &self,
        session: &Session,
        org: &str,
        result: Result<Done, Problem>,
        nonce: &CspNonce,
    ) -> Response {
        self.back_to(Back::MEMBERS, session, org, result, nonce)
            .await
    }

    /// A form's answer: back to the page `back`, with the notice of what happened.
    async fn back_to(
        &self,
        back: Back,
        session: &Session,
        org: &str,
        result: Result<Done, Problem>,
        nonce: &CspNonce,
    ) -> Response {
        let notice = match result {
            Ok(done) => Notice::Done(done.notice),
            Err(problem) if problem.is_failure() => return self.problem_page(&problem, org, nonce),
            Err(problem) => Notice::Refused(problem.message),
        };
        if let Err(error) = session.insert(back.notice, (org, &notice)).await {
            let problem = Problem::failed("the session could not be written", &error);
            return self.problem_page(&problem, org, nonce);
        }
        Redirect::to(&admin_path(org, back.path)).into_response()
    }

    /// An API write's answer.
    fn api_answer(result: Result<Done, Problem>) -> Response {
        match result {
            Ok(Done {
                status,
                body: Some(body),
                ..
            }) => json_reply(status, &body),
            Ok(Done { status, .. }) => status.into_response(),
            Err(problem) => problem.json(),
        }
    }
}

/// A page that a form goes back to, and where its notice waits in the session.
#[derive(Debug, Clone, Copy)]
struct Back {
    path: &'static str,
    notice: &'static str,
}

impl Back {
    const MEMBERS: Back = Back {
        path: "/members",
        notice: NOTICE,
    };
}

/// The notice of the last change to `org`, taken out of the session.
async fn take_notice(session: &Session, org: &str) -> Option<Notice> {
    take_notice_from(session, NOTICE, org).await
}

/// The notice of the last change to `org` that waits under `key`, taken out of the
/// session.
async fn take_notice_from(session: &Session, key: &str, org: &str) -> Option<Notice> {
    let (for_org, notice) = session
        .remove::<(String, Notice)>(key)
        .await
        .ok()
        .flatten()?;
    (for_org == org).then_some(notice)
}

/// The org's portal, coming back to the members page.
fn sign_in_path(org: &str) -> String {
    format!(
        "/{}/login?return_to={}",
        percent_encode(org),
        percent_encode(&admin_path(org, "/members"))
    )
}

/// `text` as a sentence: its first letter capitalised, and a final period.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

async fn members_page<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path(org): Path<String>,
) -> Response {
    let admitted = match admin.page_gate(&session, &org, None, &nonce).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let desk = admin.desk();
    let lists = async {
        let token = csrf::token(&session).await?;
        let members = desk.members(&org).await?;
        let invites = desk.invites(&org, admin.now()).await?;
        let events = admin
            .audit
            .recent(&org, RECENT_EVENTS)
            .await
            .map_err(|error| Problem::failed("the audit log could not be read", &error))?;
        Ok::<_, Problem>((token, members, invites, events))
    };
    let (token, members, invites, events) = match lists.await {
        Ok(lists) => lists,
        Err(problem) => return admin.problem_page(&problem, &org, &nonce),
    };
    let notice = take_notice(&session, &org).await;
    let page = MembersPage::new(&org, &admitted.actor, &token, nonce.as_str())
        .with_idp(admitted.idp.as_deref().unwrap_or_default())
        .with_lists(&members, &invites, &events)
        .with_notice(notice.as_ref())
        .with_scim(admin.scim_tokens.is_some());
    Html(admin.pages.members(&page)).into_response()
}

/// Every form's fields, all optional: a missing one is this crate's to refuse, in its
/// own words.
#[derive(Debug, Default, Deserialize)]
struct AdminForm {
    csrf_token: Option<String>,
    account: Option<String>,
    role: Option<String>,
    invitee: Option<String>,
    subject: Option<String>,
    invite: Option<String>,
}

/// The form, or the refusal of one that could not be read.
fn read_form(form: Result<Form<AdminForm>, FormRejection>) -> Result<AdminForm, Problem> {
    form.map(|Form(form)| form).map_err(|rejection| {
        Problem::new(
            rejection.status(),
            "unreadable_form",
            "this form could not be read, so nothing changed: go back to the members page and try again",
        )
    })
}

/// The form's account, or the refusal of a form without one.
fn form_account(form: &AdminForm) -> Result<AccountId, Problem> {
    form.account
        .as_deref()
        .map(str::trim)
        .filter(|account| !account.is_empty())
        .map(AccountId::from)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_account",
                "the form names no member; nothing changed",
            )
        })
}

/// The steps every form takes: read, let in (with both CSRF checks), act, go back.
macro_rules! form_route {
    ($name:ident, |$desk:ident, $acting:ident, $form:ident| $action:expr) => {
        async fn $name<S: AccountStore + 'static>(
            State(admin): State<OrgAdmin<S>>,
            session: Session,
            nonce: CspNonce,
            Path(org): Path<String>,
            headers: HeaderMap,
            form: Result<Form<AdminForm>, FormRejection>,
        ) -> Response {
            let $form = match read_form(form) {
                Ok(form) => form,
                Err(problem) => return admin.problem_page(&problem, &org, &nonce),
            };
            let csrf = Some((&headers, $form.csrf_token.as_deref()));
            let admitted = match admin.page_gate(&session, &org, csrf, &nonce).await {
                Ok(admitted) => admitted,
                Err(response) => return response,
            };
            let $desk = admin.desk();
            let $acting = admin.acting(&org, &admitted);
            let result: Result<Done, Problem> = $action;
            admin.after_form(&session, &org, result, &nonce).await
        }
    };
}

form_route!(form_set_role, |desk, acting, form| {
    match (form_account(&form), parse_role(form.role.as_deref())) {
        (Ok(account), Ok(role)) => desk.set_role(acting, &account, role).await,
        (Err(problem), _) | (_, Err(problem)) => Err(problem),
    }
});

form_route!(form_remove, |desk, acting, form| {
    match form_account(&form) {
        Ok(account) => desk.remove(acting, &account).await,
        Err(problem) => Err(problem),
    }
});

form_route!(form_invite, |desk, acting, form| {
    let whom = Whom::parse(form.invitee.as_deref().unwrap_or_default());
    match (whom, parse_role(form.role.as_deref())) {
        (Ok(whom), Ok(role)) => {
            desk.invite(acting, whom, role, form.subject.as_deref())
                .await
        }
        (Err(problem), _) | (_, Err(problem)) => Err(problem),
    }
});

form_route!(form_revoke, |desk, acting, form| {
    match form
        .invite
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
    {
        Some(id) => desk.revoke(acting, id).await,
        None => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_invite",
            "the form names no invite; nothing was revoked",
        )),
    }
});

/// A JSON body, or the API's error: 415 for another media type, 400 for JSON that does
/// not parse, 422 for JSON that is not what the route takes.
fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, Problem> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON, with `Content-Type: application/json`; nothing changed",
        ));
    }
    let body = body.map_err(|rejection| {
        Problem::new(
            rejection.status(),
            "unreadable_body",
            format!("{}; nothing changed", rejection.body_text()),
        )
    })?;
    serde_json::from_slice(&body).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("{error}; nothing changed"),
        ),
        _ => Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not JSON: {error}; nothing changed"),
        ),
    })
}

/// A read's reply, with the session's CSRF token for the writes to come.
async fn with_token(session: &Session, status: StatusCode, body: serde_json::Value) -> Response {
    let token = match csrf::token(session).await {
        Ok(token) => token,
        Err(problem) => return problem.json(),
    };
    let mut response = json_reply(status, &body);
    if let Ok(value) = HeaderValue::from_str(&token) {
        response.headers_mut().insert(CSRF_HEADER, value);
    }
    response
}

async fn api_members<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path(org): Path<String>,
) -> Response {
    if let Err(response) = admin.api_gate(&session, &org, None).await {
        return response;
    }
    match admin.desk().members(&org).await {
        Ok(members) => {
            let members: Vec<_> = members.iter().map(member_json).collect();
            with_token(&session, StatusCode::OK, json!({ "members": members })).await
        }
        Err(problem) => problem.json(),
    }
}

/// `PUT members/{account}`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: Role,
}

async fn api_set_role<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path((org, account)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let admitted = match admin.api_gate(&session, &org, Some(&headers)).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let result = match json_body::<RoleBody>(&headers, body) {
        Ok(body) => {
            admin
                .desk()
                .set_role(
                    admin.acting(&org, &admitted),
                    &AccountId(account),
                    body.role,
                )
                .await
        }
        Err(problem) => Err(problem),
    };
    OrgAdmin::<S>::api_answer(result)
}

async fn api_remove<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path((org, account)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let admitted = match admin.api_gate(&session, &org, Some(&headers)).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let result = admin
        .desk()
        .remove(admin.acting(&org, &admitted), &AccountId(account))
        .await;
    OrgAdmin::<S>::api_answer(result)
}

async fn api_invites<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path(org): Path<String>,
) -> Response {
    if let Err(response) = admin.api_gate(&session, &org, None).await {
        return response;
    }
    match admin.desk().invites(&org, admin.now()).await {
        Ok(invites) => {
            let invites: Vec<_> = invites.iter().map(invite_json).collect();
            with_token(&session, StatusCode::OK, json!({ "invites": invites })).await
        }
        Err(problem) => problem.json(),
    }
}

/// `POST invites`' body: a `handle` or an `email`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    handle: Option<String>,
    email: Option<String>,
    role: Role,
    subject: Option<String>,
}

async fn api_invite<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let admitted = match admin.api_gate(&session, &org, Some(&headers)).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let body = json_body::<InviteBody>(&headers, body).and_then(|body| {
        let whom = match (body.handle, body.email) {
            (Some(handle), None) if !handle.trim().is_empty() => {
                Whom::Handle(handle.trim().to_owned())
            }
            (None, Some(email)) if !email.trim().is_empty() => Whom::Email(email),
            (Some(_), Some(_)) => {
                return Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_invitee",
                    "give a `handle` or an `email`, not both; nothing was invited",
                ))
            }
            _ => return Err(missing_invitee()),
        };
        Ok((whom, body.role, body.subject))
    });
    let result = match body {
        Ok((whom, role, subject)) => {
            admin
                .desk()
                .invite(
                    admin.acting(&org, &admitted),
                    whom,
                    role,
                    subject.as_deref(),
                )
                .await
        }
        Err(problem) => Err(problem),
    };
    OrgAdmin::<S>::api_answer(result)
}

async fn api_revoke<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let admitted = match admin.api_gate(&session, &org, Some(&headers)).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let result = admin
        .desk()
        .revoke(admin.acting(&org, &admitted), &id)
        .await;
    OrgAdmin::<S>::api_answer(result)
}

/// `GET events`' query.
#[derive(Debug, Deserialize)]
struct EventsQuery {
    limit: Option<usize>,
}

async fn api_events<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path(org): Path<String>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(response) = admin.api_gate(&session, &org, None).await {
        return response;
    }
    let limit = match query {
        Ok(Query(query)) => query.limit.unwrap_or(RECENT_EVENTS).min(MAX_EVENTS),
        Err(rejection) => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!("{}; `limit` is a number", rejection.body_text()),
            )
            .json()
        }
    };
    match admin.audit.recent(&org, limit).await {
        Ok(events) => {
            let events: Vec<_> = events.iter().map(event_json).collect();
            with_token(&session, StatusCode::OK, json!({ "events": events })).await
        }
        Err(error) => Problem::failed("the audit log could not be read", &error).json(),
    }
}

/// Around every admin route: the nonce and the security headers, and an answer in the
/// route's own kind (a page, or JSON under `/api/`) for an error that axum answers in
/// plain text (a method the route does not answer, a path that does not decode).
async fn headers_and_errors<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    request: HttpRequest,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let (request, nonce) = headers::with_nonce(request);
    let mut response = next.run(request).await;
    let status = response.status();
    let typed = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.starts_with("text/html") || value.starts_with("application/json")
        });
    if (status.is_client_error() || status.is_server_error()) && !typed {
        let (code, message) = match status {
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "this address does not answer this method",
            ),
            status if status.is_server_error() => ("failed", jit_provisioning::web::FAILED),
            _ => ("bad_request", "this request could not be read"),
        };
        let problem = Problem::new(status, code, message);
        let allow = response.headers().get(header::ALLOW).cloned();
        let org = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        response = if path.contains("/admin/api/") {
            problem.json()
        } else {
            admin.problem_page(&problem, &org, &nonce)
        };
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    headers::finish(&admin.security, &nonce, &mut response);
    response
}
