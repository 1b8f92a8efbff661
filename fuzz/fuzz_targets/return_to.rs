//! Raw text through `safe_return_path`. An accepted value must be a path on this site for
//! every reader: as written, once percent-decoded by a middleware, and for the WHATWG URL
//! parser that browsers follow.

#![no_main]

use jit_provisioning::{safe_return_path, MAX_RETURN_TO_LEN};
use libfuzzer_sys::fuzz_target;
use url::Url;

const SITE: &str = "https://site.example/orgs/acme/login";

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(accepted) = safe_return_path(raw) else {
        return;
    };
    assert!(
        std::ptr::eq(accepted, raw),
        "accepted a different value than given"
    );
    assert!(raw.len() <= MAX_RETURN_TO_LEN);

    let bytes = raw.as_bytes();
    assert_eq!(bytes.first(), Some(&b'/'));
    assert!(!matches!(bytes.get(1), Some(b'/' | b'\\')), "{raw:?}");
    assert!(
        bytes
            .iter()
            .all(|b| (b'!'..=b'~').contains(b) && *b != b'\\'),
        "{raw:?}"
    );

    let path_end = raw.find(['?', '#']).unwrap_or(raw.len());
    let (path, rest) = raw.split_at(path_end);
    let decoded_path = percent_decode(path.as_bytes());
    assert!(
        !decoded_path.starts_with(b"//") && !decoded_path.starts_with(b"/\\"),
        "{raw:?} decodes to a path starting with `//` or `/\\`"
    );
    assert!(
        decoded_path.is_ascii(),
        "{raw:?} decodes to a non-ASCII path"
    );
    assert!(
        !decoded_path.split(|&b| b == b'/').any(is_dot_segment),
        "{raw:?} decodes to a path with a dot segment"
    );
    let decoded = [decoded_path.clone(), percent_decode(rest.as_bytes())].concat();
    let decoded = String::from_utf8_lossy(&decoded);
    assert!(
        !decoded.chars().any(|c| c == '\\' || c.is_control()),
        "{raw:?} decodes to a backslash or a control character"
    );

    // The browser's reading, of the value and of the value decoded once.
    let Ok(site) = Url::parse(SITE) else {
        return;
    };
    for target in [raw, &*decoded] {
        let Ok(joined) = site.join(target) else {
            panic!("{target:?} is not a URL reference");
        };
        assert_eq!(
            joined.scheme(),
            "https",
            "{target:?} leaves the site: {joined}"
        );
        assert_eq!(
            joined.host_str(),
            Some("site.example"),
            "{target:?} leaves the site: {joined}"
        );
        assert_eq!(joined.port(), None, "{target:?}: {joined}");
        assert_eq!(joined.username(), "", "{target:?}: {joined}");
        assert!(
            !joined.path().starts_with("//"),
            "{target:?} resolves to the path {}",
            joined.path()
        );
    }
    // Resolution changes no segment: the path the browser asks for is the one checked.
    if let Ok(joined) = site.join(raw) {
        let asked = percent_decode(joined.path().as_bytes());
        assert_eq!(
            asked.split(|&b| b == b'/').count(),
            decoded_path.split(|&b| b == b'/').count(),
            "{raw:?} resolves to {joined}"
        );
    }
});

/// One round of percent-decoding, written apart from the crate's on purpose.
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let escape = input.get(i + 1..i + 3).filter(|_| input[i] == b'%');
        if let Some(hex) = escape.and_then(|h| std::str::from_utf8(h).ok()) {
            if let Ok(byte) = u8::from_str_radix(hex, 16) {
                if hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    out.push(byte);
                    i += 3;
                    continue;
                }
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

/// `.` or `..`, each dot spelt `.` or `%2e` in either case, as the URL parser reads them.
fn is_dot_segment(segment: &[u8]) -> bool {
    let lower = segment.to_ascii_lowercase();
    matches!(
        lower.as_slice(),
        b"." | b"%2e" | b".." | b".%2e" | b"%2e." | b"%2e%2e"
    )
}
