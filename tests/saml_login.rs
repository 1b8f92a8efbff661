//! The SAML sign-in path: verification, replay protection and the trip to the IdP,
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! against a scripted verifier standing in for a SAML library.

mod common;

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use jit_provisioning::{
    IdpBinding, IdpError, IdpRedirect, IdpTrip, Landing, LoginError, MemoryReplayGuard,
    MemoryStore, Outcome, PortalVisit, Provisioner, Reason, Request, Rule, SamlAnswer, SamlPost,
    SamlVerifier, VerifiedAssertion, VerifyError, STATUS_REQUEST_DENIED,
};

/// Answers each `verify` with the next scripted answer and records what it was asked.
#[derive(Default)]
struct ScriptedVerifier {
    answers: Mutex<Vec<Result<SamlAnswer, VerifyError>>>,
    asked_idps: Mutex<Vec<String>>,
    trips: Mutex<Vec<IdpTrip>>,
}

impl ScriptedVerifier {
    fn answering(answer: Result<SamlAnswer, VerifyError>) -> Self {
        let verifier = Self::default();
        verifier.answers.lock().unwrap().push(answer);
        verifier
    }
}

#[async_trait]
impl SamlVerifier for ScriptedVerifier {
    async fn verify(
        &self,
        _post: &SamlPost,
        idp: &str,
        _now: DateTime<Utc>,
    ) -> Result<SamlAnswer, VerifyError> {
        self.asked_idps.lock().unwrap().push(idp.to_owned());
        self.answers
            .lock()
            .unwrap()
            .pop()
            .unwrap_or_else(|| Err(VerifyError::Malformed("no scripted answer".into())))
    }

    async fn authn_request(
        &self,
        trip: &IdpTrip,
        now: DateTime<Utc>,
    ) -> Result<IdpRedirect, VerifyError> {
        self.trips.lock().unwrap().push(trip.clone());
        Ok(IdpRedirect::new(
            format!("_req{}", self.trips.lock().unwrap().len()),
            now,
            IdpBinding::Redirect {
                url: format!("{}/sso?force={}", trip.idp, trip.force_authn),
            },
        ))
    }
}

fn verified(id: &str) -> SamlAnswer {
    let Request::Assertion(assertion) = common::jane("00u1") else {
        unreachable!()
    };
    SamlAnswer::Assertion(VerifiedAssertion::new(
        assertion,
        id,
        common::now() + TimeDelta::minutes(5),
    ))
}

fn post(org: &str, relay_state: Option<&str>) -> SamlPost {
    {
        let mut built = SamlPost::new(org, "PHNhbWxwOlJlc3BvbnNlLz4=");
        built.relay_state = relay_state.map(str::to_owned);
        built
    }
}

#[tokio::test]
async fn a_verified_assertion_signs_in_once_and_its_replay_is_refused() {
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    let guard = MemoryReplayGuard::new();

    let saml = ScriptedVerifier::answering(Ok(verified("_a1")));
    let done = provisioner
        .login(
            &saml,
            &guard,
            &post("acme", Some("/orgs/acme/settings")),
            common::now(),
        )
        .await
        .unwrap();
    assert_eq!(done.decision.outcome(), Outcome::AccountCreated);
    assert_eq!(
        done.decision.landing(),
        Some(&Landing::Path("/orgs/acme/settings".into())),
        "RelayState is the return_to"
    );
    assert_eq!(
        *saml.asked_idps.lock().unwrap(),
        [common::IDP],
        "verified against the org's IdP"
    );

    let replay = ScriptedVerifier::answering(Ok(verified("_a1")));
    let done = provisioner
        .login(&replay, &guard, &post("acme", None), common::now())
        .await
        .unwrap();
    assert_eq!(done.decision.rule(), Rule::ReplayedAssertion);
    assert_eq!(done.decision.reason(), Some(Reason::InvalidAssertion));
    assert_eq!(provisioner.store().len(), 1);
}

#[tokio::test]
async fn the_org_that_received_the_post_decides_whatever_org_the_verifier_names() {
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    let SamlAnswer::Assertion(mut elsewhere) = verified("_a1") else {
        unreachable!()
    };
    // `acme-labs` has no portal: decided there, the login would be refused.
    elsewhere.assertion.org = "acme-labs".into();
    let saml = ScriptedVerifier::answering(Ok(SamlAnswer::Assertion(elsewhere)));
    let done = provisioner
        .login(
            &saml,
            &MemoryReplayGuard::new(),
            &post("acme", None),
            common::now(),
        )
        .await
        .unwrap();
    assert_eq!(done.decision.outcome(), Outcome::AccountCreated);
    assert_eq!(
        done.decision.landing(),
        Some(&Landing::OrgHome("acme".into()))
    );
}

#[tokio::test]
async fn an_unsafe_relay_state_falls_back_to_the_org_home() {
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    let saml = ScriptedVerifier::answering(Ok(verified("_a1")));
    let done = provisioner
        .login(
            &saml,
            &MemoryReplayGuard::new(),
            &post("acme", Some("//evil.example")),
            common::now(),
        )
        .await
        .unwrap();
    assert_eq!(
        done.decision.landing(),
        Some(&Landing::OrgHome("acme".into()))
    );
}

#[tokio::test]
async fn an_idp_status_is_decided_like_an_idp_error() {
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    let saml = ScriptedVerifier::answering(Ok(SamlAnswer::Status({
        let mut built = IdpError::new("acme", "urn:oasis:names:tc:SAML:2.0:status:Responder");
        built.sub_status = Some(STATUS_REQUEST_DENIED.into());
        built
    })));
    let done = provisioner
        .login(
            &saml,
            &MemoryReplayGuard::new(),
            &post("acme", None),
            common::now(),
        )
        .await
        .unwrap();
    assert_eq!(done.decision.reason(), Some(Reason::AppNotAssigned));
    assert!(done.decision.message().unwrap().contains("assign"));
}

#[tokio::test]
async fn an_unverifiable_response_is_an_error_and_changes_nothing() {
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    let guard = MemoryReplayGuard::new();
    let saml = ScriptedVerifier::answering(Err(VerifyError::BadSignature));
    let result = provisioner
        .login(&saml, &guard, &post("acme", None), common::now())
        .await;
    assert!(matches!(
        result,
        Err(LoginError::Unverified(VerifyError::BadSignature))
    ));
    assert!(provisioner.store().is_empty());
    assert!(guard.is_empty());
}

#[tokio::test]
async fn an_assertion_refused_on_its_face_does_not_use_up_its_id() {
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    let guard = MemoryReplayGuard::new();
    let SamlAnswer::Assertion(mut forged) = verified("_a1") else {
        unreachable!()
    };
    forged.assertion.issuer = "https://evil.example".into();
    let saml = ScriptedVerifier::answering(Ok(SamlAnswer::Assertion(forged)));
    let done = provisioner
        .login(&saml, &guard, &post("acme", None), common::now())
        .await
        .unwrap();
    assert_eq!(done.decision.reason(), Some(Reason::WrongIssuer));
    assert!(guard.is_empty());
}

#[tokio::test]
async fn a_portal_without_jit_never_reaches_the_verifier() {
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    let saml = ScriptedVerifier::answering(Ok(verified("_a1")));
    let done = provisioner
        .login(
            &saml,
            &MemoryReplayGuard::new(),
            &post("acme-labs", None),
            common::now(),
        )
        .await
        .unwrap();
    assert_eq!(done.decision.outcome(), Outcome::NotFound);
    assert_eq!(done.decision.reason(), Some(Reason::JitDisabled));
    assert!(saml.asked_idps.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_redirect_decision_becomes_an_authn_request_carrying_the_deep_link() {
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    let saml = ScriptedVerifier::default();
    let visit = Request::PortalVisit({
        let mut built = PortalVisit::new("acme");
        built.return_to = Some("/orgs/acme/projects?tab=open".into());
        built
    });
    let done = provisioner.handle(&visit, common::now()).await.unwrap();
    let redirect = provisioner
        .idp_redirect(&saml, &done.decision, common::now())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(redirect.binding, IdpBinding::Redirect { .. }));
    assert_eq!(redirect.request_id, "_req1");
    assert_eq!(redirect.issued_at, common::now());
    let trip = {
        let trips = saml.trips.lock().unwrap();
        assert_eq!(trips.len(), 1);
        trips[0].clone()
    };
    assert_eq!(
        trip.relay_state.as_deref(),
        Some("/orgs/acme/projects?tab=open")
    );
    assert!(!trip.force_authn);

    // Any other decision needs no trip.
    let assertion = common::jane("00u1");
    let created = provisioner.handle(&assertion, common::now()).await.unwrap();
    assert_eq!(
        provisioner
            .idp_redirect(&saml, &created.decision, common::now())
            .await
            .unwrap(),
        None
    );
}
