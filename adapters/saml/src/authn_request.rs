//! AuthnRequests: the trip to the IdP, over HTTP-Redirect (DEFLATE, base64, an optional
//! RSA-SHA256 signature on the query) or HTTP-POST (an auto-submitting form).

use std::io::Write as _;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use jit_provisioning::{IdpBinding, IdpRedirect};

use crate::sp_key::SpKey;
use crate::xml::{escape, SAML, SAMLP};

const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// Which binding carries AuthnRequests to the IdP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestBinding {
    /// HTTP-Redirect: a `302` with the request in the query string. The default.
    #[default]
    Redirect,
    /// HTTP-POST: an auto-submitting form.
    Post,
}

/// One AuthnRequest to build.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub sp_entity_id: &'a str,
    pub acs_url: &'a str,
    pub sso_url: &'a str,
    pub force_authn: bool,
    pub relay_state: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// A fresh request id: `_` and 128 random bits in hex (an `xs:ID` must not start with
/// a digit).
pub(crate) fn new_request_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    let mut id = String::with_capacity(33);
    id.push('_');
    for byte in bytes {
        id.push_str(&format!("{byte:02x}"));
    }
    Ok(id)
}

/// The AuthnRequest XML.
pub(crate) fn xml(request: &Request<'_>, id: &str) -> String {
    let force = if request.force_authn {
        r#" ForceAuthn="true""#
    } else {
        ""
    };
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{id}" Version="2.0" IssueInstant="{instant}" Destination="{destination}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"{force}><saml:Issuer>{issuer}</saml:Issuer><samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>"#,
        id = escape(id),
        instant = request.now.to_rfc3339_opts(SecondsFormat::Secs, true),
        destination = escape(request.sso_url),
        acs = escape(request.acs_url),
        issuer = escape(request.sp_entity_id),
    )
}

/// The request over `binding`, signed with `key` on the Redirect binding when given.
pub(crate) fn build(
    request: &Request<'_>,
    id: String,
    binding: RequestBinding,
    key: Option<&SpKey>,
) -> Result<IdpRedirect, std::io::Error> {
    let xml = xml(request, &id);
    let binding = match binding {
        RequestBinding::Redirect => {
            let mut deflater =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            deflater.write_all(xml.as_bytes())?;
            let deflated = deflater.finish()?;
            let mut query = format!(
                "SAMLRequest={}",
                percent_encode(&base64::engine::general_purpose::STANDARD.encode(deflated))
            );
            if let Some(relay_state) = request.relay_state {
                query.push_str("&RelayState=");
                query.push_str(&percent_encode(relay_state));
            }
            if let Some(key) = key {
                // The signature covers the query exactly as sent (bindings 3.4.4.1).
                query.push_str("&SigAlg=");
                query.push_str(&percent_encode(RSA_SHA256));
                let signature = key.sign_sha256(query.as_bytes()).map_err(|_| {
                    std::io::Error::other("the SP key could not sign the AuthnRequest")
                })?;
                query.push_str("&Signature=");
                query.push_str(&percent_encode(
                    &base64::engine::general_purpose::STANDARD.encode(signature),
                ));
            }
            let separator = if request.sso_url.contains('?') {
                '&'
            } else {
                '?'
            };
            IdpBinding::Redirect {
                url: format!("{}{separator}{query}", request.sso_url),
            }
        }
        RequestBinding::Post => {
            let mut fields = vec![(
                "SAMLRequest".to_owned(),
                base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()),
            )];
            if let Some(relay_state) = request.relay_state {
                fields.push(("RelayState".to_owned(), relay_state.to_owned()));
            }
            IdpBinding::Post {
                url: request.sso_url.to_owned(),
                fields,
            }
        }
    };
    Ok(IdpRedirect::new(id, request.now, binding))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
