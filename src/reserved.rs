//! The handles no person may get: paths a web app routes to, and names that would let an
//! account pass for the service itself.
//!
//! A deployment adds its own words through its config; this list is the floor. It holds
//! no first names, and not `user`, which is the last fallback base: a reserved fallback
//! would send every nameless person to `user-2`.

/// Built-in reserved handles: routes and words a web app keeps. Sorted, lower-case, unique.
///
/// The order matters: [`is_built_in`] searches it by bisection.
pub const BUILT_IN: &[&str] = &[
    "about",
    "abuse",
    "account",
    "accounts",
    "admin",
    "administrator",
    "admins",
    "anonymous",
    "api",
    "app",
    "apps",
    "assets",
    "auth",
    "billing",
    "blog",
    "cdn",
    "contact",
    "dashboard",
    "docs",
    "download",
    "downloads",
    "edit",
    "enterprise",
    "everyone",
    "explore",
    "faq",
    "favicon",
    "feed",
    "feedback",
    "files",
    "graphql",
    "guest",
    "help",
    "home",
    "hostmaster",
    "images",
    "img",
    "info",
    "invitations",
    "invite",
    "issues",
    "join",
    "legal",
    "login",
    "logout",
    "mail",
    "marketplace",
    "me",
    "media",
    "moderator",
    "new",
    "news",
    "nobody",
    "none",
    "noreply",
    "notifications",
    "null",
    "oauth",
    "org",
    "organizations",
    "orgs",
    "owner",
    "password",
    "postmaster",
    "pricing",
    "privacy",
    "profile",
    "public",
    "register",
    "reset",
    "robots",
    "root",
    "rss",
    "saml",
    "search",
    "security",
    "settings",
    "signin",
    "signout",
    "signup",
    "site",
    "sitemap",
    "sso",
    "staff",
    "static",
    "status",
    "support",
    "system",
    "team",
    "teams",
    "terms",
    "undefined",
    "upload",
    "uploads",
    "users",
    "webmaster",
    "well-known",
    "www",
];

/// Whether `handle` is on the built-in reserved list.
///
/// Expects a lower-case handle, as handle derivation produces; the comparison is exact.
///
/// ```
/// use jit_provisioning::handles::is_reserved;
///
/// assert!(is_reserved("admin"));
/// // Exact and case-sensitive: callers pass derived handles, which are lower-case.
/// assert!(!is_reserved("jane-doe"));
/// assert!(!is_reserved("Admin"));
/// ```
pub fn is_built_in(handle: &str) -> bool {
    // Most handles are `firstname-lastname`, longer than any reserved word, or share no
    // length and first letter with one: skip the search.
    // One test, usually false, instead of one on the length and one on the letter, each of
    // which the processor would often mispredict.
    let bytes = handle.as_bytes();
    let firsts = FIRST_BYTES_BY_LEN
        .get(bytes.len().min(LONGEST + 1))
        .copied()
        .unwrap_or(0);
    let first = bytes.first().copied().unwrap_or(0);
    // A byte beyond ASCII folds onto an ASCII bit: a false alarm the search then clears.
    if firsts >> (first & 0x7F) & 1 == 0 {
        return false;
    }
    packed(bytes).is_some_and(|word| PACKED.binary_search(&word).is_ok())
}

/// The built-in words that are `stem` or `stem-<digits>`: the ones a handle search under
/// `stem` could meet. The list is sorted, so they sit in one range that starts where
/// `stem` would.
pub(crate) fn built_in_under(stem: &str) -> impl Iterator<Item = &'static str> + '_ {
    let from = BUILT_IN.partition_point(|word| *word < stem);
    BUILT_IN
        .iter()
        .skip(from)
        .take_while(move |word| word.starts_with(stem))
        .filter(move |word| crate::store::is_stem_or_suffixed(word, stem))
        .copied()
}

/// For each length up to [`LONGEST`], the first bytes of the built-in words of that length,
/// one bit each; none for the length after, which stands for every longer one.
static FIRST_BYTES_BY_LEN: [u128; LONGEST + 2] = first_bytes_by_len();

// Const fns cannot call `get`; every built-in word is non-empty, ASCII and at most
// `LONGEST` long (tests keep it so), and evaluated at compile time an index out of range
// would be a build error.
#[allow(clippy::indexing_slicing)]
const fn first_bytes_by_len() -> [u128; LONGEST + 2] {
    let mut firsts = [0; LONGEST + 2];
    let mut at = 0;
    while at < BUILT_IN.len() {
        let word = BUILT_IN[at].as_bytes();
        firsts[word.len()] |= 1 << word[0];
        at += 1;
    }
    firsts
}

/// [`BUILT_IN`], each word packed into one integer by [`pack`]: the search compares
/// integers instead of calling `memcmp` once per step.
static PACKED: [u128; BUILT_IN.len()] = pack_all();

// Const fns cannot call `get`; evaluated at compile time, an index out of range is a build
// error, and the loop stops at the array's length.
#[allow(clippy::indexing_slicing)]
const fn pack_all() -> [u128; BUILT_IN.len()] {
    let mut all = [0; BUILT_IN.len()];
    let mut at = 0;
    while at < BUILT_IN.len() {
        let word = BUILT_IN[at].as_bytes();
        assert!(
            word.len() <= LONGEST,
            "a built-in word is longer than LONGEST"
        );
        all[at] = pack(word);
        at += 1;
    }
    all
}

/// A word of at most [`LONGEST`] bytes, or `None` for a longer one, as one integer.
const fn packed(word: &[u8]) -> Option<u128> {
    if word.len() > LONGEST {
        None
    } else {
        Some(pack(word))
    }
}

/// The bytes of `word` (at most [`LONGEST`]), padded with zeros, then its length, read as
/// one big-endian integer.
///
/// Two words pack alike only when they are the same bytes. For words without a zero byte,
/// as all built-in ones are, the integers also sort as the text does: the first differing
/// byte decides, and a word that is a prefix of another has a zero where the other has a
/// letter. So the packed list stays sorted for the binary search.
// Const fns cannot call `get`; the loop stays below both `word.len()` and `LONGEST` (13),
// inside the 16 bytes.
#[allow(clippy::indexing_slicing)]
const fn pack(word: &[u8]) -> u128 {
    let mut bytes = [0; 16];
    let mut at = 0;
    while at < word.len() && at < LONGEST {
        bytes[at] = word[at];
        at += 1;
    }
    // At most 13, so the length fits in the last byte.
    bytes[15] = at as u8;
    u128::from_be_bytes(bytes)
}

/// The length of the longest built-in word, in bytes (a test keeps it true).
const LONGEST: usize = 13;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_is_the_longest_word() {
        assert_eq!(BUILT_IN.iter().map(|w| w.len()).max(), Some(LONGEST));
    }
    use crate::handle::is_well_formed;

    #[test]
    fn list_is_sorted_unique_lower_case_and_well_formed() {
        assert!(BUILT_IN.len() >= 60, "{}", BUILT_IN.len());
        for pair in BUILT_IN.windows(2) {
            assert!(pair[0] < pair[1], "{:?} before {:?}", pair[0], pair[1]);
        }
        for word in BUILT_IN {
            assert!(is_well_formed(word), "{word:?}");
        }
    }

    #[test]
    fn holds_the_words_the_app_routes_to() {
        for word in [
            "about",
            "account",
            "accounts",
            "admin",
            "administrator",
            "api",
            "app",
            "assets",
            "auth",
            "billing",
            "blog",
            "dashboard",
            "docs",
            "explore",
            "help",
            "home",
            "login",
            "logout",
            "new",
            "null",
            "oauth",
            "org",
            "orgs",
            "password",
            "privacy",
            "profile",
            "register",
            "root",
            "saml",
            "search",
            "security",
            "settings",
            "signin",
            "signout",
            "signup",
            "sso",
            "static",
            "status",
            "support",
            "system",
            "terms",
            "undefined",
            "users",
            "www",
        ] {
            assert!(is_built_in(word), "{word}");
        }
    }

    #[test]
    fn the_packed_list_matches_the_words() {
        assert!(PACKED.windows(2).all(|pair| pair[0] < pair[1]));
        for (word, packed_word) in BUILT_IN.iter().zip(PACKED) {
            assert_eq!(packed(word.as_bytes()), Some(packed_word));
            // A zero byte never makes another word pack alike.
            let padded = format!("{word}\0");
            assert!(!is_built_in(&padded), "{word}");
            let shorter = word.get(..word.len() - 1).unwrap_or_default();
            assert_eq!(is_built_in(shorter), BUILT_IN.contains(&shorter), "{word}");
        }
        assert_eq!(packed(&[b'a'; LONGEST + 1]), None);
    }

    #[test]
    fn the_words_under_a_stem_are_the_word_itself() {
        let under = |stem| built_in_under(stem).collect::<Vec<_>>();
        assert_eq!(under("admin"), ["admin"]);
        assert_eq!(under("well-known"), ["well-known"]);
        assert!(under("adm").is_empty());
        assert!(under("jane-doe").is_empty());
        assert!(under("").is_empty());
        for word in BUILT_IN {
            assert_eq!(under(word), [*word]);
        }
    }

    #[test]
    fn keeps_the_fallback_and_people_free() {
        for word in [
            "user", "jane", "john", "maria", "jane-doe", "", "admin-2", "Admin",
        ] {
            assert!(!is_built_in(word), "{word}");
        }
    }
}
