//! One decision of each kind through the pure engine: the cost of policy alone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // benches fail loudly
//! Targets (BENCHMARKS.md): member sign-in ≤ 1 µs, new account ≤ 3 µs (medians).

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use jit_provisioning::decide;

fn decisions(c: &mut Criterion) {
    let policy = common::policy();
    let now = common::now();
    let mut group = c.benchmark_group("decide");
    for (label, request, known) in common::decision_scenarios() {
        group.bench_function(label, |b| {
            b.iter(|| {
                decide(
                    black_box(&policy),
                    black_box(&request),
                    black_box(&known),
                    now,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
