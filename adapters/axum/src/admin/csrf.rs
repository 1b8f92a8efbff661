//! The two checks every admin write passes: it comes from this site (its `Origin`, or
//! `Sec-Fetch-Site` when a browser sends no `Origin`), and it carries the session's CSRF
//! token. Either alone is refused.

use std::fmt::Write as _;

use axum::http::{header, HeaderMap, StatusCode};
use tower_sessions::Session;

use super::actions::Problem;
use crate::session::CSRF_TOKEN;

/// The header an API write carries the token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The field a form carries the token in.
pub const CSRF_FIELD: &str = "csrf_token";

/// The session's CSRF token, made (and kept in the session) on first use: 256 random
/// bits, hex.
pub(crate) async fn token(session: &Session) -> Result<String, Problem> {
    if let Ok(Some(token)) = session.get::<String>(CSRF_TOKEN).await {
        if !token.is_empty() {
            return Ok(token);
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| Problem::failed("no randomness for a CSRF token", &error))?;
    let token = bytes
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    session
        .insert(CSRF_TOKEN, &token)
        .await
        .map_err(|error| Problem::failed("the session could not be written", &error))?;
    Ok(token)
}

/// Whether `given` is the session's token, compared in constant time.
pub(crate) async fn check_token(session: &Session, given: Option<&str>) -> Result<(), Problem> {
    let given = given.map(str::trim).filter(|given| !given.is_empty());
    let Some(given) = given else {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "csrf_token",
            "refused: the request carries no CSRF token, so nothing changed; reload the members page and try again",
        ));
    };
    let kept = session
        .get::<String>(CSRF_TOKEN)
        .await
        .map_err(|error| Problem::failed("the session could not be read", &error))?
        .filter(|kept| !kept.is_empty());
    match kept {
        Some(kept) if same_bytes(kept.as_bytes(), given.as_bytes()) => Ok(()),
        _ => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "csrf_token",
            "refused: the request's CSRF token is not this session's, so nothing changed; reload the members page and try again",
        )),
    }
}

/// Whether the request comes from this site: its `Origin` is `ours` (or, with no origin
/// configured, names the `Host` it was sent to); a request without `Origin`, or with the
/// opaque `Origin: null`, must say `Sec-Fetch-Site: same-origin`. A request with neither
/// is refused: every browser that sends cookies along cross-site sends one of them.
///
/// `null` is what a browser sends as the `Origin` of a form posted from a page whose
/// `Referrer-Policy` is `no-referrer`, as the portal's pages are (Fetch, "serializing a
/// request origin"): the admin pages' own forms come that way, and only the browser's
/// `Sec-Fetch-Site` then tells this site's pages from a sandboxed frame's.
pub(crate) fn check_origin(headers: &HeaderMap, ours: Option<&str>) -> Result<(), Problem> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let refused = |detail: String| {
        Problem::new(
            StatusCode::FORBIDDEN,
            "csrf_origin",
            format!("refused: {detail}, and changes are accepted only from this site's own pages, so nothing changed"),
        )
    };
    match text(header::ORIGIN.as_str()).filter(|origin| *origin != "null") {
        Some(origin) => {
            let origin = origin.trim_end_matches('/');
            let same = match ours {
                Some(ours) => origin.eq_ignore_ascii_case(ours),
                None => text(header::HOST.as_str()).is_some_and(|host| {
                    origin
                        .split_once("://")
                        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
                }),
            };
            if same {
                Ok(())
            } else {
                Err(refused(format!("the request came from `{origin}`")))
            }
        }
        None => match text("sec-fetch-site") {
            Some("same-origin") => Ok(()),
            Some(site) => Err(refused(format!("the browser says the request came from a `{site}` page"))),
            None => Err(refused("the request says neither where it came from (`Origin`) nor from which site (`Sec-Fetch-Site`)".to_owned())),
        },
    }
}

/// Equal bytes, in a time that depends on their lengths only.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_origin_must_be_ours_or_the_browser_must_say_same_origin() {
        let ours = Some("https://app.example");
        assert!(check_origin(&headers(&[("origin", "https://app.example")]), ours).is_ok());
        assert!(check_origin(&headers(&[("origin", "https://evil.example")]), ours).is_err());
        assert!(check_origin(&headers(&[("origin", "null")]), ours).is_err());
        let null_same = headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]);
        assert!(check_origin(&null_same, ours).is_ok());
        let null_cross = headers(&[("origin", "null"), ("sec-fetch-site", "cross-site")]);
        assert!(check_origin(&null_cross, ours).is_err());
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-origin")]), ours).is_ok());
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-site")]), ours).is_err());
        assert!(check_origin(&headers(&[]), ours).is_err());
        let by_host = headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(check_origin(&by_host, None).is_ok());
        let other_host = headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(check_origin(&other_host, None).is_err());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"ab"));
        assert!(!same_bytes(b"", b"a"));
    }
}
