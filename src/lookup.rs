//! What the store knows that a decision needs, as a plain value the caller fills.

use crate::account::AccountRecord;

/// The facts a decision is made on. The [`Provisioner`](crate::Provisioner) fills it from an
/// [`AccountStore`](crate::AccountStore); a caller driving the engine by hand fills only
/// what its request needs:
///
/// | request | fields read |
/// | --- | --- |
/// | portal visit with a session | `session_account` |
/// | assertion | `by_identity`; then `by_email` when nothing is linked; then `taken_handles` when an account is to be created |
/// | IdP error, portal visit without a session | none |
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountLookup {
    /// The account linked to the assertion's (issuer, subject).
    pub by_identity: Option<AccountRecord>,
    /// Accounts whose email equals the assertion's, compared case-insensitively.
    pub by_email: Vec<AccountRecord>,
    /// The account of the portal visit's session.
    pub session_account: Option<AccountRecord>,
    /// Taken handles that a new account's handle could collide with: at least every
    /// handle equal to one of [`HandleBase::stems`](crate::HandleBase::stems) or to a
    /// stem followed by `-` and digits. Compared case-insensitively.
    pub taken_handles: Vec<String>,
}
