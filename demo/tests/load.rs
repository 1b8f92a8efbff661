//! Many first logins at once, over HTTP against the demo's router: one account each, no
//! duplicate, no 5xx — on SQLite always, on PostgreSQL with `JIT_PROVISIONING_PG_URL`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Utc;
use common::{form_encode, request_id};
use jit_provisioning::org::OrgDirectory;
use jit_provisioning::{
    AccountStore, AuditLog, DeprovisionedIdentities, MembershipStore, OwnerLinks, ReplayGuard,
    ScimGroups, ScimTokens, ScimUsers,
};
use jit_provisioning_demo::{app, DemoConfig};
use jit_provisioning_saml::test_idp::{post_form_value, ResponseTarget, TestIdp, TestPerson};
use tower_sessions::SessionStore;

/// Concurrent first logins per run.
const LOGINS: usize = 32;

/// Serves the demo on a free loopback port, with the replay guard of its database;
/// returns its base URL and the IdP.
async fn serve<S, Sessions>(
    store: S,
    directory: Arc<dyn OrgDirectory>,
    sessions: Sessions,
    replay_guard: Arc<dyn ReplayGuard>,
) -> (String, Arc<TestIdp>)
where
    S: AccountStore
        + MembershipStore
        + AuditLog
        + OwnerLinks
        + ScimTokens
        + ScimUsers
        + ScimGroups
        + DeprovisionedIdentities
        + Clone
        + 'static,
    Sessions: SessionStore + Clone,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let idp = Arc::new(TestIdp::generate(jit_provisioning_demo::IDP_ENTITY_ID).unwrap());
    let (router, _) = app(
        &DemoConfig::shipped().unwrap(),
        Arc::clone(&idp),
        store,
        directory,
        sessions,
        replay_guard,
        None,
        &base_url,
    )
    .await
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base_url, idp)
}

/// One person's first login through the portal: the status of each of the two steps.
async fn first_login(base_url: &str, idp: &TestIdp, index: usize) -> (u16, u16) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let trip = client
        .get(format!("{base_url}/acme/login/sso"))
        .send()
        .await
        .unwrap();
    let trip_status = trip.status().as_u16();
    let cookie = trip.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let location = trip.headers()["location"].to_str().unwrap().to_owned();
    let person = TestPerson::new(format!("00u-load-{index}"))
        .with_given_name("Jane")
        .with_family_name("Doe")
        .with_email(format!("jane.{index}@load.example"));
    let target = ResponseTarget::new(
        format!("{base_url}/acme/saml/metadata"),
        format!("{base_url}/acme/saml/acs"),
    )
    .with_in_response_to(request_id(&location));
    let xml = idp.response(&person, &target, Utc::now()).unwrap();
    let signed_in = client
        .post(format!("{base_url}/acme/saml/acs"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "SAMLResponse={}",
            form_encode(&post_form_value(&xml))
        ))
        .send()
        .await
        .unwrap();
    (trip_status, signed_in.status().as_u16())
}

async fn crowd(base_url: &str, idp: &TestIdp) {
    let logins = (0..LOGINS).map(|index| first_login(base_url, idp, index));
    let statuses = futures_util::future::join_all(logins).await;
    for (index, (trip, signed_in)) in statuses.iter().enumerate() {
        assert_eq!(
            (*trip, *signed_in),
            (303, 303),
            "login {index}: the trip then the sign-in"
        );
    }
}

fn expected_handles() -> BTreeSet<String> {
    std::iter::once("jane-doe".to_owned())
        .chain((2..=LOGINS).map(|n| format!("jane-doe-{n}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_logins_on_sqlite_make_one_account_each() {
    let dir = tempfile::tempdir().unwrap();
    let store = jit_provisioning_sqlx::SqliteStore::connect(&format!(
        "sqlite://{}",
        dir.path().join("demo.db").display()
    ))
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let sessions = tower_sessions_sqlx_store::SqliteStore::new(store.pool().clone());
    sessions.migrate().await.unwrap();
    let pool = store.pool().clone();
    let replay_guard = Arc::new(jit_provisioning_sqlx::SqliteReplayGuard::new(pool.clone()));
    let directory = Arc::new(jit_provisioning_sqlx::SqliteDirectory::new(pool.clone()));
    let (base_url, idp) = serve(store, directory, sessions, replay_guard).await;
    crowd(&base_url, &idp).await;
    let handles: Vec<String> = sqlx::query_scalar("SELECT handle FROM jit_accounts")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(handles.len(), LOGINS, "one account per person");
    assert_eq!(
        handles.into_iter().collect::<BTreeSet<_>>(),
        expected_handles()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL (.ci/run does)"]
async fn concurrent_first_logins_on_postgres_make_one_account_each() {
    let url = std::env::var("JIT_PROVISIONING_PG_URL").expect("JIT_PROVISIONING_PG_URL is not set");
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let schema = format!("jit_demo_load_{}", std::process::id());
    sqlx::raw_sql(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))
    .execute(&admin)
    .await
    .unwrap();
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    let store = jit_provisioning_sqlx::PgStore::from_pool(pool.clone());
    store.migrate().await.unwrap();
    let sessions = tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
        .with_schema_name(&schema)
        .unwrap();
    sessions.migrate().await.unwrap();
    let replay_guard = Arc::new(jit_provisioning_sqlx::PgReplayGuard::new(pool.clone()));
    let directory = Arc::new(jit_provisioning_sqlx::PgDirectory::new(pool.clone()));
    let (base_url, idp) = serve(store, directory, sessions, replay_guard).await;
    crowd(&base_url, &idp).await;
    let handles: Vec<String> = sqlx::query_scalar("SELECT handle FROM jit_accounts")
        .fetch_all(&pool)
        .await
        .unwrap();
    sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    assert_eq!(handles.len(), LOGINS, "one account per person");
    assert_eq!(
        handles.into_iter().collect::<BTreeSet<_>>(),
        expected_handles()
    );
}
