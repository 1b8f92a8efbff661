//! The provisioner over the SQL stores: how account creation grows with the number of
//! `jane-doe…` handles already taken, a burst of first logins of one name over four app
//! servers, and new accounts per second with 1 and 8 tasks, beside a ceiling of plain
//! INSERTs of the same rows on the same database.
//!
//! SQLite always runs (a temporary file, WAL). PostgreSQL runs when
//! `JIT_PROVISIONING_PG_URL` names a database the benches may create schemas in; each
//! bench works in a fresh schema, dropped at its end. See `BENCHMARKS.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // benches fail loudly

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode,
    Throughput,
};
use jit_provisioning::testing::{Burst, CountingStore, FIRST_LOGIN_CALLS};
use jit_provisioning::{AccountStore, Outcome, Provisioner};
use tokio::runtime::Runtime;

use common::{Db, TimingStore};

/// Existing `jane-doe…` handles each creation of a Jane Doe meets.
const DEPTHS: [usize; 4] = [0, 10, 1_000, 100_000];

/// Concurrent tasks creating accounts.
const TASKS: [usize; 2] = [1, 8];

/// First logins of one name at once.
const BURSTS: [usize; 3] = [10, 100, 1_000];

/// The handle a Jane Doe gets when `jane-doe`, `jane-doe-2` … `jane-doe-k` are taken.
fn next_jane_doe(k: usize) -> String {
    if k == 0 {
        "jane-doe".to_owned()
    } else {
        format!("jane-doe-{}", k + 1)
    }
}

/// Creates a Jane Doe over exactly K taken `jane-doe…` handles, for each K in [`DEPTHS`]:
/// the store's round trips are counted once per K, outside the timing, and each timed
/// creation is deleted again outside the timing.
fn collision_depth<S: AccountStore>(
    c: &mut Criterion,
    runtime: &Runtime,
    backend: &str,
    db: &Db,
    store: S,
) {
    let mut group = c.benchmark_group(format!("sqlx/collision depth ({backend})"));
    // One creation at K = 100,000 takes tens of milliseconds: equal samples, fewer of them.
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    let store = CountingStore::new(store);
    let provisioner = Provisioner::new(common::policy(), &store);
    let counter = AtomicUsize::new(0);
    let mut seeded = 0;
    for k in DEPTHS {
        let started = Instant::now();
        runtime.block_on(db.seed_jane_does(seeded + 1, k));
        seeded = k;
        assert_eq!(runtime.block_on(db.count("jit_accounts")), k as i64);
        let seeding = started.elapsed();

        // Round trips for one creation, counted outside the timing.
        store.reset();
        let done = runtime
            .block_on(provisioner.handle(&common::next_jane(&counter), common::now()))
            .unwrap();
        let counts = store.counts();
        let handle = done.decision.new_handle().unwrap_or("?").to_owned();
        assert_eq!(handle, next_jane_doe(k));
        // One look-up answers identity, email and the taken handles; then one creation.
        assert_eq!(
            (
                counts.look_up_assertion,
                counts.create_account,
                counts.total()
            ),
            (1, 1, 2),
            "{counts:?}"
        );
        println!(
            "{backend}, K = {k} (seeded in {seeding:.2?}): created `{handle}` with \
             {} look-up + {} create round trips ({} in all)",
            counts.look_up_assertion,
            counts.create_account,
            counts.total()
        );
        runtime.block_on(db.undo(&done.account.unwrap().id));
        assert_eq!(runtime.block_on(db.count("jit_identities")), 0);
        assert_eq!(runtime.block_on(db.count("jit_memberships")), 0);

        // Where the time goes, also outside the timing: the fastest of five creations,
        // split by store call.
        print_split(runtime, backend, k, db, &counter, store.inner());

        store.reset();
        let mut creations = 0usize;
        group.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, &k| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    let request = common::next_jane(&counter);
                    let start = Instant::now();
                    let done = runtime
                        .block_on(provisioner.handle(&request, common::now()))
                        .unwrap();
                    elapsed += start.elapsed();
                    assert_eq!(done.decision.new_handle(), Some(next_jane_doe(k).as_str()));
                    // Undo outside the timing, so every iteration meets exactly K handles.
                    runtime.block_on(db.undo(&done.account.unwrap().id));
                    creations += 1;
                }
                elapsed
            })
        });
        // No timed creation took more than the counted one: one look-up, one insert.
        let counts = store.counts();
        assert_eq!(counts.look_up_assertion, creations, "{counts:?}");
        assert_eq!(counts.create_account, creations, "{counts:?}");
        assert_eq!(counts.total(), 2 * creations, "{counts:?}");
    }
    group.finish();
}

/// Creates five Jane Does over K taken handles (each undone) through a timing store and
/// prints how the fastest one's time splits between the store calls and the rest.
fn print_split<S: AccountStore>(
    runtime: &Runtime,
    backend: &str,
    k: usize,
    db: &Db,
    counter: &AtomicUsize,
    store: &S,
) {
    let store = TimingStore::new(store);
    let provisioner = Provisioner::new(common::policy(), &store);
    let (total, times) = (0..5)
        .map(|_| {
            let request = common::next_jane(counter);
            store.take();
            let start = Instant::now();
            let done = runtime
                .block_on(provisioner.handle(&request, common::now()))
                .unwrap();
            let total = start.elapsed();
            let times = store.take();
            runtime.block_on(db.undo(&done.account.unwrap().id));
            (total, times)
        })
        .min_by_key(|(total, _)| *total)
        .unwrap();
    println!(
        "{backend}, K = {k}: one creation in {total:.2?}: look-up (identity, email and taken \
         handles in one query) {:.2?}, create {:.2?}, the rest (deciding) {:.2?}",
        times.look_up_assertion,
        times.create_account,
        total.saturating_sub(times.total())
    );
}

/// A burst of N first logins of one name, over [`common::SERVERS`] app servers sharing
/// the database (a store and a pool each), every look-up answered before any creation
/// (`testing::Burst`): the wall time of the burst, and, printed once per N outside the
/// timing, the store round trips per login. Each burst is of a name of its own, so every
/// one meets only its own handles.
fn burst<S: AccountStore>(c: &mut Criterion, runtime: &Runtime, backend: &str, stores: &[S]) {
    let mut group = c.benchmark_group(format!("sqlx/burst of one name ({backend})"));
    // A burst of 1,000 takes about a second: equal samples, few of them.
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    let names = AtomicUsize::new(0);
    let next = || {
        let family = format!(
            "Smith {}",
            common::letters(names.fetch_add(1, Ordering::Relaxed))
        );
        move |logins: usize| Burst::new(logins).named("Pat", &family)
    };
    for logins in BURSTS {
        let report = runtime
            .block_on(next()(logins).run(stores))
            .unwrap_or_else(|error| panic!("{backend}: {error}"));
        assert!(report.max_calls <= FIRST_LOGIN_CALLS, "{report:?}");
        println!(
            "{backend}, burst of {logins} over {} app servers: {:.2?}, {:.2} store round \
             trips per login ({} at most), every login decided {} time(s) at most",
            stores.len(),
            report.elapsed,
            report.calls as f64 / logins as f64,
            report.max_calls,
            report.max_attempts
        );
        group.throughput(Throughput::Elements(logins as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(logins),
            &logins,
            |b, &logins| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            let report = runtime
                                .block_on(next()(logins).run(stores))
                                .unwrap_or_else(|error| panic!("{backend}: {error}"));
                            assert!(report.max_calls <= FIRST_LOGIN_CALLS, "{report:?}");
                            report.elapsed
                        })
                        .sum()
                })
            },
        );
    }
    group.finish();
}

/// Runs `job` `iters` times spread over `tasks` concurrent tasks; the time for `iters`.
fn spread<F, Fut>(runtime: &Runtime, tasks: usize, iters: u64, job: F) -> Duration
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let per_task = (iters as usize).div_ceil(tasks);
    let start = Instant::now();
    runtime.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let job = job.clone();
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        job().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    // Scale to the iterations asked for, since tasks round up.
    start
        .elapsed()
        .mul_f64(iters as f64 / (per_task * tasks) as f64)
}

/// New accounts per second through the provisioner, a fresh database per task count.
fn provisioner_throughput<S: AccountStore + 'static>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    runtime: &Runtime,
    backend: &str,
    tasks: usize,
    db: Db,
    store: S,
) {
    let names = Arc::new(common::corpus());
    let provisioner = Arc::new(Provisioner::new(common::policy(), store));
    let counter = Arc::new(AtomicUsize::new(0));
    let retried = Arc::new(AtomicUsize::new(0));
    let job = {
        let (counter, retried) = (Arc::clone(&counter), Arc::clone(&retried));
        move || {
            let provisioner = Arc::clone(&provisioner);
            let retried = Arc::clone(&retried);
            let request = common::person(&names, counter.fetch_add(1, Ordering::Relaxed));
            async move {
                let done = provisioner.handle(&request, common::now()).await.unwrap();
                assert_eq!(done.decision.outcome(), Outcome::AccountCreated);
                if done.attempts > 1 {
                    retried.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    };
    group.bench_with_input(
        BenchmarkId::new("provisioner/tasks", tasks),
        &tasks,
        |b, &tasks| b.iter_custom(|iters| spread(runtime, tasks, iters, job.clone())),
    );
    let created = counter.load(Ordering::Relaxed);
    assert_eq!(runtime.block_on(db.count("jit_accounts")), created as i64);
    println!(
        "{backend}, provisioner, {tasks} task(s): {created} accounts created, {} of them \
         after a lost race",
        retried.load(Ordering::Relaxed)
    );
    runtime.block_on(db.close());
}

/// How the rows of a creation are written without the provisioner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plain {
    /// The ceiling: separate autocommit INSERTs, no look-ups.
    Autocommit,
    /// A reference: the same INSERTs in one transaction.
    OneTransaction,
}

/// Accounts per second written as plain INSERTs, a fresh database per run.
fn plain_insert_throughput(
    group: &mut BenchmarkGroup<'_, WallTime>,
    runtime: &Runtime,
    backend: &str,
    tasks: usize,
    plain: Plain,
    db: Db,
) {
    let db = Arc::new(db);
    let names = Arc::new(common::corpus());
    let counter = Arc::new(AtomicUsize::new(0));
    let job = {
        let (db, counter) = (Arc::clone(&db), Arc::clone(&counter));
        move || {
            let db = Arc::clone(&db);
            let row = common::PlainRow::new(&names, counter.fetch_add(1, Ordering::Relaxed));
            async move {
                match plain {
                    Plain::Autocommit => db.plain_insert(&row).await,
                    Plain::OneTransaction => db.plain_insert_in_transaction(&row).await,
                }
            }
        }
    };
    let name = match plain {
        Plain::Autocommit => "plain inserts/tasks",
        Plain::OneTransaction => "plain inserts in one transaction/tasks",
    };
    group.bench_with_input(BenchmarkId::new(name, tasks), &tasks, |b, &tasks| {
        b.iter_custom(|iters| spread(runtime, tasks, iters, job.clone()))
    });
    drop(job);
    let inserted = counter.load(Ordering::Relaxed);
    assert_eq!(runtime.block_on(db.count("jit_accounts")), inserted as i64);
    assert_eq!(
        runtime.block_on(db.count("jit_identities")),
        inserted as i64
    );
    assert_eq!(
        runtime.block_on(db.count("jit_memberships")),
        inserted as i64
    );
    println!("{backend}, {name} {tasks}: {inserted} accounts inserted");
    let db = Arc::try_unwrap(db).unwrap();
    runtime.block_on(db.close());
}

fn sqlite(c: &mut Criterion) {
    let runtime = common::runtime();
    let (db, store) = runtime.block_on(Db::sqlite());
    collision_depth(c, &runtime, "sqlite", &db, store);
    runtime.block_on(db.close());

    let (db, stores) = runtime.block_on(Db::sqlite_servers(common::SERVERS));
    burst(c, &runtime, "sqlite", &stores);
    drop(stores);
    runtime.block_on(db.close());

    let mut group = c.benchmark_group("sqlx/new accounts (sqlite)");
    group.throughput(Throughput::Elements(1));
    for tasks in TASKS {
        let (db, store) = runtime.block_on(Db::sqlite());
        provisioner_throughput(&mut group, &runtime, "sqlite", tasks, db, store);
        for plain in [Plain::Autocommit, Plain::OneTransaction] {
            let (db, _) = runtime.block_on(Db::sqlite());
            plain_insert_throughput(&mut group, &runtime, "sqlite", tasks, plain, db);
        }
    }
    group.finish();
}

fn postgres(c: &mut Criterion) {
    let Ok(url) = std::env::var(common::PG_URL_VAR) else {
        println!(
            "PostgreSQL benches skipped: {} is not set (see adapters/sqlx/BENCHMARKS.md)",
            common::PG_URL_VAR
        );
        return;
    };
    let runtime = common::runtime();
    let (db, store) = runtime.block_on(Db::postgres(&url));
    collision_depth(c, &runtime, "postgres", &db, store);
    runtime.block_on(db.close());

    let (db, stores) = runtime.block_on(Db::postgres_servers(&url, common::SERVERS));
    burst(c, &runtime, "postgres", &stores);
    for store in stores {
        runtime.block_on(store.pool().close());
    }
    runtime.block_on(db.close());

    let mut group = c.benchmark_group("sqlx/new accounts (postgres)");
    group.throughput(Throughput::Elements(1));
    for tasks in TASKS {
        let (db, store) = runtime.block_on(Db::postgres(&url));
        provisioner_throughput(&mut group, &runtime, "postgres", tasks, db, store);
        for plain in [Plain::Autocommit, Plain::OneTransaction] {
            let (db, _) = runtime.block_on(Db::postgres(&url));
            plain_insert_throughput(&mut group, &runtime, "postgres", tasks, plain, db);
        }
    }
    group.finish();
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
