//! What an org's SCIM groups do to the roles of their members, as a pure rule: every
//! store applies the same one, inside the transaction that changes the group.

use std::collections::BTreeMap;

use crate::config::{GroupRole, OrgPolicy, ScimRoleSync};
use crate::role::{Grant, Role};

/// The role rule of one org's SCIM groups: its `group_roles`, its `provision` grants (the
/// floor under [`ScimRoleSync::Follow`]) and its `scim_roles`.
///
/// A group counts by its `displayName` and by its `externalId`, each compared exactly
/// with a `group_roles` entry's `group`: Okta's group push names groups, Entra ID's
/// `externalId` is the group's object id, which is also what its SAML `groups` claim
/// sends, so one `group_roles` entry serves both the sign-in and the push.
///
/// ```
/// use std::collections::BTreeMap;
/// use jit_provisioning::{Config, Grant, GroupRoleSync, Role};
///
/// let config: Config = serde_json::from_str(r#"{"orgs": {"acme": {
///     "jit": true, "idp": "https://idp", "scim_roles": "follow",
///     "group_roles": [{"group": "eng-admins", "org": "acme", "role": "admin"}]}}}"#).unwrap();
/// let policy = config.validate().unwrap();
/// let sync = GroupRoleSync::of(policy.org("acme").unwrap());
/// let member = BTreeMap::from([("acme".to_owned(), Role::Member)]);
/// let admin = BTreeMap::from([("acme".to_owned(), Role::Admin)]);
///
/// // Joining `eng-admins` makes an admin; leaving it, under `follow`, a member again.
/// assert_eq!(sync.changes(&member, &["eng-admins"]), [Grant { org: "acme".into(), role: Role::Admin }]);
/// assert_eq!(sync.changes(&admin, &[]), [Grant { org: "acme".into(), role: Role::Member }]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRoleSync {
    entries: Vec<GroupRole>,
    floors: Vec<Grant>,
    mode: ScimRoleSync,
}

impl GroupRoleSync {
    /// The rule of `org`.
    pub fn of(org: &OrgPolicy) -> Self {
        Self::new(
            org.group_roles().to_vec(),
            org.provision().to_vec(),
            org.scim_roles(),
        )
    }

    /// A rule from its parts: the `group_roles` entries, the `provision` grants and the
    /// mode.
    pub fn new(entries: Vec<GroupRole>, provision: Vec<Grant>, mode: ScimRoleSync) -> Self {
        Self {
            entries,
            floors: provision,
            mode,
        }
    }

    /// A rule that changes no role (an org without `group_roles`).
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether no group can change any role: a store may then skip looking at members'
    /// groups altogether.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The mode.
    pub fn mode(&self) -> ScimRoleSync {
        self.mode
    }

    /// The roles an account holding `held` gets, now that its groups in the org are
    /// `groups` (each group's `displayName` and `externalId`): one grant per membership
    /// whose role changes. Only orgs that a `group_roles` entry maps to are looked at;
    /// no membership is added or removed (membership is the user's provisioning, roles
    /// are the groups'). Under [`ScimRoleSync::Raise`] roles only rise; under
    /// [`ScimRoleSync::Follow`] they become what the groups map to, never below the
    /// floor. Keeping the org's last admin is the store's part: it alone can count.
    pub fn changes(&self, held: &BTreeMap<String, Role>, groups: &[&str]) -> Vec<Grant> {
        let mut changes: Vec<Grant> = Vec::new();
        for entry in &self.entries {
            let org = &entry.grant.org;
            if changes.iter().any(|change| &change.org == org) {
                continue;
            }
            let Some(&held_role) = held.get(org) else {
                continue;
            };
            let mapped = self
                .entries
                .iter()
                .filter(|entry| &entry.grant.org == org && groups.contains(&entry.group.as_str()))
                .map(|entry| entry.grant.role)
                .max();
            let wanted = match self.mode {
                ScimRoleSync::Raise => mapped.filter(|&role| role > held_role),
                ScimRoleSync::Follow => {
                    let floor = self
                        .floors
                        .iter()
                        .filter(|grant| &grant.org == org)
                        .map(|grant| grant.role)
                        .max()
                        .unwrap_or(Role::Member);
                    Some(mapped.map_or(floor, |role| role.max(floor)))
                        .filter(|&role| role != held_role)
                }
            };
            if let Some(role) = wanted {
                changes.push(Grant {
                    org: org.clone(),
                    role,
                });
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(org: &str, role: Role) -> Grant {
        Grant {
            org: org.to_owned(),
            role,
        }
    }

    fn entry(group: &str, org: &str, role: Role) -> GroupRole {
        GroupRole {
            group: group.to_owned(),
            grant: grant(org, role),
        }
    }

    fn held(roles: &[(&str, Role)]) -> BTreeMap<String, Role> {
        roles
            .iter()
            .map(|(org, role)| ((*org).to_owned(), *role))
            .collect()
    }

    #[test]
    fn raising_never_lowers_and_never_adds_an_org() {
        let sync = GroupRoleSync::new(
            vec![
                entry("eng", "acme", Role::Contributor),
                entry("ops", "acme-ops", Role::Admin),
            ],
            vec![grant("acme", Role::Member)],
            ScimRoleSync::Raise,
        );
        let member = held(&[("acme", Role::Member)]);
        assert_eq!(
            sync.changes(&member, &["eng", "ops"]),
            [grant("acme", Role::Contributor)]
        );
        let admin = held(&[("acme", Role::Admin)]);
        assert!(sync.changes(&admin, &["eng"]).is_empty());
        assert!(sync.changes(&admin, &[]).is_empty());
    }

    #[test]
    fn following_takes_the_highest_group_and_stops_at_the_floor() {
        let sync = GroupRoleSync::new(
            vec![
                entry("eng", "acme", Role::Contributor),
                entry("leads", "acme", Role::Admin),
            ],
            vec![grant("acme", Role::Contributor)],
            ScimRoleSync::Follow,
        );
        let member = held(&[("acme", Role::Member)]);
        assert_eq!(
            sync.changes(&member, &["eng", "leads"]),
            [grant("acme", Role::Admin)]
        );
        let admin = held(&[("acme", Role::Admin)]);
        // Out of every group: down to provision's contributor, not to member.
        assert_eq!(
            sync.changes(&admin, &[]),
            [grant("acme", Role::Contributor)]
        );
        assert!(sync
            .changes(&held(&[("acme", Role::Contributor)]), &["eng"])
            .is_empty());
        // An org the person does not belong to is not joined.
        assert!(sync.changes(&held(&[]), &["leads"]).is_empty());
    }

    #[test]
    fn without_group_roles_nothing_changes() {
        let sync = GroupRoleSync::none();
        assert!(sync.is_empty());
        assert!(sync
            .changes(&held(&[("acme", Role::Admin)]), &["anything"])
            .is_empty());
    }
}
