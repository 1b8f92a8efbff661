//! What arrives at an org's SSO login portal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{AccountId, Identity};

/// The SAML status an IdP sends when the person is not assigned to the app.
pub const STATUS_REQUEST_DENIED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";

/// One event at an org's login portal. Serialized as in policy case files:
/// `{"portal_visit": {…}}`, `{"assertion": {…}}` or `{"idp_error": {…}}`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Someone opened the org's login portal.
    PortalVisit(PortalVisit),
    /// A verified SAML assertion came back to the portal.
    Assertion(Assertion),
    /// The IdP answered with a SAML status code instead of an assertion.
    IdpError(IdpError),
}

impl Request {
    /// The org whose portal the request came to.
    pub fn org(&self) -> &str {
        match self {
            Request::PortalVisit(visit) => &visit.org,
            Request::Assertion(assertion) => &assertion.org,
            Request::IdpError(error) => &error.org,
        }
    }
}

/// Someone opened the org's login portal.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalVisit {
    /// The org whose portal was opened.
    pub org: String,
    /// Who is signed in here already, if anyone.
    #[serde(default)]
    pub session: Option<Session>,
    /// Where the person was headed; honoured only when it is a path on this site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
}

/// An existing session on this site.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// The signed-in account.
    pub account: AccountId,
    /// When the IdP last validated the person; `None` if never.
    #[serde(default)]
    pub sso_at: Option<DateTime<Utc>>,
}

/// A SAML assertion whose signature, audience and conditions the SAML layer has verified.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    /// The org whose portal received it.
    pub org: String,
    /// The IdP's entity id.
    pub issuer: String,
    /// The subject (NameID).
    pub subject: String,
    /// Given name attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Email attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Group attribute values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The IdP sent only part of the person's groups, or none of them: Entra ID sends a
    /// `groups.link` claim instead of the groups when a person is in more than 150. An
    /// org that decides by groups then refuses with [`Rule::GroupsOverage`] rather than
    /// guess.
    ///
    /// [`Rule::GroupsOverage`]: crate::Rule::GroupsOverage
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub groups_incomplete: bool,
    /// When the IdP authenticated the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authn_instant: Option<DateTime<Utc>>,
    /// Where the person was headed (the relay state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
}

impl Assertion {
    /// The SSO identity the assertion speaks for.
    pub fn identity(&self) -> Identity {
        Identity {
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
        }
    }
}

/// The IdP answered with a status code instead of an assertion.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpError {
    /// The org whose portal received it.
    pub org: String,
    /// The top-level SAML status code.
    pub status: String,
    /// The second-level status code, where the IdP nests the real reason
    /// (many send `Responder` with `RequestDenied` inside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_status: Option<String>,
}

impl IdpError {
    /// Whether the IdP says the person is not assigned to the app.
    pub fn is_request_denied(&self) -> bool {
        self.status.trim() == STATUS_REQUEST_DENIED
            || self
                .sub_status
                .as_deref()
                .is_some_and(|status| status.trim() == STATUS_REQUEST_DENIED)
    }
}
