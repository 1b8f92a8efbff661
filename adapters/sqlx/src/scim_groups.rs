//! SCIM groups ([`ScimGroups`](jit_provisioning::ScimGroups)) in the store's database, for
//! both backends.
//!
//! A group's members are rows of `jit_scim_group_members`, so a PATCH adds and removes
//! rows in a few set-wise statements whatever its size: the member ids travel as one JSON
//! array parameter, which each backend unnests (`json_each` on SQLite,
//! `jsonb_array_elements_text` on PostgreSQL). [`scim_groups_store!`] implements the trait
//! on a backend's store over its `write` (one transaction per request), with the row lock
//! its reads of a group to change take, and the org's admin lock (the backend's
//! `write(Some(org), …)`) when the group's roles may fall.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{ColumnIndex, Decode, Row, Type};

use jit_provisioning::{GroupFilter, ProvisionedGroup, Role, ScimGroupError, StoreError};

use crate::error::store_error;
use crate::scim_users::{scim_id, scim_row, time};

/// A group's columns, in the order [`group`] reads them.
macro_rules! scim_group_columns {
    () => {
        "id, org, display_name, external_id, version, created_at, updated_at"
    };
}

/// A group of an org. Binds org, id.
pub(crate) const GROUP: &str = concat!(
    "SELECT ",
    scim_group_columns!(),
    " FROM jit_scim_groups WHERE org = $1 AND id = $2"
);

/// Another group of the org with the name key or the externalId: 1 for the name, 2 for
/// the externalId. Binds org, name key, externalId (NULL for none), the id to leave out
/// (0 for none).
pub(crate) const CONFLICT: &str = "SELECT CASE WHEN display_name_key = $2 THEN 1 ELSE 2 END AS kind
    FROM jit_scim_groups
    WHERE org = $1 AND id <> $4 AND (display_name_key = $2 OR external_id = $3)
    ORDER BY kind LIMIT 1";

/// Records a group. Binds org, name, name key, externalId, now.
pub(crate) const INSERT_GROUP: &str = "INSERT INTO jit_scim_groups
        (org, display_name, display_name_key, external_id, version, created_at, updated_at)
    VALUES ($1, $2, $3, $4, 1, $5, $5)
    RETURNING id";

/// Sets a group's name and externalId, raising the version. Binds id, name, name key,
/// externalId, now.
pub(crate) const UPDATE_GROUP: &str = "UPDATE jit_scim_groups
    SET display_name = $2, display_name_key = $3, external_id = $4, updated_at = $5,
        version = version + 1
    WHERE id = $1";

/// A group gone. Binds id.
pub(crate) const DELETE_GROUP: &str = "DELETE FROM jit_scim_groups WHERE id = $1";

/// A group's member rows, ascending. Binds group id.
pub(crate) const MEMBERS: &str =
    "SELECT user_id FROM jit_scim_group_members WHERE group_id = $1 ORDER BY user_id";

/// Every member of a group gone. Binds group id.
pub(crate) const CLEAR_MEMBERS: &str = "DELETE FROM jit_scim_group_members WHERE group_id = $1";

/// A deleted user leaving every group. Binds user id.
pub(crate) const LEAVE_GROUPS: &str = "DELETE FROM jit_scim_group_members WHERE user_id = $1";

/// Whether a user is in a group of the org. Binds org, group id, user id.
pub(crate) const HAS_MEMBER: &str = "SELECT EXISTS (SELECT 1
    FROM jit_scim_group_members m JOIN jit_scim_groups g ON g.id = m.group_id
    WHERE g.org = $1 AND m.group_id = $2 AND m.user_id = $3)";

/// The org's live user linked to an identity. Binds org, issuer, subject.
pub(crate) const USER_OF_IDENTITY: &str = "SELECT id FROM jit_scim_users
    WHERE org = $1 AND issuer = $2 AND subject = $3 AND NOT deleted
    ORDER BY id DESC LIMIT 1";

/// The names and externalIds of a user's groups. Binds user id.
pub(crate) const GROUPS_OF_USER: &str = "SELECT g.display_name, g.external_id
    FROM jit_scim_groups g JOIN jit_scim_group_members m ON m.group_id = g.id
    WHERE m.user_id = $1";

/// How many admins an org has. Binds org.
pub(crate) const ADMINS: &str =
    "SELECT count(*) FROM jit_memberships WHERE org = $1 AND role = 'admin'";

/// Adds the members that are live users of the org (those already in stay). Binds group
/// id, the ids, org.
pub(crate) const ADD_MEMBERS: &str = "INSERT INTO jit_scim_group_members (group_id, user_id)
    SELECT $1, u.id FROM jit_scim_users u
    WHERE u.org = $3 AND NOT u.deleted AND u.id IN (SELECT t.id FROM ({ids2}) t)
    ON CONFLICT (group_id, user_id) DO NOTHING";

/// Removes members. Binds group id, the ids.
pub(crate) const REMOVE_MEMBERS: &str = "DELETE FROM jit_scim_group_members
    WHERE group_id = $1 AND user_id IN (SELECT t.id FROM ({ids2}) t)";

/// The live, active users among a list, each with its account and the name and
/// externalId of each of its groups (NULLs for a user in none). Binds org, the ids.
pub(crate) const AFFECTED_GROUPS: &str = "SELECT u.account_id, g.display_name, g.external_id
    FROM jit_scim_users u
    LEFT JOIN jit_scim_group_members m ON m.user_id = u.id
    LEFT JOIN jit_scim_groups g ON g.id = m.group_id
    WHERE u.org = $1 AND u.active AND NOT u.deleted AND u.id IN (SELECT t.id FROM ({ids2}) t)";

/// The memberships of the accounts of the live, active users among a list. Binds org,
/// the ids.
pub(crate) const AFFECTED_MEMBERSHIPS: &str = "SELECT m.account_id, m.org, m.role
    FROM jit_memberships m
    WHERE m.account_id IN (SELECT u.account_id FROM jit_scim_users u
                           WHERE u.org = $1 AND u.active AND NOT u.deleted
                             AND u.id IN (SELECT t.id FROM ({ids2}) t))";

/// Sets the role of some accounts' memberships of an org. Binds org, role, the account
/// ids.
pub(crate) const SET_ROLES: &str = "UPDATE jit_memberships SET role = $2
    WHERE org = $1 AND account_id IN (SELECT t.id FROM ({ids3}) t)";

/// `statement` with its id list read from the parameter its `{idsN}` names, as the
/// backend's `unnest` (with `{n}` for the parameter's number) reads a JSON array.
pub(crate) fn with_ids(statement: &str, unnest: &str) -> String {
    let mut text = statement.to_owned();
    for n in 1..=9 {
        let marker = format!("{{ids{n}}}");
        if text.contains(&marker) {
            text = text.replace(&marker, &unnest.replace("{n}", &n.to_string()));
        }
    }
    text
}

/// Row ids as the JSON array a statement's id list binds.
pub(crate) fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned())
}

/// The row ids SCIM user ids name, ascending and once each; an id of another form names
/// no user, and is left out.
pub(crate) fn user_rows(ids: &[String]) -> Vec<i64> {
    let rows: BTreeSet<i64> = ids.iter().filter_map(|id| scim_row(id)).collect();
    rows.into_iter().collect()
}

/// The key a displayName is unique by, case-insensitively.
pub(crate) fn name_key(display_name: &str) -> String {
    display_name.to_lowercase()
}

/// The page of an org's groups that a filter matches, by id, each row with the count of
/// all matching. Binds org, the filter's value (for a filter), limit, offset.
pub(crate) fn groups_page(filter: &GroupFilter) -> String {
    let (condition, next) = filter_condition(filter);
    format!(
        concat!(
            "SELECT ",
            scim_group_columns!(),
            ", count(*) OVER () FROM jit_scim_groups WHERE org = $1{} \
             ORDER BY id LIMIT ${} OFFSET ${}"
        ),
        condition,
        next,
        next + 1
    )
}

/// How many groups of an org a filter matches (for a page past the end). Binds org, the
/// filter's value (for a filter).
pub(crate) fn groups_count(filter: &GroupFilter) -> String {
    format!(
        "SELECT count(*) FROM jit_scim_groups WHERE org = $1{}",
        filter_condition(filter).0
    )
}

fn filter_condition(filter: &GroupFilter) -> (&'static str, usize) {
    match filter {
        GroupFilter::DisplayName(_) => (" AND display_name_key = $2", 3),
        GroupFilter::ExternalId(_) => (" AND external_id = $2", 3),
        _ => ("", 2),
    }
}

/// The value a filter binds as `$2`, if any.
pub(crate) fn filter_value(filter: &GroupFilter) -> Option<String> {
    match filter {
        GroupFilter::DisplayName(name) => Some(name_key(name)),
        GroupFilter::ExternalId(id) => Some(id.clone()),
        _ => None,
    }
}

/// The conflict a [`CONFLICT`] kind describes.
pub(crate) fn conflict(kind: i32, display_name: &str, external_id: Option<&str>) -> ScimGroupError {
    ScimGroupError::Conflict(match kind {
        1 => format!("displayName `{display_name}` is taken"),
        _ => format!("externalId `{}` is taken", external_id.unwrap_or_default()),
    })
}

/// A database error as a group write's refusal: a unique index's is a conflict (two
/// creations of one name at once).
pub(crate) fn group_error(error: sqlx::Error) -> ScimGroupError {
    if let sqlx::Error::Database(database) = &error {
        if database.kind() == sqlx::error::ErrorKind::UniqueViolation {
            return ScimGroupError::Conflict(database.message().to_owned());
        }
    }
    ScimGroupError::Store(store_error(error))
}

/// The memberships rows of [`AFFECTED_MEMBERSHIPS`], by account.
pub(crate) fn memberships(
    rows: Vec<(i64, String, String)>,
) -> Result<BTreeMap<i64, BTreeMap<String, Role>>, StoreError> {
    let mut held: BTreeMap<i64, BTreeMap<String, Role>> = BTreeMap::new();
    for (account, org, role) in rows {
        let role = role
            .parse::<Role>()
            .map_err(|_| StoreError::InvalidData(format!("role `{role}` of account {account}")))?;
        held.entry(account).or_default().insert(org, role);
    }
    Ok(held)
}

/// The rows of [`AFFECTED_GROUPS`] as each account's group keys (an account with no
/// group has an empty list: leaving its last group may lower it).
pub(crate) fn group_keys(
    rows: Vec<(i64, Option<String>, Option<String>)>,
) -> BTreeMap<i64, Vec<String>> {
    let mut keys: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (account, name, external_id) in rows {
        keys.entry(account)
            .or_default()
            .extend(name.into_iter().chain(external_id));
    }
    keys
}

/// Reads one group row (its [`scim_group_columns!`]).
pub(crate) fn group<R>(row: &R) -> Result<ProvisionedGroup, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    let decoded = (|| {
        Ok::<_, sqlx::Error>((
            row.try_get::<i64, _>(0)?,
            row.try_get::<String, _>(1)?,
            row.try_get::<String, _>(2)?,
            row.try_get::<Option<String>, _>(3)?,
            row.try_get::<i64, _>(4)?,
            row.try_get::<i64, _>(5)?,
            row.try_get::<i64, _>(6)?,
        ))
    })();
    let (id, org, display_name, external_id, version, created_at, updated_at) =
        decoded.map_err(store_error)?;
    let record = serde_json::json!({
        "org": org,
        "id": scim_id(id),
        "display_name": display_name,
        "external_id": external_id,
        "created_at": time(created_at)?,
        "updated_at": time(updated_at)?,
        "version": u64::try_from(version)
            .map_err(|_| StoreError::InvalidData(format!("scim group {id}: version {version}")))?,
    });
    serde_json::from_value(record)
        .map_err(|error| StoreError::InvalidData(format!("scim group {id}: {error}")))
}

/// [`ScimGroups`](jit_provisioning::ScimGroups) for a backend's store: reads on its
/// `pool()`, each write one transaction through its `write`. The backend gives its
/// connection type, the row lock its read of a group to change takes (`""` where the
/// transaction holds the database's write lock already), and how it unnests a JSON array
/// of ids bound as parameter `{n}` into rows of one column `id`.
macro_rules! scim_groups_store {
    ($module:ident, $store:ty, $conn:ty, $for_update:literal, $unnest:literal) => {
        mod $module {
            // The backend's store and connection types, as its module names them.
            #[allow(unused_imports)]
            use super::*;
            use std::collections::{BTreeMap, BTreeSet};

            use chrono::{DateTime, Utc};
            use jit_provisioning::{
                GroupFilter, GroupMembersChange, GroupRoleSync, Identity, NewProvisionedGroup,
                ProvisionedGroup, ProvisionedGroupChange, Role, ScimGroupError, ScimGroups,
                ScimRoleSync, StoreError,
            };

            use $crate::error::store_error;
            use $crate::scim_groups as sql;
            use $crate::scim_users::{scim_id, scim_row};

            type Conn = $conn;

            fn ids(statement: &str) -> String {
                sql::with_ids(statement, $unnest)
            }

            /// A group of the org, locked for the change: its row id and record.
            async fn held(
                conn: &mut Conn,
                org: &str,
                id: &str,
            ) -> Result<(i64, ProvisionedGroup), ScimGroupError> {
                let not_found = || ScimGroupError::NotFound(id.to_owned());
                let row_id = scim_row(id).ok_or_else(not_found)?;
                let row = sqlx::query(concat!(
                    "SELECT ",
                    scim_group_columns!(),
                    " FROM jit_scim_groups WHERE org = $1 AND id = $2",
                    $for_update
                ))
                .bind(org)
                .bind(row_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(sql::group_error)?
                .ok_or_else(not_found)?;
                Ok((row_id, sql::group(&row)?))
            }

            async fn unique(
                conn: &mut Conn,
                org: &str,
                except: i64,
                display_name: &str,
                external_id: Option<&str>,
            ) -> Result<(), ScimGroupError> {
                let kind: Option<i32> = sqlx::query_scalar(sql::CONFLICT)
                    .bind(org)
                    .bind(sql::name_key(display_name))
                    .bind(external_id)
                    .bind(except)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(sql::group_error)?;
                match kind {
                    Some(kind) => Err(sql::conflict(kind, display_name, external_id)),
                    None => Ok(()),
                }
            }

            async fn member_rows(conn: &mut Conn, group: i64) -> Result<Vec<i64>, ScimGroupError> {
                sqlx::query_scalar(sql::MEMBERS)
                    .bind(group)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(sql::group_error)
            }

            /// Adds the ones of `rows` that are live users of the org (contract item 2).
            async fn add(
                conn: &mut Conn,
                org: &str,
                group: i64,
                rows: &[i64],
            ) -> Result<(), ScimGroupError> {
                if !rows.is_empty() {
                    sqlx::query(&ids(sql::ADD_MEMBERS))
                        .bind(group)
                        .bind(sql::ids_json(rows))
                        .bind(org)
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::group_error)?;
                }
                Ok(())
            }

            /// Gives each of the users `rows` the roles its groups map to (contract item
            /// 5): two reads and one update per (org, role) changed, whatever the count.
            async fn sync_roles(
                conn: &mut Conn,
                org: &str,
                rows: &[i64],
                roles: &GroupRoleSync,
            ) -> Result<(), ScimGroupError> {
                if roles.is_empty() || rows.is_empty() {
                    return Ok(());
                }
                let list = sql::ids_json(rows);
                let keyed: Vec<(i64, Option<String>, Option<String>)> =
                    sqlx::query_as(&ids(sql::AFFECTED_GROUPS))
                        .bind(org)
                        .bind(&list)
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(sql::group_error)?;
                let held: Vec<(i64, String, String)> =
                    sqlx::query_as(&ids(sql::AFFECTED_MEMBERSHIPS))
                        .bind(org)
                        .bind(&list)
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(sql::group_error)?;
                let held = sql::memberships(held)?;
                let no_roles = BTreeMap::new();
                let mut admins: BTreeMap<String, i64> = BTreeMap::new();
                let mut changes: BTreeMap<(String, Role), Vec<i64>> = BTreeMap::new();
                for (account, keys) in sql::group_keys(keyed) {
                    let memberships = held.get(&account).unwrap_or(&no_roles);
                    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                    for change in roles.changes(memberships, &keys) {
                        let was = memberships.get(&change.org).copied();
                        if was == Some(Role::Admin) && change.role < Role::Admin {
                            let count = match admins.get(&change.org) {
                                Some(count) => *count,
                                None => sqlx::query_scalar(sql::ADMINS)
                                    .bind(&change.org)
                                    .fetch_one(&mut *conn)
                                    .await
                                    .map_err(sql::group_error)?,
                            };
                            // The org's last admin keeps the role.
                            if count <= 1 {
                                admins.insert(change.org.clone(), count);
                                continue;
                            }
                            admins.insert(change.org.clone(), count - 1);
                        } else if change.role == Role::Admin {
                            if let Some(count) = admins.get_mut(&change.org) {
                                *count += 1;
                            }
                        }
                        changes
                            .entry((change.org, change.role))
                            .or_default()
                            .push(account);
                    }
                }
                for ((target, role), accounts) in changes {
                    sqlx::query(&ids(sql::SET_ROLES))
                        .bind(&target)
                        .bind(role.as_str())
                        .bind(sql::ids_json(&accounts))
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::group_error)?;
                }
                Ok(())
            }

            async fn by_id(
                conn: &mut Conn,
                org: &str,
                row: i64,
            ) -> Result<ProvisionedGroup, ScimGroupError> {
                let found = sqlx::query(sql::GROUP)
                    .bind(org)
                    .bind(row)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(sql::group_error)?;
                Ok(sql::group(&found)?)
            }

            async fn create(
                conn: &mut Conn,
                org: String,
                group: NewProvisionedGroup,
                roles: GroupRoleSync,
                now: DateTime<Utc>,
            ) -> Result<ProvisionedGroup, ScimGroupError> {
                unique(
                    conn,
                    &org,
                    0,
                    &group.display_name,
                    group.external_id.as_deref(),
                )
                .await?;
                let members = sql::user_rows(&group.members);
                let row: i64 = sqlx::query_scalar(sql::INSERT_GROUP)
                    .bind(&org)
                    .bind(&group.display_name)
                    .bind(sql::name_key(&group.display_name))
                    .bind(&group.external_id)
                    .bind(now.timestamp_micros())
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(sql::group_error)?;
                add(conn, &org, row, &members).await?;
                sync_roles(conn, &org, &members, &roles).await?;
                by_id(conn, &org, row).await
            }

            async fn apply_change(
                conn: &mut Conn,
                org: String,
                id: String,
                change: ProvisionedGroupChange,
                roles: GroupRoleSync,
                now: DateTime<Utc>,
            ) -> Result<ProvisionedGroup, ScimGroupError> {
                let (row, held) = held(conn, &org, &id).await?;
                let display_name = change.display_name.unwrap_or(held.display_name.clone());
                let external_id = change.external_id.unwrap_or(held.external_id.clone());
                unique(conn, &org, row, &display_name, external_id.as_deref()).await?;
                let renamed = display_name != held.display_name || external_id != held.external_id;
                let mut affected: BTreeSet<i64> = BTreeSet::new();
                match change.members {
                    GroupMembersChange::Replace(all) => {
                        let members = sql::user_rows(&all);
                        // Those who leave matter only to roles the group maps to.
                        if !roles.is_empty() {
                            affected.extend(member_rows(conn, row).await?);
                        }
                        sqlx::query(sql::CLEAR_MEMBERS)
                            .bind(row)
                            .execute(&mut *conn)
                            .await
                            .map_err(sql::group_error)?;
                        add(conn, &org, row, &members).await?;
                        affected.extend(members);
                    }
                    GroupMembersChange::Delta { added, removed } => {
                        let added = sql::user_rows(&added);
                        // An id that names no row is in no group: nothing to remove.
                        let removed: Vec<i64> =
                            removed.iter().filter_map(|id| scim_row(id)).collect();
                        if !removed.is_empty() {
                            sqlx::query(&ids(sql::REMOVE_MEMBERS))
                                .bind(row)
                                .bind(sql::ids_json(&removed))
                                .execute(&mut *conn)
                                .await
                                .map_err(sql::group_error)?;
                        }
                        add(conn, &org, row, &added).await?;
                        affected.extend(added);
                        affected.extend(removed);
                    }
                    _ => {}
                }
                if renamed && !roles.is_empty() {
                    // What the group maps to changed for every member.
                    affected.extend(member_rows(conn, row).await?);
                }
                sqlx::query(sql::UPDATE_GROUP)
                    .bind(row)
                    .bind(&display_name)
                    .bind(sql::name_key(&display_name))
                    .bind(&external_id)
                    .bind(now.timestamp_micros())
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::group_error)?;
                let affected: Vec<i64> = affected.into_iter().collect();
                sync_roles(conn, &org, &affected, &roles).await?;
                by_id(conn, &org, row).await
            }

            async fn delete(
                conn: &mut Conn,
                org: String,
                id: String,
                roles: GroupRoleSync,
            ) -> Result<(), ScimGroupError> {
                let (row, _) = held(conn, &org, &id).await?;
                // The members' roles change only when the group maps to some.
                let members = if roles.is_empty() {
                    Vec::new()
                } else {
                    member_rows(conn, row).await?
                };
                sqlx::query(sql::CLEAR_MEMBERS)
                    .bind(row)
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::group_error)?;
                sqlx::query(sql::DELETE_GROUP)
                    .bind(row)
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::group_error)?;
                sync_roles(conn, &org, &members, &roles).await
            }

            /// The org whose admin lock a write takes: when roles may fall, so that the
            /// count of its admins sees every other demotion committed.
            fn admin_lock<'a>(org: &'a str, roles: &GroupRoleSync) -> Option<&'a str> {
                (!roles.is_empty() && roles.mode() == ScimRoleSync::Follow).then_some(org)
            }

            #[async_trait::async_trait]
            impl ScimGroups for $store {
                async fn create_group(
                    &self,
                    org: &str,
                    group: NewProvisionedGroup,
                    roles: &GroupRoleSync,
                    now: DateTime<Utc>,
                ) -> Result<ProvisionedGroup, ScimGroupError> {
                    let (owned, rules) = (org.to_owned(), roles.clone());
                    self.write(admin_lock(org, roles), move |conn| {
                        Box::pin(create(conn, owned, group, rules, now))
                    })
                    .await
                }

                async fn group(
                    &self,
                    org: &str,
                    id: &str,
                ) -> Result<Option<ProvisionedGroup>, StoreError> {
                    let Some(row) = scim_row(id) else {
                        return Ok(None);
                    };
                    let found = sqlx::query(sql::GROUP)
                        .bind(org)
                        .bind(row)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(store_error)?;
                    found.as_ref().map(sql::group).transpose()
                }

                async fn group_members(
                    &self,
                    org: &str,
                    id: &str,
                ) -> Result<Vec<String>, StoreError> {
                    let Some(row) = scim_row(id) else {
                        return Ok(Vec::new());
                    };
                    let rows: Vec<i64> = sqlx::query_scalar(concat!(
                        "SELECT m.user_id FROM jit_scim_group_members m ",
                        "JOIN jit_scim_groups g ON g.id = m.group_id ",
                        "WHERE g.org = $1 AND m.group_id = $2 ORDER BY m.user_id"
                    ))
                    .bind(org)
                    .bind(row)
                    .fetch_all(self.pool())
                    .await
                    .map_err(store_error)?;
                    Ok(rows.into_iter().map(scim_id).collect())
                }

                async fn has_member(
                    &self,
                    org: &str,
                    id: &str,
                    member: &str,
                ) -> Result<bool, StoreError> {
                    let (Some(group), Some(user)) = (scim_row(id), scim_row(member)) else {
                        return Ok(false);
                    };
                    sqlx::query_scalar(sql::HAS_MEMBER)
                        .bind(org)
                        .bind(group)
                        .bind(user)
                        .fetch_one(self.pool())
                        .await
                        .map_err(store_error)
                }

                async fn groups(
                    &self,
                    org: &str,
                    filter: &GroupFilter,
                    start: usize,
                    count: usize,
                ) -> Result<(Vec<ProvisionedGroup>, usize), StoreError> {
                    let value = sql::filter_value(filter);
                    let page_sql = sql::groups_page(filter);
                    let mut query = sqlx::query(&page_sql).bind(org);
                    if let Some(value) = &value {
                        query = query.bind(value.as_str());
                    }
                    let rows = query
                        .bind(i64::try_from(count).unwrap_or(i64::MAX))
                        .bind(i64::try_from(start).unwrap_or(i64::MAX))
                        .fetch_all(self.pool())
                        .await
                        .map_err(store_error)?;
                    let total = match rows.first() {
                        Some(first) => {
                            sqlx::Row::try_get::<i64, _>(first, 7).map_err(store_error)?
                        }
                        None => {
                            let count_sql = sql::groups_count(filter);
                            let mut query = sqlx::query_scalar::<_, i64>(&count_sql).bind(org);
                            if let Some(value) = &value {
                                query = query.bind(value.as_str());
                            }
                            query.fetch_one(self.pool()).await.map_err(store_error)?
                        }
                    };
                    let groups = rows.iter().map(sql::group).collect::<Result<_, _>>()?;
                    Ok((groups, usize::try_from(total).unwrap_or_default()))
                }

                async fn change_group(
                    &self,
                    org: &str,
                    id: &str,
                    change: ProvisionedGroupChange,
                    roles: &GroupRoleSync,
                    now: DateTime<Utc>,
                ) -> Result<ProvisionedGroup, ScimGroupError> {
                    let (owned, id, rules) = (org.to_owned(), id.to_owned(), roles.clone());
                    self.write(admin_lock(org, roles), move |conn| {
                        Box::pin(apply_change(conn, owned, id, change, rules, now))
                    })
                    .await
                }

                async fn delete_group(
                    &self,
                    org: &str,
                    id: &str,
                    roles: &GroupRoleSync,
                    _now: DateTime<Utc>,
                ) -> Result<(), ScimGroupError> {
                    let (owned, id, rules) = (org.to_owned(), id.to_owned(), roles.clone());
                    self.write(admin_lock(org, roles), move |conn| {
                        Box::pin(delete(conn, owned, id, rules))
                    })
                    .await
                }

                async fn groups_of_identity(
                    &self,
                    org: &str,
                    identity: &Identity,
                ) -> Result<Option<Vec<String>>, StoreError> {
                    let user: Option<i64> = sqlx::query_scalar(sql::USER_OF_IDENTITY)
                        .bind(org)
                        .bind(&identity.issuer)
                        .bind(&identity.subject)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(store_error)?;
                    let Some(user) = user else {
                        return Ok(None);
                    };
                    let rows: Vec<(String, Option<String>)> = sqlx::query_as(sql::GROUPS_OF_USER)
                        .bind(user)
                        .fetch_all(self.pool())
                        .await
                        .map_err(store_error)?;
                    Ok(Some(
                        rows.into_iter()
                            .flat_map(|(name, external_id)| {
                                std::iter::once(name).chain(external_id)
                            })
                            .collect(),
                    ))
                }
            }
        }
    };
}
