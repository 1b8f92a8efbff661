//! Encrypted assertions (`saml:EncryptedAssertion`, as Entra ID and ADFS send them):
//! decrypted with the SP's key, then held to every check a plain assertion is, and
//! each bad one refused for its one reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::OnceLock;

use base64::Engine as _;
use jit_provisioning::SamlAnswer;
use jit_provisioning_saml::test_idp::{
    CiphertextDefect, ContentEncryption, EncryptionOptions, KeyTransport, TestIdp, EVIL_SUBJECT,
};
use jit_provisioning_saml::{
    verify_explained, Category, Expected, InResponseTo, PostError, ServiceProvider,
    SignedAssertion, SpKey, Verified, VerifyError, VerifyOptions,
};

use common::idp::{
    idp, jane, now, policy, post, saml_config, target, ACS_URL, IDP_ENTITY_ID, REQUEST_ID,
    SP_ENTITY_ID,
};

/// The SP's own key pair, the one the IdP encrypts for: a second test IdP's key and
/// certificate (made once: key generation is the slow part).
/// One test of this file at a time: one of them captures the decryption's debug log,
/// and a callsite another thread registers while the capture starts can be cached as
/// uninteresting and miss it (tracing's interest cache is process-wide).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn sp_keys() -> &'static TestIdp {
    static KEYS: OnceLock<TestIdp> = OnceLock::new();
    KEYS.get_or_init(|| TestIdp::generate("https://sp-keys.test.example").unwrap())
}

/// The SP of `common::idp`, with `keys` as its `sp.key_pem` and `sp.certificate_pem`,
/// or with no key at all.
fn provider_with(keys: Option<&TestIdp>) -> ServiceProvider {
    let mut config = saml_config(serde_json::json!({}));
    if let Some(keys) = keys {
        config.sp.key_pem = Some(keys.key_pem().to_owned());
        config.sp.certificate_pem = Some(keys.certificate_pem());
    }
    config.validate(&policy(), None).unwrap()
}

/// The SP that holds the key the IdP encrypts for.
fn provider() -> ServiceProvider {
    provider_with(Some(sp_keys()))
}

/// A response for Jane, encrypted for the SP's certificate.
fn encrypted(options: &EncryptionOptions) -> String {
    let xml = idp()
        .encrypted_response(
            &jane(),
            &target(),
            &sp_keys().certificate_pem(),
            now(),
            options,
        )
        .unwrap();
    // Nothing of the assertion travels in the clear.
    assert!(!xml.contains("<saml:Assertion"), "{xml}");
    assert!(!xml.contains("00u1jane"), "{xml}");
    assert!(!xml.contains("jane@acme.example"), "{xml}");
    assert!(xml.contains("<saml:EncryptedAssertion"), "{xml}");
    xml
}

fn options(sign_assertion: bool, sign_response: bool) -> EncryptionOptions {
    let mut options = EncryptionOptions::default();
    options.response.sign_assertion = sign_assertion;
    options.response.sign_response = sign_response;
    options
}

/// What `provider` makes of `xml`, posted by the browser to acme's ACS.
fn refusal_by(provider: &ServiceProvider, xml: &str) -> VerifyError {
    match provider.verify_post(&post(xml), now()) {
        Err(PostError::Refused(error)) => error,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn refusal(xml: &str) -> VerifyError {
    refusal_by(&provider(), xml)
}

/// The verified assertion of `xml` and the checks passed, straight from `verify`,
/// with the SP's key: to see which signatures covered what.
fn verified(xml: &str) -> (SignedAssertion, Vec<&'static str>) {
    let sp = provider();
    let settings = sp.org("acme").unwrap();
    let key = SpKey::from_pem(sp_keys().key_pem(), Some(&sp_keys().certificate_pem())).unwrap();
    let request_ids = vec![REQUEST_ID.to_owned()];
    let expected = Expected::new(SP_ENTITY_ID, ACS_URL, InResponseTo::OneOf(&request_ids));
    let mut options = VerifyOptions::default();
    options.decryption_key = Some(&key);
    let (result, checks) = verify_explained(xml, settings.idp(), &expected, now(), &options);
    match result {
        Ok(Verified::Assertion(assertion)) => {
            (assertion, checks.iter().map(|check| check.check).collect())
        }
        other => panic!("expected an assertion, got {other:?} after {checks:?}"),
    }
}

/// `xml` with the bytes of the `EncryptedData`'s `CipherValue` changed by `change`
/// and encoded back to valid base64. That `CipherValue` is the last one: the
/// `EncryptedKey`'s comes first, inside the `EncryptedData`'s `KeyInfo`.
fn with_ciphertext(xml: &str, change: impl FnOnce(&mut Vec<u8>)) -> String {
    let (open, close) = ("<xenc:CipherValue>", "</xenc:CipherValue>");
    let (before, rest) = xml.rsplit_once(open).unwrap();
    let (value, after) = rest.split_once(close).unwrap();
    let engine = base64::engine::general_purpose::STANDARD;
    let mut bytes = engine.decode(value).unwrap();
    change(&mut bytes);
    format!("{before}{open}{}{close}{after}", engine.encode(&bytes))
}

#[test]
fn an_encrypted_signed_assertion_is_accepted_and_is_janes() {
    let _serial = serial();
    let xml = encrypted(&EncryptionOptions::default());
    assert!(xml.contains(r#"Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc""#));
    assert!(xml.contains(r#"Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p""#));

    let answer = provider().verify_post(&post(&xml), now()).unwrap();
    let SamlAnswer::Assertion(verified_assertion) = answer else {
        panic!("expected an assertion, got {answer:?}");
    };
    let assertion = verified_assertion.assertion;
    assert_eq!(assertion.org, "acme");
    assert_eq!(assertion.issuer, IDP_ENTITY_ID);
    assert_eq!(assertion.subject, "00u1jane");
    assert_eq!(assertion.given_name.as_deref(), Some("Jane"));
    assert_eq!(assertion.family_name.as_deref(), Some("Doe"));
    assert_eq!(assertion.email.as_deref(), Some("jane@acme.example"));
    assert_eq!(assertion.groups, vec!["engineering".to_owned()]);

    let (signed, checks) = verified(&xml);
    assert!(signed.assertion_signed);
    assert!(!signed.response_signed);
    assert!(checks.contains(&"decrypted"), "{checks:?}");
}

#[test]
fn every_content_encryption_decrypts() {
    let _serial = serial();
    for content_encryption in ContentEncryption::ALL {
        let xml = encrypted(&{
            let mut options = EncryptionOptions::default();
            options.content_encryption = content_encryption;
            options
        });
        assert!(
            xml.contains(&format!(r#"Algorithm="{}""#, content_encryption.uri())),
            "{content_encryption:?}"
        );
        let (signed, _) = verified(&xml);
        assert_eq!(
            signed.name_id.map(|name_id| name_id.value).as_deref(),
            Some("00u1jane"),
            "{content_encryption:?}"
        );
    }
}

#[test]
fn an_unsigned_encrypted_assertion_in_a_signed_response_is_accepted() {
    let _serial = serial();
    let xml = encrypted(&options(false, true));
    let answer = provider().verify_post(&post(&xml), now()).unwrap();
    assert!(matches!(answer, SamlAnswer::Assertion(_)), "{answer:?}");

    let (signed, _) = verified(&xml);
    assert!(signed.response_signed);
    assert!(!signed.assertion_signed);
    assert_eq!(signed.issuer, IDP_ENTITY_ID);
}

#[test]
fn a_signed_encrypted_assertion_in_a_signed_response_is_accepted() {
    let _serial = serial();
    let xml = encrypted(&options(true, true));
    let (signed, _) = verified(&xml);
    assert!(signed.response_signed);
    assert!(signed.assertion_signed);
}

#[test]
fn an_encrypted_assertion_with_no_signature_anywhere_is_unsigned() {
    let _serial = serial();
    // Anyone can encrypt for the SP: its certificate is public. Encryption proves
    // nothing about who wrote the assertion.
    let error = refusal(&encrypted(&options(false, false)));
    assert_eq!(error.category(), Category::Unsigned, "{error}");
}

#[test]
fn an_sp_without_a_key_cannot_read_an_encrypted_assertion() {
    let _serial = serial();
    let xml = encrypted(&EncryptionOptions::default());
    let error = refusal_by(&provider_with(None), &xml);
    assert_eq!(error.category(), Category::EncryptedUnsupported, "{error}");
}

#[test]
fn an_sp_with_another_key_cannot_decrypt() {
    let _serial = serial();
    // The IdP's own key pair stands in for "some other key": the SP holds it, the
    // assertion is encrypted for `sp_keys()`.
    let xml = encrypted(&EncryptionOptions::default());
    let error = refusal_by(&provider_with(Some(idp())), &xml);
    assert_eq!(error.category(), Category::DecryptionFailed, "{error}");
}

#[test]
fn a_cbc_ciphertext_with_broken_padding_fails_decryption() {
    let _serial = serial();
    // CBC: flipping bit 7 of the last byte of the next-to-last block flips bit 7 of
    // the plaintext's last byte, the padding length (1 to 16), which becomes 129 to
    // 144: the padding check fails, always, before any XML is read.
    let xml = with_ciphertext(&encrypted(&EncryptionOptions::default()), |bytes| {
        let at = bytes.len() - 17;
        bytes[at] ^= 0x80;
    });
    let error = refusal(&xml);
    assert_eq!(error.category(), Category::DecryptionFailed, "{error}");
}

#[test]
fn a_gcm_ciphertext_with_a_flipped_byte_fails_decryption() {
    let _serial = serial();
    // GCM authenticates the ciphertext: any flipped byte fails the tag, always.
    for content_encryption in [ContentEncryption::Aes128Gcm, ContentEncryption::Aes256Gcm] {
        let xml = encrypted(&{
            let mut options = EncryptionOptions::default();
            options.content_encryption = content_encryption;
            options
        });
        let xml = with_ciphertext(&xml, |bytes| {
            let at = bytes.len() / 2;
            bytes[at] ^= 0x01;
        });
        let error = refusal(&xml);
        assert_eq!(
            error.category(),
            Category::DecryptionFailed,
            "{content_encryption:?}: {error}"
        );
    }
}

#[test]
fn a_flipped_ciphertext_byte_in_a_signed_response_is_a_bad_response_signature() {
    let _serial = serial();
    // The Response's signature covers the EncryptedAssertion as sent: it fails before
    // decryption is tried.
    let xml = with_ciphertext(&encrypted(&options(true, true)), |bytes| {
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
    });
    let error = refusal(&xml);
    assert_eq!(error.category(), Category::BadSignature, "{error}");
    assert!(
        matches!(
            error,
            VerifyError::BadSignature {
                element: "Response",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn an_assertion_tampered_before_encryption_is_a_bad_assertion_signature() {
    let _serial = serial();
    // The ciphertext is sound; the signature inside it is checked on the plaintext.
    let xml = encrypted(&{
        let mut options = EncryptionOptions::default();
        options.tamper_after_signing = true;
        options
    });
    let error = refusal(&xml);
    assert_eq!(error.category(), Category::BadSignature, "{error}");
    assert!(
        matches!(
            error,
            VerifyError::BadSignature {
                element: "Assertion",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!error.to_string().contains(EVIL_SUBJECT), "{error}");
}

#[test]
fn an_encrypted_assertion_by_another_issuer_is_refused() {
    let _serial = serial();
    let other = "https://other-idp.test.example/metadata";
    let xml = encrypted(&{
        let mut options = EncryptionOptions::default();
        options.assertion_issuer = Some(other.to_owned());
        options
    });
    let error = refusal(&xml);
    assert_eq!(error.category(), Category::WrongIssuer, "{error}");
    match error {
        VerifyError::WrongIssuer {
            element,
            found,
            expected,
        } => {
            assert_eq!(element, "Assertion");
            assert_eq!(found, other);
            assert_eq!(expected, IDP_ENTITY_ID);
        }
        other => panic!("expected WrongIssuer, got {other:?}"),
    }
}

#[test]
fn the_sp_metadata_publishes_its_certificate_for_encryption() {
    let _serial = serial();
    let metadata = provider().metadata_xml("acme").unwrap();
    let certificate = base64::engine::general_purpose::STANDARD.encode(sp_keys().certificate_der());
    let doc = uppsala::parse(&metadata).unwrap();
    let md = "urn:oasis:names:tc:SAML:2.0:metadata";
    let ds = "http://www.w3.org/2000/09/xmldsig#";
    let named = |node, namespace: &str, local: &str| {
        doc.element(node).is_some_and(|element| {
            &*element.name.local_name == local
                && element.name.namespace_uri.as_deref() == Some(namespace)
        })
    };
    let root = doc.document_element().unwrap();
    let for_encryption: Vec<String> = doc
        .descendants(root)
        .into_iter()
        .filter(|&node| {
            named(node, md, "KeyDescriptor")
                && doc
                    .element(node)
                    .and_then(|element| element.get_attribute("use"))
                    == Some("encryption")
        })
        .flat_map(|descriptor| {
            doc.descendants(descriptor)
                .into_iter()
                .filter(|&node| named(node, ds, "X509Certificate"))
                .map(|node| doc.text_content_deep(node).trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(for_encryption, vec![certificate], "{metadata}");

    // Without a key, nothing is offered for encryption.
    let keyless = provider_with(None).metadata_xml("acme").unwrap();
    assert!(!keyless.contains(r#"use="encryption""#), "{keyless}");
}

#[test]
fn an_encrypted_data_hidden_in_extensions_is_signature_wrapping() {
    let _serial = serial();
    // The response's own EncryptedAssertion holds an unsigned assertion about the
    // attacker; the honest signed one is encrypted into samlp:Extensions. Nothing may
    // be decrypted but the one EncryptedAssertion counted.
    let xml = encrypted(&{
        let mut options = EncryptionOptions::default();
        options.wrapped_in_extensions = true;
        options
    });
    assert!(
        xml.contains("<samlp:Extensions><xenc:EncryptedData"),
        "{xml}"
    );
    let error = refusal(&xml);
    assert_eq!(error.category(), Category::SignatureWrapping, "{error}");
}

#[test]
fn the_wrapped_response_carries_the_attackers_assertion_where_the_sp_reads() {
    let _serial = serial();
    // What the test above relies on: decrypted where it should be, the
    // response's own EncryptedAssertion is the attacker's, and unsigned.
    let xml = encrypted(&{
        let mut options = EncryptionOptions::default();
        options.wrapped_in_extensions = true;
        options
    });
    let (before, rest) = xml.split_once("<samlp:Extensions>").unwrap();
    let (_, after) = rest.split_once("</samlp:Extensions>").unwrap();
    let without_extensions = format!("{before}{after}");
    let error = refusal(&without_extensions);
    assert_eq!(error.category(), Category::Unsigned, "{error}");
}

/// A response for Jane with `options` changed by `change`.
fn encrypted_with(change: impl FnOnce(&mut EncryptionOptions)) -> String {
    let mut options = EncryptionOptions::default();
    change(&mut options);
    encrypted(&options)
}

#[test]
fn every_decryption_failure_gives_one_identical_answer() {
    let _serial = serial();
    // Bad padding, a noisy last block, a truncated key, text that is not XML, and a key
    // the SP does not hold: the ACS must not tell them apart (Jager and Somorovsky's
    // padding oracle on XML Encryption needs exactly such a difference).
    let mut answers = Vec::new();
    for defect in CiphertextDefect::ALL {
        let xml = encrypted_with(|options| options.defect = Some(defect));
        answers.push((format!("{defect:?}"), refusal(&xml)));
    }
    let sound = encrypted(&EncryptionOptions::default());
    answers.push((
        "another key".into(),
        refusal_by(&provider_with(Some(idp())), &sound),
    ));
    for (what, error) in &answers {
        assert_eq!(*error, VerifyError::DecryptionFailed, "{what}: {error}");
        assert_eq!(error.to_string(), answers[0].1.to_string(), "{what}");
        assert!(!error.to_string().contains("padding"), "{what}: {error}");
    }
}

// The runtime is this test's own and single-threaded: nothing else awaits the lock.
#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn through_the_provisioner_every_decryption_failure_is_one_category() {
    let _serial = serial();
    let provisioner =
        jit_provisioning::Provisioner::new(policy(), jit_provisioning::MemoryStore::new());
    let guard = jit_provisioning::MemoryReplayGuard::new();
    let mut seen = Vec::new();
    for defect in CiphertextDefect::ALL {
        let xml = encrypted_with(|options| options.defect = Some(defect));
        let error = provisioner
            .login(&provider(), &guard, &post(&xml), now())
            .await
            .unwrap_err();
        seen.push(error.to_string());
        let jit_provisioning::LoginError::Unverified(jit_provisioning::VerifyError::Refused {
            category,
            ..
        }) = error
        else {
            panic!("{defect:?}: {error:?}");
        };
        assert_eq!(category, "decryption_failed", "{defect:?}");
    }
    assert!(seen.windows(2).all(|pair| pair[0] == pair[1]), "{seen:?}");
}

#[test]
fn the_detail_goes_to_the_debug_log_and_never_names_padding() {
    let _serial = serial();
    for defect in CiphertextDefect::ALL {
        let xml = encrypted_with(|options| options.defect = Some(defect));
        let captured = common::log::Captured::default();
        {
            let _logging = captured.set_default(tracing::Level::DEBUG);
            refusal(&xml);
        }
        let log = captured.text();
        assert!(
            log.contains("jit_provisioning_saml::decryption"),
            "{defect:?}: {log}"
        );
        assert!(!log.to_lowercase().contains("padding"), "{defect:?}: {log}");
        // Each defect fails where it should (a flipped last block fails at the content
        // or, when its noise happens to end in a plausible length, at the text).
        let stage = match defect {
            CiphertextDefect::BadPadding => Some("did not decrypt with the transported key"),
            CiphertextDefect::TruncatedKey => Some("did not decrypt with the SP's key"),
            CiphertextDefect::PlaintextNotXml => Some("is not one saml:Assertion"),
            _ => None,
        };
        if let Some(stage) = stage {
            assert!(log.contains(stage), "{defect:?}: {log}");
        }
    }
}

#[test]
fn rsa_1_5_key_transport_is_refused_unless_the_idp_opts_in_loudly() {
    let _serial = serial();
    let xml = encrypted_with(|options| options.key_transport = KeyTransport::Rsa1_5);
    let error = refusal(&xml);
    assert!(
        matches!(&error, VerifyError::EncryptionRefused { algorithm, .. } if algorithm.ends_with("#rsa-1_5")),
        "{error:?}"
    );
    // The same kind, and so the same page for the person; the admin's message says how.
    assert_eq!(error.category(), Category::DecryptionFailed);
    assert!(
        error
            .to_string()
            .contains("insecure_allow_rsa1_5_key_transport"),
        "{error}"
    );
    assert!(error.to_string().contains("RSA-OAEP"), "{error}");

    let mut config = saml_config(serde_json::json!({
        "options": {"insecure_allow_rsa1_5_key_transport": true}
    }));
    config.sp.key_pem = Some(sp_keys().key_pem().to_owned());
    config.sp.certificate_pem = Some(sp_keys().certificate_pem());
    let opted_in = config.validate(&policy(), None).unwrap();
    match opted_in.verify_post(&post(&xml), now()) {
        Ok(SamlAnswer::Assertion(verified)) => assert_eq!(verified.assertion.subject, "00u1jane"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn triple_des_is_refused_by_name() {
    let _serial = serial();
    let xml =
        encrypted_with(|options| options.content_encryption = ContentEncryption::TripleDesCbc);
    let error = refusal(&xml);
    assert!(
        matches!(&error, VerifyError::EncryptionRefused { algorithm, .. } if algorithm.ends_with("#tripledes-cbc")),
        "{error:?}"
    );
    assert_eq!(error.category(), Category::DecryptionFailed);
    assert!(error.to_string().contains("AES-GCM"), "{error}");
}

#[test]
fn rsa_oaep_with_sha256_is_accepted() {
    let _serial = serial();
    let xml = encrypted_with(|options| options.key_transport = KeyTransport::RsaOaepSha256);
    assert!(xml.contains("xmlenc11#rsa-oaep"));
    let (assertion, _) = verified(&xml);
    assert_eq!(assertion.name_id.unwrap().value, "00u1jane");
}
