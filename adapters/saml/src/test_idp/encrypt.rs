//! Encrypted assertions: a `saml:EncryptedAssertion` for the SP's certificate, shaped
//! the way Entra ID and ADFS send it (see [`TestIdp::encrypted_response`]).

use base64::Engine as _;
use chrono::{DateTime, Utc};

use super::xml::Writer;
use super::{
    cert, tamper_name_id, AssertionSpec, Envelope, ResponseOptions, ResponseTarget, Shape, Status,
    TestIdp, TestIdpError, TestPerson, ALG_SHA1, EVIL_SUBJECT, NS_ASSERTION, NS_DSIG,
};

const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
/// `EncryptedData/@Type`: the plaintext is one element (the assertion).
const TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";
const ALG_AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
const ALG_AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
const ALG_AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
const ALG_AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
const ALG_TRIPLEDES_CBC: &str = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc";
const ALG_RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const ALG_RSA_OAEP_11: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
const ALG_RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const ALG_MGF1_SHA256: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha256";
const NS_XENC11: &str = "http://www.w3.org/2009/xmlenc11#";

/// The markup bergshamra fills: an empty `CipherValue`.
const EMPTY_CIPHER_VALUE: &str = "<xenc:CipherValue></xenc:CipherValue>";

/// How the assertion itself is encrypted (the `EncryptedData`'s `EncryptionMethod`).
/// The AES key is fresh for every response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ContentEncryption {
    /// AES-256 in CBC mode, `http://www.w3.org/2001/04/xmlenc#aes256-cbc`: what Entra
    /// ID and ADFS use. The ciphertext is `IV || blocks`, padded as XML Encryption 1.0
    /// says (the last byte is the padding's length).
    #[default]
    Aes256Cbc,
    /// AES-128 in CBC mode, `http://www.w3.org/2001/04/xmlenc#aes128-cbc` (older
    /// Shibboleth IdPs).
    Aes128Cbc,
    /// AES-128-GCM, `http://www.w3.org/2009/xmlenc11#aes128-gcm`: the ciphertext is a
    /// 12-byte nonce, the encrypted bytes and a 16-byte tag.
    Aes128Gcm,
    /// AES-256-GCM, `http://www.w3.org/2009/xmlenc11#aes256-gcm` (Entra ID's and
    /// Shibboleth's choice where the SP's metadata asks for GCM).
    Aes256Gcm,
    /// Triple DES in CBC mode, `http://www.w3.org/2001/04/xmlenc#tripledes-cbc`: a
    /// 64-bit block cipher that SPs must refuse; for the refusal's tests.
    TripleDesCbc,
}

impl ContentEncryption {
    /// Every content encryption an SP should accept, for tests that try them all.
    pub const ALL: [ContentEncryption; 4] = [
        ContentEncryption::Aes256Cbc,
        ContentEncryption::Aes128Cbc,
        ContentEncryption::Aes128Gcm,
        ContentEncryption::Aes256Gcm,
    ];

    /// The algorithm's URI, as written in `EncryptionMethod/@Algorithm`.
    pub fn uri(self) -> &'static str {
        match self {
            ContentEncryption::Aes256Cbc => ALG_AES256_CBC,
            ContentEncryption::Aes128Cbc => ALG_AES128_CBC,
            ContentEncryption::Aes128Gcm => ALG_AES128_GCM,
            ContentEncryption::Aes256Gcm => ALG_AES256_GCM,
            ContentEncryption::TripleDesCbc => ALG_TRIPLEDES_CBC,
        }
    }

    /// Whether the cipher authenticates the ciphertext (GCM does, CBC does not).
    pub fn is_authenticated(self) -> bool {
        matches!(
            self,
            ContentEncryption::Aes128Gcm | ContentEncryption::Aes256Gcm
        )
    }
}

/// How the AES key travels to the SP (the `EncryptedKey`'s `EncryptionMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum KeyTransport {
    /// RSA-OAEP, `http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p` with SHA-1: what
    /// Entra ID and ADFS use.
    #[default]
    RsaOaepMgf1p,
    /// RSA-OAEP, `http://www.w3.org/2009/xmlenc11#rsa-oaep` with SHA-256 and MGF1 with
    /// SHA-256.
    RsaOaepSha256,
    /// RSA PKCS#1 v1.5, `http://www.w3.org/2001/04/xmlenc#rsa-1_5`: open to
    /// Bleichenbacher's attack; SPs refuse it unless the IdP is let.
    Rsa1_5,
}

/// A defect in an encrypted assertion's ciphertext, made after encryption (or, for
/// `PlaintextNotXml`, in what is encrypted). An SP must answer each one alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CiphertextDefect {
    /// CBC only: the block before the last is changed so that the plaintext's last byte,
    /// the padding's length, decrypts to 0, which XML Encryption's padding never is.
    BadPadding,
    /// The first byte of the ciphertext's last block is flipped, so that the last
    /// plaintext block (padding included) decrypts to noise.
    FlippedLastBlock,
    /// The `EncryptedKey`'s ciphertext loses its last 8 bytes: shorter than the SP's RSA
    /// modulus.
    TruncatedKey,
    /// The encrypted text is not XML at all; key and ciphertext are sound.
    PlaintextNotXml,
}

impl CiphertextDefect {
    /// Every defect.
    pub const ALL: [CiphertextDefect; 4] = [
        CiphertextDefect::BadPadding,
        CiphertextDefect::FlippedLastBlock,
        CiphertextDefect::TruncatedKey,
        CiphertextDefect::PlaintextNotXml,
    ];
}

/// How [`TestIdp::encrypted_response`] makes its response.
///
/// Build it from the default and set what differs: `let mut options =
/// EncryptionOptions::default(); options.content_encryption = ContentEncryption::Aes256Gcm;`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EncryptionOptions {
    /// The response as [`TestIdp::response_with`] would make it: who signs and the
    /// times. By default the assertion is signed and the response is not.
    ///
    /// The assertion is signed before it is encrypted, so its signature is inside the
    /// ciphertext; the Response's signature (`sign_response`) is made last and covers
    /// the `EncryptedAssertion`, ciphertext and all.
    pub response: ResponseOptions,
    /// The assertion's encryption (default AES-256-CBC).
    pub content_encryption: ContentEncryption,
    /// How the AES key travels (default RSA-OAEP with SHA-1).
    pub key_transport: KeyTransport,
    /// A defect in the ciphertext, if any.
    pub defect: Option<CiphertextDefect>,
    /// The assertion's `saml:Issuer`, in place of the IdP's entity id. The assertion is
    /// still signed by the IdP's key (when `response.sign_assertion`), and the
    /// Response's `saml:Issuer` stays the IdP's entity id.
    pub assertion_issuer: Option<String>,
    /// Replace the assertion's `NameID` by [`super::EVIL_SUBJECT`] after signing and
    /// before encrypting, as [`super::BadResponse::Tampered`] does in the clear: the
    /// ciphertext is sound, the signature inside it no longer verifies. (With
    /// `response.sign_assertion` off, this merely changes the subject.)
    pub tamper_after_signing: bool,
    /// Signature wrapping through the ciphertext, the encrypted form of
    /// [`super::BadResponse::WrappedInExtensions`]: the response's `samlp:Extensions`
    /// hold an `xenc:EncryptedData` whose plaintext is a `saml:EncryptedAssertion`
    /// around the honest assertion (made as the other options say), while the
    /// response's own `saml:EncryptedAssertion`, where an SP reads, holds an unsigned
    /// assertion about [`super::EVIL_SUBJECT`] (as its `NameID` and its `email`),
    /// otherwise valid. An SP that decrypts the first `EncryptedData` of the document
    /// reads the honest assertion in place of the one the response carries.
    pub wrapped_in_extensions: bool,
}

impl TestIdp {
    /// A response for `person` to `target` at `now` whose one assertion is encrypted
    /// for the SP's certificate `sp_certificate_pem` (PEM); `options` say who signs,
    /// with which cipher, and the defects a test may want.
    ///
    /// The `saml:EncryptedAssertion` is what Entra ID and ADFS send:
    ///
    /// ```text
    /// saml:EncryptedAssertion
    ///   xenc:EncryptedData Type="…xmlenc#Element"
    ///     xenc:EncryptionMethod Algorithm="…xmlenc#aes256-cbc"  (options.content_encryption)
    ///     ds:KeyInfo
    ///       xenc:EncryptedKey
    ///         xenc:EncryptionMethod Algorithm="…xmlenc#rsa-oaep-mgf1p"
    ///           ds:DigestMethod Algorithm="…xmldsig#sha1"
    ///         ds:KeyInfo/ds:X509Data/ds:X509Certificate         (the SP's certificate)
    ///         xenc:CipherData/xenc:CipherValue                  (the AES key, RSA-OAEP)
    ///     xenc:CipherData/xenc:CipherValue                      (the assertion, AES)
    /// ```
    ///
    /// bergshamra fills it: it draws a fresh AES key of the content algorithm's size,
    /// encrypts the assertion with it, and transports the key to the certificate's RSA
    /// key with RSA-OAEP (MGF1 and digest SHA-1, the XML Encryption 1.0 default that
    /// these IdPs use).
    ///
    /// Apart from the encryption, the response is the one [`TestIdp::response_with`]
    /// makes with `options.response`. The plaintext is the assertion exactly as that
    /// response would carry it, declaring its own namespaces (`saml`, `xs`, `xsi`,
    /// and `ds` on its signature), so that the decrypted text is a document of its own.
    ///
    /// # Errors
    ///
    /// [`TestIdpError::InvalidCertificate`] when `sp_certificate_pem` is no PEM
    /// certificate, [`TestIdpError::Encryption`] when bergshamra cannot encrypt for it
    /// (no RSA key in it, say); otherwise as [`TestIdp::response`].
    pub fn encrypted_response(
        &self,
        person: &TestPerson,
        target: &ResponseTarget,
        sp_certificate_pem: &str,
        now: DateTime<Utc>,
        options: &EncryptionOptions,
    ) -> Result<String, TestIdpError> {
        let certificate_der = cert::parse_certificate_pem(sp_certificate_pem)?;
        let key = bergshamra::keys::loader::load_x509_cert_der(&certificate_der)
            .map_err(|error| TestIdpError::InvalidCertificate(error.to_string()))?;

        let honest = self.signing();
        let shape = Shape {
            audience: &target.sp_entity_id,
            destination: &target.acs_url,
            recipient: &target.acs_url,
            assertion_signing: options.response.sign_assertion.then_some(honest),
            response_signing: options.response.sign_response.then_some(honest),
        };
        let spec = AssertionSpec {
            issuer: options.assertion_issuer.as_deref(),
            ..AssertionSpec::new(person, target, now, &options.response, &shape)?
        };
        let mut assertion = self.write_assertion(&spec, shape.assertion_signing, None)?;
        if options.tamper_after_signing {
            assertion = tamper_name_id(&assertion, &person.subject)?;
        }
        if options.defect == Some(CiphertextDefect::PlaintextNotXml) {
            assertion = "this text is not an assertion, nor XML".to_owned();
        }
        let recipient = Recipient {
            certificate_base64: base64::engine::general_purpose::STANDARD.encode(&certificate_der),
            key,
            content: options.content_encryption,
            transport: options.key_transport,
            defect: options.defect,
        };

        let mut envelope = Envelope {
            issue_instant: now,
            destination: shape.destination,
            in_response_to: target.in_response_to.as_deref(),
            status: Status::SUCCESS,
            extensions: None,
            assertions: &[],
            signing: shape.response_signing,
        };
        if !options.wrapped_in_extensions {
            let encrypted = encrypted_assertion(&recipient.encrypted_data(&assertion)?);
            return self.write_response(&Envelope {
                assertions: &[&encrypted],
                ..envelope
            });
        }

        let hidden = recipient.encrypted_data(&encrypted_assertion(&assertion))?;
        let mut evil_person = person.clone();
        evil_person.subject = EVIL_SUBJECT.to_owned();
        evil_person.email = Some(EVIL_SUBJECT.to_owned());
        let evil_spec = AssertionSpec {
            person: &evil_person,
            ..AssertionSpec::new(person, target, now, &options.response, &shape)?
        };
        let evil = self.write_assertion(&evil_spec, None, None)?;
        let evil = encrypted_assertion(&recipient.encrypted_data(&evil)?);
        envelope.extensions = Some(&hidden);
        self.write_response(&Envelope {
            assertions: &[&evil],
            ..envelope
        })
    }
}

/// Who an assertion is encrypted for, and with which content encryption.
struct Recipient {
    /// The SP's certificate, for the `EncryptedKey`'s `KeyInfo`.
    certificate_base64: String,
    /// Its public key, as bergshamra encrypts to it.
    key: bergshamra::Key,
    content: ContentEncryption,
    transport: KeyTransport,
    defect: Option<CiphertextDefect>,
}

impl Recipient {
    /// The `xenc:EncryptedData` (markup, declaring its namespaces) of `plaintext`, one
    /// element, with the `EncryptedKey` in its `KeyInfo`.
    fn encrypted_data(&self, plaintext: &str) -> Result<String, TestIdpError> {
        let mut w = Writer::new();
        w.open(
            "xenc:EncryptedData",
            &[("xmlns:xenc", NS_XENC), ("Type", TYPE_ELEMENT)],
        )?;
        w.empty(
            "xenc:EncryptionMethod",
            &[("Algorithm", self.content.uri())],
        )?;
        w.open("ds:KeyInfo", &[("xmlns:ds", NS_DSIG)])?;
        w.open("xenc:EncryptedKey", &[])?;
        match self.transport {
            KeyTransport::RsaOaepMgf1p => {
                w.open(
                    "xenc:EncryptionMethod",
                    &[("Algorithm", ALG_RSA_OAEP_MGF1P)],
                )?;
                w.empty("ds:DigestMethod", &[("Algorithm", ALG_SHA1)])?;
                w.close("xenc:EncryptionMethod");
            }
            KeyTransport::RsaOaepSha256 => {
                w.open("xenc:EncryptionMethod", &[("Algorithm", ALG_RSA_OAEP_11)])?;
                w.empty("ds:DigestMethod", &[("Algorithm", ALG_SHA256)])?;
                w.empty(
                    "xenc11:MGF",
                    &[("xmlns:xenc11", NS_XENC11), ("Algorithm", ALG_MGF1_SHA256)],
                )?;
                w.close("xenc:EncryptionMethod");
            }
            KeyTransport::Rsa1_5 => {
                w.empty("xenc:EncryptionMethod", &[("Algorithm", ALG_RSA_1_5)])?;
            }
        }
        w.open("ds:KeyInfo", &[])?;
        w.open("ds:X509Data", &[])?;
        w.leaf("ds:X509Certificate", &[], &self.certificate_base64)?;
        w.close("ds:X509Data");
        w.close("ds:KeyInfo");
        empty_cipher_data(&mut w);
        w.close("xenc:EncryptedKey");
        w.close("ds:KeyInfo");
        empty_cipher_data(&mut w);
        w.close("xenc:EncryptedData");
        let template = w.finish();

        let mut manager = bergshamra::KeysManager::new();
        manager.add_key(self.key.clone());
        let context = bergshamra::EncContext::new(manager);
        let encrypted = bergshamra::encrypt(&context, &template, plaintext.as_bytes())
            .map_err(TestIdpError::Encryption)?;
        // bergshamra skips an EncryptedKey it cannot fill; a response with an empty
        // one would only confuse the test that gets it.
        if encrypted.contains(EMPTY_CIPHER_VALUE) {
            return Err(TestIdpError::Internal(
                "bergshamra left a CipherValue of the EncryptedData empty",
            ));
        }
        match self.defect {
            Some(CiphertextDefect::BadPadding) => {
                let padding = xml_enc_padding(plaintext.len(), self.content)?;
                edit_cipher_value(&encrypted, Which::Content, |bytes| {
                    // CBC: the last plaintext byte is the previous ciphertext byte at the
                    // same place XORed with the block's decryption; XORing the padding's
                    // length into it makes that byte 0.
                    let at = bytes.len().checked_sub(AES_BLOCK + 1)?;
                    *bytes.get_mut(at)? ^= padding;
                    Some(())
                })
            }
            Some(CiphertextDefect::FlippedLastBlock) => {
                edit_cipher_value(&encrypted, Which::Content, |bytes| {
                    let at = bytes.len().checked_sub(AES_BLOCK)?;
                    *bytes.get_mut(at)? ^= 0x01;
                    Some(())
                })
            }
            Some(CiphertextDefect::TruncatedKey) => {
                edit_cipher_value(&encrypted, Which::Key, |bytes| {
                    bytes.truncate(bytes.len().checked_sub(8)?);
                    Some(())
                })
            }
            Some(CiphertextDefect::PlaintextNotXml) | None => Ok(encrypted),
        }
    }
}

const AES_BLOCK: usize = 16;

/// The length of the padding XML Encryption's CBC adds to `length` bytes: 1 to a block.
fn xml_enc_padding(length: usize, content: ContentEncryption) -> Result<u8, TestIdpError> {
    let block = match content {
        ContentEncryption::Aes256Cbc | ContentEncryption::Aes128Cbc => AES_BLOCK,
        _ => {
            return Err(TestIdpError::Internal(
                "CiphertextDefect::BadPadding needs an AES-CBC content encryption",
            ))
        }
    };
    u8::try_from(block - length % block)
        .map_err(|_| TestIdpError::Internal("a block is longer than 255 bytes"))
}

/// Which `CipherValue` of an `EncryptedData` to edit.
#[derive(Clone, Copy)]
enum Which {
    /// The `EncryptedKey`'s, the first in the markup.
    Key,
    /// The `EncryptedData`'s own, the last.
    Content,
}

/// `encrypted` with one `CipherValue`'s bytes changed by `change` (which returns `None`
/// when the bytes are too short for it).
fn edit_cipher_value(
    encrypted: &str,
    which: Which,
    change: impl FnOnce(&mut Vec<u8>) -> Option<()>,
) -> Result<String, TestIdpError> {
    const OPEN: &str = "<xenc:CipherValue>";
    const CLOSE: &str = "</xenc:CipherValue>";
    let missing = TestIdpError::Internal("no CipherValue to edit");
    let open = match which {
        Which::Key => encrypted.find(OPEN),
        Which::Content => encrypted.rfind(OPEN),
    }
    .ok_or(missing)?;
    let start = open + OPEN.len();
    let length = encrypted
        .get(start..)
        .and_then(|rest| rest.find(CLOSE))
        .ok_or(TestIdpError::Internal("an unclosed CipherValue"))?;
    let text = encrypted
        .get(start..start + length)
        .ok_or(TestIdpError::Internal("a CipherValue out of bounds"))?;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| TestIdpError::Internal("a CipherValue that is not base64"))?;
    change(&mut bytes).ok_or(TestIdpError::Internal("a ciphertext too short to edit"))?;
    Ok(format!(
        "{}{}{}",
        encrypted.get(..start).unwrap_or_default(),
        base64::engine::general_purpose::STANDARD.encode(bytes),
        encrypted.get(start + length..).unwrap_or_default()
    ))
}

/// `saml:EncryptedAssertion` around `content` (markup), declaring its namespace.
fn encrypted_assertion(content: &str) -> String {
    format!("<saml:EncryptedAssertion xmlns:saml=\"{NS_ASSERTION}\">{content}</saml:EncryptedAssertion>")
}

/// `<xenc:CipherData><xenc:CipherValue></xenc:CipherValue></xenc:CipherData>`.
fn empty_cipher_data(w: &mut Writer) {
    w.raw("<xenc:CipherData>");
    w.raw(EMPTY_CIPHER_VALUE);
    w.raw("</xenc:CipherData>");
}
