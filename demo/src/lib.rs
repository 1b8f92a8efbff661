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
mod revoke;

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use jit_provisioning::org::{OrgDirectory, OrgRegistry, SamlSection};
use jit_provisioning::{
    AccountStore, Assertion, AuditLog, DeprovisionedIdentities, MembershipStore, NoSessionRevoker,
    OwnerLinks, Provisioner, ReplayGuard, Request, ScimGroups, ScimTokens, ScimUsers,
    SessionRevoker,
};
use jit_provisioning_axum::{
    security_headers, session_layer, OrgAdmin, ScimEndpoint, SecurityHeaders, SsoPortal,
};
use jit_provisioning_saml::test_idp::TestIdp;
use jit_provisioning_saml::{
    HttpFetcher, MetadataFetcher, SamlSettingsCheck, ServiceProvider, SpConfig,
};
use jit_provisioning_scim::ScimService;
use jit_provisioning_sqlx::{SqliteDirectory, SqliteReplayGuard, SqliteStore};
use tower_sessions::SessionStore;

pub use config::DemoConfig;
pub use revoke::SessionRevocations;

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
/// its orgs in `directory` and the assertion ids it has seen kept in `replay_guard`: the
/// guard of the accounts' database (`SqliteReplayGuard`, `PgReplayGuard`), so that a
/// restart does not forget them.
///
/// On first run (an empty directory) the orgs of `config.policy` are imported, each
/// trusting the demo's test IdP unless its `saml.idp` says otherwise; after that the
/// directory wins, and orgs change with `jit-provisioning orgs …` while the demo runs.
// Each argument is one of the app's own pieces that the tests swap (SQLite or
// PostgreSQL stores, sessions, revocations); a struct of them would only rename the list.
#[allow(clippy::too_many_arguments)]
pub async fn app<S, Sessions>(
    config: &DemoConfig,
    idp: Arc<TestIdp>,
    store: S,
    directory: Arc<dyn OrgDirectory>,
    sessions: Sessions,
    replay_guard: Arc<dyn ReplayGuard>,
    revocations: Option<SessionRevocations>,
    base_url: &str,
) -> Result<(Router, Arc<Provisioner<S>>), String>
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
    // The test IdP is on this machine: an org that names its metadata URL
    // (`http://127.0.0.1:3000/idp/metadata`) must be fetched from a loopback address.
    let fetcher: Arc<dyn MetadataFetcher> = Arc::new(
        HttpFetcher::new()
            .allow_private_addresses(true)
            .allow_http(true),
    );
    let registry = OrgRegistry::new(directory, &config.policy)
        .map_err(|error| error.to_string())?
        .with_sso_check(Arc::new(
            SamlSettingsCheck::new().with_fetcher(Arc::clone(&fetcher)),
        ));
    let registry = Arc::new(registry);
    seed_orgs(config, &registry, &idp, base_url).await?;
    let sp = SpConfig::new(base_url);
    let saml = ServiceProvider::from_registry(Arc::clone(&registry), &sp, None)
        .map_err(|error| error.to_string())?
        .with_metadata_fetcher(fetcher);
    // One store holds accounts, invites, the admin pages' audit log, owner links, SCIM
    // tokens, users and groups.
    let shared = Arc::new(store.clone());
    // The IdP's SCIM client deprovisions people: the portal refuses their SAML sign-ins,
    // and their sessions end.
    let revoker: Arc<dyn SessionRevoker> = match &revocations {
        Some(revocations) => Arc::new(revocations.clone()),
        None => Arc::new(NoSessionRevoker),
    };
    let provisioner = Arc::new(
        Provisioner::with_registry(Arc::clone(&registry), store)
            .with_invites(shared.clone())
            .with_deprovisioning(shared.clone())
            .with_scim_groups(shared.clone()),
    );
    let scim_base_url = format!("{base_url}/scim/v2");
    let scim = ScimService::new(
        shared.clone(),
        provisioner.policy().clone(),
        revoker,
        &scim_base_url,
    )
    .with_registry(registry)
    .with_groups(shared.clone());
    let scim = ScimEndpoint::new(Arc::new(scim), shared.clone());
    let portal = SsoPortal::new(Arc::clone(&provisioner), Arc::new(saml), replay_guard)
        .with_origin(base_url);
    // acme's admins make and revoke its SCIM tokens on its admin pages, in the store the
    // SCIM endpoint authenticates with.
    let admin = OrgAdmin::new(&portal, Arc::clone(&shared), shared.clone())
        .with_scim_tokens(shared.clone())
        .with_scim_base_url(scim_base_url)
        .with_owner_links(shared);
    // The demo's own pages (its homes and its IdP) get the portal's headers too; the
    // portal's routes carry them already, and the IdP's pages set their own (a policy
    // whose form-action names the ACS), which the middleware leaves as they are.
    let own_pages = idp::routes(idp, &config.people, base_url)?
        .merge(homes::routes(Arc::clone(&provisioner)))
        .route_layer(axum::middleware::from_fn_with_state(
            SecurityHeaders::strict(),
            security_headers,
        ));
    let mut router = portal.router().merge(admin.router()).merge(own_pages);
    if let Some(revocations) = revocations {
        router = router.layer(axum::middleware::from_fn_with_state(
            revocations,
            revoke::forget_revoked,
        ));
    }
    // The SCIM endpoint authenticates by bearer token: no session, no cookie.
    let router = router
        .layer(session_layer(sessions, base_url))
        .merge(scim.router());
    Ok((router, provisioner))
}

/// Imports the orgs of `config.policy` into an empty directory (the first run): each org
/// with JIT on and no `saml.idp` of its own trusts the test IdP (its metadata inline).
async fn seed_orgs(
    config: &DemoConfig,
    registry: &OrgRegistry,
    idp: &TestIdp,
    base_url: &str,
) -> Result<(), String> {
    let metadata = idp
        .metadata_xml(&format!("{base_url}/idp/sso"))
        .map_err(|error| error.to_string())?;
    let mut seed = config.policy.clone();
    for org in seed.orgs.values_mut() {
        if !org.jit {
            continue;
        }
        let mut settings = org
            .saml
            .as_ref()
            .map(|saml| saml.as_json().clone())
            .unwrap_or_default();
        if !settings.contains_key("idp") {
            settings.insert("idp".into(), serde_json::json!({ "metadata": metadata }));
        }
        org.saml = Some(SamlSection::from_json(settings));
    }
    registry
        .seed(&seed, "demo:first-run", SystemTime::now().into(), None)
        .await
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// The demo as `main` runs it, over the SQLite file `database` (made if missing):
/// accounts, sessions, orgs and the assertion ids seen all live there, so that a
/// restart keeps them. Seeds the orgs on first run, the accounts made before SSO and
/// the members.
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
    let directory = Arc::new(SqliteDirectory::new(store.pool().clone()));
    let revocations = SessionRevocations::new(store.pool().clone())
        .await
        .map_err(|error| error.to_string())?;
    let (router, provisioner) = app(
        config,
        idp,
        store,
        directory,
        sessions,
        replay_guard,
        Some(revocations),
        base_url,
    )
    .await?;
    seed_members(config, &provisioner).await?;
    Ok((router, provisioner))
}

/// The ids of the orgs whose portal is open, in order (at most a hundred).
pub async fn open_portals<S: AccountStore>(
    provisioner: &Provisioner<S>,
) -> Result<Vec<String>, String> {
    let Some(registry) = provisioner.registry() else {
        return Ok(Vec::new());
    };
    let records = registry
        .list(None, 100)
        .await
        .map_err(|error| error.to_string())?;
    Ok(records
        .into_iter()
        .filter(|record| record.config.jit && record.config.state.is_active())
        .map(|record| record.id)
        .collect())
}

/// Signs the configured members in once through the policy, so that they exist as
/// members before anyone uses the demo. Idempotent: a second start signs them in again.
pub async fn seed_members<S: AccountStore>(
    config: &DemoConfig,
    provisioner: &Provisioner<S>,
) -> Result<(), String> {
    let orgs = open_portals(provisioner).await?;
    for member in &config.seed.members {
        let person = config
            .people
            .iter()
            .find(|person| person.subject == member.subject)
            .ok_or_else(|| format!("seed member `{}` is not among the people", member.subject))?;
        for org in &orgs {
            let policy = provisioner
                .policy_for(org)
                .await
                .map_err(|error| error.to_string())?;
            let Some(portal) = policy.org(org).and_then(|policy| policy.portal()) else {
                continue;
            };
            let mut assertion = Assertion::new(org.as_str(), portal.idp(), person.subject.clone())
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
