//! The whole sign-in path under load: first logins over HTTP against the demo as `main`
//! runs it (SQLite file, sessions and replay guard in it), served in this process on
//! loopback. Each login is the two requests a browser makes: the trip to the IdP
//! (`GET /acme/login/sso`) and the IdP's answer (`POST /acme/saml/acs`).
//!
//! ```sh
//! cargo run --release -p jit-provisioning-demo --example load            # 200 logins
//! cargo run --release -p jit-provisioning-demo --example load -- 1000    # or N
//! ```
//!
//! Three crowds of N concurrent first logins, each on a fresh database: N distinct
//! names, 20 names N/20 times each, and one name N times. Prints logins/s and the p50
//! and p99 of a login's two requests, and fails if any login is not signed in or any
//! person gets other than one account. The test IdP signs each answer in this process
//! too, outside the timed requests, as a real IdP would on its own machine; it still
//! shares the CPU.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use jit_provisioning_demo::{sqlite_app, DemoConfig, IDP_ENTITY_ID};
use jit_provisioning_saml::test_idp::{post_form_value, ResponseTarget, TestIdp, TestPerson};

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// How the crowd's names are spread.
#[derive(Debug, Clone, Copy)]
enum Names {
    Distinct,
    Twenty,
    One,
}

impl Names {
    fn label(self) -> &'static str {
        match self {
            Names::Distinct => "distinct names",
            Names::Twenty => "20 names",
            Names::One => "one name",
        }
    }

    /// The given and family name of login `index`.
    fn of(self, index: usize) -> (String, String) {
        match self {
            Names::Distinct => (format!("Pat{index}"), "Smith".to_owned()),
            Names::Twenty => (format!("Pat{}", index % 20), "Smith".to_owned()),
            Names::One => ("Pat".to_owned(), "Smith".to_owned()),
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Failure> {
    let logins: usize = match std::env::args().nth(1) {
        Some(text) => text.parse()?,
        None => 200,
    };
    let idp = Arc::new(TestIdp::generate(IDP_ENTITY_ID)?);
    println!(
        "{logins} concurrent first logins over HTTP, release build, {} CPUs",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!("| crowd | logins/s | p50 | p99 |\n| --- | --- | --- | --- |");
    for names in [Names::Distinct, Names::Twenty, Names::One] {
        let dir = std::env::temp_dir().join(format!(
            "jit-provisioning-load-{}-{}",
            std::process::id(),
            names.label().replace(' ', "-")
        ));
        std::fs::create_dir_all(&dir)?;
        let result = crowd(logins, names, Arc::clone(&idp), &dir).await;
        std::fs::remove_dir_all(&dir)?;
        let (rate, p50, p99) = result?;
        println!(
            "| {} × {} | {rate:.0} | {} | {} |",
            names.label(),
            logins,
            millis(p50),
            millis(p99)
        );
    }
    Ok(())
}

fn millis(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

/// One crowd on a fresh database: its logins/s, p50 and p99.
async fn crowd(
    logins: usize,
    names: Names,
    idp: Arc<TestIdp>,
    dir: &std::path::Path,
) -> Result<(f64, Duration, Duration), Failure> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let config = DemoConfig::shipped()?;
    let database = dir.join("demo.db");
    let (router, _) = sqlite_app(&config, Arc::clone(&idp), &database, &base_url).await?;
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let started = Instant::now();
    let tasks: Vec<_> = (0..logins)
        .map(|index| {
            let (idp, base_url) = (Arc::clone(&idp), base_url.clone());
            tokio::spawn(async move { first_login(&base_url, &idp, names, index).await })
        })
        .collect();
    let mut latencies = Vec::with_capacity(logins);
    for task in tasks {
        latencies.push(task.await??);
    }
    let elapsed = started.elapsed();
    server.abort();

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", database.display())).await?;
    let made: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jit_accounts a JOIN jit_identities i ON i.account_id = a.id \
         WHERE i.subject LIKE '00u-load-%'",
    )
    .fetch_one(&pool)
    .await?;
    if usize::try_from(made)? != logins {
        return Err(format!("{made} accounts for {logins} first logins").into());
    }
    latencies.sort();
    let at = |fraction: f64| {
        let index = ((latencies.len() as f64 - 1.0) * fraction).round() as usize;
        latencies.get(index).copied().unwrap_or_default()
    };
    Ok((logins as f64 / elapsed.as_secs_f64(), at(0.5), at(0.99)))
}

/// One person's first login; the time of its two requests.
async fn first_login(
    base_url: &str,
    idp: &TestIdp,
    names: Names,
    index: usize,
) -> Result<Duration, Failure> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let started = Instant::now();
    let trip = client
        .get(format!("{base_url}/acme/login/sso"))
        .send()
        .await?;
    let trip_time = started.elapsed();
    let header = |name: &str| -> Result<String, Failure> {
        Ok(trip
            .headers()
            .get(name)
            .ok_or_else(|| format!("login {index}: the trip has no {name}"))?
            .to_str()?
            .to_owned())
    };
    let cookie = header("set-cookie")?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let location = header("location")?;

    let (given, family) = names.of(index);
    let person = TestPerson::new(format!("00u-load-{index}"))
        .with_given_name(given)
        .with_family_name(family)
        .with_email(format!("person.{index}@load.example"));
    let target = ResponseTarget::new(
        format!("{base_url}/acme/saml/metadata"),
        format!("{base_url}/acme/saml/acs"),
    )
    .with_in_response_to(request_id(&location)?);
    let xml = idp.response(&person, &target, Utc::now())?;
    let body = format!("SAMLResponse={}", form_encode(&post_form_value(&xml)));

    let posted = Instant::now();
    let signed_in = client
        .post(format!("{base_url}/acme/saml/acs"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let answer_time = posted.elapsed();
    match (trip.status().as_u16(), signed_in.status().as_u16()) {
        (303, 303) => Ok(trip_time + answer_time),
        statuses => Err(format!("login {index}: {statuses:?}, not (303, 303)").into()),
    }
}

/// The AuthnRequest id in the trip's `Location` (HTTP-Redirect binding).
fn request_id(location: &str) -> Result<String, Failure> {
    let (_, query) = location.split_once('?').ok_or("no query in the trip")?;
    Ok(jit_provisioning_saml::AuthnRequest::from_redirect_query(query)?.id)
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}
