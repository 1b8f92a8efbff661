//! The storage side of SCIM groups: the groups an org's IdP pushes, whose members are the
//! org's SCIM users, and whose membership feeds `group_roles`. Protocol-neutral: the
//! SCIM wire format lives in `jit-provisioning-scim`, which drives a [`ScimGroups`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::Identity;
use crate::group_sync::GroupRoleSync;
use crate::store::StoreError;

/// One SCIM group of an org, as the store holds it (its members are read apart, with
/// [`ScimGroups::group_members`]: a group may have many thousands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProvisionedGroup {
    /// The org whose IdP pushed the group.
    pub org: String,
    /// The SCIM id, given by the store; unique within the org.
    pub id: String,
    /// The group's name, unique in the org case-insensitively.
    pub display_name: String,
    /// The IdP's id for the group, unique in the org when set.
    pub external_id: Option<String>,
    /// When the IdP created it.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Rises with every change: the SCIM `meta.version` (ETag).
    pub version: u64,
}

/// A SCIM group to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewProvisionedGroup {
    /// The group's name.
    pub display_name: String,
    /// The IdP's id for the group.
    pub external_id: Option<String>,
    /// The members: ids of the org's SCIM users (others are left out).
    pub members: Vec<String>,
}

impl NewProvisionedGroup {
    /// A group called `display_name`, with no externalId and no members.
    pub fn new(display_name: impl Into<String>) -> Self {
        Self {
            display_name: display_name.into(),
            external_id: None,
            members: Vec::new(),
        }
    }

    /// With these members (ids of the org's SCIM users).
    pub fn with_members(mut self, members: impl IntoIterator<Item = String>) -> Self {
        self.members = members.into_iter().collect();
        self
    }
}

/// What a change does to a group's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum GroupMembersChange {
    /// Add and remove members, by user id: adding a member already there, or removing
    /// one who is not, changes nothing.
    Delta {
        /// Users to add.
        added: Vec<String>,
        /// Users to remove.
        removed: Vec<String>,
    },
    /// The members become exactly these.
    Replace(Vec<String>),
}

/// A change to a group: a PATCH, or a PUT as a replacement of everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProvisionedGroupChange {
    /// The new name, if it changes.
    pub display_name: Option<String>,
    /// The new externalId (`Some(None)` removes it), if it changes.
    pub external_id: Option<Option<String>>,
    /// What happens to the members.
    pub members: GroupMembersChange,
}

impl Default for ProvisionedGroupChange {
    /// No change.
    fn default() -> Self {
        Self {
            display_name: None,
            external_id: None,
            members: GroupMembersChange::Delta {
                added: Vec::new(),
                removed: Vec::new(),
            },
        }
    }
}

impl ProvisionedGroupChange {
    /// Adds `added` and removes `removed`, nothing else.
    pub fn members(added: Vec<String>, removed: Vec<String>) -> Self {
        Self {
            members: GroupMembersChange::Delta { added, removed },
            ..Self::default()
        }
    }

    /// Everything a PUT sets: the name, the externalId and exactly these members.
    pub fn replace(
        display_name: impl Into<String>,
        external_id: Option<String>,
        members: Vec<String>,
    ) -> Self {
        Self {
            display_name: Some(display_name.into()),
            external_id: Some(external_id),
            members: GroupMembersChange::Replace(members),
        }
    }
}

/// Which groups of an org [`ScimGroups::groups`] lists: SCIM's `eq` filters on the
/// attributes IdPs look groups up by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum GroupFilter {
    /// Every group.
    All,
    /// `displayName eq`, case-insensitively.
    DisplayName(String),
    /// `externalId eq`, exactly.
    ExternalId(String),
}

/// Why a [`ScimGroups`] call changed nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScimGroupError {
    /// The org has no SCIM group with that id.
    #[error("no scim group `{0}`")]
    NotFound(String),
    /// The org has a group of that displayName or externalId already (SCIM `uniqueness`).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where an org's SCIM groups live, next to its SCIM users and their accounts.
///
/// # The contract
///
/// The suite `testing::scim_groups_conformance` (feature `testing`) checks each item.
///
/// 1. **Each write is one atomic step.** A creation, change or deletion applies whole or
///    not at all (a conflict writes nothing).
/// 2. **Members are the org's live SCIM users.** An id to add that names none (another
///    org's user, a deleted one, a group: nested groups are not kept) is left out, and
///    the rest of the write applies: an IdP pushing a group whose members it has not all
///    provisioned yet gets the ones it has, and pushes the others once they are.
/// 3. **Uniqueness.** Within an org, displayName (case-insensitively) and externalId
///    are unique among groups: otherwise [`ScimGroupError::Conflict`].
/// 4. **Reads.** [`ScimGroups::group`] finds a group of its own org only;
///    [`ScimGroups::groups`] answers a page (`start` 0-based, at most `count`) of the
///    groups the filter matches, in ascending id order, with the total;
///    [`ScimGroups::group_members`] the member ids in ascending order, and
///    [`ScimGroups::has_member`] whether one user is among them.
/// 5. **Concurrent changes lose nothing.** Two changes of one group at once each apply
///    whole: members added by both are all there, and `version` rises by two.
/// 6. **Members' roles follow [`GroupRoleSync`].** After each write, every affected
///    active member (added, removed, or every member when the name or externalId
///    changed, or the group was deleted) gets the roles
///    [`GroupRoleSync::changes`] gives for all its groups in the org, in the same
///    transaction. A change that would take the org's last admin away is skipped.
/// 7. **A deleted user leaves its groups**: [`ScimUsers::delete_user`] removes it from
///    every group of the org (its roles are not recomputed: it holds no membership).
/// 8. **Groups of an identity.** [`ScimGroups::groups_of_identity`] answers the names
///    and externalIds of the groups of the org's live SCIM user linked to that identity,
///    or `None` when there is none: what a sign-in whose IdP sent too many groups to list
///    (Entra ID's overage) is decided on.
/// 9. **Errors are values**: an unknown id is [`ScimGroupError::NotFound`], a failing
///    backend [`ScimGroupError::Store`]; nothing panics.
///
/// [`ScimUsers::delete_user`]: crate::ScimUsers::delete_user
#[async_trait]
pub trait ScimGroups: Send + Sync {
    /// Creates the group of `org` with its members (items 1, 2, 3, 6).
    async fn create_group(
        &self,
        org: &str,
        group: NewProvisionedGroup,
        roles: &GroupRoleSync,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedGroup, ScimGroupError>;

    /// The group `id` of `org`.
    async fn group(&self, org: &str, id: &str) -> Result<Option<ProvisionedGroup>, StoreError>;

    /// The member ids of the group `id` of `org`, ascending; empty for an unknown group.
    async fn group_members(&self, org: &str, id: &str) -> Result<Vec<String>, StoreError>;

    /// Whether the user `member` is in the group `id` of `org` (Entra ID asks before it
    /// adds or removes one).
    async fn has_member(&self, org: &str, id: &str, member: &str) -> Result<bool, StoreError>;

    /// A page of the groups of `org` that `filter` matches, by id, and how many match.
    async fn groups(
        &self,
        org: &str,
        filter: &GroupFilter,
        start: usize,
        count: usize,
    ) -> Result<(Vec<ProvisionedGroup>, usize), StoreError>;

    /// Applies `change` to the group (items 1, 2, 3, 5, 6), raising its version.
    async fn change_group(
        &self,
        org: &str,
        id: &str,
        change: ProvisionedGroupChange,
        roles: &GroupRoleSync,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedGroup, ScimGroupError>;

    /// Deletes the group (items 1, 6).
    async fn delete_group(
        &self,
        org: &str,
        id: &str,
        roles: &GroupRoleSync,
        now: DateTime<Utc>,
    ) -> Result<(), ScimGroupError>;

    /// The names and externalIds of the groups of `org`'s live SCIM user linked to
    /// `identity`, or `None` when no such user exists (item 8).
    async fn groups_of_identity(
        &self,
        org: &str,
        identity: &Identity,
    ) -> Result<Option<Vec<String>>, StoreError>;
}
