//! The memory store meets the SCIM users' contract, and the suite catches stores that
//! break it: each breach by the check written for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

#[macro_use]
mod common;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jit_provisioning::{
    testing, AccountId, AccountRecord, Deprovisioned, DeprovisionedBy, DeprovisionedIdentities,
    Deprovisioning, Grant, Identity, Invite, Member, MembershipError, MembershipStore, MemoryStore,
    NewProvisionedUser, ProvisionedUser, ProvisionedUserChange, Role, ScimUserError, ScimUsers,
    StoreError, UserFilter,
};

#[tokio::test]
async fn memory_store_meets_the_scim_users_contract() {
    if let Err(error) = testing::scim_users_conformance(|| async { MemoryStore::new() }).await {
        panic!("{error}");
    }
}

/// One way to break the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breach {
    /// Deprovisioned identities are never reported.
    ForgetsTheMark,
    /// A deleted identity is not reported: no tombstone.
    NoTombstone,
    /// Lists ignore `start`.
    NoPaging,
    /// Lists come newest first.
    NewestFirst,
    /// Reactivating gives the membership back as a plain member.
    DefaultRole,
    /// Deactivating says it did nothing.
    ReportsNothing,
    /// A conflict is ignored: the user is made anyway, under a name of its own.
    IgnoresConflicts,
}

/// The memory store, broken as `breach` says.
struct Broken {
    inner: MemoryStore,
    breach: Breach,
}

#[async_trait]
impl ScimUsers for Broken {
    async fn create_user(
        &self,
        org: &str,
        user: NewProvisionedUser,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedUser, ScimUserError> {
        let first = self.inner.create_user(org, user.clone(), now).await;
        match first {
            Err(ScimUserError::Conflict(_)) if self.breach == Breach::IgnoresConflicts => {
                let mut again = user;
                let n = self.inner.len();
                again.user_name = format!("{}~{n}", again.user_name);
                again.external_id = again.external_id.map(|id| format!("{id}~{n}"));
                again.account.identity.subject = format!("{}~{n}", again.account.identity.subject);
                self.inner.create_user(org, again, now).await
            }
            other => other,
        }
    }

    async fn user(&self, org: &str, id: &str) -> Result<Option<ProvisionedUser>, StoreError> {
        self.inner.user(org, id).await
    }

    async fn users(
        &self,
        org: &str,
        filter: &UserFilter,
        start: usize,
        count: usize,
    ) -> Result<(Vec<ProvisionedUser>, usize), StoreError> {
        match self.breach {
            Breach::NoPaging => self.inner.users(org, filter, 0, count).await,
            Breach::NewestFirst => {
                let (mut all, total) = self.inner.users(org, filter, 0, usize::MAX).await?;
                all.reverse();
                Ok((all.into_iter().skip(start).take(count).collect(), total))
            }
            _ => self.inner.users(org, filter, start, count).await,
        }
    }

    async fn replace_user(
        &self,
        org: &str,
        id: &str,
        change: ProvisionedUserChange,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedUser, ScimUserError> {
        self.inner.replace_user(org, id, change, now).await
    }

    async fn set_active(
        &self,
        org: &str,
        id: &str,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<(ProvisionedUser, Option<Deprovisioning>), ScimUserError> {
        let (user, done) = self.inner.set_active(org, id, active, now).await?;
        if active && self.breach == Breach::DefaultRole {
            self.inner
                .set_role(&user.account, org, Role::Member)
                .await
                .map_err(|e| ScimUserError::Conflict(e.to_string()))?;
        }
        if self.breach == Breach::ReportsNothing {
            return Ok((user, None));
        }
        Ok((user, done))
    }

    async fn delete_user(
        &self,
        org: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Deprovisioning, ScimUserError> {
        self.inner.delete_user(org, id, now).await
    }
}

#[async_trait]
impl DeprovisionedIdentities for Broken {
    async fn deprovisioned(
        &self,
        org: &str,
        identity: &Identity,
    ) -> Result<Option<Deprovisioned>, StoreError> {
        let mark = self.inner.deprovisioned(org, identity).await?;
        Ok(match self.breach {
            Breach::ForgetsTheMark => None,
            Breach::NoTombstone => mark.filter(|mark| mark.by != DeprovisionedBy::Deleted),
            _ => mark,
        })
    }
}

forward_account_store!(Broken);

#[async_trait]
impl MembershipStore for Broken {
    async fn create_invite(&self, invite: &Invite) -> Result<Invite, StoreError> {
        self.inner.create_invite(invite).await
    }

    async fn open_invites(&self, org: &str, now: DateTime<Utc>) -> Result<Vec<Invite>, StoreError> {
        self.inner.open_invites(org, now).await
    }

    async fn invites_for(
        &self,
        org: &str,
        identity: &Identity,
        email: Option<&str>,
        account: Option<&AccountId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invite>, StoreError> {
        self.inner
            .invites_for(org, identity, email, account, now)
            .await
    }

    async fn revoke_invite(&self, org: &str, id: &str) -> Result<bool, StoreError> {
        self.inner.revoke_invite(org, id).await
    }

    async fn accept_invite(
        &self,
        id: &str,
        account: &AccountId,
    ) -> Result<Option<Grant>, StoreError> {
        self.inner.accept_invite(id, account).await
    }

    async fn account_by_handle(&self, handle: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.inner.account_by_handle(handle).await
    }

    async fn members(&self, org: &str) -> Result<Vec<Member>, StoreError> {
        self.inner.members(org).await
    }

    async fn set_role(
        &self,
        account: &AccountId,
        org: &str,
        role: Role,
    ) -> Result<(), MembershipError> {
        self.inner.set_role(account, org, role).await
    }

    async fn remove_member(&self, account: &AccountId, org: &str) -> Result<bool, MembershipError> {
        self.inner.remove_member(account, org).await
    }
}

#[tokio::test]
async fn the_suite_catches_each_breach_by_its_check() {
    let cases = [
        (
            Breach::ForgetsTheMark,
            "deactivating_an_owned_account_disables_it",
        ),
        (
            Breach::NoTombstone,
            "a_deleted_user_stays_deprovisioned_until_created_again",
        ),
        (Breach::NoPaging, "lists_filter_and_page_by_id"),
        (Breach::NewestFirst, "lists_filter_and_page_by_id"),
        (Breach::DefaultRole, "reactivating_restores_the_role_it_had"),
        (
            Breach::ReportsNothing,
            "deactivating_an_owned_account_disables_it",
        ),
        (
            Breach::IgnoresConflicts,
            "user_names_external_ids_and_identities_are_unique",
        ),
        (
            Breach::IgnoresConflicts,
            "concurrent_creations_of_one_user_name",
        ),
    ];
    for (breach, check) in cases {
        let error = testing::scim_users_conformance(|| async {
            Broken {
                inner: MemoryStore::new(),
                breach,
            }
        })
        .await
        .expect_err(&format!("{breach:?} passed the suite"));
        assert!(
            error.violations.iter().any(|found| found.check == check),
            "{breach:?} was not caught by {check}: {error}"
        );
    }
}
