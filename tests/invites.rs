//! An org admin's invite, accepted through the provisioner: the membership lands once,
//! the invite is used up, a race with a revocation loses cleanly, and a member's sign-in
//! never asks for invites.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use jit_provisioning::{
    AccountId, AccountRecord, AccountStore, Assertion, Grant, Identity, Invite, Invitee, Joined,
    Landing, Member, MembershipError, MembershipStore, MemoryStore, Outcome, Provisioner, Request,
    Role, Rule, StoreError,
};

fn identity(subject: &str) -> Identity {
    Identity {
        issuer: common::IDP.into(),
        subject: subject.into(),
    }
}

fn sign_in(subject: &str, email: &str) -> Request {
    Request::Assertion(
        Assertion::new("acme", common::IDP, subject)
            .with_names("Jo", "Ng")
            .with_email(email),
    )
}

/// The seed's non-member: an account linked to the org's IdP, member of nothing.
fn store_with_non_member() -> Arc<MemoryStore> {
    Arc::new(
        MemoryStore::with_accounts([AccountRecord::new("u1", "jo-ng")
            .with_email("jo@acme.example")
            .with_identity(identity("00u1"))])
        .unwrap(),
    )
}

async fn invite(store: &MemoryStore, invitee: Invitee, role: Role) -> Invite {
    store
        .create_invite(&Invite::new("acme", role, invitee, "ada", common::now()))
        .await
        .unwrap()
}

fn provisioner(store: &Arc<MemoryStore>) -> Provisioner<Arc<MemoryStore>> {
    Provisioner::new(common::policy(), Arc::clone(store)).with_invites(Arc::clone(store) as _)
}

fn joined(members: &[Member], handle: &str) -> Option<(Role, Joined)> {
    members
        .iter()
        .find(|member| member.account.handle == handle)
        .map(|member| (member.role, member.joined))
}

#[tokio::test]
async fn the_seeds_invited_non_member_lands_on_the_org_home_as_a_member() {
    let store = store_with_non_member();
    invite(
        &store,
        Invitee::Account(AccountId::from("u1")),
        Role::Contributor,
    )
    .await;

    let done = provisioner(&store)
        .handle(&sign_in("00u1", "jo@acme.example"), common::now())
        .await
        .unwrap();

    assert_eq!(done.decision.outcome(), Outcome::SignedIn);
    assert_eq!(done.decision.rule(), Rule::InviteAccepted);
    assert_eq!(
        done.decision.landing(),
        Some(&Landing::OrgHome("acme".into()))
    );
    let account = done.account.unwrap();
    assert_eq!(account.memberships.get("acme"), Some(&Role::Contributor));
    assert!(store
        .open_invites("acme", common::now())
        .await
        .unwrap()
        .is_empty());
    let members = store.members("acme").await.unwrap();
    assert_eq!(
        joined(&members, "jo-ng"),
        Some((Role::Contributor, Joined::Invite))
    );
}

#[tokio::test]
async fn without_a_membership_store_invites_are_not_looked_up() {
    let store = store_with_non_member();
    invite(
        &store,
        Invitee::Account(AccountId::from("u1")),
        Role::Member,
    )
    .await;

    let done = Provisioner::new(common::policy(), Arc::clone(&store))
        .handle(&sign_in("00u1", "jo@acme.example"), common::now())
        .await
        .unwrap();

    assert_eq!(done.decision.rule(), Rule::LinkedNonMember);
    assert_eq!(
        store
            .open_invites("acme", common::now())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn an_email_invite_creates_the_account_with_its_role_and_is_used_up() {
    let store = Arc::new(MemoryStore::new());
    invite(
        &store,
        Invitee::Email("Ines@ACME.example".into()),
        Role::Admin,
    )
    .await;

    let done = provisioner(&store)
        .handle(&sign_in("00u7", "ines@acme.example"), common::now())
        .await
        .unwrap();

    assert_eq!(done.decision.outcome(), Outcome::AccountCreated);
    let account = done.account.unwrap();
    assert_eq!(account.memberships.get("acme"), Some(&Role::Admin));
    // The org's other default membership is the JIT one.
    assert_eq!(
        account.memberships.get("acme-labs"),
        Some(&Role::Contributor)
    );
    assert!(store
        .open_invites("acme", common::now())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        joined(&store.members("acme").await.unwrap(), "jo-ng"),
        Some((Role::Admin, Joined::Invite))
    );
    assert_eq!(
        joined(&store.members("acme-labs").await.unwrap(), "jo-ng"),
        Some((Role::Contributor, Joined::Jit))
    );
}

#[tokio::test]
async fn a_bound_invite_ignores_another_subject_with_the_invited_email() {
    let store = store_with_non_member();
    let bound = Invite::new(
        "acme",
        Role::Admin,
        Invitee::Email("jo@acme.example".into()),
        "ada",
        common::now(),
    )
    .bound_to(identity("00u-someone-else"));
    store.create_invite(&bound).await.unwrap();

    let done = provisioner(&store)
        .handle(&sign_in("00u1", "jo@acme.example"), common::now())
        .await
        .unwrap();

    assert_eq!(done.decision.rule(), Rule::LinkedNonMember);
    assert!(done.account.unwrap().memberships.is_empty());
    assert_eq!(
        store
            .open_invites("acme", common::now())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn an_expired_invite_is_neither_listed_nor_accepted() {
    let store = store_with_non_member();
    let expired = Invite::new(
        "acme",
        Role::Member,
        Invitee::Account(AccountId::from("u1")),
        "ada",
        common::now() - TimeDelta::days(8),
    );
    store.create_invite(&expired).await.unwrap();

    let done = provisioner(&store)
        .handle(&sign_in("00u1", "jo@acme.example"), common::now())
        .await
        .unwrap();

    assert_eq!(done.decision.rule(), Rule::LinkedNonMember);
    assert!(store
        .open_invites("acme", common::now())
        .await
        .unwrap()
        .is_empty());
}

/// A membership store that counts the provisioner's invite look-ups and, when asked,
/// revokes each invite right after handing it out: an admin revoking it between the
/// decision and its application.
struct Watched {
    inner: Arc<MemoryStore>,
    look_ups: AtomicUsize,
    revoke_after_look_up: bool,
}

#[async_trait]
impl MembershipStore for Watched {
    async fn account_by_handle(&self, handle: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.inner.account_by_handle(handle).await
    }
    async fn create_invite(&self, invite: &Invite) -> Result<Invite, StoreError> {
        self.inner.create_invite(invite).await
    }
    async fn open_invites(&self, org: &str, now: DateTime<Utc>) -> Result<Vec<Invite>, StoreError> {
        self.inner.open_invites(org, now).await
    }
    async fn invites_for(
        &self,
        org: &str,
        identity: &Identity,
        email: Option<&str>,
        account: Option<&AccountId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invite>, StoreError> {
        self.look_ups.fetch_add(1, Ordering::SeqCst);
        let found = self
            .inner
            .invites_for(org, identity, email, account, now)
            .await?;
        if self.revoke_after_look_up {
            for invite in &found {
                self.inner.revoke_invite(org, &invite.id).await?;
            }
        }
        Ok(found)
    }
    async fn revoke_invite(&self, org: &str, id: &str) -> Result<bool, StoreError> {
        self.inner.revoke_invite(org, id).await
    }
    async fn accept_invite(
        &self,
        id: &str,
        account: &AccountId,
    ) -> Result<Option<Grant>, StoreError> {
        self.inner.accept_invite(id, account).await
    }
    async fn members(&self, org: &str) -> Result<Vec<Member>, StoreError> {
        self.inner.members(org).await
    }
    async fn set_role(
        &self,
        account: &AccountId,
        org: &str,
        role: Role,
    ) -> Result<(), MembershipError> {
        self.inner.set_role(account, org, role).await
    }
    async fn remove_member(&self, account: &AccountId, org: &str) -> Result<bool, MembershipError> {
        self.inner.remove_member(account, org).await
    }
}

fn watched(store: &Arc<MemoryStore>, revoke_after_look_up: bool) -> Arc<Watched> {
    Arc::new(Watched {
        inner: Arc::clone(store),
        look_ups: AtomicUsize::new(0),
        revoke_after_look_up,
    })
}

#[tokio::test]
async fn an_invite_revoked_before_it_is_applied_gives_no_membership() {
    let store = store_with_non_member();
    invite(&store, Invitee::Account(AccountId::from("u1")), Role::Admin).await;
    let invites = watched(&store, true);

    let done = Provisioner::new(common::policy(), Arc::clone(&store))
        .with_invites(Arc::clone(&invites) as _)
        .handle(&sign_in("00u1", "jo@acme.example"), common::now())
        .await
        .unwrap();

    // Decided with the invite, lost it to the revocation, decided again without it.
    assert_eq!(done.attempts, 2);
    assert_eq!(done.decision.rule(), Rule::LinkedNonMember);
    assert!(done.account.unwrap().memberships.is_empty());
}

#[tokio::test]
async fn a_members_sign_in_never_asks_for_invites() {
    let store = Arc::new(
        MemoryStore::with_accounts([AccountRecord::new("u1", "jo-ng")
            .with_identity(identity("00u1"))
            .with_membership("acme", Role::Member)])
        .unwrap(),
    );
    invite(&store, Invitee::Account(AccountId::from("u1")), Role::Admin).await;
    let invites = watched(&store, false);
    let provisioner = Provisioner::new(common::policy(), Arc::clone(&store))
        .with_invites(Arc::clone(&invites) as _);

    let done = provisioner
        .handle(&sign_in("00u1", "jo@acme.example"), common::now())
        .await
        .unwrap();
    assert_eq!(done.decision.rule(), Rule::LinkedMember);
    assert_eq!(invites.look_ups.load(Ordering::SeqCst), 0);

    // A non-member's sign-in asks once.
    store.remove(&AccountId::from("u1"));
    store
        .create_account(&jit_provisioning::NewAccount::new(
            "jo-ng",
            identity("00u1"),
        ))
        .await
        .unwrap();
    provisioner
        .handle(&sign_in("00u1", "jo@acme.example"), common::now())
        .await
        .unwrap();
    assert_eq!(invites.look_ups.load(Ordering::SeqCst), 1);
}
