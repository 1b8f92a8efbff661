//! What each character does in a name, answered from one table read.
//!
//! The words pipeline asks of every character of a name: does it vanish (an apostrophe or
//! a format character), may it skip NFKC, and what does it write. The standard library's,
//! unicode-normalization's and `any_ascii`'s table searches cost more than the rest of the
//! pipeline together, so for the Basic Multilingual Plane (where names live) the answers
//! are computed once, from those same functions, into one table of 64 Ki `u32` entries;
//! characters beyond it ask the functions directly, through the same code that fills the
//! table, so the two cannot disagree.
//!
//! What a character writes is a short list of [`Op`]s, which is `any_ascii`'s output read
//! by the rules of the module doc of `handle`: a letter's transliteration keeps its
//! letters and digits, loses its apostrophes and breaks at anything else; a combining
//! mark's keeps its letters and digits only; any other character is one break.

use std::sync::OnceLock;

use any_ascii::any_ascii_char;
use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_normalization::{is_nfkc_quick, IsNormalized};

/// One step of what a character writes into the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// An ASCII letter or digit, in the case `any_ascii` gives.
    Letter(u8),
    /// A word break.
    Break,
}

/// Everything the pipeline needs of one character.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CharInfo {
    bits: u32,
    /// The transliteration when its ops do not fit in `bits`.
    text: &'static str,
}

const VANISHES: u32 = 1 << 0;
/// NFKC quick check Yes for the character alone.
const NFKC_YES: u32 = 1 << 1;
/// Canonical combining class 0.
const STARTER: u32 = 1 << 2;
const MODE_SHIFT: u32 = 3;
const MODE_MASK: u32 = 0b11;
/// Up to three ops packed in `bits`: 7 bits each, 0 ending the list, a space a break.
const MODE_INLINE: u32 = 0;
/// `text` read as a letter's transliteration.
const MODE_LETTER_TEXT: u32 = 1;
/// `text` read as a combining mark's transliteration.
const MODE_MARK_TEXT: u32 = 2;
const DATA_SHIFT: u32 = 8;
const INLINE_OPS: usize = 3;
const OP_BITS: u32 = 7;
const BREAK_CODE: u32 = b' ' as u32;

impl CharInfo {
    /// An apostrophe or an invisible format character: gone, without a break, and removed
    /// before NFKC.
    #[inline]
    pub(crate) fn vanishes(self) -> bool {
        self.bits & VANISHES != 0
    }

    /// Whether NFKC's quick check says Yes for this character alone.
    #[inline]
    pub(crate) fn nfkc_yes(self) -> bool {
        self.bits & NFKC_YES != 0
    }

    /// Whether its canonical combining class is 0.
    #[inline]
    pub(crate) fn is_starter(self) -> bool {
        self.bits & STARTER != 0
    }

    /// What the character writes, in order.
    #[inline]
    pub(crate) fn for_each_op(self, mut op: impl FnMut(Op)) {
        match (self.bits >> MODE_SHIFT) & MODE_MASK {
            MODE_INLINE => {
                let mut data = self.bits >> DATA_SHIFT;
                while data != 0 {
                    let code = data & ((1 << OP_BITS) - 1);
                    op(if code == BREAK_CODE {
                        Op::Break
                    } else {
                        Op::Letter(code as u8)
                    });
                    data >>= OP_BITS;
                }
            }
            MODE_LETTER_TEXT => self.text.bytes().for_each(|byte| letter_op(byte, &mut op)),
            _ => self
                .text
                .bytes()
                .filter(u8::is_ascii_alphanumeric)
                .for_each(|byte| op(Op::Letter(byte))),
        }
    }
}

/// One byte of a letter's transliteration (or a typed ASCII character).
#[inline]
fn letter_op(byte: u8, op: &mut impl FnMut(Op)) {
    if byte.is_ascii_alphanumeric() {
        op(Op::Letter(byte));
    } else if !is_ascii_apostrophe(char::from(byte)) {
        op(Op::Break);
    }
}

/// The table's answer for `c`.
#[inline]
pub(crate) fn char_info(c: char) -> CharInfo {
    table().info(c)
}

/// The table, built on first use. A loop over many characters fetches it once.
#[inline]
pub(crate) fn table() -> &'static Table {
    BMP.get_or_init(Table::build)
}

/// The same answer, from `any_ascii`, unicode-normalization and the standard library.
pub(crate) fn char_info_slowly(c: char) -> CharInfo {
    let mut bits = 0;
    if canonical_combining_class(c) == 0 {
        bits |= STARTER;
    }
    if is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes {
        bits |= NFKC_YES;
    }
    // In the order the pipeline has always asked: vanishing first, then combining marks,
    // then letters and digits; any other character is one break.
    let (bits, text) = if vanishes(c) {
        (bits | VANISHES, "")
    } else if is_combining_mark(c) {
        (bits | MODE_MARK_TEXT << MODE_SHIFT, any_ascii_char(c))
    } else if c.is_alphanumeric() {
        (bits | MODE_LETTER_TEXT << MODE_SHIFT, any_ascii_char(c))
    } else {
        (bits | BREAK_CODE << DATA_SHIFT, "")
    };
    CharInfo { bits, text }
}

/// The BMP's answers: one entry per code point, and the transliterations too long to pack.
#[derive(Debug)]
pub(crate) struct Table {
    entries: Box<[u32]>,
    texts: Vec<&'static str>,
}

static BMP: OnceLock<Table> = OnceLock::new();

impl Table {
    /// The answer for `c`: [`char_info`] without fetching the table again.
    #[inline]
    pub(crate) fn info(&self, c: char) -> CharInfo {
        let entry = usize::try_from(u32::from(c))
            .ok()
            .and_then(|index| self.entries.get(index));
        match entry {
            Some(&bits) => CharInfo {
                text: if (bits >> MODE_SHIFT) & MODE_MASK == MODE_INLINE {
                    ""
                } else {
                    usize::try_from(bits >> DATA_SHIFT)
                        .ok()
                        .and_then(|at| self.texts.get(at))
                        .copied()
                        .unwrap_or("")
                },
                bits,
            },
            None => char_info_slowly(c),
        }
    }

    fn build() -> Table {
        let mut texts = Vec::new();
        let mut text_at = std::collections::HashMap::new();
        let entries = (0..=0xFFFF_u32)
            .map(|code| {
                // Surrogates are not characters and never reach a lookup.
                let Some(c) = char::from_u32(code) else {
                    return BREAK_CODE << DATA_SHIFT;
                };
                let info = char_info_slowly(c);
                if let Some(packed) = pack_ops(info) {
                    return packed;
                }
                let at = *text_at.entry(info.text).or_insert_with(|| {
                    texts.push(info.text);
                    texts.len() - 1
                });
                // Far fewer distinct texts than the 2^24 an entry can point to.
                let at = u32::try_from(at).unwrap_or(0);
                (info.bits & ((1 << DATA_SHIFT) - 1)) | at << DATA_SHIFT
            })
            .collect();
        Table { entries, texts }
    }
}

/// `info` with its ops packed into its bits, when there are at most three.
fn pack_ops(info: CharInfo) -> Option<u32> {
    let mut data = 0;
    let mut count = 0;
    info.for_each_op(|op| {
        let code = match op {
            Op::Letter(byte) => u32::from(byte),
            Op::Break => BREAK_CODE,
        };
        if count < INLINE_OPS {
            data |= code << (OP_BITS * count as u32);
        }
        count += 1;
    });
    let flags = info.bits & ((1 << MODE_SHIFT) - 1);
    (count <= INLINE_OPS).then_some(flags | MODE_INLINE << MODE_SHIFT | data << DATA_SHIFT)
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

    /// What a character wrote before the table, from its class.
    fn reference_ops(c: char) -> Vec<Op> {
        let letter = |byte: u8| {
            if byte.is_ascii_alphanumeric() {
                Some(Op::Letter(byte))
            } else if is_ascii_apostrophe(char::from(byte)) {
                None
            } else {
                Some(Op::Break)
            }
        };
        if vanishes(c) {
            Vec::new()
        } else if c.is_ascii() {
            u8::try_from(c).ok().and_then(letter).into_iter().collect()
        } else if is_combining_mark(c) {
            any_ascii_char(c)
                .bytes()
                .filter(u8::is_ascii_alphanumeric)
                .map(Op::Letter)
                .collect()
        } else if c.is_alphanumeric() {
            any_ascii_char(c).bytes().filter_map(letter).collect()
        } else {
            vec![Op::Break]
        }
    }

    fn ops(info: CharInfo) -> Vec<Op> {
        let mut ops = Vec::new();
        info.for_each_op(|op| ops.push(op));
        ops
    }

    #[test]
    fn the_table_agrees_with_any_ascii_and_the_predicates_everywhere() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let info = char_info(c);
            let at = format!("U+{:04X}", u32::from(c));
            assert_eq!(info.vanishes(), vanishes(c), "{at}");
            if !vanishes(c) {
                assert_eq!(ops(info), reference_ops(c), "{at}");
            }
            assert_eq!(
                info.nfkc_yes(),
                is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes,
                "{at}"
            );
            assert_eq!(info.is_starter(), canonical_combining_class(c) == 0, "{at}");
        }
    }

    #[test]
    fn most_bmp_characters_take_one_read() {
        let table = BMP.get_or_init(Table::build);
        let packed = table
            .entries
            .iter()
            .filter(|&&bits| (bits >> MODE_SHIFT) & MODE_MASK == MODE_INLINE)
            .count();
        assert!(packed > 40_000, "{packed}");
        assert!(table.texts.len() < 1 << 16, "{}", table.texts.len());
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
