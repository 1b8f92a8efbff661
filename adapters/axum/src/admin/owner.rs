//! The site operator's way into an org's admin pages before its SSO works: a one-time
//! owner link (`jit-provisioning orgs owner-link`), opened in a browser.
//!
//! Opening the link (`GET /{org}/admin/owner/{token}`) only shows a button: link
//! previews and mail scanners fetch links, and must not use one up. The button posts the
//! token back (same origin and the session's CSRF token, as every admin write); a token
//! that redeems gives the session an [`OwnerGrant`] for that org, under a fresh session
//! id, and sends it to the org's admin pages.

use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, TimeDelta, Utc};
use jit_provisioning::{AccountStore, AdminAction, AdminEvent};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::actions::Problem;
use super::csrf;
use super::page::admin_path;
use super::OrgAdmin;
use crate::headers::CspNonce;
use crate::pages::{escape_html, page, PageKind, RefusalPage};

/// How long an owner link's session may use the org's admin pages: long enough to set
/// up SSO and invite the first admins, short enough that a forgotten tab closes.
pub const OWNER_SESSION_HOURS: i64 = 8;

/// The session key of an owner's grant.
const OWNER_GRANT: &str = "jit.admin.owner";

/// What actions under an owner grant are recorded as done by, in the audit log.
pub const OWNER_ACTOR: &str = "site owner (owner link)";

/// A session's right to use one org's admin pages without an account, from a redeemed
/// owner link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OwnerGrant {
    pub(crate) org: String,
    pub(crate) until: DateTime<Utc>,
}

/// Whether the session holds an owner grant for `org` at `now`.
pub(crate) async fn holds_grant(session: &Session, org: &str, now: DateTime<Utc>) -> bool {
    match session.get::<OwnerGrant>(OWNER_GRANT).await {
        Ok(Some(grant)) => grant.org == org && now < grant.until,
        _ => false,
    }
}

/// `GET /{org}/admin/owner/{token}`: the button that uses the link.
pub(crate) async fn owner_link_page<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path((org, token)): Path<(String, String)>,
) -> Response {
    let csrf = match csrf::token(&session).await {
        Ok(csrf) => csrf,
        Err(problem) => return admin.problem_page(&problem, &org, &nonce),
    };
    let escaped = escape_html(&org);
    let body = format!(
        "<h1>Set up {escaped}</h1><p>This one-time link opens the admin pages of {escaped} for {OWNER_SESSION_HOURS} hours, to set up its SSO and invite its first admins. It works once: keep this tab.</p><form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"{field}\" value=\"{csrf}\"><input type=\"hidden\" name=\"token\" value=\"{token}\"><button type=\"submit\" id=\"open-admin\">Open the admin pages</button></form>",
        action = escape_html(&admin_path(&org, "/owner")),
        field = csrf::CSRF_FIELD,
        csrf = escape_html(&csrf),
        token = escape_html(&token),
    );
    Html(page(&format!("Set up {org}"), nonce.as_str(), &body)).into_response()
}

/// The owner link's form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct OwnerForm {
    csrf_token: Option<String>,
    token: Option<String>,
}

/// `POST /{org}/admin/owner`: uses the link up and opens the org's admin pages.
pub(crate) async fn redeem_owner_link<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    headers: HeaderMap,
    Path(org): Path<String>,
    Form(form): Form<OwnerForm>,
) -> Response {
    let checked = match csrf::check_origin(&headers, admin.origin.as_deref()) {
        Ok(()) => csrf::check_token(&session, form.csrf_token.as_deref()).await,
        Err(problem) => Err(problem),
    };
    if let Err(problem) = checked {
        return admin.problem_page(&problem, &org, &nonce);
    }
    let Some(links) = admin.owner_links.as_ref() else {
        return refused(&admin, &org, &nonce);
    };
    let now = admin.now();
    let token = form.token.unwrap_or_default();
    let opened = match links.redeem(&org, token.trim(), now).await {
        Ok(opened) => opened,
        Err(error) => {
            let problem = Problem::failed("the owner link could not be checked", &error);
            return admin.problem_page(&problem, &org, &nonce);
        }
    };
    if !opened {
        tracing::warn!(
            org,
            "an owner link was refused: unknown, used, expired or another org's"
        );
        return refused(&admin, &org, &nonce);
    }
    let grant = OwnerGrant {
        org: org.clone(),
        until: now + TimeDelta::hours(OWNER_SESSION_HOURS),
    };
    // A new session id for the new right, as at a sign-in.
    let written = async {
        session.cycle_id().await?;
        session.insert(OWNER_GRANT, &grant).await
    };
    if let Err(error) = written.await {
        let problem = Problem::failed("the session could not be written", &error);
        return admin.problem_page(&problem, &org, &nonce);
    }
    let used = AdminEvent::new(
        org.as_str(),
        OWNER_ACTOR,
        now,
        AdminAction::OwnerLinkUsed { until: grant.until },
    );
    if let Err(error) = admin.audit.record(&used).await {
        // The link is used up and the session holds the grant: say so, as for any
        // change the log could not record.
        let problem = Problem::failed(
            "the owner link opened the pages, but the audit log could not record it",
            &error,
        );
        return admin.problem_page(&problem, &org, &nonce);
    }
    tracing::info!(org, "an owner link opened the admin pages");
    Redirect::to(&admin_path(&org, "/members")).into_response()
}

/// The page for a link that does not open: one answer whatever the cause, so that the
/// page says nothing about which tokens exist.
fn refused<S: AccountStore + 'static>(
    admin: &OrgAdmin<S>,
    org: &str,
    nonce: &CspNonce,
) -> Response {
    let message = format!(
        "This owner link does not open the admin pages of {org}: it was used already, has expired, or is not a link of {org}. Ask the site's operator for a new one (jit-provisioning orgs owner-link)."
    );
    let page_data = RefusalPage::new(PageKind::NotAllowed, 403, &message, nonce.as_str());
    (
        axum::http::StatusCode::FORBIDDEN,
        Html(admin.pages.refusal(&page_data)),
    )
        .into_response()
}
