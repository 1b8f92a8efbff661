//! Shared by the fuzz targets and `engine_to_case`: the `engine` target's input and the
//! scenario it decodes to, the invariants a decision keeps, and the policy case a
//! scenario is written out as.

pub mod case;
pub mod check;
pub mod scenario;

pub use case::{check_round_trip, to_case, to_json};
pub use check::{run_and_check, Ran};
pub use scenario::{EngineInput, Scenario};

/// Runs one scenario through the invariants; with `json`, its dump as a policy case must
/// also load back unchanged and pass.
///
/// The `engine` target leaves JSON out: serde_json's escaping of random strings is new
/// coverage to libFuzzer at every turn and would drown the decisions. `case_loader` starts
/// from JSON, so it checks the round trip.
pub fn check_scenario(scenario: &Scenario, json: bool) {
    let ran = run_and_check(scenario);
    if json {
        if let Some(case) = to_case("fuzz", scenario, &ran) {
            check_round_trip(&case, &ran);
        }
    }
}
