//! The org admin's pages end to end, in process: people signed in through the portal
//! (the test IdP's real trip), the members page and its forms, the JSON API, who is
//! let in, the CSRF checks and the audit log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{query_param, request_id, Browser, Reply, Serves, ORIGIN};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::{
    owner_link_expiry, AccountRecord, AdminAction, AdminEvent, AuditLog, Config, Identity, Invite,
    Invitee, MembershipError, MembershipStore, MemoryAuditLog, MemoryOwnerLinks, MemoryReplayGuard,
    MemoryStore, OwnerLinks, Provisioner, Role,
};
use jit_provisioning_axum::{
    session_layer, signed_in, AdminAccess, AdminAuthorization, AdminRefusal, AdminVisitor,
    OrgAdmin, SsoPortal, OWNER_ACTOR,
};
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
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn identity(issuer: &str, subject: &str) -> Identity {
    Identity {
        issuer: issuer.into(),
        subject: subject.into(),
    }
}

/// Jane: acme's only admin, a member of globex. Sam: a member of acme. Lee: globex's
/// admin, no member of acme. Pat: an account of no org. Every one but Pat can sign in
/// through acme's IdP; Jane through globex's too.
fn accounts() -> Vec<AccountRecord> {
    let mut jane = AccountRecord::new("a-jane", "jane-doe")
        .with_email("jane@acme.example")
        .with_identity(identity(ACME_IDP, "00u1"))
        .with_identity(identity(GLOBEX_IDP, "g-jane"))
        .with_membership("acme", Role::Admin)
        .with_membership("globex", Role::Member);
    jane.given_name = Some("Jane".into());
    jane.family_name = Some("Doe".into());
    let mut sam = AccountRecord::new("a-sam", "sam-lee")
        .with_email("sam@acme.example")
        .with_identity(identity(ACME_IDP, "00u2"))
        .with_membership("acme", Role::Member);
    sam.given_name = Some("<b>Sam</b>".into());
    let lee = AccountRecord::new("a-lee", "lee-kim")
        .with_identity(identity(ACME_IDP, "00u3"))
        .with_membership("globex", Role::Admin);
    let pat = AccountRecord::new("a-pat", "pat-roe").with_email("pat@example.org");
    vec![jane, sam, lee, pat]
}

/// The portal and the admin pages over one store, with the audit log to look into.
struct World {
    app: Router,
    store: Arc<MemoryStore>,
    audit: Arc<MemoryAuditLog>,
}

impl World {
    fn new() -> Self {
        Self::with(|admin| admin)
    }

    fn with(
        customize: impl FnOnce(OrgAdmin<Arc<MemoryStore>>) -> OrgAdmin<Arc<MemoryStore>>,
    ) -> Self {
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
        let audit = Arc::new(MemoryAuditLog::new());
        let provisioner = Provisioner::new(policy, Arc::clone(&store)).with_invites(store.clone());
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
        World { app, store, audit }
    }

    async fn members(&self, org: &str) -> Vec<(String, Role)> {
        self.store
            .members(org)
            .await
            .unwrap()
            .into_iter()
            .map(|member| (member.account.handle, member.role))
            .collect()
    }

    async fn invites(&self) -> Vec<Invite> {
        self.store.open_invites("acme", now()).await.unwrap()
    }

    fn actions(&self) -> Vec<AdminAction> {
        self.audit
            .events()
            .into_iter()
            .map(|event| event.action)
            .collect()
    }
}

impl Serves for World {
    fn app(&self) -> Router {
        self.app.clone()
    }
}

impl Browser {
    /// The members page, with the notice of the last change if any.
    async fn page(&mut self, world: &World) -> Reply {
        let page = self.get(world, "/acme/admin/members").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page
    }

    /// Signs in as `subject` through `org`'s portal and its IdP.
    async fn sign_in(&mut self, world: &World, org: &str, subject: &str) {
        let (idp, idp_host) = match org {
            "acme" => (acme_idp(), "https://idp.acme.example/sso"),
            _ => (globex_idp(), "https://idp.globex.example/sso"),
        };
        let redirect = self.get(world, &format!("/{org}/login/sso")).await;
        let location = redirect.location.unwrap();
        assert!(location.starts_with(idp_host), "{location}");
        let landed = self
            .post_response(world, org, idp, subject, &request_id(&location), None)
            .await;
        assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.body);
        let who = self.get(world, "/whoami").await.json();
        assert_eq!(
            who["org"], org,
            "the portal records the org it signed in through"
        );
    }

    async fn post_response(
        &mut self,
        world: &World,
        org: &str,
        idp: &TestIdp,
        subject: &str,
        request_id: &str,
        relay_state: Option<&str>,
    ) -> Reply {
        let target = ResponseTarget::new(
            format!("{ORIGIN}/{org}/saml/metadata"),
            format!("{ORIGIN}/{org}/saml/acs"),
        )
        .with_in_response_to(request_id);
        let xml = idp
            .response(&TestPerson::new(subject), &target, now())
            .unwrap();
        let mut fields = vec![(
            "SAMLResponse",
            jit_provisioning_saml::test_idp::post_form_value(&xml),
        )];
        if let Some(relay_state) = relay_state {
            fields.push(("RelayState", relay_state.to_owned()));
        }
        let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
        self.post_form(world, &format!("/{org}/saml/acs"), &fields, &[])
            .await
    }
}

/// An admin of acme, signed in through acme's portal, the members page read.
async fn jane(world: &World) -> Browser {
    let mut browser = Browser::default();
    browser.sign_in(world, "acme", "00u1").await;
    browser.page(world).await;
    browser
}

fn last_admin_message() -> String {
    MembershipError::LastAdmin.to_string()
}

#[tokio::test]
async fn someone_not_signed_in_goes_to_the_org_s_portal_and_comes_back_to_the_page() {
    let world = World::new();
    let mut browser = Browser::default();
    let page = browser.get(&world, "/acme/admin/members").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let login = page.location.unwrap();
    assert_eq!(login, "/acme/login?return_to=/acme/admin/members");

    // The portal carries `return_to` through the IdP and lands on the page.
    let portal = browser.get(&world, &login).await;
    assert!(
        portal
            .body
            .contains("/acme/login/sso?return_to=/acme/admin/members"),
        "{}",
        portal.body
    );
    let redirect = browser
        .get(&world, "/acme/login/sso?return_to=/acme/admin/members")
        .await;
    let location = redirect.location.unwrap();
    let relay_state = query_param(&location, "RelayState");
    assert_eq!(relay_state.as_deref(), Some("/acme/admin/members"));
    let landed = browser
        .post_response(
            &world,
            "acme",
            acme_idp(),
            "00u1",
            &request_id(&location),
            relay_state.as_deref(),
        )
        .await;
    assert_eq!(landed.location.as_deref(), Some("/acme/admin/members"));
    browser.page(&world).await;

    // A form posted without a session goes to the portal too; the API says 401.
    let mut stranger = Browser::default();
    let form = stranger
        .post_form(
            &world,
            "/acme/admin/invites",
            &[("invitee", "pat-roe"), ("role", "member")],
            &[("origin", ORIGIN)],
        )
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER);
    assert_eq!(
        form.location.as_deref(),
        Some("/acme/login?return_to=/acme/admin/members")
    );
    let api = stranger
        .api(&world, Method::GET, "/acme/admin/api/members", None)
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.json()["error"], "not_signed_in");
    assert!(world.invites().await.is_empty());
}

#[tokio::test]
async fn a_member_who_is_not_an_admin_is_refused() {
    let world = World::new();
    let mut sam = Browser::default();
    sam.sign_in(&world, "acme", "00u2").await;
    let page = sam.get(&world, "/acme/admin/members").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Not allowed"), "{}", page.body);
    assert!(
        page.says("Only admins of acme manage its members and invites"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("jane@acme.example"),
        "nothing of the org leaks"
    );
    let api = sam
        .api(&world, Method::GET, "/acme/admin/api/members", None)
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.json()["error"], "not_an_admin");
    // Even with both CSRF checks passed (the token of Sam's own session), a write is
    // refused.
    let token = sam.get(&world, "/acme/admin/api/invites").await;
    assert_eq!(token.status, StatusCode::FORBIDDEN);
    let write = sam
        .api(
            &world,
            Method::DELETE,
            "/acme/admin/api/members/a-jane",
            None,
        )
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert_eq!(world.members("acme").await.len(), 2);
}

#[tokio::test]
async fn an_admin_of_another_org_is_refused() {
    let world = World::new();
    let mut lee = Browser::default();
    lee.sign_in(&world, "acme", "00u3").await;
    let page = lee.get(&world, "/acme/admin/members").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let api = lee
        .api(&world, Method::GET, "/acme/admin/api/invites", None)
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.json()["error"], "not_an_admin");
}

#[tokio::test]
async fn an_admin_signed_in_through_another_org_s_portal_is_refused() {
    let world = World::new();
    let mut jane = Browser::default();
    jane.sign_in(&world, "globex", "g-jane").await;
    let page = jane.get(&world, "/acme/admin/members").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.says("You signed in through the SSO of globex"),
        "{}",
        page.body
    );
    let api = jane
        .api(&world, Method::GET, "/acme/admin/api/members", None)
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.json()["error"], "signed_in_elsewhere");

    // The page leads to acme's portal, which takes the session as not validated by
    // acme's IdP: through acme's IdP and back to the page, now signed in through acme.
    let link = "/acme/login?return_to=/acme/admin/members";
    assert!(
        page.body.contains(&format!("href=\"{link}\"")),
        "{}",
        page.body
    );
    let redirect = jane.get(&world, link).await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    let location = redirect.location.unwrap();
    assert!(
        location.starts_with("https://idp.acme.example/sso"),
        "{location}"
    );
    let relay_state = query_param(&location, "RelayState");
    let landed = jane
        .post_response(
            &world,
            "acme",
            acme_idp(),
            "00u1",
            &request_id(&location),
            relay_state.as_deref(),
        )
        .await;
    assert_eq!(landed.location.as_deref(), Some("/acme/admin/members"));
    jane.page(&world).await;

    // Back at globex, the same: globex's IdP is asked again.
    let redirect = jane.get(&world, "/globex/login").await;
    assert!(redirect
        .location
        .unwrap()
        .starts_with("https://idp.globex.example/sso"));
}

#[tokio::test]
async fn an_org_that_does_not_exist_is_a_404() {
    let world = World::new();
    let mut jane = jane(&world).await;
    let page = jane.get(&world, "/initech/admin/members").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("No such organization"));
    let api = jane
        .api(&world, Method::GET, "/initech/admin/api/members", None)
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.json()["error"], "no_such_org");
}

#[tokio::test]
async fn the_members_page_lists_members_invites_and_recent_changes_escaped() {
    let world = World::new();
    world
        .store
        .create_invite(
            &Invite::new(
                "acme",
                Role::Contributor,
                Invitee::Email("kim@acme.example".into()),
                "jane-doe",
                now(),
            )
            .bound_to(identity(ACME_IDP, "00u<9>")),
        )
        .await
        .unwrap();
    world
        .audit
        .record(&AdminEvent::new(
            "acme",
            "jane-doe",
            now(),
            AdminAction::MemberRemoved {
                account: "a-old".into(),
                handle: "old-<timer>".into(),
                role: Role::Member,
            },
        ))
        .await
        .unwrap();
    let mut jane = Browser::default();
    jane.sign_in(&world, "acme", "00u1").await;
    let page = jane.page(&world).await;
    let body = &page.body;
    for text in [
        "Members of acme",
        "jane-doe",
        "Jane Doe",
        "jane@acme.example",
        "sam-lee",
        "sam@acme.example",
        "by_hand",
        "kim@acme.example",
        "00u&lt;9&gt;",
        "2026-12-05 12:00 UTC",
        "removed old-&lt;timer&gt; (member)",
        ACME_IDP,
    ] {
        assert!(body.contains(text), "`{text}` missing from {body}");
    }
    assert!(body.contains("&lt;b&gt;Sam&lt;/b&gt;") && !body.contains("<b>Sam"));
    assert!(
        !body.contains("pat-roe") && !body.contains("lee-kim"),
        "only members"
    );
    assert!(!body.contains("<script"), "no script needed");
    // The page's one style carries the response's nonce.
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        body.contains(&format!("<style nonce=\"{nonce}\">")),
        "{csp}"
    );
    assert!(csp.contains("form-action 'self'"));
    assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");
    // Every form carries the session's token.
    let token = jane.token.clone().unwrap();
    assert_eq!(token.len(), 64);
    let forms = body.matches("<form ").count();
    assert_eq!(
        forms,
        2 * 2 + 1 + 1,
        "role and removal per member, one revoke, one invite"
    );
    assert_eq!(
        body.matches(&format!("name=\"csrf_token\" value=\"{token}\""))
            .count(),
        forms
    );
}

#[tokio::test]
async fn an_admin_invites_an_account_by_handle_and_a_person_by_email() {
    let world = World::new();
    let mut jane = jane(&world).await;
    let done = jane
        .submit(
            &world,
            "/acme/admin/invites",
            &[
                ("invitee", "Pat-Roe"),
                ("role", "contributor"),
                ("subject", ""),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location.as_deref(), Some("/acme/admin/members"));
    let page = jane.page(&world).await;
    assert!(page.says("invited pat-roe as contributor"), "{}", page.body);
    assert!(page.body.contains("id=\"notice\" class=\"done\""));
    // The notice is shown once.
    assert!(!jane.page(&world).await.body.contains("id=\"notice\""));

    jane.submit(
        &world,
        "/acme/admin/invites",
        &[
            ("invitee", " new@acme.example "),
            ("role", "member"),
            ("subject", "00u9"),
        ],
    )
    .await;
    assert!(jane
        .page(&world)
        .await
        .says("invited new@acme.example as member"));

    let invites = world.invites().await;
    assert_eq!(invites.len(), 2);
    assert_eq!(invites[0].invitee, Invitee::Account("a-pat".into()));
    assert_eq!(invites[0].role, Role::Contributor);
    assert_eq!(invites[0].subject, None);
    assert_eq!(invites[0].invited_by, "jane-doe");
    assert_eq!(
        invites[1].invitee,
        Invitee::Email("new@acme.example".into())
    );
    assert_eq!(
        invites[1].subject,
        Some(identity(ACME_IDP, "00u9")),
        "bound at acme's IdP"
    );

    // The same person twice, or a member, is refused with the reason.
    jane.submit(
        &world,
        "/acme/admin/invites",
        &[("invitee", "NEW@acme.example"), ("role", "admin")],
    )
    .await;
    assert!(jane
        .page(&world)
        .await
        .says("NEW@acme.example has an open invite already"));
    jane.submit(
        &world,
        "/acme/admin/invites",
        &[("invitee", "sam-lee"), ("role", "admin")],
    )
    .await;
    let page = jane.page(&world).await;
    assert!(
        page.says("sam-lee is already a member of acme"),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"notice\" class=\"refused\""));
    assert_eq!(world.invites().await.len(), 2);
}

#[tokio::test]
async fn a_malformed_email_or_an_unknown_handle_is_a_clear_error_and_no_invite() {
    let world = World::new();
    let mut jane = jane(&world).await;
    for (invitee, message) in [
        (
            "jane@",
            "`jane@` is not an email address; nothing was invited",
        ),
        (
            "no body@acme.example",
            "`no body@acme.example` is not an email address",
        ),
        (
            "nobody",
            "there is no account with the handle `nobody`; nothing was invited",
        ),
        ("", "say whom to invite, by handle or by email"),
    ] {
        let done = jane
            .submit(
                &world,
                "/acme/admin/invites",
                &[("invitee", invitee), ("role", "member")],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let page = jane.page(&world).await;
        assert!(page.says(message), "`{invitee}`: {}", page.body);
    }
    jane.submit(
        &world,
        "/acme/admin/invites",
        &[("invitee", "pat-roe"), ("role", "owner")],
    )
    .await;
    assert!(jane.page(&world).await.says("unknown role `owner`"));

    for (body, code) in [
        (
            json!({"email": "jane@", "role": "member"}),
            "malformed_email",
        ),
        (
            json!({"handle": "nobody", "role": "member"}),
            "unknown_handle",
        ),
        (
            json!({"handle": "pat-roe", "email": "pat@example.org", "role": "member"}),
            "invalid_invitee",
        ),
        (json!({"role": "member"}), "missing_invitee"),
        (
            json!({"handle": "pat-roe", "role": "member", "subject": "a\u{1}b"}),
            "invalid_subject",
        ),
    ] {
        let reply = jane
            .api(&world, Method::POST, "/acme/admin/api/invites", Some(body))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        assert_eq!(reply.json()["error"], code);
    }
    assert!(world.invites().await.is_empty());
    assert!(
        world.actions().is_empty(),
        "nothing happened, nothing recorded"
    );
}

#[tokio::test]
async fn an_admin_revokes_an_invite() {
    let world = World::new();
    let mut jane = jane(&world).await;
    jane.submit(
        &world,
        "/acme/admin/invites",
        &[("invitee", "pat@example.org"), ("role", "member")],
    )
    .await;
    let id = world.invites().await[0].id.clone();
    let page = jane.page(&world).await;
    assert!(page
        .body
        .contains(&format!("name=\"invite\" value=\"{id}\"")));
    jane.submit(&world, "/acme/admin/invites/revoke", &[("invite", &id)])
        .await;
    let page = jane.page(&world).await;
    assert!(
        page.says("revoked the invite of pat@example.org"),
        "{}",
        page.body
    );
    assert!(page.body.contains("No open invites."));
    assert!(world.invites().await.is_empty());

    // Again: it is gone.
    jane.submit(&world, "/acme/admin/invites/revoke", &[("invite", &id)])
        .await;
    assert!(jane
        .page(&world)
        .await
        .says(&format!("acme has no open invite `{id}`")));
}

#[tokio::test]
async fn an_admin_changes_a_role_and_removes_a_member() {
    let world = World::new();
    let mut jane = jane(&world).await;
    jane.submit(
        &world,
        "/acme/admin/members/role",
        &[("account", "a-sam"), ("role", "admin")],
    )
    .await;
    assert!(jane
        .page(&world)
        .await
        .says("sam-lee is now admin (was member)"));
    assert_eq!(
        world.members("acme").await,
        [
            ("jane-doe".to_owned(), Role::Admin),
            ("sam-lee".to_owned(), Role::Admin)
        ]
    );
    jane.submit(
        &world,
        "/acme/admin/members/role",
        &[("account", "a-sam"), ("role", "admin")],
    )
    .await;
    assert!(jane
        .page(&world)
        .await
        .says("sam-lee is admin already; nothing changed"));

    jane.submit(
        &world,
        "/acme/admin/members/remove",
        &[("account", "a-sam")],
    )
    .await;
    assert!(jane.page(&world).await.says("removed sam-lee from acme"));
    assert_eq!(
        world.members("acme").await,
        [("jane-doe".to_owned(), Role::Admin)]
    );

    // Pat is no member: nothing to change.
    jane.submit(
        &world,
        "/acme/admin/members/role",
        &[("account", "a-pat"), ("role", "admin")],
    )
    .await;
    assert!(jane
        .page(&world)
        .await
        .says("account `a-pat` is not a member of acme"));
    assert_eq!(world.members("acme").await.len(), 1);
    assert_eq!(
        world.actions().len(),
        2,
        "the no-op and the refusal are not recorded"
    );
}

#[tokio::test]
async fn the_last_admin_is_neither_removed_nor_demoted() {
    let world = World::new();
    let mut jane = jane(&world).await;
    let before = world.members("acme").await;
    jane.submit(
        &world,
        "/acme/admin/members/remove",
        &[("account", "a-jane")],
    )
    .await;
    let page = jane.page(&world).await;
    assert!(page.says(&last_admin_message()), "{}", page.body);
    assert!(page.body.contains("class=\"refused\""));
    jane.submit(
        &world,
        "/acme/admin/members/role",
        &[("account", "a-jane"), ("role", "contributor")],
    )
    .await;
    assert!(jane.page(&world).await.says(&last_admin_message()));

    for (method, body) in [
        (Method::DELETE, None),
        (Method::PUT, Some(json!({"role": "member"}))),
    ] {
        let reply = jane
            .api(&world, method, "/acme/admin/api/members/a-jane", body)
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT);
        assert_eq!(reply.json()["error"], "last_admin");
        assert!(reply.json()["message"]
            .as_str()
            .unwrap()
            .starts_with(&last_admin_message()));
    }
    assert_eq!(world.members("acme").await, before);
    assert!(world.actions().is_empty());
}

/// A form that passes every check, but for the one each case breaks: each is refused
/// alone, and the unbroken form then goes through.
#[tokio::test]
async fn a_form_without_the_token_with_another_token_or_from_another_site_is_refused() {
    let world = World::new();
    let mut jane = jane(&world).await;
    let token = jane.token.clone().unwrap();
    let fields = |token: Option<&str>| {
        let mut fields = vec![
            ("account", "a-sam".to_owned()),
            ("role", "admin".to_owned()),
        ];
        if let Some(token) = token {
            fields.push(("csrf_token", token.to_owned()));
        }
        fields
    };
    let last = if token.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", token.get(..63).unwrap());
    let cases = [
        ("no token", fields(None), vec![("origin", ORIGIN)]),
        (
            "another token",
            fields(Some(&wrong)),
            vec![("origin", ORIGIN)],
        ),
        (
            "another site",
            fields(Some(&token)),
            vec![("origin", "https://evil.example")],
        ),
        (
            "no origin, another site's fetch",
            fields(Some(&token)),
            vec![("sec-fetch-site", "cross-site")],
        ),
    ];
    for (case, fields, headers) in cases {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let refused = jane
            .post_form(&world, "/acme/admin/members/role", &fields, &headers)
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{case}");
        assert!(
            refused.body.contains("Nothing changed"),
            "{case}: {}",
            refused.body
        );
        assert!(
            refused.body.contains("href=\"/acme/admin/members\""),
            "{case}"
        );
        assert_eq!(world.members("acme").await[1].1, Role::Member, "{case}");
    }
    assert!(world.actions().is_empty());

    // A browser that sends no `Origin` but says the form is this site's own.
    let fields = fields(Some(&token));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let done = jane
        .post_form(
            &world,
            "/acme/admin/members/role",
            &fields,
            &[("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(world.members("acme").await[1].1, Role::Admin);
}

#[tokio::test]
async fn an_api_write_without_the_token_with_another_token_or_from_another_site_is_refused() {
    let world = World::new();
    let mut jane = jane(&world).await;
    let token = jane.token.clone().unwrap();
    let body = || Some(json!({"email": "kim@acme.example", "role": "member"}));
    let token = token.as_str();
    let cases = [
        ("no token", vec![("origin", ORIGIN)], "csrf_token"),
        (
            "another token",
            vec![("origin", ORIGIN), ("x-csrf-token", "0123")],
            "csrf_token",
        ),
        (
            "another site",
            vec![("origin", "https://evil.example"), ("x-csrf-token", token)],
            "csrf_origin",
        ),
        (
            "neither origin nor fetch site",
            vec![("x-csrf-token", token)],
            "csrf_origin",
        ),
    ];
    for (case, headers, code) in cases {
        let reply = jane
            .api_with(
                &world,
                Method::POST,
                "/acme/admin/api/invites",
                body(),
                &headers,
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{case}");
        assert_eq!(reply.json()["error"], code, "{case}");
        assert!(world.invites().await.is_empty(), "{case}");
    }
    let reply = jane
        .api_with(
            &world,
            Method::POST,
            "/acme/admin/api/invites",
            body(),
            &[("origin", ORIGIN), ("x-csrf-token", token)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);

    // Another session's token is no token of this one.
    let mut other = Browser::default();
    other.sign_in(&world, "acme", "00u1").await;
    other.page(&world).await;
    let reply = other
        .api_with(
            &world,
            Method::DELETE,
            &format!("/acme/admin/api/invites/{}", world.invites().await[0].id),
            None,
            &[("origin", ORIGIN), ("x-csrf-token", token)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(world.invites().await.len(), 1);
}

#[tokio::test]
async fn the_api_answers_json_with_its_status_codes() {
    let world = World::new();
    let mut jane = Browser::default();
    jane.sign_in(&world, "acme", "00u1").await;

    let members = jane
        .api(&world, Method::GET, "/acme/admin/api/members", None)
        .await;
    assert_eq!(members.status, StatusCode::OK);
    assert_eq!(members.headers[header::CONTENT_TYPE], "application/json");
    assert!(
        members.headers.contains_key("x-csrf-token"),
        "the token for the writes"
    );
    assert_eq!(
        members.json(),
        json!({"members": [
            {"account": "a-jane", "handle": "jane-doe", "name": "Jane Doe", "email": "jane@acme.example", "role": "admin", "joined": "by_hand"},
            {"account": "a-sam", "handle": "sam-lee", "name": "<b>Sam</b>", "email": "sam@acme.example", "role": "member", "joined": "by_hand"}
        ]})
    );

    let created = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/invites",
            Some(json!({"handle": "pat-roe", "role": "contributor", "subject": "00u7"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let invite = created.json();
    let id = invite["id"].as_str().unwrap().to_owned();
    assert_eq!(
        invite,
        json!({
            "id": id,
            "role": "contributor",
            "invitee": {"account": "a-pat", "handle": "pat-roe"},
            "subject": {"issuer": ACME_IDP, "subject": "00u7"},
            "invited_by": "jane-doe",
            "created_at": "2026-11-28T12:00:00Z",
            "expires_at": "2026-12-05T12:00:00Z"
        })
    );
    let listed = jane
        .api(&world, Method::GET, "/acme/admin/api/invites", None)
        .await;
    assert_eq!(listed.json(), json!({"invites": [invite]}));
    let again = jane
        .api(
            &world,
            Method::POST,
            "/acme/admin/api/invites",
            Some(json!({"handle": "pat-roe", "role": "member"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["error"], "already_invited");

    let revoked = jane
        .api(
            &world,
            Method::DELETE,
            &format!("/acme/admin/api/invites/{id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert!(revoked.body.is_empty());
    let gone = jane
        .api(
            &world,
            Method::DELETE,
            &format!("/acme/admin/api/invites/{id}"),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.json()["error"], "no_such_invite");

    let changed = jane
        .api(
            &world,
            Method::PUT,
            "/acme/admin/api/members/a-sam",
            Some(json!({"role": "contributor"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.json()["role"], "contributor");
    assert_eq!(changed.json()["handle"], "sam-lee");
    let not_a_member = jane
        .api(
            &world,
            Method::PUT,
            "/acme/admin/api/members/a-pat",
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(not_a_member.status, StatusCode::NOT_FOUND);
    assert_eq!(not_a_member.json()["error"], "not_a_member");

    let bad_role = jane
        .api(
            &world,
            Method::PUT,
            "/acme/admin/api/members/a-sam",
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_role.json()["error"], "invalid_body");
    let token = jane.token.clone().unwrap();
    let headers = [("origin", ORIGIN), ("x-csrf-token", token.as_str())];
    let mut request = Request::put("/acme/admin/api/members/a-sam")
        .header(header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let malformed = jane.send(&world, request, Body::from("{\"role\":")).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error"], "malformed_json");
    let mut request =
        Request::put("/acme/admin/api/members/a-sam").header(header::CONTENT_TYPE, "text/plain");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let not_json = jane.send(&world, request, Body::from("role=admin")).await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(not_json.json()["error"], "unsupported_media_type");

    let removed = jane
        .api(
            &world,
            Method::DELETE,
            "/acme/admin/api/members/a-sam",
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(world.members("acme").await.len(), 1);

    let wrong_method = jane
        .api(&world, Method::PATCH, "/acme/admin/api/members", None)
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.json()["error"], "method_not_allowed");

    let events = jane
        .api(&world, Method::GET, "/acme/admin/api/events?limit=2", None)
        .await;
    let events = events.json()["events"].clone();
    assert_eq!(events.as_array().unwrap().len(), 2);
    assert_eq!(events[0]["action"]["action"], "member_removed");
    assert_eq!(events[0]["summary"], "removed sam-lee (contributor)");
    assert_eq!(events[0]["actor"], "jane-doe");
}

#[tokio::test]
async fn every_change_is_recorded_and_the_page_shows_the_last_twenty() {
    let world = World::new();
    let mut jane = jane(&world).await;
    jane.submit(
        &world,
        "/acme/admin/invites",
        &[
            ("invitee", "pat-roe"),
            ("role", "member"),
            ("subject", "00u5"),
        ],
    )
    .await;
    let id = world.invites().await[0].id.clone();
    jane.submit(&world, "/acme/admin/invites/revoke", &[("invite", &id)])
        .await;
    jane.submit(
        &world,
        "/acme/admin/members/role",
        &[("account", "a-sam"), ("role", "contributor")],
    )
    .await;
    jane.submit(
        &world,
        "/acme/admin/members/remove",
        &[("account", "a-sam")],
    )
    .await;

    let events = world.audit.events();
    assert!(events
        .iter()
        .all(|event| event.org == "acme" && event.actor == "jane-doe" && event.at == now()));
    assert_eq!(
        world.actions(),
        [
            AdminAction::Invited {
                invite: id.clone(),
                invitee: Invitee::Account("a-pat".into()),
                handle: Some("pat-roe".into()),
                role: Role::Member,
                subject: Some(identity(ACME_IDP, "00u5")),
            },
            AdminAction::InviteRevoked {
                invite: id,
                invitee: Invitee::Account("a-pat".into()),
                handle: Some("pat-roe".into()),
            },
            AdminAction::RoleChanged {
                account: "a-sam".into(),
                handle: "sam-lee".into(),
                from: Role::Member,
                to: Role::Contributor,
            },
            AdminAction::MemberRemoved {
                account: "a-sam".into(),
                handle: "sam-lee".into(),
                role: Role::Contributor,
            },
        ]
    );
    let page = jane.page(&world).await;
    let recent = page.body.split("<ol id=\"events\">").nth(1).unwrap();
    assert!(
        recent.find("removed sam-lee").unwrap() < recent.find("invited pat-roe as member").unwrap(),
        "newest first: {recent}"
    );

    for n in 0..30 {
        let action = AdminAction::InviteRevoked {
            invite: format!("inv-old-{n}"),
            invitee: Invitee::Email("x@acme.example".into()),
            handle: None,
        };
        world
            .audit
            .record(&AdminEvent::new("acme", "someone", now(), action))
            .await
            .unwrap();
    }
    let page = jane.page(&world).await;
    assert_eq!(page.body.matches("<li><time").count(), 20);
    assert!(page.body.contains("inv-old-29") && !page.body.contains("inv-old-9 "));
}

/// An app's own rule replaces the default: here, its staff may manage every org.
struct StaffToo;

#[async_trait::async_trait]
impl AdminAuthorization for StaffToo {
    async fn authorize(
        &self,
        visitor: &AdminVisitor<'_>,
    ) -> Result<AdminAccess, jit_provisioning::BoxError> {
        if visitor.signed_in.handle == "lee-kim" {
            return Ok(AdminAccess::Allowed);
        }
        Ok(AdminAccess::Refused(AdminRefusal::App(
            "staff only on this site".into(),
        )))
    }
}

#[tokio::test]
async fn an_app_plugs_in_its_own_authorization() {
    let world = World::with(|admin| admin.with_authorization(Arc::new(StaffToo)));
    let mut lee = Browser::default();
    lee.sign_in(&world, "acme", "00u3").await;
    lee.page(&world).await;
    lee.submit(
        &world,
        "/acme/admin/invites",
        &[("invitee", "pat-roe"), ("role", "member")],
    )
    .await;
    assert_eq!(world.audit.events()[0].actor, "lee-kim");

    let mut jane = Browser::default();
    jane.sign_in(&world, "acme", "00u1").await;
    let page = jane.get(&world, "/acme/admin/members").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.says("Staff only on this site."));
    let api = jane
        .api(&world, Method::GET, "/acme/admin/api/members", None)
        .await;
    assert_eq!(
        api.json(),
        json!({"error": "refused", "message": "staff only on this site"})
    );
}

#[tokio::test]
async fn a_role_taken_away_closes_the_pages_at_the_next_request() {
    let world = World::new();
    let mut jane = jane(&world).await;
    world
        .store
        .set_role(&"a-sam".into(), "acme", Role::Admin)
        .await
        .unwrap();
    world
        .store
        .set_role(&"a-jane".into(), "acme", Role::Member)
        .await
        .unwrap();
    let page = jane.get(&world, "/acme/admin/members").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

// Owner links: the site operator's way in before an org's SSO works.

/// The value of the hidden input `name` of a page's form.
fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {body}"))
        + marker.len();
    let rest = body.get(start..).unwrap();
    rest.get(..rest.find('"').unwrap()).unwrap().to_owned()
}

fn with_owner_links(links: &Arc<MemoryOwnerLinks>) -> World {
    let links = Arc::clone(links);
    World::with(move |admin| admin.with_owner_links(links))
}

async fn owner_link(links: &MemoryOwnerLinks, org: &str) -> String {
    links
        .create(org, now(), owner_link_expiry(now()))
        .await
        .unwrap()
}

/// Opens `/{org}/admin/owner/{token}` and presses its button.
async fn open_owner_link(browser: &mut Browser, world: &World, org: &str, token: &str) -> Reply {
    let page = browser
        .get(world, &format!("/{org}/admin/owner/{token}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = hidden(&page.body, "csrf_token");
    let token = hidden(&page.body, "token");
    browser
        .post_form(
            world,
            &format!("/{org}/admin/owner"),
            &[("csrf_token", &csrf), ("token", &token)],
            &[(header::ORIGIN.as_str(), ORIGIN)],
        )
        .await
}

#[tokio::test]
async fn an_owner_link_opens_the_org_s_admin_pages_once_without_an_account() {
    let links = Arc::new(MemoryOwnerLinks::new());
    let world = with_owner_links(&links);
    let token = owner_link(&links, "acme").await;

    let mut owner = Browser::default();
    // Opening the link only shows its button: a link preview does not use it up.
    owner
        .get(&world, &format!("/acme/admin/owner/{token}"))
        .await;
    let opened = open_owner_link(&mut owner, &world, "acme", &token).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    assert_eq!(opened.location.as_deref(), Some("/acme/admin/members"));
    let page = owner.page(&world).await;
    assert!(page.body.contains("jane-doe"), "{}", page.body);

    // What the owner does is audited as the owner's.
    let invited = owner
        .submit(
            &world,
            "/acme/admin/invites",
            &[("invitee", "ops@acme.example"), ("role", "admin")],
        )
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    assert_eq!(world.invites().await.len(), 1);
    let events = world.audit.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|event| event.actor == OWNER_ACTOR));
    assert!(events
        .iter()
        .any(|event| matches!(event.action, AdminAction::OwnerLinkUsed { .. })));

    // The grant is for acme alone.
    let globex = owner.get(&world, "/globex/admin/members").await;
    assert_eq!(globex.status, StatusCode::SEE_OTHER);

    // Used once: another browser with the same link is refused.
    let mut second = Browser::default();
    let again = open_owner_link(&mut second, &world, "acme", &token).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.body.contains("does not open"), "{}", again.body);
    let page = second.get(&world, "/acme/admin/members").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_owner_link_of_another_org_does_not_open_this_one() {
    let links = Arc::new(MemoryOwnerLinks::new());
    let world = with_owner_links(&links);
    let token = owner_link(&links, "globex").await;
    let mut owner = Browser::default();
    let refused = open_owner_link(&mut owner, &world, "acme", &token).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Still good at its own org.
    let opened = open_owner_link(&mut owner, &world, "globex", &token).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
}

#[tokio::test]
async fn an_owner_link_posted_without_the_session_s_token_is_refused_and_not_used_up() {
    let links = Arc::new(MemoryOwnerLinks::new());
    let world = with_owner_links(&links);
    let token = owner_link(&links, "acme").await;
    let mut owner = Browser::default();
    owner
        .get(&world, &format!("/acme/admin/owner/{token}"))
        .await;
    let forged = owner
        .post_form(
            &world,
            "/acme/admin/owner",
            &[("token", &token)],
            &[(header::ORIGIN.as_str(), ORIGIN)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let opened = open_owner_link(&mut owner, &world, "acme", &token).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
}

#[tokio::test]
async fn an_owner_link_posted_from_another_site_is_refused_and_not_used_up() {
    let links = Arc::new(MemoryOwnerLinks::new());
    let world = with_owner_links(&links);
    let token = owner_link(&links, "acme").await;
    let mut owner = Browser::default();
    let page = owner
        .get(&world, &format!("/acme/admin/owner/{token}"))
        .await;
    let csrf = hidden(&page.body, "csrf_token");
    let forged = owner
        .post_form(
            &world,
            "/acme/admin/owner",
            &[("csrf_token", &csrf), ("token", &token)],
            &[(header::ORIGIN.as_str(), "https://evil.example")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let opened = open_owner_link(&mut owner, &world, "acme", &token).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
}

#[tokio::test]
async fn without_owner_links_no_token_opens_the_pages() {
    let links = MemoryOwnerLinks::new();
    let world = World::new();
    let token = owner_link(&links, "acme").await;
    let mut owner = Browser::default();
    let refused = open_owner_link(&mut owner, &world, "acme", &token).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        owner.get(&world, "/acme/admin/members").await.status,
        StatusCode::SEE_OTHER
    );
}
