//! What the admin pages keep besides memberships: the audit log of admin actions
//! ([`AuditLog`](jit_provisioning::AuditLog)) and one-time owner links
//! ([`OwnerLinks`](jit_provisioning::OwnerLinks)), on both backends with the same
//! statements.

use chrono::{DateTime, Utc};
use jit_provisioning::{AdminAction, AdminEvent, StoreError};
use sha2::{Digest, Sha256};

/// Binds org, actor, at (Unix microseconds), the action as JSON.
pub(crate) const RECORD_EVENT: &str =
    "INSERT INTO jit_admin_events (org, actor, at, action) VALUES ($1, $2, $3, $4)";

/// The org's latest events, newest first. Binds org, limit.
pub(crate) const RECENT_EVENTS: &str = "SELECT actor, at, action FROM jit_admin_events
    WHERE org = $1 ORDER BY id DESC LIMIT $2";

/// Binds the token's hash, org, created at, expires at.
pub(crate) const CREATE_OWNER_LINK: &str =
    "INSERT INTO jit_owner_links (token_hash, org, created_at, expires_at) VALUES ($1, $2, $3, $4)";

/// Uses a link up: one row deleted means it was there, for this org, unexpired. Binds the
/// token's hash, org, now.
pub(crate) const REDEEM_OWNER_LINK: &str =
    "DELETE FROM jit_owner_links WHERE token_hash = $1 AND org = $2 AND expires_at > $3";

/// Drops expired links. Binds now.
pub(crate) const SWEEP_OWNER_LINKS: &str = "DELETE FROM jit_owner_links WHERE expires_at <= $1";

/// What the store keeps of a token: its SHA-256, so that a read of the table opens
/// nothing.
pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// An event as stored: the action as JSON.
pub(crate) fn action_json(action: &AdminAction) -> Result<String, StoreError> {
    serde_json::to_string(action).map_err(|error| StoreError::Backend(Box::new(error)))
}

/// An event read back.
pub(crate) fn event(
    org: &str,
    actor: String,
    at: i64,
    action: &str,
) -> Result<AdminEvent, StoreError> {
    let at = DateTime::<Utc>::from_timestamp_micros(at).ok_or_else(|| {
        StoreError::InvalidData(format!("an admin event's time {at} is out of range"))
    })?;
    let action: AdminAction = serde_json::from_str(action).map_err(|error| {
        StoreError::InvalidData(format!("an admin event's action does not read: {error}"))
    })?;
    Ok(AdminEvent::new(org, actor, at, action))
}

/// The audit log and owner links over a store's pool: the same statements on both
/// backends.
macro_rules! admin_records {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl jit_provisioning::AuditLog for $store {
            async fn record(
                &self,
                event: &jit_provisioning::AdminEvent,
            ) -> Result<(), jit_provisioning::StoreError> {
                sqlx::query($crate::admin_records::RECORD_EVENT)
                    .bind(&event.org)
                    .bind(&event.actor)
                    .bind(event.at.timestamp_micros())
                    .bind($crate::admin_records::action_json(&event.action)?)
                    .execute(self.pool())
                    .await
                    .map_err($crate::error::store_error)?;
                Ok(())
            }

            async fn recent(
                &self,
                org: &str,
                limit: usize,
            ) -> Result<Vec<jit_provisioning::AdminEvent>, jit_provisioning::StoreError> {
                use sqlx::Row as _;
                let rows = sqlx::query($crate::admin_records::RECENT_EVENTS)
                    .bind(org)
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(self.pool())
                    .await
                    .map_err($crate::error::store_error)?;
                rows.iter()
                    .map(|row| {
                        let actor: String = row.try_get(0).map_err($crate::error::store_error)?;
                        let at: i64 = row.try_get(1).map_err($crate::error::store_error)?;
                        let action: String = row.try_get(2).map_err($crate::error::store_error)?;
                        $crate::admin_records::event(org, actor, at, &action)
                    })
                    .collect()
            }
        }

        #[async_trait::async_trait]
        impl jit_provisioning::OwnerLinks for $store {
            async fn create(
                &self,
                org: &str,
                now: chrono::DateTime<chrono::Utc>,
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> Result<String, jit_provisioning::StoreError> {
                let token = jit_provisioning::new_owner_token()?;
                let now = now.timestamp_micros();
                sqlx::query($crate::admin_records::SWEEP_OWNER_LINKS)
                    .bind(now)
                    .execute(self.pool())
                    .await
                    .map_err($crate::error::store_error)?;
                sqlx::query($crate::admin_records::CREATE_OWNER_LINK)
                    .bind($crate::admin_records::token_hash(&token))
                    .bind(org)
                    .bind(now)
                    .bind(expires_at.timestamp_micros())
                    .execute(self.pool())
                    .await
                    .map_err($crate::error::store_error)?;
                Ok(token)
            }

            async fn redeem(
                &self,
                org: &str,
                token: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<bool, jit_provisioning::StoreError> {
                let done = sqlx::query($crate::admin_records::REDEEM_OWNER_LINK)
                    .bind($crate::admin_records::token_hash(token))
                    .bind(org)
                    .bind(now.timestamp_micros())
                    .execute(self.pool())
                    .await
                    .map_err($crate::error::store_error)?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail by panicking

    use super::*;

    #[test]
    fn a_token_is_kept_as_its_sha256() {
        // SHA-256("abc"), FIPS 180-2's first example.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
