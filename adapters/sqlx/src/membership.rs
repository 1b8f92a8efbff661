//! Invites and memberships ([`MembershipStore`](jit_provisioning::MembershipStore)) in the
//! store's database, for both backends.
//!
//! What the two do alike is here, once: the statements (both accept `$N` placeholders,
//! so one text serves both), every read, and the steps of each write inside the
//! transaction its backend began. A backend says only how a write's transaction starts,
//! which is what makes the last-admin check hold under concurrency: on SQLite every
//! write holds the database's write lock from its first statement (`BEGIN IMMEDIATE`);
//! on PostgreSQL a demotion or removal first takes a transaction-level advisory lock on
//! its org, so that the admins it counts are still the admins when it commits.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use jit_provisioning::{
    email_key, AccountId, Grant, Identity, Invite, Invitee, Member, MembershipError, Role,
    StoreError,
};

use crate::error::{is_missing_parent, store_error};
use crate::queries;
use crate::rows::{self, account_id, row_id};

/// One write's steps on the connection its backend's transaction holds, boxed so that a
/// backend's `write` can take any of them.
pub(crate) type Step<'c, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>;

/// An invite's columns, in the order [`Members::invite`] reads them.
macro_rules! invite_columns {
    () => {
        "id, org, role, invitee_account, email, bound_issuer, bound_subject, invited_by, \
         created_at, expires_at"
    };
}

/// Stores an invite, unless it is to an account that does not exist: no row back then.
/// The account is checked in the statement rather than left to the foreign key, which a
/// SQLite pool built without `foreign_keys` would not enforce. Binds org, role, invitee
/// account (NULL for an email), email, email key, bound issuer and subject, who invited,
/// when, until when.
const CREATE_INVITE: &str = "INSERT INTO jit_invites
        (org, role, invitee_account, email, email_key, bound_issuer, bound_subject,
         invited_by, created_at, expires_at)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
     WHERE $3 IS NULL OR EXISTS (SELECT 1 FROM jit_accounts WHERE id = $3)
    RETURNING id";

/// An org's open invites, oldest first (the `(org, created_at)` index). Binds the org
/// and the moment, in Unix microseconds.
const OPEN_INVITES: &str = concat!(
    "SELECT ",
    invite_columns!(),
    " FROM jit_invites WHERE org = $1 AND expires_at > $2 ORDER BY created_at, id"
);

/// The open invites to an org that a sign-in could accept: those bound to its identity,
/// and the unbound ones to its account or its email key, each by an index of its own (the
/// three parts are disjoint). Unordered: an `ORDER BY` here makes SQLite read the org's
/// invites in order of creation instead. Binds org, moment, issuer, subject, account
/// (NULL for none), email key (NULL for none).
const INVITES_FOR: &str = concat!(
    "SELECT ",
    invite_columns!(),
    " FROM jit_invites
     WHERE org = $1 AND bound_issuer = $3 AND bound_subject = $4 AND expires_at > $2
    UNION ALL
    SELECT ",
    invite_columns!(),
    " FROM jit_invites
     WHERE org = $1 AND invitee_account = $5 AND bound_issuer IS NULL AND expires_at > $2
    UNION ALL
    SELECT ",
    invite_columns!(),
    " FROM jit_invites
     WHERE org = $1 AND email_key = $6 AND bound_issuer IS NULL AND expires_at > $2"
);

/// Revokes one of an org's invites. Binds id, org.
const REVOKE_INVITE: &str = "DELETE FROM jit_invites WHERE id = $1 AND org = $2 RETURNING id";

/// Takes an invite for an account that exists, returning its org and role; no row back
/// when the invite is gone (revoked, or accepted by a racing twin) or the account does
/// not exist. Binds invite id, account id.
const TAKE_INVITE: &str = "DELETE FROM jit_invites
     WHERE id = $1 AND EXISTS (SELECT 1 FROM jit_accounts WHERE id = $2)
    RETURNING org, role";

/// The ranking of roles in SQL, lowest first, as the core orders them: `role` is an
/// expression naming one. A role the ranking does not know ranks NULL.
macro_rules! rank {
    ($role:literal) => {
        concat!(
            "(CASE ",
            $role,
            " WHEN 'member' THEN 0 WHEN 'contributor' THEN 1 WHEN 'admin' THEN 2 END)"
        )
    };
}

/// The membership an accepted invite gives: added as joined by invite, or, for a member
/// already, its role raised to the invite's when that ranks higher (a role held never
/// falls, and how it joined stays). Returns the role now held. Binds account id, org,
/// role.
const JOIN_BY_INVITE: &str = concat!(
    "INSERT INTO jit_memberships (account_id, org, role, joined) VALUES ($1, $2, $3, 'invite')
    ON CONFLICT (account_id, org) DO UPDATE SET role = CASE
        WHEN ",
    rank!("excluded.role"),
    " > ",
    rank!("jit_memberships.role"),
    " THEN excluded.role ELSE jit_memberships.role END
    RETURNING role"
);

/// What a demotion or removal must know, read after its backend's lock: whether the
/// account exists, the role it holds in the org (NULL for none) and how many admins the
/// org has (the `(org, role)` index). Binds account id, org.
const ADMIN_STATE: &str = "SELECT
    EXISTS (SELECT 1 FROM jit_accounts WHERE id = $1),
    (SELECT role FROM jit_memberships WHERE account_id = $1 AND org = $2),
    (SELECT count(*) FROM jit_memberships WHERE org = $2 AND role = 'admin')";

/// Sets a role, adding the membership as joined by hand when there was none (how an
/// existing one joined stays). Binds account id, org, role.
const SET_ROLE: &str = "INSERT INTO jit_memberships (account_id, org, role, joined)
    VALUES ($1, $2, $3, 'hand')
    ON CONFLICT (account_id, org) DO UPDATE SET role = excluded.role";

/// Ends a membership. Binds account id, org.
const REMOVE_MEMBER: &str =
    "DELETE FROM jit_memberships WHERE account_id = $1 AND org = $2 RETURNING account_id";

/// The [`MembershipStore`](jit_provisioning::MembershipStore) of a backend's store: the
/// reads from [`Members`] on its `pool()`, the writes through its own `write`, which runs
/// a [`Step`] in a transaction (the org named when the step counts the org's admins).
macro_rules! membership_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl jit_provisioning::MembershipStore for $store {
            async fn create_invite(
                &self,
                invite: &jit_provisioning::Invite,
            ) -> Result<jit_provisioning::Invite, jit_provisioning::StoreError> {
                let prepared = $crate::membership::NewInvite::new(invite)?;
                self.write(None, move |tx| {
                    Box::pin($crate::membership::Members::<$db>::create_invite(
                        tx, prepared,
                    ))
                })
                .await
            }

            async fn open_invites(
                &self,
                org: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<jit_provisioning::Invite>, jit_provisioning::StoreError> {
                $crate::membership::Members::<$db>::open_invites(self.pool(), org, now).await
            }

            async fn invites_for(
                &self,
                org: &str,
                identity: &jit_provisioning::Identity,
                email: Option<&str>,
                account: Option<&jit_provisioning::AccountId>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<jit_provisioning::Invite>, jit_provisioning::StoreError> {
                $crate::membership::Members::<$db>::invites_for(
                    self.pool(),
                    org,
                    identity,
                    email,
                    account,
                    now,
                )
                .await
            }

            async fn revoke_invite(
                &self,
                org: &str,
                id: &str,
            ) -> Result<bool, jit_provisioning::StoreError> {
                let Some(id) = $crate::rows::decimal(id) else {
                    return Ok(false);
                };
                let org = org.to_owned();
                self.write(None, move |tx| {
                    Box::pin($crate::membership::Members::<$db>::revoke_invite(
                        tx, id, org,
                    ))
                })
                .await
            }

            async fn accept_invite(
                &self,
                id: &str,
                account: &jit_provisioning::AccountId,
            ) -> Result<Option<jit_provisioning::Grant>, jit_provisioning::StoreError> {
                let (Some(id), Some(account)) =
                    ($crate::rows::decimal(id), $crate::rows::row_id(account))
                else {
                    return Ok(None);
                };
                self.write(None, move |tx| {
                    Box::pin($crate::membership::Members::<$db>::accept_invite(
                        tx, id, account,
                    ))
                })
                .await
            }

            async fn account_by_handle(
                &self,
                handle: &str,
            ) -> Result<Option<jit_provisioning::AccountRecord>, jit_provisioning::StoreError> {
                let query =
                    sqlx::query($crate::queries::RECORD_BY_HANDLE).bind($crate::rows::key(handle));
                Ok(self.records(query).await?.into_iter().next())
            }

            async fn members(
                &self,
                org: &str,
            ) -> Result<Vec<jit_provisioning::Member>, jit_provisioning::StoreError> {
                $crate::membership::Members::<$db>::members(self.pool(), org).await
            }

            async fn set_role(
                &self,
                account: &jit_provisioning::AccountId,
                org: &str,
                role: jit_provisioning::Role,
            ) -> Result<(), jit_provisioning::MembershipError> {
                let (account, owned) = (account.clone(), org.to_owned());
                self.write(Some(org), move |tx| {
                    Box::pin($crate::membership::Members::<$db>::set_role(
                        tx, account, owned, role,
                    ))
                })
                .await
            }

            async fn remove_member(
                &self,
                account: &jit_provisioning::AccountId,
                org: &str,
            ) -> Result<bool, jit_provisioning::MembershipError> {
                let (account, owned) = (account.clone(), org.to_owned());
                self.write(Some(org), move |tx| {
                    Box::pin($crate::membership::Members::<$db>::remove_member(
                        tx, account, owned,
                    ))
                })
                .await
            }
        }
    };
}
pub(crate) use membership_store;

/// An invite as its row holds it, made ready before the write begins.
#[derive(Debug)]
pub(crate) struct NewInvite {
    invite: Invite,
    account: Option<i64>,
    email: Option<String>,
    email_key: Option<String>,
    created_at: i64,
    expires_at: i64,
}

impl NewInvite {
    /// The row for `invite`; an invite to an account id that names no row is refused
    /// here, before any statement.
    pub(crate) fn new(invite: &Invite) -> Result<Self, StoreError> {
        let (account, email) = match &invite.invitee {
            Invitee::Account(id) => (Some(row_id(id).ok_or_else(|| no_invitee(id))?), None),
            Invitee::Email(email) => (None, Some(email.clone())),
        };
        let created_at = invite.created_at.timestamp_micros();
        let expires_at = invite.expires_at.timestamp_micros();
        let mut invite = invite.clone();
        // What reads back: the times to the microsecond.
        invite.created_at = instant(created_at)?;
        invite.expires_at = instant(expires_at)?;
        Ok(NewInvite {
            email_key: email.as_deref().map(email_key),
            email,
            account,
            created_at,
            expires_at,
            invite,
        })
    }
}

/// The refusal of an invite to an account that does not exist.
fn no_invitee(id: &AccountId) -> StoreError {
    StoreError::InvalidData(format!("an invite to account `{id}`, which does not exist"))
}

/// The instant `micros` Unix microseconds name.
fn instant(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| {
        StoreError::InvalidData(format!("an invite's time {micros} is out of range"))
    })
}

fn role(stored: &str, what: impl FnOnce() -> String) -> Result<Role, StoreError> {
    stored
        .parse()
        .map_err(|error| StoreError::InvalidData(format!("{}: {error}", what())))
}

/// The membership statements and reads over one backend.
pub(crate) struct Members<DB>(PhantomData<DB>);

impl<DB> Members<DB>
where
    DB: Database,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'q> i32: Decode<'q, DB> + Type<DB>,
    for<'q> bool: Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    pub(crate) async fn create_invite(
        connection: &mut DB::Connection,
        new: NewInvite,
    ) -> Result<Invite, StoreError> {
        let bound = new.invite.subject.as_ref();
        let id: Option<i64> = sqlx::query_scalar(CREATE_INVITE)
            .bind(new.invite.org.clone())
            .bind(new.invite.role.as_str().to_owned())
            .bind(new.account)
            .bind(new.email.clone())
            .bind(new.email_key.clone())
            .bind(bound.map(|identity| identity.issuer.clone()))
            .bind(bound.map(|identity| identity.subject.clone()))
            .bind(new.invite.invited_by.clone())
            .bind(new.created_at)
            .bind(new.expires_at)
            .fetch_optional(&mut *connection)
            .await
            .map_err(
                |error| match (&new.invite.invitee, is_missing_parent(&error)) {
                    (Invitee::Account(id), true) => no_invitee(id),
                    _ => store_error(error),
                },
            )?;
        match (id, &new.invite.invitee) {
            (Some(id), _) => Ok(new.invite.with_id(id.to_string())),
            (None, Invitee::Account(id)) => Err(no_invitee(id)),
            (None, Invitee::Email(_)) => Err(StoreError::InvalidData(
                "an invite to an email was not stored".into(),
            )),
        }
    }

    pub(crate) async fn open_invites(
        pool: &Pool<DB>,
        org: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invite>, StoreError> {
        let rows = sqlx::query(OPEN_INVITES)
            .bind(org.to_owned())
            .bind(now.timestamp_micros())
            .fetch_all(pool)
            .await
            .map_err(store_error)?;
        rows.iter().map(Self::invite).collect()
    }

    pub(crate) async fn invites_for(
        pool: &Pool<DB>,
        org: &str,
        identity: &Identity,
        email: Option<&str>,
        account: Option<&AccountId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invite>, StoreError> {
        let rows = sqlx::query(INVITES_FOR)
            .bind(org.to_owned())
            .bind(now.timestamp_micros())
            .bind(identity.issuer.clone())
            .bind(identity.subject.clone())
            .bind(account.and_then(row_id))
            .bind(email.map(email_key))
            .fetch_all(pool)
            .await
            .map_err(store_error)?;
        let mut found = rows
            .iter()
            .map(Self::invite)
            .collect::<Result<Vec<_>, _>>()?;
        // Oldest first, as `open_invites` lists them.
        found.sort_by_cached_key(|invite| (invite.created_at, rows::decimal(&invite.id)));
        Ok(found)
    }

    pub(crate) async fn revoke_invite(
        connection: &mut DB::Connection,
        id: i64,
        org: String,
    ) -> Result<bool, StoreError> {
        let revoked = sqlx::query(REVOKE_INVITE)
            .bind(id)
            .bind(org)
            .fetch_optional(&mut *connection)
            .await
            .map_err(store_error)?;
        Ok(revoked.is_some())
    }

    /// Item 1 of the contract, in the caller's transaction: the invite taken (only one
    /// of racing acceptances finds it), then the membership it gives. Nothing is written
    /// when either fails, the caller's transaction rolling back.
    pub(crate) async fn accept_invite(
        connection: &mut DB::Connection,
        id: i64,
        account: i64,
    ) -> Result<Option<Grant>, StoreError> {
        let taken = sqlx::query(TAKE_INVITE)
            .bind(id)
            .bind(account)
            .fetch_optional(&mut *connection)
            .await
            .map_err(store_error)?;
        let Some(taken) = taken else {
            return Ok(None);
        };
        let decoded = (|| Ok::<_, sqlx::Error>((taken.try_get(0)?, taken.try_get(1)?)))();
        let (org, invited): (String, String) = decoded.map_err(store_error)?;
        let held: String = sqlx::query_scalar(JOIN_BY_INVITE)
            .bind(account)
            .bind(org.clone())
            .bind(invited)
            .fetch_one(&mut *connection)
            .await
            .map_err(store_error)?;
        let role = role(&held, || {
            format!("account `{}` in org `{org}`", account_id(account))
        })?;
        Ok(Some(Grant { org, role }))
    }

    pub(crate) async fn members(pool: &Pool<DB>, org: &str) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(queries::MEMBERS)
            .bind(org.to_owned())
            .fetch_all(pool)
            .await
            .map_err(store_error)?;
        let parts = rows.iter().map(rows::part).collect::<Result<_, _>>()?;
        rows::members(parts, org)
    }

    /// Item 3, in the caller's transaction, which holds what makes the org's demotions
    /// and removals take turns: the account's role and the org's admins read, the change
    /// refused if it would leave no admin, else made.
    pub(crate) async fn set_role(
        connection: &mut DB::Connection,
        account: AccountId,
        org: String,
        role: Role,
    ) -> Result<(), MembershipError> {
        let Some(id) = row_id(&account) else {
            return Err(MembershipError::NoSuchAccount(account));
        };
        let held = Self::admin_state(connection, id, &account, &org).await?;
        if held.is_last_admin() && role != Role::Admin {
            return Err(MembershipError::LastAdmin);
        }
        sqlx::query(SET_ROLE)
            .bind(id)
            .bind(org)
            .bind(role.as_str().to_owned())
            .execute(&mut *connection)
            .await
            .map_err(|error| membership_error(error, account))?;
        Ok(())
    }

    /// Like [`Members::set_role`], for a removal.
    pub(crate) async fn remove_member(
        connection: &mut DB::Connection,
        account: AccountId,
        org: String,
    ) -> Result<bool, MembershipError> {
        let Some(id) = row_id(&account) else {
            return Err(MembershipError::NoSuchAccount(account));
        };
        let held = Self::admin_state(connection, id, &account, &org).await?;
        if held.is_last_admin() {
            return Err(MembershipError::LastAdmin);
        }
        let removed = sqlx::query(REMOVE_MEMBER)
            .bind(id)
            .bind(org)
            .fetch_optional(&mut *connection)
            .await
            .map_err(|error| membership_error(error, account))?;
        Ok(removed.is_some())
    }

    /// [`ADMIN_STATE`] for account `id` in `org`; an account that does not exist is
    /// [`MembershipError::NoSuchAccount`].
    async fn admin_state(
        connection: &mut DB::Connection,
        id: i64,
        account: &AccountId,
        org: &str,
    ) -> Result<AdminState, MembershipError> {
        let row = sqlx::query(ADMIN_STATE)
            .bind(id)
            .bind(org.to_owned())
            .fetch_one(&mut *connection)
            .await
            .map_err(store_error)?;
        let decoded =
            (|| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))();
        let (exists, held, admins): (bool, Option<String>, i64) = decoded.map_err(store_error)?;
        if !exists {
            return Err(MembershipError::NoSuchAccount(account.clone()));
        }
        Ok(AdminState {
            admin: held.as_deref() == Some(Role::Admin.as_str()),
            admins,
        })
    }

    /// A row of [`OPEN_INVITES`] or [`INVITES_FOR`].
    fn invite(row: &DB::Row) -> Result<Invite, StoreError> {
        #[allow(clippy::type_complexity)]
        let decoded: Result<
            (
                i64,
                String,
                String,
                Option<i64>,
                Option<String>,
                Option<String>,
                Option<String>,
                String,
                i64,
                i64,
            ),
            sqlx::Error,
        > = (|| {
            Ok((
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
                row.try_get(5)?,
                row.try_get(6)?,
                row.try_get(7)?,
                row.try_get(8)?,
                row.try_get(9)?,
            ))
        })();
        let (id, org, stored_role, account, email, issuer, subject, by, created_at, expires_at) =
            decoded.map_err(store_error)?;
        let role = role(&stored_role, || format!("invite {id} to org `{org}`"))?;
        let invitee = match (account, email) {
            (Some(account), None) => Invitee::Account(account_id(account)),
            (None, Some(email)) => Invitee::Email(email),
            _ => {
                return Err(StoreError::InvalidData(format!(
                    "invite {id} is not to one account or one email"
                )))
            }
        };
        let mut invite = Invite::new(org, role, invitee, by, instant(created_at)?)
            .expiring_at(instant(expires_at)?)
            .with_id(id.to_string());
        match (issuer, subject) {
            (Some(issuer), Some(subject)) => invite = invite.bound_to(Identity { issuer, subject }),
            (None, None) => {}
            _ => {
                return Err(StoreError::InvalidData(format!(
                    "invite {id} is bound to half an identity"
                )))
            }
        }
        Ok(invite)
    }
}

/// What a demotion or removal found under its lock.
#[derive(Debug, Clone, Copy)]
struct AdminState {
    /// The account is an admin of the org.
    admin: bool,
    /// How many admins the org has.
    admins: i64,
}

impl AdminState {
    /// Whether the account is the org's only admin: then it may not stop being one.
    fn is_last_admin(self) -> bool {
        self.admin && self.admins <= 1
    }
}

/// A failed membership write: the account deleted meanwhile, or the store.
fn membership_error(error: sqlx::Error, account: AccountId) -> MembershipError {
    if is_missing_parent(&error) {
        MembershipError::NoSuchAccount(account)
    } else {
        MembershipError::Store(store_error(error))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_upsert_ranks_roles_as_the_core_orders_them() {
        let mut roles = [Role::Admin, Role::Member, Role::Contributor];
        roles.sort();
        for (rank, role) in roles.iter().enumerate() {
            let arm = format!("WHEN '{role}' THEN {rank}");
            assert_eq!(JOIN_BY_INVITE.matches(&arm).count(), 2, "{arm}");
        }
        assert!(ADMIN_STATE.contains(&format!("role = '{}'", Role::Admin)));
    }

    #[test]
    fn an_invite_row_keeps_its_times_to_the_microsecond() {
        let at = Utc.timestamp_opt(1_800_000_000, 123_456_789).unwrap();
        let invite = Invite::new(
            "acme",
            Role::Member,
            Invitee::Email("Jane@Acme.example".into()),
            "sam",
            at,
        );
        let new = NewInvite::new(&invite).unwrap();
        assert_eq!(new.invite.created_at.timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(new.created_at, 1_800_000_000_123_456);
        assert_eq!(new.email_key.as_deref(), Some("jane@acme.example"));
        assert_eq!(new.email.as_deref(), Some("Jane@Acme.example"));
        let far = invite.clone().expiring_at(DateTime::<Utc>::MAX_UTC);
        let new = NewInvite::new(&far).unwrap();
        assert!(new.expires_at > new.created_at);
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_reads_use_the_indexes() {
        use crate::sqlite::tests::plan;

        let store = crate::SqliteStore::connect("sqlite::memory:")
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let binds = ["acme", "1", "https://idp", "s1", "7", "jane@acme.example"];
        let found = plan(&store, INVITES_FOR, &binds).await;
        for index in [
            "jit_invites_org_bound",
            "jit_invites_org_account",
            "jit_invites_org_email_key",
        ] {
            assert!(found.contains(index), "{index}\n{found}");
        }
        assert!(!found.contains("SCAN jit_invites"), "{found}");
        let open = plan(&store, OPEN_INVITES, &["acme", "1"]).await;
        assert!(open.contains("jit_invites_org_created"), "{open}");
        assert!(!open.contains("TEMP B-TREE"), "{open}");
        for (sql, binds) in [
            (ADMIN_STATE, &["7", "acme"][..]),
            (queries::MEMBERS, &["acme"][..]),
        ] {
            let steps = plan(&store, sql, binds).await;
            assert!(!steps.contains("SCAN jit_memberships"), "{sql}\n{steps}");
            assert!(!steps.contains("SCAN jit_accounts"), "{sql}\n{steps}");
        }
    }

    #[test]
    fn an_invite_to_an_account_that_cannot_exist_is_refused() {
        let at = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        let invite = Invite::new(
            "acme",
            Role::Member,
            Invitee::Account("acct-7".into()),
            "sam",
            at,
        );
        assert!(matches!(
            NewInvite::new(&invite),
            Err(StoreError::InvalidData(m)) if m.contains("acct-7")
        ));
    }
}
