//! The decision engine: a pure function of (policy, request, what the store knows, `now`).
//!
//! No clock, no IO, no randomness: the same inputs always give the same [`Decision`].

use chrono::{DateTime, TimeDelta, Utc};

use crate::account::{AccountRecord, Identity, NewAccount};
use crate::config::{Deployment, OrgPolicy, Policy, Portal, RoleSync};
use crate::decision::{Action, Decision, Landing, Outcome, Reason};
use crate::display_name::display_name_of;
use crate::email::{same_email, usable_email};
use crate::handle::HandleBase;
use crate::handle_choice::HandleChoice;
use crate::invite::Invite;
use crate::lookup::AccountLookup;
use crate::org::OrgState;
use crate::redirect::safe_return_path;
use crate::request::{Assertion, IdpError, PortalVisit, Request, Session};
use crate::reserved;
use crate::role::Grant;
use crate::rule::Rule;

/// How far in the future an IdP's clock may run before its timestamps are refused.
pub const CLOCK_SKEW_SECS: i64 = 300;
/// Longest subject (NameID) accepted; SAML's persistent identifiers are at most 256.
pub const MAX_SUBJECT_LEN: usize = 1024;

/// Decides what happens to one request at an org's SSO login portal.
///
/// `known` holds what the store knows (see [`AccountLookup`] for which fields each request
/// reads) and `now` is the caller's clock. A refusal is a [`Decision`] with a
/// [`Reason`]; this function cannot fail because the [`Policy`] was validated beforehand.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use jit_provisioning::{decide, AccountLookup, Assertion, Config, Outcome, Reason, Request};
///
/// let policy: jit_provisioning::Policy = serde_json::from_str::<Config>(r#"{
///     "orgs": { "acme": { "jit": true, "idp": "https://idp.acme.example" } }
/// }"#).unwrap().validate().unwrap();
/// let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
/// let assertion =
///     Assertion::new("acme", "https://idp.acme.example", "00u1").with_names("Jane", "Doe");
///
/// let created = decide(&policy, &Request::Assertion(assertion.clone()), &AccountLookup::default(), now);
/// assert_eq!(created.outcome(), Outcome::AccountCreated);
/// assert_eq!(created.new_handle(), Some("jane-doe"));
///
/// // The same subject from another issuer is refused.
/// let mut forged = assertion;
/// forged.issuer = "https://evil.example".into();
/// let refused = decide(&policy, &Request::Assertion(forged), &AccountLookup::default(), now);
/// assert_eq!(refused.reason(), Some(Reason::WrongIssuer));
/// ```
pub fn decide(
    policy: &Policy,
    request: &Request,
    known: &AccountLookup,
    now: DateTime<Utc>,
) -> Decision {
    match triage(policy, request, now) {
        Triage::Decided(decision) => decision,
        Triage::Session(at_org, visit, session) => at_org.portal_visit(visit, session, known),
        Triage::Assertion(at_org, assertion) => at_org.assertion(assertion, known),
    }
}

/// The decision for `request` when it needs nothing from the store: unknown orgs, orgs
/// without a portal, IdP errors, visitors without a session, and assertions refused on
/// their face. `None` means [`decide`] needs an [`AccountLookup`].
///
/// The provisioner calls this first so that a refusal costs no store round trip.
pub fn screen(policy: &Policy, request: &Request, now: DateTime<Utc>) -> Option<Decision> {
    match triage(policy, request, now) {
        Triage::Decided(decision) => Some(decision),
        Triage::Session(..) | Triage::Assertion(..) => None,
    }
}

/// A request either decided without the store, or what the store-based part needs.
enum Triage<'a> {
    Decided(Decision),
    Session(AtOrg<'a>, &'a PortalVisit, &'a Session),
    Assertion(AtOrg<'a>, &'a Assertion),
}

fn triage<'a>(policy: &'a Policy, request: &'a Request, now: DateTime<Utc>) -> Triage<'a> {
    let org_id = request.org();
    let (org, portal) = match portal_of(policy, org_id) {
        Ok(found) => found,
        Err(missing) => return Triage::Decided(missing.decision()),
    };
    let at_org = AtOrg {
        policy,
        id: org_id,
        org,
        portal,
        now,
    };
    match request {
        Request::IdpError(error) => Triage::Decided(idp_error(error)),
        Request::PortalVisit(visit) => match &visit.session {
            Some(session) => Triage::Session(at_org, visit, session),
            None => Triage::Decided(at_org.to_idp(
                Rule::PortalAnonymous,
                at_org.member_landing(visit.return_to.as_deref()),
            )),
        },
        Request::Assertion(assertion) => match at_org.refusal_on_its_face(assertion) {
            Some(refusal) => Triage::Decided(refusal),
            None => Triage::Assertion(at_org, assertion),
        },
    }
}

/// The handle base a new account would get from this assertion; the provisioner asks the
/// store for the handles taken under its [`HandleBase::stems`].
pub fn handle_base(assertion: &Assertion) -> HandleBase {
    HandleBase::derive(
        assertion.given_name.as_deref(),
        assertion.family_name.as_deref(),
        usable_email(assertion.email.as_deref()),
    )
}

/// Why there is no portal at an address.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NoPortal {
    UnknownOrg,
    JitOff,
    Inactive,
    Draft,
}

impl NoPortal {
    pub(crate) fn decision(self) -> Decision {
        match self {
            NoPortal::UnknownOrg => {
                Decision::refuse(Outcome::NotFound, Rule::UnknownOrg, Reason::UnknownOrg)
            }
            NoPortal::JitOff => {
                Decision::refuse(Outcome::NotFound, Rule::NoPortal, Reason::JitDisabled)
            }
            NoPortal::Inactive => {
                Decision::refuse(Outcome::NotFound, Rule::NoPortal, Reason::OrgInactive)
            }
            NoPortal::Draft => {
                Decision::refuse(Outcome::NotFound, Rule::NoPortal, Reason::OrgNotOpen)
            }
        }
    }
}

/// The org and its portal.
pub(crate) fn portal_of<'a>(
    policy: &'a Policy,
    org_id: &str,
) -> Result<(&'a OrgPolicy, &'a Portal), NoPortal> {
    let org = policy.org(org_id).ok_or(NoPortal::UnknownOrg)?;
    // An inactive org is closed whatever else its record says; a draft is closed only
    // if it has a portal to open.
    if org.state() == OrgState::Inactive {
        return Err(NoPortal::Inactive);
    }
    let portal = org.portal().ok_or(NoPortal::JitOff)?;
    if org.state() == OrgState::Draft {
        return Err(NoPortal::Draft);
    }
    Ok((org, portal))
}

fn idp_error(error: &IdpError) -> Decision {
    if error.is_request_denied() {
        Decision::refuse(
            Outcome::Denied,
            Rule::IdpRequestDenied,
            Reason::AppNotAssigned,
        )
    } else {
        Decision::refuse(Outcome::Denied, Rule::IdpStatus, Reason::IdpError)
    }
}

/// A request at one org that has a portal.
struct AtOrg<'a> {
    policy: &'a Policy,
    id: &'a str,
    org: &'a OrgPolicy,
    portal: &'a Portal,
    now: DateTime<Utc>,
}

impl AtOrg<'_> {
    fn portal_visit(
        &self,
        visit: &PortalVisit,
        session: &Session,
        known: &AccountLookup,
    ) -> Decision {
        // A session whose account the store no longer knows is as good as none.
        let Some(account) = known
            .session_account
            .as_ref()
            .filter(|account| account.id == session.account)
        else {
            return self.to_idp(
                Rule::PortalAnonymous,
                self.member_landing(visit.return_to.as_deref()),
            );
        };
        if account.disabled {
            return Decision::refuse(
                Outcome::Denied,
                Rule::PortalAccountDisabled,
                Reason::AccountDisabled,
            );
        }
        if !account.is_member_of(self.id) {
            return self.to_idp(
                Rule::PortalNonMember,
                Landing::UserHome(account.handle.clone()),
            );
        }
        let landing = self.member_landing(visit.return_to.as_deref());
        if self.validated_recently(session) {
            Decision::new(
                Outcome::SignedIn,
                Rule::PortalFreshMember,
                Action::SignIn {
                    account: account.id.clone(),
                },
                landing,
            )
        } else {
            self.to_idp(Rule::PortalStaleMember, landing)
        }
    }

    fn validated_recently(&self, session: &Session) -> bool {
        let Some(sso_at) = session.sso_at else {
            return false;
        };
        let age = self.now.signed_duration_since(sso_at);
        // A validation stamped well in the future is not trusted to be recent.
        let reauth_after =
            TimeDelta::from_std(self.portal.reauth_after()).unwrap_or(TimeDelta::zero());
        age >= -TimeDelta::seconds(CLOCK_SKEW_SECS) && age < reauth_after
    }

    fn to_idp(&self, rule: Rule, landing: Landing) -> Decision {
        Decision::new(
            Outcome::RedirectToIdp,
            rule,
            Action::RedirectToIdp {
                org: self.id.to_owned(),
                idp: self.portal.idp().to_owned(),
                force_authn: self.portal.force_authn(),
            },
            landing,
        )
    }

    /// Refusals that need nothing from the store.
    fn refusal_on_its_face(&self, assertion: &Assertion) -> Option<Decision> {
        if !self.is_valid(assertion) {
            return Some(Decision::refuse(
                Outcome::Denied,
                Rule::InvalidAssertion,
                Reason::InvalidAssertion,
            ));
        }
        if assertion.issuer != self.portal.idp() {
            return Some(Decision::refuse(
                Outcome::Denied,
                Rule::WrongIssuer,
                Reason::WrongIssuer,
            ));
        }
        let required = self.org.required_groups();
        // Groups that are only a part say nothing about a missing one: refuse, never guess.
        if !required.is_empty() && assertion.groups_incomplete {
            return Some(Decision::refuse(
                Outcome::Denied,
                Rule::GroupsOverage,
                Reason::GroupsOverage,
            ));
        }
        if !required.is_empty() && !assertion.groups.iter().any(|g| required.contains(g)) {
            return Some(Decision::refuse(
                Outcome::Denied,
                Rule::MissingRequiredGroup,
                Reason::AppNotAssigned,
            ));
        }
        None
    }

    /// An assertion that passed [`AtOrg::refusal_on_its_face`], decided on the store's facts.
    fn assertion(&self, assertion: &Assertion, known: &AccountLookup) -> Decision {
        // The IdP's SCIM client said this person is gone: no account, link or invite
        // brings them back through SAML.
        if known.deprovisioned.is_some() {
            return Decision::refuse(
                Outcome::Denied,
                Rule::DeprovisionedIdentity,
                Reason::Deprovisioned,
            );
        }
        // A concurrent first login of the same person may have created the account between
        // the look-up by identity and the one by email: the account that holds this very
        // identity is the linked account, wherever the store reported it.
        let holds_this_identity = |account: &&AccountRecord| {
            account
                .identities
                .iter()
                .any(|id| id.issuer == assertion.issuer && id.subject == assertion.subject)
        };
        let linked = known
            .by_identity
            .as_ref()
            .or_else(|| known.by_email.iter().find(holds_this_identity));
        if let Some(account) = linked {
            return self.sign_in_linked(account, assertion, known);
        }

        let email = usable_email(assertion.email.as_deref());
        let matches: Vec<&AccountRecord> = match email {
            Some(email) => known
                .by_email
                .iter()
                .filter(|account| {
                    account
                        .email
                        .as_deref()
                        .is_some_and(|theirs| same_email(theirs, email))
                })
                .collect(),
            None => Vec::new(),
        };
        match (email, matches.as_slice()) {
            (Some(email), [account]) => self.link_by_email(account, email, assertion, known),
            (_, []) => self.create(assertion, known),
            _ => Decision::refuse(Outcome::Denied, Rule::EmailAmbiguous, Reason::EmailInUse),
        }
    }

    fn is_valid(&self, assertion: &Assertion) -> bool {
        let subject = &assertion.subject;
        let subject_ok = !subject.trim().is_empty()
            && subject.len() <= MAX_SUBJECT_LEN
            && !subject.chars().any(char::is_control);
        // Near the end of chrono's range the sum overflows; then nothing is later.
        let latest = self
            .now
            .checked_add_signed(TimeDelta::seconds(CLOCK_SKEW_SECS));
        let not_from_the_future = assertion
            .authn_instant
            .is_none_or(|at| latest.is_none_or(|latest| at <= latest));
        subject_ok && not_from_the_future
    }

    fn sign_in_linked(
        &self,
        account: &AccountRecord,
        assertion: &Assertion,
        known: &AccountLookup,
    ) -> Decision {
        if account.disabled {
            return Decision::refuse(
                Outcome::Denied,
                Rule::LinkedAccountDisabled,
                Reason::AccountDisabled,
            );
        }
        if !account.is_member_of(self.id) {
            if let Some(invite) = self.invite_for(assertion, Some(account), known) {
                return self.accept(account, invite, None, assertion);
            }
        }
        let (rule, landing) = if account.is_member_of(self.id) {
            (
                Rule::LinkedMember,
                self.member_landing(assertion.return_to.as_deref()),
            )
        } else {
            (
                Rule::LinkedNonMember,
                Landing::UserHome(account.handle.clone()),
            )
        };
        let sign_in = Action::SignIn {
            account: account.id.clone(),
        };
        if self.org.sync_roles() == RoleSync::Never {
            return Decision::new(Outcome::SignedIn, rule, sign_in, landing);
        }
        // Part of the groups could only raise a role to less than it should be, and the
        // admin would not know why: leave roles alone, and say so in the rule.
        if assertion.groups_incomplete {
            return Decision::new(Outcome::SignedIn, Rule::RoleSyncSkipped, sign_in, landing);
        }
        let raises = self.org.raises_for(&account.memberships, &assertion.groups);
        if raises.is_empty() {
            return Decision::new(Outcome::SignedIn, rule, sign_in, landing);
        }
        Decision::new(
            Outcome::SignedIn,
            Rule::RolesRaised,
            Action::RaiseRolesAndSignIn {
                account: account.id.clone(),
                raises,
            },
            landing,
        )
    }

    fn link_by_email(
        &self,
        account: &AccountRecord,
        email: &str,
        assertion: &Assertion,
        known: &AccountLookup,
    ) -> Decision {
        let domain = email.rsplit('@').next().unwrap_or_default();
        let trusted = self.policy.deployment() == Deployment::PrivateInstance
            || self
                .org
                .verified_domains()
                .iter()
                .any(|verified| verified.eq_ignore_ascii_case(domain));
        if !trusted {
            return Decision::refuse(
                Outcome::Denied,
                Rule::EmailUnverifiedDomain,
                Reason::EmailInUse,
            );
        }
        if account.has_identity_from(&assertion.issuer) {
            return Decision::refuse(
                Outcome::Denied,
                Rule::EmailAccountLinkedElsewhere,
                Reason::EmailInUse,
            );
        }
        if account.disabled {
            return Decision::refuse(
                Outcome::Denied,
                Rule::EmailAccountDisabled,
                Reason::AccountDisabled,
            );
        }
        if !account.is_member_of(self.id) {
            if let Some(invite) = self.invite_for(assertion, Some(account), known) {
                return self.accept(account, invite, Some(assertion.identity()), assertion);
            }
        }
        let landing = if account.is_member_of(self.id) {
            self.member_landing(assertion.return_to.as_deref())
        } else {
            Landing::UserHome(account.handle.clone())
        };
        Decision::new(
            Outcome::SignedIn,
            Rule::EmailLinked,
            Action::LinkAndSignIn {
                account: account.id.clone(),
                identity: assertion.identity(),
            },
            landing,
        )
    }

    fn create(&self, assertion: &Assertion, known: &AccountLookup) -> Decision {
        // Roles mapped from part of the groups could be too low or too high.
        if assertion.groups_incomplete && !self.org.group_roles().is_empty() {
            return Decision::refuse(Outcome::Denied, Rule::GroupsOverage, Reason::GroupsOverage);
        }
        let choice = self.handle_choice(handle_base(assertion));
        let Some(handle) = choice.free_handle(&known.taken_handles) else {
            return Decision::refuse(
                Outcome::Denied,
                Rule::NoFreeHandle,
                Reason::HandleUnavailable,
            );
        };
        let mut grants = self.org.grants_for(&assertion.groups);
        let invite = self.invite_for(assertion, None, known);
        if let Some(invite) = invite {
            // The invite's role where it is higher, or a membership the org's grants lack.
            match grants.iter_mut().find(|grant| grant.org == invite.org) {
                Some(grant) => grant.role = grant.role.max(invite.role),
                None => grants.push(Grant {
                    org: invite.org.clone(),
                    role: invite.role,
                }),
            }
        }
        let landing = if grants.iter().any(|grant| grant.org == self.id) {
            self.member_landing(assertion.return_to.as_deref())
        } else {
            Landing::UserHome(handle.clone())
        };
        let account = NewAccount {
            handle,
            email: usable_email(assertion.email.as_deref()).map(str::to_owned),
            given_name: display_name_of(assertion.given_name.as_deref()),
            family_name: display_name_of(assertion.family_name.as_deref()),
            identity: assertion.identity(),
            memberships: grants,
            handle_choice: Some(choice),
            invite: invite.cloned().map(Box::new),
        };
        Decision::new(
            Outcome::AccountCreated,
            Rule::JitCreate,
            Action::Create(account),
            landing,
        )
    }

    /// The open invite to this org that this sign-in accepts, if any: the one with the
    /// highest role when there are several.
    fn invite_for<'k>(
        &self,
        assertion: &Assertion,
        account: Option<&AccountRecord>,
        known: &'k AccountLookup,
    ) -> Option<&'k Invite> {
        let identity = assertion.identity();
        let email = usable_email(assertion.email.as_deref());
        known
            .invites
            .iter()
            .filter(|invite| {
                invite.org == self.id && invite.is_for(&identity, email, account, self.now)
            })
            .max_by_key(|invite| invite.role)
    }

    /// An existing account accepts `invite` (linking `identity` first when it was found
    /// by email) and signs in on the org's home.
    fn accept(
        &self,
        account: &AccountRecord,
        invite: &Invite,
        identity: Option<Identity>,
        assertion: &Assertion,
    ) -> Decision {
        let held = account.memberships.get(&invite.org).copied();
        let grant = Grant {
            org: invite.org.clone(),
            role: held.map_or(invite.role, |held| held.max(invite.role)),
        };
        Decision::new(
            Outcome::SignedIn,
            Rule::InviteAccepted,
            Action::AcceptInviteAndSignIn {
                account: account.id.clone(),
                invite: invite.id.clone(),
                grant,
                identity,
            },
            self.member_landing(assertion.return_to.as_deref()),
        )
    }

    /// The rule the handle is chosen by, the same here as in a store that must choose
    /// again: the base, the length limit, and the reserved words and org ids the search
    /// under the base's stems could meet.
    fn handle_choice(&self, base: HandleBase) -> HandleChoice {
        let max_len = self.policy.max_handle_len();
        let mut kept: Vec<String> = Vec::new();
        for stem in base.stems(max_len) {
            kept.extend(reserved::built_in_under(&stem).map(str::to_owned));
            kept.extend(self.policy.config_kept_under(&stem).map(str::to_owned));
        }
        HandleChoice::new(base, max_len, kept)
    }

    fn member_landing(&self, return_to: Option<&str>) -> Landing {
        match return_to.map(safe_return_path) {
            Some(Ok(path)) => Landing::Path(path.to_owned()),
            _ => Landing::OrgHome(self.id.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::account::{AccountRecord, Identity};
    use crate::config::Config;
    use crate::decision::Outcome;

    fn policy(verified: bool) -> Policy {
        let domains = if verified {
            r#"["acme.example"]"#
        } else {
            "[]"
        };
        let json = format!(
            r#"{{"orgs": {{"acme": {{"jit": true, "idp": "https://idp", "verified_domains": {domains}}}}}}}"#
        );
        serde_json::from_str::<Config>(&json)
            .unwrap()
            .validate()
            .unwrap()
    }

    fn jane() -> Assertion {
        Assertion {
            org: "acme".into(),
            issuer: "https://idp".into(),
            subject: "00u1".into(),
            email: Some("jane@acme.example".into()),
            ..Assertion::default()
        }
    }

    #[test]
    fn the_choice_carries_the_words_the_policy_keeps_under_the_stems() {
        // An org named like the person, and reserved words among their suffixes.
        let config: Config = serde_json::from_str(
            r#"{"reserved_handles": ["Jane-Doe-2", "jane-doe-4", "jane-does", "admin"],
                "orgs": {"acme": {"jit": true, "idp": "https://idp"}, "jane-doe": {}}}"#,
        )
        .unwrap();
        let policy = config.validate().unwrap();
        let jane = Assertion {
            given_name: Some("Jane".into()),
            family_name: Some("Doe".into()),
            ..jane()
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let decision = decide(
            &policy,
            &Request::Assertion(jane),
            &AccountLookup::default(),
            now,
        );
        let Action::Create(new) = decision.action() else {
            panic!("{decision}");
        };
        assert_eq!(new.handle, "jane-doe-3");
        let choice = new.handle_choice.as_ref().unwrap();
        assert_eq!(choice.kept(), ["jane-doe", "jane-doe-2", "jane-doe-4"]);
        // A store where a concurrent Jane Doe took `jane-doe-3` skips the same words.
        let taken = vec!["jane-doe-3".to_owned()];
        assert_eq!(new.free_handle(&taken).as_deref(), Some("jane-doe-5"));
    }

    #[test]
    fn an_email_match_holding_this_very_identity_is_the_linked_account() {
        // The look-up by identity ran before a concurrent first login of the same person
        // committed; the look-up by email ran after.
        let created_meanwhile = AccountRecord {
            id: "acct-1".into(),
            handle: "jane".into(),
            email: Some("jane@acme.example".into()),
            identities: vec![Identity {
                issuer: "https://idp".into(),
                subject: "00u1".into(),
            }],
            memberships: [("acme".to_owned(), crate::Role::Member)].into(),
            disabled: false,
            has_password: false,
            given_name: None,
            family_name: None,
        };
        let known = AccountLookup {
            by_email: vec![created_meanwhile],
            ..AccountLookup::default()
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        for verified in [false, true] {
            let decision = decide(&policy(verified), &Request::Assertion(jane()), &known, now);
            assert_eq!(decision.outcome(), Outcome::SignedIn, "{decision}");
            assert_eq!(decision.rule(), Rule::LinkedMember);
            assert!(!decision.links_existing_account());
        }
    }
}
