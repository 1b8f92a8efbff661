//! The SAML adapter's say on an org's SAML settings, asked by the core's config checks.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::SamlSection;

/// Checks an org's [`SamlSection`]: reads and parses its metadata (inline, from a file or
/// from a URL), its certificates and its options, and says what it found.
///
/// The SAML adapter implements it (`jit-provisioning-saml`'s `SamlSettingsCheck`);
/// [`Config::check`](crate::Config::check) and an
/// [`OrgRegistry`](crate::org::OrgRegistry) ask it before they accept a config or an
/// update, so that a wrong certificate is refused when it is written, not when the first
/// person signs in.
#[async_trait::async_trait]
pub trait SsoCheck: Send + Sync + fmt::Debug {
    /// What `org`'s settings say, or every problem with them (one sentence each).
    /// Relative `*_file` paths are resolved against `base_dir`.
    async fn check(
        &self,
        org: &str,
        saml: &SamlSection,
        base_dir: Option<&Path>,
    ) -> Result<SsoFacts, Vec<String>>;
}

/// What an [`SsoCheck`] found in an org's SAML settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SsoFacts {
    /// The IdP's entity id: `idp.entity_id`, or the metadata's.
    pub entity_id: String,
    /// The IdP's signing certificates.
    pub certificates: Vec<CertificateFacts>,
}

impl SsoFacts {
    /// Facts about an IdP with `entity_id` and no certificates yet.
    pub fn new(entity_id: impl Into<String>) -> Self {
        SsoFacts {
            entity_id: entity_id.into(),
            certificates: Vec::new(),
        }
    }

    /// The same facts with `certificates`.
    pub fn with_certificates(mut self, certificates: Vec<CertificateFacts>) -> Self {
        self.certificates = certificates;
        self
    }

    /// The certificates that expire before `now + within` (or have already).
    pub fn expiring(
        &self,
        now: DateTime<Utc>,
        within: chrono::Duration,
    ) -> impl Iterator<Item = &CertificateFacts> {
        let horizon = now.checked_add_signed(within).unwrap_or(now);
        self.certificates
            .iter()
            .filter(move |certificate| certificate.not_after < horizon)
    }
}

/// One IdP signing certificate, as far as a config check reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateFacts {
    /// The certificate's subject, as text (`CN=…`).
    pub subject: String,
    /// The end of its validity.
    pub not_after: DateTime<Utc>,
}

impl CertificateFacts {
    /// A certificate of `subject` valid until `not_after`.
    pub fn new(subject: impl Into<String>, not_after: DateTime<Utc>) -> Self {
        CertificateFacts {
            subject: subject.into(),
            not_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn expiring_names_the_certificates_that_end_within_the_window() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let days = |n| now + chrono::Duration::days(n);
        let facts = SsoFacts::new("https://idp").with_certificates(vec![
            CertificateFacts::new("CN=old", days(-1)),
            CertificateFacts::new("CN=soon", days(29)),
            CertificateFacts::new("CN=later", days(31)),
        ]);
        let soon: Vec<&str> = facts
            .expiring(now, chrono::Duration::days(30))
            .map(|certificate| certificate.subject.as_str())
            .collect();
        assert_eq!(soon, ["CN=old", "CN=soon"]);
    }
}
