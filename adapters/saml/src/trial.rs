//! Trying SAML settings that are not in use: the provider an org would have with them,
//! the values its IdP admin is given, and a verifier for a test sign-in that explains
//! every check it made.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jit_provisioning::{
    Assertion, IdpError, IdpRedirect, IdpTrip, SamlAnswer, SamlPost, SamlVerifier,
    VerifiedAssertion,
};

use crate::config::OrgSamlConfig;
use crate::error::VerifyError;
use crate::inspect::{inspect_unverified, Unverified};
use crate::metadata::sp_metadata_xml;
use crate::provider::{to_assertion, OrgProvider, ServiceProvider};
use crate::resolve::{parse_metadata, read_inline_or_file, resolve_idp, MetadataSource};
use crate::response::{
    self, Check, Expected, InResponseTo, SignedAssertion, StatusResponse, Verified,
};
use crate::slot::LoadError;
use crate::sp_key::SpKey;

/// What an org's IdP admin enters into the IdP: this app as a service provider for the
/// org.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpValues {
    /// The SP's entity id (the audience the IdP's assertions must name).
    pub entity_id: String,
    /// The assertion consumer service URL (where the IdP posts its responses).
    pub acs_url: String,
    /// Where the SP metadata is served (`{base_url}/{org}/saml/metadata`).
    pub metadata_url: String,
    /// The SP metadata XML itself.
    pub metadata_xml: String,
}

impl ServiceProvider {
    /// What `org`'s IdP admin enters into the IdP, for an org with `settings` (its
    /// record's, or none yet): the entity id and ACS URL the settings override, or
    /// those under the base URL; the metadata asks for signed AuthnRequests when the
    /// settings sign them (or, left to the IdP, when the org's provider as loaded does).
    /// Nothing is looked up or fetched: an org without SAML settings has these values
    /// too, to set its IdP up with.
    pub fn sp_values(&self, org: &str, settings: Option<&OrgSamlConfig>) -> SpValues {
        let loaded = self.org(org);
        let entity_id = settings
            .and_then(|settings| settings.sp_entity_id.clone())
            .unwrap_or_else(|| format!("{}/{org}/saml/metadata", self.base_url()));
        let acs_url = settings
            .and_then(|settings| settings.acs_url.clone())
            .unwrap_or_else(|| format!("{}/{org}/saml/acs", self.base_url()));
        let sign_requests = settings
            .and_then(|settings| settings.sign_requests)
            .or_else(|| loaded.as_ref().map(|provider| provider.sign_requests))
            .unwrap_or(false);
        let metadata_xml = sp_metadata_xml(
            &entity_id,
            &acs_url,
            self.key().and_then(SpKey::certificate),
            sign_requests,
        );
        SpValues {
            metadata_url: format!("{}/{org}/saml/metadata", self.base_url()),
            entity_id,
            acs_url,
            metadata_xml,
        }
    }

    /// The provider `org` would have with `settings` (not its record's), built now and
    /// kept nowhere: metadata inline, from a file (against the service provider's base
    /// folder) or by hand is read, from `idp.metadata_url` fetched with the service
    /// provider's [`MetadataFetcher`](crate::MetadataFetcher). `expected_entity_id`
    /// chooses the IdP in a document that lists several, and must be the one found.
    pub async fn provider_for(
        &self,
        org: &str,
        settings: &OrgSamlConfig,
        expected_entity_id: Option<&str>,
    ) -> Result<OrgProvider, LoadError> {
        let source = settings
            .idp
            .metadata_source()
            .map_err(|problem| LoadError::new(org, problem))?;
        let text = match source {
            MetadataSource::Url(url) => {
                let fetcher = self.metadata_fetcher().ok_or_else(|| {
                    LoadError::new(
                        org,
                        "`idp.metadata_url` is set but the service provider has no metadata fetcher (`ServiceProvider::with_metadata_fetcher`)",
                    )
                })?;
                let fetched = fetcher
                    .fetch(url)
                    .await
                    .map_err(|error| LoadError::new(org, format!("the IdP metadata: {error}")))?;
                Some(fetched.body)
            }
            _ => {
                return self
                    .provider_now(org, settings, expected_entity_id)?
                    .ok_or_else(|| LoadError::new(org, "the IdP metadata could not be read"))
            }
        };
        self.build(org, settings, text.as_deref(), expected_entity_id)
    }

    /// Like [`ServiceProvider::provider_for`], without fetching: `Ok(None)` when the
    /// metadata comes from a URL.
    pub fn provider_now(
        &self,
        org: &str,
        settings: &OrgSamlConfig,
        expected_entity_id: Option<&str>,
    ) -> Result<Option<OrgProvider>, LoadError> {
        let source = settings
            .idp
            .metadata_source()
            .map_err(|problem| LoadError::new(org, problem))?;
        let text = match source {
            MetadataSource::None => None,
            MetadataSource::Inline(text) => Some(text.to_owned()),
            MetadataSource::File(file) => read_inline_or_file(None, Some(file), self.base_dir())
                .map_err(|problem| LoadError::new(org, format!("the IdP metadata: {problem}")))?,
            MetadataSource::Url(_) => return Ok(None),
        };
        self.build(org, settings, text.as_deref(), expected_entity_id)
            .map(Some)
    }

    fn build(
        &self,
        org: &str,
        settings: &OrgSamlConfig,
        metadata: Option<&str>,
        expected_entity_id: Option<&str>,
    ) -> Result<OrgProvider, LoadError> {
        let metadata = metadata
            .map(|text| parse_metadata(settings, text, expected_entity_id))
            .transpose()
            .map_err(|problem| LoadError::new(org, problem.to_string()))?;
        let resolved = resolve_idp(
            settings,
            metadata.as_ref(),
            expected_entity_id,
            Some(self.key().is_some()),
        )
        .map_err(|problems| {
            LoadError::new(
                org,
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        Ok(OrgProvider::build(org, settings, resolved, self.base_url()))
    }

    /// A verifier for a test sign-in of `provider` (usually from
    /// [`ServiceProvider::provider_for`]): see [`TrialVerifier`].
    pub fn trial(&self, provider: OrgProvider) -> TrialVerifier<'_> {
        TrialVerifier {
            sp: self,
            provider,
            report: Mutex::new(TrialReport::default()),
        }
    }

    /// The AuthnRequest id a posted `SAMLResponse` claims to answer (its
    /// `InResponseTo`, or its first assertion's confirmation's), read WITHOUT verifying
    /// anything: only to tell which of a session's outstanding trips it comes back from.
    pub fn claimed_request_id(&self, saml_response: &str) -> Option<String> {
        let xml = response::decode_post(saml_response, self.limits()).ok()?;
        crate::inspect::claimed_in_response_to(&xml, self.limits())
    }
}

/// What a test sign-in found in the IdP's response, check by check.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TrialReport {
    /// Every check passed, in order, as `jit-provisioning saml verify --explain` lists
    /// them.
    pub checks: Vec<Check>,
    /// Why the response was refused, if it was: the check that failed
    /// ([`VerifyError::category`]) and what it found.
    pub failure: Option<VerifyError>,
    /// The assertion as verified (issuer, NameID, attributes), if it verified.
    pub signed: Option<SignedAssertion>,
    /// The IdP's answer, when it sent a status instead of an assertion.
    pub status: Option<StatusResponse>,
    /// The assertion as the org's attribute mapping reads it, if it verified and mapped.
    pub assertion: Option<Assertion>,
    /// What a response that did not verify claims (issuer, NameID, attributes),
    /// unverified, for a person to see what the IdP sent.
    pub unverified: Option<Unverified>,
}

impl TrialReport {
    /// Whether the response verified and carried an assertion that mapped.
    pub fn verified(&self) -> bool {
        self.failure.is_none() && self.assertion.is_some()
    }
}

/// A [`SamlVerifier`] for a test sign-in: it verifies with one provider given to it
/// (SAML settings that are not in use, or those that are) instead of the org's as its
/// record has them, sends the test's AuthnRequest to that provider's IdP, and keeps a
/// [`TrialReport`] of the last response it verified: every check, the attributes, and
/// what they map to. It is given to `Provisioner::test_login`, which decides and writes
/// nothing.
#[derive(Debug)]
pub struct TrialVerifier<'a> {
    sp: &'a ServiceProvider,
    provider: OrgProvider,
    report: Mutex<TrialReport>,
}

impl TrialVerifier<'_> {
    /// The provider it verifies with.
    pub fn provider(&self) -> &OrgProvider {
        &self.provider
    }

    /// What the last response verified showed (an empty report before any).
    pub fn report(&self) -> TrialReport {
        self.report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn check(
        &self,
        post: &SamlPost,
        now: DateTime<Utc>,
        report: &mut TrialReport,
    ) -> Result<SamlAnswer, VerifyError> {
        let limits = self.sp.limits();
        let xml = response::decode_post(&post.saml_response, limits)?;
        let expected = Expected::new(
            &self.provider.sp_entity_id,
            &self.provider.acs_url,
            InResponseTo::OneOf(&post.request_ids),
        );
        let (result, checks) = response::verify_explained(
            &xml,
            &self.provider.idp,
            &expected,
            now,
            &self.sp.verify_options(),
        );
        report.checks = checks;
        let verified = match result {
            Ok(verified) => verified,
            Err(error) => {
                report.unverified = inspect_unverified(&xml, limits).ok();
                return Err(error);
            }
        };
        match verified {
            Verified::Status(status) => {
                report.status = Some(status.clone());
                let mut error = IdpError::new(post.org.clone(), status.status);
                error.sub_status = status.sub_status;
                Ok(SamlAnswer::Status(error))
            }
            Verified::Assertion(signed) => {
                report.signed = Some(signed.clone());
                let assertion = to_assertion(&post.org, &signed, &self.provider.mapping)?;
                report.assertion = Some(assertion.clone());
                Ok(SamlAnswer::Assertion(VerifiedAssertion::new(
                    assertion,
                    signed.id,
                    signed.not_on_or_after,
                )))
            }
        }
    }
}

#[async_trait]
impl SamlVerifier for TrialVerifier<'_> {
    async fn verify(
        &self,
        post: &SamlPost,
        idp: &str,
        now: DateTime<Utc>,
    ) -> Result<SamlAnswer, jit_provisioning::VerifyError> {
        if self.provider.idp.entity_id() != idp {
            // The org tried and the provider were built from two different trusts.
            return Err(jit_provisioning::VerifyError::Backend(
                format!(
                    "the trust tried is for `{}` but the org tried names `{idp}`",
                    self.provider.idp.entity_id()
                )
                .into(),
            ));
        }
        let mut report = TrialReport::default();
        let answer = self.check(post, now, &mut report);
        if let Err(error) = &answer {
            report.failure = Some(error.clone());
        }
        *self.report.lock().unwrap_or_else(PoisonError::into_inner) = report;
        answer.map_err(Into::into)
    }

    async fn authn_request(
        &self,
        trip: &IdpTrip,
        now: DateTime<Utc>,
    ) -> Result<IdpRedirect, jit_provisioning::VerifyError> {
        self.sp.authn_request_with(&self.provider, trip, now)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::config::{IdpSource, SpConfig};

    #[test]
    fn sp_values_come_from_the_base_url_or_the_settings() {
        let registry = std::sync::Arc::new(
            jit_provisioning::org::OrgRegistry::new(
                std::sync::Arc::new(jit_provisioning::org::MemoryDirectory::new()),
                &jit_provisioning::Config::default(),
            )
            .unwrap(),
        );
        let sp =
            ServiceProvider::from_registry(registry, &SpConfig::new("https://app.example/"), None)
                .unwrap();
        let values = sp.sp_values("acme", None);
        assert_eq!(values.entity_id, "https://app.example/acme/saml/metadata");
        assert_eq!(values.acs_url, "https://app.example/acme/saml/acs");
        assert_eq!(
            values.metadata_url,
            "https://app.example/acme/saml/metadata"
        );
        assert!(values
            .metadata_xml
            .contains(r#"entityID="https://app.example/acme/saml/metadata""#));

        let settings = OrgSamlConfig {
            idp: IdpSource::default(),
            options: Default::default(),
            attributes: Default::default(),
            binding: Default::default(),
            sign_requests: None,
            sp_entity_id: Some("urn:acme:sp".into()),
            acs_url: None,
        };
        let values = sp.sp_values("acme", Some(&settings));
        assert_eq!(values.entity_id, "urn:acme:sp");
        assert_eq!(
            values.metadata_url,
            "https://app.example/acme/saml/metadata"
        );
    }
}
