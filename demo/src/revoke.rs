//! Ending a person's sessions when their IdP deprovisions them over SCIM, with
//! tower-sessions: the `SessionRevoker` an app implements.
//!
//! tower-sessions keeps sessions by id and cannot list an account's; instead each
//! revocation writes when it happened, and every request whose session was signed in
//! (validated by the IdP) before that moment finds its session emptied. Any number of
//! app servers sharing the SQLite file see it at once.

use async_trait::async_trait;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use jit_provisioning::{AccountId, BoxError, SessionRevoker};
use jit_provisioning_axum::signed_in;
use sqlx::SqlitePool;
use tower_sessions::Session;

/// The demo's table of revocations, made if missing.
const CREATE: &str = "CREATE TABLE IF NOT EXISTS demo_session_revocations (
    account_id  TEXT    PRIMARY KEY,
    revoked_at  INTEGER NOT NULL
)";

/// Session revocations kept in the demo's SQLite file.
#[derive(Debug, Clone)]
pub struct SessionRevocations {
    pool: SqlitePool,
}

impl SessionRevocations {
    /// Revocations in `pool`'s database, the table made if missing.
    pub async fn new(pool: SqlitePool) -> Result<Self, sqlx::Error> {
        sqlx::query(CREATE).execute(&pool).await?;
        Ok(Self { pool })
    }

    /// Whether `account`'s sessions were revoked after `sso_at`, when the IdP last
    /// validated the session (a session with no such time counts as validated never).
    async fn revoked_since(
        &self,
        account: &AccountId,
        sso_at: Option<DateTime<Utc>>,
    ) -> Result<bool, sqlx::Error> {
        let revoked_at: Option<i64> = sqlx::query_scalar(
            "SELECT revoked_at FROM demo_session_revocations WHERE account_id = ?1",
        )
        .bind(account.0.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(match (revoked_at, sso_at) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(revoked_at), Some(sso_at)) => sso_at.timestamp_micros() <= revoked_at,
        })
    }
}

#[async_trait]
impl SessionRevoker for SessionRevocations {
    async fn revoke_sessions(&self, account: &AccountId) -> Result<(), BoxError> {
        let now = Utc::now().timestamp_micros();
        sqlx::query(
            "INSERT INTO demo_session_revocations (account_id, revoked_at) VALUES (?1, ?2)
             ON CONFLICT (account_id) DO UPDATE SET revoked_at = excluded.revoked_at",
        )
        .bind(account.0.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Empties a session whose account's sessions were revoked since it was signed in, before
/// the request reaches any page: the person is then simply not signed in.
pub(crate) async fn forget_revoked(
    State(revocations): State<SessionRevocations>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    if let Some(who) = signed_in(&session).await {
        match revocations.revoked_since(&who.account, who.sso_at).await {
            Ok(true) => {
                tracing::info!(account = %who.account, "a revoked session was ended");
                if let Err(error) = session.flush().await {
                    tracing::error!(error = %error, "a revoked session could not be ended");
                }
            }
            Ok(false) => {}
            // Fail closed: a session whose standing cannot be read is ended too.
            Err(error) => {
                tracing::error!(error = %error, "session revocations could not be read");
                let _ = session.flush().await;
            }
        }
    }
    next.run(request).await
}
