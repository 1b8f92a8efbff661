//! What the store knows that a decision needs, as a plain value the caller fills.

use crate::account::AccountRecord;
use crate::deprovision::Deprovisioned;
use crate::invite::Invite;

/// The facts a decision is made on. The [`Provisioner`](crate::Provisioner) fills it from an
/// [`AccountStore`](crate::AccountStore); a caller driving the engine by hand fills only
/// what its request needs:
///
/// | request | fields read |
/// | --- | --- |
/// | portal visit with a session | `session_account` |
/// | assertion | `by_identity`; then `by_email` when nothing is linked; then `taken_handles` when an account is to be created; `invites` for a person who is not (yet) a member |
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
    /// Open invites to the request's org that may be this person's (the engine checks
    /// each with [`Invite::is_for`]). The [`Provisioner`](crate::Provisioner) asks its
    /// [`MembershipStore`](crate::MembershipStore) for them only when the decision would
    /// otherwise leave the person a non-member, or create their account.
    pub invites: Vec<Invite>,
    /// Whether the request's org's IdP deprovisioned the assertion's identity over SCIM
    /// (rule [`DeprovisionedIdentity`](crate::Rule::DeprovisionedIdentity)). The
    /// [`Provisioner`](crate::Provisioner) asks its
    /// [`DeprovisionedIdentities`](crate::DeprovisionedIdentities) for every assertion,
    /// when it has one.
    pub deprovisioned: Option<Deprovisioned>,
}
