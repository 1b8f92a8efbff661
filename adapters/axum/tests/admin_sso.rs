//! The SSO set-up page end to end, in process: orgs in a registry, people signed in
//! through the portal with the test IdP, new IdP metadata staged as pending, test
//! sign-ins through a second test IdP, activation, settings, CSRF, access and audit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{request_id, Browser, Reply, Serves, ORIGIN};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use axum::http::{header, Method, StatusCode};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::org::{MemoryDirectory, OrgRecord, OrgRegistry, OrgState};
use jit_provisioning::{
    AccountRecord, AccountStore, AdminAction, Config, Identity, MemoryAuditLog, MemoryReplayGuard,
    MemoryStore, Provisioner, Role,
};
use jit_provisioning_axum::{
    session_layer, signed_in, AdminAccess, AdminAuthorization, AdminVisitor, OrgAdmin, SsoPortal,
};
use jit_provisioning_saml::test_idp::{
    post_form_value, BadResponse, ResponseTarget, TestIdp, TestPerson,
};
use jit_provisioning_saml::{
    address_class, FetchError, FetchedMetadata, MetadataFetcher, OrgSamlConfig, PendingTrust,
    SamlSettingsCheck, ServiceProvider, SpConfig,
};
use serde_json::{json, Value};
use tower_sessions::MemoryStore as SessionMemory;

const ACME_IDP: &str = "https://idp.acme.example/metadata";
const OLD_SSO: &str = "https://idp.acme.example/sso";
const NEW_SSO: &str = "https://idp2.acme.example/sso";
const INITECH_IDP: &str = "https://idp.initech.example/metadata";
const INITECH_SSO: &str = "https://idp.initech.example/sso";
/// A metadata URL the test fetcher serves (the new IdP's metadata).
const NEW_METADATA_URL: &str = "https://idp2.acme.example/app/metadata";

/// Acme's IdP as it is: the trust in use.
fn old_idp() -> &'static TestIdp {
    static KEYS: OnceLock<TestIdp> = OnceLock::new();
    KEYS.get_or_init(|| TestIdp::generate(ACME_IDP).unwrap())
}

/// Acme's IdP after it rolled its key (same entity id, another key, another SSO URL).
fn new_idp() -> &'static TestIdp {
    static KEYS: OnceLock<TestIdp> = OnceLock::new();
    KEYS.get_or_init(|| TestIdp::generate(ACME_IDP).unwrap())
}

/// The IdP of initech, a draft org with no SSO yet.
fn initech_idp() -> &'static TestIdp {
    static KEYS: OnceLock<TestIdp> = OnceLock::new();
    KEYS.get_or_init(|| TestIdp::generate(INITECH_IDP).unwrap())
}

fn old_metadata() -> String {
    old_idp().metadata_xml(OLD_SSO).unwrap()
}

fn new_metadata() -> String {
    new_idp().metadata_xml(NEW_SSO).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn identity(issuer: &str, subject: &str) -> Identity {
    Identity {
        issuer: issuer.into(),
        subject: subject.into(),
    }
}

/// Jane: acme's admin. Sam: a member of acme.
fn accounts() -> Vec<AccountRecord> {
    let mut jane = AccountRecord::new("a-jane", "jane-doe")
        .with_email("jane@acme.example")
        .with_identity(identity(ACME_IDP, "00u1"))
        .with_membership("acme", Role::Admin);
    jane.given_name = Some("Jane".into());
    jane.family_name = Some("Doe".into());
    let sam = AccountRecord::new("a-sam", "sam-lee")
        .with_email("sam@acme.example")
        .with_identity(identity(ACME_IDP, "00u2"))
        .with_membership("acme", Role::Member);
    vec![jane, sam]
}

/// Fetches metadata as `HttpFetcher` would, without a network: a host that is an
/// address inside the network is refused, a known URL answers its body, any other 404.
#[derive(Debug, Default)]
struct TestFetcher {
    bodies: Mutex<HashMap<String, String>>,
}

impl TestFetcher {
    fn serve(&self, url: &str, body: String) {
        self.bodies.lock().unwrap().insert(url.to_owned(), body);
    }
}

#[async_trait]
impl MetadataFetcher for TestFetcher {
    async fn fetch(&self, url: &str) -> Result<FetchedMetadata, FetchError> {
        let host = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest)
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        let host = host
            .trim_start_matches('[')
            .split(']')
            .next()
            .unwrap_or(host);
        let host = if host.matches(':').count() == 1 {
            host.split(':').next().unwrap_or(host)
        } else {
            host
        };
        if let Ok(address) = host.parse::<IpAddr>() {
            if let Some(class) = address_class(address) {
                return Err(FetchError::RefusedAddress {
                    url: url.to_owned(),
                    address,
                    class,
                });
            }
        }
        match self.bodies.lock().unwrap().get(url) {
            Some(body) => Ok(FetchedMetadata::new(body.clone(), now())),
            None => Err(FetchError::Status {
                url: url.to_owned(),
                status: 404,
                location: None,
            }),
        }
    }
}

/// Lets every signed-in account with an account use every org's admin pages: how an
/// app's staff set up a draft org whose SSO does not work yet.
#[derive(Debug)]
struct Staff;

#[async_trait]
impl AdminAuthorization for Staff {
    async fn authorize(
        &self,
        visitor: &AdminVisitor<'_>,
    ) -> Result<AdminAccess, jit_provisioning::BoxError> {
        Ok(match visitor.account {
            Some(_) => AdminAccess::Allowed,
            None => AdminAccess::Refused(jit_provisioning_axum::AdminRefusal::NoAccount),
        })
    }
}

/// The portal and the admin pages over one registry and one store.
struct World {
    app: Router,
    registry: Arc<OrgRegistry>,
    store: Arc<MemoryStore>,
    audit: Arc<MemoryAuditLog>,
    fetcher: Arc<TestFetcher>,
}

impl World {
    async fn new() -> Self {
        Self::with(|admin| admin).await
    }

    async fn with(
        customize: impl FnOnce(OrgAdmin<Arc<MemoryStore>>) -> OrgAdmin<Arc<MemoryStore>>,
    ) -> Self {
        let fetcher = Arc::new(TestFetcher::default());
        fetcher.serve(NEW_METADATA_URL, new_metadata());
        let registry = OrgRegistry::new(Arc::new(MemoryDirectory::new()), &Config::default())
            .unwrap()
            .with_sso_check(Arc::new(
                SamlSettingsCheck::new().with_fetcher(fetcher.clone()),
            ));
        let registry = Arc::new(registry);
        let orgs: Config = serde_json::from_value(json!({
            "orgs": {
                "acme": {"jit": true, "idp": ACME_IDP, "saml": {"idp": {"metadata": old_metadata()}}},
                "initech": {"state": "draft"}
            }
        }))
        .unwrap();
        registry.import(&orgs, "test", now(), None).await.unwrap();
        let saml =
            ServiceProvider::from_registry(Arc::clone(&registry), &SpConfig::new(ORIGIN), None)
                .unwrap()
                .with_metadata_fetcher(fetcher.clone());
        let store = Arc::new(MemoryStore::with_accounts(accounts()).unwrap());
        let audit = Arc::new(MemoryAuditLog::new());
        let provisioner = Provisioner::with_registry(Arc::clone(&registry), Arc::clone(&store))
            .with_invites(store.clone());
        let portal = SsoPortal::new(
            Arc::new(provisioner),
            Arc::new(saml),
            Arc::new(MemoryReplayGuard::new()),
        )
        .with_clock(Arc::new(now))
        .with_origin(ORIGIN);
        let admin = customize(OrgAdmin::new(&portal, Arc::clone(&store), audit.clone()));
        let app = portal
            .router()
            .merge(admin.router())
            .route(
                "/whoami",
                get(|session: tower_sessions::Session| async move {
                    let who = signed_in(&session)
                        .await
                        .map(|who| json!({"handle": who.handle, "org": who.org}));
                    serde_json::to_string(&who).unwrap()
                }),
            )
            .layer(session_layer(SessionMemory::default(), ORIGIN));
        World {
            app,
            registry,
            store,
            audit,
            fetcher,
        }
    }

    async fn record(&self, org: &str) -> OrgRecord {
        self.registry.directory().org(org).await.unwrap().unwrap()
    }

    async fn version(&self, org: &str) -> u64 {
        self.record(org).await.version
    }

    async fn pending(&self, org: &str) -> Option<PendingTrust> {
        let record = self.record(org).await;
        PendingTrust::from_section(record.config.saml.as_ref()?).unwrap()
    }

    /// The metadata of the trust in use.
    async fn active_metadata(&self, org: &str) -> Option<String> {
        let record = self.record(org).await;
        OrgSamlConfig::from_section(record.config.saml.as_ref()?)
            .unwrap()
            .idp
            .metadata
    }

    fn actions(&self) -> Vec<AdminAction> {
        self.audit
            .events()
            .into_iter()
            .map(|event| event.action)
            .collect()
    }

    fn action_names(&self) -> Vec<&'static str> {
        self.audit
            .events()
            .iter()
            .map(|event| event.action.name())
            .collect()
    }
}

impl Serves for World {
    fn app(&self) -> Router {
        self.app.clone()
    }
}

impl Reply {
    /// The problems shown in place for `field`.
    fn problems(&self, field: &str) -> Vec<String> {
        let marker = format!("data-field=\"{field}\" role=\"alert\">");
        self.body
            .split(&marker)
            .skip(1)
            .map(|rest| rest.split("</p>").next().unwrap().to_owned())
            .collect()
    }
}

impl Browser {
    /// The SSO page of `org`.
    async fn page(&mut self, world: &World, org: &str) -> Reply {
        let page = self.get(world, &format!("/{org}/admin/sso")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page
    }

    /// Signs in as `subject` through acme's portal and its IdP as it is now (`idp`).
    async fn sign_in_with(&mut self, world: &World, idp: &TestIdp, subject: &str) -> Reply {
        let redirect = self.get(world, "/acme/login/sso").await;
        let location = redirect.location.unwrap();
        self.post_response(
            world,
            "acme",
            idp,
            &TestPerson::new(subject),
            &request_id(&location),
        )
        .await
    }

    /// Signs in as `subject` through acme's portal and the IdP in use.
    async fn sign_in(&mut self, world: &World, subject: &str) {
        let landed = self.sign_in_with(world, old_idp(), subject).await;
        assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
        assert_eq!(self.whoami(world).await["org"], "acme");
    }

    async fn whoami(&mut self, world: &World) -> Value {
        self.get(world, "/whoami").await.json()
    }

    async fn post_response(
        &mut self,
        world: &World,
        org: &str,
        idp: &TestIdp,
        person: &TestPerson,
        request_id: &str,
    ) -> Reply {
        let xml = idp
            .response(person, &target(org, request_id), now())
            .unwrap();
        self.post_xml(world, org, &xml).await
    }

    async fn post_xml(&mut self, world: &World, org: &str, xml: &str) -> Reply {
        let value = post_form_value(xml);
        self.post_form(
            world,
            &format!("/{org}/saml/acs"),
            &[("SAMLResponse", value.as_str())],
            &[],
        )
        .await
    }

    /// Stages `metadata` (pasted) on acme's SSO page.
    async fn stage(&mut self, world: &World, metadata: &str) -> Reply {
        self.page(world, "acme").await;
        let version = world.version("acme").await.to_string();
        self.submit(
            world,
            "/acme/admin/sso/metadata",
            &[("version", &version), ("metadata", metadata)],
        )
        .await
    }

    /// Starts a test sign-in of `org`: the AuthnRequest's id, and where it goes.
    async fn start_test(&mut self, world: &World, org: &str) -> (String, String) {
        self.page(world, org).await;
        let trip = self
            .submit(world, &format!("/{org}/admin/sso/test"), &[])
            .await;
        assert_eq!(trip.status, StatusCode::SEE_OTHER, "{}", trip.body);
        let location = trip.location.unwrap();
        (request_id(&location), location)
    }

    /// A whole test sign-in of acme answered by `idp` as `person`: the result page.
    async fn test_sign_in(&mut self, world: &World, idp: &TestIdp, person: &TestPerson) -> Reply {
        let (id, _) = self.start_test(world, "acme").await;
        let answered = self.post_response(world, "acme", idp, person, &id).await;
        assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
        assert_eq!(answered.location.as_deref(), Some("/acme/admin/sso/test"));
        let result = self.get(world, "/acme/admin/sso/test").await;
        assert_eq!(result.status, StatusCode::OK, "{}", result.body);
        result
    }
}

fn target(org: &str, request_id: &str) -> ResponseTarget {
    ResponseTarget::new(
        format!("{ORIGIN}/{org}/saml/metadata"),
        format!("{ORIGIN}/{org}/saml/acs"),
    )
    .with_in_response_to(request_id)
}

fn ada() -> TestPerson {
    TestPerson::new("00u9")
        .with_given_name("Ada")
        .with_family_name("Lovelace")
        .with_email("ada@acme.example")
        .with_group("engineering")
}

/// Jane, acme's admin, signed in through acme's portal, the SSO page read.
async fn jane(world: &World) -> Browser {
    let mut browser = Browser::default();
    browser.sign_in(world, "00u1").await;
    browser.page(world, "acme").await;
    browser
}

#[tokio::test]
async fn the_page_shows_what_to_enter_in_the_idp() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    let page = jane.page(&world, "acme").await;
    for (id, value) in [
        ("sp-entity-id", "http://127.0.0.1:3000/acme/saml/metadata"),
        ("acs-url", "http://127.0.0.1:3000/acme/saml/acs"),
        (
            "sp-metadata-url",
            "http://127.0.0.1:3000/acme/saml/metadata",
        ),
    ] {
        assert!(
            page.body
                .contains(&format!("<code id=\"{id}\">{value}</code>")),
            "{id}: {}",
            page.body
        );
    }
    assert!(page
        .body
        .contains("href=\"/acme/admin/sso/sp-metadata.xml\" download"));
    // The trust in use, read from the org's record.
    assert!(page.body.contains("id=\"trust-active\""));
    assert!(page.says(ACME_IDP));
    assert!(page.says(OLD_SSO));
    assert!(page.body.contains("id=\"no-pending-trust\""));

    let download = jane.get(&world, "/acme/admin/sso/sp-metadata.xml").await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(
        download.headers[header::CONTENT_TYPE],
        "application/samlmetadata+xml"
    );
    assert_eq!(
        download.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"acme-sp-metadata.xml\""
    );
    assert!(download
        .body
        .contains(r#"entityID="http://127.0.0.1:3000/acme/saml/metadata""#));
    assert!(download
        .body
        .contains(r#"Location="http://127.0.0.1:3000/acme/saml/acs""#));

    let api = jane
        .api(&world, Method::GET, "/acme/admin/api/sso", None)
        .await;
    assert_eq!(api.status, StatusCode::OK);
    let api = api.json();
    assert_eq!(
        api["sp"]["entity_id"],
        "http://127.0.0.1:3000/acme/saml/metadata"
    );
    assert_eq!(api["sp"]["acs_url"], "http://127.0.0.1:3000/acme/saml/acs");
    assert_eq!(
        api["sp"]["metadata_download"],
        "/acme/admin/sso/sp-metadata.xml"
    );
    assert_eq!(api["version"], world.version("acme").await);
    assert_eq!(api["trust"]["active"]["entity_id"], ACME_IDP);
    assert_eq!(api["trust"]["pending"], Value::Null);
    assert_eq!(api["settings"]["jit"], true);
    assert_eq!(api["settings"]["default_role"], "member");
    assert_eq!(api["settings"]["preset"], "auto");
}

#[tokio::test]
async fn pasted_metadata_is_staged_pending_and_sign_ins_keep_the_trust_in_use() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    let before = world.version("acme").await;
    let staged = jane.stage(&world, &new_metadata()).await;
    assert_eq!(staged.status, StatusCode::SEE_OTHER, "{}", staged.body);
    assert_eq!(staged.location.as_deref(), Some("/acme/admin/sso"));
    let page = jane.page(&world, "acme").await;
    assert!(
        page.says("staged the IdP trust of https://idp.acme.example/metadata as pending"),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"trust-pending\""));
    assert!(page.says(NEW_SSO), "the pending trust's SSO URL is shown");
    assert!(page.body.contains("Not tested yet"));
    assert!(
        !page.body.contains("id=\"activate\""),
        "nothing to activate before a test"
    );

    // The record keeps the trust in use, and the new one pending.
    assert_eq!(world.version("acme").await, before + 1);
    assert_eq!(world.active_metadata("acme").await, Some(old_metadata()));
    let pending = world.pending("acme").await.unwrap();
    assert_eq!(pending.idp.metadata, Some(new_metadata()));
    assert_eq!(pending.entity_id, ACME_IDP);
    assert_eq!(pending.source, "pasted");
    assert_eq!(pending.staged_by, "jane-doe");
    assert!(pending.passed.is_none());
    assert_eq!(
        world.actions(),
        [AdminAction::SsoTrustStaged {
            trust: pending.fingerprint(),
            entity_id: ACME_IDP.into(),
            source: "pasted".into(),
        }]
    );

    // Sign-ins go on with the trust in use: the old key signs people in, the new one
    // does not yet.
    let mut sam = Browser::default();
    sam.sign_in(&world, "00u2").await;
    let mut lee = Browser::default();
    let refused = lee.sign_in_with(&world, new_idp(), "00u2").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(lee.whoami(&world).await, Value::Null);
}

#[tokio::test]
async fn a_test_sign_in_shows_every_check_and_mapping_and_signs_no_one_in() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    jane.stage(&world, &new_metadata()).await;
    let accounts = world.store.len();

    // The trip goes to the pending trust's IdP.
    let (id, location) = jane.start_test(&world, "acme").await;
    assert!(location.starts_with(NEW_SSO), "{location}");
    let answered = jane
        .post_response(&world, "acme", new_idp(), &ada(), &id)
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    assert_eq!(answered.location.as_deref(), Some("/acme/admin/sso/test"));
    let result = jane.get(&world, "/acme/admin/sso/test").await;
    assert_eq!(result.status, StatusCode::OK);
    assert!(
        result.body.contains("Test sign-in passed"),
        "{}",
        result.body
    );
    for check in [
        "well_formed",
        "status",
        "one_assertion",
        "signature",
        "assertion_issuer",
        "audience",
        "in_response_to",
    ] {
        assert!(
            result
                .body
                .contains(&format!("<tr class=\"pass\"><td><code>{check}</code>")),
            "{check}: {}",
            result.body
        );
    }
    for attribute in ["firstName", "lastName", "email", "groups"] {
        assert!(
            result.body.contains(&format!("<code>{attribute}</code>")),
            "{attribute}"
        );
    }
    assert!(result.body.contains("From the verified assertion."));
    assert!(result.says("ada@acme.example"));
    assert!(
        result.body.contains("<code id=\"rule\">jit_create</code>"),
        "{}",
        result.body
    );
    assert!(result.says("ada-lovelace (a new account would be created)"));
    assert!(
        result.body.contains("<td id=\"roles\">member in acme</td>"),
        "{}",
        result.body
    );
    assert!(result.body.contains("id=\"activate\""));
    assert!(result.says("No one was signed in, and nothing was created or changed."));

    // No account was made, and the session is Jane's as it was.
    assert_eq!(world.store.len(), accounts);
    assert!(world
        .store
        .account_by_identity(&identity(ACME_IDP, "00u9"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(jane.whoami(&world).await["handle"], "jane-doe");

    // The pass is kept with the pending trust, bound to its fingerprint.
    let pending = world.pending("acme").await.unwrap();
    assert!(pending.is_tested());
    let passed = pending.passed.clone().unwrap();
    assert_eq!(passed.subject, "00u9");
    assert_eq!(passed.by, "jane-doe");
    assert_eq!(
        world.actions().last().unwrap(),
        &AdminAction::SsoTestPassed {
            trust: Some(pending.fingerprint()),
            entity_id: ACME_IDP.into(),
            subject: "00u9".into(),
        }
    );

    // The API shows the same result.
    let api = jane
        .api(&world, Method::GET, "/acme/admin/api/sso/test", None)
        .await;
    assert_eq!(api.status, StatusCode::OK);
    let api = api.json();
    assert_eq!(api["passed"], true);
    assert_eq!(api["trust"], pending.fingerprint());
    assert_eq!(api["decision"]["rule"], "jit_create");
    assert_eq!(api["decision"]["handle"], "ada-lovelace");
    assert_eq!(api["decision"]["creates_account"], true);
    assert_eq!(
        api["decision"]["roles"],
        json!([{"org": "acme", "role": "member"}])
    );
    assert_eq!(api["mapped"]["given_name"], "Ada");
    assert_eq!(api["mapped"]["groups"], json!(["engineering"]));
    assert!(api["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|check| check["result"] == "pass"));

    // Jane herself: her account as it is, with its roles.
    let result = jane
        .test_sign_in(&world, new_idp(), &TestPerson::new("00u1"))
        .await;
    assert!(
        result
            .body
            .contains("<code id=\"rule\">linked_member</code>"),
        "{}",
        result.body
    );
    assert!(result.says("jane-doe (an existing account)"));
    assert!(
        result.body.contains("<td id=\"roles\">admin in acme</td>"),
        "{}",
        result.body
    );
    assert_eq!(jane.whoami(&world).await["handle"], "jane-doe");

    // The same answer posted again is no new test: the trip was used up, and as a
    // sign-in it answers no request of this session.
    let (id, _) = jane.start_test(&world, "acme").await;
    let xml = new_idp()
        .response(&ada(), &target("acme", &id), now())
        .unwrap();
    assert_eq!(
        jane.post_xml(&world, "acme", &xml).await.status,
        StatusCode::SEE_OTHER
    );
    let again = jane.post_xml(&world, "acme", &xml).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
    assert_eq!(world.store.len(), accounts);
}

#[tokio::test]
async fn activation_after_a_pass_makes_the_new_trust_serve_sign_ins() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    jane.stage(&world, &new_metadata()).await;
    let result = jane.test_sign_in(&world, new_idp(), &ada()).await;
    assert!(result.body.contains("id=\"activate\""));
    let fingerprint = world.pending("acme").await.unwrap().fingerprint();

    let activated = jane
        .submit(
            &world,
            "/acme/admin/sso/activate",
            &[("fingerprint", &fingerprint)],
        )
        .await;
    assert_eq!(
        activated.status,
        StatusCode::SEE_OTHER,
        "{}",
        activated.body
    );
    let page = jane.page(&world, "acme").await;
    assert!(
        page.says(
            "activated the IdP trust of https://idp.acme.example/metadata: sign-ins use it now"
        ),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"no-pending-trust\""));
    assert!(page.says(NEW_SSO), "the trust in use is the new one");

    assert_eq!(world.active_metadata("acme").await, Some(new_metadata()));
    assert!(world.pending("acme").await.is_none());
    assert_eq!(world.record("acme").await.config.state, OrgState::Active);
    assert_eq!(
        world.actions().last().unwrap(),
        &AdminAction::SsoTrustActivated {
            trust: fingerprint,
            entity_id: ACME_IDP.into(),
            opened: false,
        }
    );

    // The portal now sends people to the new IdP, which signs them in; the old key no
    // longer does.
    let mut sam = Browser::default();
    let redirect = sam.get(&world, "/acme/login/sso").await;
    assert!(redirect.location.clone().unwrap().starts_with(NEW_SSO));
    let landed = sam
        .post_response(
            &world,
            "acme",
            new_idp(),
            &TestPerson::new("00u2"),
            &request_id(&redirect.location.unwrap()),
        )
        .await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    assert_eq!(sam.whoami(&world).await["handle"], "sam-lee");
    let mut lee = Browser::default();
    let refused = lee.sign_in_with(&world, old_idp(), "00u2").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn activation_without_a_pass_or_after_a_later_edit_is_refused() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    jane.stage(&world, &new_metadata()).await;
    let first = world.pending("acme").await.unwrap().fingerprint();

    // Not tested.
    jane.page(&world, "acme").await;
    let refused = jane
        .submit(
            &world,
            "/acme/admin/sso/activate",
            &[("fingerprint", &first)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.says("no test sign-in has passed with the pending IdP trust"),
        "{}",
        refused.body
    );
    assert_eq!(world.active_metadata("acme").await, Some(old_metadata()));

    // Tested, then edited: the same metadata staged again is a new trust to test.
    jane.test_sign_in(&world, new_idp(), &ada()).await;
    assert!(world.pending("acme").await.unwrap().is_tested());
    jane.stage(&world, &new_metadata()).await;
    let second = world.pending("acme").await.unwrap();
    assert!(!second.is_tested(), "a later edit needs its own test");
    assert_ne!(second.fingerprint(), first);

    jane.page(&world, "acme").await;
    let stale = jane
        .submit(
            &world,
            "/acme/admin/sso/activate",
            &[("fingerprint", &first)],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.says("the pending IdP trust is not the one you tested"),
        "{}",
        stale.body
    );
    let untested = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/sso/activate",
            Some(json!({"fingerprint": second.fingerprint()})),
        )
        .await;
    assert_eq!(untested.status, StatusCode::CONFLICT);
    assert_eq!(untested.json()["error"], "not_tested");
    let stale = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/sso/activate",
            Some(json!({"fingerprint": first})),
        )
        .await;
    assert_eq!(stale.json()["error"], "trust_changed");
    assert_eq!(world.active_metadata("acme").await, Some(old_metadata()));
    assert!(!world.action_names().contains(&"sso_trust_activated"));
}

#[tokio::test]
async fn a_failed_test_shows_the_failing_check_and_keeps_the_trust_pending() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    jane.stage(&world, &new_metadata()).await;
    let (id, _) = jane.start_test(&world, "acme").await;
    let forged = new_idp()
        .bad_response(
            BadResponse::SignedByOtherKey,
            &ada(),
            &target("acme", &id),
            now(),
        )
        .unwrap();
    let answered = jane.post_xml(&world, "acme", &forged).await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    let result = jane.get(&world, "/acme/admin/sso/test").await;
    assert!(
        result.body.contains("Test sign-in failed"),
        "{}",
        result.body
    );
    assert!(
        result
            .body
            .contains("The check <code>bad_signature</code> failed"),
        "{}",
        result.body
    );
    assert!(result
        .body
        .contains("<tr class=\"fail\"><td><code>bad_signature</code>"));
    assert!(result
        .body
        .contains("<tr class=\"pass\"><td><code>well_formed</code>"));
    assert!(
        result.body.contains("NOT verified"),
        "what it claims is shown, marked"
    );
    assert!(result.body.contains("id=\"still-pending\""));
    assert!(!result.body.contains("id=\"activate\""));

    let pending = world.pending("acme").await.unwrap();
    assert!(pending.passed.is_none());
    assert_eq!(world.active_metadata("acme").await, Some(old_metadata()));
    match world.actions().last().unwrap() {
        AdminAction::SsoTestFailed { trust, check, .. } => {
            assert_eq!(trust.as_deref(), Some(pending.fingerprint().as_str()));
            assert_eq!(check, "bad_signature");
        }
        other => panic!("{other:?}"),
    }
    let api = jane
        .api(&world, Method::GET, "/acme/admin/api/sso/test", None)
        .await
        .json();
    assert_eq!(api["passed"], false);
    assert_eq!(api["failure"]["check"], "bad_signature");

    // The trust in use's IdP does not pass a test of the pending trust either.
    let result = jane.test_sign_in(&world, old_idp(), &ada()).await;
    assert!(result
        .body
        .contains("The check <code>bad_signature</code> failed"));
    let activate = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/sso/activate",
            Some(json!({"fingerprint": pending.fingerprint()})),
        )
        .await;
    assert_eq!(activate.json()["error"], "not_tested");
    assert_eq!(jane.whoami(&world).await["handle"], "jane-doe");
}

#[tokio::test]
async fn oversized_malformed_or_private_metadata_is_refused_with_nothing_changed() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    let version = world.version("acme").await;

    let padding = "x".repeat(1024 * 1024);
    let oversized = new_metadata().replace(
        "<md:IDPSSODescriptor",
        &format!("<!-- {padding} --><md:IDPSSODescriptor"),
    );
    let refused = jane.stage(&world, &oversized).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let problems = refused.problems("metadata");
    assert_eq!(problems.len(), 1, "{}", refused.body);
    assert!(
        problems[0].contains("larger than the 1 MB (1048576 bytes) this page takes"),
        "{problems:?}"
    );

    // Past what the server reads at all: the same words.
    let huge = "x".repeat(3 * 1024 * 1024);
    let refused = jane.stage(&world, &huge).await;
    assert_eq!(
        refused.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("larger than the 1 MB"),
        "{}",
        refused.body
    );
    let api = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/sso/metadata",
            Some(json!({"version": version, "xml": huge})),
        )
        .await;
    assert_eq!(api.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(api.json()["error"], "metadata_too_large");

    for (malformed, says) in [
        ("<md:EntityDescriptor entityID=\"x\"", "not well-formed XML"),
        (
            "<html><body>Sign in</body></html>",
            "not md:EntityDescriptor",
        ),
        ("not XML at all", "not well-formed XML"),
    ] {
        let refused = jane.stage(&world, malformed).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{malformed}"
        );
        let problems = refused.problems("metadata");
        assert!(
            problems.iter().any(|problem| problem.contains(says)),
            "{malformed}: {problems:?}"
        );
        assert!(problems
            .iter()
            .all(|problem| problem.contains("nothing was staged")));
    }

    for (url, class) in [
        ("https://10.0.0.5/metadata", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://127.0.0.1:8443/metadata", "loopback"),
    ] {
        jane.page(&world, "acme").await;
        let refused = jane
            .submit(
                &world,
                "/acme/admin/sso/metadata",
                &[("version", &version.to_string()), ("metadata_url", url)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let problems = refused.problems("metadata");
        assert!(
            problems.iter().any(|problem| problem.contains(&format!(
                "a {class} address; metadata is fetched only from public addresses"
            ))),
            "{url}: {problems:?}"
        );
        assert!(
            refused.body.contains(&format!("value=\"{url}\"")),
            "the URL is kept in the form"
        );
        let api = jane
            .api(
                &world,
                Method::POST,
                "/acme/admin/api/sso/metadata",
                Some(json!({"version": version, "url": url})),
            )
            .await;
        assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(api.json()["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains(class));
    }

    assert_eq!(world.version("acme").await, version);
    assert!(world.pending("acme").await.is_none());
    assert!(world.actions().is_empty());
}

#[tokio::test]
async fn metadata_from_a_url_is_fetched_with_the_site_s_fetcher_and_tested() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    let version = world.version("acme").await.to_string();
    let staged = jane
        .submit(
            &world,
            "/acme/admin/sso/metadata",
            &[("version", &version), ("metadata_url", NEW_METADATA_URL)],
        )
        .await;
    assert_eq!(staged.status, StatusCode::SEE_OTHER, "{}", staged.body);
    let pending = world.pending("acme").await.unwrap();
    assert_eq!(pending.idp.metadata_url.as_deref(), Some(NEW_METADATA_URL));
    assert_eq!(pending.source, NEW_METADATA_URL);
    let result = jane.test_sign_in(&world, new_idp(), &ada()).await;
    assert!(
        result.body.contains("Test sign-in passed"),
        "{}",
        result.body
    );
    let activated = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/sso/activate",
            Some(json!({"fingerprint": pending.fingerprint()})),
        )
        .await;
    assert_eq!(activated.status, StatusCode::OK, "{}", activated.body);
    let record = world.record("acme").await;
    let settings = OrgSamlConfig::from_section(record.config.saml.as_ref().unwrap()).unwrap();
    assert_eq!(settings.idp.metadata_url.as_deref(), Some(NEW_METADATA_URL));
    let mut sam = Browser::default();
    let landed = sam.sign_in_with(&world, new_idp(), "00u2").await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);

    // A URL that answers nothing is said so.
    let version = world.version("acme").await.to_string();
    jane.page(&world, "acme").await;
    let missing = jane
        .submit(
            &world,
            "/acme/admin/sso/metadata",
            &[
                ("version", &version),
                ("metadata_url", "https://idp.acme.example/nothing"),
            ],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.problems("metadata")[0].contains("answered 404"));
    assert_eq!(world.fetcher.bodies.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_bad_setting_shows_its_problem_in_place_and_nothing_is_saved() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    let version = world.version("acme").await;
    let v = version.to_string();
    let refused = jane
        .submit(
            &world,
            "/acme/admin/sso/settings",
            &[
                ("version", &v),
                ("preset", "auto"),
                ("jit", "on"),
                ("default_role", "owner"),
                ("group_roles", "engineering = contributor\nops = superuser"),
                ("verified_domains", "acme.example\nnot_a_domain"),
                ("reauth_after_secs", "99999999999"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.problems("default_role")[0].contains("unknown role `owner`"),
        "{}",
        refused.body
    );
    assert!(refused.problems("group_roles")[0].contains("unknown role `superuser`"));
    assert!(refused.problems("verified_domains")[0].contains("`not_a_domain`"));
    assert!(refused.problems("reauth_after_secs")[0].contains("at most 31622400 seconds"));
    // The form shows what was sent, to fix in place.
    assert!(refused.body.contains("ops = superuser"));
    assert!(refused.body.contains("value=\"99999999999\""));

    let refused = jane
        .submit(
            &world,
            "/acme/admin/sso/settings",
            &[
                ("version", &v),
                ("jit", "on"),
                ("default_role", "member"),
                ("reauth_after_secs", "soon"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.problems("reauth_after_secs")[0].contains("`soon` is not a number of seconds"));

    let api = jane
        .api(
            &world,
            Method::PUT,
            "/acme/admin/api/sso",
            Some(json!({"version": version, "default_role": "owner", "verified_domains": ["-bad-"], "preset": "okay"})),
        )
        .await;
    assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
    let api = api.json();
    assert_eq!(api["error"], "invalid_settings");
    let fields: Vec<&str> = api["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["preset"],
        "a preset that is none is refused before the engine is asked"
    );

    assert_eq!(world.version("acme").await, version);
    assert!(world.actions().is_empty());

    // A good save, through the form and the API.
    jane.page(&world, "acme").await;
    let saved = jane
        .submit(
            &world,
            "/acme/admin/sso/settings",
            &[
                ("version", &v),
                ("preset", "okta"),
                ("jit", "on"),
                ("default_role", "contributor"),
                ("group_roles", "cn=admins,ou=groups = admin"),
                ("verified_domains", "acme.example"),
                ("reauth_after_secs", "3600"),
                ("force_authn", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let record = world.record("acme").await;
    assert_eq!(record.version, version + 1);
    let config = &record.config;
    assert_eq!(config.provision.as_ref().unwrap()[0].role, "contributor");
    assert_eq!(config.group_roles[0].group, "cn=admins,ou=groups");
    assert_eq!(config.verified_domains, ["acme.example"]);
    assert_eq!(config.reauth_after_secs, Some(3600));
    assert!(config.force_authn);
    let settings = OrgSamlConfig::from_section(config.saml.as_ref().unwrap()).unwrap();
    assert_eq!(settings.attributes.preset.as_str(), "okta");
    assert_eq!(
        settings.idp.metadata,
        Some(old_metadata()),
        "the trust is untouched"
    );
    match world.actions().last().unwrap() {
        AdminAction::SsoSettingsChanged {
            version: written,
            fields,
        } => {
            assert_eq!(*written, version + 1);
            for field in [
                "force_authn",
                "group_roles",
                "provision",
                "reauth_after_secs",
                "saml.attributes.preset",
                "verified_domains",
            ] {
                assert!(
                    fields.iter().any(|changed| changed == field),
                    "{field}: {fields:?}"
                );
            }
        }
        other => panic!("{other:?}"),
    }
    let page = jane.page(&world, "acme").await;
    assert!(page.says("saved the SSO settings"), "{}", page.body);

    let api = jane
        .api(
            &world,
            Method::PUT,
            "/acme/admin/api/sso",
            Some(json!({"version": version + 1, "reauth_after_secs": null, "force_authn": false})),
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    assert_eq!(api.json()["settings"]["reauth_after_secs"], Value::Null);
    assert_eq!(
        api.json()["settings"]["default_role"],
        "contributor",
        "left out, kept"
    );
    assert_eq!(world.version("acme").await, version + 2);
}

#[tokio::test]
async fn a_concurrent_edit_is_a_conflict_not_a_lost_update() {
    let world = World::new().await;
    let mut first = jane(&world).await;
    let mut second = jane(&world).await;
    let drawn = world.version("acme").await.to_string();

    // The second tab saves first.
    let saved = second
        .submit(
            &world,
            "/acme/admin/sso/settings",
            &[
                ("version", &drawn),
                ("jit", "on"),
                ("default_role", "member"),
                ("force_authn", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    // The first, drawn from the version before, is refused whole.
    let refused = first
        .submit(
            &world,
            "/acme/admin/sso/settings",
            &[
                ("version", &drawn),
                ("jit", "on"),
                ("default_role", "admin"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.says("someone changed the SSO settings of acme since this page was drawn"),
        "{}",
        refused.body
    );
    let record = world.record("acme").await;
    assert!(record.config.force_authn, "the other save stands");
    assert_eq!(
        record.config.provision, None,
        "the stale change was not made"
    );

    let staged = first
        .submit(
            &world,
            "/acme/admin/sso/metadata",
            &[("version", &drawn), ("metadata", &new_metadata())],
        )
        .await;
    assert_eq!(staged.status, StatusCode::CONFLICT);
    assert!(world.pending("acme").await.is_none());

    let api = first
        .api(
            &world,
            Method::PUT,
            "/acme/admin/api/sso",
            Some(json!({"version": drawn.parse::<u64>().unwrap(), "jit": false})),
        )
        .await;
    assert_eq!(api.status, StatusCode::CONFLICT);
    assert_eq!(api.json()["error"], "version_conflict");
    assert_eq!(world.action_names(), ["sso_settings_changed"]);
}

#[tokio::test]
async fn every_write_needs_this_site_and_the_session_s_token() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    // A pending trust, tested: every write below would change something.
    jane.stage(&world, &new_metadata()).await;
    jane.test_sign_in(&world, new_idp(), &ada()).await;
    let fingerprint = world.pending("acme").await.unwrap().fingerprint();
    let version = world.version("acme").await;
    let events = world.actions().len();
    jane.page(&world, "acme").await;
    let token = jane.token.clone().unwrap();
    let v = version.to_string();

    let forms: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "/acme/admin/sso/settings",
            vec![("version", &v), ("default_role", "admin")],
        ),
        (
            "/acme/admin/sso/metadata",
            vec![("version", &v), ("metadata", "<x/>")],
        ),
        ("/acme/admin/sso/test", vec![]),
        (
            "/acme/admin/sso/activate",
            vec![("fingerprint", &fingerprint)],
        ),
    ];
    for (path, fields) in &forms {
        let with_token = |token: &str| {
            let mut fields = fields.clone();
            fields.push(("csrf_token", token));
            fields
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>()
        };
        let cases = [
            (
                "no token",
                fields
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect::<Vec<_>>(),
                vec![("origin", ORIGIN)],
            ),
            (
                "another token",
                with_token("0000"),
                vec![("origin", ORIGIN)],
            ),
            (
                "another site",
                with_token(&token),
                vec![("origin", "https://evil.example")],
            ),
            ("no origin", with_token(&token), vec![]),
        ];
        for (case, fields, headers) in cases {
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let refused = jane.post_form(&world, path, &fields, &headers).await;
            assert_eq!(
                refused.status,
                StatusCode::FORBIDDEN,
                "{path}, {case}: {}",
                refused.body
            );
            assert!(refused.body.contains("Nothing changed"), "{path}, {case}");
        }
    }
    let apis = [
        (
            Method::PUT,
            "/acme/admin/api/sso",
            Some(json!({"version": version, "jit": false})),
        ),
        (
            Method::POST,
            "/acme/admin/api/sso/metadata",
            Some(json!({"version": version, "xml": "<x/>"})),
        ),
        (Method::POST, "/acme/admin/api/sso/test", None),
        (
            Method::POST,
            "/acme/admin/api/sso/activate",
            Some(json!({"fingerprint": fingerprint})),
        ),
    ];
    for (method, path, body) in apis {
        let refused = jane
            .api_with(
                &world,
                method.clone(),
                path,
                body.clone(),
                &[("origin", ORIGIN)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(refused.json()["error"], "csrf_token", "{path}");
        let refused = jane
            .api_with(
                &world,
                method,
                path,
                body,
                &[("origin", "https://evil.example"), ("x-csrf-token", &token)],
            )
            .await;
        assert_eq!(refused.json()["error"], "csrf_origin", "{path}");
    }
    assert_eq!(world.version("acme").await, version);
    assert_eq!(world.actions().len(), events);
    assert_eq!(world.active_metadata("acme").await, Some(old_metadata()));
}

#[tokio::test]
async fn someone_who_is_not_an_admin_is_refused() {
    let world = World::new().await;
    let mut sam = Browser::default();
    sam.sign_in(&world, "00u2").await;
    let page = sam.get(&world, "/acme/admin/sso").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Not allowed"));
    assert!(!page.body.contains("sp-entity-id"));
    for path in ["/acme/admin/sso/sp-metadata.xml", "/acme/admin/sso/test"] {
        assert_eq!(
            sam.get(&world, path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let api = sam
        .api(&world, Method::GET, "/acme/admin/api/sso", None)
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.json()["error"], "not_an_admin");
    let write = sam
        .api(&world, Method::POST, "/acme/admin/api/sso/test", None)
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);

    // Not signed in: to the portal; the API answers 401.
    let mut nobody = Browser::default();
    let page = nobody.get(&world, "/acme/admin/sso").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let api = nobody.get(&world, "/acme/admin/api/sso").await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert!(world.actions().is_empty());
}

#[tokio::test]
async fn every_sso_action_is_in_the_audit_log() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    jane.stage(&world, &new_metadata()).await;
    let (id, _) = jane.start_test(&world, "acme").await;
    let unsigned = new_idp()
        .bad_response(BadResponse::Unsigned, &ada(), &target("acme", &id), now())
        .unwrap();
    jane.post_xml(&world, "acme", &unsigned).await;
    jane.test_sign_in(&world, new_idp(), &ada()).await;
    let fingerprint = world.pending("acme").await.unwrap().fingerprint();
    jane.page(&world, "acme").await;
    jane.submit(
        &world,
        "/acme/admin/sso/activate",
        &[("fingerprint", &fingerprint)],
    )
    .await;
    let version = world.version("acme").await;
    jane.api(
        &world,
        Method::PUT,
        "/acme/admin/api/sso",
        Some(json!({"version": version, "verified_domains": ["acme.example"]})),
    )
    .await;
    assert_eq!(
        world.action_names(),
        [
            "sso_trust_staged",
            "sso_test_failed",
            "sso_test_passed",
            "sso_trust_activated",
            "sso_settings_changed"
        ]
    );
    let events = world.audit.events();
    assert!(events
        .iter()
        .all(|event| event.org == "acme" && event.actor == "jane-doe"));
    let listed = jane
        .api(&world, Method::GET, "/acme/admin/api/events", None)
        .await
        .json();
    let summaries: Vec<&str> = listed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["summary"].as_str().unwrap())
        .collect();
    assert!(
        summaries[0].starts_with("changed the SSO settings (verified_domains)"),
        "{summaries:?}"
    );
    assert!(
        summaries[3].starts_with("test sign-in failed (unsigned"),
        "{summaries:?}"
    );
    // The members page lists them with the rest.
    let members = jane.get(&world, "/acme/admin/members").await;
    assert!(members.says("activated IdP trust"), "{}", members.body);
}

#[tokio::test]
async fn a_draft_org_gets_its_first_trust_through_a_test_and_opens() {
    let world = World::with(|admin| admin.with_authorization(Arc::new(Staff))).await;
    let mut jane = Browser::default();
    jane.sign_in(&world, "00u1").await;
    let page = jane.page(&world, "initech").await;
    assert!(page.body.contains("id=\"no-active-trust\""));
    assert!(page
        .body
        .contains("<code id=\"sp-entity-id\">http://127.0.0.1:3000/initech/saml/metadata</code>"));
    assert!(page.body.contains("<strong id=\"state\">draft</strong>"));
    let download = jane.get(&world, "/initech/admin/sso/sp-metadata.xml").await;
    assert!(download.body.contains("/initech/saml/acs"));

    // Its first trust is pending too; the org has no SSO in use meanwhile.
    let version = world.version("initech").await.to_string();
    let staged = jane
        .submit(
            &world,
            "/initech/admin/sso/metadata",
            &[
                ("version", &version),
                (
                    "metadata",
                    &initech_idp().metadata_xml(INITECH_SSO).unwrap(),
                ),
                ("metadata_source", "uploaded"),
            ],
        )
        .await;
    assert_eq!(staged.status, StatusCode::SEE_OTHER, "{}", staged.body);
    let record = world.record("initech").await;
    assert!(record.config.saml.as_ref().unwrap().awaits_first_trust());
    assert_eq!(record.config.idp, None);
    assert_eq!(world.pending("initech").await.unwrap().source, "uploaded");
    // The public SP metadata is there for the IdP's admin already.
    let public = Browser::default()
        .get(&world, "/initech/saml/metadata")
        .await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);

    // JIT cannot be on before a trust is in use.
    jane.page(&world, "initech").await;
    let version = world.version("initech").await.to_string();
    let refused = jane
        .submit(
            &world,
            "/initech/admin/sso/settings",
            &[
                ("version", &version),
                ("jit", "on"),
                ("default_role", "member"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.problems("jit")[0].contains("no IdP trust in use yet"),
        "{}",
        refused.body
    );

    // The test says what a sign-in would do with JIT on.
    let (id, location) = jane.start_test(&world, "initech").await;
    assert!(location.starts_with(INITECH_SSO), "{location}");
    let answered = jane
        .post_response(&world, "initech", initech_idp(), &ada(), &id)
        .await;
    assert_eq!(
        answered.location.as_deref(),
        Some("/initech/admin/sso/test"),
        "{}",
        answered.body
    );
    let result = jane.get(&world, "/initech/admin/sso/test").await;
    assert!(
        result.body.contains("Test sign-in passed"),
        "{}",
        result.body
    );
    assert!(result.says("JIT sign-ins are off for initech"));
    assert!(
        result
            .body
            .contains("<td id=\"roles\">member in initech</td>"),
        "{}",
        result.body
    );
    assert!(result.says("Activate this trust and open sign-ins"));

    let fingerprint = world.pending("initech").await.unwrap().fingerprint();
    let activated = jane
        .submit(
            &world,
            "/initech/admin/sso/activate",
            &[("fingerprint", &fingerprint)],
        )
        .await;
    assert_eq!(
        activated.status,
        StatusCode::SEE_OTHER,
        "{}",
        activated.body
    );
    let record = world.record("initech").await;
    assert_eq!(record.config.state, OrgState::Active);
    assert_eq!(record.config.idp.as_deref(), Some(INITECH_IDP));
    assert!(world.pending("initech").await.is_none());
    assert_eq!(
        world.actions().last().unwrap(),
        &AdminAction::SsoTrustActivated {
            trust: fingerprint,
            entity_id: INITECH_IDP.into(),
            opened: true,
        }
    );

    // Now JIT goes on, and people sign in through it.
    jane.page(&world, "initech").await;
    let version = world.version("initech").await.to_string();
    let saved = jane
        .submit(
            &world,
            "/initech/admin/sso/settings",
            &[
                ("version", &version),
                ("jit", "on"),
                ("default_role", "member"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let mut ada_browser = Browser::default();
    let redirect = ada_browser.get(&world, "/initech/login/sso").await;
    let location = redirect.location.unwrap();
    assert!(location.starts_with(INITECH_SSO));
    let landed = ada_browser
        .post_response(
            &world,
            "initech",
            initech_idp(),
            &ada(),
            &request_id(&location),
        )
        .await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    assert_eq!(ada_browser.whoami(&world).await["handle"], "ada-lovelace");
}

#[tokio::test]
async fn the_api_stages_tests_and_activates() {
    let world = World::new().await;
    let mut jane = jane(&world).await;
    let read = jane
        .api(&world, Method::GET, "/acme/admin/api/sso", None)
        .await
        .json();
    let version = read["version"].as_u64().unwrap();
    let staged = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/sso/metadata",
            Some(json!({"version": version, "xml": new_metadata()})),
        )
        .await;
    assert_eq!(staged.status, StatusCode::OK, "{}", staged.body);
    let staged = staged.json();
    assert_eq!(staged["trust"]["pending"]["entity_id"], ACME_IDP);
    assert_eq!(staged["trust"]["pending"]["sso_url"], NEW_SSO);
    assert_eq!(staged["trust"]["pending"]["tested"], Value::Null);
    assert_eq!(staged["trust"]["active"]["sso_url"], OLD_SSO);
    let fingerprint = staged["trust"]["pending"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();

    let none = jane
        .api(&world, Method::GET, "/acme/admin/api/sso/test", None)
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(none.json()["error"], "no_test");

    let trip = jane
        .api(&world, Method::POST, "/acme/admin/api/sso/test", None)
        .await;
    assert_eq!(trip.status, StatusCode::OK, "{}", trip.body);
    let trip = trip.json();
    assert_eq!(trip["binding"], "redirect");
    assert_eq!(trip["trust"], "pending");
    assert_eq!(trip["fingerprint"], fingerprint.as_str());
    let url = trip["redirect"].as_str().unwrap();
    assert!(url.starts_with(NEW_SSO));
    let answered = jane
        .post_response(&world, "acme", new_idp(), &ada(), &request_id(url))
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER);
    let result = jane
        .api(&world, Method::GET, "/acme/admin/api/sso/test", None)
        .await
        .json();
    assert_eq!(result["passed"], true);
    assert_eq!(result["activatable"], true);

    let activated = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/sso/activate",
            Some(json!({"fingerprint": fingerprint})),
        )
        .await;
    assert_eq!(activated.status, StatusCode::OK, "{}", activated.body);
    let activated = activated.json();
    assert_eq!(activated["trust"]["pending"], Value::Null);
    assert_eq!(activated["trust"]["active"]["sso_url"], NEW_SSO);
    assert!(activated["done"]
        .as_str()
        .unwrap()
        .starts_with("activated the IdP trust"));

    // Nothing pending: a test tries the trust in use, and there is nothing to activate.
    let trip = jane
        .api(&world, Method::POST, "/acme/admin/api/sso/test", None)
        .await
        .json();
    assert_eq!(trip["trust"], "in_use");
    let again = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/sso/activate",
            Some(json!({"fingerprint": fingerprint})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["error"], "nothing_pending");
    let malformed = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/sso/metadata",
            Some(json!({"version": 1})),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(malformed.json()["error"], "invalid_metadata");
}
