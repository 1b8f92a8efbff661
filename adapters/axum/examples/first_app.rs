//! A first app: acme's SSO login portal on SQLite, with a test IdP on the same server.
//! `cargo run -p jit-provisioning-axum --example first_app`, then open the URL it prints.
use std::sync::Arc;

use jit_provisioning::{Config, Provisioner};
use jit_provisioning_axum::axum::{routing::get, Router};
use jit_provisioning_axum::tower_sessions::{MemoryStore, Session};
use jit_provisioning_axum::{session_layer, signed_in, SsoPortal};
use jit_provisioning_saml::test_idp::{TestIdp, TestIdpRouter, TestPerson};
use jit_provisioning_saml::SamlConfig;
use jit_provisioning_sqlx::{SqliteReplayGuard, SqliteStore};
use serde_json::json;

const BASE: &str = "http://127.0.0.1:3000";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // A test IdP at /idp that signs in whoever is picked: never in a deployed app.
    let idp_url = format!("{BASE}/idp");
    let idp = TestIdpRouter::new(Arc::new(TestIdp::generate(&idp_url)?), &idp_url)?.with_person(
        TestPerson::new("jane@acme.example")
            .with_given_name("Jane")
            .with_family_name("Doe")
            .with_email("jane@acme.example"),
    );
    // acme signs people in through that IdP, and creates their accounts on first sign-in.
    let policy =
        serde_json::from_value::<Config>(json!({"orgs": {"acme": {"jit": true, "idp": idp_url}}}))?
            .validate()?;
    let saml: SamlConfig = serde_json::from_value(json!({"sp": {"base_url": BASE},
        "orgs": {"acme": {"idp": {"metadata": idp.metadata_xml()?}}}}))?;
    let saml = saml.validate(&policy, None)?;
    let store = SqliteStore::connect("sqlite://first_app.db").await?;
    store.migrate().await?;
    let replay_guard = Arc::new(SqliteReplayGuard::new(store.pool().clone()));
    let provisioner = Arc::new(Provisioner::new(policy, store));
    let portal = SsoPortal::new(provisioner, Arc::new(saml), replay_guard);
    let app = Router::new()
        // Where people land: the org's home (`/acme`), or their own (`/jane-doe`).
        .route("/{page}", get(home))
        .merge(portal.router())
        .merge(idp.router())
        .layer(session_layer(MemoryStore::default(), BASE));
    println!("open {BASE}/acme/login");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    jit_provisioning_axum::axum::serve(listener, app).await?;
    Ok(())
}

async fn home(session: Session) -> String {
    match signed_in(&session).await {
        Some(who) => format!("Signed in as {} (rule {})", who.handle, who.rule),
        None => format!("Not signed in: open {BASE}/acme/login"),
    }
}
