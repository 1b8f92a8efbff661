//! The memory audit log and owner links meet their contracts, and the suite catches
//! stores that break them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jit_provisioning::{
    testing, AdminEvent, AuditLog, MemoryAuditLog, MemoryOwnerLinks, OwnerLinks, StoreError,
};

/// An audit log and owner links behind one type, as a SQL store is both; `sloppy` turns
/// on two breaches: events oldest first, and links that open for any token, again and
/// again.
#[derive(Default)]
struct Both {
    log: MemoryAuditLog,
    links: MemoryOwnerLinks,
    sloppy: bool,
}

#[async_trait]
impl AuditLog for Both {
    async fn record(&self, event: &AdminEvent) -> Result<(), StoreError> {
        self.log.record(event).await
    }
    async fn recent(&self, org: &str, limit: usize) -> Result<Vec<AdminEvent>, StoreError> {
        let mut recent = self.log.recent(org, limit).await?;
        if self.sloppy {
            recent.reverse();
        }
        Ok(recent)
    }
}

#[async_trait]
impl OwnerLinks for Both {
    async fn create(
        &self,
        org: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        self.links.create(org, now, expires_at).await
    }
    async fn redeem(&self, org: &str, token: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        if self.sloppy {
            // Checks the org alone: any token opens it, as often as asked.
            return Ok(org == "acme");
        }
        self.links.redeem(org, token, now).await
    }
}

#[tokio::test]
async fn memory_audit_log_and_owner_links_meet_their_contracts() {
    if let Err(error) = testing::admin_records_conformance(|| async { Both::default() }).await {
        panic!("{error}");
    }
}

#[tokio::test]
async fn the_suite_catches_each_breach() {
    let fresh = || async {
        Both {
            sloppy: true,
            ..Both::default()
        }
    };
    let error = testing::admin_records_conformance(fresh).await.unwrap_err();
    let text = error.to_string();
    for check in [
        "events_read_back_newest_first_per_org",
        "an_owner_link_opens_its_org_once",
        "concurrent_redemptions_open_once",
    ] {
        assert!(text.contains(check), "{check} passed: {text}");
    }
}
