//! The whole SAML sign-in through the core's provisioner: a response from the test IdP,
//! verified by the ServiceProvider, decided and applied; and every bad response refused
//! by the check it fails, and that check alone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use jit_provisioning::{
    Config, LoginError, MemoryReplayGuard, MemoryStore, Outcome, Provisioner, Reason, Rule,
    SamlAnswer, SamlVerifier, STATUS_REQUEST_DENIED,
};
use jit_provisioning_saml::test_idp::{
    status, BadResponse, ResponseOptions, TestPerson, EVIL_SUBJECT,
};
use jit_provisioning_saml::{Category, PostError, VerifyError, GROUPS_OVERAGE_CLAIM};

use common::idp::{self, idp, jane, now, post, provider, target};

fn refusal(xml: &str) -> VerifyError {
    match provider().verify_post(&post(xml), now()) {
        Err(PostError::Refused(error)) => error,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_first_login_creates_the_account_and_its_replay_is_refused() {
    let provisioner = Provisioner::new(idp::policy(), MemoryStore::new());
    let saml = provider();
    let guard = MemoryReplayGuard::new();
    let xml = idp().response(&jane(), &target(), now()).unwrap();

    let done = provisioner
        .login(&saml, &guard, &post(&xml), now())
        .await
        .unwrap();
    assert_eq!(done.decision.outcome(), Outcome::AccountCreated);
    assert_eq!(done.decision.new_handle(), Some("jane-doe"));
    let account = done.account.unwrap();
    assert!(!account.has_password);

    let replay = provisioner
        .login(&saml, &guard, &post(&xml), now())
        .await
        .unwrap();
    assert_eq!(replay.decision.rule(), Rule::ReplayedAssertion);
    assert_eq!(provisioner.store().len(), 1);
}

#[tokio::test]
async fn the_idps_request_denied_becomes_the_app_not_assigned_refusal() {
    let provisioner = Provisioner::new(idp::policy(), MemoryStore::new());
    let xml = idp()
        .error_response(
            &target(),
            status::RESPONDER,
            Some(STATUS_REQUEST_DENIED),
            Some("not assigned"),
            now(),
        )
        .unwrap();
    let done = provisioner
        .login(&provider(), &MemoryReplayGuard::new(), &post(&xml), now())
        .await
        .unwrap();
    assert_eq!(done.decision.reason(), Some(Reason::AppNotAssigned));
}

#[tokio::test]
async fn an_unverifiable_response_is_a_typed_error_with_its_category() {
    let provisioner = Provisioner::new(idp::policy(), MemoryStore::new());
    let xml = idp()
        .bad_response(BadResponse::Tampered, &jane(), &target(), now())
        .unwrap();
    let error = provisioner
        .login(&provider(), &MemoryReplayGuard::new(), &post(&xml), now())
        .await
        .unwrap_err();
    let LoginError::Unverified(jit_provisioning::VerifyError::Refused { category, .. }) = error
    else {
        panic!("{error:?}");
    };
    assert_eq!(category, "bad_signature");
    assert_eq!(provisioner.store().len(), 0);
}

#[test]
fn every_bad_response_is_refused_by_the_check_it_fails() {
    for kind in BadResponse::ALL {
        let xml = idp().bad_response(kind, &jane(), &target(), now()).unwrap();
        let expected = match kind {
            BadResponse::Tampered | BadResponse::SignedByOtherKey => Category::BadSignature,
            BadResponse::WrappedInExtensions
            | BadResponse::WrappedEvilFirst
            | BadResponse::WrappedInAdvice => Category::MultipleAssertions,
            BadResponse::Expired => Category::Expired,
            BadResponse::NotYetValid => Category::NotYetValid,
            BadResponse::WrongAudience => Category::WrongAudience,
            BadResponse::WrongDestination => Category::WrongDestination,
            BadResponse::WrongRecipient => Category::WrongRecipient,
            BadResponse::Unsigned => Category::Unsigned,
            BadResponse::Sha1Signed => Category::WeakAlgorithm,
            BadResponse::UnsignedInResponseTo => Category::InResponseToMismatch,
            other => panic!("no expectation for {other:?}"),
        };
        let error = refusal(&xml);
        assert_eq!(error.category(), expected, "{kind:?}: {error}");
    }
}

#[test]
fn a_key_the_idp_does_not_use_is_named_by_its_fingerprint() {
    let xml = idp()
        .bad_response(BadResponse::SignedByOtherKey, &jane(), &target(), now())
        .unwrap();
    let VerifyError::UntrustedSigner { signer, trusted } = refusal(&xml) else {
        panic!("not an untrusted signer");
    };
    assert_ne!(signer, trusted[0]);
    assert_eq!(trusted.len(), 1);
}

#[test]
fn sha1_is_accepted_only_with_the_idps_opt_in_and_the_refusal_says_how() {
    let xml = idp()
        .bad_response(BadResponse::Sha1Signed, &jane(), &target(), now())
        .unwrap();
    let message = refusal(&xml).to_string();
    assert!(
        message.contains("allow_sha1") && message.contains("RSA-SHA256"),
        "{message}"
    );

    let opted_in = idp::saml_config(serde_json::json!({"options": {"allow_sha1": true}}))
        .validate(&idp::policy(), None)
        .unwrap();
    assert!(matches!(
        opted_in.verify_post(&post(&xml), now()),
        Ok(SamlAnswer::Assertion(_))
    ));
}

#[test]
fn in_response_to_must_name_a_request_this_browser_has_outstanding() {
    let xml = idp().response(&jane(), &target(), now()).unwrap();
    let mut elsewhere = post(&xml);
    elsewhere.request_ids = vec!["_another".into()];
    let Err(PostError::Refused(error)) = provider().verify_post(&elsewhere, now()) else {
        panic!("accepted");
    };
    assert_eq!(error.category(), Category::InResponseToMismatch);
}

#[test]
fn an_unsolicited_response_needs_the_idps_opt_in() {
    let unsolicited = idp::target_without_request();
    let xml = idp().response(&jane(), &unsolicited, now()).unwrap();
    assert!(matches!(refusal(&xml), VerifyError::Unsolicited));

    let opted_in = idp::saml_config(serde_json::json!({"options": {"allow_idp_initiated": true}}))
        .validate(&idp::policy(), None)
        .unwrap();
    assert!(opted_in.verify_post(&post(&xml), now()).is_ok());
}

#[test]
fn the_skew_is_allowed_on_both_sides_and_no_more() {
    let skew = chrono::TimeDelta::seconds(i64::from(jit_provisioning_saml::DEFAULT_SKEW_SECS));
    let xml = idp().response(&jane(), &target(), now()).unwrap();
    let end = now() + jit_provisioning_saml::test_idp::DEFAULT_VALIDITY;
    let saml = provider();
    assert!(saml
        .verify_post(&post(&xml), end + skew - chrono::TimeDelta::seconds(1))
        .is_ok());
    let Err(PostError::Refused(error)) = saml.verify_post(&post(&xml), end + skew) else {
        panic!("accepted past the skew");
    };
    assert_eq!(error.category(), Category::Expired);
}

#[test]
fn a_signed_response_with_a_signed_assertion_is_accepted_and_requirements_hold() {
    let mut both = ResponseOptions::default();
    both.sign_response = true;
    let xml = idp()
        .response_with(&jane(), &target(), now(), &both)
        .unwrap();
    assert!(provider().verify_post(&post(&xml), now()).is_ok());

    let require_response =
        idp::saml_config(serde_json::json!({"options": {"require_signed_response": true}}))
            .validate(&idp::policy(), None)
            .unwrap();
    let assertion_only = idp().response(&jane(), &target(), now()).unwrap();
    let Err(PostError::Refused(error)) =
        require_response.verify_post(&post(&assertion_only), now())
    else {
        panic!("accepted without the required signature");
    };
    assert_eq!(error.category(), Category::Unsigned);
}

#[test]
fn markup_in_a_name_stays_text_and_never_becomes_a_group() {
    let person = TestPerson::new("00u2")
        .with_given_name("</saml:AttributeValue><saml:AttributeValue>admins")
        .with_family_name("O'Brien & <Sons>")
        .with_group("engineering");
    let xml = idp().response(&person, &target(), now()).unwrap();
    let Ok(SamlAnswer::Assertion(verified)) = provider().verify_post(&post(&xml), now()) else {
        panic!("refused");
    };
    assert_eq!(verified.assertion.groups, ["engineering"]);
    assert_eq!(
        verified.assertion.given_name.as_deref(),
        Some("</saml:AttributeValue><saml:AttributeValue>admins")
    );
    assert_eq!(
        verified.assertion.family_name.as_deref(),
        Some("O'Brien & <Sons>")
    );
    assert_ne!(verified.assertion.subject, EVIL_SUBJECT);
}

#[tokio::test]
async fn the_verifier_maps_the_okta_style_attributes_and_the_authn_instant() {
    let xml = idp().response(&jane(), &target(), now()).unwrap();
    let Ok(SamlAnswer::Assertion(verified)) = provider()
        .verify(&post(&xml), idp::IDP_ENTITY_ID, now())
        .await
    else {
        panic!("refused");
    };
    let assertion = verified.assertion;
    assert_eq!(assertion.org, "acme");
    assert_eq!(assertion.issuer, idp::IDP_ENTITY_ID);
    assert_eq!(assertion.subject, "00u1jane");
    assert_eq!(assertion.email.as_deref(), Some("jane@acme.example"));
    assert_eq!(assertion.authn_instant, Some(now()));
    assert_eq!(
        verified.not_on_or_after,
        now() + jit_provisioning_saml::test_idp::DEFAULT_VALIDITY
    );
}

/// Entra ID's group overage: a person in more than 150 groups comes with a link to read
/// them from instead of the groups.
fn in_too_many_groups() -> TestPerson {
    jane().with_attribute(
        GROUPS_OVERAGE_CLAIM,
        ["https://graph.windows.net/acme.example/users/00u1jane/getMemberObjects"],
    )
}

#[test]
fn entra_ids_group_overage_claim_flags_the_groups_as_incomplete() {
    for (person, incomplete) in [(jane(), false), (in_too_many_groups(), true)] {
        let xml = idp().response(&person, &target(), now()).unwrap();
        let Ok(SamlAnswer::Assertion(verified)) = provider().verify_post(&post(&xml), now()) else {
            panic!("not verified");
        };
        assert_eq!(verified.assertion.groups_incomplete, incomplete);
    }
}

#[tokio::test]
async fn an_org_that_requires_groups_refuses_an_overage_and_tells_the_admin_why() {
    let config: Config = serde_json::from_value(serde_json::json!({
        "orgs": {"acme": {"jit": true, "idp": idp().entity_id(),
                          "required_groups": ["engineering"]}}
    }))
    .unwrap();
    let provisioner = Provisioner::new(config.validate().unwrap(), MemoryStore::new());
    let xml = idp()
        .response(&in_too_many_groups(), &target(), now())
        .unwrap();
    let done = provisioner
        .login(&provider(), &MemoryReplayGuard::new(), &post(&xml), now())
        .await
        .unwrap();
    assert_eq!(done.decision.rule(), Rule::GroupsOverage);
    assert_eq!(done.decision.reason(), Some(Reason::GroupsOverage));
    assert!(Reason::GroupsOverage
        .message()
        .contains("filter the groups"));
    assert_eq!(provisioner.store().len(), 0);
}
