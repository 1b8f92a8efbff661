//! The pure-Rust backend: bergshamra, verifying on the same DOM the SAML checks read.

use bergshamra::{DsigContext, KeysManager, VerifyResult};
use uppsala::{Document, NodeId};

use super::ValidSignature;
use crate::cert::Certificate;

/// The IdP's certificates as a bergshamra context, built once.
pub(super) struct Keys {
    context: DsigContext,
}

impl Keys {
    pub(super) fn new(certificates: &[Certificate]) -> Result<Self, String> {
        let mut manager = KeysManager::new();
        for certificate in certificates {
            let key = bergshamra::keys::loader::load_x509_cert_der(certificate.der())
                .map_err(|error| error.to_string())?
                // The name comes back on a valid result: it says which certificate signed.
                .with_name(certificate.fingerprint());
            manager.add_key(key);
        }
        // `new` is the SAML profile: only these keys (never one embedded in the
        // response), references only to the signature's ancestors or siblings.
        let mut context = DsigContext::new(manager);
        // Metadata pins keys; certificate dates are deliberately not enforced.
        context.skip_time_checks = true;
        Ok(Self { context })
    }

    pub(super) fn verify(
        &self,
        xml: &str,
        doc: &Document<'_>,
    ) -> Result<Vec<ValidSignature>, String> {
        let results = bergshamra::dsig::verify::verify_all_document_with_source(
            &self.context,
            doc,
            Some(xml),
        )
        .map_err(|error| error.to_string())?;
        let mut valid = Vec::with_capacity(results.len());
        for result in results {
            match result {
                VerifyResult::Valid {
                    references,
                    key_info,
                    ..
                } => {
                    let signer = key_info.key_name.unwrap_or_default();
                    for reference in references {
                        // An empty URI is the whole document: it covers the root.
                        let node = if reference.uri.is_empty() {
                            doc.document_element()
                        } else {
                            reference.resolved_node
                        };
                        let covered = node.and_then(|node| id_of(doc, node)).ok_or_else(|| {
                            format!("the reference `{}` resolved to no element", reference.uri)
                        })?;
                        valid.push(ValidSignature {
                            covered_id: covered,
                            signer: signer.clone(),
                        });
                    }
                }
                VerifyResult::Invalid { reason } => return Err(reason),
            }
        }
        Ok(valid)
    }
}

/// The `ID` of an element, or of the document element for the document node (an
/// empty reference URI resolves to the whole document).
fn id_of(doc: &Document<'_>, node: NodeId) -> Option<String> {
    let element = if doc.element(node).is_some() {
        node
    } else {
        doc.document_element()?
    };
    crate::xml::attr(doc, element, "ID").map(str::to_owned)
}
