//! From one org's SAML settings (and its IdP's metadata, once read) to an IdP to verify
//! against: the one piece of logic behind [`SamlConfig::validate`](crate::SamlConfig::validate),
//! [`SamlSettingsCheck`](crate::SamlSettingsCheck) and the orgs a
//! [`ServiceProvider`](crate::ServiceProvider) serves from an org registry.

use std::path::{Path, PathBuf};

use crate::authn_request::RequestBinding;
use crate::cert::Certificate;
use crate::config::{IdpSource, OrgSamlConfig};
use crate::idp::TrustedIdp;
use crate::metadata::IdpMetadata;
use crate::provider::OrgProvider;
use crate::slot::OrgSlot;

/// Where an org's IdP metadata comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetadataSource<'a> {
    /// No metadata: the IdP is given by hand.
    None,
    /// The XML inline.
    Inline(&'a str),
    /// A file, relative to the config's folder.
    File(&'a Path),
    /// A URL, fetched and fetched again.
    Url(&'a str),
}

impl IdpSource {
    /// The one source of metadata the settings name; more than one is a problem.
    pub(crate) fn metadata_source(&self) -> Result<MetadataSource<'_>, String> {
        match (
            self.metadata.as_deref(),
            self.metadata_file.as_deref(),
            self.metadata_url.as_deref(),
        ) {
            (None, None, None) => Ok(MetadataSource::None),
            (Some(text), None, None) => Ok(MetadataSource::Inline(text)),
            (None, Some(file), None) => Ok(MetadataSource::File(file)),
            (None, None, Some(url)) => Ok(MetadataSource::Url(url)),
            _ => Err(
                "the IdP metadata: give one of `idp.metadata`, `idp.metadata_file` and `idp.metadata_url`, not several"
                    .into(),
            ),
        }
    }
}

/// A value given inline or as a file (resolved against `base_dir`), or neither.
pub(crate) fn read_inline_or_file(
    inline: Option<&str>,
    file: Option<&Path>,
    base_dir: Option<&Path>,
) -> Result<Option<String>, String> {
    match (inline, file) {
        (Some(_), Some(_)) => Err("give the value inline or as a file, not both".into()),
        (Some(text), None) => Ok(Some(text.to_owned())),
        (None, Some(file)) => {
            let path = resolve_path(file, base_dir);
            std::fs::read_to_string(&path)
                .map(Some)
                .map_err(|error| format!("cannot read {}: {error}", path.display()))
        }
        (None, None) => Ok(None),
    }
}

/// `file` against `base_dir` (the current folder without one).
pub(crate) fn resolve_path(file: &Path, base_dir: Option<&Path>) -> PathBuf {
    base_dir.map_or_else(|| file.to_path_buf(), |dir| dir.join(file))
}

/// One thing wrong with an org's IdP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdpProblem {
    /// The IdP's entity id is not the one the org's policy names.
    EntityIdMismatch {
        /// In the SAML settings (or their metadata).
        saml: String,
        /// In the policy.
        expected: String,
    },
    /// Anything else, as a sentence.
    Other(String),
}

impl std::fmt::Display for IdpProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdpProblem::EntityIdMismatch { saml, expected } => write!(
                f,
                "the SAML IdP is `{saml}` but the policy's `idp` is `{expected}`; they must be the same entity id"
            ),
            IdpProblem::Other(problem) => f.write_str(problem),
        }
    }
}

/// Parses the org's metadata, choosing the IdP by `idp.entity_id` or else by
/// `expected_entity_id` (the policy's) in a document that lists several.
pub(crate) fn parse_metadata(
    settings: &OrgSamlConfig,
    text: &str,
    expected_entity_id: Option<&str>,
) -> Result<IdpMetadata, IdpProblem> {
    IdpMetadata::parse(
        text,
        settings.idp.entity_id.as_deref().or(expected_entity_id),
    )
    .map_err(|error| IdpProblem::Other(error.to_string()))
}

/// An org's IdP, ready to verify against.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedIdp {
    pub(crate) idp: TrustedIdp,
    pub(crate) sso_url: String,
    pub(crate) sign_requests: bool,
}

/// The org's IdP from its settings and `metadata`: values given by hand override the
/// metadata's. `has_key`: whether the SP has a key (`None`: not known here, so a
/// request signature without a key is not reported). Every problem is listed, up to
/// the first that leaves nothing further to check.
pub(crate) fn resolve_idp(
    settings: &OrgSamlConfig,
    metadata: Option<&IdpMetadata>,
    expected_entity_id: Option<&str>,
    has_key: Option<bool>,
) -> Result<ResolvedIdp, Vec<IdpProblem>> {
    let mut problems = Vec::new();
    let other = |problem: String| IdpProblem::Other(problem);
    let entity_id = settings
        .idp
        .entity_id
        .clone()
        .or_else(|| metadata.map(|m| m.entity_id.clone()));
    let Some(entity_id) = entity_id else {
        return Err(vec![other(
            "the IdP has no entity id: give `idp.metadata` or `idp.entity_id`".into(),
        )]);
    };
    if let Some(expected) = expected_entity_id.filter(|expected| *expected != entity_id) {
        problems.push(IdpProblem::EntityIdMismatch {
            saml: entity_id.clone(),
            expected: expected.to_owned(),
        });
    }
    let mut certificates = Vec::new();
    for text in &settings.idp.certificates {
        match Certificate::from_pem_or_base64(text) {
            Ok(found) => certificates.extend(found),
            Err(error) => problems.push(other(format!("an IdP certificate: {error}"))),
        }
    }
    if certificates.is_empty() {
        if let Some(metadata) = metadata {
            certificates.clone_from(&metadata.signing_certificates);
        }
    }
    let (metadata_redirect, metadata_post) = metadata
        .map(|m| (m.sso_redirect_url.clone(), m.sso_post_url.clone()))
        .unwrap_or_default();
    let sso_url = settings.idp.sso_url.clone().or(match settings.binding {
        RequestBinding::Redirect => metadata_redirect,
        RequestBinding::Post => metadata_post,
    });
    let Some(sso_url) = sso_url else {
        problems.push(other(format!(
            "no SSO URL for the {:?} binding: give `idp.sso_url` or metadata that lists one",
            settings.binding
        )));
        return Err(problems);
    };
    let sign_requests = settings
        .sign_requests
        .unwrap_or_else(|| metadata.is_some_and(|m| m.wants_signed_requests));
    if sign_requests && has_key == Some(false) {
        problems.push(other(
            "AuthnRequests must be signed but the SP has no key (`sp.key_file`)".into(),
        ));
    }
    let idp = match TrustedIdp::new(entity_id, certificates, settings.options.clone()) {
        Ok(idp) => idp,
        Err(error) => {
            problems.push(other(error.to_string()));
            return Err(problems);
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(ResolvedIdp {
        idp,
        sso_url,
        sign_requests,
    })
}

impl OrgProvider {
    /// The org's provider: its IdP, and its SP entity id and ACS URL under `base_url`
    /// unless the settings override them.
    pub(crate) fn build(
        org: &str,
        settings: &OrgSamlConfig,
        resolved: ResolvedIdp,
        base_url: &str,
    ) -> Self {
        OrgProvider {
            sp_entity_id: settings
                .sp_entity_id
                .clone()
                .unwrap_or_else(|| format!("{base_url}/{org}/saml/metadata")),
            acs_url: settings
                .acs_url
                .clone()
                .unwrap_or_else(|| format!("{base_url}/{org}/saml/acs")),
            idp: resolved.idp,
            sso_url: resolved.sso_url,
            binding: settings.binding,
            sign_requests: resolved.sign_requests,
            mapping: settings.attributes.clone(),
        }
    }
}

/// One org as the service provider serves it: built now from metadata inline, from a
/// file (against `base_dir`) or given by hand, or, from a URL, set up to be fetched
/// when first needed. `expected_entity_id` is the policy's (or the org record's) `idp`.
pub(crate) fn org_slot(
    org: &str,
    version: u64,
    settings: &OrgSamlConfig,
    expected_entity_id: Option<&str>,
    base_dir: Option<&Path>,
    base_url: &str,
    has_key: Option<bool>,
) -> Result<OrgSlot, Vec<IdpProblem>> {
    let source = settings
        .idp
        .metadata_source()
        .map_err(|problem| vec![IdpProblem::Other(problem)])?;
    if let MetadataSource::Url(url) = source {
        if let (Some(given), Some(expected)) = (&settings.idp.entity_id, expected_entity_id) {
            if given != expected {
                return Err(vec![IdpProblem::EntityIdMismatch {
                    saml: given.clone(),
                    expected: expected.to_owned(),
                }]);
            }
        }
        return Ok(OrgSlot::from_url(
            org,
            version,
            url,
            settings.clone(),
            expected_entity_id.map(str::to_owned),
        ));
    }
    let text = read_inline_or_file(
        settings.idp.metadata.as_deref(),
        settings.idp.metadata_file.as_deref(),
        base_dir,
    )
    .map_err(|error| vec![IdpProblem::Other(format!("the IdP metadata: {error}"))])?;
    let metadata = text
        .map(|text| parse_metadata(settings, &text, expected_entity_id))
        .transpose()
        .map_err(|problem| vec![problem])?;
    let resolved = resolve_idp(settings, metadata.as_ref(), expected_entity_id, has_key)?;
    Ok(OrgSlot::ready(
        org,
        version,
        OrgProvider::build(org, settings, resolved, base_url),
    ))
}
