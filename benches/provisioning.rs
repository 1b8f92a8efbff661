//! The provisioner over the in-memory store: how the collision search grows with the
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // benches fail loudly
//! number of same-base handles, and new accounts per second with 1 and 8 tasks.
//! (The SQL adapter's own benches measure SQLite and PostgreSQL.)

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use jit_provisioning::testing::CountingStore;
use jit_provisioning::{MemoryStore, Provisioner, Request};

/// A fresh person named Jane Doe each call.
fn next_jane(counter: &AtomicUsize) -> Request {
    let n = counter.fetch_add(1, Ordering::Relaxed);
    Request::Assertion(common::assertion(&format!("bench-{n}"), "Jane", "Doe"))
}

fn collision_depth(c: &mut Criterion) {
    let mut group = c.benchmark_group("provisioning/collision depth (in-memory)");
    let counter = AtomicUsize::new(0);
    for k in [0usize, 10, 1_000, 100_000] {
        let store = CountingStore::new(MemoryStore::with_accounts(common::jane_does(k)).unwrap());
        let provisioner = Provisioner::new(common::policy(), &store);

        // Round trips for one creation, counted once outside the timing.
        let done =
            pollster::block_on(provisioner.handle(&next_jane(&counter), common::now())).unwrap();
        let counts = store.counts();
        println!(
            "K = {k}: created `{}` with {} taken-handles + {} create round trips ({} in all)",
            done.decision.new_handle().unwrap_or("?"),
            counts.taken_handles,
            counts.create_account,
            counts.total()
        );
        store.inner().remove(&done.account.unwrap().id);

        group.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, _| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    let request = next_jane(&counter);
                    let start = Instant::now();
                    let done =
                        pollster::block_on(provisioner.handle(&request, common::now())).unwrap();
                    elapsed += start.elapsed();
                    // Undo outside the timing, so every iteration meets exactly K handles.
                    store.inner().remove(&done.account.unwrap().id);
                }
                elapsed
            })
        });
    }
    group.finish();
}

fn throughput(c: &mut Criterion) {
    let names = common::corpus();
    let counter = Arc::new(AtomicUsize::new(0));
    let person = move |n: usize| {
        let (first, last) = &names[n % names.len()];
        Request::Assertion(common::assertion(&format!("t-{n}"), first, last))
    };
    let person = Arc::new(person);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();

    let mut group = c.benchmark_group("provisioning/new accounts (in-memory)");
    group.throughput(Throughput::Elements(1));
    for tasks in [1usize, 8] {
        group.bench_with_input(BenchmarkId::new("tasks", tasks), &tasks, |b, &tasks| {
            let provisioner = Arc::new(Provisioner::new(common::policy(), MemoryStore::new()));
            b.iter_custom(|iters| {
                let per_task = (iters as usize).div_ceil(tasks);
                let start = Instant::now();
                runtime.block_on(async {
                    let handles: Vec<_> = (0..tasks)
                        .map(|_| {
                            let provisioner = Arc::clone(&provisioner);
                            let counter = Arc::clone(&counter);
                            let person = Arc::clone(&person);
                            tokio::spawn(async move {
                                for _ in 0..per_task {
                                    let request = person(counter.fetch_add(1, Ordering::Relaxed));
                                    provisioner.handle(&request, common::now()).await.unwrap();
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
            })
        });
    }
    group.finish();
}

criterion_group!(benches, collision_depth, throughput);
criterion_main!(benches);
