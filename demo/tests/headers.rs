//! Every page of the demo carries the portal's security headers: the portal's own, and
//! the demo's homes and test IdP through the same middleware.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use common::{client, cookie, fetch_checked};
use jit_provisioning_demo::{load_or_make_idp, sqlite_app, DemoConfig};

/// The value of the hidden input `name` in `page`.
fn hidden(page: &str, name: &str) -> String {
    page.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_the_demo_carries_the_security_headers() {
    let data_dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let idp = Arc::new(load_or_make_idp(data_dir.path()).unwrap());
    let (router, _) = sqlite_app(
        &DemoConfig::shipped().unwrap(),
        idp,
        &data_dir.path().join("demo.db"),
        &base,
    )
    .await
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let http = client();

    let index = fetch_checked("the index", http.get(format!("{base}/"))).await;
    assert_eq!(index.status, 200);
    let portal = fetch_checked("the portal page", http.get(format!("{base}/acme/login"))).await;
    assert_eq!(portal.status, 200);
    let trip = fetch_checked(
        "the redirect to the IdP",
        http.get(format!("{base}/acme/login/sso")),
    )
    .await;
    assert_eq!(trip.status, 303);
    let to_idp = trip.headers["location"].to_str().unwrap();
    let pick = fetch_checked("the IdP's page", http.get(to_idp)).await;
    assert_eq!(pick.status, 200);
    let member = "3";
    let answer = fetch_checked(
        "the IdP's answer",
        http.post(format!("{base}/idp/sso"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "SAMLRequest={}&person={member}",
                form_encode(&hidden(&pick.body, "SAMLRequest"))
            )),
    )
    .await;
    assert_eq!(answer.status, 200);
    let signed_in = fetch_checked(
        "the ACS",
        http.post(format!("{base}/acme/saml/acs"))
            .header("cookie", cookie(&trip))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "SAMLResponse={}",
                form_encode(&hidden(&answer.body, "SAMLResponse"))
            )),
    )
    .await;
    assert_eq!(signed_in.status, 303);
    let home = fetch_checked(
        "the org home",
        http.get(format!("{base}/acme"))
            .header("cookie", cookie(&signed_in)),
    )
    .await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("maria-garcia"), "{}", home.body);

    let signed_out = fetch_checked("a home, signed out", http.get(format!("{base}/acme"))).await;
    assert_eq!(signed_out.status, 401);
    let deep = fetch_checked(
        "a deep page, signed out",
        http.get(format!("{base}/acme/projects")),
    )
    .await;
    assert_eq!(deep.status, 401);
    let metadata = fetch_checked(
        "the IdP's metadata",
        http.get(format!("{base}/idp/metadata")),
    )
    .await;
    assert_eq!(metadata.status, 200);
    let reload = fetch_checked("an ACS reload", http.get(format!("{base}/acme/saml/acs"))).await;
    assert_eq!(reload.status, 405);
}
