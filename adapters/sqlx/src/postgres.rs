//! [`PgStore`]: one PostgreSQL database shared by several app servers.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor, Postgres};

use jit_provisioning::{
    email_key, AccountId, AccountLookup, AccountRecord, AccountStore, CreateError, Grant,
    HandleChoice, Identity, LinkError, NewAccount, ScimUserError, StoreError,
};

use crate::error::{create_error, import_error, is_missing_parent, store_error, violated};
use crate::import::{self, ImportedAccount};
use crate::membership::{membership_store, Step};
use crate::queries;
use crate::rows::{self, key, row_id};
use crate::schema::{self, Unique};

/// An [`AccountStore`] in a PostgreSQL database, for app servers that share one, and the
/// [`MembershipStore`](jit_provisioning::MembershipStore) of its invites and memberships.
///
/// Every write is a single statement in the usual case, so it is atomic on its own and
/// holds its locks for one round trip: account creation inserts the account, its
/// identity and its memberships in one statement, under a shared advisory lock on the
/// handle's base. When the proposed handle turns out taken (a burst of first logins of
/// one name), the creation takes that lock exclusively in a transaction, reads the
/// handles under the stems and inserts the next free one ([`NewAccount::free_handle`]):
/// creations of one base then take turns, and each still succeeds at its first try.
///
/// An invite's acceptance is one transaction that deletes the invite, returning it, and
/// then gives the membership: of two racing acceptances the second waits for the first's
/// row lock and finds the invite gone. A demotion or removal first takes a
/// transaction-level advisory lock on its org (`pg_advisory_xact_lock`, keyed by
/// `hashtext` of the org) and only then, in a statement of its own (so a fresh READ
/// COMMITTED snapshot), counts the org's admins: the org's demotions and removals take
/// turns, each counting after the one before has committed, and the org keeps its last
/// admin even when two of them go on two app servers at once. Other writes only add
/// admins, and take no such lock.
///
/// ```no_run
/// use jit_provisioning::{AccountStore, Identity};
/// use jit_provisioning_sqlx::PgStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = PgStore::connect("postgres://app@127.0.0.1/app").await?;
/// store.migrate().await?;
/// let nobody = Identity { issuer: "https://idp.acme.example".into(), subject: "00u1".into() };
/// assert_eq!(store.account_by_identity(&nobody).await?, None);
/// # Ok::<_, jit_provisioning::StoreError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// How long a connection may sit idle in a pool of [`PgStore::pool_options`] before it
/// is pinged again before use.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Taken by [`PgStore::migrate`] for its transaction, so that app servers starting
/// together migrate one after the other. (The bytes of "jitprov!".)
const MIGRATION_LOCK: i64 = 0x6a69_7470_726f_7621;

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`)
    /// with a pool of sqlx's default size. A server that cannot be reached is
    /// [`StoreError::Unavailable`] at once, with the reason; a database that does not
    /// exist is [`StoreError::NotSetUp`].
    ///
    /// The tables go to the first schema of the connection's `search_path`; to keep them
    /// in a schema of their own, add `?options=-c%20search_path%3Dname` to the URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(store_error)?;
        // sqlx's pool takes a refused connection for a server still starting up and
        // retries until its acquire timeout (30 s), then reports only the timeout. One
        // direct attempt first tells at once why the server does not answer.
        PgConnection::connect_with(&options)
            .await
            .map_err(store_error)?
            .close()
            .await
            .map_err(store_error)?;
        Ok(Self::from_pool(
            Self::pool_options().connect_lazy_with(options),
        ))
    }

    /// The pool settings [`PgStore::connect`] uses: sqlx's defaults, except that a
    /// connection is pinged before use only when it has sat idle in the pool for over
    /// [`PING_AFTER_IDLE`] (sqlx pings before every use). A first login makes two store
    /// calls, each taking a connection; on the two-core machine of `BENCHMARKS.md` those
    /// two pings cost the provisioner a tenth to a third of its accounts per second with
    /// 8 tasks. A connection in steady use is proven alive by its last statement; one
    /// that idled, perhaps across a server restart, is still tested and replaced.
    ///
    /// For a pool of the app's own, start from these and hand the pool to
    /// [`PgStore::from_pool`].
    pub fn pool_options() -> PgPoolOptions {
        PgPoolOptions::new()
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_AFTER_IDLE {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
    }

    /// A store over a pool the app built.
    pub fn from_pool(pool: PgPool) -> Self {
        PgStore { pool }
    }

    /// Creates or updates the adapter's tables (`jit_accounts`, `jit_identities`,
    /// `jit_memberships`, `jit_assertion_ids`, `jit_orgs`, `jit_org_history`,
    /// `jit_invites`, `jit_admin_events`, `jit_owner_links`, `jit_scim_tokens`,
    /// `jit_scim_users`, `jit_scim_user_emails`, `jit_deprovisioned`, and
    /// `jit_schema_migrations` to remember what was applied).
    /// Safe to call at every start-up, from several app servers at once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.migrate_inner().await.map_err(store_error)
    }

    /// The pool, for the app's own queries on the same database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn migrate_inner(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
        tx.execute(sqlx::raw_sql(schema::CREATE_VERSIONS)).await?;
        let applied: Vec<i64> = sqlx::query_scalar(schema::APPLIED_VERSIONS)
            .fetch_all(&mut *tx)
            .await?;
        for migration in schema::pending(schema::POSTGRES, &applied) {
            tx.execute(sqlx::raw_sql(migration.sql)).await?;
            sqlx::query(schema::RECORD_VERSION)
                .bind(migration.version)
                .bind(migration.description)
                .execute(&mut *tx)
                .await?;
        }
        if !applied.contains(&schema::REKEY_EMAILS.version) {
            rekey(&mut tx).await?;
            sqlx::query(schema::RECORD_VERSION)
                .bind(schema::REKEY_EMAILS.version)
                .bind(schema::REKEY_EMAILS.description)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// Inserts an account made before SSO, computing its keys as the look-ups need
    /// them. A taken handle is [`CreateError::HandleTaken`].
    pub async fn import_account(
        &self,
        account: &ImportedAccount,
    ) -> Result<AccountId, CreateError> {
        let id: i64 = sqlx::query_scalar(import::INSERT)
            .bind(&account.handle)
            .bind(key(&account.handle))
            .bind(&account.email)
            .bind(account.email.as_deref().map(email_key))
            .bind(account.has_password)
            .fetch_one(&self.pool)
            .await
            .map_err(|error| import_error(error, &account.handle))?;
        Ok(rows::account_id(id))
    }

    /// Recomputes every account's `email_key` (after the app wrote rows itself);
    /// returns how many changed. `migrate()` did it once for rows written before.
    pub async fn rekey_emails(&self) -> Result<u64, StoreError> {
        let rekeyed = async {
            let mut tx = self.pool.begin().await?;
            let changed = rekey(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(changed)
        }
        .await;
        rekeyed.map_err(store_error)
    }

    /// Runs a membership write's `step` in a transaction; when it changes the admins of
    /// `admins_of`, after taking that org's advisory lock ([`ADMIN_LOCKS`]), held until
    /// the commit. READ COMMITTED whatever the database's default: each of the step's
    /// statements then reads what committed before it began, so the admins it counts
    /// after the lock include the last change of the lock's previous holder (a
    /// REPEATABLE READ snapshot would date from the lock's own statement, before the wait).
    pub(crate) async fn write<T, E>(
        &self,
        admins_of: Option<&str>,
        step: impl for<'c> FnOnce(&'c mut PgConnection) -> Step<'c, T, E> + Send,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await
            .map_err(store_error)?;
        if let Some(org) = admins_of {
            sqlx::query(LOCK_ADMINS)
                .bind(ADMIN_LOCKS)
                .bind(org)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        let value = step(&mut tx).await?;
        tx.commit().await.map_err(store_error)?;
        Ok(value)
    }

    async fn records(
        &self,
        query: sqlx::query::Query<'_, Postgres, PgArguments>,
    ) -> Result<Vec<AccountRecord>, StoreError> {
        let rows = query.fetch_all(&self.pool).await.map_err(store_error)?;
        rows::records(rows.iter().map(rows::part).collect::<Result<_, _>>()?)
    }
}

/// The account, its identity and its memberships in one statement, after a shared lock
/// on the handle base's key ([`HANDLE_LOCKS`], `hashtext` of the base; none for a fixed
/// handle): the INSERT selects from the lock's row, so the lock is held before the row
/// exists and until the statement commits. Binds handle, handle key, email, email key,
/// issuer, subject, the grants' orgs and roles as two arrays, the given and family names,
/// the lock space, the base (NULL for none) and how each grant joined (a third array:
/// `jit`, or `invite` for the org of the invite the creation accepts).
const CREATE_ACCOUNT: &str = "WITH base_lock AS (
        SELECT pg_advisory_xact_lock_shared($11, hashtext($12))
    ), account AS (
        INSERT INTO jit_accounts
            (handle, handle_key, email, email_key, has_password, given_name, family_name)
        SELECT $1, $2, $3, $4, FALSE, $9, $10 FROM base_lock
        RETURNING id
    ), identity AS (
        INSERT INTO jit_identities (account_id, issuer, subject)
        SELECT id, $5, $6 FROM account
    ), memberships AS (
        INSERT INTO jit_memberships (account_id, org, role, joined)
        SELECT account.id, grants.org, grants.role, grants.joined
          FROM account, UNNEST($7::text[], $8::text[], $13::text[]) AS grants (org, role, joined)
    )
    SELECT id FROM account";

/// The lock space of the advisory locks on handle bases (the first of the two `int4`
/// keys; the bytes of "jith"), apart from the app's own locks and [`MIGRATION_LOCK`].
const HANDLE_LOCKS: i32 = 0x6a69_7468;

/// Taken by a creation whose proposed handle turned out taken, before it reads the
/// handles under the stems: exclusive, so no creation of the same base (which holds the
/// shared lock for its insert) commits between that read and the insert. Binds the lock
/// space and the base.
const LOCK_BASE: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2))";

/// The lock space of the advisory locks on orgs' admins (the bytes of "jita"), apart from
/// [`HANDLE_LOCKS`], [`MIGRATION_LOCK`] and the app's own locks: taken by every demotion
/// and removal of a member, for its transaction, before it counts the org's admins.
const ADMIN_LOCKS: i32 = 0x6a69_7461;

/// Takes the advisory lock on an org's admins. Binds the lock space and the org.
const LOCK_ADMINS: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2))";

/// [`CREATE_ACCOUNT`] for `account` under its own handle, on `executor`.
async fn insert<'c>(
    executor: impl Executor<'c, Database = Postgres>,
    account: &NewAccount,
) -> Result<i64, sqlx::Error> {
    let joined: Vec<&str> = account
        .memberships
        .iter()
        .map(|grant| rows::joined_by_creation(account, &grant.org))
        .collect();
    insert_joined(executor, account, joined).await
}

/// [`CREATE_ACCOUNT`] for `account` under its own handle, each membership joined as
/// `joined` says (one per grant), on `executor`.
async fn insert_joined<'c>(
    executor: impl Executor<'c, Database = Postgres>,
    account: &NewAccount,
    joined: Vec<&str>,
) -> Result<i64, sqlx::Error> {
    let (orgs, roles): (Vec<&str>, Vec<&str>) = account
        .memberships
        .iter()
        .map(|grant| (grant.org.as_str(), grant.role.as_str()))
        .unzip();
    sqlx::query_scalar(CREATE_ACCOUNT)
        .bind(&account.handle)
        .bind(key(&account.handle))
        .bind(&account.email)
        .bind(account.email.as_deref().map(email_key))
        .bind(&account.identity.issuer)
        .bind(&account.identity.subject)
        .bind(orgs)
        .bind(roles)
        .bind(&account.given_name)
        .bind(&account.family_name)
        .bind(HANDLE_LOCKS)
        .bind(account.handle_choice.as_ref().map(HandleChoice::base))
        .bind(joined)
        .fetch_one(executor)
        .await
}

/// The taken handle keys under `stems`, as `executor` sees them.
async fn taken_in<'c>(
    executor: impl Executor<'c, Database = Postgres>,
    stems: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    if stems.is_empty() {
        return Ok(Vec::new());
    }
    let stems: Vec<String> = stems.iter().map(|stem| key(stem)).collect();
    let sql = queries::taken_handles(stems.len());
    let mut query = sqlx::query_scalar::<_, String>(&sql);
    for stem in &stems {
        let (low, high) = queries::stem_bounds(stem);
        query = query.bind(low).bind(high);
    }
    let keys = query.fetch_all(executor).await?;
    Ok(queries::stem_shaped(keys, &stems))
}

/// The lock space of the advisory locks on SCIM userNames (the bytes of "jits"), apart
/// from the others: taken by every SCIM creation and replace, for its transaction, on
/// `hashtext` of the org and the userName's key, before it checks the userName is free.
const SCIM_LOCKS: i32 = 0x6a69_7473;

impl PgStore {
    /// Serializes the SCIM writes that could take `user_name_key` at `org`: an advisory
    /// lock held until the transaction ends, after which (READ COMMITTED) the uniqueness
    /// check sees what the lock's previous holder committed.
    pub(crate) async fn scim_lock(
        connection: &mut PgConnection,
        org: &str,
        user_name_key: &str,
    ) -> Result<(), ScimUserError> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2 || chr(10) || $3))")
            .bind(SCIM_LOCKS)
            .bind(org)
            .bind(user_name_key)
            .execute(&mut *connection)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Creates a SCIM user's account inside the write's transaction, its memberships
    /// joined by SCIM. With a handle choice, under the base's exclusive lock (as
    /// `create_account` does after a collision), the handles under the stems are read
    /// and the next free one taken, so the insert cannot collide with a creation of the
    /// same base (a failed statement would end the transaction). Returns its id.
    pub(crate) async fn scim_create_account(
        connection: &mut PgConnection,
        account: &NewAccount,
    ) -> Result<i64, ScimUserError> {
        let chosen = match &account.handle_choice {
            Some(choice) => {
                sqlx::query(LOCK_BASE)
                    .bind(HANDLE_LOCKS)
                    .bind(choice.base())
                    .execute(&mut *connection)
                    .await
                    .map_err(store_error)?;
                let taken = taken_in(&mut *connection, &account.stems())
                    .await
                    .map_err(store_error)?;
                if taken.contains(&key(&account.handle)) {
                    let Some(free) = account.free_handle(&taken) else {
                        return Err(ScimUserError::NoFreeHandle(account.handle.clone()));
                    };
                    Some(account.with_handle(free))
                } else {
                    None
                }
            }
            None => None,
        };
        let account = chosen.as_ref().unwrap_or(account);
        let joined = vec!["scim"; account.memberships.len()];
        match insert_joined(&mut *connection, account, joined).await {
            Ok(id) => Ok(id),
            Err(error) if violated(&error) == Some(Unique::Handle) => {
                Err(ScimUserError::NoFreeHandle(account.handle.clone()))
            }
            Err(error) => Err(crate::scim_users::scim_error(error)),
        }
    }

    /// The creation of `account` after its proposed handle turned out taken: under the
    /// base's exclusive lock, the handles under the stems are read in a statement of
    /// their own (so, at READ COMMITTED, after every creation of the base that held the
    /// lock has committed), and the account is inserted under the next free one.
    async fn create_under_free_handle(
        &self,
        account: &NewAccount,
        base: &str,
    ) -> Result<AccountRecord, CreateError> {
        let failed = |error| create_error(error, account);
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await
            .map_err(failed)?;
        sqlx::query(LOCK_BASE)
            .bind(HANDLE_LOCKS)
            .bind(base)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        let taken = taken_in(&mut *tx, &account.stems()).await.map_err(failed)?;
        let Some(free) = account.free_handle(&taken) else {
            return Err(CreateError::HandleTaken(account.handle.clone()));
        };
        let renamed = account.with_handle(free);
        let renamed_failed = |error| create_error(error, &renamed);
        // A handle of another base can still be taken in between (a person named
        // `Jane Doe 2`): the unique index says so, and the provisioner decides again.
        let id = insert(&mut *tx, &renamed).await.map_err(renamed_failed)?;
        tx.commit().await.map_err(renamed_failed)?;
        Ok(rows::created(id, &renamed))
    }
}

#[async_trait]
impl AccountStore for PgStore {
    async fn account_by_identity(
        &self,
        identity: &Identity,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let query = sqlx::query(queries::RECORD_BY_IDENTITY)
            .bind(&identity.issuer)
            .bind(&identity.subject);
        Ok(self.records(query).await?.into_iter().next())
    }

    async fn accounts_by_email(&self, email: &str) -> Result<Vec<AccountRecord>, StoreError> {
        self.records(sqlx::query(queries::RECORDS_BY_EMAIL).bind(email_key(email)))
            .await
    }

    async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        let Some(id) = row_id(id) else {
            return Ok(None);
        };
        let query = sqlx::query(queries::RECORD_BY_ID).bind(id);
        Ok(self.records(query).await?.into_iter().next())
    }

    async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
        taken_in(&self.pool, stems).await.map_err(store_error)
    }

    async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
        // The usual case, one statement: the proposed handle is still free.
        let error = match insert(&self.pool, account).await {
            Ok(id) => return Ok(rows::created(id, account)),
            Err(error) => error,
        };
        match (violated(&error), &account.handle_choice) {
            (Some(Unique::Handle), Some(choice)) => {
                self.create_under_free_handle(account, choice.base()).await
            }
            _ => Err(create_error(error, account)),
        }
    }

    async fn look_up_assertion(
        &self,
        identity: &Identity,
        email: Option<&str>,
        stems: &[String],
    ) -> Result<AccountLookup, StoreError> {
        // One statement: a sign-in, and the look-up before a first login, are one round
        // trip, and see one consistent snapshot.
        let sql = queries::look_up_assertion(stems.len());
        let mut query = sqlx::query(&sql)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .bind(email.map(email_key));
        let lowered: Vec<String> = stems.iter().map(|stem| key(stem)).collect();
        for stem in &lowered {
            let (low, high) = queries::stem_bounds(stem);
            query = query.bind(low).bind(high);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(store_error)?;
        let parts = rows.iter().map(rows::part).collect::<Result<_, _>>()?;
        rows::lookup(parts, identity, &lowered)
    }

    async fn link_identity(
        &self,
        account: &AccountId,
        identity: &Identity,
    ) -> Result<(), LinkError> {
        let Some(id) = row_id(account) else {
            return Err(LinkError::NoSuchAccount(account.clone()));
        };
        let linked = sqlx::query(queries::LINK_IDENTITY)
            .bind(id)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .execute(&self.pool)
            .await;
        match linked {
            Ok(done) if done.rows_affected() > 0 => return Ok(()),
            Ok(_) => {}
            // The account was deleted between the statement's check and its insert.
            Err(error) if is_missing_parent(&error) => {
                return Err(LinkError::NoSuchAccount(account.clone()))
            }
            Err(error) => return Err(LinkError::Store(store_error(error))),
        }
        let (holder, exists, issuer_linked): (Option<i64>, bool, bool) =
            sqlx::query_as(queries::LINK_STATE)
                .bind(id)
                .bind(&identity.issuer)
                .bind(&identity.subject)
                .fetch_one(&self.pool)
                .await
                .map_err(store_error)?;
        queries::unlinked(
            account,
            identity,
            holder.map(rows::account_id),
            exists,
            issuer_linked,
        )
    }

    async fn raise_role(&self, account: &AccountId, grant: &Grant) -> Result<bool, StoreError> {
        let Some(id) = row_id(account) else {
            return Ok(false);
        };
        let raised = sqlx::query(queries::RAISE_ROLE)
            .bind(id)
            .bind(&grant.org)
            .bind(grant.role.as_str())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(raised.rows_affected() > 0)
    }
}

/// Recomputes every stale `email_key`; returns how many changed.
async fn rekey(connection: &mut sqlx::PgConnection) -> Result<u64, sqlx::Error> {
    let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(import::EMAILS)
        .fetch_all(&mut *connection)
        .await?;
    let stale = import::stale_keys(rows);
    for (id, key) in &stale {
        sqlx::query(import::SET_EMAIL_KEY)
            .bind(key)
            .bind(id)
            .execute(&mut *connection)
            .await?;
    }
    Ok(stale.len() as u64)
}

membership_store!(PgStore, Postgres);
admin_records!(PgStore);
scim_tokens!(PgStore);
scim_users_store!(pg_scim_users, PgStore, PgConnection, " FOR UPDATE");
scim_groups_store!(
    pg_scim_groups,
    PgStore,
    PgConnection,
    " FOR UPDATE",
    "SELECT CAST(value AS BIGINT) AS id FROM jsonb_array_elements_text(CAST(${n} AS jsonb))"
);
