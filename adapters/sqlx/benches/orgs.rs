//! The org directory under an app server's `OrgRegistry`, at 1,000, 10,000 and 100,000
//! orgs: the server's start time (a new registry over a new pool, to its first answered
//! `org()`), the memory each cached org holds, and a login's org look-up, cached and
//! uncached (one round trip).
//!
//! PostgreSQL when `JIT_PROVISIONING_PG_URL` names a database the bench may create
//! schemas in (a fresh one for each size, dropped at its end); a temporary SQLite file
//! otherwise. The orgs are seeded in bulk with SQL. In criterion's test mode (`cargo test
//! --bench orgs`) only the smallest size runs. See `BENCHMARKS.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // benches fail loudly

mod common;

use std::alloc::System;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use jit_provisioning::org::OrgRegistry;
use jit_provisioning::Config;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio::runtime::Runtime;

use common::{org_id, Db, OrgServer};

/// Counts the bytes allocated and freed, for the memory a cached org holds.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Orgs in the directory.
const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// Tasks filling a cache at once, as concurrent logins would.
const FILLERS: usize = 8;

/// Criterion's test mode: `cargo test` runs a bench without `--bench`.
fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|arg| arg == "--test") || !args.iter().any(|arg| arg == "--bench")
}

/// The `n`th look-up's org among `orgs`: a stride through all of them, so that look-ups
/// land all over the tables and the cache.
fn pick(n: u64, orgs: usize) -> usize {
    (n as usize).wrapping_mul(7_919) % orgs + 1
}

fn registry(server: &OrgServer) -> Arc<OrgRegistry> {
    Arc::new(OrgRegistry::new(server.directory(), &Config::default()).unwrap())
}

/// Looks up every org once, with [`FILLERS`] tasks at once.
async fn fill(registry: &Arc<OrgRegistry>, orgs: usize) {
    let fillers: Vec<_> = (0..FILLERS)
        .map(|filler| {
            let registry = Arc::clone(registry);
            tokio::spawn(async move {
                for n in (1 + filler..=orgs).step_by(FILLERS) {
                    assert!(registry.org(&org_id(n)).await.unwrap().is_some());
                }
            })
        })
        .collect();
    for filler in fillers {
        filler.await.unwrap();
    }
}

/// A new app server: a pool and a registry of its own, timed to its first answered
/// `org()` (a login's). The pool is closed outside the timing.
fn start_time(c: &mut Criterion, runtime: &Runtime, backend: &str, db: &Db, orgs: usize) {
    let mut group = c.benchmark_group(format!("orgs/start ({backend})"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function(BenchmarkId::from_parameter(orgs), |b| {
        b.to_async(runtime).iter_custom(|iters| async move {
            let mut total = Duration::ZERO;
            for n in 0..iters {
                let server = db.org_server();
                let id = org_id(pick(n, orgs));
                let started = Instant::now();
                let registry = OrgRegistry::new(server.directory(), &Config::default()).unwrap();
                let found = registry.org(&id).await.unwrap();
                total += started.elapsed();
                assert!(found.is_some());
                server.close().await;
            }
            total
        })
    });
    group.finish();
}

/// The bytes a registry holds per cached org: everything allocated and not freed while
/// it cached all `orgs`, divided by their number. The pool's connections are opened and
/// their statements prepared beforehand (by another registry on the same pool), so that
/// only the cache is counted: the orgs' records, their checked policies, the map.
/// Returns the registry, every org cached.
fn memory_per_org(
    runtime: &Runtime,
    backend: &str,
    server: &OrgServer,
    orgs: usize,
) -> Arc<OrgRegistry> {
    runtime.block_on(async {
        fill(&registry(server), orgs.min(1_000)).await;
        let registry = registry(server);
        // The first look-up follows the directory's change marks from 0.
        registry.org(&org_id(1)).await.unwrap();
        registry.clear_cache();
        let region = Region::new(GLOBAL);
        let started = Instant::now();
        fill(&registry, orgs).await;
        let took = started.elapsed();
        let change = region.change();
        assert_eq!(registry.cached(), orgs);
        let held = change.bytes_allocated as i64 - change.bytes_deallocated as i64;
        println!(
            "orgs/memory ({backend}) {orgs} orgs: {} bytes a cached org ({:.1} MiB for all), \
             {} allocations a cached org, filled by {FILLERS} tasks in {took:.2?}",
            held / orgs as i64,
            held as f64 / (1024.0 * 1024.0),
            change.allocations.saturating_sub(change.deallocations) / orgs,
        );
        registry
    })
}

/// A login's org look-up: `org()` of a cached org (on `cached`, which holds every org,
/// each in turn), and of an uncached one (on a registry of its own, whose cache is
/// cleared before each: one round trip to the directory). Both registries keep the
/// default refresh, so one look-up in every 500 ms also asks the directory what changed.
fn look_ups(
    c: &mut Criterion,
    runtime: &Runtime,
    backend: &str,
    (server, cached): (&OrgServer, Arc<OrgRegistry>),
    orgs: usize,
) {
    let ids: Vec<String> = (0..=orgs).map(org_id).collect();
    let mut group = c.benchmark_group(format!("orgs/look-up ({backend})"));
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function(BenchmarkId::new("cached", orgs), |b| {
        let mut n = 0;
        b.to_async(runtime).iter(|| {
            n += 1;
            let (registry, id) = (&cached, &ids[pick(n, orgs)]);
            async move { registry.org(id).await.unwrap().unwrap() }
        })
    });
    let uncached = registry(server);
    group.bench_function(BenchmarkId::new("uncached", orgs), |b| {
        let mut n = 0;
        b.to_async(runtime).iter(|| {
            n += 1;
            let (registry, id) = (&uncached, &ids[pick(n, orgs)]);
            async move {
                registry.clear_cache();
                registry.org(id).await.unwrap().unwrap()
            }
        })
    });
    group.finish();
}

fn orgs(c: &mut Criterion) {
    let runtime = common::runtime();
    let url = std::env::var(common::PG_URL_VAR).ok();
    let backend = if url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    match &url {
        Some(_) => println!("org benches on PostgreSQL ({} is set)", common::PG_URL_VAR),
        None => println!(
            "org benches on SQLite: {} is not set (see adapters/sqlx/BENCHMARKS.md)",
            common::PG_URL_VAR
        ),
    }
    let sizes = if test_mode() {
        println!("test mode: {} orgs only", SIZES[0]);
        &SIZES[..1]
    } else {
        &SIZES[..]
    };
    for &orgs in sizes {
        let db = runtime.block_on(async {
            match &url {
                Some(url) => Db::postgres(url).await.0,
                None => Db::sqlite().await.0,
            }
        });
        let started = Instant::now();
        runtime.block_on(db.seed_orgs(orgs));
        println!("{orgs} orgs seeded in {:.2?}", started.elapsed());

        start_time(c, &runtime, backend, &db, orgs);
        let server = {
            let _context = runtime.enter(); // the pool's tasks start on the runtime
            db.org_server()
        };
        let cached = memory_per_org(&runtime, backend, &server, orgs);
        look_ups(c, &runtime, backend, (&server, cached), orgs);
        runtime.block_on(async {
            server.close().await;
            db.close().await;
        });
    }
}

criterion_group!(benches, orgs);
criterion_main!(benches);
