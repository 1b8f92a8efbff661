//! [`ScimGroups`] for the [`MemoryStore`]: groups kept under the store's one lock, so
//! that every write, with the roles it changes, is atomic.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Accounts, MemoryStore};
use crate::account::Identity;
use crate::group_sync::GroupRoleSync;
use crate::role::{Grant, Role};
use crate::scim_groups::{
    GroupFilter, GroupMembersChange, NewProvisionedGroup, ProvisionedGroup, ProvisionedGroupChange,
    ScimGroupError, ScimGroups,
};
use crate::store::StoreError;

/// A group and its members' user ids.
#[derive(Debug, Clone)]
pub(super) struct GroupEntry {
    group: ProvisionedGroup,
    members: BTreeSet<String>,
}

impl GroupEntry {
    fn keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.group.display_name.as_str()).chain(self.group.external_id.as_deref())
    }
}

impl Accounts {
    fn group_conflict(
        &self,
        org: &str,
        except: Option<&str>,
        display_name: &str,
        external_id: Option<&str>,
    ) -> Option<String> {
        let lower = display_name.to_lowercase();
        self.scim_groups
            .values()
            .filter(|entry| entry.group.org == org && Some(entry.group.id.as_str()) != except)
            .find_map(|entry| {
                if entry.group.display_name.to_lowercase() == lower {
                    Some(format!("displayName `{display_name}` is taken"))
                } else if external_id.is_some() && entry.group.external_id.as_deref() == external_id
                {
                    Some(format!(
                        "externalId `{}` is taken",
                        external_id.unwrap_or_default()
                    ))
                } else {
                    None
                }
            })
    }

    /// The ones of `ids` that are live SCIM users of `org` (contract item 2).
    fn known_members<'a>(
        &self,
        org: &str,
        ids: impl IntoIterator<Item = &'a String>,
    ) -> BTreeSet<String> {
        ids.into_iter()
            .filter(|id| {
                self.scim_users
                    .get(id.as_str())
                    .is_some_and(|entry| !entry.deleted && entry.user.org == org)
            })
            .cloned()
            .collect()
    }

    /// Gives each of `users` the roles its groups in `org` map to (contract item 5).
    fn sync_roles<'a>(
        &mut self,
        org: &str,
        users: impl IntoIterator<Item = &'a String>,
        roles: &GroupRoleSync,
    ) {
        if roles.is_empty() {
            return;
        }
        for user in users {
            let Some(entry) = self.scim_users.get(user.as_str()) else {
                continue;
            };
            if entry.deleted || !entry.user.active || entry.user.org != org {
                continue;
            }
            let account = entry.user.account.clone();
            let keys: Vec<&str> = self
                .scim_groups
                .values()
                .filter(|group| group.group.org == org && group.members.contains(user.as_str()))
                .flat_map(GroupEntry::keys)
                .collect();
            let Some(record) = self.by_id.get(&account) else {
                continue;
            };
            // Each change is of another org: the role held before it is the one read here.
            let changes: Vec<(Grant, Option<Role>)> = roles
                .changes(&record.memberships, &keys)
                .into_iter()
                .map(|change| {
                    let held = record.memberships.get(&change.org).copied();
                    (change, held)
                })
                .collect();
            for (change, held) in changes {
                let lowers_an_admin = held == Some(Role::Admin) && change.role < Role::Admin;
                if lowers_an_admin && self.admins_of(&change.org) <= 1 {
                    continue;
                }
                if let Some(record) = self.by_id.get_mut(&account) {
                    record.memberships.insert(change.org, change.role);
                }
            }
        }
    }

    /// Removes the user `id` from every group of `org` (contract item 6).
    pub(super) fn leave_groups(&mut self, org: &str, id: &str) {
        for entry in self.scim_groups.values_mut() {
            if entry.group.org == org {
                entry.members.remove(id);
            }
        }
    }

    fn fresh_group_id(&mut self) -> String {
        loop {
            self.next_group += 1;
            let id = format!("g{:011}", self.next_group);
            if !self.scim_groups.contains_key(&id) {
                return id;
            }
        }
    }

    fn group_mut(&mut self, org: &str, id: &str) -> Result<&mut GroupEntry, ScimGroupError> {
        self.scim_groups
            .get_mut(id)
            .filter(|entry| entry.group.org == org)
            .ok_or_else(|| ScimGroupError::NotFound(id.to_owned()))
    }
}

fn filter_matches(group: &ProvisionedGroup, filter: &GroupFilter) -> bool {
    match filter {
        GroupFilter::DisplayName(name) => group.display_name.to_lowercase() == name.to_lowercase(),
        GroupFilter::ExternalId(id) => group.external_id.as_deref() == Some(id.as_str()),
        _ => true,
    }
}

/// SCIM groups under the store's one lock: a write and the roles it changes are one step.
#[async_trait]
impl ScimGroups for MemoryStore {
    async fn create_group(
        &self,
        org: &str,
        group: NewProvisionedGroup,
        roles: &GroupRoleSync,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedGroup, ScimGroupError> {
        let mut inner = self.lock();
        if let Some(conflict) =
            inner.group_conflict(org, None, &group.display_name, group.external_id.as_deref())
        {
            return Err(ScimGroupError::Conflict(conflict));
        }
        let id = inner.fresh_group_id();
        let record = ProvisionedGroup {
            org: org.to_owned(),
            id: id.clone(),
            display_name: group.display_name,
            external_id: group.external_id,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let members = inner.known_members(org, &group.members);
        inner.scim_groups.insert(
            id,
            GroupEntry {
                group: record.clone(),
                members: members.clone(),
            },
        );
        inner.sync_roles(org, &members, roles);
        Ok(record)
    }

    async fn group(&self, org: &str, id: &str) -> Result<Option<ProvisionedGroup>, StoreError> {
        Ok(self
            .lock()
            .scim_groups
            .get(id)
            .filter(|entry| entry.group.org == org)
            .map(|entry| entry.group.clone()))
    }

    async fn group_members(&self, org: &str, id: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .lock()
            .scim_groups
            .get(id)
            .filter(|entry| entry.group.org == org)
            .map(|entry| entry.members.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn has_member(&self, org: &str, id: &str, member: &str) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .scim_groups
            .get(id)
            .is_some_and(|entry| entry.group.org == org && entry.members.contains(member)))
    }

    async fn groups(
        &self,
        org: &str,
        filter: &GroupFilter,
        start: usize,
        count: usize,
    ) -> Result<(Vec<ProvisionedGroup>, usize), StoreError> {
        let inner = self.lock();
        let matching: Vec<&GroupEntry> = inner
            .scim_groups
            .values()
            .filter(|entry| entry.group.org == org && filter_matches(&entry.group, filter))
            .collect();
        let total = matching.len();
        let page = matching
            .into_iter()
            .skip(start)
            .take(count)
            .map(|entry| entry.group.clone())
            .collect();
        Ok((page, total))
    }

    async fn change_group(
        &self,
        org: &str,
        id: &str,
        change: ProvisionedGroupChange,
        roles: &GroupRoleSync,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedGroup, ScimGroupError> {
        let mut inner = self.lock();
        let held = inner.group_mut(org, id)?.clone();
        let display_name = change
            .display_name
            .clone()
            .unwrap_or_else(|| held.group.display_name.clone());
        let external_id = change
            .external_id
            .clone()
            .unwrap_or_else(|| held.group.external_id.clone());
        if let Some(conflict) =
            inner.group_conflict(org, Some(id), &display_name, external_id.as_deref())
        {
            return Err(ScimGroupError::Conflict(conflict));
        }
        let members: BTreeSet<String> = match &change.members {
            GroupMembersChange::Replace(all) => inner.known_members(org, all),
            GroupMembersChange::Delta { added, removed } => {
                let mut members = held.members.clone();
                for gone in removed {
                    members.remove(gone);
                }
                members.extend(inner.known_members(org, added));
                members
            }
        };
        let renamed =
            display_name != held.group.display_name || external_id != held.group.external_id;
        let affected: BTreeSet<String> = if renamed {
            members.union(&held.members).cloned().collect()
        } else {
            members
                .symmetric_difference(&held.members)
                .cloned()
                .collect()
        };
        let entry = inner.group_mut(org, id)?;
        entry.group.display_name = display_name;
        entry.group.external_id = external_id;
        entry.group.updated_at = now;
        entry.group.version += 1;
        entry.members = members;
        let group = entry.group.clone();
        inner.sync_roles(org, &affected, roles);
        Ok(group)
    }

    async fn delete_group(
        &self,
        org: &str,
        id: &str,
        roles: &GroupRoleSync,
        _now: DateTime<Utc>,
    ) -> Result<(), ScimGroupError> {
        let mut inner = self.lock();
        inner.group_mut(org, id)?;
        let gone = inner
            .scim_groups
            .remove(id)
            .map(|entry| entry.members)
            .unwrap_or_default();
        inner.sync_roles(org, &gone, roles);
        Ok(())
    }

    async fn groups_of_identity(
        &self,
        org: &str,
        identity: &Identity,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let inner = self.lock();
        let Some(user) = inner
            .live_users(org)
            .find(|entry| entry.user.identity == *identity)
            .map(|entry| entry.user.id.clone())
        else {
            return Ok(None);
        };
        let keys: BTreeMap<&str, ()> = inner
            .scim_groups
            .values()
            .filter(|entry| entry.group.org == org && entry.members.contains(&user))
            .flat_map(GroupEntry::keys)
            .map(|key| (key, ()))
            .collect();
        Ok(Some(keys.into_keys().map(str::to_owned).collect()))
    }
}
