//! The SP's own key: signs AuthnRequests and decrypts encrypted assertions.

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};

use crate::cert::Certificate;

/// The SP's RSA private key, with the certificate published in its metadata.
#[derive(Clone)]
pub struct SpKey {
    key: rsa::RsaPrivateKey,
    pem: String,
    certificate: Option<Certificate>,
}

impl std::fmt::Debug for SpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.debug_struct("SpKey")
            .field("certificate", &self.certificate)
            .finish_non_exhaustive()
    }
}

/// A key that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the SP key: {0}")]
pub struct SpKeyError(String);

impl SpKey {
    /// An RSA private key in PEM (`PRIVATE KEY`, PKCS#8, or `RSA PRIVATE KEY`, PKCS#1),
    /// and optionally the PEM certificate that goes into the SP metadata.
    pub fn from_pem(key_pem: &str, certificate_pem: Option<&str>) -> Result<Self, SpKeyError> {
        let (label, der) = pem_block(key_pem).ok_or_else(|| SpKeyError("no PEM block".into()))?;
        let key = match label.as_str() {
            "PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs8_der(&der)
                .map_err(|error| SpKeyError(error.to_string()))?,
            "RSA PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs1_der(&der)
                .map_err(|error| SpKeyError(error.to_string()))?,
            other => {
                return Err(SpKeyError(format!(
                    "a `{other}` block; expected `PRIVATE KEY` or `RSA PRIVATE KEY`"
                )))
            }
        };
        let certificate = match certificate_pem {
            Some(pem) => Some(
                Certificate::from_pem_or_base64(pem)
                    .map_err(|error| SpKeyError(error.to_string()))?
                    .into_iter()
                    .next()
                    .ok_or_else(|| SpKeyError("no certificate".into()))?,
            ),
            None => None,
        };
        Ok(Self {
            key,
            pem: key_pem.to_owned(),
            certificate,
        })
    }

    /// The certificate for the SP metadata, if one was given.
    pub fn certificate(&self) -> Option<&Certificate> {
        self.certificate.as_ref()
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub(crate) fn sign_sha256(&self, message: &[u8]) -> Vec<u8> {
        rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.key.clone())
            .sign(message)
            .to_vec()
    }

    /// The key in PEM, for the XML-encryption backend.
    pub(crate) fn pem(&self) -> &str {
        &self.pem
    }
}

/// The label and DER bytes of the first PEM block in `text`.
fn pem_block(text: &str) -> Option<(String, Vec<u8>)> {
    let begin = text.find("-----BEGIN ")?;
    let after = text.get(begin + "-----BEGIN ".len()..)?;
    let label_end = after.find("-----")?;
    let label = after.get(..label_end)?.to_owned();
    let body = after.get(label_end + 5..)?;
    let end = body.find("-----END ")?;
    let compact: String = body
        .get(..end)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()?;
    Some((label, der))
}
