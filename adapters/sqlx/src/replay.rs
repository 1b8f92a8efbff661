//! Replay guards shared by every app server: the assertion ids seen, in the database.
//!
//! Each use is one atomic statement: insert the id, or take over its row only if that
//! row's assertion is past its grace. Expired rows are swept now and then by a range
//! delete on the `expires_at` index, never by reading the table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use jit_provisioning::{ReplayGuard, StoreError, REPLAY_GRACE_SECS};

use crate::error::store_error;

/// One use: inserts the id, or takes over the row of an id past its grace. One row
/// affected means first use. Binds issuer, id, the new row's expiry, now (Unix seconds).
const USE_ID: &str = "INSERT INTO jit_assertion_ids (issuer, id, expires_at) VALUES ($1, $2, $3)
    ON CONFLICT (issuer, id) DO UPDATE SET expires_at = excluded.expires_at
    WHERE jit_assertion_ids.expires_at <= $4";

/// Drops every id past its grace: a range on the `expires_at` index. Binds now.
pub(crate) const SWEEP: &str = "DELETE FROM jit_assertion_ids WHERE expires_at <= $1";

/// A sweep runs once in this many uses: often enough that the table holds little more
/// than the ids still valid, rarely enough that a sign-in pays for it seldom.
pub const SWEEP_EVERY: u64 = 64;

/// When a row may be forgotten, in Unix seconds: `not_on_or_after` plus the grace.
fn expiry(not_on_or_after: DateTime<Utc>) -> i64 {
    not_on_or_after
        .checked_add_signed(TimeDelta::seconds(REPLAY_GRACE_SECS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
        .timestamp()
}

/// Counts uses, to sweep once in [`SWEEP_EVERY`].
#[derive(Debug, Default)]
struct Uses(AtomicU64);

impl Uses {
    fn sweep_now(&self) -> bool {
        self.0.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1
    }
}

/// A replay guard type over one backend's pool: the same statements on both.
macro_rules! replay_guard {
    ($(#[$doc:meta])* $name:ident, $pool:ty, $feature:literal) => {
        $(#[$doc])*
        #[cfg(feature = $feature)]
        #[derive(Debug, Clone)]
        pub struct $name {
            pool: $pool,
            uses: Arc<Uses>,
        }

        #[cfg(feature = $feature)]
        impl $name {
            /// A guard over a migrated database.
            pub fn new(pool: $pool) -> Self {
                Self {
                    pool,
                    uses: Arc::default(),
                }
            }

            /// Drops the ids whose assertions are past their grace at `now`; returns how
            /// many.
            pub async fn sweep(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
                sqlx::query(SWEEP)
                    .bind(now.timestamp())
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected())
                    .map_err(store_error)
            }
        }

        #[cfg(feature = $feature)]
        #[async_trait]
        impl ReplayGuard for $name {
            async fn first_use(
                &self,
                issuer: &str,
                id: &str,
                not_on_or_after: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                if self.uses.sweep_now() {
                    self.sweep(now).await?;
                }
                let done = sqlx::query(USE_ID)
                    .bind(issuer)
                    .bind(id)
                    .bind(expiry(not_on_or_after))
                    .bind(now.timestamp())
                    .execute(&self.pool)
                    .await
                    .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

replay_guard!(
    /// A [`ReplayGuard`] in the SQLite database of a [`SqliteStore`](crate::SqliteStore)
    /// (`jit_assertion_ids`, made by `migrate()`).
    SqliteReplayGuard,
    sqlx::SqlitePool,
    "sqlite"
);

replay_guard!(
    /// A [`ReplayGuard`] in the PostgreSQL database of a [`PgStore`](crate::PgStore)
    /// (`jit_assertion_ids`, made by `migrate()`): one table for every app server.
    PgReplayGuard,
    sqlx::PgPool,
    "postgres"
);
