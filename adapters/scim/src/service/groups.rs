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
    load_optional(store, at, id)
        .await?
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
        None if query.filter.is_none() => GroupFilter::All,
        Some(SimpleFilter::DisplayName(name)) => GroupFilter::DisplayName(name),
        Some(SimpleFilter::ExternalId(id)) => GroupFilter::ExternalId(id),
        Some(SimpleFilter::Id(id)) => {
            let found: Vec<ProvisionedGroup> =
                load_optional(store, at, &id).await?.into_iter().collect();
            let page: Vec<ProvisionedGroup> =
                found.iter().skip(start).take(count).cloned().collect();
            let rendered = rendered(store, at, &page, with_members).await?;
            return Ok(listed(found.len(), query, &rendered));
        }
        Some(SimpleFilter::IdWithMember { id, member }) => {
            // Entra ID's "is this user in the group" question: one look-up, however
            // large the group, and only the member asked about shown.
            let mut found = load_optional(store, at, &id).await?;
            if found.is_some()
                && !store
                    .has_member(at.id, &id, &member)
                    .await
                    .map_err(|_| ScimError::internal())?
            {
                found = None;
            }
            let shown = if with_members {
                vec![member]
            } else {
                Vec::new()
            };
            let total = usize::from(found.is_some());
            let rendered: Vec<ScimGroup> = found
                .iter()
                .skip(start)
                .take(count)
                .map(|group| scim_group(at, group, &shown))
                .collect();
            return Ok(listed(total, query, &rendered));
        }
        _ => {
            // Any other filter: evaluated here over every group of the org, members and
            // all, since the filter may name them.
            let matching = all_matching(store, at, query).await?;
            let total = matching.len();
            let page: Vec<ScimGroup> = matching.into_iter().skip(start).take(count).collect();
            return Ok(listed(total, query, &page));
        }
    };
    let (found, total) = store
        .groups(at.id, &filter, start, count)
        .await
        .map_err(|_| ScimError::internal())?;
    let rendered = rendered(store, at, &found, with_members).await?;
    Ok(listed(total, query, &rendered))
}

/// The group `id` of the org, if there is one.
async fn load_optional(
    store: &dyn ScimGroups,
    at: &Org<'_>,
    id: &str,
) -> Result<Option<ProvisionedGroup>, ScimError> {
    store
        .group(at.id, id)
        .await
        .map_err(|_| ScimError::internal())
}

/// `groups` as SCIM shows them, their members read when they are shown.
async fn rendered(
    store: &dyn ScimGroups,
    at: &Org<'_>,
    groups: &[ProvisionedGroup],
    with_members: bool,
) -> Result<Vec<ScimGroup>, ScimError> {
    let mut rendered = Vec::with_capacity(groups.len());
    for group in groups {
        let members = if with_members {
            members(store, at, &group.id).await?
        } else {
            Vec::new()
        };
        rendered.push(scim_group(at, group, &members));
    }
    Ok(rendered)
}

/// A list answer: one page of `total` matches.
fn listed(total: usize, query: &ListQuery, page: &[ScimGroup]) -> ScimResponse {
    ScimResponse::list(&ListResponse::of(total as u64, query, page))
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
    let mut all = rendered(store, at, &found, true).await?;
    all.retain(|group| {
        query
            .filter
            .as_ref()
            .is_none_or(|filter| filter.matches(&group.to_json()))
    });
    Ok(all)
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
