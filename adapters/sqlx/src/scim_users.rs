//! SCIM users ([`ScimUsers`](jit_provisioning::ScimUsers)) and the identities their
//! deprovisioning marks ([`DeprovisionedIdentities`](jit_provisioning::DeprovisionedIdentities))
//! in the store's database, for both backends.
//!
//! The statements (`$N` placeholders, one text for both), the row decoding and the steps
//! of every write are here, once; [`scim_users_store!`] implements the traits on a
//! backend's store over its `write` (one transaction per request: `BEGIN IMMEDIATE` behind
//! the writer queue on SQLite, READ COMMITTED on PostgreSQL with the row and advisory
//! locks the backend's [`ScimBackend`] takes) and the backend's account creation inside
//! that transaction (the handle choice of storage contract item 9).

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Row, Type};

use jit_provisioning::{
    email_key, AccountId, Deprovisioned, DeprovisionedBy, Identity, Joined, ProvisionedUser, Role,
    ScimUserError, StoreError, UserFilter,
};

use crate::error::store_error;
use crate::rows::{account_id, joined_from, joined_name};

/// A user's columns, in the order [`user`] reads them.
macro_rules! scim_user_columns {
    () => {
        "id, org, account_id, user_name, external_id, issuer, subject, active, given_name, \
         family_name, display_name, emails, version, created_at, updated_at, resource"
    };
}

/// A live user of an org. Binds org, id.
pub(crate) const USER: &str = concat!(
    "SELECT ",
    scim_user_columns!(),
    " FROM jit_scim_users WHERE org = $1 AND id = $2 AND NOT deleted"
);

/// A user by id alone (just written). Binds id.
pub(crate) const USER_BY_ID: &str = concat!(
    "SELECT ",
    scim_user_columns!(),
    " FROM jit_scim_users WHERE id = $1"
);

/// Another live user of the org with the userName key, the externalId or the identity:
/// 1 for the userName, 2 for the externalId, 3 for the identity. Binds org, userName key,
/// externalId (NULL for none), issuer, subject, the id to leave out (0 for none).
pub(crate) const CONFLICT: &str = "SELECT CASE
        WHEN user_name_key = $2 THEN 1
        WHEN external_id = $3 THEN 2
        ELSE 3 END AS kind
    FROM jit_scim_users
    WHERE org = $1 AND NOT deleted AND id <> $6
      AND (user_name_key = $2 OR external_id = $3 OR (issuer = $4 AND subject = $5))
    ORDER BY kind LIMIT 1";

/// The tombstone of the identity at the org still holding what its deprovisioning took.
/// Binds org, issuer, subject.
pub(crate) const TOMBSTONE: &str = "SELECT id, taken_role, taken_joined, taken_disabled
    FROM jit_scim_users
    WHERE org = $1 AND issuer = $2 AND subject = $3 AND deleted AND taken
    ORDER BY id DESC LIMIT 1";

/// The account an identity is linked to. Binds issuer, subject.
pub(crate) const LINKED: &str =
    "SELECT account_id FROM jit_identities WHERE issuer = $1 AND subject = $2";

/// Moves what a tombstone's deprovisioning took to the new record. Binds id.
pub(crate) const CLEAR_TAKEN: &str = "UPDATE jit_scim_users
    SET taken = FALSE, taken_role = NULL, taken_joined = NULL, taken_disabled = FALSE
    WHERE id = $1";

/// Records a user. Binds org, account, userName, its key, externalId, issuer, subject,
/// given, family and display names, emails (JSON), the provisioned role, whether
/// something is taken, the taken role, how it was joined, whether the account was
/// disabled, now, the resource.
pub(crate) const INSERT_USER: &str = "INSERT INTO jit_scim_users
        (org, account_id, user_name, user_name_key, external_id, issuer, subject, active,
         given_name, family_name, display_name, emails, provisioned_role, taken, taken_role,
         taken_joined, taken_disabled, version, created_at, updated_at, resource)
    VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1,
            $17, $17, $18)
    RETURNING id";

/// One email key of a user. Binds user id, org, key.
pub(crate) const INSERT_EMAIL: &str =
    "INSERT INTO jit_scim_user_emails (user_id, org, email_key) VALUES ($1, $2, $3)";

/// A user's email keys gone. Binds user id.
pub(crate) const DELETE_EMAILS: &str = "DELETE FROM jit_scim_user_emails WHERE user_id = $1";

/// What restoring a user needs. Binds id.
pub(crate) const RESTORE_STATE: &str = "SELECT account_id, org, issuer, subject,
        provisioned_role, taken, taken_role, taken_joined, taken_disabled
    FROM jit_scim_users WHERE id = $1";

/// A membership given back (one held since stays as it is). Binds account, org, role,
/// joined.
pub(crate) const GIVE_BACK: &str = "INSERT INTO jit_memberships (account_id, org, role, joined)
    VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, org) DO NOTHING";

/// Sets an account's `disabled`. Binds account, disabled.
pub(crate) const SET_DISABLED: &str = "UPDATE jit_accounts SET disabled = $2 WHERE id = $1";

/// Clears a deprovisioned mark. Binds org, issuer, subject.
pub(crate) const CLEAR_MARK: &str =
    "DELETE FROM jit_deprovisioned WHERE org = $1 AND issuer = $2 AND subject = $3";

/// Sets a deprovisioned mark. Binds org, issuer, subject, at, by.
pub(crate) const SET_MARK: &str = "INSERT INTO jit_deprovisioned
        (org, issuer, subject, deprovisioned_at, deprovisioned_by)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (org, issuer, subject) DO UPDATE
    SET deprovisioned_at = excluded.deprovisioned_at,
        deprovisioned_by = excluded.deprovisioned_by";

/// A mark. Binds org, issuer, subject.
pub(crate) const MARK: &str = "SELECT deprovisioned_at, deprovisioned_by FROM jit_deprovisioned
    WHERE org = $1 AND issuer = $2 AND subject = $3";

/// What deprovisioning a user needs: its account, org and identity, the role and how it
/// was joined at the org (NULL for none), whether the account is disabled and how many
/// memberships of other orgs it has. Binds id.
pub(crate) const DEPROVISION_STATE: &str = "SELECT u.account_id, u.org, u.issuer, u.subject,
        m.role, m.joined, a.disabled,
        (SELECT count(*) FROM jit_memberships o
          WHERE o.account_id = u.account_id AND o.org <> u.org)
    FROM jit_scim_users u
    JOIN jit_accounts a ON a.id = u.account_id
    LEFT JOIN jit_memberships m ON m.account_id = u.account_id AND m.org = u.org
    WHERE u.id = $1";

/// A membership removed. Binds account, org.
pub(crate) const REMOVE_MEMBERSHIP: &str =
    "DELETE FROM jit_memberships WHERE account_id = $1 AND org = $2";

/// Records what deprovisioning took. Binds id, role, joined, disabled.
pub(crate) const SET_TAKEN: &str = "UPDATE jit_scim_users
    SET taken = TRUE, taken_role = $2, taken_joined = $3, taken_disabled = $4
    WHERE id = $1";

/// Sets `active` and `deleted`, raising the version. Binds id, active, deleted, now.
pub(crate) const SET_STATE: &str = "UPDATE jit_scim_users
    SET active = $2, deleted = $3, updated_at = $4, version = version + 1
    WHERE id = $1";

/// Whether an identity is linked to any account. Binds issuer, subject.
pub(crate) const IDENTITY_LINKED: &str =
    "SELECT EXISTS (SELECT 1 FROM jit_identities WHERE issuer = $1 AND subject = $2)";

/// Relinks an account from one identity to another. Binds account, old issuer, old
/// subject, new issuer, new subject.
pub(crate) const RELINK: &str = "UPDATE jit_identities SET issuer = $4, subject = $5
    WHERE account_id = $1 AND issuer = $2 AND subject = $3";

/// Moves a deprovisioned mark to the new identity. Binds org, old issuer, old subject,
/// new issuer, new subject.
pub(crate) const MOVE_MARK: &str = "UPDATE jit_deprovisioned SET issuer = $4, subject = $5
    WHERE org = $1 AND issuer = $2 AND subject = $3";

/// Replaces a user's attributes, raising the version. Binds id, userName, its key,
/// externalId, given, family and display names, emails (JSON), issuer, subject, now,
/// the resource.
pub(crate) const REPLACE_USER: &str = "UPDATE jit_scim_users
    SET user_name = $2, user_name_key = $3, external_id = $4, given_name = $5,
        family_name = $6, display_name = $7, emails = $8, issuer = $9, subject = $10,
        updated_at = $11, resource = $12, version = version + 1
    WHERE id = $1";

/// The page of an org's live users that a filter matches, by id, each row with the
/// count of all matching: the text after the filter's condition is `ORDER BY … LIMIT`.
/// Binds org, the filter's value (for a filter), limit, offset.
///
/// Unfiltered, the page goes without the count ([`counted`] says which): a window over
/// every user of the org makes each page of an IdP's import read them all (63 ms at
/// 100,000 users on PostgreSQL, against 11 ms for the page and 13 ms for a count of its
/// own, `BENCHMARKS.md`).
pub(crate) fn users_page(filter: &UserFilter) -> String {
    let (condition, next) = filter_condition(filter);
    let window = if counted(filter) {
        ", count(*) OVER ()"
    } else {
        ""
    };
    format!(
        concat!(
            "SELECT ",
            scim_user_columns!(),
            "{} FROM jit_scim_users WHERE org = $1 AND NOT deleted{} \
             ORDER BY id LIMIT ${} OFFSET ${}"
        ),
        window,
        condition,
        next,
        next + 1
    )
}

/// Whether [`users_page`] counts the matches in its rows: when a filter narrows them (an
/// index finds the few), not for every user of the org.
pub(crate) fn counted(filter: &UserFilter) -> bool {
    !matches!(filter, UserFilter::All)
}

/// How many live users of an org a filter matches (for a page past the end). Binds org,
/// the filter's value (for a filter).
pub(crate) fn users_count(filter: &UserFilter) -> String {
    format!(
        "SELECT count(*) FROM jit_scim_users WHERE org = $1 AND NOT deleted{}",
        filter_condition(filter).0
    )
}

/// A filter's condition and the number of the next placeholder.
fn filter_condition(filter: &UserFilter) -> (&'static str, usize) {
    match filter {
        UserFilter::UserName(_) => (" AND user_name_key = $2", 3),
        UserFilter::ExternalId(_) => (" AND external_id = $2", 3),
        UserFilter::Email(_) => (
            " AND id IN (SELECT user_id FROM jit_scim_user_emails \
             WHERE org = $1 AND email_key = $2)",
            3,
        ),
        _ => ("", 2),
    }
}

/// The value a filter binds as `$2`, if any.
pub(crate) fn filter_value(filter: &UserFilter) -> Option<String> {
    match filter {
        UserFilter::UserName(name) => Some(name_key(name)),
        UserFilter::ExternalId(id) => Some(id.clone()),
        UserFilter::Email(email) => Some(email_key(email)),
        _ => None,
    }
}

/// The key a userName is unique by, case-insensitively.
pub(crate) fn name_key(user_name: &str) -> String {
    user_name.to_lowercase()
}

/// The SCIM id of a row id: zero-padded, so that the ids' text order is their order.
pub(crate) fn scim_id(id: i64) -> String {
    format!("{id:012}")
}

/// The row id a SCIM id names, if any: only the form [`scim_id`] gives.
pub(crate) fn scim_row(id: &str) -> Option<i64> {
    let row = id.parse::<i64>().ok().filter(|row| *row > 0)?;
    (scim_id(row) == id).then_some(row)
}

/// A user's emails as the `emails` column keeps them.
pub(crate) fn emails_json(emails: &[String]) -> String {
    serde_json::to_string(emails).unwrap_or_else(|_| "[]".to_owned())
}

/// Each email's key once, for the emails table.
pub(crate) fn email_keys(emails: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for email in emails {
        let key = email_key(email);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// The conflict a [`CONFLICT`] kind stands for, described.
pub(crate) fn conflict(
    kind: i32,
    user_name: &str,
    external_id: Option<&str>,
    identity: &Identity,
) -> ScimUserError {
    ScimUserError::Conflict(match kind {
        1 => format!("userName `{user_name}` is taken"),
        2 => format!("externalId `{}` is taken", external_id.unwrap_or_default()),
        _ => format!("identity {identity} belongs to another user"),
    })
}

/// A failed statement of a SCIM write: a uniqueness rule broken by a racing write is
/// the conflict it stands for.
pub(crate) fn scim_error(error: sqlx::Error) -> ScimUserError {
    if let sqlx::Error::Database(database) = &error {
        if database.kind() == sqlx::error::ErrorKind::UniqueViolation {
            return ScimUserError::Conflict(database.message().to_owned());
        }
    }
    ScimUserError::Store(store_error(error))
}

/// A time in Unix microseconds, back.
pub(crate) fn time(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .ok_or_else(|| StoreError::InvalidData(format!("time {micros} out of range")))
}

/// A stored role, back.
pub(crate) fn role(stored: Option<String>) -> Result<Option<Role>, StoreError> {
    stored
        .map(|role| {
            role.parse::<Role>()
                .map_err(|_| StoreError::InvalidData(format!("unknown role `{role}`")))
        })
        .transpose()
}

/// How a membership was joined, back.
pub(crate) fn joined(stored: Option<String>) -> Result<Option<Joined>, StoreError> {
    stored
        .map(|how| {
            joined_from(&how)
                .ok_or_else(|| StoreError::InvalidData(format!("unknown joined `{how}`")))
        })
        .transpose()
}

/// The stored name of how a membership was joined.
pub(crate) fn joined_text(joined: Option<Joined>) -> Option<&'static str> {
    joined.map(joined_name)
}

/// The stored name of how a mark was made, and back.
pub(crate) fn by_name(by: DeprovisionedBy) -> &'static str {
    match by {
        DeprovisionedBy::Deleted => "deleted",
        _ => "deactivated",
    }
}

/// A mark's row, back.
pub(crate) fn mark(at: i64, by: &str) -> Result<Deprovisioned, StoreError> {
    let by = match by {
        "deactivated" => DeprovisionedBy::Deactivated,
        "deleted" => DeprovisionedBy::Deleted,
        other => return Err(StoreError::InvalidData(format!("unknown mark `{other}`"))),
    };
    Ok(Deprovisioned::new(time(at)?, by))
}

/// The account a SCIM user signs in to.
pub(crate) fn account(id: i64) -> AccountId {
    account_id(id)
}

/// Reads one user row (its [`scim_user_columns!`]); the same code for either backend.
pub(crate) fn user<R>(row: &R) -> Result<ProvisionedUser, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
{
    let decoded = (|| {
        Ok::<_, sqlx::Error>((
            row.try_get::<i64, _>(0)?,
            row.try_get::<String, _>(1)?,
            row.try_get::<i64, _>(2)?,
            row.try_get::<String, _>(3)?,
            row.try_get::<Option<String>, _>(4)?,
            row.try_get::<String, _>(5)?,
            row.try_get::<String, _>(6)?,
            row.try_get::<bool, _>(7)?,
            row.try_get::<Option<String>, _>(8)?,
            row.try_get::<Option<String>, _>(9)?,
            row.try_get::<Option<String>, _>(10)?,
            row.try_get::<String, _>(11)?,
            (
                row.try_get::<i64, _>(12)?,
                row.try_get::<i64, _>(13)?,
                row.try_get::<i64, _>(14)?,
            ),
            row.try_get::<Option<String>, _>(15)?,
        ))
    })();
    let (
        id,
        org,
        account,
        user_name,
        external_id,
        issuer,
        subject,
        active,
        given_name,
        family_name,
        display_name,
        emails,
        (version, created_at, updated_at),
        resource,
    ) = decoded.map_err(store_error)?;
    let emails: Vec<String> = serde_json::from_str(&emails)
        .map_err(|error| StoreError::InvalidData(format!("scim user {id} emails: {error}")))?;
    // `ProvisionedUser` is `#[non_exhaustive]` with no constructor: a store outside the
    // core makes one by its serde form.
    let at = |micros: i64| {
        time(micros).map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    };
    let record = serde_json::json!({
        "org": org,
        "id": scim_id(id),
        "account": account_id(account).as_str(),
        "user_name": user_name,
        "external_id": external_id,
        "active": active,
        "given_name": given_name,
        "family_name": family_name,
        "display_name": display_name,
        "emails": emails,
        "resource": resource,
        "identity": { "issuer": issuer, "subject": subject },
        "created_at": at(created_at)?,
        "updated_at": at(updated_at)?,
        "version": u64::try_from(version).unwrap_or_default(),
    });
    serde_json::from_value(record)
        .map_err(|error| StoreError::InvalidData(format!("scim user {id}: {error}")))
}

/// [`ScimUsers`](jit_provisioning::ScimUsers) and
/// [`DeprovisionedIdentities`](jit_provisioning::DeprovisionedIdentities) for a backend's
/// store: reads on its `pool()`, each write one transaction through its `write`. The
/// backend gives its connection type, the row lock its reads of a user to change take
/// (`""` where the transaction holds the database's write lock already), and two
/// associated functions: `scim_lock(conn, org, user_name_key)`, which serializes the
/// writes that could take that userName, and `scim_create_account(conn, account)`,
/// which creates the account, its identity and its memberships joined `scim` inside the
/// transaction, taking the next free handle when the proposed one is taken.
macro_rules! scim_users_store {
    ($module:ident, $store:ty, $conn:ty, $for_update:literal) => {
        mod $module {
            // The backend's store and connection types, as its module names them.
            #[allow(unused_imports)]
            use super::*;
            use chrono::{DateTime, Utc};
            use jit_provisioning::{
                Deprovisioned, DeprovisionedBy, DeprovisionedIdentities, Deprovisioning, Identity,
                NewProvisionedUser, ProvisionedUser, ProvisionedUserChange, ScimUserError,
                ScimUsers, StoreError, UserFilter,
            };

            use $crate::error::store_error;
            use $crate::scim_users as sql;

            type Conn = $conn;

            /// A live user of the org, locked for the change: its row id and whether it
            /// is active.
            async fn held(
                conn: &mut Conn,
                org: &str,
                id: &str,
            ) -> Result<(i64, ProvisionedUser), ScimUserError> {
                let not_found = || ScimUserError::NotFound(id.to_owned());
                let row_id = sql::scim_row(id).ok_or_else(not_found)?;
                let row = sqlx::query(concat!(
                    "SELECT ",
                    scim_user_columns!(),
                    " FROM jit_scim_users WHERE org = $1 AND id = $2 AND NOT deleted",
                    $for_update
                ))
                .bind(org)
                .bind(row_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(sql::scim_error)?
                .ok_or_else(not_found)?;
                Ok((row_id, sql::user(&row)?))
            }

            async fn by_id(conn: &mut Conn, id: i64) -> Result<ProvisionedUser, ScimUserError> {
                let row = sqlx::query(sql::USER_BY_ID)
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                Ok(sql::user(&row)?)
            }

            /// Fails with the conflict another live user of the org makes, if any.
            async fn unique(
                conn: &mut Conn,
                org: &str,
                except: i64,
                user_name: &str,
                external_id: Option<&str>,
                identity: &Identity,
            ) -> Result<(), ScimUserError> {
                let kind: Option<i32> = sqlx::query_scalar(sql::CONFLICT)
                    .bind(org)
                    .bind(sql::name_key(user_name))
                    .bind(external_id)
                    .bind(&identity.issuer)
                    .bind(&identity.subject)
                    .bind(except)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                match kind {
                    Some(kind) => Err(sql::conflict(kind, user_name, external_id, identity)),
                    None => Ok(()),
                }
            }

            async fn set_emails(
                conn: &mut Conn,
                id: i64,
                org: &str,
                emails: &[String],
            ) -> Result<(), ScimUserError> {
                sqlx::query(sql::DELETE_EMAILS)
                    .bind(id)
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                for key in sql::email_keys(emails) {
                    sqlx::query(sql::INSERT_EMAIL)
                        .bind(id)
                        .bind(org)
                        .bind(key)
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                }
                Ok(())
            }

            /// Gives back what deprovisioning took (contract item 6) and clears the mark.
            async fn restore(conn: &mut Conn, id: i64) -> Result<(), ScimUserError> {
                let (
                    account,
                    org,
                    issuer,
                    subject,
                    provisioned,
                    taken,
                    taken_role,
                    taken_joined,
                    taken_disabled,
                ): (
                    i64,
                    String,
                    String,
                    String,
                    Option<String>,
                    bool,
                    Option<String>,
                    Option<String>,
                    bool,
                ) = sqlx::query_as(sql::RESTORE_STATE)
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                let (taken_role, taken_joined) = if taken {
                    (sql::role(taken_role)?, sql::joined(taken_joined)?)
                } else {
                    (None, None)
                };
                let role = taken_role.or(sql::role(provisioned)?);
                if let Some(role) = role {
                    let joined = sql::joined_text(taken_joined).unwrap_or("scim");
                    sqlx::query(sql::GIVE_BACK)
                        .bind(account)
                        .bind(&org)
                        .bind(role.as_str())
                        .bind(joined)
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                }
                if taken && taken_disabled {
                    sqlx::query(sql::SET_DISABLED)
                        .bind(account)
                        .bind(false)
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                }
                if taken {
                    sqlx::query(sql::CLEAR_TAKEN)
                        .bind(id)
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                }
                sqlx::query(sql::CLEAR_MARK)
                    .bind(&org)
                    .bind(&issuer)
                    .bind(&subject)
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                Ok(())
            }

            /// Ends the user's access to its org (contract item 5), marking it `by`.
            async fn deprovision(
                conn: &mut Conn,
                id: i64,
                by: DeprovisionedBy,
                now: DateTime<Utc>,
            ) -> Result<Deprovisioning, ScimUserError> {
                let (account, org, issuer, subject, role, joined, disabled, others): (
                    i64,
                    String,
                    String,
                    String,
                    Option<String>,
                    Option<String>,
                    bool,
                    i64,
                ) = sqlx::query_as(sql::DEPROVISION_STATE)
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                let how = sql::joined(joined.clone())?;
                if role.is_some() {
                    sqlx::query(sql::REMOVE_MEMBERSHIP)
                        .bind(account)
                        .bind(&org)
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                }
                // The org owns the account when it made it and it belongs to no other
                // org: only then is disabling it the org's call.
                let owned = role.is_some()
                    && others == 0
                    && matches!(
                        how,
                        Some(jit_provisioning::Joined::Jit | jit_provisioning::Joined::Scim)
                    );
                let disabling = owned && !disabled;
                if disabling {
                    sqlx::query(sql::SET_DISABLED)
                        .bind(account)
                        .bind(true)
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                }
                sqlx::query(sql::SET_MARK)
                    .bind(&org)
                    .bind(&issuer)
                    .bind(&subject)
                    .bind(now.timestamp_micros())
                    .bind(sql::by_name(by))
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                sqlx::query(sql::SET_TAKEN)
                    .bind(id)
                    .bind(role.as_deref())
                    .bind(joined.as_deref())
                    .bind(disabling)
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                Ok(Deprovisioning::new(
                    sql::account(account),
                    role.is_some(),
                    disabling,
                ))
            }

            async fn set_state(
                conn: &mut Conn,
                id: i64,
                active: bool,
                deleted: bool,
                now: DateTime<Utc>,
            ) -> Result<(), ScimUserError> {
                sqlx::query(sql::SET_STATE)
                    .bind(id)
                    .bind(active)
                    .bind(deleted)
                    .bind(now.timestamp_micros())
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                Ok(())
            }

            async fn create(
                conn: &mut Conn,
                org: String,
                user: NewProvisionedUser,
                now: DateTime<Utc>,
            ) -> Result<ProvisionedUser, ScimUserError> {
                let identity = user.account.identity.clone();
                <$store>::scim_lock(&mut *conn, &org, &sql::name_key(&user.user_name)).await?;
                unique(
                    conn,
                    &org,
                    0,
                    &user.user_name,
                    user.external_id.as_deref(),
                    &identity,
                )
                .await?;
                let provisioned_role = user
                    .account
                    .memberships
                    .iter()
                    .filter(|grant| grant.org == org)
                    .map(|grant| grant.role)
                    .max();
                // A tombstone of this identity at this org: what deleting it took.
                let tombstone: Option<(i64, Option<String>, Option<String>, bool)> =
                    sqlx::query_as(sql::TOMBSTONE)
                        .bind(&org)
                        .bind(&identity.issuer)
                        .bind(&identity.subject)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                let linked: Option<i64> = sqlx::query_scalar(sql::LINKED)
                    .bind(&identity.issuer)
                    .bind(&identity.subject)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                let (account, taken) = match linked {
                    // Taken over: the person signed in by JIT before, or was deleted.
                    Some(account) => (account, tombstone.clone()),
                    None => (
                        <$store>::scim_create_account(&mut *conn, &user.account).await?,
                        None,
                    ),
                };
                if let Some((tomb, ..)) = &tombstone {
                    // Its restoration moves to the new record.
                    sqlx::query(sql::CLEAR_TAKEN)
                        .bind(tomb)
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                }
                let (taken_role, taken_joined, taken_disabled) = match &taken {
                    Some((_, role, joined, disabled)) => (role.clone(), joined.clone(), *disabled),
                    None => (None, None, false),
                };
                let id: i64 = sqlx::query_scalar(sql::INSERT_USER)
                    .bind(&org)
                    .bind(account)
                    .bind(&user.user_name)
                    .bind(sql::name_key(&user.user_name))
                    .bind(&user.external_id)
                    .bind(&identity.issuer)
                    .bind(&identity.subject)
                    .bind(&user.account.given_name)
                    .bind(&user.account.family_name)
                    .bind(&user.display_name)
                    .bind(sql::emails_json(&user.emails))
                    .bind(provisioned_role.map(|role| role.as_str()))
                    .bind(taken.is_some())
                    .bind(taken_role)
                    .bind(taken_joined)
                    .bind(taken_disabled)
                    .bind(now.timestamp_micros())
                    .bind(&user.resource)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                set_emails(conn, id, &org, &user.emails).await?;
                // Taken over or created again: restored, and no longer deprovisioned.
                restore(conn, id).await?;
                by_id(conn, id).await
            }

            async fn replace(
                conn: &mut Conn,
                org: String,
                id: String,
                change: ProvisionedUserChange,
                now: DateTime<Utc>,
            ) -> Result<ProvisionedUser, ScimUserError> {
                let (row, held) = held(conn, &org, &id).await?;
                <$store>::scim_lock(&mut *conn, &org, &sql::name_key(&change.user_name)).await?;
                unique(
                    conn,
                    &org,
                    row,
                    &change.user_name,
                    change.external_id.as_deref(),
                    &change.identity,
                )
                .await?;
                if change.identity != held.identity {
                    let linked: bool = sqlx::query_scalar(sql::IDENTITY_LINKED)
                        .bind(&change.identity.issuer)
                        .bind(&change.identity.subject)
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                    if linked {
                        return Err(ScimUserError::Conflict(format!(
                            "identity {} is linked to another account",
                            change.identity
                        )));
                    }
                    let account = $crate::rows::row_id(&held.account).unwrap_or_default();
                    sqlx::query(sql::RELINK)
                        .bind(account)
                        .bind(&held.identity.issuer)
                        .bind(&held.identity.subject)
                        .bind(&change.identity.issuer)
                        .bind(&change.identity.subject)
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                    sqlx::query(sql::MOVE_MARK)
                        .bind(&org)
                        .bind(&held.identity.issuer)
                        .bind(&held.identity.subject)
                        .bind(&change.identity.issuer)
                        .bind(&change.identity.subject)
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                }
                sqlx::query(sql::REPLACE_USER)
                    .bind(row)
                    .bind(&change.user_name)
                    .bind(sql::name_key(&change.user_name))
                    .bind(&change.external_id)
                    .bind(&change.given_name)
                    .bind(&change.family_name)
                    .bind(&change.display_name)
                    .bind(sql::emails_json(&change.emails))
                    .bind(&change.identity.issuer)
                    .bind(&change.identity.subject)
                    .bind(now.timestamp_micros())
                    .bind(&change.resource)
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                set_emails(conn, row, &org, &change.emails).await?;
                by_id(conn, row).await
            }

            async fn activate(
                conn: &mut Conn,
                org: String,
                id: String,
                active: bool,
                now: DateTime<Utc>,
            ) -> Result<(ProvisionedUser, Option<Deprovisioning>), ScimUserError> {
                let (row, held) = held(conn, &org, &id).await?;
                if held.active == active {
                    return Ok((held, None));
                }
                let done = if active {
                    restore(conn, row).await?;
                    None
                } else {
                    Some(deprovision(conn, row, DeprovisionedBy::Deactivated, now).await?)
                };
                set_state(conn, row, active, false, now).await?;
                Ok((by_id(conn, row).await?, done))
            }

            async fn delete(
                conn: &mut Conn,
                org: String,
                id: String,
                now: DateTime<Utc>,
            ) -> Result<Deprovisioning, ScimUserError> {
                let (row, held) = held(conn, &org, &id).await?;
                let done = if held.active {
                    deprovision(conn, row, DeprovisionedBy::Deleted, now).await?
                } else {
                    // Already deactivated: the mark now says deleted; nothing more is taken.
                    sqlx::query(sql::SET_MARK)
                        .bind(&org)
                        .bind(&held.identity.issuer)
                        .bind(&held.identity.subject)
                        .bind(now.timestamp_micros())
                        .bind(sql::by_name(DeprovisionedBy::Deleted))
                        .execute(&mut *conn)
                        .await
                        .map_err(sql::scim_error)?;
                    Deprovisioning::new(held.account.clone(), false, false)
                };
                // A deleted user leaves its groups (groups contract item 6).
                sqlx::query($crate::scim_groups::LEAVE_GROUPS)
                    .bind(row)
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::scim_error)?;
                set_state(conn, row, false, true, now).await?;
                Ok(done)
            }

            #[async_trait::async_trait]
            impl ScimUsers for $store {
                async fn create_user(
                    &self,
                    org: &str,
                    user: NewProvisionedUser,
                    now: DateTime<Utc>,
                ) -> Result<ProvisionedUser, ScimUserError> {
                    let org = org.to_owned();
                    self.write(None, move |conn| Box::pin(create(conn, org, user, now)))
                        .await
                }

                async fn user(
                    &self,
                    org: &str,
                    id: &str,
                ) -> Result<Option<ProvisionedUser>, StoreError> {
                    let Some(row) = sql::scim_row(id) else {
                        return Ok(None);
                    };
                    let row = sqlx::query(sql::USER)
                        .bind(org)
                        .bind(row)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(store_error)?;
                    row.as_ref().map(sql::user).transpose()
                }

                async fn users(
                    &self,
                    org: &str,
                    filter: &UserFilter,
                    start: usize,
                    count: usize,
                ) -> Result<(Vec<ProvisionedUser>, usize), StoreError> {
                    let value = sql::filter_value(filter);
                    let page_sql = sql::users_page(filter);
                    let mut query = sqlx::query(&page_sql).bind(org);
                    if let Some(value) = &value {
                        query = query.bind(value.as_str());
                    }
                    let limit = i64::try_from(count).unwrap_or(i64::MAX);
                    let offset = i64::try_from(start).unwrap_or(i64::MAX);
                    let rows = query
                        .bind(limit)
                        .bind(offset)
                        .fetch_all(self.pool())
                        .await
                        .map_err(store_error)?;
                    let total = match rows.first() {
                        Some(first) if sql::counted(filter) => {
                            sqlx::Row::try_get::<i64, _>(first, 16).map_err(store_error)?
                        }
                        _ => {
                            let count_sql = sql::users_count(filter);
                            let mut query = sqlx::query_scalar::<_, i64>(&count_sql).bind(org);
                            if let Some(value) = &value {
                                query = query.bind(value.as_str());
                            }
                            query.fetch_one(self.pool()).await.map_err(store_error)?
                        }
                    };
                    let users = rows.iter().map(sql::user).collect::<Result<_, _>>()?;
                    Ok((users, usize::try_from(total).unwrap_or_default()))
                }

                async fn replace_user(
                    &self,
                    org: &str,
                    id: &str,
                    change: ProvisionedUserChange,
                    now: DateTime<Utc>,
                ) -> Result<ProvisionedUser, ScimUserError> {
                    let (org, id) = (org.to_owned(), id.to_owned());
                    self.write(None, move |conn| {
                        Box::pin(replace(conn, org, id, change, now))
                    })
                    .await
                }

                async fn set_active(
                    &self,
                    org: &str,
                    id: &str,
                    active: bool,
                    now: DateTime<Utc>,
                ) -> Result<(ProvisionedUser, Option<Deprovisioning>), ScimUserError> {
                    let (org, id) = (org.to_owned(), id.to_owned());
                    self.write(None, move |conn| {
                        Box::pin(activate(conn, org, id, active, now))
                    })
                    .await
                }

                async fn delete_user(
                    &self,
                    org: &str,
                    id: &str,
                    now: DateTime<Utc>,
                ) -> Result<Deprovisioning, ScimUserError> {
                    let (org, id) = (org.to_owned(), id.to_owned());
                    self.write(None, move |conn| Box::pin(delete(conn, org, id, now)))
                        .await
                }
            }

            #[async_trait::async_trait]
            impl DeprovisionedIdentities for $store {
                async fn deprovisioned(
                    &self,
                    org: &str,
                    identity: &Identity,
                ) -> Result<Option<Deprovisioned>, StoreError> {
                    let mark: Option<(i64, String)> = sqlx::query_as(sql::MARK)
                        .bind(org)
                        .bind(&identity.issuer)
                        .bind(&identity.subject)
                        .fetch_optional(self.pool())
                        .await
                        .map_err(store_error)?;
                    mark.map(|(at, by)| sql::mark(at, &by)).transpose()
                }
            }
        }
    };
}
