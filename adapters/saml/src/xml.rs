//! Reading untrusted XML: limits first, then small, path-based accessors over the DOM.

use chrono::{DateTime, Utc};
use uppsala::{Document, NodeId, NodeKind};

use crate::error::VerifyError;

/// The SAML 2.0 protocol namespace (`samlp:`).
pub(crate) const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The SAML 2.0 assertion namespace (`saml:`).
pub(crate) const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// XML-DSig (`ds:`).
pub(crate) const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XML Encryption (`xenc:`).
pub(crate) const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
/// SAML metadata (`md:`).
pub(crate) const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML Schema instance (`xsi:`).
pub(crate) const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Bounds on what a response may be before it is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Limits {
    /// The largest decoded response accepted, in bytes. Real responses are 4–20 KB;
    /// Entra ID with many groups reaches about 100 KB.
    pub max_bytes: usize,
    /// The deepest element nesting accepted. SAML responses nest about 8 deep.
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024,
            max_depth: 48,
        }
    }
}

/// Parses `xml` within `limits`, refusing a DOCTYPE before the parser sees it.
pub(crate) fn parse(xml: &str, limits: Limits) -> Result<Document<'_>, VerifyError> {
    if xml.len() > limits.max_bytes {
        return Err(VerifyError::TooLarge {
            size: xml.len(),
            limit: limits.max_bytes,
        });
    }
    // SAML never uses a DTD; refusing the text outright also refuses one hidden in a
    // comment or CDATA, which no real IdP sends.
    if xml.contains("<!DOCTYPE") {
        return Err(VerifyError::Doctype);
    }
    uppsala::Parser::new()
        .with_max_depth(limits.max_depth)
        .parse(xml)
        .map_err(|error| VerifyError::Malformed(format!("not well-formed XML: {error}")))
}

/// Whether `node` is the element `{ns}name`.
pub(crate) fn is(doc: &Document<'_>, node: NodeId, ns: &str, name: &str) -> bool {
    doc.element(node)
        .is_some_and(|element| element.name.matches(Some(ns), name))
}

/// The child elements of `parent` named `{ns}name`, in order.
pub(crate) fn children<'d>(
    doc: &'d Document<'_>,
    parent: NodeId,
    ns: &'d str,
    name: &'d str,
) -> impl Iterator<Item = NodeId> + 'd {
    doc.children_iter(parent)
        .filter(move |&child| is(doc, child, ns, name))
}

/// The element children of `parent`, in order.
pub(crate) fn elements<'d>(
    doc: &'d Document<'_>,
    parent: NodeId,
) -> impl Iterator<Item = NodeId> + 'd {
    doc.children_iter(parent)
        .filter(move |&child| doc.element(child).is_some())
}

/// The one child `{ns}name` of `parent`, if any; two of them are malformed.
pub(crate) fn child(
    doc: &Document<'_>,
    parent: NodeId,
    ns: &str,
    name: &str,
) -> Result<Option<NodeId>, VerifyError> {
    let mut found = children(doc, parent, ns, name);
    let first = found.next();
    if found.next().is_some() {
        return Err(VerifyError::Malformed(format!(
            "more than one {name} in {}",
            local_name(doc, parent)
        )));
    }
    Ok(first)
}

/// Like [`child`], but the element must be there.
pub(crate) fn required_child(
    doc: &Document<'_>,
    parent: NodeId,
    ns: &str,
    name: &str,
) -> Result<NodeId, VerifyError> {
    child(doc, parent, ns, name)?
        .ok_or_else(|| VerifyError::Malformed(format!("{} has no {name}", local_name(doc, parent))))
}

/// The element's local name, for messages.
pub(crate) fn local_name(doc: &Document<'_>, node: NodeId) -> String {
    doc.element(node)
        .map(|element| element.name.local_name.to_string())
        .unwrap_or_default()
}

/// An attribute without a namespace.
pub(crate) fn attr<'d>(doc: &'d Document<'_>, node: NodeId, name: &str) -> Option<&'d str> {
    doc.element(node)?
        .attributes
        .iter()
        .find(|attribute| {
            attribute.name.namespace_uri.is_none() && *attribute.name.local_name == *name
        })
        .map(|attribute| &*attribute.value)
}

/// A required attribute without a namespace.
pub(crate) fn required_attr<'d>(
    doc: &'d Document<'_>,
    node: NodeId,
    name: &str,
) -> Result<&'d str, VerifyError> {
    attr(doc, node, name).ok_or_else(|| {
        VerifyError::Malformed(format!("{} has no {name} attribute", local_name(doc, node)))
    })
}

/// The text of a simple element, trimmed of XML whitespace. Refuses a comment between
/// pieces of text (a reader that stops at the comment would see another value) and
/// child elements (a simple SAML value has none).
pub(crate) fn text(doc: &Document<'_>, node: NodeId) -> Result<String, VerifyError> {
    let mut out = String::new();
    let mut seen_text = false;
    let mut comment_after_text = false;
    for child in doc.children_iter(node) {
        match doc.node_kind(child) {
            Some(NodeKind::Text(piece) | NodeKind::CData(piece)) => {
                if comment_after_text && !piece.trim().is_empty() {
                    return Err(VerifyError::CommentInText(local_name(doc, node)));
                }
                seen_text |= !piece.trim().is_empty();
                out.push_str(piece);
            }
            Some(NodeKind::Comment(_)) => comment_after_text |= seen_text,
            Some(NodeKind::Element(_)) => {
                return Err(VerifyError::Malformed(format!(
                    "{} holds an element where text was expected",
                    local_name(doc, node)
                )));
            }
            _ => {}
        }
    }
    Ok(out
        .trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
        .to_owned())
}

/// An `xs:dateTime` attribute. SAML says UTC with `Z`; real IdPs also send `+00:00`,
/// which is the same instant and accepted.
pub(crate) fn instant(
    doc: &Document<'_>,
    node: NodeId,
    name: &str,
) -> Result<Option<DateTime<Utc>>, VerifyError> {
    let Some(value) = attr(doc, node, name) else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(value.trim())
        .map(|instant| Some(instant.with_timezone(&Utc)))
        .map_err(|_| {
            VerifyError::Malformed(format!(
                "{name} on {} is not a date and time: `{value}`",
                local_name(doc, node)
            ))
        })
}

/// Checks what the parser lets through but a namespace-aware reader must not: every
/// element and attribute name a valid QName (`prefix:local`, neither part empty nor
/// holding a colon), and every ID-like attribute (`ID`, `Id`, `id`, `AssertionID`: what
/// signature libraries resolve references against) an `xs:ID` and unique, since a
/// reference could otherwise point at either element.
pub(crate) fn check_document(doc: &Document<'_>) -> Result<(), VerifyError> {
    let mut seen = std::collections::HashSet::new();
    for node in doc.descendants(doc.root()) {
        let Some(element) = doc.element(node) else {
            continue;
        };
        check_qname(&element.name)?;
        for attribute in &element.attributes {
            check_qname(&attribute.name)?;
            let name = &*attribute.name.local_name;
            if attribute.name.namespace_uri.is_none()
                && matches!(name, "ID" | "Id" | "id" | "AssertionID")
            {
                if !is_ncname(&attribute.value) {
                    return Err(VerifyError::Malformed(format!(
                        "the ID `{}` is not an xs:ID (it must start with a letter or `_`)",
                        attribute.value
                    )));
                }
                if !seen.insert(&*attribute.value) {
                    return Err(VerifyError::DuplicateId(attribute.value.to_string()));
                }
            }
        }
    }
    Ok(())
}

/// Every descendant element `{ns}name` of `node`, in document order.
pub(crate) fn descendants_named(
    doc: &Document<'_>,
    node: NodeId,
    ns: &str,
    name: &str,
) -> Vec<NodeId> {
    doc.descendants(node)
        .into_iter()
        .filter(|&child| is(doc, child, ns, name))
        .collect()
}

/// Whether `value` is an `xs:NCName`, as `xs:ID` values must be: libxml2 (and so xmlsec)
/// will not resolve a reference to anything else, so both backends refuse alike.
fn is_ncname(value: &str) -> bool {
    let mut chars = value.chars();
    chars
        .next()
        .is_some_and(|first| first == '_' || first.is_alphabetic())
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn check_qname(name: &uppsala::QName<'_>) -> Result<(), VerifyError> {
    let part_ok = |part: &str| !part.is_empty() && !part.contains(':');
    if part_ok(&name.local_name) && name.prefix.as_deref().is_none_or(part_ok) {
        Ok(())
    } else {
        Err(VerifyError::Malformed(format!(
            "`{}` is not a valid XML name",
            name.prefixed_name()
        )))
    }
}

/// `text` escaped for XML content and attribute values (both quotes included), so a
/// value can never close the element or attribute it is written into.
pub(crate) fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
    std::borrow::Cow::Owned(out)
}
