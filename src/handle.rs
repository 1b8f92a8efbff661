//! Handles for accounts created just in time: `firstname-lastname`, made of lower-case
//! ASCII letters and digits in words joined by single `-`.
//!
//! # From a name to words
//!
//! Each piece of text goes through one pipeline, [`name_words`]:
//!
//! 1. NFKC. Fullwidth, mathematical, circled and superscript letters fold to plain ones, so
//!    `Ａｄｍｉｎ` and `𝐚𝐝𝐦𝐢𝐧` come out as `admin` and meet the reserved list like the real
//!    word would.
//! 2. Apostrophes (`'`, `’`, `ʼ`, `ʻ`, `′`, `` ` `` and their kin) and invisible format
//!    characters (general category Cf: zero-width spaces and joiners, bidi controls, soft
//!    hyphens, tags) vanish without a break: `O'Brien` is `obrien`, and a zero-width
//!    joiner hidden inside `admin` leaves `admin`. They are removed before NFKC as well as
//!    after, because NFKC turns some of them (`´`, `᾿`) into a space and a combining mark,
//!    which would otherwise split the word.
//! 3. Letters and digits are transliterated with `any_ascii`, which drops diacritics
//!    (`José Núñez` is `jose-nunez`) and romanises other scripts (`Иван` is `ivan`).
//!    Combining marks are transliterated too and never break a word: Indic vowel signs
//!    carry a sound, and combining diacritics come out as nothing.
//! 4. Every other character (space, punctuation, symbol, emoji, control) is a break. A run
//!    of breaks is one `-`; breaks at either end vanish.
//!
//! Decided here, beyond the spec: when `any_ascii` writes `'` or `` ` `` for a letter (a
//! glottal stop, an ayin, a Cyrillic soft or hard sign), that output vanishes without a
//! break, as a typed apostrophe does, because it stands inside a word: `Мальчик` is
//! `malchik`, not `mal-chik`. Any other non-alphanumeric output of a letter is a break.
//!
//! All-ASCII text skips NFKC and `any_ascii`: both are the identity on ASCII letters and
//! digits, so the result is the same and the common case stays fast.
//!
//! `any_ascii` is pinned to one exact version: a new table would give the same person a
//! different handle, and the golden tests below would say so.
//!
//! # Bounded work
//!
//! Names arrive from an identity provider and may be hostile. The pipeline is linear in its
//! input and stops reading once its output is 257 characters long ([`WORDS_CAP`]): handles
//! are at most 255 characters long (the config refuses more), and a base of that length
//! already cuts, at every limit up to 256, exactly as the whole base would. A longer
//! `max_len` would see a base cut short, possibly inside a word.
//!
//! # From words to a handle
//!
//! [`HandleBase::derive`] takes the given name then the family name, falling back to the
//! email's local part and then to `user`. [`HandleBase::resolve`] tries the base, then the
//! base with `-2`, `-3`, … appended, cutting the base at a word break ([`cut_at_break`]) so
//! that the whole stays within the longest allowed handle.

use std::fmt::Write as _;
use std::iter;

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::UnicodeNormalization;

use crate::char_class::{char_info, is_ascii_apostrophe, table, Op};

/// Longest handle, suffix included, unless the config says otherwise.
pub const DEFAULT_MAX_HANDLE_LEN: usize = 39;

/// Most characters the words pipeline writes before it stops reading.
///
/// A cut at `limit` looks no further than the character at index `limit`. The config allows
/// handles of at most 255 characters, so keeping up to 257 (or 256 when the next character
/// would be a `-`, which is then a break right at the end) cuts exactly like the whole.
const WORDS_CAP: usize = 257;

/// The base for someone with neither a usable name nor a usable email.
const FALLBACK_BASE: &str = "user";

/// A suffix is `-` and the digits of a number from 2 to `u64::MAX`.
const SHORTEST_SUFFIX_LEN: usize = 2;
const LONGEST_SUFFIX_LEN: usize = 21;

/// Where a handle's base came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandleSource {
    /// The given and family names.
    Names,
    /// The local part of the email address, when the names gave no word.
    EmailLocalPart,
    /// Neither names nor email gave a word: the base is `user`.
    Fallback,
}

/// The words a new account's handle is built from, before any cut or suffix.
///
/// Always non-empty and well-formed (see [`is_well_formed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleBase {
    words: String,
    source: HandleSource,
}

impl HandleBase {
    /// The base for a person: the words of `given` then those of `family`; if neither
    /// gives a word, the words of the email's local part; if that gives none either, `user`.
    ///
    /// The local part is the text before the last `@`, used only when there is text on
    /// both sides of it, with any `+tag` sub-address dropped.
    ///
    /// ```
    /// use jit_provisioning::{HandleBase, HandleSource};
    ///
    /// let base = HandleBase::derive(Some("José"), Some("Núñez"), None);
    /// assert_eq!(base.as_str(), "jose-nunez");
    /// assert_eq!(base.source(), HandleSource::Names);
    ///
    /// // A name with no letter or digit in it is no name.
    /// let base = HandleBase::derive(Some("😀"), None, Some("jane.doe+sso@acme.example"));
    /// assert_eq!(base.as_str(), "jane-doe");
    /// assert_eq!(base.source(), HandleSource::EmailLocalPart);
    ///
    /// let base = HandleBase::derive(None, None, Some("not an address"));
    /// assert_eq!(base.as_str(), "user");
    /// assert_eq!(base.source(), HandleSource::Fallback);
    /// ```
    pub fn derive(given: Option<&str>, family: Option<&str>, email: Option<&str>) -> HandleBase {
        let (given, family) = (given.unwrap_or_default(), family.unwrap_or_default());
        // Nearly half of all names: one pass, no words pipeline.
        if let Some(words) = ascii_name_words(given, family) {
            return HandleBase {
                words,
                source: HandleSource::Names,
            };
        }
        // Usually one allocation: transliteration seldom writes more bytes than it reads.
        let mut words = Words::with_capacity((given.len() + family.len() + 1).min(WORDS_CAP));
        words.feed(given);
        words.end_word();
        words.feed(family);
        if !words.is_empty() {
            return HandleBase::new(words, HandleSource::Names);
        }
        if let Some(local_part) = email.and_then(email_local_part) {
            let mut words = Words::default();
            words.feed(local_part);
            if !words.is_empty() {
                return HandleBase::new(words, HandleSource::EmailLocalPart);
            }
        }
        HandleBase {
            words: FALLBACK_BASE.to_owned(),
            source: HandleSource::Fallback,
        }
    }

    fn new(words: Words, source: HandleSource) -> HandleBase {
        HandleBase {
            words: words.into_string(),
            source,
        }
    }

    /// The base itself: lower-case ASCII words joined by `-`.
    pub fn as_str(&self) -> &str {
        &self.words
    }

    /// Where the base came from.
    pub fn source(&self) -> HandleSource {
        self.source
    }

    /// The base's words, its buffer kept.
    pub(crate) fn into_words(self) -> String {
        self.words
    }

    /// Every distinct cut of the base that a candidate handle can start with when handles
    /// are at most `max_len` long, longest first; empty when `max_len` is 0.
    ///
    /// A candidate is one of these stems, bare or followed by `-` and a number from 2 to
    /// `u64::MAX`. A store asked for the taken handles equal to a stem or to a stem, `-`
    /// and digits therefore returns every taken handle that [`resolve`](Self::resolve)
    /// could try. Usually there is one stem, the base itself; a long base has one per
    /// suffix length that forces a different cut.
    ///
    /// ```
    /// use jit_provisioning::HandleBase;
    ///
    /// let base = HandleBase::derive(Some("Jane"), Some("Doe"), None);
    /// assert_eq!(base.stems(39), ["jane-doe"]);
    ///
    /// // Longer suffixes (`-10`, `-100`, … up to 21 characters) force shorter cuts.
    /// let base = HandleBase::derive(
    ///     Some("Maximiliana Alexandra"),
    ///     Some("Konstantinopoulou Papadopoulos"),
    ///     None,
    /// );
    /// assert_eq!(
    ///     base.stems(39),
    ///     [
    ///         "maximiliana-alexandra-konstantinopoulou",
    ///         "maximiliana-alexandra",
    ///         "maximiliana",
    ///     ]
    /// );
    /// assert!(base.stems(0).is_empty());
    /// ```
    pub fn stems(&self, max_len: usize) -> Vec<String> {
        stems_of(&self.words, max_len)
    }

    /// The first candidate that `is_taken` says is free: the base (cut to `max_len`), then
    /// the base with `-2`, `-3`, … appended, the base cut at a word break so that the
    /// whole fits in `max_len`.
    ///
    /// `is_taken` gets each candidate as a well-formed, lower-case ASCII handle. At most
    /// `max_attempts` distinct candidates are tried: a caller that knows `k` taken handles
    /// under [`stems`](Self::stems) passes `k + 1` and is sure to find a free one. `None`
    /// when every try was taken, or when the next suffix would leave no room for even one
    /// character of the base.
    ///
    /// ```
    /// use jit_provisioning::HandleBase;
    ///
    /// let base = HandleBase::derive(Some("Jane"), Some("Doe"), None);
    /// let taken = ["jane-doe", "jane-doe-3"];
    /// let handle = base.resolve(39, taken.len() + 1, |candidate| taken.contains(&candidate));
    /// assert_eq!(handle.as_deref(), Some("jane-doe-2"));
    ///
    /// // With room for one letter only, no suffix fits after the bare candidate.
    /// assert_eq!(base.resolve(1, 10, |_| true), None);
    /// ```
    pub fn resolve(
        &self,
        max_len: usize,
        max_attempts: usize,
        is_taken: impl FnMut(&str) -> bool,
    ) -> Option<String> {
        match self.search(max_len, max_attempts, is_taken)? {
            Found::WholeBase => Some(self.words.clone()),
            Found::Other(handle) => Some(handle),
        }
    }

    /// [`resolve`](Self::resolve), keeping the base's own buffer as the handle when the
    /// whole base is free: the usual case, one allocation fewer.
    ///
    /// ```
    /// use jit_provisioning::HandleBase;
    ///
    /// let base = HandleBase::derive(Some("Jane"), Some("Doe"), None);
    /// assert_eq!(base.into_handle(39, 1, |_| false).as_deref(), Some("jane-doe"));
    /// ```
    pub fn into_handle(
        self,
        max_len: usize,
        max_attempts: usize,
        is_taken: impl FnMut(&str) -> bool,
    ) -> Option<String> {
        match self.search(max_len, max_attempts, is_taken)? {
            Found::WholeBase => Some(self.words),
            Found::Other(handle) => Some(handle),
        }
    }

    fn search(
        &self,
        max_len: usize,
        max_attempts: usize,
        is_taken: impl FnMut(&str) -> bool,
    ) -> Option<Found> {
        search(&self.words, max_len, max_attempts, is_taken)
    }
    /// Candidate `n`: the bare cut for 1, the cut base and `-n` after that; `None` when
    /// the handle would have no character of the base.
    #[cfg(test)]
    fn candidate(&self, max_len: usize, n: u64) -> Option<String> {
        if n <= 1 {
            let bare = cut_at_break(&self.words, max_len);
            return (!bare.is_empty()).then_some(bare);
        }
        let suffix = format!("-{n}");
        let room = max_len.checked_sub(suffix.len()).filter(|&room| room > 0)?;
        let mut candidate = cut_at_break(&self.words, room);
        candidate.push_str(&suffix);
        Some(candidate)
    }
}

/// The search behind [`HandleBase::resolve`], on a base's words: the first candidate that
/// `is_taken` says is free, trying at most `max_attempts` distinct candidates.
pub(crate) fn search(
    words: &str,
    max_len: usize,
    max_attempts: usize,
    mut is_taken: impl FnMut(&str) -> bool,
) -> Option<Found> {
    if max_attempts == 0 {
        return None;
    }
    // The usual case: the whole base fits and is free; no cut to build.
    let fits = words.len() <= max_len && !words.is_empty();
    if fits && !is_taken(words) {
        return Some(Found::WholeBase);
    }
    let bare = cut_at_break(words, max_len);
    if bare.is_empty() {
        return None;
    }
    if !fits && !is_taken(&bare) {
        return Some(Found::Other(bare));
    }
    let mut attempts = 1;
    // Thousands of candidates may be tried when a name is common: build each in one
    // reused buffer, and cut the base again only when the suffix grows a digit.
    let mut stem = Stem::default();
    let mut candidate = String::with_capacity(max_len);
    for n in 2..=u64::MAX {
        if attempts >= max_attempts {
            return None;
        }
        let room = max_len
            .checked_sub(suffix_len(n))
            .filter(|&room| room > 0)?;
        candidate.clear();
        candidate.push_str(stem.cut(words, room));
        write!(candidate, "-{n}").ok()?;
        // A base ending in a number can be cut to look like a suffixed candidate
        // (`a-2-b` at 3 is `a-2`, as is `a` with `-2`). Asking twice would spend an
        // attempt on nothing and break the caller's pigeonhole bound.
        if candidate == bare {
            continue;
        }
        attempts += 1;
        if !is_taken(&candidate) {
            return Some(Found::Other(candidate));
        }
    }
    None
}

/// [`HandleBase::stems`] of a base's words.
pub(crate) fn stems_of(words: &str, max_len: usize) -> Vec<String> {
    // The usual base fits with the longest suffix: it is its only stem, and no cut is made.
    if words.len().saturating_add(LONGEST_SUFFIX_LEN) <= max_len {
        let whole = words.trim_end_matches('-');
        return if whole.is_empty() {
            Vec::new()
        } else {
            vec![whole.to_owned()]
        };
    }
    let suffixed_limits = (SHORTEST_SUFFIX_LEN..=LONGEST_SUFFIX_LEN)
        .filter_map(|suffix_len| max_len.checked_sub(suffix_len));
    let mut stems: Vec<String> = Vec::new();
    for limit in iter::once(max_len).chain(suffixed_limits) {
        let stem = cut_at_break(words, limit);
        if !stem.is_empty() && !stems.contains(&stem) {
            stems.push(stem);
        }
    }
    stems
}

/// What the search found free.
pub(crate) enum Found {
    /// The base itself, whole.
    WholeBase,
    /// A cut of the base, or a suffixed candidate.
    Other(String),
}

/// The length of `-n`.
fn suffix_len(n: u64) -> usize {
    let digits = n.checked_ilog10().map_or(1, |log| log + 1);
    1 + usize::try_from(digits).unwrap_or(usize::MAX)
}

/// The base cut for one room, kept while the room stays the same.
#[derive(Default)]
struct Stem {
    room: usize,
    cut: String,
}

impl Stem {
    fn cut(&mut self, words: &str, room: usize) -> &str {
        if self.room != room || self.cut.is_empty() {
            self.room = room;
            self.cut = cut_at_break(words, room);
        }
        &self.cut
    }
}

/// The words pipeline on one piece of text: its letters and digits as lower-case ASCII
/// words joined by single `-`; empty when it has none.
///
/// The output stops growing at 257 characters (see the module doc, "Bounded work"); what it
/// holds then is the start of the words of the whole text.
///
/// ```
/// use jit_provisioning::handles::name_words;
///
/// assert_eq!(name_words("Mary Ann"), "mary-ann");
/// assert_eq!(name_words("d’Arcy"), "darcy");
/// assert_eq!(name_words("Иван"), "ivan");
/// assert_eq!(name_words("--- 😀 ---"), "");
/// ```
pub fn name_words(text: &str) -> String {
    let mut words = Words::default();
    words.feed(text);
    words.into_string()
}

/// Whether `handle` has the shape of a handle: `^[a-z0-9]+(-[a-z0-9]+)*$`.
///
/// ```
/// use jit_provisioning::handles::is_well_formed;
///
/// assert!(is_well_formed("jane-doe-2"));
/// assert!(!is_well_formed("Jane-Doe"));
/// assert!(!is_well_formed("jane--doe"));
/// assert!(!is_well_formed("-jane"));
/// assert!(!is_well_formed(""));
/// ```
pub fn is_well_formed(handle: &str) -> bool {
    handle.split('-').all(|word| {
        !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// `base` cut to at most `limit` characters at a word break, as a new `String`.
///
/// A base that fits is returned whole. Otherwise the cut keeps the most whole words that
/// fit; only when the first word alone is longer than `limit` is that word cut, to its
/// first `limit` characters. The result is empty for `limit` 0 and never ends with `-`.
///
/// `base` is expected to be well-formed; any other text is cut by the same rule, counting
/// characters, without panicking.
///
/// ```
/// use jit_provisioning::handles::cut_at_break;
///
/// assert_eq!(cut_at_break("jane-doe", 39), "jane-doe");
/// assert_eq!(cut_at_break("jane-doe", 7), "jane");
/// assert_eq!(cut_at_break("konstantinopoulou", 6), "konsta");
/// assert_eq!(cut_at_break("jane-doe", 0), "");
/// ```
pub fn cut_at_break(base: &str, limit: usize) -> String {
    if base.len() <= limit {
        // Fewer bytes than `limit` means fewer characters too: nothing to cut.
        return base.trim_end_matches('-').to_owned();
    }
    let keep = if base.chars().nth(limit).is_none() {
        limit
    } else {
        // The character at `limit` exists, so a break there still leaves `limit` whole
        // characters before it.
        let last_break = base
            .chars()
            .take(limit.saturating_add(1))
            .enumerate()
            .filter(|&(at, c)| c == '-' && at > 0)
            .map(|(at, _)| at)
            .last();
        last_break.unwrap_or(limit)
    };
    let mut cut: String = base.chars().take(keep).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    cut
}

/// The text before the last `@`, without its `+tag`, when both sides of the `@` have text.
fn email_local_part(email: &str) -> Option<&str> {
    let (local, domain) = email.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    Some(
        local
            .split_once('+')
            .map_or(local, |(mailbox, _tag)| mailbox),
    )
}

/// The words of an all-ASCII `given` then `family` short enough never to reach the cap,
/// in one pass and one allocation of the final size; `None` for any other name, or when
/// they hold no word.
///
/// The same as [`Words`] on such text: for ASCII, NFKC and transliteration are the
/// identity, and nothing is cut.
fn ascii_name_words(given: &str, family: &str) -> Option<String> {
    let capacity = given.len().checked_add(family.len())?.checked_add(1)?;
    if capacity > WORDS_CAP {
        return None;
    }
    // Allocated at the first letter: most names that are not ASCII say so in their first
    // byte, and then cost nothing here. The bytes are checked as they come instead of by
    // `is_ascii` first, whose branches on the length the processor mispredicts.
    let mut out = String::new();
    // Set only once a word has been written, so that no `-` leads.
    let mut dash_pending = false;
    for text in [given, family] {
        for &byte in text.as_bytes() {
            match ASCII_WORD_BYTES.get(usize::from(byte)).copied() {
                Some(letter @ b'0'..=b'z') => {
                    if out.capacity() == 0 {
                        out.reserve_exact(capacity);
                    }
                    if dash_pending {
                        out.push('-');
                        dash_pending = false;
                    }
                    out.push(char::from(letter));
                }
                Some(VANISHING_BYTE) => {}
                Some(BREAKING_BYTE) => dash_pending = !out.is_empty(),
                _ => return None,
            }
        }
        dash_pending = !out.is_empty();
    }
    (!out.is_empty()).then_some(out)
}

/// What each byte is in a word: itself lower-cased for an ASCII letter or digit,
/// [`VANISHING_BYTE`] for an apostrophe, [`NOT_ASCII`] beyond ASCII, [`BREAKING_BYTE`] for
/// the rest.
static ASCII_WORD_BYTES: [u8; 256] = ascii_word_bytes();
const VANISHING_BYTE: u8 = 1;
const BREAKING_BYTE: u8 = 0;
const NOT_ASCII: u8 = 0x80;

// Const fns cannot call `get`; the loop stays below the array's length, and evaluated at
// compile time an index out of range would be a build error.
#[allow(clippy::indexing_slicing)]
const fn ascii_word_bytes() -> [u8; 256] {
    let mut bytes = [NOT_ASCII; 256];
    let mut byte = 0;
    while byte < 128 {
        let b = byte as u8;
        bytes[byte] = if b.is_ascii_alphanumeric() {
            b.to_ascii_lowercase()
        } else if b == b'\'' || b == b'`' {
            VANISHING_BYTE
        } else {
            BREAKING_BYTE
        };
        byte += 1;
    }
    bytes
}

/// Accumulates words, writing a `-` only once a word follows a break, so that the output
/// never starts or ends with one and never holds two in a row.
#[derive(Debug, Default)]
struct Words {
    /// ASCII only; lower-cased once, in [`Words::into_string`].
    out: String,
    break_pending: bool,
    full: bool,
}

impl Words {
    fn with_capacity(capacity: usize) -> Self {
        Words {
            out: String::with_capacity(capacity),
            ..Words::default()
        }
    }

    fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    fn into_string(mut self) -> String {
        self.out.make_ascii_lowercase();
        self.out
    }

    #[inline]
    fn end_word(&mut self) {
        self.break_pending = true;
    }

    /// Appends one ASCII alphanumeric byte, lower-cased.
    #[inline]
    fn push(&mut self, byte: u8) {
        if self.full {
            return;
        }
        let dash = self.break_pending && !self.out.is_empty();
        // `out` holds ASCII only, so its byte length is its length in characters. A dash
        // is written only with the character after it, so a full buffer never ends in one.
        let needed = if dash { 2 } else { 1 };
        if self.out.len().saturating_add(needed) > WORDS_CAP {
            self.full = true;
            return;
        }
        if dash {
            self.out.push('-');
        }
        self.break_pending = false;
        self.out.push(char::from(byte));
    }

    fn feed(&mut self, text: &str) {
        if text.is_ascii() {
            self.feed_ascii(text);
        } else {
            self.feed_unicode(text);
        }
    }

    /// The same as [`Words::feed_unicode`] on ASCII text, a word at a time.
    fn feed_ascii(&mut self, text: &str) {
        let mut rest = text;
        while !self.full {
            let word_len = rest
                .bytes()
                .position(|byte| !byte.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            // ASCII text splits at any byte, so these never fail.
            let (Some(word), Some(tail)) = (rest.get(..word_len), rest.get(word_len..)) else {
                return;
            };
            self.push_word(word);
            let mut tail = tail.chars();
            match tail.next() {
                Some(separator) if is_ascii_apostrophe(separator) => {}
                Some(_) => self.end_word(),
                None => return,
            }
            rest = tail.as_str();
        }
    }

    /// Appends a run of ASCII alphanumerics, as many as fit.
    fn push_word(&mut self, word: &str) {
        if word.is_empty() || self.full {
            return;
        }
        let dash = self.break_pending && !self.out.is_empty();
        let room = WORDS_CAP.saturating_sub(self.out.len() + usize::from(dash));
        if room == 0 {
            self.full = true;
            return;
        }
        if dash {
            self.out.push('-');
        }
        self.break_pending = false;
        match word.get(..room) {
            Some(fits) if fits.len() < word.len() => {
                self.out.push_str(fits);
                self.full = true;
            }
            _ => self.out.push_str(word),
        }
    }

    fn feed_unicode(&mut self, text: &str) {
        // NFKC leaves text that is already in NFKC unchanged; most names are (precomposed
        // accents, CJK, Cyrillic, Indic text with its viramas…), and checking costs far
        // less than normalizing. One pass runs NFKC's quick check (UAX #15) and takes each
        // character; at the first one that it cannot say Yes to, the text starts over
        // through NFKC. The check goes on past a full buffer, because NFKC may compose a
        // later character with the ones already taken.
        let (len, break_pending, full) = (self.out.len(), self.break_pending, self.full);
        let mut last_class = 0;
        let table = table();
        for c in text.chars() {
            let info = table.info(c);
            if info.vanishes() {
                continue;
            }
            // Combining marks out of canonical order would be reordered: only a starter,
            // or a mark of a class no lower than the last, is sure to stay.
            let class = if info.is_starter() {
                0
            } else {
                canonical_combining_class(c)
            };
            if !info.nfkc_yes() || (class != 0 && last_class > class) {
                self.out.truncate(len);
                (self.break_pending, self.full) = (break_pending, full);
                let visible = text.chars().filter(|&c| !char_info(c).vanishes());
                self.feed_normalized(visible.nfkc());
                return;
            }
            last_class = class;
            if !self.full {
                info.for_each_op(|op| self.apply(op));
            }
        }
    }

    fn feed_normalized(&mut self, chars: impl Iterator<Item = char>) {
        let table = table();
        for c in chars {
            if self.full {
                return;
            }
            let info = table.info(c);
            if !info.vanishes() {
                info.for_each_op(|op| self.apply(op));
            }
        }
    }

    #[inline]
    fn apply(&mut self, op: Op) {
        match op {
            Op::Letter(byte) => self.push(byte),
            Op::Break => self.end_word(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use any_ascii::any_ascii_char;

    use crate::reserved::is_built_in;

    fn names(given: &str, family: &str) -> String {
        HandleBase::derive(Some(given), Some(family), None)
            .as_str()
            .to_owned()
    }

    fn base_of(words: &str) -> HandleBase {
        let base = HandleBase::derive(Some(words), None, None);
        assert_eq!(base.as_str(), words, "test bases must be well-formed words");
        base
    }

    fn resolve_with(base: &HandleBase, max_len: usize, taken: &[&str]) -> Option<String> {
        base.resolve(max_len, taken.len() + 1, |candidate| {
            taken.contains(&candidate)
        })
    }

    // The candidates resolve walks through, in order, when everything is taken.
    fn all_candidates(base: &HandleBase, max_len: usize, attempts: usize) -> Vec<String> {
        let mut seen = Vec::new();
        let found = base.resolve(max_len, attempts, |candidate| {
            seen.push(candidate.to_owned());
            true
        });
        assert_eq!(found, None);
        seen
    }

    #[test]
    fn golden_latin_names() {
        assert_eq!(names("José", "Núñez"), "jose-nunez");
        assert_eq!(names("", "O'Brien"), "obrien");
        assert_eq!(names("Mary Ann", "Smith-Jones"), "mary-ann-smith-jones");
        assert_eq!(names("Zoë", "d’Arcy"), "zoe-darcy");
        assert_eq!(names("Jane", "Doe"), "jane-doe");
        assert_eq!(names("Đặng", "Thị"), "dang-thi");
        assert_eq!(names("Łukasz", "Müller-Weiß"), "lukasz-muller-weiss");
        assert_eq!(names("Æsa", "Ørsted"), "aesa-orsted");
        assert_eq!(names("ʻIolani", "Kealoha"), "iolani-kealoha");
        assert_eq!(names("Jean-Luc", "  Picard  "), "jean-luc-picard");
        assert_eq!(names("J. R. R.", "Tolkien"), "j-r-r-tolkien");
        assert_eq!(names("Louis", "XIV"), "louis-xiv");
    }

    #[test]
    fn golden_other_scripts() {
        // Pinned outputs of any_ascii 0.3.3; a changed table shows up here.
        assert_eq!(names("王", "小明"), "wang-xiaoming");
        assert_eq!(names("王 小明", ""), "wang-xiaoming");
        assert_eq!(names("Иван", "Петров"), "ivan-petrov");
        assert_eq!(names("محمد", "علي"), "mhmd-ly");
        assert_eq!(names("عبد الله", ""), "bd-llh");
        assert_eq!(names("민준", "김"), "minjun-gim");
        assert_eq!(names("太郎", "山田"), "tailang-shantian");
        assert_eq!(names("हिन्दी", ""), "hindi");
        assert_eq!(names("Ἀθηνᾶ", ""), "athina");
        assert_eq!(names("Αλέξανδρος", ""), "alexandros");
    }

    #[test]
    fn transliterated_apostrophes_stay_inside_the_word() {
        // any_ascii writes ' for the soft and hard signs and ` for ayin.
        assert_eq!(any_ascii_char('ь'), "'");
        assert_eq!(any_ascii_char('ъ'), "'");
        assert_eq!(any_ascii_char('ع'), "`");
        assert_eq!(names("Мальчик", "Подъезд"), "malchik-podezd");
        assert_eq!(names("Ильич", "Гоголь"), "ilich-gogol");
    }

    #[test]
    fn apostrophes_vanish_without_a_break() {
        for apostrophe in [
            "'", "’", "‘", "ʼ", "ʻ", "ʽ", "ʾ", "ʿ", "′", "`", "´", "‛", "᾿", "＇", "ꞌ",
        ] {
            assert_eq!(
                name_words(&format!("O{apostrophe}Brien")),
                "obrien",
                "{apostrophe:?}"
            );
        }
        assert_eq!(name_words("Ta\u{02BC}ar"), "taar");
    }

    #[test]
    fn format_characters_vanish_without_a_break() {
        assert_eq!(names("Jane\u{200B}", "Doe"), "jane-doe");
        assert_eq!(name_words("Ja\u{200D}ne"), "jane");
        assert_eq!(name_words("Ja\u{00AD}ne"), "jane");
        assert_eq!(name_words("\u{FEFF}Jane"), "jane");
        assert_eq!(name_words("Ja\u{2060}ne"), "jane");
        assert_eq!(name_words("\u{202E}enaJ\u{202C}"), "enaj");
        assert_eq!(name_words("\u{2066}Ja\u{2069}ne"), "jane");
        assert_eq!(name_words("Ja\u{E0041}\u{E007F}ne"), "jane");
        assert_eq!(name_words("Ja\u{180E}ne"), "jane");
    }

    #[test]
    fn combining_marks_never_break() {
        assert_eq!(name_words("Jose\u{0301}"), "jose");
        assert_eq!(name_words("e\u{0301}\u{0302}\u{0323}t\u{0308}e"), "ete");
        // A mark with nothing before it still belongs to no break.
        assert_eq!(name_words("\u{0301}Jane"), "jane");
        assert_eq!(name_words("Jane \u{0301}Doe"), "jane-doe");
        // Devanagari vowel signs carry sounds.
        assert_eq!(name_words("राम"), "ram");
    }

    #[test]
    fn symbols_emoji_and_punctuation_break() {
        assert_eq!(names("😀 Jane", ""), "jane");
        assert_eq!(name_words("Jane😀Doe"), "jane-doe");
        assert_eq!(name_words("Jane\u{3000}Doe"), "jane-doe");
        assert_eq!(name_words("Jane\u{00A0}Doe"), "jane-doe");
        assert_eq!(name_words("Jane_Doe.Smith"), "jane-doe-smith");
        assert_eq!(name_words("Jane\0Doe"), "jane-doe");
        assert_eq!(name_words("Jane\u{0007}\u{001B}Doe"), "jane-doe");
        assert_eq!(name_words("  --Jane--  "), "jane");
        assert_eq!(name_words("½"), "1-2");
    }

    #[test]
    fn homoglyphs_of_reserved_words_fold_to_the_word() {
        for disguise in [
            "Ａｄｍｉｎ",
            "𝐚𝐝𝐦𝐢𝐧",
            "𝒂𝒅𝒎𝒊𝒏",
            "𝔞𝔡𝔪𝔦𝔫",
            "ⓐⓓⓜⓘⓝ",
            "ᴬᴰᴹᴵᴺ",
            "\u{0410}dmin", // Cyrillic capital A
            "ad\u{200B}min",
            "ad\u{200D}min",
            "ad'min",
            "a\u{0301}dmin",
            "ADMIN",
        ] {
            let base = HandleBase::derive(Some(disguise), None, None);
            assert_eq!(base.as_str(), "admin", "{disguise:?}");
            assert!(is_built_in(base.as_str()));
        }
        assert_eq!(name_words("ｓｕｐｐｏｒｔ"), "support");
        assert_eq!(name_words("𝐫𝐨𝐨𝐭"), "root");
        assert_eq!(name_words("𝟎𝟏"), "01");
    }

    #[test]
    fn ascii_fast_path_agrees_with_the_full_pipeline() {
        let full = |text: &str| {
            let mut words = Words::default();
            words.feed_unicode(text);
            words.into_string()
        };
        let fast = |text: &str| {
            let mut words = Words::default();
            words.feed_ascii(text);
            words.into_string()
        };
        for byte in 0..=127_u8 {
            let c = char::from(byte);
            let text = format!("ab{c}cd {c}x{c}");
            assert_eq!(fast(&text), full(&text), "{byte:#x}");
        }
        for text in [
            "",
            "Jane Doe",
            "O'Brien-Smith",
            "  J.R.R. `Tolkien`  ",
            "x\0y\u{7f}z",
            "ABC_def-123",
            "--__--",
        ] {
            assert_eq!(fast(text), full(text), "{text:?}");
        }
    }

    #[test]
    fn ascii_names_take_the_words_pipeline_path() {
        let words = |given: &str, family: &str| {
            let mut words = Words::default();
            words.feed(given);
            words.end_word();
            words.feed(family);
            words.into_string()
        };
        let mut texts: Vec<String> = (0..=127_u8)
            .map(|byte| {
                let c = char::from(byte);
                format!("Ab{c}cD {c}x{c}")
            })
            .collect();
        texts.extend(
            ["", "'", "-", " O'Brien ", "J.R.R.", "x`", "é"]
                .iter()
                .map(|text| text.to_string()),
        );
        texts.push("k".repeat(WORDS_CAP));
        texts.push("k".repeat(WORDS_CAP / 2));
        for given in &texts {
            for family in &texts {
                let expected = words(given, family);
                let fast = ascii_name_words(given, family);
                match fast {
                    Some(fast) => assert_eq!(fast, expected, "{given:?} {family:?}"),
                    None => assert!(
                        expected.is_empty()
                            || !(given.is_ascii() && family.is_ascii())
                            || given.len() + family.len() + 1 > WORDS_CAP,
                        "{given:?} {family:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn given_then_family_and_either_alone() {
        assert_eq!(names("Jane", ""), "jane");
        assert_eq!(names("", "Doe"), "doe");
        let base = HandleBase::derive(None, Some("Doe"), Some("x@y"));
        assert_eq!((base.as_str(), base.source()), ("doe", HandleSource::Names));
        // No break is lost or doubled at the seam.
        assert_eq!(names("Jane-", "-Doe"), "jane-doe");
        assert_eq!(names("Jane'", "'Doe"), "jane-doe");
    }

    #[test]
    fn falls_back_to_the_email_local_part() {
        let base = HandleBase::derive(None, None, Some("jane.doe+sso@acme.example"));
        assert_eq!(base.as_str(), "jane-doe");
        assert_eq!(base.source(), HandleSource::EmailLocalPart);

        let base = HandleBase::derive(Some("😀"), Some("  "), Some("J_Doe@acme.example"));
        assert_eq!(
            (base.as_str(), base.source()),
            ("j-doe", HandleSource::EmailLocalPart)
        );
        // The last @ splits; earlier ones belong to the local part.
        let base = HandleBase::derive(None, None, Some("\"jane@home\"@acme.example"));
        assert_eq!(base.as_str(), "jane-home");
        let base = HandleBase::derive(None, None, Some("josé@acme.example"));
        assert_eq!(base.as_str(), "jose");
    }

    #[test]
    fn falls_back_to_user() {
        for email in [
            None,
            Some(""),
            Some("jane"),
            Some("@acme.example"),
            Some("jane@"),
            Some("+tag@acme.example"),
            Some("...@acme.example"),
            Some("😀@acme.example"),
        ] {
            let base = HandleBase::derive(Some("😀"), None, email);
            assert_eq!(base.as_str(), "user", "{email:?}");
            assert_eq!(base.source(), HandleSource::Fallback);
        }
        let base = HandleBase::derive(None, None, None);
        assert_eq!(base.as_str(), "user");
        assert_eq!(base.source(), HandleSource::Fallback);
    }

    #[test]
    fn handle_source_serializes_in_snake_case() {
        let json = serde_json::to_string(&HandleSource::EmailLocalPart).unwrap();
        assert_eq!(json, "\"email_local_part\"");
        let back: HandleSource = serde_json::from_str("\"fallback\"").unwrap();
        assert_eq!(back, HandleSource::Fallback);
    }

    #[test]
    fn well_formed_shape() {
        for good in ["a", "0", "jane", "jane-doe", "a-b-c", "x1-2y", "007"] {
            assert!(is_well_formed(good), "{good:?}");
        }
        for bad in [
            "", "-", "a-", "-a", "a--b", "Jane", "jane doe", "jané", "a_b", "a.b", "a\0",
        ] {
            assert!(!is_well_formed(bad), "{bad:?}");
        }
    }

    #[test]
    fn cut_keeps_whole_words() {
        let base = "maximiliana-alexandra-konstantinopoulou-papadopoulos";
        let cut = cut_at_break(base, 39);
        assert_eq!(cut, "maximiliana-alexandra-konstantinopoulou");
        assert_eq!(cut.len(), 39);
        assert_eq!(cut_at_break(base, 38), "maximiliana-alexandra");
        assert_eq!(cut_at_break(base, 21), "maximiliana-alexandra");
        assert_eq!(cut_at_break(base, 20), "maximiliana");
        assert_eq!(cut_at_break(base, 11), "maximiliana");
        assert_eq!(cut_at_break(base, 10), "maximilian");
        assert_eq!(cut_at_break(base, 1), "m");
        assert_eq!(cut_at_break(base, 0), "");
        assert_eq!(cut_at_break(base, 1000), base);
        assert_eq!(cut_at_break(base, usize::MAX), base);
    }

    #[test]
    fn cut_hard_cuts_only_a_first_word_too_long() {
        let word = "a".repeat(60);
        assert_eq!(cut_at_break(&word, 39), "a".repeat(39));
        let two = format!("{word}-b");
        assert_eq!(cut_at_break(&two, 39), "a".repeat(39));
        assert_eq!(cut_at_break("ab-cd", 1), "a");
    }

    #[test]
    fn cut_never_ends_with_a_dash() {
        let bases = [
            "jane-doe",
            "a-b-c-d-e-f-g",
            "maximiliana-alexandra-konstantinopoulou-papadopoulos",
            "x-yy-zzz-wwww-vvvvv-uuuuuu",
        ];
        for base in bases {
            for limit in 0..=base.len() + 2 {
                let cut = cut_at_break(base, limit);
                assert!(cut.chars().count() <= limit, "{base} {limit}");
                assert!(!cut.ends_with('-'), "{base} {limit}");
                assert!(base.starts_with(&cut));
                if limit > 0 {
                    assert!(is_well_formed(&cut), "{base} {limit}");
                }
            }
        }
        // Text that is not well-formed still gets no trailing dash, and no panic.
        for text in ["a--b", "-", "--a", "a-", "é-ü-ß", ""] {
            for limit in 0..5 {
                assert!(!cut_at_break(text, limit).ends_with('-'));
            }
        }
    }

    #[test]
    fn resolve_takes_the_lowest_free_suffix() {
        let base = base_of("jane-doe");
        assert_eq!(resolve_with(&base, 39, &[]).as_deref(), Some("jane-doe"));
        assert_eq!(
            resolve_with(&base, 39, &["jane-doe", "jane-doe-3"]).as_deref(),
            Some("jane-doe-2")
        );

        let mut taken: Vec<String> = vec!["jane-doe".to_owned()];
        taken.extend(
            (2..=120)
                .filter(|n| *n != 87)
                .map(|n| format!("jane-doe-{n}")),
        );
        let taken_refs: Vec<&str> = taken.iter().map(String::as_str).collect();
        assert_eq!(
            resolve_with(&base, 39, &taken_refs).as_deref(),
            Some("jane-doe-87")
        );

        taken.push("jane-doe-87".to_owned());
        let taken_refs: Vec<&str> = taken.iter().map(String::as_str).collect();
        assert_eq!(
            resolve_with(&base, 39, &taken_refs).as_deref(),
            Some("jane-doe-121")
        );
    }

    #[test]
    fn resolve_cuts_the_base_to_fit_the_suffix() {
        let base = base_of("maximiliana-alexandra-konstantinopoulou-papadopoulos");
        let first = "maximiliana-alexandra-konstantinopoulou";
        assert_eq!(resolve_with(&base, 39, &[]).as_deref(), Some(first));
        assert_eq!(
            resolve_with(&base, 39, &[first]).as_deref(),
            Some("maximiliana-alexandra-2")
        );

        let word = "a".repeat(60);
        let base = base_of(&word);
        let bare = "a".repeat(39);
        assert_eq!(resolve_with(&base, 39, &[]), Some(bare.clone()));
        let second = resolve_with(&base, 39, &[&bare]).unwrap();
        assert_eq!(second, format!("{}-2", "a".repeat(37)));
        assert_eq!(second.len(), 39);
    }

    #[test]
    fn resolve_gives_up_when_no_room_or_no_attempts() {
        let base = base_of("jane-doe");
        assert_eq!(base.resolve(0, 10, |_| false), None);
        assert_eq!(base.resolve(39, 0, |_| false), None);
        assert_eq!(base.resolve(39, 5, |_| true), None);
        // At 3 characters: jan, then j-2 .. j-9; -10 would leave no room.
        let tried = all_candidates(&base, 3, 100);
        let expected: Vec<String> = iter::once("jan".to_owned())
            .chain((2..=9).map(|n| format!("j-{n}")))
            .collect();
        assert_eq!(tried, expected);
    }

    #[test]
    fn resolve_tries_exactly_max_attempts_distinct_candidates() {
        let base = base_of("jane-doe");
        let tried = all_candidates(&base, 39, 7);
        assert_eq!(tried.len(), 7);
        assert_eq!(tried.last().map(String::as_str), Some("jane-doe-7"));

        // Here the bare cut equals candidate 2; it is asked about once.
        let base = base_of("a-2-b");
        let tried = all_candidates(&base, 3, 3);
        assert_eq!(tried, ["a-2", "a-3", "a-4"]);
        let free = base.resolve(3, 2, |candidate| candidate == "a-2");
        assert_eq!(free.as_deref(), Some("a-3"));
    }

    #[test]
    fn stems_cover_every_candidate() {
        let bases = [
            "jane-doe",
            "user",
            "a-2-b",
            "maximiliana-alexandra-konstantinopoulou-papadopoulos",
            &"q".repeat(80),
            "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u-v-w-x-y-z-0-1-2-3-4-5-6-7-8-9",
            "x-yy-zzz-wwww-vvvvv-uuuuuu-ttttttt-ssssssss-rrrrrrrrr-qqqqqqqqqq",
        ];
        // A number of every length, so that every suffix length, and so every stem, is used.
        let far: Vec<u64> = (1..=19)
            .flat_map(|digits| [10_u64.pow(digits) - 1, 10_u64.pow(digits)])
            .chain([2, u64::MAX - 1, u64::MAX])
            .collect();
        for words in bases {
            let base = base_of(words);
            for max_len in [0, 1, 2, 3, 4, 5, 8, 12, 21, 22, 23, 30, 39, 64, 255] {
                let stems = base.stems(max_len);
                let mut unique = stems.clone();
                unique.dedup();
                assert_eq!(unique, stems);

                let mut candidates = all_candidates(&base, max_len, 150);
                candidates.extend(far.iter().filter_map(|&n| base.candidate(max_len, n)));
                for candidate in &candidates {
                    assert!(is_well_formed(candidate), "{candidate}");
                    assert!(candidate.len() <= max_len, "{candidate} > {max_len}");
                    assert!(
                        stems.iter().any(|stem| stem_or_suffixed(candidate, stem)),
                        "{candidate} not under {stems:?} ({words}, {max_len})"
                    );
                }
                // Every stem is reached by some candidate, so no stem is spurious.
                for stem in &stems {
                    assert!(
                        candidates.iter().any(|c| stem_or_suffixed(c, stem)),
                        "{stem} unused ({words}, {max_len})"
                    );
                }
            }
        }
    }

    fn stem_or_suffixed(candidate: &str, stem: &str) -> bool {
        match candidate.strip_prefix(stem) {
            Some("") => true,
            Some(rest) => rest
                .strip_prefix('-')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
            None => false,
        }
    }

    #[test]
    fn usual_bases_have_one_stem() {
        assert_eq!(base_of("jane-doe").stems(39), ["jane-doe"]);
        assert_eq!(base_of("user").stems(DEFAULT_MAX_HANDLE_LEN), ["user"]);
    }

    #[test]
    fn hostile_inputs_stay_cheap_and_well_formed() {
        let long_ascii = "Jane Doe ".repeat(1200);
        let long_word = "x".repeat(10_000);
        let long_unicode = "Žofie Šťastná ".repeat(800);
        let combining = format!("a{}", "\u{0301}".repeat(10_000));
        let mixed_marks: String = "\u{0301}\u{0316}\u{20DD}\u{094D}".repeat(2_500);
        let bidi = "\u{202E}\u{202D}\u{2066}\u{200F}".repeat(2_500);
        let controls: String = (0..10_000_u32)
            .filter_map(|i| char::from_u32(i % 32))
            .collect();
        let emoji = "😀👍🏽🇫🇷👨‍👩‍👧".repeat(1_000);
        let cjk = "王小明".repeat(3_400);
        let hostile = [
            long_ascii.as_str(),
            &long_word,
            &long_unicode,
            &combining,
            &mixed_marks,
            &bidi,
            &controls,
            &emoji,
            &cjk,
            "\0\0\0",
            "\u{FFFF}\u{10FFFF}\u{FFFD}",
        ];
        for text in hostile {
            let words = name_words(text);
            assert!(words.len() <= WORDS_CAP, "{}", words.len());
            assert!(words.is_empty() || is_well_formed(&words));
            for (given, family) in [
                (Some(text), None),
                (None, Some(text)),
                (Some(text), Some(text)),
            ] {
                let base = HandleBase::derive(given, family, Some(text));
                assert!(is_well_formed(base.as_str()));
                for max_len in [8, 39, 255] {
                    let handle = base.resolve(max_len, 3, |_| false).unwrap();
                    assert!(is_well_formed(&handle) && handle.len() <= max_len);
                    let second = base.resolve(max_len, 3, |c| c == handle).unwrap();
                    assert!(is_well_formed(&second) && second.len() <= max_len);
                }
            }
        }
        assert_eq!(name_words(&combining), "a");
        assert_eq!(name_words(&mixed_marks), "");
        let base = HandleBase::derive(Some(&bidi), Some(&emoji), Some(&controls));
        assert_eq!(base.source(), HandleSource::Fallback);
        let base = HandleBase::derive(Some("👍🏽"), Some("🇫🇷"), None);
        assert_eq!(base.as_str(), "user");
    }

    #[test]
    fn capped_words_cut_like_the_whole() {
        // Words of every length from 1 to 9, shifted so the cap falls everywhere in a word.
        for shift in 0..12 {
            let lengths = (0..120).map(|i| (i + shift) % 9 + 1);
            let whole: Vec<String> = lengths.map(|len| "k".repeat(len)).collect();
            let text = whole.join(" ");
            let whole = whole.join("-");
            let capped = name_words(&text);
            assert!(capped.len() <= WORDS_CAP && capped.len() >= WORDS_CAP - 1);
            assert!(whole.starts_with(&capped));
            for limit in 0..=WORDS_CAP - 1 {
                assert_eq!(cut_at_break(&capped, limit), cut_at_break(&whole, limit));
            }
        }
        let text = format!("{} {}", "a".repeat(300), "b".repeat(300));
        assert_eq!(name_words(&text), "a".repeat(WORDS_CAP));
    }
}
