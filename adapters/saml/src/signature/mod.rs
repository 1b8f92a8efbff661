//! The one boundary around XML signature cryptography.
//!
//! Everything SAML-specific (where a signature may sit, which algorithms are allowed,
//! which element is covered) is decided here, once, on this crate's own DOM. A
//! [`Backend`] only answers the cryptographic question: which of the document's
//! signatures verify with which trusted certificate. Two backends implement it — pure
//! Rust (bergshamra, the default) and libxmlsec1 (feature `xmlsec`) — and the tests run
//! the whole corpus through both.

mod pure;
#[cfg(feature = "xmlsec")]
mod xmlsec;

use std::sync::Arc;

use uppsala::{Document, NodeId};

use crate::cert::Certificate;
use crate::error::VerifyError;
use crate::xml::{self, DS};

/// Which library checks XML signatures.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SignatureBackend {
    /// bergshamra: pure Rust, no system libraries. The default.
    #[default]
    Pure,
    /// libxmlsec1 through samael (feature `xmlsec`).
    #[cfg(feature = "xmlsec")]
    Xmlsec,
}

impl SignatureBackend {
    /// The backend's name on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            SignatureBackend::Pure => "pure",
            #[cfg(feature = "xmlsec")]
            SignatureBackend::Xmlsec => "xmlsec",
        }
    }

    /// Every backend this build has.
    pub fn available() -> &'static [SignatureBackend] {
        &[
            SignatureBackend::Pure,
            #[cfg(feature = "xmlsec")]
            SignatureBackend::Xmlsec,
        ]
    }
}

/// A signature that verified: the ID of the element it covers and who signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValidSignature {
    /// The `ID` of the element the signature's reference resolved to.
    pub covered_id: String,
    /// The SHA-256 fingerprint of the trusted certificate that verified it.
    pub signer: String,
}

/// What a backend needs to know of the trusted certificates, prepared once per IdP.
#[derive(Clone)]
pub(crate) struct TrustedKeys {
    certificates: Vec<Certificate>,
    pure: Arc<pure::Keys>,
    #[cfg(feature = "xmlsec")]
    xmlsec: Arc<xmlsec::Keys>,
}

impl std::fmt::Debug for TrustedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.fingerprints()).finish()
    }
}

impl TrustedKeys {
    pub(crate) fn new(certificates: &[Certificate]) -> Result<Self, String> {
        Ok(Self {
            certificates: certificates.to_vec(),
            pure: Arc::new(pure::Keys::new(certificates)?),
            #[cfg(feature = "xmlsec")]
            xmlsec: Arc::new(xmlsec::Keys::new(certificates)),
        })
    }

    pub(crate) fn fingerprints(&self) -> Vec<String> {
        self.certificates
            .iter()
            .map(|certificate| certificate.fingerprint().to_owned())
            .collect()
    }
}

/// Verifies every signature in `doc` (parsed from `xml`) with `backend`: `Ok` with the
/// signatures that verified, `Err` with the reason when any signature does not.
pub(crate) fn verify(
    backend: SignatureBackend,
    xml: &str,
    doc: &Document<'_>,
    keys: &TrustedKeys,
) -> Result<Vec<ValidSignature>, String> {
    match backend {
        SignatureBackend::Pure => keys.pure.verify(xml, doc),
        #[cfg(feature = "xmlsec")]
        SignatureBackend::Xmlsec => keys.xmlsec.verify(xml, doc),
    }
}

const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const C14N_10: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const C14N_11: &str = "http://www.w3.org/2006/12/xml-c14n11";

/// Signature methods accepted without any opt-in.
const STRONG_SIGNATURES: [&str; 9] = [
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
    "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1",
    "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
];
/// SHA-1 signature methods: only with the IdP's `allow_sha1`.
const SHA1_SIGNATURES: [&str; 2] = [
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
];
const STRONG_DIGESTS: [&str; 3] = [
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
];
const SHA1_DIGEST: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// What a signature is made with, for `--explain` and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignatureShape {
    pub signature_method: String,
    pub digest_method: String,
}

/// Checks that `signature`, a child of the element whose `ID` is `owner_id`, is made the
/// way SAML signs: one Reference to its owner, the enveloped-signature transform and a
/// canonicalization, and algorithms the policy allows.
pub(crate) fn check_shape(
    doc: &Document<'_>,
    signature: NodeId,
    owner_id: &str,
    element: &'static str,
    allow_sha1: bool,
) -> Result<SignatureShape, VerifyError> {
    let unsupported = |reason: String| VerifyError::UnsupportedSignature { element, reason };
    let signed_info = xml::required_child(doc, signature, DS, "SignedInfo")?;
    let c14n = xml::required_child(doc, signed_info, DS, "CanonicalizationMethod")?;
    let c14n = xml::required_attr(doc, c14n, "Algorithm")?;
    if !matches!(c14n, EXC_C14N | C14N_10 | C14N_11) {
        return Err(unsupported(format!(
            "canonicalization {c14n} (exclusive C14N is the SAML norm)"
        )));
    }
    let method = xml::required_child(doc, signed_info, DS, "SignatureMethod")?;
    let method = xml::required_attr(doc, method, "Algorithm")?;
    allowed_signature_method(method, allow_sha1)?;

    let mut references = xml::children(doc, signed_info, DS, "Reference");
    let reference = references
        .next()
        .ok_or_else(|| unsupported("no Reference".into()))?;
    if references.next().is_some() {
        return Err(unsupported(
            "more than one Reference; a SAML signature covers only its own element".into(),
        ));
    }
    let uri = xml::attr(doc, reference, "URI").unwrap_or_default();
    // An empty URI is the whole document, which holds the owner whatever it is; an
    // `#id` reference must name the owner itself.
    let covers_owner = match uri.strip_prefix('#') {
        Some(id) => id == owner_id,
        None => uri.is_empty(),
    };
    if !covers_owner {
        return Err(VerifyError::SignatureWrapping(format!(
            "the signature inside the {element} `{owner_id}` references `{uri}`, not its own element"
        )));
    }
    if let Some(transforms) = xml::child(doc, reference, DS, "Transforms")? {
        let mut enveloped = false;
        let mut count = 0usize;
        for transform in xml::children(doc, transforms, DS, "Transform") {
            count += 1;
            match xml::required_attr(doc, transform, "Algorithm")? {
                ENVELOPED => enveloped = true,
                EXC_C14N | C14N_10 | C14N_11 => {}
                other => return Err(unsupported(format!("the transform {other}"))),
            }
        }
        if count > 2 {
            return Err(unsupported(format!(
                "{count} transforms; SAML uses enveloped-signature and one canonicalization"
            )));
        }
        if !enveloped {
            return Err(unsupported("no enveloped-signature transform".into()));
        }
    } else {
        return Err(unsupported("no enveloped-signature transform".into()));
    }
    let digest = xml::required_child(doc, reference, DS, "DigestMethod")?;
    let digest = xml::required_attr(doc, digest, "Algorithm")?;
    if digest == SHA1_DIGEST {
        if !allow_sha1 {
            return Err(VerifyError::Sha1Refused {
                algorithm: digest.to_owned(),
            });
        }
    } else if !STRONG_DIGESTS.contains(&digest) {
        return Err(VerifyError::UnsupportedAlgorithm {
            algorithm: digest.to_owned(),
        });
    }
    Ok(SignatureShape {
        signature_method: method.to_owned(),
        digest_method: digest.to_owned(),
    })
}

fn allowed_signature_method(method: &str, allow_sha1: bool) -> Result<(), VerifyError> {
    if STRONG_SIGNATURES.contains(&method) {
        Ok(())
    } else if SHA1_SIGNATURES.contains(&method) {
        if allow_sha1 {
            Ok(())
        } else {
            Err(VerifyError::Sha1Refused {
                algorithm: method.to_owned(),
            })
        }
    } else {
        Err(VerifyError::UnsupportedAlgorithm {
            algorithm: method.to_owned(),
        })
    }
}

/// The certificate a signature's KeyInfo carries, if any, as a fingerprint: only to
/// say who signed when it is not trusted, never to verify with.
pub(crate) fn embedded_signer(doc: &Document<'_>, signature: NodeId) -> Option<String> {
    let key_info = xml::child(doc, signature, DS, "KeyInfo").ok()??;
    let data = xml::child(doc, key_info, DS, "X509Data").ok()??;
    let certificate = xml::child(doc, data, DS, "X509Certificate").ok()??;
    let text = xml::text(doc, certificate).ok()?;
    Certificate::from_base64(&text)
        .ok()
        .map(|certificate| certificate.fingerprint().to_owned())
}
