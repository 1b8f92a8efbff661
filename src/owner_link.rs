//! The site operator's way into an org's admin pages before its SSO works: a one-time
//! owner link.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::store::StoreError;

/// How long an owner link stays usable by default: an hour.
pub const DEFAULT_OWNER_LINK_MINUTES: i64 = 60;

/// The bytes of randomness in an owner link's token (256 bits).
const TOKEN_BYTES: usize = 32;

/// One-time links that open an org's admin pages to whoever holds them, made by the
/// site's operator (`jit-provisioning orgs owner-link`) for an org's first set-up, when
/// no one can sign in through its SSO yet.
///
/// The contract:
///
/// 1. [`create`](Self::create) returns a fresh token of 256 random bits (from
///    [`new_owner_token`]); a store keeps only what it needs to recognise it, never the token
///    itself where others could read it (the SQL stores keep its SHA-256).
/// 2. [`redeem`](Self::redeem) says yes at most once per token, for its own org, before it
///    expires, even when several servers redeem it at once.
#[async_trait]
pub trait OwnerLinks: Send + Sync {
    /// A new owner link's token for `org`, made at `now` and usable until `expires_at`
    /// (usually [`owner_link_expiry`] of `now`). A store may drop links expired at `now`.
    async fn create(
        &self,
        org: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<String, StoreError>;

    /// Uses `token` up: whether it was an unused, unexpired link for `org` at `now`.
    async fn redeem(&self, org: &str, token: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
}

/// A new owner-link token: 256 bits from the operating system's random source, as 64
/// lower-case hex digits.
pub fn new_owner_token() -> Result<String, StoreError> {
    let mut bytes = [0_u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|error| StoreError::Backend(Box::new(error)))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// When an owner link made at `now` expires by default.
pub fn owner_link_expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now + TimeDelta::minutes(DEFAULT_OWNER_LINK_MINUTES)
}

/// Owner links kept in memory, for tests and single-process apps.
#[derive(Debug, Default)]
pub struct MemoryOwnerLinks {
    /// Token → (org, expiry). In memory the token itself is the key: nothing else reads it.
    links: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
}

impl MemoryOwnerLinks {
    /// No links.
    pub fn new() -> Self {
        Self::default()
    }

    fn links(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, DateTime<Utc>)>> {
        // A panic elsewhere while holding the lock leaves the map whole: every change is
        // one insert or remove.
        self.links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl OwnerLinks for MemoryOwnerLinks {
    async fn create(
        &self,
        org: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let token = new_owner_token()?;
        let mut links = self.links();
        links.retain(|_, (_, expires)| now < *expires);
        links.insert(token.clone(), (org.to_owned(), expires_at));
        Ok(token)
    }

    async fn redeem(&self, org: &str, token: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut links = self.links();
        let usable = matches!(
            links.get(token),
            Some((link_org, expires_at)) if link_org == org && now < *expires_at
        );
        if usable {
            links.remove(token);
        }
        Ok(usable)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail by panicking

    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap()
    }

    #[test]
    fn tokens_are_long_and_differ() {
        let (a, b) = (new_owner_token().unwrap(), new_owner_token().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_link_opens_once() {
        pollster::block_on(async {
            let links = MemoryOwnerLinks::new();
            let token = links
                .create("acme", now(), owner_link_expiry(now()))
                .await
                .unwrap();
            assert!(links.redeem("acme", &token, now()).await.unwrap());
            assert!(!links.redeem("acme", &token, now()).await.unwrap());
        });
    }

    #[test]
    fn a_link_opens_only_its_own_org() {
        pollster::block_on(async {
            let links = MemoryOwnerLinks::new();
            let token = links
                .create("acme", now(), owner_link_expiry(now()))
                .await
                .unwrap();
            assert!(!links.redeem("globex", &token, now()).await.unwrap());
            // Trying it on another org does not use it up.
            assert!(links.redeem("acme", &token, now()).await.unwrap());
        });
    }

    #[test]
    fn an_expired_link_does_not_open() {
        pollster::block_on(async {
            let links = MemoryOwnerLinks::new();
            let token = links.create("acme", now(), now()).await.unwrap();
            assert!(!links.redeem("acme", &token, now()).await.unwrap());
        });
    }

    #[test]
    fn a_made_up_token_does_not_open() {
        pollster::block_on(async {
            let links = MemoryOwnerLinks::new();
            links
                .create("acme", now(), owner_link_expiry(now()))
                .await
                .unwrap();
            assert!(!links.redeem("acme", &"0".repeat(64), now()).await.unwrap());
        });
    }
}
