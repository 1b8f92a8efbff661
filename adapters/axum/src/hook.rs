//! What the app does once the portal has signed someone in: its own user, its own
//! session keys, an audit line.

use async_trait::async_trait;
use jit_provisioning::{AccountRecord, BoxError, Decision};
use tower_sessions::Session;

/// Called after the portal wrote the sign-in into the (new) session and before the
/// browser is redirected. An `Err` shows the error page and undoes nothing: the account
/// exists and the session stands.
#[async_trait]
pub trait AfterSignIn: Send + Sync {
    /// `account` was signed in, or created and signed in, by `decision`.
    async fn signed_in(
        &self,
        session: &Session,
        account: &AccountRecord,
        decision: &Decision,
    ) -> Result<(), BoxError>;
}

/// Does nothing more.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHook;

#[async_trait]
impl AfterSignIn for NoHook {
    async fn signed_in(
        &self,
        _: &Session,
        _: &AccountRecord,
        _: &Decision,
    ) -> Result<(), BoxError> {
        Ok(())
    }
}
