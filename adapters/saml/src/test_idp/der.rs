//! The little DER the test IdP needs: encoding a self-signed X.509 certificate and
//! reading the `SubjectPublicKeyInfo` back out of one.
//!
//! Only definite lengths are written or read (DER has no other kind).

/// Tag of a universal `BOOLEAN`.
pub(super) const BOOLEAN: u8 = 0x01;
/// Tag of a universal `INTEGER`.
pub(super) const INTEGER: u8 = 0x02;
/// Tag of a universal `BIT STRING`.
pub(super) const BIT_STRING: u8 = 0x03;
/// Tag of a universal `OCTET STRING`.
pub(super) const OCTET_STRING: u8 = 0x04;
/// Tag of a universal `NULL`.
pub(super) const NULL: u8 = 0x05;
/// Tag of a universal `OBJECT IDENTIFIER`.
pub(super) const OID: u8 = 0x06;
/// Tag of a universal `UTF8String`.
pub(super) const UTF8_STRING: u8 = 0x0c;
/// Tag of a universal `UTCTime`.
pub(super) const UTC_TIME: u8 = 0x17;
/// Tag of a universal `GeneralizedTime`.
pub(super) const GENERALIZED_TIME: u8 = 0x18;
/// Tag of a constructed universal `SEQUENCE`.
pub(super) const SEQUENCE: u8 = 0x30;
/// Tag of a constructed universal `SET`.
pub(super) const SET: u8 = 0x31;
/// Tag of the constructed context-specific `[0]` (the certificate's version).
pub(super) const CONTEXT_0: u8 = 0xa0;
/// Tag of the constructed context-specific `[3]` (the certificate's extensions).
pub(super) const CONTEXT_3: u8 = 0xa3;

/// One element: tag, length and contents.
pub(super) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        // Fits in seven bits: the short form.
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let significant: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(&significant);
    }
    out.extend_from_slice(content);
    out
}

/// A constructed element holding `parts` one after another.
pub(super) fn constructed(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// A `SEQUENCE` of `parts`.
pub(super) fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    constructed(SEQUENCE, parts)
}

/// A non-negative `INTEGER` from its big-endian magnitude.
pub(super) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = magnitude.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    match trimmed.first() {
        None => content.push(0),
        Some(first) if first & 0x80 != 0 => {
            // A leading one bit would read as negative: pad with a zero octet.
            content.push(0);
            content.extend_from_slice(&trimmed);
        }
        Some(_) => content.extend_from_slice(&trimmed),
    }
    tlv(INTEGER, &content)
}

/// An `OBJECT IDENTIFIER` from its already encoded arcs.
pub(super) fn oid(encoded_arcs: &[u8]) -> Vec<u8> {
    tlv(OID, encoded_arcs)
}

/// A `BIT STRING` with no unused bits.
pub(super) fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(BIT_STRING, &content)
}

/// One element read from the front of some DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Element<'a> {
    /// The identifier octet.
    pub(super) tag: u8,
    /// The contents, without tag and length.
    pub(super) content: &'a [u8],
    /// The whole element: tag, length and contents.
    pub(super) whole: &'a [u8],
}

/// Reads one element off the front of `input`, returning it and what follows it.
///
/// `None` when the input is too short, uses a multi-octet tag, an indefinite length or a
/// length that does not fit.
pub(super) fn read(input: &[u8]) -> Option<(Element<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        // High tag numbers never occur in the structures read here.
        return None;
    }
    let (&first_len, rest) = rest.split_first()?;
    let (len, rest) = if first_len < 0x80 {
        (usize::from(first_len), rest)
    } else {
        let count = usize::from(first_len & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (len_bytes, rest) = rest.split_at_checked(count)?;
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    let header_len = input.len() - rest.len();
    let (content, after) = rest.split_at_checked(len)?;
    let whole = input.get(..header_len + len)?;
    Some((
        Element {
            tag,
            content,
            whole,
        },
        after,
    ))
}

/// Reads one element with the expected tag.
pub(super) fn expect(input: &[u8], tag: u8) -> Option<(Element<'_>, &[u8])> {
    let (element, rest) = read(input)?;
    (element.tag == tag).then_some((element, rest))
}

/// The DER of the `SubjectPublicKeyInfo` inside an X.509 certificate.
pub(super) fn certificate_spki(certificate: &[u8]) -> Option<&[u8]> {
    let (cert, trailing) = expect(certificate, SEQUENCE)?;
    if !trailing.is_empty() {
        return None;
    }
    let (tbs, _) = expect(cert.content, SEQUENCE)?;
    let mut fields = tbs.content;
    // version [0] EXPLICIT is optional (absent means v1).
    if let Some((version, rest)) = read(fields) {
        if version.tag == CONTEXT_0 {
            fields = rest;
        }
    }
    let (_serial, fields) = expect(fields, INTEGER)?;
    let (_signature, fields) = expect(fields, SEQUENCE)?;
    let (_issuer, fields) = expect(fields, SEQUENCE)?;
    let (_validity, fields) = expect(fields, SEQUENCE)?;
    let (_subject, fields) = expect(fields, SEQUENCE)?;
    let (spki, _) = expect(fields, SEQUENCE)?;
    Some(spki.whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_the_short_and_the_long_form() {
        assert_eq!(tlv(OCTET_STRING, &[1, 2]), vec![0x04, 0x02, 1, 2]);
        let long = tlv(OCTET_STRING, &[0u8; 200]);
        assert_eq!(long.get(..3), Some(&[0x04, 0x81, 200][..]));
        let longer = tlv(OCTET_STRING, &[0u8; 300]);
        assert_eq!(longer.get(..4), Some(&[0x04, 0x82, 0x01, 0x2c][..]));
        assert_eq!(longer.len(), 304);
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(unsigned_integer(&[]), vec![0x02, 0x01, 0x00]);
        assert_eq!(unsigned_integer(&[0, 0, 5]), vec![0x02, 0x01, 0x05]);
        assert_eq!(unsigned_integer(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(
            unsigned_integer(&[0x7f, 0xff]),
            vec![0x02, 0x02, 0x7f, 0xff]
        );
    }

    #[test]
    fn reading_round_trips_and_refuses_truncation() {
        let inner = tlv(OCTET_STRING, &[9u8; 300]);
        let outer = sequence(&[&inner, &tlv(NULL, &[])]);
        let (element, rest) = read(&outer).expect("reads");
        assert!(rest.is_empty());
        assert_eq!(element.tag, SEQUENCE);
        let (first, rest) = read(element.content).expect("reads inner");
        assert_eq!(first.whole, &inner[..]);
        assert_eq!(first.content.len(), 300);
        let (null, rest) = expect(rest, NULL).expect("null");
        assert!(null.content.is_empty() && rest.is_empty());

        for cut in 0..outer.len() {
            let truncated = outer.get(..cut).expect("in range");
            assert!(read(truncated).is_none(), "cut at {cut}");
        }
        assert!(read(&[0x1f, 0x01, 0x00]).is_none());
        assert!(read(&[0x04, 0x80]).is_none());
        assert!(read(&[0x04, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(certificate_spki(&[]).is_none());
        assert!(certificate_spki(&outer).is_none());
    }
}
