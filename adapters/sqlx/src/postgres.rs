//! [`PgStore`]: one PostgreSQL database shared by several app servers.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor, Postgres};

use jit_provisioning::{
    email_key, AccountId, AccountLookup, AccountRecord, AccountStore, CreateError, Grant, Identity,
    LinkError, NewAccount, StoreError,
};

use crate::error::{create_error, import_error, is_missing_parent, store_error};
use crate::import::{self, ImportedAccount};
use crate::queries;
use crate::rows::{self, key, row_id};
use crate::schema;

/// An [`AccountStore`] in a PostgreSQL database, for app servers that share one.
///
/// Every write is a single statement, so it is atomic on its own and holds its locks
/// for one round trip: account creation inserts the account, its identity and its
/// memberships in one statement; a concurrent creation of the same handle waits for it
/// and then reports [`CreateError::HandleTaken`].
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
            PgPoolOptions::new().connect_lazy_with(options),
        ))
    }

    /// A store over a pool the app built.
    pub fn from_pool(pool: PgPool) -> Self {
        PgStore { pool }
    }

    /// Creates or updates the adapter's tables (`jit_accounts`, `jit_identities`,
    /// `jit_memberships`, and `jit_schema_migrations` to remember what was applied).
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

    async fn records(
        &self,
        query: sqlx::query::Query<'_, Postgres, PgArguments>,
    ) -> Result<Vec<AccountRecord>, StoreError> {
        let rows = query.fetch_all(&self.pool).await.map_err(store_error)?;
        rows::records(rows.iter().map(rows::part).collect::<Result<_, _>>()?)
    }
}

/// The account, its identity and its memberships in one statement. Binds handle, handle
/// key, email, email key, issuer, subject, the grants' orgs and roles as two arrays, and
/// the given and family names.
const CREATE_ACCOUNT: &str = "WITH account AS (
        INSERT INTO jit_accounts
            (handle, handle_key, email, email_key, has_password, given_name, family_name)
        VALUES ($1, $2, $3, $4, FALSE, $9, $10)
        RETURNING id
    ), identity AS (
        INSERT INTO jit_identities (account_id, issuer, subject)
        SELECT id, $5, $6 FROM account
    ), memberships AS (
        INSERT INTO jit_memberships (account_id, org, role)
        SELECT account.id, grants.org, grants.role
          FROM account, UNNEST($7::text[], $8::text[]) AS grants (org, role)
    )
    SELECT id FROM account";

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
        let keys = query.fetch_all(&self.pool).await.map_err(store_error)?;
        Ok(queries::stem_shaped(keys, &stems))
    }

    async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
        let (orgs, roles): (Vec<&str>, Vec<&str>) = account
            .memberships
            .iter()
            .map(|grant| (grant.org.as_str(), grant.role.as_str()))
            .unzip();
        let id: i64 = sqlx::query_scalar(CREATE_ACCOUNT)
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
            .fetch_one(&self.pool)
            .await
            .map_err(|error| create_error(error, account))?;
        Ok(rows::created(id, account))
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
