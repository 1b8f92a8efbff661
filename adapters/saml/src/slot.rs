//! One org as the service provider serves it: its provider, and for an IdP whose
//! metadata comes from a URL, when that was fetched and when it is fetched again.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::config::OrgSamlConfig;
use crate::fetch::MetadataFetcher;
use crate::provider::OrgProvider;
use crate::resolve::{parse_metadata, resolve_idp};

/// The longest metadata fetched from a URL is used before it is fetched again, whatever
/// its `validUntil` and `cacheDuration` say: 24 hours.
pub const DEFAULT_METADATA_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// The shortest time between two fetches of one org's metadata, and the least age of
/// the metadata before a signature failure may fetch it again: 5 minutes.
pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// When metadata from a URL is fetched again.
///
/// It is fetched when it is first needed; again at the earliest of its `validUntil`, its
/// `cacheDuration` after the fetch, and [`max_age`](MetadataRefresh::max_age) after
/// it; and again when a response's signature verifies with none of its certificates
/// and it is at least [`min_interval`](MetadataRefresh::min_interval) old (an IdP that
/// rolled its key is picked up at the first sign-in after). Two fetches of one org are
/// never less than `min_interval` apart, whatever fails and whatever is posted. A fetch
/// that fails keeps the metadata there was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetadataRefresh {
    /// The longest a fetched metadata is used ([`DEFAULT_METADATA_MAX_AGE`]).
    pub max_age: Duration,
    /// The shortest time between two fetches ([`DEFAULT_REFETCH_INTERVAL`]).
    pub min_interval: Duration,
}

impl Default for MetadataRefresh {
    fn default() -> Self {
        MetadataRefresh::new()
    }
}

impl MetadataRefresh {
    /// The defaults: 24 hours, 5 minutes.
    pub fn new() -> Self {
        MetadataRefresh {
            max_age: DEFAULT_METADATA_MAX_AGE,
            min_interval: DEFAULT_REFETCH_INTERVAL,
        }
    }

    /// Fetched again after at most `max_age`.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Never fetched twice within `min_interval`.
    pub fn with_min_interval(mut self, min_interval: Duration) -> Self {
        self.min_interval = min_interval;
        self
    }
}

/// How an org's metadata from a URL stands, for an admin page or a health check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetadataStatus {
    /// The URL.
    pub url: String,
    /// When the metadata in use was fetched; `None` before the first success.
    pub fetched_at: Option<DateTime<Utc>>,
    /// When it is due to be fetched again.
    pub refresh_at: Option<DateTime<Utc>>,
    /// When a fetch was last tried (by the clock of the request that tried it).
    pub last_attempt: Option<DateTime<Utc>>,
    /// Why the last fetch failed, if it did (cleared by the next success).
    pub last_error: Option<String>,
}

/// What the slot needs of the service provider to build a provider.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BuildContext<'a> {
    pub(crate) base_url: &'a str,
    pub(crate) has_key: bool,
    pub(crate) fetcher: Option<&'a dyn MetadataFetcher>,
    pub(crate) refresh: MetadataRefresh,
}

/// Why an org cannot be served just now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("org `{org}`: its SAML settings cannot be used: {reason}")]
#[non_exhaustive]
pub struct LoadError {
    /// The org.
    pub org: String,
    /// Why: the org's record could not be read, its settings are invalid, or its
    /// metadata could not be fetched.
    pub reason: String,
}

impl LoadError {
    /// `org` cannot be served, because of `reason`.
    pub fn new(org: impl Into<String>, reason: impl Into<String>) -> Self {
        LoadError {
            org: org.into(),
            reason: reason.into(),
        }
    }
}

#[derive(Debug)]
struct Fetched {
    url: String,
    settings: OrgSamlConfig,
    expected_entity_id: Option<String>,
}

#[derive(Debug, Default)]
struct SlotState {
    provider: Option<Arc<OrgProvider>>,
    fetched_at: Option<DateTime<Utc>>,
    refresh_at: Option<DateTime<Utc>>,
    last_attempt: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

/// One org: a provider built once (metadata inline, from a file, or by hand), or built
/// from metadata fetched from a URL and rebuilt when it is fetched again.
#[derive(Debug)]
pub(crate) struct OrgSlot {
    org: String,
    /// The org record's version (0 for a fixed SAML config).
    version: u64,
    fetched: Option<Fetched>,
    state: RwLock<SlotState>,
    /// Held while fetching: one fetch per org at a time.
    fetching: tokio::sync::Mutex<()>,
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

impl OrgSlot {
    /// An org whose provider is built already.
    pub(crate) fn ready(org: impl Into<String>, version: u64, provider: OrgProvider) -> Self {
        OrgSlot {
            org: org.into(),
            version,
            fetched: None,
            state: RwLock::new(SlotState {
                provider: Some(Arc::new(provider)),
                ..SlotState::default()
            }),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// An org whose metadata is fetched from `url` when first needed.
    pub(crate) fn from_url(
        org: impl Into<String>,
        version: u64,
        url: impl Into<String>,
        settings: OrgSamlConfig,
        expected_entity_id: Option<String>,
    ) -> Self {
        OrgSlot {
            org: org.into(),
            version,
            fetched: Some(Fetched {
                url: url.into(),
                settings,
                expected_entity_id,
            }),
            state: RwLock::new(SlotState::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// The provider as it is now, without fetching.
    pub(crate) fn loaded(&self) -> Option<Arc<OrgProvider>> {
        self.read().provider.clone()
    }

    /// How the org's metadata from a URL stands; `None` for other orgs.
    pub(crate) fn status(&self) -> Option<MetadataStatus> {
        let fetched = self.fetched.as_ref()?;
        let state = self.read();
        Some(MetadataStatus {
            url: fetched.url.clone(),
            fetched_at: state.fetched_at,
            refresh_at: state.refresh_at,
            last_attempt: state.last_attempt,
            last_error: state.last_error.clone(),
        })
    }

    /// The provider to use at `now`: the metadata fetched first if there is none yet,
    /// or again if it is due (and no fetch is under way, and the last try is at least
    /// `min_interval` ago). A failed refresh keeps the provider there was.
    pub(crate) async fn current(
        &self,
        context: BuildContext<'_>,
        now: DateTime<Utc>,
    ) -> Result<Arc<OrgProvider>, LoadError> {
        let (loaded, due) = {
            let state = self.read();
            let due = state.refresh_at.is_none_or(|at| now >= at);
            (state.provider.clone(), due)
        };
        let Some(fetched) = &self.fetched else {
            return loaded.ok_or_else(|| LoadError::new(&self.org, "no provider was built"));
        };
        match loaded {
            Some(provider) if !due => Ok(provider),
            Some(provider) => {
                // Others go on with what there is while one request refreshes.
                let Ok(_fetching) = self.fetching.try_lock() else {
                    return Ok(provider);
                };
                if !self.may_fetch(context.refresh, now) {
                    return Ok(provider);
                }
                let _ = self.fetch(fetched, context, now).await;
                Ok(self.loaded().unwrap_or(provider))
            }
            None => {
                let _fetching = self.fetching.lock().await;
                if let Some(provider) = self.loaded() {
                    return Ok(provider);
                }
                if !self.may_fetch(context.refresh, now) {
                    let reason = self.read().last_error.clone().unwrap_or_default();
                    return Err(LoadError::new(
                        &self.org,
                        format!("the IdP metadata could not be fetched ({reason}); the next try is at most {} s away", context.refresh.min_interval.as_secs()),
                    ));
                }
                self.fetch(fetched, context, now)
                    .await
                    .map_err(|reason| LoadError::new(&self.org, reason))
            }
        }
    }

    /// After a signature verified with none of `tried`'s certificates: the metadata
    /// fetched again, if it is at least `min_interval` old and no fetch was tried within
    /// `min_interval`, and a provider to verify again with if its certificates differ.
    /// A provider another request has just installed is returned without a fetch.
    pub(crate) async fn refetch_after_bad_signature(
        &self,
        context: BuildContext<'_>,
        now: DateTime<Utc>,
        tried: &Arc<OrgProvider>,
    ) -> Option<Arc<OrgProvider>> {
        let fetched = self.fetched.as_ref()?;
        let _fetching = self.fetching.lock().await;
        let (current, fetched_at) = {
            let state = self.read();
            (state.provider.clone(), state.fetched_at)
        };
        if let Some(current) = current.filter(|current| !Arc::ptr_eq(current, tried)) {
            return Some(current);
        }
        let min_interval = delta(context.refresh.min_interval);
        let old_enough = fetched_at.is_none_or(|at| now.signed_duration_since(at) >= min_interval);
        if !old_enough || !self.may_fetch(context.refresh, now) {
            return None;
        }
        tracing::info!(
            org = %self.org,
            url = %fetched.url,
            "a SAML signature verified with none of the IdP's certificates: fetching its metadata again"
        );
        let fresh = self.fetch(fetched, context, now).await.ok()?;
        (fresh.idp().certificates() != tried.idp().certificates()).then_some(fresh)
    }

    fn may_fetch(&self, refresh: MetadataRefresh, now: DateTime<Utc>) -> bool {
        self.read()
            .last_attempt
            .is_none_or(|at| now.signed_duration_since(at) >= delta(refresh.min_interval))
    }

    /// Fetches, parses and installs the metadata; on failure keeps what there was and
    /// says why (also as a warning in the log).
    async fn fetch(
        &self,
        fetched: &Fetched,
        context: BuildContext<'_>,
        now: DateTime<Utc>,
    ) -> Result<Arc<OrgProvider>, String> {
        self.write().last_attempt = Some(now);
        let result = self.fetch_and_build(fetched, context, now).await;
        let mut state = self.write();
        match result {
            Ok((provider, fetched_at, refresh_at)) => {
                let provider = Arc::new(provider);
                state.provider = Some(Arc::clone(&provider));
                state.fetched_at = Some(fetched_at);
                state.refresh_at = Some(refresh_at);
                state.last_error = None;
                Ok(provider)
            }
            Err(reason) => {
                tracing::warn!(
                    org = %self.org,
                    url = %fetched.url,
                    error = %reason,
                    kept_from = ?state.fetched_at,
                    "the IdP metadata could not be fetched; the metadata there was is kept"
                );
                state.last_error = Some(reason.clone());
                Err(reason)
            }
        }
    }

    async fn fetch_and_build(
        &self,
        fetched: &Fetched,
        context: BuildContext<'_>,
        now: DateTime<Utc>,
    ) -> Result<(OrgProvider, DateTime<Utc>, DateTime<Utc>), String> {
        let fetcher = context.fetcher.ok_or(
            "`idp.metadata_url` is set but the service provider has no metadata fetcher (`ServiceProvider::with_metadata_fetcher`)",
        )?;
        let body = fetcher
            .fetch(&fetched.url)
            .await
            .map_err(|error| error.to_string())?;
        let expected = fetched.expected_entity_id.as_deref();
        let metadata = parse_metadata(&fetched.settings, &body.body, expected)
            .map_err(|problem| problem.to_string())?;
        let resolved = resolve_idp(
            &fetched.settings,
            Some(&metadata),
            expected,
            Some(context.has_key),
        )
        .map_err(|problems| {
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        // A fetcher's clock ahead of the request's gives no extra freshness.
        let fetched_at = body.fetched_at.min(now);
        let mut refresh_at = fetched_at
            .checked_add_signed(delta(context.refresh.max_age))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if let Some(until) = metadata.valid_until {
            if until <= now {
                tracing::warn!(
                    org = %self.org,
                    url = %fetched.url,
                    valid_until = %until,
                    "the IdP's metadata is past its validUntil; it is used until a fetch brings newer"
                );
            }
            refresh_at = refresh_at.min(until);
        }
        if let Some(at) = metadata
            .cache_duration
            .and_then(|duration| fetched_at.checked_add_signed(duration))
        {
            refresh_at = refresh_at.min(at);
        }
        let provider = OrgProvider::build(&self.org, &fetched.settings, resolved, context.base_url);
        Ok((provider, fetched_at, refresh_at))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, SlotState> {
        // Nothing panics while the lock is held.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, SlotState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}
