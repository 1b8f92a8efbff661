//! IdP metadata from a URL: served from a loopback server, fetched with the crate's
//! `HttpFetcher`, kept, fetched again when it expires or when the IdP rolled its key;
//! and the addresses the fetcher refuses.
#![cfg(feature = "http-fetch")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

/// One test of this file at a time: one of them captures the adapter's warnings, and a
/// callsite another thread registers while the capture starts can be cached as
/// uninteresting and miss it (tracing's interest cache is process-wide).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, SecondsFormat, TimeDelta, Timelike as _, Utc};
use jit_provisioning::{SamlAnswer, SamlPost, SamlVerifier};
use jit_provisioning_saml::test_idp::{BadResponse, TestIdp};
use jit_provisioning_saml::{
    AddressClass, FetchError, FetchedMetadata, HttpFetcher, IdpMetadata, MetadataFetcher,
    PostError, SamlSettingsCheck, ServiceProvider, VerifyError,
};

use common::idp::{idp, jane, now, policy, post, saml_config, target, IDP_ENTITY_ID};
use common::metadata_server::{metadata, MetadataServer, Reply};

/// The IdP's next key: the same entity id, another key pair.
fn rotated() -> &'static TestIdp {
    static ROTATED: OnceLock<TestIdp> = OnceLock::new();
    ROTATED.get_or_init(|| TestIdp::generate(IDP_ENTITY_ID).unwrap())
}

/// The wall clock, to the second: the fetcher stamps what it fetches with it.
fn wall_now() -> DateTime<Utc> {
    DateTime::<Utc>::from(SystemTime::now())
        .with_nanosecond(0)
        .unwrap()
}

fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

/// The fetcher the tests use: the loopback server is plain HTTP on 127.0.0.1.
fn loopback_fetcher() -> HttpFetcher {
    HttpFetcher::new()
        .allow_private_addresses(true)
        .allow_http(true)
        .with_timeout(Duration::from_secs(5))
}

/// The loopback fetcher, whose fetches are stamped with the test's clock rather than
/// the wall clock: the tests travel in time, and a fetch's time is the fetcher's to say.
#[derive(Debug, Clone)]
struct PinnedClock {
    inner: HttpFetcher,
    now: Arc<Mutex<DateTime<Utc>>>,
}

#[async_trait::async_trait]
impl MetadataFetcher for PinnedClock {
    async fn fetch(&self, url: &str) -> Result<FetchedMetadata, FetchError> {
        let fetched = self.inner.fetch(url).await?;
        Ok(FetchedMetadata::new(
            fetched.body,
            *self.now.lock().unwrap(),
        ))
    }
}

/// A service provider for `acme`, whose IdP's metadata is at `url`, and its clock.
struct Sp {
    sp: ServiceProvider,
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl std::ops::Deref for Sp {
    type Target = ServiceProvider;
    fn deref(&self) -> &ServiceProvider {
        &self.sp
    }
}

fn sp_for(url: &str) -> Sp {
    let now = Arc::new(Mutex::new(DateTime::<Utc>::MIN_UTC));
    let fetcher = PinnedClock {
        inner: loopback_fetcher(),
        now: Arc::clone(&now),
    };
    let sp = saml_config(serde_json::json!({"idp": {"metadata_url": url}}))
        .validate(&policy(), None)
        .unwrap()
        .with_metadata_fetcher(Arc::new(fetcher));
    Sp { sp, now }
}

impl Sp {
    async fn post_at(&self, post: &SamlPost, at: DateTime<Utc>) -> Result<SamlAnswer, PostError> {
        *self.now.lock().unwrap() = at;
        self.sp.verify_post_async(post, at).await
    }

    async fn sign_in(&self, signer: &TestIdp, at: DateTime<Utc>) -> Result<SamlAnswer, PostError> {
        let xml = signer.response(&jane(), &target(), at).unwrap();
        self.post_at(&post(&xml), at).await
    }
}

/// The loopback server with `idp()`'s metadata (with `attributes` on its
/// EntityDescriptor), a service provider on it, and the instant of a first sign-in,
/// which fetched the metadata.
async fn signed_in_once(attributes: &str) -> (MetadataServer, Sp, DateTime<Utc>) {
    let server = MetadataServer::start(Reply::Metadata(metadata(
        IDP_ENTITY_ID,
        &[idp()],
        attributes,
    )))
    .await;
    let sp = sp_for(&server.url);
    let t0 = now();
    assert_signed_in(sp.sign_in(idp(), t0).await);
    assert_eq!(server.hits(), 1);
    (server, sp, t0)
}

fn assert_signed_in(answer: Result<SamlAnswer, PostError>) {
    match answer {
        Ok(SamlAnswer::Assertion(verified)) => {
            assert_eq!(verified.assertion.subject, "00u1jane")
        }
        other => panic!("not signed in: {other:?}"),
    }
}

fn assert_bad_signature(answer: Result<SamlAnswer, PostError>) {
    match answer {
        Err(PostError::Refused(
            VerifyError::UntrustedSigner { .. } | VerifyError::BadSignature { .. },
        )) => {}
        other => panic!("not a signature refusal: {other:?}"),
    }
}

#[tokio::test]
async fn a_response_signed_by_either_of_two_listed_keys_verifies() {
    let _serial = SERIAL.lock().await;
    let both = metadata(IDP_ENTITY_ID, &[idp(), rotated()], "");
    let sp = saml_config(serde_json::json!({"idp": {"metadata": both}}))
        .validate(&policy(), None)
        .unwrap();
    assert_eq!(sp.org("acme").unwrap().idp().certificates().len(), 2);
    let now = now();
    for signer in [idp(), rotated()] {
        let xml = signer.response(&jane(), &target(), now).unwrap();
        assert_signed_in(sp.verify_post(&post(&xml), now));
    }
    // A third key is still refused.
    let forged = idp()
        .bad_response(BadResponse::SignedByOtherKey, &jane(), &target(), now)
        .unwrap();
    assert_bad_signature(sp.verify_post(&post(&forged), now));
}

#[tokio::test]
async fn metadata_is_fetched_when_first_needed_and_kept() {
    let _serial = SERIAL.lock().await;
    let server =
        MetadataServer::start(Reply::Metadata(metadata(IDP_ENTITY_ID, &[idp()], ""))).await;
    let sp = sp_for(&server.url);
    assert_eq!(server.hits(), 0, "nothing is fetched before it is needed");
    assert!(sp.org("acme").is_none());
    let now = now();
    // Through the core's trait, as the provisioner calls it.
    let xml = idp().response(&jane(), &target(), now).unwrap();
    *sp.now.lock().unwrap() = now;
    let answer = SamlVerifier::verify(&sp.sp, &post(&xml), IDP_ENTITY_ID, now).await;
    assert!(matches!(answer, Ok(SamlAnswer::Assertion(_))), "{answer:?}");
    assert_signed_in(sp.sign_in(idp(), now + minutes(30)).await);
    assert_eq!(server.hits(), 1);
    let status = sp.metadata_status("acme").unwrap();
    assert_eq!(status.url, server.url);
    assert_eq!(status.fetched_at, Some(now));
    assert_eq!(status.refresh_at, Some(now + TimeDelta::hours(24)));
    assert_eq!(status.last_error, None);
    assert!(sp.metadata_xml("acme").unwrap().contains("/acme/saml/acs"));
}

#[tokio::test]
async fn a_rolled_key_is_picked_up_at_the_first_sign_in_after_it() {
    let _serial = SERIAL.lock().await;
    let (server, sp, t0) = signed_in_once("").await;
    assert_eq!(server.hits(), 1);

    // The IdP rolls its key and publishes the new certificate alone.
    server.set(Reply::Metadata(metadata(IDP_ENTITY_ID, &[rotated()], "")));
    // Metadata fetched a minute ago is not fetched again for a bad signature.
    assert_bad_signature(sp.sign_in(rotated(), t0 + minutes(1)).await);
    assert_eq!(server.hits(), 1);
    // Five minutes on, the first response signed with the new key fetches it, and
    // verifies.
    assert_signed_in(sp.sign_in(rotated(), t0 + minutes(6)).await);
    assert_eq!(server.hits(), 2);
    assert_signed_in(sp.sign_in(rotated(), t0 + minutes(7)).await);
    // The old key is no longer trusted, and asks no fetch.
    assert_bad_signature(sp.sign_in(idp(), t0 + minutes(8)).await);
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn bad_signatures_fetch_at_most_once_per_interval() {
    let _serial = SERIAL.lock().await;
    let (server, sp, t0) = signed_in_once("").await;
    let forged_at = |at| {
        post(
            &idp()
                .bad_response(BadResponse::SignedByOtherKey, &jane(), &target(), at)
                .unwrap(),
        )
    };
    let mut hits = Vec::new();
    for offset in [10, 10, 10, 12, 14, 15, 15, 16] {
        let at = t0 + minutes(offset);
        assert_bad_signature(sp.post_at(&forged_at(at), at).await);
        hits.push(server.hits());
    }
    // One fetch at 10 minutes, the next allowed at 15.
    assert_eq!(hits, [2, 2, 2, 2, 2, 3, 3, 3]);
}

#[tokio::test]
async fn concurrent_bad_signatures_share_one_fetch() {
    let _serial = SERIAL.lock().await;
    let (server, sp, t0) = signed_in_once("").await;
    let sp = Arc::new(sp);
    let at = t0 + minutes(10);
    let forged = post(
        &idp()
            .bad_response(BadResponse::SignedByOtherKey, &jane(), &target(), at)
            .unwrap(),
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (sp, forged) = (Arc::clone(&sp), forged.clone());
            tokio::spawn(async move { sp.post_at(&forged, at).await })
        })
        .collect();
    for task in tasks {
        assert_bad_signature(task.await.unwrap());
    }
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_failed_fetch_keeps_the_metadata_there_was_and_warns() {
    let _serial = SERIAL.lock().await;
    let captured = common::log::Captured::default();
    let _logging = captured.set_default(tracing::Level::WARN);

    let (server, sp, t0) = signed_in_once("").await;

    server.set(Reply::Status(500, None));
    let later = t0 + TimeDelta::hours(25);
    assert_signed_in(sp.sign_in(idp(), later).await);
    assert_eq!(server.hits(), 2);
    let status = sp.metadata_status("acme").unwrap();
    assert_eq!(status.fetched_at, Some(t0));
    assert!(
        status.last_error.as_deref().unwrap().contains("500"),
        "{status:?}"
    );
    let log = captured.text();
    assert!(log.contains("WARN"), "{log}");
    assert!(log.contains("the metadata there was is kept"), "{log}");
    assert!(log.contains("answered 500"), "{log}");

    // Not tried again at every sign-in: the next try waits the interval.
    assert_signed_in(sp.sign_in(idp(), later + minutes(1)).await);
    assert_eq!(server.hits(), 2);
    server.set(Reply::Metadata(metadata(IDP_ENTITY_ID, &[idp()], "")));
    assert_signed_in(sp.sign_in(idp(), later + minutes(6)).await);
    assert_eq!(server.hits(), 3);
    let status = sp.metadata_status("acme").unwrap();
    assert_eq!(status.fetched_at, Some(later + minutes(6)));
    assert_eq!(status.last_error, None);
}

#[tokio::test]
async fn without_any_metadata_a_failed_fetch_is_an_error_not_retried_at_once() {
    let _serial = SERIAL.lock().await;
    let server = MetadataServer::start(Reply::Status(404, None)).await;
    let sp = sp_for(&server.url);
    let t0 = now();
    for at in [t0, t0 + minutes(1)] {
        match sp.sign_in(idp(), at).await {
            Err(PostError::Unavailable(error)) => {
                assert_eq!(error.org, "acme");
                assert!(error.reason.contains("404"), "{error}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(server.hits(), 1);
    assert!(sp.sp_metadata_xml("acme", t0 + minutes(2)).await.is_err());
    assert_eq!(server.hits(), 1);
    server.set(Reply::Metadata(metadata(IDP_ENTITY_ID, &[idp()], "")));
    assert_signed_in(sp.sign_in(idp(), t0 + minutes(5)).await);
    assert_eq!(server.hits(), 2);
}

fn xs_date_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test]
async fn metadata_is_fetched_again_at_its_valid_until() {
    let _serial = SERIAL.lock().await;
    let until = format!(
        r#"validUntil="{}""#,
        xs_date_time(now() + TimeDelta::hours(1))
    );
    let (server, sp, t0) = signed_in_once(&until).await;
    assert_eq!(
        sp.metadata_status("acme").unwrap().refresh_at,
        Some(t0 + TimeDelta::hours(1))
    );
    assert_signed_in(sp.sign_in(idp(), t0 + minutes(59)).await);
    assert_eq!(server.hits(), 1);
    assert_signed_in(sp.sign_in(idp(), t0 + minutes(61)).await);
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn metadata_is_fetched_again_after_its_cache_duration() {
    let _serial = SERIAL.lock().await;
    let (server, sp, t0) = signed_in_once(r#"cacheDuration="PT10M""#).await;
    assert_signed_in(sp.sign_in(idp(), t0 + minutes(9)).await);
    assert_eq!(server.hits(), 1);
    assert_signed_in(sp.sign_in(idp(), t0 + minutes(11)).await);
    assert_eq!(server.hits(), 2);
    // Counted from the new fetch.
    assert_signed_in(sp.sign_in(idp(), t0 + minutes(20)).await);
    assert_eq!(server.hits(), 2);
    assert_signed_in(sp.sign_in(idp(), t0 + minutes(22)).await);
    assert_eq!(server.hits(), 3);
}

#[test]
fn the_earliest_valid_until_and_the_shortest_cache_duration_count() {
    let _serial = SERIAL.blocking_lock();
    let entity = metadata(
        IDP_ENTITY_ID,
        &[idp()],
        r#"validUntil="2026-12-01T00:00:00Z" cacheDuration="PT10M""#,
    );
    let entity = entity.split_once("?>").unwrap().1;
    let aggregate = |attributes: &str| {
        format!(
            r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" {attributes}>{entity}</md:EntitiesDescriptor>"#
        )
    };
    let parsed = IdpMetadata::parse(
        &aggregate(r#"validUntil="2026-11-30T00:00:00Z" cacheDuration="PT6H""#),
        None,
    )
    .unwrap();
    assert_eq!(
        parsed.valid_until.map(xs_date_time).as_deref(),
        Some("2026-11-30T00:00:00Z")
    );
    assert_eq!(parsed.cache_duration, Some(minutes(10)));
    let error = IdpMetadata::parse(&aggregate(r#"cacheDuration="six hours""#), None).unwrap_err();
    assert!(error.to_string().contains("not an xs:duration"), "{error}");
    let error = IdpMetadata::parse(&aggregate(r#"validUntil="tomorrow""#), None).unwrap_err();
    assert!(error.to_string().contains("validUntil"), "{error}");
}

#[tokio::test]
async fn metadata_without_a_lifetime_is_fetched_again_after_a_day() {
    let _serial = SERIAL.lock().await;
    let (server, sp, t0) = signed_in_once("").await;
    assert_signed_in(sp.sign_in(idp(), t0 + TimeDelta::hours(23)).await);
    assert_eq!(server.hits(), 1);
    assert_signed_in(
        sp.sign_in(idp(), t0 + TimeDelta::hours(24) + minutes(1))
            .await,
    );
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn the_settings_check_fetches_and_reports_the_certificates() {
    let _serial = SERIAL.lock().await;
    let server = MetadataServer::start(Reply::Metadata(metadata(
        IDP_ENTITY_ID,
        &[idp(), rotated()],
        "",
    )))
    .await;
    let section = jit_provisioning_saml::OrgSamlConfig::from_section(
        &serde_json::from_value(serde_json::json!({"idp": {"metadata_url": server.url}})).unwrap(),
    )
    .unwrap()
    .to_section();
    let without_fetcher = SamlSettingsCheck::new()
        .facts(&section, None)
        .await
        .unwrap_err();
    assert!(
        without_fetcher[0].contains("fetches no URL"),
        "{without_fetcher:?}"
    );

    let check = SamlSettingsCheck::new().with_fetcher(Arc::new(loopback_fetcher()));
    let facts = check.facts(&section, None).await.unwrap();
    common::idp::assert_test_idp_facts(&facts, 2);

    // Metadata already past its validUntil is refused when it is written.
    let past = format!(
        r#"validUntil="{}""#,
        xs_date_time(wall_now() - TimeDelta::hours(1))
    );
    server.set(Reply::Metadata(metadata(IDP_ENTITY_ID, &[idp()], &past)));
    let problems = check.facts(&section, None).await.unwrap_err();
    assert!(problems[0].contains("expired"), "{problems:?}");

    server.set(Reply::Status(503, None));
    let problems = check.facts(&section, None).await.unwrap_err();
    assert!(problems[0].contains("answered 503"), "{problems:?}");
}

// The fetcher itself.

async fn refused(fetcher: &HttpFetcher, url: &str) -> FetchError {
    fetcher.fetch(url).await.unwrap_err()
}

async fn refused_class(url: &str) -> AddressClass {
    match refused(&HttpFetcher::new(), url).await {
        FetchError::RefusedAddress { class, .. } => class,
        other => panic!("{url}: {other:?}"),
    }
}

#[tokio::test]
async fn plain_http_is_refused_unless_allowed() {
    let _serial = SERIAL.lock().await;
    let server =
        MetadataServer::start(Reply::Metadata(metadata(IDP_ENTITY_ID, &[idp()], ""))).await;
    // The address is allowed: only the scheme is wrong.
    let fetcher = HttpFetcher::new().allow_private_addresses(true);
    assert!(matches!(
        refused(&fetcher, &server.url).await,
        FetchError::NotHttps { .. }
    ));
    assert_eq!(server.hits(), 0);
    let fetched = fetcher.allow_http(true).fetch(&server.url).await.unwrap();
    assert!(fetched.body.contains(IDP_ENTITY_ID));
}

#[tokio::test]
async fn loopback_addresses_are_refused_unless_allowed() {
    let _serial = SERIAL.lock().await;
    let server =
        MetadataServer::start(Reply::Metadata(metadata(IDP_ENTITY_ID, &[idp()], ""))).await;
    // Plain HTTP is allowed: only the address is wrong.
    let fetcher = HttpFetcher::new().allow_http(true);
    match refused(&fetcher, &server.url).await {
        FetchError::RefusedAddress { address, class, .. } => {
            assert_eq!(address.to_string(), "127.0.0.1");
            assert_eq!(class, AddressClass::Loopback);
        }
        other => panic!("{other:?}"),
    }
    let by_name = server.url.replace("127.0.0.1", "localhost");
    assert!(matches!(
        refused(&fetcher, &by_name).await,
        FetchError::RefusedAddress {
            class: AddressClass::Loopback,
            ..
        }
    ));
    assert_eq!(
        refused_class("https://[::1]/metadata").await,
        AddressClass::Loopback
    );
    assert_eq!(server.hits(), 0);
    assert!(fetcher
        .allow_private_addresses(true)
        .fetch(&server.url)
        .await
        .is_ok());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn private_addresses_are_refused() {
    let _serial = SERIAL.lock().await;
    for url in [
        "https://10.1.2.3/metadata",
        "https://172.16.0.1/metadata",
        "https://192.168.1.1:8443/metadata",
    ] {
        assert_eq!(refused_class(url).await, AddressClass::Private, "{url}");
    }
}

#[tokio::test]
async fn link_local_addresses_are_refused() {
    let _serial = SERIAL.lock().await;
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/metadata",
    ] {
        assert_eq!(refused_class(url).await, AddressClass::LinkLocal, "{url}");
    }
}

#[tokio::test]
async fn unique_local_addresses_are_refused() {
    let _serial = SERIAL.lock().await;
    assert_eq!(
        refused_class("https://[fd00:ec2::254]/metadata").await,
        AddressClass::UniqueLocal
    );
}

#[tokio::test]
async fn carrier_grade_nat_addresses_are_refused() {
    let _serial = SERIAL.lock().await;
    assert_eq!(
        refused_class("https://100.64.0.1/metadata").await,
        AddressClass::SharedCgnat
    );
}

#[tokio::test]
async fn multicast_addresses_are_refused() {
    let _serial = SERIAL.lock().await;
    for url in ["https://224.0.0.1/metadata", "https://[ff02::1]/metadata"] {
        assert_eq!(refused_class(url).await, AddressClass::Multicast, "{url}");
    }
}

#[tokio::test]
async fn unspecified_addresses_are_refused() {
    let _serial = SERIAL.lock().await;
    for url in ["https://0.0.0.0/metadata", "https://[::]/metadata"] {
        assert_eq!(refused_class(url).await, AddressClass::Unspecified, "{url}");
    }
}

#[tokio::test]
async fn ipv4_mapped_addresses_are_judged_by_their_ipv4_address() {
    let _serial = SERIAL.lock().await;
    assert_eq!(
        refused_class("https://[::ffff:127.0.0.1]/metadata").await,
        AddressClass::Loopback
    );
    assert_eq!(
        refused_class("https://[::ffff:169.254.169.254]/metadata").await,
        AddressClass::LinkLocal
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let _serial = SERIAL.lock().await;
    let server = MetadataServer::start(Reply::Status(
        302,
        Some("http://169.254.169.254/latest/meta-data/".into()),
    ))
    .await;
    match loopback_fetcher().fetch(&server.url).await.unwrap_err() {
        FetchError::Status {
            status: 302,
            location: Some(location),
            ..
        } => assert!(location.contains("169.254.169.254")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_oversized_answer_is_refused() {
    let _serial = SERIAL.lock().await;
    let server = MetadataServer::start(Reply::Metadata("x".repeat(10_000))).await;
    let error = loopback_fetcher()
        .with_max_bytes(1000)
        .fetch(&server.url)
        .await
        .unwrap_err();
    assert!(
        matches!(error, FetchError::TooLarge { limit: 1000, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let _serial = SERIAL.lock().await;
    let server = MetadataServer::start(Reply::Silence).await;
    let error = loopback_fetcher()
        .with_timeout(Duration::from_millis(300))
        .fetch(&server.url)
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn https_urls_are_fetched_over_tls() {
    let _serial = SERIAL.lock().await;
    let server = MetadataServer::start(Reply::Greeting(
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".into(),
    ))
    .await;
    let url = server.url.replace("http://", "https://");
    let error = HttpFetcher::new()
        .allow_private_addresses(true)
        .fetch(&url)
        .await
        .unwrap_err();
    match error {
        FetchError::Failed { reason, .. } => assert!(reason.starts_with("TLS: "), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits(), 1);
}
