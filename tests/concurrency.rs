//! Many app-server tasks logging people in at once, on a multi-threaded runtime.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use jit_provisioning::{MemoryStore, Outcome, Provisioner};

const LOGINS: usize = 64;

fn provisioner() -> Arc<Provisioner<MemoryStore>> {
    Arc::new(
        Provisioner::new(common::policy(), MemoryStore::new()).with_max_attempts(LOGINS as u32),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_logins_of_one_identity_make_one_account() {
    let provisioner = provisioner();
    let tasks: Vec<_> = (0..LOGINS)
        .map(|_| {
            let provisioner = Arc::clone(&provisioner);
            tokio::spawn(async move {
                provisioner
                    .handle(&common::jane("00u1"), common::now())
                    .await
            })
        })
        .collect();
    let mut accounts = BTreeSet::new();
    let mut created = 0;
    for task in tasks {
        let done = task.await.unwrap().expect("every login succeeds");
        if done.decision.outcome() == Outcome::AccountCreated {
            created += 1;
        } else {
            assert_eq!(
                done.decision.outcome(),
                Outcome::SignedIn,
                "{}",
                done.decision
            );
        }
        accounts.insert(done.account.expect("signed in to an account").id);
    }
    assert_eq!(created, 1, "exactly one login creates the account");
    assert_eq!(accounts.len(), 1, "every login lands in the same account");
    assert_eq!(provisioner.store().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_logins_of_many_jane_does_get_distinct_handles() {
    let provisioner = provisioner();
    let tasks: Vec<_> = (0..LOGINS)
        .map(|n| {
            let provisioner = Arc::clone(&provisioner);
            tokio::spawn(async move {
                provisioner
                    .handle(&common::jane(&format!("00u{n}")), common::now())
                    .await
            })
        })
        .collect();
    let mut handles = BTreeSet::new();
    for task in tasks {
        let done = task.await.unwrap().expect("every login succeeds");
        assert_eq!(done.decision.outcome(), Outcome::AccountCreated);
        // The store picks the next free suffix itself when another login took the one
        // proposed: nobody loses a race, and the decision names the handle made.
        assert_eq!(done.attempts, 1, "{}", done.decision);
        let account = done.account.expect("the created account");
        assert_eq!(done.decision.new_handle(), Some(account.handle.as_str()));
        assert_eq!(account.memberships.len(), 2, "all memberships, atomically");
        handles.insert(account.handle);
    }
    let expected: BTreeSet<String> = std::iter::once("jane-doe".to_owned())
        .chain((2..=LOGINS).map(|n| format!("jane-doe-{n}")))
        .collect();
    assert_eq!(handles, expected);
    assert_eq!(provisioner.store().len(), LOGINS);
}
