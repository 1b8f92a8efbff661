//! Policy cases: load case files (format v1), run them through the real provisioning
//! path, and report every difference from what they expect.
//!
//! A case file holds one JSON object or an array of them; the format is specified in
//! `tests/cases/README.md`. Users pin their own policy with it from a test:
//!
//! ```no_run
//! #[test]
//! fn our_sso_policy_holds() {
//!     let report = jit_provisioning::cases::run_paths(["tests/sso-cases"]);
//!     assert!(report.all_passed(), "{report}");
//! }
//! ```

mod format;
mod run;

pub use format::{load_file, load_paths, parse, Case, CaseFile, CaseLoadError, Expect};
pub use run::{run_case, run_case_async, run_paths, CaseResult, Mismatch, Report};
