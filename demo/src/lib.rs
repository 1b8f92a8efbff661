//! The SSO login portal in a browser, with nothing to set up: the portal of
//! `jit-provisioning-axum`, accounts and sessions in a SQLite file, and a test IdP at
//! `/idp` that signs in whoever you pick. `cargo run -p jit-provisioning-demo`, then open
//! the printed URL.
//!
//! The pieces are public so that the demo's browser and load tests build exactly what
//! `main` runs, on SQLite or PostgreSQL.

pub mod config;
mod homes;
mod idp;

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use jit_provisioning::{AccountStore, Assertion, Provisioner, ReplayGuard, Request};
use jit_provisioning_axum::{security_headers, session_layer, SecurityHeaders, SsoPortal};
use jit_provisioning_saml::test_idp::TestIdp;
use jit_provisioning_saml::{IdpSource, OrgSamlConfig, SamlConfig, SpConfig};
use jit_provisioning_sqlx::{SqliteReplayGuard, SqliteStore};
use tower_sessions::SessionStore;

pub use config::DemoConfig;

/// The demo's IdP entity id; its endpoints are under `/idp` of the demo itself.
pub const IDP_ENTITY_ID: &str = "urn:jit-provisioning:demo-idp";

/// The test IdP, with its key kept in `data_dir` so that restarts keep trusting it.
pub fn load_or_make_idp(data_dir: &Path) -> Result<TestIdp, String> {
    let key_path = data_dir.join("idp-key.pem");
    let cert_path = data_dir.join("idp-cert.pem");
    if let (Ok(key), Ok(cert)) = (
        std::fs::read_to_string(&key_path),
        std::fs::read_to_string(&cert_path),
    ) {
        return TestIdp::from_pem(IDP_ENTITY_ID, &key, &cert).map_err(|error| error.to_string());
    }
    let idp = TestIdp::generate(IDP_ENTITY_ID).map_err(|error| error.to_string())?;
    std::fs::write(&key_path, idp.key_pem())
        .map_err(|error| format!("{}: {error}", key_path.display()))?;
    std::fs::write(&cert_path, idp.certificate_pem())
        .map_err(|error| format!("{}: {error}", cert_path.display()))?;
    Ok(idp)
}

/// The whole demo for a site at `base_url`, over any account and session store, with
/// the assertion ids it has seen kept in `replay_guard`: the guard of the accounts'
/// database (`SqliteReplayGuard`, `PgReplayGuard`), so that a restart does not forget
/// them.
pub fn app<S, Sessions>(
    config: &DemoConfig,
    idp: Arc<TestIdp>,
    store: S,
    sessions: Sessions,
    replay_guard: Arc<dyn ReplayGuard>,
    base_url: &str,
) -> Result<(Router, Arc<Provisioner<S>>), String>
where
    S: AccountStore + 'static,
    Sessions: SessionStore + Clone,
{
    let policy = config
        .policy
        .validate()
        .map_err(|error| error.to_string())?;
    let metadata = idp
        .metadata_xml(&format!("{base_url}/idp/sso"))
        .map_err(|error| error.to_string())?;
    let saml = SamlConfig {
        sp: SpConfig {
            base_url: base_url.to_owned(),
            key_pem: None,
            key_file: None,
            certificate_pem: None,
            certificate_file: None,
        },
        orgs: policy
            .orgs()
            .filter(|(_, org)| org.portal().is_some())
            .map(|(id, _)| {
                let extras = config.saml.get(id).cloned().unwrap_or_default();
                (
                    id.to_owned(),
                    OrgSamlConfig {
                        idp: IdpSource {
                            metadata: Some(metadata.clone()),
                            ..IdpSource::default()
                        },
                        options: extras.options,
                        attributes: extras.attributes,
                        binding: jit_provisioning_saml::RequestBinding::Redirect,
                        sign_requests: None,
                        sp_entity_id: None,
                        acs_url: None,
                    },
                )
            })
            .collect(),
        limits: jit_provisioning_saml::Limits::default(),
        backend: jit_provisioning_saml::SignatureBackend::Pure,
    };
    let saml = saml
        .validate(&policy, None)
        .map_err(|error| error.to_string())?;
    let provisioner = Arc::new(Provisioner::new(policy, store));
    let portal = SsoPortal::new(Arc::clone(&provisioner), Arc::new(saml), replay_guard)
        .with_origin(base_url);
    // The demo's own pages (its homes and its IdP) get the portal's headers too; the
    // portal's routes carry them already.
    let own_pages = idp::routes(idp, config.people.clone(), base_url)
        .merge(homes::routes(Arc::clone(&provisioner)))
        .route_layer(axum::middleware::from_fn_with_state(
            SecurityHeaders::strict(),
            security_headers,
        ));
    let router = portal
        .router()
        .merge(own_pages)
        .layer(session_layer(sessions, base_url));
    Ok((router, provisioner))
}

/// The demo as `main` runs it, over the SQLite file `database` (made if missing):
/// accounts, sessions and the assertion ids seen all live there, so that a restart keeps
/// them. Seeds the accounts made before SSO and the members.
pub async fn sqlite_app(
    config: &DemoConfig,
    idp: Arc<TestIdp>,
    database: &Path,
    base_url: &str,
) -> Result<(Router, Arc<Provisioner<SqliteStore>>), String> {
    let store = SqliteStore::connect(&format!("sqlite://{}", database.display()))
        .await
        .map_err(|error| error.to_string())?;
    store.migrate().await.map_err(|error| error.to_string())?;
    seed_before_sso(config, store.pool()).await?;
    let sessions = tower_sessions_sqlx_store::SqliteStore::new(store.pool().clone());
    sessions
        .migrate()
        .await
        .map_err(|error| error.to_string())?;
    // In memory, the ids would be forgotten at every restart, and a captured response
    // could sign in once more.
    let replay_guard = Arc::new(SqliteReplayGuard::new(store.pool().clone()));
    let (router, provisioner) = app(config, idp, store, sessions, replay_guard, base_url)?;
    seed_members(config, &provisioner).await?;
    Ok((router, provisioner))
}

/// Signs the configured members in once through the policy, so that they exist as
/// members before anyone uses the demo. Idempotent: a second start signs them in again.
pub async fn seed_members<S: AccountStore>(
    config: &DemoConfig,
    provisioner: &Provisioner<S>,
) -> Result<(), String> {
    for member in &config.seed.members {
        let person = config
            .people
            .iter()
            .find(|person| person.subject == member.subject)
            .ok_or_else(|| format!("seed member `{}` is not among the people", member.subject))?;
        for (org, policy) in provisioner.policy().orgs() {
            let Some(portal) = policy.portal() else {
                continue;
            };
            let mut assertion = Assertion::new(org, portal.idp(), person.subject.clone())
                .with_groups(person.groups.clone());
            assertion.given_name.clone_from(&person.given_name);
            assertion.family_name.clone_from(&person.family_name);
            assertion.email.clone_from(&person.email);
            let assertion = Request::Assertion(assertion);
            provisioner
                .handle(&assertion, SystemTime::now().into())
                .await
                .map_err(|error| error.to_string())?;
        }
    }
    Ok(())
}

/// Inserts the accounts made before SSO, if they are not there yet.
pub async fn seed_before_sso(config: &DemoConfig, pool: &sqlx::SqlitePool) -> Result<(), String> {
    for account in &config.seed.before_sso {
        sqlx::query(
            "INSERT INTO jit_accounts (handle, handle_key, email, email_key, has_password)
             VALUES (?1, ?2, ?3, ?4, TRUE) ON CONFLICT (handle_key) DO NOTHING",
        )
        .bind(&account.handle)
        .bind(account.handle.to_lowercase())
        .bind(&account.email)
        .bind(jit_provisioning::email_key(&account.email))
        .execute(pool)
        .await
        .map_err(|error| error.to_string())?;
    }
    Ok(())
}
