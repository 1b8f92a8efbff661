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

/// The suite the case-format docs show: a folder config (`config.toml`) and a scenario.
#[test]
fn the_documented_suite_passes() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/acme");
    let report = jit_provisioning::cases::run_paths([&folder]);
    assert!(report.all_passed(), "{}", report.verbose());
    assert_eq!(report.passed(), 2, "{}", report.verbose());
}

#[test]
fn the_docs_show_the_suite_as_it_is() {
    // The format's docs quote these files; a change to either must reach the other.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(root.join("tests/cases/README.md")).unwrap();
    for file in ["config.toml", "first_logins.json"] {
        let text = std::fs::read_to_string(root.join("tests/cases/acme").join(file)).unwrap();
        assert!(
            docs.contains(text.trim_end()),
            "tests/cases/README.md does not show tests/cases/acme/{file} as it is"
        );
    }
}

/// The shared spec's cases, read where CI puts them, never copied here.
#[test]
#[ignore = "reads ../shared/cases (CI provides it; run with --ignored)"]
fn the_shared_cases_pass() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cases");
    assert!(shared.is_dir(), "{} is missing", shared.display());
    let report = jit_provisioning::cases::run_paths([&shared]);
    assert!(report.all_passed(), "{}", report.verbose());
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
    deprovisioned => "deprovisioned.json",
    disabled_accounts => "disabled_accounts.json",
    display_names => "display_names.json",
    email_matching => "email_matching.json",
    group_roles => "group_roles.json",
    existing_accounts => "existing_accounts.json",
    handles => "handles.json",
    idp_errors => "idp_errors.json",
    invites => "invites.json",
    issuer_and_validity => "issuer_and_validity.json",
    jit_create => "jit_create.json",
    org_states => "org_states.json",
    portal_visit => "portal_visit.json",
    private_instance => "private_instance.json",
    required_groups => "required_groups.json",
    return_to => "return_to.json",
    role_sync => "role_sync.json",
}
