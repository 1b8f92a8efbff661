//! A burst of first logins of one name on the in-memory store: a thousand new Pat Smiths
//! at once, every look-up answered before any creation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use jit_provisioning::testing::{Burst, FIRST_LOGIN_CALLS};
use jit_provisioning::MemoryStore;

#[tokio::test]
async fn a_thousand_first_logins_of_one_name_each_create_one_account() {
    let store = MemoryStore::new();
    let report = Burst::new(1_000)
        .run(&[&store])
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    println!(
        "memory, 1,000 Pat Smiths: {:.2?}, at most {} store calls and {} decision(s) a login",
        report.elapsed, report.max_calls, report.max_attempts
    );
    assert_eq!(store.len(), 1_000);
    assert_eq!(report.handles.len(), 1_000);
    assert_eq!(
        report.handles.last().map(String::as_str),
        Some("pat-smith-1000")
    );
    assert!(
        report.max_calls <= FIRST_LOGIN_CALLS,
        "a login made {} store calls",
        report.max_calls
    );
    assert_eq!(report.max_attempts, 1, "no login had to decide twice");
}
