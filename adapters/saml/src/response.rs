//! Verifying one SAML response: every check, in order, on signed content only.
//!
//! The order is fixed so that the first refusal is the most useful one: the document's
//! shape, then the IdP's status, then the assertion count and signatures, then who the
//! assertion is from, for and when.

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use uppsala::{Document, NodeId, NodeKind};

use crate::cert::{Certificate, MIN_RSA_BITS};
use crate::error::VerifyError;
use crate::idp::TrustedIdp;
use crate::model::{Attribute, NameId};
use crate::signature::{self, SignatureBackend};
use crate::sp_key::SpKey;
use crate::xml::{self, Limits, DS, SAML, SAMLP, XENC, XSI};

const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// Which `InResponseTo` values a response may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InResponseTo<'a> {
    /// It must name one of these outstanding AuthnRequest ids; a response with none is
    /// accepted only where the IdP allows IdP-initiated sign-in.
    OneOf(&'a [String]),
    /// Not checked (a debugging tool looking at a captured response).
    Unchecked,
}

/// The SP side of one verification: who the response must be for.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Expected<'a> {
    /// The SP's entity id: the audience the assertion must name.
    pub sp_entity_id: &'a str,
    /// The ACS URL: the response's `Destination` and the confirmation's `Recipient`.
    pub acs_url: &'a str,
    /// Which requests the response may answer.
    pub in_response_to: InResponseTo<'a>,
}

impl<'a> Expected<'a> {
    /// A response for `sp_entity_id`, posted to `acs_url`, answering `in_response_to`.
    pub fn new(sp_entity_id: &'a str, acs_url: &'a str, in_response_to: InResponseTo<'a>) -> Self {
        Self {
            sp_entity_id,
            acs_url,
            in_response_to,
        }
    }
}

/// How to verify: the backend, the input limits and the SP's decryption key.
///
/// Start from `VerifyOptions::default()` and change what differs, with the `with_`
/// methods or by setting fields.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct VerifyOptions<'k> {
    /// The signature backend.
    pub backend: SignatureBackend,
    /// Size and depth limits.
    pub limits: Limits,
    /// The SP's key, for an `EncryptedAssertion`; without one such a response is
    /// refused (`encrypted_unsupported`).
    pub decryption_key: Option<&'k SpKey>,
}

impl<'k> VerifyOptions<'k> {
    /// These options, verifying with `backend`.
    pub fn with_backend(mut self, backend: SignatureBackend) -> Self {
        self.backend = backend;
        self
    }

    /// These options, within `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// These options, decrypting an `EncryptedAssertion` with `key`.
    pub fn with_decryption_key(mut self, key: &'k SpKey) -> Self {
        self.decryption_key = Some(key);
        self
    }
}

/// What a verified response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// A signed assertion that passed every check.
    Assertion(SignedAssertion),
    /// The IdP answered with a status other than Success.
    Status(StatusResponse),
}

/// A non-Success status. It is accepted unsigned (IdPs rarely sign errors): it can
/// only ever refuse a sign-in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct StatusResponse {
    /// The top-level status code.
    pub status: String,
    /// The second-level code, where the IdP nests the real reason.
    pub sub_status: Option<String>,
    /// The IdP's `StatusMessage`, if any.
    pub message: Option<String>,
}

/// An assertion read from signed content only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SignedAssertion {
    /// The assertion's `ID`: the replay guard's key.
    pub id: String,
    /// The assertion's issuer (the IdP's entity id).
    pub issuer: String,
    /// The subject's NameID, if any.
    pub name_id: Option<NameId>,
    /// The attributes, in document order.
    pub attributes: Vec<Attribute>,
    /// When the IdP authenticated the person (`AuthnStatement/@AuthnInstant`).
    pub authn_instant: Option<DateTime<Utc>>,
    /// The IdP's session index, for single logout.
    pub session_index: Option<String>,
    /// The earliest of the Conditions' and the bearer confirmation's `NotOnOrAfter`.
    pub not_on_or_after: DateTime<Utc>,
    /// The request this answers, if any.
    pub in_response_to: Option<String>,
    /// Whether a valid signature covers the Response.
    pub response_signed: bool,
    /// Whether a valid signature covers the Assertion element itself.
    pub assertion_signed: bool,
    /// The SHA-256 fingerprint of the certificate that signed.
    pub signer: String,
}

/// One check passed, for `--explain` and debugging.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Check {
    /// The check's name (`signature`, `audience`, …).
    pub check: &'static str,
    /// What was found.
    pub detail: String,
}

/// The checks passed so far; collects nothing unless asked to.
struct Trace<'t>(Option<&'t mut Vec<Check>>);

impl Trace<'_> {
    fn pass(&mut self, check: &'static str, detail: impl FnOnce() -> String) {
        if let Some(checks) = self.0.as_deref_mut() {
            checks.push(Check {
                check,
                detail: detail(),
            });
        }
    }
}

/// Decodes a `SAMLResponse` form value (base64, line breaks allowed) to XML text.
pub fn decode_post(value: &str, limits: Limits) -> Result<String, VerifyError> {
    let compact: Vec<u8> = value
        .bytes()
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    // base64 grows text by 4/3: refuse before decoding what could not fit.
    if compact.len() / 4 * 3 > limits.max_bytes {
        return Err(VerifyError::TooLarge {
            size: compact.len() / 4 * 3,
            limit: limits.max_bytes,
        });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|error| VerifyError::Malformed(format!("SAMLResponse is not base64: {error}")))?;
    String::from_utf8(bytes)
        .map_err(|_| VerifyError::Malformed("SAMLResponse is not UTF-8 text".into()))
}

/// Verifies a response's XML text for `idp` and `expected` at `now`.
pub fn verify(
    xml: &str,
    idp: &TrustedIdp,
    expected: &Expected<'_>,
    now: DateTime<Utc>,
    options: &VerifyOptions<'_>,
) -> Result<Verified, VerifyError> {
    verify_traced(xml, idp, expected, now, options, Trace(None))
}

/// Like [`verify`], also returning each check passed, in order, up to the first refusal.
pub fn verify_explained(
    xml: &str,
    idp: &TrustedIdp,
    expected: &Expected<'_>,
    now: DateTime<Utc>,
    options: &VerifyOptions<'_>,
) -> (Result<Verified, VerifyError>, Vec<Check>) {
    let mut checks = Vec::new();
    let result = verify_traced(xml, idp, expected, now, options, Trace(Some(&mut checks)));
    (result, checks)
}

fn verify_traced(
    xml: &str,
    idp: &TrustedIdp,
    expected: &Expected<'_>,
    now: DateTime<Utc>,
    options: &VerifyOptions<'_>,
    mut trace: Trace<'_>,
) -> Result<Verified, VerifyError> {
    let doc = xml::parse(xml, options.limits)?;
    xml::check_document(&doc)?;
    trace.pass("well_formed", || {
        format!("{} bytes, no DOCTYPE, no duplicate IDs", xml.len())
    });

    let response = doc
        .document_element()
        .filter(|&root| xml::is(&doc, root, SAMLP, "Response"))
        .ok_or_else(|| {
            VerifyError::Malformed("the document element is not samlp:Response".into())
        })?;
    require_version(&doc, response)?;
    let response_id = xml::required_attr(&doc, response, "ID")?;

    let response_issuer = xml::child(&doc, response, SAML, "Issuer")?;
    let status = read_status(&doc, response)?;
    if status.status != SUCCESS {
        if let Some(issuer) = response_issuer {
            check_issuer(&doc, issuer, "Response", idp.entity_id())?;
        }
        trace.pass("status", || status.status.clone());
        return Ok(Verified::Status(status));
    }
    trace.pass("status", || "Success".into());

    let found = the_one_assertion(&doc, response)?;
    trace.pass("one_assertion", || {
        match found {
            Found::Plain(_) => "exactly one, a child of the Response",
            Found::Encrypted(_) => "exactly one, encrypted, a child of the Response",
        }
        .into()
    });

    let allow_sha1 = idp.options().allow_sha1;
    let decrypted_text;
    let decrypted_doc;
    let (assertion_doc, assertion, response_signed, assertion_signed, signer) = match found {
        Found::Plain(assertion) => {
            let assertion_id = xml::required_attr(&doc, assertion, "ID")?;
            let owners = [
                (response, response_id, "Response"),
                (assertion, assertion_id, "Assertion"),
            ];
            let valid = check_signatures(xml, &doc, &owners, idp, options, allow_sha1, &mut trace)?;
            let covers = |id: &str| valid.iter().any(|signature| signature.covered_id == id);
            let signer = valid.first().map(|signature| signature.signer.clone());
            (
                &doc,
                assertion,
                covers(response_id),
                covers(assertion_id),
                signer,
            )
        }
        Found::Encrypted(container) => {
            // The ciphertext decrypted must be the one counted: bergshamra decrypts the
            // document's first EncryptedData, wherever it is.
            let encrypted_data = xml::descendants_named(&doc, response, XENC, "EncryptedData");
            match encrypted_data.as_slice() {
                [only] if doc.parent(*only) == Some(container) => {}
                _ => {
                    return Err(VerifyError::SignatureWrapping(
                        "encrypted data outside the one EncryptedAssertion".into(),
                    ))
                }
            }
            // The Response's signature covers the encrypted form: check it on the
            // document as received, then the assertion's own, on the plaintext.
            let owners = [(response, response_id, "Response")];
            let valid = if xml::child(&doc, response, DS, "Signature")?.is_some() {
                check_signatures(xml, &doc, &owners, idp, options, allow_sha1, &mut trace)?
            } else {
                refuse_stray_signatures(&doc, response, &[response])?;
                Vec::new()
            };
            let key = options
                .decryption_key
                .ok_or(VerifyError::EncryptedWithoutKey)?;
            decrypted_text =
                crate::encrypted::decrypt_assertion(&doc, container, key, idp.options())?;
            // Text that is not one well-formed assertion fails like a bad key or bad
            // padding: the ACS must not tell them apart.
            decrypted_doc = xml::parse(&decrypted_text, options.limits)
                .map_err(crate::encrypted::plaintext_unreadable)?;
            xml::check_document(&decrypted_doc).map_err(crate::encrypted::plaintext_unreadable)?;
            let assertion = decrypted_doc
                .document_element()
                .filter(|&root| xml::is(&decrypted_doc, root, SAML, "Assertion"))
                .ok_or_else(|| crate::encrypted::plaintext_unreadable(VerifyError::NoAssertion))?;
            // An assertion nested in the plaintext (in Advice) counts as in the clear.
            let nested = xml::descendants_named(&decrypted_doc, assertion, SAML, "Assertion").len()
                + xml::descendants_named(&decrypted_doc, assertion, SAML, "EncryptedAssertion")
                    .len();
            if nested > 0 {
                return Err(VerifyError::MultipleAssertions(nested + 1));
            }
            trace.pass("decrypted", || "the assertion, with the SP's key".into());
            let assertion_id = xml::required_attr(&decrypted_doc, assertion, "ID")?;
            let own = if xml::child(&decrypted_doc, assertion, DS, "Signature")?.is_some() {
                let owners = [(assertion, assertion_id, "Assertion")];
                check_signatures(
                    &decrypted_text,
                    &decrypted_doc,
                    &owners,
                    idp,
                    options,
                    allow_sha1,
                    &mut trace,
                )?
            } else {
                refuse_stray_signatures(&decrypted_doc, assertion, &[])?;
                Vec::new()
            };
            let signer = valid
                .first()
                .or_else(|| own.first())
                .map(|signature| signature.signer.clone());
            (
                &decrypted_doc,
                assertion,
                !valid.is_empty(),
                !own.is_empty(),
                signer,
            )
        }
    };
    let required = idp.options();
    let covered = response_signed || assertion_signed;
    let requirements_met = (response_signed || !required.require_signed_response)
        && (assertion_signed || !required.require_signed_assertion);
    let signer = match signer {
        Some(signer) if covered && requirements_met => signer,
        _ => return Err(unsigned(idp)),
    };
    trace.pass("signature", || {
        format!(
            "{} signed by the trusted certificate SHA-256 {signer}",
            match (response_signed, assertion_signed) {
                (true, true) => "Response and Assertion",
                (true, false) => "Response",
                _ => "Assertion",
            }
        )
    });

    // Only now, with the signed element known, do its values count.
    if let Some(issuer) = response_issuer {
        check_issuer(&doc, issuer, "Response", idp.entity_id())?;
        trace.pass("response_issuer", || idp.entity_id().to_owned());
    }
    if let Some(destination) = xml::attr(&doc, response, "Destination") {
        if destination != expected.acs_url {
            return Err(VerifyError::WrongDestination {
                found: destination.to_owned(),
                expected: expected.acs_url.to_owned(),
            });
        }
        trace.pass("destination", || destination.to_owned());
    }

    let assertion_id = xml::required_attr(assertion_doc, assertion, "ID")?.to_owned();
    let signed = read_assertion(assertion_doc, assertion, idp, expected, now, &mut trace)?;
    let in_response_to = answered_request(
        xml::attr(&doc, response, "InResponseTo"),
        response_signed,
        signed.confirmation_in_response_to.as_deref(),
    )?;
    check_in_response_to(in_response_to.as_deref(), expected.in_response_to, idp)?;
    trace.pass("in_response_to", || {
        in_response_to
            .clone()
            .unwrap_or_else(|| "none (IdP-initiated)".into())
    });

    Ok(Verified::Assertion(SignedAssertion {
        id: assertion_id,
        issuer: idp.entity_id().to_owned(),
        name_id: signed.name_id,
        attributes: signed.attributes,
        authn_instant: signed.authn_instant,
        session_index: signed.session_index,
        not_on_or_after: signed.not_on_or_after,
        in_response_to,
        response_signed,
        assertion_signed,
        signer,
    }))
}

/// Checks every signature of `doc`: each must sit directly in one of `owners` (an
/// element, its `ID` and its name), be shaped as SAML signs, and verify with a trusted
/// key of sufficient size. Returns the signatures that verified.
fn check_signatures(
    text: &str,
    doc: &Document<'_>,
    owners: &[(NodeId, &str, &'static str)],
    idp: &TrustedIdp,
    options: &VerifyOptions<'_>,
    allow_sha1: bool,
    trace: &mut Trace<'_>,
) -> Result<Vec<signature::ValidSignature>, VerifyError> {
    let root = doc.document_element().ok_or(VerifyError::NoAssertion)?;
    let all = xml::descendants_named(doc, root, DS, "Signature");
    for &node in &all {
        let parent = doc.parent(node);
        let &(owner, owner_id, element) = owners
            .iter()
            .find(|(owner, _, _)| Some(*owner) == parent)
            .ok_or_else(|| {
                VerifyError::SignatureWrapping(
                    "a signature outside the Response and the Assertion".into(),
                )
            })?;
        if xml::children(doc, owner, DS, "Signature").count() > 1 {
            return Err(VerifyError::SignatureWrapping(format!(
                "the {element} holds more than one signature"
            )));
        }
        let shape = signature::check_shape(doc, node, owner_id, element, allow_sha1)?;
        trace.pass("signature_algorithm", || {
            format!(
                "{element}: {} with {}",
                shape.signature_method, shape.digest_method
            )
        });
    }
    if all.is_empty() {
        return Err(unsigned(idp));
    }
    let trusted = || idp.keys().fingerprints();
    let valid = signature::verify(options.backend, text, doc, idp.keys()).map_err(|reason| {
        match all
            .iter()
            .find_map(|&node| signature::embedded_signer(doc, node))
            .filter(|signer| !trusted().contains(signer))
        {
            Some(signer) => VerifyError::UntrustedSigner {
                signer,
                trusted: trusted(),
            },
            None => VerifyError::BadSignature {
                element: match all.as_slice() {
                    [one] => owners
                        .iter()
                        .find(|(owner, _, _)| Some(*owner) == doc.parent(*one))
                        .map_or("Response or Assertion", |(_, _, element)| element),
                    _ => "Response or Assertion",
                },
                reason,
                trusted: trusted(),
            },
        }
    })?;
    if valid.len() != all.len() {
        return Err(VerifyError::BadSignature {
            element: "Response or Assertion",
            reason: format!("{} of {} signatures verified", valid.len(), all.len()),
            trusted: trusted(),
        });
    }
    for signature in &valid {
        let bits = idp
            .certificates()
            .iter()
            .find(|certificate| certificate.fingerprint() == signature.signer)
            .and_then(Certificate::rsa_bits);
        if let Some(bits) = bits.filter(|&bits| bits < MIN_RSA_BITS) {
            return Err(VerifyError::WeakKey {
                bits,
                signer: signature.signer.clone(),
            });
        }
    }
    Ok(valid)
}

/// Refuses any signature under `root` that is not a child of one of `owners`.
fn refuse_stray_signatures(
    doc: &Document<'_>,
    root: NodeId,
    owners: &[NodeId],
) -> Result<(), VerifyError> {
    let stray = xml::descendants_named(doc, root, DS, "Signature")
        .into_iter()
        .any(|node| {
            doc.parent(node)
                .is_none_or(|parent| !owners.contains(&parent))
        });
    if stray {
        return Err(VerifyError::SignatureWrapping(
            "a signature outside the Response and the Assertion".into(),
        ));
    }
    Ok(())
}

fn unsigned(idp: &TrustedIdp) -> VerifyError {
    VerifyError::Unsigned {
        response_required: idp.options().require_signed_response,
        assertion_required: idp.options().require_signed_assertion,
    }
}

fn require_version(doc: &Document<'_>, node: NodeId) -> Result<(), VerifyError> {
    match xml::attr(doc, node, "Version") {
        Some("2.0") => Ok(()),
        Some(other) => Err(VerifyError::Malformed(format!(
            "{} Version is `{other}`, not 2.0",
            xml::local_name(doc, node)
        ))),
        None => Err(VerifyError::Malformed(format!(
            "{} has no Version (SAML 2.0 requires it)",
            xml::local_name(doc, node)
        ))),
    }
}

fn check_issuer(
    doc: &Document<'_>,
    issuer: NodeId,
    element: &'static str,
    expected: &str,
) -> Result<(), VerifyError> {
    let found = xml::text(doc, issuer)?;
    if found != expected {
        return Err(VerifyError::WrongIssuer {
            element,
            found,
            expected: expected.to_owned(),
        });
    }
    Ok(())
}

fn read_status(doc: &Document<'_>, response: NodeId) -> Result<StatusResponse, VerifyError> {
    let status = xml::required_child(doc, response, SAMLP, "Status")?;
    let code = xml::required_child(doc, status, SAMLP, "StatusCode")?;
    let value = xml::required_attr(doc, code, "Value")?;
    let sub_status = match xml::child(doc, code, SAMLP, "StatusCode")? {
        Some(sub) => Some(xml::required_attr(doc, sub, "Value")?.to_owned()),
        None => None,
    };
    let message = match xml::child(doc, status, SAMLP, "StatusMessage")? {
        Some(message) => Some(xml::text(doc, message)?),
        None => None,
    };
    Ok(StatusResponse {
        status: value.trim().to_owned(),
        sub_status,
        message,
    })
}

/// The response's only assertion, which must be a direct child of the Response: an
/// assertion anywhere else (in Advice, Extensions or an Object) is how signature
/// wrapping hides a second one.
fn the_one_assertion(doc: &Document<'_>, response: NodeId) -> Result<Found, VerifyError> {
    let all = xml::descendants_named(doc, response, SAML, "Assertion");
    let encrypted = xml::descendants_named(doc, response, SAML, "EncryptedAssertion");
    let count = all.len() + encrypted.len();
    if count > 1 {
        return Err(VerifyError::MultipleAssertions(count));
    }
    let found = match (all.first(), encrypted.first()) {
        (Some(&assertion), _) => (assertion, Found::Plain(assertion)),
        (None, Some(&encrypted)) => (encrypted, Found::Encrypted(encrypted)),
        (None, None) => return Err(VerifyError::NoAssertion),
    };
    if doc.parent(found.0) != Some(response) {
        return Err(VerifyError::SignatureWrapping(
            "the assertion is not a child of the Response".into(),
        ));
    }
    Ok(found.1)
}

/// The response's one assertion, as sent.
#[derive(Debug, Clone, Copy)]
enum Found {
    Plain(NodeId),
    Encrypted(NodeId),
}

/// What the assertion element says, checked against the IdP, the SP and the clock.
struct AssertionContent {
    name_id: Option<NameId>,
    attributes: Vec<Attribute>,
    authn_instant: Option<DateTime<Utc>>,
    session_index: Option<String>,
    not_on_or_after: DateTime<Utc>,
    confirmation_in_response_to: Option<String>,
}

fn read_assertion(
    doc: &Document<'_>,
    assertion: NodeId,
    idp: &TrustedIdp,
    expected: &Expected<'_>,
    now: DateTime<Utc>,
    trace: &mut Trace<'_>,
) -> Result<AssertionContent, VerifyError> {
    require_version(doc, assertion)?;
    let issuer = xml::required_child(doc, assertion, SAML, "Issuer")?;
    check_issuer(doc, issuer, "Assertion", idp.entity_id())?;
    trace.pass("assertion_issuer", || idp.entity_id().to_owned());

    let skew_secs = idp.options().skew_secs;
    let skew = TimeDelta::seconds(i64::from(skew_secs));
    let subject = xml::required_child(doc, assertion, SAML, "Subject")?;
    let name_id = match xml::child(doc, subject, SAML, "NameID")? {
        Some(node) => Some(NameId {
            value: xml::text(doc, node)?,
            format: xml::attr(doc, node, "Format").map(str::to_owned),
        }),
        None if xml::child(doc, subject, SAML, "EncryptedID")?.is_some() => {
            return Err(VerifyError::Malformed(
                "the NameID is encrypted (EncryptedID), which is not supported".into(),
            ))
        }
        None => None,
    };

    let confirmation = bearer_confirmation(doc, subject, expected, now, skew, skew_secs)?;
    trace.pass("bearer_confirmation", || {
        format!(
            "recipient {}, valid until {}",
            expected.acs_url,
            confirmation.not_on_or_after.to_rfc3339()
        )
    });

    let conditions = xml::child(doc, assertion, SAML, "Conditions")?;
    let mut not_on_or_after = confirmation.not_on_or_after;
    let mut audiences = Vec::new();
    if let Some(conditions) = conditions {
        if let Some(not_before) = xml::instant(doc, conditions, "NotBefore")? {
            if now + skew < not_before {
                return Err(VerifyError::NotYetValid {
                    not_before,
                    now,
                    skew_secs,
                });
            }
        }
        if let Some(end) = xml::instant(doc, conditions, "NotOnOrAfter")? {
            if now >= end + skew {
                return Err(VerifyError::Expired {
                    what: "assertion",
                    not_on_or_after: end,
                    now,
                    skew_secs,
                });
            }
            not_on_or_after = not_on_or_after.min(end);
        }
        trace.pass("validity", || format!("valid at {}", now.to_rfc3339()));
        // Each AudienceRestriction must name the SP (SAML core 2.5.1.4: they all apply).
        let restrictions: Vec<NodeId> =
            xml::children(doc, conditions, SAML, "AudienceRestriction").collect();
        let mut every_names_us = !restrictions.is_empty();
        for restriction in restrictions {
            let mut names_us = false;
            for audience in xml::children(doc, restriction, SAML, "Audience") {
                let audience = xml::text(doc, audience)?;
                names_us |= audience == expected.sp_entity_id;
                audiences.push(audience);
            }
            every_names_us &= names_us;
        }
        if every_names_us {
            trace.pass("audience", || expected.sp_entity_id.to_owned());
        } else {
            return Err(VerifyError::WrongAudience {
                found: audiences,
                expected: expected.sp_entity_id.to_owned(),
            });
        }
    } else {
        return Err(VerifyError::WrongAudience {
            found: Vec::new(),
            expected: expected.sp_entity_id.to_owned(),
        });
    }

    let mut authn_instant = None;
    let mut session_index = None;
    if let Some(statement) = xml::children(doc, assertion, SAML, "AuthnStatement").next() {
        authn_instant = xml::instant(doc, statement, "AuthnInstant")?;
        session_index = xml::attr(doc, statement, "SessionIndex").map(str::to_owned);
    }
    let mut attributes = Vec::new();
    for statement in xml::children(doc, assertion, SAML, "AttributeStatement") {
        for attribute in xml::children(doc, statement, SAML, "Attribute") {
            attributes.push(read_attribute(doc, attribute)?);
        }
    }
    Ok(AssertionContent {
        name_id,
        attributes,
        authn_instant,
        session_index,
        not_on_or_after,
        confirmation_in_response_to: confirmation.in_response_to,
    })
}

struct Confirmation {
    not_on_or_after: DateTime<Utc>,
    in_response_to: Option<String>,
}

/// The first bearer confirmation that holds here and now; without one, the reason the
/// first bearer confirmation fails.
fn bearer_confirmation(
    doc: &Document<'_>,
    subject: NodeId,
    expected: &Expected<'_>,
    now: DateTime<Utc>,
    skew: TimeDelta,
    skew_secs: u32,
) -> Result<Confirmation, VerifyError> {
    let mut first_failure = None;
    for confirmation in xml::children(doc, subject, SAML, "SubjectConfirmation") {
        if xml::attr(doc, confirmation, "Method") != Some(BEARER) {
            continue;
        }
        let checked = (|| {
            let data = xml::child(doc, confirmation, SAML, "SubjectConfirmationData")?.ok_or(
                VerifyError::NoBearerConfirmation(" with SubjectConfirmationData"),
            )?;
            let not_on_or_after = xml::instant(doc, data, "NotOnOrAfter")?
                .ok_or(VerifyError::NoBearerConfirmation(" with a NotOnOrAfter"))?;
            let recipient = xml::attr(doc, data, "Recipient").unwrap_or_default();
            if recipient != expected.acs_url {
                return Err(VerifyError::WrongRecipient {
                    found: recipient.to_owned(),
                    expected: expected.acs_url.to_owned(),
                });
            }
            if now >= not_on_or_after + skew {
                return Err(VerifyError::Expired {
                    what: "confirmation",
                    not_on_or_after,
                    now,
                    skew_secs,
                });
            }
            Ok(Confirmation {
                not_on_or_after,
                in_response_to: xml::attr(doc, data, "InResponseTo").map(str::to_owned),
            })
        })();
        match checked {
            Ok(confirmation) => return Ok(confirmation),
            Err(error) => {
                first_failure.get_or_insert(error);
            }
        }
    }
    Err(first_failure.unwrap_or(VerifyError::NoBearerConfirmation("")))
}

pub(crate) fn read_attribute(
    doc: &Document<'_>,
    attribute: NodeId,
) -> Result<Attribute, VerifyError> {
    let name = xml::required_attr(doc, attribute, "Name")?.to_owned();
    let friendly_name = xml::attr(doc, attribute, "FriendlyName").map(str::to_owned);
    let mut values = Vec::new();
    for value in xml::children(doc, attribute, SAML, "AttributeValue") {
        values.push(attribute_value(doc, value)?);
    }
    Ok(Attribute {
        name,
        friendly_name,
        values,
    })
}

/// An `AttributeValue`'s text: empty for `xsi:nil`, the NameID's text for a value that
/// holds one (eduPersonTargetedID).
fn attribute_value(doc: &Document<'_>, value: NodeId) -> Result<String, VerifyError> {
    if doc
        .get_attribute_ns(value, XSI, "nil")
        .is_some_and(|nil| matches!(nil.trim(), "true" | "1"))
    {
        return Ok(String::new());
    }
    let mut elements = xml::elements(doc, value);
    if let Some(inner) = elements.next() {
        if elements.next().is_none() && xml::is(doc, inner, SAML, "NameID") {
            let only_space = doc
                .children_iter(value)
                .all(|child| match doc.node_kind(child) {
                    Some(NodeKind::Text(text)) => text.trim().is_empty(),
                    Some(NodeKind::Element(_) | NodeKind::Comment(_)) => true,
                    _ => false,
                });
            if only_space {
                return xml::text(doc, inner);
            }
        }
    }
    xml::text(doc, value)
}

/// The request a response answers, read from signed content only.
///
/// The bearer confirmation's `InResponseTo` is always signed (it is inside the signed
/// assertion). The Response's own attribute counts only when a verified signature covers
/// the Response: otherwise anyone holding an IdP-initiated response could add the id of a
/// request outstanding in their own session and turn it into an answer to that request.
/// Two values that disagree refuse the response, signed or not: an honest IdP writes the
/// same id in both places.
fn answered_request(
    on_response: Option<&str>,
    response_signed: bool,
    on_confirmation: Option<&str>,
) -> Result<Option<String>, VerifyError> {
    match (on_response, on_confirmation) {
        (Some(response), Some(confirmation)) if response != confirmation => {
            Err(VerifyError::InResponseToDisagrees {
                response: response.to_owned(),
                confirmation: confirmation.to_owned(),
            })
        }
        (_, Some(confirmation)) => Ok(Some(confirmation.to_owned())),
        (Some(response), None) if response_signed => Ok(Some(response.to_owned())),
        (Some(_) | None, None) => Ok(None),
    }
}

fn check_in_response_to(
    found: Option<&str>,
    allowed: InResponseTo<'_>,
    idp: &TrustedIdp,
) -> Result<(), VerifyError> {
    let InResponseTo::OneOf(outstanding) = allowed else {
        return Ok(());
    };
    match found {
        Some(id) if outstanding.iter().any(|request| request == id) => Ok(()),
        Some(id) => Err(VerifyError::InResponseToMismatch {
            found: id.to_owned(),
            outstanding: outstanding.to_vec(),
        }),
        None if idp.options().allow_idp_initiated => Ok(()),
        None => Err(VerifyError::Unsolicited),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_answered_comes_from_signed_content_only() {
        let answered = |response, signed, confirmation| {
            answered_request(response, signed, confirmation).map_err(|error| error.category())
        };
        let some = |id: &str| Ok(Some(id.to_owned()));
        // The confirmation is always signed content.
        assert_eq!(answered(None, false, Some("_a")), some("_a"));
        assert_eq!(answered(Some("_a"), false, Some("_a")), some("_a"));
        assert_eq!(answered(Some("_a"), true, Some("_a")), some("_a"));
        // The Response's value alone counts only under the Response's signature.
        assert_eq!(answered(Some("_a"), true, None), some("_a"));
        assert_eq!(answered(Some("_a"), false, None), Ok(None));
        assert_eq!(answered(None, true, None), Ok(None));
        // Two values that disagree refuse, signed or not.
        for signed in [true, false] {
            assert_eq!(
                answered_request(Some("_r"), signed, Some("_c")),
                Err(VerifyError::InResponseToDisagrees {
                    response: "_r".into(),
                    confirmation: "_c".into(),
                })
            );
        }
    }
}
