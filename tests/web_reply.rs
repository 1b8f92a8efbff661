//! `web::reply`: what each kind of decision asks of the HTTP response.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use jit_provisioning::web::{reply, Reply, RootSitemap};
use jit_provisioning::{
    IdpBinding, IdpRedirect, IdpTrip, MemoryStore, PortalVisit, Provisioner, Reason, Request,
    SamlAnswer, SamlPost, SamlVerifier, Session, VerifyError,
};

/// Builds trips and verifies nothing: `reply` never verifies.
struct Trips;

#[async_trait]
impl SamlVerifier for Trips {
    async fn verify(
        &self,
        _: &SamlPost,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<SamlAnswer, VerifyError> {
        Err(VerifyError::Malformed("not used".into()))
    }

    async fn authn_request(
        &self,
        trip: &IdpTrip,
        now: DateTime<Utc>,
    ) -> Result<IdpRedirect, VerifyError> {
        Ok(IdpRedirect::new(
            "_r1",
            now,
            IdpBinding::Redirect {
                url: format!("{}/sso?force={}", trip.idp, trip.force_authn),
            },
        ))
    }
}

async fn reply_to(provisioner: &Provisioner<MemoryStore>, request: &Request) -> Reply {
    let done = provisioner.handle(request, common::now()).await.unwrap();
    reply(provisioner, &Trips, &done, &RootSitemap, common::now())
        .await
        .unwrap()
}

fn visit(session: Option<Session>) -> Request {
    Request::PortalVisit({
        let mut built = PortalVisit::new("acme");
        built.session = session;
        built
    })
}

#[tokio::test]
async fn a_created_account_signs_in_with_the_idps_authn_instant_and_lands_on_the_org_home() {
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    let validated = common::now() - TimeDelta::seconds(30);
    let Request::Assertion(assertion) = common::jane("00u1") else {
        unreachable!()
    };
    let login = Request::Assertion(assertion.with_authn_instant(validated));
    let Reply::SignIn {
        handle,
        sso_at,
        location,
        ..
    } = reply_to(&provisioner, &login).await
    else {
        panic!("not a sign-in");
    };
    assert_eq!(handle, "jane-doe");
    assert_eq!(
        sso_at,
        Some(validated),
        "the IdP's AuthnInstant, not the time of the post"
    );
    assert_eq!(location, "/acme");
}

#[tokio::test]
async fn a_member_validated_recently_keeps_the_session_and_one_validated_long_ago_goes_to_the_idp()
{
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    let created = provisioner
        .handle(&common::jane("00u1"), common::now())
        .await
        .unwrap();
    let account = created.account.unwrap().id;

    let fresh = visit(Some(Session::new(
        account.clone(),
        Some(common::now() - TimeDelta::minutes(1)),
    )));
    assert_eq!(
        reply_to(&provisioner, &fresh).await,
        Reply::Redirect {
            location: "/acme".into()
        }
    );

    let stale = visit(Some(Session::new(
        account,
        Some(common::now() - TimeDelta::days(30)),
    )));
    let Reply::ToIdp(redirect) = reply_to(&provisioner, &stale).await else {
        panic!("not a trip");
    };
    assert_eq!(redirect.request_id, "_r1");
}

#[tokio::test]
async fn refusals_carry_their_status_and_message() {
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    let unknown = Request::PortalVisit(PortalVisit::new("globex"));
    let Reply::Refusal { status, reason, .. } = reply_to(&provisioner, &unknown).await else {
        panic!("not a refusal");
    };
    assert_eq!((status, reason), (404, Some(Reason::UnknownOrg)));

    let denied = Request::IdpError(jit_provisioning::IdpError::new(
        "acme",
        jit_provisioning::STATUS_REQUEST_DENIED,
    ));
    let Reply::Refusal {
        status, message, ..
    } = reply_to(&provisioner, &denied).await
    else {
        panic!("not a refusal");
    };
    assert_eq!(status, 403);
    assert!(message.contains("admin"), "{message}");
}
