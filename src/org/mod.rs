//! Orgs as records: kept in a directory, changed while the app runs, read through a cache.
//!
//! An org's SSO is one [`OrgConfig`](crate::OrgConfig): JIT on or off, the IdP's trust
//! (its [`SamlSection`]), grants, groups, domains, and its [`OrgState`]. A file
//! ([`Config::load`](crate::Config::load)) can hold many; an [`OrgDirectory`] keeps them
//! as [`OrgRecord`]s with a version and a history; an [`OrgRegistry`] is what a running
//! app reads and changes them through.
//!
//! | for | items |
//! | --- | --- |
//! | reading and changing orgs | [`OrgRegistry`] (and [`OrgRegistry::seed`]: a file as the source, or the first run's), [`LiveOrg`], [`OrgUpdate`], [`UpdateError`], [`ImportReport`], [`valid_org_id`] |
//! | what is kept | [`OrgRecord`], [`OrgState`], [`SamlSection`], [`AuditEntry`], [`FieldChange`], [`changes_between`] |
//! | writing a directory | [`OrgDirectory`], [`MemoryDirectory`], [`OrgWrite`], [`WriteError`], [`Changes`]; the `testing` feature's `conformance::org_directory` |
//! | the SAML adapter's part | [`SsoCheck`], [`SsoFacts`], [`CertificateFacts`] |

mod audit;
mod directory;
mod memory;
mod record;
mod registry;
mod saml_section;
mod sso_check;
mod state;

pub use audit::{changes_between, AuditEntry, FieldChange};
pub use directory::{Changes, OrgDirectory, OrgWrite, WriteError, MAX_LISTED_CHANGES};
pub use memory::MemoryDirectory;
pub use record::OrgRecord;
pub use registry::{
    valid_org_id, ImportReport, LiveOrg, OrgRegistry, OrgUpdate, UpdateError,
    DEFAULT_REFRESH_EVERY, MAX_ORG_ID_LEN,
};
pub use saml_section::SamlSection;
pub use sso_check::{CertificateFacts, SsoCheck, SsoFacts};
pub use state::OrgState;
