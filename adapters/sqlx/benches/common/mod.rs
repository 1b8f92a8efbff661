//! Fixtures for the SQL benches: the policy, the people, and the databases (a temporary
//! SQLite file, or a fresh schema on the PostgreSQL server of `JIT_PROVISIONING_PG_URL`),
//! with the raw SQL the benches run beside the adapter: bulk seeding, undoing a creation,
//! and the plain-INSERT ceiling.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // benches fail loudly

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::org::OrgDirectory;
use jit_provisioning::{
    AccountId, AccountLookup, AccountRecord, AccountStore, Assertion, Config, CreateError, Grant,
    Identity, LinkError, NewAccount, Policy, Request, StoreError,
};
use jit_provisioning_sqlx::{PgDirectory, PgStore, SqliteDirectory, SqliteStore};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use tempfile::TempDir;
use tokio::runtime::Runtime;

pub const IDP: &str = "https://idp.acme.example";

/// App servers sharing one database in the burst: a store and a pool each.
pub const SERVERS: usize = 4;

/// The variable naming the PostgreSQL database the benches may create schemas in.
pub const PG_URL_VAR: &str = "JIT_PROVISIONING_PG_URL";

/// Two workers: the machine the figures come from has two cores.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

/// Acme, with JIT; a new account gets one membership, acme's `member`. The email domain
/// is verified, so a login with an email looks it up (as most SSO logins do).
pub fn policy() -> Policy {
    let config: Config = serde_json::from_str(
        r#"{"orgs": {"acme": {"jit": true, "idp": "https://idp.acme.example",
                               "verified_domains": ["acme.example"],
                               "provision": [{"org": "acme", "role": "member"}]}}}"#,
    )
    .unwrap();
    config.validate().unwrap()
}

pub fn assertion(subject: &str, given: &str, family: &str) -> Assertion {
    {
        let mut built = Assertion::default();
        built.org = "acme".into();
        built.issuer = IDP.into();
        built.subject = subject.into();
        built.given_name = Some(given.into());
        built.family_name = Some(family.into());
        built.email = Some(format!("{subject}@acme.example"));
        built
    }
}

/// A Jane Doe nobody has seen before (subject `jane-<n>`).
pub fn next_jane(counter: &AtomicUsize) -> Request {
    let n = counter.fetch_add(1, Ordering::Relaxed);
    Request::Assertion(assertion(&format!("jane-{n}"), "Jane", "Doe"))
}

/// The 10,000 `(first, last)` names of `../shared/corpus/names.tsv` (beside the
/// checkout, never copied into it), in file order.
pub fn corpus() -> Vec<(String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/names.tsv"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("this bench reads {path}: {error}"));
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split('\t').skip(1);
            Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
        })
        .collect()
}

/// Person `n` of an endless crowd of distinct people with distinct names: the corpus in
/// order, then again with a word (`b`, `c`, … `z`, `ba`, …) after the family name on
/// each further pass, so that no two people share a name.
pub fn person(names: &[(String, String)], n: usize) -> Request {
    let (first, last) = &names[n % names.len()];
    let pass = n / names.len();
    let family = if pass == 0 {
        last.clone()
    } else {
        format!("{last} {}", letters(pass))
    };
    Request::Assertion(assertion(&format!("p-{n}"), first, &family))
}

/// `n` in base 26 with the digits `a`…`z`.
pub fn letters(mut n: usize) -> String {
    let mut word = Vec::new();
    loop {
        word.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    word.reverse();
    String::from_utf8(word).unwrap()
}

/// The rows one creation writes, for the ceiling: what the provisioner writes for person
/// `n` of the same crowd ([`person`]): the handle of their name, made unique with `-n`
/// (the engine's handle search is what the ceiling leaves out), their email, subject
/// and names, and one membership.
///
/// The keys are like the provisioner's on purpose: a ceiling of `plain-person-N` handles
/// and `c-N` subjects inserts each key at the right end of its index, the cheapest place
/// in a B-tree, while names land all over it. (At these table sizes the two measured
/// alike; see BENCHMARKS.md.)
#[derive(Debug, Clone)]
pub struct PlainRow {
    pub handle: String,
    pub email: String,
    pub subject: String,
    pub given_name: String,
    pub family_name: String,
}

impl PlainRow {
    pub fn new(names: &[(String, String)], n: usize) -> Self {
        let Request::Assertion(assertion) = person(names, n) else {
            unreachable!()
        };
        let base = jit_provisioning::handle_base(&assertion);
        PlainRow {
            handle: format!("{}-{n}", base.as_str()),
            email: assertion.email.unwrap_or_default(),
            subject: assertion.subject,
            given_name: assertion.given_name.unwrap_or_default(),
            family_name: assertion.family_name.unwrap_or_default(),
        }
    }
}

const INSERT_ACCOUNT: &str = "INSERT INTO jit_accounts
         (handle, handle_key, email, email_key, has_password, given_name, family_name)
     VALUES ($1, $2, $3, $4, FALSE, $5, $6) RETURNING id";
const INSERT_IDENTITY: &str =
    "INSERT INTO jit_identities (account_id, issuer, subject) VALUES ($1, $2, $3)";
const INSERT_MEMBERSHIP: &str =
    "INSERT INTO jit_memberships (account_id, org, role) VALUES ($1, $2, $3)";
/// Removes an account; its identities and memberships go with it (`ON DELETE CASCADE`).
const DELETE_ACCOUNT: &str = "DELETE FROM jit_accounts WHERE id = $1";

/// SQLite: `jane-doe`, `jane-doe-2`, … for `from..=to`, in one statement (one
/// transaction). Accounts only, as people who signed up with a password would have.
const SQLITE_SEED: &str = "INSERT INTO jit_accounts (handle, handle_key)
     WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2),
          h(handle) AS (SELECT CASE i WHEN 1 THEN 'jane-doe' ELSE 'jane-doe-' || i END FROM n)
     SELECT handle, handle FROM h";
/// PostgreSQL: the same rows, in one statement.
const PG_SEED: &str = "INSERT INTO jit_accounts (handle, handle_key)
     SELECT h, h FROM (
         SELECT CASE i WHEN 1 THEN 'jane-doe' ELSE 'jane-doe-' || i END AS h
           FROM generate_series($1::bigint, $2::bigint) AS i
     ) AS seeded";

/// A seeded org's config, as SQL that builds it from the row's `id`: SSO like a real
/// org's (JIT, its IdP, a grant, a verified domain, SAML metadata and attribute preset).
macro_rules! seeded_config {
    () => {
        r#"'{"jit":true,"idp":"https://idp.' || id || '.example",'
            || '"provision":[{"org":"' || id || '","role":"member"}],'
            || '"verified_domains":["' || id || '.example"],'
            || '"saml":{"idp":{"metadata_url":"https://idp.' || id || '.example/metadata"},'
            || '"attributes":{"preset":"okta"}}}'"#
    };
}

/// SQLite: orgs `org-000001` … `org-<$1>` (the id zero-padded to six digits) at version 1,
/// in one statement.
const SQLITE_ORGS_SEED: &str = concat!(
    "INSERT INTO jit_orgs (id, folded, config, version, updated_at, updated_by)
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1),
          o(id) AS (SELECT printf('org-%06d', i) FROM n)
     SELECT id, id, ",
    seeded_config!(),
    ", 1, '2026-12-06T12:00:00+00:00', 'seed' FROM o"
);
/// PostgreSQL: the same orgs, in one statement.
const PG_ORGS_SEED: &str = concat!(
    "INSERT INTO jit_orgs (id, folded, config, version, updated_at, updated_by)
     SELECT id, id, ",
    seeded_config!(),
    ", 1, timestamptz '2026-12-06T12:00:00Z', 'seed'
       FROM (SELECT 'org-' || lpad(i::text, 6, '0') AS id
               FROM generate_series(1, $1::bigint) AS i) AS o"
);
/// The first version's history entry of every seeded org: the same on both backends.
const ORG_HISTORY_SEED: &str = "INSERT INTO jit_org_history (org_id, version, at, actor, changes)
     SELECT id, 1, updated_at, updated_by, '[]' FROM jit_orgs ORDER BY id";

/// SQLite: the accounts of SCIM users `user1@acme.example` … `user<$1>@acme.example` (handle
/// `user-<i>`, names `User` and `<i>`, no password), in one statement.
const SQLITE_SCIM_ACCOUNTS_SEED: &str = "INSERT INTO jit_accounts
         (handle, handle_key, email, email_key, has_password, given_name, family_name)
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
     SELECT 'user-' || i, 'user-' || i, 'user' || i || '@acme.example',
            'user' || i || '@acme.example', FALSE, 'User', CAST(i AS TEXT)
       FROM n";
/// PostgreSQL: the same accounts, in one statement.
const PG_SCIM_ACCOUNTS_SEED: &str = "INSERT INTO jit_accounts
         (handle, handle_key, email, email_key, has_password, given_name, family_name)
     SELECT 'user-' || i, 'user-' || i, 'user' || i || '@acme.example',
            'user' || i || '@acme.example', FALSE, 'User', i::text
       FROM generate_series(1, $1::bigint) AS i";
/// The rest of what a SCIM creation writes for each seeded account, as the adapter writes
/// it, one statement per table, the same on both backends (the database holds only the
/// seeded accounts): the identity (acme's IdP, the userName as the NameID; binds the
/// issuer), acme's `member` role joined `scim`, the SCIM user (active, version 1, its
/// email as the `emails` JSON, `member` as the role its creation granted; binds the issuer
/// and the creation time in Unix microseconds) and its email key.
const SCIM_IDENTITIES_SEED: &str = "INSERT INTO jit_identities (account_id, issuer, subject)
     SELECT id, $1, email FROM jit_accounts ORDER BY id";
const SCIM_MEMBERSHIPS_SEED: &str = "INSERT INTO jit_memberships (account_id, org, role, joined)
     SELECT id, 'acme', 'member', 'scim' FROM jit_accounts ORDER BY id";
const SCIM_USERS_SEED: &str = "INSERT INTO jit_scim_users
         (org, account_id, user_name, user_name_key, issuer, subject, active, given_name,
          family_name, emails, provisioned_role, version, created_at, updated_at)
     SELECT 'acme', id, email, email_key, $1, email, TRUE, given_name, family_name,
            '[\"' || email || '\"]', 'member', 1, $2, $2
       FROM jit_accounts ORDER BY id";
const SCIM_EMAILS_SEED: &str = "INSERT INTO jit_scim_user_emails (user_id, org, email_key)
     SELECT id, org, user_name_key FROM jit_scim_users ORDER BY id";

/// The id of seeded org `n` (from 1).
pub fn org_id(n: usize) -> String {
    format!("org-{n:06}")
}

/// A new app server's org directory: a pool of its own on a [`Db`]'s database, with the
/// options of the [`Db`]'s pool, not connected yet.
#[derive(Debug, Clone)]
pub enum OrgServer {
    Sqlite(SqliteDirectory),
    Postgres(PgDirectory),
}

impl OrgServer {
    pub fn directory(&self) -> Arc<dyn OrgDirectory> {
        match self {
            OrgServer::Sqlite(directory) => Arc::new(directory.clone()),
            OrgServer::Postgres(directory) => Arc::new(directory.clone()),
        }
    }

    pub async fn close(&self) {
        match self {
            OrgServer::Sqlite(directory) => directory.pool().close().await,
            OrgServer::Postgres(directory) => directory.pool().close().await,
        }
    }
}

/// Runs the same code on whichever pool a [`Db`] holds: the pool types differ, the SQL
/// and the steps do not.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Db::Sqlite { pool: $pool, .. } => $body,
            Db::Postgres { pool: $pool, .. } => $body,
        }
    };
}

/// The rows one creation writes (account, identity, membership), through `$executor`.
macro_rules! write_rows {
    ($executor:expr, $row:expr) => {{
        let row: &PlainRow = $row;
        let id: i64 = sqlx::query_scalar(INSERT_ACCOUNT)
            .bind(&row.handle)
            .bind(&row.handle)
            .bind(&row.email)
            .bind(&row.email)
            .bind(&row.given_name)
            .bind(&row.family_name)
            .fetch_one($executor)
            .await
            .unwrap();
        sqlx::query(INSERT_IDENTITY)
            .bind(id)
            .bind(IDP)
            .bind(&row.subject)
            .execute($executor)
            .await
            .unwrap();
        sqlx::query(INSERT_MEMBERSHIP)
            .bind(id)
            .bind("acme")
            .bind("member")
            .execute($executor)
            .await
            .unwrap();
    }};
}

/// A database for one bench, with the raw access the benches need beside the store.
/// Dropping it removes a SQLite file; [`Db::close`] drops a PostgreSQL schema.
#[derive(Debug)]
pub enum Db {
    Sqlite {
        pool: SqlitePool,
        _dir: TempDir,
    },
    Postgres {
        pool: PgPool,
        admin: PgPool,
        schema: String,
    },
}

impl Db {
    /// A migrated store in a new temporary file, opened by [`SqliteStore::connect`]
    /// (WAL, the default pool), and the database behind it.
    pub async fn sqlite() -> (Db, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("accounts.db").display());
        let store = SqliteStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        let db = Db::Sqlite {
            pool: store.pool().clone(),
            _dir: dir,
        };
        (db, store)
    }

    /// A migrated database in a new temporary file and `servers` stores on it, each
    /// opened by [`SqliteStore::connect`] with a pool of its own: app servers sharing a
    /// file.
    pub async fn sqlite_servers(servers: usize) -> (Db, Vec<SqliteStore>) {
        let (db, first) = Db::sqlite().await;
        let Db::Sqlite { _dir: dir, .. } = &db else {
            unreachable!()
        };
        let url = format!("sqlite://{}", dir.path().join("accounts.db").display());
        let mut stores = vec![first];
        for _ in 1..servers {
            stores.push(SqliteStore::connect(&url).await.unwrap());
        }
        (db, stores)
    }

    /// A migrated schema of the server at `url` and `servers` stores on it, each with a
    /// pool of its own of [`PgStore::pool_options`]: app servers sharing a database.
    pub async fn postgres_servers(url: &str, servers: usize) -> (Db, Vec<PgStore>) {
        let (db, first) = Db::postgres(url).await;
        let Db::Postgres { schema, .. } = &db else {
            unreachable!()
        };
        let mut stores = vec![first];
        for _ in 1..servers {
            let options = PgConnectOptions::from_str(url)
                .unwrap()
                .options([("search_path", schema.as_str())]);
            stores.push(PgStore::from_pool(
                PgStore::pool_options().connect_lazy_with(options),
            ));
        }
        (db, stores)
    }

    /// A migrated store in a new schema of the server at `url`, on a pool of
    /// [`PgStore::pool_options`] (as [`PgStore::connect`] builds), and the database
    /// behind it. The plain INSERTs share that pool.
    pub async fn postgres(url: &str) -> (Db, PgStore) {
        static SCHEMAS: AtomicUsize = AtomicUsize::new(0);
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .unwrap_or_else(|error| panic!("cannot reach {PG_URL_VAR}: {error}"));
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let n = SCHEMAS.fetch_add(1, Ordering::Relaxed);
        let schema = format!("jit_bench_{}_{nanos}_{n}", std::process::id());
        sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        let options = PgConnectOptions::from_str(url)
            .unwrap()
            .options([("search_path", schema.as_str())]);
        let pool = PgStore::pool_options().connect_lazy_with(options);
        let store = PgStore::from_pool(pool.clone());
        store.migrate().await.unwrap();
        let db = Db::Postgres {
            pool,
            admin,
            schema,
        };
        (db, store)
    }

    /// Adds `jane-doe` (for 1) and `jane-doe-<i>` for every `i` in `from..=to`, in
    /// one bulk statement; then refreshes PostgreSQL's statistics, as autovacuum would.
    pub async fn seed_jane_does(&self, from: usize, to: usize) {
        if from > to {
            return;
        }
        let (from, to) = (from as i64, to as i64);
        match self {
            Db::Sqlite { pool, .. } => {
                let seeded = sqlx::query(SQLITE_SEED)
                    .bind(from)
                    .bind(to)
                    .execute(pool)
                    .await
                    .unwrap();
                assert_eq!(seeded.rows_affected() as i64, to - from + 1);
            }
            Db::Postgres { pool, .. } => {
                let seeded = sqlx::query(PG_SEED)
                    .bind(from)
                    .bind(to)
                    .execute(pool)
                    .await
                    .unwrap();
                assert_eq!(seeded.rows_affected() as i64, to - from + 1);
                sqlx::raw_sql("VACUUM ANALYZE jit_accounts")
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
    }

    /// Adds orgs `org-000001` … [`org_id`]`(n)` at version 1, and their history entries, in
    /// two bulk statements; then refreshes PostgreSQL's statistics.
    pub async fn seed_orgs(&self, n: usize) {
        let seed = match self {
            Db::Sqlite { .. } => SQLITE_ORGS_SEED,
            Db::Postgres { .. } => PG_ORGS_SEED,
        };
        let seeded = on_pool!(self, pool => {
            let orgs = sqlx::query(seed).bind(n as i64).execute(pool).await.unwrap();
            let history = sqlx::query(ORG_HISTORY_SEED).execute(pool).await.unwrap();
            (orgs.rows_affected(), history.rows_affected())
        });
        assert_eq!(seeded, (n as u64, n as u64));
        if let Db::Postgres { pool, .. } = self {
            sqlx::raw_sql("VACUUM ANALYZE jit_orgs, jit_org_history")
                .execute(pool)
                .await
                .unwrap();
        }
    }

    /// Adds SCIM users `user1@acme.example` … `user<n>@acme.example` of org `acme`, each
    /// with its account, identity and membership, as SCIM creations would have left them,
    /// in five bulk statements; then refreshes PostgreSQL's statistics. The database must
    /// hold no accounts yet.
    pub async fn seed_scim_users(&self, n: usize) {
        let accounts = match self {
            Db::Sqlite { .. } => SQLITE_SCIM_ACCOUNTS_SEED,
            Db::Postgres { .. } => PG_SCIM_ACCOUNTS_SEED,
        };
        let micros = now().timestamp_micros();
        let seeded: Vec<u64> = on_pool!(self, pool => {
            let accounts = sqlx::query(accounts).bind(n as i64).execute(pool).await;
            let identities = sqlx::query(SCIM_IDENTITIES_SEED).bind(IDP).execute(pool).await;
            let memberships = sqlx::query(SCIM_MEMBERSHIPS_SEED).execute(pool).await;
            let users = sqlx::query(SCIM_USERS_SEED)
                .bind(IDP)
                .bind(micros)
                .execute(pool)
                .await;
            let emails = sqlx::query(SCIM_EMAILS_SEED).execute(pool).await;
            [accounts, identities, memberships, users, emails]
                .into_iter()
                .map(|done| done.unwrap().rows_affected())
                .collect()
        });
        assert_eq!(seeded, vec![n as u64; 5]);
        if let Db::Postgres { pool, .. } = self {
            sqlx::raw_sql(
                "VACUUM ANALYZE jit_accounts, jit_identities, jit_memberships, jit_scim_users, \
                 jit_scim_user_emails",
            )
            .execute(pool)
            .await
            .unwrap();
        }
    }

    /// A new app server's org directory on this database.
    pub fn org_server(&self) -> OrgServer {
        match self {
            Db::Sqlite { pool, .. } => {
                let options = (*pool.connect_options()).clone();
                OrgServer::Sqlite(SqliteDirectory::new(
                    SqlitePoolOptions::new().connect_lazy_with(options),
                ))
            }
            Db::Postgres { pool, .. } => {
                let options = (*pool.connect_options()).clone();
                OrgServer::Postgres(PgDirectory::new(
                    PgStore::pool_options().connect_lazy_with(options),
                ))
            }
        }
    }

    /// The one integer `sql` selects (a count, an id).
    pub async fn scalar(&self, sql: &str) -> i64 {
        on_pool!(self, pool => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap())
    }

    /// How many rows `table` holds.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        on_pool!(self, pool => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap())
    }

    /// Deletes a created account, its identity and memberships with it.
    pub async fn undo(&self, account: &AccountId) {
        let id: i64 = account.as_str().parse().unwrap();
        let deleted = on_pool!(self, pool => sqlx::query(DELETE_ACCOUNT)
            .bind(id)
            .execute(pool)
            .await
            .unwrap()
            .rows_affected());
        assert_eq!(deleted, 1, "account {id}");
    }

    /// What a creation writes, as plain autocommit INSERTs, one statement per row, with
    /// no look-up before them: the ceiling. One pooled connection serves the three, so
    /// that no time goes to the pool between them.
    pub async fn plain_insert(&self, row: &PlainRow) {
        on_pool!(self, pool => {
            let mut connection = pool.acquire().await.unwrap();
            write_rows!(&mut *connection, row);
        })
    }

    /// The same INSERTs in one transaction (`BEGIN IMMEDIATE` on SQLite, as the
    /// adapter's creation): a reference that pays for one commit instead of three.
    pub async fn plain_insert_in_transaction(&self, row: &PlainRow) {
        match self {
            Db::Sqlite { pool, .. } => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
                write_rows!(&mut *tx, row);
                tx.commit().await.unwrap();
            }
            Db::Postgres { pool, .. } => {
                let mut tx = pool.begin().await.unwrap();
                write_rows!(&mut *tx, row);
                tx.commit().await.unwrap();
            }
        }
    }

    /// Closes the pools; drops a PostgreSQL schema with everything in it.
    pub async fn close(self) {
        match self {
            Db::Sqlite { pool, _dir } => pool.close().await,
            Db::Postgres {
                pool,
                admin,
                schema,
            } => {
                pool.close().await;
                sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&admin)
                    .await
                    .unwrap();
                admin.close().await;
            }
        }
    }
}

/// Time spent in each store method, summed over the calls made through a
/// [`TimingStore`].
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreTimes {
    pub look_up_assertion: Duration,
    pub account_by_identity: Duration,
    pub accounts_by_email: Duration,
    pub account_by_id: Duration,
    pub taken_handles: Duration,
    pub create_account: Duration,
    pub link_identity: Duration,
    pub raise_role: Duration,
}

impl StoreTimes {
    pub fn total(&self) -> Duration {
        self.look_up_assertion
            + self.account_by_identity
            + self.accounts_by_email
            + self.account_by_id
            + self.taken_handles
            + self.create_account
            + self.link_identity
            + self.raise_role
    }
}

/// Wraps a store and times its calls, to tell where a creation's time goes.
#[derive(Debug)]
pub struct TimingStore<S> {
    inner: S,
    times: Mutex<StoreTimes>,
}

impl<S> TimingStore<S> {
    pub fn new(inner: S) -> Self {
        TimingStore {
            inner,
            times: Mutex::default(),
        }
    }

    /// The times so far, and zero from now on.
    pub fn take(&self) -> StoreTimes {
        std::mem::take(&mut *self.times.lock().unwrap())
    }

    fn add(&self, start: Instant, field: fn(&mut StoreTimes) -> &mut Duration) {
        let elapsed = start.elapsed();
        *field(&mut self.times.lock().unwrap()) += elapsed;
    }
}

#[async_trait]
impl<S: AccountStore> AccountStore for TimingStore<S> {
    // Forwarded, not left to the trait's default: the adapter's own one-query look-up is
    // what the provisioner calls.
    async fn look_up_assertion(
        &self,
        identity: &Identity,
        email: Option<&str>,
        stems: &[String],
    ) -> Result<AccountLookup, StoreError> {
        let start = Instant::now();
        let result = self.inner.look_up_assertion(identity, email, stems).await;
        self.add(start, |t| &mut t.look_up_assertion);
        result
    }

    async fn account_by_identity(
        &self,
        identity: &Identity,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let start = Instant::now();
        let result = self.inner.account_by_identity(identity).await;
        self.add(start, |t| &mut t.account_by_identity);
        result
    }

    async fn accounts_by_email(&self, email: &str) -> Result<Vec<AccountRecord>, StoreError> {
        let start = Instant::now();
        let result = self.inner.accounts_by_email(email).await;
        self.add(start, |t| &mut t.accounts_by_email);
        result
    }

    async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        let start = Instant::now();
        let result = self.inner.account_by_id(id).await;
        self.add(start, |t| &mut t.account_by_id);
        result
    }

    async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
        let start = Instant::now();
        let result = self.inner.taken_handles(stems).await;
        self.add(start, |t| &mut t.taken_handles);
        result
    }

    async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
        let start = Instant::now();
        let result = self.inner.create_account(account).await;
        self.add(start, |t| &mut t.create_account);
        result
    }

    async fn link_identity(
        &self,
        account: &AccountId,
        identity: &Identity,
    ) -> Result<(), LinkError> {
        let start = Instant::now();
        let result = self.inner.link_identity(account, identity).await;
        self.add(start, |t| &mut t.link_identity);
        result
    }

    async fn raise_role(&self, account: &AccountId, grant: &Grant) -> Result<bool, StoreError> {
        let start = Instant::now();
        let result = self.inner.raise_role(account, grant).await;
        self.add(start, |t| &mut t.raise_role);
        result
    }
}
