//! One org as a directory keeps it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::OrgConfig;

/// One org as an [`OrgDirectory`](super::OrgDirectory) keeps it: everything about its SSO
/// (the [`OrgConfig`], its `saml` settings and `state` included), and who wrote which
/// version of it when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrgRecord {
    /// The org's id, as in its URLs (`/{org}/login`).
    pub id: String,
    /// The org's SSO: JIT, the IdP's trust, grants, groups, domains, state.
    pub config: OrgConfig,
    /// 1 for the first write, one more for each write after: what an update names to be
    /// refused rather than overwrite a change it has not seen.
    pub version: u64,
    /// When this version was written.
    pub updated_at: DateTime<Utc>,
    /// Who wrote it, as the caller named them (`support:jane`, `scim`, `import`).
    pub updated_by: String,
}

impl OrgRecord {
    /// A record of `id` at `version`, written by `updated_by` at `updated_at`.
    pub fn new(
        id: impl Into<String>,
        config: OrgConfig,
        version: u64,
        updated_at: DateTime<Utc>,
        updated_by: impl Into<String>,
    ) -> Self {
        OrgRecord {
            id: id.into(),
            config,
            version,
            updated_at,
            updated_by: updated_by.into(),
        }
    }
}
