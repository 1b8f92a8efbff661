//! The test IdP's key material: a fresh RSA-2048 key, the self-signed certificate
//! that carries its public half, and their PEM forms.

use base64::Engine as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::RsaPrivateKey;
use sha2::Digest as _;

use super::der;
use super::rng::OsRng;
use super::TestIdpError;

/// Size of every key the test IdP generates.
pub(super) const KEY_BITS: usize = 2048;

/// Common name written as both subject and issuer of every generated certificate.
///
/// The key a [`super::BadResponse::SignedByOtherKey`] response is signed with gets a
/// certificate with this very name too, so that only the key tells the two apart.
pub(super) const CERTIFICATE_COMMON_NAME: &str = "jit-provisioning-saml test IdP";

/// Encoded arcs of `sha256WithRSAEncryption` (1.2.840.113549.1.1.11).
const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
/// Encoded arcs of `id-at-commonName` (2.5.4.3).
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// Encoded arcs of `id-ce-subjectKeyIdentifier` (2.5.29.14).
const SUBJECT_KEY_IDENTIFIER: &[u8] = &[0x55, 0x1d, 0x0e];
/// Encoded arcs of `id-ce-keyUsage` (2.5.29.15).
const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
/// Encoded arcs of `id-ce-basicConstraints` (2.5.29.19).
const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];

/// `notBefore` of every generated certificate: 2000-01-01T00:00:00Z, as a `UTCTime`.
///
/// Fixed and far in the past, so that a test running at any fixed instant, however
/// old, finds the certificate already valid.
const NOT_BEFORE: &[u8] = b"000101000000Z";
/// `notAfter` of every generated certificate: RFC 5280's "no well-defined expiration
/// date", 9999-12-31T23:59:59Z, as a `GeneralizedTime`.
const NOT_AFTER: &[u8] = b"99991231235959Z";

/// PEM label of a certificate.
const CERTIFICATE_LABEL: &str = "CERTIFICATE";

/// A signing key with its certificate, in the forms the IdP uses.
#[derive(Clone)]
pub(super) struct KeyPair {
    /// The private key as PKCS#8 PEM.
    pub(super) key_pem: String,
    /// The certificate as DER.
    pub(super) certificate_der: Vec<u8>,
    /// The key as bergshamra signs with it.
    pub(super) signing_key: bergshamra::Key,
}

impl KeyPair {
    /// A fresh RSA-2048 key and a self-signed certificate for it.
    pub(super) fn generate() -> Result<Self, TestIdpError> {
        let mut rng = OsRng::new();
        let generated = RsaPrivateKey::new(&mut rng, KEY_BITS);
        rng.check()?;
        let key = generated.map_err(|e| TestIdpError::KeyGeneration(e.to_string()))?;
        let certificate_der = self_signed_certificate(&key)?;
        Self::from_key(&key, certificate_der)
    }

    /// A key from PEM (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`) with its
    /// certificate in PEM, checking that the certificate holds the key's public half.
    pub(super) fn from_pem(key_pem: &str, certificate_pem: &str) -> Result<Self, TestIdpError> {
        let key = parse_private_key(key_pem)?;
        let certificate_der = parse_certificate_pem(certificate_pem)?;
        let spki = public_key_der(&key)?;
        match der::certificate_spki(&certificate_der) {
            None => Err(TestIdpError::InvalidCertificate(
                "not an X.509 certificate".to_owned(),
            )),
            Some(found) if found != spki.as_slice() => Err(TestIdpError::KeyMismatch),
            Some(_) => Self::from_key(&key, certificate_der),
        }
    }

    fn from_key(key: &RsaPrivateKey, certificate_der: Vec<u8>) -> Result<Self, TestIdpError> {
        let key_pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| TestIdpError::InvalidKey(e.to_string()))?
            .to_string();
        let signing_key = bergshamra::keys::loader::load_rsa_private_pem(key_pem.as_bytes())
            .map_err(|e| TestIdpError::InvalidKey(e.to_string()))?;
        Ok(Self {
            key_pem,
            certificate_der,
            signing_key,
        })
    }

    /// The certificate as PEM.
    pub(super) fn certificate_pem(&self) -> String {
        pem(CERTIFICATE_LABEL, &self.certificate_der)
    }

    /// The certificate as the base64 an `<ds:X509Certificate>` holds.
    pub(super) fn certificate_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.certificate_der)
    }
}

fn parse_private_key(key_pem: &str) -> Result<RsaPrivateKey, TestIdpError> {
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    let trimmed = key_pem.trim();
    match RsaPrivateKey::from_pkcs8_pem(trimmed) {
        Ok(key) => Ok(key),
        Err(pkcs8_error) => RsaPrivateKey::from_pkcs1_pem(trimmed).map_err(|pkcs1_error| {
            TestIdpError::InvalidKey(format!(
                "neither a PKCS#8 RSA key ({pkcs8_error}) nor a PKCS#1 one ({pkcs1_error})"
            ))
        }),
    }
}

/// The DER of the certificate in the first `CERTIFICATE` block of `pem_text`.
pub(super) fn parse_certificate_pem(pem_text: &str) -> Result<Vec<u8>, TestIdpError> {
    let begin = format!("-----BEGIN {CERTIFICATE_LABEL}-----");
    let end = format!("-----END {CERTIFICATE_LABEL}-----");
    let (_, after_begin) = pem_text
        .split_once(&begin)
        .ok_or_else(|| TestIdpError::InvalidCertificate(format!("no \"{begin}\" line")))?;
    let (body, _) = after_begin
        .split_once(&end)
        .ok_or_else(|| TestIdpError::InvalidCertificate(format!("no \"{end}\" line")))?;
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| TestIdpError::InvalidCertificate(format!("bad base64: {e}")))
}

fn public_key_der(key: &RsaPrivateKey) -> Result<Vec<u8>, TestIdpError> {
    key.to_public_key()
        .to_public_key_der()
        .map(|document| document.as_bytes().to_vec())
        .map_err(|e| TestIdpError::InvalidKey(e.to_string()))
}

/// PEM with 64-character lines and a final newline.
pub(super) fn pem(label: &str, der_bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der_bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 64 + 64);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for (index, c) in encoded.chars().enumerate() {
        if index > 0 && index % 64 == 0 {
            out.push('\n');
        }
        out.push(c);
    }
    out.push_str("\n-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// An X.509 v3 certificate for `key`, signed by `key` itself with
/// `sha256WithRSAEncryption`.
///
/// Subject and issuer are both `CN=jit-provisioning-saml test IdP`; the serial is 16
/// random octets; validity runs from 2000-01-01 to 9999-12-31; the extensions are
/// `basicConstraints` (critical, not a CA), `keyUsage` (critical, `digitalSignature`)
/// and a `subjectKeyIdentifier` (the first 20 octets of the SHA-256 of the
/// `SubjectPublicKeyInfo`).
fn self_signed_certificate(key: &RsaPrivateKey) -> Result<Vec<u8>, TestIdpError> {
    let spki = public_key_der(key)?;

    let mut serial = [0u8; 16];
    super::rng::fill(&mut serial)?;
    // Positive and of full length: clear the sign bit, set the next one.
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7f) | 0x40;
    }

    let algorithm = der::sequence(&[&der::oid(SHA256_WITH_RSA), &der::tlv(der::NULL, &[])]);
    let name = der::sequence(&[&der::constructed(
        der::SET,
        &[&der::sequence(&[
            &der::oid(COMMON_NAME),
            &der::tlv(der::UTF8_STRING, CERTIFICATE_COMMON_NAME.as_bytes()),
        ])],
    )]);
    let validity = der::sequence(&[
        &der::tlv(der::UTC_TIME, NOT_BEFORE),
        &der::tlv(der::GENERALIZED_TIME, NOT_AFTER),
    ]);

    let critical = der::tlv(der::BOOLEAN, &[0xff]);
    // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, ... }: all defaults.
    let basic_constraints = der::sequence(&[
        &der::oid(BASIC_CONSTRAINTS),
        &critical,
        &der::tlv(der::OCTET_STRING, &der::sequence(&[])),
    ]);
    // KeyUsage: digitalSignature (bit 0) only, so seven unused bits.
    let key_usage = der::sequence(&[
        &der::oid(KEY_USAGE),
        &critical,
        &der::tlv(der::OCTET_STRING, &der::tlv(der::BIT_STRING, &[0x07, 0x80])),
    ]);
    let spki_hash = sha2::Sha256::digest(&spki);
    let key_identifier: Vec<u8> = spki_hash.iter().copied().take(20).collect();
    let subject_key_identifier = der::sequence(&[
        &der::oid(SUBJECT_KEY_IDENTIFIER),
        &der::tlv(
            der::OCTET_STRING,
            &der::tlv(der::OCTET_STRING, &key_identifier),
        ),
    ]);
    let extensions = der::constructed(
        der::CONTEXT_3,
        &[&der::sequence(&[
            &basic_constraints,
            &key_usage,
            &subject_key_identifier,
        ])],
    );

    let tbs = der::sequence(&[
        &der::constructed(der::CONTEXT_0, &[&der::unsigned_integer(&[2])]),
        &der::unsigned_integer(&serial),
        &algorithm,
        &name,
        &validity,
        &name,
        &spki,
        &extensions,
    ]);

    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let signature = signer
        .try_sign(&tbs)
        .map_err(|e| TestIdpError::KeyGeneration(format!("self-signing the certificate: {e}")))?
        .to_vec();

    Ok(der::sequence(&[
        &tbs,
        &algorithm,
        &der::bit_string(&signature),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::signature::Verifier as _;

    #[test]
    fn pem_lines_are_64_wide_and_round_trip() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let text = pem(CERTIFICATE_LABEL, &bytes);
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(text.ends_with("\n-----END CERTIFICATE-----\n"));
        for line in text.lines() {
            assert!(line.len() <= 64 || line.starts_with("-----"), "{line}");
        }
        assert_eq!(parse_certificate_pem(&text).expect("parses"), bytes);
        assert!(matches!(
            parse_certificate_pem("nothing here"),
            Err(TestIdpError::InvalidCertificate(_))
        ));
        assert!(matches!(
            parse_certificate_pem("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----"),
            Err(TestIdpError::InvalidCertificate(_))
        ));
    }

    #[test]
    fn generated_certificate_is_self_signed_and_parses() {
        let pair = super::super::tests::shared_key_pair();
        let cert = &pair.certificate_der;
        // x509-cert (through bergshamra) reads it.
        bergshamra::keys::loader::load_x509_cert_der(cert).expect("bergshamra reads the cert");

        // Its signature verifies under its own key.
        let (certificate, rest) = der::expect(cert, der::SEQUENCE).expect("certificate");
        assert!(rest.is_empty());
        let (tbs, rest) = der::expect(certificate.content, der::SEQUENCE).expect("tbs");
        let (_algorithm, rest) = der::expect(rest, der::SEQUENCE).expect("algorithm");
        let (signature, rest) = der::expect(rest, der::BIT_STRING).expect("signature");
        assert!(rest.is_empty());
        let (unused_bits, signature_bytes) = signature.content.split_first().expect("bits");
        assert_eq!(*unused_bits, 0);

        let key = parse_private_key(&pair.key_pem).expect("key");
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.to_public_key());
        let signature =
            rsa::pkcs1v15::Signature::try_from(signature_bytes).expect("signature bytes");
        verifier
            .verify(tbs.whole, &signature)
            .expect("self-signature verifies");

        assert_eq!(
            der::certificate_spki(cert),
            Some(public_key_der(&key).expect("spki").as_slice())
        );
        let text = String::from_utf8_lossy(cert);
        assert!(text.contains(CERTIFICATE_COMMON_NAME));
    }

    #[test]
    fn pem_key_and_certificate_round_trip() {
        let pair = super::super::tests::shared_key_pair();
        let again = KeyPair::from_pem(&pair.key_pem, &pair.certificate_pem()).expect("round trip");
        assert_eq!(again.key_pem, pair.key_pem);
        assert_eq!(again.certificate_der, pair.certificate_der);

        // A PKCS#1 key is read too, and written back as PKCS#8.
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        let key = parse_private_key(&pair.key_pem).expect("key");
        let pkcs1 = key
            .to_pkcs1_pem(LineEnding::CRLF)
            .expect("pkcs1")
            .to_string();
        let from_pkcs1 = KeyPair::from_pem(&pkcs1, &pair.certificate_pem()).expect("pkcs1");
        assert_eq!(from_pkcs1.key_pem, pair.key_pem);

        assert!(matches!(
            KeyPair::from_pem("not a key", &pair.certificate_pem()),
            Err(TestIdpError::InvalidKey(_))
        ));
        let not_a_certificate = pem(CERTIFICATE_LABEL, b"garbage");
        assert!(matches!(
            KeyPair::from_pem(&pair.key_pem, &not_a_certificate),
            Err(TestIdpError::InvalidCertificate(_))
        ));
    }
}
