//! `EncryptedAssertion`: decrypted with the SP's key (Entra ID and ADFS can encrypt).
//!
//! Anyone can post a ciphertext to the ACS, so this code must not be an oracle:
//! - the SP key's RSA runs on AWS-LC (constant-time, see `sp_key`);
//! - key transport is RSA-OAEP; RSA PKCS#1 v1.5 (Bleichenbacher) only where the IdP's
//!   `insecure_allow_rsa1_5_key_transport` says so; content is AES-GCM, or AES-CBC because
//!   Entra ID and ADFS send it; 3DES and anything else is refused by name;
//! - every failure that depends on the ciphertext (the key's padding, the content's
//!   padding, a wrong key, text that is not the assertion) is the one
//!   [`VerifyError::DecryptionFailed`]; what went wrong goes only to a debug log, in
//!   words that never say whether padding was at fault.
//!
//! The caller verifies a signature over the Response before calling this, so that a
//! tampered ciphertext never reaches the decryptor when the IdP signs its responses.

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{self, DecryptingKey, DecryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::rsa::{
    OaepAlgorithm, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384,
    OAEP_SHA512_MGF1SHA512,
};
use base64::Engine as _;
use uppsala::{Document, NodeId};

use crate::error::VerifyError;
use crate::idp::IdpOptions;
use crate::sp_key::SpKey;
use crate::xml::{self, DS, XENC};

const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";
const TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";

const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const RSA_OAEP: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
const TRIPLE_DES: &str = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc";

const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#sha384";
const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";
const MGF1_SHA1: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha1";
const MGF1_SHA256: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha256";
const MGF1_SHA384: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha384";
const MGF1_SHA512: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha512";

/// AES block and CBC IV length.
const BLOCK: usize = 16;
/// GCM nonce and tag lengths, as XML Encryption 1.1 fixes them.
const GCM_NONCE: usize = 12;
const GCM_TAG: usize = 16;

/// How the assertion itself is encrypted.
#[derive(Debug, Clone, Copy)]
enum Content {
    Cbc(&'static cipher::Algorithm, usize),
    Gcm(&'static aead::Algorithm, usize),
}

impl Content {
    /// The accepted content algorithms; `Err` names why another is refused.
    fn from_uri(uri: &str) -> Result<Self, VerifyError> {
        Ok(match uri {
            "http://www.w3.org/2009/xmlenc11#aes128-gcm" => Content::Gcm(&aead::AES_128_GCM, 16),
            "http://www.w3.org/2009/xmlenc11#aes192-gcm" => Content::Gcm(&aead::AES_192_GCM, 24),
            "http://www.w3.org/2009/xmlenc11#aes256-gcm" => Content::Gcm(&aead::AES_256_GCM, 32),
            // CBC is unauthenticated: accepted only because Entra ID and ADFS send it.
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => Content::Cbc(&cipher::AES_128, 16),
            "http://www.w3.org/2001/04/xmlenc#aes192-cbc" => Content::Cbc(&cipher::AES_192, 24),
            "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => Content::Cbc(&cipher::AES_256, 32),
            TRIPLE_DES => {
                return Err(VerifyError::EncryptionRefused {
                    algorithm: uri.to_owned(),
                    fix: "3DES has a 64-bit block and is withdrawn; configure the IdP to encrypt with AES-GCM (or AES-CBC)",
                })
            }
            other => {
                return Err(VerifyError::EncryptionRefused {
                    algorithm: other.to_owned(),
                    fix: "configure the IdP to encrypt assertions with AES-GCM (or AES-CBC) and RSA-OAEP",
                })
            }
        })
    }

    fn key_len(self) -> usize {
        match self {
            Content::Cbc(_, len) | Content::Gcm(_, len) => len,
        }
    }
}

/// How the content key is transported to the SP.
#[derive(Debug, Clone)]
enum Transport {
    /// RSA-OAEP, with its label if the IdP set one.
    Oaep(&'static OaepAlgorithm, Option<Vec<u8>>),
    Pkcs1,
}

/// Why decryption failed, for the debug log only: never whether padding was at fault.
#[derive(Debug, Clone, Copy)]
enum Failure {
    Shape(&'static str),
    KeyTransport,
    Content,
    Plaintext,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Shape(what) => write!(
                f,
                "the encrypted assertion is not shaped as expected: {what}"
            ),
            Failure::KeyTransport => {
                f.write_str("the transported key did not decrypt with the SP's key")
            }
            Failure::Content => {
                f.write_str("the assertion did not decrypt with the transported key")
            }
            Failure::Plaintext => f.write_str("the decrypted text is not one saml:Assertion"),
        }
    }
}

impl From<Failure> for VerifyError {
    fn from(failure: Failure) -> Self {
        tracing::debug!(target: "jit_provisioning_saml::decryption", "{failure}");
        VerifyError::DecryptionFailed
    }
}

/// The plaintext `saml:Assertion` of the `saml:EncryptedAssertion` `container` in `doc`,
/// as text of its own (IdPs serialize the assertion with its namespace declarations
/// before encrypting it).
pub(crate) fn decrypt_assertion(
    doc: &Document<'_>,
    container: NodeId,
    key: &SpKey,
    idp: &IdpOptions,
) -> Result<String, VerifyError> {
    let data = xml::child(doc, container, XENC, "EncryptedData")
        .ok()
        .flatten()
        .ok_or(Failure::Shape("no single EncryptedData"))?;
    if xml::attr(doc, data, "Type").is_some_and(|kind| kind != TYPE_ELEMENT) {
        return Err(Failure::Shape("EncryptedData is not of an element").into());
    }
    let content = Content::from_uri(algorithm_of(doc, encryption_method(doc, data)?)?)?;
    let encrypted_key = the_encrypted_key(doc, container, data)?;
    let transport = transport_of(doc, encryption_method(doc, encrypted_key)?, idp)?;

    let transported = cipher_value(doc, encrypted_key)?;
    let content_key = match transport {
        Transport::Oaep(algorithm, label) => {
            key.decrypt_oaep(algorithm, &transported, label.as_deref())
        }
        Transport::Pkcs1 => key.decrypt_pkcs1(&transported),
    }
    .map_err(|_| Failure::KeyTransport)?;
    if content_key.len() != content.key_len() {
        return Err(Failure::KeyTransport.into());
    }

    let mut ciphertext = cipher_value(doc, data)?;
    let plaintext = match content {
        Content::Cbc(algorithm, _) => open_cbc(algorithm, &content_key, &mut ciphertext)?,
        Content::Gcm(algorithm, _) => open_gcm(algorithm, &content_key, &mut ciphertext)?,
    };
    let text = std::str::from_utf8(plaintext).map_err(|_| Failure::Plaintext)?;
    Ok(text.to_owned())
}

/// Maps any failure to read the decrypted text as the assertion to the one answer: bad
/// XML after decryption must look like every other decryption failure.
pub(crate) fn plaintext_unreadable(error: VerifyError) -> VerifyError {
    tracing::debug!(target: "jit_provisioning_saml::decryption", "{}: {error}", Failure::Plaintext);
    VerifyError::DecryptionFailed
}

/// The one `EncryptionMethod` of `node`.
fn encryption_method(doc: &Document<'_>, node: NodeId) -> Result<NodeId, VerifyError> {
    Ok(xml::child(doc, node, XENC, "EncryptionMethod")
        .ok()
        .flatten()
        .ok_or(Failure::Shape("no single EncryptionMethod"))?)
}

/// The `Algorithm` of an `EncryptionMethod`.
fn algorithm_of<'d>(doc: &'d Document<'_>, method: NodeId) -> Result<&'d str, VerifyError> {
    Ok(xml::attr(doc, method, "Algorithm").ok_or(Failure::Shape("no Algorithm"))?)
}

/// The one `EncryptedKey`: in the `EncryptedData`'s `KeyInfo` (Entra ID, ADFS), or beside
/// the `EncryptedData` in the `EncryptedAssertion` (Shibboleth, Okta, which point to it
/// with a `RetrievalMethod`). Two keys would leave the choice to the sender.
fn the_encrypted_key(
    doc: &Document<'_>,
    container: NodeId,
    data: NodeId,
) -> Result<NodeId, VerifyError> {
    let in_key_info = xml::children(doc, data, DS, "KeyInfo")
        .flat_map(|key_info| xml::children(doc, key_info, XENC, "EncryptedKey"));
    let beside = xml::children(doc, container, XENC, "EncryptedKey");
    let mut keys = in_key_info.chain(beside);
    match (keys.next(), keys.next()) {
        (Some(only), None) => Ok(only),
        (None, _) => Err(Failure::Shape("no EncryptedKey").into()),
        (Some(_), Some(_)) => Err(Failure::Shape("more than one EncryptedKey").into()),
    }
}

/// The key transport an `EncryptedKey`'s `method` names, if it is one this SP accepts for
/// this IdP.
fn transport_of(
    doc: &Document<'_>,
    method: NodeId,
    idp: &IdpOptions,
) -> Result<Transport, VerifyError> {
    let uri = algorithm_of(doc, method)?;
    let digest = xml::child(doc, method, DS, "DigestMethod")
        .ok()
        .flatten()
        .and_then(|node| xml::attr(doc, node, "Algorithm"))
        .unwrap_or(SHA1);
    let mgf = xml::child(doc, method, XENC11, "MGF")
        .ok()
        .flatten()
        .and_then(|node| xml::attr(doc, node, "Algorithm"))
        .unwrap_or(MGF1_SHA1);
    let oaep = match (uri, digest, mgf) {
        // rsa-oaep-mgf1p fixes MGF1 with SHA-1; AWS-LC pairs the digest with the MGF's.
        (RSA_OAEP_MGF1P, SHA1, _) | (RSA_OAEP, SHA1, MGF1_SHA1) => &OAEP_SHA1_MGF1SHA1,
        (RSA_OAEP, SHA256, MGF1_SHA256) => &OAEP_SHA256_MGF1SHA256,
        (RSA_OAEP, SHA384, MGF1_SHA384) => &OAEP_SHA384_MGF1SHA384,
        (RSA_OAEP, SHA512, MGF1_SHA512) => &OAEP_SHA512_MGF1SHA512,
        (RSA_OAEP_MGF1P | RSA_OAEP, _, _) => {
            return Err(VerifyError::EncryptionRefused {
                algorithm: format!("{uri} with digest {digest} and {mgf}"),
                fix: "configure the IdP for RSA-OAEP with SHA-1 (the XML Encryption default) or with the same SHA-2 for the digest and MGF1",
            })
        }
        (RSA_1_5, _, _) if idp.insecure_allow_rsa1_5_key_transport => return Ok(Transport::Pkcs1),
        (RSA_1_5, _, _) => {
            return Err(VerifyError::EncryptionRefused {
                algorithm: uri.to_owned(),
                fix: "RSA PKCS#1 v1.5 key transport is open to Bleichenbacher's attack; configure the IdP for RSA-OAEP, or, for an IdP that offers nothing else, set its `insecure_allow_rsa1_5_key_transport` option",
            })
        }
        (other, _, _) => {
            return Err(VerifyError::EncryptionRefused {
                algorithm: other.to_owned(),
                fix: "configure the IdP to transport the key with RSA-OAEP",
            })
        }
    };
    Ok(Transport::Oaep(oaep, oaep_label(doc, method)?))
}

/// The bytes of `node`'s `CipherData/CipherValue` (never a `CipherReference`: nothing is
/// fetched).
fn cipher_value(doc: &Document<'_>, node: NodeId) -> Result<Vec<u8>, VerifyError> {
    let value = xml::child(doc, node, XENC, "CipherData")
        .ok()
        .flatten()
        .and_then(|data| xml::child(doc, data, XENC, "CipherValue").ok().flatten())
        .ok_or(Failure::Shape("no CipherData/CipherValue"))?;
    let text = xml::text(doc, value).map_err(|_| Failure::Shape("CipherValue is not text"))?;
    let compact: Vec<u8> = text
        .bytes()
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    Ok(base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| Failure::Shape("CipherValue is not base64"))?)
}

/// The OAEP label (`OAEPparams`) of an `EncryptedKey`'s `method`, if the IdP set one.
fn oaep_label(doc: &Document<'_>, method: NodeId) -> Result<Option<Vec<u8>>, VerifyError> {
    let params = xml::child(doc, method, XENC, "OAEPparams").ok().flatten();
    let Some(params) = params else {
        return Ok(None);
    };
    let text = xml::text(doc, params).map_err(|_| Failure::Shape("OAEPparams is not text"))?;
    let label = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| Failure::Shape("OAEPparams is not base64"))?;
    Ok(Some(label))
}

/// AES-CBC as XML Encryption 1.0 writes it: `IV || blocks`, the last byte of the
/// plaintext the padding's length (its other bytes arbitrary).
fn open_cbc<'c>(
    algorithm: &'static cipher::Algorithm,
    key: &[u8],
    ciphertext: &'c mut [u8],
) -> Result<&'c [u8], VerifyError> {
    if ciphertext.len() < 2 * BLOCK || !ciphertext.len().is_multiple_of(BLOCK) {
        return Err(Failure::Content.into());
    }
    let (iv, blocks) = ciphertext.split_at_mut(BLOCK);
    let iv: [u8; BLOCK] = (&*iv).try_into().map_err(|_| Failure::Content)?;
    let key = UnboundCipherKey::new(algorithm, key)
        .and_then(DecryptingKey::cbc)
        .map_err(|_| Failure::Content)?;
    let plaintext = key
        .decrypt(blocks, DecryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| Failure::Content)?;
    let padding = usize::from(plaintext.last().copied().unwrap_or(0));
    if padding == 0 || padding > BLOCK {
        return Err(Failure::Content.into());
    }
    let length = plaintext.len() - padding;
    Ok(plaintext.get(..length).ok_or(Failure::Content)?)
}

/// AES-GCM as XML Encryption 1.1 writes it: `nonce || ciphertext || tag`.
fn open_gcm<'c>(
    algorithm: &'static aead::Algorithm,
    key: &[u8],
    ciphertext: &'c mut [u8],
) -> Result<&'c [u8], VerifyError> {
    if ciphertext.len() < GCM_NONCE + GCM_TAG {
        return Err(Failure::Content.into());
    }
    let (nonce, sealed) = ciphertext.split_at_mut(GCM_NONCE);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Failure::Content)?;
    let key = UnboundKey::new(algorithm, key)
        .map(LessSafeKey::new)
        .map_err(|_| Failure::Content)?;
    let plaintext = key
        .open_in_place(nonce, Aad::empty(), sealed)
        .map_err(|_| Failure::Content)?;
    Ok(plaintext)
}
