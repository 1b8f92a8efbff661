//! The SAML boundary: turning what an IdP posted into a verified [`Assertion`] and
//! building the request that sends a person to the IdP.
//!
//! This crate parses no XML and checks no signature. A SAML adapter (over a SAML library)
//! implements [`SamlVerifier`]; the [`Provisioner`](crate::Provisioner) calls it from
//! [`Provisioner::login`](crate::Provisioner::login) and keeps verified assertions from
//! being replayed with a [`ReplayGuard`](crate::ReplayGuard).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::request::{Assertion, IdpError};
use crate::store::BoxError;

/// What an IdP posted to an org's assertion consumer service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SamlPost {
    /// The org whose portal received it.
    pub org: String,
    /// The `SAMLResponse` form field, as posted (base64).
    pub saml_response: String,
    /// The `RelayState` form field, if any: the `return_to` the trip started with.
    pub relay_state: Option<String>,
    /// The ids of the AuthnRequests this browser still has outstanding, from its session
    /// (see [`IdpRedirect::request_id`]); empty when it has none. A response's
    /// `InResponseTo` must name one of them, and a response without `InResponseTo`
    /// (IdP-initiated sign-in) is accepted only where the org allows it.
    pub request_ids: Vec<String>,
}

impl SamlPost {
    /// What was posted to `org`'s ACS: the `SAMLResponse` field, with no `RelayState`
    /// and no outstanding request.
    pub fn new(org: impl Into<String>, saml_response: impl Into<String>) -> Self {
        Self {
            org: org.into(),
            saml_response: saml_response.into(),
            relay_state: None,
            request_ids: Vec::new(),
        }
    }

    /// This post, with its `RelayState` field.
    pub fn with_relay_state(mut self, relay_state: impl Into<String>) -> Self {
        self.relay_state = Some(relay_state.into());
        self
    }

    /// This post, from a browser whose session holds the AuthnRequest ids `request_ids`.
    pub fn with_request_ids<I, R>(mut self, request_ids: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        self.request_ids = request_ids.into_iter().map(Into::into).collect();
        self
    }
}

/// A verified answer from the IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamlAnswer {
    /// An assertion whose signature, audience, recipient and validity window were checked.
    Assertion(VerifiedAssertion),
    /// A response carrying a status code instead of an assertion.
    Status(IdpError),
}

/// An assertion that passed the SAML layer's checks, with what replay protection needs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedAssertion {
    /// The assertion's content, mapped from the IdP's attribute names.
    pub assertion: Assertion,
    /// The assertion's `ID` attribute, unique per assertion at its issuer.
    pub id: String,
    /// The end of the assertion's validity (`NotOnOrAfter`): until then a replay must be
    /// caught.
    pub not_on_or_after: DateTime<Utc>,
}

impl VerifiedAssertion {
    /// `assertion`, verified, with its `ID` and the end of its validity.
    pub fn new(
        assertion: Assertion,
        id: impl Into<String>,
        not_on_or_after: DateTime<Utc>,
    ) -> Self {
        Self {
            assertion,
            id: id.into(),
            not_on_or_after,
        }
    }
}

/// Why a SAML response could not be verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The response is not well-formed SAML.
    #[error("the SAML response is malformed: {0}")]
    Malformed(String),
    /// The signature is missing, wrong, or by a key the org's IdP does not use.
    #[error("the SAML response's signature does not verify")]
    BadSignature,
    /// The assertion is outside its validity window, or for another audience or recipient.
    #[error("the SAML assertion is not valid here and now: {0}")]
    NotValid(String),
    /// The SAML layer refused the response. `category` is a stable code for logs and
    /// metrics (`bad_signature`, `expired`, `wrong_audience`, …); the source is the
    /// adapter's own typed error, with what a person needs to fix it.
    #[error("the SAML response was refused ({category}): {source}")]
    Refused {
        /// A stable, snake_case name of the check that failed.
        category: &'static str,
        /// The adapter's error.
        #[source]
        source: BoxError,
    },
    /// The verifier itself failed (metadata unavailable, …).
    #[error("the SAML verifier failed")]
    Backend(#[source] BoxError),
}

/// The trip to the IdP that a `redirect_to_idp` decision asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdpTrip {
    /// The org whose IdP it is.
    pub org: String,
    /// The IdP's entity id.
    pub idp: String,
    /// Ask the IdP to re-authenticate the person.
    pub force_authn: bool,
    /// The `RelayState` to send: the validated path the person lands on once back, if
    /// any. Without one the assertion's decision picks the default landing.
    pub relay_state: Option<String>,
}

/// How to send the browser to the IdP, and the AuthnRequest id to expect back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdpRedirect {
    /// The AuthnRequest's `ID`. Keep it in the browser's session until the response comes
    /// back (as [`SamlPost::request_ids`]) or expires: the response's `InResponseTo` must
    /// name it.
    pub request_id: String,
    /// When the request was issued; outstanding ids older than the IdP's login timeout
    /// can be dropped.
    pub issued_at: DateTime<Utc>,
    /// How the browser carries the request.
    pub binding: IdpBinding,
}

impl IdpTrip {
    /// A trip to `idp`, the IdP of `org`, without `ForceAuthn` or `RelayState`.
    pub fn new(org: impl Into<String>, idp: impl Into<String>) -> Self {
        Self {
            org: org.into(),
            idp: idp.into(),
            force_authn: false,
            relay_state: None,
        }
    }
}

impl IdpRedirect {
    /// The AuthnRequest `request_id`, issued at `issued_at`, carried by `binding`.
    pub fn new(
        request_id: impl Into<String>,
        issued_at: DateTime<Utc>,
        binding: IdpBinding,
    ) -> Self {
        Self {
            request_id: request_id.into(),
            issued_at,
            binding,
        }
    }
}

/// How the browser carries an AuthnRequest to the IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdpBinding {
    /// HTTP-Redirect binding: a `302` to this URL.
    Redirect {
        /// The full URL, with `SAMLRequest`, `RelayState` and signature parameters.
        url: String,
    },
    /// HTTP-POST binding: an auto-submitting form.
    Post {
        /// The form's action.
        url: String,
        /// The form's fields (`SAMLRequest`, `RelayState`), unescaped: the page that
        /// renders the form must escape them.
        fields: Vec<(String, String)>,
    },
}

/// A SAML implementation: verifies responses and builds authentication requests.
#[async_trait]
pub trait SamlVerifier: Send + Sync {
    /// Verifies what the IdP posted for `post.org`, whose IdP is `idp`, at `now`.
    ///
    /// The org that decides is always `post.org`: the provisioner overwrites whatever
    /// org the returned assertion names.
    async fn verify(
        &self,
        post: &SamlPost,
        idp: &str,
        now: DateTime<Utc>,
    ) -> Result<SamlAnswer, VerifyError>;

    /// Builds the authentication request for a trip to the IdP, issued at `now`, with a
    /// fresh id that the response must carry back as `InResponseTo`.
    async fn authn_request(
        &self,
        trip: &IdpTrip,
        now: DateTime<Utc>,
    ) -> Result<IdpRedirect, VerifyError>;
}
