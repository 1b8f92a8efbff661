//! The memory SCIM tokens meet their contract, and the suite catches stores that break
//! it: each breach by the check written for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jit_provisioning::{
    testing, IssuedScimToken, MemoryScimTokens, ScimTokenInfo, ScimTokens, StoreError,
};

/// One way to break the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breach {
    /// A token opens every org, not only its own.
    AnyOrg,
    /// Tokens are compared loosely: spaces trimmed, case ignored.
    Loose,
    /// A revoked token still opens its org.
    RevokedStillOpens,
    /// Revoking looks at the id only, not the org.
    RevokesAnyOrg,
    /// Lists are newest first.
    NewestFirst,
    /// Every token gets the id `1`.
    OneId,
    /// Uses are never recorded.
    NoLastUse,
    /// Revoking says yes whenever asked.
    RevokeSaysYes,
    /// The info of a new token says nothing of its hint.
    NoHint,
}

/// The memory store, broken as `breach` says.
#[derive(Debug, Default)]
struct Broken {
    inner: MemoryScimTokens,
    breach: Option<Breach>,
    /// Every token made, whatever happens to it since: what the breaches that ignore the
    /// store's answer consult.
    made: std::sync::Mutex<Vec<IssuedScimToken>>,
}

impl Broken {
    fn is(&self, breach: Breach) -> bool {
        self.breach == Some(breach)
    }

    fn made(&self) -> Vec<IssuedScimToken> {
        self.made.lock().unwrap().clone()
    }
}

#[async_trait]
impl ScimTokens for Broken {
    async fn create(
        &self,
        org: &str,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<IssuedScimToken, StoreError> {
        let mut issued = self.inner.create(org, label, now).await?;
        self.made.lock().unwrap().push(issued.clone());
        if self.is(Breach::OneId) {
            issued.info.id = "1".into();
        }
        if self.is(Breach::NoHint) {
            issued.info.hint = String::new();
        }
        Ok(issued)
    }

    async fn list(&self, org: &str) -> Result<Vec<ScimTokenInfo>, StoreError> {
        let mut listed = self.inner.list(org).await?;
        if self.is(Breach::NewestFirst) {
            listed.reverse();
        }
        if self.is(Breach::NoLastUse) {
            for info in &mut listed {
                info.last_used_at = None;
            }
        }
        Ok(listed)
    }

    async fn revoke(&self, org: &str, id: &str) -> Result<bool, StoreError> {
        if self.is(Breach::RevokesAnyOrg) {
            let owner = self
                .made()
                .into_iter()
                .find(|issued| issued.info.id == id)
                .map(|issued| issued.info.org);
            return match owner {
                Some(owner) => self.inner.revoke(&owner, id).await,
                None => Ok(false),
            };
        }
        let revoked = self.inner.revoke(org, id).await?;
        Ok(revoked || self.is(Breach::RevokeSaysYes))
    }

    async fn authenticate(
        &self,
        org: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ScimTokenInfo>, StoreError> {
        let token = if self.is(Breach::Loose) {
            token.trim().to_lowercase()
        } else {
            token.to_owned()
        };
        let issued = self.made().into_iter().find(|issued| issued.token == token);
        if let Some(issued) = issued {
            if self.is(Breach::AnyOrg) {
                return self.inner.authenticate(&issued.info.org, &token, now).await;
            }
            if self.is(Breach::RevokedStillOpens) && issued.info.org == org {
                return Ok(Some(issued.info));
            }
        }
        let mut opened = self.inner.authenticate(org, &token, now).await?;
        if self.is(Breach::NoLastUse) {
            if let Some(info) = &mut opened {
                info.last_used_at = None;
            }
        }
        Ok(opened)
    }
}

#[tokio::test]
async fn memory_scim_tokens_meet_their_contract() {
    if let Err(error) = testing::scim_token_conformance(|| async { MemoryScimTokens::new() }).await
    {
        panic!("{error}");
    }
}

#[tokio::test]
async fn the_wrapper_unbroken_meets_the_contract() {
    if let Err(error) = testing::scim_token_conformance(|| async { Broken::default() }).await {
        panic!("{error}");
    }
}

#[tokio::test]
async fn the_suite_catches_each_breach() {
    let cases = [
        (Breach::AnyOrg, "a_token_opens_only_its_own_org"),
        (Breach::Loose, "malformed_and_unknown_tokens_are_refused"),
        (
            Breach::RevokedStillOpens,
            "a_revoked_token_is_refused_and_unlisted",
        ),
        (Breach::RevokesAnyOrg, "another_orgs_token_is_not_revoked"),
        (Breach::NewestFirst, "lists_are_per_org_oldest_first"),
        (Breach::OneId, "ids_and_secrets_are_unique"),
        (Breach::NoLastUse, "uses_are_recorded"),
        (Breach::RevokeSaysYes, "concurrent_revocations_revoke_once"),
        (Breach::NoHint, "a_new_token_is_well_formed_and_described"),
    ];
    for (breach, check) in cases {
        let fresh = || async {
            Broken {
                breach: Some(breach),
                ..Broken::default()
            }
        };
        let error = testing::scim_token_conformance(fresh)
            .await
            .expect_err(&format!("{breach:?} passed the suite"));
        assert!(
            error.violations.iter().any(|found| found.check == check),
            "{breach:?} was not caught by {check}: {error}"
        );
    }
}
