//! What an org admin changes: invites and memberships, behind one storage trait.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::account::{AccountId, AccountRecord, Identity};
use crate::invite::{Invite, Member};
use crate::role::{Grant, Role};
use crate::store::StoreError;

/// Invites and the memberships an org admin changes by hand: the storage side of the
/// admin pages and of the rule [`InviteAccepted`](crate::Rule::InviteAccepted).
///
/// The contract, which the `testing` feature's `membership_conformance` pins for every
/// backend:
///
/// 1. [`accept_invite`](Self::accept_invite) is atomic and happens once: the invite is
///    gone and the account holds at least its role, or (the invite was revoked or
///    accepted meanwhile) nothing changed. A role held never falls by an invite.
/// 2. Only open invites (not expired at `now`) are listed or matched.
/// 3. An org never loses its last admin to [`set_role`](Self::set_role) or
///    [`remove_member`](Self::remove_member): the change is refused whole
///    ([`MembershipError::LastAdmin`]), even when two run at once.
/// 4. [`members`](Self::members) says how each member joined: an account the store
///    created ([`AccountStore::create_account`](crate::AccountStore::create_account)) joined
///    its orgs by JIT, but the org of the [`NewAccount::invite`](crate::NewAccount::invite)
///    it was created with by invite; one that accepted an invite by invite; the rest by
///    hand.
#[async_trait]
pub trait MembershipStore: Send + Sync {
    /// Stores `invite` (its `id` is ignored) and returns it with the id the store gave.
    async fn create_invite(&self, invite: &Invite) -> Result<Invite, StoreError>;

    /// The org's open invites at `now`, oldest first.
    async fn open_invites(&self, org: &str, now: DateTime<Utc>) -> Result<Vec<Invite>, StoreError>;

    /// The open invites to `org` that a sign-in as `identity` with `email`, by `account`
    /// (the existing account it signs in, if any), could accept: at least those
    /// [`Invite::is_for`] says yes to.
    async fn invites_for(
        &self,
        org: &str,
        identity: &Identity,
        email: Option<&str>,
        account: Option<&AccountId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invite>, StoreError>;

    /// Revokes one of the org's invites; whether it was there.
    async fn revoke_invite(&self, org: &str, id: &str) -> Result<bool, StoreError>;

    /// Accepts the invite `id` for `account` (item 1 above): the membership it gives,
    /// or `None` when the invite is gone.
    async fn accept_invite(
        &self,
        id: &str,
        account: &AccountId,
    ) -> Result<Option<Grant>, StoreError>;

    /// The account whose handle is `handle`, compared case-insensitively as handles are
    /// unique: how an admin names an existing account to invite.
    async fn account_by_handle(&self, handle: &str) -> Result<Option<AccountRecord>, StoreError>;

    /// The org's members, in order of handle.
    async fn members(&self, org: &str) -> Result<Vec<Member>, StoreError>;

    /// Gives `account` `role` in `org`, higher or lower, adding the membership (joined
    /// by hand) if it had none. Refused if it would leave the org with no admin.
    async fn set_role(
        &self,
        account: &AccountId,
        org: &str,
        role: Role,
    ) -> Result<(), MembershipError>;

    /// Ends `account`'s membership of `org`; whether it was a member. Refused for the
    /// last admin.
    async fn remove_member(&self, account: &AccountId, org: &str) -> Result<bool, MembershipError>;
}

/// A membership change that was refused or failed. Nothing changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MembershipError {
    /// The change would leave the org with no admin.
    #[error("the org would have no admin left: make another member an admin first")]
    LastAdmin,
    /// The account does not exist.
    #[error("there is no account {0}")]
    NoSuchAccount(AccountId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
