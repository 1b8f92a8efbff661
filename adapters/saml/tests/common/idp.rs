//! One test IdP per test binary, an SP configured to trust it, and a policy whose org
//! `acme` signs in through it.

use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::{Config, Policy, SamlPost};
use jit_provisioning_saml::test_idp::{post_form_value, ResponseTarget, TestIdp, TestPerson};
use jit_provisioning_saml::{SamlConfig, ServiceProvider};

pub const IDP_ENTITY_ID: &str = "https://idp.test.example/metadata";
pub const BASE_URL: &str = "https://app.example";
pub const SP_ENTITY_ID: &str = "https://app.example/acme/saml/metadata";
pub const ACS_URL: &str = "https://app.example/acme/saml/acs";
pub const REQUEST_ID: &str = "_request1";

/// The IdP, made once: RSA key generation is the slow part of these tests.
pub fn idp() -> &'static TestIdp {
    static IDP: OnceLock<TestIdp> = OnceLock::new();
    IDP.get_or_init(|| TestIdp::generate(IDP_ENTITY_ID).unwrap())
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

pub fn policy() -> Policy {
    let config: Config = serde_json::from_value(serde_json::json!({
        "orgs": {"acme": {"jit": true, "idp": IDP_ENTITY_ID,
                          "verified_domains": ["acme.example"]}}
    }))
    .unwrap();
    config.validate().unwrap()
}

/// The SAML config for `acme`, from the IdP's metadata, with `extra` merged into the
/// org's settings.
pub fn saml_config(extra: serde_json::Value) -> SamlConfig {
    let mut org = serde_json::json!({
        "idp": {"metadata": idp().metadata_xml("https://idp.test.example/sso").unwrap()}
    });
    if let (Some(org), Some(extra)) = (org.as_object_mut(), extra.as_object()) {
        org.extend(extra.clone());
    }
    serde_json::from_value(serde_json::json!({
        "sp": {"base_url": BASE_URL},
        "orgs": {"acme": org}
    }))
    .unwrap()
}

pub fn provider() -> ServiceProvider {
    saml_config(serde_json::json!({}))
        .validate(&policy(), None)
        .unwrap()
}

pub fn jane() -> TestPerson {
    TestPerson::new("00u1jane")
        .with_given_name("Jane")
        .with_family_name("Doe")
        .with_email("jane@acme.example")
        .with_group("engineering")
}

pub fn target() -> ResponseTarget {
    ResponseTarget::new(SP_ENTITY_ID, ACS_URL).with_in_response_to(REQUEST_ID)
}

/// What the browser posts to acme's ACS, with the request id its session holds.
pub fn post(xml: &str) -> SamlPost {
    {
        let mut built = SamlPost::new("acme", post_form_value(xml));
        built.request_ids = vec![REQUEST_ID.into()];
        built
    }
}

/// A target for an IdP-initiated response: no request to answer.
pub fn target_without_request() -> ResponseTarget {
    ResponseTarget::new(SP_ENTITY_ID, ACS_URL)
}

/// `facts` are the test IdP's: its entity id, and `certificates` certificates each with
/// the test IdP's subject and no end of validity to speak of.
pub fn assert_test_idp_facts(facts: &jit_provisioning::org::SsoFacts, certificates: usize) {
    assert_eq!(facts.entity_id, IDP_ENTITY_ID);
    assert_eq!(facts.certificates.len(), certificates);
    for certificate in &facts.certificates {
        assert_eq!(certificate.subject, "CN=jit-provisioning-saml test IdP");
        assert_eq!(
            certificate.not_after.to_rfc3339(),
            "9999-12-31T23:59:59+00:00"
        );
    }
}
