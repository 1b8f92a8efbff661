//! Heap allocations per decision, counted by dhat's allocator (not timed):
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // benches fail loudly
//! `cargo bench --bench allocations`.

mod common;

use jit_provisioning::decide;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

fn main() {
    let policy = common::policy();
    let now = common::now();
    // One of each first, outside the count: the first non-ASCII name builds the character
    // table once per process, which is not a cost of any one decision.
    for (_, request, known) in common::decision_scenarios() {
        drop(decide(&policy, &request, &known, now));
    }
    let _profiler = dhat::Profiler::builder().testing().build();
    println!("{:<32} {:>12} {:>12}", "decision", "allocations", "bytes");
    for (label, request, known) in common::decision_scenarios() {
        let before = dhat::HeapStats::get();
        let decision = decide(&policy, &request, &known, now);
        let after = dhat::HeapStats::get();
        drop(decision);
        println!(
            "{label:<32} {:>12} {:>12}",
            after.total_blocks - before.total_blocks,
            after.total_bytes - before.total_bytes
        );
    }
}
