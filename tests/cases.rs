//! Every policy case file under `tests/cases/`, one test per file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::path::Path;

use jit_provisioning::cases::{load_file, run_case};

fn run(file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases")
        .join(file);
    let cases = load_file(&path).unwrap_or_else(|error| panic!("{error}"));
    assert!(!cases.cases.is_empty(), "{file} holds no case");
    let failures: Vec<String> = cases
        .cases
        .iter()
        .map(run_case)
        .filter(|result| !result.passed())
        .map(|result| {
            let mismatches: Vec<String> =
                result.mismatches.iter().map(ToString::to_string).collect();
            format!(
                "{}\n    {}\n    {}",
                result.name,
                mismatches.join("\n    "),
                result.explanation.replace('\n', "\n    ")
            )
        })
        .collect();
    assert!(failures.is_empty(), "{file}:\n{}", failures.join("\n"));
}

macro_rules! case_files {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(#[test] fn $test() { run($file); })*

        #[test]
        fn every_case_file_has_a_test() {
            let listed = [$($file),*];
            let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
            for entry in std::fs::read_dir(folder).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                if name.ends_with(".json") {
                    assert!(listed.contains(&name.as_str()), "add {name} to tests/cases.rs");
                }
            }
        }
    };
}

case_files! {
    config_errors => "config_errors.json",
    disabled_accounts => "disabled_accounts.json",
    email_matching => "email_matching.json",
    existing_accounts => "existing_accounts.json",
    handles => "handles.json",
    idp_errors => "idp_errors.json",
    issuer_and_validity => "issuer_and_validity.json",
    jit_create => "jit_create.json",
    portal_visit => "portal_visit.json",
    private_instance => "private_instance.json",
    required_groups => "required_groups.json",
    return_to => "return_to.json",
    seed => "seed.json",
}
