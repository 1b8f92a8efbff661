//! AuthnRequests on both bindings, SP and IdP metadata, and config validation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Read as _;

use base64::Engine as _;
use jit_provisioning::{IdpBinding, IdpTrip, SamlVerifier};
use jit_provisioning_saml::test_idp::TestIdp;
use jit_provisioning_saml::{IdpMetadata, SamlConfig, SamlConfigProblem};

use common::idp::{self, idp, now, ACS_URL, SP_ENTITY_ID};

fn trip(force_authn: bool) -> IdpTrip {
    {
        let mut built = IdpTrip::new("acme", idp::IDP_ENTITY_ID);
        built.force_authn = force_authn;
        built.relay_state = Some("/orgs/acme/projects?tab=open".into());
        built
    }
}

fn query_value<'q>(url: &'q str, name: &str) -> Option<&'q str> {
    url.split_once('?')?
        .1
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

fn percent_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let pair: String = [bytes.next().unwrap(), bytes.next().unwrap()]
                .iter()
                .map(|&b| b as char)
                .collect();
            out.push(u8::from_str_radix(&pair, 16).unwrap());
        } else {
            out.push(byte);
        }
    }
    out
}

fn inflate(base64_text: &[u8]) -> String {
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(base64_text)
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

#[tokio::test]
async fn a_redirect_carries_a_deflated_request_with_a_fresh_id_and_the_relay_state() {
    let saml = idp::provider();
    let first = saml.authn_request(&trip(true), now()).await.unwrap();
    let second = saml.authn_request(&trip(false), now()).await.unwrap();
    assert_ne!(first.request_id, second.request_id);
    assert!(first.request_id.starts_with('_') && first.request_id.len() == 33);
    assert_eq!(first.issued_at, now());

    let IdpBinding::Redirect { url } = &first.binding else {
        panic!("not a redirect");
    };
    assert!(
        url.starts_with("https://idp.test.example/sso?SAMLRequest="),
        "{url}"
    );
    assert_eq!(
        percent_decode(query_value(url, "RelayState").unwrap()),
        b"/orgs/acme/projects?tab=open"
    );
    assert!(
        query_value(url, "Signature").is_none(),
        "unsigned unless configured"
    );
    let xml = inflate(&percent_decode(query_value(url, "SAMLRequest").unwrap()));
    let doc = uppsala::parse(&xml).unwrap();
    let root = doc.document_element().unwrap();
    assert_eq!(
        doc.get_attribute(root, "ID"),
        Some(first.request_id.as_str())
    );
    assert_eq!(doc.get_attribute(root, "ForceAuthn"), Some("true"));
    assert_eq!(
        doc.get_attribute(root, "AssertionConsumerServiceURL"),
        Some(ACS_URL)
    );
    assert_eq!(
        doc.get_attribute(root, "Destination"),
        Some("https://idp.test.example/sso")
    );
    assert_eq!(
        doc.get_attribute(root, "IssueInstant"),
        Some("2026-11-28T12:00:00Z")
    );
    assert!(
        xml.contains(&format!("<saml:Issuer>{SP_ENTITY_ID}</saml:Issuer>")),
        "{xml}"
    );

    let IdpBinding::Redirect { url } = &second.binding else {
        panic!("not a redirect");
    };
    let xml = inflate(&percent_decode(query_value(url, "SAMLRequest").unwrap()));
    assert!(!xml.contains("ForceAuthn"), "{xml}");
}

#[tokio::test]
async fn a_signed_redirect_verifies_with_the_sp_certificate_over_the_query_as_sent() {
    use rsa::pkcs8::DecodePublicKey as _;
    use rsa::signature::Verifier as _;

    let sp_key = TestIdp::generate("https://sp-key.example").unwrap();
    let mut config = idp::saml_config(serde_json::json!({"sign_requests": true}));
    config.sp.key_pem = Some(sp_key.key_pem().to_owned());
    config.sp.certificate_pem = Some(sp_key.certificate_pem());
    let saml = config.validate(&idp::policy(), None).unwrap();
    let redirect = saml.authn_request(&trip(false), now()).await.unwrap();
    let IdpBinding::Redirect { url } = &redirect.binding else {
        panic!("not a redirect");
    };
    let query = url.split_once('?').unwrap().1;
    let (signed, signature) = query.split_once("&Signature=").unwrap();
    assert!(
        signed.ends_with("SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256")
    );
    let signature = base64::engine::general_purpose::STANDARD
        .decode(percent_decode(signature))
        .unwrap();

    let certificate =
        jit_provisioning_saml::Certificate::from_pem_or_base64(&sp_key.certificate_pem()).unwrap();
    let spki = bergshamra::keys::loader::load_x509_cert_der(certificate[0].der())
        .unwrap()
        .to_spki_der()
        .unwrap();
    let public = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap();
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public);
    let signature = rsa::pkcs1v15::Signature::try_from(signature.as_slice()).unwrap();
    verifier.verify(signed.as_bytes(), &signature).unwrap();

    let metadata = saml.metadata_xml("acme").unwrap();
    assert!(
        metadata.contains(r#"AuthnRequestsSigned="true""#),
        "{metadata}"
    );
    assert!(metadata.contains(&certificate[0].to_base64()), "{metadata}");
}

#[tokio::test]
async fn the_post_binding_gives_the_form_fields() {
    let saml = idp::saml_config(serde_json::json!({"binding": "post"}))
        .validate(&idp::policy(), None)
        .unwrap();
    let redirect = saml.authn_request(&trip(false), now()).await.unwrap();
    let IdpBinding::Post { url, fields } = &redirect.binding else {
        panic!("not a form");
    };
    assert_eq!(url, "https://idp.test.example/sso");
    assert_eq!(fields[0].0, "SAMLRequest");
    let xml = base64::engine::general_purpose::STANDARD
        .decode(&fields[0].1)
        .unwrap();
    assert!(String::from_utf8(xml)
        .unwrap()
        .contains(&redirect.request_id));
    assert_eq!(
        fields[1],
        (
            "RelayState".to_owned(),
            "/orgs/acme/projects?tab=open".to_owned()
        )
    );
}

#[test]
fn sp_metadata_names_the_orgs_entity_id_and_acs() {
    let xml = idp::provider().metadata_xml("acme").unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    let root = doc.document_element().unwrap();
    assert_eq!(doc.get_attribute(root, "entityID"), Some(SP_ENTITY_ID));
    assert!(xml.contains(&format!(r#"Location="{ACS_URL}""#)), "{xml}");
    assert!(idp::provider().metadata_xml("globex").is_none());
}

#[test]
fn the_test_idps_metadata_reads_back() {
    let metadata = IdpMetadata::parse(
        &idp().metadata_xml("https://idp.test.example/sso").unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(metadata.entity_id, idp::IDP_ENTITY_ID);
    assert_eq!(
        metadata.sso_redirect_url.as_deref(),
        Some("https://idp.test.example/sso")
    );
    assert_eq!(metadata.signing_certificates.len(), 1);
    assert_eq!(
        metadata.signing_certificates[0].der(),
        idp().certificate_der()
    );
}

#[test]
fn metadata_with_several_idps_needs_the_entity_id() {
    let one = idp().metadata_xml("https://idp.test.example/sso").unwrap();
    let other = TestIdp::from_pem(
        "https://other.example/idp",
        idp().key_pem(),
        &idp().certificate_pem(),
    )
    .unwrap()
    .metadata_xml("https://other.example/sso")
    .unwrap();
    let strip = |xml: &str| {
        xml.trim_start_matches(|c| c != '>')
            .trim_start_matches('>')
            .to_owned()
    };
    let both = format!(
        r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{}{}</md:EntitiesDescriptor>"#,
        if one.starts_with("<?xml") {
            strip(&one)
        } else {
            one.clone()
        },
        if other.starts_with("<?xml") {
            strip(&other)
        } else {
            other.clone()
        },
    );
    let error = IdpMetadata::parse(&both, None).unwrap_err();
    assert!(error.to_string().contains("2 IdPs"), "{error}");
    let chosen = IdpMetadata::parse(&both, Some("https://other.example/idp")).unwrap();
    assert_eq!(
        chosen.sso_redirect_url.as_deref(),
        Some("https://other.example/sso")
    );
}

#[test]
fn every_config_problem_is_listed_at_once() {
    let policy: jit_provisioning::Config = serde_json::from_value(serde_json::json!({
        "orgs": {
            "acme": {"jit": true, "idp": "https://idp.acme.example"},
            "globex": {"jit": true, "idp": "https://idp.globex.example"},
            "initech": {}
        }
    }))
    .unwrap();
    let policy = policy.validate().unwrap();
    let config: SamlConfig = serde_json::from_value(serde_json::json!({
        "sp": {"base_url": "ftp://app.example"},
        "orgs": {
            "acme": {"idp": {"metadata": idp().metadata_xml("https://idp.test.example/sso").unwrap()},
                     "sign_requests": true},
            "initech": {"idp": {"entity_id": "https://idp.initech.example"}}
        }
    }))
    .unwrap();
    let problems = config.validate(&policy, None).unwrap_err().problems;
    assert!(
        problems.contains(&SamlConfigProblem::BadBaseUrl("ftp://app.example".into())),
        "{problems:?}"
    );
    assert!(
        problems.contains(&SamlConfigProblem::MissingOrg("globex".into())),
        "{problems:?}"
    );
    assert!(
        problems.contains(&SamlConfigProblem::OrgWithoutPortal("initech".into())),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, SamlConfigProblem::Idp { org, .. } if org == "acme")),
        "metadata for another entity id, and request signing without a key: {problems:?}"
    );
    assert_eq!(problems.len(), 4, "{problems:?}");
}

#[test]
fn a_config_with_unknown_keys_is_refused_naming_the_key() {
    let error = serde_json::from_value::<SamlConfig>(serde_json::json!({
        "sp": {"base_url": "https://app.example", "key": "x"}
    }))
    .unwrap_err();
    assert!(error.to_string().contains("`key`"), "{error}");
}

#[test]
#[ignore = "reads ../shared/corpus (CI provides it; run with --ignored)"]
fn real_idp_metadata_gives_the_entity_id_and_the_certificate_the_corpus_names() {
    let root = common::verdicts::root();
    let metadata_files = std::fs::read_dir(root.join("certs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".metadata.xml"));
    let mut read = 0;
    for path in metadata_files {
        let text = std::fs::read_to_string(&path).unwrap();
        let metadata = IdpMetadata::parse(&text, None)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let pem = path.to_string_lossy().replace(".metadata.xml", ".pem");
        let certificate = jit_provisioning_saml::Certificate::from_pem_or_base64(
            &std::fs::read_to_string(pem).unwrap(),
        )
        .unwrap();
        assert!(
            metadata.signing_certificates.contains(&certificate[0]),
            "{}: the corpus's certificate is not among the metadata's signing certificates",
            path.display()
        );
        assert!(metadata.sso_redirect_url.is_some() || metadata.sso_post_url.is_some());
        read += 1;
    }
    assert_eq!(read, 4, "the corpus has four IdP metadata files");
}
