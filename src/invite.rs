//! Invitations to join an org, and the membership changes an org admin makes.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{AccountId, AccountRecord, Identity};
use crate::email::same_email;
use crate::role::Role;

/// How long an invite waits for its sign-in by default: a week.
pub const DEFAULT_INVITE_DAYS: i64 = 7;

/// An invitation to join an org, accepted at the person's next SSO sign-in through the
/// org's portal (rule [`InviteAccepted`](crate::Rule::InviteAccepted)).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Invite {
    /// The store's id for it.
    pub id: String,
    /// The org to join.
    pub org: String,
    /// The role the person gets there.
    pub role: Role,
    /// Who is invited.
    pub invitee: Invitee,
    /// The IdP identity the invite is bound to, when the admin knows it: then only a
    /// sign-in as that identity accepts it, whatever email the assertion carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Identity>,
    /// Who invited, as the admin pages name them.
    pub invited_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// After this the invite is void.
    pub expires_at: DateTime<Utc>,
}

/// Who an invite is for.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Invitee {
    /// An existing account.
    Account(AccountId),
    /// Whoever signs in through the org's IdP with this email.
    Email(String),
}

impl fmt::Display for Invitee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invitee::Account(id) => write!(f, "account {id}"),
            Invitee::Email(email) => write!(f, "{email}"),
        }
    }
}

impl Invite {
    /// An invite of `invitee` to `org` as `role`, by `invited_by` at `created_at`,
    /// expiring after [`DEFAULT_INVITE_DAYS`]. The store gives the id.
    pub fn new(
        org: impl Into<String>,
        role: Role,
        invitee: Invitee,
        invited_by: impl Into<String>,
        created_at: DateTime<Utc>,
    ) -> Self {
        Invite {
            id: String::new(),
            org: org.into(),
            role,
            invitee,
            subject: None,
            invited_by: invited_by.into(),
            created_at,
            expires_at: created_at
                .checked_add_signed(chrono::TimeDelta::days(DEFAULT_INVITE_DAYS))
                .unwrap_or(created_at),
        }
    }

    /// The same invite, bound to `identity`.
    pub fn bound_to(mut self, identity: Identity) -> Self {
        self.subject = Some(identity);
        self
    }

    /// The same invite, expiring at `expires_at`.
    pub fn expiring_at(mut self, expires_at: DateTime<Utc>) -> Self {
        self.expires_at = expires_at;
        self
    }

    /// The same invite with the store's `id`.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Whether the invite is still open at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }

    /// Whether a sign-in as `identity`, with `email` from the IdP, by `account` (the
    /// existing account it signs in, if any) accepts this invite at `now`: open, and
    /// for this person. A bound invite takes its identity alone; an account invite its
    /// account; an email invite the same email (compared as
    /// [`email_key`](crate::email_key) compares).
    pub fn is_for(
        &self,
        identity: &Identity,
        email: Option<&str>,
        account: Option<&AccountRecord>,
        now: DateTime<Utc>,
    ) -> bool {
        if !self.is_open(now) {
            return false;
        }
        if let Some(bound) = &self.subject {
            return bound == identity;
        }
        match &self.invitee {
            Invitee::Account(id) => account.is_some_and(|account| &account.id == id),
            Invitee::Email(invited) => email.is_some_and(|email| same_email(invited, email)),
        }
    }
}

/// How a member joined an org, as the member list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Joined {
    /// Created just in time by an SSO sign-in, with the org's default membership.
    Jit,
    /// Accepted an invite.
    Invite,
    /// Added by an admin or a script, or before this crate recorded how.
    ByHand,
    /// Created by the org's IdP through SCIM ([`ScimUsers`](crate::ScimUsers)).
    Scim,
}

impl Joined {
    /// The name as the pages and the API write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Joined::Jit => "jit",
            Joined::Invite => "invite",
            Joined::ByHand => "by_hand",
            Joined::Scim => "scim",
        }
    }
}

/// One member of an org, as the member list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Member {
    /// The account.
    pub account: AccountRecord,
    /// Its role in the org.
    pub role: Role,
    /// How it joined.
    pub joined: Joined,
}

impl Member {
    /// `account`, holding `role`, having joined by `joined`.
    pub fn new(account: AccountRecord, role: Role, joined: Joined) -> Self {
        Member {
            account,
            role,
            joined,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
    }

    fn jane() -> Identity {
        Identity {
            issuer: "https://idp".into(),
            subject: "00u1".into(),
        }
    }

    #[test]
    fn an_email_invite_takes_the_same_email_until_it_expires() {
        let invite = Invite::new(
            "acme",
            Role::Member,
            Invitee::Email("Jane@Acme.example".into()),
            "admin",
            now(),
        );
        assert!(invite.is_for(&jane(), Some("jane@acme.example"), None, now()));
        assert!(!invite.is_for(&jane(), Some("jane@other.example"), None, now()));
        assert!(!invite.is_for(&jane(), None, None, now()));
        let later = now() + chrono::TimeDelta::days(DEFAULT_INVITE_DAYS);
        assert!(!invite.is_for(&jane(), Some("jane@acme.example"), None, later));
    }

    #[test]
    fn a_bound_invite_takes_its_identity_alone() {
        let invite = Invite::new(
            "acme",
            Role::Admin,
            Invitee::Email("jane@acme.example".into()),
            "admin",
            now(),
        )
        .bound_to(jane());
        let other = Identity {
            issuer: "https://idp".into(),
            subject: "00u2".into(),
        };
        assert!(!invite.is_for(&other, Some("jane@acme.example"), None, now()));
        assert!(invite.is_for(&jane(), None, None, now()));
    }

    #[test]
    fn an_account_invite_takes_its_account() {
        let account = AccountRecord::new("a1", "sam-lee");
        let invite = Invite::new(
            "acme",
            Role::Member,
            Invitee::Account("a1".into()),
            "admin",
            now(),
        );
        assert!(invite.is_for(&jane(), None, Some(&account), now()));
        assert!(!invite.is_for(&jane(), None, None, now()));
    }
}
