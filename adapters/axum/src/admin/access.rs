//! Who may use an org's admin pages: the default rule, and the trait an app replaces it
//! with.

use async_trait::async_trait;
use jit_provisioning::{AccountRecord, BoxError, Role};

use crate::session::SignedIn;

/// Someone signed in who asks for an org's admin pages.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AdminVisitor<'a> {
    /// The org whose admin pages they ask for.
    pub org: &'a str,
    /// The session, as the portal wrote it at sign-in.
    pub signed_in: &'a SignedIn,
    /// The session's account as the store holds it now (read again at each request, as
    /// roles change), or `None` if it is gone.
    pub account: Option<&'a AccountRecord>,
}

impl<'a> AdminVisitor<'a> {
    /// `signed_in`, whose account the store holds as `account`, asking for `org`'s
    /// admin pages.
    pub fn new(org: &'a str, signed_in: &'a SignedIn, account: Option<&'a AccountRecord>) -> Self {
        Self {
            org,
            signed_in,
            account,
        }
    }
}

/// Whether a visitor may use an org's admin pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminAccess {
    /// They may.
    Allowed,
    /// They may not, for this reason (a 403).
    Refused(AdminRefusal),
}

/// Why someone signed in may not use an org's admin pages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdminRefusal {
    /// The session's account is gone or disabled.
    NoAccount,
    /// The account does not hold the admin role in the org.
    NotAnAdmin,
    /// The session was signed in through another org's portal (`via`), or before
    /// sessions recorded it (`None`): an org's admin pages take its own SSO.
    SignedInElsewhere {
        /// The org whose portal signed the session in, if known.
        via: Option<String>,
    },
    /// The app's own rule refused, saying this (plain text, shown as it is).
    App(String),
}

impl AdminRefusal {
    /// The code the JSON API answers with (`no_account`, `not_an_admin`,
    /// `signed_in_elsewhere`, `refused`).
    pub fn code(&self) -> &'static str {
        match self {
            AdminRefusal::NoAccount => "no_account",
            AdminRefusal::NotAnAdmin => "not_an_admin",
            AdminRefusal::SignedInElsewhere { .. } => "signed_in_elsewhere",
            AdminRefusal::App(_) => "refused",
        }
    }

    /// What the person is told about `org`'s admin pages.
    pub fn message(&self, org: &str) -> String {
        match self {
            AdminRefusal::NoAccount => format!(
                "your account is gone or disabled, so you cannot manage {org}: ask another admin of {org}"
            ),
            AdminRefusal::NotAnAdmin => format!(
                "only admins of {org} manage its members and invites: ask an admin of {org} to make you one"
            ),
            AdminRefusal::SignedInElsewhere { via: Some(via) } => format!(
                "you signed in through the SSO of {via}: to manage {org}, sign in through the SSO of {org}"
            ),
            AdminRefusal::SignedInElsewhere { via: None } => format!(
                "to manage {org}, sign in again through the SSO of {org}"
            ),
            AdminRefusal::App(message) => message.clone(),
        }
    }
}

/// Decides who may use an org's admin pages, at every request. The app replaces
/// [`RequireOrgAdmin`] with its own (to let its staff in too, or to ask for a recent
/// sign-in); an implementation that only adds conditions calls `RequireOrgAdmin` first.
#[async_trait]
pub trait AdminAuthorization: Send + Sync {
    /// Whether `visitor` may use the admin pages of `visitor.org`. An `Err` is a failure
    /// (a 500), not a refusal.
    async fn authorize(&self, visitor: &AdminVisitor<'_>) -> Result<AdminAccess, BoxError>;
}

/// The default rule: the session's account exists, is enabled, holds
/// [`Role::Admin`] in the org now, and the session was signed in through that org's own
/// portal ([`SignedIn::org`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequireOrgAdmin;

impl RequireOrgAdmin {
    /// The rule, without the trait's `async`.
    pub fn check(visitor: &AdminVisitor<'_>) -> AdminAccess {
        let Some(account) = visitor.account.filter(|account| !account.disabled) else {
            return AdminAccess::Refused(AdminRefusal::NoAccount);
        };
        if account.memberships.get(visitor.org) != Some(&Role::Admin) {
            return AdminAccess::Refused(AdminRefusal::NotAnAdmin);
        }
        if visitor.signed_in.org.as_deref() != Some(visitor.org) {
            return AdminAccess::Refused(AdminRefusal::SignedInElsewhere {
                via: visitor.signed_in.org.clone(),
            });
        }
        AdminAccess::Allowed
    }
}

#[async_trait]
impl AdminAuthorization for RequireOrgAdmin {
    async fn authorize(&self, visitor: &AdminVisitor<'_>) -> Result<AdminAccess, BoxError> {
        Ok(Self::check(visitor))
    }
}

#[cfg(test)]
mod tests {
    use jit_provisioning::{Outcome, Rule};

    use super::*;

    #[test]
    fn the_default_wants_an_enabled_admin_signed_in_through_the_org() {
        let admin = AccountRecord::new("a1", "jane").with_membership("acme", Role::Admin);
        let here = SignedIn::new("a1".into(), "jane", Rule::LinkedMember, Outcome::SignedIn)
            .with_org("acme");
        let check = |signed_in: &SignedIn, account: Option<&AccountRecord>| {
            RequireOrgAdmin::check(&AdminVisitor::new("acme", signed_in, account))
        };
        assert_eq!(check(&here, Some(&admin)), AdminAccess::Allowed);
        assert_eq!(
            check(&here, None),
            AdminAccess::Refused(AdminRefusal::NoAccount)
        );
        let mut disabled = admin.clone();
        disabled.disabled = true;
        assert_eq!(
            check(&here, Some(&disabled)),
            AdminAccess::Refused(AdminRefusal::NoAccount)
        );
        let member = AccountRecord::new("a1", "jane").with_membership("acme", Role::Contributor);
        assert_eq!(
            check(&here, Some(&member)),
            AdminAccess::Refused(AdminRefusal::NotAnAdmin)
        );
        let elsewhere = here.clone().with_org("globex");
        assert_eq!(
            check(&elsewhere, Some(&admin)),
            AdminAccess::Refused(AdminRefusal::SignedInElsewhere {
                via: Some("globex".into())
            })
        );
        let mut old_session = here;
        old_session.org = None;
        assert_eq!(
            check(&old_session, Some(&admin)),
            AdminAccess::Refused(AdminRefusal::SignedInElsewhere { via: None })
        );
    }
}
