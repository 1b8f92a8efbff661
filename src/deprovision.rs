//! The IdP's word that someone may no longer sign in: identities its SCIM client
//! deprovisioned at an org, which a later SAML sign-in must not bring back.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::Identity;
use crate::store::StoreError;

/// How the IdP ended a person's access to an org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeprovisionedBy {
    /// The SCIM user was set `active: false`.
    Deactivated,
    /// The SCIM user was deleted.
    Deleted,
}

impl fmt::Display for DeprovisionedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeprovisionedBy::Deactivated => "deactivated",
            DeprovisionedBy::Deleted => "deleted",
        })
    }
}

/// An identity's access to an org, ended by the org's IdP and not restored since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Deprovisioned {
    /// When.
    pub at: DateTime<Utc>,
    /// How.
    pub by: DeprovisionedBy,
}

impl Deprovisioned {
    /// Deprovisioned `by` at `at`.
    pub fn new(at: DateTime<Utc>, by: DeprovisionedBy) -> Self {
        Self { at, by }
    }
}

/// Where a [`Provisioner`](crate::Provisioner) learns whether the org's IdP deprovisioned
/// an identity (rule [`DeprovisionedIdentity`](crate::Rule::DeprovisionedIdentity)): the
/// SCIM side of the store. Until SCIM reactivates or re-creates the person, every SAML
/// sign-in of that identity at that org is refused, whatever JIT would do.
#[async_trait]
pub trait DeprovisionedIdentities: Send + Sync {
    /// Whether, when and how `org`'s IdP deprovisioned `identity` there; `None` when it
    /// did not, or restored it since.
    async fn deprovisioned(
        &self,
        org: &str,
        identity: &Identity,
    ) -> Result<Option<Deprovisioned>, StoreError>;
}
