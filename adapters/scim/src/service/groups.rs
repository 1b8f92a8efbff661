//! The `/Groups` endpoints over a [`ScimGroups`] store: members are the org's SCIM users,
//! and every write hands the store the org's [`GroupRoleSync`], so that the roles the
//! groups map to change in the same step as the members.

use chrono::{DateTime, Utc};
use jit_provisioning::{
    GroupFilter, GroupMembersChange, GroupRoleSync, NewProvisionedGroup, ProvisionedGroup,
    ProvisionedGroupChange, ScimGroupError, ScimGroups,
};

use super::{check_version, version_tag, Org};
use crate::error::ScimError;
use crate::group::{Member, ScimGroup};
use crate::meta::{resource_location, Meta, ResourceKind};
use crate::patch::{GroupChange, MembersChange};
use crate::query::ListQuery;
use crate::request::ScimOperation;
use crate::response::{ListResponse, ScimResponse};
use crate::SimpleFilter;

/// Answers a group operation at `at`.
pub(super) async fn serve(
    store: &dyn ScimGroups,
    at: &Org<'_>,
    roles: &GroupRoleSync,
    operation: ScimOperation,
    now: DateTime<Utc>,
) -> Result<ScimResponse, ScimError> {
    match operation {
        ScimOperation::CreateGroup(group) => {
            let mut new = NewProvisionedGroup::new(group.display_name.clone())
                .with_members(member_ids(&group.members));
            new.external_id = group.external_id;
            let made = store
                .create_group(at.id, new, roles, now)
                .await
                .map_err(refusal)?;
            let members = members(store, at, &made.id).await?;
            Ok(ScimResponse::created(&scim_group(at, &made, &members)))
        }
        ScimOperation::GetGroup { id, projection } => {
            let group = load(store, at, &id).await?;
            // Entra ID reads groups with `excludedAttributes=members`: a large group's
            // members are then not read at all.
            let members = if projection.includes("members") {
                members(store, at, &id).await?
            } else {
                Vec::new()
            };
            Ok(ScimResponse::ok_with(
                &scim_group(at, &group, &members),
                &projection,
            ))
        }
        ScimOperation::ListGroups(query) => list(store, at, &query).await,
        ScimOperation::ReplaceGroup {
            id,
            group,
            if_match,
        } => {
            let held = load(store, at, &id).await?;
            check_version(held.version, if_match.as_deref())?;
            let change = ProvisionedGroupChange::replace(
                group.display_name.clone(),
                group.external_id.clone(),
                member_ids(&group.members),
            );
            let changed = store
                .change_group(at.id, &id, change, roles, now)
                .await
                .map_err(refusal)?;
            let members = members(store, at, &id).await?;
            Ok(ScimResponse::ok(&scim_group(at, &changed, &members)))
        }
        ScimOperation::PatchGroup {
            id,
            change,
            if_match,
            projection,
        } => {
            let held = load(store, at, &id).await?;
            check_version(held.version, if_match.as_deref())?;
            let changed = store
                .change_group(at.id, &id, store_change(change), roles, now)
                .await
                .map_err(refusal)?;
            // 200 with the group (RFC 7644 §3.5.2 allows 204 too, but clients such as
            // scim-sanity read the answer); `excludedAttributes=members` spares reading a
            // large group's members back.
            let members = if projection.includes("members") {
                members(store, at, &id).await?
            } else {
                Vec::new()
            };
            Ok(ScimResponse::ok_with(
                &scim_group(at, &changed, &members),
                &projection,
            ))
        }
        ScimOperation::DeleteGroup { id, if_match } => {
            let held = load(store, at, &id).await?;
            check_version(held.version, if_match.as_deref())?;
            store
                .delete_group(at.id, &id, roles, now)
                .await
                .map_err(refusal)?;
            Ok(ScimResponse::no_content())
        }
        // The caller answers users and discovery before groups.
        _ => Err(ScimError::internal()),
    }
}

async fn load(
    store: &dyn ScimGroups,
    at: &Org<'_>,
    id: &str,
) -> Result<ProvisionedGroup, ScimError> {
    store
        .group(at.id, id)
        .await
        .map_err(|_| ScimError::internal())?
        .ok_or_else(|| ScimError::not_found(format!("no group `{id}`")))
}

async fn members(store: &dyn ScimGroups, at: &Org<'_>, id: &str) -> Result<Vec<String>, ScimError> {
    store
        .group_members(at.id, id)
        .await
        .map_err(|_| ScimError::internal())
}

async fn list(
    store: &dyn ScimGroups,
    at: &Org<'_>,
    query: &ListQuery,
) -> Result<ScimResponse, ScimError> {
    let start = usize::try_from(query.offset()).unwrap_or(usize::MAX);
    let count = usize::try_from(query.count).unwrap_or(usize::MAX);
    let with_members = query.projection.includes("members");
    let filter = match query.simple_filter() {
        None if query.filter.is_none() => Some(GroupFilter::All),
        Some(SimpleFilter::DisplayName(name)) => Some(GroupFilter::DisplayName(name)),
        Some(SimpleFilter::ExternalId(id)) => Some(GroupFilter::ExternalId(id)),
        Some(SimpleFilter::Id(id)) => {
            let found = store
                .group(at.id, &id)
                .await
                .map_err(|_| ScimError::internal())?;
            return page_of(store, at, query, found.into_iter().collect(), start, count).await;
        }
        Some(SimpleFilter::IdWithMember { id, member }) => {
            // Entra ID's "is this user in the group" question: one look-up, however
            // large the group.
            let found = store
                .group(at.id, &id)
                .await
                .map_err(|_| ScimError::internal())?;
            let has = store
                .has_member(at.id, &id, &member)
                .await
                .map_err(|_| ScimError::internal())?;
            let found: Vec<ProvisionedGroup> = found.into_iter().filter(|_| has).collect();
            let mut rendered = Vec::with_capacity(found.len());
            for group in found.iter().skip(start).take(count) {
                let members = if with_members {
                    vec![member.clone()]
                } else {
                    Vec::new()
                };
                rendered.push(scim_group(at, group, &members));
            }
            return Ok(ScimResponse::list(&ListResponse::of(
                found.len() as u64,
                query,
                &rendered,
            )));
        }
        _ => None,
    };
    match filter {
        Some(filter) => {
            let (found, total) = store
                .groups(at.id, &filter, start, count)
                .await
                .map_err(|_| ScimError::internal())?;
            let mut rendered = Vec::with_capacity(found.len());
            for group in &found {
                let members = if with_members {
                    members(store, at, &group.id).await?
                } else {
                    Vec::new()
                };
                rendered.push(scim_group(at, group, &members));
            }
            Ok(ScimResponse::list(&ListResponse::of(
                total as u64,
                query,
                &rendered,
            )))
        }
        None => {
            // Any other filter: evaluated here over every group of the org, members and
            // all, since the filter may name them.
            let matching = all_matching(store, at, query).await?;
            let total = matching.len();
            let page: Vec<ScimGroup> = matching.into_iter().skip(start).take(count).collect();
            Ok(ScimResponse::list(&ListResponse::of(
                total as u64,
                query,
                &page,
            )))
        }
    }
}

/// Every group of the org the query's filter matches, members and all, rendered: what a
/// search from the root (`POST /.search`) lists after the users.
pub(super) async fn all_matching(
    store: &dyn ScimGroups,
    at: &Org<'_>,
    query: &ListQuery,
) -> Result<Vec<ScimGroup>, ScimError> {
    let (found, _) = store
        .groups(at.id, &GroupFilter::All, 0, usize::MAX)
        .await
        .map_err(|_| ScimError::internal())?;
    let mut matching = Vec::new();
    for group in &found {
        let rendered = scim_group(at, group, &members(store, at, &group.id).await?);
        if query
            .filter
            .as_ref()
            .is_none_or(|filter| filter.matches(&rendered.to_json()))
        {
            matching.push(rendered);
        }
    }
    Ok(matching)
}

/// A list of `found` (already filtered, not yet paged), members read where shown.
async fn page_of(
    store: &dyn ScimGroups,
    at: &Org<'_>,
    query: &ListQuery,
    found: Vec<ProvisionedGroup>,
    start: usize,
    count: usize,
) -> Result<ScimResponse, ScimError> {
    let mut rendered = Vec::new();
    for group in found.iter().skip(start).take(count) {
        let members = if query.projection.includes("members") {
            members(store, at, &group.id).await?
        } else {
            Vec::new()
        };
        rendered.push(scim_group(at, group, &members));
    }
    Ok(ScimResponse::list(&ListResponse::of(
        found.len() as u64,
        query,
        &rendered,
    )))
}

/// `group` as SCIM shows it, with `members` (user ids).
fn scim_group(at: &Org<'_>, group: &ProvisionedGroup, members: &[String]) -> ScimGroup {
    let mut scim = ScimGroup::new(&group.display_name);
    scim.id = Some(group.id.clone());
    scim.external_id = group.external_id.clone();
    scim.members = members
        .iter()
        .map(|id| {
            let mut member = Member::new(id);
            member.reference = Some(resource_location(at.base, ResourceKind::User, id));
            member.member_type = Some("User".to_owned());
            member
        })
        .collect();
    scim.meta = Some(
        Meta::new(ResourceKind::Group)
            .with_created(group.created_at)
            .with_last_modified(group.updated_at)
            .with_location(resource_location(at.base, ResourceKind::Group, &group.id))
            .with_version(&version_tag(group.version)),
    );
    scim
}

fn member_ids(members: &[Member]) -> Vec<String> {
    members.iter().map(|member| member.value.clone()).collect()
}

/// The protocol's change as the store takes it.
fn store_change(change: GroupChange) -> ProvisionedGroupChange {
    let mut store_change = ProvisionedGroupChange::default();
    store_change.display_name = change.display_name;
    store_change.external_id = change.external_id;
    store_change.members = match change.members {
        MembersChange::Replace(members) => GroupMembersChange::Replace(member_ids(&members)),
        MembersChange::Delta { added, removed } => GroupMembersChange::Delta {
            added: member_ids(&added),
            removed,
        },
    };
    store_change
}

fn refusal(error: ScimGroupError) -> ScimError {
    match error {
        ScimGroupError::NotFound(id) => ScimError::not_found(format!("no group `{id}`")),
        ScimGroupError::Conflict(detail) => ScimError::uniqueness(detail),
        _ => ScimError::internal(),
    }
}
