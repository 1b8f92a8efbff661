//! A captured response must not sign in again after the demo restarts: the assertion ids
//! it has seen live in its SQLite file, beside the accounts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use jit_provisioning_demo::{load_or_make_idp, sqlite_app, DemoConfig};
use jit_provisioning_saml::test_idp::{post_form_value, ResponseTarget, TestPerson};

/// The shipped config, with sign-ins started at the IdP allowed: a response that answers
/// no request of this browser's is then accepted once, so only the replay guard stops
/// the second use.
fn config() -> DemoConfig {
    let text = include_str!("../config.toml").replace(
        "attributes = { preset = \"okta\" }",
        "attributes = { preset = \"okta\" }\noptions = { allow_idp_initiated = true }",
    );
    assert!(text.contains("allow_idp_initiated"));
    toml::from_str(&text).unwrap()
}

/// Starts the demo as `main` does over the data in `data_dir`; its base URL.
async fn start(data_dir: &Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let idp = Arc::new(load_or_make_idp(data_dir).unwrap());
    let (router, _) = sqlite_app(&config(), idp, &data_dir.join("demo.db"), &base_url)
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base_url
}

async fn post(base_url: &str, saml_response: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{base_url}/acme/saml/acs"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "SAMLResponse={}",
            post_form_value(saml_response)
                .bytes()
                .map(|byte| if byte.is_ascii_alphanumeric() {
                    char::from(byte).to_string()
                } else {
                    format!("%{byte:02X}")
                })
                .collect::<String>()
        ))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_replayed_after_a_restart_is_refused() {
    let data_dir = tempfile::tempdir().unwrap();
    let first = start(data_dir.path()).await;
    let idp = load_or_make_idp(data_dir.path()).unwrap();
    // The demo's SP is named by the base URL it was started with; the replay goes to the
    // same URL the IdP meant, as an attacker's would.
    let target = ResponseTarget::new(
        format!("{first}/acme/saml/metadata"),
        format!("{first}/acme/saml/acs"),
    );
    let person = TestPerson::new("00u-replayed")
        .with_given_name("Jane")
        .with_family_name("Doe")
        .with_email("jane.replayed@acme.example");
    let response = idp.response(&person, &target, Utc::now()).unwrap();

    let signed_in = post(&first, &response).await;
    assert_eq!(signed_in.status(), 303, "the first use signs in");
    let again = post(&first, &response).await;
    assert_eq!(again.status(), 403, "a replay is refused");
    let refusal = again.text().await.unwrap();
    assert!(refusal.contains("could not be used"), "{refusal}");

    // A restart: a new app over the same SQLite file, serving the same address.
    let second = start_at(data_dir.path(), &first).await;
    let replayed = post(&second, &response).await;
    let status = replayed.status();
    let page = replayed.text().await.unwrap();
    assert_eq!(status, 403, "a replay after a restart is refused: {page}");
    assert_eq!(
        message(&page),
        message(&refusal),
        "the same refusal as before the restart"
    );
}

/// What a refusal page says.
fn message(page: &str) -> &str {
    page.split("<p id=\"message\">")
        .nth(1)
        .unwrap()
        .split("</p>")
        .next()
        .unwrap()
}

/// Starts the demo again for the site at `base_url` (the ACS URL is part of what the
/// response was made for), on a port of its own, over the data in `data_dir`.
async fn start_at(data_dir: &Path, base_url: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let idp = Arc::new(load_or_make_idp(data_dir).unwrap());
    let (router, _) = sqlite_app(&config(), idp, &data_dir.join("demo.db"), base_url)
        .await
        .unwrap();
    let served_at = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    served_at
}
