//! Where org records live: the storage side of the [`OrgRegistry`](super::OrgRegistry).

use std::fmt;

use chrono::{DateTime, Utc};

use super::{AuditEntry, FieldChange, OrgRecord};
use crate::config::OrgConfig;
use crate::store::StoreError;

/// Storage for org records and their history: memory ([`MemoryDirectory`](super::MemoryDirectory)),
/// or SQLite and PostgreSQL tables (`jit-provisioning-sqlx`).
///
/// A directory stores; it does not judge. The [`OrgRegistry`](super::OrgRegistry) checks
/// each record before it writes one, and a directory keeps this contract, which the
/// `testing` feature's `conformance::org_directory` suite pins for every backend:
///
/// 1. [`write`](Self::write) is all or nothing, and only when the org's version is the
///    write's `expected_version` (0: the org does not exist): else
///    [`WriteError::Conflict`] with the current version, and nothing changes. Of two
///    writes expecting the same version, one wins whole and the other conflicts.
/// 2. A write stores version `expected_version + 1` and appends its [`AuditEntry`] to the
///    org's history in the same transaction.
/// 3. Every write takes the next [change mark](Self::changes_since), in the order the
///    writes commit, so that a reader who has seen mark `m` misses no change after it.
/// 4. [`ids_under`](Self::ids_under) answers from an index: its work does not grow with
///    the number of orgs.
#[async_trait::async_trait]
pub trait OrgDirectory: Send + Sync + fmt::Debug {
    /// The org's record, or `None`.
    async fn org(&self, id: &str) -> Result<Option<OrgRecord>, StoreError>;

    /// Up to `limit` records in order of id, starting after `after`: a page of a listing.
    async fn orgs(&self, after: Option<&str>, limit: usize) -> Result<Vec<OrgRecord>, StoreError>;

    /// Which of `ids` exist.
    async fn existing(&self, ids: &[String]) -> Result<Vec<String>, StoreError>;

    /// The org ids, lower-cased, that are one of `stems` or a stem followed by `-` and
    /// digits: the names a handle search under those stems could meet.
    async fn ids_under(&self, stems: &[String]) -> Result<Vec<String>, StoreError>;

    /// Writes one version of one org (see the contract above).
    async fn write(&self, write: OrgWrite) -> Result<OrgRecord, WriteError>;

    /// The org's history, oldest first.
    async fn history(&self, id: &str) -> Result<Vec<AuditEntry>, StoreError>;

    /// The orgs written after change mark `since`, and the mark to ask from next time.
    /// Start from 0, or from the mark an earlier answer gave. A `since` past the latest
    /// mark (the database was restored from a backup) is answered with
    /// [`Changes::everything`].
    async fn changes_since(&self, since: u64) -> Result<Changes, StoreError>;
}

/// One version of one org, to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrgWrite {
    /// The org.
    pub id: String,
    /// Its new config.
    pub config: OrgConfig,
    /// The version it must have now; 0 when it must not exist yet.
    pub expected_version: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What changed, for the history.
    pub changes: Vec<FieldChange>,
}

impl OrgWrite {
    /// `config` as the next version of `id` after `expected_version`.
    pub fn new(
        id: impl Into<String>,
        config: OrgConfig,
        expected_version: u64,
        at: DateTime<Utc>,
        actor: impl Into<String>,
        changes: Vec<FieldChange>,
    ) -> Self {
        OrgWrite {
            id: id.into(),
            config,
            expected_version,
            at,
            actor: actor.into(),
            changes,
        }
    }

    /// The record this write makes.
    pub fn record(&self) -> OrgRecord {
        OrgRecord::new(
            self.id.clone(),
            self.config.clone(),
            self.expected_version.saturating_add(1),
            self.at,
            self.actor.clone(),
        )
    }

    /// The history entry this write appends.
    pub fn audit_entry(&self) -> AuditEntry {
        AuditEntry::new(
            self.id.clone(),
            self.expected_version.saturating_add(1),
            self.at,
            self.actor.clone(),
            self.changes.clone(),
        )
    }
}

/// A write that did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The org is not at the expected version: someone else wrote it first.
    #[error("the org is at version {current}, not the expected one")]
    Conflict {
        /// Its version now (0: it does not exist).
        current: u64,
    },
    /// The storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`OrgDirectory::changes_since`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Changes {
    /// The mark to ask from next time.
    pub mark: u64,
    /// The orgs written since, each once; with `all`, not every one is listed.
    pub orgs: Vec<String>,
    /// More changed than one answer lists: treat every org as changed.
    pub all: bool,
}

impl Changes {
    /// The orgs written up to `mark`.
    pub fn new(mark: u64, orgs: Vec<String>) -> Self {
        Changes {
            mark,
            orgs,
            all: false,
        }
    }

    /// Too many changes up to `mark` to list.
    pub fn everything(mark: u64) -> Self {
        Changes {
            mark,
            orgs: Vec::new(),
            all: true,
        }
    }
}

/// The most changes one [`OrgDirectory::changes_since`] answer lists before it says
/// [`Changes::all`].
pub const MAX_LISTED_CHANGES: usize = 1_000;
