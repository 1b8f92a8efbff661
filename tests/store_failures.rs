//! A store that fails at any call leaves nothing half-made, and the retried request
//! succeeds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use jit_provisioning::testing::{CountingStore, FailingStore};
use jit_provisioning::{
    AccountStore, MemoryStore, Outcome, ProvisionError, Provisioner, Request, StoreError,
};

/// Counts the store calls one request makes when nothing fails.
async fn calls_for(request: &Request, seed: impl Fn() -> MemoryStore) -> usize {
    let counting = CountingStore::new(seed());
    let provisioner = Provisioner::new(common::policy(), &counting);
    provisioner.handle(request, common::now()).await.unwrap();
    counting.counts().total()
}

async fn fails_cleanly_at_every_call(
    request: &Request,
    seed: impl Fn() -> MemoryStore,
    expected: Outcome,
) {
    let total = calls_for(request, &seed).await;
    assert!(total >= 1);
    for n in 1..=total {
        let store = FailingStore::new(seed(), n);
        let before = store.inner().snapshot();
        let provisioner = Provisioner::new(common::policy(), &store);
        match provisioner.handle(request, common::now()).await {
            Err(ProvisionError::Store(StoreError::Unavailable(_))) => {}
            other => panic!("call {n} of {total} failed, yet the request gave {other:?}"),
        }
        assert_eq!(
            store.inner().snapshot(),
            before,
            "call {n} of {total} left a change behind"
        );

        let retried = provisioner.handle(request, common::now()).await.unwrap();
        assert_eq!(
            retried.decision.outcome(),
            expected,
            "retry after call {n} failed"
        );
    }
}

#[tokio::test]
async fn a_new_account_is_all_or_nothing() {
    fails_cleanly_at_every_call(
        &common::jane("00u1"),
        MemoryStore::new,
        Outcome::AccountCreated,
    )
    .await;
}

#[tokio::test]
async fn a_link_by_email_is_all_or_nothing() {
    let config: jit_provisioning::Config = serde_json::from_str(
        r#"{"orgs": {"acme": {"jit": true, "idp": "https://idp.acme.example",
                               "verified_domains": ["acme.example"]}}}"#,
    )
    .unwrap();
    let seed = || {
        MemoryStore::with_accounts([
            jit_provisioning::AccountRecord::new("u9", "sam-lee").with_email("00u9@acme.example")
        ])
        .unwrap()
    };
    let request = common::jane("00u9");
    for n in 1..=2 {
        let store = FailingStore::new(seed(), n);
        let provisioner = Provisioner::new(config.validate().unwrap(), &store);
        assert!(provisioner.handle(&request, common::now()).await.is_err());
        assert!(
            store.inner().snapshot()[0].identities.is_empty(),
            "call {n}"
        );
        let retried = provisioner.handle(&request, common::now()).await.unwrap();
        assert!(retried.decision.links_existing_account());
        assert_eq!(
            store
                .inner()
                .account_by_id(&"u9".into())
                .await
                .unwrap()
                .unwrap()
                .identities
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn a_sign_in_survives_a_failed_lookup() {
    let seed = || {
        let store = MemoryStore::new();
        pollster::block_on(
            Provisioner::new(common::policy(), &store).handle(&common::jane("00u1"), common::now()),
        )
        .unwrap();
        store
    };
    fails_cleanly_at_every_call(&common::jane("00u1"), seed, Outcome::SignedIn).await;
}

#[tokio::test]
async fn a_failing_store_keeps_the_inner_stores_own_look_up() {
    // A SQL store answers `look_up_assertion` in one query; a wrapper that fell back to the
    // trait's default would quietly test three separate look-ups instead.
    let store = FailingStore::new(CountingStore::new(MemoryStore::new()), 0);
    Provisioner::new(common::policy(), &store)
        .handle(&common::jane("00u1"), common::now())
        .await
        .unwrap();
    let counts = store.inner().counts();
    assert_eq!(counts.look_up_assertion, 1, "{counts:?}");
    assert_eq!(
        counts.account_by_identity + counts.taken_handles,
        0,
        "{counts:?}"
    );
}

#[tokio::test]
async fn a_failing_look_up_fails_the_request() {
    let store = FailingStore::new(MemoryStore::new(), 1);
    let result = Provisioner::new(common::policy(), &store)
        .handle(&common::jane("00u1"), common::now())
        .await;
    assert!(matches!(
        result,
        Err(ProvisionError::Store(StoreError::Unavailable(_)))
    ));
    assert_eq!(store.calls(), 1);
}
