//! What the axum adapter's tests share: a browser that keeps one cookie and the CSRF
//! token the last page gave, and the URL and SAML helpers around it.
#![allow(dead_code)] // each test crate uses its own subset
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use jit_provisioning_axum::escape_html;
use serde_json::Value;
use tower::ServiceExt as _;

/// The origin every test app is served at.
pub const ORIGIN: &str = "http://127.0.0.1:3000";

/// A test's app, which a [`Browser`] sends its requests to.
pub trait Serves {
    /// The app's router.
    fn app(&self) -> Router;
}

/// A browser: one cookie, and the CSRF token the last page or API read gave.
#[derive(Default)]
pub struct Browser {
    pub cookie: Option<String>,
    pub token: Option<String>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    /// The `<p id="message">` of a refusal page, or the notice of the members page.
    pub fn says(&self, text: &str) -> bool {
        self.body.contains(&escape_html(text))
    }
}

impl Browser {
    pub async fn send(
        &mut self,
        world: &impl Serves,
        request: axum::http::request::Builder,
        body: Body,
    ) -> Reply {
        let request = match &self.cookie {
            Some(cookie) => request.header(header::COOKIE, cookie),
            None => request,
        };
        let response = world
            .app()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let headers = response.headers().clone();
        if let Some(set_cookie) = headers.get(header::SET_COOKIE) {
            let cookie = set_cookie.to_str().unwrap().split(';').next().unwrap();
            self.cookie = Some(cookie.to_owned());
        }
        if let Some(token) = headers.get("x-csrf-token") {
            self.token = Some(token.to_str().unwrap().to_owned());
        }
        let status = response.status();
        let location = headers
            .get(header::LOCATION)
            .map(|value| value.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8(body.to_vec()).unwrap();
        if let Some(token) = meta_token(&body) {
            self.token = Some(token);
        }
        Reply {
            status,
            location,
            headers,
            body,
        }
    }
    pub async fn get(&mut self, world: &impl Serves, uri: &str) -> Reply {
        self.send(world, Request::get(uri), Body::empty()).await
    }
    pub async fn post_form(
        &mut self,
        world: &impl Serves,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = fields
            .iter()
            .map(|(name, value)| format!("{}={}", urlencode(name), urlencode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(world, request, Body::from(body)).await
    }
    pub async fn api_with(
        &mut self,
        world: &impl Serves,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.send(world, request, body).await
    }
    /// A form of an admin page, posted from the page (this site's origin, this
    /// session's token).
    pub async fn submit(
        &mut self,
        world: &impl Serves,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Reply {
        let token = self.token.clone().expect("no page read yet");
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", &token));
        self.post_form(world, path, &fields, &[(header::ORIGIN.as_str(), ORIGIN)])
            .await
    }
    /// An API call as the app's own script makes it: this site's origin, the token.
    pub async fn api(
        &mut self,
        world: &impl Serves,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let token = self.token.clone().unwrap_or_default();
        self.api_with(
            world,
            method,
            path,
            body,
            &[("origin", ORIGIN), ("x-csrf-token", &token)],
        )
        .await
    }
}

pub fn meta_token(body: &str) -> Option<String> {
    let start = body.find("<meta name=\"csrf-token\" content=\"")? + 33;
    let rest = body.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_owned())
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let value = query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))?;
    let mut out = Vec::new();
    let mut bytes = value.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let pair: String = [bytes.next()?, bytes.next()?]
                .iter()
                .map(|&b| b as char)
                .collect();
            out.push(u8::from_str_radix(&pair, 16).ok()?);
        } else {
            out.push(byte);
        }
    }
    String::from_utf8(out).ok()
}

/// The AuthnRequest id in an IdP redirect.
pub fn request_id(location: &str) -> String {
    let (_, query) = location.split_once('?').unwrap();
    jit_provisioning_saml::AuthnRequest::from_redirect_query(query)
        .unwrap()
        .id
}
