//! The collision search costs two store round trips however many same-base handles
//! exist: one look-up (identity, email and taken handles together), one create.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use jit_provisioning::testing::CountingStore;
use jit_provisioning::{AccountRecord, MemoryStore, Provisioner};

fn store_with_jane_does(k: usize) -> MemoryStore {
    let account = |n: usize| {
        let mut built = AccountRecord::new(
            format!("u{n}"),
            if n == 1 {
                "jane-doe".into()
            } else {
                format!("jane-doe-{n}")
            },
        );
        built.has_password = true;
        built
    };
    MemoryStore::with_accounts((1..=k).map(account)).unwrap()
}

#[tokio::test]
async fn collision_search_is_two_round_trips_at_any_depth() {
    for k in [0, 10, 10_000] {
        let store = CountingStore::new(store_with_jane_does(k));
        let provisioner = Provisioner::new(common::policy(), &store);
        let done = provisioner
            .handle(&common::jane("new"), common::now())
            .await
            .unwrap();

        let expected = if k == 0 {
            "jane-doe".to_owned()
        } else {
            format!("jane-doe-{}", k + 1)
        };
        assert_eq!(
            done.decision.new_handle(),
            Some(expected.as_str()),
            "K = {k}"
        );
        // One look-up (nobody known, and the taken handles), then the creation.
        let counts = store.counts();
        assert_eq!(
            counts.look_up_assertion + counts.create_account,
            2,
            "K = {k}: {counts:?}"
        );
        assert_eq!(counts.total(), 2, "K = {k}: {counts:?}");
    }
}

#[tokio::test]
async fn a_linked_sign_in_is_one_round_trip() {
    let store = CountingStore::new(MemoryStore::new());
    let provisioner = Provisioner::new(common::policy(), &store);
    provisioner
        .handle(&common::jane("00u1"), common::now())
        .await
        .unwrap();
    store.reset();
    provisioner
        .handle(&common::jane("00u1"), common::now())
        .await
        .unwrap();
    assert_eq!(store.counts().total(), 1, "{:?}", store.counts());
}

#[tokio::test]
async fn refusals_on_their_face_cost_no_round_trip() {
    let store = CountingStore::new(MemoryStore::new());
    let provisioner = Provisioner::new(common::policy(), &store);
    let mut forged = common::jane("00u1");
    if let jit_provisioning::Request::Assertion(assertion) = &mut forged {
        assertion.issuer = "https://evil.example".into();
    }
    let done = provisioner.handle(&forged, common::now()).await.unwrap();
    assert_eq!(
        done.decision.reason(),
        Some(jit_provisioning::Reason::WrongIssuer)
    );
    assert_eq!(store.counts().total(), 0);
}
