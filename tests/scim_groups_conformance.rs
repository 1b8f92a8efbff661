//! The memory store meets the SCIM groups' contract, and the suite catches stores that
//! break it: each breach by the check written for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

#[macro_use]
mod common;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jit_provisioning::{
    testing, Deprovisioning, GroupFilter, GroupMembersChange, GroupRoleSync, Identity, MemoryStore,
    NewProvisionedGroup, NewProvisionedUser, ProvisionedGroup, ProvisionedGroupChange,
    ProvisionedUser, ProvisionedUserChange, ScimGroupError, ScimGroups, ScimUserError, ScimUsers,
    StoreError, UserFilter,
};

#[tokio::test]
async fn memory_store_meets_the_scim_groups_contract() {
    if let Err(error) = testing::scim_groups_conformance(|| async { MemoryStore::new() }).await {
        panic!("{error}");
    }
}

/// One way to break the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breach {
    /// Roles are never synced from groups.
    NoRoles,
    /// Removals are ignored.
    IgnoresRemovals,
    /// A change reads the members, then writes them back with its own: a lost update.
    ReadModifyWrite,
    /// Lists ignore `start`.
    NoPaging,
}

/// The memory store, broken as `breach` says.
struct Broken {
    inner: MemoryStore,
    breach: Breach,
}

impl Broken {
    fn roles<'a>(&self, roles: &'a GroupRoleSync, none: &'a GroupRoleSync) -> &'a GroupRoleSync {
        if self.breach == Breach::NoRoles {
            none
        } else {
            roles
        }
    }
}

#[async_trait]
impl ScimGroups for Broken {
    async fn create_group(
        &self,
        org: &str,
        group: NewProvisionedGroup,
        roles: &GroupRoleSync,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedGroup, ScimGroupError> {
        let none = GroupRoleSync::none();
        self.inner
            .create_group(org, group, self.roles(roles, &none), now)
            .await
    }

    async fn group(&self, org: &str, id: &str) -> Result<Option<ProvisionedGroup>, StoreError> {
        self.inner.group(org, id).await
    }

    async fn group_members(&self, org: &str, id: &str) -> Result<Vec<String>, StoreError> {
        self.inner.group_members(org, id).await
    }

    async fn has_member(&self, org: &str, id: &str, member: &str) -> Result<bool, StoreError> {
        self.inner.has_member(org, id, member).await
    }

    async fn groups(
        &self,
        org: &str,
        filter: &GroupFilter,
        start: usize,
        count: usize,
    ) -> Result<(Vec<ProvisionedGroup>, usize), StoreError> {
        let start = if self.breach == Breach::NoPaging {
            0
        } else {
            start
        };
        self.inner.groups(org, filter, start, count).await
    }

    async fn change_group(
        &self,
        org: &str,
        id: &str,
        mut change: ProvisionedGroupChange,
        roles: &GroupRoleSync,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedGroup, ScimGroupError> {
        let none = GroupRoleSync::none();
        let roles = self.roles(roles, &none);
        match (self.breach, change.members.clone()) {
            (Breach::IgnoresRemovals, GroupMembersChange::Delta { added, .. }) => {
                change.members = GroupMembersChange::Delta {
                    added,
                    removed: Vec::new(),
                };
            }
            (Breach::ReadModifyWrite, GroupMembersChange::Delta { added, removed }) => {
                let mut members = self.inner.group_members(org, id).await?;
                tokio::task::yield_now().await;
                members.retain(|member| !removed.contains(member));
                members.extend(added);
                change.members = GroupMembersChange::Replace(members);
            }
            _ => {}
        }
        self.inner.change_group(org, id, change, roles, now).await
    }

    async fn delete_group(
        &self,
        org: &str,
        id: &str,
        roles: &GroupRoleSync,
        now: DateTime<Utc>,
    ) -> Result<(), ScimGroupError> {
        let none = GroupRoleSync::none();
        self.inner
            .delete_group(org, id, self.roles(roles, &none), now)
            .await
    }

    async fn groups_of_identity(
        &self,
        org: &str,
        identity: &Identity,
    ) -> Result<Option<Vec<String>>, StoreError> {
        self.inner.groups_of_identity(org, identity).await
    }
}

#[async_trait]
impl ScimUsers for Broken {
    async fn create_user(
        &self,
        org: &str,
        user: NewProvisionedUser,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedUser, ScimUserError> {
        self.inner.create_user(org, user, now).await
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
        self.inner.users(org, filter, start, count).await
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
        self.inner.set_active(org, id, active, now).await
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

forward_account_store!(Broken);

#[tokio::test]
async fn the_suite_catches_each_breach_by_its_check() {
    let cases = [
        (
            Breach::NoRoles,
            "joining_a_group_raises_a_role_and_leaving_lowers_none",
        ),
        (Breach::NoRoles, "renaming_a_group_changes_what_it_maps_to"),
        (Breach::IgnoresRemovals, "changes_add_remove_and_replace"),
        (Breach::ReadModifyWrite, "concurrent_changes_lose_no_member"),
        (Breach::NoPaging, "lists_filter_and_page_by_id"),
    ];
    for (breach, check) in cases {
        let error = testing::scim_groups_conformance(|| async {
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
