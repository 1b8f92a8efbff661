//! One-time use of assertions: a captured SAML response must not sign anyone in twice.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::store::StoreError;

/// Remembers which assertion ids were used, at least until each assertion expires.
///
/// Shared by every app server of a deployment (a database table or a cache with
/// expiry); a guard local to one process stops replays only against that process.
#[async_trait]
pub trait ReplayGuard: Send + Sync {
    /// Records that the assertion `id` from `issuer` is being used. `Ok(true)` the first
    /// time; `Ok(false)` when it was used before and has not yet expired.
    async fn first_use(
        &self,
        issuer: &str,
        id: &str,
        not_on_or_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// A [`ReplayGuard`] in memory, for one process and for tests. Expired ids are dropped
/// as new ones arrive, so memory stays bounded by the assertions still valid.
#[derive(Debug, Default)]
pub struct MemoryReplayGuard {
    used: Mutex<HashMap<(String, String), DateTime<Utc>>>,
}

impl MemoryReplayGuard {
    /// An empty guard.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl ReplayGuard for MemoryReplayGuard {
    async fn first_use(
        &self,
        issuer: &str,
        id: &str,
        not_on_or_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // Nothing panics while the lock is held, so a poisoned lock guards sound data.
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        used.retain(|_, expires| *expires > now);
        let key = (issuer.to_owned(), id.to_owned());
        if used.contains_key(&key) {
            return Ok(false);
        }
        used.insert(key, not_on_or_after);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    #[tokio::test]
    async fn an_id_is_used_once_until_it_expires() {
        let guard = MemoryReplayGuard::new();
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let expires = now + TimeDelta::minutes(5);
        assert!(guard.first_use("idp", "_a1", expires, now).await.unwrap());
        assert!(!guard.first_use("idp", "_a1", expires, now).await.unwrap());
        assert!(
            guard
                .first_use("other-idp", "_a1", expires, now)
                .await
                .unwrap(),
            "ids are unique per issuer only"
        );
        let later = expires + TimeDelta::seconds(1);
        assert!(guard.first_use("idp", "_b2", later, later).await.unwrap());
        assert_eq!(guard.len(), 1, "expired ids are dropped");
    }
}
