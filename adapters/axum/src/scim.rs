//! The SCIM 2.0 endpoints of every org: bearer-token authentication, the body limit, and
//! the protocol of `jit-provisioning-scim` served over HTTP.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use jit_provisioning::{is_well_formed_scim_token, ScimTokens};
use jit_provisioning_scim::{ScimError, ScimRequest, ScimResponse, ScimService, MAX_BODY_BYTES};

use crate::portal::Clock;

/// The `WWW-Authenticate` challenge of every 401 (RFC 6750 §3).
const CHALLENGE: &str = "Bearer realm=\"scim\"";

/// The SCIM 2.0 endpoints of every org (`/scim/v2/{org}/…`), for the org's IdP (Okta,
/// Microsoft Entra ID, OneLogin) to provision and deprovision its people with, ready to
/// become a [`Router`].
///
/// Each request is authenticated first: `Authorization: Bearer <token>` with a token
/// that [`ScimTokens::authenticate`] accepts for the org in the path (one the org's admin
/// made, not revoked). Anything else is a 401 SCIM error with
/// `WWW-Authenticate: Bearer realm="scim"`, and nothing else runs: the body is not even
/// read. Then the body is read (at most [`MAX_BODY_BYTES`], else 413), the request is
/// parsed by [`ScimRequest`] and answered by [`ScimService::handle`].
///
/// There is no session layer, no cookie and no CSRF token here: a SCIM client is a
/// server, not a browser, and it proves who it is with the bearer token on every
/// request. A browser never attaches that header by itself, so a page of another site
/// cannot make a request that passes (the reason CSRF tokens exist for cookie-based
/// pages does not arise).
#[derive(Clone)]
pub struct ScimEndpoint {
    service: Arc<ScimService>,
    tokens: Arc<dyn ScimTokens>,
    clock: Clock,
}

impl std::fmt::Debug for ScimEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimEndpoint")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl ScimEndpoint {
    /// The endpoints answering with `service`, opened by the tokens of `tokens` (in
    /// production the database's: `jit-provisioning-sqlx`; `MemoryScimTokens` for tests).
    pub fn new(service: Arc<ScimService>, tokens: Arc<dyn ScimTokens>) -> Self {
        Self {
            service,
            tokens,
            clock: Arc::new(|| SystemTime::now().into()),
        }
    }

    /// The clock (tests pin it): `now` for token checks and `meta` times.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The routes, for every method (GET, POST, PUT, PATCH, DELETE; any other is a SCIM
    /// 405 with `Allow`, once authenticated):
    ///
    /// | Route | What |
    /// | --- | --- |
    /// | `/scim/v2/{org}/Users`, `/Users/{id}`, `/Users/.search` | the org's users |
    /// | `/scim/v2/{org}/Groups…` | 501 for now |
    /// | `/scim/v2/{org}/ServiceProviderConfig`, `/Schemas…`, `/ResourceTypes…` | discovery |
    /// | `/scim/v2/{org}` | 404: SCIM has no endpoint at the root |
    ///
    /// Discovery needs the token too: RFC 7644 §4 lets a provider serve it with or
    /// without authentication, and with it nothing here is readable by someone the org
    /// has not given a token to.
    ///
    /// Every response is SCIM's own (`Content-Type: application/scim+json`, the RFC 7644
    /// §3.12 error body for refusals, `Cache-Control: no-store`), even a body over the
    /// limit. No session layer is needed, or wanted: see [`ScimEndpoint`].
    pub fn router(self) -> Router {
        Router::new()
            .route("/scim/v2/{org}", any(at_root))
            .route("/scim/v2/{org}/{*rest}", any(below_root))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(self)
    }

    /// Authenticates, reads and answers one request at `org`; `rest` is the path after
    /// `/scim/v2/{org}`, as sent (not percent-decoded: resource ids are decoded by the
    /// protocol crate).
    async fn serve(&self, org: &str, rest: &str, request: Request) -> Response {
        let now = (self.clock)();
        let method = request.method().as_str().to_owned();
        let token = match bearer_token(request.headers()) {
            Ok(token) => token,
            Err(reason) => {
                tracing::warn!(org, method, path = rest, reason, "SCIM request refused");
                return unauthorized(reason);
            }
        };
        if !is_well_formed_scim_token(token) {
            let reason = "the bearer token is not a SCIM token";
            tracing::warn!(org, method, path = rest, reason, "SCIM request refused");
            return unauthorized(reason);
        }
        match self.tokens.authenticate(org, token, now).await {
            Ok(Some(info)) => {
                tracing::debug!(org, method, path = rest, token_id = info.id, "SCIM request");
            }
            Ok(None) => {
                let reason = "the bearer token does not open this org's SCIM endpoints (unknown, revoked, or another org's)";
                tracing::warn!(org, method, path = rest, reason, "SCIM request refused");
                return unauthorized(reason);
            }
            Err(error) => {
                tracing::error!(org, error = %error, "SCIM token check failed");
                return scim_response(&ScimError::internal().into());
            }
        }

        let query = request.uri().query().unwrap_or_default().to_owned();
        let if_match = header_text(request.headers(), header::IF_MATCH);
        let content_type = header_text(request.headers(), header::CONTENT_TYPE);
        let body = match Bytes::from_request(request, &()).await {
            Ok(body) => body,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                tracing::warn!(
                    org,
                    method,
                    path = rest,
                    limit = MAX_BODY_BYTES,
                    "SCIM body too large"
                );
                return scim_response(&ScimError::with_status(
                    413,
                    format!("the request body is over {MAX_BODY_BYTES} bytes, the most this endpoint takes"),
                ).into());
            }
            Err(rejection) => {
                tracing::warn!(org, method, path = rest, error = %rejection.body_text(), "SCIM body unreadable");
                return scim_response(
                    &ScimError::with_status(400, "the request body could not be read").into(),
                );
            }
        };

        let operation = ScimRequest::new(&method, rest, &query, &body)
            .with_if_match(if_match.as_deref())
            .with_content_type(content_type.as_deref())
            .operation();
        let reply = match operation {
            Ok(operation) => self.service.handle(org, operation, now).await,
            Err(refusal) => {
                tracing::info!(org, method, path = rest, refusal = %refusal, "SCIM request refused");
                refusal.into()
            }
        };
        scim_response(&reply)
    }
}

/// `/scim/v2/{org}`.
async fn at_root(
    State(endpoint): State<ScimEndpoint>,
    Path(org): Path<String>,
    request: Request,
) -> Response {
    endpoint.serve(&org, "", request).await
}

/// `/scim/v2/{org}/{*rest}`: the rest taken from the path as sent, so that a
/// percent-encoded `/` in an id stays in the id.
async fn below_root(
    State(endpoint): State<ScimEndpoint>,
    Path((org, _rest)): Path<(String, String)>,
    request: Request,
) -> Response {
    let path = request.uri().path().to_owned();
    let rest = path
        .strip_prefix("/scim/v2/")
        .and_then(|after| after.split_once('/'))
        .map(|(_, rest)| format!("/{rest}"))
        .unwrap_or_default();
    endpoint.serve(&org, &rest, request).await
}

/// The token of an `Authorization: Bearer <token>` header, or why there is none.
fn bearer_token(headers: &HeaderMap) -> Result<&str, &'static str> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or("no Authorization header; send `Authorization: Bearer <token>`")?;
    let value = value
        .to_str()
        .map_err(|_| "the Authorization header is not text")?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or("the Authorization header is not `Bearer <token>`")?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err("the Authorization scheme is not Bearer");
    }
    let token = token.trim();
    if token.is_empty() {
        return Err("the Authorization header has no token");
    }
    Ok(token)
}

/// A header's value as text, if it has one.
fn header_text(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The 401 of every refused token: a SCIM error body and the bearer challenge.
fn unauthorized(detail: &str) -> Response {
    let mut response = scim_response(&ScimError::with_status(401, detail).into());
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(CHALLENGE),
    );
    response
}

/// A [`ScimResponse`] as an axum response: its status, its headers, its body, and
/// `Cache-Control: no-store` (the bodies are people's records).
fn scim_response(reply: &ScimResponse) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, reply.body_bytes()).into_response();
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_TYPE);
    for (name, value) in reply.headers() {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.insert(name, value);
            }
            _ => tracing::error!(
                header = name,
                "a SCIM response header that HTTP cannot carry was left out"
            ),
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
