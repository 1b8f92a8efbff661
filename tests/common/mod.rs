//! Shared fixtures for the integration tests.
#![allow(dead_code)] // each test crate uses its own subset
#![allow(clippy::unwrap_used)] // fixtures are constants; a typo should fail the test loudly

use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::{Assertion, Config, Policy, Request};

pub const IDP: &str = "https://idp.acme.example";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

pub fn policy() -> Policy {
    let config: Config = serde_json::from_str(
        r#"{"orgs": {
            "acme": {"jit": true, "idp": "https://idp.acme.example",
                     "provision": [{"org": "acme", "role": "member"},
                                   {"org": "acme-labs", "role": "contributor"}]},
            "acme-labs": {}
        }}"#,
    )
    .unwrap();
    config.validate().unwrap()
}

pub fn jane(subject: &str) -> Request {
    Request::Assertion({
        let mut built = Assertion::default();
        built.org = "acme".into();
        built.issuer = IDP.into();
        built.subject = subject.into();
        built.given_name = Some("Jane".into());
        built.family_name = Some("Doe".into());
        built.email = Some(format!("{subject}@acme.example"));
        built
    })
}

/// Implements `AccountStore` for a test's wrapper around a store in its `inner` field by
/// forwarding every call: for wrappers that break another trait's contract and leave the
/// accounts alone.
#[macro_export]
macro_rules! forward_account_store {
    ($wrapper:ty) => {
        #[async_trait::async_trait]
        impl jit_provisioning::AccountStore for $wrapper {
            async fn account_by_identity(
                &self,
                identity: &jit_provisioning::Identity,
            ) -> Result<Option<jit_provisioning::AccountRecord>, jit_provisioning::StoreError> {
                self.inner.account_by_identity(identity).await
            }

            async fn accounts_by_email(
                &self,
                email: &str,
            ) -> Result<Vec<jit_provisioning::AccountRecord>, jit_provisioning::StoreError> {
                self.inner.accounts_by_email(email).await
            }

            async fn account_by_id(
                &self,
                id: &jit_provisioning::AccountId,
            ) -> Result<Option<jit_provisioning::AccountRecord>, jit_provisioning::StoreError> {
                self.inner.account_by_id(id).await
            }

            async fn taken_handles(
                &self,
                stems: &[String],
            ) -> Result<Vec<String>, jit_provisioning::StoreError> {
                self.inner.taken_handles(stems).await
            }

            async fn create_account(
                &self,
                account: &jit_provisioning::NewAccount,
            ) -> Result<jit_provisioning::AccountRecord, jit_provisioning::CreateError> {
                self.inner.create_account(account).await
            }

            async fn link_identity(
                &self,
                account: &jit_provisioning::AccountId,
                identity: &jit_provisioning::Identity,
            ) -> Result<(), jit_provisioning::LinkError> {
                self.inner.link_identity(account, identity).await
            }

            async fn raise_role(
                &self,
                account: &jit_provisioning::AccountId,
                grant: &jit_provisioning::Grant,
            ) -> Result<bool, jit_provisioning::StoreError> {
                self.inner.raise_role(account, grant).await
            }
        }
    };
}
