//! The policy's rules, each with a stable id: a decision names the one that fired.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A rule of the provisioning policy. The README's policy table lists them in the order
/// the engine tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// The request names an org the config does not know.
    UnknownOrg,
    /// The org has no SSO login portal (JIT is off, or a private-instance org has no IdP).
    NoPortal,
    /// The IdP answered `RequestDenied`: the person is not assigned to the app.
    IdpRequestDenied,
    /// The IdP answered with another status.
    IdpStatus,
    /// The assertion has no usable subject, or was issued in the future.
    InvalidAssertion,
    /// The assertion was used before: a replayed SAML response.
    ReplayedAssertion,
    /// The assertion comes from another issuer than the org's IdP.
    WrongIssuer,
    /// The IdP sent only part of the groups (Entra ID's group overage), and the org
    /// decides by groups: `required_groups`, or `group_roles` for a new account.
    GroupsOverage,
    /// The assertion carries none of the org's required groups.
    MissingRequiredGroup,
    /// The org's IdP deprovisioned the identity over SCIM (set it inactive, or deleted
    /// it), and has not restored it.
    DeprovisionedIdentity,
    /// The account linked to the identity is disabled.
    LinkedAccountDisabled,
    /// Under `sync_roles = "upgrade"` the IdP sent only part of the groups: the linked
    /// account signs in with its roles as they are.
    RoleSyncSkipped,
    /// Under `sync_roles = "upgrade"` the person's groups map to a higher role than the
    /// linked account holds: the role rises, then the account signs in.
    RolesRaised,
    /// The identity is linked to an account that is a member of the org.
    LinkedMember,
    /// An org admin invited the person, and the invite is open: it is accepted, the
    /// account becomes a member with the invite's role (an email match in a verified
    /// domain links the identity first), then signs in.
    InviteAccepted,
    /// The identity is linked to an account that is not a member of the org.
    LinkedNonMember,
    /// Several accounts have the assertion's email; none is chosen.
    EmailAmbiguous,
    /// An account has the email, but the IdP is not trusted for its domain.
    EmailUnverifiedDomain,
    /// The account with the email is already linked to another subject of this IdP.
    EmailAccountLinkedElsewhere,
    /// The account with the email is disabled.
    EmailAccountDisabled,
    /// The email matched an account in a trusted domain: the identity is linked to it.
    EmailLinked,
    /// No account knows the person: one is created just in time.
    JitCreate,
    /// No free handle was found within the bounded search.
    NoFreeHandle,
    /// A portal visit with no (known) session: off to the IdP.
    PortalAnonymous,
    /// A portal visit by a disabled account.
    PortalAccountDisabled,
    /// A portal visit by a member validated recently: signed in at once.
    PortalFreshMember,
    /// A portal visit by a member not validated recently: off to the IdP.
    PortalStaleMember,
    /// A portal visit by an account that is not a member: the IdP must vouch first.
    PortalNonMember,
}

impl Rule {
    /// The rule's stable snake-case id, as serialized.
    pub const fn id(self) -> &'static str {
        match self {
            Rule::UnknownOrg => "unknown_org",
            Rule::NoPortal => "no_portal",
            Rule::IdpRequestDenied => "idp_request_denied",
            Rule::IdpStatus => "idp_status",
            Rule::InvalidAssertion => "invalid_assertion",
            Rule::ReplayedAssertion => "replayed_assertion",
            Rule::WrongIssuer => "wrong_issuer",
            Rule::GroupsOverage => "groups_overage",
            Rule::MissingRequiredGroup => "missing_required_group",
            Rule::DeprovisionedIdentity => "deprovisioned_identity",
            Rule::LinkedAccountDisabled => "linked_account_disabled",
            Rule::RoleSyncSkipped => "role_sync_skipped",
            Rule::RolesRaised => "roles_raised",
            Rule::LinkedMember => "linked_member",
            Rule::InviteAccepted => "invite_accepted",
            Rule::LinkedNonMember => "linked_non_member",
            Rule::EmailAmbiguous => "email_ambiguous",
            Rule::EmailUnverifiedDomain => "email_unverified_domain",
            Rule::EmailAccountLinkedElsewhere => "email_account_linked_elsewhere",
            Rule::EmailAccountDisabled => "email_account_disabled",
            Rule::EmailLinked => "email_linked",
            Rule::JitCreate => "jit_create",
            Rule::NoFreeHandle => "no_free_handle",
            Rule::PortalAnonymous => "portal_anonymous",
            Rule::PortalAccountDisabled => "portal_account_disabled",
            Rule::PortalFreshMember => "portal_fresh_member",
            Rule::PortalStaleMember => "portal_stale_member",
            Rule::PortalNonMember => "portal_non_member",
        }
    }

    /// What the rule says, in one sentence.
    pub const fn statement(self) -> &'static str {
        match self {
            Rule::UnknownOrg => "a request for an org that is not configured finds nothing",
            Rule::NoPortal => {
                "an org without JIT (or, in a private instance, without an IdP) has no login portal"
            }
            Rule::IdpRequestDenied => {
                "the IdP's RequestDenied status means the person is not assigned to the app"
            }
            Rule::IdpStatus => "any other IdP status refuses the sign-in",
            Rule::InvalidAssertion => {
                "an assertion with an empty or malformed subject, or issued more than 300 s in the future, is refused"
            }
            Rule::ReplayedAssertion => "an assertion signs in once; a replayed one is refused",
            Rule::WrongIssuer => "only the org's own IdP may assert identities at its portal",
            Rule::GroupsOverage => {
                "when the IdP sends only part of the groups, an org that decides by groups refuses rather than guess"
            }
            Rule::MissingRequiredGroup => {
                "an assertion without any of the org's required groups means the app is not assigned"
            }
            Rule::DeprovisionedIdentity => {
                "an identity the org's IdP deprovisioned over SCIM is refused until SCIM restores it, whatever JIT would do"
            }
            Rule::LinkedAccountDisabled => "a disabled account may not sign in",
            Rule::RoleSyncSkipped => {
                "with sync_roles upgrade, groups sent only in part raise no role: the account signs in as it is"
            }
            Rule::RolesRaised => {
                "with sync_roles upgrade, a sign-in raises each role the account holds to the highest its groups map to, and never lowers one"
            }
            Rule::LinkedMember => {
                "an identity linked to a member signs in and lands on the org's home"
            }
            Rule::InviteAccepted => {
                "an open invite by an org admin is accepted at the person's sign-in: they become a member with its role and land on the org's home"
            }
            Rule::LinkedNonMember => {
                "an identity linked to a non-member with no invite signs in, lands on its own home and gets no membership"
            }
            Rule::EmailAmbiguous => {
                "an email shared by several accounts matches none of them: nothing is linked or created"
            }
            Rule::EmailUnverifiedDomain => {
                "an email outside the org's verified domains may not take over an existing account"
            }
            Rule::EmailAccountLinkedElsewhere => {
                "an account already linked to this IdP is never linked again by email"
            }
            Rule::EmailAccountDisabled => "a disabled account may not sign in",
            Rule::EmailLinked => {
                "an email in a verified domain (or any email in a private instance) links the identity to its account"
            }
            Rule::JitCreate => {
                "an unknown person gets an account just in time: firstname-lastname, no password, the org's memberships"
            }
            Rule::NoFreeHandle => "no free handle could be found for the new account",
            Rule::PortalAnonymous => "a visitor who is not signed in is sent to the IdP",
            Rule::PortalAccountDisabled => "a disabled account may not sign in",
            Rule::PortalFreshMember => {
                "a member validated by the IdP recently is signed in without a trip to the IdP"
            }
            Rule::PortalStaleMember => {
                "a member not validated recently is sent to the IdP and back to the org's home"
            }
            Rule::PortalNonMember => {
                "a signed-in non-member is sent to the IdP, which must vouch before any sign-in"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.id(), self.statement())
    }
}
