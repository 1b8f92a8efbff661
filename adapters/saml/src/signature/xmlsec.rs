//! The libxmlsec1 backend, through samael's `reduce_xml_to_signed_with_allowed_algorithms`
//! in `ValidateAndMarkNoAncestors` mode (samael's `ServiceProvider` validation and serde
//! schema are not used: the SAML checks stay this crate's own).
//!
//! xmlsec answers for the whole document: every signature verifies with one of the
//! trusted certificates, or the document is refused. The shape checks that ran before
//! guarantee that each signature references the element holding it (or, with an empty
//! URI, the whole document) and that IDs are unique, so a valid signature covers its
//! owner's ID.

use samael::crypto::{CertificateDer, CryptoProvider as _, ReduceMode, XmlSec};
use uppsala::Document;

use super::ValidSignature;
use crate::cert::Certificate;
use crate::xml::{self, DS};

/// The IdP's certificates as xmlsec takes them.
pub(super) struct Keys {
    certificates: Vec<(CertificateDer, String)>,
}

impl Keys {
    pub(super) fn new(certificates: &[Certificate]) -> Self {
        Self {
            certificates: certificates
                .iter()
                .map(|certificate| {
                    (
                        CertificateDer::from(certificate.der().to_vec()),
                        certificate.fingerprint().to_owned(),
                    )
                })
                .collect(),
        }
    }

    pub(super) fn verify(
        &self,
        source: &str,
        doc: &Document<'_>,
    ) -> Result<Vec<ValidSignature>, String> {
        let all: Vec<CertificateDer> = self
            .certificates
            .iter()
            .map(|(der, _)| der.clone())
            .collect();
        let reduced = reduce(source, &all)?;
        // Who signed: with one certificate it is that one; with several (a rollover), the
        // first that verifies the whole document alone.
        let signer = match self.certificates.as_slice() {
            [(_, fingerprint)] => fingerprint.clone(),
            several => several
                .iter()
                .find(|(der, _)| reduce(source, std::slice::from_ref(der)).is_ok())
                .map(|(_, fingerprint)| fingerprint.clone())
                .unwrap_or_else(|| "several trusted certificates".into()),
        };
        let root = doc.document_element().ok_or("no document element")?;
        let mut valid = Vec::new();
        for signature in xml::descendants_named(doc, root, DS, "Signature") {
            let owner = doc
                .parent(signature)
                .ok_or("a signature without a parent")?;
            let empty_uri = xml::child(doc, signature, DS, "SignedInfo")
                .ok()
                .flatten()
                .and_then(|info| xml::child(doc, info, DS, "Reference").ok().flatten())
                .and_then(|reference| xml::attr(doc, reference, "URI"))
                .is_some_and(str::is_empty);
            let covered = if empty_uri { root } else { owner };
            let covered_id = xml::attr(doc, covered, "ID")
                .ok_or("a signed element without an ID")?
                .to_owned();
            valid.push(ValidSignature {
                covered_id,
                signer: signer.clone(),
            });
        }
        // Cross-check the two parsers: the element xmlsec kept must be one we saw signed.
        let kept = uppsala::parse(&reduced).map_err(|error| error.to_string())?;
        let kept_id = kept
            .document_element()
            .and_then(|root| xml::attr(&kept, root, "ID"))
            .ok_or("xmlsec kept no signed element")?;
        if !valid
            .iter()
            .any(|signature| signature.covered_id == kept_id)
        {
            return Err(format!(
                "xmlsec verified `{kept_id}`, which no signature here covers"
            ));
        }
        Ok(valid)
    }
}

fn reduce(source: &str, certificates: &[CertificateDer]) -> Result<String, String> {
    XmlSec::reduce_xml_to_signed_with_allowed_algorithms(
        source,
        certificates,
        ReduceMode::ValidateAndMarkNoAncestors,
        // The algorithm policy (SHA-1 opt-in included) was applied before this call.
        None,
    )
    .map_err(|error| format!("xmlsec: {error}"))
}
