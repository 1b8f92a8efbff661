//! Raw bytes through the case-file loader; every case it accepts runs through the
//! provisioner and the engine's invariants.
//!
//! Seed it with the project's cases: `cargo fuzz run case_loader -s none
//! fuzz/corpus/case_loader tests/cases -- -dict=fuzz/dicts/case_loader.dict`.

#![no_main]

use std::path::Path;

use jit_provisioning::cases;
use jit_provisioning_fuzz::{check_scenario, Scenario};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = cases::parse(Path::new("fuzz.json"), text) else {
        return;
    };
    for case in &file.cases {
        // The runner reports, it never panics, whatever the case expects.
        let _ = cases::run_case(case);
        // Each step's request on the case's accounts is a scenario of its own; a request
        // naming an earlier step's account needs the run, and is left to it.
        for step in &case.steps {
            let Ok(request) = step.request.resolve(&[]) else {
                continue;
            };
            check_scenario(
                &Scenario {
                    now: step.now,
                    config: case.config.clone(),
                    accounts: case.accounts.clone(),
                    request,
                },
                true,
            );
        }
    }
});
