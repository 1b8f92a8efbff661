//! Percent-encoding of URL parts, by hand: two small functions, no dependency.

/// Decodes `%XX` escapes, and `+` as a space when `plus_is_space` (query strings).
/// `None` for a malformed escape or bytes that are not UTF-8.
pub(crate) fn decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|h| (*h as char).to_digit(16))?;
                let lo = bytes.get(i + 2).and_then(|l| (*l as char).to_digit(16))?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Encodes a path segment: everything but unreserved characters and `@`, `:`.
pub(crate) fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_okta_queries() {
        assert_eq!(
            decode("userName%20eq%20%22test.user%40okta.local%22", true).as_deref(),
            Some(r#"userName eq "test.user@okta.local""#)
        );
        assert_eq!(decode("a+b%2Bc", true).as_deref(), Some("a b+c"));
        assert_eq!(decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(decode("%zz", true), None);
        assert_eq!(decode("%", true), None);
        assert_eq!(decode("%ff", true), None);
    }

    #[test]
    fn encodes_segments() {
        assert_eq!(encode_segment("a b/c@d"), "a%20b%2Fc@d");
        assert_eq!(
            decode(&encode_segment("é/ü"), false).as_deref(),
            Some("é/ü")
        );
    }
}
