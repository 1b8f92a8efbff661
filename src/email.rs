//! Email addresses: which are usable, and the key by which they are compared.
//!
//! Every party that compares emails (the engine, [`MemoryStore`](crate::MemoryStore), a
//! SQL adapter's index) must fold them the same way: if the store finds an account by an
//! email that the engine then judges different, the decision is made on the wrong facts.

/// Longest email accepted as an address (RFC 5321's path limit is 256).
const MAX_EMAIL_LEN: usize = 320;

/// The key emails are compared by: lower-cased character by character, with the Greek
/// final sigma `ς` folded to `σ`, so that an address typed in capitals matches the same
/// address typed in lower case in every script.
///
/// ```
/// use jit_provisioning::email_key;
///
/// assert_eq!(email_key("Jane@ACME.example"), "jane@acme.example");
/// // `ΝΙΚΟΣ` and `νικος` are one name; plain `to_lowercase` tells them apart.
/// assert_eq!(email_key("ΝΙΚΟΣ@acme.example"), email_key("νικος@acme.example"));
/// ```
pub fn email_key(email: &str) -> String {
    email
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ς' { 'σ' } else { c })
        .collect()
}

/// Whether two emails are the same address for matching purposes.
pub(crate) fn same_email(a: &str, b: &str) -> bool {
    email_key(a) == email_key(b)
}

/// The email, trimmed, when it looks like an address (text on both sides of an `@`, no
/// whitespace or control character, at most 320 bytes); `None` otherwise. An email that
/// is not usable is ignored for matching and not stored.
///
/// ```
/// use jit_provisioning::usable_email;
///
/// assert_eq!(usable_email(Some(" jane@acme.example ")), Some("jane@acme.example"));
/// assert_eq!(usable_email(Some("jane@")), None);
/// assert_eq!(usable_email(Some("jane doe@acme.example")), None);
/// ```
pub fn usable_email(email: Option<&str>) -> Option<&str> {
    let email = email?.trim();
    let (local, domain) = email.rsplit_once('@')?;
    let usable = !local.is_empty()
        && !domain.is_empty()
        && email.len() <= MAX_EMAIL_LEN
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    usable.then_some(email)
}
