//! The service provider: every org's SAML settings, verifying what its IdP posts and
//! sending people to it. It implements the core's [`SamlVerifier`].

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jit_provisioning::{
    Assertion, IdpError, IdpRedirect, IdpTrip, SamlAnswer, SamlPost, SamlVerifier,
    VerifiedAssertion,
};

use crate::attributes::AttributeMapping;
use crate::authn_request::{self, RequestBinding};
use crate::error::VerifyError;
use crate::idp::TrustedIdp;
use crate::metadata::sp_metadata_xml;
use crate::response::{self, Expected, InResponseTo, SignedAssertion, Verified, VerifyOptions};
use crate::signature::SignatureBackend;
use crate::sp_key::SpKey;
use crate::xml::Limits;

/// One org's SAML settings, validated.
#[derive(Debug, Clone)]
pub struct OrgProvider {
    pub(crate) sp_entity_id: String,
    pub(crate) acs_url: String,
    pub(crate) idp: TrustedIdp,
    pub(crate) sso_url: String,
    pub(crate) binding: RequestBinding,
    pub(crate) sign_requests: bool,
    pub(crate) mapping: AttributeMapping,
}

impl OrgProvider {
    /// The SP's entity id for this org: the audience its assertions must name.
    pub fn sp_entity_id(&self) -> &str {
        &self.sp_entity_id
    }

    /// The org's ACS URL.
    pub fn acs_url(&self) -> &str {
        &self.acs_url
    }

    /// The org's IdP.
    pub fn idp(&self) -> &TrustedIdp {
        &self.idp
    }

    /// The IdP's SSO URL for the configured binding.
    pub fn sso_url(&self) -> &str {
        &self.sso_url
    }

    /// The attribute mapping.
    pub fn mapping(&self) -> &AttributeMapping {
        &self.mapping
    }
}

/// Every org's SAML settings, built by [`SamlConfig::validate`](crate::SamlConfig::validate).
#[derive(Debug, Clone)]
pub struct ServiceProvider {
    orgs: HashMap<String, OrgProvider>,
    key: Option<SpKey>,
    backend: SignatureBackend,
    limits: Limits,
}

/// Why a post could not be verified for an org.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PostError {
    /// The org has no SAML settings.
    #[error("org `{0}` has no SAML settings")]
    UnknownOrg(String),
    /// The response was refused.
    #[error(transparent)]
    Refused(#[from] VerifyError),
}

impl ServiceProvider {
    pub(crate) fn new(
        orgs: HashMap<String, OrgProvider>,
        key: Option<SpKey>,
        backend: SignatureBackend,
        limits: Limits,
    ) -> Self {
        Self {
            orgs,
            key,
            backend,
            limits,
        }
    }

    /// One org's settings.
    pub fn org(&self, org: &str) -> Option<&OrgProvider> {
        self.orgs.get(org)
    }

    /// The org ids with SAML settings, sorted.
    pub fn org_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.orgs.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }

    /// Uses `backend` for signatures (benchmarks and backend comparisons).
    pub fn with_backend(mut self, backend: SignatureBackend) -> Self {
        self.backend = backend;
        self
    }

    /// The SP metadata XML for `org`: what its admin gives the IdP.
    pub fn metadata_xml(&self, org: &str) -> Option<String> {
        let settings = self.orgs.get(org)?;
        Some(sp_metadata_xml(
            &settings.sp_entity_id,
            &settings.acs_url,
            self.key.as_ref().and_then(SpKey::certificate),
            settings.sign_requests,
        ))
    }

    /// Verifies what `org`'s IdP posted, at `now`, and maps it into the core's answer.
    pub fn verify_post(
        &self,
        post: &SamlPost,
        now: DateTime<Utc>,
    ) -> Result<SamlAnswer, PostError> {
        let settings = self
            .orgs
            .get(&post.org)
            .ok_or_else(|| PostError::UnknownOrg(post.org.clone()))?;
        let options = VerifyOptions {
            backend: self.backend,
            limits: self.limits,
            decryption_key: self.key.as_ref(),
        };
        let xml = response::decode_post(&post.saml_response, self.limits)?;
        let expected = Expected {
            sp_entity_id: &settings.sp_entity_id,
            acs_url: &settings.acs_url,
            in_response_to: InResponseTo::OneOf(&post.request_ids),
        };
        let verified = response::verify(&xml, &settings.idp, &expected, now, &options)?;
        Ok(match verified {
            Verified::Status(status) => {
                let mut error = IdpError::new(post.org.clone(), status.status);
                error.sub_status = status.sub_status;
                SamlAnswer::Status(error)
            }
            Verified::Assertion(signed) => SamlAnswer::Assertion(VerifiedAssertion::new(
                to_assertion(&post.org, &signed, &settings.mapping)?,
                signed.id,
                signed.not_on_or_after,
            )),
        })
    }
}

/// The core's assertion from a signed one, through the org's attribute mapping.
pub fn to_assertion(
    org: &str,
    signed: &SignedAssertion,
    mapping: &AttributeMapping,
) -> Result<Assertion, VerifyError> {
    let person = mapping
        .map(signed.name_id.as_ref(), &signed.attributes)
        .map_err(|error| VerifyError::NoSubject(error.to_string()))?;
    let mut assertion = Assertion::new(org, signed.issuer.clone(), person.subject);
    assertion.given_name = person.given_name;
    assertion.family_name = person.family_name;
    assertion.email = person.email;
    assertion.groups = person.groups;
    assertion.groups_incomplete = person.groups_incomplete;
    assertion.authn_instant = signed.authn_instant;
    Ok(assertion)
}

#[async_trait]
impl SamlVerifier for ServiceProvider {
    async fn verify(
        &self,
        post: &SamlPost,
        idp: &str,
        now: DateTime<Utc>,
    ) -> Result<SamlAnswer, jit_provisioning::VerifyError> {
        if let Some(settings) = self.orgs.get(&post.org) {
            // Validation made them equal; a mismatch here is a config swapped at runtime.
            if settings.idp.entity_id() != idp {
                return Err(jit_provisioning::VerifyError::Backend(
                    format!(
                        "org `{}`: the SAML IdP is `{}` but the policy's is `{idp}`",
                        post.org,
                        settings.idp.entity_id()
                    )
                    .into(),
                ));
            }
        }
        self.verify_post(post, now).map_err(|error| match error {
            PostError::Refused(refused) => refused.into(),
            unknown @ PostError::UnknownOrg(_) => {
                jit_provisioning::VerifyError::Backend(Box::new(unknown))
            }
        })
    }

    async fn authn_request(
        &self,
        trip: &IdpTrip,
        now: DateTime<Utc>,
    ) -> Result<IdpRedirect, jit_provisioning::VerifyError> {
        let backend = |error: String| jit_provisioning::VerifyError::Backend(error.into());
        let settings = self
            .orgs
            .get(&trip.org)
            .ok_or_else(|| backend(format!("org `{}` has no SAML settings", trip.org)))?;
        let id = authn_request::new_request_id()
            .map_err(|error| backend(format!("no randomness for a request id: {error}")))?;
        let request = authn_request::Request {
            sp_entity_id: &settings.sp_entity_id,
            acs_url: &settings.acs_url,
            sso_url: &settings.sso_url,
            force_authn: trip.force_authn,
            relay_state: trip.relay_state.as_deref(),
            now,
        };
        let key = if settings.sign_requests {
            self.key.as_ref()
        } else {
            None
        };
        authn_request::build(&request, id, settings.binding, key)
            .map_err(|error| backend(format!("DEFLATE failed: {error}")))
    }
}
