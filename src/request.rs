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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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

impl PortalVisit {
    /// A visit to `org`'s portal by someone not signed in, headed nowhere in particular.
    pub fn new(org: impl Into<String>) -> Self {
        Self {
            org: org.into(),
            session: None,
            return_to: None,
        }
    }

    /// This visit, by the signed-in `session`.
    pub fn with_session(mut self, session: Session) -> Self {
        self.session = Some(session);
        self
    }

    /// This visit, headed to `return_to`.
    pub fn with_return_to(mut self, return_to: impl Into<String>) -> Self {
        self.return_to = Some(return_to.into());
        self
    }
}

impl Session {
    /// `account`'s session, which the IdP last validated at `sso_at` (`None`: never).
    pub fn new(account: impl Into<AccountId>, sso_at: Option<DateTime<Utc>>) -> Self {
        Self {
            account: account.into(),
            sso_at,
        }
    }
}

impl Assertion {
    /// An assertion about `subject` from `issuer`, received at `org`'s portal, with no
    /// attributes yet: set the others with the `with_` methods or on the fields.
    pub fn new(
        org: impl Into<String>,
        issuer: impl Into<String>,
        subject: impl Into<String>,
    ) -> Self {
        Self {
            org: org.into(),
            issuer: issuer.into(),
            subject: subject.into(),
            ..Self::default()
        }
    }

    /// This assertion, with the person's given and family names.
    pub fn with_names(
        mut self,
        given_name: impl Into<String>,
        family_name: impl Into<String>,
    ) -> Self {
        self.given_name = Some(given_name.into());
        self.family_name = Some(family_name.into());
        self
    }

    /// This assertion, with the person's email.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// This assertion, with the person's groups.
    pub fn with_groups<I, G>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = G>,
        G: Into<String>,
    {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// This assertion, made when the IdP authenticated the person at `instant`.
    pub fn with_authn_instant(mut self, instant: DateTime<Utc>) -> Self {
        self.authn_instant = Some(instant);
        self
    }

    /// This assertion, with the relay state `return_to`.
    pub fn with_return_to(mut self, return_to: impl Into<String>) -> Self {
        self.return_to = Some(return_to.into());
        self
    }

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
#[non_exhaustive]
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

impl IdpError {
    /// `org`'s IdP answered with the top-level status `status`.
    pub fn new(org: impl Into<String>, status: impl Into<String>) -> Self {
        Self {
            org: org.into(),
            status: status.into(),
            sub_status: None,
        }
    }

    /// This answer, with the second-level status `sub_status`.
    pub fn with_sub_status(mut self, sub_status: impl Into<String>) -> Self {
        self.sub_status = Some(sub_status.into());
        self
    }
}
