//! An [`OrgDirectory`] in memory: for tests, and for an app whose orgs come from a file.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::directory::MAX_LISTED_CHANGES;
use super::{AuditEntry, Changes, OrgDirectory, OrgRecord, OrgWrite, WriteError};
use crate::store::{is_stem_or_suffixed, StoreError};

/// An [`OrgDirectory`] in memory. Every operation takes one lock, so each write is atomic
/// and the change marks follow the order of the writes.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    inner: Mutex<Orgs>,
}

#[derive(Debug, Default)]
struct Orgs {
    records: BTreeMap<String, OrgRecord>,
    history: BTreeMap<String, Vec<AuditEntry>>,
    /// Lower-cased id → id, for `ids_under`.
    folded: BTreeMap<String, String>,
    /// (mark, org) of every write, in order.
    changes: Vec<(u64, String)>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Orgs> {
        // Nothing panics while the lock is held, so a poisoned lock guards sound data.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl OrgDirectory for MemoryDirectory {
    async fn org(&self, id: &str) -> Result<Option<OrgRecord>, StoreError> {
        Ok(self.lock().records.get(id).cloned())
    }

    async fn orgs(&self, after: Option<&str>, limit: usize) -> Result<Vec<OrgRecord>, StoreError> {
        let orgs = self.lock();
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(orgs
            .records
            .range::<str, _>((start, Bound::Unbounded))
            .take(limit)
            .map(|(_, record)| record.clone())
            .collect())
    }

    async fn existing(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let orgs = self.lock();
        Ok(ids
            .iter()
            .filter(|id| orgs.records.contains_key(id.as_str()))
            .cloned()
            .collect())
    }

    async fn ids_under(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
        let orgs = self.lock();
        let mut found = Vec::new();
        for stem in stems {
            found.extend(
                orgs.folded
                    .range::<str, _>((Bound::Included(stem.as_str()), Bound::Unbounded))
                    .take_while(|(folded, _)| folded.starts_with(stem.as_str()))
                    .filter(|(folded, _)| is_stem_or_suffixed(folded, stem))
                    .map(|(folded, _)| folded.clone()),
            );
        }
        found.sort_unstable();
        found.dedup();
        Ok(found)
    }

    async fn write(&self, write: OrgWrite) -> Result<OrgRecord, WriteError> {
        let mut orgs = self.lock();
        let current = orgs
            .records
            .get(&write.id)
            .map_or(0, |record| record.version);
        if current != write.expected_version {
            return Err(WriteError::Conflict { current });
        }
        let record = write.record();
        let mark = orgs.changes.last().map_or(0, |(mark, _)| *mark) + 1;
        orgs.changes.push((mark, write.id.clone()));
        orgs.folded
            .insert(write.id.to_lowercase(), write.id.clone());
        orgs.history
            .entry(write.id.clone())
            .or_default()
            .push(write.audit_entry());
        orgs.records.insert(write.id, record.clone());
        Ok(record)
    }

    async fn history(&self, id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.lock().history.get(id).cloned().unwrap_or_default())
    }

    async fn changes_since(&self, since: u64) -> Result<Changes, StoreError> {
        let orgs = self.lock();
        let mark = orgs.changes.last().map_or(0, |(mark, _)| *mark);
        if since > mark {
            // A mark this directory never gave: a cache of another directory's.
            return Ok(Changes::everything(mark));
        }
        // Marks are 1, 2, 3…: the changes after `since` start at index `since`.
        let after = orgs
            .changes
            .get(usize::try_from(since).unwrap_or(usize::MAX)..)
            .unwrap_or_default();
        if after.len() > MAX_LISTED_CHANGES {
            return Ok(Changes::everything(mark));
        }
        let mut ids: Vec<String> = after.iter().map(|(_, id)| id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(Changes::new(mark, ids))
    }
}
