//! Unit tests of the test IdP's internals. What its output says, and that bergshamra
//! verifies it, is in `tests/test_idp_output.rs`.

use std::sync::OnceLock;
use std::time::Instant;

use chrono::TimeZone as _;

use super::*;

/// One key pair for the whole test binary: key generation is slow in debug builds.
pub(super) fn shared_key_pair() -> &'static KeyPair {
    static PAIR: OnceLock<KeyPair> = OnceLock::new();
    PAIR.get_or_init(|| KeyPair::generate().expect("key generation"))
}

fn shared_idp() -> &'static TestIdp {
    static IDP: OnceLock<TestIdp> = OnceLock::new();
    IDP.get_or_init(|| TestIdp {
        entity_id: "https://idp.example.test/metadata".to_owned(),
        keys: shared_key_pair().clone(),
        other_keys: OnceLock::new(),
    })
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7)
        .single()
        .expect("valid")
}

fn target() -> ResponseTarget {
    ResponseTarget::new(
        "https://sp.example.com/metadata",
        "https://sp.example.com/acs",
    )
    .with_in_response_to("_req1")
}

#[test]
fn test_idp_is_send_and_sync_and_debug_hides_the_key() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TestIdp>();
    let shown = format!("{:?}", shared_idp());
    assert!(shown.contains("https://idp.example.test/metadata"));
    assert!(!shown.contains("PRIVATE"));
    assert!(!shown.contains(&shared_key_pair().key_pem));
}

#[test]
fn instants_are_utc_with_only_the_fraction_they_need() {
    assert_eq!(instant(now()).expect("fits"), "2025-03-04T05:06:07Z");
    let with_millis = now() + TimeDelta::milliseconds(250);
    assert_eq!(
        instant(with_millis).expect("fits"),
        "2025-03-04T05:06:07.250Z"
    );
    let far = Utc
        .with_ymd_and_hms(10000, 1, 1, 0, 0, 0)
        .single()
        .expect("valid");
    assert!(matches!(instant(far), Err(TestIdpError::TimeOutOfRange)));
    assert!(matches!(
        shift(DateTime::<Utc>::MAX_UTC, TimeDelta::minutes(5)),
        Err(TestIdpError::TimeOutOfRange)
    ));
}

#[test]
fn times_at_the_ends_of_the_range_are_errors_not_panics() {
    let idp = shared_idp();
    let person = TestPerson::new("someone");
    for at in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
        assert!(matches!(
            idp.response(&person, &target(), at),
            Err(TestIdpError::TimeOutOfRange)
        ));
        for kind in BadResponse::ALL {
            if kind == BadResponse::SignedByOtherKey {
                continue; // would generate a second key for nothing
            }
            assert!(
                matches!(
                    idp.bad_response(kind, &person, &target(), at),
                    Err(TestIdpError::TimeOutOfRange)
                ),
                "{kind:?}"
            );
        }
        assert!(matches!(
            idp.error_response(&target(), status::RESPONDER, None, None, at),
            Err(TestIdpError::TimeOutOfRange)
        ));
    }
}

#[test]
fn unrepresentable_characters_are_errors_not_panics() {
    let idp = shared_idp();
    let nul = "a\u{0}b";
    assert!(matches!(
        TestIdp::from_pem(nul, &shared_key_pair().key_pem, &idp.certificate_pem()),
        Err(TestIdpError::UnrepresentableCharacter('\u{0}'))
    ));
    let people = [
        TestPerson::new(nul),
        TestPerson::new("ok").with_given_name(nul),
        TestPerson::new("ok").with_group("\u{FFFF}"),
        TestPerson::new("ok").with_attribute(nul, ["x"]),
        TestPerson::new("ok").with_attribute("x", [nul]),
    ];
    for person in &people {
        assert!(matches!(
            idp.response(person, &target(), now()),
            Err(TestIdpError::UnrepresentableCharacter(_))
        ));
    }
    let bad_target = ResponseTarget::new("sp", "https://sp/acs").with_in_response_to("\u{1b}");
    assert!(idp
        .response(&TestPerson::new("ok"), &bad_target, now())
        .is_err());
    assert!(idp
        .error_response(&target(), status::RESPONDER, Some(nul), None, now())
        .is_err());
    assert!(idp.metadata_xml(nul).is_err());
    assert!(post_form_html(nul, "<x/>", None).is_err());
    assert!(post_form_html("https://sp/acs", "<x/>", Some(nul)).is_err());
}

#[test]
fn wrong_values_differ_from_the_target_even_when_it_uses_them() {
    assert_eq!(different(WRONG_ACS_URL, "https://sp/acs"), WRONG_ACS_URL);
    assert_ne!(different(WRONG_ACS_URL, WRONG_ACS_URL), WRONG_ACS_URL);

    let idp = shared_idp();
    let person = TestPerson::new("someone");
    let target = ResponseTarget::new(WRONG_SP_ENTITY_ID, WRONG_ACS_URL);
    let xml = idp
        .bad_response(BadResponse::WrongAudience, &person, &target, now())
        .expect("response");
    assert!(xml.contains(&format!("<saml:Audience>{WRONG_SP_ENTITY_ID}/elsewhere<")));
    let xml = idp
        .bad_response(BadResponse::WrongRecipient, &person, &target, now())
        .expect("response");
    assert!(xml.contains(&format!("Recipient=\"{WRONG_ACS_URL}/elsewhere\"")));
}

#[test]
fn tampering_always_changes_the_subject() {
    let idp = shared_idp();
    for subject in ["someone", EVIL_SUBJECT, "a<b&c"] {
        let person = TestPerson::new(subject);
        let xml = idp
            .bad_response(BadResponse::Tampered, &person, &target(), now())
            .expect("response");
        let doc = uppsala::parse(&xml).expect("well-formed");
        let name_ids = doc.get_elements_by_tag_name_ns(NS_ASSERTION, "NameID");
        assert_eq!(name_ids.len(), 1);
        let written = doc.text_content_deep(*name_ids.first().expect("one"));
        assert_ne!(written, subject);
        assert!(written.ends_with(EVIL_SUBJECT));
    }
    assert!(matches!(
        tamper_name_id("<x/>", "someone"),
        Err(TestIdpError::Internal(_))
    ));
}

#[test]
fn a_certificate_of_another_key_is_refused() {
    let idp = shared_idp();
    let other = idp.untrusted_certificate_pem().expect("other key");
    assert_ne!(other, idp.certificate_pem());
    assert!(matches!(
        TestIdp::from_pem("idp", idp.key_pem(), &other),
        Err(TestIdpError::KeyMismatch)
    ));
    // The untrusted key is made once and kept.
    assert_eq!(idp.untrusted_certificate_pem().expect("kept"), other);
}

#[test]
fn clones_share_nothing_mutable_but_keep_the_keys() {
    let idp = shared_idp().clone();
    assert_eq!(idp.key_pem(), shared_idp().key_pem());
    assert_eq!(idp.certificate_der(), shared_idp().certificate_der());
    assert_eq!(idp.entity_id(), shared_idp().entity_id());
}

#[test]
fn post_form_html_carries_the_response_and_relay_state() {
    let page = post_form_html("https://sp/acs?a=1&b=2", "<r/>", Some("\"/next\"")).expect("page");
    assert!(page.contains("action=\"https://sp/acs?a=1&amp;b=2\""));
    assert!(page.contains(&format!(
        "name=\"SAMLResponse\" value=\"{}\"",
        post_form_value("<r/>")
    )));
    assert!(page.contains("name=\"RelayState\" value=\"&quot;/next&quot;\""));
    let without = post_form_html("https://sp/acs", "<r/>", None).expect("page");
    assert!(!without.contains("RelayState"));
}

/// Prints how long RSA-2048 generation (key and self-signed certificate) takes in the
/// current profile: `cargo test … --lib test_idp::tests::measure_key_generation -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn measure_key_generation() {
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        KeyPair::generate().expect("key generation");
        times.push(started.elapsed());
    }
    eprintln!("RSA-2048 key pair and certificate: {times:?}");
}
