//! AuthnRequests as an IdP receives them: undoing the HTTP-Redirect binding (percent
//! encoding, base64, DEFLATE) or the HTTP-POST binding (base64), then reading the
//! request's XML under the same rules as a response's.

use std::io::Read as _;

use base64::Engine as _;
use chrono::{DateTime, Utc};

use crate::error::VerifyError;
use crate::xml::{self, Limits, SAML, SAMLP};

/// The largest AuthnRequest read, in bytes: the XML once inflated, and each encoded
/// form of it (the query string, the form field). Real requests are under 2 KB.
pub const MAX_AUTHN_REQUEST_BYTES: usize = 64 * 1024;

/// How deep a request's elements may nest: requests nest 3 deep, 10 with extensions.
const MAX_DEPTH: u32 = 32;

/// An AuthnRequest as an IdP receives it: what the SP asks for, read from the
/// HTTP-Redirect binding's query ([`AuthnRequest::from_redirect_query`]), the HTTP-POST
/// binding's form field ([`AuthnRequest::from_post_form`]) or the XML itself
/// ([`AuthnRequest::from_xml`]).
///
/// Reading a request verifies nothing about who sent it: a Redirect binding's
/// `SigAlg` and `Signature` are reported in [`AuthnRequest::signature`], with the exact
/// octets they sign, for a caller who wants to check them (this crate does not), and an
/// enveloped XML signature of the POST binding is left in [`AuthnRequest::xml`]. Hostile
/// input is refused with an [`AuthnRequestError`], never a panic: more than
/// [`MAX_AUTHN_REQUEST_BYTES`] (encoded or inflated: a DEFLATE bomb stops there), a
/// DOCTYPE, XML that is not well-formed or has duplicate IDs.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// use chrono::{TimeZone, Utc};
/// use jit_provisioning::{IdpBinding, IdpTrip, SamlVerifier};
/// use jit_provisioning_saml::test_idp::TestIdp;
/// use jit_provisioning_saml::{AuthnRequest, AuthnRequestError, SamlConfig};
///
/// // An SP whose org `acme` signs in through an IdP at https://idp.example/sso.
/// let idp = TestIdp::generate("https://idp.example/metadata")?;
/// let policy: jit_provisioning::Config = serde_json::from_value(serde_json::json!({
///     "orgs": {"acme": {"jit": true, "idp": "https://idp.example/metadata"}}
/// }))?;
/// let policy = policy.validate()?;
/// let saml: SamlConfig = serde_json::from_value(serde_json::json!({
///     "sp": {"base_url": "https://app.example"},
///     "orgs": {"acme": {"idp": {"metadata": idp.metadata_xml("https://idp.example/sso")?}}}
/// }))?;
/// let saml = saml.validate(&policy, None)?;
///
/// // The SP sends a person to the IdP...
/// let mut trip = IdpTrip::new("acme", "https://idp.example/metadata");
/// trip.relay_state = Some("/acme/projects".into());
/// let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
/// let redirect = saml.authn_request(&trip, now).await?;
/// let IdpBinding::Redirect { url } = &redirect.binding else { unreachable!() };
///
/// // ...and the IdP reads what it asks.
/// let (_, query) = url.split_once('?').unwrap_or_default();
/// let request = AuthnRequest::from_redirect_query(query)?;
/// assert_eq!(request.id, redirect.request_id);
/// assert_eq!(request.issuer, "https://app.example/acme/saml/metadata");
/// assert_eq!(request.acs_url.as_deref(), Some("https://app.example/acme/saml/acs"));
/// assert_eq!(request.relay_state.as_deref(), Some("/acme/projects"));
/// assert_eq!(request.issue_instant, now);
/// assert!(request.signature.is_none(), "this SP signs no requests");
///
/// // Not base64: refused, and said so.
/// assert!(matches!(
///     AuthnRequest::from_redirect_query("SAMLRequest=%21%21"),
///     Err(AuthnRequestError::NotBase64 { .. })
/// ));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # })
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthnRequest {
    /// The request's `ID`: the response's `InResponseTo`.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: DateTime<Utc>,
    /// The `saml:Issuer`: the SP's entity id, the assertion's audience.
    pub issuer: String,
    /// `AssertionConsumerServiceURL`, where the response is to be posted; `None` when the
    /// SP leaves it to the IdP's metadata of the SP (or names an index instead).
    pub acs_url: Option<String>,
    /// `ProtocolBinding`: the binding the response is to come by (HTTP-POST, nearly
    /// always).
    pub protocol_binding: Option<String>,
    /// `ForceAuthn`: the person must authenticate afresh (default `false`).
    pub force_authn: bool,
    /// `IsPassive`: the IdP must not show the person anything (default `false`).
    pub is_passive: bool,
    /// `Destination`: the IdP endpoint the SP sent the request to.
    pub destination: Option<String>,
    /// `NameIDPolicy/@Format`: the NameID format the SP asks for.
    pub name_id_format: Option<String>,
    /// The binding's `RelayState`, to be sent back with the response unchanged.
    pub relay_state: Option<String>,
    /// The HTTP-Redirect binding's signature, when the query carries one: not verified.
    pub signature: Option<RedirectSignature>,
    /// The request's XML, as decoded.
    pub xml: String,
}

/// The `SigAlg` and `Signature` of an HTTP-Redirect query (bindings, section 3.4.4.1),
/// as received: **not verified**. A caller who checks them verifies
/// [`RedirectSignature::value`] over [`RedirectSignature::signed_octets`] with the SP's
/// key, by [`RedirectSignature::algorithm`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedirectSignature {
    /// `SigAlg`, decoded: for example `http://www.w3.org/2001/04/xmldsig-more#rsa-sha256`.
    pub algorithm: String,
    /// `Signature`, base64-decoded.
    pub value: Vec<u8>,
    /// What the signature covers: `SAMLRequest=…&RelayState=…&SigAlg=…` with each value
    /// exactly as it came in the query (still percent-encoded), `RelayState` only when
    /// present.
    pub signed_octets: String,
}

/// Why an AuthnRequest could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthnRequestError {
    /// A parameter the binding requires is not there (`SAMLRequest`; `SigAlg` beside a
    /// `Signature`).
    #[error("no `{0}` is given")]
    MissingParameter(&'static str),
    /// A parameter is given more than once: which one counts would be a guess.
    #[error("`{0}` is given more than once")]
    DuplicateParameter(&'static str),
    /// A query or form value is not percent-encoded UTF-8.
    #[error("`{0}` is not percent-encoded UTF-8")]
    BadEncoding(&'static str),
    /// A value is not base64.
    #[error("`{field}` is not base64: {detail}")]
    NotBase64 {
        /// The parameter or field (`SAMLRequest`, `Signature`).
        field: &'static str,
        /// What the decoder said.
        detail: String,
    },
    /// The Redirect binding's `SAMLRequest` does not inflate (it must be DEFLATE
    /// compressed, without a zlib or gzip header).
    #[error("`SAMLRequest` does not inflate: {0}")]
    NotDeflated(String),
    /// The request, encoded or inflated, is larger than [`MAX_AUTHN_REQUEST_BYTES`].
    #[error("the AuthnRequest is over the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The request is not UTF-8 text.
    #[error("the AuthnRequest is not UTF-8 text")]
    NotUtf8,
    /// The request has a document type declaration, which SAML never uses (entity
    /// expansion attacks start there).
    #[error("the AuthnRequest contains a DOCTYPE, which SAML never uses")]
    Doctype,
    /// The XML is not well-formed, too deep, has invalid names or duplicate IDs, or an
    /// element is not where SAML puts it.
    #[error("malformed AuthnRequest: {0}")]
    Malformed(String),
    /// The document element is not `samlp:AuthnRequest`.
    #[error("the document element is `{0}`, not samlp:AuthnRequest")]
    NotAnAuthnRequest(String),
    /// `Version` is not `2.0`.
    #[error("the AuthnRequest's Version is `{0}`, not 2.0")]
    UnsupportedVersion(String),
    /// A required attribute or element is missing (`ID`, `Version`, `IssueInstant`,
    /// `Issuer`).
    #[error("the AuthnRequest has no {0}")]
    Missing(&'static str),
    /// An attribute's value is not of its type (a date and time, a boolean).
    #[error("`{value}` is not a valid {name}")]
    InvalidValue {
        /// The attribute.
        name: &'static str,
        /// What it holds.
        value: String,
    },
}

impl AuthnRequest {
    /// Reads the HTTP-Redirect binding's query string (without the `?`; a leading one is
    /// skipped): `SAMLRequest` (base64 of the DEFLATE-compressed XML), `RelayState`,
    /// and `SigAlg` and `Signature` when the SP signs, which are reported, not verified.
    /// Other parameters are ignored; a `+` in `RelayState` or `SigAlg` is a space, as
    /// in any form-encoded query, and a `+` in the base64 values is kept as `+`.
    ///
    /// # Errors
    ///
    /// Each [`AuthnRequestError`] says what was wrong: a missing or repeated parameter,
    /// bad percent-encoding, base64 or DEFLATE, more than
    /// [`MAX_AUTHN_REQUEST_BYTES`] before or after inflating, and everything
    /// [`AuthnRequest::from_xml`] refuses.
    pub fn from_redirect_query(query: &str) -> Result<Self, AuthnRequestError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        if query.len() > MAX_AUTHN_REQUEST_BYTES {
            return Err(too_large());
        }
        let mut saml_request = None;
        let mut relay_state = None;
        let mut sig_alg = None;
        let mut signature = None;
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (slot, name) = match name {
                "SAMLRequest" => (&mut saml_request, "SAMLRequest"),
                "RelayState" => (&mut relay_state, "RelayState"),
                "SigAlg" => (&mut sig_alg, "SigAlg"),
                "Signature" => (&mut signature, "Signature"),
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(AuthnRequestError::DuplicateParameter(name));
            }
        }
        let raw_request = saml_request.ok_or(AuthnRequestError::MissingParameter("SAMLRequest"))?;
        let deflated = base64_field(
            "SAMLRequest",
            &percent_decode(raw_request, "SAMLRequest", false)?,
        )?;
        let xml = inflate(&deflated)?;
        let signature = match signature {
            None => None,
            Some(raw_signature) => {
                let raw_alg = sig_alg.ok_or(AuthnRequestError::MissingParameter("SigAlg"))?;
                let mut signed_octets = format!("SAMLRequest={raw_request}");
                if let Some(raw_relay_state) = relay_state {
                    signed_octets.push_str("&RelayState=");
                    signed_octets.push_str(raw_relay_state);
                }
                signed_octets.push_str("&SigAlg=");
                signed_octets.push_str(raw_alg);
                Some(RedirectSignature {
                    algorithm: text(percent_decode(raw_alg, "SigAlg", true)?, "SigAlg")?,
                    value: base64_field(
                        "Signature",
                        &percent_decode(raw_signature, "Signature", false)?,
                    )?,
                    signed_octets,
                })
            }
        };
        let relay_state = relay_state
            .map(|raw| text(percent_decode(raw, "RelayState", true)?, "RelayState"))
            .transpose()?;
        let mut request = Self::from_xml(&xml)?;
        request.relay_state = relay_state;
        request.signature = signature;
        Ok(request)
    }

    /// Reads the HTTP-POST binding's `SAMLRequest` form field (base64 of the XML, not
    /// compressed; line breaks allowed) and its `RelayState` field, if any.
    ///
    /// # Errors
    ///
    /// [`AuthnRequestError::NotBase64`], [`AuthnRequestError::TooLarge`] (the field or
    /// the relay state over [`MAX_AUTHN_REQUEST_BYTES`]), and everything
    /// [`AuthnRequest::from_xml`] refuses.
    pub fn from_post_form(
        saml_request: &str,
        relay_state: Option<&str>,
    ) -> Result<Self, AuthnRequestError> {
        if saml_request.len() > MAX_AUTHN_REQUEST_BYTES / 3 * 4 + 4096
            || relay_state.is_some_and(|relay_state| relay_state.len() > MAX_AUTHN_REQUEST_BYTES)
        {
            return Err(too_large());
        }
        let xml = base64_field("SAMLRequest", saml_request.as_bytes())?;
        let mut request = Self::from_xml(&xml)?;
        request.relay_state = relay_state.map(str::to_owned);
        Ok(request)
    }

    /// Reads an AuthnRequest's XML: bytes in, so that a fuzzer can call it directly.
    /// The XML must be UTF-8, at most [`MAX_AUTHN_REQUEST_BYTES`], without a DOCTYPE,
    /// well-formed with valid names and unique IDs, its document element a
    /// `samlp:AuthnRequest` of `Version="2.0"` with an `ID`, an `IssueInstant` and a
    /// `saml:Issuer`. The relay state and signature are `None`: they travel beside the
    /// XML.
    ///
    /// # Errors
    ///
    /// [`AuthnRequestError::TooLarge`], [`AuthnRequestError::NotUtf8`],
    /// [`AuthnRequestError::Doctype`], [`AuthnRequestError::Malformed`],
    /// [`AuthnRequestError::NotAnAuthnRequest`],
    /// [`AuthnRequestError::UnsupportedVersion`], [`AuthnRequestError::Missing`],
    /// [`AuthnRequestError::InvalidValue`].
    pub fn from_xml(xml: &[u8]) -> Result<Self, AuthnRequestError> {
        if xml.len() > MAX_AUTHN_REQUEST_BYTES {
            return Err(too_large());
        }
        let text = std::str::from_utf8(xml).map_err(|_| AuthnRequestError::NotUtf8)?;
        let limits = Limits {
            max_bytes: MAX_AUTHN_REQUEST_BYTES,
            max_depth: MAX_DEPTH,
        };
        let doc = xml::parse(text, limits).map_err(from_verify)?;
        xml::check_document(&doc).map_err(from_verify)?;
        let root = doc
            .document_element()
            .ok_or_else(|| AuthnRequestError::Malformed("no document element".into()))?;
        if !xml::is(&doc, root, SAMLP, "AuthnRequest") {
            let name = doc
                .element(root)
                .map(|element| element.name.prefixed_name().to_string())
                .unwrap_or_default();
            return Err(AuthnRequestError::NotAnAuthnRequest(name));
        }
        let version =
            xml::attr(&doc, root, "Version").ok_or(AuthnRequestError::Missing("Version"))?;
        if version != "2.0" {
            return Err(AuthnRequestError::UnsupportedVersion(version.to_owned()));
        }
        let id = xml::attr(&doc, root, "ID").ok_or(AuthnRequestError::Missing("ID"))?;
        let issue_instant = xml::instant(&doc, root, "IssueInstant")
            .map_err(|_| AuthnRequestError::InvalidValue {
                name: "IssueInstant",
                value: xml::attr(&doc, root, "IssueInstant")
                    .unwrap_or_default()
                    .to_owned(),
            })?
            .ok_or(AuthnRequestError::Missing("IssueInstant"))?;
        let issuer = xml::child(&doc, root, SAML, "Issuer")
            .map_err(from_verify)?
            .ok_or(AuthnRequestError::Missing("Issuer"))?;
        let issuer = xml::text(&doc, issuer).map_err(from_verify)?;
        if issuer.is_empty() {
            return Err(AuthnRequestError::Missing("Issuer"));
        }
        let name_id_format = xml::child(&doc, root, SAMLP, "NameIDPolicy")
            .map_err(from_verify)?
            .and_then(|policy| xml::attr(&doc, policy, "Format"))
            .map(str::to_owned);
        let owned = |name: &str| xml::attr(&doc, root, name).map(str::to_owned);
        Ok(Self {
            id: id.to_owned(),
            issue_instant,
            issuer,
            acs_url: owned("AssertionConsumerServiceURL"),
            protocol_binding: owned("ProtocolBinding"),
            force_authn: boolean(xml::attr(&doc, root, "ForceAuthn"), "ForceAuthn")?,
            is_passive: boolean(xml::attr(&doc, root, "IsPassive"), "IsPassive")?,
            destination: owned("Destination"),
            name_id_format,
            relay_state: None,
            signature: None,
            xml: text.to_owned(),
        })
    }
}

fn too_large() -> AuthnRequestError {
    AuthnRequestError::TooLarge {
        limit: MAX_AUTHN_REQUEST_BYTES,
    }
}

fn from_verify(error: VerifyError) -> AuthnRequestError {
    match error {
        VerifyError::TooLarge { .. } => too_large(),
        VerifyError::Doctype => AuthnRequestError::Doctype,
        VerifyError::Malformed(detail) => AuthnRequestError::Malformed(detail),
        VerifyError::DuplicateId(id) => {
            AuthnRequestError::Malformed(format!("two elements share the ID `{id}`"))
        }
        other => AuthnRequestError::Malformed(other.to_string()),
    }
}

/// An `xs:boolean` attribute, `false` when absent.
fn boolean(value: Option<&str>, name: &'static str) -> Result<bool, AuthnRequestError> {
    match value.map(str::trim) {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(AuthnRequestError::InvalidValue {
            name,
            value: other.to_owned(),
        }),
    }
}

/// Base64 with or without padding, line breaks and spaces ignored.
fn base64_field(field: &'static str, encoded: &[u8]) -> Result<Vec<u8>, AuthnRequestError> {
    const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let compact: Vec<u8> = encoded
        .iter()
        .copied()
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    if compact.len() / 4 * 3 > MAX_AUTHN_REQUEST_BYTES {
        return Err(too_large());
    }
    LENIENT
        .decode(&compact)
        .map_err(|error| AuthnRequestError::NotBase64 {
            field,
            detail: error.to_string(),
        })
}

/// Inflates raw DEFLATE, reading no more than the limit allows.
fn inflate(deflated: &[u8]) -> Result<Vec<u8>, AuthnRequestError> {
    let cap = u64::try_from(MAX_AUTHN_REQUEST_BYTES)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut xml = Vec::new();
    flate2::read::DeflateDecoder::new(deflated)
        .take(cap)
        .read_to_end(&mut xml)
        .map_err(|error| AuthnRequestError::NotDeflated(error.to_string()))?;
    if xml.len() > MAX_AUTHN_REQUEST_BYTES {
        return Err(too_large());
    }
    if xml.is_empty() {
        return Err(AuthnRequestError::NotDeflated("nothing inflated".into()));
    }
    Ok(xml)
}

fn text(bytes: Vec<u8>, field: &'static str) -> Result<String, AuthnRequestError> {
    String::from_utf8(bytes).map_err(|_| AuthnRequestError::BadEncoding(field))
}

/// Undoes percent-encoding; `plus_is_space` for form-encoded text.
pub(crate) fn percent_decode(
    raw: &str,
    field: &'static str,
    plus_is_space: bool,
) -> Result<Vec<u8>, AuthnRequestError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'%' => {
                let high = bytes.next().and_then(hex_value);
                let low = bytes.next().and_then(hex_value);
                match (high, low) {
                    (Some(high), Some(low)) => out.push(high << 4 | low),
                    _ => return Err(AuthnRequestError::BadEncoding(field)),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            other => out.push(other),
        }
    }
    Ok(out)
}

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|digit| u8::try_from(digit).ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn percent_decoding_keeps_plus_in_base64_and_refuses_broken_escapes() {
        assert_eq!(percent_decode("a+b%2B", "x", false).unwrap(), b"a+b+");
        assert_eq!(percent_decode("a+b%2b", "x", true).unwrap(), b"a b+");
        assert_eq!(
            percent_decode("%4", "RelayState", true),
            Err(AuthnRequestError::BadEncoding("RelayState"))
        );
        assert_eq!(
            percent_decode("%zz", "RelayState", true),
            Err(AuthnRequestError::BadEncoding("RelayState"))
        );
    }

    #[test]
    fn booleans_are_xs_booleans() {
        assert_eq!(boolean(Some("1"), "IsPassive"), Ok(true));
        assert_eq!(boolean(None, "IsPassive"), Ok(false));
        assert!(boolean(Some("yes"), "IsPassive").is_err());
    }
}
