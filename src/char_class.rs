//! Classifying characters for handle derivation, fast.
//!
//! The words pipeline asks four questions of every character of a name: does it vanish
//! (an apostrophe or a format character), is it a combining mark, is it a letter or
//! digit, and may it skip NFKC. The standard library's and unicode-normalization's table
//! searches cost more than the rest of the pipeline together, so for the Basic
//! Multilingual Plane (where names live) the answers are computed once, from those same
//! predicates, into a 64 KiB table; characters beyond it ask the predicates directly.

use std::sync::OnceLock;

use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_normalization::{is_nfkc_quick, IsNormalized};

/// What a character does in a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CharClass {
    /// An apostrophe or an invisible format character: gone, without a break.
    Vanishes,
    /// A combining mark: transliterated, never a break.
    CombiningMark,
    /// A letter or digit: transliterated.
    LetterOrDigit,
    /// Anything else: a word break.
    Break,
}

/// The class of `c`, in the order the pipeline asks: vanishing first, then combining
/// marks, then letters and digits.
#[inline]
pub(crate) fn classify(c: char) -> CharClass {
    match bmp_entry(c) {
        Some(entry) => CLASSES
            .get(usize::from(entry & CLASS_BITS))
            .copied()
            .unwrap_or(CharClass::Break),
        None => classify_slowly(c),
    }
}

/// [`classify`], and whether `c` keeps text in NFKC (its NFKC quick-check value is Yes and
/// it is a starter, so a run of such characters is already normalized), from one table read.
#[inline]
pub(crate) fn classify_and_check_nfkc(c: char) -> (CharClass, bool) {
    match bmp_entry(c) {
        Some(entry) => (
            CLASSES
                .get(usize::from(entry & CLASS_BITS))
                .copied()
                .unwrap_or(CharClass::Break),
            entry & NFKC_STABLE != 0,
        ),
        None => (classify_slowly(c), is_nfkc_stable_slowly(c)),
    }
}

const CLASSES: [CharClass; 4] = [
    CharClass::Vanishes,
    CharClass::CombiningMark,
    CharClass::LetterOrDigit,
    CharClass::Break,
];
const CLASS_BITS: u8 = 0b011;
const NFKC_STABLE: u8 = 0b100;

fn classify_slowly(c: char) -> CharClass {
    if vanishes(c) {
        CharClass::Vanishes
    } else if is_combining_mark(c) {
        CharClass::CombiningMark
    } else if c.is_alphanumeric() {
        CharClass::LetterOrDigit
    } else {
        CharClass::Break
    }
}

fn is_nfkc_stable_slowly(c: char) -> bool {
    canonical_combining_class(c) == 0 && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
}

/// The table entry of a BMP character: its class index and the NFKC-stable bit.
#[inline]
fn bmp_entry(c: char) -> Option<u8> {
    let index = usize::try_from(u32::from(c)).ok()?;
    BMP.get_or_init(build_bmp_table).get(index).copied()
}

static BMP: OnceLock<Box<[u8]>> = OnceLock::new();

fn build_bmp_table() -> Box<[u8]> {
    (0..=0xFFFF_u32)
        .map(|code| match char::from_u32(code) {
            // Surrogates are not characters and never reach a lookup.
            None => CLASSES.len() as u8 - 1,
            Some(c) => {
                let class = CLASSES
                    .iter()
                    .position(|&class| class == classify_slowly(c))
                    .unwrap_or(CLASSES.len() - 1) as u8;
                let stable = if is_nfkc_stable_slowly(c) {
                    NFKC_STABLE
                } else {
                    0
                };
                class | stable
            }
        })
        .collect()
}

/// Characters that disappear from a name without breaking the word they sit in.
fn vanishes(c: char) -> bool {
    is_apostrophe(c) || is_format(c)
}

pub(crate) fn is_ascii_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '`')
}

/// Apostrophes, and the primes, accents and letter-like marks people type in their place.
fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '`'
            | '\u{00B4}' // acute accent
            | '\u{02B9}' // modifier letter prime
            | '\u{02BB}' // modifier letter turned comma (ʻokina)
            | '\u{02BC}' // modifier letter apostrophe
            | '\u{02BD}' // modifier letter reversed comma
            | '\u{02BE}' // modifier letter right half ring
            | '\u{02BF}' // modifier letter left half ring
            | '\u{055A}' // Armenian apostrophe
            | '\u{05F3}' // Hebrew punctuation geresh
            | '\u{1FBD}' // Greek koronis
            | '\u{1FBF}' // Greek psili
            | '\u{2018}' // left single quotation mark
            | '\u{2019}' // right single quotation mark
            | '\u{201B}' // single high-reversed-9 quotation mark
            | '\u{2032}' // prime
            | '\u{2035}' // reversed prime
            | '\u{A78B}' // Latin capital letter saltillo
            | '\u{A78C}' // Latin small letter saltillo
            | '\u{FF07}' // fullwidth apostrophe
            | '\u{FF40}' // fullwidth grave accent
    )
}

/// General category Cf (format characters), as of Unicode 16. Hard-coded because the
/// standard library does not expose general categories.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_agrees_with_the_predicates_everywhere() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            assert_eq!(classify(c), classify_slowly(c), "U+{:04X}", u32::from(c));
            assert_eq!(
                classify_and_check_nfkc(c),
                (classify_slowly(c), is_nfkc_stable_slowly(c)),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn format_list_holds_no_letter_mark_or_space() {
        for u in 0..=0x10FFFF_u32 {
            let Some(c) = char::from_u32(u) else { continue };
            if is_format(c) {
                assert!(!c.is_alphanumeric(), "{u:X}");
                assert!(!c.is_whitespace(), "{u:X}");
                assert!(!is_combining_mark(c), "{u:X}");
            }
        }
    }
}
