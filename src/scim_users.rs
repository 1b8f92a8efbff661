//! The storage side of SCIM users: the people an org's IdP provisions ahead of their
//! first sign-in and deprovisions when they leave. Framework- and protocol-neutral: the
//! SCIM wire format lives in `jit-provisioning-scim`, which drives a [`ScimUsers`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{AccountId, Identity, NewAccount};
use crate::config::Policy;
use crate::email::usable_email;
use crate::handle::HandleBase;
use crate::handle_choice::HandleChoice;
use crate::reserved;
use crate::store::{BoxError, StoreError};

/// One SCIM user of an org, as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProvisionedUser {
    /// The org whose IdP provisioned the person.
    pub org: String,
    /// The SCIM id, given by the store; unique within the org.
    pub id: String,
    /// The account the person signs in to.
    pub account: AccountId,
    /// The IdP's `userName`, unique in the org case-insensitively.
    pub user_name: String,
    /// The IdP's `externalId`, unique in the org when set.
    pub external_id: Option<String>,
    /// Whether the person may use the org (SCIM `active`).
    pub active: bool,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Emails, the primary first.
    pub emails: Vec<String>,
    /// The SCIM resource as the IdP last wrote it, JSON, kept as it is: the attributes
    /// the fields above do not hold (an email's type, the enterprise extension…) read back
    /// as they were written. The fields above win where the two overlap.
    pub resource: Option<String>,
    /// The SSO identity the record pre-links: the org's IdP entity id and the value of
    /// the org's NameID field (`userName` or `externalId`).
    pub identity: Identity,
    /// When the IdP created it.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Rises with every change: the SCIM `meta.version` (ETag).
    pub version: u64,
}

/// A SCIM user to create, with the account made for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewProvisionedUser {
    /// The IdP's `userName`.
    pub user_name: String,
    /// The IdP's `externalId`.
    pub external_id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Emails, the primary first.
    pub emails: Vec<String>,
    /// The SCIM resource as written, JSON (see [`ProvisionedUser::resource`]).
    pub resource: Option<String>,
    /// The account to create, built by the engine's handle rule ([`scim_account`]): its
    /// identity, names, email and the org's `provision` grants.
    pub account: NewAccount,
}

impl NewProvisionedUser {
    /// The SCIM user `user_name`, signing in to `account`; no externalId, display name
    /// or emails (set them on the fields).
    pub fn new(user_name: impl Into<String>, account: NewAccount) -> Self {
        Self {
            user_name: user_name.into(),
            external_id: None,
            display_name: None,
            emails: Vec::new(),
            resource: None,
            account,
        }
    }
}

/// What a SCIM replace (PUT, or a PATCH applied) sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProvisionedUserChange {
    /// The IdP's `userName`.
    pub user_name: String,
    /// The IdP's `externalId`.
    pub external_id: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Emails, the primary first.
    pub emails: Vec<String>,
    /// The SCIM resource as written, JSON (see [`ProvisionedUser::resource`]).
    pub resource: Option<String>,
    /// The identity the user pre-links; when it differs from the one held (the org's
    /// NameID field changed), the account is relinked to it.
    pub identity: Identity,
}

impl ProvisionedUserChange {
    /// `user_name` pre-linking `identity`, nothing else set.
    pub fn new(user_name: impl Into<String>, identity: Identity) -> Self {
        Self {
            user_name: user_name.into(),
            external_id: None,
            given_name: None,
            family_name: None,
            display_name: None,
            emails: Vec::new(),
            resource: None,
            identity,
        }
    }
}

/// Which users of an org [`ScimUsers::users`] lists: SCIM's `eq` filters on the
/// attributes IdPs look people up by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum UserFilter {
    /// Every user.
    All,
    /// `userName eq`, case-insensitively.
    UserName(String),
    /// `externalId eq`, exactly.
    ExternalId(String),
    /// Any of the user's emails, by [`email_key`](crate::email_key).
    Email(String),
}

/// What ending a person's access did, so that the caller can revoke their sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Deprovisioning {
    /// The account.
    pub account: AccountId,
    /// Whether the org's membership was removed.
    pub membership_removed: bool,
    /// Whether the account was disabled (the org owned it).
    pub account_disabled: bool,
}

impl Deprovisioning {
    /// What deprovisioning `account` did.
    pub fn new(account: AccountId, membership_removed: bool, account_disabled: bool) -> Self {
        Self {
            account,
            membership_removed,
            account_disabled,
        }
    }
}

/// Why a [`ScimUsers`] call changed nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScimUserError {
    /// The org has no SCIM user with that id.
    #[error("no scim user `{0}`")]
    NotFound(String),
    /// The org has that userName or externalId already, or the identity is linked to
    /// another account (SCIM `uniqueness`).
    #[error("conflict: {0}")]
    Conflict(String),
    /// No account could be made: no free handle under the person's name.
    #[error("no free handle for `{0}`")]
    NoFreeHandle(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where an org's SCIM users live, next to the accounts they sign in to.
///
/// # The contract
///
/// The suite `testing::scim_users_conformance` (feature `testing`) checks each item.
///
/// 1. **Creation is one atomic step.** [`ScimUsers::create_user`] creates the account
///    from the [`NewAccount`] (by the JIT handle rule: a taken handle gives way to the
///    next free one, storage contract item 9; no password; the org's `provision`
///    grants; the identity linked), records the user and marks the memberships joined
///    [`Joined::Scim`](crate::Joined::Scim), or does nothing. The person's first SSO
///    sign-in then finds this account by its identity: never a second account.
/// 2. **Uniqueness.** Within an org, userName (case-insensitively) and externalId are
///    unique among users not deleted, and the identity must not be linked to another
///    account: otherwise [`ScimUserError::Conflict`], also under concurrent creations
///    (of two creations of one userName, one wins).
/// 3. **Reads.** [`ScimUsers::user`] finds a user of its own org only;
///    [`ScimUsers::users`] answers a page (`start` 0-based, at most `count`) of the
///    users the filter matches, in ascending id order (stable paging), with the total.
/// 4. **Replace** sets the names, emails, resource, userName and externalId (uniqueness again),
///    relinking the account to the new identity when it changed, and raises `version`.
/// 5. **Deprovisioning** (`set_active(false)`, delete) removes the org's membership, and
///    disables the account **where the org owns it**: every membership the account has
///    is this org's, made by this org's provisioning (joined `jit` or `scim`). An
///    account that also belongs to another org, or was added by hand or by invite, is
///    not this org's to disable: only the membership goes. Both mark the identity
///    deprovisioned at the org ([`DeprovisionedBy`](crate::DeprovisionedBy)), so that
///    [`DeprovisionedIdentities`](crate::DeprovisionedIdentities) refuses later SAML
///    sign-ins, and answer a [`Deprovisioning`].
/// 6. **Restoring.** `set_active(true)` of a deprovisioned user gives the membership
///    back **with the role it had** (an admin's promotion survives a leave), re-enables
///    the account if deprovisioning disabled it (never one disabled otherwise), and
///    clears the mark.
/// 7. **Deletion keeps a tombstone.** A deleted user is gone from reads, its account
///    stays (disabled or without the membership) and its identity stays deprovisioned
///    until SCIM creates a user of the same identity again, which restores that account
///    as item 6 does, under the new SCIM record.
/// 8. **Errors are values**: an unknown id is [`ScimUserError::NotFound`], a failing
///    backend [`ScimUserError::Store`]; nothing panics.
#[async_trait]
pub trait ScimUsers: Send + Sync {
    /// Creates the account and the SCIM user of `org` together (items 1, 2, 7).
    async fn create_user(
        &self,
        org: &str,
        user: NewProvisionedUser,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedUser, ScimUserError>;

    /// The user `id` of `org`.
    async fn user(&self, org: &str, id: &str) -> Result<Option<ProvisionedUser>, StoreError>;

    /// A page of the users of `org` that `filter` matches, by id, and how many match.
    async fn users(
        &self,
        org: &str,
        filter: &UserFilter,
        start: usize,
        count: usize,
    ) -> Result<(Vec<ProvisionedUser>, usize), StoreError>;

    /// Replaces the user's attributes (item 4).
    async fn replace_user(
        &self,
        org: &str,
        id: &str,
        change: ProvisionedUserChange,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedUser, ScimUserError>;

    /// Deprovisions (`false`, item 5) or restores (`true`, item 6) the user; the user as
    /// it is now and, when it was deprovisioned by this call, what that did. Setting the
    /// state it has already changes nothing.
    async fn set_active(
        &self,
        org: &str,
        id: &str,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<(ProvisionedUser, Option<Deprovisioning>), ScimUserError>;

    /// Deletes the user, deprovisioning it if it was active (items 5, 7).
    async fn delete_user(
        &self,
        org: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Deprovisioning, ScimUserError>;
}

/// The account a SCIM creation makes at `org`, by the engine's own handle rule (the
/// handle base from the names, else the email; the policy's reserved words and org ids
/// kept; the store takes the next free handle), linked to `identity`, with the org's
/// `provision` grants and no password. `None` when `org` is not in `policy` or no handle
/// is free.
///
/// ```
/// use jit_provisioning::{scim_account, Config, Identity};
///
/// let policy = serde_json::from_str::<Config>(
///     r#"{"orgs": {"acme": {"jit": true, "idp": "https://idp",
///                           "provision": [{"org": "acme", "role": "member"}]}}}"#,
/// ).unwrap().validate().unwrap();
/// let identity = Identity { issuer: "https://idp".into(), subject: "jane@acme.example".into() };
/// let account = scim_account(&policy, "acme", identity, Some("Jane"), Some("Doe"), None).unwrap();
/// assert_eq!(account.handle, "jane-doe");
/// assert_eq!(account.memberships.len(), 1);
/// assert!(scim_account(&policy, "globex", account.identity.clone(), None, None, None).is_none());
/// ```
pub fn scim_account(
    policy: &Policy,
    org: &str,
    identity: Identity,
    given_name: Option<&str>,
    family_name: Option<&str>,
    email: Option<&str>,
) -> Option<NewAccount> {
    let org_policy = policy.org(org)?;
    let email = usable_email(email);
    let given = given_name.and_then(crate::display_name);
    let family = family_name.and_then(crate::display_name);
    let base = HandleBase::derive(given.as_deref(), family.as_deref(), email);
    let max_len = policy.max_handle_len();
    let mut kept: Vec<String> = Vec::new();
    for stem in base.stems(max_len) {
        kept.extend(reserved::built_in_under(&stem).map(str::to_owned));
        kept.extend(policy.config_kept_under(&stem).map(str::to_owned));
    }
    let choice = HandleChoice::new(base, max_len, kept);
    let handle = choice.free_handle(&[])?;
    let mut account = NewAccount::new(handle, identity);
    account.email = email.map(str::to_owned);
    account.given_name = given;
    account.family_name = family;
    account.memberships = org_policy.provision().to_vec();
    account.handle_choice = Some(choice);
    Some(account)
}

/// Ends an account's sessions when the org's IdP deprovisions it: what the app
/// implements over its session store (the demo does it with tower-sessions). The SCIM
/// service calls it after every [`Deprovisioning`].
#[async_trait]
pub trait SessionRevoker: Send + Sync {
    /// Ends every session of `account`.
    async fn revoke_sessions(&self, account: &AccountId) -> Result<(), BoxError>;
}

/// A [`SessionRevoker`] for apps without sessions to end (or tests): does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSessionRevoker;

#[async_trait]
impl SessionRevoker for NoSessionRevoker {
    async fn revoke_sessions(&self, _account: &AccountId) -> Result<(), BoxError> {
        Ok(())
    }
}
