//! An org's SCIM page (`/{org}/admin/scim`) and its JSON API: the URL the org's IdP
//! provisions people at, the bearer tokens that open it, and the forms that make and
//! revoke them. There only when the app gives the admin pages its
//! [`ScimTokens`](jit_provisioning::ScimTokens) ([`OrgAdmin::with_scim_tokens`]).
//!
//! A new token's secret is in one answer only, the one to the request that made it (the
//! page after the form, or the API's 201), under `Cache-Control: no-store`; it is never
//! written to the session, the audit log or a log line, and the store keeps only what
//! recognises it. Lists show the label, the hint (the token's last 4 hex digits), and
//! when it was made and last used. Every token is looked up within the org of the path,
//! so that another org's token id is answered as an unknown one.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FormRejection};
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use jit_provisioning::{
    AccountStore, AdminAction, IssuedScimToken, ScimTokenInfo, ScimTokens, SCIM_TOKEN_PREFIX,
};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_sessions::Session;

use super::actions::{json_reply, Acting, Done, Problem};
use super::page::{admin_path, layout, nav, notice_html, Section};
use super::{csrf, json_body, take_notice_from, with_token, Back, Notice, OrgAdmin, CSRF_FIELD};
use crate::headers::CspNonce;
use crate::pages::escape_html;
use crate::portal::percent_encode;

/// The longest label, in characters: one short line, as `jit-provisioning scim token
/// create --label` takes.
const MAX_LABEL_CHARS: usize = 100;

/// Where the SCIM page's forms go back to, and where their notice waits.
const BACK: Back = Back {
    path: "/scim",
    notice: "jit.admin.scim_notice",
};

/// The routes of the SCIM page, merged only when the app has SCIM tokens.
pub(super) fn routes<S: AccountStore + 'static>() -> Router<OrgAdmin<S>> {
    Router::new()
        .route("/{org}/admin/scim", get(scim_page::<S>))
        .route("/{org}/admin/scim/tokens", post(form_create::<S>))
        .route("/{org}/admin/scim/tokens/revoke", post(form_revoke::<S>))
        .route(
            "/{org}/admin/api/scim/tokens",
            get(api_tokens::<S>).post(api_create::<S>),
        )
        .route("/{org}/admin/api/scim/tokens/{id}", delete(api_revoke::<S>))
}

impl<S: AccountStore + 'static> OrgAdmin<S> {
    /// The SCIM tokens, or the 404 of a site without them (whose routes are not there
    /// either).
    fn scim_store(&self) -> Result<&Arc<dyn ScimTokens>, Problem> {
        self.scim_tokens.as_ref().ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "no_scim",
                "this site does not serve SCIM",
            )
        })
    }

    /// The URL of `org`'s SCIM endpoints, for its IdP: the configured base, or the SP's
    /// base URL (read back from the SP metadata URL it makes for the org) and
    /// `/scim/v2`; then `/{org}`.
    fn scim_url(&self, org: &str) -> String {
        let base = self.scim_base_url.clone().unwrap_or_else(|| {
            let metadata_url = self.sso.saml.sp_values(org, None).metadata_url;
            let site = metadata_url
                .strip_suffix(&format!("/{org}/saml/metadata"))
                .unwrap_or_default();
            format!("{site}/scim/v2")
        });
        format!("{base}/{}", percent_encode(org))
    }

    /// The org's tokens, oldest first.
    async fn scim_list(&self, org: &str) -> Result<Vec<ScimTokenInfo>, Problem> {
        self.scim_store()?
            .list(org)
            .await
            .map_err(|error| Problem::failed("the SCIM tokens could not be listed", &error))
    }

    /// Makes a token of the org, called `label`, and records it; an unrecorded token is
    /// revoked again, so that none opens anything without its trace in the audit log.
    async fn scim_create(
        &self,
        acting: Acting<'_>,
        label: &str,
    ) -> Result<IssuedScimToken, Problem> {
        let store = self.scim_store()?;
        let issued = store
            .create(acting.org, label, acting.now)
            .await
            .map_err(|error| Problem::failed("the SCIM token could not be stored", &error))?;
        let action = AdminAction::ScimTokenCreated {
            token: issued.info.id.clone(),
            label: issued.info.label.clone(),
        };
        if self.desk().record(acting, action).await.is_err() {
            let message = match store.revoke(acting.org, &issued.info.id).await {
                Ok(_) => "the token could not be recorded in the audit log, so it was revoked again and opens nothing: tell the site's admin",
                Err(error) => {
                    tracing::error!(org = acting.org, token_id = issued.info.id, error = %error, "an unrecorded SCIM token could not be revoked again");
                    "the token was made, but it could not be recorded in the audit log, nor revoked again: tell the site's admin"
                }
            };
            return Err(Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "audit_failed",
                message,
            ));
        }
        Ok(issued)
    }

    /// Revokes the org's token `id`; another org's is answered as an unknown one.
    async fn scim_revoke(&self, acting: Acting<'_>, id: &str) -> Result<Done, Problem> {
        let id = id.trim();
        let no_such = || {
            Problem::new(
                StatusCode::NOT_FOUND,
                "no_such_token",
                format!(
                    "{} has no SCIM token `{id}`; nothing was revoked",
                    acting.org
                ),
            )
        };
        let info = self
            .scim_list(acting.org)
            .await?
            .into_iter()
            .find(|info| info.id == id)
            .ok_or_else(no_such)?;
        let revoked = self
            .scim_store()?
            .revoke(acting.org, id)
            .await
            .map_err(|error| Problem::failed("the SCIM token could not be revoked", &error))?;
        if !revoked {
            return Err(no_such());
        }
        self.desk()
            .record(
                acting,
                AdminAction::ScimTokenRevoked {
                    token: info.id.clone(),
                    label: info.label.clone(),
                },
            )
            .await?;
        Ok(Done {
            notice: format!(
                "revoked SCIM token {}: it opens the SCIM endpoints of {} no more",
                described(&info),
                acting.org
            ),
            status: StatusCode::NO_CONTENT,
            body: None,
        })
    }
}

/// A token in a few words: its id, and its label if it has one.
fn described(info: &ScimTokenInfo) -> String {
    if info.label.is_empty() {
        info.id.clone()
    } else {
        format!("{} ({})", info.id, info.label)
    }
}

/// A label as an admin wrote it, trimmed: one line of at most [`MAX_LABEL_CHARS`].
fn parse_label(label: Option<&str>) -> Result<String, Problem> {
    let label = label.map(str::trim).unwrap_or_default();
    if label.chars().any(char::is_control) || label.chars().count() > MAX_LABEL_CHARS {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_label",
            format!("a token's label is one line of at most {MAX_LABEL_CHARS} characters; no token was made"),
        ));
    }
    Ok(label.to_owned())
}

/// A token as the API shows it: never its secret, nor what the store recognises it by.
fn token_json(info: &ScimTokenInfo) -> Value {
    json!({
        "id": info.id,
        "label": info.label,
        "hint": info.hint,
        "created_at": info.created_at,
        "last_used_at": info.last_used_at,
    })
}

/// `response`, which carries a secret, kept out of every cache whatever the app's
/// security headers say.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn scim_page<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path(org): Path<String>,
) -> Response {
    let admitted = match admin.page_gate(&session, &org, None, &nonce).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let drawn = async {
        let token = csrf::token(&session).await?;
        let tokens = admin.scim_list(&org).await?;
        Ok::<_, Problem>((token, tokens))
    };
    let (csrf_token, tokens) = match drawn.await {
        Ok(drawn) => drawn,
        Err(problem) => return admin.problem_page(&problem, &org, &nonce),
    };
    let notice = take_notice_from(&session, BACK.notice, &org).await;
    let page = ScimPage {
        org: &org,
        admin: &admitted.actor,
        csrf_token: &csrf_token,
        nonce: nonce.as_str(),
        base_url: &admin.scim_url(&org),
    };
    Html(render(&page, &tokens, notice.as_ref())).into_response()
}

/// The SCIM page's forms' fields, all optional: a missing one is this crate's to refuse.
#[derive(Debug, Default, Deserialize)]
struct ScimForm {
    csrf_token: Option<String>,
    label: Option<String>,
    token: Option<String>,
}

/// The form, or the refusal of one that could not be read.
fn read_form(form: Result<Form<ScimForm>, FormRejection>) -> Result<ScimForm, Problem> {
    form.map(|Form(form)| form).map_err(|rejection| {
        Problem::new(
            rejection.status(),
            "unreadable_form",
            "this form could not be read, so nothing changed: go back to the SCIM page and try again",
        )
    })
}

async fn form_create<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path(org): Path<String>,
    headers: HeaderMap,
    form: Result<Form<ScimForm>, FormRejection>,
) -> Response {
    let form = match read_form(form) {
        Ok(form) => form,
        Err(problem) => return admin.problem_page(&problem, &org, &nonce),
    };
    let csrf = Some((&headers, form.csrf_token.as_deref()));
    let admitted = match admin.page_gate(&session, &org, csrf, &nonce).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let acting = admin.acting(&org, &admitted);
    let made = match parse_label(form.label.as_deref()) {
        Ok(label) => admin.scim_create(acting, &label).await,
        Err(problem) => Err(problem),
    };
    let issued = match made {
        Ok(issued) => issued,
        Err(problem) => {
            return admin
                .back_to(BACK, &session, &org, Err(problem), &nonce)
                .await
        }
    };
    let csrf_token = match csrf::token(&session).await {
        Ok(token) => token,
        Err(problem) => return admin.problem_page(&problem, &org, &nonce),
    };
    let page = ScimPage {
        org: &org,
        admin: &admitted.actor,
        csrf_token: &csrf_token,
        nonce: nonce.as_str(),
        base_url: &admin.scim_url(&org),
    };
    no_store(Html(render_issued(&page, &issued)).into_response())
}

async fn form_revoke<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path(org): Path<String>,
    headers: HeaderMap,
    form: Result<Form<ScimForm>, FormRejection>,
) -> Response {
    let form = match read_form(form) {
        Ok(form) => form,
        Err(problem) => return admin.problem_page(&problem, &org, &nonce),
    };
    let csrf = Some((&headers, form.csrf_token.as_deref()));
    let admitted = match admin.page_gate(&session, &org, csrf, &nonce).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let acting = admin.acting(&org, &admitted);
    let result = match form.token.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => admin.scim_revoke(acting, id).await,
        _ => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_token",
            "the form names no SCIM token; nothing was revoked",
        )),
    };
    admin.back_to(BACK, &session, &org, result, &nonce).await
}

async fn api_tokens<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path(org): Path<String>,
) -> Response {
    if let Err(response) = admin.api_gate(&session, &org, None).await {
        return response;
    }
    match admin.scim_list(&org).await {
        Ok(tokens) => {
            let tokens: Vec<_> = tokens.iter().map(token_json).collect();
            let body = json!({ "base_url": admin.scim_url(&org), "tokens": tokens });
            with_token(&session, StatusCode::OK, body).await
        }
        Err(problem) => problem.json(),
    }
}

/// `POST scim/tokens`' body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    label: Option<String>,
}

async fn api_create<S: AccountStore + 'static>(
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
    let label =
        json_body::<CreateBody>(&headers, body).and_then(|body| parse_label(body.label.as_deref()));
    let made = match label {
        Ok(label) => {
            admin
                .scim_create(admin.acting(&org, &admitted), &label)
                .await
        }
        Err(problem) => Err(problem),
    };
    match made {
        Ok(issued) => {
            let mut body = token_json(&issued.info);
            if let Value::Object(fields) = &mut body {
                fields.insert("token".into(), Value::String(issued.token));
                fields.insert("base_url".into(), Value::String(admin.scim_url(&org)));
            }
            no_store(json_reply(StatusCode::CREATED, &body))
        }
        Err(problem) => problem.json(),
    }
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
    let result = admin.scim_revoke(admin.acting(&org, &admitted), &id).await;
    OrgAdmin::<S>::api_answer(result)
}

/// What every drawing of the SCIM page shows.
#[derive(Debug, Clone, Copy)]
struct ScimPage<'a> {
    org: &'a str,
    /// Who is looking.
    admin: &'a str,
    csrf_token: &'a str,
    nonce: &'a str,
    /// The org's SCIM endpoints.
    base_url: &'a str,
}

impl ScimPage<'_> {
    /// The table of what the IdP's SCIM connection needs, but the token.
    fn connection(&self) -> String {
        format!(
            "<table id=\"scim-connection\"><tbody><tr><th>SCIM base URL</th><td><code id=\"scim-base-url\">{}</code><br><span class=\"note\">Okta: SCIM connector base URL; Microsoft Entra ID: Tenant URL</span></td></tr><tr><th>Authentication</th><td>HTTP header, bearer token: a token of {} made on this page</td></tr></tbody></table>",
            escape_html(self.base_url),
            escape_html(self.org),
        )
    }
}

/// The SCIM page: the connection, the tokens with their revoke buttons, and the form
/// that makes one.
fn render(page: &ScimPage<'_>, tokens: &[ScimTokenInfo], notice: Option<&Notice>) -> String {
    let org = escape_html(page.org);
    let hidden = format!(
        "<input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{}\">",
        escape_html(page.csrf_token)
    );
    let mut body = nav(page.org, Section::Scim, true);
    let _ = write!(
        body,
        "<h1>SCIM of {org}</h1><p class=\"note\">Signed in as {}. Your IdP provisions and deprovisions the people of {org} here, with a token made on this page.</p>",
        escape_html(page.admin),
    );
    body.push_str(&notice_html(notice));
    body.push_str("<h2>Your IdP's SCIM connection</h2>");
    body.push_str(&page.connection());

    body.push_str("<h2>Tokens</h2>");
    if tokens.is_empty() {
        let _ = write!(
            body,
            "<p id=\"no-scim-tokens\" class=\"note\">No tokens: your IdP cannot provision the people of {org} until you make one.</p>"
        );
    } else {
        body.push_str("<table id=\"scim-tokens\"><thead><tr><th>Label</th><th>Token</th><th>Made</th><th>Last used</th><th></th></tr></thead><tbody>");
        for info in tokens {
            let label = if info.label.is_empty() {
                "<span class=\"note\">(no label)</span>".to_owned()
            } else {
                escape_html(&info.label)
            };
            let last_used = info.last_used_at.map_or_else(
                || "never".to_owned(),
                |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
            );
            let _ = write!(
                body,
                "<tr><td>{label}</td><td><code>{SCIM_TOKEN_PREFIX}…{}</code></td><td>{}</td><td>{last_used}</td><td><form method=\"post\" action=\"{}\">{hidden}<input type=\"hidden\" name=\"token\" value=\"{}\"><button type=\"submit\" class=\"danger\" aria-label=\"Revoke SCIM token {}\">Revoke</button></form></td></tr>",
                escape_html(&info.hint),
                info.created_at.format("%Y-%m-%d %H:%M UTC"),
                escape_html(&admin_path(page.org, "/scim/tokens/revoke")),
                escape_html(&info.id),
                escape_html(&described(info)),
            );
        }
        body.push_str("</tbody></table>");
        let _ = write!(
            body,
            "<p class=\"note\">Each token opens the SCIM endpoints of {org} only. This site keeps no token, only what recognises it and its last four digits; a revoked token opens nothing from the next request on.</p>"
        );
    }

    let _ = write!(
        body,
        "<h2>Make a token</h2><form id=\"scim-token-form\" method=\"post\" action=\"{}\">{hidden}<p><label>Label (what it is for: <code>okta</code>, <code>entra-prod</code>) <input name=\"label\" maxlength=\"{MAX_LABEL_CHARS}\"></label></p><p><button type=\"submit\">Make a token</button></p></form><p class=\"note\">Its secret is shown once, on the next page.</p>",
        escape_html(&admin_path(page.org, "/scim/tokens")),
    );
    layout(
        &format!("SCIM of {}", page.org),
        page.csrf_token,
        page.nonce,
        &body,
        "",
    )
}

/// The page of a token just made: its secret, once.
fn render_issued(page: &ScimPage<'_>, issued: &IssuedScimToken) -> String {
    let org = escape_html(page.org);
    let mut body = nav(page.org, Section::Scim, true);
    let _ = write!(
        body,
        "<h1>New SCIM token for {org}</h1><p id=\"notice\" class=\"done\" role=\"status\">Made SCIM token {}. Copy it now: <strong>it will not be shown again</strong>. This site keeps only what recognises it; if it is lost, revoke it and make another.</p><p><code id=\"scim-token\">{}</code></p><p class=\"note\">Enter it in your IdP's SCIM connection as the bearer token (Okta: API Token; Microsoft Entra ID: Secret Token), with this URL:</p>",
        escape_html(&described(&issued.info)),
        escape_html(&issued.token),
    );
    body.push_str(&page.connection());
    let _ = write!(
        body,
        "<p><a id=\"back\" href=\"{}\">Back to the SCIM page</a></p>",
        escape_html(&admin_path(page.org, "/scim")),
    );
    layout(
        &format!("New SCIM token for {}", page.org),
        page.csrf_token,
        page.nonce,
        &body,
        "",
    )
}
