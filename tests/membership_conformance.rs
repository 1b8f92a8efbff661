//! The in-memory store meets the whole membership contract, and the suite catches a store
//! that breaks it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jit_provisioning::{
    testing, AccountId, AccountRecord, AccountStore, CreateError, Grant, Identity, Invite, Invitee,
    LinkError, Member, MembershipError, MembershipStore, MemoryStore, NewAccount, Role, StoreError,
};

#[tokio::test]
async fn memory_store_meets_the_membership_contract() {
    if let Err(error) = testing::membership_conformance(|| async { MemoryStore::new() }).await {
        panic!("{error}");
    }
}

/// Lists invites newest first, with the expired ones; compares invited emails as typed;
/// hands an invite out again once it is gone; lists members in order of id; and says the
/// last admin was removed. Each is a breach of the contract.
#[derive(Default)]
struct Sloppy(MemoryStore);

#[async_trait]
impl AccountStore for Sloppy {
    async fn account_by_identity(
        &self,
        identity: &Identity,
    ) -> Result<Option<AccountRecord>, StoreError> {
        self.0.account_by_identity(identity).await
    }
    async fn accounts_by_email(&self, email: &str) -> Result<Vec<AccountRecord>, StoreError> {
        self.0.accounts_by_email(email).await
    }
    async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        self.0.account_by_id(id).await
    }
    async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
        self.0.taken_handles(stems).await
    }
    async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
        self.0.create_account(account).await
    }
    async fn link_identity(&self, a: &AccountId, i: &Identity) -> Result<(), LinkError> {
        self.0.link_identity(a, i).await
    }
    async fn raise_role(&self, a: &AccountId, g: &Grant) -> Result<bool, StoreError> {
        self.0.raise_role(a, g).await
    }
}

#[async_trait]
impl MembershipStore for Sloppy {
    async fn account_by_handle(&self, handle: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.0.account_by_handle(handle).await
    }

    async fn create_invite(&self, invite: &Invite) -> Result<Invite, StoreError> {
        self.0.create_invite(invite).await
    }
    async fn open_invites(&self, org: &str, now: DateTime<Utc>) -> Result<Vec<Invite>, StoreError> {
        // Every invite ever made, newest first.
        let mut all = self.0.open_invites(org, DateTime::<Utc>::MIN_UTC).await?;
        all.sort_by_key(|invite| std::cmp::Reverse(invite.created_at));
        let _ = now;
        Ok(all)
    }
    async fn invites_for(
        &self,
        org: &str,
        identity: &Identity,
        email: Option<&str>,
        account: Option<&AccountId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invite>, StoreError> {
        let found = self
            .0
            .invites_for(org, identity, email, account, now)
            .await?;
        Ok(found
            .into_iter()
            .filter(|invite| match (&invite.invitee, &invite.subject) {
                (Invitee::Email(invited), None) => Some(invited.as_str()) == email,
                _ => true,
            })
            .collect())
    }
    async fn revoke_invite(&self, org: &str, id: &str) -> Result<bool, StoreError> {
        self.0.revoke_invite(org, id).await
    }
    async fn accept_invite(
        &self,
        id: &str,
        account: &AccountId,
    ) -> Result<Option<Grant>, StoreError> {
        let accepted = self.0.accept_invite(id, account).await?;
        Ok(accepted.or_else(|| {
            Some(Grant {
                org: "acme".into(),
                role: Role::Member,
            })
        }))
    }
    async fn members(&self, org: &str) -> Result<Vec<Member>, StoreError> {
        let mut members = self.0.members(org).await?;
        members.sort_by(|a, b| a.account.id.cmp(&b.account.id));
        Ok(members)
    }
    async fn set_role(
        &self,
        account: &AccountId,
        org: &str,
        role: Role,
    ) -> Result<(), MembershipError> {
        self.0.set_role(account, org, role).await
    }
    async fn remove_member(&self, account: &AccountId, org: &str) -> Result<bool, MembershipError> {
        // Says the last admin went, when it stayed.
        match self.0.remove_member(account, org).await {
            Err(MembershipError::LastAdmin) => Ok(true),
            other => other,
        }
    }
}

#[tokio::test]
async fn the_suite_catches_a_store_that_breaks_the_contract() {
    let error = testing::membership_conformance(|| async { Sloppy::default() })
        .await
        .unwrap_err();
    let checks: Vec<&str> = error.violations.iter().map(|v| v.check).collect();
    for expected in [
        "open_invites_oldest_first_expired_left_out",
        "invites_for_holds_every_invite_for_the_sign_in",
        "an_invite_is_accepted_once",
        "concurrent_acceptances_of_one_invite_give_one_grant",
        "members_in_handle_order_say_how_they_joined",
        "the_last_admin_stays",
    ] {
        assert!(
            checks.contains(&expected),
            "{expected} missing from {error}"
        );
    }
    assert!(
        !checks.contains(&"set_role_raises_lowers_and_adds"),
        "a sound part flagged: {error}"
    );
}
