//! The SAML settings of a deployment, as a file an operator writes: the SP's base URL
//! and key, and for each org its IdP (from metadata or by hand), options and attribute
//! mapping. [`SamlConfig::validate`] checks all of it against the core [`Policy`] and
//! lists every problem at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jit_provisioning::Policy;

use crate::attributes::AttributeMapping;
use crate::authn_request::RequestBinding;
use crate::cert::Certificate;
use crate::idp::{IdpOptions, TrustedIdp};
use crate::metadata::IdpMetadata;
use crate::provider::{OrgProvider, ServiceProvider};
use crate::signature::SignatureBackend;
use crate::sp_key::SpKey;
use crate::xml::Limits;

/// The SAML side of a deployment (JSON or TOML).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlConfig {
    /// This app as a service provider.
    pub sp: SpConfig,
    /// Each org's IdP, by org id.
    #[serde(default)]
    pub orgs: BTreeMap<String, OrgSamlConfig>,
    /// Limits on responses.
    #[serde(default)]
    pub limits: Limits,
    /// The signature backend.
    #[serde(default)]
    pub backend: SignatureBackend,
}

/// This app as a service provider.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpConfig {
    /// The URL under which each org's SAML endpoints live: the org `acme` gets the entity
    /// id `{base_url}/acme/saml/metadata` and the ACS `{base_url}/acme/saml/acs`.
    pub base_url: String,
    /// The SP's RSA private key (PEM), for signing AuthnRequests and decrypting
    /// encrypted assertions. Prefer `key_file`, which keeps the key out of the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pem: Option<String>,
    /// A file holding the key (PEM), relative to the config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// The certificate published in the SP metadata (PEM), inline or as a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_pem: Option<String>,
    /// A file holding the certificate (PEM), relative to the config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_file: Option<PathBuf>,
}

/// One org's IdP and how to talk to it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSamlConfig {
    /// Where the IdP's entity id, SSO URLs and certificates come from.
    pub idp: IdpSource,
    /// Checks relaxed or tightened for this IdP.
    #[serde(default)]
    pub options: IdpOptions,
    /// How the IdP's attributes become an assertion.
    #[serde(default)]
    pub attributes: AttributeMapping,
    /// How AuthnRequests travel.
    #[serde(default)]
    pub binding: RequestBinding,
    /// Sign AuthnRequests (needs the SP key). Default: when the IdP's metadata asks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_requests: Option<bool>,
    /// Overrides the SP entity id derived from `sp.base_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_entity_id: Option<String>,
    /// Overrides the ACS URL derived from `sp.base_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acs_url: Option<String>,
}

/// The IdP: its metadata (inline or as a file), or its values by hand. Values given by
/// hand next to metadata override it (a pinned certificate, say).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpSource {
    /// The metadata XML, as downloaded from the IdP's admin console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    /// A file holding the metadata XML, relative to the config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_file: Option<PathBuf>,
    /// The IdP's entity id (the `Issuer` of its responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// The IdP's SSO URL for the chosen binding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_url: Option<String>,
    /// The IdP's signing certificates, PEM or bare base64.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<String>,
}

/// One thing wrong with a [`SamlConfig`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SamlConfigProblem {
    /// `sp.base_url` is not an absolute http(s) URL.
    #[error(
        "`sp.base_url` must be an absolute http:// or https:// URL without a query, not `{0}`"
    )]
    BadBaseUrl(String),
    /// The SP key or certificate cannot be read.
    #[error("{0}")]
    SpKey(String),
    /// An org has a portal in the policy but no SAML settings.
    #[error("org `{0}` has an SSO portal but no SAML settings")]
    MissingOrg(String),
    /// SAML settings for an org the policy does not know, or that has no portal.
    #[error("org `{0}` has SAML settings but no SSO portal in the policy")]
    OrgWithoutPortal(String),
    /// The IdP's entity id differs from the policy's `idp` for the org.
    #[error("org `{org}`: the SAML IdP is `{saml}` but the policy's `idp` is `{policy}`; they must be the same entity id")]
    EntityIdMismatch {
        /// The org.
        org: String,
        /// The entity id in the SAML settings.
        saml: String,
        /// The entity id in the policy.
        policy: String,
    },
    /// The IdP's settings are incomplete or unreadable.
    #[error("org `{org}`: {problem}")]
    Idp {
        /// The org.
        org: String,
        /// What is wrong.
        problem: String,
    },
}

/// Every problem found in a [`SamlConfig`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the SAML config has {} problem(s):{}", .problems.len(), list(.problems))]
pub struct SamlConfigError {
    /// The problems, in the order found.
    pub problems: Vec<SamlConfigProblem>,
}

fn list(problems: &[SamlConfigProblem]) -> String {
    problems
        .iter()
        .map(|problem| format!("\n  - {problem}"))
        .collect()
}

impl SamlConfig {
    /// Reads a config file (`.toml`, or JSON otherwise) and validates it against
    /// `policy`, resolving `*_file` paths against the file's folder.
    pub fn load(path: &Path, policy: &Policy) -> Result<ServiceProvider, SamlConfigError> {
        let one = |problem: String| SamlConfigError {
            problems: vec![SamlConfigProblem::Idp {
                org: String::new(),
                problem,
            }],
        };
        let text = std::fs::read_to_string(path)
            .map_err(|error| one(format!("cannot read {}: {error}", path.display())))?;
        let config: SamlConfig = if path.extension().is_some_and(|ext| ext == "toml") {
            toml::from_str(&text).map_err(|error| one(format!("{}: {error}", path.display())))?
        } else {
            serde_json::from_str(&text)
                .map_err(|error| one(format!("{}: {error}", path.display())))?
        };
        config.validate(policy, path.parent())
    }

    /// Checks the config against `policy` and prepares every org's IdP. Relative
    /// `*_file` paths are resolved against `base_dir` (the current folder without one).
    pub fn validate(
        &self,
        policy: &Policy,
        base_dir: Option<&Path>,
    ) -> Result<ServiceProvider, SamlConfigError> {
        let mut problems = Vec::new();
        let base_url = self.sp.base_url.trim_end_matches('/');
        if !(base_url.starts_with("https://") || base_url.starts_with("http://"))
            || base_url.contains(['?', '#', ' '])
            || base_url.split("://").nth(1).is_none_or(str::is_empty)
        {
            problems.push(SamlConfigProblem::BadBaseUrl(self.sp.base_url.clone()));
        }
        let read = |inline: &Option<String>,
                    file: &Option<PathBuf>|
         -> Result<Option<String>, String> {
            match (inline, file) {
                (Some(_), Some(_)) => Err("give the value inline or as a file, not both".into()),
                (Some(text), None) => Ok(Some(text.clone())),
                (None, Some(file)) => {
                    let path = base_dir.map_or_else(|| file.clone(), |dir| dir.join(file));
                    std::fs::read_to_string(&path)
                        .map(Some)
                        .map_err(|error| format!("cannot read {}: {error}", path.display()))
                }
                (None, None) => Ok(None),
            }
        };
        let key = match (
            read(&self.sp.key_pem, &self.sp.key_file),
            read(&self.sp.certificate_pem, &self.sp.certificate_file),
        ) {
            (Ok(Some(key)), Ok(certificate)) => match SpKey::from_pem(&key, certificate.as_deref())
            {
                Ok(key) => Some(key),
                Err(error) => {
                    problems.push(SamlConfigProblem::SpKey(error.to_string()));
                    None
                }
            },
            (Ok(None), Ok(Some(_))) => {
                problems.push(SamlConfigProblem::SpKey(
                    "an SP certificate is given without its key".into(),
                ));
                None
            }
            (Ok(None), Ok(None)) => None,
            (Err(error), _) | (_, Err(error)) => {
                problems.push(SamlConfigProblem::SpKey(format!("the SP key: {error}")));
                None
            }
        };

        let mut portals: Vec<(&str, &str)> = policy
            .orgs()
            .filter_map(|(id, org)| org.portal().map(|portal| (id, portal.idp())))
            .collect();
        portals.sort_unstable();
        for (org, _) in &portals {
            if !self.orgs.contains_key(*org) {
                problems.push(SamlConfigProblem::MissingOrg((*org).to_owned()));
            }
        }
        let mut orgs = std::collections::HashMap::new();
        for (org, settings) in &self.orgs {
            let Some(policy_idp) = portals
                .iter()
                .find(|(id, _)| id == org)
                .map(|(_, idp)| *idp)
            else {
                problems.push(SamlConfigProblem::OrgWithoutPortal(org.clone()));
                continue;
            };
            let idp_problem = |problem: String| SamlConfigProblem::Idp {
                org: org.clone(),
                problem,
            };
            let metadata = match read(&settings.idp.metadata, &settings.idp.metadata_file) {
                Ok(Some(text)) => {
                    match IdpMetadata::parse(
                        &text,
                        settings.idp.entity_id.as_deref().or(Some(policy_idp)),
                    ) {
                        Ok(metadata) => Some(metadata),
                        Err(error) => {
                            problems.push(idp_problem(error.to_string()));
                            continue;
                        }
                    }
                }
                Ok(None) => None,
                Err(error) => {
                    problems.push(idp_problem(format!("the IdP metadata: {error}")));
                    continue;
                }
            };
            let entity_id = settings
                .idp
                .entity_id
                .clone()
                .or_else(|| metadata.as_ref().map(|m| m.entity_id.clone()));
            let Some(entity_id) = entity_id else {
                problems.push(idp_problem(
                    "the IdP has no entity id: give `idp.metadata` or `idp.entity_id`".into(),
                ));
                continue;
            };
            if entity_id != policy_idp {
                problems.push(SamlConfigProblem::EntityIdMismatch {
                    org: org.clone(),
                    saml: entity_id.clone(),
                    policy: policy_idp.to_owned(),
                });
            }
            let mut certificates = Vec::new();
            for text in &settings.idp.certificates {
                match Certificate::from_pem_or_base64(text) {
                    Ok(found) => certificates.extend(found),
                    Err(error) => {
                        problems.push(idp_problem(format!("an IdP certificate: {error}")))
                    }
                }
            }
            if certificates.is_empty() {
                if let Some(metadata) = &metadata {
                    certificates.clone_from(&metadata.signing_certificates);
                }
            }
            let (metadata_redirect, metadata_post) = metadata
                .as_ref()
                .map(|m| (m.sso_redirect_url.clone(), m.sso_post_url.clone()))
                .unwrap_or_default();
            let sso_url = settings.idp.sso_url.clone().or(match settings.binding {
                RequestBinding::Redirect => metadata_redirect,
                RequestBinding::Post => metadata_post,
            });
            let Some(sso_url) = sso_url else {
                problems.push(idp_problem(format!(
                    "no SSO URL for the {:?} binding: give `idp.sso_url` or metadata that lists one",
                    settings.binding
                )));
                continue;
            };
            let sign_requests = settings
                .sign_requests
                .unwrap_or_else(|| metadata.as_ref().is_some_and(|m| m.wants_signed_requests));
            if sign_requests
                && key.is_none()
                && problems
                    .iter()
                    .all(|p| !matches!(p, SamlConfigProblem::SpKey(_)))
            {
                problems.push(idp_problem(
                    "AuthnRequests must be signed but the SP has no key (`sp.key_file`)".into(),
                ));
            }
            let idp = match TrustedIdp::new(entity_id, certificates, settings.options.clone()) {
                Ok(idp) => idp,
                Err(error) => {
                    problems.push(idp_problem(error.to_string()));
                    continue;
                }
            };
            let sp_entity_id = settings
                .sp_entity_id
                .clone()
                .unwrap_or_else(|| format!("{base_url}/{org}/saml/metadata"));
            let acs_url = settings
                .acs_url
                .clone()
                .unwrap_or_else(|| format!("{base_url}/{org}/saml/acs"));
            orgs.insert(
                org.clone(),
                OrgProvider {
                    sp_entity_id,
                    acs_url,
                    idp,
                    sso_url,
                    binding: settings.binding,
                    sign_requests,
                    mapping: settings.attributes.clone(),
                },
            );
        }
        if !problems.is_empty() {
            return Err(SamlConfigError { problems });
        }
        Ok(ServiceProvider::new(orgs, key, self.backend, self.limits))
    }
}
