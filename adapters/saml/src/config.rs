//! The SAML settings of a deployment, as a file an operator writes: the SP's base URL
//! and key, and for each org its IdP (from metadata or by hand), options and attribute
//! mapping. [`SamlConfig::validate`] checks all of it against the core [`Policy`] and
//! lists every problem at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jit_provisioning::org::SamlSection;
use jit_provisioning::{Config, Policy};

use crate::attributes::AttributeMapping;
use crate::authn_request::RequestBinding;
use crate::idp::IdpOptions;
use crate::provider::ServiceProvider;
use crate::resolve::{org_slot, read_inline_or_file, IdpProblem};
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
    #[serde(default, skip_serializing_if = "is_default")]
    pub options: IdpOptions,
    /// How the IdP's attributes become an assertion.
    #[serde(default, skip_serializing_if = "is_default")]
    pub attributes: AttributeMapping,
    /// How AuthnRequests travel.
    #[serde(default, skip_serializing_if = "is_default")]
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

/// Defaults are left out when settings are written (an org record holds what was chosen).
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// The IdP: its metadata (inline, as a file or from a URL), or its values by hand.
/// Values given by hand next to metadata override it (a pinned certificate, say).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpSource {
    /// The metadata XML, as downloaded from the IdP's admin console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    /// A file holding the metadata XML, relative to the config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_file: Option<PathBuf>,
    /// A URL the metadata is fetched from, and fetched again when it expires or when
    /// the IdP seems to have rolled its key (see
    /// [`MetadataRefresh`](crate::MetadataRefresh)); needs a
    /// [`MetadataFetcher`](crate::MetadataFetcher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_url: Option<String>,
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

impl OrgSamlConfig {
    /// The settings an org record carries (the core's `saml` table), typed; a key
    /// this struct does not know, or a value of the wrong type, is the error. A trust
    /// staged under `pending` ([`PendingTrust`](crate::PendingTrust)) is not in use, and
    /// not part of these settings.
    ///
    /// ```
    /// use jit_provisioning::org::SamlSection;
    /// use jit_provisioning_saml::OrgSamlConfig;
    ///
    /// let section: SamlSection = serde_json::from_str(
    ///     r#"{"idp": {"metadata_url": "https://idp.example/metadata"}, "binding": "post"}"#,
    /// ).unwrap();
    /// let settings = OrgSamlConfig::from_section(&section).unwrap();
    /// assert_eq!(settings.idp.metadata_url.as_deref(), Some("https://idp.example/metadata"));
    /// assert_eq!(settings.to_section(), section);
    /// ```
    pub fn from_section(section: &SamlSection) -> Result<OrgSamlConfig, String> {
        let mut settings = section.as_json().clone();
        settings.remove(SamlSection::PENDING);
        serde_json::from_value(serde_json::Value::Object(settings))
            .map_err(|error| format!("the SAML settings: {error}"))
    }

    /// The settings as an org record carries them.
    pub fn to_section(&self) -> SamlSection {
        // Every field serializes to JSON (no map has non-string keys), so the value is
        // always an object.
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(settings)) => SamlSection::from_json(settings),
            _ => SamlSection::default(),
        }
    }
}

/// The SP's own settings, read: its base URL without a trailing `/`, and its key.
#[derive(Debug)]
pub(crate) struct SpParts {
    pub(crate) base_url: String,
    pub(crate) key: Option<SpKey>,
}

impl SpConfig {
    /// An SP at `base_url` with no key: it neither signs AuthnRequests nor decrypts
    /// assertions (see [`SpConfig::key_file`]).
    pub fn new(base_url: impl Into<String>) -> Self {
        SpConfig {
            base_url: base_url.into(),
            key_pem: None,
            key_file: None,
            certificate_pem: None,
            certificate_file: None,
        }
    }

    /// The base URL checked and the key read (files against `base_dir`), with every
    /// problem.
    pub(crate) fn load(&self, base_dir: Option<&Path>) -> (SpParts, Vec<SamlConfigProblem>) {
        let mut problems = Vec::new();
        let base_url = self.base_url.trim_end_matches('/');
        if !(base_url.starts_with("https://") || base_url.starts_with("http://"))
            || base_url.contains(['?', '#', ' '])
            || base_url.split("://").nth(1).is_none_or(str::is_empty)
        {
            problems.push(SamlConfigProblem::BadBaseUrl(self.base_url.clone()));
        }
        let read = |inline: &Option<String>, file: &Option<PathBuf>| {
            read_inline_or_file(inline.as_deref(), file.as_deref(), base_dir)
        };
        let key = match (
            read(&self.key_pem, &self.key_file),
            read(&self.certificate_pem, &self.certificate_file),
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
        (
            SpParts {
                base_url: base_url.to_owned(),
                key,
            },
            problems,
        )
    }
}

impl SamlConfig {
    /// Reads a config file (`.toml`, or JSON otherwise) and validates it against
    /// `policy`, resolving `*_file` paths against the file's folder.
    pub fn load(path: &Path, policy: &Policy) -> Result<ServiceProvider, SamlConfigError> {
        let config = SamlConfig::read(path)?;
        config.validate(policy, path.parent())
    }

    /// Reads a config file (`.toml`, or JSON otherwise) without checking it.
    pub fn read(path: &Path) -> Result<SamlConfig, SamlConfigError> {
        let one = |problem: String| SamlConfigError {
            problems: vec![SamlConfigProblem::Idp {
                org: String::new(),
                problem,
            }],
        };
        let text = std::fs::read_to_string(path)
            .map_err(|error| one(format!("cannot read {}: {error}", path.display())))?;
        if path.extension().is_some_and(|ext| ext == "toml") {
            toml::from_str(&text).map_err(|error| one(format!("{}: {error}", path.display())))
        } else {
            serde_json::from_str(&text).map_err(|error| one(format!("{}: {error}", path.display())))
        }
    }

    /// Checks the config against `policy` and prepares every org's IdP. Relative
    /// `*_file` paths are resolved against `base_dir` (the current folder without one).
    ///
    /// An org whose metadata comes from `idp.metadata_url` is checked as far as can be
    /// without its metadata, which is fetched when the org is first used (give the
    /// service provider a fetcher: [`ServiceProvider::with_metadata_fetcher`]).
    pub fn validate(
        &self,
        policy: &Policy,
        base_dir: Option<&Path>,
    ) -> Result<ServiceProvider, SamlConfigError> {
        let (sp, mut problems) = self.sp.load(base_dir);
        // A key that could not be read is reported once, not again by each org that
        // signs its requests.
        let has_key = problems
            .iter()
            .all(|p| !matches!(p, SamlConfigProblem::SpKey(_)))
            .then_some(sp.key.is_some());

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
            match org_slot(
                org,
                0,
                settings,
                Some(policy_idp),
                base_dir,
                &sp.base_url,
                has_key,
            ) {
                Ok(slot) => {
                    orgs.insert(org.clone(), slot);
                }
                Err(found) => problems.extend(found.into_iter().map(|problem| match problem {
                    IdpProblem::EntityIdMismatch { saml, expected } => {
                        SamlConfigProblem::EntityIdMismatch {
                            org: org.clone(),
                            saml,
                            policy: expected,
                        }
                    }
                    IdpProblem::Other(problem) => SamlConfigProblem::Idp {
                        org: org.clone(),
                        problem,
                    },
                })),
            }
        }
        if !problems.is_empty() {
            return Err(SamlConfigError { problems });
        }
        Ok(ServiceProvider::fixed(
            orgs,
            sp.base_url,
            sp.key,
            self.backend,
            self.limits,
        ))
    }

    /// The one-file form of a deployment that kept its SAML settings apart: `config`
    /// (the core's) with each org's settings of this file under its `saml`, ready for
    /// [`Config::load`] and an [`OrgRegistry`](jit_provisioning::org::OrgRegistry)'s
    /// import.
    ///
    /// A `metadata_file` is read (against `base_dir`, this file's folder) and inlined
    /// as `metadata`: an org's record then holds its whole trust, the same on every app
    /// server and in its history, where a path would depend on the files beside each
    /// server. The SP's own settings (`sp`, `limits`, `backend`) are not an org's and
    /// stay with the app ([`ServiceProvider::from_registry`]).
    ///
    /// Refused, with every problem: an org of this file that `config` does not have,
    /// an org that already has `saml` settings, a metadata file that cannot be read.
    pub fn merge_into(
        &self,
        config: &Config,
        base_dir: Option<&Path>,
    ) -> Result<Config, SamlConfigError> {
        let mut merged = config.clone();
        let mut problems = Vec::new();
        for (id, settings) in &self.orgs {
            let Some(org) = merged.orgs.get_mut(id) else {
                problems.push(SamlConfigProblem::OrgWithoutPortal(id.clone()));
                continue;
            };
            if org.saml.is_some() {
                problems.push(SamlConfigProblem::Idp {
                    org: id.clone(),
                    problem: "the config already has `saml` settings for this org".into(),
                });
                continue;
            }
            let mut settings = settings.clone();
            if let Some(file) = settings.idp.metadata_file.take() {
                match read_inline_or_file(None, Some(&file), base_dir) {
                    Ok(text) => settings.idp.metadata = text,
                    Err(problem) => {
                        problems.push(SamlConfigProblem::Idp {
                            org: id.clone(),
                            problem: format!("the IdP metadata: {problem}"),
                        });
                        continue;
                    }
                }
            }
            org.saml = Some(settings.to_section());
        }
        if !problems.is_empty() {
            return Err(SamlConfigError { problems });
        }
        Ok(merged)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::attributes::{Preset, SubjectSource};

    /// Every field set, every `Option` `Some`: the literals make a field added to any of
    /// these structs a compile error here until the test sets it.
    fn fully_populated() -> OrgSamlConfig {
        OrgSamlConfig {
            idp: IdpSource {
                metadata: Some("<md:EntityDescriptor/>".into()),
                metadata_file: Some(PathBuf::from("okta.xml")),
                metadata_url: Some("https://acme.okta.example/metadata".into()),
                entity_id: Some("http://www.okta.com/exk1".into()),
                sso_url: Some("https://acme.okta.example/sso".into()),
                certificates: vec!["MIIB".into()],
            },
            options: IdpOptions {
                allow_sha1: true,
                require_signed_response: true,
                require_signed_assertion: true,
                allow_idp_initiated: true,
                skew_secs: 60,
                insecure_allow_rsa1_5_key_transport: true,
            },
            attributes: AttributeMapping {
                preset: Preset::Okta,
                given_name: Some(vec!["firstName".into()]),
                family_name: Some(vec!["lastName".into()]),
                email: Some(vec!["email".into()]),
                display_name: Some(vec!["name".into()]),
                groups: Some(vec!["groups".into()]),
                subject: SubjectSource::Attribute("uid".into()),
                group_separator: Some(','),
            },
            binding: RequestBinding::Post,
            sign_requests: Some(true),
            sp_entity_id: Some("https://app.example/acme/saml/metadata".into()),
            acs_url: Some("https://app.example/acme/saml/acs".into()),
        }
    }

    /// Every object key of `value`, as dotted paths.
    fn keys(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        if let serde_json::Value::Object(map) = value {
            for (key, inner) in map {
                assert!(!inner.is_null(), "{prefix}{key} is null");
                let path = format!("{prefix}{key}");
                keys(inner, &format!("{path}."), out);
                out.push(path);
            }
        }
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "jit-saml-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn every_key_of_the_org_settings_is_one_the_core_loader_knows() {
        let settings = fully_populated();
        let json = serde_json::to_value(&settings).unwrap();
        let mut found = Vec::new();
        keys(&json, "", &mut found);
        // Every key made it into the serialized form (nothing skipped as empty).
        // 7 top-level keys, 6 under `idp`, 6 under `options`, 8 under `attributes` and
        // `attributes.subject.attribute`.
        assert_eq!(found.len(), 7 + 6 + 6 + 8 + 1, "{found:?}");

        let org = serde_json::json!({"jit": true, "idp": "http://www.okta.com/exk1", "saml": json});
        let config = serde_json::json!({"orgs": {"x": org}});
        let dir = scratch_dir("keys");
        let toml_path = dir.join("orgs.toml");
        std::fs::write(&toml_path, toml::to_string(&config).unwrap()).unwrap();
        let json_path = dir.join("orgs.json");
        std::fs::write(&json_path, config.to_string()).unwrap();
        for path in [&toml_path, &json_path] {
            let loaded = jit_provisioning::Config::load(path)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            let section = loaded.orgs["x"].saml.as_ref().unwrap();
            assert_eq!(OrgSamlConfig::from_section(section).unwrap(), settings);
            assert_eq!(section, &settings.to_section());
        }

        // And the loader does look at these keys: a misspelt one is refused.
        let mut misspelt = config.clone();
        misspelt["orgs"]["x"]["saml"]["idp"]["metadata_urll"] = "https://x".into();
        std::fs::write(&json_path, misspelt.to_string()).unwrap();
        let error = jit_provisioning::Config::load(&json_path)
            .unwrap_err()
            .to_string();
        assert!(error.contains("did you mean `metadata_url`"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sections_round_trip_and_refuse_unknown_keys() {
        let settings = fully_populated();
        assert_eq!(
            OrgSamlConfig::from_section(&settings.to_section()).unwrap(),
            settings
        );
        let mut unknown = settings.to_section().as_json().clone();
        unknown.insert("bindings".into(), "post".into());
        let error = OrgSamlConfig::from_section(&SamlSection::from_json(unknown)).unwrap_err();
        assert!(error.contains("unknown field `bindings`"), "{error}");
        let error = OrgSamlConfig::from_section(&SamlSection::default()).unwrap_err();
        assert!(error.contains("missing field `idp`"), "{error}");
    }
}
