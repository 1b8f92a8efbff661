//! Test helpers for storage adapters and apps (feature `testing`): the store,
//! membership, admin-records, SCIM-token, SCIM-users, replay-guard and org-directory
//! conformance suites, a burst of first logins of one name, and store wrappers that count
//! round trips or fail on command.
//!
//! An adapter crate runs the whole storage contract from one test:
//!
//! ```
//! # pollster::block_on(async {
//! use jit_provisioning::{testing, MemoryStore};
//!
//! // In an adapter: `testing::conformance(|| async { MyStore::connect_fresh().await })`.
//! testing::conformance(|| async { MemoryStore::new() }).await.unwrap();
//! # });
//! ```

/// Runs each check on a subject of its own from `fresh`, then answers with every
/// violation found, not only the first: the body of each conformance suite.
macro_rules! run_checks {
    ($fresh:ident; $($check:ident),* $(,)?) => {{
        let mut violations = Vec::new();
        $(
            if let Err(message) = $check(&$fresh().await).await {
                violations.push($crate::testing::Violation { check: stringify!($check), message });
            }
        )*
        if violations.is_empty() {
            Ok(())
        } else {
            Err($crate::testing::ConformanceError::new(violations))
        }
    }};
}

mod admin_records_conformance;
mod burst;
mod conformance;
mod directory_conformance;
mod membership_conformance;
mod replay_conformance;
mod scim_groups_conformance;
mod scim_token_conformance;
mod scim_users_conformance;
mod wrappers;

pub use admin_records_conformance::admin_records_conformance;
pub use burst::{Burst, BurstReport, FIRST_LOGIN_CALLS};
pub use conformance::{conformance, ConformanceError, Violation, CONCURRENCY};
pub use directory_conformance::org_directory_conformance;
pub use membership_conformance::membership_conformance;
pub use replay_conformance::replay_conformance;
pub use scim_groups_conformance::scim_groups_conformance;
pub use scim_token_conformance::scim_token_conformance;
pub use scim_users_conformance::scim_users_conformance;
pub use wrappers::{CallCounts, CountingStore, FailingStore, InjectedFailure};
