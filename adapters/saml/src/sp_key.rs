//! The SP's own key: signs AuthnRequests and decrypts encrypted assertions.
//!
//! Both are private-key operations that anyone can trigger (a portal visit signs, a post
//! to the ACS decrypts), so both run on AWS-LC through aws-lc-rs, whose RSA is
//! constant-time and blinded: no timing tells an outsider about the key (the Marvin
//! attack on the `rsa` crate, RUSTSEC-2023-0071, needs exactly such an oracle).

use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeyPair, OaepAlgorithm, OaepPrivateDecryptingKey, Pkcs1PrivateDecryptingKey,
    PrivateDecryptingKey,
};
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine as _;

use crate::cert::Certificate;

/// The SP's RSA private key, with the certificate published in its metadata.
#[derive(Clone)]
pub struct SpKey {
    signing: Arc<KeyPair>,
    decrypting: PrivateDecryptingKey,
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

/// A private-key operation failed; the reason is deliberately not told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyOperationFailed;

impl SpKey {
    /// An RSA private key in PEM (`PRIVATE KEY`, PKCS#8, or `RSA PRIVATE KEY`, PKCS#1),
    /// and optionally the PEM certificate that goes into the SP metadata.
    pub fn from_pem(key_pem: &str, certificate_pem: Option<&str>) -> Result<Self, SpKeyError> {
        let (label, der) = pem_block(key_pem).ok_or_else(|| SpKeyError("no PEM block".into()))?;
        let rejected = |error: aws_lc_rs::error::KeyRejected| SpKeyError(error.to_string());
        let signing = match label.as_str() {
            "PRIVATE KEY" => KeyPair::from_pkcs8(&der).map_err(rejected)?,
            "RSA PRIVATE KEY" => KeyPair::from_der(&der).map_err(rejected)?,
            other => {
                return Err(SpKeyError(format!(
                    "a `{other}` block; expected `PRIVATE KEY` or `RSA PRIVATE KEY`"
                )))
            }
        };
        // One key, two roles: the decrypting view is read from the signing key's own
        // PKCS#8 form, so a PKCS#1 file works for both.
        let pkcs8: Pkcs8V1Der<'static> = signing
            .as_der()
            .map_err(|_| SpKeyError("the key cannot be written as PKCS#8".into()))?;
        let decrypting = PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref()).map_err(rejected)?;
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
            signing: Arc::new(signing),
            decrypting,
            certificate,
        })
    }

    /// The certificate for the SP metadata, if one was given.
    pub fn certificate(&self) -> Option<&Certificate> {
        self.certificate.as_ref()
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub(crate) fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, KeyOperationFailed> {
        let mut signature = vec![0; self.signing.public_modulus_len()];
        self.signing
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| KeyOperationFailed)?;
        Ok(signature)
    }

    /// RSA-OAEP decryption of a transported key.
    pub(crate) fn decrypt_oaep(
        &self,
        algorithm: &'static OaepAlgorithm,
        ciphertext: &[u8],
        label: Option<&[u8]>,
    ) -> Result<Vec<u8>, KeyOperationFailed> {
        let key = OaepPrivateDecryptingKey::new(self.decrypting.clone())
            .map_err(|_| KeyOperationFailed)?;
        let mut plaintext = vec![0; key.min_output_size()];
        let length = key
            .decrypt(algorithm, ciphertext, &mut plaintext, label)
            .map_err(|_| KeyOperationFailed)?
            .len();
        plaintext.truncate(length);
        Ok(plaintext)
    }

    /// RSAES-PKCS1-v1_5 decryption of a transported key, for the IdPs that opt in.
    pub(crate) fn decrypt_pkcs1(&self, ciphertext: &[u8]) -> Result<Vec<u8>, KeyOperationFailed> {
        let key = Pkcs1PrivateDecryptingKey::new(self.decrypting.clone())
            .map_err(|_| KeyOperationFailed)?;
        let mut plaintext = vec![0; key.min_output_size()];
        let length = key
            .decrypt(ciphertext, &mut plaintext)
            .map_err(|_| KeyOperationFailed)?
            .len();
        plaintext.truncate(length);
        Ok(plaintext)
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
