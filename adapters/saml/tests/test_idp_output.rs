//! What the test IdP (feature `test-idp`) writes: every field where SAML 2.0 puts it,
//! checked by parsing with uppsala, and every signature checked with bergshamra alone,
//! as an SP trusting only the IdP's certificate would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::sync::OnceLock;

use base64::Engine as _;
use bergshamra::{DsigContext, KeysManager, VerifyResult};
use chrono::{DateTime, TimeDelta, TimeZone as _, Utc};
use jit_provisioning_saml::test_idp::{
    attribute_names, post_form_value, status, BadResponse, ResponseOptions, ResponseTarget,
    TestIdp, TestPerson, EVIL_SUBJECT, WRONG_ACS_URL, WRONG_SP_ENTITY_ID,
};
use uppsala::{Document, NodeId};

const IDP_ENTITY_ID: &str = "https://idp.example.test/metadata";
const SP_ENTITY_ID: &str = "https://sp.example.com/saml/metadata";
const ACS_URL: &str = "https://sp.example.com/saml/acs";
const REQUEST_ID: &str = "_4fee3b046395c4e751011e97f8900b5273d56685";

const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One IdP for the whole binary: RSA key generation is slow in debug builds.
fn idp() -> &'static TestIdp {
    static IDP: OnceLock<TestIdp> = OnceLock::new();
    IDP.get_or_init(|| TestIdp::generate(IDP_ENTITY_ID).expect("generate"))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 7, 8, 9, 10).single().unwrap()
}

fn at(offset_seconds: i64) -> String {
    (now() + TimeDelta::seconds(offset_seconds))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn ada() -> TestPerson {
    TestPerson::new("00u1ada")
        .with_given_name("Ada")
        .with_family_name("Lovelace")
        .with_email("ada@example.com")
        .with_groups(["engineering", "everyone"])
        .with_attribute("department", ["R&D"])
}

fn target() -> ResponseTarget {
    ResponseTarget::new(SP_ENTITY_ID, ACS_URL).with_in_response_to(REQUEST_ID)
}

/// A verification context that trusts only the certificate in `pem`.
fn trusting(pem: &str) -> DsigContext {
    let key = bergshamra::keys::loader::load_x509_cert_pem(pem.as_bytes()).expect("cert");
    let mut keys = KeysManager::new();
    keys.add_key(key);
    DsigContext::new(keys)
}

fn verify(xml: &str) -> Vec<VerifyResult> {
    bergshamra::verify_all(&trusting(&idp().certificate_pem()), xml).expect("verification runs")
}

// ---- DOM helpers ----

fn children(doc: &Document<'_>, parent: NodeId) -> Vec<NodeId> {
    doc.children(parent)
        .into_iter()
        .filter(|id| doc.element(*id).is_some())
        .collect()
}

fn names(doc: &Document<'_>, parent: NodeId) -> Vec<String> {
    children(doc, parent)
        .into_iter()
        .map(|id| doc.element(id).unwrap().name.local_name.to_string())
        .collect()
}

fn is(doc: &Document<'_>, id: NodeId, ns: &str, local: &str) -> bool {
    doc.element(id)
        .is_some_and(|e| e.name.matches(Some(ns), local))
}

fn child(doc: &Document<'_>, parent: NodeId, ns: &str, local: &str) -> NodeId {
    let found: Vec<NodeId> = children(doc, parent)
        .into_iter()
        .filter(|id| is(doc, *id, ns, local))
        .collect();
    assert_eq!(found.len(), 1, "exactly one {local} under {parent:?}");
    found[0]
}

fn attr<'d>(doc: &'d Document<'_>, id: NodeId, name: &str) -> Option<&'d str> {
    doc.get_attribute(id, name)
}

fn text(doc: &Document<'_>, id: NodeId) -> String {
    doc.text_content_deep(id)
}

fn all(doc: &Document<'_>, ns: &str, local: &str) -> Vec<NodeId> {
    doc.get_elements_by_tag_name_ns(ns, local)
}

/// The `saml:Attribute`s by name, with their values.
fn attributes(doc: &Document<'_>, assertion: NodeId) -> Vec<(String, Vec<String>)> {
    let statement = child(doc, assertion, ASSERTION, "AttributeStatement");
    children(doc, statement)
        .into_iter()
        .map(|attribute| {
            assert!(is(doc, attribute, ASSERTION, "Attribute"));
            let values = children(doc, attribute)
                .into_iter()
                .map(|value| {
                    assert!(is(doc, value, ASSERTION, "AttributeValue"));
                    assert_eq!(doc.get_attribute_ns(value, XSI, "type"), Some("xs:string"));
                    text(doc, value)
                })
                .collect();
            (attr(doc, attribute, "Name").unwrap().to_owned(), values)
        })
        .collect()
}

/// Checks a `ds:Signature` is an enveloped RSA-SHA256 / exclusive c14n signature of the
/// element `id`, carrying the certificate `certificate_pem`.
fn check_signature_shape(doc: &Document<'_>, signature: NodeId, id: &str, certificate_pem: &str) {
    assert_eq!(
        names(doc, signature),
        ["SignedInfo", "SignatureValue", "KeyInfo"]
    );
    let signed_info = child(doc, signature, DSIG, "SignedInfo");
    let c14n = child(doc, signed_info, DSIG, "CanonicalizationMethod");
    assert_eq!(
        attr(doc, c14n, "Algorithm"),
        Some("http://www.w3.org/2001/10/xml-exc-c14n#")
    );
    let method = child(doc, signed_info, DSIG, "SignatureMethod");
    assert_eq!(
        attr(doc, method, "Algorithm"),
        Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    );
    let reference = child(doc, signed_info, DSIG, "Reference");
    assert_eq!(attr(doc, reference, "URI"), Some(format!("#{id}").as_str()));
    let transforms = child(doc, reference, DSIG, "Transforms");
    let algorithms: Vec<&str> = children(doc, transforms)
        .into_iter()
        .map(|t| attr(doc, t, "Algorithm").unwrap())
        .collect();
    assert_eq!(
        algorithms,
        [
            "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
            "http://www.w3.org/2001/10/xml-exc-c14n#"
        ]
    );
    let digest = child(doc, reference, DSIG, "DigestMethod");
    assert_eq!(
        attr(doc, digest, "Algorithm"),
        Some("http://www.w3.org/2001/04/xmlenc#sha256")
    );
    let digest_value = text(doc, child(doc, reference, DSIG, "DigestValue"));
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(digest_value.trim())
            .unwrap()
            .len(),
        32
    );
    let signature_value = text(doc, child(doc, signature, DSIG, "SignatureValue"));
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(signature_value.trim())
            .unwrap()
            .len(),
        256
    );
    let key_info = child(doc, signature, DSIG, "KeyInfo");
    let x509_data = child(doc, key_info, DSIG, "X509Data");
    let certificate = text(doc, child(doc, x509_data, DSIG, "X509Certificate"));
    let pem_body: String = certificate_pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    assert_eq!(certificate, pem_body);
}

/// The id of the element a valid result's only reference resolved to.
fn signed_node(result: &VerifyResult) -> NodeId {
    match result {
        VerifyResult::Valid { references, .. } => {
            assert_eq!(references.len(), 1);
            assert!(references[0].digest_verified);
            references[0]
                .resolved_node
                .expect("same-document reference")
        }
        VerifyResult::Invalid { reason } => panic!("invalid: {reason}"),
    }
}

// ---- good responses ----

#[test]
fn a_response_verifies_with_the_idp_certificate_and_signs_its_assertion() {
    let xml = idp().response(&ada(), &target(), now()).unwrap();
    let results = verify(&xml);
    assert_eq!(results.len(), 1);
    let doc = uppsala::parse(&xml).unwrap();
    let response = doc.document_element().unwrap();
    let assertion = child(&doc, response, ASSERTION, "Assertion");
    // The signature covers exactly the assertion the SP reads.
    assert_eq!(signed_node(&results[0]), assertion);
}

#[test]
fn every_field_is_where_the_spec_puts_it() {
    let xml = idp().response(&ada(), &target(), now()).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    let doc = uppsala::parse(&xml).unwrap();
    let response = doc.document_element().unwrap();

    // samlp:Response
    assert!(is(&doc, response, PROTOCOL, "Response"));
    let response_id = attr(&doc, response, "ID").unwrap().to_owned();
    assert!(response_id.starts_with('_') && response_id.len() == 41);
    assert_eq!(attr(&doc, response, "Version"), Some("2.0"));
    assert_eq!(attr(&doc, response, "IssueInstant"), Some(at(0).as_str()));
    assert_eq!(attr(&doc, response, "Destination"), Some(ACS_URL));
    assert_eq!(attr(&doc, response, "InResponseTo"), Some(REQUEST_ID));
    assert_eq!(names(&doc, response), ["Issuer", "Status", "Assertion"]);
    let issuer = child(&doc, response, ASSERTION, "Issuer");
    assert_eq!(text(&doc, issuer), IDP_ENTITY_ID);
    let status_node = child(&doc, response, PROTOCOL, "Status");
    let code = child(&doc, status_node, PROTOCOL, "StatusCode");
    assert_eq!(attr(&doc, code, "Value"), Some(status::SUCCESS));
    assert!(children(&doc, code).is_empty());

    // saml:Assertion, its children in schema order, the signature right after Issuer.
    let assertion = child(&doc, response, ASSERTION, "Assertion");
    let assertion_id = attr(&doc, assertion, "ID").unwrap().to_owned();
    assert!(assertion_id.starts_with('_') && assertion_id.len() == 41);
    assert_ne!(assertion_id, response_id);
    assert_eq!(attr(&doc, assertion, "Version"), Some("2.0"));
    assert_eq!(attr(&doc, assertion, "IssueInstant"), Some(at(0).as_str()));
    assert_eq!(
        names(&doc, assertion),
        [
            "Issuer",
            "Signature",
            "Subject",
            "Conditions",
            "AuthnStatement",
            "AttributeStatement"
        ]
    );
    let assertion_issuer = child(&doc, assertion, ASSERTION, "Issuer");
    assert_eq!(text(&doc, assertion_issuer), IDP_ENTITY_ID);
    assert_eq!(
        attr(&doc, assertion_issuer, "Format"),
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:entity")
    );
    let signature = child(&doc, assertion, DSIG, "Signature");
    check_signature_shape(&doc, signature, &assertion_id, &idp().certificate_pem());

    // Subject
    let subject = child(&doc, assertion, ASSERTION, "Subject");
    assert_eq!(names(&doc, subject), ["NameID", "SubjectConfirmation"]);
    let name_id = child(&doc, subject, ASSERTION, "NameID");
    assert_eq!(text(&doc, name_id), "00u1ada");
    assert_eq!(
        attr(&doc, name_id, "Format"),
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    );
    let confirmation = child(&doc, subject, ASSERTION, "SubjectConfirmation");
    assert_eq!(
        attr(&doc, confirmation, "Method"),
        Some("urn:oasis:names:tc:SAML:2.0:cm:bearer")
    );
    let data = child(&doc, confirmation, ASSERTION, "SubjectConfirmationData");
    assert_eq!(attr(&doc, data, "NotOnOrAfter"), Some(at(300).as_str()));
    assert_eq!(attr(&doc, data, "Recipient"), Some(ACS_URL));
    assert_eq!(attr(&doc, data, "InResponseTo"), Some(REQUEST_ID));
    assert_eq!(attr(&doc, data, "NotBefore"), None);

    // Conditions
    let conditions = child(&doc, assertion, ASSERTION, "Conditions");
    assert_eq!(attr(&doc, conditions, "NotBefore"), Some(at(-60).as_str()));
    assert_eq!(
        attr(&doc, conditions, "NotOnOrAfter"),
        Some(at(300).as_str())
    );
    let restriction = child(&doc, conditions, ASSERTION, "AudienceRestriction");
    let audience = child(&doc, restriction, ASSERTION, "Audience");
    assert_eq!(text(&doc, audience), SP_ENTITY_ID);

    // AuthnStatement
    let authn = child(&doc, assertion, ASSERTION, "AuthnStatement");
    assert_eq!(attr(&doc, authn, "AuthnInstant"), Some(at(0).as_str()));
    let session_index = attr(&doc, authn, "SessionIndex").unwrap();
    assert!(session_index.starts_with('_') && session_index.len() == 41);
    let context = child(&doc, authn, ASSERTION, "AuthnContext");
    let class = child(&doc, context, ASSERTION, "AuthnContextClassRef");
    assert_eq!(
        text(&doc, class),
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    );

    // AttributeStatement
    let expected: Vec<(String, Vec<String>)> = vec![
        (attribute_names::FIRST_NAME.into(), vec!["Ada".into()]),
        (attribute_names::LAST_NAME.into(), vec!["Lovelace".into()]),
        (
            attribute_names::EMAIL.into(),
            vec!["ada@example.com".into()],
        ),
        (
            attribute_names::GROUPS.into(),
            vec!["engineering".into(), "everyone".into()],
        ),
        ("department".into(), vec!["R&D".into()]),
    ];
    assert_eq!(attributes(&doc, assertion), expected);
    assert_eq!(
        (
            attribute_names::FIRST_NAME,
            attribute_names::LAST_NAME,
            attribute_names::EMAIL,
            attribute_names::GROUPS
        ),
        ("firstName", "lastName", "email", "groups")
    );
}

#[test]
fn ids_are_fresh_in_every_response() {
    let first = idp().response(&ada(), &target(), now()).unwrap();
    let second = idp().response(&ada(), &target(), now()).unwrap();
    let ids = |xml: &str| {
        let doc = uppsala::parse(xml).unwrap();
        let response = doc.document_element().unwrap();
        let assertion = child(&doc, response, ASSERTION, "Assertion");
        let authn = child(&doc, assertion, ASSERTION, "AuthnStatement");
        [
            attr(&doc, response, "ID").unwrap().to_owned(),
            attr(&doc, assertion, "ID").unwrap().to_owned(),
            attr(&doc, authn, "SessionIndex").unwrap().to_owned(),
        ]
    };
    let (a, b) = (ids(&first), ids(&second));
    for (x, y) in a.iter().zip(b.iter()) {
        assert_ne!(x, y);
    }
}

#[test]
fn an_idp_initiated_response_has_no_in_response_to() {
    let target = ResponseTarget::new(SP_ENTITY_ID, ACS_URL);
    let xml = idp().response(&ada(), &target, now()).unwrap();
    assert!(!xml.contains("InResponseTo"));
    assert_eq!(verify(&xml).len(), 1);
    assert!(verify(&xml)[0].is_valid());
}

#[test]
fn a_person_without_attributes_gets_no_attribute_statement() {
    let xml = idp()
        .response(&TestPerson::new("bare"), &target(), now())
        .unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    let assertion = all(&doc, ASSERTION, "Assertion")[0];
    assert_eq!(
        names(&doc, assertion),
        [
            "Issuer",
            "Signature",
            "Subject",
            "Conditions",
            "AuthnStatement"
        ]
    );
    assert!(verify(&xml)[0].is_valid());
}

#[test]
fn markup_in_values_stays_text_and_never_becomes_another_group() {
    let injection = "</saml:AttributeValue><saml:AttributeValue>admins";
    let person = TestPerson::new("x\"/><saml:NameID>root</saml:NameID>")
        .with_given_name(injection)
        .with_family_name("O'Brien & <Sons>")
        .with_email("\"quoted\"@example.com")
        .with_group(injection)
        .with_group("it's & <fine>")
        .with_attribute("role\" Name=\"groups", [injection]);
    let target = ResponseTarget::new("https://sp/?a=1&b=\"2\"", "https://sp/acs?x=<y>")
        .with_in_response_to("_id\"'<>&");
    let xml = idp().response(&person, &target, now()).unwrap();
    assert!(!xml.contains(injection));

    let doc = uppsala::parse(&xml).unwrap();
    // firstName, lastName, email, two groups, one extra value: six, not seven.
    assert_eq!(
        all(&doc, ASSERTION, "AttributeValue").len(),
        1 + 1 + 1 + 2 + 1
    );
    assert_eq!(all(&doc, ASSERTION, "NameID").len(), 1);
    let assertion = all(&doc, ASSERTION, "Assertion")[0];
    let attributes = attributes(&doc, assertion);
    let groups: Vec<&Vec<String>> = attributes
        .iter()
        .filter(|(name, _)| name == "groups")
        .map(|(_, values)| values)
        .collect();
    assert_eq!(
        groups,
        [&vec![injection.to_owned(), "it's & <fine>".to_owned()]]
    );
    assert_eq!(attributes[0].1, [injection]);
    assert_eq!(attributes[1].1, ["O'Brien & <Sons>"]);
    assert_eq!(attributes[2].1, ["\"quoted\"@example.com"]);
    assert_eq!(attributes[4].0, "role\" Name=\"groups");
    assert_eq!(
        text(&doc, all(&doc, ASSERTION, "NameID")[0]),
        "x\"/><saml:NameID>root</saml:NameID>"
    );
    assert_eq!(
        text(&doc, all(&doc, ASSERTION, "Audience")[0]),
        "https://sp/?a=1&b=\"2\""
    );
    let response = doc.document_element().unwrap();
    assert_eq!(
        attr(&doc, response, "Destination"),
        Some("https://sp/acs?x=<y>")
    );
    assert_eq!(attr(&doc, response, "InResponseTo"), Some("_id\"'<>&"));
    // And the signature over all that still verifies.
    assert!(verify(&xml)[0].is_valid());
}

#[test]
fn whitespace_and_non_ascii_values_survive() {
    let person = TestPerson::new("  spaced\tsubject\r\n")
        .with_given_name("Zoë 李 𝄞")
        .with_group(" lead and trail ");
    let xml = idp().response(&person, &target(), now()).unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    assert_eq!(
        text(&doc, all(&doc, ASSERTION, "NameID")[0]),
        "  spaced\tsubject\r\n"
    );
    let assertion = all(&doc, ASSERTION, "Assertion")[0];
    let attributes = attributes(&doc, assertion);
    assert_eq!(attributes[0].1, ["Zoë 李 𝄞"]);
    assert_eq!(attributes[1].1, [" lead and trail "]);
    assert!(verify(&xml)[0].is_valid());
}

// ---- options ----

#[test]
fn a_signed_response_carries_its_signature_after_its_issuer_and_both_verify() {
    let mut options = ResponseOptions::default();
    options.sign_response = true;
    let xml = idp()
        .response_with(&ada(), &target(), now(), &options)
        .unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    let response = doc.document_element().unwrap();
    assert_eq!(
        names(&doc, response),
        ["Issuer", "Signature", "Status", "Assertion"]
    );
    let response_id = attr(&doc, response, "ID").unwrap();
    let signature = child(&doc, response, DSIG, "Signature");
    check_signature_shape(&doc, signature, response_id, &idp().certificate_pem());
    let assertion = child(&doc, response, ASSERTION, "Assertion");

    let results = verify(&xml);
    assert_eq!(results.len(), 2);
    let signed: Vec<NodeId> = results.iter().map(signed_node).collect();
    // verify_all reports in document order: the response's, then the assertion's.
    assert_eq!(signed, [response, assertion]);
}

#[test]
fn a_response_can_be_signed_instead_of_its_assertion() {
    let mut options = ResponseOptions::default();
    options.sign_response = true;
    options.sign_assertion = false;
    let xml = idp()
        .response_with(&ada(), &target(), now(), &options)
        .unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    let response = doc.document_element().unwrap();
    let assertion = child(&doc, response, ASSERTION, "Assertion");
    assert!(!names(&doc, assertion).contains(&"Signature".to_owned()));
    let results = verify(&xml);
    assert_eq!(results.len(), 1);
    assert_eq!(signed_node(&results[0]), response);
}

#[test]
fn an_unsigned_assertion_can_be_asked_for() {
    let mut options = ResponseOptions::default();
    options.sign_assertion = false;
    let xml = idp()
        .response_with(&ada(), &target(), now(), &options)
        .unwrap();
    assert!(!xml.contains("Signature"));
    assert!(bergshamra::verify_all(&trusting(&idp().certificate_pem()), &xml).is_err());
}

#[test]
fn times_can_be_overridden() {
    let mut options = ResponseOptions::default();
    options.authn_instant = Some(now() - TimeDelta::hours(2));
    options.not_before = Some(now() - TimeDelta::seconds(10));
    options.not_on_or_after = Some(now() + TimeDelta::hours(1));
    options.confirmation_not_on_or_after = Some(now() + TimeDelta::seconds(30));
    let xml = idp()
        .response_with(&ada(), &target(), now(), &options)
        .unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    let conditions = all(&doc, ASSERTION, "Conditions")[0];
    assert_eq!(attr(&doc, conditions, "NotBefore"), Some(at(-10).as_str()));
    assert_eq!(
        attr(&doc, conditions, "NotOnOrAfter"),
        Some(at(3600).as_str())
    );
    let data = all(&doc, ASSERTION, "SubjectConfirmationData")[0];
    assert_eq!(attr(&doc, data, "NotOnOrAfter"), Some(at(30).as_str()));
    let authn = all(&doc, ASSERTION, "AuthnStatement")[0];
    assert_eq!(attr(&doc, authn, "AuthnInstant"), Some(at(-7200).as_str()));
    assert!(verify(&xml)[0].is_valid());

    // `not_on_or_after` alone moves both windows.
    let mut options = ResponseOptions::default();
    options.not_on_or_after = Some(now() + TimeDelta::seconds(90));
    let xml = idp()
        .response_with(&ada(), &target(), now(), &options)
        .unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    let conditions = all(&doc, ASSERTION, "Conditions")[0];
    let data = all(&doc, ASSERTION, "SubjectConfirmationData")[0];
    assert_eq!(
        attr(&doc, conditions, "NotOnOrAfter"),
        Some(at(90).as_str())
    );
    assert_eq!(attr(&doc, data, "NotOnOrAfter"), Some(at(90).as_str()));
}

#[test]
fn sub_second_instants_are_kept() {
    let precise = now() + TimeDelta::milliseconds(123);
    let xml = idp().response(&ada(), &target(), precise).unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    let response = doc.document_element().unwrap();
    assert_eq!(
        attr(&doc, response, "IssueInstant"),
        Some("2025-06-07T08:09:10.123Z")
    );
}

// ---- error responses ----

#[test]
fn an_error_response_has_the_nested_status_no_assertion_and_a_valid_signature() {
    let xml = idp()
        .error_response(
            &target(),
            status::RESPONDER,
            Some(status::REQUEST_DENIED),
            Some("You may not use this application."),
            now(),
        )
        .unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    let response = doc.document_element().unwrap();
    assert!(is(&doc, response, PROTOCOL, "Response"));
    assert_eq!(names(&doc, response), ["Issuer", "Signature", "Status"]);
    assert_eq!(attr(&doc, response, "Destination"), Some(ACS_URL));
    assert_eq!(attr(&doc, response, "InResponseTo"), Some(REQUEST_ID));
    assert_eq!(attr(&doc, response, "IssueInstant"), Some(at(0).as_str()));
    assert!(all(&doc, ASSERTION, "Assertion").is_empty());
    let status_node = child(&doc, response, PROTOCOL, "Status");
    assert_eq!(names(&doc, status_node), ["StatusCode", "StatusMessage"]);
    let top = child(&doc, status_node, PROTOCOL, "StatusCode");
    assert_eq!(
        attr(&doc, top, "Value"),
        Some("urn:oasis:names:tc:SAML:2.0:status:Responder")
    );
    let nested = child(&doc, top, PROTOCOL, "StatusCode");
    assert_eq!(
        attr(&doc, nested, "Value"),
        Some("urn:oasis:names:tc:SAML:2.0:status:RequestDenied")
    );
    assert_eq!(
        text(&doc, child(&doc, status_node, PROTOCOL, "StatusMessage")),
        "You may not use this application."
    );
    let response_id = attr(&doc, response, "ID").unwrap();
    let signature = child(&doc, response, DSIG, "Signature");
    check_signature_shape(&doc, signature, response_id, &idp().certificate_pem());
    let results = verify(&xml);
    assert_eq!(results.len(), 1);
    assert_eq!(signed_node(&results[0]), response);
}

#[test]
fn an_error_response_without_sub_status_or_message() {
    let xml = idp()
        .error_response(&target(), status::REQUESTER, None, None, now())
        .unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    let status_node = all(&doc, PROTOCOL, "Status")[0];
    assert_eq!(names(&doc, status_node), ["StatusCode"]);
    let top = child(&doc, status_node, PROTOCOL, "StatusCode");
    assert!(children(&doc, top).is_empty());
    assert!(verify(&xml)[0].is_valid());
}

// ---- bad responses ----

fn bad(kind: BadResponse) -> String {
    idp().bad_response(kind, &ada(), &target(), now()).unwrap()
}

/// The assertion an SP that reads "the response's first assertion" would take.
fn first_assertion(doc: &Document<'_>) -> NodeId {
    let response = doc.document_element().unwrap();
    children(doc, response)
        .into_iter()
        .find(|id| is(doc, *id, ASSERTION, "Assertion"))
        .expect("an assertion")
}

fn subject_of(doc: &Document<'_>, assertion: NodeId) -> String {
    let subject = child(doc, assertion, ASSERTION, "Subject");
    text(doc, child(doc, subject, ASSERTION, "NameID"))
}

#[test]
fn every_bad_response_is_a_well_formed_response() {
    assert_eq!(BadResponse::ALL.len(), 13);
    for kind in BadResponse::ALL {
        let xml = bad(kind);
        let doc = uppsala::parse(&xml).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let response = doc.document_element().unwrap();
        assert!(is(&doc, response, PROTOCOL, "Response"), "{kind:?}");
        assert_eq!(attr(&doc, response, "Version"), Some("2.0"), "{kind:?}");
        assert!(!all(&doc, ASSERTION, "Assertion").is_empty(), "{kind:?}");
    }
}

#[test]
fn unsigned_in_response_to_names_the_request_only_where_no_signature_covers_it() {
    let xml = bad(BadResponse::UnsignedInResponseTo);
    let doc = uppsala::parse(&xml).unwrap();
    let response = doc.document_element().unwrap();
    assert_eq!(attr(&doc, response, "InResponseTo"), Some(REQUEST_ID));
    assert!(all(&doc, DSIG, "Signature")
        .iter()
        .all(|&signature| doc.parent(signature) != Some(response)));
    let assertion = first_assertion(&doc);
    let subject = child(&doc, assertion, ASSERTION, "Subject");
    let confirmation = child(&doc, subject, ASSERTION, "SubjectConfirmation");
    let data = child(&doc, confirmation, ASSERTION, "SubjectConfirmationData");
    assert_eq!(attr(&doc, data, "InResponseTo"), None);
    let results = verify(&xml);
    assert_eq!(results.len(), 1);
    assert!(results[0].is_valid(), "{:?}", results[0]);
}

#[test]
fn tampered_does_not_verify() {
    let xml = bad(BadResponse::Tampered);
    let doc = uppsala::parse(&xml).unwrap();
    assert_eq!(subject_of(&doc, first_assertion(&doc)), EVIL_SUBJECT);
    let results = verify(&xml);
    assert_eq!(results.len(), 1);
    assert!(!results[0].is_valid(), "{:?}", results[0]);
    // Nothing but the NameID differs from an honest response's shape.
    assert_eq!(
        names(&doc, first_assertion(&doc)),
        [
            "Issuer",
            "Signature",
            "Subject",
            "Conditions",
            "AuthnStatement",
            "AttributeStatement"
        ]
    );
}

#[test]
fn signed_by_other_key_is_valid_only_under_the_untrusted_certificate() {
    let xml = bad(BadResponse::SignedByOtherKey);
    let results = verify(&xml);
    assert_eq!(results.len(), 1);
    assert!(!results[0].is_valid());

    let untrusted = idp().untrusted_certificate_pem().unwrap();
    assert_ne!(untrusted, idp().certificate_pem());
    let under_other = bergshamra::verify_all(&trusting(&untrusted), &xml).unwrap();
    assert!(under_other[0].is_valid(), "{:?}", under_other[0]);

    let doc = uppsala::parse(&xml).unwrap();
    let assertion = first_assertion(&doc);
    let signature = child(&doc, assertion, DSIG, "Signature");
    let id = attr(&doc, assertion, "ID").unwrap();
    check_signature_shape(&doc, signature, id, &untrusted);
    assert_eq!(subject_of(&doc, assertion), "00u1ada");
}

#[test]
fn sha1_signed_uses_sha1_for_both_and_is_otherwise_genuine() {
    let xml = bad(BadResponse::Sha1Signed);
    let doc = uppsala::parse(&xml).unwrap();
    let method = all(&doc, DSIG, "SignatureMethod")[0];
    assert_eq!(
        attr(&doc, method, "Algorithm"),
        Some("http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    );
    let digest = all(&doc, DSIG, "DigestMethod")[0];
    assert_eq!(
        attr(&doc, digest, "Algorithm"),
        Some("http://www.w3.org/2000/09/xmldsig#sha1")
    );
    let digest_value = text(&doc, all(&doc, DSIG, "DigestValue")[0]);
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(digest_value.trim())
            .unwrap()
            .len(),
        20
    );
    // bergshamra (with `legacy-algorithms`) checks it: the signature is genuine, the
    // algorithm is what an SP must refuse.
    let results = verify(&xml);
    assert_eq!(results.len(), 1);
    assert!(results[0].is_valid(), "{:?}", results[0]);
}

#[test]
fn unsigned_has_no_signature_at_all() {
    let xml = bad(BadResponse::Unsigned);
    let doc = uppsala::parse(&xml).unwrap();
    assert!(all(&doc, DSIG, "Signature").is_empty());
    assert_eq!(subject_of(&doc, first_assertion(&doc)), "00u1ada");
    assert!(bergshamra::verify_all(&trusting(&idp().certificate_pem()), &xml).is_err());
}

#[test]
fn expired_ended_ten_minutes_ago_and_is_genuinely_signed() {
    let xml = bad(BadResponse::Expired);
    let doc = uppsala::parse(&xml).unwrap();
    let response = doc.document_element().unwrap();
    assert_eq!(
        attr(&doc, response, "IssueInstant"),
        Some(at(-900).as_str())
    );
    let conditions = all(&doc, ASSERTION, "Conditions")[0];
    assert_eq!(attr(&doc, conditions, "NotBefore"), Some(at(-960).as_str()));
    assert_eq!(
        attr(&doc, conditions, "NotOnOrAfter"),
        Some(at(-600).as_str())
    );
    let data = all(&doc, ASSERTION, "SubjectConfirmationData")[0];
    assert_eq!(attr(&doc, data, "NotOnOrAfter"), Some(at(-600).as_str()));
    assert!(verify(&xml)[0].is_valid());
}

#[test]
fn not_yet_valid_starts_nine_minutes_from_now_and_is_genuinely_signed() {
    let xml = bad(BadResponse::NotYetValid);
    let doc = uppsala::parse(&xml).unwrap();
    let conditions = all(&doc, ASSERTION, "Conditions")[0];
    assert_eq!(attr(&doc, conditions, "NotBefore"), Some(at(540).as_str()));
    assert_eq!(
        attr(&doc, conditions, "NotOnOrAfter"),
        Some(at(900).as_str())
    );
    let response = doc.document_element().unwrap();
    assert_eq!(attr(&doc, response, "IssueInstant"), Some(at(600).as_str()));
    assert!(verify(&xml)[0].is_valid());
}

#[test]
fn wrong_audience_destination_and_recipient_each_change_one_field() {
    let read = |xml: &str| {
        let doc = uppsala::parse(xml).unwrap();
        let response = doc.document_element().unwrap();
        let destination = attr(&doc, response, "Destination").unwrap().to_owned();
        let audience = text(&doc, all(&doc, ASSERTION, "Audience")[0]);
        let data = all(&doc, ASSERTION, "SubjectConfirmationData")[0];
        let recipient = attr(&doc, data, "Recipient").unwrap().to_owned();
        (audience, destination, recipient)
    };

    let xml = bad(BadResponse::WrongAudience);
    assert_eq!(
        read(&xml),
        (WRONG_SP_ENTITY_ID.into(), ACS_URL.into(), ACS_URL.into())
    );
    assert!(verify(&xml)[0].is_valid());

    let xml = bad(BadResponse::WrongRecipient);
    assert_eq!(
        read(&xml),
        (SP_ENTITY_ID.into(), ACS_URL.into(), WRONG_ACS_URL.into())
    );
    assert!(verify(&xml)[0].is_valid());

    let xml = bad(BadResponse::WrongDestination);
    assert_eq!(
        read(&xml),
        (SP_ENTITY_ID.into(), WRONG_ACS_URL.into(), ACS_URL.into())
    );
    // The wrong destination is under a valid IdP signature: the response is signed.
    let results = verify(&xml);
    assert_eq!(results.len(), 2);
    let doc = uppsala::parse(&xml).unwrap();
    assert_eq!(signed_node(&results[0]), doc.document_element().unwrap());
    assert!(results[1].is_valid());
}

/// Checks a wrapping attack: one valid signature, over an assertion about the real
/// person that is not the assertion an SP reads; the one it reads is unsigned and about
/// the attacker.
fn check_wrapped(xml: &str) -> (Document<'_>, NodeId, NodeId) {
    let results = verify(xml);
    assert_eq!(results.len(), 1);
    let doc = uppsala::parse(xml).unwrap();
    let signed = signed_node(&results[0]);
    let read = first_assertion(&doc);
    assert_ne!(signed, read);
    assert!(is(&doc, signed, ASSERTION, "Assertion"));
    assert_eq!(subject_of(&doc, signed), "00u1ada");
    assert_eq!(subject_of(&doc, read), EVIL_SUBJECT);
    assert!(children(&doc, read)
        .into_iter()
        .all(|id| !is(&doc, id, DSIG, "Signature")));
    assert_ne!(attr(&doc, signed, "ID"), attr(&doc, read, "ID"));
    // The evil assertion is otherwise valid: same audience and recipient.
    let attributes = attributes(&doc, read);
    let email = attributes.iter().find(|(name, _)| name == "email").unwrap();
    assert_eq!(email.1, [EVIL_SUBJECT]);
    (doc, signed, read)
}

#[test]
fn wrapped_in_extensions_hides_the_signed_assertion_in_extensions() {
    let xml = bad(BadResponse::WrappedInExtensions);
    let (doc, signed, _read) = check_wrapped(&xml);
    let response = doc.document_element().unwrap();
    assert_eq!(
        names(&doc, response),
        ["Issuer", "Extensions", "Status", "Assertion"]
    );
    let extensions = child(&doc, response, PROTOCOL, "Extensions");
    assert_eq!(doc.parent(signed), Some(extensions));
}

#[test]
fn wrapped_evil_first_puts_the_unsigned_assertion_before_the_signed_one() {
    let xml = bad(BadResponse::WrappedEvilFirst);
    let (doc, signed, read) = check_wrapped(&xml);
    let response = doc.document_element().unwrap();
    assert_eq!(
        names(&doc, response),
        ["Issuer", "Status", "Assertion", "Assertion"]
    );
    let assertions = children(&doc, response);
    assert_eq!(assertions[2], read);
    assert_eq!(assertions[3], signed);
}

#[test]
fn wrapped_in_advice_carries_the_signed_assertion_inside_the_evil_one() {
    let xml = bad(BadResponse::WrappedInAdvice);
    let (doc, signed, read) = check_wrapped(&xml);
    let response = doc.document_element().unwrap();
    assert_eq!(names(&doc, response), ["Issuer", "Status", "Assertion"]);
    let advice = child(&doc, read, ASSERTION, "Advice");
    assert_eq!(doc.parent(signed), Some(advice));
    assert_eq!(
        names(&doc, read),
        [
            "Issuer",
            "Subject",
            "Conditions",
            "Advice",
            "AuthnStatement",
            "AttributeStatement"
        ]
    );
}

// ---- keys, metadata, binding ----

#[test]
fn keys_kept_as_pem_make_the_same_idp() {
    let original = idp();
    let restored = TestIdp::from_pem(
        original.entity_id(),
        original.key_pem(),
        &original.certificate_pem(),
    )
    .unwrap();
    assert_eq!(restored.certificate_der(), original.certificate_der());
    assert_eq!(restored.certificate_pem(), original.certificate_pem());
    assert!(original
        .key_pem()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(original
        .certificate_pem()
        .starts_with("-----BEGIN CERTIFICATE-----\n"));
    // What the restored IdP signs, the original certificate verifies.
    let xml = restored.response(&ada(), &target(), now()).unwrap();
    assert!(verify(&xml)[0].is_valid());
}

#[test]
fn the_certificate_is_what_bergshamra_loads_and_never_expires() {
    let der = idp().certificate_der();
    let key = bergshamra::keys::loader::load_x509_cert_der(der).unwrap();
    assert_eq!(key.x509_chain, vec![der.to_vec()]);
    // UTCTime 2000-01-01 and GeneralizedTime 9999-12-31.
    let contains = |needle: &[u8]| der.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"000101000000Z"));
    assert!(contains(b"99991231235959Z"));
}

#[test]
fn metadata_describes_the_idp() {
    let sso = "https://idp.example.test/sso?tenant=a&b";
    let xml = idp().metadata_xml(sso).unwrap();
    let doc = uppsala::parse(&xml).unwrap();
    let entity = doc.document_element().unwrap();
    assert!(is(&doc, entity, METADATA, "EntityDescriptor"));
    assert_eq!(attr(&doc, entity, "entityID"), Some(IDP_ENTITY_ID));
    let descriptor = child(&doc, entity, METADATA, "IDPSSODescriptor");
    assert_eq!(
        attr(&doc, descriptor, "protocolSupportEnumeration"),
        Some(PROTOCOL)
    );
    assert_eq!(
        names(&doc, descriptor),
        [
            "KeyDescriptor",
            "NameIDFormat",
            "SingleSignOnService",
            "SingleSignOnService"
        ]
    );
    let key = child(&doc, descriptor, METADATA, "KeyDescriptor");
    assert_eq!(attr(&doc, key, "use"), Some("signing"));
    let key_info = child(&doc, key, DSIG, "KeyInfo");
    let data = child(&doc, key_info, DSIG, "X509Data");
    let certificate = text(&doc, child(&doc, data, DSIG, "X509Certificate"));
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(certificate)
            .unwrap(),
        idp().certificate_der()
    );
    let services: Vec<(Option<&str>, Option<&str>)> = children(&doc, descriptor)
        .into_iter()
        .filter(|id| is(&doc, *id, METADATA, "SingleSignOnService"))
        .map(|id| (attr(&doc, id, "Binding"), attr(&doc, id, "Location")))
        .collect();
    assert_eq!(
        services,
        [
            (
                Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"),
                Some(sso)
            ),
            (
                Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"),
                Some(sso)
            ),
        ]
    );
}

#[test]
fn the_post_form_value_is_the_base64_of_the_response() {
    let xml = idp().response(&ada(), &target(), now()).unwrap();
    let value = post_form_value(&xml);
    assert!(!value.contains('\n'));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&value)
        .unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), xml);
}
