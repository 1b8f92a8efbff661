//! The time of each way an `EncryptedAssertion` can fail to decrypt, beside a good
//! decryption: bad CBC padding, a noisy last block, a truncated transported key, a
//! plaintext that is not XML, and a key the SP does not hold. All are one
//! `DecryptionFailed` to the sender; this shows how close their times are.
//!
//! Self-contained: the test IdP makes every response (no `../shared` needed).

#![allow(clippy::panic)] // a bench that cannot set up fails by panicking, like a test

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use jit_provisioning_saml::test_idp::{
    CiphertextDefect, EncryptionOptions, ResponseTarget, TestIdp, TestPerson,
};
use jit_provisioning_saml::{
    verify, Certificate, Expected, IdpOptions, InResponseTo, SpKey, TrustedIdp, VerifyOptions,
};

const SP_ENTITY_ID: &str = "https://app.example/acme/saml/metadata";
const ACS_URL: &str = "https://app.example/acme/saml/acs";
const REQUEST_ID: &str = "_request1";

fn decryptions(c: &mut Criterion) {
    let (Ok(idp), Ok(sp), Ok(stranger)) = (
        TestIdp::generate("https://idp.test.example/metadata"),
        TestIdp::generate("https://sp-keys.test.example"),
        TestIdp::generate("https://stranger.test.example"),
    ) else {
        panic!("the test IdP could not make its keys");
    };
    let now: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
        .single()
        .unwrap_or_default();
    let person = TestPerson::new("00u1jane")
        .with_given_name("Jane")
        .with_family_name("Doe")
        .with_email("jane@acme.example");
    let target = ResponseTarget::new(SP_ENTITY_ID, ACS_URL).with_in_response_to(REQUEST_ID);
    let encrypted = |defect: Option<CiphertextDefect>| {
        let mut options = EncryptionOptions::default();
        options.defect = defect;
        idp.encrypted_response(&person, &target, &sp.certificate_pem(), now, &options)
            .unwrap_or_else(|error| panic!("{defect:?}: {error}"))
    };
    let certificates = Certificate::from_pem_or_base64(&idp.certificate_pem()).unwrap_or_default();
    let trusted = TrustedIdp::new(idp.entity_id(), certificates, IdpOptions::default())
        .unwrap_or_else(|error| panic!("{error}"));
    let requests = [REQUEST_ID.to_owned()];
    let expected = Expected::new(SP_ENTITY_ID, ACS_URL, InResponseTo::OneOf(&requests));
    let key = |keys: &TestIdp| {
        SpKey::from_pem(keys.key_pem(), None).unwrap_or_else(|error| panic!("{error}"))
    };
    let (sp_key, stranger_key) = (key(&sp), key(&stranger));

    let good = encrypted(None);
    let mut cases = vec![("good", good.clone(), &sp_key)];
    cases.push((
        "bad_padding",
        encrypted(Some(CiphertextDefect::BadPadding)),
        &sp_key,
    ));
    cases.push((
        "flipped_last_block",
        encrypted(Some(CiphertextDefect::FlippedLastBlock)),
        &sp_key,
    ));
    cases.push((
        "truncated_key",
        encrypted(Some(CiphertextDefect::TruncatedKey)),
        &sp_key,
    ));
    cases.push((
        "plaintext_not_xml",
        encrypted(Some(CiphertextDefect::PlaintextNotXml)),
        &sp_key,
    ));
    cases.push(("another_key", good, &stranger_key));

    let mut group = c.benchmark_group("decryption");
    for (name, xml, key) in &cases {
        let options = VerifyOptions::default().with_decryption_key(key);
        // Each case must end as it says: a bench of the wrong path measures nothing.
        let outcome = verify(xml, &trusted, &expected, now, &options);
        assert_eq!(outcome.is_ok(), *name == "good", "{name}: {outcome:?}");
        group.bench_function(*name, |b| {
            b.iter(|| verify(xml, &trusted, &expected, now, &options));
        });
    }
    group.finish();
}

criterion_group!(benches, decryptions);
criterion_main!(benches);
