//! Runs policy case files: `cargo run --example cases -- PATH...` (files or folders).
//!
//! Prints `PASS` or `FAIL` (with the differences) per case, then `N passed, M failed`;
//! exits 1 on any failure or load error.

use std::process::ExitCode;

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: cargo run --example cases -- PATH...   (case files or folders)");
        return ExitCode::from(2);
    }
    let report = jit_provisioning::cases::run_paths(&paths);
    println!("{report}");
    if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
