//! The audit log's and owner links' contracts (see [`AuditLog`] and [`OwnerLinks`]) as
//! runnable checks, for every store of them, in memory or SQL.

use std::future::Future;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use futures_util::future::join_all;

use super::conformance::{ensure, Checked, ConformanceError, CONCURRENCY};
use crate::audit::{AdminAction, AdminEvent, AuditLog};
use crate::invite::Invitee;
use crate::owner_link::{owner_link_expiry, OwnerLinks};
use crate::role::Role;

/// Runs the audit log's and the owner links' contracts on stores that keep both: `fresh`
/// makes an empty store; each check gets its own. Returns every violation found.
///
/// The SQL stores are both; `tests/membership_conformance.rs` runs it on
/// [`MemoryAuditLog`](crate::MemoryAuditLog) and [`MemoryOwnerLinks`](crate::MemoryOwnerLinks)
/// together.
pub async fn admin_records_conformance<S, F, Fut>(fresh: F) -> Result<(), ConformanceError>
where
    S: AuditLog + OwnerLinks,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    run_checks!(
        fresh;
        events_read_back_newest_first_per_org,
        an_owner_link_opens_its_org_once,
        an_owner_link_expires,
        concurrent_redemptions_open_once,
    )
}

fn noon() -> Result<DateTime<Utc>, String> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0)
        .single()
        .ok_or_else(|| "bad date".to_owned())
}

fn event(org: &str, minute: i64, role: Role) -> Result<AdminEvent, String> {
    let action = AdminAction::Invited {
        invite: format!("i{minute}"),
        invitee: Invitee::Email(format!("p{minute}@acme.example")),
        handle: None,
        role,
        subject: None,
    };
    Ok(AdminEvent::new(
        org,
        "ada",
        noon()? + TimeDelta::minutes(minute),
        action,
    ))
}

async fn events_read_back_newest_first_per_org<S: AuditLog>(store: &S) -> Checked {
    let mut written = Vec::new();
    for minute in 0..5 {
        let kept = event("acme", minute, Role::Member)?;
        store
            .record(&kept)
            .await
            .map_err(|e| format!("recording failed: {e}"))?;
        written.push(kept);
    }
    store
        .record(&event("globex", 9, Role::Admin)?)
        .await
        .map_err(|e| format!("recording failed: {e}"))?;
    let recent = store
        .recent("acme", 3)
        .await
        .map_err(|e| format!("reading failed: {e}"))?;
    let newest: Vec<AdminEvent> = written.iter().rev().take(3).cloned().collect();
    ensure(recent == newest, || {
        format!("acme's latest 3 read back as {recent:?}, not {newest:?}")
    })?;
    let globex = store
        .recent("globex", 10)
        .await
        .map_err(|e| format!("reading failed: {e}"))?;
    ensure(globex.len() == 1, || {
        format!("globex has {} events, not 1", globex.len())
    })
}

async fn an_owner_link_opens_its_org_once<S: OwnerLinks>(store: &S) -> Checked {
    let now = noon()?;
    let token = store
        .create("acme", now, owner_link_expiry(now))
        .await
        .map_err(|e| format!("making a link failed: {e}"))?;
    let other = store
        .create("acme", now, owner_link_expiry(now))
        .await
        .map_err(|e| format!("making a link failed: {e}"))?;
    ensure(token.len() >= 43 && token != other, || {
        "two links share a token, or a token is short".to_owned()
    })?;
    let redeem = |org: &'static str, token: String| async move {
        store
            .redeem(org, &token, now)
            .await
            .map_err(|e| format!("redeeming failed: {e}"))
    };
    ensure(!redeem("globex", token.clone()).await?, || {
        "acme's link opened globex".to_owned()
    })?;
    ensure(!redeem("acme", format!("{token}0")).await?, || {
        "a token with a digit added opened acme".to_owned()
    })?;
    ensure(redeem("acme", token.clone()).await?, || {
        "a fresh link did not open its org".to_owned()
    })?;
    ensure(!redeem("acme", token).await?, || {
        "a link opened twice".to_owned()
    })?;
    ensure(redeem("acme", other).await?, || {
        "using one link used up another".to_owned()
    })
}

async fn an_owner_link_expires<S: OwnerLinks>(store: &S) -> Checked {
    let now = noon()?;
    let token = store
        .create("acme", now, now + TimeDelta::minutes(5))
        .await
        .map_err(|e| format!("making a link failed: {e}"))?;
    let later = now + TimeDelta::minutes(5);
    let opened = store
        .redeem("acme", &token, later)
        .await
        .map_err(|e| format!("redeeming failed: {e}"))?;
    ensure(!opened, || "a link opened at its expiry".to_owned())
}

async fn concurrent_redemptions_open_once<S: OwnerLinks>(store: &S) -> Checked {
    let now = noon()?;
    let token = store
        .create("acme", now, owner_link_expiry(now))
        .await
        .map_err(|e| format!("making a link failed: {e}"))?;
    let tries = (0..CONCURRENCY).map(|_| store.redeem("acme", &token, now));
    let mut opened = 0;
    for result in join_all(tries).await {
        if result.map_err(|e| format!("redeeming failed: {e}"))? {
            opened += 1;
        }
    }
    ensure(opened == 1, || {
        format!("{CONCURRENCY} concurrent redemptions opened {opened} times")
    })
}
