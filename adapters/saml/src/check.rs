//! The core's [`SsoCheck`] for an org's SAML settings: what the core asks before it
//! accepts a config file or an org's change.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use jit_provisioning::org::{CertificateFacts, SamlSection, SsoCheck, SsoFacts};

use crate::config::OrgSamlConfig;
use crate::fetch::MetadataFetcher;
use crate::pending::PendingTrust;
use crate::resolve::{parse_metadata, read_inline_or_file, resolve_idp, MetadataSource};

/// Checks an org's SAML settings as the core's config checks and org registry ask:
/// the settings parsed (every key known, every value of its type), the metadata read
/// (inline, from `idp.metadata_file` against the base folder, or from
/// `idp.metadata_url` with the fetcher) and parsed, the certificates parsed, and the IdP
/// resolved as the service provider will resolve it. The answer is the IdP's entity id
/// and its signing certificates (subject and end of validity), or every problem. A trust
/// staged under `saml.pending` ([`PendingTrust`]) must read, and is not fetched:
/// the test sign-in that tries it does.
///
/// ```
/// use std::sync::Arc;
/// use jit_provisioning::org::{MemoryDirectory, OrgRegistry};
/// use jit_provisioning::Config;
/// use jit_provisioning_saml::SamlSettingsCheck;
///
/// let registry = OrgRegistry::new(Arc::new(MemoryDirectory::new()), &Config::default())
///     .unwrap()
///     .with_sso_check(Arc::new(SamlSettingsCheck::new()));
/// # let _ = registry;
/// ```
#[derive(Debug, Clone, Default)]
pub struct SamlSettingsCheck {
    fetcher: Option<Arc<dyn MetadataFetcher>>,
}

impl SamlSettingsCheck {
    /// A check that reads metadata inline and from files; a `metadata_url` is a
    /// problem until a fetcher is given.
    pub fn new() -> Self {
        SamlSettingsCheck::default()
    }

    /// Fetches `idp.metadata_url` with `fetcher`.
    pub fn with_fetcher(mut self, fetcher: Arc<dyn MetadataFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// The check's answer for one org's settings (what [`SsoCheck::check`] returns).
    pub async fn facts(
        &self,
        saml: &SamlSection,
        base_dir: Option<&Path>,
    ) -> Result<SsoFacts, Vec<String>> {
        let settings = OrgSamlConfig::from_section(saml).map_err(|problem| vec![problem])?;
        // A trust staged for its test is not in use, but it must read: it is what an
        // admin will activate.
        PendingTrust::from_section(saml).map_err(|problem| vec![problem])?;
        let source = settings
            .idp
            .metadata_source()
            .map_err(|problem| vec![problem])?;
        let mut fetched_at = None;
        let text = match source {
            MetadataSource::None => None,
            MetadataSource::Inline(text) => Some(text.to_owned()),
            MetadataSource::File(file) => read_inline_or_file(None, Some(file), base_dir)
                .map_err(|problem| vec![format!("the IdP metadata: {problem}")])?,
            MetadataSource::Url(url) => {
                let fetcher = self.fetcher.as_ref().ok_or_else(|| {
                    vec![format!(
                        "`idp.metadata_url` is set but this check fetches no URL; give it a fetcher (`SamlSettingsCheck::with_fetcher`) or give the metadata inline"
                    )]
                })?;
                let fetched = fetcher
                    .fetch(url)
                    .await
                    .map_err(|error| vec![format!("the IdP metadata: {error}")])?;
                fetched_at = Some(fetched.fetched_at);
                Some(fetched.body)
            }
        };
        let metadata = text
            .map(|text| parse_metadata(&settings, &text, None))
            .transpose()
            .map_err(|problem| vec![problem.to_string()])?;
        let mut problems = Vec::new();
        if let (Some(until), Some(at)) = (
            metadata.as_ref().and_then(|metadata| metadata.valid_until),
            fetched_at,
        ) {
            if until <= at {
                problems.push(format!(
                    "the IdP metadata expired at {until} (its validUntil); have the IdP publish fresh metadata"
                ));
            }
        }
        let resolved = resolve_idp(&settings, metadata.as_ref(), None, None).map_err(|found| {
            problems
                .iter()
                .cloned()
                .chain(found.iter().map(ToString::to_string))
                .collect::<Vec<_>>()
        })?;
        if !problems.is_empty() {
            return Err(problems);
        }
        let certificates = resolved
            .idp
            .certificates()
            .iter()
            .filter_map(|certificate| {
                certificate
                    .not_after()
                    .map(|not_after| CertificateFacts::new(certificate.subject(), not_after))
            })
            .collect();
        Ok(SsoFacts::new(resolved.idp.entity_id()).with_certificates(certificates))
    }
}

#[async_trait]
impl SsoCheck for SamlSettingsCheck {
    async fn check(
        &self,
        _org: &str,
        saml: &SamlSection,
        base_dir: Option<&Path>,
    ) -> Result<SsoFacts, Vec<String>> {
        self.facts(saml, base_dir).await
    }
}
