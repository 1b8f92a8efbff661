//! Accounts as the engine sees them: ids, SSO identities and what the store holds.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::handle_choice::HandleChoice;
use crate::invite::Invite;
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
#[non_exhaustive]
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
    /// The account `id` with `handle`, as a store reads it: enabled, with a password (an
    /// account made before SSO), no email, names, identities or memberships. Set the
    /// rest with the `with_` methods or on the fields.
    pub fn new(id: impl Into<AccountId>, handle: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            handle: handle.into(),
            email: None,
            given_name: None,
            family_name: None,
            identities: Vec::new(),
            memberships: BTreeMap::new(),
            disabled: false,
            has_password: true,
        }
    }

    /// This account, with `email`.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// This account, with `identity` linked.
    pub fn with_identity(mut self, identity: Identity) -> Self {
        self.identities.push(identity);
        self
    }

    /// This account, a member of `org` as `role`.
    pub fn with_membership(mut self, org: impl Into<String>, role: Role) -> Self {
        self.memberships.insert(org.into(), role);
        self
    }

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
#[non_exhaustive]
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
    /// How `handle` was chosen, so that a store that finds it taken can pick the next
    /// free one itself ([`NewAccount::free_handle`]); `None` for a handle that must be
    /// created as it is or not at all. The engine always sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle_choice: Option<HandleChoice>,
    /// The org admin's invite this creation accepts: its role is among `memberships`,
    /// and the provisioner uses the invite up once the account exists. A store that is
    /// also a [`MembershipStore`](crate::MembershipStore) records that the account joined
    /// the invite's org by invite; other stores ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<Box<Invite>>,
}

impl NewAccount {
    /// An account to create under exactly `handle` (no [`handle_choice`]), linked to
    /// `identity`, with no email, names or memberships: set those on the fields.
    ///
    /// [`handle_choice`]: NewAccount::handle_choice
    pub fn new(handle: impl Into<String>, identity: Identity) -> Self {
        Self {
            handle: handle.into(),
            email: None,
            given_name: None,
            family_name: None,
            identity,
            memberships: Vec::new(),
            handle_choice: None,
            invite: None,
        }
    }

    /// The stems whose taken handles [`NewAccount::free_handle`] needs
    /// ([`HandleChoice::stems`]); empty when the handle is fixed (no
    /// [`handle_choice`](NewAccount::handle_choice)).
    pub fn stems(&self) -> Vec<String> {
        self.handle_choice
            .as_ref()
            .map(HandleChoice::stems)
            .unwrap_or_default()
    }

    /// The handle to create the account under when the store holds `taken_in_store`
    /// (at least every handle under [`NewAccount::stems`], compared case-insensitively):
    /// the lowest free one by the engine's own rule ([`HandleChoice::free_handle`]). For
    /// a fixed handle, the handle itself when it is free. `None` when nothing is free:
    /// the store then reports [`CreateError::HandleTaken`](crate::CreateError::HandleTaken).
    ///
    /// ```
    /// use jit_provisioning::{HandleBase, HandleChoice, NewAccount};
    ///
    /// let mut account: NewAccount = serde_json::from_str(
    ///     r#"{"handle": "jane-doe", "email": null,
    ///         "identity": {"issuer": "https://idp", "subject": "00u2"}, "memberships": []}"#,
    /// ).unwrap();
    /// let in_store = vec!["jane-doe".to_owned()];
    /// // Fixed: created as it is, or not at all.
    /// assert_eq!(account.free_handle(&in_store), None);
    ///
    /// let base = HandleBase::derive(Some("Jane"), Some("Doe"), None);
    /// account.handle_choice = Some(HandleChoice::new(base, 39, Vec::new()));
    /// assert_eq!(account.stems(), ["jane-doe"]);
    /// assert_eq!(account.free_handle(&in_store).as_deref(), Some("jane-doe-2"));
    /// ```
    pub fn free_handle(&self, taken_in_store: &[String]) -> Option<String> {
        match &self.handle_choice {
            Some(choice) => choice.free_handle(taken_in_store),
            None => {
                let taken = crate::handles::TakenHandles::new(taken_in_store);
                (!taken.contains(&self.handle.to_lowercase())).then(|| self.handle.clone())
            }
        }
    }

    /// The same account under another handle, as a store creates it when the proposed
    /// handle was taken.
    pub fn with_handle(&self, handle: String) -> NewAccount {
        NewAccount {
            handle,
            ..self.clone()
        }
    }

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
