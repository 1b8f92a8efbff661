//! Prints an `engine` fuzz input (a crash artifact, a corpus entry) as a policy case.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --features dump --bin engine_to_case -- \
//!     fuzz/artifacts/engine/crash-… [--name NAME] > tests/cases/fuzz_NAME.json
//! ```
//!
//! The case goes to stdout with `expect` filled from what the code does today; the
//! invariant it breaks, if any, goes to stderr. Edit `expect` to what the policy should do
//! before adding it under `tests/cases/`.

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::{env, fs};

use arbitrary::{Arbitrary, Unstructured};
use jit_provisioning_fuzz::{run_and_check, to_case, to_json, EngineInput, Ran};

fn main() -> ExitCode {
    let mut args = env::args().skip(1);
    let (mut path, mut name) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--name" => name = args.next(),
            "-h" | "--help" => return usage(),
            _ if path.is_none() => path = Some(arg),
            _ => return usage(),
        }
    }
    let Some(path) = path else {
        return usage();
    };
    let data = match fs::read(&path) {
        Ok(data) => data,
        Err(error) => {
            eprintln!("cannot read `{path}`: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Decoded exactly as libfuzzer-sys decodes it for the target.
    let input = match EngineInput::arbitrary_take_rest(Unstructured::new(&data)) {
        Ok(input) => input,
        Err(error) => {
            eprintln!("`{path}` is not an `engine` input: {error}");
            return ExitCode::FAILURE;
        }
    };
    let scenario = input.into_scenario();

    // Silence the default hook: the broken invariant is reported below, once.
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let checked = panic::catch_unwind(AssertUnwindSafe(|| run_and_check(&scenario)));
    panic::set_hook(default_hook);

    let ran = match checked {
        Ok(ran) => {
            eprintln!("no invariant is broken by this input");
            ran
        }
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            eprintln!("broken invariant: {message}");
            // Print what the code decides today, without the checks.
            match observe(&scenario) {
                Some(ran) => ran,
                None => return ExitCode::FAILURE,
            }
        }
    };
    let name = name.unwrap_or_else(|| {
        let file = path.rsplit('/').next().unwrap_or(&path);
        format!("fuzz {file}")
    });
    if let Ran::InvalidConfig(error) = &ran {
        eprintln!("the config does not validate: {error}");
    }
    match to_case(&name, &scenario, &ran) {
        Some(case) => {
            println!("{}", to_json(&case));
            ExitCode::SUCCESS
        }
        None => {
            if let Ran::AccountsClash(error) = ran {
                eprintln!("not a case: the accounts cannot coexist ({error})");
            }
            ExitCode::FAILURE
        }
    }
}

/// The decision alone, for an input that breaks an invariant.
fn observe(scenario: &jit_provisioning_fuzz::Scenario) -> Option<Ran> {
    use jit_provisioning::{MemoryStore, Provisioner};

    let store = match MemoryStore::with_accounts(scenario.accounts.iter().cloned()) {
        Ok(store) => store,
        Err(error) => return Some(Ran::AccountsClash(error)),
    };
    let policy = match scenario.config.validate() {
        Ok(policy) => policy,
        Err(error) => return Some(Ran::InvalidConfig(error)),
    };
    let provisioner = Provisioner::new(policy, store);
    match pollster::block_on(provisioner.handle(&scenario.request, scenario.now)) {
        Ok(done) => Some(Ran::Decided {
            decision: done.decision,
            account: done.account,
        }),
        Err(error) => {
            eprintln!("the provisioner fails on this input: {error}; no case to print");
            None
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: engine_to_case ARTIFACT [--name NAME]");
    eprintln!("prints an `engine` fuzz input as a policy case (format v1) on stdout");
    ExitCode::FAILURE
}
