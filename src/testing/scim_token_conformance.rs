//! The SCIM tokens' contract (see [`ScimTokens`]) as runnable checks, for every store of
//! them, in memory or SQL.

use std::collections::HashSet;
use std::future::Future;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use futures_util::future::join_all;

use super::conformance::{ensure, Checked, ConformanceError, CONCURRENCY};
use crate::scim_token::{
    is_well_formed_scim_token, scim_token_hint, IssuedScimToken, ScimTokenInfo, ScimTokens,
    SCIM_LAST_USED_EVERY_SECS,
};

/// Runs the SCIM tokens' contract: `fresh` makes an empty store; each check gets its own.
/// Returns every violation found.
///
/// ```
/// # pollster::block_on(async {
/// use jit_provisioning::{testing, MemoryScimTokens};
///
/// testing::scim_token_conformance(|| async { MemoryScimTokens::new() }).await.unwrap();
/// # });
/// ```
pub async fn scim_token_conformance<S, F, Fut>(fresh: F) -> Result<(), ConformanceError>
where
    S: ScimTokens,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    run_checks!(
        fresh;
        a_new_token_is_well_formed_and_described,
        a_token_opens_only_its_own_org,
        malformed_and_unknown_tokens_are_refused,
        a_revoked_token_is_refused_and_unlisted,
        another_orgs_token_is_not_revoked,
        lists_are_per_org_oldest_first,
        ids_and_secrets_are_unique,
        uses_are_recorded,
        concurrent_revocations_revoke_once,
    )
}

fn noon() -> Result<DateTime<Utc>, String> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0)
        .single()
        .ok_or_else(|| "bad date".to_owned())
}

async fn create<S: ScimTokens>(
    store: &S,
    org: &str,
    label: &str,
    now: DateTime<Utc>,
) -> Result<IssuedScimToken, String> {
    store
        .create(org, label, now)
        .await
        .map_err(|e| format!("making a token failed: {e}"))
}

async fn opens<S: ScimTokens>(
    store: &S,
    org: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<ScimTokenInfo>, String> {
    store
        .authenticate(org, token, now)
        .await
        .map_err(|e| format!("authenticating failed: {e}"))
}

async fn list<S: ScimTokens>(store: &S, org: &str) -> Result<Vec<ScimTokenInfo>, String> {
    store
        .list(org)
        .await
        .map_err(|e| format!("listing failed: {e}"))
}

async fn revoke<S: ScimTokens>(store: &S, org: &str, id: &str) -> Result<bool, String> {
    store
        .revoke(org, id)
        .await
        .map_err(|e| format!("revoking failed: {e}"))
}

/// The listed token `id` of `org`.
async fn listed<S: ScimTokens>(store: &S, org: &str, id: &str) -> Result<ScimTokenInfo, String> {
    list(store, org)
        .await?
        .into_iter()
        .find(|info| info.id == id)
        .ok_or_else(|| format!("token {id} of {org} is not listed"))
}

async fn a_new_token_is_well_formed_and_described<S: ScimTokens>(store: &S) -> Checked {
    let now = noon()?;
    let issued = create(store, "acme", "okta", now).await?;
    ensure(is_well_formed_scim_token(&issued.token), || {
        format!(
            "a token of {} characters is not `jitscim_` and 64 lower-case hex digits",
            issued.token.chars().count()
        )
    })?;
    let info = &issued.info;
    let expected = ScimTokenInfo::new(
        info.id.clone(),
        "acme",
        "okta",
        now,
        scim_token_hint(&issued.token),
    );
    ensure(*info == expected, || {
        format!("a new token is described as {info:?}, not {expected:?}")
    })?;
    ensure(!info.id.is_empty(), || "a token has an empty id".to_owned())?;
    let listed = list(store, "acme").await?;
    ensure(listed == [expected.clone()], || {
        format!("acme's tokens are listed as {listed:?}, not [{expected:?}]")
    })
}

async fn a_token_opens_only_its_own_org<S: ScimTokens>(store: &S) -> Checked {
    let now = noon()?;
    let acme = create(store, "acme", "okta", now).await?;
    let globex = create(store, "globex", "entra", now).await?;
    for org in ["globex", "acme-labs", "acm", "ACME", ""] {
        ensure(opens(store, org, &acme.token, now).await?.is_none(), || {
            format!("acme's token opened `{org}`")
        })?;
    }
    ensure(
        opens(store, "acme", &globex.token, now).await?.is_none(),
        || "globex's token opened acme".to_owned(),
    )?;
    let opened = opens(store, "acme", &acme.token, now).await?;
    ensure(
        opened.as_ref().map(|info| (&info.id, &info.org)) == Some((&acme.info.id, &acme.info.org)),
        || {
            format!(
                "acme's token opened acme as {opened:?}, not as token {}",
                acme.info.id
            )
        },
    )?;
    ensure(
        opens(store, "globex", &globex.token, now).await?.is_some(),
        || "globex's token did not open globex".to_owned(),
    )
}

async fn malformed_and_unknown_tokens_are_refused<S: ScimTokens>(store: &S) -> Checked {
    let now = noon()?;
    let token = create(store, "acme", "okta", now).await?.token;
    let hex = token.trim_start_matches("jitscim_");
    let tries = [
        (format!("{token}0"), "a digit added"),
        (
            token.chars().skip(1).collect::<String>(),
            "its first character cut",
        ),
        (token.to_uppercase(), "in upper case"),
        (hex.to_owned(), "without its prefix"),
        (format!("{token} "), "with a space after"),
        (format!(" {token}"), "with a space before"),
        (format!("Bearer {token}"), "with `Bearer ` before"),
        (format!("jitscim_{}", "0".repeat(64)), "a made-up token"),
        ("jitscim_".to_owned(), "the prefix alone"),
        (String::new(), "an empty token"),
    ];
    for (presented, what) in tries {
        ensure(
            opens(store, "acme", &presented, now).await?.is_none(),
            || format!("acme's token {what} opened acme"),
        )?;
    }
    ensure(opens(store, "acme", &token, now).await?.is_some(), || {
        "acme's token did not open acme".to_owned()
    })
}

async fn a_revoked_token_is_refused_and_unlisted<S: ScimTokens>(store: &S) -> Checked {
    let now = noon()?;
    let old = create(store, "acme", "old", now).await?;
    let new = create(store, "acme", "new", now).await?;
    ensure(revoke(store, "acme", &old.info.id).await?, || {
        "revoking a token said there was none".to_owned()
    })?;
    ensure(
        opens(store, "acme", &old.token, now).await?.is_none(),
        || "a revoked token opened its org".to_owned(),
    )?;
    ensure(!revoke(store, "acme", &old.info.id).await?, || {
        "a token was revoked twice".to_owned()
    })?;
    let ids: Vec<String> = list(store, "acme")
        .await?
        .into_iter()
        .map(|info| info.id)
        .collect();
    ensure(ids == [new.info.id.clone()], || {
        format!(
            "after {} was revoked, acme's tokens are {ids:?}, not [{}]",
            old.info.id, new.info.id
        )
    })?;
    ensure(
        opens(store, "acme", &new.token, now).await?.is_some(),
        || "revoking one token shut another".to_owned(),
    )
}

async fn another_orgs_token_is_not_revoked<S: ScimTokens>(store: &S) -> Checked {
    let now = noon()?;
    let globex = create(store, "globex", "entra", now).await?;
    let acme = create(store, "acme", "okta", now).await?;
    ensure(!revoke(store, "acme", &globex.info.id).await?, || {
        "acme revoked globex's token".to_owned()
    })?;
    ensure(
        opens(store, "globex", &globex.token, now).await?.is_some(),
        || "globex's token stopped opening globex when acme revoked it".to_owned(),
    )?;
    let globex_ids: Vec<String> = list(store, "globex")
        .await?
        .into_iter()
        .map(|info| info.id)
        .collect();
    ensure(globex_ids == [globex.info.id.clone()], || {
        format!("globex's tokens are {globex_ids:?} after acme revoked one of them")
    })?;
    for id in ["999999999", "not-an-id", ""] {
        ensure(!revoke(store, "acme", id).await?, || {
            format!("revoking the unknown token `{id}` said yes")
        })?;
    }
    ensure(
        opens(store, "acme", &acme.token, now).await?.is_some(),
        || "revoking unknown ids shut acme's token".to_owned(),
    )
}

async fn lists_are_per_org_oldest_first<S: ScimTokens>(store: &S) -> Checked {
    let now = noon()?;
    let minutes = |n: i64| now + TimeDelta::minutes(n);
    // Made out of order, and two at one instant.
    let third = create(store, "acme", "third", minutes(2)).await?;
    let first = create(store, "acme", "first", minutes(0)).await?;
    let other = create(store, "globex", "other", minutes(1)).await?;
    let second = create(store, "acme", "second", minutes(1)).await?;
    let second_too = create(store, "acme", "second too", minutes(1)).await?;
    let expected: Vec<ScimTokenInfo> = [first, second, second_too, third]
        .into_iter()
        .map(|issued| issued.info)
        .collect();
    let acme = list(store, "acme").await?;
    ensure(acme == expected, || {
        let labels: Vec<&str> = acme.iter().map(|info| info.label.as_str()).collect();
        format!("acme's tokens are listed as {labels:?} ({acme:?}), not first, second, second too, third")
    })?;
    let globex = list(store, "globex").await?;
    ensure(globex == [other.info.clone()], || {
        format!(
            "globex's tokens are listed as {globex:?}, not [{:?}]",
            other.info
        )
    })?;
    let none = list(store, "initech").await?;
    ensure(none.is_empty(), || {
        format!("an org without tokens lists {none:?}")
    })
}

async fn ids_and_secrets_are_unique<S: ScimTokens>(store: &S) -> Checked {
    let now = noon()?;
    let makes = (0..CONCURRENCY).map(|n| {
        let org = if n % 2 == 0 { "acme" } else { "globex" };
        store.create(org, "burst", now)
    });
    let mut issued = Vec::new();
    for made in join_all(makes).await {
        issued.push(made.map_err(|e| format!("making a token failed: {e}"))?);
    }
    let ids: HashSet<&str> = issued.iter().map(|made| made.info.id.as_str()).collect();
    ensure(ids.len() == CONCURRENCY, || {
        format!(
            "{CONCURRENCY} tokens made at once got {} different ids",
            ids.len()
        )
    })?;
    let secrets: HashSet<&str> = issued.iter().map(|made| made.token.as_str()).collect();
    ensure(secrets.len() == CONCURRENCY, || {
        format!(
            "{CONCURRENCY} tokens made at once got {} different secrets",
            secrets.len()
        )
    })?;
    // A revoked token's id is not given again.
    let first = issued
        .first()
        .ok_or_else(|| "no token was made".to_owned())?;
    revoke(store, &first.info.org, &first.info.id).await?;
    let later = create(store, &first.info.org, "later", now).await?;
    ensure(!ids.contains(later.info.id.as_str()), || {
        format!("the id {} was given again", later.info.id)
    })?;
    let listed = list(store, "acme").await?.len() + list(store, "globex").await?.len();
    ensure(listed == CONCURRENCY, || {
        format!(
            "{listed} tokens are listed, not {CONCURRENCY} ({CONCURRENCY} made, one revoked, one more made)"
        )
    })
}

async fn uses_are_recorded<S: ScimTokens>(store: &S) -> Checked {
    let now = noon()?;
    let seconds = |n: i64| now + TimeDelta::seconds(n);
    let used = create(store, "acme", "used", now).await?;
    let tried = create(store, "acme", "tried elsewhere", now).await?;

    // A no records nothing.
    opens(store, "globex", &tried.token, seconds(1)).await?;
    let untouched = listed(store, "acme", &tried.info.id).await?.last_used_at;
    ensure(untouched.is_none(), || {
        format!("a token refused at another org was recorded as used at {untouched:?}")
    })?;

    // Each use, the first too: within a minute of it, in what is returned and listed.
    let within = |last: Option<DateTime<Utc>>, at: DateTime<Utc>| {
        last.is_some_and(|last| {
            last <= at && at - last < TimeDelta::seconds(SCIM_LAST_USED_EVERY_SECS)
        })
    };
    for at in [
        seconds(1),
        seconds(31),
        seconds(300),
        seconds(330),
        seconds(400),
    ] {
        let returned = opens(store, "acme", &used.token, at)
            .await?
            .and_then(|info| info.last_used_at);
        ensure(within(returned, at), || {
            format!("a use at {at} is returned as last used at {returned:?}")
        })?;
        let kept = listed(store, "acme", &used.info.id).await?.last_used_at;
        ensure(within(kept, at), || {
            format!("after a use at {at}, the token is listed as last used at {kept:?}")
        })?;
    }
    let other = listed(store, "acme", &tried.info.id).await?.last_used_at;
    ensure(other.is_none(), || {
        format!("using one token recorded a use of another at {other:?}")
    })
}

async fn concurrent_revocations_revoke_once<S: ScimTokens>(store: &S) -> Checked {
    let now = noon()?;
    let issued = create(store, "acme", "okta", now).await?;
    let tries = (0..CONCURRENCY).map(|_| store.revoke("acme", &issued.info.id));
    let mut revoked = 0;
    for result in join_all(tries).await {
        if result.map_err(|e| format!("revoking failed: {e}"))? {
            revoked += 1;
        }
    }
    ensure(revoked == 1, || {
        format!("{CONCURRENCY} concurrent revocations of one token said yes {revoked} times")
    })?;
    ensure(
        opens(store, "acme", &issued.token, now).await?.is_none(),
        || "a token revoked concurrently still opens its org".to_owned(),
    )
}
