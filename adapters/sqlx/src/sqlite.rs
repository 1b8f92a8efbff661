//! [`SqliteStore`]: the embedded default, one database file shared by the app's tasks.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions,
};
use sqlx::{Connection, Executor, Sqlite};

use jit_provisioning::{
    email_key, AccountId, AccountLookup, AccountRecord, AccountStore, CreateError, Grant, Identity,
    LinkError, NewAccount, ScimUserError, StoreError,
};

use crate::error::{create_error, import_error, is_missing_parent, store_error, violated};
use crate::import::{self, ImportedAccount};
use crate::membership::{membership_store, Step};
use crate::queries;
use crate::rows::{self, key, row_id};
use crate::schema::{self, Unique};

/// An [`AccountStore`] in a SQLite database, and the
/// [`MembershipStore`](jit_provisioning::MembershipStore) of its invites and memberships.
///
/// Writers take turns: account creation is a write transaction from its first
/// statement (`BEGIN IMMEDIATE`), so it waits for the database's write lock up front
/// rather than failing half-way on a lock upgrade, and each link is one statement.
/// Several processes may share the file. When the proposed handle turns out taken, the
/// creation reads the handles under its stems and inserts the next free one
/// ([`NewAccount::free_handle`]) in that same transaction, under that same lock.
///
/// Every invite and membership write is a `BEGIN IMMEDIATE` transaction too: an
/// acceptance takes the invite and gives the membership under the write lock, so two
/// acceptances of one invite take turns and the second finds it gone; a demotion or
/// removal counts the org's admins under it, so no other write changes them before it
/// commits, and the org keeps its last admin even when two of them go at once.
///
/// ```
/// use jit_provisioning::{AccountStore, Identity};
/// use jit_provisioning_sqlx::SqliteStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = SqliteStore::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// let nobody = Identity { issuer: "https://idp.acme.example".into(), subject: "00u1".into() };
/// assert_eq!(store.account_by_identity(&nobody).await?, None);
/// # Ok::<_, jit_provisioning::StoreError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// SQLite takes one writer at a time; writers of this process queue here instead of
    /// in SQLite's busy handler, whose sleeps made 8 concurrent writers 5–11× slower
    /// than one. Writers of other processes still meet the busy handler.
    writers: Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    /// Opens the database at `url`, creating the file if it is missing (not its
    /// directory): `sqlite://path/to/accounts.db`, or `sqlite::memory:` for a
    /// throwaway database in one connection.
    ///
    /// A file is switched to WAL journaling, so that readers never wait for the writer.
    /// Call [`SqliteStore::migrate`] before first use. A file that cannot be opened is
    /// [`StoreError::Unavailable`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(store_error)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = if url.contains(":memory:") || url.contains("mode=memory") {
            // An in-memory database lives as long as a connection to it: keep exactly one.
            SqlitePoolOptions::new()
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new()
        };
        let pool = pool.connect_with(options).await.map_err(store_error)?;
        Ok(Self::from_pool(pool))
    }

    /// A store over a pool the app built. The adapter's checks do not rely on the pool's
    /// settings (foreign keys, journal mode), but a busy timeout of zero turns every
    /// moment of write contention into [`StoreError::Unavailable`].
    pub fn from_pool(pool: SqlitePool) -> Self {
        SqliteStore {
            pool,
            writers: Arc::default(),
        }
    }

    /// Creates or updates the adapter's tables (`jit_accounts`, `jit_identities`,
    /// `jit_memberships`, `jit_assertion_ids`, `jit_orgs`, `jit_org_history`,
    /// `jit_invites`, `jit_admin_events`, `jit_owner_links`, `jit_scim_tokens`,
    /// `jit_scim_users`, `jit_scim_user_emails`, `jit_deprovisioned`, and
    /// `jit_schema_migrations` to remember what was applied).
    /// Safe to call at every start-up, from several processes at once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut lease = Lease::acquire(&self.pool).await?;
        let migrated = migrate(lease.connection()).await;
        lease.settle();
        migrated.map_err(store_error)
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
        let mut lease = Lease::acquire(&self.pool).await?;
        let rekeyed = async {
            let mut tx = lease.connection().begin_with("BEGIN IMMEDIATE").await?;
            let changed = rekey(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(changed)
        }
        .await;
        lease.settle();
        rekeyed.map_err(store_error)
    }

    /// The pool, for the app's own queries on the same database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Runs a membership write's `step` in a `BEGIN IMMEDIATE` transaction, after this
    /// store's earlier writers: the database's write lock is held from its first
    /// statement to its commit, whatever org it changes (`_admins_of`).
    pub(crate) async fn write<T, E>(
        &self,
        _admins_of: Option<&str>,
        step: impl for<'c> FnOnce(&'c mut SqliteConnection) -> Step<'c, T, E> + Send,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let _turn = self.writers.lock().await;
        let mut lease = Lease::acquire(&self.pool).await?;
        let written = async {
            let mut tx = lease
                .connection()
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(store_error)?;
            let value = step(&mut tx).await?;
            tx.commit().await.map_err(store_error)?;
            Ok(value)
        }
        .await;
        lease.settle();
        written
    }

    /// Serializes the SCIM writes that could take a userName: nothing to do, the
    /// transaction holds the database's write lock already.
    pub(crate) async fn scim_lock(
        _connection: &mut SqliteConnection,
        _org: &str,
        _user_name_key: &str,
    ) -> Result<(), ScimUserError> {
        Ok(())
    }

    /// Creates a SCIM user's account inside the write's transaction: as
    /// `create_account` does (the next free handle when the proposed one is taken, read
    /// under the write lock), its memberships joined by SCIM. Returns its id.
    pub(crate) async fn scim_create_account(
        connection: &mut SqliteConnection,
        account: &NewAccount,
    ) -> Result<i64, ScimUserError> {
        let id = match insert_account(connection, account).await {
            Ok(id) => id,
            Err(error)
                if violated(&error) == Some(Unique::Handle) && account.handle_choice.is_some() =>
            {
                let taken = taken_in(&mut *connection, &account.stems())
                    .await
                    .map_err(store_error)?;
                let Some(free) = account.free_handle(&taken) else {
                    return Err(ScimUserError::NoFreeHandle(account.handle.clone()));
                };
                insert_account(connection, &account.with_handle(free))
                    .await
                    .map_err(crate::scim_users::scim_error)?
            }
            Err(error) if violated(&error) == Some(Unique::Handle) => {
                return Err(ScimUserError::NoFreeHandle(account.handle.clone()))
            }
            Err(error) => return Err(crate::scim_users::scim_error(error)),
        };
        sqlx::query("INSERT INTO jit_identities (account_id, issuer, subject) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(&account.identity.issuer)
            .bind(&account.identity.subject)
            .execute(&mut *connection)
            .await
            .map_err(crate::scim_users::scim_error)?;
        for grant in &account.memberships {
            sqlx::query(
                "INSERT INTO jit_memberships (account_id, org, role, joined)
                 VALUES ($1, $2, $3, 'scim')",
            )
            .bind(id)
            .bind(&grant.org)
            .bind(grant.role.as_str())
            .execute(&mut *connection)
            .await
            .map_err(crate::scim_users::scim_error)?;
        }
        Ok(id)
    }

    async fn records<'q>(
        &self,
        query: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>,
    ) -> Result<Vec<AccountRecord>, StoreError> {
        let rows = query.fetch_all(&self.pool).await.map_err(store_error)?;
        rows::records(rows.iter().map(rows::part).collect::<Result<_, _>>()?)
    }
}

async fn migrate(connection: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    // The write lock first: a second process migrating at the same time waits, then
    // finds the work done.
    let mut tx = connection.begin_with("BEGIN IMMEDIATE").await?;
    tx.execute(sqlx::raw_sql(schema::CREATE_VERSIONS)).await?;
    let applied: Vec<i64> = sqlx::query_scalar(schema::APPLIED_VERSIONS)
        .fetch_all(&mut *tx)
        .await?;
    for migration in schema::pending(schema::SQLITE, &applied) {
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

/// Recomputes every stale `email_key`; returns how many changed.
async fn rekey(connection: &mut SqliteConnection) -> Result<u64, sqlx::Error> {
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

async fn create(
    connection: &mut SqliteConnection,
    account: &NewAccount,
) -> Result<AccountRecord, CreateError> {
    let failed = |error| create_error(error, account);
    // A deferred transaction would start as a reader and could fail with SQLITE_BUSY
    // when it turns writer; an immediate one waits for the write lock before anything.
    let mut tx = connection
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(failed)?;
    let (id, renamed) = match insert_account(&mut tx, account).await {
        Ok(id) => (id, None),
        Err(error)
            if violated(&error) == Some(Unique::Handle) && account.handle_choice.is_some() =>
        {
            // Taken since the engine looked. The transaction holds the database's write
            // lock, so the next free handle read here is still free at the insert: no
            // writer of this process or another can take it in between. (The failed
            // statement was undone alone; the transaction goes on.)
            let taken = taken_in(&mut *tx, &account.stems()).await.map_err(failed)?;
            let Some(free) = account.free_handle(&taken) else {
                return Err(CreateError::HandleTaken(account.handle.clone()));
            };
            let renamed = account.with_handle(free);
            let id = insert_account(&mut tx, &renamed)
                .await
                .map_err(|error| create_error(error, &renamed))?;
            (id, Some(renamed))
        }
        Err(error) => return Err(failed(error)),
    };
    sqlx::query("INSERT INTO jit_identities (account_id, issuer, subject) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(&account.identity.issuer)
        .bind(&account.identity.subject)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
    for grant in &account.memberships {
        sqlx::query(
            "INSERT INTO jit_memberships (account_id, org, role, joined) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(&grant.org)
        .bind(grant.role.as_str())
        .bind(rows::joined_by_creation(account, &grant.org))
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
    }
    tx.commit().await.map_err(failed)?;
    Ok(rows::created(id, renamed.as_ref().unwrap_or(account)))
}

/// Inserts the account's own row; returns its id.
async fn insert_account(
    connection: &mut SqliteConnection,
    account: &NewAccount,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO jit_accounts
             (handle, handle_key, email, email_key, has_password, given_name, family_name)
         VALUES ($1, $2, $3, $4, FALSE, $5, $6) RETURNING id",
    )
    .bind(&account.handle)
    .bind(key(&account.handle))
    .bind(&account.email)
    .bind(account.email.as_deref().map(email_key))
    .bind(&account.given_name)
    .bind(&account.family_name)
    .fetch_one(&mut *connection)
    .await
}

/// The taken handle keys under `stems`, as `executor` sees them (inside a transaction,
/// what the transaction sees).
async fn taken_in<'c>(
    executor: impl Executor<'c, Database = Sqlite>,
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

/// A pooled connection for one write transaction. If the future using it is dropped
/// before the transaction settles (a request timed out), the connection is closed, which
/// rolls back whatever it began, instead of going back to the pool: sqlx cannot roll
/// back a `BEGIN IMMEDIATE` it is still confirming, and the pool would hand out a
/// connection holding the write lock.
pub(crate) struct Lease {
    connection: PoolConnection<Sqlite>,
    settled: bool,
}

impl Lease {
    pub(crate) async fn acquire(pool: &SqlitePool) -> Result<Self, StoreError> {
        let connection = pool.acquire().await.map_err(store_error)?;
        Ok(Lease {
            connection,
            settled: false,
        })
    }

    pub(crate) fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.connection
    }

    /// The transaction committed or rolled back: the connection may go back to the pool.
    pub(crate) fn settle(&mut self) {
        self.settled = true;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.settled {
            self.connection.close_on_drop();
        }
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
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
        let _turn = self.writers.lock().await;
        let mut lease = Lease::acquire(&self.pool).await?;
        let created = create(lease.connection(), account).await;
        lease.settle();
        created
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
        // One statement, so one atomic write that takes the write lock up front.
        let turn = self.writers.lock().await;
        let linked = sqlx::query(queries::LINK_IDENTITY)
            .bind(id)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .execute(&self.pool)
            .await;
        drop(turn);
        match linked {
            Ok(done) if done.rows_affected() > 0 => return Ok(()),
            Ok(_) => {}
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
        let _turn = self.writers.lock().await;
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

membership_store!(SqliteStore, Sqlite);
admin_records!(SqliteStore);
scim_tokens!(SqliteStore);
scim_users_store!(sqlite_scim_users, SqliteStore, SqliteConnection, "");
scim_groups_store!(
    sqlite_scim_groups,
    SqliteStore,
    SqliteConnection,
    "",
    "SELECT CAST(value AS INTEGER) AS id FROM json_each(${n})"
);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// What SQLite plans to do for `sql` with `binds`, one line per step.
    pub(crate) async fn plan(store: &SqliteStore, sql: &str, binds: &[&str]) -> String {
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
        for bind in binds {
            query = query.bind(*bind);
        }
        let steps = query.fetch_all(store.pool()).await.unwrap();
        steps
            .into_iter()
            .map(|(_, _, _, detail)| detail)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn look_ups_use_the_indexes() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();

        let stems = plan(
            &store,
            &queries::taken_handles(2),
            &["jane-doe", "jane-doe.", "jane", "jane."],
        )
        .await;
        assert!(!stems.contains("SCAN jit_accounts"), "{stems}");
        assert!(stems.contains("INDEX"), "{stems}");

        let email = plan(&store, queries::RECORDS_BY_EMAIL, &["jane@acme.example"]).await;
        assert!(email.contains("jit_accounts_email_key"), "{email}");
        assert!(!email.contains("SCAN jit_accounts"), "{email}");

        let identity = plan(&store, queries::RECORD_BY_IDENTITY, &["https://idp", "s1"]).await;
        assert!(!identity.contains("SCAN jit_identities"), "{identity}");
        assert!(!identity.contains("SCAN jit_memberships"), "{identity}");
    }

    #[tokio::test]
    async fn scim_user_filters_and_pages_use_the_indexes() {
        use jit_provisioning::UserFilter;

        use crate::scim_users::{self as sql, users_page};

        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        for (filter, index) in [
            (
                UserFilter::UserName("jane".into()),
                "jit_scim_users_org_user_name_key",
            ),
            (
                UserFilter::ExternalId("e1".into()),
                "jit_scim_users_org_external_id",
            ),
            (
                UserFilter::Email("jane@acme.example".into()),
                "jit_scim_user_emails_org_key",
            ),
            (UserFilter::All, "jit_scim_users_org_id"),
        ] {
            let binds: &[&str] = match filter {
                UserFilter::All => &["acme", "10", "0"],
                _ => &["acme", "key", "10", "0"],
            };
            let page = plan(&store, &users_page(&filter), binds).await;
            assert!(page.contains(index), "{filter:?}: {page}");
            assert!(!page.contains("SCAN jit_scim_users"), "{filter:?}: {page}");
        }
        let conflict = plan(&store, sql::CONFLICT, &["acme", "k", "e", "i", "s", "0"]).await;
        assert!(!conflict.contains("SCAN jit_scim_users"), "{conflict}");
        let mark = plan(&store, sql::MARK, &["acme", "i", "s"]).await;
        assert!(!mark.contains("SCAN"), "{mark}");
    }
}
