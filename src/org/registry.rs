//! The orgs of a running app: read through a cache that follows the directory's changes,
//! and changed only through checks.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{
    changes_between, AuditEntry, Changes, OrgDirectory, OrgRecord, OrgState, OrgWrite, SsoCheck,
    WriteError,
};
use crate::config::{Config, ConfigError, ConfigProblem, OrgConfig, OrgPolicy, Policy, Settings};
use crate::store::StoreError;

/// How often, at most, a registry asks its directory what changed: every app server sees
/// a change within this long (plus one round trip) of its write.
pub const DEFAULT_REFRESH_EVERY: Duration = Duration::from_millis(500);

/// Longest org id a registry accepts.
pub const MAX_ORG_ID_LEN: usize = 64;

/// The orgs of a running app, kept in an [`OrgDirectory`] and read through a cache.
///
/// Each org is read from the directory the first time a request names it, checked, and
/// kept. At most every [`DEFAULT_REFRESH_EVERY`] the next request asks the directory which
/// orgs changed since the last time (one indexed query, whatever the number of orgs) and
/// drops them from the cache, so a change made on one app server, or with the CLI, is seen
/// on every other within a second, with no restart.
///
/// Changes go through [`OrgRegistry::update`], [`OrgRegistry::set_state`] and
/// [`OrgRegistry::import`]: each is checked like a config file, with the whole problem list
/// and nothing written when there is one; each names the version it changes, so that of
/// two admins editing one org the later is refused rather than mixed in; each is kept in
/// the org's [history](OrgRegistry::history).
///
/// ```
/// use std::sync::Arc;
/// use chrono::{TimeZone, Utc};
/// use jit_provisioning::org::{MemoryDirectory, OrgRegistry, OrgState, OrgUpdate};
/// use jit_provisioning::{Config, OrgConfig};
///
/// # pollster::block_on(async {
/// let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
/// let registry = OrgRegistry::new(Arc::new(MemoryDirectory::new()), &Config::default()).unwrap();
/// let acme: OrgConfig = serde_json::from_str(r#"{"jit": true, "idp": "https://idp.acme.example"}"#).unwrap();
/// let written = registry
///     .update(OrgUpdate::new("acme", acme, "support:sam", now))
///     .await
///     .unwrap();
/// assert_eq!(written.version, 1);
///
/// // An update that names a version someone else has changed since is refused.
/// registry.set_state("acme", OrgState::Inactive, Some(1), "admin:jane", now).await.unwrap();
/// let stale = registry.set_state("acme", OrgState::Active, Some(1), "admin:joe", now).await;
/// assert!(stale.is_err());
/// assert_eq!(registry.history("acme").await.unwrap().len(), 2);
/// # });
/// ```
#[derive(Debug)]
pub struct OrgRegistry {
    directory: Arc<dyn OrgDirectory>,
    settings: Settings,
    sso: Option<Arc<dyn SsoCheck>>,
    refresh_every: Duration,
    cache: RwLock<HashMap<String, Arc<LiveOrg>>>,
    sync: Mutex<SyncState>,
    syncing: AtomicBool,
}

#[derive(Debug)]
struct SyncState {
    /// The directory's change mark the cache has followed up to.
    mark: u64,
    /// When the directory was last asked; `None` before the first time.
    checked: Option<Instant>,
}

/// One org as the registry serves it: its record and its checked policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOrg {
    record: OrgRecord,
    policy: Arc<OrgPolicy>,
}

impl LiveOrg {
    /// The record, as the directory holds it.
    pub fn record(&self) -> &OrgRecord {
        &self.record
    }

    /// The checked policy the engine decides with.
    pub fn policy(&self) -> &OrgPolicy {
        &self.policy
    }

    /// The org's state.
    pub fn state(&self) -> OrgState {
        self.record.config.state
    }
}

/// A change of one org, to be checked and written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrgUpdate {
    /// The org.
    pub id: String,
    /// Its whole new config.
    pub config: OrgConfig,
    /// The version the change was made from: refused with
    /// [`UpdateError::Conflict`] if the org has moved on. `None`: whatever it is now (the
    /// later write wins whole).
    pub expected_version: Option<u64>,
    /// Who makes the change, for the history (`support:jane`, `scim`, `import`).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Where relative `*_file` paths of the SAML settings are resolved.
    pub base_dir: Option<std::path::PathBuf>,
}

impl OrgUpdate {
    /// `config` as `id`'s new config, by `actor` at `at`, whatever version it is at now.
    pub fn new(
        id: impl Into<String>,
        config: OrgConfig,
        actor: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        OrgUpdate {
            id: id.into(),
            config,
            expected_version: None,
            actor: actor.into(),
            at,
            base_dir: None,
        }
    }

    /// Refused unless the org is at `version` (0: it must not exist yet).
    pub fn expecting(mut self, version: u64) -> Self {
        self.expected_version = Some(version);
        self
    }

    /// Relative `*_file` paths of the SAML settings are resolved against `dir`.
    pub fn with_base_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.base_dir = Some(dir.into());
        self
    }
}

/// A change that was not made. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The change is invalid: every problem is listed.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// The org changed since the version the change was made from.
    #[error("org `{org}` is at version {current}, not {expected}: someone changed it meanwhile; look again and redo the change")]
    Conflict {
        /// The org.
        org: String,
        /// The version the change was made from.
        expected: u64,
        /// The version it is at.
        current: u64,
    },
    /// The org does not exist.
    #[error("there is no org `{0}`")]
    UnknownOrg(String),
    /// The directory failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`OrgRegistry::import`] did, org by org.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// Orgs that did not exist, now at version 1.
    pub created: Vec<String>,
    /// Orgs whose config changed, with their new version.
    pub changed: Vec<(String, u64)>,
    /// Orgs whose config was already the file's.
    pub unchanged: Vec<String>,
}

/// Resets the `syncing` flag however the sync ends, a dropped future included.
struct Syncing<'a>(&'a AtomicBool);

impl Drop for Syncing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl OrgRegistry {
    /// A registry over `directory`, with the deployment-wide settings of `config`
    /// (`deployment`, `reserved_handles`, `max_handle_len`; its orgs are not read: see
    /// [`OrgRegistry::import`]).
    pub fn new(directory: Arc<dyn OrgDirectory>, config: &Config) -> Result<Self, ConfigError> {
        let settings = config.settings().map_err(ConfigError::new)?;
        Ok(OrgRegistry {
            directory,
            settings,
            sso: None,
            refresh_every: DEFAULT_REFRESH_EVERY,
            cache: RwLock::new(HashMap::new()),
            sync: Mutex::new(SyncState {
                mark: 0,
                checked: None,
            }),
            syncing: AtomicBool::new(false),
        })
    }

    /// Checks each change's SAML settings with `sso` (the SAML adapter's check), and
    /// fills in an org's `idp` from its metadata. Without one, SAML settings are kept as
    /// written, and an org must name its `idp`.
    pub fn with_sso_check(mut self, sso: Arc<dyn SsoCheck>) -> Self {
        self.sso = Some(sso);
        self
    }

    /// Asks the directory what changed at most this often (default
    /// [`DEFAULT_REFRESH_EVERY`]).
    pub fn with_refresh_every(mut self, every: Duration) -> Self {
        self.refresh_every = every;
        self
    }

    /// The directory.
    pub fn directory(&self) -> &Arc<dyn OrgDirectory> {
        &self.directory
    }

    /// One org as requests see it, from the cache when it holds the org.
    pub async fn org(&self, id: &str) -> Result<Option<Arc<LiveOrg>>, StoreError> {
        let seen = self.sync_if_due().await?;
        if let Some(live) = self.read_cache().get(id) {
            return Ok(Some(Arc::clone(live)));
        }
        let Some(record) = self.directory.org(id).await? else {
            return Ok(None);
        };
        let live = Arc::new(self.live(record)?);
        // Kept only if nothing changed while it was read: else it might be the version
        // before a change the sync has already dropped.
        if self.mark() == seen {
            self.write_cache().insert(id.to_owned(), Arc::clone(&live));
        }
        Ok(Some(live))
    }

    /// The org as the cache holds it, without asking the directory: for what must not
    /// wait (a page's links), right after a request has looked the org up.
    pub fn cached_org(&self, id: &str) -> Option<Arc<LiveOrg>> {
        self.read_cache().get(id).cloned()
    }

    /// What a request at `org` is decided with: the deployment's settings and the org (no
    /// org when it does not exist).
    pub async fn policy_for(&self, org: &str) -> Result<Policy, StoreError> {
        let live = self.org(org).await?;
        Ok(self.policy_of(org, live.as_deref()))
    }

    pub(crate) fn policy_of(&self, id: &str, live: Option<&LiveOrg>) -> Policy {
        match live {
            Some(live) => {
                Policy::of_one_org(&self.settings, id, Arc::clone(&live.policy), Vec::new())
            }
            None => Policy::of_no_org(&self.settings),
        }
    }

    /// The org ids, lower-cased, that a handle search under `stems` could meet.
    pub async fn ids_under(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
        self.directory.ids_under(stems).await
    }

    /// Up to `limit` orgs in order of id, after `after`.
    pub async fn list(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OrgRecord>, StoreError> {
        self.directory.orgs(after, limit).await
    }

    /// The org's history, oldest first.
    pub async fn history(&self, id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        self.directory.history(id).await
    }

    /// Checks `update` and writes it as the org's next version. An update that changes
    /// nothing writes nothing and returns the record as it is.
    pub async fn update(&self, update: OrgUpdate) -> Result<OrgRecord, UpdateError> {
        let mut references: Vec<String> = referenced_orgs(&update.config)
            .filter(|org| *org != update.id)
            .map(str::to_owned)
            .collect();
        references.sort_unstable();
        references.dedup();
        let existing = self.directory.existing(&references).await?;
        let config = self
            .checked(
                &update.id,
                &update.config,
                update.base_dir.as_deref(),
                &|org| org == update.id || existing.iter().any(|known| known == org),
            )
            .await?;
        self.write_checked(
            &update.id,
            config,
            update.expected_version,
            &update.actor,
            update.at,
        )
        .await
        .map(|(record, _)| record)
    }

    /// Opens, closes or drafts an org's SSO connection, keeping the rest of its record.
    pub async fn set_state(
        &self,
        id: &str,
        state: OrgState,
        expected_version: Option<u64>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<OrgRecord, UpdateError> {
        let current = self
            .directory
            .org(id)
            .await?
            .ok_or_else(|| UpdateError::UnknownOrg(id.to_owned()))?;
        let expected = expected_version.unwrap_or(current.version);
        if expected != current.version {
            return Err(UpdateError::Conflict {
                org: id.to_owned(),
                expected,
                current: current.version,
            });
        }
        let mut config = current.config;
        config.state = state;
        let mut update = OrgUpdate::new(id, config, actor, at).expecting(expected);
        update.base_dir = None;
        self.update(update).await
    }

    /// Writes every org of `config` (a config file: see [`Config::load`]), checked as one:
    /// an org may name another of the file or of the directory. Either every org is
    /// valid and each is written, or nothing is and every problem is listed. An org
    /// already as the file says is left alone.
    pub async fn import(
        &self,
        config: &Config,
        actor: &str,
        at: DateTime<Utc>,
        base_dir: Option<&Path>,
    ) -> Result<ImportReport, UpdateError> {
        let mut references: Vec<String> = config
            .orgs
            .values()
            .flat_map(referenced_orgs)
            .filter(|org| !config.orgs.contains_key(*org))
            .map(str::to_owned)
            .collect();
        references.sort_unstable();
        references.dedup();
        let existing = self.directory.existing(&references).await?;
        let known =
            |org: &str| config.orgs.contains_key(org) || existing.iter().any(|id| id == org);

        let mut problems = Vec::new();
        let mut checked = BTreeMap::new();
        for (id, org) in &config.orgs {
            match self.checked(id, org, base_dir, &known).await {
                Ok(org) => {
                    checked.insert(id.clone(), org);
                }
                Err(UpdateError::Invalid(error)) => {
                    problems.extend(error.problems().iter().cloned())
                }
                Err(other) => return Err(other),
            }
        }
        if !problems.is_empty() {
            return Err(ConfigError::new(problems).into());
        }
        let mut report = ImportReport::default();
        for (id, org) in checked {
            let (record, written) = self.write_checked(&id, org, None, actor, at).await?;
            match (written, record.version) {
                (false, _) => report.unchanged.push(id),
                (true, 1) => report.created.push(id),
                (true, version) => report.changed.push((id, version)),
            }
        }
        Ok(report)
    }

    /// Imports `config`'s orgs if the directory has none yet, and otherwise leaves it
    /// alone: a file seeds the database on first run, and after that the database wins.
    /// `None` when the directory had orgs already.
    ///
    /// A deployment whose orgs only ever come from a file uses a
    /// [`MemoryDirectory`](super::MemoryDirectory) seeded this way at every start.
    pub async fn seed(
        &self,
        config: &Config,
        actor: &str,
        at: DateTime<Utc>,
        base_dir: Option<&Path>,
    ) -> Result<Option<ImportReport>, UpdateError> {
        if !self.directory.orgs(None, 1).await?.is_empty() {
            return Ok(None);
        }
        self.import(config, actor, at, base_dir).await.map(Some)
    }

    /// A registry that serves `record` as its org's, and every other org as this one
    /// does: what a test sign-in decides with when it tries a change that is not written
    /// (an IdP trust waiting for its test). It shares this registry's deployment
    /// settings and directory, keeps a cache of its own, never sees a change, and refuses
    /// every write. `record` is checked like any record read, when it is first read.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::{TimeZone, Utc};
    /// use jit_provisioning::org::{MemoryDirectory, OrgRecord, OrgRegistry, OrgUpdate};
    /// use jit_provisioning::{Config, OrgConfig};
    ///
    /// # pollster::block_on(async {
    /// let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
    /// let registry = OrgRegistry::new(Arc::new(MemoryDirectory::new()), &Config::default()).unwrap();
    /// let acme: OrgConfig = serde_json::from_str(r#"{"jit": true, "idp": "https://old.example"}"#).unwrap();
    /// let written = registry.update(OrgUpdate::new("acme", acme, "support:sam", now)).await.unwrap();
    ///
    /// let mut tried = written.clone();
    /// tried.config.idp = Some("https://new.example".into());
    /// let trial = registry.trial(tried);
    /// let policy = trial.policy_for("acme").await.unwrap();
    /// assert_eq!(policy.org("acme").unwrap().portal().unwrap().idp(), "https://new.example");
    /// // The registry itself is as it was.
    /// let policy = registry.policy_for("acme").await.unwrap();
    /// assert_eq!(policy.org("acme").unwrap().portal().unwrap().idp(), "https://old.example");
    /// # });
    /// ```
    pub fn trial(&self, record: OrgRecord) -> OrgRegistry {
        OrgRegistry {
            directory: Arc::new(TrialDirectory {
                inner: Arc::clone(&self.directory),
                record,
            }),
            settings: self.settings.clone(),
            sso: self.sso.clone(),
            refresh_every: self.refresh_every,
            cache: RwLock::new(HashMap::new()),
            sync: Mutex::new(SyncState {
                mark: 0,
                checked: None,
            }),
            syncing: AtomicBool::new(false),
        }
    }

    /// Asks the directory what changed now, whenever the last time was.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        self.sync(true).await.map(|_| ())
    }

    /// Drops every cached org (the next request for each reads it again).
    pub fn clear_cache(&self) {
        self.write_cache().clear();
    }

    /// How many orgs the cache holds.
    pub fn cached(&self) -> usize {
        self.read_cache().len()
    }

    /// Checks one org's config; with an SSO check, its SAML settings too, and its `idp`
    /// filled in from them.
    async fn checked(
        &self,
        id: &str,
        config: &OrgConfig,
        base_dir: Option<&Path>,
        known_org: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<OrgConfig, UpdateError> {
        let mut problems = Vec::new();
        if !valid_org_id(id) {
            problems.push(ConfigProblem::InvalidOrgId(id.to_owned()));
        }
        let mut config = config.clone();
        let mut resolved = None;
        // Settings that only hold a first trust waiting for its test serve no sign-in:
        // the trust is checked when it is activated.
        let in_use = config
            .saml
            .as_ref()
            .filter(|saml| !saml.awaits_first_trust());
        if let (Some(sso), Some(saml)) = (&self.sso, in_use) {
            match sso.check(id, saml, base_dir).await {
                Ok(facts) => resolved = Some(facts.entity_id),
                Err(found) => {
                    problems.extend(found.into_iter().map(|problem| ConfigProblem::Sso {
                        org: id.to_owned(),
                        problem,
                    }))
                }
            }
        }
        config.validate(
            id,
            self.settings.deployment,
            known_org,
            resolved.as_deref(),
            &mut problems,
        );
        if !problems.is_empty() {
            return Err(ConfigError::new(problems).into());
        }
        if config.idp.is_none() {
            // The record keeps the entity id it was checked with: reading it back needs
            // no metadata.
            config.idp = resolved.or_else(|| {
                config
                    .saml
                    .as_ref()
                    .and_then(|s| s.entity_id().map(str::to_owned))
            });
        }
        Ok(config)
    }

    /// Writes a checked config unless it is already the org's; `true` if it wrote.
    async fn write_checked(
        &self,
        id: &str,
        config: OrgConfig,
        expected_version: Option<u64>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<(OrgRecord, bool), UpdateError> {
        let current = self.directory.org(id).await?;
        let current_version = current.as_ref().map_or(0, |record| record.version);
        let expected = expected_version.unwrap_or(current_version);
        if expected != current_version {
            return Err(UpdateError::Conflict {
                org: id.to_owned(),
                expected,
                current: current_version,
            });
        }
        let changes = changes_between(current.as_ref().map(|record| &record.config), &config);
        if let (Some(record), true) = (&current, changes.is_empty()) {
            return Ok((record.clone(), false));
        }
        let write = OrgWrite::new(id, config, expected, at, actor, changes);
        let record = self
            .directory
            .write(write)
            .await
            .map_err(|error| match error {
                WriteError::Conflict { current } => UpdateError::Conflict {
                    org: id.to_owned(),
                    expected,
                    current,
                },
                WriteError::Store(error) => UpdateError::Store(error),
            })?;
        // This server sees its own change at once; the others at their next sync.
        self.write_cache().remove(id);
        Ok((record, true))
    }

    fn live(&self, record: OrgRecord) -> Result<LiveOrg, StoreError> {
        let mut problems = Vec::new();
        // Its references were checked when it was written; orgs are never deleted.
        let policy = record.config.validate(
            &record.id,
            self.settings.deployment,
            &|_| true,
            None,
            &mut problems,
        );
        if !problems.is_empty() {
            return Err(StoreError::InvalidData(
                ConfigError::new(problems).to_string(),
            ));
        }
        Ok(LiveOrg {
            record,
            policy: Arc::new(policy),
        })
    }

    fn mark(&self) -> u64 {
        self.sync
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .mark
    }

    /// Follows the directory's changes if the last look is older than `refresh_every`;
    /// returns the mark the cache is at.
    async fn sync_if_due(&self) -> Result<u64, StoreError> {
        self.sync(false).await
    }

    async fn sync(&self, now: bool) -> Result<u64, StoreError> {
        let (mark, due) = {
            let state = self.sync.lock().unwrap_or_else(PoisonError::into_inner);
            let due = now
                || state
                    .checked
                    .is_none_or(|checked| checked.elapsed() >= self.refresh_every);
            (state.mark, due)
        };
        // One request at a time asks; the others go on with the cache as it is, at most
        // one round trip behind.
        if !due
            || self
                .syncing
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return Ok(mark);
        }
        let _syncing = Syncing(&self.syncing);
        let asked = Instant::now();
        let changes = self.directory.changes_since(mark).await?;
        {
            let mut cache = self.write_cache();
            if changes.all || mark == 0 {
                // The first look, or too much changed to list: start afresh.
                cache.clear();
            } else {
                for id in &changes.orgs {
                    cache.remove(id);
                }
            }
        }
        let mut state = self.sync.lock().unwrap_or_else(PoisonError::into_inner);
        state.mark = changes.mark;
        state.checked = Some(asked);
        Ok(state.mark)
    }

    fn read_cache(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<LiveOrg>>> {
        // Nothing panics while the lock is held, so a poisoned lock guards sound data.
        self.cache.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_cache(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<LiveOrg>>> {
        self.cache.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The directory of a [trial](OrgRegistry::trial): one record tried, the rest as the
/// real directory has them, and no write.
#[derive(Debug)]
struct TrialDirectory {
    inner: Arc<dyn OrgDirectory>,
    record: OrgRecord,
}

#[async_trait::async_trait]
impl OrgDirectory for TrialDirectory {
    async fn org(&self, id: &str) -> Result<Option<OrgRecord>, StoreError> {
        if id == self.record.id {
            return Ok(Some(self.record.clone()));
        }
        self.inner.org(id).await
    }

    async fn orgs(&self, after: Option<&str>, limit: usize) -> Result<Vec<OrgRecord>, StoreError> {
        let mut records = self.inner.orgs(after, limit).await?;
        for record in &mut records {
            if record.id == self.record.id {
                record.clone_from(&self.record);
            }
        }
        Ok(records)
    }

    async fn existing(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let mut existing = self.inner.existing(ids).await?;
        if ids.contains(&self.record.id) && !existing.contains(&self.record.id) {
            existing.push(self.record.id.clone());
        }
        Ok(existing)
    }

    async fn ids_under(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
        self.inner.ids_under(stems).await
    }

    async fn write(&self, _write: OrgWrite) -> Result<OrgRecord, WriteError> {
        Err(WriteError::Store(StoreError::NotSetUp(
            "a trial of an org is never written".into(),
        )))
    }

    async fn history(&self, id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.history(id).await
    }

    async fn changes_since(&self, since: u64) -> Result<Changes, StoreError> {
        Ok(Changes::new(since, Vec::new()))
    }
}

/// The orgs a config grants memberships of.
fn referenced_orgs(config: &OrgConfig) -> impl Iterator<Item = &str> {
    config
        .provision
        .iter()
        .flatten()
        .map(|grant| grant.org.as_str())
        .chain(config.group_roles.iter().map(|entry| entry.org.as_str()))
}

/// An org id a URL path segment carries as it is: ASCII letters, digits, `-`, `_` and
/// `.`, not starting with `.`, at most [`MAX_ORG_ID_LEN`] bytes.
pub fn valid_org_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ORG_ID_LEN
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeZone;

    use super::*;
    use crate::org::{MemoryDirectory, OrgUpdate as Update, SamlSection, SsoFacts};

    /// A check that refuses every setting it is asked about.
    #[derive(Debug)]
    struct RefuseAll;

    #[async_trait::async_trait]
    impl SsoCheck for RefuseAll {
        async fn check(
            &self,
            _org: &str,
            _saml: &SamlSection,
            _base_dir: Option<&Path>,
        ) -> Result<SsoFacts, Vec<String>> {
            Err(vec!["refused".into()])
        }
    }

    #[test]
    fn a_first_trust_waiting_for_its_test_is_not_checked_and_gives_no_idp() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let registry = OrgRegistry::new(Arc::new(MemoryDirectory::new()), &Config::default())
            .unwrap()
            .with_sso_check(Arc::new(RefuseAll));
        let waiting: OrgConfig = serde_json::from_value(serde_json::json!({
            "saml": {"pending": {"idp": {"metadata_url": "https://idp.example/md"}}}
        }))
        .unwrap();
        let written =
            pollster::block_on(registry.update(Update::new("acme", waiting, "admin:jane", now)))
                .unwrap();
        assert_eq!(written.config.idp, None);

        let in_use: OrgConfig = serde_json::from_value(serde_json::json!({
            "saml": {"idp": {"entity_id": "https://idp.example"}, "pending": {}}
        }))
        .unwrap();
        let refused =
            pollster::block_on(registry.update(Update::new("acme", in_use, "admin:jane", now)));
        assert!(matches!(refused, Err(UpdateError::Invalid(_))));
    }
}
