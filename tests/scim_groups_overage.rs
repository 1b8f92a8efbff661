//! Entra ID's group overage, decided on the groups the org pushed over SCIM: a sign-in
//! whose IdP sent only part of the groups counts the person's pushed groups when SCIM
//! knows them, and is refused as before when it does not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::sync::Arc;

use jit_provisioning::{
    scim_account, Config, GroupRoleSync, Identity, MemoryStore, NewProvisionedGroup,
    NewProvisionedUser, Policy, Provisioner, Request, Rule, ScimGroups, ScimUsers,
};

fn policy() -> Policy {
    serde_json::from_str::<Config>(
        r#"{"orgs": {"acme": {"jit": true, "idp": "https://idp.acme.example",
                              "required_groups": ["engineering"]}}}"#,
    )
    .unwrap()
    .validate()
    .unwrap()
}

/// A sign-in of `subject` whose IdP said the groups were too many to send.
fn overage(subject: &str) -> Request {
    let Request::Assertion(mut assertion) = common::jane(subject) else {
        unreachable!()
    };
    assertion.groups_incomplete = true;
    Request::Assertion(assertion)
}

/// `subject` provisioned over SCIM and pushed into `engineering`.
async fn pushed(store: &MemoryStore, policy: &Policy, subject: &str) {
    let identity = Identity {
        issuer: common::IDP.into(),
        subject: subject.into(),
    };
    let account = scim_account(policy, "acme", identity, Some("Jane"), Some("Doe"), None).unwrap();
    let user = store
        .create_user(
            "acme",
            NewProvisionedUser::new(subject, account),
            common::now(),
        )
        .await
        .unwrap();
    store
        .create_group(
            "acme",
            NewProvisionedGroup::new("engineering").with_members([user.id]),
            &GroupRoleSync::none(),
            common::now(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_overage_is_decided_on_the_pushed_groups() {
    let store = Arc::new(MemoryStore::new());
    pushed(&store, &policy(), "jane@acme.example").await;
    let provisioner =
        Provisioner::new(policy(), Arc::clone(&store)).with_scim_groups(store.clone());

    let done = provisioner
        .handle(&overage("jane@acme.example"), common::now())
        .await
        .unwrap();
    assert_eq!(done.decision.rule(), Rule::LinkedMember);

    // Nobody SCIM knows: the overage is refused as before, no account made.
    let refused = provisioner
        .handle(&overage("sam@acme.example"), common::now())
        .await
        .unwrap();
    assert_eq!(refused.decision.rule(), Rule::GroupsOverage);
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn without_the_scim_groups_an_overage_is_refused() {
    let store = Arc::new(MemoryStore::new());
    pushed(&store, &policy(), "jane@acme.example").await;
    let refused = Provisioner::new(policy(), Arc::clone(&store))
        .handle(&overage("jane@acme.example"), common::now())
        .await
        .unwrap();
    assert_eq!(refused.decision.rule(), Rule::GroupsOverage);
}
