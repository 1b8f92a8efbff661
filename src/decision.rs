//! The engine's answer: a plan as data.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::account::{AccountId, Identity, NewAccount};
use crate::display_name::full_name;
use crate::role::Grant;
use crate::rule::Rule;

/// What happens to the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An existing account is signed in.
    SignedIn,
    /// A new account is created just in time and signed in.
    AccountCreated,
    /// The person is sent to the org's IdP and comes back to the landing.
    RedirectToIdp,
    /// The sign-in is refused; see the [`Reason`].
    Denied,
    /// There is no portal here; see the [`Reason`].
    NotFound,
}

impl Outcome {
    /// The outcome's snake-case name, as serialized.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::SignedIn => "signed_in",
            Outcome::AccountCreated => "account_created",
            Outcome::RedirectToIdp => "redirect_to_idp",
            Outcome::Denied => "denied",
            Outcome::NotFound => "not_found",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// The person is not assigned to the app at their IdP.
    AppNotAssigned,
    /// The assertion came from another IdP than the org's.
    WrongIssuer,
    /// The email belongs to an account this IdP may not take over.
    EmailInUse,
    /// The account is disabled.
    AccountDisabled,
    /// The assertion is malformed or from the future.
    InvalidAssertion,
    /// The org has no SSO login portal.
    JitDisabled,
    /// The org does not exist.
    UnknownOrg,
    /// The IdP answered with an error status other than `RequestDenied`
    /// (an addition of this crate to the case format's reasons).
    IdpError,
    /// No free handle exists for the new account (an addition of this crate; it takes
    /// about a million accounts with the same name to reach).
    HandleUnavailable,
    /// The IdP sent only part of the groups, and the org decides by groups (an addition
    /// of this crate).
    GroupsOverage,
    /// The org's SSO connection is inactive: closed by an admin or by support (an
    /// addition of this crate).
    OrgInactive,
    /// The org's SSO connection is a draft: being set up, open to test sign-ins only (an
    /// addition of this crate).
    OrgNotOpen,
    /// The org's IdP ended the person's access over SCIM (an addition of this crate).
    Deprovisioned,
}

impl Reason {
    /// The reason's snake-case code, as serialized.
    pub const fn code(self) -> &'static str {
        match self {
            Reason::AppNotAssigned => "app_not_assigned",
            Reason::WrongIssuer => "wrong_issuer",
            Reason::EmailInUse => "email_in_use",
            Reason::AccountDisabled => "account_disabled",
            Reason::InvalidAssertion => "invalid_assertion",
            Reason::JitDisabled => "jit_disabled",
            Reason::UnknownOrg => "unknown_org",
            Reason::IdpError => "idp_error",
            Reason::HandleUnavailable => "handle_unavailable",
            Reason::GroupsOverage => "groups_overage",
            Reason::OrgInactive => "org_inactive",
            Reason::OrgNotOpen => "org_not_open",
            Reason::Deprovisioned => "deprovisioned",
        }
    }

    /// A message to show the person, telling them what they can do.
    pub const fn message(self) -> &'static str {
        match self {
            Reason::AppNotAssigned => {
                "This app is not assigned to you in your SSO provider. Ask your SSO provider's \
                 admin to assign it to you, then sign in through this page again."
            }
            Reason::WrongIssuer => {
                "This sign-in came from an identity provider this organization does not use. \
                 Start again from your organization's login page."
            }
            Reason::EmailInUse => {
                "An account with your email address already exists and cannot be linked to \
                 this single sign-on automatically. Sign in to that account and contact support, \
                 or ask an organization admin for help."
            }
            Reason::AccountDisabled => {
                "Your account is disabled. Contact support or an organization admin."
            }
            Reason::InvalidAssertion => {
                "Your identity provider's answer could not be used. Try signing in again; if it \
                 keeps happening, tell your SSO provider's admin."
            }
            Reason::JitDisabled | Reason::UnknownOrg => {
                "There is no single sign-on login page at this address."
            }
            Reason::IdpError => {
                "Your identity provider could not sign you in. Try again, or ask your SSO \
                 provider's admin."
            }
            Reason::HandleUnavailable => {
                "We could not pick a username for your new account. Contact support."
            }
            Reason::GroupsOverage => {
                "Your identity provider sent too many groups for this app to read them all. \
                 Ask your SSO provider's admin to assign the groups this app needs to it, or to \
                 filter the groups it sends to this app, then sign in again."
            }
            Reason::OrgInactive => {
                "Single sign-on is turned off for this organization. Sign in another way, or ask \
                 an organization admin when it will be back."
            }
            Reason::OrgNotOpen => {
                "Single sign-on for this organization is being set up and is not open yet. Ask \
                 an organization admin when it will be."
            }
            Reason::Deprovisioned => {
                "Your organization's identity provider has ended your access to this \
                 organization. If that is a mistake, ask your SSO provider's admin to restore \
                 it."
            }
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where the person ends up once signed in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Landing {
    /// The organization's home page.
    OrgHome(String),
    /// The account's own home page, by handle.
    UserHome(String),
    /// A validated path on this site (from `return_to`).
    Path(String),
}

impl fmt::Display for Landing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Landing::OrgHome(org) => write!(f, "the home of org `{org}`"),
            Landing::UserHome(handle) => write!(f, "the home of `{handle}`"),
            Landing::Path(path) => write!(f, "`{path}`"),
        }
    }
}

/// Which account a step acts on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountRef {
    /// An account the store already holds.
    Existing(AccountId),
    /// The account this plan creates.
    New,
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountRef::Existing(id) => write!(f, "account `{id}`"),
            AccountRef::New => f.write_str("the new account"),
        }
    }
}

/// One thing the provisioner does to carry out a decision, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Step {
    /// Create an account with this handle and no password: it signs in through SSO only.
    CreateAccount {
        /// The new account's handle.
        handle: String,
        /// The email from the assertion, if usable.
        email: Option<String>,
        /// The person's given name, if the assertion had one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        given_name: Option<String>,
        /// The person's family name, if the assertion had one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        family_name: Option<String>,
    },
    /// Link an SSO identity to an account.
    LinkIdentity {
        /// The account.
        account: AccountRef,
        /// The identity.
        identity: Identity,
    },
    /// Grant the new account a membership (memberships are only granted on creation).
    GrantMembership(Grant),
    /// Raise an existing account's role in an org it belongs to (`sync_roles = "upgrade"`);
    /// a store never lowers a role on this step's account.
    RaiseRole {
        /// The account.
        account: AccountRef,
        /// The org and the role it rises to.
        grant: Grant,
    },
    /// Accept an org admin's invite: the invite is used up and the account holds at
    /// least its role in its org.
    AcceptInvite {
        /// The account.
        account: AccountRef,
        /// The invite's id.
        invite: String,
        /// The membership it gives.
        grant: Grant,
    },
    /// Sign the account in.
    StartSession {
        /// The account.
        account: AccountRef,
    },
    /// Send the person to the org's IdP; they come back to the decision's landing.
    RedirectToIdp {
        /// The org whose IdP it is.
        org: String,
        /// The IdP's entity id.
        idp: String,
        /// Ask the IdP to re-authenticate the person even if it has a session.
        force_authn: bool,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateAccount {
                handle,
                email,
                given_name,
                family_name,
            } => {
                write!(f, "create account `{handle}`")?;
                if let Some(name) = full_name(given_name.as_deref(), family_name.as_deref()) {
                    write!(f, " for {name}")?;
                }
                f.write_str(" without a password")?;
                if let Some(email) = email {
                    write!(f, " and email `{email}`")?;
                }
                Ok(())
            }
            Step::LinkIdentity { account, identity } => {
                write!(f, "link identity {identity} to {account}")
            }
            Step::GrantMembership(grant) => write!(f, "grant {grant}"),
            Step::RaiseRole { account, grant } => write!(f, "raise {account} to {grant}"),
            Step::AcceptInvite {
                account,
                invite,
                grant,
            } => write!(f, "accept invite `{invite}` for {account}: {grant}"),
            Step::StartSession { account } => write!(f, "start a session for {account}"),
            Step::RedirectToIdp {
                idp, force_authn, ..
            } => {
                write!(f, "redirect to IdP `{idp}`")?;
                if *force_authn {
                    f.write_str(" asking it to re-authenticate")?;
                }
                Ok(())
            }
        }
    }
}

/// What the provisioner does to carry out a decision: the plan in typed form.
/// [`Decision::steps`] spells it out step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Nothing to do: the request is refused.
    Nothing,
    /// Start a session for an existing account.
    SignIn {
        /// The account.
        account: AccountId,
    },
    /// Link the identity to an existing account, then start a session for it.
    LinkAndSignIn {
        /// The account.
        account: AccountId,
        /// The identity to link.
        identity: Identity,
    },
    /// Raise roles of an existing account (never lowering one), then start a session for
    /// it.
    RaiseRolesAndSignIn {
        /// The account.
        account: AccountId,
        /// Each org whose role rises, with the role it rises to.
        raises: Vec<Grant>,
    },
    /// Accept an org admin's invite for an existing account (linking the identity first
    /// when the person was found by email), then start a session for it.
    AcceptInviteAndSignIn {
        /// The account.
        account: AccountId,
        /// The invite's id.
        invite: String,
        /// The membership the invite gives: its role, or the one held if higher.
        grant: Grant,
        /// The identity to link first, when the account was matched by email.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<Identity>,
    },
    /// Create the account with its identity and memberships, then start a session for it.
    Create(NewAccount),
    /// Send the person to the org's IdP; they come back to the decision's landing.
    RedirectToIdp {
        /// The org whose IdP it is.
        org: String,
        /// The IdP's entity id.
        idp: String,
        /// Ask the IdP to re-authenticate the person even if it has a session.
        force_authn: bool,
    },
}

/// What the engine decided, the plan to carry it out and the rule that fired.
///
/// A refusal is a decision like any other: its [`Decision::reason`] says why and
/// [`Decision::message`] what the person can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    outcome: Outcome,
    rule: Rule,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<Reason>,
    action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    landing: Option<Landing>,
}

impl Decision {
    pub(crate) fn new(outcome: Outcome, rule: Rule, action: Action, landing: Landing) -> Self {
        Decision {
            outcome,
            rule,
            reason: None,
            action,
            landing: Some(landing),
        }
    }

    pub(crate) fn refuse(outcome: Outcome, rule: Rule, reason: Reason) -> Self {
        Decision {
            outcome,
            rule,
            reason: Some(reason),
            action: Action::Nothing,
            landing: None,
        }
    }

    /// The decision as carried out by a store that created the new account under
    /// `handle`, the proposed one having been taken meanwhile
    /// ([`NewAccount::free_handle`]): the plan and a landing on the account's own home
    /// name the handle it has. Any other decision is returned as it is.
    pub(crate) fn created_as(mut self, handle: &str) -> Decision {
        let Action::Create(new) = &mut self.action else {
            return self;
        };
        if new.handle == handle {
            return self;
        }
        if let Some(Landing::UserHome(home)) = &mut self.landing {
            if *home == new.handle {
                handle.clone_into(home);
            }
        }
        handle.clone_into(&mut new.handle);
        self
    }

    /// What happens to the person.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The rule that fired.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// Why the request was refused; `None` unless the outcome is `denied` or `not_found`.
    pub fn reason(&self) -> Option<Reason> {
        self.reason
    }

    /// The message to show the person when refused.
    pub fn message(&self) -> Option<&'static str> {
        self.reason.map(Reason::message)
    }

    /// The plan in typed form.
    pub fn action(&self) -> &Action {
        &self.action
    }

    /// The plan step by step, in order.
    pub fn steps(&self) -> Vec<Step> {
        match &self.action {
            Action::Nothing => Vec::new(),
            Action::SignIn { account } => vec![Step::StartSession {
                account: AccountRef::Existing(account.clone()),
            }],
            Action::LinkAndSignIn { account, identity } => vec![
                Step::LinkIdentity {
                    account: AccountRef::Existing(account.clone()),
                    identity: identity.clone(),
                },
                Step::StartSession {
                    account: AccountRef::Existing(account.clone()),
                },
            ],
            Action::RaiseRolesAndSignIn { account, raises } => {
                let account = AccountRef::Existing(account.clone());
                let mut steps: Vec<Step> = raises
                    .iter()
                    .map(|grant| Step::RaiseRole {
                        account: account.clone(),
                        grant: grant.clone(),
                    })
                    .collect();
                steps.push(Step::StartSession { account });
                steps
            }
            Action::AcceptInviteAndSignIn {
                account,
                invite,
                grant,
                identity,
            } => {
                let account = AccountRef::Existing(account.clone());
                let mut steps = Vec::with_capacity(3);
                if let Some(identity) = identity {
                    steps.push(Step::LinkIdentity {
                        account: account.clone(),
                        identity: identity.clone(),
                    });
                }
                steps.push(Step::AcceptInvite {
                    account: account.clone(),
                    invite: invite.clone(),
                    grant: grant.clone(),
                });
                steps.push(Step::StartSession { account });
                steps
            }
            Action::Create(new) => {
                let mut steps = Vec::with_capacity(new.memberships.len() + 4);
                steps.push(Step::CreateAccount {
                    handle: new.handle.clone(),
                    email: new.email.clone(),
                    given_name: new.given_name.clone(),
                    family_name: new.family_name.clone(),
                });
                steps.push(Step::LinkIdentity {
                    account: AccountRef::New,
                    identity: new.identity.clone(),
                });
                steps.extend(new.memberships.iter().cloned().map(Step::GrantMembership));
                if let Some(invite) = &new.invite {
                    if let Some(grant) =
                        new.memberships.iter().find(|grant| grant.org == invite.org)
                    {
                        steps.push(Step::AcceptInvite {
                            account: AccountRef::New,
                            invite: invite.id.clone(),
                            grant: grant.clone(),
                        });
                    }
                }
                steps.push(Step::StartSession {
                    account: AccountRef::New,
                });
                steps
            }
            Action::RedirectToIdp {
                org,
                idp,
                force_authn,
            } => vec![Step::RedirectToIdp {
                org: org.clone(),
                idp: idp.clone(),
                force_authn: *force_authn,
            }],
        }
    }

    /// Where the person lands, or for `redirect_to_idp` where they land once back.
    pub fn landing(&self) -> Option<&Landing> {
        self.landing.as_ref()
    }

    /// The memberships this decision grants: a new account's, or the one an accepted invite
    /// gives an existing account.
    pub fn grants(&self) -> &[Grant] {
        match &self.action {
            Action::Create(new) => &new.memberships,
            Action::AcceptInviteAndSignIn { grant, .. } => std::slice::from_ref(grant),
            _ => &[],
        }
    }

    /// The roles this decision raises on an existing account, each with its new role.
    pub fn raises(&self) -> &[Grant] {
        match &self.action {
            Action::RaiseRolesAndSignIn { raises, .. } => raises,
            _ => &[],
        }
    }

    /// The handle of the account this decision creates.
    pub fn new_handle(&self) -> Option<&str> {
        match &self.action {
            Action::Create(new) => Some(&new.handle),
            _ => None,
        }
    }

    /// The existing account this decision signs in.
    pub fn signed_in_account(&self) -> Option<&AccountId> {
        match &self.action {
            Action::SignIn { account }
            | Action::LinkAndSignIn { account, .. }
            | Action::RaiseRolesAndSignIn { account, .. }
            | Action::AcceptInviteAndSignIn { account, .. } => Some(account),
            _ => None,
        }
    }

    /// Whether an SSO identity is linked to an existing account.
    pub fn links_existing_account(&self) -> bool {
        matches!(
            self.action,
            Action::LinkAndSignIn { .. }
                | Action::AcceptInviteAndSignIn {
                    identity: Some(_),
                    ..
                }
        )
    }

    /// Whether the trip to the IdP asks it to re-authenticate; `None` unless redirecting.
    pub fn force_authn(&self) -> Option<bool> {
        match self.action {
            Action::RedirectToIdp { force_authn, .. } => Some(force_authn),
            _ => None,
        }
    }

    /// A human explanation: the outcome, the rule that fired and the plan, one line each.
    pub fn explanation(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.outcome)?;
        if let Some(reason) = self.reason {
            write!(f, " ({reason})")?;
        }
        write!(f, "\n  rule {}", self.rule)?;
        for step in self.steps() {
            write!(f, "\n  then {step}")?;
        }
        if let Some(landing) = &self.landing {
            write!(f, "\n  lands on {landing}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;

    fn created() -> Decision {
        Decision::new(
            Outcome::AccountCreated,
            Rule::JitCreate,
            Action::Create(NewAccount {
                handle: "jane-doe".into(),
                email: Some("jane@acme.example".into()),
                given_name: Some("Jane".into()),
                family_name: Some("Doe".into()),
                identity: Identity {
                    issuer: "https://idp".into(),
                    subject: "00u1".into(),
                },
                memberships: vec![Grant {
                    org: "acme".into(),
                    role: Role::Member,
                }],
                handle_choice: None,
                invite: None,
            }),
            Landing::OrgHome("acme".into()),
        )
    }

    #[test]
    fn a_plan_is_data_that_round_trips_through_json() {
        let decision = created();
        let json = serde_json::to_value(&decision).unwrap();
        assert_eq!(json["outcome"], "account_created");
        assert_eq!(json["rule"], "jit_create");
        assert_eq!(json["landing"], serde_json::json!({"org_home": "acme"}));
        assert_eq!(json["action"]["create"]["handle"], "jane-doe");
        let back: Decision = serde_json::from_value(json).unwrap();
        assert_eq!(back, decision);
    }

    #[test]
    fn steps_spell_the_plan_out_in_order() {
        let steps: Vec<String> = created().steps().iter().map(ToString::to_string).collect();
        assert_eq!(
            steps,
            [
                "create account `jane-doe` for Jane Doe without a password and email `jane@acme.example`",
                "link identity `00u1` from `https://idp` to the new account",
                "grant member of `acme`",
                "start a session for the new account",
            ]
        );
        let shown = created().to_string();
        assert!(
            shown.starts_with("account_created\n  rule jit_create: "),
            "{shown}"
        );
        assert!(
            shown.ends_with("lands on the home of org `acme`"),
            "{shown}"
        );
    }

    #[test]
    fn a_creation_under_another_handle_names_it_everywhere() {
        let at_org = created().created_as("jane-doe-7");
        assert_eq!(at_org.new_handle(), Some("jane-doe-7"));
        assert_eq!(at_org.landing(), Some(&Landing::OrgHome("acme".into())));
        assert!(at_org.to_string().contains("create account `jane-doe-7`"));

        let mut at_home = created();
        at_home.landing = Some(Landing::UserHome("jane-doe".into()));
        let at_home = at_home.created_as("jane-doe-7");
        assert_eq!(
            at_home.landing(),
            Some(&Landing::UserHome("jane-doe-7".into()))
        );

        let refusal = Decision::refuse(
            Outcome::Denied,
            Rule::NoFreeHandle,
            Reason::HandleUnavailable,
        );
        assert_eq!(refusal.clone().created_as("x"), refusal);
    }

    #[test]
    fn a_refusal_carries_its_reason_and_message() {
        let refusal = Decision::refuse(
            Outcome::Denied,
            Rule::IdpRequestDenied,
            Reason::AppNotAssigned,
        );
        assert_eq!(refusal.reason(), Some(Reason::AppNotAssigned));
        assert!(refusal.message().unwrap().contains("SSO provider's admin"));
        assert!(refusal.steps().is_empty() && refusal.grants().is_empty());
        assert_eq!(refusal.landing(), None);
    }
}
