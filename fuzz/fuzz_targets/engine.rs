//! Structured scenarios (config, accounts, request, clock) through `decide` and the
//! provisioner, checking the invariants in `jit_provisioning_fuzz::check`.
//!
//! A crash input prints as a policy case with
//! `cargo run --manifest-path fuzz/Cargo.toml --features dump --bin engine_to_case -- ARTIFACT`.

#![no_main]

use jit_provisioning_fuzz::{check_scenario, EngineInput};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: EngineInput| {
    check_scenario(&input.into_scenario(), false);
});
