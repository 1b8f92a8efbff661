//! The AuthnRequest decoder: what the SP side builds reads back on both bindings, and
//! hostile input is refused with its own error, never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write as _;

use base64::Engine as _;
use jit_provisioning::{IdpBinding, IdpTrip, SamlVerifier};
use jit_provisioning_saml::test_idp::TestIdp;
use jit_provisioning_saml::{AuthnRequest, AuthnRequestError, HTTP_POST, MAX_AUTHN_REQUEST_BYTES};

use common::idp::{self, now, ACS_URL, SP_ENTITY_ID};

const RELAY_STATE: &str = "/orgs/acme/projects?tab=open&q=a b+c";

fn trip(force_authn: bool) -> IdpTrip {
    let mut built = IdpTrip::new("acme", idp::IDP_ENTITY_ID);
    built.force_authn = force_authn;
    built.relay_state = Some(RELAY_STATE.into());
    built
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut deflater =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(bytes).unwrap();
    deflater.finish().unwrap()
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// A Redirect binding query carrying `xml`.
fn redirect_query(xml: &str) -> String {
    format!(
        "SAMLRequest={}",
        percent_encode(&b64(&deflate(xml.as_bytes())))
    )
}

/// An AuthnRequest with `attributes` on its root and `children` inside.
fn request_xml(attributes: &str, children: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" {attributes}>{children}</samlp:AuthnRequest>"#
    )
}

const GOOD_ATTRIBUTES: &str = r#"ID="_abc" Version="2.0" IssueInstant="2026-11-28T12:00:00Z" AssertionConsumerServiceURL="https://app.example/acme/saml/acs""#;
const ISSUER: &str = "<saml:Issuer>https://app.example/acme/saml/metadata</saml:Issuer>";

#[tokio::test]
async fn a_redirect_built_by_the_sp_reads_back() {
    let saml = idp::provider();
    let redirect = saml.authn_request(&trip(true), now()).await.unwrap();
    let IdpBinding::Redirect { url } = &redirect.binding else {
        panic!("not a redirect");
    };
    let (_, query) = url.split_once('?').unwrap();
    let request = AuthnRequest::from_redirect_query(query).unwrap();
    assert_eq!(request.id, redirect.request_id);
    assert_eq!(request.issue_instant, now());
    assert_eq!(request.issuer, SP_ENTITY_ID);
    assert_eq!(request.acs_url.as_deref(), Some(ACS_URL));
    assert_eq!(request.protocol_binding.as_deref(), Some(HTTP_POST));
    assert!(request.force_authn);
    assert!(!request.is_passive);
    assert_eq!(
        request.destination.as_deref(),
        Some("https://idp.test.example/sso")
    );
    assert_eq!(request.name_id_format, None);
    assert_eq!(request.relay_state.as_deref(), Some(RELAY_STATE));
    assert_eq!(request.signature, None);
    assert!(request.xml.starts_with("<samlp:AuthnRequest"));

    // With the `?`, too.
    assert_eq!(
        AuthnRequest::from_redirect_query(&format!("?{query}")).unwrap(),
        request
    );
    let unforced = saml.authn_request(&trip(false), now()).await.unwrap();
    let IdpBinding::Redirect { url } = &unforced.binding else {
        panic!("not a redirect");
    };
    let request = AuthnRequest::from_redirect_query(url.split_once('?').unwrap().1).unwrap();
    assert!(!request.force_authn);
}

#[tokio::test]
async fn a_signed_redirect_reports_its_signature_and_the_octets_it_signs() {
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
    let request = AuthnRequest::from_redirect_query(query).unwrap();
    assert_eq!(request.id, redirect.request_id);
    assert_eq!(request.relay_state.as_deref(), Some(RELAY_STATE));
    let signature = request.signature.expect("a signature");
    assert_eq!(
        signature.algorithm,
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    );
    assert_eq!(
        signature.signed_octets,
        query.split_once("&Signature=").unwrap().0
    );

    // The decoder does not verify; what it reports is enough to.
    let certificate =
        jit_provisioning_saml::Certificate::from_pem_or_base64(&sp_key.certificate_pem()).unwrap();
    let spki = bergshamra::keys::loader::load_x509_cert_der(certificate[0].der())
        .unwrap()
        .to_spki_der()
        .unwrap();
    let public = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap();
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public);
    let value = rsa::pkcs1v15::Signature::try_from(signature.value.as_slice()).unwrap();
    verifier
        .verify(signature.signed_octets.as_bytes(), &value)
        .unwrap();
}

#[tokio::test]
async fn a_post_built_by_the_sp_reads_back() {
    let saml = idp::saml_config(serde_json::json!({"binding": "post"}))
        .validate(&idp::policy(), None)
        .unwrap();
    let redirect = saml.authn_request(&trip(true), now()).await.unwrap();
    let IdpBinding::Post { fields, .. } = &redirect.binding else {
        panic!("not a form");
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    };
    let request =
        AuthnRequest::from_post_form(field("SAMLRequest").unwrap(), field("RelayState")).unwrap();
    assert_eq!(request.id, redirect.request_id);
    assert_eq!(request.issuer, SP_ENTITY_ID);
    assert_eq!(request.acs_url.as_deref(), Some(ACS_URL));
    assert!(request.force_authn);
    assert_eq!(request.relay_state.as_deref(), Some(RELAY_STATE));
    assert_eq!(request.signature, None);

    // Line breaks in the base64, as some SPs send it.
    let wrapped: String = field("SAMLRequest")
        .unwrap()
        .as_bytes()
        .chunks(76)
        .map(|chunk| format!("{}\r\n", std::str::from_utf8(chunk).unwrap()))
        .collect();
    assert_eq!(
        AuthnRequest::from_post_form(&wrapped, field("RelayState")).unwrap(),
        request
    );
}

#[test]
fn every_field_is_read_where_saml_puts_it() {
    let xml = request_xml(
        r#"ID="_r1" Version="2.0" IssueInstant="2026-11-28T12:00:00+00:00" Destination="https://idp.example/sso" AssertionConsumerServiceURL="https://sp.example/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ForceAuthn="1" IsPassive="true""#,
        r#"<saml:Issuer> https://sp.example/metadata </saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/>"#,
    );
    let request = AuthnRequest::from_xml(xml.as_bytes()).unwrap();
    assert_eq!(request.id, "_r1");
    assert_eq!(
        request.issue_instant.to_rfc3339(),
        "2026-11-28T12:00:00+00:00"
    );
    assert_eq!(request.issuer, "https://sp.example/metadata");
    assert_eq!(
        request.destination.as_deref(),
        Some("https://idp.example/sso")
    );
    assert_eq!(request.acs_url.as_deref(), Some("https://sp.example/acs"));
    assert!(request.force_authn && request.is_passive);
    assert_eq!(
        request.name_id_format.as_deref(),
        Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    );
    assert_eq!(request.relay_state, None);
}

#[test]
fn bad_base64_and_bad_encoding_are_refused() {
    assert!(matches!(
        AuthnRequest::from_redirect_query("SAMLRequest=%21%21%21%21"),
        Err(AuthnRequestError::NotBase64 {
            field: "SAMLRequest",
            ..
        })
    ));
    assert!(matches!(
        AuthnRequest::from_post_form("not base64 at all!", None),
        Err(AuthnRequestError::NotBase64 { .. })
    ));
    assert_eq!(
        AuthnRequest::from_redirect_query("SAMLRequest=%G1"),
        Err(AuthnRequestError::BadEncoding("SAMLRequest"))
    );
    let good = redirect_query(&request_xml(GOOD_ATTRIBUTES, ISSUER));
    assert_eq!(
        AuthnRequest::from_redirect_query(&format!("{good}&RelayState=%FF")),
        Err(AuthnRequestError::BadEncoding("RelayState"))
    );
    assert!(matches!(
        AuthnRequest::from_redirect_query(&format!("{good}&SigAlg=x&Signature=%21%21")),
        Err(AuthnRequestError::NotBase64 {
            field: "Signature",
            ..
        })
    ));
}

#[test]
fn parameters_missing_or_given_twice_are_refused() {
    assert_eq!(
        AuthnRequest::from_redirect_query("RelayState=x"),
        Err(AuthnRequestError::MissingParameter("SAMLRequest"))
    );
    assert_eq!(
        AuthnRequest::from_redirect_query(""),
        Err(AuthnRequestError::MissingParameter("SAMLRequest"))
    );
    let good = redirect_query(&request_xml(GOOD_ATTRIBUTES, ISSUER));
    assert_eq!(
        AuthnRequest::from_redirect_query(&format!("{good}&{good}")),
        Err(AuthnRequestError::DuplicateParameter("SAMLRequest"))
    );
    assert_eq!(
        AuthnRequest::from_redirect_query(&format!("{good}&RelayState=a&RelayState=b")),
        Err(AuthnRequestError::DuplicateParameter("RelayState"))
    );
    assert_eq!(
        AuthnRequest::from_redirect_query(&format!("{good}&Signature=AAAA")),
        Err(AuthnRequestError::MissingParameter("SigAlg"))
    );
    // Unknown parameters are none of the binding's business.
    assert!(AuthnRequest::from_redirect_query(&format!("utm_source=x&{good}&x")).is_ok());
}

#[test]
fn a_request_that_is_not_deflated_is_refused() {
    let xml = request_xml(GOOD_ATTRIBUTES, ISSUER);
    let query = format!("SAMLRequest={}", percent_encode(&b64(xml.as_bytes())));
    assert!(matches!(
        AuthnRequest::from_redirect_query(&query),
        Err(AuthnRequestError::NotDeflated(_))
    ));
}

#[test]
fn a_deflate_bomb_stops_at_the_limit() {
    // 4 MiB of spaces inside an AuthnRequest deflate to about 4 KB: well under the
    // query's limit, far over the inflated one.
    let mut xml = request_xml(GOOD_ATTRIBUTES, ISSUER).into_bytes();
    xml.splice(20..20, vec![b' '; 4 * 1024 * 1024]);
    let query = redirect_query(std::str::from_utf8(&xml).unwrap());
    assert!(query.len() < MAX_AUTHN_REQUEST_BYTES, "{}", query.len());
    assert_eq!(
        AuthnRequest::from_redirect_query(&query),
        Err(AuthnRequestError::TooLarge {
            limit: MAX_AUTHN_REQUEST_BYTES
        })
    );
}

#[test]
fn oversized_input_is_refused_before_it_is_decoded() {
    let too_large = Err(AuthnRequestError::TooLarge {
        limit: MAX_AUTHN_REQUEST_BYTES,
    });
    let padding = " ".repeat(MAX_AUTHN_REQUEST_BYTES);
    let xml = request_xml(&format!("{GOOD_ATTRIBUTES}{padding}"), ISSUER);
    assert_eq!(AuthnRequest::from_xml(xml.as_bytes()), too_large);
    assert_eq!(
        AuthnRequest::from_post_form(&b64(xml.as_bytes()), None),
        too_large
    );
    let query = format!(
        "SAMLRequest=AAAA&RelayState={}",
        "a".repeat(MAX_AUTHN_REQUEST_BYTES)
    );
    assert_eq!(AuthnRequest::from_redirect_query(&query), too_large);
    let good = b64(request_xml(GOOD_ATTRIBUTES, ISSUER).as_bytes());
    assert_eq!(
        AuthnRequest::from_post_form(&good, Some(&"a".repeat(MAX_AUTHN_REQUEST_BYTES + 1))),
        too_large
    );
}

#[test]
fn a_dtd_is_refused() {
    let xml = format!(
        "<!DOCTYPE samlp:AuthnRequest [<!ENTITY lol \"lol\">]>{}",
        request_xml(GOOD_ATTRIBUTES, "<saml:Issuer>&lol;</saml:Issuer>")
    );
    assert_eq!(
        AuthnRequest::from_xml(xml.as_bytes()),
        Err(AuthnRequestError::Doctype)
    );
    assert_eq!(
        AuthnRequest::from_redirect_query(&redirect_query(&xml)),
        Err(AuthnRequestError::Doctype)
    );
    assert_eq!(
        AuthnRequest::from_post_form(&b64(xml.as_bytes()), None),
        Err(AuthnRequestError::Doctype)
    );
}

#[test]
fn what_an_authn_request_needs_is_required() {
    let without = |attribute: &str| {
        let attributes = GOOD_ATTRIBUTES
            .split(' ')
            .filter(|pair| !pair.starts_with(&format!("{attribute}=")))
            .collect::<Vec<_>>()
            .join(" ");
        AuthnRequest::from_xml(request_xml(&attributes, ISSUER).as_bytes())
    };
    assert_eq!(without("ID"), Err(AuthnRequestError::Missing("ID")));
    assert_eq!(
        without("Version"),
        Err(AuthnRequestError::Missing("Version"))
    );
    assert_eq!(
        without("IssueInstant"),
        Err(AuthnRequestError::Missing("IssueInstant"))
    );
    assert_eq!(
        AuthnRequest::from_xml(request_xml(GOOD_ATTRIBUTES, "").as_bytes()),
        Err(AuthnRequestError::Missing("Issuer"))
    );
    assert_eq!(
        AuthnRequest::from_xml(
            request_xml(GOOD_ATTRIBUTES, "<saml:Issuer> </saml:Issuer>").as_bytes()
        ),
        Err(AuthnRequestError::Missing("Issuer"))
    );
    // No ACS URL is no error: the SP may leave it to its metadata.
    let request = without("AssertionConsumerServiceURL").unwrap();
    assert_eq!(request.acs_url, None);
}

#[test]
fn values_of_the_wrong_type_or_place_are_refused() {
    let with = |attributes: &str, children: &str| {
        AuthnRequest::from_xml(request_xml(attributes, children).as_bytes())
    };
    assert_eq!(
        with(&GOOD_ATTRIBUTES.replace("2.0", "1.1"), ISSUER),
        Err(AuthnRequestError::UnsupportedVersion("1.1".into()))
    );
    assert_eq!(
        with(
            &GOOD_ATTRIBUTES.replace("2026-11-28T12:00:00Z", "yesterday"),
            ISSUER
        ),
        Err(AuthnRequestError::InvalidValue {
            name: "IssueInstant",
            value: "yesterday".into()
        })
    );
    assert_eq!(
        with(&format!("{GOOD_ATTRIBUTES} ForceAuthn=\"yes\""), ISSUER),
        Err(AuthnRequestError::InvalidValue {
            name: "ForceAuthn",
            value: "yes".into()
        })
    );
    assert!(matches!(
        with(&GOOD_ATTRIBUTES.replace("_abc", "1abc"), ISSUER),
        Err(AuthnRequestError::Malformed(_))
    ));
    assert!(matches!(
        with(GOOD_ATTRIBUTES, &format!("{ISSUER}{ISSUER}")),
        Err(AuthnRequestError::Malformed(_))
    ));
    assert!(matches!(
        with(
            GOOD_ATTRIBUTES,
            "<saml:Issuer>https://sp.example/<!-- x -->evil</saml:Issuer>"
        ),
        Err(AuthnRequestError::Malformed(_))
    ));
    let response = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0"/>"#;
    assert_eq!(
        AuthnRequest::from_xml(response.as_bytes()),
        Err(AuthnRequestError::NotAnAuthnRequest(
            "samlp:Response".into()
        ))
    );
    let foreign = request_xml(GOOD_ATTRIBUTES, ISSUER).replace(
        r#"xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol""#,
        r#"xmlns:samlp="urn:example:not-saml""#,
    );
    assert!(matches!(
        AuthnRequest::from_xml(foreign.as_bytes()),
        Err(AuthnRequestError::NotAnAuthnRequest(_))
    ));
    assert!(matches!(
        AuthnRequest::from_xml(b"<samlp:AuthnRequest"),
        Err(AuthnRequestError::Malformed(_))
    ));
    assert_eq!(
        AuthnRequest::from_xml(b"<a>\xff</a>"),
        Err(AuthnRequestError::NotUtf8)
    );
}

#[test]
fn no_input_makes_it_panic() {
    // Every byte of a good request, and of its deflated form, changed in turn: each
    // reads or is refused.
    let xml = request_xml(GOOD_ATTRIBUTES, ISSUER).into_bytes();
    let deflated = deflate(&xml);
    for (input, redirect) in [(&xml, false), (&deflated, true)] {
        for at in 0..input.len() {
            for byte in [0x00, b'<', b'"', 0xff] {
                let mut changed = input.clone();
                changed[at] = byte;
                let _ = if redirect {
                    AuthnRequest::from_redirect_query(&format!(
                        "SAMLRequest={}",
                        percent_encode(&b64(&changed))
                    ))
                } else {
                    AuthnRequest::from_xml(&changed)
                };
            }
        }
        for length in 0..input.len() {
            let _ = AuthnRequest::from_xml(&input[..length]);
        }
    }
}
