//! Loading and scoring `../shared/corpus/saml-verdicts`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use jit_provisioning_saml::{
    verify, Category, Certificate, Expected, IdpOptions, InResponseTo, SignatureBackend,
    SignedAssertion, TrustedIdp, Verified, VerifyError, VerifyOptions,
};
use serde::Deserialize;

/// The corpus folder: `shared/corpus/saml-verdicts` beside the checkout (the first
/// ancestor of this crate that has it). Tests that read it are `#[ignore]`d and fail
/// loudly without it.
pub fn root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .map(|dir| dir.join("shared/corpus/saml-verdicts"))
        .find(|root| root.join("manifest.json").is_file())
        .unwrap_or_else(|| {
            panic!(
                "no shared/corpus/saml-verdicts beside any folder above {}",
                manifest_dir.display()
            )
        })
}

#[derive(Debug, Deserialize)]
struct Manifest {
    entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
pub struct Entry {
    pub id: String,
    pub file: String,
    pub idp: Idp,
    pub sp: Sp,
    pub policy: Policy,
    pub now: DateTime<Utc>,
    pub expect: Expect,
    #[serde(default, deserialize_with = "present")]
    pub disputed: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(!value.is_null())
}

#[derive(Debug, Deserialize)]
pub struct Idp {
    pub entity_id: String,
    pub cert: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Sp {
    pub entity_id: String,
    pub acs_url: String,
    pub request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Policy {
    pub want_response_signed: bool,
    pub want_assertion_signed: bool,
}

#[derive(Debug, Deserialize)]
pub struct Expect {
    pub verdict: String,
    pub category: Option<String>,
    #[serde(default)]
    pub also: Vec<String>,
    pub nameid: Option<String>,
    pub issuer: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub alternatives: Vec<Alternative>,
}

#[derive(Debug, Deserialize)]
pub struct Alternative {
    pub verdict: String,
    pub category: Option<String>,
}

/// What this crate made of an entry.
#[derive(Debug)]
pub enum Outcome {
    Accept(Verified),
    Reject(VerifyError),
}

pub fn load() -> Vec<Entry> {
    let text = std::fs::read_to_string(root().join("manifest.json")).unwrap();
    serde_json::from_str::<Manifest>(&text).unwrap().entries
}

/// The corpus's category names for this crate's categories.
fn corpus_name(category: Category) -> &'static str {
    match category {
        Category::SignatureWrapping => "xsw",
        other => other.as_str(),
    }
}

impl Entry {
    pub fn xml(&self) -> String {
        std::fs::read_to_string(root().join(&self.file)).unwrap()
    }

    pub fn trusted_idp(&self) -> TrustedIdp {
        let certificates = match &self.idp.cert {
            Some(path) => Certificate::from_pem_or_base64(
                &std::fs::read_to_string(root().join(path)).unwrap(),
            )
            .unwrap(),
            None => Vec::new(),
        };
        let mut options = IdpOptions::default();
        // Most of the corpus is RSA-SHA1: the suites' own settings accept it.
        options.allow_sha1 = true;
        options.require_signed_response = self.policy.want_response_signed;
        options.require_signed_assertion = self.policy.want_assertion_signed;
        TrustedIdp::new(&self.idp.entity_id, certificates, options).unwrap()
    }

    pub fn verify(&self, backend: SignatureBackend) -> Outcome {
        let request_ids: Vec<String> = self.sp.request_id.iter().cloned().collect();
        let expected = Expected::new(
            &self.sp.entity_id,
            &self.sp.acs_url,
            if request_ids.is_empty() {
                InResponseTo::Unchecked
            } else {
                InResponseTo::OneOf(&request_ids)
            },
        );
        let mut options = VerifyOptions::default();
        options.backend = backend;
        match verify(
            &self.xml(),
            &self.trusted_idp(),
            &expected,
            self.now,
            &options,
        ) {
            Ok(verified) => Outcome::Accept(verified),
            Err(error) => Outcome::Reject(error),
        }
    }

    /// Whether `outcome` is the suite's verdict, scored as the corpus README says.
    pub fn scores(&self, outcome: &Outcome) -> bool {
        match (self.expect.verdict.as_str(), outcome) {
            ("accept", Outcome::Accept(Verified::Assertion(_))) => true,
            ("reject", Outcome::Accept(Verified::Status(_))) => {
                self.expect.category.as_deref() == Some("status_error")
            }
            ("reject", Outcome::Reject(error)) => {
                let ours = corpus_name(error.category());
                self.expect.category.as_deref() == Some(ours)
                    || self.expect.also.iter().any(|also| also == ours)
            }
            (_, Outcome::Reject(error)) => self.expect.alternatives.iter().any(|alternative| {
                alternative.verdict == "reject"
                    && alternative.category.as_deref() == Some(corpus_name(error.category()))
            }),
            _ => false,
        }
    }

    pub fn check_content(&self, assertion: &SignedAssertion) {
        if let Some(name_id) = &self.expect.nameid {
            assert_eq!(
                assertion.name_id.as_ref().map(|n| n.value.as_str()),
                Some(name_id.as_str()),
                "{}: NameID",
                self.id
            );
        }
        if let Some(issuer) = &self.expect.issuer {
            assert_eq!(&assertion.issuer, issuer, "{}: issuer", self.id);
        }
        for (name, values) in &self.expect.attributes {
            let ours: Vec<&str> = assertion
                .attributes
                .iter()
                .filter(|attribute| &attribute.name == name)
                .flat_map(|attribute| attribute.values.iter().map(String::as_str))
                .collect();
            assert_eq!(ours, *values, "{}: attribute {name}", self.id);
        }
    }
}

/// Where this crate decides a disputed entry otherwise than its suite, and why (the
/// same reasons are in the adapter's README).
#[derive(Debug, Clone, Copy)]
pub enum Ours {
    Reject(Category),
}

impl Ours {
    pub fn matches(self, outcome: &Outcome) -> bool {
        match (self, outcome) {
            (Ours::Reject(category), Outcome::Reject(error)) => error.category() == category,
            _ => false,
        }
    }
}

pub fn decided(id: &str) -> Option<Ours> {
    match id {
        // An assertion nested in the signed assertion's Advice is still a second
        // assertion: the SP reads exactly one (python3-saml and ruby-saml agree).
        "node-saml-advice-signed" => Some(Ours::Reject(Category::MultipleAssertions)),
        // No AudienceRestriction at all: SAML's Web SSO profile requires one naming
        // the SP, or any SP of the IdP could replay the assertion here. node-saml's
        // test turns its audience check off.
        "node-saml-assertion-signed-only"
        | "node-saml-cr-entity-in-attribute"
        | "node-saml-root-signed-only" => Some(Ours::Reject(Category::WrongAudience)),
        // A bearer confirmation without NotOnOrAfter: the Web SSO profile requires it
        // (gosaml2 agrees; python3-saml accepts).
        "gosaml2-oktadev-08" => Some(Ours::Reject(Category::NoBearerConfirmation)),
        // The Response's ID starts with a digit, so it is no xs:ID: libxml2 will not
        // resolve it, and python3-saml's strict mode refuses the document too.
        "crewjam-realworld-assertion-signed" => Some(Ours::Reject(Category::Malformed)),
        // A 512-bit RSA key is factored in hours: below MIN_RSA_BITS.
        "ruby-saml-hulu-inline" => Some(Ours::Reject(Category::WeakAlgorithm)),
        _ => None,
    }
}
