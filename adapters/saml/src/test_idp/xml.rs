//! A small XML writer that escapes every value it is given.
//!
//! Element and attribute names come from this module's callers as constants; every
//! attribute value and every text goes through [`escape`], which writes `&amp;`,
//! `&lt;`, `&gt;`, `&quot;` and `&apos;`, keeps carriage returns (and, in attributes,
//! tabs and line feeds) from being normalised away by writing them as character
//! references, and refuses the characters XML 1.0 cannot carry at all.

use super::TestIdpError;

/// Where an escaped value goes: attribute values lose raw whitespace to
/// normalisation, text does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Text,
    Attribute,
}

/// Appends `value` to `out`, escaped for `place`.
fn escape_into(out: &mut String, value: &str, place: Place) -> Result<(), TestIdpError> {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' if place == Place::Attribute => out.push_str("&#9;"),
            '\n' if place == Place::Attribute => out.push_str("&#10;"),
            '\t' | '\n' => out.push(c),
            c if is_xml_char(c) => out.push(c),
            c => return Err(TestIdpError::UnrepresentableCharacter(c)),
        }
    }
    Ok(())
}

/// `value` escaped for use as text or as an attribute value.
pub(super) fn escape(value: &str) -> Result<String, TestIdpError> {
    let mut out = String::with_capacity(value.len());
    escape_into(&mut out, value, Place::Attribute)?;
    Ok(out)
}

/// Whether XML 1.0 can carry `c` at all (its `Char` production, less what is handled
/// before this is asked).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// An XML document under construction.
#[derive(Debug, Default)]
pub(super) struct Writer {
    out: String,
}

impl Writer {
    /// An empty document.
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// An empty document that starts with an XML declaration.
    pub(super) fn with_declaration() -> Self {
        Self {
            out: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>".to_owned(),
        }
    }

    fn start_tag(&mut self, name: &str, attributes: &[(&str, &str)]) -> Result<(), TestIdpError> {
        self.out.push('<');
        self.out.push_str(name);
        for (attribute, value) in attributes {
            self.out.push(' ');
            self.out.push_str(attribute);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value, Place::Attribute)?;
            self.out.push('"');
        }
        Ok(())
    }

    /// `<name attributes…>`.
    pub(super) fn open(
        &mut self,
        name: &str,
        attributes: &[(&str, &str)],
    ) -> Result<(), TestIdpError> {
        self.start_tag(name, attributes)?;
        self.out.push('>');
        Ok(())
    }

    /// `</name>`.
    pub(super) fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name attributes…/>`.
    pub(super) fn empty(
        &mut self,
        name: &str,
        attributes: &[(&str, &str)],
    ) -> Result<(), TestIdpError> {
        self.start_tag(name, attributes)?;
        self.out.push_str("/>");
        Ok(())
    }

    /// `<name attributes…>text</name>`.
    pub(super) fn leaf(
        &mut self,
        name: &str,
        attributes: &[(&str, &str)],
        text: &str,
    ) -> Result<(), TestIdpError> {
        self.open(name, attributes)?;
        escape_into(&mut self.out, text, Place::Text)?;
        self.close(name);
        Ok(())
    }

    /// Markup this module made itself (a signed assertion, a signature template).
    pub(super) fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
    }

    /// The document.
    pub(super) fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_all_five_and_whitespace_in_attributes() {
        assert_eq!(
            escape("a&b<c>d\"e'f").expect("escapes"),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f"
        );
        let mut writer = Writer::new();
        writer
            .leaf("x", &[("v", "1\t2\n3\r4")], "1\t2\n3\r4")
            .expect("writes");
        assert_eq!(
            writer.finish(),
            "<x v=\"1&#9;2&#10;3&#13;4\">1\t2\n3&#13;4</x>"
        );
    }

    #[test]
    fn refuses_what_xml_cannot_carry() {
        for bad in ['\u{0}', '\u{1}', '\u{1b}', '\u{FFFE}', '\u{FFFF}'] {
            assert!(matches!(
                escape(&format!("a{bad}b")),
                Err(TestIdpError::UnrepresentableCharacter(c)) if c == bad
            ));
        }
        assert_eq!(escape("é ✓ 𝄞 \u{7f}").expect("fine"), "é ✓ 𝄞 \u{7f}");
    }

    #[test]
    fn escaped_values_parse_back_unchanged() {
        let nasty = "</saml:AttributeValue><saml:AttributeValue>admins\" x='y' &amp; \r\n\t";
        let mut writer = Writer::new();
        writer.leaf("e", &[("a", nasty)], nasty).expect("writes");
        let xml = writer.finish();
        let doc = uppsala::parse(&xml).expect("well-formed");
        let root = doc.document_element().expect("root");
        assert_eq!(doc.get_attribute(root, "a"), Some(nasty));
        assert_eq!(doc.text_content_deep(root), nasty);
        assert_eq!(doc.children(root).len(), 1);
    }
}
