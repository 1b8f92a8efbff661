//! Policy cases: load case files, run them through the real provisioning path, and
//! report every difference from what they expect. [`run_paths`] runs files and folders
//! into a [`Report`].
//!
#![doc = include_str!("../../tests/cases/README.md")]

mod format;
mod report;
mod run;
mod schema;

pub use format::{
    load_config, load_file, load_paths, parse, Case, CaseAccount, CaseDeprovisioned, CaseFile,
    CaseInvite, CaseLoadError, CasePortalVisit, CaseRequest, CaseSession, ConfigFileError,
    ConfigSource, Expect, Step, FOLDER_CONFIGS, FORMAT_VERSION,
};
pub use report::Report;
pub use run::{run_case, run_case_async, run_paths, CaseResult, Mismatch};
