//! An org's SCIM page end to end, in process: admins signed in through the portal make,
//! list and revoke the org's SCIM tokens on the page and through the JSON API; the
//! secret is shown once and then only authenticates; who is let in, the CSRF checks,
//! the audit log, and that one org's admin never reaches another org's tokens.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{request_id, Browser, Reply, Serves, ORIGIN};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use axum::http::{header, Method, StatusCode};
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::{
    is_well_formed_scim_token, AccountRecord, AdminAction, AdminEvent, AuditLog, Config, Identity,
    MemoryAuditLog, MemoryReplayGuard, MemoryScimTokens, MemoryStore, Provisioner, Role,
    ScimTokens, StoreError,
};
use jit_provisioning_axum::{session_layer, OrgAdmin, SsoPortal};
use jit_provisioning_saml::test_idp::{ResponseTarget, TestIdp, TestPerson};
use jit_provisioning_saml::SamlConfig;
use serde_json::json;
use tower_sessions::MemoryStore as SessionMemory;

const ACME_IDP: &str = "https://idp.acme.example/metadata";
const GLOBEX_IDP: &str = "https://idp.globex.example/metadata";

fn acme_idp() -> &'static TestIdp {
    static KEYS: OnceLock<TestIdp> = OnceLock::new();
    KEYS.get_or_init(|| TestIdp::generate(ACME_IDP).unwrap())
}

fn globex_idp() -> &'static TestIdp {
    static KEYS: OnceLock<TestIdp> = OnceLock::new();
    KEYS.get_or_init(|| TestIdp::generate(GLOBEX_IDP).unwrap())
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
}

fn identity(issuer: &str, subject: &str) -> Identity {
    Identity {
        issuer: issuer.into(),
        subject: subject.into(),
    }
}

/// Jane: acme's admin. Sam: a member of acme. Lee: globex's admin, no member of acme.
fn accounts() -> Vec<AccountRecord> {
    vec![
        AccountRecord::new("a-jane", "jane-doe")
            .with_identity(identity(ACME_IDP, "00u1"))
            .with_membership("acme", Role::Admin),
        AccountRecord::new("a-sam", "sam-lee")
            .with_identity(identity(ACME_IDP, "00u2"))
            .with_membership("acme", Role::Member),
        AccountRecord::new("a-lee", "lee-kim")
            .with_identity(identity(GLOBEX_IDP, "g-lee"))
            .with_membership("globex", Role::Admin),
    ]
}

/// An audit log that records nothing.
struct BrokenAudit;

#[async_trait]
impl AuditLog for BrokenAudit {
    async fn record(&self, _: &AdminEvent) -> Result<(), StoreError> {
        Err(StoreError::NotSetUp("no audit table".into()))
    }

    async fn recent(&self, _: &str, _: usize) -> Result<Vec<AdminEvent>, StoreError> {
        Ok(Vec::new())
    }
}

/// The portal and the admin pages, with the SCIM tokens and the audit log to look into.
struct World {
    app: Router,
    tokens: Arc<MemoryScimTokens>,
    audit: Arc<MemoryAuditLog>,
}

impl World {
    fn new() -> Self {
        Self::with(true, None)
    }

    /// The pages, with SCIM tokens or without, over `audit` if given.
    fn with(scim: bool, audit: Option<Arc<dyn AuditLog>>) -> Self {
        let policy: Config = serde_json::from_value(json!({
            "orgs": {
                "acme": {"jit": true, "idp": ACME_IDP},
                "globex": {"jit": true, "idp": GLOBEX_IDP}
            }
        }))
        .unwrap();
        let policy = policy.validate().unwrap();
        let saml: SamlConfig = serde_json::from_value(json!({
            "sp": {"base_url": ORIGIN},
            "orgs": {
                "acme": {"idp": {"metadata": acme_idp().metadata_xml("https://idp.acme.example/sso").unwrap()}},
                "globex": {"idp": {"metadata": globex_idp().metadata_xml("https://idp.globex.example/sso").unwrap()}}
            }
        }))
        .unwrap();
        let saml = saml.validate(&policy, None).unwrap();
        let store = Arc::new(MemoryStore::with_accounts(accounts()).unwrap());
        let tokens = Arc::new(MemoryScimTokens::new());
        let log = Arc::new(MemoryAuditLog::new());
        let provisioner = Provisioner::new(policy, Arc::clone(&store)).with_invites(store.clone());
        let portal = SsoPortal::new(
            Arc::new(provisioner),
            Arc::new(saml),
            Arc::new(MemoryReplayGuard::new()),
        )
        .with_clock(Arc::new(now))
        .with_origin(ORIGIN);
        let mut admin = OrgAdmin::new(&portal, store, audit.unwrap_or_else(|| log.clone()));
        if scim {
            admin = admin.with_scim_tokens(tokens.clone());
        }
        let app = portal
            .router()
            .merge(admin.router())
            .layer(session_layer(SessionMemory::default(), ORIGIN));
        World {
            app,
            tokens,
            audit: log,
        }
    }

    fn actions(&self) -> Vec<AdminAction> {
        self.audit
            .events()
            .into_iter()
            .map(|event| event.action)
            .collect()
    }

    async fn listed(&self, org: &str) -> Vec<String> {
        self.tokens
            .list(org)
            .await
            .unwrap()
            .into_iter()
            .map(|info| info.label)
            .collect()
    }

    /// Whether `token` opens `org`'s SCIM endpoints now.
    async fn opens(&self, org: &str, token: &str) -> bool {
        self.tokens
            .authenticate(org, token, now())
            .await
            .unwrap()
            .is_some()
    }
}

impl Serves for World {
    fn app(&self) -> Router {
        self.app.clone()
    }
}

/// Signs in as `subject` through `org`'s portal and its IdP.
async fn signed_in(world: &World, org: &str, subject: &str) -> Browser {
    let (idp, sso) = match org {
        "acme" => (acme_idp(), "https://idp.acme.example/sso"),
        _ => (globex_idp(), "https://idp.globex.example/sso"),
    };
    let mut browser = Browser::default();
    let redirect = browser.get(world, &format!("/{org}/login/sso")).await;
    let location = redirect.location.unwrap();
    assert!(location.starts_with(sso), "{location}");
    let target = ResponseTarget::new(
        format!("{ORIGIN}/{org}/saml/metadata"),
        format!("{ORIGIN}/{org}/saml/acs"),
    )
    .with_in_response_to(request_id(&location));
    let xml = idp
        .response(&TestPerson::new(subject), &target, now())
        .unwrap();
    let response = jit_provisioning_saml::test_idp::post_form_value(&xml);
    let landed = browser
        .post_form(
            world,
            &format!("/{org}/saml/acs"),
            &[("SAMLResponse", response.as_str())],
            &[],
        )
        .await;
    assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
    browser
}

/// acme's admin, signed in through acme's portal, on the SCIM page.
async fn jane(world: &World) -> Browser {
    let mut jane = signed_in(world, "acme", "00u1").await;
    jane.scim_page(world, "acme").await;
    jane
}

impl Browser {
    /// The SCIM page of `org`, which must be let in.
    async fn scim_page(&mut self, world: &World, org: &str) -> Reply {
        let page = self.get(world, &format!("/{org}/admin/scim")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page
    }
}

/// The text of the element with `id` (no markup inside it).
fn text_of(body: &str, id: &str) -> String {
    let (_, rest) = body.split_once(&format!("id=\"{id}\"")).unwrap();
    let (_, rest) = rest.split_once('>').unwrap();
    rest.split('<').next().unwrap().to_owned()
}

/// The value of the hidden field `name`.
fn hidden(body: &str, name: &str) -> String {
    let (_, rest) = body
        .split_once(&format!("name=\"{name}\" value=\""))
        .unwrap();
    rest.split('"').next().unwrap().to_owned()
}

/// The hidden `token` field of the page's revoke forms.
fn revoke_ids(body: &str) -> Vec<String> {
    body.split("name=\"token\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_admin_makes_a_token_sees_its_secret_once_and_revokes_it() {
    let world = World::new();
    let mut jane = jane(&world).await;

    let empty = jane.scim_page(&world, "acme").await;
    assert_eq!(
        text_of(&empty.body, "scim-base-url"),
        format!("{ORIGIN}/scim/v2/acme"),
        "the base URL, from the SP's"
    );
    assert!(empty.body.contains("id=\"no-scim-tokens\""));
    assert_eq!(empty.headers[header::CACHE_CONTROL], "no-store");

    // The form's answer is the page of the secret: shown once, said so, not cached.
    let made = jane
        .submit(&world, "/acme/admin/scim/tokens", &[("label", " okta ")])
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert_eq!(made.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(made.headers[header::REFERRER_POLICY], "no-referrer");
    let secret = text_of(&made.body, "scim-token");
    assert!(secret.starts_with("jitscim_"), "{secret}");
    assert!(is_well_formed_scim_token(&secret), "{secret}");
    assert!(made.says("it will not be shown again"), "{}", made.body);
    assert_eq!(made.body.matches(&secret).count(), 1, "the secret once");
    assert_eq!(
        text_of(&made.body, "scim-base-url"),
        format!("{ORIGIN}/scim/v2/acme")
    );
    assert_eq!(world.listed("acme").await, ["okta"], "the label trimmed");

    // The list: label, hint, made, last used; never the secret.
    let page = jane.scim_page(&world, "acme").await;
    assert!(!page.body.contains(&secret), "{}", page.body);
    let hint = secret.chars().skip(68).collect::<String>();
    assert!(
        page.body.contains(&format!("<code>jitscim_…{hint}</code>")),
        "{}",
        page.body
    );
    assert!(page.body.contains("<td>okta</td>"));
    assert!(page
        .body
        .contains("<td>2026-12-06 12:00 UTC</td><td>never</td>"));

    // The secret opens acme's SCIM endpoints, and no other org's.
    assert!(world.opens("acme", &secret).await);
    assert!(
        !world.opens("globex", &secret).await,
        "for acme's endpoints only"
    );
    let ids = revoke_ids(&page.body);
    assert_eq!(ids.len(), 1);
    let id = ids[0].clone();

    // The revoke button: a CSRF-checked post, back to the page with a notice.
    let revoked = jane
        .submit(&world, "/acme/admin/scim/tokens/revoke", &[("token", &id)])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    assert_eq!(revoked.location.as_deref(), Some("/acme/admin/scim"));
    assert!(!world.opens("acme", &secret).await, "revoked");
    assert!(world.listed("acme").await.is_empty());
    let page = jane.scim_page(&world, "acme").await;
    assert!(
        page.says(&format!(
            "revoked SCIM token {id} (okta): it opens the SCIM endpoints of acme no more"
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"no-scim-tokens\""));

    // Revoked twice: an unknown token, nothing recorded.
    jane.submit(&world, "/acme/admin/scim/tokens/revoke", &[("token", &id)])
        .await;
    let page = jane.scim_page(&world, "acme").await;
    assert!(
        page.says(&format!(
            "acme has no SCIM token `{id}`; nothing was revoked"
        )),
        "{}",
        page.body
    );

    // The audit log: who, which token and its label; never the secret.
    assert_eq!(
        world.actions(),
        [
            AdminAction::ScimTokenCreated {
                token: id.clone(),
                label: "okta".into()
            },
            AdminAction::ScimTokenRevoked {
                token: id.clone(),
                label: "okta".into()
            },
        ]
    );
    for event in world.audit.events() {
        assert_eq!(
            (event.org.as_str(), event.actor.as_str()),
            ("acme", "jane-doe")
        );
        assert!(!serde_json::to_string(&event).unwrap().contains(&secret));
    }
    let members = jane.get(&world, "/acme/admin/members").await;
    assert!(members
        .body
        .contains(&format!("created SCIM token {id} (okta)")));
}

#[tokio::test]
async fn the_list_escapes_labels_shows_the_last_use_and_never_a_secret() {
    let world = World::new();
    let mut jane = jane(&world).await;
    let made = jane
        .submit(
            &world,
            "/acme/admin/scim/tokens",
            &[("label", "<b>entra</b>")],
        )
        .await;
    assert!(made.body.contains("&lt;b&gt;entra&lt;/b&gt;") && !made.body.contains("<b>entra"));
    let first = text_of(&made.body, "scim-token");
    let made = jane
        .submit(&world, "/acme/admin/scim/tokens", &[("label", "")])
        .await;
    let second = text_of(&made.body, "scim-token");
    assert_ne!(first, second);
    world
        .tokens
        .authenticate("acme", &first, now())
        .await
        .unwrap()
        .unwrap();

    let page = jane.scim_page(&world, "acme").await;
    let body = &page.body;
    assert!(!body.contains(&first) && !body.contains(&second), "{body}");
    assert!(body.contains("&lt;b&gt;entra&lt;/b&gt;") && !body.contains("<b>entra"));
    assert!(body.contains("(no label)"));
    assert_eq!(
        body.matches("2026-12-06 12:00 UTC").count(),
        3,
        "two made, one used"
    );
    assert_eq!(revoke_ids(body).len(), 2);
    let token = jane.token.clone().unwrap();
    assert_eq!(
        body.matches(&format!("name=\"csrf_token\" value=\"{token}\""))
            .count(),
        3,
        "two revoke buttons and the form"
    );
    assert!(!body.contains("<script"), "no script needed");

    // A label over 100 characters, or of two lines, makes nothing.
    for label in ["x".repeat(101), "okta\nprod".to_owned()] {
        let refused = jane
            .submit(&world, "/acme/admin/scim/tokens", &[("label", &label)])
            .await;
        assert_eq!(refused.status, StatusCode::SEE_OTHER);
        let page = jane.scim_page(&world, "acme").await;
        assert!(
            page.says("a token's label is one line of at most 100 characters; no token was made"),
            "{}",
            page.body
        );
    }
    assert_eq!(world.listed("acme").await.len(), 2);
}

#[tokio::test]
async fn the_api_makes_lists_and_revokes_tokens() {
    let world = World::new();
    let mut jane = signed_in(&world, "acme", "00u1").await;

    let listed = jane
        .api(&world, Method::GET, "/acme/admin/api/scim/tokens", None)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.headers.contains_key("x-csrf-token"));
    assert_eq!(
        listed.json(),
        json!({"base_url": format!("{ORIGIN}/scim/v2/acme"), "tokens": []})
    );

    let created = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/scim/tokens",
            Some(json!({"label": "okta"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.headers[header::CACHE_CONTROL], "no-store");
    let body = created.json();
    let secret = body["token"].as_str().unwrap().to_owned();
    assert!(is_well_formed_scim_token(&secret));
    let id = body["id"].as_str().unwrap().to_owned();
    let hint = secret.chars().skip(68).collect::<String>();
    assert_eq!(
        body,
        json!({
            "id": id,
            "label": "okta",
            "hint": hint,
            "created_at": "2026-12-06T12:00:00Z",
            "last_used_at": null,
            "token": secret,
            "base_url": format!("{ORIGIN}/scim/v2/acme"),
        })
    );
    assert!(world.opens("acme", &secret).await);

    let listed = jane
        .api(&world, Method::GET, "/acme/admin/api/scim/tokens", None)
        .await;
    assert!(!listed.body.contains(&secret));
    let tokens = listed.json()["tokens"].clone();
    assert_eq!(tokens[0]["id"], id.as_str());
    assert_eq!(tokens[0]["last_used_at"], "2026-12-06T12:00:00Z");
    assert!(tokens[0].get("token").is_none());

    let no_label = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/scim/tokens",
            Some(json!({})),
        )
        .await;
    assert_eq!(no_label.status, StatusCode::CREATED);
    assert_eq!(no_label.json()["label"], "");
    let bad = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/scim/tokens",
            Some(json!({"label": "x".repeat(101)})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"], "invalid_label");
    let unknown_field = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/scim/tokens",
            Some(json!({"label": "a", "org": "globex"})),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown_field.json()["error"], "invalid_body");

    let revoked = jane
        .api(
            &world,
            Method::DELETE,
            &format!("/acme/admin/api/scim/tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.body);
    assert!(!world.opens("acme", &secret).await);
    let again = jane
        .api(
            &world,
            Method::DELETE,
            &format!("/acme/admin/api/scim/tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.json()["error"], "no_such_token");

    let wrong_method = jane
        .api(&world, Method::PUT, "/acme/admin/api/scim/tokens", None)
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.json()["error"], "method_not_allowed");
    assert_eq!(world.audit.events().len(), 3, "two made, one revoked");
}

#[tokio::test]
async fn a_non_admin_or_no_one_is_refused() {
    let world = World::new();
    let issued = world.tokens.create("acme", "okta", now()).await.unwrap();

    let mut sam = signed_in(&world, "acme", "00u2").await;
    let page = sam.get(&world, "/acme/admin/scim").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.body.contains("okta"), "nothing of the org leaks");
    let api = sam
        .api(&world, Method::GET, "/acme/admin/api/scim/tokens", None)
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.json()["error"], "not_an_admin");
    // Even with both CSRF checks passed (the token of Sam's own session, from a page
    // that shows it to anyone), every write is refused.
    let owner_page = sam.get(&world, "/acme/admin/owner/not-a-link").await;
    sam.token = Some(hidden(&owner_page.body, "csrf_token"));
    let made = sam
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/scim/tokens",
            Some(json!({"label": "mine"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::FORBIDDEN);
    assert_eq!(made.json()["error"], "not_an_admin");
    let revoke = sam
        .api(
            &world,
            Method::DELETE,
            &format!("/acme/admin/api/scim/tokens/{}", issued.info.id),
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::FORBIDDEN);
    assert_eq!(revoke.json()["error"], "not_an_admin");
    let form = sam
        .submit(
            &world,
            "/acme/admin/scim/tokens/revoke",
            &[("token", &issued.info.id)],
        )
        .await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);

    let mut stranger = Browser::default();
    let page = stranger.get(&world, "/acme/admin/scim").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let form = stranger
        .post_form(
            &world,
            "/acme/admin/scim/tokens",
            &[("label", "mine")],
            &[("origin", ORIGIN)],
        )
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER);
    let api = stranger
        .api(&world, Method::GET, "/acme/admin/api/scim/tokens", None)
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);

    assert_eq!(world.listed("acme").await, ["okta"]);
    assert!(world.opens("acme", &issued.token).await);
    assert!(world.actions().is_empty());
}

#[tokio::test]
async fn a_post_without_the_csrf_token_or_from_another_site_is_refused() {
    let world = World::new();
    let issued = world.tokens.create("acme", "okta", now()).await.unwrap();
    let mut jane = jane(&world).await;
    let token = jane.token.clone().unwrap();
    let id = issued.info.id.as_str();
    let cases = [
        ("no token", vec![("token", id)], vec![("origin", ORIGIN)]),
        (
            "another site",
            vec![("token", id), ("csrf_token", token.as_str())],
            vec![("origin", "https://evil.example")],
        ),
    ];
    for (case, fields, headers) in cases {
        for path in ["/acme/admin/scim/tokens/revoke", "/acme/admin/scim/tokens"] {
            let refused = jane.post_form(&world, path, &fields, &headers).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{case} {path}");
            assert!(
                refused.body.contains("Nothing changed"),
                "{case}: {}",
                refused.body
            );
        }
        for (method, path) in [
            (Method::POST, "/acme/admin/api/scim/tokens".to_owned()),
            (Method::DELETE, format!("/acme/admin/api/scim/tokens/{id}")),
        ] {
            let headers: Vec<(&str, &str)> = match case {
                "no token" => vec![("origin", ORIGIN)],
                _ => vec![
                    ("origin", "https://evil.example"),
                    ("x-csrf-token", token.as_str()),
                ],
            };
            let body = (method == Method::POST).then(|| json!({"label": "x"}));
            let refused = jane.api_with(&world, method, &path, body, &headers).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{case} {path}");
        }
    }
    assert!(world.opens("acme", &issued.token).await);
    assert_eq!(world.listed("acme").await, ["okta"]);
    assert!(world.actions().is_empty());
}

#[tokio::test]
async fn another_org_s_admin_neither_sees_nor_revokes_a_token() {
    let world = World::new();
    let acme = world
        .tokens
        .create("acme", "acme-okta", now())
        .await
        .unwrap();
    let mut lee = signed_in(&world, "globex", "g-lee").await;

    // acme's page and API are closed to globex's admin.
    let page = lee.get(&world, "/acme/admin/scim").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.body.contains("acme-okta"));
    let api = lee
        .api(&world, Method::GET, "/acme/admin/api/scim/tokens", None)
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);

    // globex's own page lists globex's tokens only.
    let page = lee.scim_page(&world, "globex").await;
    assert!(!page.body.contains("acme-okta"), "{}", page.body);
    assert!(page.body.contains("id=\"no-scim-tokens\""));
    assert_eq!(
        text_of(&page.body, "scim-base-url"),
        format!("{ORIGIN}/scim/v2/globex")
    );

    // acme's token id at globex is answered as an id no store gave.
    let unknown = "does-not-exist";
    let mut answers = Vec::new();
    for id in [acme.info.id.as_str(), unknown] {
        let reply = lee
            .api(
                &world,
                Method::DELETE,
                &format!("/globex/admin/api/scim/tokens/{id}"),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        answers.push(reply.json()["error"].clone());
        lee.submit(&world, "/globex/admin/scim/tokens/revoke", &[("token", id)])
            .await;
        let page = lee.scim_page(&world, "globex").await;
        assert!(
            page.says(&format!(
                "globex has no SCIM token `{id}`; nothing was revoked"
            )),
            "{}",
            page.body
        );
    }
    assert_eq!(answers, ["no_such_token", "no_such_token"]);
    assert!(world.opens("acme", &acme.token).await);
    assert_eq!(world.listed("acme").await, ["acme-okta"]);

    // A token globex's admin makes opens globex's endpoints, not acme's.
    let made = lee
        .submit(
            &world,
            "/globex/admin/scim/tokens",
            &[("label", "globex-okta")],
        )
        .await;
    let secret = text_of(&made.body, "scim-token");
    assert!(world.opens("globex", &secret).await);
    assert!(!world.opens("acme", &secret).await);
    assert_eq!(world.listed("acme").await, ["acme-okta"]);
    assert_eq!(world.audit.events().len(), 1);
    assert_eq!(world.audit.events()[0].org, "globex");
}

#[tokio::test]
async fn the_navigation_links_the_scim_page_only_when_the_app_has_scim_tokens() {
    let world = World::new();
    let mut jane = jane(&world).await;
    for path in ["/acme/admin/members", "/acme/admin/sso", "/acme/admin/scim"] {
        let page = jane.get(&world, path).await;
        assert!(
            page.body
                .contains("<a id=\"nav-scim\" href=\"/acme/admin/scim\""),
            "{path}: {}",
            page.body
        );
        assert!(page
            .body
            .contains("<a id=\"nav-sso\" href=\"/acme/admin/sso\""));
        assert!(page
            .body
            .contains("<a id=\"nav-members\" href=\"/acme/admin/members\""));
    }

    let without = World::with(false, None);
    let mut jane = signed_in(&without, "acme", "00u1").await;
    for path in ["/acme/admin/members", "/acme/admin/sso"] {
        let page = jane.get(&without, path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("id=\"admin-nav\""));
        assert!(!page.body.contains("/admin/scim"), "{path}");
    }
    for path in ["/acme/admin/scim", "/acme/admin/api/scim/tokens"] {
        let page = jane.get(&without, path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    let form = jane
        .submit(&without, "/acme/admin/scim/tokens", &[("label", "okta")])
        .await;
    assert_eq!(form.status, StatusCode::NOT_FOUND);
    assert!(without.tokens.list("acme").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_token_the_audit_log_cannot_record_is_revoked_again() {
    let world = World::with(true, Some(Arc::new(BrokenAudit)));
    let mut jane = jane(&world).await;
    let refused = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/scim/tokens",
            Some(json!({"label": "okta"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(refused.json()["error"], "audit_failed");
    assert!(!refused.body.contains("jitscim_"));
    assert!(world.listed("acme").await.is_empty(), "revoked again");

    let form = jane
        .submit(&world, "/acme/admin/scim/tokens", &[("label", "okta")])
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER);
    let page = jane.scim_page(&world, "acme").await;
    assert!(
        page.says("the token could not be recorded in the audit log, so it was revoked again and opens nothing"),
        "{}",
        page.body
    );
    assert!(world.listed("acme").await.is_empty());
}
