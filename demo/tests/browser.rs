//! The portal in a real browser: headless Chromium through chromedriver (Debian's
//! `chromium` and `chromium-driver`), against the demo served on loopback. Walks the
//! seed's four scenarios, the attacks around them and the dead ends, checks the security
//! headers of the pages it walks through (with an HTTP client: WebDriver shows no
//! headers) and that the browser runs the pages' styles and scripts under them, and
//! saves a screenshot of every page under `target/screenshots/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

mod common;

use fantoccini::{Client, ClientBuilder, Locator};
use jit_provisioning_demo::{sqlite_app, DemoConfig};

/// How long a validation stays fresh in this test's config: short enough to wait out.
const REAUTH_AFTER_SECS: u64 = 6;

/// chromedriver, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_browser(profile: &std::path::Path) -> (Driver, Client) {
    let port = free_port();
    let driver =
        Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver is not installed (Debian: apt-get install chromium chromium-driver)",
            );
    let driver = Driver(driver);
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1000,800",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let capabilities = capabilities.as_object().unwrap().clone();
    let mut last_error = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return (driver, client),
            Err(error) => last_error = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no WebDriver session: {last_error:?}");
}

/// The demo with its shipped config, but a short re-validation window, in a fresh
/// SQLite file; served on a free loopback port.
async fn serve_demo(data_dir: &std::path::Path) -> String {
    let text = include_str!("../config.toml").replace(
        "reauth_after_secs = 3600",
        &format!("reauth_after_secs = {REAUTH_AFTER_SECS}"),
    );
    let config: DemoConfig = toml::from_str(&text).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let idp = Arc::new(jit_provisioning_demo::load_or_make_idp(data_dir).unwrap());
    let (router, _) = sqlite_app(&config, idp, &data_dir.join("demo.db"), &base_url)
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base_url
}

/// The browser, the demo's address, and the pictures taken so far.
struct Walk {
    client: Client,
    base_url: String,
    shots: PathBuf,
    taken: usize,
}

impl Walk {
    /// A walk whose screenshots go to `target/screenshots/{folder}`.
    fn new(client: Client, base_url: String, folder: &str) -> Self {
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/screenshots")
            .join(folder);
        std::fs::create_dir_all(&shots).unwrap();
        Walk {
            client,
            base_url,
            shots,
            taken: 0,
        }
    }

    async fn shot(&mut self, name: &str) {
        self.taken += 1;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(
            self.shots.join(format!("{:02}-{name}.png", self.taken)),
            png,
        )
        .unwrap();
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base_url))
            .await
            .unwrap();
    }

    async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    async fn text(&self, id: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id(id))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn click(&self, id: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id(id))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// A fresh browser session: no cookie left.
    async fn forget(&self) {
        self.goto("/").await;
        self.client.delete_all_cookies().await.unwrap();
    }

    /// From the portal page through the IdP as `person`, to wherever it lands.
    async fn sign_in_as(&mut self, portal: &str, person: usize, name: &str) {
        self.goto(portal).await;
        self.shot(&format!("{name}-portal")).await;
        self.click("sign-in").await;
        self.answer_as(person, name).await;
    }

    /// On the IdP's page: picks `person`, to wherever the answer lands.
    async fn answer_as(&mut self, person: usize, name: &str) {
        self.client
            .wait()
            .for_element(Locator::Id(&format!("person-{person}")))
            .await
            .unwrap();
        self.shot(&format!("{name}-idp")).await;
        self.click(&format!("person-{person}")).await;
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("h1"))
            .await
            .unwrap();
        // The IdP's page posts itself to the ACS; wait until it has left.
        for _ in 0..50 {
            if !self.path().await.starts_with("/idp") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.client
            .wait()
            .for_element(Locator::Css("h1"))
            .await
            .unwrap();
        self.shot(&format!("{name}-landed")).await;
    }

    /// Posts `saml_response` to the ACS from this page, as the IdP's form would.
    async fn post_to_acs(&self, saml_response: &str) {
        let script = "const form = document.createElement('form'); form.method = 'post'; \
                      form.action = arguments[0]; const input = document.createElement('input'); \
                      input.type = 'hidden'; input.name = 'SAMLResponse'; input.value = arguments[1]; \
                      form.appendChild(input); document.body.appendChild(form); form.submit();";
        self.client
            .execute(
                script,
                vec![
                    format!("{}/acme/saml/acs", self.base_url).into(),
                    saml_response.into(),
                ],
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.client
            .wait()
            .for_element(Locator::Css("h1"))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver (.ci/run installs them)"]
async fn the_portal_in_a_real_browser() {
    let data_dir = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let base_url = serve_demo(data_dir.path()).await;
    let (_driver, client) = start_browser(profile.path()).await;
    let mut walk = Walk::new(client, base_url, "");

    // 1. A new person: an account `firstname-lastname`, no password, Member, on the org home.
    walk.sign_in_as("/acme/login", 0, "new-person").await;
    assert_eq!(walk.path().await, "/acme");
    assert_eq!(walk.text("handle").await, "jane-doe");
    assert_eq!(walk.text("name").await, "Jane Doe");
    assert_eq!(walk.text("password").await, "none (signs in through SSO)");
    let membership = walk
        .client
        .find(Locator::Css(".membership"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(membership, "acme (member)");
    assert!(walk.text("rule").await.starts_with("jit_create"));

    // 2. A member validated recently goes straight in; one validated long ago goes
    //    through the IdP and comes back to the org home.
    walk.forget().await;
    walk.sign_in_as("/acme/login", 3, "member").await;
    assert_eq!(walk.path().await, "/acme");
    assert!(walk.text("rule").await.starts_with("linked_member"));
    walk.goto("/acme/login").await;
    assert_eq!(
        walk.path().await,
        "/acme",
        "validated a moment ago: no trip to the IdP"
    );
    walk.shot("member-straight-in").await;
    tokio::time::sleep(Duration::from_secs(REAUTH_AFTER_SECS + 1)).await;
    walk.goto("/acme/login").await;
    assert!(
        walk.path().await.starts_with("/idp/sso?SAMLRequest="),
        "validated long ago: straight to the IdP, no portal page to click through ({})",
        walk.path().await
    );
    walk.answer_as(3, "member-stale").await;
    assert_eq!(walk.path().await, "/acme");
    assert!(walk.text("rule").await.starts_with("linked_member"));

    // 3. An existing non-member lands on their own home, with no membership, and the
    //    page says why.
    walk.forget().await;
    walk.sign_in_as("/acme/login", 2, "non-member").await;
    assert_eq!(walk.path().await, "/sam-lee");
    assert_eq!(walk.text("memberships").await, "none");
    assert!(walk.text("rule").await.starts_with("email_linked"));
    let notice = walk.text("not-a-member").await;
    assert!(notice.contains("You are signed in"), "{notice}");
    assert!(notice.contains("not a member of acme"), "{notice}");
    assert!(
        notice.contains("An admin of acme must invite you"),
        "{notice}"
    );

    // 4. Someone not assigned the app sees the guidance.
    walk.forget().await;
    walk.goto("/acme/login").await;
    assert!(walk
        .text("guidance")
        .await
        .contains("assign the app to you"));
    walk.sign_in_as("/acme/login", 4, "not-assigned").await;
    assert!(
        walk.text("message").await.contains("admin"),
        "the IdP's RequestDenied explained"
    );
    // The refusal leads back to the portal.
    walk.click("next").await;
    walk.client
        .wait()
        .for_element(Locator::Id("sign-in"))
        .await
        .unwrap();
    assert_eq!(walk.path().await, "/acme/login");

    // The assertion consumer opened as a page (a reload, a bookmark) says what to do,
    // and leads back too.
    walk.goto("/acme/saml/acs").await;
    assert_eq!(walk.text("title").await, "Start the sign-in again");
    walk.shot("acs-reload").await;
    walk.click("next").await;
    walk.client
        .wait()
        .for_element(Locator::Id("sign-in"))
        .await
        .unwrap();
    assert_eq!(walk.path().await, "/acme/login");

    // A deep link is kept through the trip.
    walk.forget().await;
    walk.sign_in_as(
        "/acme/login?return_to=/acme/projects%3Ftab%3Dopen",
        0,
        "deep-link",
    )
    .await;
    assert_eq!(walk.path().await, "/acme/projects?tab=open");

    // An open-redirect attempt is ignored: the person lands on the org home.
    walk.forget().await;
    walk.sign_in_as(
        "/acme/login?return_to=//evil.example/phish",
        0,
        "open-redirect",
    )
    .await;
    assert_eq!(walk.path().await, "/acme");

    // A second Jane Doe gets `jane-doe-2`; the very same POST again is refused.
    walk.forget().await;
    walk.goto("/acme/login").await;
    walk.click("sign-in").await;
    let request = walk
        .client
        .wait()
        .for_element(Locator::Css("input[name=SAMLRequest]"))
        .await
        .unwrap();
    let saml_request = request.attr("value").await.unwrap().unwrap();
    let answer = reqwest::Client::new()
        .post(format!("{}/idp/sso", walk.base_url))
        .form(&[("SAMLRequest", saml_request.as_str()), ("person", "1")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let saml_response = answer
        .split("name=\"SAMLResponse\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2B;", "+")
        .replace("&#x2F;", "/")
        .replace("&#x3D;", "=");
    walk.post_to_acs(&saml_response).await;
    walk.shot("second-jane").await;
    assert_eq!(walk.text("handle").await, "jane-doe-2");
    walk.post_to_acs(&saml_response).await;
    walk.shot("replayed").await;
    assert!(
        walk.text("message").await.contains("could not be verified"),
        "the replay is refused"
    );

    // A tampered response gets the 400 page.
    walk.forget().await;
    walk.goto("/acme/login").await;
    walk.click("sign-in").await;
    walk.click("tamper").await;
    walk.click("person-0").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(walk.text("message").await.contains("could not be verified"));
    walk.shot("tampered").await;

    // The pages' own style runs under the Content-Security-Policy (by its nonce): the
    // button is the portal's blue, not the browser's grey.
    walk.forget().await;
    walk.goto("/acme/login").await;
    let background = walk
        .client
        .execute(
            "return getComputedStyle(document.getElementById('sign-in')).backgroundColor",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(background, "rgb(31, 111, 235)");

    // The headers of the pages walked through, read with an HTTP client.
    let http = common::client();
    let base = &walk.base_url;
    let portal =
        common::fetch_checked("the portal page", http.get(format!("{base}/acme/login"))).await;
    assert_eq!(portal.status, 200);
    let trip = common::fetch_checked(
        "the redirect to the IdP",
        http.get(format!("{base}/acme/login/sso")),
    )
    .await;
    let to_idp = trip.headers["location"].to_str().unwrap();
    let pick = common::fetch_checked("the IdP's page", http.get(to_idp)).await;
    assert_eq!(pick.status, 200);
    let answer = common::fetch_checked(
        "the IdP's answer",
        http.post(format!("{base}/idp/sso"))
            .form(&[("SAMLRequest", saml_request.as_str()), ("person", "2")]),
    )
    .await;
    assert_eq!(answer.status, 200);
    let refusal = common::fetch_checked(
        "a refusal",
        http.post(format!("{base}/acme/saml/acs"))
            .form(&[("SAMLResponse", saml_response.as_str())]),
    )
    .await;
    assert_eq!(refusal.status, 400, "the replay again, from no session");
    let reload =
        common::fetch_checked("the ACS reload", http.get(format!("{base}/acme/saml/acs"))).await;
    assert_eq!(reload.status, 405);
    let home = common::fetch_checked("a home", http.get(format!("{base}/sam-lee"))).await;
    assert_eq!(home.status, 401);

    walk.client.close().await.unwrap();
}

/// Fills the input `name` of the form `#form` with `value`.
async fn fill(walk: &Walk, form: &str, name: &str, value: &str) {
    let input = walk
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&format!("#{form} [name={name}]")))
        .await
        .unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// An org admin's side in the browser: María, an admin of acme through her IdP group,
/// invites Sam Lee (the seed's non-member) on the members page; Sam's next sign-in
/// through acme's portal lands on the org home as a member. María makes a SCIM token
/// for acme and revokes it. Then a second org from
/// nothing: an owner link opens its admin pages, the owner pastes the test IdP's
/// metadata, tests a sign-in, activates the trust and turns JIT on; a new person signs
/// in, and Sam, invited, joins. Screenshots go to `target/screenshots/admin/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver (.ci/run installs them)"]
async fn the_admin_pages_in_a_real_browser() {
    let data_dir = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let base_url = serve_demo(data_dir.path()).await;
    let (_driver, client) = start_browser(profile.path()).await;
    let mut walk = Walk::new(client, base_url, "admin");

    // Sam Lee signs in before anyone invites him: his own home, not a member.
    walk.sign_in_as("/acme/login", 2, "sam-first").await;
    assert_eq!(walk.path().await, "/sam-lee");
    assert_eq!(walk.text("memberships").await, "none");

    // María's org home links to the members page.
    walk.forget().await;
    walk.sign_in_as("/acme/login", 3, "maria").await;
    assert_eq!(walk.path().await, "/acme");
    walk.click("manage-members").await;
    walk.client
        .wait()
        .for_element(Locator::Id("members"))
        .await
        .unwrap();
    assert_eq!(walk.path().await, "/acme/admin/members");
    walk.shot("members").await;
    let members = walk.text("members").await;
    assert!(members.contains("maria-garcia"), "{members}");
    assert!(!members.contains("sam-lee"), "{members}");

    // She invites Sam by his handle.
    fill(&walk, "invite", "invitee", "sam-lee").await;
    walk.client
        .find(Locator::Css("#invite button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    walk.client
        .wait()
        .for_element(Locator::Css("h1"))
        .await
        .unwrap();
    walk.shot("invited").await;
    let notice = walk.text("notice").await;
    assert!(notice.contains("sam-lee"), "{notice}");
    assert!(walk.text("invites").await.contains("sam-lee"));
    assert!(walk.text("events").await.contains("maria-garcia"));

    // Sam's next sign-in accepts it: a member, on the org home.
    walk.forget().await;
    walk.sign_in_as("/acme/login", 2, "sam-invited").await;
    assert_eq!(walk.path().await, "/acme");
    assert!(walk.text("rule").await.starts_with("invite_accepted"));
    let membership = walk
        .client
        .find(Locator::Css(".membership"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(membership, "acme (member)");

    // María sees him among the members, joined by invite, and the invite gone.
    walk.forget().await;
    walk.sign_in_as("/acme/login", 3, "maria-again").await;
    walk.goto("/acme/admin/members").await;
    let members = walk.text("members").await;
    walk.shot("members-after").await;
    assert!(members.contains("sam-lee"), "{members}");
    assert!(members.contains("invite"), "{members}");
    assert!(walk.text("no-invites").await.contains("No"));

    // The SCIM page, from the admin navigation: María makes a token for acme's IdP. Its
    // secret is shown once, opens acme's SCIM endpoints, and is in no list; revoked, it
    // opens nothing.
    walk.click("nav-scim").await;
    walk.client
        .wait()
        .for_element(Locator::Id("scim-token-form"))
        .await
        .unwrap();
    assert_eq!(walk.path().await, "/acme/admin/scim");
    let scim_url = walk.text("scim-base-url").await;
    assert_eq!(scim_url, format!("{}/scim/v2/acme", walk.base_url));
    walk.shot("scim-empty").await;
    fill(&walk, "scim-token-form", "label", "okta").await;
    submit(&walk, "scim-token-form").await;
    walk.shot("scim-token-made").await;
    let secret = walk.text("scim-token").await;
    assert!(secret.starts_with("jitscim_"), "{secret}");
    assert!(walk
        .text("notice")
        .await
        .contains("will not be shown again"));
    let users = |secret: &str| {
        common::client()
            .get(format!("{scim_url}/Users"))
            .bearer_auth(secret)
            .send()
    };
    assert_eq!(users(&secret).await.unwrap().status(), 200);
    walk.click("back").await;
    walk.client
        .wait()
        .for_element(Locator::Id("scim-tokens"))
        .await
        .unwrap();
    walk.shot("scim-tokens").await;
    assert!(walk.text("scim-tokens").await.contains("okta"));
    assert!(!walk.client.source().await.unwrap().contains(&secret));
    walk.client
        .find(Locator::Css("#scim-tokens button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    walk.client
        .wait()
        .for_element(Locator::Id("no-scim-tokens"))
        .await
        .unwrap();
    walk.shot("scim-token-revoked").await;
    assert!(walk.text("notice").await.contains("revoked SCIM token"));
    assert_eq!(users(&secret).await.unwrap().status(), 401);

    // Sam, a member but no admin, is refused the page.
    walk.forget().await;
    walk.sign_in_as("/acme/login", 2, "sam-member").await;
    walk.goto("/acme/admin/members").await;
    walk.shot("not-an-admin").await;
    assert!(walk.text("message").await.contains("Only admins of acme"));

    // A second org from nothing: the site's operator makes initech as a draft and an
    // owner link (what `jit-provisioning orgs owner-link --create initech` does).
    walk.forget().await;
    let link = owner_link(data_dir.path(), "initech").await;
    walk.goto(&link).await;
    walk.shot("owner-link").await;
    walk.click("open-admin").await;
    walk.client
        .wait()
        .for_element(Locator::Id("members"))
        .await
        .unwrap();
    assert_eq!(walk.path().await, "/initech/admin/members");

    // The SSO set-up page: the values for the IdP, then the IdP's metadata pasted.
    walk.goto("/initech/admin/sso").await;
    let acs = walk.text("acs-url").await;
    assert!(acs.ends_with("/initech/saml/acs"), "{acs}");
    walk.shot("sso-empty").await;
    let metadata = reqwest::get(format!("{}/idp/metadata", walk.base_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    walk.client
        .execute(
            "document.getElementById('metadata').value = arguments[0];",
            vec![metadata.into()],
        )
        .await
        .unwrap();
    submit(&walk, "metadata-form").await;
    walk.shot("sso-pending").await;
    assert!(walk.text("pending-status").await.contains("Not tested"));

    // The test sign-in: a real trip to the IdP, which signs no one in.
    submit(&walk, "test").await;
    walk.answer_as(0, "sso-test").await;
    walk.shot("sso-test-result").await;
    let handle = walk.text("handle").await;
    assert!(handle.contains("jane-doe"), "{handle}");
    assert_eq!(
        signed_in_handle(&walk).await,
        None,
        "a test signs no one in"
    );
    submit(&walk, "activate").await;
    walk.shot("sso-activated").await;

    // JIT on, and the org's portal signs a new person in.
    walk.client
        .find(Locator::Css("#settings [name=jit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    submit(&walk, "settings").await;
    walk.shot("sso-jit-on").await;
    let notice = walk.text("notice").await;
    assert!(!notice.contains("problem"), "{notice}");

    walk.forget().await;
    walk.sign_in_as("/initech/login", 0, "initech-first").await;
    assert_eq!(walk.path().await, "/initech");
    assert!(walk.text("rule").await.starts_with("jit_create"));

    // The owner invites Sam, no member of initech, who then signs in as one.
    walk.forget().await;
    let link = owner_link(data_dir.path(), "initech").await;
    walk.goto(&link).await;
    walk.click("open-admin").await;
    fill(&walk, "invite", "invitee", "sam-lee").await;
    submit(&walk, "invite").await;
    assert!(walk.text("invites").await.contains("sam-lee"));
    walk.forget().await;
    walk.sign_in_as("/initech/login", 2, "initech-invited")
        .await;
    assert_eq!(walk.path().await, "/initech");
    assert!(walk.text("rule").await.starts_with("invite_accepted"));
}

/// Presses the submit button of the form `#form`, and waits for the next page.
async fn submit(walk: &Walk, form: &str) {
    walk.client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&format!("#{form} button[type=submit]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    walk.client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("h1"))
        .await
        .unwrap();
}

/// Who the browser's session is signed in as, by the demo's index of homes: the handle
/// on `/`'s page is not shown, so ask the org home, which needs a session.
async fn signed_in_handle(walk: &Walk) -> Option<String> {
    let here = walk.client.current_url().await.unwrap();
    walk.goto("/initech").await;
    let handle = match walk.client.find(Locator::Id("handle")).await {
        Ok(element) => Some(element.text().await.unwrap()),
        Err(_) => None,
    };
    walk.client.goto(here.as_str()).await.unwrap();
    handle
}

/// What `jit-provisioning orgs owner-link --create` does, on the demo's database: `org`
/// as a draft if it is missing, and a one-time owner link's path.
async fn owner_link(data_dir: &std::path::Path, org: &str) -> String {
    use jit_provisioning::org::{OrgDirectory, OrgRegistry, OrgState, OrgUpdate};
    use jit_provisioning::{Config, OrgConfig, OwnerLinks};

    let url = format!("sqlite://{}", data_dir.join("demo.db").display());
    let store = jit_provisioning_sqlx::SqliteStore::connect(&url)
        .await
        .unwrap();
    let directory: Arc<dyn OrgDirectory> = Arc::new(jit_provisioning_sqlx::SqliteDirectory::new(
        store.pool().clone(),
    ));
    let registry = OrgRegistry::new(directory, &Config::default()).unwrap();
    let now = chrono::Utc::now();
    if registry.org(org).await.unwrap().is_none() {
        let mut draft = OrgConfig::default();
        draft.state = OrgState::Draft;
        registry
            .update(OrgUpdate::new(org, draft, "test:operator", now).expecting(0))
            .await
            .unwrap();
    }
    let token = store
        .create(org, now, jit_provisioning::owner_link_expiry(now))
        .await
        .unwrap();
    format!("/{org}/admin/owner/{token}")
}
