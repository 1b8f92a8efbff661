//! Each structural check, with an input that fails it alone: a valid response from the
//! test IdP, changed in one place. Checks that run before the signature is verified get
//! edited text; checks on signed values get a validly signed defect.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use jit_provisioning_saml::test_idp::TestIdp;
use jit_provisioning_saml::{
    decode_post, verify, Category, Expected, InResponseTo, Limits, SignatureBackend, Verified,
    VerifyError, VerifyOptions,
};

use common::idp::{self, idp, jane, now, target, ACS_URL, REQUEST_ID, SP_ENTITY_ID};

fn good() -> String {
    idp().response(&jane(), &target(), now()).unwrap()
}

fn check_with(xml: &str, limits: Limits) -> Result<(), VerifyError> {
    let saml = idp::provider();
    let settings = saml.org("acme").unwrap();
    let trusted = settings.idp();
    let requests = [REQUEST_ID.to_owned()];
    let expected = Expected::new(SP_ENTITY_ID, ACS_URL, InResponseTo::OneOf(&requests));
    let mut options = VerifyOptions::default();
    options.limits = limits;
    verify(xml, trusted, &expected, now(), &options).map(|_| ())
}

fn check(xml: &str) -> Result<(), VerifyError> {
    check_with(xml, Limits::default())
}

/// The assertion's whole `ds:Signature` element.
fn signature_of(xml: &str) -> &str {
    let start = xml.find("<ds:Signature").unwrap();
    let end = xml.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    xml.get(start..end).unwrap()
}

/// `xml` with the first `from` replaced by `to`; the edit must apply.
fn edit(xml: &str, from: &str, to: &str) -> String {
    assert!(xml.contains(from), "`{from}` is not in the response");
    xml.replacen(from, to, 1)
}

#[test]
fn the_unedited_response_passes() {
    check(&good()).unwrap();
}

#[test]
fn a_doctype_is_refused_before_parsing() {
    let xml = edit(
        &good(),
        "<samlp:Response",
        "<!DOCTYPE r [<!ENTITY e \"x\">]><samlp:Response",
    );
    assert_eq!(check(&xml), Err(VerifyError::Doctype));
}

#[test]
fn a_duplicate_id_is_signature_wrapping() {
    let xml = good();
    let assertion_id = xml
        .split("<saml:Assertion")
        .nth(1)
        .unwrap()
        .split("ID=\"")
        .nth(1)
        .unwrap();
    let assertion_id = assertion_id.split('"').next().unwrap();
    let xml = edit(
        &xml,
        "<samlp:Status>",
        &format!("<samlp:Extensions><x ID=\"{assertion_id}\"/></samlp:Extensions><samlp:Status>"),
    );
    let error = check(&xml).unwrap_err();
    assert_eq!(error, VerifyError::DuplicateId(assertion_id.to_owned()));
    assert_eq!(error.category(), Category::SignatureWrapping);
}

#[test]
fn an_id_that_is_no_xs_id_is_malformed() {
    let xml = edit(&good(), "ID=\"_", "ID=\"9");
    assert_eq!(check(&xml).unwrap_err().category(), Category::Malformed);
}

#[test]
fn an_invalid_attribute_name_is_malformed() {
    let xml = edit(
        &good(),
        "<samlp:Response ",
        "<samlp:Response ::foo=\"bar\" ",
    );
    assert_eq!(check(&xml).unwrap_err().category(), Category::Malformed);
}

#[test]
fn a_response_over_the_size_limit_is_refused_unparsed() {
    let xml = good();
    let mut limits = Limits::default();
    limits.max_bytes = xml.len() - 1;
    assert!(matches!(
        check_with(&xml, limits),
        Err(VerifyError::TooLarge { .. })
    ));
    // The base64 of the POST binding is refused before it is decoded.
    let encoded = jit_provisioning_saml::test_idp::post_form_value(&xml);
    assert!(matches!(
        decode_post(&encoded, limits),
        Err(VerifyError::TooLarge { .. })
    ));
}

#[test]
fn nesting_past_the_depth_limit_is_malformed() {
    let deep = format!("{}{}", "<x>".repeat(200), "</x>".repeat(200));
    let xml = edit(
        &good(),
        "<samlp:Status>",
        &format!("<samlp:Extensions>{deep}</samlp:Extensions><samlp:Status>"),
    );
    assert_eq!(check(&xml).unwrap_err().category(), Category::Malformed);
}

#[test]
fn a_comment_splitting_signed_text_is_refused_though_the_signature_holds() {
    // Exclusive C14N drops comments, so the digest still matches: the refusal is the
    // reader's, not the signature's (CVE-2017-11427).
    let xml = edit(&good(), ">00u1jane<", ">00u1<!-- x -->jane<");
    assert_eq!(
        check(&xml),
        Err(VerifyError::CommentInText("NameID".into()))
    );
}

#[test]
fn a_cdata_section_in_signed_text_is_text_on_both_backends() {
    // Canonical XML writes a CDATA section as the text it holds, so the signature covers
    // `00u1jane` however the IdP split it; both backends must read that whole text.
    let xml = edit(&good(), ">00u1jane<", ">00u1<![CDATA[jane]]><");
    let saml = idp::provider();
    let settings = saml.org("acme").unwrap();
    let trusted = settings.idp();
    let requests = [REQUEST_ID.to_owned()];
    let expected = Expected::new(SP_ENTITY_ID, ACS_URL, InResponseTo::OneOf(&requests));
    for &backend in SignatureBackend::available() {
        let mut options = VerifyOptions::default();
        options.backend = backend;
        match verify(&xml, trusted, &expected, now(), &options) {
            Ok(Verified::Assertion(assertion)) => {
                assert_eq!(assertion.name_id.unwrap().value, "00u1jane", "{backend:?}");
            }
            other => panic!("{backend:?}: {other:?}"),
        }
    }
}

#[test]
fn a_missing_version_is_malformed() {
    let xml = edit(&good(), " Version=\"2.0\" IssueInstant", " IssueInstant");
    assert_eq!(check(&xml).unwrap_err().category(), Category::Malformed);
}

#[test]
fn two_signatures_in_one_element_are_signature_wrapping() {
    let xml = good();
    let signature = signature_of(&xml);
    let xml = edit(
        &xml,
        "<saml:Subject>",
        &format!("{signature}<saml:Subject>"),
    );
    assert!(matches!(
        check(&xml),
        Err(VerifyError::SignatureWrapping(_))
    ));
}

#[test]
fn a_reference_to_another_element_is_signature_wrapping() {
    let xml = good();
    let response_id = xml
        .split("ID=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let reference = xml
        .split("Reference URI=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let xml = edit(
        &xml,
        &format!("URI=\"{reference}\""),
        &format!("URI=\"#{response_id}\""),
    );
    assert!(matches!(
        check(&xml),
        Err(VerifyError::SignatureWrapping(_))
    ));
}

#[test]
fn a_transform_outside_the_saml_profile_is_refused() {
    let xml = edit(
        &good(),
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"/>",
    );
    assert!(matches!(
        check(&xml),
        Err(VerifyError::UnsupportedSignature { .. })
    ));
}

#[test]
fn a_signature_outside_the_response_and_assertion_is_signature_wrapping() {
    let xml = good();
    let signature = signature_of(&xml);
    let xml = edit(
        &xml,
        "<samlp:Status>",
        &format!("<samlp:Extensions>{signature}</samlp:Extensions><samlp:Status>"),
    );
    assert!(matches!(
        check(&xml),
        Err(VerifyError::SignatureWrapping(_))
    ));
}

#[test]
fn an_unknown_signature_algorithm_is_refused_by_name() {
    let xml = edit(&good(), "xmldsig-more#rsa-sha256", "xmldsig-more#rsa-md5");
    let error = check(&xml).unwrap_err();
    assert_eq!(error.category(), Category::WeakAlgorithm);
    assert!(error.to_string().contains("rsa-md5"), "{error}");
}

#[test]
fn an_assertion_from_another_issuer_with_the_same_key_is_wrong_issuer() {
    // A validly signed assertion: only the issuer differs from the IdP's entity id.
    let other = TestIdp::from_pem(
        "https://other-idp.example/metadata",
        idp().key_pem(),
        &idp().certificate_pem(),
    )
    .unwrap();
    let xml = other.response(&jane(), &target(), now()).unwrap();
    let error = check(&xml).unwrap_err();
    assert_eq!(error.category(), Category::WrongIssuer);
    assert!(
        error
            .to_string()
            .contains("https://other-idp.example/metadata"),
        "{error}"
    );
}

#[test]
fn disagreeing_in_response_to_values_are_a_mismatch() {
    // The Response's InResponseTo is unsigned here (only the assertion is signed), so
    // editing it leaves the signature intact.
    let xml = edit(
        &good(),
        "InResponseTo=\"_request1\"",
        "InResponseTo=\"_other\"",
    );
    assert_eq!(
        check(&xml).unwrap_err().category(),
        Category::InResponseToMismatch
    );
}

#[test]
fn garbage_in_the_post_is_malformed_and_never_panics() {
    for input in ["", "%%%", "PHg+", "\u{0}\u{1}", "<", "<samlp:Response/>"] {
        let result = decode_post(input, Limits::default()).and_then(|xml| check(&xml));
        assert!(result.is_err(), "{input:?} was accepted");
    }
}
