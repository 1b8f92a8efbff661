//! `jit-provisioning cases PATH…`: run policy case files.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use jit_provisioning::cases::run_paths;

use crate::Verdict;

/// `cases`.
#[derive(Debug, Args)]
pub(crate) struct CasesArgs {
    /// Case files, or folders to search for `*.json` case files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// List passing cases too (text format only).
    #[arg(long, short)]
    verbose: bool,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The report's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Failures, then `N passed, M failed` alone on the last line.
    Text,
    /// One JSON object with every case.
    Json,
    /// JUnit XML, which CI systems display.
    Junit,
}

impl CasesArgs {
    pub(crate) fn run(&self) -> Verdict {
        let report = run_paths(&self.paths);
        match self.format {
            Format::Text if self.verbose => println!("{}", report.verbose()),
            Format::Text => println!("{report}"),
            Format::Json => println!("{:#}", report.to_json()),
            Format::Junit => print!("{}", report.to_junit()),
        }
        if report.passed() + report.failed() == 0 {
            // A suite that runs nothing must not pass: the path is probably wrong.
            eprintln!("jit-provisioning: no case files found");
        }
        if report.all_passed() {
            Verdict::Yes
        } else {
            Verdict::No
        }
    }
}
