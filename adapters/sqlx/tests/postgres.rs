//! `PgStore` against a real PostgreSQL server: the storage contract, four app servers
//! sharing the database, and a connection dropped mid-statement.
//!
//! These need a server: set `JIT_PROVISIONING_PG_URL` to a database the tests may
//! create and drop schemas in, then run `cargo test -p jit-provisioning-sqlx -- --ignored`.
//! Each store gets a schema of its own (`jit_test_…`), dropped when the test is done.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jit_provisioning::org::OrgDirectory;
use jit_provisioning::testing::Burst;
use jit_provisioning::{
    testing, AccountStore, CreateError, Grant, MembershipStore, NewAccount, Role, StoreError,
};
use jit_provisioning_sqlx::{PgDirectory, PgStore};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

const NEEDS_SERVER: &str = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL";

/// The server named by `JIT_PROVISIONING_PG_URL`. Unset, or set to a server that does not
/// answer, the test fails: it never passes without having run.
fn server_url() -> String {
    std::env::var("JIT_PROVISIONING_PG_URL")
        .unwrap_or_else(|_| panic!("this test {NEEDS_SERVER} (see adapters/sqlx/README.md)"))
}

/// Makes stores, each in a fresh schema of its own, and drops those schemas at the end.
struct Schemas {
    admin: PgPool,
    made: Mutex<Vec<String>>,
    prefix: String,
    count: AtomicUsize,
}

impl Schemas {
    async fn new() -> Self {
        let url = server_url();
        let admin = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&url)
            .await
            .unwrap_or_else(|error| panic!("cannot reach JIT_PROVISIONING_PG_URL: {error}"));
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Schemas {
            admin,
            made: Mutex::default(),
            prefix: format!("jit_test_{}_{nanos}", std::process::id()),
            count: AtomicUsize::new(0),
        }
    }

    /// An empty schema; not migrated.
    async fn schema(&self) -> String {
        let n = self.count.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}_{n}", self.prefix);
        sqlx::raw_sql(&format!("CREATE SCHEMA {name}"))
            .execute(&self.admin)
            .await
            .unwrap();
        self.made.lock().unwrap().push(name.clone());
        name
    }

    /// A store with a pool of its own whose connections work in `schema`.
    async fn store_in(&self, schema: &str) -> PgStore {
        let options = PgConnectOptions::from_str(&server_url())
            .unwrap()
            .options([("search_path", schema)]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .unwrap();
        PgStore::from_pool(pool)
    }

    /// Four app servers (a pool each) on one fresh schema, migrated.
    async fn app_servers(&self) -> Vec<PgStore> {
        let schema = self.schema().await;
        let first = self.store_in(&schema).await;
        first.migrate().await.unwrap();
        let mut stores = vec![first];
        for _ in 1..common::SERVERS {
            stores.push(self.store_in(&schema).await);
        }
        stores
    }

    /// An org directory for each of [`Schemas::app_servers`].
    async fn org_servers(&self) -> Vec<Arc<dyn OrgDirectory>> {
        let stores = self.app_servers().await;
        stores
            .iter()
            .map(|store| Arc::new(PgDirectory::new(store.pool().clone())) as Arc<dyn OrgDirectory>)
            .collect()
    }

    /// A migrated store in a fresh schema.
    async fn fresh(&self) -> PgStore {
        let store = self.store_in(&self.schema().await).await;
        store.migrate().await.unwrap();
        store
    }

    async fn drop_all(&self) {
        let made = std::mem::take(&mut *self.made.lock().unwrap());
        for name in made {
            sqlx::raw_sql(&format!("DROP SCHEMA {name} CASCADE"))
                .execute(&self.admin)
                .await
                .unwrap();
        }
    }
}

fn new_account(handle: &str, subject: &str) -> NewAccount {
    {
        let mut built = NewAccount::new(handle, common::identity(subject));
        built.memberships = vec![Grant {
            org: "acme".into(),
            role: Role::Member,
        }];
        built
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn postgres_meets_the_replay_guard_contract() {
    let schemas = Schemas::new().await;
    let result = testing::replay_conformance(|| async {
        let store = schemas.fresh().await;
        jit_provisioning_sqlx::PgReplayGuard::new(store.pool().clone())
    })
    .await;
    schemas.drop_all().await;
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn postgres_meets_the_storage_contract() {
    let schemas = Schemas::new().await;
    let result = testing::conformance(|| schemas.fresh()).await;
    schemas.drop_all().await;
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn postgres_meets_the_membership_contract() {
    let schemas = Schemas::new().await;
    let result = testing::membership_conformance(|| schemas.fresh()).await;
    schemas.drop_all().await;
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn postgres_meets_the_audit_log_and_owner_link_contracts() {
    let schemas = Schemas::new().await;
    let result = testing::admin_records_conformance(|| schemas.fresh()).await;
    schemas.drop_all().await;
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn postgres_meets_the_scim_users_contract() {
    let schemas = Schemas::new().await;
    let result = testing::scim_users_conformance(|| schemas.fresh()).await;
    schemas.drop_all().await;
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn postgres_meets_the_scim_groups_contract() {
    let schemas = Schemas::new().await;
    let result = testing::scim_groups_conformance(|| schemas.fresh()).await;
    schemas.drop_all().await;
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn postgres_meets_the_scim_token_contract() {
    let schemas = Schemas::new().await;
    let result = testing::scim_token_conformance(|| schemas.fresh()).await;
    schemas.drop_all().await;
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// The only two admins of an org demoted or removed at once on two app servers (two
/// pools): one change is made and one refused, round after round.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn the_last_two_admins_going_on_two_app_servers_leave_one() {
    let schemas = Schemas::new().await;
    let servers = schemas.app_servers().await;
    let (first, second) = (servers[0].clone(), servers[1].clone());
    let jane = first
        .create_account(&new_account("jane-doe", "jane"))
        .await
        .unwrap()
        .id;
    let john = first
        .create_account(&new_account("john-roe", "john"))
        .await
        .unwrap()
        .id;
    let mut outcomes = Vec::new();
    for round in 0..50 {
        let org = format!("team-{round}");
        for id in [&jane, &john] {
            first.set_role(id, &org, Role::Admin).await.unwrap();
        }
        let (a, b) = {
            let (first, second) = (first.clone(), second.clone());
            let (jane, john, org_a, org_b) = (jane.clone(), john.clone(), org.clone(), org.clone());
            let a = tokio::spawn(async move {
                if round % 2 == 0 {
                    first.set_role(&jane, &org_a, Role::Member).await
                } else {
                    first.remove_member(&jane, &org_a).await.map(drop)
                }
            });
            let b =
                tokio::spawn(async move { second.remove_member(&john, &org_b).await.map(drop) });
            (a.await.unwrap(), b.await.unwrap())
        };
        let admins = first
            .members(&org)
            .await
            .unwrap()
            .iter()
            .filter(|member| member.role == Role::Admin)
            .count();
        outcomes.push((round, a.is_ok(), b.is_ok(), admins, format!("{a:?} {b:?}")));
    }
    schemas.drop_all().await;
    for (round, a, b, admins, results) in outcomes {
        assert!(a != b, "round {round}: {results}");
        assert_eq!(admins, 1, "round {round}: {results}");
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn postgres_meets_the_org_directory_contract() {
    let schemas = Schemas::new().await;
    let result = testing::org_directory_conformance(|| async {
        PgDirectory::new(schemas.fresh().await.pool().clone())
    })
    .await;
    schemas.drop_all().await;
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Four app servers (four pools on one schema), a registry each: a change made through
/// any one is served by every other within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn four_app_servers_see_an_org_change_within_a_second() {
    let schemas = Schemas::new().await;
    let servers = schemas.org_servers().await;
    common::every_server_sees_each_change("PostgreSQL", servers).await;
    schemas.drop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn two_updates_of_one_org_version_over_two_app_servers_one_wins() {
    let schemas = Schemas::new().await;
    common::two_updates_of_one_version(schemas.org_servers().await).await;
    schemas.drop_all().await;
}

/// Org writes on four pools at once: a reader following the change marks misses none,
/// which a sequence alone, without the writes' lock, would not promise.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn change_marks_over_four_app_servers_miss_no_write() {
    let schemas = Schemas::new().await;
    common::change_marks_miss_no_write(schemas.org_servers().await).await;
    schemas.drop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn four_app_servers_make_one_account_per_person() {
    let schemas = Schemas::new().await;
    let stores = schemas.app_servers().await;
    let report = common::crowd(stores).await;
    println!("PostgreSQL crowd: {report:?}");
    schemas.drop_all().await;
    assert_eq!(report.accounts, common::PEOPLE);
}

/// A thousand new people of one name log in at once over four app servers (four pools
/// on one schema), every look-up answered before any creation: each login succeeds at
/// its first decision, with one look-up and one creation.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn a_thousand_first_logins_of_one_name_over_four_app_servers() {
    let schemas = Schemas::new().await;
    let stores = schemas.app_servers().await;
    let report = Burst::new(1_000).run(&stores).await;
    schemas.drop_all().await;
    let report = report.unwrap_or_else(|error| panic!("{error}"));
    common::assert_burst_of_a_thousand("PostgreSQL", &report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn app_servers_starting_together_migrate_once() {
    let schemas = Schemas::new().await;
    let schema = schemas.schema().await;
    let mut migrations = Vec::new();
    for _ in 0..4 {
        let store = schemas.store_in(&schema).await;
        migrations.push(tokio::spawn(async move { store.migrate().await }));
    }
    for migration in migrations {
        migration.await.unwrap().unwrap();
    }
    let versions: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {schema}.jit_schema_migrations"
    ))
    .fetch_one(&schemas.admin)
    .await
    .unwrap();
    schemas.drop_all().await;
    assert_eq!(versions, 10, "each migration once");
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn a_schema_without_the_tables_is_not_set_up() {
    let schemas = Schemas::new().await;
    let store = schemas.store_in(&schemas.schema().await).await;
    let looked_up = store.account_by_identity(&common::identity("s1")).await;
    let created = store.create_account(&new_account("jane-doe", "s1")).await;
    schemas.drop_all().await;
    match looked_up {
        Err(StoreError::NotSetUp(message)) => assert!(message.contains("run `migrate()`")),
        other => panic!("{other:?}"),
    }
    match created {
        Err(CreateError::Store(StoreError::NotSetUp(_))) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn a_missing_database_is_not_set_up() {
    let options = PgConnectOptions::from_str(&server_url())
        .unwrap()
        .database("jit_provisioning_no_such_database");
    let pool = PgPoolOptions::new().connect_lazy_with(options);
    let error = PgStore::from_pool(pool).migrate().await.unwrap_err();
    assert!(
        matches!(&error, StoreError::NotSetUp(message) if message.contains("create it")),
        "{error:?}"
    );
}

/// A creation waits on another transaction's uncommitted row for the same handle; its
/// connection is killed mid-statement. It reports `Unavailable`, and leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn a_connection_dropped_mid_statement_leaves_nothing() {
    let schemas = Schemas::new().await;
    let schema = schemas.schema().await;
    let victim_name = format!("{schema}_victim");
    let options = PgConnectOptions::from_str(&server_url())
        .unwrap()
        .options([("search_path", schema.as_str())])
        .application_name(&victim_name);
    let victim = PgStore::from_pool(PgPoolOptions::new().connect_with(options).await.unwrap());
    victim.migrate().await.unwrap();

    // Another server's transaction holds `jane-doe`, uncommitted.
    let mut blocker = schemas.admin.begin().await.unwrap();
    sqlx::query(&format!(
        "INSERT INTO {schema}.jit_accounts (handle, handle_key) VALUES ('jane-doe', 'jane-doe')"
    ))
    .execute(&mut *blocker)
    .await
    .unwrap();

    let creating = tokio::spawn({
        let victim = victim.clone();
        async move { victim.create_account(&new_account("jane-doe", "s1")).await }
    });
    let started = Instant::now();
    let killed = loop {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the creation never waited"
        );
        let killed: Option<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE application_name = $1 AND wait_event_type = 'Lock'",
        )
        .bind(&victim_name)
        .fetch_optional(&schemas.admin)
        .await
        .unwrap();
        if let Some(killed) = killed {
            break killed;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(killed);
    let result = creating.await.unwrap();
    blocker.rollback().await.unwrap();

    let left: (i64, i64, i64) = sqlx::query_as(&format!(
        "SELECT (SELECT count(*) FROM {schema}.jit_accounts),
                (SELECT count(*) FROM {schema}.jit_identities),
                (SELECT count(*) FROM {schema}.jit_memberships)"
    ))
    .fetch_one(&schemas.admin)
    .await
    .unwrap();
    // The pool replaces the dead connection: the same creation now goes through.
    let retried = victim.create_account(&new_account("jane-doe", "s1")).await;
    schemas.drop_all().await;

    match result {
        Err(CreateError::Store(StoreError::Unavailable(_))) => {}
        other => panic!("a killed connection gave {other:?}"),
    }
    assert_eq!(left, (0, 0, 0));
    retried.unwrap();
}

/// Needs no server: nothing listens on the port.
#[tokio::test]
async fn a_closed_port_is_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgres://jit@127.0.0.1:{port}/jit");
    let started = Instant::now();
    match PgStore::connect(&url).await {
        Err(StoreError::Unavailable(source)) => {
            assert!(source.to_string().contains("refused"), "{source}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refusal is not retried"
    );
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: set JIT_PROVISIONING_PG_URL"]
async fn rows_keyed_as_the_old_readme_said_are_rekeyed_by_migrate() {
    let schemas = Schemas::new().await;
    let store = schemas.fresh().await;
    let email = "ΝΙΚΟΣ@acme.example";
    sqlx::query("INSERT INTO jit_accounts (handle, handle_key, email, email_key) VALUES ('nikos', 'nikos', $1, $2)")
        .bind(email)
        .bind(email.to_lowercase())
        .execute(store.pool())
        .await
        .unwrap();
    let before = store
        .accounts_by_email("νικος@acme.example")
        .await
        .unwrap()
        .len();
    sqlx::query("DELETE FROM jit_schema_migrations WHERE version = 3")
        .execute(store.pool())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let after = store
        .accounts_by_email("νικος@acme.example")
        .await
        .unwrap()
        .len();
    let imported = store
        .import_account(&jit_provisioning_sqlx::ImportedAccount {
            handle: "Sam-Lee".into(),
            email: Some("ΣΑΜ@Acme.example".into()),
            has_password: true,
        })
        .await
        .unwrap();
    let sam = store.accounts_by_email("σαμ@acme.example").await.unwrap();
    schemas.drop_all().await;
    assert_eq!(
        (before, after),
        (0, 1),
        "found by its email only after migrate()"
    );
    assert_eq!(
        sam.iter().map(|record| &record.id).collect::<Vec<_>>(),
        [&imported]
    );
}
