//! What the portal keeps in the session, and the session layer it expects.
//!
//! # Cookies and the IdP's POST
//!
//! The IdP posts the response to the ACS from its own site: a cross-site POST. A
//! `SameSite=Lax` cookie is not sent with it, and the session would arrive empty —
//! without the AuthnRequest ids that `InResponseTo` is checked against. So on a real
//! (HTTPS) deployment [`session_layer`] sets `SameSite=None; Secure; HttpOnly`: the cookie
//! travels with the IdP's POST and with nothing over plain HTTP, and scripts never see
//! it. The one state-changing request besides the ACS, logout, is a POST whose `Origin`
//! must be this site. On loopback (`http://127.0.0.1`, `http://localhost`) browsers
//! refuse `SameSite=None` without `Secure`, so the cookie is `SameSite=Lax` without
//! `Secure`: there the IdP must be on the same site, as the demo's test IdP is.
//!
//! At sign-in the session id is replaced (against session fixation) before the account
//! is written into it.

use chrono::{DateTime, Utc};
use jit_provisioning::{AccountId, Outcome, Rule};
use serde::{Deserialize, Serialize};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};

const SIGNED_IN: &str = "jit.signed_in";
const REQUESTS: &str = "jit.requests";
/// The test sign-ins the session waits for (see the SSO set-up page).
const TEST_TRIPS: &str = "jit.sso_tests";
/// The last test sign-in's result, for the page that shows it.
const TEST_RESULT: &str = "jit.sso_test_result";
/// The session's CSRF token (see the admin pages).
pub(crate) const CSRF_TOKEN: &str = "jit.csrf";

/// How many AuthnRequests a session keeps outstanding: enough for a few tabs.
pub const MAX_OUTSTANDING_REQUESTS: usize = 8;
/// How long an AuthnRequest stays answerable, in seconds: the usual IdP login timeout.
pub const REQUEST_LIFETIME_SECS: i64 = 10 * 60;

/// Who is signed in, as the portal wrote it into the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SignedIn {
    /// The account.
    pub account: AccountId,
    /// Its handle.
    pub handle: String,
    /// When the IdP last validated the person (its `AuthnInstant`).
    pub sso_at: Option<DateTime<Utc>>,
    /// The rule that decided the sign-in.
    pub rule: Rule,
    /// What the sign-in did.
    pub outcome: Outcome,
    /// The org whose portal signed in a person who is not its member (the seed's
    /// "logged in, but redirected to their individual homepage"): the page they land
    /// on, their own home, says so with [`not_a_member_notice`](crate::not_a_member_notice).
    /// `None` for a member. Sessions written before this field read as `None`.
    #[serde(default)]
    pub not_a_member_of: Option<String>,
    /// The org whose portal signed the person in (through that org's IdP), member or
    /// not. The admin pages of an org are open only to a session signed in through its
    /// own SSO. Sessions written before this field read as `None`.
    #[serde(default)]
    pub org: Option<String>,
}

impl SignedIn {
    /// `account` (`handle`), signed in by `rule` with `outcome`; validated by the IdP at
    /// no known time, and a member (or no org asked).
    pub fn new(
        account: AccountId,
        handle: impl Into<String>,
        rule: Rule,
        outcome: Outcome,
    ) -> Self {
        Self {
            account,
            handle: handle.into(),
            sso_at: None,
            rule,
            outcome,
            not_a_member_of: None,
            org: None,
        }
    }

    /// The same, validated by the IdP at `sso_at`.
    pub fn with_sso_at(mut self, sso_at: Option<DateTime<Utc>>) -> Self {
        self.sso_at = sso_at;
        self
    }

    /// The same, signed in through the portal (and so the IdP) of `org`.
    pub fn with_org(mut self, org: impl Into<String>) -> Self {
        self.org = Some(org.into());
        self
    }

    /// The same, signed in through the portal of `org`, which the account is not a
    /// member of.
    pub fn with_not_a_member_of(mut self, org: impl Into<String>) -> Self {
        self.not_a_member_of = Some(org.into());
        self
    }
}

/// An AuthnRequest the session waits for an answer to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Outstanding {
    pub id: String,
    pub org: String,
    pub issued_at: DateTime<Utc>,
}

/// Who is signed in, if anyone: for the app's own pages.
pub async fn signed_in(session: &Session) -> Option<SignedIn> {
    session.get::<SignedIn>(SIGNED_IN).await.ok().flatten()
}

pub(crate) async fn sign_in(
    session: &Session,
    signed_in: &SignedIn,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(SIGNED_IN, signed_in).await?;
    session.remove_value(REQUESTS).await?;
    // A token from before the sign-in guards nothing of the account's.
    session.remove_value(CSRF_TOKEN).await?;
    Ok(())
}

/// The request ids `org`'s responses may answer, at `now`.
pub(crate) async fn outstanding(session: &Session, org: &str, now: DateTime<Utc>) -> Vec<String> {
    let requests: Vec<Outstanding> = session
        .get(REQUESTS)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    requests
        .into_iter()
        .filter(|request| request.org == org && !expired(request, now))
        .map(|request| request.id)
        .collect()
}

fn expired(request: &Outstanding, now: DateTime<Utc>) -> bool {
    now.signed_duration_since(request.issued_at).num_seconds() >= REQUEST_LIFETIME_SECS
}

pub(crate) async fn expect_answer(
    session: &Session,
    request: Outstanding,
) -> Result<(), tower_sessions::session::Error> {
    let now = request.issued_at;
    let mut requests: Vec<Outstanding> = session.get(REQUESTS).await?.unwrap_or_default();
    requests.retain(|kept| !expired(kept, now));
    requests.push(request);
    let excess = requests.len().saturating_sub(MAX_OUTSTANDING_REQUESTS);
    requests.drain(..excess);
    session.insert(REQUESTS, requests).await
}

/// A test sign-in the session waits for the IdP's answer to: an AuthnRequest an org
/// admin sent from the SSO set-up page. Kept apart from the sign-ins' requests, so that
/// its answer can never sign anyone in, and only its answer is taken for a test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TestTrip {
    /// The AuthnRequest's id.
    pub id: String,
    pub org: String,
    pub issued_at: DateTime<Utc>,
    /// The fingerprint of the pending trust under test; `None`: the trust in use.
    pub trust: Option<String>,
}

fn trip_expired(trip: &TestTrip, now: DateTime<Utc>) -> bool {
    now.signed_duration_since(trip.issued_at).num_seconds() >= REQUEST_LIFETIME_SECS
}

/// Keeps `trip` until its answer comes back, or until it is as old as a sign-in's
/// request may be; at most [`MAX_OUTSTANDING_REQUESTS`] trips.
pub(crate) async fn expect_test(
    session: &Session,
    trip: TestTrip,
) -> Result<(), tower_sessions::session::Error> {
    let now = trip.issued_at;
    let mut trips: Vec<TestTrip> = session.get(TEST_TRIPS).await?.unwrap_or_default();
    trips.retain(|kept| !trip_expired(kept, now));
    trips.push(trip);
    let excess = trips.len().saturating_sub(MAX_OUTSTANDING_REQUESTS);
    trips.drain(..excess);
    session.insert(TEST_TRIPS, trips).await
}

/// Whether the session waits for a test sign-in at `org`.
pub(crate) async fn awaits_test(session: &Session, org: &str, now: DateTime<Utc>) -> bool {
    let trips: Vec<TestTrip> = session
        .get(TEST_TRIPS)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    trips
        .iter()
        .any(|trip| trip.org == org && !trip_expired(trip, now))
}

/// The test trip to `org` whose AuthnRequest is `id`, taken out of the session: an
/// answer is taken once.
pub(crate) async fn take_test_trip(
    session: &Session,
    org: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<TestTrip>, tower_sessions::session::Error> {
    let mut trips: Vec<TestTrip> = session.get(TEST_TRIPS).await?.unwrap_or_default();
    let Some(at) = trips
        .iter()
        .position(|trip| trip.org == org && trip.id == id && !trip_expired(trip, now))
    else {
        return Ok(None);
    };
    let trip = trips.remove(at);
    session.insert(TEST_TRIPS, trips).await?;
    Ok(Some(trip))
}

/// Keeps the last test sign-in's result of `org`.
pub(crate) async fn keep_test_result<T: Serialize>(
    session: &Session,
    org: &str,
    result: &T,
) -> Result<(), tower_sessions::session::Error> {
    session.insert(TEST_RESULT, (org, result)).await
}

/// The last test sign-in's result of `org`, if the session has one.
pub(crate) async fn test_result<T: serde::de::DeserializeOwned>(
    session: &Session,
    org: &str,
) -> Option<T> {
    let (for_org, result) = session
        .get::<(String, T)>(TEST_RESULT)
        .await
        .ok()
        .flatten()?;
    (for_org == org).then_some(result)
}

/// Whether `base_url` is served on loopback, where cookies cannot be `Secure`.
pub fn is_loopback(base_url: &str) -> bool {
    let host = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    let host = if host.starts_with('[') {
        host.split(']')
            .next()
            .map_or(host, |inner| inner.trim_start_matches('['))
    } else {
        host.split(':').next().unwrap_or(host)
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// The session layer the portal expects, for a site served at `base_url`: see the
/// module documentation for the cookie's attributes. Sessions expire after 8 hours
/// without a request.
pub fn session_layer<S: SessionStore + Clone>(store: S, base_url: &str) -> SessionManagerLayer<S> {
    let loopback = is_loopback(base_url);
    SessionManagerLayer::new(store)
        .with_name("jit_session")
        .with_http_only(true)
        .with_secure(!loopback)
        .with_same_site(if loopback {
            SameSite::Lax
        } else {
            SameSite::None
        })
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::hours(8),
        ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_session_written_before_the_org_was_recorded_reads_as_none() {
        let old = serde_json::json!({
            "account": "a1",
            "handle": "jane-doe",
            "sso_at": null,
            "rule": "linked_member",
            "outcome": "signed_in"
        });
        let signed_in: SignedIn = serde_json::from_value(old).unwrap();
        assert_eq!(signed_in.org, None);
        assert_eq!(signed_in.not_a_member_of, None);
        let new = signed_in.with_org("acme");
        let back: SignedIn = serde_json::from_value(serde_json::to_value(&new).unwrap()).unwrap();
        assert_eq!(back.org.as_deref(), Some("acme"));
    }
}
