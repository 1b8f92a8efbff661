//! The libxmlsec1 backend, through samael's `reduce_xml_to_signed_with_allowed_algorithms`
//! in `ValidateAndMarkNoAncestors` mode (samael's `ServiceProvider` validation and serde
//! schema are not used: the SAML checks stay this crate's own).
//!
//! xmlsec answers for the whole document: every signature verifies with one of the
//! trusted certificates, or the document is refused. The shape checks that ran before
//! guarantee that each signature references the element holding it (or, with an empty
//! URI, the whole document) and that IDs are unique, so a valid signature covers its
//! owner's ID.

use std::borrow::Cow;

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
        // libxmlsec1 fails a digest over a CDATA section that canonical XML, and the pure
        // backend, read as the text it holds; give it that text, so both agree.
        let source = &*cdata_as_text(source);
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

/// `source` with every CDATA section written as the escaped text it holds, which is how
/// canonical XML writes it: the same document to a signature. Only called on text that
/// parsed as well-formed XML without a DOCTYPE, so `<` starts markup everywhere outside
/// comments, processing instructions and CDATA sections (never inside an attribute
/// value), and those three are skipped whole.
fn cdata_as_text(source: &str) -> Cow<'_, str> {
    const CDATA: &str = "<![CDATA[";
    if !source.contains(CDATA) {
        return Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = rest.find('<') {
        let (before, markup) = rest.split_at(at);
        out.push_str(before);
        let (open, close) = if markup.starts_with(CDATA) {
            (CDATA, "]]>")
        } else if markup.starts_with("<!--") {
            ("<!--", "-->")
        } else if markup.starts_with("<?") {
            ("<?", "?>")
        } else {
            out.push('<');
            rest = markup.get(1..).unwrap_or_default();
            continue;
        };
        let body_and_rest = markup.get(open.len()..).unwrap_or_default();
        let Some(end) = body_and_rest.find(close) else {
            // Unterminated: not well-formed, so leave it for xmlsec to refuse.
            out.push_str(markup);
            return Cow::Owned(out);
        };
        let (body, after) = body_and_rest.split_at(end);
        if open == CDATA {
            for c in body.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    other => out.push(other),
                }
            }
        } else {
            out.push_str(open);
            out.push_str(body);
            out.push_str(close);
        }
        rest = after.get(close.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::cdata_as_text;

    #[test]
    fn cdata_sections_become_escaped_text_and_nothing_else_changes() {
        assert_eq!(cdata_as_text("<a>x</a>"), "<a>x</a>");
        assert_eq!(
            cdata_as_text("<a>j<![CDATA[a<n>&e]]>!</a>"),
            "<a>ja&lt;n&gt;&amp;e!</a>"
        );
        assert_eq!(
            cdata_as_text("<a><!-- <![CDATA[x]]> --><?p <![CDATA[y]]>?><![CDATA[]]></a>"),
            "<a><!-- <![CDATA[x]]> --><?p <![CDATA[y]]>?></a>"
        );
        assert_eq!(
            cdata_as_text("<a><![CDATA[<![CDATA[]]></a>"),
            "<a>&lt;![CDATA[</a>"
        );
        assert_eq!(
            cdata_as_text("<a><![CDATA[open</a>"),
            "<a><![CDATA[open</a>"
        );
    }
}
