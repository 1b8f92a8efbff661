//! The replay-guard contract as runnable checks, for every guard, in memory or SQL.

use std::future::Future;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use futures_util::future::join_all;

use super::conformance::{ensure, Checked, ConformanceError, CONCURRENCY};
use crate::replay::{ReplayGuard, REPLAY_GRACE_SECS};

fn noon() -> Result<DateTime<Utc>, String> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
        .single()
        .ok_or_else(|| "bad date".to_owned())
}

async fn use_once<G: ReplayGuard>(
    guard: &G,
    issuer: &str,
    id: &str,
    not_on_or_after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, String> {
    guard
        .first_use(issuer, id, not_on_or_after, now)
        .await
        .map_err(|error| format!("first_use failed: {error}"))
}

/// Runs the whole replay-guard contract (see [`ReplayGuard`]). `fresh` makes an empty
/// guard; each check gets its own. Returns every violation found.
///
/// ```
/// # pollster::block_on(async {
/// use jit_provisioning::{testing::replay_conformance, MemoryReplayGuard};
///
/// replay_conformance(|| async { MemoryReplayGuard::new() }).await.unwrap();
/// # });
/// ```
pub async fn replay_conformance<G, F, Fut>(fresh: F) -> Result<(), ConformanceError>
where
    G: ReplayGuard,
    F: Fn() -> Fut,
    Fut: Future<Output = G>,
{
    run_checks!(
        fresh;
        an_id_is_used_once,
        ids_are_unique_per_issuer,
        an_id_is_remembered_through_the_grace,
        a_forgotten_id_is_usable_again,
        concurrent_uses_of_one_id,
    )
}

async fn an_id_is_used_once<G: ReplayGuard>(guard: &G) -> Checked {
    let now = noon()?;
    let end = now + TimeDelta::minutes(5);
    ensure(use_once(guard, "idp", "_a1", end, now).await?, || {
        "a new id was refused".into()
    })?;
    ensure(!use_once(guard, "idp", "_a1", end, now).await?, || {
        "an id was accepted twice".into()
    })
}

async fn ids_are_unique_per_issuer<G: ReplayGuard>(guard: &G) -> Checked {
    let now = noon()?;
    let end = now + TimeDelta::minutes(5);
    use_once(guard, "idp", "_a1", end, now).await?;
    ensure(use_once(guard, "other-idp", "_a1", end, now).await?, || {
        "the same id from another issuer was refused".into()
    })
}

async fn an_id_is_remembered_through_the_grace<G: ReplayGuard>(guard: &G) -> Checked {
    let now = noon()?;
    let end = now + TimeDelta::minutes(5);
    use_once(guard, "idp", "_a1", end, now).await?;
    // A verifier still accepts the assertion until its NotOnOrAfter plus its skew.
    for later in [end, end + TimeDelta::seconds(REPLAY_GRACE_SECS - 1)] {
        ensure(!use_once(guard, "idp", "_a1", end, later).await?, || {
            format!("the id was forgotten at {later}, within {REPLAY_GRACE_SECS} s of its NotOnOrAfter {end}")
        })?;
    }
    Ok(())
}

async fn a_forgotten_id_is_usable_again<G: ReplayGuard>(guard: &G) -> Checked {
    let now = noon()?;
    let end = now + TimeDelta::minutes(5);
    use_once(guard, "idp", "_a1", end, now).await?;
    let much_later = end + TimeDelta::seconds(REPLAY_GRACE_SECS) + TimeDelta::days(1);
    // Either answer is allowed for the expired id itself; a fresh use must not fail.
    use_once(
        guard,
        "idp",
        "_a1",
        much_later + TimeDelta::minutes(5),
        much_later,
    )
    .await?;
    ensure(
        use_once(
            guard,
            "idp",
            "_b2",
            much_later + TimeDelta::minutes(5),
            much_later,
        )
        .await?,
        || "a new id was refused after others expired".into(),
    )
}

async fn concurrent_uses_of_one_id<G: ReplayGuard>(guard: &G) -> Checked {
    let now = noon()?;
    let end = now + TimeDelta::minutes(5);
    let results =
        join_all((0..CONCURRENCY).map(|_| guard.first_use("idp", "_raced", end, now))).await;
    let mut first = 0;
    for result in results {
        if result.map_err(|error| format!("first_use failed: {error}"))? {
            first += 1;
        }
    }
    ensure(first == 1, || {
        format!("{CONCURRENCY} concurrent uses of one id: {first} were told it was the first")
    })
}
