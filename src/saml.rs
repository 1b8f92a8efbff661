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
pub struct SamlPost {
    /// The org whose portal received it.
    pub org: String,
    /// The `SAMLResponse` form field, as posted (base64).
    pub saml_response: String,
    /// The `RelayState` form field, if any: the `return_to` the trip started with.
    pub relay_state: Option<String>,
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
pub struct VerifiedAssertion {
    /// The assertion's content, mapped from the IdP's attribute names.
    pub assertion: Assertion,
    /// The assertion's `ID` attribute, unique per assertion at its issuer.
    pub id: String,
    /// The end of the assertion's validity (`NotOnOrAfter`): until then a replay must be
    /// caught.
    pub not_on_or_after: DateTime<Utc>,
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
    /// The verifier itself failed (metadata unavailable, …).
    #[error("the SAML verifier failed")]
    Backend(#[source] BoxError),
}

/// The trip to the IdP that a `redirect_to_idp` decision asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// How to send the browser to the IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdpRedirect {
    /// HTTP-Redirect binding: a `302` to this URL.
    Redirect {
        /// The full URL, with `SAMLRequest`, `RelayState` and signature parameters.
        url: String,
    },
    /// HTTP-POST binding: an auto-submitting form.
    Post {
        /// The form's action.
        url: String,
        /// The form's fields (`SAMLRequest`, `RelayState`).
        fields: Vec<(String, String)>,
    },
}

/// A SAML implementation: verifies responses and builds authentication requests.
#[async_trait]
pub trait SamlVerifier: Send + Sync {
    /// Verifies what the IdP posted for `post.org`, whose IdP is `idp`, at `now`.
    async fn verify(
        &self,
        post: &SamlPost,
        idp: &str,
        now: DateTime<Utc>,
    ) -> Result<SamlAnswer, VerifyError>;

    /// Builds the authentication request for a trip to the IdP.
    async fn authn_request(&self, trip: &IdpTrip) -> Result<IdpRedirect, VerifyError>;
}
