//! The bearer tokens of orgs' SCIM endpoints ([`ScimTokens`](jit_provisioning::ScimTokens))
//! in the store's database, on both backends with the same statements.
//!
//! A token is kept as its SHA-256 (as owner links are), under a unique index: a request's
//! token is hashed and looked up with its org, so that neither a read of the table nor
//! the time a look-up takes gives a token away. A revoked token's row is deleted.

use chrono::{DateTime, TimeDelta, Utc};
use jit_provisioning::{ScimTokenInfo, StoreError, SCIM_LAST_USED_EVERY_SECS};

/// A token's columns, in the order [`info`] reads them.
macro_rules! scim_token_columns {
    () => {
        "id, org, label, created_at, last_used_at, hint"
    };
}

/// Binds org, the token's hash, label, hint, created at (Unix microseconds).
pub(crate) const CREATE: &str = "INSERT INTO jit_scim_tokens
        (org, token_hash, label, hint, created_at) VALUES ($1, $2, $3, $4, $5)
    RETURNING id";

/// An org's tokens, oldest first (the `(org, created_at, id)` index). Binds org.
pub(crate) const LIST: &str = concat!(
    "SELECT ",
    scim_token_columns!(),
    " FROM jit_scim_tokens WHERE org = $1 ORDER BY created_at, id"
);

/// One row deleted means there was such a token of this org. Binds id, org.
pub(crate) const REVOKE: &str = "DELETE FROM jit_scim_tokens WHERE id = $1 AND org = $2";

/// The token with this hash, if it is the org's (the unique index on the hash). Binds
/// the hash, org.
pub(crate) const FIND: &str = concat!(
    "SELECT ",
    scim_token_columns!(),
    " FROM jit_scim_tokens WHERE token_hash = $1 AND org = $2"
);

/// Records a use, unless one was recorded less than a minute before (by another server,
/// meanwhile). Binds now, id, the latest use that is stale (both Unix microseconds).
pub(crate) const RECORD_USE: &str = "UPDATE jit_scim_tokens SET last_used_at = $1
    WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)";

/// A token's row, as [`scim_token_columns`] lists its columns.
pub(crate) type Row = (i64, String, String, i64, Option<i64>, String);

/// `at` as stored: Unix microseconds.
pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// What a store is to record for a use at `now`: the bounds [`RECORD_USE`] binds.
pub(crate) fn use_bounds(now: DateTime<Utc>) -> (i64, i64) {
    let stale = now - TimeDelta::seconds(SCIM_LAST_USED_EVERY_SECS);
    (micros(now), micros(stale))
}

/// A stored time (Unix microseconds) back as an instant; `what` names it in the error.
pub(crate) fn instant(micros: i64, what: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(|| {
        StoreError::InvalidData(format!("a SCIM token's {what} {micros} is out of range"))
    })
}

/// A token read back.
pub(crate) fn info(row: Row) -> Result<ScimTokenInfo, StoreError> {
    let (id, org, label, created_at, last_used_at, hint) = row;
    let mut info = ScimTokenInfo::new(
        id.to_string(),
        org,
        label,
        instant(created_at, "creation time")?,
        hint,
    );
    info.last_used_at = last_used_at.map(|at| instant(at, "last use")).transpose()?;
    Ok(info)
}

/// The SCIM tokens over a store's pool: the same statements on both backends.
macro_rules! scim_tokens {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl jit_provisioning::ScimTokens for $store {
            async fn create(
                &self,
                org: &str,
                label: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<jit_provisioning::IssuedScimToken, jit_provisioning::StoreError> {
                let token = jit_provisioning::new_scim_token()?;
                let hint = jit_provisioning::scim_token_hint(&token);
                let created_at = $crate::scim_tokens::micros(now);
                let id: i64 = sqlx::query_scalar($crate::scim_tokens::CREATE)
                    .bind(org)
                    .bind($crate::admin_records::token_hash(&token))
                    .bind(label)
                    .bind(&hint)
                    .bind(created_at)
                    .fetch_one(self.pool())
                    .await
                    .map_err($crate::error::store_error)?;
                // Read back as stored: to the microsecond.
                let info = $crate::scim_tokens::info((
                    id,
                    org.to_owned(),
                    label.to_owned(),
                    created_at,
                    None,
                    hint,
                ))?;
                Ok(jit_provisioning::IssuedScimToken::new(token, info))
            }

            async fn list(
                &self,
                org: &str,
            ) -> Result<Vec<jit_provisioning::ScimTokenInfo>, jit_provisioning::StoreError> {
                let rows: Vec<$crate::scim_tokens::Row> = sqlx::query_as($crate::scim_tokens::LIST)
                    .bind(org)
                    .fetch_all(self.pool())
                    .await
                    .map_err($crate::error::store_error)?;
                rows.into_iter().map($crate::scim_tokens::info).collect()
            }

            async fn revoke(
                &self,
                org: &str,
                id: &str,
            ) -> Result<bool, jit_provisioning::StoreError> {
                let Some(id) = $crate::rows::decimal(id) else {
                    return Ok(false);
                };
                let done = sqlx::query($crate::scim_tokens::REVOKE)
                    .bind(id)
                    .bind(org)
                    .execute(self.pool())
                    .await
                    .map_err($crate::error::store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn authenticate(
                &self,
                org: &str,
                token: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<jit_provisioning::ScimTokenInfo>, jit_provisioning::StoreError> {
                if !jit_provisioning::is_well_formed_scim_token(token) {
                    return Ok(None);
                }
                let row: Option<$crate::scim_tokens::Row> =
                    sqlx::query_as($crate::scim_tokens::FIND)
                        .bind($crate::admin_records::token_hash(token))
                        .bind(org)
                        .fetch_optional(self.pool())
                        .await
                        .map_err($crate::error::store_error)?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let id = row.0;
                let mut info = $crate::scim_tokens::info(row)?;
                if info.last_use_is_stale(now) {
                    let (now_micros, stale) = $crate::scim_tokens::use_bounds(now);
                    sqlx::query($crate::scim_tokens::RECORD_USE)
                        .bind(now_micros)
                        .bind(id)
                        .bind(stale)
                        .execute(self.pool())
                        .await
                        .map_err($crate::error::store_error)?;
                    // Whether this write or another server's landed, the use is recorded
                    // within the minute.
                    info.last_used_at = Some($crate::scim_tokens::instant(now_micros, "last use")?);
                }
                Ok(Some(info))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail by panicking

    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_use_is_stale_after_a_minute() {
        let now = Utc.timestamp_opt(1_800_000_060, 0).unwrap();
        assert_eq!(
            use_bounds(now),
            (1_800_000_060_000_000, 1_800_000_000_000_000)
        );
    }

    #[test]
    fn a_row_reads_back_to_the_microsecond() {
        let read = info((
            7,
            "acme".into(),
            "okta".into(),
            1_800_000_000_123_456,
            Some(1_800_000_100_000_000),
            "3f9c".into(),
        ))
        .unwrap();
        assert_eq!(read.id, "7");
        assert_eq!(read.created_at.timestamp_subsec_micros(), 123_456);
        assert_eq!(
            read.last_used_at,
            Some(Utc.timestamp_opt(1_800_000_100, 0).unwrap())
        );
        assert!(matches!(
            info((
                1,
                "acme".into(),
                String::new(),
                i64::MAX,
                None,
                String::new()
            )),
            Err(StoreError::InvalidData(_))
        ));
    }

    #[test]
    fn statements_name_the_columns_in_one_order() {
        assert!(LIST.contains(scim_token_columns!()));
        assert!(FIND.contains(scim_token_columns!()));
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_look_ups_use_the_indexes() {
        use crate::sqlite::tests::plan;

        let store = crate::SqliteStore::connect("sqlite::memory:")
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let found = plan(&store, FIND, &["ab12", "acme"]).await;
        assert!(found.contains("jit_scim_tokens_token_hash"), "{found}");
        let listed = plan(&store, LIST, &["acme"]).await;
        assert!(listed.contains("jit_scim_tokens_by_org"), "{listed}");
        assert!(!listed.contains("TEMP B-TREE"), "{listed}");
    }
}
