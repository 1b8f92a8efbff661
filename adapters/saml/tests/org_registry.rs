//! Orgs whose SAML settings live in their records: the settings check the core asks,
//! the service provider serving an org registry's orgs (and following their versions),
//! and the conversion from the two-file form.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use jit_provisioning::org::{MemoryDirectory, OrgRegistry, OrgUpdate, SamlSection, SsoCheck};
use jit_provisioning::{Config, ConfigProblem, SamlAnswer, SamlVerifier};
use jit_provisioning_saml::test_idp::TestIdp;
use jit_provisioning_saml::{
    OrgSamlConfig, PostError, SamlConfig, SamlConfigProblem, SamlSettingsCheck, ServiceProvider,
    SpConfig,
};

use common::idp::{idp, jane, now, post, target, BASE_URL, IDP_ENTITY_ID};

fn other_idp() -> &'static TestIdp {
    static OTHER: OnceLock<TestIdp> = OnceLock::new();
    OTHER.get_or_init(|| TestIdp::generate("https://other-idp.example/metadata").unwrap())
}

fn section(json: serde_json::Value) -> SamlSection {
    serde_json::from_value(json).unwrap()
}

fn metadata_of(idp: &TestIdp) -> String {
    idp.metadata_xml("https://idp.test.example/sso").unwrap()
}

/// A folder of its own for a test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jit-saml-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sp_config() -> SpConfig {
    serde_json::from_value(serde_json::json!({"base_url": BASE_URL})).unwrap()
}

#[tokio::test]
async fn the_check_reports_the_entity_id_and_the_certificates() {
    let check = SamlSettingsCheck::new();
    let facts = check
        .check(
            "acme",
            &section(serde_json::json!({"idp": {"metadata": metadata_of(idp())}})),
            None,
        )
        .await
        .unwrap();
    common::idp::assert_test_idp_facts(&facts, 1);

    // By hand: the entity id given, the certificate pinned.
    let by_hand = section(serde_json::json!({"idp": {
        "entity_id": "https://idp.example", "sso_url": "https://idp.example/sso",
        "certificates": [idp().certificate_pem()]
    }}));
    let facts = check.check("acme", &by_hand, None).await.unwrap();
    assert_eq!(facts.entity_id, "https://idp.example");
    assert_eq!(facts.certificates.len(), 1);
}

#[tokio::test]
async fn the_check_lists_what_is_wrong() {
    let check = SamlSettingsCheck::new();
    let problems = |json| {
        let check = check.clone();
        async move { check.check("acme", &section(json), None).await.unwrap_err() }
    };
    let found = problems(serde_json::json!({"idp": {"metadata": "x"}, "bindings": "post"})).await;
    assert!(found[0].contains("unknown field `bindings`"), "{found:?}");
    let found = problems(serde_json::json!({"idp": {
        "metadata": metadata_of(idp()), "metadata_url": "https://idp.example/metadata"
    }}))
    .await;
    assert!(found[0].contains("not several"), "{found:?}");
    let found = problems(serde_json::json!({"idp": {"metadata_file": "nowhere.xml"}})).await;
    assert!(found[0].contains("cannot read nowhere.xml"), "{found:?}");
    let found = problems(serde_json::json!({"idp": {"metadata": "<nope/>"}})).await;
    assert!(found[0].contains("md:EntityDescriptor"), "{found:?}");
    // Everything that can be found at once is.
    let found = problems(serde_json::json!({"idp": {
        "entity_id": "https://idp.example", "certificates": ["not base64!"]
    }}))
    .await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("an IdP certificate"), "{found:?}");
    assert!(found[1].contains("no SSO URL"), "{found:?}");
}

#[tokio::test]
async fn a_config_file_is_checked_with_its_saml_settings() {
    let dir = scratch("config-check");
    std::fs::write(dir.join("okta.xml"), metadata_of(idp())).unwrap();
    let config: Config = toml::from_str(
        r#"
        [orgs.acme]
        jit = true
        [orgs.acme.saml]
        idp = { metadata_file = "okta.xml" }
        attributes = { preset = "okta" }

        [orgs.globex]
        jit = true
        [orgs.globex.saml]
        idp = { metadata_file = "missing.xml" }
        "#,
    )
    .unwrap();
    let error = config
        .check(&SamlSettingsCheck::new(), Some(&dir))
        .await
        .unwrap_err();
    assert!(
        error
            .problems()
            .iter()
            .any(|problem| matches!(problem, ConfigProblem::Sso { org, problem } if org == "globex" && problem.contains("missing.xml"))),
        "{error}"
    );
    let mut fixed = config.clone();
    fixed.orgs.remove("globex");
    let checked = fixed
        .check(&SamlSettingsCheck::new(), Some(&dir))
        .await
        .unwrap();
    assert_eq!(checked.sso["acme"].entity_id, IDP_ENTITY_ID);
    assert_eq!(
        checked.policy.org("acme").unwrap().portal().unwrap().idp(),
        IDP_ENTITY_ID
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A registry that checks SAML settings, with `acme` on `idp()`'s metadata.
async fn registry_with_acme() -> Arc<OrgRegistry> {
    let registry = OrgRegistry::new(Arc::new(MemoryDirectory::new()), &Config::default())
        .unwrap()
        .with_sso_check(Arc::new(SamlSettingsCheck::new()));
    let config: Config = serde_json::from_value(serde_json::json!({"orgs": {"acme": {
        "jit": true,
        "saml": {"idp": {"metadata": metadata_of(idp())}, "attributes": {"preset": "okta"}}
    }}}))
    .unwrap();
    registry.import(&config, "test", now(), None).await.unwrap();
    Arc::new(registry)
}

/// `acme`'s config as its record holds it now.
async fn acme_config(registry: &OrgRegistry) -> jit_provisioning::OrgConfig {
    let live = registry.org("acme").await.unwrap().unwrap();
    live.record().config.clone()
}

async fn sign_in(
    sp: &ServiceProvider,
    signer: &TestIdp,
) -> Result<SamlAnswer, jit_provisioning::VerifyError> {
    let xml = signer.response(&jane(), &target(), now()).unwrap();
    SamlVerifier::verify(sp, &post(&xml), signer.entity_id(), now()).await
}

#[tokio::test]
async fn a_service_provider_serves_the_orgs_of_a_registry() {
    let registry = registry_with_acme().await;
    // The registry filled in the org's entity id from its metadata.
    let record = registry.org("acme").await.unwrap().unwrap();
    assert_eq!(record.record().config.idp.as_deref(), Some(IDP_ENTITY_ID));

    let sp = ServiceProvider::from_registry(Arc::clone(&registry), &sp_config(), None).unwrap();
    assert!(
        sp.org_ids().is_empty(),
        "nothing is looked up before a request"
    );
    let answer = sign_in(&sp, idp()).await.unwrap();
    let SamlAnswer::Assertion(verified) = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(verified.assertion.subject, "00u1jane");
    assert_eq!(verified.assertion.given_name.as_deref(), Some("Jane"));
    assert_eq!(sp.org_ids(), ["acme"]);
    assert!(sp
        .metadata_xml("acme")
        .unwrap()
        .contains("https://app.example/acme/saml/acs"));
    assert!(sp
        .sp_metadata_xml("acme", now())
        .await
        .unwrap()
        .unwrap()
        .contains("https://app.example/acme/saml/metadata"));

    // An org the registry does not have, or that has no SAML settings.
    assert_eq!(sp.sp_metadata_xml("globex", now()).await.unwrap(), None);
    let plain: jit_provisioning::OrgConfig =
        serde_json::from_value(serde_json::json!({"jit": true, "idp": "https://idp.plain"}))
            .unwrap();
    registry
        .update(OrgUpdate::new("plain", plain, "test", now()))
        .await
        .unwrap();
    assert_eq!(sp.sp_metadata_xml("plain", now()).await.unwrap(), None);
    let mut elsewhere = post(&idp().response(&jane(), &target(), now()).unwrap());
    elsewhere.org = "globex".into();
    assert!(matches!(
        sp.verify_post_async(&elsewhere, now()).await,
        Err(PostError::UnknownOrg(org)) if org == "globex"
    ));

    // The provider redirects to the IdP of the org's record.
    let trip = jit_provisioning::IdpTrip::new("acme", IDP_ENTITY_ID);
    let redirect = sp.authn_request(&trip, now()).await.unwrap();
    assert!(!redirect.request_id.is_empty());
}

#[tokio::test]
async fn an_org_changed_in_the_registry_is_served_as_changed() {
    let registry = registry_with_acme().await;
    let sp = ServiceProvider::from_registry(Arc::clone(&registry), &sp_config(), None).unwrap();
    sign_in(&sp, idp()).await.unwrap();

    // The org moves to another IdP: a new version of its record.
    let mut config = acme_config(&registry).await;
    config.idp = None;
    config.saml = Some(section(
        serde_json::json!({"idp": {"metadata": metadata_of(other_idp())}}),
    ));
    let written = registry
        .update(OrgUpdate::new("acme", config, "support:sam", now()).expecting(1))
        .await
        .unwrap();
    assert_eq!(written.version, 2);
    assert_eq!(written.config.idp.as_deref(), Some(other_idp().entity_id()));

    sign_in(&sp, other_idp()).await.unwrap();
    // The old IdP is no longer the org's: the policy's entity id the core passes does
    // not match the record's any more.
    assert!(sign_in(&sp, idp()).await.is_err());
    let answer = sp
        .verify_post_async(
            &post(&idp().response(&jane(), &target(), now()).unwrap()),
            now(),
        )
        .await;
    assert!(matches!(answer, Err(PostError::Refused(_))), "{answer:?}");
}

#[tokio::test]
async fn an_update_with_broken_saml_settings_is_refused_by_the_check() {
    let registry = registry_with_acme().await;
    let mut config = acme_config(&registry).await;
    config.saml = Some(section(serde_json::json!({"idp": {
        "metadata": metadata_of(idp()), "certificates": ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"]
    }})));
    let error = registry
        .update(OrgUpdate::new("acme", config, "support:sam", now()))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("an IdP certificate"), "{error}");
}

/// The two files of the old form, in `dir`: the policy and the SAML settings, whose
/// metadata is a file beside them.
fn two_files(dir: &Path) -> (Config, SamlConfig) {
    std::fs::write(dir.join("okta-acme.xml"), metadata_of(idp())).unwrap();
    let policy: Config = serde_json::from_value(serde_json::json!({
        "orgs": {"acme": {"jit": true, "idp": IDP_ENTITY_ID}, "labs": {"jit": false}}
    }))
    .unwrap();
    let saml_path = dir.join("saml.json");
    std::fs::write(
        &saml_path,
        serde_json::json!({
            "sp": {"base_url": BASE_URL},
            "orgs": {"acme": {"idp": {"metadata_file": "okta-acme.xml"},
                              "attributes": {"preset": "okta"}, "binding": "post"}}
        })
        .to_string(),
    )
    .unwrap();
    (policy, SamlConfig::read(&saml_path).unwrap())
}

#[tokio::test]
async fn the_two_file_form_converts_to_one_file() {
    let dir = scratch("convert");
    let (policy, saml) = two_files(&dir);
    let merged = saml.merge_into(&policy, Some(&dir)).unwrap();
    let acme = OrgSamlConfig::from_section(merged.orgs["acme"].saml.as_ref().unwrap()).unwrap();
    // The metadata file is inlined: the record holds the whole trust.
    assert_eq!(
        acme.idp.metadata.as_deref(),
        Some(metadata_of(idp()).as_str())
    );
    assert_eq!(acme.idp.metadata_file, None);
    assert_eq!(acme.binding, jit_provisioning_saml::RequestBinding::Post);
    assert!(merged.orgs["labs"].saml.is_none());

    // Written as one file, it loads, checks, imports and serves sign-ins.
    let file = dir.join("orgs.toml");
    std::fs::write(&file, toml::to_string(&merged).unwrap()).unwrap();
    let loaded = Config::load(&file).unwrap();
    assert_eq!(loaded, merged);
    let checked = loaded.check(&SamlSettingsCheck::new(), None).await.unwrap();
    assert_eq!(checked.sso["acme"].entity_id, IDP_ENTITY_ID);
    let registry = OrgRegistry::new(Arc::new(MemoryDirectory::new()), &loaded)
        .unwrap()
        .with_sso_check(Arc::new(SamlSettingsCheck::new()));
    registry
        .import(&loaded, "import", now(), None)
        .await
        .unwrap();
    let sp = ServiceProvider::from_registry(Arc::new(registry), &saml.sp, Some(&dir)).unwrap();
    sign_in(&sp, idp()).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_conversion_lists_what_it_cannot_do() {
    let dir = scratch("convert-problems");
    let (mut policy, mut saml) = two_files(&dir);
    policy.orgs.get_mut("acme").unwrap().saml = Some(section(serde_json::json!({"idp": {}})));
    let mut ghost = saml.orgs["acme"].clone();
    ghost.idp.metadata_file = Some("ghost.xml".into());
    saml.orgs.insert("ghost".into(), ghost.clone());
    saml.orgs.insert("labs".into(), ghost);
    let error = saml.merge_into(&policy, Some(&dir)).unwrap_err();
    assert_eq!(error.problems.len(), 3, "{error}");
    assert!(error
        .problems
        .contains(&SamlConfigProblem::OrgWithoutPortal("ghost".into())));
    let text = error.to_string();
    assert!(text.contains("already has `saml` settings"), "{text}");
    assert!(text.contains("cannot read"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_fixed_file_mode_keeps_working_through_the_shared_checks() {
    // The same settings, through `SamlConfig::validate`, give the same problems.
    let saml: SamlConfig = serde_json::from_value(serde_json::json!({
        "sp": {"base_url": BASE_URL},
        "orgs": {"acme": {"idp": {"entity_id": "https://wrong.example",
                                  "metadata": metadata_of(idp())}}}
    }))
    .unwrap();
    let error = saml.validate(&common::idp::policy(), None).unwrap_err();
    assert!(
        matches!(&error.problems[..], [SamlConfigProblem::Idp { org, problem }] if org == "acme" && problem.contains("no IdP with entity id `https://wrong.example`")),
        "{error}"
    );
    let saml: SamlConfig = serde_json::from_value(serde_json::json!({
        "sp": {"base_url": BASE_URL},
        "orgs": {"acme": {"idp": {"entity_id": "https://wrong.example",
                                  "metadata_url": "https://idp.example/metadata"}}}
    }))
    .unwrap();
    let error = saml.validate(&common::idp::policy(), None).unwrap_err();
    assert!(
        matches!(&error.problems[..], [SamlConfigProblem::EntityIdMismatch { org, .. }] if org == "acme"),
        "{error}"
    );
}
