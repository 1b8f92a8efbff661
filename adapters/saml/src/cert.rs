//! The IdP's signing certificates: loaded from PEM or from metadata's base64, pinned by
//! their SHA-256 fingerprints.
//!
//! Certificate validity dates are not enforced: SAML metadata pins the keys themselves,
//! IdPs routinely keep signing with expired self-signed certificates, and rollover is
//! done by listing the next certificate beside the current one.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

/// An X.509 certificate the SP trusts to sign an IdP's responses.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    fingerprint: String,
    rsa_bits: Option<usize>,
    subject: String,
    not_after: Option<DateTime<Utc>>,
}

/// RSA keys shorter than this are refused at verification: 512-bit keys are factored
/// in hours. 1024 bits stays accepted because real IdPs still sign with such keys.
pub const MIN_RSA_BITS: usize = 1024;

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("sha256", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// A certificate that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an X.509 certificate: {0}")]
pub struct CertificateError(String);

impl Certificate {
    /// A certificate from its DER encoding.
    pub fn from_der(der: Vec<u8>) -> Result<Self, CertificateError> {
        // Parsing it now turns a broken certificate into a load-time error rather than
        // a refusal of every response.
        let key = bergshamra::keys::loader::load_x509_cert_der(&der)
            .map_err(|error| CertificateError(error.to_string()))?;
        let rsa_bits = key.to_spki_der().and_then(|spki| {
            aws_lc_rs::rsa::PublicEncryptingKey::from_der(&spki)
                .ok()
                .map(|public| public.key_size_bits())
        });
        let fingerprint = fingerprint(&der);
        let (subject, not_after) = subject_and_not_after(&der);
        Ok(Self {
            der,
            fingerprint,
            rsa_bits,
            subject,
            not_after,
        })
    }

    /// Every certificate in a PEM text (`-----BEGIN CERTIFICATE-----` blocks), or a
    /// bare base64 body as IdP admin pages and metadata show it.
    pub fn from_pem_or_base64(text: &str) -> Result<Vec<Self>, CertificateError> {
        if !text.contains("-----BEGIN") {
            return Ok(vec![Self::from_base64(text)?]);
        }
        let mut certificates = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
            let after = rest
                .get(start + "-----BEGIN CERTIFICATE-----".len()..)
                .unwrap_or_default();
            let end = after
                .find("-----END CERTIFICATE-----")
                .ok_or_else(|| CertificateError("a PEM block is not closed".into()))?;
            certificates.push(Self::from_base64(after.get(..end).unwrap_or_default())?);
            rest = after
                .get(end + "-----END CERTIFICATE-----".len()..)
                .unwrap_or_default();
        }
        if certificates.is_empty() {
            return Err(CertificateError("no CERTIFICATE block in the PEM".into()));
        }
        Ok(certificates)
    }

    /// A certificate from base64 DER, ignoring whitespace (metadata wraps it).
    pub fn from_base64(text: &str) -> Result<Self, CertificateError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|error| CertificateError(format!("bad base64: {error}")))?;
        Self::from_der(der)
    }

    /// The size of the certificate's RSA key in bits; `None` for other key types.
    pub fn rsa_bits(&self) -> Option<usize> {
        self.rsa_bits
    }

    /// The subject, as RFC 4514 text (`CN=Okta,O=Okta Inc.`, most specific first);
    /// empty if the certificate has none.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The end of the certificate's validity (`notAfter`). Reported, never enforced:
    /// see the module documentation.
    pub fn not_after(&self) -> Option<DateTime<Utc>> {
        self.not_after
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The base64 DER, as metadata's `ds:X509Certificate` carries it.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }

    /// The SHA-256 fingerprint, upper-case hex pairs joined by `:`, as IdP admin pages
    /// and `openssl x509 -fingerprint -sha256` show it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// The subject and `notAfter` of a certificate, read with x509-cert (which bergshamra
/// has already parsed the certificate with, so this adds no dependency).
fn subject_and_not_after(der: &[u8]) -> (String, Option<DateTime<Utc>>) {
    use x509_cert::der::Decode as _;
    let Ok(certificate) = x509_cert::Certificate::from_der(der) else {
        return (String::new(), None);
    };
    let tbs = &certificate.tbs_certificate;
    let not_after = i64::try_from(tbs.validity.not_after.to_unix_duration().as_secs())
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0));
    (tbs.subject.to_string(), not_after)
}

/// The SHA-256 fingerprint of DER bytes in `AB:CD:…` form.
pub(crate) fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let mut out = String::with_capacity(digest.len() * 3);
    for (index, byte) in digest.iter().enumerate() {
        if index > 0 {
            out.push(':');
        }
        out.push_str(&format!("{byte:02X}"));
    }
    out
}
