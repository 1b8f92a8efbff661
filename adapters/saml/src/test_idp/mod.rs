//! A SAML 2.0 identity provider for tests and demos (feature `test-idp`).
//!
//! [`TestIdp`] holds an entity id, an RSA-2048 signing key and the self-signed
//! certificate of that key. It issues:
//!
//! - signed `samlp:Response`s for a chosen [`TestPerson`] ([`TestIdp::response`],
//!   [`TestIdp::response_with`] for the [`ResponseOptions`]);
//! - signed error responses with a chosen status and no assertion
//!   ([`TestIdp::error_response`]);
//! - the bad responses that security tests need, each described on its
//!   [`BadResponse`] variant ([`TestIdp::bad_response`]);
//! - responses whose assertion is encrypted for the SP's certificate, as Entra ID and
//!   ADFS send them ([`TestIdp::encrypted_response`], [`EncryptionOptions`]);
//! - its own metadata ([`TestIdp::metadata_xml`]).
//!
//! [`post_form_value`] gives what the HTTP-POST binding carries as `SAMLResponse`, and
//! [`post_form_html`] the self-submitting page a browser demo needs.
//!
//! [`TestIdpRouter`] is its HTTP side, an axum router: an SSO endpoint for both
//! bindings that reads the AuthnRequest ([`crate::AuthnRequest`]), a page to pick who
//! signs in from [`TestPerson`]s (or one chosen person, answered at once), the signed
//! answer posted back to the request's ACS URL, and the metadata. **It signs in whoever
//! is picked: never in production.**
//!
//! # What a response looks like
//!
//! With the default options, one `samlp:Response` (`Version="2.0"`, `ID` of `_` and 40
//! random hex digits, `IssueInstant` = `now`, `Destination` = the ACS URL,
//! `InResponseTo` when the target has a request id) holds its `saml:Issuer`, a
//! `Success` status and one `saml:Assertion`. The assertion holds, in schema order:
//!
//! - `saml:Issuer` (format `entity`), then the enveloped `ds:Signature`;
//! - `saml:Subject`: a `persistent` `NameID` with the person's subject, and a `bearer`
//!   `SubjectConfirmation` whose `SubjectConfirmationData` has `NotOnOrAfter` =
//!   `now` + 5 minutes, `Recipient` = the ACS URL and `InResponseTo` (when known);
//! - `saml:Conditions` with `NotBefore` = `now` − 1 minute (the usual allowance for an
//!   SP whose clock runs a little behind the IdP's), `NotOnOrAfter` = `now` + 5 minutes
//!   and an `AudienceRestriction` for the SP's entity id;
//! - `saml:AuthnStatement` with `AuthnInstant` = `now`, a random `SessionIndex` and the
//!   `PasswordProtectedTransport` class;
//! - `saml:AttributeStatement` with Okta-style names ([`attribute_names`]): `firstName`,
//!   `lastName`, `email`, `groups` (one `AttributeValue` per group), then the person's
//!   extra attributes, every value typed `xs:string`. Absent values are left out, and
//!   so is the whole statement when the person has no attribute at all.
//!
//! Signatures are RSA-SHA256 over a SHA-256 digest, exclusive canonicalisation, the
//! enveloped-signature transform, `Reference URI="#<id>"` and the certificate in
//! `KeyInfo/X509Data/X509Certificate`. They are made with bergshamra, and every
//! value written into the XML is escaped first (see [`TestIdpError::UnrepresentableCharacter`]
//! for the one thing that cannot be).
//!
//! Times are written as `xs:dateTime` in UTC with a `Z`, with as many fractional
//! digits as `now` needs (none for a whole second).
//!
//! # Replay
//!
//! No variant is needed for a replay: posting the very same response (or
//! [`post_form_value`]) twice is the replay, and the second post must be refused.
//!
//! # Example
//!
//! ```no_run
//! use chrono::{TimeZone, Utc};
//! use jit_provisioning_saml::test_idp::{post_form_value, ResponseTarget, TestIdp, TestPerson};
//!
//! # fn main() -> Result<(), jit_provisioning_saml::test_idp::TestIdpError> {
//! let idp = TestIdp::generate("https://idp.example.test/metadata")?;
//! let ada = TestPerson::new("00u1ada")
//!     .with_given_name("Ada")
//!     .with_family_name("Lovelace")
//!     .with_email("ada@example.com")
//!     .with_group("engineering");
//! let target = ResponseTarget::new("https://sp.example.com/saml/metadata", "https://sp.example.com/saml/acs")
//!     .with_in_response_to("_request-1");
//! let now = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
//! let xml = idp.response(&ada, &target, now)?;
//! let form_value = post_form_value(&xml);
//! # let _ = form_value;
//! # Ok(())
//! # }
//! ```

mod cert;
mod der;
mod encrypt;
mod rng;
mod router;
mod xml;

use std::sync::OnceLock;

use base64::Engine as _;
use chrono::{DateTime, Datelike as _, SecondsFormat, TimeDelta, Utc};

use cert::KeyPair;
use xml::Writer;

pub use encrypt::{CiphertextDefect, ContentEncryption, EncryptionOptions, KeyTransport};
pub use router::TestIdpRouter;

/// The subject that [`BadResponse::Tampered`] writes over the signed one, and that the
/// evil assertion of every `Wrapped…` variant is about (as its `NameID` and its
/// `email`).
///
/// An SP under test that ever logs this subject in has been fooled.
pub const EVIL_SUBJECT: &str = "attacker@evil.example";

/// The entity id [`BadResponse::WrongAudience`] puts in the `Audience` (unless the SP
/// under test happens to use it, in which case `/elsewhere` is appended).
pub const WRONG_SP_ENTITY_ID: &str = "https://wrong-sp.example/saml/metadata";

/// The URL [`BadResponse::WrongDestination`] and [`BadResponse::WrongRecipient`] put in
/// place of the ACS URL (unless the SP under test happens to use it, in which case
/// `/elsewhere` is appended).
pub const WRONG_ACS_URL: &str = "https://wrong-sp.example/saml/acs";

/// How long a response stays valid by default: `NotOnOrAfter` is `now` plus this.
pub const DEFAULT_VALIDITY: TimeDelta = TimeDelta::minutes(5);

/// How far before `now` the default `Conditions/@NotBefore` lies.
pub const DEFAULT_NOT_BEFORE_ALLOWANCE: TimeDelta = TimeDelta::minutes(1);

/// How far in the past a [`BadResponse::Expired`] response was issued: with the
/// default validity it ended 10 minutes before `now`.
pub const EXPIRED_ISSUED_AGO: TimeDelta = TimeDelta::minutes(15);

/// How far ahead of `now` the clock of a [`BadResponse::NotYetValid`] response runs:
/// its `NotBefore` lies 9 minutes after `now`.
pub const NOT_YET_VALID_CLOCK_AHEAD: TimeDelta = TimeDelta::minutes(10);

/// The attribute names the test IdP writes, as Okta's default SAML app sends them.
pub mod attribute_names {
    /// The person's given name.
    pub const FIRST_NAME: &str = "firstName";
    /// The person's family name.
    pub const LAST_NAME: &str = "lastName";
    /// The person's email address.
    pub const EMAIL: &str = "email";
    /// The person's groups, one `AttributeValue` each.
    pub const GROUPS: &str = "groups";
}

/// SAML 2.0 status codes (SAML core, section 3.2.2.2), for [`TestIdp::error_response`].
pub mod status {
    /// The request succeeded.
    pub const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
    /// Top level: the request could not be performed because of an error on the part
    /// of the requester.
    pub const REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
    /// Top level: the request could not be performed because of an error on the part
    /// of the responder (the IdP).
    pub const RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
    /// Top level: the version of the request was not supported.
    pub const VERSION_MISMATCH: &str = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch";
    /// Second level: the IdP could not authenticate the principal.
    pub const AUTHN_FAILED: &str = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";
    /// Second level: the IdP chose not to respond (for example: the person may not use
    /// this application).
    pub const REQUEST_DENIED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";
    /// Second level: the IdP cannot authenticate the principal passively.
    pub const NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
    /// Second level: the IdP does not know the principal.
    pub const UNKNOWN_PRINCIPAL: &str = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal";
}

const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const NS_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const NS_XS: &str = "http://www.w3.org/2001/XMLSchema";
const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

const FORMAT_ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const FORMAT_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
const ATTRNAME_FORMAT_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
const METHOD_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const AC_PASSWORD_PROTECTED_TRANSPORT: &str =
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const ALG_RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const ALG_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// What can go wrong while making keys or responses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestIdpError {
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
    /// Generating the RSA key or self-signing its certificate failed.
    #[error("generating the signing key failed: {0}")]
    KeyGeneration(String),
    /// The private key PEM could not be read (or re-encoded).
    #[error("unusable private key: {0}")]
    InvalidKey(String),
    /// The certificate PEM could not be read.
    #[error("unusable certificate: {0}")]
    InvalidCertificate(String),
    /// The certificate does not hold the public half of the private key.
    #[error("the certificate does not belong to the private key")]
    KeyMismatch,
    /// A value holds a character that XML 1.0 cannot carry, not even as a character
    /// reference (most C0 controls, U+FFFE, U+FFFF).
    #[error("U+{:04X} cannot be written in XML 1.0", u32::from(*.0))]
    UnrepresentableCharacter(char),
    /// A time, once shifted by a validity window, is out of range, or lies outside the
    /// years 1 to 9999 that `xs:dateTime` is written for here.
    #[error("a time is out of the range SAML timestamps are written for")]
    TimeOutOfRange,
    /// bergshamra refused to sign.
    #[error("signing failed: {0}")]
    Signing(#[source] bergshamra::Error),
    /// bergshamra refused to encrypt (for [`TestIdp::encrypted_response`]: the SP
    /// certificate holds no RSA key, say).
    #[error("encryption failed: {0}")]
    Encryption(#[source] bergshamra::Error),
    /// The base URL given to [`TestIdpRouter::new`] is not an absolute `http` or `https`
    /// URL whose path is made of letters, digits, `-`, `.`, `_`, `~` and `/` (no query,
    /// no empty segment).
    #[error(
        "`{0}` cannot be the test IdP's base URL: an http or https URL with a plain path is needed"
    )]
    InvalidBaseUrl(String),
    /// A step that cannot fail on what this module builds failed all the same.
    #[error("internal error in the test IdP: {0}")]
    Internal(&'static str),
}

/// The person a response is about, and someone [`TestIdpRouter`]'s picker offers.
///
/// Made with [`TestPerson::new`] and the `with_…` methods; `Default` is a person with an
/// empty subject, assigned the app.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestPerson {
    /// The `NameID` (format `persistent`).
    pub subject: String,
    /// What [`TestIdpRouter`]'s picker calls them; by default their names and email, or
    /// their subject. Not sent in responses.
    pub label: Option<String>,
    /// Whether the app is assigned to them (default `true`). [`TestIdpRouter`] answers
    /// someone not assigned with a `Responder` / `RequestDenied` status and no
    /// assertion, as Okta and Entra ID do; [`TestIdp::response`] ignores it.
    pub assigned: bool,
    /// Sent as `firstName` when present.
    pub given_name: Option<String>,
    /// Sent as `lastName` when present.
    pub family_name: Option<String>,
    /// Sent as `email` when present.
    pub email: Option<String>,
    /// Sent as `groups`, one `AttributeValue` per group, when not empty.
    pub groups: Vec<String>,
    /// More attributes, sent in this order after the ones above: a name and its values
    /// (an attribute with no value is sent with no `AttributeValue`).
    pub extra_attributes: Vec<(String, Vec<String>)>,
}

impl Default for TestPerson {
    fn default() -> Self {
        Self {
            subject: String::new(),
            label: None,
            assigned: true,
            given_name: None,
            family_name: None,
            email: None,
            groups: Vec::new(),
            extra_attributes: Vec::new(),
        }
    }
}

impl TestPerson {
    /// A person with this subject and no attribute, assigned the app.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            ..Self::default()
        }
    }

    /// Sets what [`TestIdpRouter`]'s picker calls them.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets whether the app is assigned to them: [`TestIdpRouter`] turns away someone
    /// not assigned with `RequestDenied`.
    #[must_use]
    pub fn with_assigned(mut self, assigned: bool) -> Self {
        self.assigned = assigned;
        self
    }

    /// What [`TestIdpRouter`]'s picker calls them: the label, else their names and
    /// email, else their subject.
    pub(crate) fn display_label(&self) -> String {
        if let Some(label) = &self.label {
            return label.clone();
        }
        let names: Vec<&str> = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        match (names.is_empty(), &self.email) {
            (true, None) => self.subject.clone(),
            (true, Some(email)) => email.clone(),
            (false, None) => names.join(" "),
            (false, Some(email)) => format!("{} <{email}>", names.join(" ")),
        }
    }

    /// Sets the given name.
    #[must_use]
    pub fn with_given_name(mut self, given_name: impl Into<String>) -> Self {
        self.given_name = Some(given_name.into());
        self
    }

    /// Sets the family name.
    #[must_use]
    pub fn with_family_name(mut self, family_name: impl Into<String>) -> Self {
        self.family_name = Some(family_name.into());
        self
    }

    /// Sets the email address.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Adds one group.
    #[must_use]
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.groups.push(group.into());
        self
    }

    /// Adds several groups.
    #[must_use]
    pub fn with_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups.extend(groups.into_iter().map(Into::into));
        self
    }

    /// Adds an attribute of another name with its values.
    #[must_use]
    pub fn with_attribute<I, S>(mut self, name: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extra_attributes
            .push((name.into(), values.into_iter().map(Into::into).collect()));
        self
    }
}

/// The service provider a response is addressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseTarget {
    /// The SP's entity id: the assertion's `Audience`.
    pub sp_entity_id: String,
    /// The SP's assertion consumer service URL: the response's `Destination` and the
    /// subject confirmation's `Recipient`.
    pub acs_url: String,
    /// The id of the `AuthnRequest` answered, written as `InResponseTo` on the response
    /// and on the subject confirmation; `None` for an IdP-initiated response.
    pub in_response_to: Option<String>,
}

impl ResponseTarget {
    /// An IdP-initiated target (no `InResponseTo`).
    pub fn new(sp_entity_id: impl Into<String>, acs_url: impl Into<String>) -> Self {
        Self {
            sp_entity_id: sp_entity_id.into(),
            acs_url: acs_url.into(),
            in_response_to: None,
        }
    }

    /// Answers the `AuthnRequest` with this id.
    #[must_use]
    pub fn with_in_response_to(mut self, request_id: impl Into<String>) -> Self {
        self.in_response_to = Some(request_id.into());
        self
    }
}

/// How [`TestIdp::response_with`] departs from the default response.
///
/// Build it from the default and set what differs:
/// `let mut options = ResponseOptions::default(); options.sign_response = true;`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseOptions {
    /// Sign the assertion (default `true`). `false` leaves it without a signature.
    pub sign_assertion: bool,
    /// Sign the response too (default `false`): its `ds:Signature` follows the
    /// response's `saml:Issuer` and covers the whole response, assertion included.
    pub sign_response: bool,
    /// `AuthnStatement/@AuthnInstant`; default `now`.
    pub authn_instant: Option<DateTime<Utc>>,
    /// `Conditions/@NotBefore`; default `now` − [`DEFAULT_NOT_BEFORE_ALLOWANCE`].
    pub not_before: Option<DateTime<Utc>>,
    /// `Conditions/@NotOnOrAfter` and `SubjectConfirmationData/@NotOnOrAfter` both;
    /// default `now` + [`DEFAULT_VALIDITY`].
    pub not_on_or_after: Option<DateTime<Utc>>,
    /// `SubjectConfirmationData/@NotOnOrAfter` alone, overriding `not_on_or_after`
    /// there, so that the two windows can differ.
    pub confirmation_not_on_or_after: Option<DateTime<Utc>>,
    /// Write the answered request's id on `SubjectConfirmationData` as well as on the
    /// Response (default `true`). `false` leaves `InResponseTo` on the Response alone,
    /// which an SP may only trust when the Response is signed.
    pub confirmation_in_response_to: bool,
}

impl Default for ResponseOptions {
    fn default() -> Self {
        Self {
            sign_assertion: true,
            sign_response: false,
            authn_instant: None,
            not_before: None,
            not_on_or_after: None,
            confirmation_not_on_or_after: None,
            confirmation_in_response_to: true,
        }
    }
}

/// The bad responses [`TestIdp::bad_response`] makes. Each is, apart from the defect
/// its variant names, the default response of [`TestIdp::response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BadResponse {
    /// The signed assertion's `NameID` is replaced by [`EVIL_SUBJECT`] after signing
    /// (by `tampered-` and [`EVIL_SUBJECT`] when the person's subject is
    /// [`EVIL_SUBJECT`] already), so its digest no longer matches.
    Tampered,
    /// Signature wrapping through `samlp:Extensions`: the honest signed assertion sits
    /// inside the response's `samlp:Extensions` (where the schema allows foreign
    /// content), untouched, so its signature still verifies; the response's own
    /// `saml:Assertion` child, where an SP reads, is an unsigned assertion about
    /// [`EVIL_SUBJECT`], otherwise valid (same audience, recipient and times), with an
    /// `ID` of its own.
    WrappedInExtensions,
    /// Signature wrapping by a sibling (the XSW3 shape): the response holds two
    /// assertions, first an unsigned one about [`EVIL_SUBJECT`] (its own `ID`), then
    /// the honest signed one. An SP that checks "a signature verifies" and then reads
    /// the first assertion is fooled.
    WrappedEvilFirst,
    /// Signature wrapping through `saml:Advice`: the response's only assertion is an
    /// unsigned one about [`EVIL_SUBJECT`] that carries the honest signed assertion in
    /// its `saml:Advice`. The signed assertion's signature still verifies, but it is
    /// not the assertion the SP reads.
    WrappedInAdvice,
    /// A stale response: everything in it as if issued [`EXPIRED_ISSUED_AGO`] before
    /// `now` (`IssueInstant` and `AuthnInstant` `now` − 15 min, `NotBefore` `now` −
    /// 16 min), so both `NotOnOrAfter`s ended 10 minutes before `now`.
    Expired,
    /// A response from an IdP whose clock runs [`NOT_YET_VALID_CLOCK_AHEAD`] fast:
    /// everything as if issued at `now` + 10 min, so `Conditions/@NotBefore` lies 9
    /// minutes after `now`.
    NotYetValid,
    /// The `Audience` is [`WRONG_SP_ENTITY_ID`]; the assertion is validly signed.
    WrongAudience,
    /// The response's `Destination` is [`WRONG_ACS_URL`] (the `Recipient` is right).
    /// The response is signed too, so the wrong destination carries a valid IdP
    /// signature.
    WrongDestination,
    /// The subject confirmation's `Recipient` is [`WRONG_ACS_URL`] (the `Destination`
    /// is right); the assertion is validly signed.
    WrongRecipient,
    /// No signature anywhere.
    Unsigned,
    /// A valid signature by a second RSA-2048 key that the SP does not trust, with that
    /// key's certificate in `KeyInfo`. The certificate has the same subject name as the
    /// IdP's, so only the key tells them apart. The key is generated on first use and
    /// kept for the life of the `TestIdp`; see [`TestIdp::untrusted_certificate_pem`].
    SignedByOtherKey,
    /// Signed with RSA-SHA1 (`http://www.w3.org/2000/09/xmldsig#rsa-sha1`) over a SHA-1
    /// digest (`http://www.w3.org/2000/09/xmldsig#sha1`) by the IdP's own key, for the
    /// refusal of weak algorithms.
    Sha1Signed,
    /// An unsolicited response made to look solicited: the assertion is validly signed
    /// and its `SubjectConfirmationData` names no request, but the target's request id
    /// is written on the Response, which no signature covers. An attacker can add that
    /// attribute to any IdP-initiated response; it must not count.
    UnsignedInResponseTo,
}

impl BadResponse {
    /// Every bad response, for tests that check an SP refuses them all.
    pub const ALL: [BadResponse; 13] = [
        BadResponse::Tampered,
        BadResponse::WrappedInExtensions,
        BadResponse::WrappedEvilFirst,
        BadResponse::WrappedInAdvice,
        BadResponse::Expired,
        BadResponse::NotYetValid,
        BadResponse::WrongAudience,
        BadResponse::WrongDestination,
        BadResponse::WrongRecipient,
        BadResponse::Unsigned,
        BadResponse::SignedByOtherKey,
        BadResponse::Sha1Signed,
        BadResponse::UnsignedInResponseTo,
    ];
}

/// An identity provider under the test's control.
///
/// Cheap to clone (the keys are copied, not regenerated); `Send` and `Sync`.
#[derive(Clone)]
pub struct TestIdp {
    entity_id: String,
    keys: KeyPair,
    /// The untrusted key of [`BadResponse::SignedByOtherKey`], made on first use.
    other_keys: OnceLock<KeyPair>,
}

impl std::fmt::Debug for TestIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIdp")
            .field("entity_id", &self.entity_id)
            .field("key", &"<redacted>")
            .field("certificate_der_len", &self.keys.certificate_der.len())
            .finish_non_exhaustive()
    }
}

/// Which signature and digest algorithms a signature uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithms {
    RsaSha256,
    RsaSha1,
}

impl Algorithms {
    fn signature_method(self) -> &'static str {
        match self {
            Algorithms::RsaSha256 => ALG_RSA_SHA256,
            Algorithms::RsaSha1 => ALG_RSA_SHA1,
        }
    }

    fn digest_method(self) -> &'static str {
        match self {
            Algorithms::RsaSha256 => ALG_SHA256,
            Algorithms::RsaSha1 => ALG_SHA1,
        }
    }
}

/// A key and the algorithms to sign with.
#[derive(Clone, Copy)]
struct Signing<'a> {
    keys: &'a KeyPair,
    algorithms: Algorithms,
}

/// Everything an assertion says.
struct AssertionSpec<'a> {
    person: &'a TestPerson,
    /// The assertion's `saml:Issuer`, when it is not the IdP's entity id.
    issuer: Option<&'a str>,
    issue_instant: DateTime<Utc>,
    authn_instant: DateTime<Utc>,
    not_before: DateTime<Utc>,
    not_on_or_after: DateTime<Utc>,
    confirmation_not_on_or_after: DateTime<Utc>,
    audience: &'a str,
    recipient: &'a str,
    in_response_to: Option<&'a str>,
}

/// A response's status.
struct Status<'a> {
    code: &'a str,
    sub_code: Option<&'a str>,
    message: Option<&'a str>,
}

/// Everything around the assertions of a response.
struct Envelope<'a> {
    issue_instant: DateTime<Utc>,
    destination: &'a str,
    in_response_to: Option<&'a str>,
    status: Status<'a>,
    /// Markup for `samlp:Extensions`, if the response has one.
    extensions: Option<&'a str>,
    assertions: &'a [&'a str],
    signing: Option<Signing<'a>>,
}

/// Where a response departs from the honest one, for the bad responses.
struct Shape<'a> {
    audience: &'a str,
    destination: &'a str,
    recipient: &'a str,
    assertion_signing: Option<Signing<'a>>,
    response_signing: Option<Signing<'a>>,
}

impl TestIdp {
    /// An IdP with a fresh RSA-2048 key and a self-signed certificate for it.
    ///
    /// Slow in unoptimised builds (RSA key generation): generate once per test binary,
    /// or keep the key with [`TestIdp::key_pem`] and [`TestIdp::from_pem`].
    ///
    /// # Errors
    ///
    /// [`TestIdpError::UnrepresentableCharacter`] when the entity id cannot be written
    /// in XML; [`TestIdpError::Random`] or [`TestIdpError::KeyGeneration`] when the key
    /// cannot be made.
    pub fn generate(entity_id: &str) -> Result<Self, TestIdpError> {
        xml::escape(entity_id)?;
        Ok(Self {
            entity_id: entity_id.to_owned(),
            keys: KeyPair::generate()?,
            other_keys: OnceLock::new(),
        })
    }

    /// An IdP with a key and certificate kept from before: the key as PEM (PKCS#8
    /// `PRIVATE KEY`, or PKCS#1 `RSA PRIVATE KEY`), the certificate as PEM. Any
    /// certificate of the key will do, not only one this module made.
    ///
    /// # Errors
    ///
    /// [`TestIdpError::InvalidKey`], [`TestIdpError::InvalidCertificate`] when either
    /// cannot be read, [`TestIdpError::KeyMismatch`] when the certificate is of another
    /// key, [`TestIdpError::UnrepresentableCharacter`] when the entity id cannot be
    /// written in XML.
    pub fn from_pem(
        entity_id: &str,
        key_pem: &str,
        certificate_pem: &str,
    ) -> Result<Self, TestIdpError> {
        xml::escape(entity_id)?;
        Ok(Self {
            entity_id: entity_id.to_owned(),
            keys: KeyPair::from_pem(key_pem, certificate_pem)?,
            other_keys: OnceLock::new(),
        })
    }

    /// The IdP's entity id: every `saml:Issuer`.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The private key as PKCS#8 PEM, for [`TestIdp::from_pem`].
    pub fn key_pem(&self) -> &str {
        &self.keys.key_pem
    }

    /// The certificate as PEM: what an SP is configured to trust.
    pub fn certificate_pem(&self) -> String {
        self.keys.certificate_pem()
    }

    /// The certificate as DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.keys.certificate_der
    }

    /// The certificate of the untrusted key that [`BadResponse::SignedByOtherKey`]
    /// responses are signed with, as PEM (generating that key if it does not exist
    /// yet), so a test can show the signature is valid under it.
    ///
    /// # Errors
    ///
    /// As [`TestIdp::generate`] when the key has to be made.
    pub fn untrusted_certificate_pem(&self) -> Result<String, TestIdpError> {
        Ok(self.other_keys()?.certificate_pem())
    }

    /// The IdP's metadata: an `md:EntityDescriptor` with one `md:IDPSSODescriptor`
    /// (SAML 2.0 protocol, `WantAuthnRequestsSigned="false"`) holding the signing
    /// `md:KeyDescriptor` with the certificate, the `persistent` NameID format, and
    /// `md:SingleSignOnService` at `sso_url` for the HTTP-Redirect and the HTTP-POST
    /// bindings.
    ///
    /// # Errors
    ///
    /// [`TestIdpError::UnrepresentableCharacter`] when `sso_url` cannot be written in
    /// XML.
    pub fn metadata_xml(&self, sso_url: &str) -> Result<String, TestIdpError> {
        let mut w = Writer::with_declaration();
        w.open(
            "md:EntityDescriptor",
            &[
                ("xmlns:md", NS_METADATA),
                ("xmlns:ds", NS_DSIG),
                ("entityID", &self.entity_id),
            ],
        )?;
        w.open(
            "md:IDPSSODescriptor",
            &[
                ("WantAuthnRequestsSigned", "false"),
                ("protocolSupportEnumeration", NS_PROTOCOL),
            ],
        )?;
        w.open("md:KeyDescriptor", &[("use", "signing")])?;
        w.open("ds:KeyInfo", &[])?;
        w.open("ds:X509Data", &[])?;
        w.leaf("ds:X509Certificate", &[], &self.keys.certificate_base64())?;
        w.close("ds:X509Data");
        w.close("ds:KeyInfo");
        w.close("md:KeyDescriptor");
        w.leaf("md:NameIDFormat", &[], FORMAT_PERSISTENT)?;
        for binding in [BINDING_REDIRECT, BINDING_POST] {
            w.empty(
                "md:SingleSignOnService",
                &[("Binding", binding), ("Location", sso_url)],
            )?;
        }
        w.close("md:IDPSSODescriptor");
        w.close("md:EntityDescriptor");
        Ok(w.finish())
    }

    /// The default response for `person` to `target` at `now`: see the module
    /// documentation for every field. The assertion is signed, the response is not.
    ///
    /// # Errors
    ///
    /// [`TestIdpError::UnrepresentableCharacter`] when a value cannot be written in
    /// XML, [`TestIdpError::TimeOutOfRange`] when `now` is too close to the ends of
    /// time, [`TestIdpError::Random`] or [`TestIdpError::Signing`] when ids or
    /// signatures cannot be made.
    pub fn response(
        &self,
        person: &TestPerson,
        target: &ResponseTarget,
        now: DateTime<Utc>,
    ) -> Result<String, TestIdpError> {
        self.response_with(person, target, now, &ResponseOptions::default())
    }

    /// A response like [`TestIdp::response`], changed by `options`.
    ///
    /// # Errors
    ///
    /// As [`TestIdp::response`].
    pub fn response_with(
        &self,
        person: &TestPerson,
        target: &ResponseTarget,
        now: DateTime<Utc>,
        options: &ResponseOptions,
    ) -> Result<String, TestIdpError> {
        let honest = self.signing();
        let shape = Shape {
            audience: &target.sp_entity_id,
            destination: &target.acs_url,
            recipient: &target.acs_url,
            assertion_signing: options.sign_assertion.then_some(honest),
            response_signing: options.sign_response.then_some(honest),
        };
        self.shaped_response(person, target, now, options, &shape)
    }

    /// A signed response with a status other than plain success and no assertion.
    ///
    /// `status` is the top-level `StatusCode` (for example [`status::RESPONDER`]),
    /// `sub_status` the nested one (for example [`status::REQUEST_DENIED`]), `message`
    /// the `StatusMessage`. The response has its `ID`, `IssueInstant` = `now`,
    /// `Destination`, `InResponseTo` (when known) and `Issuer`, and is signed like an
    /// assertion (its `ds:Signature` after its `saml:Issuer`).
    ///
    /// # Errors
    ///
    /// As [`TestIdp::response`].
    pub fn error_response(
        &self,
        target: &ResponseTarget,
        status: &str,
        sub_status: Option<&str>,
        message: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, TestIdpError> {
        self.write_response(&Envelope {
            issue_instant: now,
            destination: &target.acs_url,
            in_response_to: target.in_response_to.as_deref(),
            status: Status {
                code: status,
                sub_code: sub_status,
                message,
            },
            extensions: None,
            assertions: &[],
            signing: Some(self.signing()),
        })
    }

    /// One of the bad responses security tests need, for `person` to `target` at
    /// `now`. Each [`BadResponse`] variant says exactly how it is bad.
    ///
    /// # Errors
    ///
    /// As [`TestIdp::response`]; for [`BadResponse::SignedByOtherKey`] also as
    /// [`TestIdp::generate`], when the untrusted key has to be made.
    pub fn bad_response(
        &self,
        kind: BadResponse,
        person: &TestPerson,
        target: &ResponseTarget,
        now: DateTime<Utc>,
    ) -> Result<String, TestIdpError> {
        let honest = self.signing();
        let defaults = ResponseOptions::default();
        let wrong_acs = different(WRONG_ACS_URL, &target.acs_url);
        let wrong_audience = different(WRONG_SP_ENTITY_ID, &target.sp_entity_id);
        let mut shape = Shape {
            audience: &target.sp_entity_id,
            destination: &target.acs_url,
            recipient: &target.acs_url,
            assertion_signing: Some(honest),
            response_signing: None,
        };
        match kind {
            BadResponse::Tampered => {
                let signed = self.response(person, target, now)?;
                tamper_name_id(&signed, &person.subject)
            }
            BadResponse::WrappedInExtensions
            | BadResponse::WrappedEvilFirst
            | BadResponse::WrappedInAdvice => self.wrapped(kind, person, target, now),
            BadResponse::Expired => {
                let issued = shift(now, -EXPIRED_ISSUED_AGO)?;
                self.response(person, target, issued)
            }
            BadResponse::NotYetValid => {
                let issued = shift(now, NOT_YET_VALID_CLOCK_AHEAD)?;
                self.response(person, target, issued)
            }
            BadResponse::WrongAudience => {
                shape.audience = &wrong_audience;
                self.shaped_response(person, target, now, &defaults, &shape)
            }
            BadResponse::WrongDestination => {
                shape.destination = &wrong_acs;
                shape.response_signing = Some(honest);
                self.shaped_response(person, target, now, &defaults, &shape)
            }
            BadResponse::WrongRecipient => {
                shape.recipient = &wrong_acs;
                self.shaped_response(person, target, now, &defaults, &shape)
            }
            BadResponse::Unsigned => {
                shape.assertion_signing = None;
                self.shaped_response(person, target, now, &defaults, &shape)
            }
            BadResponse::SignedByOtherKey => {
                shape.assertion_signing = Some(Signing {
                    keys: self.other_keys()?,
                    algorithms: Algorithms::RsaSha256,
                });
                self.shaped_response(person, target, now, &defaults, &shape)
            }
            BadResponse::Sha1Signed => {
                shape.assertion_signing = Some(Signing {
                    keys: &self.keys,
                    algorithms: Algorithms::RsaSha1,
                });
                self.shaped_response(person, target, now, &defaults, &shape)
            }
            BadResponse::UnsignedInResponseTo => {
                let options = ResponseOptions {
                    confirmation_in_response_to: false,
                    ..defaults
                };
                self.shaped_response(person, target, now, &options, &shape)
            }
        }
    }

    fn signing(&self) -> Signing<'_> {
        Signing {
            keys: &self.keys,
            algorithms: Algorithms::RsaSha256,
        }
    }

    fn other_keys(&self) -> Result<&KeyPair, TestIdpError> {
        if let Some(keys) = self.other_keys.get() {
            return Ok(keys);
        }
        let fresh = KeyPair::generate()?;
        // Another thread may have set it meanwhile: either key will do, keep the first.
        let _ = self.other_keys.set(fresh);
        self.other_keys
            .get()
            .ok_or(TestIdpError::Internal("the untrusted key was not kept"))
    }

    fn shaped_response(
        &self,
        person: &TestPerson,
        target: &ResponseTarget,
        now: DateTime<Utc>,
        options: &ResponseOptions,
        shape: &Shape<'_>,
    ) -> Result<String, TestIdpError> {
        let spec = AssertionSpec::new(person, target, now, options, shape)?;
        let assertion = self.write_assertion(&spec, shape.assertion_signing, None)?;
        self.write_response(&Envelope {
            issue_instant: now,
            destination: shape.destination,
            in_response_to: target.in_response_to.as_deref(),
            status: Status::SUCCESS,
            extensions: None,
            assertions: &[&assertion],
            signing: shape.response_signing,
        })
    }

    fn wrapped(
        &self,
        kind: BadResponse,
        person: &TestPerson,
        target: &ResponseTarget,
        now: DateTime<Utc>,
    ) -> Result<String, TestIdpError> {
        let options = ResponseOptions::default();
        let shape = Shape {
            audience: &target.sp_entity_id,
            destination: &target.acs_url,
            recipient: &target.acs_url,
            assertion_signing: Some(self.signing()),
            response_signing: None,
        };
        let honest_spec = AssertionSpec::new(person, target, now, &options, &shape)?;
        let signed = self.write_assertion(&honest_spec, Some(self.signing()), None)?;

        let mut evil_person = person.clone();
        evil_person.subject = EVIL_SUBJECT.to_owned();
        evil_person.email = Some(EVIL_SUBJECT.to_owned());
        let evil_spec = AssertionSpec {
            person: &evil_person,
            ..AssertionSpec::new(person, target, now, &options, &shape)?
        };

        let mut envelope = Envelope {
            issue_instant: now,
            destination: &target.acs_url,
            in_response_to: target.in_response_to.as_deref(),
            status: Status::SUCCESS,
            extensions: None,
            assertions: &[],
            signing: None,
        };
        match kind {
            BadResponse::WrappedInExtensions => {
                let evil = self.write_assertion(&evil_spec, None, None)?;
                envelope.extensions = Some(&signed);
                self.write_response(&Envelope {
                    assertions: &[&evil],
                    ..envelope
                })
            }
            BadResponse::WrappedEvilFirst => {
                let evil = self.write_assertion(&evil_spec, None, None)?;
                self.write_response(&Envelope {
                    assertions: &[&evil, &signed],
                    ..envelope
                })
            }
            BadResponse::WrappedInAdvice => {
                let evil = self.write_assertion(&evil_spec, None, Some(&signed))?;
                self.write_response(&Envelope {
                    assertions: &[&evil],
                    ..envelope
                })
            }
            _ => Err(TestIdpError::Internal("not a wrapping variant")),
        }
    }

    /// A `saml:Assertion`, signed when `signing` says so, with `advice` (markup) in a
    /// `saml:Advice` when given.
    ///
    /// The assertion declares every namespace it uses, so it is signed on its own and
    /// its signature stays valid wherever it is put: exclusive canonicalisation does
    /// not look at the ancestors.
    fn write_assertion(
        &self,
        spec: &AssertionSpec<'_>,
        signing: Option<Signing<'_>>,
        advice: Option<&str>,
    ) -> Result<String, TestIdpError> {
        let id = rng::xml_id()?;
        let session_index = rng::xml_id()?;
        let issue_instant = instant(spec.issue_instant)?;
        let authn_instant = instant(spec.authn_instant)?;
        let not_before = instant(spec.not_before)?;
        let not_on_or_after = instant(spec.not_on_or_after)?;
        let confirmation_not_on_or_after = instant(spec.confirmation_not_on_or_after)?;

        let mut w = Writer::new();
        w.open(
            "saml:Assertion",
            &[
                ("xmlns:saml", NS_ASSERTION),
                ("xmlns:xs", NS_XS),
                ("xmlns:xsi", NS_XSI),
                ("ID", &id),
                ("IssueInstant", &issue_instant),
                ("Version", "2.0"),
            ],
        )?;
        w.leaf(
            "saml:Issuer",
            &[("Format", FORMAT_ENTITY)],
            spec.issuer.unwrap_or(&self.entity_id),
        )?;
        if let Some(signing) = signing {
            signature_template(&mut w, &id, signing)?;
        }

        w.open("saml:Subject", &[])?;
        w.leaf(
            "saml:NameID",
            &[("Format", FORMAT_PERSISTENT)],
            &spec.person.subject,
        )?;
        w.open("saml:SubjectConfirmation", &[("Method", METHOD_BEARER)])?;
        let mut confirmation: Vec<(&str, &str)> = Vec::with_capacity(3);
        if let Some(request_id) = spec.in_response_to {
            confirmation.push(("InResponseTo", request_id));
        }
        confirmation.push(("NotOnOrAfter", &confirmation_not_on_or_after));
        confirmation.push(("Recipient", spec.recipient));
        w.empty("saml:SubjectConfirmationData", &confirmation)?;
        w.close("saml:SubjectConfirmation");
        w.close("saml:Subject");

        w.open(
            "saml:Conditions",
            &[
                ("NotBefore", &not_before),
                ("NotOnOrAfter", &not_on_or_after),
            ],
        )?;
        w.open("saml:AudienceRestriction", &[])?;
        w.leaf("saml:Audience", &[], spec.audience)?;
        w.close("saml:AudienceRestriction");
        w.close("saml:Conditions");

        if let Some(advice) = advice {
            w.open("saml:Advice", &[])?;
            w.raw(advice);
            w.close("saml:Advice");
        }

        w.open(
            "saml:AuthnStatement",
            &[
                ("AuthnInstant", &authn_instant),
                ("SessionIndex", &session_index),
            ],
        )?;
        w.open("saml:AuthnContext", &[])?;
        w.leaf(
            "saml:AuthnContextClassRef",
            &[],
            AC_PASSWORD_PROTECTED_TRANSPORT,
        )?;
        w.close("saml:AuthnContext");
        w.close("saml:AuthnStatement");

        write_attributes(&mut w, spec.person)?;
        w.close("saml:Assertion");

        let unsigned = w.finish();
        match signing {
            Some(signing) => sign(signing.keys, unsigned),
            None => Ok(unsigned),
        }
    }

    /// A `samlp:Response` around `envelope.assertions` (markup), signed when
    /// `envelope.signing` says so.
    fn write_response(&self, envelope: &Envelope<'_>) -> Result<String, TestIdpError> {
        let id = rng::xml_id()?;
        let issue_instant = instant(envelope.issue_instant)?;
        let mut attributes: Vec<(&str, &str)> = vec![
            ("xmlns:samlp", NS_PROTOCOL),
            ("xmlns:saml", NS_ASSERTION),
            ("ID", &id),
            ("Version", "2.0"),
            ("IssueInstant", &issue_instant),
            ("Destination", envelope.destination),
        ];
        if let Some(request_id) = envelope.in_response_to {
            attributes.push(("InResponseTo", request_id));
        }

        let mut w = Writer::with_declaration();
        w.open("samlp:Response", &attributes)?;
        w.leaf("saml:Issuer", &[("Format", FORMAT_ENTITY)], &self.entity_id)?;
        if let Some(signing) = envelope.signing {
            signature_template(&mut w, &id, signing)?;
        }
        if let Some(extensions) = envelope.extensions {
            w.open("samlp:Extensions", &[])?;
            w.raw(extensions);
            w.close("samlp:Extensions");
        }
        w.open("samlp:Status", &[])?;
        match envelope.status.sub_code {
            Some(sub_code) => {
                w.open("samlp:StatusCode", &[("Value", envelope.status.code)])?;
                w.empty("samlp:StatusCode", &[("Value", sub_code)])?;
                w.close("samlp:StatusCode");
            }
            None => w.empty("samlp:StatusCode", &[("Value", envelope.status.code)])?,
        }
        if let Some(message) = envelope.status.message {
            w.leaf("samlp:StatusMessage", &[], message)?;
        }
        w.close("samlp:Status");
        for assertion in envelope.assertions {
            w.raw(assertion);
        }
        w.close("samlp:Response");

        let unsigned = w.finish();
        match envelope.signing {
            Some(signing) => sign(signing.keys, unsigned),
            None => Ok(unsigned),
        }
    }
}

impl Status<'_> {
    const SUCCESS: Status<'static> = Status {
        code: status::SUCCESS,
        sub_code: None,
        message: None,
    };
}

impl<'a> AssertionSpec<'a> {
    fn new(
        person: &'a TestPerson,
        target: &'a ResponseTarget,
        now: DateTime<Utc>,
        options: &ResponseOptions,
        shape: &Shape<'a>,
    ) -> Result<Self, TestIdpError> {
        let not_on_or_after = match options.not_on_or_after {
            Some(at) => at,
            None => shift(now, DEFAULT_VALIDITY)?,
        };
        Ok(Self {
            person,
            issuer: None,
            issue_instant: now,
            authn_instant: options.authn_instant.unwrap_or(now),
            not_before: match options.not_before {
                Some(at) => at,
                None => shift(now, -DEFAULT_NOT_BEFORE_ALLOWANCE)?,
            },
            not_on_or_after,
            confirmation_not_on_or_after: options
                .confirmation_not_on_or_after
                .unwrap_or(not_on_or_after),
            audience: shape.audience,
            recipient: shape.recipient,
            in_response_to: target
                .in_response_to
                .as_deref()
                .filter(|_| options.confirmation_in_response_to),
        })
    }
}

/// The `saml:AttributeStatement`, unless the person has no attribute.
fn write_attributes(w: &mut Writer, person: &TestPerson) -> Result<(), TestIdpError> {
    let mut attributes: Vec<(&str, Vec<&str>)> = Vec::new();
    if let Some(given_name) = &person.given_name {
        attributes.push((attribute_names::FIRST_NAME, vec![given_name]));
    }
    if let Some(family_name) = &person.family_name {
        attributes.push((attribute_names::LAST_NAME, vec![family_name]));
    }
    if let Some(email) = &person.email {
        attributes.push((attribute_names::EMAIL, vec![email]));
    }
    if !person.groups.is_empty() {
        attributes.push((
            attribute_names::GROUPS,
            person.groups.iter().map(String::as_str).collect(),
        ));
    }
    for (name, values) in &person.extra_attributes {
        attributes.push((name, values.iter().map(String::as_str).collect()));
    }
    if attributes.is_empty() {
        return Ok(());
    }
    w.open("saml:AttributeStatement", &[])?;
    for (name, values) in attributes {
        w.open(
            "saml:Attribute",
            &[("Name", name), ("NameFormat", ATTRNAME_FORMAT_UNSPECIFIED)],
        )?;
        for value in values {
            w.leaf("saml:AttributeValue", &[("xsi:type", "xs:string")], value)?;
        }
        w.close("saml:Attribute");
    }
    w.close("saml:AttributeStatement");
    Ok(())
}

/// An enveloped `ds:Signature` template for the element with `ID` = `id`: empty
/// `DigestValue` and `SignatureValue` for bergshamra to fill, the certificate already
/// in `KeyInfo`. The exclusive canonicalisation transform keeps the `xs` prefix (used
/// only inside `xsi:type` values) as an inclusive namespace, as Okta does.
fn signature_template(w: &mut Writer, id: &str, signing: Signing<'_>) -> Result<(), TestIdpError> {
    let reference = format!("#{id}");
    w.open("ds:Signature", &[("xmlns:ds", NS_DSIG)])?;
    w.open("ds:SignedInfo", &[])?;
    w.empty("ds:CanonicalizationMethod", &[("Algorithm", NS_EXC_C14N)])?;
    w.empty(
        "ds:SignatureMethod",
        &[("Algorithm", signing.algorithms.signature_method())],
    )?;
    w.open("ds:Reference", &[("URI", &reference)])?;
    w.open("ds:Transforms", &[])?;
    w.empty("ds:Transform", &[("Algorithm", ALG_ENVELOPED)])?;
    w.open("ds:Transform", &[("Algorithm", NS_EXC_C14N)])?;
    w.empty(
        "ec:InclusiveNamespaces",
        &[("xmlns:ec", NS_EXC_C14N), ("PrefixList", "xs")],
    )?;
    w.close("ds:Transform");
    w.close("ds:Transforms");
    w.empty(
        "ds:DigestMethod",
        &[("Algorithm", signing.algorithms.digest_method())],
    )?;
    w.leaf("ds:DigestValue", &[], "")?;
    w.close("ds:Reference");
    w.close("ds:SignedInfo");
    w.leaf("ds:SignatureValue", &[], "")?;
    w.open("ds:KeyInfo", &[])?;
    w.open("ds:X509Data", &[])?;
    w.leaf(
        "ds:X509Certificate",
        &[],
        &signing.keys.certificate_base64(),
    )?;
    w.close("ds:X509Data");
    w.close("ds:KeyInfo");
    w.close("ds:Signature");
    Ok(())
}

/// Fills the first `ds:Signature` template of `template` (in document order) with
/// bergshamra.
fn sign(keys: &KeyPair, template: String) -> Result<String, TestIdpError> {
    let mut manager = bergshamra::KeysManager::new();
    manager.add_key(keys.signing_key.clone());
    let context = bergshamra::DsigContext::new(manager);
    bergshamra::dsig::sign::sign_owned(&context, template).map_err(TestIdpError::Signing)
}

/// `signed` with the `NameID` of `subject` replaced by another one.
fn tamper_name_id(signed: &str, subject: &str) -> Result<String, TestIdpError> {
    let replacement = if subject == EVIL_SUBJECT {
        format!("tampered-{EVIL_SUBJECT}")
    } else {
        EVIL_SUBJECT.to_owned()
    };
    let original = name_id_markup(subject)?;
    if !signed.contains(&original) {
        return Err(TestIdpError::Internal("the signed NameID was not found"));
    }
    Ok(signed.replacen(&original, &name_id_markup(&replacement)?, 1))
}

fn name_id_markup(subject: &str) -> Result<String, TestIdpError> {
    let mut w = Writer::new();
    w.leaf("saml:NameID", &[("Format", FORMAT_PERSISTENT)], subject)?;
    Ok(w.finish())
}

/// `candidate`, or `candidate/elsewhere` when that is what `actual` is.
fn different(candidate: &str, actual: &str) -> String {
    if candidate == actual {
        format!("{candidate}/elsewhere")
    } else {
        candidate.to_owned()
    }
}

fn shift(at: DateTime<Utc>, by: TimeDelta) -> Result<DateTime<Utc>, TestIdpError> {
    at.checked_add_signed(by)
        .ok_or(TestIdpError::TimeOutOfRange)
}

/// `at` as an `xs:dateTime` in UTC.
fn instant(at: DateTime<Utc>) -> Result<String, TestIdpError> {
    if !(1..=9999).contains(&at.year()) {
        return Err(TestIdpError::TimeOutOfRange);
    }
    Ok(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// What the HTTP-POST binding carries as the `SAMLResponse` form field: the response's
/// UTF-8 bytes in standard base64 (with padding, no line breaks).
pub fn post_form_value(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml.as_bytes())
}

/// An HTML page that posts `xml` to `acs_url` as the HTTP-POST binding does
/// (`SAMLResponse`, and `RelayState` when given), by itself once loaded, or with its
/// Continue button when scripts are off.
///
/// # Errors
///
/// [`TestIdpError::UnrepresentableCharacter`] when `acs_url` or `relay_state` cannot be
/// written in HTML.
pub fn post_form_html(
    acs_url: &str,
    xml: &str,
    relay_state: Option<&str>,
) -> Result<String, TestIdpError> {
    let mut page = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Signing in…</title></head>\
         <body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"",
    );
    page.push_str(&xml::escape(acs_url)?);
    page.push_str("\"><input type=\"hidden\" name=\"SAMLResponse\" value=\"");
    page.push_str(&post_form_value(xml));
    page.push_str("\">");
    if let Some(relay_state) = relay_state {
        page.push_str("<input type=\"hidden\" name=\"RelayState\" value=\"");
        page.push_str(&xml::escape(relay_state)?);
        page.push_str("\">");
    }
    page.push_str(
        "<noscript><button type=\"submit\">Continue</button></noscript></form></body></html>",
    );
    Ok(page)
}

#[cfg(test)]
mod tests;
