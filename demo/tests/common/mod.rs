//! What the demo's tests share: the security headers every page must carry, and the
//! SAML trip's pieces.
// Each test crate that includes this module uses a part of it.
#![allow(dead_code)]

/// Asserts that `headers` carry every security header at its strict value, and that
/// every inline script and style of its `body` carries the policy's nonce.
pub fn assert_security_headers(what: &str, headers: &reqwest::header::HeaderMap, body: &str) {
    let get = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let csp = get("content-security-policy");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("cache-control"), "no-store", "{what}");
    let nonce = csp
        .split("script-src 'nonce-")
        .nth(1)
        .unwrap_or_else(|| panic!("{what}: no nonce in {csp}"))
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!("style-src 'nonce-{nonce}'")),
        "{what}: {csp}"
    );
    for tag in ["<script", "<style"] {
        for inline in body.split(tag).skip(1) {
            assert!(
                inline.starts_with(&format!(" nonce=\"{nonce}\"")),
                "{what}: {tag}{inline}"
            );
        }
    }
    assert!(
        !body.contains(" onload="),
        "{what}: no inline event handler"
    );
}

/// An answer: its status, headers and body.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

/// Sends `request` and asserts the security headers of its answer.
pub async fn fetch_checked(what: &str, request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    assert_security_headers(what, &headers, &body);
    Answer {
        status,
        headers,
        body,
    }
}

/// The session cookie an answer sets, as a `Cookie` header sends it back.
pub fn cookie(answer: &Answer) -> String {
    answer.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// A client that follows no redirect and keeps its cookies to itself.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The AuthnRequest id in an IdP redirect's `SAMLRequest`.
pub fn request_id(location: &str) -> String {
    let (_, query) = location.split_once('?').unwrap();
    jit_provisioning_saml::AuthnRequest::from_redirect_query(query)
        .unwrap()
        .id
}

/// `text` as an `application/x-www-form-urlencoded` value.
pub fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}
