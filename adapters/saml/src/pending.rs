//! An IdP trust that waits for its test: staged by an org's admin under the org record's
//! `saml.pending`, tried by a test sign-in, and made the trust in use only after a test
//! passed with exactly it.

use chrono::{DateTime, Utc};
use jit_provisioning::org::SamlSection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::config::{IdpSource, OrgSamlConfig};

/// An IdP trust staged and not in use yet.
///
/// A change to an org's IdP trust (its metadata, metadata URL, certificates, entity id or
/// SSO URL) is kept here, in the org record's `saml.pending`, while the trust in use
/// (`saml.idp`) goes on serving sign-ins. A test sign-in tries it; one that passes is
/// recorded in [`PendingTrust::passed`] with the trust's
/// [fingerprint](PendingTrust::fingerprint), and only a pending trust whose recorded pass
/// names its own fingerprint may be activated ([`PendingTrust::is_tested`]). Staging
/// another trust replaces this one, pass and all.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use jit_provisioning::org::SamlSection;
/// use jit_provisioning_saml::{IdpSource, PendingTrust, TrialPass};
///
/// let at = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
/// let mut idp = IdpSource::default();
/// idp.metadata_url = Some("https://idp.example/metadata".into());
/// let mut pending = PendingTrust::new(idp, "https://idp.example", "https://idp.example/metadata", "jane", at, 2);
/// assert!(!pending.is_tested());
///
/// pending.passed = Some(TrialPass::new(pending.fingerprint(), "https://idp.example", "00u1", "jane", at));
/// assert!(pending.is_tested());
///
/// // The section keeps it beside the trust in use; reading it back gives the same.
/// let section = pending.staged_in(None);
/// assert_eq!(PendingTrust::from_section(&section).unwrap(), Some(pending));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PendingTrust {
    /// The IdP, as `saml.idp` will hold it once the trust is activated.
    pub idp: IdpSource,
    /// The IdP's entity id, as read when the trust was staged.
    pub entity_id: String,
    /// Where it came from: `pasted`, `uploaded`, or the URL it was fetched from.
    pub source: String,
    /// Who staged it.
    pub staged_by: String,
    /// When.
    pub staged_at: DateTime<Utc>,
    /// The version of the org record that staged it: no two stagings of one org share
    /// it, so that no two share a fingerprint either, even of the same metadata.
    pub staged_version: u64,
    /// The test sign-in that passed with it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<TrialPass>,
}

/// A test sign-in that passed with a pending trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TrialPass {
    /// The [fingerprint](PendingTrust::fingerprint) of the trust the test passed with.
    pub fingerprint: String,
    /// The IdP's entity id, as the verified response named it.
    pub entity_id: String,
    /// The subject the IdP vouched for.
    pub subject: String,
    /// Who made the test.
    pub by: String,
    /// When the response was verified.
    pub at: DateTime<Utc>,
}

impl TrialPass {
    /// A pass with the trust of `fingerprint`, whose IdP `entity_id` vouched for
    /// `subject`, in a test `by` someone `at` a time.
    pub fn new(
        fingerprint: impl Into<String>,
        entity_id: impl Into<String>,
        subject: impl Into<String>,
        by: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        TrialPass {
            fingerprint: fingerprint.into(),
            entity_id: entity_id.into(),
            subject: subject.into(),
            by: by.into(),
            at,
        }
    }
}

/// What a fingerprint covers: the whole pending trust but its pass.
#[derive(Serialize)]
struct Fingerprinted<'a> {
    idp: &'a IdpSource,
    entity_id: &'a str,
    source: &'a str,
    staged_by: &'a str,
    staged_at: &'a DateTime<Utc>,
    staged_version: u64,
}

impl PendingTrust {
    /// `idp`, whose entity id is `entity_id`, staged from `source` by `staged_by` at
    /// `staged_at` in the org record's version `staged_version`, not tested yet.
    pub fn new(
        idp: IdpSource,
        entity_id: impl Into<String>,
        source: impl Into<String>,
        staged_by: impl Into<String>,
        staged_at: DateTime<Utc>,
        staged_version: u64,
    ) -> Self {
        PendingTrust {
            idp,
            entity_id: entity_id.into(),
            source: source.into(),
            staged_by: staged_by.into(),
            staged_at,
            staged_version,
            passed: None,
        }
    }

    /// The pending trust of `section`, if it has one; an error says what is wrong with
    /// one that does not read.
    pub fn from_section(section: &SamlSection) -> Result<Option<PendingTrust>, String> {
        let Some(pending) = section.as_json().get(SamlSection::PENDING) else {
            return Ok(None);
        };
        serde_json::from_value(pending.clone())
            .map(Some)
            .map_err(|error| format!("the pending IdP trust (`saml.pending`): {error}"))
    }

    /// SHA-256, in lower-case hex, of everything staged (the IdP, its entity id, where it
    /// came from, who staged it, when, and in which version of the org), not of the pass:
    /// two stagings of the same metadata are two trusts, and each needs its own passing
    /// test.
    pub fn fingerprint(&self) -> String {
        let covered = Fingerprinted {
            idp: &self.idp,
            entity_id: &self.entity_id,
            source: &self.source,
            staged_by: &self.staged_by,
            staged_at: &self.staged_at,
            staged_version: self.staged_version,
        };
        // Plain structs, strings and a timestamp always serialize.
        let bytes = serde_json::to_vec(&covered).unwrap_or_default();
        Sha256::digest(&bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Whether a test passed with exactly this trust: its pass names its fingerprint.
    pub fn is_tested(&self) -> bool {
        self.passed
            .as_ref()
            .is_some_and(|passed| passed.fingerprint == self.fingerprint())
    }

    /// `section` (or empty settings) with this trust pending, replacing any other.
    pub fn staged_in(&self, section: Option<&SamlSection>) -> SamlSection {
        let mut settings = section.map(|s| s.as_json().clone()).unwrap_or_default();
        settings.insert(SamlSection::PENDING.into(), self.to_json());
        SamlSection::from_json(settings)
    }

    /// `section` (or empty settings) with this trust in use and nothing pending: the
    /// settings once it is activated, and those a test sign-in tries.
    pub fn promoted(&self, section: Option<&SamlSection>) -> SamlSection {
        let mut settings = section.map(|s| s.as_json().clone()).unwrap_or_default();
        settings.remove(SamlSection::PENDING);
        settings.insert("idp".into(), to_json(&self.idp));
        SamlSection::from_json(settings)
    }

    /// The settings a test sign-in verifies with: those of `section`, this trust in use.
    pub fn settings_to_try(&self, section: Option<&SamlSection>) -> Result<OrgSamlConfig, String> {
        OrgSamlConfig::from_section(&self.promoted(section))
    }

    fn to_json(&self) -> Value {
        to_json(self)
    }
}

/// A value as JSON; the types here always serialize.
fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Object(Map::new()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeZone;

    use super::*;

    fn staged(version: u64) -> PendingTrust {
        let idp = IdpSource {
            metadata: Some("<md:EntityDescriptor/>".into()),
            ..IdpSource::default()
        };
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        PendingTrust::new(idp, "https://idp.example", "pasted", "jane", at, version)
    }

    #[test]
    fn a_pass_counts_only_for_the_trust_it_names() {
        let mut first = staged(2);
        first.passed = Some(TrialPass::new(
            first.fingerprint(),
            "https://idp.example",
            "00u1",
            "jane",
            first.staged_at,
        ));
        assert!(first.is_tested());
        // The same metadata staged again, by the same person at the same second, is
        // another trust: the old pass does not carry.
        let mut again = staged(3);
        again.passed.clone_from(&first.passed);
        assert_ne!(again.fingerprint(), first.fingerprint());
        assert!(!again.is_tested());
        // The pass is not part of the fingerprint.
        let mut untested = first.clone();
        untested.passed = None;
        assert_eq!(untested.fingerprint(), first.fingerprint());
    }

    #[test]
    fn staging_keeps_the_trust_in_use_and_promotion_replaces_it() {
        let section: SamlSection = serde_json::from_value(serde_json::json!({
            "idp": {"entity_id": "https://old.example", "sso_url": "https://old.example/sso", "certificates": ["MIIB"]},
            "attributes": {"preset": "okta"}
        }))
        .unwrap();
        let pending = staged(0);
        let staged_section = pending.staged_in(Some(&section));
        assert_eq!(
            staged_section.as_json().get("idp"),
            section.as_json().get("idp")
        );
        assert_eq!(
            PendingTrust::from_section(&staged_section).unwrap(),
            Some(pending.clone())
        );
        // The settings in use do not see the pending trust.
        let in_use = OrgSamlConfig::from_section(&staged_section).unwrap();
        assert_eq!(in_use.idp.entity_id.as_deref(), Some("https://old.example"));

        let promoted = pending.promoted(Some(&staged_section));
        assert!(promoted.pending().is_none());
        let settings = OrgSamlConfig::from_section(&promoted).unwrap();
        assert_eq!(settings.idp, pending.idp);
        assert_eq!(
            settings.attributes.preset,
            crate::attributes::Preset::Okta,
            "the rest of the settings stay"
        );
    }

    #[test]
    fn a_pending_trust_that_does_not_read_says_where() {
        let section: SamlSection =
            serde_json::from_value(serde_json::json!({"pending": {"idpp": {}}})).unwrap();
        let error = PendingTrust::from_section(&section).unwrap_err();
        assert!(error.contains("saml.pending"), "{error}");
    }
}
