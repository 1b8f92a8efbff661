//! The person's given and family names as an account records them: what the IdP sent,
//! made safe to show on a page.
//!
//! The names come from the IdP's directory, typed by whoever keeps it, and end up in
//! the app's pages, emails and admin screens. So they are kept as the person spells them
//! (no case change, no transliteration: that is the handle's job), with only what no one
//! means to show taken out: control characters, which break logs and layouts, and the
//! bidirectional controls, which can make one name read as another.

use unicode_normalization::UnicodeNormalization;

/// Longest name recorded, in characters, after cleaning. A longer value is no one's name
/// (Entra ID caps a given name at 64 characters, Google Workspace at 60); it is not
/// recorded at all, since cutting it could leave half a word or a lone combining mark.
pub const MAX_DISPLAY_NAME_CHARS: usize = 128;

/// `raw` as a name to record: NFC, every run of white space made one space and trimmed,
/// control and bidirectional-control characters removed. `None` when nothing is left or
/// when more than [`MAX_DISPLAY_NAME_CHARS`] characters are.
///
/// ```
/// use jit_provisioning::display_name;
///
/// assert_eq!(display_name("  José\u{00A0} María "), Some("José María".to_owned()));
/// assert_eq!(display_name("Ma\u{202E}lory"), Some("Malory".to_owned()));
/// assert_eq!(display_name(" \t "), None);
/// ```
pub fn display_name(raw: &str) -> Option<String> {
    let mut name = String::with_capacity(raw.len());
    let mut chars = 0_usize;
    // Set at white space once a character has been kept, so that none leads or trails.
    let mut space_pending = false;
    // Hidden characters go before composing, so that a mark they separated from its
    // letter still composes with it.
    let shown = raw.chars().filter(|&c| c.is_whitespace() || !is_hidden(c));
    for c in shown.nfc() {
        if c.is_whitespace() {
            space_pending = !name.is_empty();
            continue;
        }
        if space_pending {
            name.push(' ');
            chars += 1;
            space_pending = false;
        }
        name.push(c);
        chars += 1;
        if chars > MAX_DISPLAY_NAME_CHARS {
            return None;
        }
    }
    (!name.is_empty()).then_some(name)
}

/// Characters removed from a name: controls (C0, DEL, C1), the bidirectional marks,
/// embeddings, overrides and isolates, and the byte-order mark. The zero-width joiner
/// and non-joiner stay: Persian and Indic names need them.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// The given and family names as one, for showing: `Given Family`, or whichever of the
/// two there is. `None` when neither is.
///
/// ```
/// use jit_provisioning::full_name;
///
/// assert_eq!(full_name(Some("Jane"), Some("Doe")).as_deref(), Some("Jane Doe"));
/// assert_eq!(full_name(None, Some("李")).as_deref(), Some("李"));
/// assert_eq!(full_name(None, None), None);
/// ```
pub fn full_name(given: Option<&str>, family: Option<&str>) -> Option<String> {
    match (given, family) {
        (Some(given), Some(family)) => Some(format!("{given} {family}")),
        (Some(name), None) | (None, Some(name)) => Some(name.to_owned()),
        (None, None) => None,
    }
}

/// A name from the assertion, cleaned; `None` for none.
pub(crate) fn display_name_of(raw: Option<&str>) -> Option<String> {
    raw.and_then(display_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(raw: &str) -> Option<String> {
        display_name(raw)
    }

    #[test]
    fn a_clean_name_is_kept_as_spelled() {
        for name in [
            "Jane",
            "O'Brien",
            "van der Berg",
            "José",
            "Łukasz",
            "李",
            "Nguyễn",
        ] {
            assert_eq!(shown(name).as_deref(), Some(name));
        }
    }

    #[test]
    fn white_space_is_trimmed_and_collapsed() {
        assert_eq!(shown("  Mary \t\n Ann  ").as_deref(), Some("Mary Ann"));
        assert_eq!(shown("Mary\u{3000}Ann").as_deref(), Some("Mary Ann"));
        assert_eq!(shown("Mary\u{2028}Ann").as_deref(), Some("Mary Ann"));
        assert_eq!(shown("\u{00A0}Ann\u{00A0}").as_deref(), Some("Ann"));
    }

    #[test]
    fn controls_are_removed() {
        assert_eq!(shown("Ja\u{0000}ne").as_deref(), Some("Jane"));
        assert_eq!(shown("Jane\u{001B}[31m").as_deref(), Some("Jane[31m"));
        assert_eq!(shown("Ja\u{007F}\u{0080}ne").as_deref(), Some("Jane"));
        // NEL is a line break: it separates words, as a newline does.
        assert_eq!(shown("Ja\u{0085}ne").as_deref(), Some("Ja ne"));
    }

    #[test]
    fn bidirectional_controls_are_removed() {
        for control in [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{FEFF}',
        ] {
            assert_eq!(
                shown(&format!("Ma{control}lory")).as_deref(),
                Some("Malory"),
                "U+{:04X}",
                u32::from(control)
            );
        }
    }

    #[test]
    fn joiners_stay() {
        assert_eq!(shown("می\u{200C}خواهم").as_deref(), Some("می\u{200C}خواهم"));
        assert_eq!(shown("क्\u{200D}ष").as_deref(), Some("क्\u{200D}ष"));
    }

    #[test]
    fn the_name_is_composed() {
        assert_eq!(shown("Jose\u{0301}").as_deref(), Some("José"));
        // A control between a letter and its mark does not keep them apart.
        assert_eq!(shown("Jose\u{200F}\u{0301}").as_deref(), Some("José"));
        // White space that is also a control separates words rather than vanishing.
        assert_eq!(shown("Jane\tDoe").as_deref(), Some("Jane Doe"));
    }

    #[test]
    fn nothing_left_is_no_name() {
        for raw in ["", " ", "\u{202E}", "\u{0000}\t", "\u{FEFF} \u{200E}"] {
            assert_eq!(shown(raw), None, "{raw:?}");
        }
        assert_eq!(display_name_of(None), None);
    }

    #[test]
    fn an_overlong_name_is_not_recorded() {
        let longest = "é".repeat(MAX_DISPLAY_NAME_CHARS);
        assert_eq!(shown(&longest).as_deref(), Some(longest.as_str()));
        assert_eq!(shown(&format!("{longest}e")), None);
        // Removed characters and collapsed space do not count.
        assert_eq!(
            shown(&format!("  {longest}\u{202E}  ")).as_deref(),
            Some(longest.as_str())
        );
        assert_eq!(shown(&"x".repeat(1 << 20)), None);
    }
}
