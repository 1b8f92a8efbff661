//! Validation of `return_to`, the place a person asked to go before signing in.
//!
//! After sign-in the person is sent to `return_to`, so it is an open redirect unless it
//! is held to paths on this site. [`safe_return_path`] accepts only a root-relative path
//! that every reader of it agrees about: the browser that follows the `Location` header,
//! and any middleware that percent-decodes it once on the way. Anything else is refused
//! and the caller falls back to the default landing; a refusal never costs more than a
//! click, so the rules err on the side of refusing.
//!
//! The rules, in the order they are checked, are listed on [`safe_return_path`].

/// The longest `return_to`, in bytes, that [`safe_return_path`] accepts.
///
/// Longer values are refused with [`ReturnToError::TooLong`] rather than cut, since a
/// cut value is a different place.
pub const MAX_RETURN_TO_LEN: usize = 2048;

/// Why a `return_to` target was refused.
///
/// The message says which rule the value broke; see [`safe_return_path`] for the rules.
///
/// ```
/// use jit_provisioning::{safe_return_path, ReturnToError};
///
/// assert_eq!(safe_return_path("/orgs/acme"), Ok("/orgs/acme"));
/// let refused = safe_return_path("//evil.example").unwrap_err();
/// assert_eq!(refused, ReturnToError::SchemeRelative);
/// assert_eq!(refused.to_string(), "`//` or `/\\` would leave this site");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReturnToError {
    /// The value is the empty string.
    #[error("is empty")]
    Empty,
    /// The value is longer than [`MAX_RETURN_TO_LEN`] bytes.
    #[error("is longer than {} bytes", MAX_RETURN_TO_LEN)]
    TooLong,
    /// The value does not start with `/`: a full URL, a scheme, a host name or a relative
    /// path.
    #[error("must start with a single `/`")]
    NotRootRelative,
    /// The value starts with `//` or `/\`, which browsers read as another host.
    #[error("`//` or `/\\` would leave this site")]
    SchemeRelative,
    /// Once percent-decoded, the path starts with `//` or `/\` (`/%2F%2Fhost`,
    /// `/%5Chost`).
    #[error("a percent-encoded `/` or `\\` makes it start with `//` or `/\\` once decoded")]
    EncodedSeparator,
    /// The value holds a backslash, raw or percent-encoded as `%5C`.
    #[error("contains a backslash, raw or percent-encoded")]
    Backslash,
    /// The value holds a control character (tab, CR, LF, NUL, DEL, …), raw or
    /// percent-encoded.
    #[error("contains a control character, raw or percent-encoded")]
    ControlCharacter,
    /// The value holds a raw space; a path with a space in it spells it `%20`.
    #[error("contains a space that is not percent-encoded")]
    Space,
    /// The value holds a non-ASCII character, raw anywhere or percent-encoded in the path.
    /// Look-alikes of `/`, `\` and `.` such as `／`, `∕`, `＼` and `。` are all non-ASCII.
    #[error("contains a non-ASCII character, a possible look-alike of `/`, `\\` or `.`")]
    NonAscii,
    /// The path has a `.` or `..` segment (spelt with `.` or `%2e`), which browsers
    /// resolve away, changing the path.
    #[error("contains a `.` or `..` path segment")]
    DotSegment,
}

/// Accepts `raw` as a `return_to` target only when it is a path on this site, and returns
/// it unchanged.
///
/// # Rules
///
/// The value is read in this order, and the first rule broken is the one reported:
///
/// 1. It is not empty ([`ReturnToError::Empty`]) and at most [`MAX_RETURN_TO_LEN`]
///    bytes long ([`ReturnToError::TooLong`]).
/// 2. It starts with `/` ([`ReturnToError::NotRootRelative`]): this refuses every
///    scheme (`https:`, `javascript:`, `data:`), bare host names and relative paths.
/// 3. The second character is neither `/` nor `\` ([`ReturnToError::SchemeRelative`]):
///    browsers read `//host` and `/\host` as another site.
/// 4. Every character is visible ASCII, `!` to `~`. A backslash is refused anywhere
///    ([`ReturnToError::Backslash`]), a space too ([`ReturnToError::Space`]), and so are
///    control characters, tabs, CR and LF included, that browsers strip or that split a
///    header ([`ReturnToError::ControlCharacter`]). Anything outside ASCII is refused
///    ([`ReturnToError::NonAscii`]): it is where the look-alikes of `/`, `\` and `.`
///    live (`／`, `∕`, `⁄`, `⧸`, `＼`, `．`, `。`), as well as bidi overrides and C1
///    controls.
/// 5. The text is percent-decoded once (`%XX` with two hex digits; a `%` not followed by
///    two hex digits stays as it is) and read again. The path is the part before the first
///    raw `?` or `#`; the rest is the query and fragment.
///    - The decoded path must not start with `//` or `/\`
///      ([`ReturnToError::EncodedSeparator`]): `/%2F%2Fhost`, `/%5Chost`.
///    - The decoded text, path or not, must hold no backslash
///      ([`ReturnToError::Backslash`]) and no control character
///      ([`ReturnToError::ControlCharacter`]): `/%0D%0ALocation:…`, `/%09/host`, `/%00`.
///      That is C0 and DEL anywhere, and C1 (`%C2%85`) in the query and fragment; in the
///      path, C1 is refused as non-ASCII by the next rule.
///    - The decoded path must be ASCII ([`ReturnToError::NonAscii`]): `/%EF%BC%8F` is an
///      encoded `／`. Encoded non-ASCII in the query is kept, so that a search for `café`
///      still works; a query cannot change which site the browser goes to.
///    - No segment of the decoded path may be a dot segment as a browser reads one:
///      `.` or `..`, each dot spelt `.` or `%2e` ([`ReturnToError::DotSegment`]). So
///      `/%2e%2e/` is refused, and `/%252e%252e/` too, since browsers read the `%2e` it
///      decodes to as a dot. A path without dot segments resolves to itself, so it keeps
///      the single leading `/` that rule 3 checked; `/..//host` would resolve to `//host`.
///
/// What stays accepted, on purpose: a `:` in the path (`/javascript:alert(1)` is the
/// path `/javascript:alert(1)` on this site, since a scheme cannot start with `/`), a
/// URL inside the query (`/x?next=https://a.example`), an encoded `/` after the first
/// character of the path (`/a%2Fb`), an empty segment after the first (`/a//b`), and a
/// `/` encoded twice (`/%252F%252Fhost` decodes once to `/%2F%2Fhost`, which browsers
/// keep as one path segment: they never read `%2F` as a slash).
///
/// # Errors
///
/// The first rule that `raw` breaks, as an [`ReturnToError`]. The caller should then use
/// its default landing; the value must not be repaired and used, since a repaired value
/// is a guess at what the person meant.
///
/// # Examples
///
/// ```
/// use jit_provisioning::{safe_return_path, ReturnToError};
///
/// let deep_link = "/orgs/acme/projects?tab=open&page=2#top";
/// assert_eq!(safe_return_path(deep_link), Ok(deep_link));
///
/// assert_eq!(
///     safe_return_path("https://evil.example/"),
///     Err(ReturnToError::NotRootRelative)
/// );
/// assert_eq!(
///     safe_return_path("/%2F%2Fevil.example"),
///     Err(ReturnToError::EncodedSeparator)
/// );
/// ```
pub fn safe_return_path(raw: &str) -> Result<&str, ReturnToError> {
    if raw.is_empty() {
        return Err(ReturnToError::Empty);
    }
    if raw.len() > MAX_RETURN_TO_LEN {
        return Err(ReturnToError::TooLong);
    }
    // Starting with `/` is also what rules out a scheme: a scheme starts with a letter. So a
    // `:` later on (`/javascript:alert(1)`) is part of a path on this site and is accepted.
    let Some(after_root) = raw.strip_prefix('/') else {
        return Err(ReturnToError::NotRootRelative);
    };
    // Browsers treat `\` as `/` in http(s) URLs, so `/\host` is `//host`.
    if after_root.starts_with(['/', '\\']) {
        return Err(ReturnToError::SchemeRelative);
    }
    raw.chars().try_for_each(check_raw_char)?;

    // Split on the raw delimiters: an encoded `%3F` in the path is not a query.
    let (path, query_and_fragment) = raw.split_once(['?', '#']).unwrap_or((raw, ""));
    check_decoded_path(&percent_decode_once(path.as_bytes()))?;
    check_decoded_query(&percent_decode_once(query_and_fragment.as_bytes()))?;
    Ok(raw)
}

fn check_raw_char(c: char) -> Result<(), ReturnToError> {
    match c {
        '\\' => Err(ReturnToError::Backslash),
        '!'..='~' => Ok(()),
        ' ' => Err(ReturnToError::Space),
        '\0'..='\x1f' | '\x7f' => Err(ReturnToError::ControlCharacter),
        _ => Err(ReturnToError::NonAscii),
    }
}

/// `path` has already passed the raw checks, so it starts with `/` followed by something
/// other than `/` or `\`; a `%` is not `/`, so the decoded path starts with `/` as well.
fn check_decoded_path(path: &[u8]) -> Result<(), ReturnToError> {
    if let Some(b'/' | b'\\') = path.get(1) {
        return Err(ReturnToError::EncodedSeparator);
    }
    for &byte in path {
        match byte {
            b'\\' => return Err(ReturnToError::Backslash),
            0x00..=0x1f | 0x7f => return Err(ReturnToError::ControlCharacter),
            0x80..=0xff => return Err(ReturnToError::NonAscii),
            _ => {}
        }
    }
    if path.split(|&byte| byte == b'/').any(is_dot_segment) {
        return Err(ReturnToError::DotSegment);
    }
    Ok(())
}

/// Non-ASCII text is fine here, but a C1 control (`%C2%85`) counts as a control character
/// as much as `%0A` does.
fn check_decoded_query(query_and_fragment: &[u8]) -> Result<(), ReturnToError> {
    for c in String::from_utf8_lossy(query_and_fragment).chars() {
        if c == '\\' {
            return Err(ReturnToError::Backslash);
        }
        if c.is_control() {
            return Err(ReturnToError::ControlCharacter);
        }
    }
    Ok(())
}

/// A dot segment as the WHATWG URL parser reads one: one or two dots, each spelt `.` or
/// `%2e` in either case. Applied to the once-decoded path, this also catches a dot that was
/// encoded twice (`%252e`), which a browser would read as a dot after a middleware's decode.
fn is_dot_segment(segment: &[u8]) -> bool {
    let mut rest = segment;
    let mut dots = 0;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix(b".") {
            rest = after;
        } else if rest
            .get(..3)
            .is_some_and(|head| head.eq_ignore_ascii_case(b"%2e"))
        {
            rest = rest.get(3..).unwrap_or_default();
        } else {
            return false;
        }
        dots += 1;
    }
    dots == 1 || dots == 2
}

/// One round of percent-decoding, to bytes: the result need not be UTF-8.
fn percent_decode_once(input: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some((&byte, after)) = rest.split_first() {
        if byte == b'%' {
            if let [high, low, after_escape @ ..] = after {
                if let (Some(high), Some(low)) = (hex_value(*high), hex_value(*low)) {
                    decoded.push(high << 4 | low);
                    rest = after_escape;
                    continue;
                }
            }
        }
        decoded.push(byte);
        rest = after;
    }
    decoded
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReturnToError::*;

    /// Open-redirect payloads of the kind found in public payload lists, each with the
    /// rule that must refuse it.
    const HOSTILE: &[(&str, ReturnToError)] = &[
        // Another host, spelt plainly.
        ("//evil.com", SchemeRelative),
        ("///evil.com", SchemeRelative),
        ("////evil.com", SchemeRelative),
        ("/\\evil.com", SchemeRelative),
        ("/\\\\evil.com", SchemeRelative),
        ("/\\/evil.com", SchemeRelative),
        ("\\/evil.com", NotRootRelative),
        ("\\\\evil.com", NotRootRelative),
        ("//evil.com/%2F..", SchemeRelative),
        ("//user@evil.com", SchemeRelative),
        ("//evil.com@good.com", SchemeRelative),
        ("//%09/evil.com", SchemeRelative),
        ("/\\t/evil.com", SchemeRelative),
        // Schemes and things that are not root-relative.
        ("https://evil.com", NotRootRelative),
        ("http:evil.com", NotRootRelative),
        ("javascript:alert(1)", NotRootRelative),
        ("data:text/html,x", NotRootRelative),
        ("evil.com", NotRootRelative),
        ("?next=/", NotRootRelative),
        ("#/x", NotRootRelative),
        ("./x", NotRootRelative),
        ("../x", NotRootRelative),
        (" /path", NotRootRelative),
        ("\u{feff}/path", NotRootRelative),
        ("%2F%2Fevil.com", NotRootRelative),
        ("／／evil.com", NotRootRelative),
        // Encoded separators.
        ("/%2F%2Fevil.com", EncodedSeparator),
        ("/%2f%2fevil.com", EncodedSeparator),
        ("/%2F/evil.com", EncodedSeparator),
        ("/%2f/evil", EncodedSeparator),
        ("/%2F", EncodedSeparator),
        ("/%5Cevil.com", EncodedSeparator),
        ("/%5cevil.com", EncodedSeparator),
        ("/%5C%5Cevil.com", EncodedSeparator),
        // Whitespace and control characters, raw and encoded.
        ("/%09/evil.com", ControlCharacter),
        ("/\t/evil.com", ControlCharacter),
        ("/\x0b/evil.com", ControlCharacter),
        ("/%0D%0ALocation:%20http://evil.com", ControlCharacter),
        ("/%0d%0aLocation:x", ControlCharacter),
        ("/\r\n//evil.com", ControlCharacter),
        ("/\0", ControlCharacter),
        ("/%00", ControlCharacter),
        ("/path\x7f", ControlCharacter),
        ("/%7F", ControlCharacter),
        ("/search?q=a%0Ab", ControlCharacter),
        ("/search?q=%C2%85", ControlCharacter),
        ("/x#%0d%0a", ControlCharacter),
        ("/ /evil.com", Space),
        ("/a b", Space),
        ("/x?q=a b", Space),
        // Backslashes after the start.
        ("/a\\b", Backslash),
        ("/x?next=\\\\evil.com", Backslash),
        ("/a%5Cb", Backslash),
        ("/x?q=%5C", Backslash),
        // Look-alikes and other non-ASCII.
        ("/／evil.com", NonAscii),
        ("/∕evil.com", NonAscii),
        ("/⁄evil.com", NonAscii),
        ("/⧸evil.com", NonAscii),
        ("/＼evil.com", NonAscii),
        ("/evil。com", NonAscii),
        ("/．．/evil.com", NonAscii),
        ("/path\u{202e}", NonAscii),
        ("/\u{3000}evil.com", NonAscii),
        ("/path\u{85}", NonAscii),
        ("/x?q=café", NonAscii),
        ("/%E3%80%82", NonAscii),
        ("/%EF%BC%8Fevil.com", NonAscii),
        ("/a%C3%A9", NonAscii),
        // Dot segments, which resolve `/..//evil.com` to `//evil.com`.
        ("/..//evil.com", DotSegment),
        ("/.//evil.com", DotSegment),
        ("/%2e%2e//evil.com", DotSegment),
        ("/%2E./%2F/evil.com", DotSegment),
        ("/a/.%2e/..//evil.com", DotSegment),
        ("/%252e%252e//evil.com", DotSegment),
        ("/.", DotSegment),
        ("/a/..", DotSegment),
        ("/a/..?x", DotSegment),
        // Size.
        ("", Empty),
    ];

    /// Deep links on this site, each accepted unchanged.
    const SAFE: &[&str] = &[
        "/",
        "/orgs/acme",
        "/orgs/acme/projects?tab=open&page=2#top",
        "/search?q=a%2Fb",
        "/a/b/c.html",
        "/@me",
        "/x?redirect=https://a.example",
        "/?next=//evil.com",
        "/#//evil.com",
        "/path;param",
        "/~user",
        "/a%20b",
        "/javascript:alert(1)",
        "/search?q=caf%C3%A9",
        "/a%2Fb",
        "/a//b",
        "/100%",
        "/a%zz%2",
        "/.well-known/openid-configuration",
        "/a/...",
        "/a/.b/c.",
        "/%252F%252Fevil.com",
        "/%3F/x",
    ];

    #[test]
    fn refuses_hostile_values_with_the_rule_they_break() {
        assert!(HOSTILE.len() >= 45);
        for &(raw, expected) in HOSTILE {
            assert_eq!(safe_return_path(raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn accepts_paths_on_this_site_unchanged() {
        assert!(SAFE.len() >= 10);
        for &raw in SAFE {
            let accepted = safe_return_path(raw);
            assert_eq!(accepted, Ok(raw), "{raw:?}");
            assert!(
                accepted.is_ok_and(|path| std::ptr::eq(path, raw)),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn length_limit_counts_bytes() {
        let longest = format!("/{}", "a".repeat(MAX_RETURN_TO_LEN - 1));
        assert_eq!(safe_return_path(&longest), Ok(longest.as_str()));
        let too_long = format!("{longest}a");
        assert_eq!(safe_return_path(&too_long), Err(TooLong));
        let huge = format!("/{}", "a".repeat(3000));
        assert_eq!(safe_return_path(&huge), Err(TooLong));
        // 1024 two-byte characters plus the slash: within 2048 characters, not bytes.
        let wide = format!("/{}", "é".repeat(1024));
        assert_eq!(safe_return_path(&wide), Err(TooLong));
    }

    #[test]
    fn every_ascii_character_after_the_root_is_judged_without_panicking() {
        for byte in 0u8..=0x7f {
            let c = char::from(byte);
            let raw = format!("/{c}");
            let expected = match c {
                '/' | '\\' => Err(SchemeRelative),
                ' ' => Err(Space),
                '.' => Err(DotSegment),
                '!'..='~' => Ok(raw.as_str()),
                _ => Err(ControlCharacter),
            };
            assert_eq!(safe_return_path(&raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn every_encoded_byte_after_the_root_is_judged_without_panicking() {
        for byte in 0u8..=0xff {
            for spelling in [format!("/%{byte:02X}"), format!("/x/%{byte:02x}")] {
                let at_root = spelling.starts_with("/%");
                let expected = match byte {
                    b'/' if at_root => Err(EncodedSeparator),
                    b'\\' if at_root => Err(EncodedSeparator),
                    b'\\' => Err(Backslash),
                    0x00..=0x1f | 0x7f => Err(ControlCharacter),
                    0x80..=0xff => Err(NonAscii),
                    b'.' => Err(DotSegment),
                    _ => Ok(spelling.as_str()),
                };
                assert_eq!(safe_return_path(&spelling), expected, "{spelling:?}");
            }
        }
    }

    #[test]
    fn malformed_escapes_never_panic() {
        for raw in [
            "/%", "/%%", "/%%%", "/%2", "/%G0", "/%é", "/a?%", "/a?%é", "/a?%2",
        ] {
            let _ = safe_return_path(raw);
        }
        assert_eq!(percent_decode_once(b"%"), b"%");
        assert_eq!(percent_decode_once(b"%2"), b"%2");
        assert_eq!(percent_decode_once(b"%%2F"), b"%/");
        assert_eq!(percent_decode_once(b"%252F"), b"%2F");
        assert_eq!(percent_decode_once(b"a%2fb%2Fc"), b"a/b/c");
    }

    #[test]
    fn messages_are_lower_case_without_a_final_period() {
        let all = [
            Empty,
            TooLong,
            NotRootRelative,
            SchemeRelative,
            EncodedSeparator,
            Backslash,
            ControlCharacter,
            Space,
            NonAscii,
            DotSegment,
        ];
        for reason in all {
            let message = reason.to_string();
            assert!(!message.ends_with('.'), "{message}");
            assert!(!message.starts_with(char::is_uppercase), "{message}");
        }
        assert_eq!(NotRootRelative.to_string(), "must start with a single `/`");
        assert_eq!(TooLong.to_string(), "is longer than 2048 bytes");
    }
}
