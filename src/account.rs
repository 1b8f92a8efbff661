//! Accounts as the engine sees them: ids, SSO identities and what the store holds.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::role::{Grant, Role};

/// The store's id for an account.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub String);

impl AccountId {
    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for AccountId {
    fn from(id: &str) -> Self {
        AccountId(id.to_owned())
    }
}

impl From<String> for AccountId {
    fn from(id: String) -> Self {
        AccountId(id)
    }
}

/// An SSO identity: the IdP's entity id and the subject (NameID) it asserts.
///
/// The same subject from another issuer is another person.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Identity {
    /// The IdP's entity id.
    pub issuer: String,
    /// The subject the IdP asserts.
    pub subject: String,
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` from `{}`", self.subject, self.issuer)
    }
}

/// What the store holds about one account: everything a decision may need.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// The store's id.
    pub id: AccountId,
    /// The account's handle, unique case-insensitively.
    pub handle: String,
    /// The account's email, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The person's given name, as the IdP sent it at creation (cleaned by
    /// [`display_name`](crate::display_name)), if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// The person's family name, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// SSO identities linked to the account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<Identity>,
    /// Org id → role held there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub memberships: BTreeMap<String, Role>,
    /// A disabled account may not sign in.
    #[serde(default)]
    pub disabled: bool,
    /// Whether the account can sign in with a password; JIT accounts cannot.
    #[serde(default = "has_password_by_default")]
    pub has_password: bool,
}

fn has_password_by_default() -> bool {
    true
}

impl AccountRecord {
    /// Whether the account is a member of `org`, with any role.
    pub fn is_member_of(&self, org: &str) -> bool {
        self.memberships.contains_key(org)
    }

    /// Whether an identity from `issuer` is already linked to the account.
    pub fn has_identity_from(&self, issuer: &str) -> bool {
        self.identities.iter().any(|id| id.issuer == issuer)
    }

    /// The person's names as one, for showing ([`full_name`](crate::full_name)); `None`
    /// when none was recorded.
    pub fn full_name(&self) -> Option<String> {
        crate::full_name(self.given_name.as_deref(), self.family_name.as_deref())
    }
}

/// An account to create, with everything that must exist together with it.
///
/// It has no password: a JIT account signs in through SSO only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    /// The handle, lower-case.
    pub handle: String,
    /// The email, if the assertion had a usable one.
    pub email: Option<String>,
    /// The person's given name, cleaned by [`display_name`](crate::display_name), if the
    /// assertion had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// The person's family name, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// The SSO identity to link.
    pub identity: Identity,
    /// The memberships to grant.
    pub memberships: Vec<Grant>,
}

impl NewAccount {
    /// The record of this account once a store has created it under `id`: enabled, no
    /// password, its names, its one identity and its memberships.
    pub fn record(&self, id: AccountId) -> AccountRecord {
        AccountRecord {
            id,
            handle: self.handle.clone(),
            email: self.email.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            identities: vec![self.identity.clone()],
            memberships: self
                .memberships
                .iter()
                .map(|grant| (grant.org.clone(), grant.role))
                .collect(),
            disabled: false,
            has_password: false,
        }
    }
}
