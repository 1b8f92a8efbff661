//! The bearer tokens an org's IdP sends with its SCIM requests: one org each, kept only
//! as what recognises them.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::owner_link::new_owner_token;
use crate::store::StoreError;

/// What every SCIM token starts with, so that secret scanners (and people) can tell one
/// in a log or a repository: `jitscim_` and then 64 lower-case hex digits.
pub const SCIM_TOKEN_PREFIX: &str = "jitscim_";

/// How often, at most, a store writes a token's `last_used_at`: once a minute per token,
/// so that an IdP's burst of requests is not a burst of writes.
pub const SCIM_LAST_USED_EVERY_SECS: i64 = 60;

/// The hex digits after [`SCIM_TOKEN_PREFIX`]: 256 bits.
const HEX_DIGITS: usize = 64;

/// The hex digits of a token that its hint shows.
const HINT_DIGITS: usize = 4;

/// An org's SCIM token as the store knows it: everything but the secret.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use jit_provisioning::ScimTokenInfo;
///
/// let made = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
/// let info = ScimTokenInfo::new("1", "acme", "okta", made, "3f9c");
/// assert_eq!(info.last_used_at, None);
/// assert!(info.last_use_is_stale(made));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScimTokenInfo {
    /// The store's id for it, unique in the store and never given again: what
    /// [`ScimTokens::revoke`] takes.
    pub id: String,
    /// The org whose SCIM endpoints it opens, and no other's.
    pub org: String,
    /// What the person who made it called it (`okta`, `entra-prod`); may be empty.
    pub label: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last opened its org's endpoints, to within
    /// [`SCIM_LAST_USED_EVERY_SECS`]; `None` if never.
    pub last_used_at: Option<DateTime<Utc>>,
    /// The token's last 4 hex digits ([`scim_token_hint`]), to tell tokens apart. Not a
    /// secret: 16 of its 256 bits.
    pub hint: String,
}

impl ScimTokenInfo {
    /// A token of `org` with id `id`, made at `created_at`, never used.
    pub fn new(
        id: impl Into<String>,
        org: impl Into<String>,
        label: impl Into<String>,
        created_at: DateTime<Utc>,
        hint: impl Into<String>,
    ) -> Self {
        ScimTokenInfo {
            id: id.into(),
            org: org.into(),
            label: label.into(),
            created_at,
            last_used_at: None,
            hint: hint.into(),
        }
    }

    /// Whether a use at `now` is to be written down: the token was never used, or its
    /// recorded use is [`SCIM_LAST_USED_EVERY_SECS`] or more before `now`.
    pub fn last_use_is_stale(&self, now: DateTime<Utc>) -> bool {
        match self.last_used_at {
            None => true,
            Some(used) => used <= now - TimeDelta::seconds(SCIM_LAST_USED_EVERY_SECS),
        }
    }
}

/// A token just made: the secret, which exists only here, and what the store keeps.
///
/// Its `Debug` shows the hint, never the secret.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedScimToken {
    /// The bearer token for the IdP's SCIM settings: shown once, kept nowhere.
    pub token: String,
    /// What the store keeps of it.
    pub info: ScimTokenInfo,
}

impl IssuedScimToken {
    /// The token `token`, described by `info`.
    pub fn new(token: impl Into<String>, info: ScimTokenInfo) -> Self {
        IssuedScimToken {
            token: token.into(),
            info,
        }
    }
}

impl fmt::Debug for IssuedScimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedScimToken")
            .field(
                "token",
                &format_args!("{SCIM_TOKEN_PREFIX}…{}", self.info.hint),
            )
            .field("info", &self.info)
            .finish()
    }
}

/// The bearer tokens that open an org's SCIM endpoints (`/scim/v2/{org}/…`), made by
/// the site's operator (`jit-provisioning scim token create`) or an org admin, and given
/// to the org's IdP.
///
/// The contract:
///
/// 1. [`create`](Self::create) returns a fresh token from [`new_scim_token`]
///    ([`SCIM_TOKEN_PREFIX`] and 256 bits from the operating system, in lower-case hex,
///    different every time) with its [`ScimTokenInfo`]: an id the store gives, unique in
///    the store and never given again; the org and label as given; `created_at` the
///    `now` given; `last_used_at` `None`; the hint [`scim_token_hint`] of the token. The
///    store keeps only what it needs to recognise the token, never the token itself
///    where others could read it (the SQL stores keep its SHA-256).
/// 2. [`list`](Self::list) returns the org's tokens that are not revoked, oldest first
///    (by `created_at`, those made at one instant in the order they were made), as
///    [`create`](Self::create) described them but for `last_used_at`. Another org's
///    tokens are never in it.
/// 3. [`revoke`](Self::revoke) says yes once for a token of that org that was not
///    revoked, even when several servers revoke it at once; a token of another org (or
///    an id the store never gave) is left alone and is a no. Once revoked, a token is
///    neither listed nor authenticated again.
/// 4. [`authenticate`](Self::authenticate) answers with the token's info only when the
///    token is one the store made for exactly that org and it is not revoked: a token of
///    another org, a revoked one, an unknown one and a malformed one (not
///    [`is_well_formed_scim_token`]: a digit more or less, upper-case hex, spaces) are
///    all `Ok(None)`, never an error. The store compares what it keeps (the SQL stores
///    look the token's SHA-256 up), never a token kept in the clear in a table.
/// 5. A yes from [`authenticate`](Self::authenticate) at `now` records the use: the
///    token's `last_used_at` is then within [`SCIM_LAST_USED_EVERY_SECS`] before `now`
///    (a store writes it at most once a minute per token:
///    [`ScimTokenInfo::last_use_is_stale`]), in the info returned and in
///    [`list`](Self::list). A no records nothing.
#[async_trait]
pub trait ScimTokens: Send + Sync {
    /// A new token for `org`, called `label`, made at `now`: the secret, to be shown
    /// once, and what the store keeps of it.
    async fn create(
        &self,
        org: &str,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<IssuedScimToken, StoreError>;

    /// The org's tokens that are not revoked, oldest first.
    async fn list(&self, org: &str) -> Result<Vec<ScimTokenInfo>, StoreError>;

    /// Revokes the token `id` of `org`: whether there was such a token to revoke.
    async fn revoke(&self, org: &str, id: &str) -> Result<bool, StoreError>;

    /// The token `token` presented for `org`'s endpoints at `now`: its info (its use
    /// recorded) if it opens them, `None` if not.
    async fn authenticate(
        &self,
        org: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ScimTokenInfo>, StoreError>;
}

/// A new SCIM token: [`SCIM_TOKEN_PREFIX`] and 256 bits from the operating system's
/// random source as 64 lower-case hex digits.
///
/// ```
/// use jit_provisioning::{is_well_formed_scim_token, new_scim_token};
///
/// let token = new_scim_token()?;
/// assert!(token.starts_with("jitscim_"));
/// assert!(is_well_formed_scim_token(&token));
/// assert_ne!(token, new_scim_token()?);
/// # Ok::<_, jit_provisioning::StoreError>(())
/// ```
pub fn new_scim_token() -> Result<String, StoreError> {
    Ok(format!("{SCIM_TOKEN_PREFIX}{}", new_owner_token()?))
}

/// Whether `token` has the shape of one [`new_scim_token`] makes: its prefix and exactly
/// 64 lower-case hex digits. Stores refuse any other without looking it up.
///
/// ```
/// use jit_provisioning::is_well_formed_scim_token;
///
/// let token = format!("jitscim_{}", "0f".repeat(32));
/// assert!(is_well_formed_scim_token(&token));
/// assert!(!is_well_formed_scim_token(&token.to_uppercase()));
/// assert!(!is_well_formed_scim_token(&format!("{token} ")));
/// assert!(!is_well_formed_scim_token(&"0f".repeat(32)));
/// ```
pub fn is_well_formed_scim_token(token: &str) -> bool {
    token.strip_prefix(SCIM_TOKEN_PREFIX).is_some_and(|hex| {
        hex.len() == HEX_DIGITS
            && hex
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// The hint a store keeps of `token`: its last 4 characters (hex digits, for a token
/// from [`new_scim_token`]).
///
/// ```
/// use jit_provisioning::scim_token_hint;
///
/// let token = format!("jitscim_{}3f9c", "0".repeat(60));
/// assert_eq!(scim_token_hint(&token), "3f9c");
/// ```
pub fn scim_token_hint(token: &str) -> String {
    let count = token.chars().count();
    token
        .chars()
        .skip(count.saturating_sub(HINT_DIGITS))
        .collect()
}

/// Whether `a` and `b` are equal, in a time that does not tell how much of them agrees.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0_u8, |differ, (x, y)| differ | (x ^ y))
            == 0
}

/// SCIM tokens kept in memory, for tests and single-process apps.
///
/// The secrets are held in this process's memory only (nothing else reads it), and are
/// compared in constant time against each of the org's tokens. Its `Debug` shows how
/// many tokens it holds, never them.
///
/// ```
/// # pollster::block_on(async {
/// use chrono::{TimeZone, Utc};
/// use jit_provisioning::{MemoryScimTokens, ScimTokens};
///
/// let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
/// let tokens = MemoryScimTokens::new();
/// let issued = tokens.create("acme", "okta", now).await?;
/// let info = tokens.authenticate("acme", &issued.token, now).await?;
/// assert_eq!(info.map(|info| info.id), Some(issued.info.id));
/// // Never another org's.
/// assert_eq!(tokens.authenticate("globex", &issued.token, now).await?, None);
/// # Ok::<_, jit_provisioning::StoreError>(())
/// # }).unwrap();
/// ```
#[derive(Default)]
pub struct MemoryScimTokens {
    state: Mutex<Kept>,
}

/// What [`MemoryScimTokens`] holds.
#[derive(Default)]
struct Kept {
    /// The last id given.
    last_id: u64,
    /// (secret, info) of the tokens not revoked, in the order they were made.
    tokens: Vec<(String, ScimTokenInfo)>,
}

impl MemoryScimTokens {
    /// No tokens.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, Kept> {
        // A panic elsewhere while holding the lock leaves the state whole: every change
        // is one push, one removal or one field written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryScimTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryScimTokens")
            .field("tokens", &self.state().tokens.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl ScimTokens for MemoryScimTokens {
    async fn create(
        &self,
        org: &str,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<IssuedScimToken, StoreError> {
        let token = new_scim_token()?;
        let mut state = self.state();
        state.last_id += 1;
        let info = ScimTokenInfo::new(
            state.last_id.to_string(),
            org,
            label,
            now,
            scim_token_hint(&token),
        );
        state.tokens.push((token.clone(), info.clone()));
        Ok(IssuedScimToken::new(token, info))
    }

    async fn list(&self, org: &str) -> Result<Vec<ScimTokenInfo>, StoreError> {
        let mut listed: Vec<ScimTokenInfo> = self
            .state()
            .tokens
            .iter()
            .filter(|(_, info)| info.org == org)
            .map(|(_, info)| info.clone())
            .collect();
        // Stable: those made at one instant stay in the order they were made.
        listed.sort_by_key(|info| info.created_at);
        Ok(listed)
    }

    async fn revoke(&self, org: &str, id: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        let before = state.tokens.len();
        state
            .tokens
            .retain(|(_, info)| !(info.id == id && info.org == org));
        Ok(state.tokens.len() < before)
    }

    async fn authenticate(
        &self,
        org: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ScimTokenInfo>, StoreError> {
        if !is_well_formed_scim_token(token) {
            return Ok(None);
        }
        let mut state = self.state();
        // Every one of the org's tokens is compared, so that the time taken does not
        // say which came close.
        let mut found = None;
        for (secret, info) in state.tokens.iter_mut() {
            if info.org == org && same_secret(secret, token) {
                found = Some(info);
            }
        }
        Ok(found.map(|info| {
            if info.last_use_is_stale(now) {
                info.last_used_at = Some(now);
            }
            info.clone()
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail by panicking

    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap()
    }

    #[test]
    fn tokens_have_the_prefix_and_256_bits_of_hex() {
        let token = new_scim_token().unwrap();
        let hex = token.strip_prefix("jitscim_").unwrap();
        assert_eq!(hex.len(), 64);
        assert!(hex
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)));
        assert!(is_well_formed_scim_token(&token));
        assert_ne!(token, new_scim_token().unwrap());
    }

    #[test]
    fn only_the_exact_shape_is_well_formed() {
        let good = format!("jitscim_{}", "a1".repeat(32));
        assert!(is_well_formed_scim_token(&good));
        for bad in [
            String::new(),
            "jitscim_".to_owned(),
            "a1".repeat(32),
            format!("jitscim_{}", "a1".repeat(31)),
            format!("{good}0"),
            format!("JITSCIM_{}", "a1".repeat(32)),
            format!("jitscim_{}", "A1".repeat(32)),
            format!("jitscim_{}g", "a1".repeat(31)),
            format!(" {good}"),
            format!("{good}\n"),
            format!("Bearer {good}"),
        ] {
            assert!(!is_well_formed_scim_token(&bad), "{bad:?}");
        }
    }

    #[test]
    fn the_hint_is_the_last_four_characters() {
        assert_eq!(scim_token_hint("jitscim_00ab12"), "ab12");
        assert_eq!(scim_token_hint("ab"), "ab");
        assert_eq!(scim_token_hint("jitscim_00éé12"), "éé12");
    }

    #[test]
    fn debug_never_shows_a_secret() {
        pollster::block_on(async {
            let tokens = MemoryScimTokens::new();
            let issued = tokens.create("acme", "okta", now()).await.unwrap();
            let shown = format!("{issued:?} {tokens:?}");
            assert!(!shown.contains(&issued.token), "{shown}");
            assert!(shown.contains(&issued.info.hint), "{shown}");
        });
    }

    #[test]
    fn a_use_is_written_at_most_once_a_minute() {
        let mut info = ScimTokenInfo::new("1", "acme", "", now(), "0000");
        assert!(info.last_use_is_stale(now()));
        info.last_used_at = Some(now());
        assert!(!info.last_use_is_stale(now() + TimeDelta::seconds(59)));
        assert!(info.last_use_is_stale(now() + TimeDelta::seconds(60)));
        // A server whose clock is behind does not move it back.
        assert!(!info.last_use_is_stale(now() - TimeDelta::seconds(5)));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("jitscim_ab", "jitscim_ab"));
        assert!(!same_secret("jitscim_ab", "jitscim_ac"));
        assert!(!same_secret("jitscim_ab", "jitscim_a"));
    }
}
