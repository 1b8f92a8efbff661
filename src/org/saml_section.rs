//! An org's SAML settings as the org record carries them: kept, stored and compared here,
//! read by the SAML adapter.
//!
//! The core does not verify SAML, so it does not give these settings types: the SAML
//! adapter (`jit-provisioning-saml`'s `OrgSamlConfig`) does, and checks them through an
//! [`SsoCheck`](crate::org::SsoCheck). What the core knows is their keys, so that a typo
//! in them is caught by the same "did you mean" as every other key of a config.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `saml` table of an org: the IdP's trust (metadata inline, from a file or a URL, or
/// an entity id and certificates), the checks relaxed or tightened for it, and how its
/// attributes are read.
///
/// It may also hold, under `pending` ([`SamlSection::PENDING`]), an IdP trust that an
/// admin staged and that is not in use yet: it waits for a test sign-in that passes with
/// it and for an admin to activate it (the SAML adapter's `PendingTrust` says its shape;
/// the axum adapter's SSO set-up page writes it). Kept in the org's record, it survives
/// restarts and every app server sees it; nothing that verifies sign-ins reads it.
///
/// ```
/// use jit_provisioning::Config;
///
/// let config: Config = toml::from_str(r#"
///     [orgs.acme]
///     jit = true
///     [orgs.acme.saml]
///     attributes = { preset = "okta" }
///     idp = { metadata_url = "https://acme.okta.example/app/exk1/sso/saml/metadata" }
/// "#).unwrap();
/// let saml = config.orgs["acme"].saml.as_ref().unwrap();
/// assert_eq!(saml.metadata_url(), Some("https://acme.okta.example/app/exk1/sso/saml/metadata"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SamlSection(Map<String, Value>);

impl SamlSection {
    /// The key of the IdP trust that waits for its test sign-in: see above.
    pub const PENDING: &'static str = "pending";

    /// The settings from a JSON object (the SAML adapter's `OrgSamlConfig`, serialized).
    pub fn from_json(settings: Map<String, Value>) -> Self {
        SamlSection(settings)
    }

    /// The IdP trust staged under `pending`, waiting for its test sign-in, as JSON.
    pub fn pending(&self) -> Option<&Map<String, Value>> {
        self.0.get(Self::PENDING)?.as_object()
    }

    /// Whether the settings hold a pending trust and no trust in use (no `idp`): an org
    /// whose first IdP trust waits for its test. Such settings serve no sign-in, so the
    /// registry does not ask the SSO check about them and the org has no entity id yet.
    ///
    /// ```
    /// use jit_provisioning::org::SamlSection;
    ///
    /// let first: SamlSection = serde_json::from_str(r#"{"pending": {"idp": {"metadata_url": "https://idp.example/md"}}}"#).unwrap();
    /// assert!(first.awaits_first_trust());
    /// let rotation: SamlSection = serde_json::from_str(r#"{"idp": {"entity_id": "https://idp.example"}, "pending": {}}"#).unwrap();
    /// assert!(!rotation.awaits_first_trust());
    /// ```
    pub fn awaits_first_trust(&self) -> bool {
        !self.0.contains_key("idp") && self.0.contains_key(Self::PENDING)
    }

    /// The settings as a JSON object, for the SAML adapter to deserialize.
    pub fn as_json(&self) -> &Map<String, Value> {
        &self.0
    }

    /// `idp.entity_id`, when the settings give one by hand.
    pub fn entity_id(&self) -> Option<&str> {
        self.idp_key("entity_id")
    }

    /// `idp.metadata_url`, when the IdP's metadata is fetched from a URL.
    pub fn metadata_url(&self) -> Option<&str> {
        self.idp_key("metadata_url")
    }

    /// Whether the settings name a source of the IdP's metadata (inline, a file or a
    /// URL), from which the SAML adapter reads the entity id.
    pub fn has_metadata(&self) -> bool {
        ["metadata", "metadata_file", "metadata_url"]
            .into_iter()
            .any(|key| self.idp_key(key).is_some())
    }

    fn idp_key(&self, key: &str) -> Option<&str> {
        self.0.get("idp")?.get(key)?.as_str()
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for SamlSection {
    fn arbitrary(input: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        // Only the keys the core reads: the values' types are the SAML adapter's.
        let mut idp = Map::new();
        if bool::arbitrary(input)? {
            idp.insert("entity_id".into(), Value::String(String::arbitrary(input)?));
        }
        if bool::arbitrary(input)? {
            idp.insert(
                "metadata_url".into(),
                Value::String(String::arbitrary(input)?),
            );
        }
        let mut settings = Map::new();
        settings.insert("idp".into(), Value::Object(idp));
        Ok(SamlSection(settings))
    }
}
