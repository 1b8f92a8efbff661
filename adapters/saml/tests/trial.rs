//! Trying SAML settings that are not in use: a pending trust in an org's record, the
//! provider built from settings given, the verifier of a test sign-in and its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::{Arc, OnceLock};

use jit_provisioning::org::{MemoryDirectory, OrgRegistry, OrgUpdate, SamlSection, SsoCheck};
use jit_provisioning::{Config, IdpBinding, IdpTrip, SamlAnswer, SamlVerifier};
use jit_provisioning_saml::test_idp::{BadResponse, TestIdp};
use jit_provisioning_saml::{
    Category, IdpSource, OrgSamlConfig, PendingTrust, PostError, SamlSettingsCheck,
    ServiceProvider, SpConfig,
};

use common::idp::{idp, jane, now, post, target, BASE_URL, IDP_ENTITY_ID, REQUEST_ID};

/// The IdP after it rolled its key: same entity id.
fn rolled() -> &'static TestIdp {
    static ROLLED: OnceLock<TestIdp> = OnceLock::new();
    ROLLED.get_or_init(|| TestIdp::generate(IDP_ENTITY_ID).unwrap())
}

fn settings_of(idp: &TestIdp, sso_url: &str) -> OrgSamlConfig {
    OrgSamlConfig::from_section(
        &serde_json::from_value::<SamlSection>(serde_json::json!({
            "idp": {"metadata": idp.metadata_xml(sso_url).unwrap()}
        }))
        .unwrap(),
    )
    .unwrap()
}

/// A registry with `acme` on `idp()`'s metadata and a service provider over it.
async fn registry_and_sp() -> (Arc<OrgRegistry>, ServiceProvider) {
    let registry = OrgRegistry::new(Arc::new(MemoryDirectory::new()), &Config::default())
        .unwrap()
        .with_sso_check(Arc::new(SamlSettingsCheck::new()));
    let config: Config = serde_json::from_value(serde_json::json!({"orgs": {"acme": {
        "jit": true,
        "saml": {"idp": {"metadata": idp().metadata_xml("https://idp.test.example/sso").unwrap()}}
    }}}))
    .unwrap();
    registry.import(&config, "test", now(), None).await.unwrap();
    let registry = Arc::new(registry);
    let sp = ServiceProvider::from_registry(Arc::clone(&registry), &SpConfig::new(BASE_URL), None)
        .unwrap();
    (registry, sp)
}

#[tokio::test]
async fn a_pending_trust_is_kept_beside_the_trust_in_use_and_serves_no_sign_in() {
    let (registry, sp) = registry_and_sp().await;
    let live = registry.org("acme").await.unwrap().unwrap();
    let record = live.record().clone();
    let pending = PendingTrust::new(
        IdpSource {
            metadata: Some(
                rolled()
                    .metadata_xml("https://idp2.test.example/sso")
                    .unwrap(),
            ),
            ..IdpSource::default()
        },
        IDP_ENTITY_ID,
        "pasted",
        "jane",
        now(),
        record.version + 1,
    );
    let mut config = record.config.clone();
    config.saml = Some(pending.staged_in(config.saml.as_ref()));
    registry
        .update(OrgUpdate::new("acme", config, "admin:jane", now()).expecting(record.version))
        .await
        .unwrap();

    // Sign-ins go on with the trust in use: the rolled key is not trusted yet.
    let old = idp().response(&jane(), &target(), now()).unwrap();
    assert!(sp.verify_post_async(&post(&old), now()).await.is_ok());
    let new = rolled().response(&jane(), &target(), now()).unwrap();
    let refused = sp.verify_post_async(&post(&new), now()).await.unwrap_err();
    assert!(matches!(refused, PostError::Refused(_)), "{refused:?}");

    // The settings check reads the pending trust, and refuses one that does not read.
    let check = SamlSettingsCheck::new();
    let mut broken = registry
        .org("acme")
        .await
        .unwrap()
        .unwrap()
        .record()
        .config
        .saml
        .clone()
        .unwrap()
        .as_json()
        .clone();
    broken.insert("pending".into(), serde_json::json!({"idpp": {}}));
    let problems = check
        .check("acme", &SamlSection::from_json(broken), None)
        .await
        .unwrap_err();
    assert!(problems[0].contains("saml.pending"), "{problems:?}");
}

#[tokio::test]
async fn a_trial_verifies_with_the_settings_given_and_reports_every_check() {
    let (_, sp) = registry_and_sp().await;
    let provider = sp
        .provider_for(
            "acme",
            &settings_of(rolled(), "https://idp2.test.example/sso"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(provider.sso_url(), "https://idp2.test.example/sso");
    assert_eq!(provider.acs_url(), "https://app.example/acme/saml/acs");
    let trial = sp.trial(provider);

    // Its AuthnRequest goes to the IdP tried.
    let redirect = trial
        .authn_request(&IdpTrip::new("acme", IDP_ENTITY_ID), now())
        .await
        .unwrap();
    let IdpBinding::Redirect { url } = &redirect.binding else {
        panic!("{redirect:?}")
    };
    assert!(url.starts_with("https://idp2.test.example/sso?SAMLRequest="));

    let xml = rolled().response(&jane(), &target(), now()).unwrap();
    let answer = trial
        .verify(&post(&xml), IDP_ENTITY_ID, now())
        .await
        .unwrap();
    assert!(matches!(answer, SamlAnswer::Assertion(_)));
    let report = trial.report();
    assert!(report.verified());
    let checks: Vec<&str> = report.checks.iter().map(|check| check.check).collect();
    for check in ["well_formed", "signature", "audience", "in_response_to"] {
        assert!(checks.contains(&check), "{check}: {checks:?}");
    }
    let signed = report.signed.unwrap();
    assert!(signed
        .attributes
        .iter()
        .any(|attribute| attribute.name == "firstName"));
    assert_eq!(
        report.assertion.unwrap().given_name.as_deref(),
        Some("Jane")
    );
    assert_eq!(
        sp.claimed_request_id(&post(&xml).saml_response).as_deref(),
        Some(REQUEST_ID)
    );

    // The trust in use's key does not pass a trial of the rolled one: the report says
    // which check failed, and what the response claims, unverified.
    let old = idp().response(&jane(), &target(), now()).unwrap();
    assert!(trial
        .verify(&post(&old), IDP_ENTITY_ID, now())
        .await
        .is_err());
    let report = trial.report();
    assert!(!report.verified());
    assert_eq!(report.failure.unwrap().category(), Category::BadSignature);
    assert!(report
        .checks
        .iter()
        .any(|check| check.check == "well_formed"));
    assert_eq!(
        report.unverified.unwrap().name_id.unwrap().value,
        "00u1jane"
    );
    let forged = rolled()
        .bad_response(BadResponse::WrongAudience, &jane(), &target(), now())
        .unwrap();
    assert!(trial
        .verify(&post(&forged), IDP_ENTITY_ID, now())
        .await
        .is_err());
    assert_eq!(
        trial.report().failure.unwrap().category(),
        Category::WrongAudience
    );
    // A trial is of one IdP: asked for another, it refuses.
    assert!(trial
        .verify(&post(&xml), "https://other.example", now())
        .await
        .is_err());
}

#[tokio::test]
async fn an_org_whose_first_trust_waits_has_sp_metadata_and_no_sign_in() {
    let (registry, sp) = registry_and_sp().await;
    let pending = PendingTrust::new(
        IdpSource {
            metadata: Some(
                rolled()
                    .metadata_xml("https://idp2.test.example/sso")
                    .unwrap(),
            ),
            ..IdpSource::default()
        },
        IDP_ENTITY_ID,
        "uploaded",
        "jane",
        now(),
        1,
    );
    let config: jit_provisioning::OrgConfig = serde_json::from_value(serde_json::json!({
        "state": "draft",
        "saml": serde_json::Value::Object(pending.staged_in(None).as_json().clone()),
    }))
    .unwrap();
    registry
        .update(OrgUpdate::new("initech", config, "admin:jane", now()))
        .await
        .unwrap();
    let metadata = sp.sp_metadata_xml("initech", now()).await.unwrap().unwrap();
    assert!(metadata.contains("https://app.example/initech/saml/acs"));
    let mut answer = post(&rolled().response(&jane(), &target(), now()).unwrap());
    answer.org = "initech".into();
    assert!(matches!(
        sp.verify_post_async(&answer, now()).await,
        Err(PostError::UnknownOrg(_))
    ));
    let values = sp.sp_values("initech", None);
    assert_eq!(
        values.entity_id,
        "https://app.example/initech/saml/metadata"
    );
}
