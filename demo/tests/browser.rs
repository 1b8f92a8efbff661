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
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut walk = Walk {
        client,
        base_url,
        shots,
        taken: 0,
    };

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
