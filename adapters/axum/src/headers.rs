//! The security headers of every page: a Content-Security-Policy whose only scripts and
//! styles are the ones carrying this response's nonce, no framing, no referrer, no
//! content sniffing, and nothing kept in a cache.
//!
//! The portal's routes carry them; an app puts its own pages under the same headers with
//! [`security_headers`], as the crate's README shows.

use std::convert::Infallible;
use std::fmt::Write as _;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The security headers pages are served with. With [`SecurityHeaders::strict`], the
/// default, no other site can frame the pages, they leak no URL to another site, and no
/// cache keeps them. The `allow_…` and `with_…` methods loosen one header
/// each, for an app whose pages need it (its own stylesheet on a CDN, an admin console
/// that frames the portal).
///
/// Every header is set only when the response does not carry it already, so a handler
/// that needs a header of its own for one response sets it itself.
///
/// | header | strict value |
/// | --- | --- |
/// | `Content-Security-Policy` | `default-src 'none'; script-src 'nonce-…'; style-src 'nonce-…'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'` (the auto-posting form to the IdP adds the IdP's origin to `form-action`) |
/// | `X-Frame-Options` | `DENY` (`SAMEORIGIN` when framing is allowed to `'self'` only; none for any other list, which it cannot express) |
/// | `Referrer-Policy` | `no-referrer`: the IdP never learns the page's URL and its `return_to` |
/// | `X-Content-Type-Options` | `nosniff` |
/// | `Cache-Control` | `no-store`: pages carry SAML messages and session data |
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecurityHeaders {
    frame_ancestors: String,
    referrer_policy: String,
    sources: Vec<(String, String)>,
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        Self::strict()
    }
}

/// What each response's policy is made from, in this order; an app's sources are added
/// to the directive they name.
const BASE_DIRECTIVES: [&str; 7] = [
    "default-src",
    "script-src",
    "style-src",
    "img-src",
    "form-action",
    "frame-ancestors",
    "base-uri",
];

impl SecurityHeaders {
    /// Every header at its strictest (the table above).
    pub fn strict() -> Self {
        Self {
            frame_ancestors: "'none'".to_owned(),
            referrer_policy: "no-referrer".to_owned(),
            sources: Vec::new(),
        }
    }

    /// Lets the pages be framed by `sources`, CSP source expressions separated by
    /// spaces (`'self'`, `https://admin.example`). `X-Frame-Options` becomes
    /// `SAMEORIGIN` for `'self'` alone, and is left out for any other list.
    pub fn allow_framing_by(mut self, sources: impl Into<String>) -> Self {
        self.frame_ancestors = sources.into();
        self
    }

    /// The `Referrer-Policy` (for example `strict-origin-when-cross-origin`).
    pub fn with_referrer_policy(mut self, policy: impl Into<String>) -> Self {
        self.referrer_policy = policy.into();
        self
    }

    /// Adds `sources` (CSP source expressions separated by spaces) to the policy's
    /// `directive`, added to the policy if it has no such directive: for example
    /// `("style-src", "https://cdn.example")` for the app's own stylesheet, or
    /// `("form-action", "https://idp.example")`.
    pub fn allow_sources(
        mut self,
        directive: impl Into<String>,
        sources: impl Into<String>,
    ) -> Self {
        self.sources.push((directive.into(), sources.into()));
        self
    }

    /// The `Content-Security-Policy` of a response made with `nonce`, whose forms may
    /// also post to `form_target`.
    pub fn content_security_policy(&self, nonce: &CspNonce, form_target: Option<&str>) -> String {
        let nonce_source = nonce.source();
        let mut directives: Vec<(String, Vec<String>)> = BASE_DIRECTIVES
            .iter()
            .map(|&name| {
                let sources = match name {
                    "script-src" | "style-src" => nonce_source.clone(),
                    "img-src" | "form-action" => "'self'".to_owned(),
                    "frame-ancestors" => self.frame_ancestors.clone(),
                    _ => "'none'".to_owned(),
                };
                (name.to_owned(), split(&sources))
            })
            .collect();
        let extra = self
            .sources
            .iter()
            .map(|(name, sources)| (name.as_str(), sources.as_str()))
            .chain(form_target.map(|target| ("form-action", target)));
        for (name, sources) in extra {
            let name = name.trim().to_ascii_lowercase();
            match directives.iter_mut().find(|(known, _)| *known == name) {
                Some((_, known)) => known.extend(split(sources)),
                None => directives.push((name, split(sources))),
            }
        }
        let mut policy = String::new();
        for (name, mut sources) in directives {
            // `'none'` only means something alone: beside a source it is dropped, as
            // browsers would drop it (with a console warning).
            if sources.len() > 1 {
                sources.retain(|source| source != "'none'");
            }
            if sources.is_empty() {
                sources.push("'none'".to_owned());
            }
            if !policy.is_empty() {
                policy.push_str("; ");
            }
            let _ = write!(policy, "{name} {}", sources.join(" "));
        }
        policy
    }

    /// Sets each header `headers` does not carry yet, for a response made with `nonce`.
    pub(crate) fn apply(
        &self,
        headers: &mut HeaderMap,
        nonce: &CspNonce,
        form_target: Option<&str>,
    ) {
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            let policy = self.content_security_policy(nonce, form_target);
            let value = HeaderValue::from_str(&policy).unwrap_or_else(|_| {
                // A loosening that is no header value must not leave the page without a
                // policy: the strict one stands instead.
                tracing::error!(
                    policy,
                    "the Content-Security-Policy is not a header value; the strict one is sent"
                );
                strict_policy(nonce, form_target)
            });
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        let frame_options = match self.frame_ancestors.trim() {
            "'none'" => Some("DENY"),
            "'self'" => Some("SAMEORIGIN"),
            _ => None,
        };
        if let Some(frame_options) = frame_options {
            set_default(
                headers,
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static(frame_options),
            );
        }
        let referrer = HeaderValue::from_str(self.referrer_policy.trim())
            .unwrap_or_else(|_| HeaderValue::from_static("no-referrer"));
        set_default(headers, header::REFERRER_POLICY, referrer);
        set_default(
            headers,
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        set_default(
            headers,
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
    }
}

fn strict_policy(nonce: &CspNonce, form_target: Option<&str>) -> HeaderValue {
    let policy = SecurityHeaders::strict().content_security_policy(nonce, form_target);
    HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
    })
}

fn split(sources: &str) -> Vec<String> {
    sources.split_whitespace().map(str::to_owned).collect()
}

fn set_default(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue) {
    headers.entry(name).or_insert(value);
}

/// The nonce of this response's Content-Security-Policy: an inline `<script>` or
/// `<style>` runs only with `nonce="…"` set to [`CspNonce::as_str`]. A handler under
/// [`security_headers`] (every portal route is) takes it as an extractor. Fresh for each
/// request, 128 random bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CspNonce(String);

impl CspNonce {
    /// A fresh nonce. Without randomness it is empty, and the policy then allows no
    /// inline script or style at all: the pages still work (the auto-posting form shows
    /// its button), unstyled.
    fn generate() -> Self {
        let mut bytes = [0u8; 16];
        match getrandom::fill(&mut bytes) {
            Ok(()) => Self(
                bytes
                    .iter()
                    .fold(String::with_capacity(32), |mut hex, byte| {
                        let _ = write!(hex, "{byte:02x}");
                        hex
                    }),
            ),
            Err(error) => {
                tracing::error!(error = %error, "no randomness for a CSP nonce; inline scripts and styles are blocked");
                Self(String::new())
            }
        }
    }

    /// The value for a `nonce` attribute.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn source(&self) -> String {
        if self.0.is_empty() {
            "'none'".to_owned()
        } else {
            format!("'nonce-{}'", self.0)
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CspNonce {
    type Rejection = Infallible;

    /// The nonce [`security_headers`] gave this request. Outside it, an empty one: no
    /// policy names it, and none is needed.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CspNonce>()
            .cloned()
            .unwrap_or_else(|| CspNonce(String::new())))
    }
}

/// Where a page's form posts besides this site: the IdP of the HTTP-POST binding. A
/// response extension, read by the headers middleware.
#[derive(Debug, Clone)]
pub(crate) struct FormTarget(pub(crate) String);

/// Gives the request a fresh [`CspNonce`] (unless an outer layer gave one), then sets
/// the [`SecurityHeaders`] on the response. For an app's own pages, with
/// `axum::middleware::from_fn_with_state(headers, security_headers)`.
pub async fn security_headers(
    State(headers): State<SecurityHeaders>,
    request: Request,
    next: Next,
) -> Response {
    let (request, nonce) = with_nonce(request);
    let mut response = next.run(request).await;
    finish(&headers, &nonce, &mut response);
    response
}

/// The request with its nonce, and that nonce.
pub(crate) fn with_nonce(mut request: Request) -> (Request, CspNonce) {
    let nonce = match request.extensions().get::<CspNonce>() {
        Some(nonce) => nonce.clone(),
        None => {
            let nonce = CspNonce::generate();
            request.extensions_mut().insert(nonce.clone());
            nonce
        }
    };
    (request, nonce)
}

/// Sets the headers on a response made with `nonce`.
pub(crate) fn finish(headers: &SecurityHeaders, nonce: &CspNonce, response: &mut Response) {
    let form_target = response
        .extensions()
        .get::<FormTarget>()
        .map(|target| target.0.clone());
    headers.apply(response.headers_mut(), nonce, form_target.as_deref());
}

/// The origin of `url` as a CSP source (`https://idp.example:8443`), when it has one that
/// can be written as a source; a relative URL is this site's own.
pub(crate) fn origin_source(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let scheme_ok = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    (scheme_ok && host_ok).then(|| {
        format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn nonce() -> CspNonce {
        CspNonce("abc123".to_owned())
    }

    #[test]
    fn the_strict_policy_allows_only_the_nonce_and_no_framing() {
        assert_eq!(
            SecurityHeaders::strict().content_security_policy(&nonce(), None),
            "default-src 'none'; script-src 'nonce-abc123'; style-src 'nonce-abc123'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        );
    }

    #[test]
    fn sources_are_added_to_their_directive_and_none_gives_way() {
        let headers = SecurityHeaders::strict()
            .allow_sources("style-src", "https://cdn.example")
            .allow_sources("font-src", "https://fonts.example")
            .allow_framing_by("https://admin.example");
        assert_eq!(
            headers.content_security_policy(&nonce(), Some("https://idp.example")),
            "default-src 'none'; script-src 'nonce-abc123'; style-src 'nonce-abc123' https://cdn.example; img-src 'self'; form-action 'self' https://idp.example; frame-ancestors https://admin.example; base-uri 'none'; font-src https://fonts.example"
        );
        let without_nonce = CspNonce(String::new());
        assert!(SecurityHeaders::strict()
            .content_security_policy(&without_nonce, None)
            .contains("script-src 'none'; style-src 'none';"));
    }

    #[test]
    fn a_handler_s_own_header_stands_and_a_bad_loosening_falls_back_to_strict() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=60"),
        );
        SecurityHeaders::strict()
            .allow_sources("img-src", "https://cdn.example\u{1}")
            .apply(&mut headers, &nonce(), None);
        assert_eq!(headers[header::CACHE_CONTROL], "max-age=60");
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            SecurityHeaders::strict()
                .content_security_policy(&nonce(), None)
                .as_str()
        );
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    }

    #[test]
    fn origins_of_idp_urls() {
        assert_eq!(
            origin_source("https://IdP.example:8443/sso/saml?x=1").as_deref(),
            Some("https://idp.example:8443")
        );
        assert_eq!(origin_source("/relative"), None);
        assert_eq!(origin_source("https://idp.example;script-src/x"), None);
    }
}
