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

const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";

/// The only element named `local` in `namespace` of `doc`.
fn only(doc: &uppsala::Document<'_>, namespace: &str, local: &str) -> uppsala::NodeId {
    let found = doc.get_elements_by_tag_name_ns(namespace, local);
    assert_eq!(found.len(), 1, "{local}");
    *found.first().expect("one")
}

fn algorithm<'d>(doc: &'d uppsala::Document<'_>, node: uppsala::NodeId) -> &'d str {
    doc.element(node)
        .and_then(|element| element.get_attribute("Algorithm"))
        .expect("an Algorithm")
}

/// The shared IdP's own certificate stands in for the SP's: no second key to make.
fn encrypted_for_itself(options: &EncryptionOptions) -> String {
    let idp = shared_idp();
    idp.encrypted_response(
        &TestPerson::new("someone").with_email("someone@example.com"),
        &target(),
        &idp.certificate_pem(),
        now(),
        options,
    )
    .expect("response")
}

#[test]
fn an_encrypted_assertion_is_shaped_as_entra_id_sends_it() {
    let xml = encrypted_for_itself(&EncryptionOptions::default());
    let doc = uppsala::parse(&xml).expect("well-formed");
    assert!(doc
        .get_elements_by_tag_name_ns(NS_ASSERTION, "Assertion")
        .is_empty());
    assert!(!xml.contains("someone"));
    let response = doc.document_element().expect("root");
    let container = only(&doc, NS_ASSERTION, "EncryptedAssertion");
    assert_eq!(doc.parent(container), Some(response));
    let data = only(&doc, NS_XENC, "EncryptedData");
    assert_eq!(doc.parent(data), Some(container));
    assert_eq!(
        doc.element(data)
            .and_then(|element| element.get_attribute("Type")),
        Some("http://www.w3.org/2001/04/xmlenc#Element")
    );
    let key = only(&doc, NS_XENC, "EncryptedKey");
    let key_info = doc.parent(key).expect("in a KeyInfo");
    assert_eq!(doc.parent(key_info), Some(data));
    let methods = doc.get_elements_by_tag_name_ns(NS_XENC, "EncryptionMethod");
    let methods: Vec<&str> = methods.iter().map(|&node| algorithm(&doc, node)).collect();
    assert_eq!(
        methods,
        [
            "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
            "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
        ]
    );
    assert_eq!(
        algorithm(&doc, only(&doc, NS_DSIG, "DigestMethod")),
        "http://www.w3.org/2000/09/xmldsig#sha1"
    );
    // The recipient's certificate names the key the AES key is encrypted to.
    let certificate = only(&doc, NS_DSIG, "X509Certificate");
    assert_eq!(
        doc.text_content_deep(certificate),
        shared_key_pair().certificate_base64()
    );
    // The assertion's signature is inside the ciphertext; the response is not signed.
    assert!(doc
        .get_elements_by_tag_name_ns(NS_DSIG, "Signature")
        .is_empty());
}

#[test]
fn the_plaintext_is_the_signed_assertion_standing_alone() {
    let mut keys = bergshamra::KeysManager::new();
    keys.add_key(shared_key_pair().signing_key.clone());
    let context = bergshamra::EncContext::new(keys);
    for content_encryption in ContentEncryption::ALL {
        let xml = encrypted_for_itself(&EncryptionOptions {
            content_encryption,
            ..EncryptionOptions::default()
        });
        assert!(xml.contains(content_encryption.uri()));
        let decrypted = bergshamra::decrypt(&context, &xml).expect("decrypts");
        let doc = uppsala::parse(&decrypted).expect("well-formed");
        let assertion = only(&doc, NS_ASSERTION, "Assertion");
        assert_eq!(
            doc.parent(assertion),
            Some(only(&doc, NS_ASSERTION, "EncryptedAssertion"))
        );
        // Cut out of the response, the assertion's text is a document of its own,
        // and its signature verifies there.
        let alone = doc.node_source(assertion).expect("its text");
        let alone_doc = uppsala::parse(alone).expect("stands alone");
        assert_eq!(
            alone_doc
                .get_elements_by_tag_name_ns(NS_ASSERTION, "NameID")
                .len(),
            1
        );
        let mut trusted = bergshamra::KeysManager::new();
        trusted.add_key(
            bergshamra::keys::loader::load_x509_cert_der(&shared_key_pair().certificate_der)
                .expect("certificate"),
        );
        let verified = bergshamra::verify(&bergshamra::DsigContext::new(trusted), alone)
            .expect("verification runs");
        assert!(
            matches!(verified, bergshamra::VerifyResult::Valid { .. }),
            "{content_encryption:?}: {verified:?}"
        );
    }
}

#[test]
fn a_signed_encrypted_response_is_signed_over_the_ciphertext() {
    let xml = encrypted_for_itself(&EncryptionOptions {
        response: ResponseOptions {
            sign_assertion: false,
            sign_response: true,
            ..ResponseOptions::default()
        },
        ..EncryptionOptions::default()
    });
    let doc = uppsala::parse(&xml).expect("well-formed");
    let signature = only(&doc, NS_DSIG, "Signature");
    assert_eq!(doc.parent(signature), doc.document_element());
    let mut trusted = bergshamra::KeysManager::new();
    trusted.add_key(
        bergshamra::keys::loader::load_x509_cert_der(&shared_key_pair().certificate_der)
            .expect("certificate"),
    );
    let verified = bergshamra::verify(&bergshamra::DsigContext::new(trusted), &xml)
        .expect("verification runs");
    assert!(
        matches!(verified, bergshamra::VerifyResult::Valid { .. }),
        "{verified:?}"
    );
}

#[test]
fn encryption_needs_a_pem_certificate() {
    let idp = shared_idp();
    let person = TestPerson::new("someone");
    for bad in [
        "",
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
    ] {
        assert!(matches!(
            idp.encrypted_response(
                &person,
                &target(),
                bad,
                now(),
                &EncryptionOptions::default()
            ),
            Err(TestIdpError::InvalidCertificate(_))
        ));
    }
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
