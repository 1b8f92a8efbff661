//! `SqliteStore` against real database files: the storage contract, many app servers on
//! one file, and every way the database can fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jit_provisioning::org::OrgDirectory;
use jit_provisioning::testing::Burst;
use jit_provisioning::{
    testing, AccountId, AccountStore, CreateError, Grant, Invite, Invitee, Joined, LinkError,
    MembershipError, MembershipStore, NewAccount, Role, ScimTokens, StoreError,
};
use jit_provisioning_sqlx::{SqliteDirectory, SqliteReplayGuard, SqliteStore};

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

async fn store_at(path: &Path) -> SqliteStore {
    let store = SqliteStore::connect(&url(path)).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// App servers sharing one file: a migrated database at `path` and a store (a pool) for
/// each of [`common::SERVERS`].
async fn app_servers(path: &Path) -> Vec<SqliteStore> {
    store_at(path).await;
    let mut stores = Vec::new();
    for _ in 0..common::SERVERS {
        stores.push(SqliteStore::connect(&url(path)).await.unwrap());
    }
    stores
}

/// An org directory for each of [`app_servers`].
async fn org_servers(path: &Path) -> Vec<Arc<dyn OrgDirectory>> {
    let stores = app_servers(path).await;
    stores
        .iter()
        .map(|store| Arc::new(SqliteDirectory::new(store.pool().clone())) as Arc<dyn OrgDirectory>)
        .collect()
}

fn new_account(handle: &str, subject: &str) -> NewAccount {
    {
        let mut built = NewAccount::new(handle, common::identity(subject));
        built.email = Some(format!("{subject}@acme.example"));
        built.memberships = vec![
            Grant {
                org: "acme".into(),
                role: Role::Member,
            },
            Grant {
                org: "acme-labs".into(),
                role: Role::Contributor,
            },
        ];
        built
    }
}

/// How many rows each of the adapter's tables holds, read in one statement: a write
/// whose caller gave up may still be landing.
async fn row_counts(store: &SqliteStore) -> [i64; 3] {
    let (accounts, identities, memberships) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM jit_accounts), (SELECT count(*) FROM jit_identities),
                (SELECT count(*) FROM jit_memberships)",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    [accounts, identities, memberships]
}

/// Every account has its one identity and both memberships: nothing half-made.
async fn assert_all_or_nothing(store: &SqliteStore) {
    let [accounts, identities, memberships] = row_counts(store).await;
    assert_eq!(identities, accounts, "an account without its identity");
    assert_eq!(
        memberships,
        2 * accounts,
        "an account without its memberships"
    );
    let orphans: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jit_accounts a
          WHERE (SELECT count(*) FROM jit_identities i WHERE i.account_id = a.id) <> 1
             OR (SELECT count(*) FROM jit_memberships m WHERE m.account_id = a.id) <> 2",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(orphans, 0);
}

/// Fresh migrated database files, one per call, in a folder of their own.
struct Files {
    dir: tempfile::TempDir,
    made: AtomicUsize,
}

impl Files {
    fn new() -> Self {
        Files {
            dir: tempfile::tempdir().unwrap(),
            made: AtomicUsize::new(0),
        }
    }

    async fn fresh(&self) -> SqliteStore {
        let n = self.made.fetch_add(1, Ordering::Relaxed);
        store_at(&self.dir.path().join(format!("store-{n}.db"))).await
    }
}

#[tokio::test]
async fn files_meet_the_storage_contract() {
    let files = Files::new();
    let fresh = || files.fresh();
    if let Err(error) = testing::conformance(fresh).await {
        panic!("{error}");
    }
}

#[tokio::test]
async fn files_meet_the_membership_contract() {
    let files = Files::new();
    let fresh = || files.fresh();
    if let Err(error) = testing::membership_conformance(fresh).await {
        panic!("{error}");
    }
}

#[tokio::test]
async fn files_meet_the_audit_log_and_owner_link_contracts() {
    let files = Files::new();
    let fresh = || files.fresh();
    if let Err(error) = testing::admin_records_conformance(fresh).await {
        panic!("{error}");
    }
}

#[tokio::test]
async fn files_meet_the_scim_token_contract() {
    let files = Files::new();
    let fresh = || files.fresh();
    if let Err(error) = testing::scim_token_conformance(fresh).await {
        panic!("{error}");
    }
}

#[tokio::test]
async fn files_meet_the_scim_users_contract() {
    let files = Files::new();
    let fresh = || files.fresh();
    if let Err(error) = testing::scim_users_conformance(fresh).await {
        panic!("{error}");
    }
}

#[tokio::test]
async fn files_meet_the_scim_groups_contract() {
    let files = Files::new();
    let fresh = || files.fresh();
    if let Err(error) = testing::scim_groups_conformance(fresh).await {
        panic!("{error}");
    }
}

#[tokio::test]
async fn a_scim_token_is_kept_as_its_sha256_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scim.db");
    let store = store_at(&path).await;
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let issued = store.create("acme", "okta", now).await.unwrap();
    assert!(store
        .authenticate("acme", &issued.token, now)
        .await
        .unwrap()
        .is_some());
    let kept: (String, String) =
        sqlx::query_as("SELECT token_hash, hint FROM jit_scim_tokens WHERE id = $1")
            .bind(issued.info.id.parse::<i64>().unwrap())
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(kept.0.len(), 64);
    assert_ne!(kept.0, issued.token);
    assert!(!issued.token.contains(&kept.0));
    assert_eq!(kept.1, issued.info.hint);
    // Neither the file nor its write-ahead log holds the token, or its hex digits alone.
    let hex = issued.token.trim_start_matches("jitscim_");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(dir.path().join("scim.db-wal")).unwrap_or_default());
    assert!(!bytes
        .windows(hex.len())
        .any(|window| window == hex.as_bytes()));
}

#[tokio::test]
async fn files_meet_the_replay_guard_contract() {
    let files = Files::new();
    let fresh = || async { SqliteReplayGuard::new(files.fresh().await.pool().clone()) };
    if let Err(error) = testing::replay_conformance(fresh).await {
        panic!("{error}");
    }
}

#[tokio::test]
async fn files_meet_the_org_directory_contract() {
    let files = Files::new();
    let fresh = || async { SqliteDirectory::new(files.fresh().await.pool().clone()) };
    if let Err(error) = testing::org_directory_conformance(fresh).await {
        panic!("{error}");
    }
}

#[tokio::test]
async fn an_in_memory_database_meets_the_org_directory_contract() {
    let fresh = || async {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        SqliteDirectory::new(store.pool().clone())
    };
    if let Err(error) = testing::org_directory_conformance(fresh).await {
        panic!("{error}");
    }
}

/// Four app servers on one file, a registry each: a change made through any one is
/// served by every other within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_app_servers_on_one_file_see_an_org_change_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let servers = org_servers(&dir.path().join("orgs.db")).await;
    common::every_server_sees_each_change("SQLite", servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_updates_of_one_org_version_on_one_file_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    common::two_updates_of_one_version(org_servers(&dir.path().join("orgs.db")).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn change_marks_on_one_file_miss_no_write() {
    let dir = tempfile::tempdir().unwrap();
    common::change_marks_miss_no_write(org_servers(&dir.path().join("orgs.db")).await).await;
}

#[tokio::test]
async fn expired_assertion_ids_are_swept_by_their_index() {
    use chrono::{TimeDelta, TimeZone, Utc};
    use jit_provisioning::ReplayGuard;

    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir.path().join("sweep.db")).await;
    let guard = SqliteReplayGuard::new(store.pool().clone());
    let noon = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
    for n in 0..10 {
        let end = noon + TimeDelta::minutes(n);
        assert!(guard
            .first_use("idp", &format!("_{n}"), end, noon)
            .await
            .unwrap());
    }
    let later =
        noon + TimeDelta::minutes(5) + TimeDelta::seconds(jit_provisioning::REPLAY_GRACE_SECS);
    assert_eq!(
        guard.sweep(later).await.unwrap(),
        6,
        "ids ending at 0..=5 minutes"
    );
    let plan: Vec<(i64, i64, i64, String)> =
        sqlx::query_as("EXPLAIN QUERY PLAN DELETE FROM jit_assertion_ids WHERE expires_at <= 1")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let plan: Vec<String> = plan.into_iter().map(|(_, _, _, detail)| detail).collect();
    assert!(
        plan.iter()
            .any(|step| step.contains("jit_assertion_ids_expires_at")),
        "the sweep scans the table: {plan:?}"
    );
}

#[tokio::test]
async fn in_memory_databases_meet_the_storage_contract() {
    let fresh = || async {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        store
    };
    if let Err(error) = testing::conformance(fresh).await {
        panic!("{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_app_servers_on_one_file_make_one_account_per_person() {
    let dir = tempfile::tempdir().unwrap();
    let stores = app_servers(&dir.path().join("shared.db")).await;
    let report = common::crowd(stores).await;
    println!("SQLite crowd: {report:?}");
    assert_eq!(report.accounts, common::PEOPLE);
}

/// A thousand new people of one name log in at once over four app servers sharing one
/// file (four stores, four pools), every look-up answered before any creation: each
/// login succeeds at its first decision, with one look-up and one creation.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_first_logins_of_one_name_over_four_app_servers_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let stores = app_servers(&dir.path().join("burst.db")).await;
    let report = Burst::new(1_000)
        .run(&stores)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    common::assert_burst_of_a_thousand("SQLite", &report);
    let [accounts, identities, _] = row_counts(&stores[0]).await;
    assert_eq!((accounts, identities), (1_000, 1_000));
}

#[tokio::test]
async fn a_database_without_the_schema_is_not_set_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(&url(&dir.path().join("empty.db")))
        .await
        .unwrap();
    let not_set_up = |error: &StoreError| matches!(error, StoreError::NotSetUp(message) if message.contains("run `migrate()`"));
    let error = store
        .account_by_identity(&common::identity("s1"))
        .await
        .unwrap_err();
    assert!(not_set_up(&error), "{error:?}");
    assert!(error.to_string().contains("no such table"), "{error}");
    let error = store.taken_handles(&["jane-doe".into()]).await.unwrap_err();
    assert!(not_set_up(&error), "{error:?}");
    match store.create_account(&new_account("jane-doe", "s1")).await {
        Err(CreateError::Store(error)) if not_set_up(&error) => {}
        other => panic!("{other:?}"),
    }
    match store
        .link_identity(&"1".into(), &common::identity("s1"))
        .await
    {
        Err(LinkError::Store(error)) if not_set_up(&error) => {}
        other => panic!("{other:?}"),
    }

    // Migrating fixes it, and migrating again changes nothing.
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store
        .create_account(&new_account("jane-doe", "s1"))
        .await
        .unwrap();
    assert_eq!(row_counts(&store).await, [1, 1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_servers_starting_together_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(SqliteStore::connect(&url(&path)).await.unwrap());
    }
    let migrations: Vec<_> = stores
        .iter()
        .cloned()
        .map(|store| tokio::spawn(async move { store.migrate().await }))
        .collect();
    for migration in migrations {
        migration.await.unwrap().unwrap();
    }
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM jit_schema_migrations")
        .fetch_one(stores[0].pool())
        .await
        .unwrap();
    assert_eq!(versions, 10, "each migration once");
}

#[tokio::test]
async fn a_file_in_a_missing_directory_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("accounts.db");
    match SqliteStore::connect(&url(&path)).await {
        Err(StoreError::Unavailable(source)) => {
            assert!(source.to_string().contains("unable to open"), "{source}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_not_set_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "these are not the accounts you are looking for\n".repeat(100),
    )
    .unwrap();
    let error = match SqliteStore::connect(&url(&path)).await {
        Ok(store) => store.migrate().await.unwrap_err(),
        Err(error) => error,
    };
    assert!(matches!(error, StoreError::NotSetUp(_)), "{error:?}");
}

#[tokio::test]
async fn a_creation_failing_half_way_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir.path().join("accounts.db")).await;
    // The second membership insert fails, after the account and identity went in.
    sqlx::raw_sql(
        "CREATE TRIGGER no_labs BEFORE INSERT ON jit_memberships WHEN NEW.org = 'acme-labs'
         BEGIN SELECT RAISE(ABORT, 'acme-labs is closed'); END",
    )
    .execute(store.pool())
    .await
    .unwrap();
    match store.create_account(&new_account("jane-doe", "s1")).await {
        Err(CreateError::Store(StoreError::Backend(source))) => {
            assert!(
                source.to_string().contains("acme-labs is closed"),
                "{source}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(row_counts(&store).await, [0, 0, 0]);

    // The handle and the identity are still free.
    sqlx::raw_sql("DROP TRIGGER no_labs")
        .execute(store.pool())
        .await
        .unwrap();
    store
        .create_account(&new_account("jane-doe", "s1"))
        .await
        .unwrap();
    assert_all_or_nothing(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_dropped_at_any_moment_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir.path().join("accounts.db")).await;
    let (mut dropped, mut finished) = (0, 0);
    for n in 0..80u64 {
        // From "before the first statement" to "well after the commit".
        let patience = Duration::from_micros(n * n * 20);
        let account = new_account(&format!("jane-doe-{n}"), &format!("s{n}"));
        match tokio::time::timeout(patience, store.create_account(&account)).await {
            Ok(created) => {
                created.unwrap();
                finished += 1;
            }
            Err(_) => dropped += 1,
        }
        assert_all_or_nothing(&store).await;
        // No connection went back to the pool holding the write lock: the next write
        // goes through well within the busy timeout.
        let next = new_account(&format!("next-{n}"), &format!("next-{n}"));
        tokio::time::timeout(Duration::from_secs(4), store.create_account(&next))
            .await
            .expect("the write lock was left held")
            .unwrap();
    }
    assert!(
        dropped > 0 && finished > 0,
        "{dropped} dropped, {finished} finished"
    );
    assert_all_or_nothing(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_pool_under_writes_leaves_nothing_half_made() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts.db");
    let store = store_at(&path).await;
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_account(&new_account(&format!("u{n}"), &format!("s{n}")))
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(5)).await;
    store.pool().close().await;

    let (mut created, mut unavailable) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(CreateError::Store(StoreError::Unavailable(_))) => unavailable += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(
        unavailable > 0,
        "the pool closed after every write ({created})"
    );
    let reopened = store_at(&path).await;
    assert_eq!(row_counts(&reopened).await[0], created);
    assert_all_or_nothing(&reopened).await;
    // A closed store says so.
    let error = store.account_by_id(&"1".into()).await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn a_membership_with_an_unknown_role_is_invalid_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir.path().join("accounts.db")).await;
    let created = store
        .create_account(&new_account("jane-doe", "s1"))
        .await
        .unwrap();
    sqlx::query("UPDATE jit_memberships SET role = 'owner' WHERE org = 'acme'")
        .execute(store.pool())
        .await
        .unwrap();
    let error = store.account_by_id(&created.id).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::InvalidData(message) if message.contains("`owner`")),
        "{error:?}"
    );
}

#[tokio::test]
async fn ids_are_decimal_and_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir.path().join("accounts.db")).await;
    let first = store
        .create_account(&new_account("jane-doe", "s1"))
        .await
        .unwrap();
    assert_eq!(first.id, AccountId::from("1"));
    assert_eq!(store.account_by_id(&"01".into()).await.unwrap(), None);
    sqlx::query("DELETE FROM jit_accounts WHERE id = 1")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(row_counts(&store).await, [0, 0, 0], "deletion cascades");
    let second = store
        .create_account(&new_account("jane-doe", "s1"))
        .await
        .unwrap();
    assert_eq!(second.id, AccountId::from("2"));
    match store
        .link_identity(&first.id, &common::identity("s9"))
        .await
    {
        Err(LinkError::NoSuchAccount(id)) => assert_eq!(id, first.id),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rows_keyed_as_the_old_readme_said_are_rekeyed_by_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir.path().join("rekey.db")).await;
    // `str::to_lowercase` keeps the final sigma `ς`; the look-up key folds it to `σ`.
    let email = "ΝΙΚΟΣ@acme.example";
    sqlx::query("INSERT INTO jit_accounts (handle, handle_key, email, email_key) VALUES ('nikos', 'nikos', $1, $2)")
        .bind(email)
        .bind(email.to_lowercase())
        .execute(store.pool())
        .await
        .unwrap();
    assert!(
        store
            .accounts_by_email("νικος@acme.example")
            .await
            .unwrap()
            .is_empty(),
        "the stale key is not found"
    );
    // A database from before the re-keying migration.
    sqlx::query("DELETE FROM jit_schema_migrations WHERE version = 3")
        .execute(store.pool())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let found = store.accounts_by_email("νικος@acme.example").await.unwrap();
    assert_eq!(found.len(), 1, "found by its email after migrate()");
    assert_eq!(
        store.rekey_emails().await.unwrap(),
        0,
        "nothing left to re-key"
    );
}

#[tokio::test]
async fn imported_accounts_get_the_adapters_keys() {
    use jit_provisioning_sqlx::ImportedAccount;

    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir.path().join("import.db")).await;
    let sam = ImportedAccount {
        handle: "Sam-Lee".into(),
        email: Some("ΣΑΜ@Acme.example".into()),
        has_password: true,
    };
    let id = store.import_account(&sam).await.unwrap();
    let found = store.accounts_by_email("σαμ@acme.EXAMPLE").await.unwrap();
    assert_eq!(
        found.iter().map(|record| &record.id).collect::<Vec<_>>(),
        [&id]
    );
    assert!(found[0].has_password);
    assert!(matches!(
        store
            .import_account(&ImportedAccount {
                handle: "sam-lee".into(),
                ..sam
            })
            .await,
        Err(CreateError::HandleTaken(_))
    ));
}

#[tokio::test]
async fn a_database_from_before_display_names_gains_them_on_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("before-names.db");
    let pool = sqlx::SqlitePool::connect(&format!("{}?mode=rwc", url(&path)))
        .await
        .unwrap();
    // The schema as version 3 left it, with an account made then.
    for sql in [
        include_str!("../migrations/sqlite/0001_accounts.sql"),
        include_str!("../migrations/sqlite/0002_one_identity_per_issuer_and_assertion_ids.sql"),
        "CREATE TABLE jit_schema_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL);
         INSERT INTO jit_schema_migrations VALUES (1, 'one'), (2, 'two'), (3, 'three');
         INSERT INTO jit_accounts (handle, handle_key) VALUES ('sam-lee', 'sam-lee');",
    ] {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    let store = SqliteStore::from_pool(pool);
    store.migrate().await.unwrap();

    let old = store.account_by_id(&"1".into()).await.unwrap().unwrap();
    assert_eq!((old.given_name, old.family_name), (None, None));
    let mut named = new_account("zoe-nguyen-van", "s-zoe");
    named.given_name = Some("Zoë".into());
    named.family_name = Some("Nguyễn Văn".into());
    let created = store.create_account(&named).await.unwrap();
    let read = store.account_by_id(&created.id).await.unwrap().unwrap();
    assert_eq!(read.given_name.as_deref(), Some("Zoë"));
    assert_eq!(read.family_name.as_deref(), Some("Nguyễn Văn"));
}

/// Memberships from before migration 6 joined by hand; an account made since joined its
/// orgs by JIT, the org of the invite its creation accepts by invite.
#[tokio::test]
async fn memberships_from_before_invites_joined_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("before-invites.db");
    let pool = sqlx::SqlitePool::connect(&format!("{}?mode=rwc", url(&path)))
        .await
        .unwrap();
    // The schema as version 5 left it, with a member and an admin made then.
    for sql in [
        include_str!("../migrations/sqlite/0001_accounts.sql"),
        include_str!("../migrations/sqlite/0002_one_identity_per_issuer_and_assertion_ids.sql"),
        include_str!("../migrations/sqlite/0004_display_names.sql"),
        include_str!("../migrations/sqlite/0005_orgs.sql"),
        "CREATE TABLE jit_schema_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL);
         INSERT INTO jit_schema_migrations VALUES (1, 'one'), (2, 'two'), (3, 'three'),
             (4, 'four'), (5, 'five');
         INSERT INTO jit_accounts (handle, handle_key) VALUES ('sam-lee', 'sam-lee'),
             ('ada', 'ada');
         INSERT INTO jit_memberships (account_id, org, role) VALUES (1, 'acme', 'admin'),
             (2, 'acme', 'member');",
    ] {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    }
    let store = SqliteStore::from_pool(pool);
    store.migrate().await.unwrap();

    let now = common::now();
    let invite = store
        .create_invite(&Invite::new(
            "acme-labs",
            Role::Admin,
            Invitee::Email("zoe@acme.example".into()),
            "sam-lee",
            now,
        ))
        .await
        .unwrap();
    // Created accepting the invite: its role is among the memberships.
    let mut zoe = new_account("zoe", "s-zoe");
    for grant in &mut zoe.memberships {
        if grant.org == "acme-labs" {
            grant.role = Role::Admin;
        }
    }
    zoe.invite = Some(Box::new(invite));
    store.create_account(&zoe).await.unwrap();

    let listed = |org: &'static str| {
        let store = store.clone();
        async move {
            store
                .members(org)
                .await
                .unwrap()
                .into_iter()
                .map(|m| (m.account.handle, m.role, m.joined))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed("acme").await,
        [
            ("ada".to_owned(), Role::Member, Joined::ByHand),
            ("sam-lee".to_owned(), Role::Admin, Joined::ByHand),
            ("zoe".to_owned(), Role::Member, Joined::Jit),
        ]
    );
    assert_eq!(
        listed("acme-labs").await,
        [("zoe".to_owned(), Role::Admin, Joined::Invite)]
    );
    // The last admin of an org from before stays, too.
    assert!(matches!(
        store.remove_member(&"1".into(), "acme").await,
        Err(MembershipError::LastAdmin)
    ));
}

/// An invite to an account that does not exist is refused, and stores nothing.
#[tokio::test]
async fn an_invite_to_a_missing_account_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_at(&dir.path().join("invites.db")).await;
    for ghost in ["7", "acct-7"] {
        let refused = store
            .create_invite(&Invite::new(
                "acme",
                Role::Member,
                Invitee::Account(ghost.into()),
                "sam",
                common::now(),
            ))
            .await;
        assert!(
            matches!(&refused, Err(StoreError::InvalidData(m)) if m.contains(ghost)),
            "{refused:?}"
        );
    }
    assert!(store
        .open_invites("acme", common::now())
        .await
        .unwrap()
        .is_empty());
}
