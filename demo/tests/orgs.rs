//! The README's walk-through: an org added to the running demo with `orgs import` (here
//! through the same registry API the CLI uses, over the demo's SQLite file), trusting
//! the demo's IdP by its metadata URL, signs people in within a second, without a
//! restart; disabled, its portal says SSO is off.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::client;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use jit_provisioning::org::{OrgRegistry, OrgState};
use jit_provisioning::Config;
use jit_provisioning_demo::{load_or_make_idp, sqlite_app, DemoConfig};
use jit_provisioning_saml::test_idp::{post_form_value, ResponseTarget, TestPerson};
use jit_provisioning_saml::{HttpFetcher, SamlSettingsCheck};
use jit_provisioning_sqlx::{SqliteDirectory, SqliteStore};

/// Starts the demo as `main` does over the data in `data_dir`; its base URL.
async fn start(data_dir: &Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let idp = Arc::new(load_or_make_idp(data_dir).unwrap());
    let config = DemoConfig::shipped().unwrap();
    let (router, _) = sqlite_app(&config, idp, &data_dir.join("demo.db"), &base_url)
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base_url
}

/// What `jit-provisioning orgs … --database sqlite://… --allow-private-addresses` opens.
async fn cli_registry(database: &Path) -> OrgRegistry {
    let store = SqliteStore::connect(&format!("sqlite://{}", database.display()))
        .await
        .unwrap();
    let fetcher = HttpFetcher::new()
        .allow_private_addresses(true)
        .allow_http(true);
    OrgRegistry::new(
        Arc::new(SqliteDirectory::new(store.pool().clone())),
        &Config::default(),
    )
    .unwrap()
    .with_sso_check(Arc::new(
        SamlSettingsCheck::new().with_fetcher(Arc::new(fetcher)),
    ))
}

/// Polls `url` until `done` holds of its status and body, at most a second after `since`.
async fn within_a_second(url: &str, since: Instant, done: impl Fn(u16, &str) -> bool) {
    loop {
        let answer = client().get(url).send().await.unwrap();
        let status = answer.status().as_u16();
        let body = answer.text().await.unwrap();
        if done(status, &body) {
            return;
        }
        assert!(
            since.elapsed() < Duration::from_secs(1),
            "{url} still answers {status} a second after the change: {body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_imported_into_the_running_demo_signs_people_in_at_once() {
    let data_dir = tempfile::tempdir().unwrap();
    let base_url = start(data_dir.path()).await;
    let registry = cli_registry(&data_dir.path().join("demo.db")).await;

    let file: Config = toml::from_str(&format!(
        r#"
        [orgs.globex]
        jit = true
        [orgs.globex.saml]
        idp = {{ metadata_url = "{base_url}/idp/metadata" }}
        # The test below posts a response the IdP sent unasked.
        options = {{ allow_idp_initiated = true }}
        "#
    ))
    .unwrap();
    let imported = Instant::now();
    let report = registry
        .import(&file, "support:sam", Utc::now(), None)
        .await
        .unwrap();
    assert_eq!(report.created, ["globex"]);
    let record = registry.directory().org("globex").await.unwrap().unwrap();
    assert_eq!(
        record.config.idp.as_deref(),
        Some(jit_provisioning_demo::IDP_ENTITY_ID),
        "the entity id comes from the fetched metadata"
    );
    within_a_second(
        &format!("{base_url}/globex/login"),
        imported,
        |status, body| status == 200 && body.contains("Sign in with SSO"),
    )
    .await;

    // A sign-in: the demo fetched the IdP's metadata from the URL and trusts its key.
    let idp = load_or_make_idp(data_dir.path()).unwrap();
    let target = ResponseTarget::new(
        format!("{base_url}/globex/saml/metadata"),
        format!("{base_url}/globex/saml/acs"),
    );
    let person = TestPerson::new("00u-globex-1")
        .with_given_name("Hank")
        .with_family_name("Scorpio")
        .with_email("hank@globex.example");
    let response = idp.response(&person, &target, Utc::now()).unwrap();
    let form: String = post_form_value(&response)
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    let signed_in = client()
        .post(format!("{base_url}/globex/saml/acs"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("SAMLResponse={form}"))
        .send()
        .await
        .unwrap();
    let status = signed_in.status();
    assert_eq!(status, 303, "{}", signed_in.text().await.unwrap());
    assert_eq!(signed_in.headers()["location"], "/globex");

    // Disabled with `orgs disable`: the portal says SSO is off, within a second.
    let disabled = Instant::now();
    registry
        .set_state(
            "globex",
            OrgState::Inactive,
            None,
            "support:sam",
            Utc::now(),
        )
        .await
        .unwrap();
    within_a_second(
        &format!("{base_url}/globex/login"),
        disabled,
        |status, body| {
            status == 404 && body.contains("Single sign-on is turned off for this organization")
        },
    )
    .await;
}
