//! Which request a response answers is read from signed content only, wherever the IdP
//! writes it: on the bearer confirmation (always inside the signed assertion), or on the
//! Response (only when a signature covers the Response). Each placement on each
//! signature backend, and the forged placement through the provisioner.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use jit_provisioning::{LoginError, MemoryReplayGuard, MemoryStore, Provisioner};
use jit_provisioning_saml::test_idp::{BadResponse, ResponseOptions};
use jit_provisioning_saml::{
    verify, Category, Expected, InResponseTo, SignatureBackend, SignedAssertion, Verified,
    VerifyError, VerifyOptions,
};

use common::idp::{self, idp, jane, now, post, target, ACS_URL, REQUEST_ID, SP_ENTITY_ID};

/// Verifies `xml` for acme with `REQUEST_ID` outstanding, on `backend`, with the IdP's
/// `allow_idp_initiated` as given.
fn verify_on(
    backend: SignatureBackend,
    xml: &str,
    allow_idp_initiated: bool,
) -> Result<SignedAssertion, VerifyError> {
    let saml = idp::saml_config(
        serde_json::json!({"options": {"allow_idp_initiated": allow_idp_initiated}}),
    )
    .validate(&idp::policy(), None)
    .unwrap();
    let settings = saml.org("acme").unwrap();
    let trusted = settings.idp();
    let requests = [REQUEST_ID.to_owned()];
    let expected = Expected::new(SP_ENTITY_ID, ACS_URL, InResponseTo::OneOf(&requests));
    let mut options = VerifyOptions::default();
    options.backend = backend;
    match verify(xml, trusted, &expected, now(), &options)? {
        Verified::Assertion(assertion) => Ok(assertion),
        Verified::Status(status) => panic!("a status, not an assertion: {status:?}"),
    }
}

fn response(options: ResponseOptions) -> String {
    idp()
        .response_with(&jane(), &target(), now(), &options)
        .unwrap()
}

/// The default response with the Response's `InResponseTo` edited; the Response is
/// unsigned, so the edit keeps every signature valid.
fn with_response_attribute(xml: &str, to: &str) -> String {
    let from = format!("InResponseTo=\"{REQUEST_ID}\"");
    let (before, rest) = xml.split_once("<samlp:Response").unwrap();
    let (start_tag, after) = rest.split_once('>').unwrap();
    assert!(start_tag.contains(&from), "no InResponseTo on the Response");
    format!(
        "{before}<samlp:Response{}>{after}",
        start_tag.replacen(&from, to, 1)
    )
}

#[test]
fn on_both_the_response_and_the_signed_confirmation_it_answers_the_request() {
    for &backend in SignatureBackend::available() {
        let answered = verify_on(backend, &response(ResponseOptions::default()), false).unwrap();
        assert_eq!(
            answered.in_response_to.as_deref(),
            Some(REQUEST_ID),
            "{backend:?}"
        );
    }
}

#[test]
fn on_the_signed_confirmation_alone_it_answers_the_request() {
    let xml = with_response_attribute(&response(ResponseOptions::default()), "");
    for &backend in SignatureBackend::available() {
        let answered = verify_on(backend, &xml, false).unwrap();
        assert_eq!(
            answered.in_response_to.as_deref(),
            Some(REQUEST_ID),
            "{backend:?}"
        );
    }
}

#[test]
fn on_a_signed_response_alone_it_answers_the_request() {
    let xml = response({
        let mut options = ResponseOptions::default();
        options.sign_response = true;
        options.confirmation_in_response_to = false;
        options
    });
    for &backend in SignatureBackend::available() {
        let answered = verify_on(backend, &xml, false).unwrap();
        assert!(answered.response_signed);
        assert_eq!(
            answered.in_response_to.as_deref(),
            Some(REQUEST_ID),
            "{backend:?}"
        );
    }
}

#[test]
fn on_an_unsigned_response_alone_it_does_not_count() {
    // The attack: an IdP-initiated response, with the id of a request outstanding in the
    // attacker's own session added to the unsigned Response.
    let xml = idp()
        .bad_response(BadResponse::UnsignedInResponseTo, &jane(), &target(), now())
        .unwrap();
    assert!(xml.contains(&format!("InResponseTo=\"{REQUEST_ID}\"")));
    for &backend in SignatureBackend::available() {
        let refused = verify_on(backend, &xml, false).unwrap_err();
        assert_eq!(refused, VerifyError::Unsolicited, "{backend:?}");
        assert!(
            refused.to_string().contains("no signature covers"),
            "{refused}"
        );

        // Where the IdP allows IdP-initiated sign-in, it is one, answering nothing.
        let unsolicited = verify_on(backend, &xml, true).unwrap();
        assert_eq!(unsolicited.in_response_to, None, "{backend:?}");
    }
}

#[test]
fn values_that_disagree_are_refused_and_named_each_where_it_was_found() {
    // The test IdP writes one id in both places: edit the unsigned Response's. (With a
    // signed Response the edit would break its signature; `answered_request`'s unit tests
    // cover that combination.)
    let xml = with_response_attribute(
        &response(ResponseOptions::default()),
        "InResponseTo=\"_other\"",
    );
    for &backend in SignatureBackend::available() {
        let refused = verify_on(backend, &xml, true).unwrap_err();
        assert_eq!(
            refused,
            VerifyError::InResponseToDisagrees {
                response: "_other".into(),
                confirmation: REQUEST_ID.into(),
            },
            "{backend:?}"
        );
        assert_eq!(refused.category(), Category::InResponseToMismatch);
        let message = refused.to_string();
        let response_at = message.find("`_other`").unwrap();
        let confirmation_at = message.find(&format!("`{REQUEST_ID}`")).unwrap();
        assert!(response_at < confirmation_at, "{message}");
        assert!(
            message.contains("Response answers request `_other`"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn the_provisioner_refuses_the_forged_answer_and_creates_nothing() {
    let provisioner = Provisioner::new(idp::policy(), MemoryStore::new());
    let xml = idp()
        .bad_response(BadResponse::UnsignedInResponseTo, &jane(), &target(), now())
        .unwrap();
    let error = provisioner
        .login(
            &idp::provider(),
            &MemoryReplayGuard::new(),
            &post(&xml),
            now(),
        )
        .await
        .unwrap_err();
    let LoginError::Unverified(jit_provisioning::VerifyError::Refused { category, .. }) = error
    else {
        panic!("{error:?}");
    };
    assert_eq!(category, "in_response_to_mismatch");
    assert_eq!(provisioner.store().len(), 0);
}
