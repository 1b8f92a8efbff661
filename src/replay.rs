//! One-time use of assertions: a captured SAML response must not sign anyone in twice.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::store::StoreError;

/// How long past an assertion's `NotOnOrAfter` a replay guard must still remember its
/// id, in seconds: the largest clock skew a verifier may allow (SAML verifiers accept an
/// assertion until `NotOnOrAfter` plus their skew, so a guard that forgot earlier would
/// let a captured response through in that window).
pub const REPLAY_GRACE_SECS: i64 = 600;

/// Remembers which assertion ids were used.
///
/// # Contract
///
/// - [`ReplayGuard::first_use`] is atomic: of any number of concurrent calls with one
///   (issuer, id), across every app server, exactly one gets `Ok(true)`.
/// - An id is remembered at least until `not_on_or_after` plus [`REPLAY_GRACE_SECS`]:
///   until then a second use gets `Ok(false)`. After that it may be forgotten (the
///   verifier refuses the assertion as expired anyway).
/// - Ids are unique per issuer: the same id from two issuers is two assertions.
/// - Expired ids are dropped without reading every id kept (an index on the expiry).
///
/// Shared by every app server of a deployment (a database table or a cache with
/// expiry); a guard local to one process stops replays only against that process. The
/// `testing` feature's `testing::replay_conformance` checks the contract.
#[async_trait]
pub trait ReplayGuard: Send + Sync {
    /// Records that the assertion `id` from `issuer` is being used at `now`. `Ok(true)`
    /// the first time; `Ok(false)` when it was used before and is still remembered.
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
        used.retain(|_, forget_at| *forget_at > now);
        let key = (issuer.to_owned(), id.to_owned());
        if used.contains_key(&key) {
            return Ok(false);
        }
        used.insert(key, forget_at(not_on_or_after));
        Ok(true)
    }
}

/// When a guard may forget an id whose assertion ends at `not_on_or_after`.
pub(crate) fn forget_at(not_on_or_after: DateTime<Utc>) -> DateTime<Utc> {
    not_on_or_after
        .checked_add_signed(chrono::TimeDelta::seconds(REPLAY_GRACE_SECS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
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
        // A verifier still accepts the assertion within its skew after NotOnOrAfter: the
        // id must still be refused then.
        let within_skew = expires + TimeDelta::seconds(REPLAY_GRACE_SECS - 1);
        assert!(
            !guard
                .first_use("idp", "_a1", expires, within_skew)
                .await
                .unwrap(),
            "remembered until NotOnOrAfter plus the largest skew"
        );
        let forgotten = expires + TimeDelta::seconds(REPLAY_GRACE_SECS);
        assert!(guard
            .first_use("idp", "_b2", forgotten, forgotten)
            .await
            .unwrap());
        assert_eq!(guard.len(), 1, "expired ids are dropped");
    }
}
