//! The in-memory store meets the whole storage contract.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use jit_provisioning::{testing, MemoryStore};

#[tokio::test]
async fn memory_store_meets_the_storage_contract() {
    if let Err(error) = testing::conformance(|| async { MemoryStore::new() }).await {
        panic!("{error}");
    }
}

#[tokio::test]
async fn the_suite_catches_a_store_that_breaks_the_contract() {
    use async_trait::async_trait;
    use jit_provisioning::{
        AccountId, AccountRecord, AccountStore, CreateError, Grant, Identity, LinkError,
        NewAccount, StoreError,
    };

    /// Compares handles case-sensitively, forgets emails and reports raises it never
    /// made: three contract breaches.
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
        async fn accounts_by_email(&self, _: &str) -> Result<Vec<AccountRecord>, StoreError> {
            Ok(Vec::new())
        }
        async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
            self.0.account_by_id(id).await
        }
        async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
            self.0.taken_handles(stems).await
        }
        async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
            let mut renamed = account.clone();
            // Pretends `Jane-Doe` differs from `jane-doe` by storing a distinct key.
            if renamed.handle.chars().any(|c| c.is_ascii_uppercase()) {
                renamed.handle = format!("{}~", renamed.handle);
            }
            self.0.create_account(&renamed).await
        }
        async fn link_identity(&self, a: &AccountId, i: &Identity) -> Result<(), LinkError> {
            self.0.link_identity(a, i).await
        }
        async fn raise_role(&self, _: &AccountId, _: &Grant) -> Result<bool, StoreError> {
            Ok(true)
        }
    }

    let error = testing::conformance(|| async { Sloppy::default() })
        .await
        .unwrap_err();
    let checks: Vec<&str> = error.violations.iter().map(|v| v.check).collect();
    assert!(
        checks.contains(&"handles_are_unique_case_insensitively"),
        "{error}"
    );
    assert!(
        checks.contains(&"emails_match_case_insensitively"),
        "{error}"
    );
    assert!(checks.contains(&"roles_only_rise"), "{error}");
}

#[tokio::test]
async fn the_suite_catches_a_store_that_loses_a_family_name() {
    use async_trait::async_trait;
    use jit_provisioning::{
        AccountId, AccountRecord, AccountStore, CreateError, Grant, Identity, LinkError,
        NewAccount, StoreError,
    };

    /// Keeps everything but the family name, as a schema that forgot the column would.
    #[derive(Default)]
    struct Forgetful(MemoryStore);

    #[async_trait]
    impl AccountStore for Forgetful {
        async fn account_by_identity(
            &self,
            identity: &Identity,
        ) -> Result<Option<AccountRecord>, StoreError> {
            self.0.account_by_identity(identity).await
        }
        async fn accounts_by_email(&self, e: &str) -> Result<Vec<AccountRecord>, StoreError> {
            self.0.accounts_by_email(e).await
        }
        async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
            self.0.account_by_id(id).await
        }
        async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
            self.0.taken_handles(stems).await
        }
        async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
            let mut forgotten = account.clone();
            forgotten.family_name = None;
            self.0.create_account(&forgotten).await
        }
        async fn link_identity(&self, a: &AccountId, i: &Identity) -> Result<(), LinkError> {
            self.0.link_identity(a, i).await
        }
        async fn raise_role(&self, a: &AccountId, g: &Grant) -> Result<bool, StoreError> {
            self.0.raise_role(a, g).await
        }
    }

    let error = testing::conformance(|| async { Forgetful::default() })
        .await
        .unwrap_err();
    let checks: Vec<&str> = error.violations.iter().map(|v| v.check).collect();
    assert_eq!(checks, ["names_are_kept_as_given"], "{error}");
}

/// An adapter written before stores picked the free suffix themselves: it creates the
/// proposed handle or reports `HandleTaken`. The provisioner still gets every login of a
/// burst through, by deciding again; the suite names what the store does not do.
#[tokio::test]
async fn a_store_that_only_reports_taken_handles_still_provisions_but_fails_the_suite() {
    use async_trait::async_trait;
    use jit_provisioning::testing::{Burst, FIRST_LOGIN_CALLS};
    use jit_provisioning::{
        AccountId, AccountRecord, AccountStore, CreateError, Grant, Identity, LinkError,
        NewAccount, StoreError,
    };

    #[derive(Default)]
    struct FixedHandles(MemoryStore);

    #[async_trait]
    impl AccountStore for FixedHandles {
        async fn account_by_identity(
            &self,
            identity: &Identity,
        ) -> Result<Option<AccountRecord>, StoreError> {
            self.0.account_by_identity(identity).await
        }
        async fn accounts_by_email(&self, e: &str) -> Result<Vec<AccountRecord>, StoreError> {
            self.0.accounts_by_email(e).await
        }
        async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
            self.0.account_by_id(id).await
        }
        async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
            self.0.taken_handles(stems).await
        }
        async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
            let mut fixed = account.clone();
            fixed.handle_choice = None;
            self.0.create_account(&fixed).await
        }
        async fn link_identity(&self, a: &AccountId, i: &Identity) -> Result<(), LinkError> {
            self.0.link_identity(a, i).await
        }
        async fn raise_role(&self, a: &AccountId, g: &Grant) -> Result<bool, StoreError> {
            self.0.raise_role(a, g).await
        }
    }

    let report = Burst::new(50)
        .run(&[FixedHandles::default()])
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(report.handles.len(), 50);
    assert!(report.max_attempts > 1, "{report:?}");
    assert!(report.max_calls > FIRST_LOGIN_CALLS, "{report:?}");

    let error = testing::conformance(|| async { FixedHandles::default() })
        .await
        .unwrap_err();
    let checks: Vec<&str> = error.violations.iter().map(|v| v.check).collect();
    assert_eq!(
        checks,
        [
            "a_taken_handle_gives_way_to_the_lowest_free_one",
            "concurrent_first_logins"
        ],
        "{error}"
    );
}

#[tokio::test]
async fn memory_replay_guard_meets_the_replay_contract() {
    if let Err(error) = jit_provisioning::testing::replay_conformance(|| async {
        jit_provisioning::MemoryReplayGuard::new()
    })
    .await
    {
        panic!("{error}");
    }
}
