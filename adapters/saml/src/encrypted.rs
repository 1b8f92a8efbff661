//! `EncryptedAssertion`: decrypted with the SP's key (Entra ID and ADFS can encrypt).
//! The EncryptedKey must sit in the EncryptedData's KeyInfo, as those IdPs write it.

use bergshamra::{EncContext, KeysManager};

use crate::error::VerifyError;
use crate::sp_key::SpKey;
use crate::xml::{self, Limits, SAML};

/// The plaintext `saml:Assertion` of the response `xml`, as a document of its own.
pub(crate) fn decrypt_assertion(
    xml_text: &str,
    key: &SpKey,
    limits: Limits,
) -> Result<String, VerifyError> {
    let failed = |reason: String| VerifyError::DecryptionFailed(reason);
    let private = bergshamra::keys::loader::load_pem_auto(key.pem().as_bytes(), None)
        .map_err(|error| failed(error.to_string()))?;
    let mut manager = KeysManager::new();
    manager.add_key(private);
    // No CipherReference: the ciphertext is in the document, never fetched.
    let context = EncContext::new(manager).with_disable_cipher_reference(true);
    let decrypted =
        bergshamra::decrypt(&context, xml_text).map_err(|error| failed(error.to_string()))?;
    let doc = xml::parse(&decrypted, limits)?;
    let root = doc
        .document_element()
        .ok_or_else(|| failed("no document element".into()))?;
    let encrypted = xml::descendants_named(&doc, root, SAML, "EncryptedAssertion");
    let [container] = encrypted.as_slice() else {
        return Err(failed("not one EncryptedAssertion after decryption".into()));
    };
    // What was encrypted must be exactly one saml:Assertion (EncryptedKeys may sit
    // beside it).
    let mut assertions = xml::elements(&doc, *container)
        .filter(|&child| !xml::is(&doc, child, crate::xml::XENC, "EncryptedKey"));
    let assertion = match (assertions.next(), assertions.next()) {
        (Some(assertion), None) if xml::is(&doc, assertion, SAML, "Assertion") => assertion,
        _ => {
            return Err(failed(
                "the plaintext is not exactly one saml:Assertion".into(),
            ))
        }
    };
    // The IdP serialized the assertion on its own before encrypting it, with its
    // namespace declarations: its text stands alone.
    doc.node_source(assertion)
        .map(str::to_owned)
        .ok_or_else(|| failed("the decrypted assertion has no text of its own".into()))
}
