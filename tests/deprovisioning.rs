//! Identities an org's IdP deprovisioned over SCIM, through the provisioner: refused
//! while deprovisioned, at that org only, signed in again once restored; a provisioner
//! without a SCIM store never asks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::sync::Arc;

use jit_provisioning::{
    AccountRecord, Deprovisioned, DeprovisionedBy, Identity, MemoryStore, Outcome, Provisioner,
    Reason, Role, Rule,
};

fn jo() -> Identity {
    Identity {
        issuer: common::IDP.into(),
        subject: "00u1".into(),
    }
}

fn store() -> Arc<MemoryStore> {
    Arc::new(
        MemoryStore::with_accounts([AccountRecord::new("u1", "jo-ng")
            .with_identity(jo())
            .with_membership("acme", Role::Member)])
        .unwrap(),
    )
}

#[tokio::test]
async fn a_deprovisioned_member_is_refused_until_restored() {
    let store = store();
    let provisioner =
        Provisioner::new(common::policy(), Arc::clone(&store)).with_deprovisioning(store.clone());
    store.deprovision(
        "acme",
        jo(),
        Deprovisioned::new(common::now(), DeprovisionedBy::Deactivated),
    );

    let refused = provisioner
        .handle(&common::jane("00u1"), common::now())
        .await
        .unwrap();
    assert_eq!(refused.decision.outcome(), Outcome::Denied);
    assert_eq!(refused.decision.rule(), Rule::DeprovisionedIdentity);
    assert_eq!(refused.decision.reason(), Some(Reason::Deprovisioned));
    assert!(refused.account.is_none());
    assert_eq!(store.len(), 1, "nothing was created");

    assert!(store.reactivate("acme", &jo()));
    let back = provisioner
        .handle(&common::jane("00u1"), common::now())
        .await
        .unwrap();
    assert_eq!(back.decision.rule(), Rule::LinkedMember);
}

#[tokio::test]
async fn without_a_scim_store_deprovisionings_are_not_asked() {
    let store = store();
    store.deprovision(
        "acme",
        jo(),
        Deprovisioned::new(common::now(), DeprovisionedBy::Deleted),
    );
    let done = Provisioner::new(common::policy(), Arc::clone(&store))
        .handle(&common::jane("00u1"), common::now())
        .await
        .unwrap();
    assert_eq!(done.decision.rule(), Rule::LinkedMember);
}
