//! Reading a response or assertion WITHOUT verifying it: for debugging tools and for
//! previewing what an IdP sends while its certificate is not configured yet. Nothing
//! read here may sign anyone in.

use uppsala::NodeId;

use crate::error::VerifyError;
use crate::model::{Attribute, NameId};
use crate::response::read_attribute;
use crate::xml::{self, Limits, SAML, SAMLP};

/// What an unverified document claims. The name says it: none of it is trusted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unverified {
    /// The assertion's issuer, if it names one.
    pub issuer: Option<String>,
    /// The subject's NameID, if any.
    pub name_id: Option<NameId>,
    /// The attributes, in document order.
    pub attributes: Vec<Attribute>,
}

/// Reads the one assertion of a `samlp:Response`, or a bare `saml:Assertion`, without
/// checking any signature, issuer, audience or time.
pub fn inspect_unverified(xml_text: &str, limits: Limits) -> Result<Unverified, VerifyError> {
    let doc = xml::parse(xml_text, limits)?;
    xml::check_document(&doc)?;
    let root = doc
        .document_element()
        .ok_or_else(|| VerifyError::Malformed("no document element".into()))?;
    let assertion: NodeId = if xml::is(&doc, root, SAML, "Assertion") {
        root
    } else if xml::is(&doc, root, SAMLP, "Response") {
        let mut assertions = xml::children(&doc, root, SAML, "Assertion");
        let first = assertions.next().ok_or(VerifyError::NoAssertion)?;
        if assertions.next().is_some() {
            return Err(VerifyError::MultipleAssertions(2));
        }
        first
    } else {
        return Err(VerifyError::Malformed(
            "neither a samlp:Response nor a saml:Assertion".into(),
        ));
    };
    let issuer = match xml::child(&doc, assertion, SAML, "Issuer")? {
        Some(issuer) => Some(xml::text(&doc, issuer)?),
        None => None,
    };
    let name_id = match xml::child(&doc, assertion, SAML, "Subject")? {
        Some(subject) => match xml::child(&doc, subject, SAML, "NameID")? {
            Some(node) => Some(NameId {
                value: xml::text(&doc, node)?,
                format: xml::attr(&doc, node, "Format").map(str::to_owned),
            }),
            None => None,
        },
        None => None,
    };
    let mut attributes = Vec::new();
    for statement in xml::children(&doc, assertion, SAML, "AttributeStatement") {
        for attribute in xml::children(&doc, statement, SAML, "Attribute") {
            attributes.push(read_attribute(&doc, attribute)?);
        }
    }
    Ok(Unverified {
        issuer,
        name_id,
        attributes,
    })
}

/// The AuthnRequest id a response claims to answer: the `samlp:Response`'s
/// `InResponseTo`, or else its first assertion's bearer confirmation's. Nothing is
/// verified: the answer only tells which outstanding trip a response comes back from,
/// and must be checked by the verification that follows.
pub(crate) fn claimed_in_response_to(xml_text: &str, limits: Limits) -> Option<String> {
    let doc = xml::parse(xml_text, limits).ok()?;
    let root = doc
        .document_element()
        .filter(|&root| xml::is(&doc, root, SAMLP, "Response"))?;
    if let Some(id) = xml::attr(&doc, root, "InResponseTo") {
        return Some(id.to_owned());
    }
    let assertion = xml::children(&doc, root, SAML, "Assertion").next()?;
    let subject = xml::child(&doc, assertion, SAML, "Subject").ok()??;
    let claimed =
        xml::children(&doc, subject, SAML, "SubjectConfirmation").find_map(|confirmation| {
            let data = xml::child(&doc, confirmation, SAML, "SubjectConfirmationData").ok()??;
            xml::attr(&doc, data, "InResponseTo").map(str::to_owned)
        });
    claimed
}
