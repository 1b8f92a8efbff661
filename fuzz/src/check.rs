//! The invariants every decision must keep, checked with `assert!` so that a violation is
//! a crash libFuzzer saves.

use std::collections::BTreeMap;

use jit_provisioning::handles::{is_reserved, is_well_formed};
use jit_provisioning::{
    decide, safe_return_path, screen, AccountLookup, AccountRecord, Action, ConfigError, Decision,
    Deployment, Grant, Landing, MemoryStore, OrgPolicy, Outcome, Policy, Provisioner, Request,
    Role, RoleSync, SeedError,
};

use crate::scenario::Scenario;

/// What running a scenario gave.
// One per input, moved once: the size of the `Decided` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Ran {
    /// The config does not validate: the case expects `error` / `invalid_config`.
    InvalidConfig(ConfigError),
    /// The accounts cannot coexist in a store, so there is no case to run.
    AccountsClash(SeedError),
    /// The provisioner's decision and the account it signed in or created.
    Decided {
        /// What the provisioner decided.
        decision: Decision,
        /// The account as the store holds it afterwards.
        account: Option<AccountRecord>,
    },
}

/// Runs the scenario through `decide` and through a [`Provisioner`] over a
/// [`MemoryStore`], and panics on the first invariant broken.
pub fn run_and_check(scenario: &Scenario) -> Ran {
    // Accounts first: a case file whose accounts clash does not load, whatever its config.
    let store = match MemoryStore::with_accounts(scenario.accounts.iter().cloned()) {
        Ok(store) => store,
        Err(error) => return Ran::AccountsClash(error),
    };
    let policy = match scenario.config.validate() {
        Ok(policy) => policy,
        Err(error) => return Ran::InvalidConfig(error),
    };
    let request = &scenario.request;
    let now = scenario.now;

    // The engine, with everything the store knows at hand.
    let known = everything_known(scenario);
    let decided = decide(&policy, request, &known, now);
    assert_eq!(
        decided,
        decide(&policy, request, &known, now),
        "decide gave two decisions for the same inputs"
    );
    if let Some(screened) = screen(&policy, request, now) {
        assert_eq!(screened, decided, "screen and decide disagree");
    }
    check_decision(&policy, scenario, &decided);

    // The provisioner, fetching only what it needs from the store.
    let provisioner = Provisioner::new(policy.clone(), store);
    let done = match pollster::block_on(provisioner.handle(request, now)) {
        Ok(done) => done,
        // The in-memory store never fails and nothing runs concurrently: an error here
        // means the engine keeps planning what the store refuses.
        Err(error) => panic!("the provisioner failed on an in-memory store: {error}"),
    };
    check_decision(&policy, scenario, &done.decision);
    assert_eq!(
        done.decision, decided,
        "the provisioner decided otherwise than the engine with everything known"
    );
    check_store_after(scenario, &done.decision, &provisioner.store().snapshot());

    // Carried out once, the same request signs the same account in.
    let account_id = match (&done.decision.action(), &done.account) {
        (Action::Create(_), Some(created)) => Some(created.id.clone()),
        (Action::Create(_), None) => panic!("an account was created but none came back"),
        _ => done.decision.signed_in_account().cloned(),
    };
    if let Some(account_id) = account_id {
        let again = match pollster::block_on(provisioner.handle(request, now)) {
            Ok(again) => again,
            Err(error) => panic!("the provisioner failed the second time: {error}"),
        };
        assert_eq!(
            again.decision.outcome(),
            Outcome::SignedIn,
            "{}",
            again.decision
        );
        assert_eq!(again.decision.signed_in_account(), Some(&account_id));
    }

    Ran::Decided {
        decision: done.decision,
        account: done.account,
    }
}

/// The lookup a store with perfect recall would give: every account that could matter.
/// `by_email` holds every account with an email; the engine picks the matching ones.
fn everything_known(scenario: &Scenario) -> AccountLookup {
    let accounts = &scenario.accounts;
    let mut known = {
        let mut built = AccountLookup::default();
        built.taken_handles = accounts.iter().map(|a| a.handle.clone()).collect();
        built
    };
    match &scenario.request {
        Request::Assertion(assertion) => {
            let identity = assertion.identity();
            known.by_identity = accounts
                .iter()
                .find(|a| a.identities.contains(&identity))
                .cloned();
            known.by_email = accounts
                .iter()
                .filter(|a| a.email.is_some())
                .cloned()
                .collect();
        }
        Request::PortalVisit(visit) => {
            known.session_account = visit
                .session
                .as_ref()
                .and_then(|session| accounts.iter().find(|a| a.id == session.account))
                .cloned();
        }
        Request::IdpError(_) => {}
        other => panic!("the oracle does not know {other:?}: teach it"),
    }
    known
}

fn account<'a>(scenario: &'a Scenario, id: &jit_provisioning::AccountId) -> &'a AccountRecord {
    match scenario.accounts.iter().find(|a| &a.id == id) {
        Some(account) => account,
        None => panic!("the decision names account `{id}`, which the store does not hold"),
    }
}

/// The invariants of one decision.
pub fn check_decision(policy: &Policy, scenario: &Scenario, decision: &Decision) {
    let request = &scenario.request;
    let refused = matches!(decision.outcome(), Outcome::Denied | Outcome::NotFound);
    assert_eq!(decision.reason().is_some(), refused, "{decision}");
    assert_eq!(decision.landing().is_none(), refused, "{decision}");
    assert_eq!(
        matches!(decision.action(), Action::Nothing),
        refused,
        "{decision}"
    );
    assert_eq!(
        matches!(decision.action(), Action::Create(_)),
        decision.outcome() == Outcome::AccountCreated,
        "{decision}"
    );
    assert_eq!(
        matches!(decision.action(), Action::RedirectToIdp { .. }),
        decision.outcome() == Outcome::RedirectToIdp,
        "{decision}"
    );
    // Memberships are granted on creation only.
    if !decision.grants().is_empty() {
        assert_eq!(decision.outcome(), Outcome::AccountCreated, "{decision}");
    }
    let _ = decision.explanation();

    match decision.landing() {
        Some(Landing::Path(path)) => {
            assert_eq!(safe_return_path(path), Ok(path.as_str()));
            let asked = match request {
                Request::PortalVisit(visit) => visit.return_to.as_deref(),
                Request::Assertion(assertion) => assertion.return_to.as_deref(),
                Request::IdpError(_) => None,
                other => panic!("the oracle does not know {other:?}: teach it"),
            };
            assert_eq!(
                asked,
                Some(path.as_str()),
                "a landing path nobody asked for"
            );
        }
        Some(Landing::OrgHome(org)) => assert_eq!(org, request.org()),
        Some(Landing::UserHome(_)) | None => {}
    }

    match decision.action() {
        Action::Nothing => {}
        Action::SignIn { account: id } => {
            let signed_in = account(scenario, id);
            assert!(
                !signed_in.disabled,
                "signed in a disabled account: {decision}"
            );
            // Under sync_roles upgrade, a sign-in on whole groups leaves no role to raise.
            if let (Request::Assertion(assertion), Some(org)) = (request, policy.org(request.org()))
            {
                if org.sync_roles() == RoleSync::Upgrade && !assertion.groups_incomplete {
                    for (held_in, held) in &signed_in.memberships {
                        let mapped = highest_mapped(org, &assertion.groups, held_in);
                        assert!(
                            mapped.is_none_or(|mapped| mapped <= *held),
                            "{held_in}: {held} not raised to {mapped:?}: {decision}"
                        );
                    }
                }
            }
        }
        Action::RaiseRolesAndSignIn {
            account: id,
            raises,
        } => {
            let Request::Assertion(assertion) = request else {
                panic!("raised a role without an assertion: {decision}");
            };
            let raised = account(scenario, id);
            assert!(!raised.disabled, "raised a disabled account: {decision}");
            assert!(
                raised.identities.contains(&assertion.identity()),
                "raised an account the identity is not linked to: {decision}"
            );
            assert!(
                !assertion.groups_incomplete,
                "raised from part of the groups: {decision}"
            );
            let Some(org) = policy.org(request.org()) else {
                panic!("raised at an unknown org: {decision}");
            };
            assert_eq!(org.sync_roles(), RoleSync::Upgrade, "{decision}");
            assert!(!raises.is_empty(), "{decision}");
            // Exactly the orgs held below the highest mapped role, each raised to it.
            for (held_in, held) in &raised.memberships {
                let mapped =
                    highest_mapped(org, &assertion.groups, held_in).filter(|mapped| mapped > held);
                let planned = raises.iter().find(|raise| &raise.org == held_in);
                assert_eq!(
                    planned.map(|raise| raise.role),
                    mapped,
                    "{held_in}: {decision}"
                );
            }
            for raise in raises {
                assert!(
                    raised.is_member_of(&raise.org),
                    "a raise added {raise}: {decision}"
                );
            }
        }
        Action::LinkAndSignIn {
            account: id,
            identity,
        } => {
            let Request::Assertion(assertion) = request else {
                panic!("linked an identity without an assertion: {decision}");
            };
            assert_eq!(identity, &assertion.identity());
            let linked = account(scenario, id);
            assert!(!linked.disabled, "linked a disabled account: {decision}");
            assert!(
                !linked.has_identity_from(&assertion.issuer),
                "took over an account already linked from this IdP: {decision}"
            );
            let email = assertion.email.as_deref().unwrap_or_default().trim();
            let domain = email.rsplit('@').next().unwrap_or_default();
            let org = policy.org(request.org());
            let verified = org.is_some_and(|org| {
                org.verified_domains()
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(domain))
            });
            assert!(
                verified || policy.deployment() == Deployment::PrivateInstance,
                "linked by email from unverified domain `{domain}`: {decision}"
            );
            let theirs = linked.email.as_deref().unwrap_or_default();
            assert!(
                jit_provisioning::email_key(theirs) == jit_provisioning::email_key(email),
                "linked an account with another email: {decision}"
            );
        }
        Action::Create(new) => {
            let Request::Assertion(assertion) = request else {
                panic!("created an account without an assertion: {decision}");
            };
            assert_eq!(new.identity, assertion.identity());
            check_new_handle(policy, scenario, &new.handle);
            let Some(org) = policy.org(request.org()) else {
                panic!("created at an unknown org: {decision}");
            };
            assert!(
                !assertion.groups_incomplete || org.group_roles().is_empty(),
                "roles mapped from part of the groups: {decision}"
            );
            // Each org once, at the highest role a default or one of the person's groups
            // gives there: never below either, never an org neither names.
            let mapped = org
                .group_roles()
                .iter()
                .filter(|entry| assertion.groups.contains(&entry.group))
                .map(|entry| &entry.grant);
            let given: Vec<&Grant> = org.provision().iter().chain(mapped).collect();
            for grant in &new.memberships {
                let highest = given
                    .iter()
                    .filter(|given| given.org == grant.org)
                    .map(|given| given.role)
                    .max();
                assert_eq!(Some(grant.role), highest, "{grant}: {decision}");
            }
            for wanted in &given {
                let granted = new
                    .memberships
                    .iter()
                    .filter(|grant| grant.org == wanted.org);
                assert_eq!(granted.count(), 1, "{wanted}: {decision}");
            }
        }
        Action::RedirectToIdp { org, idp, .. } => {
            assert_eq!(org, request.org());
            let portal = policy.org(org).and_then(|org| org.portal());
            assert_eq!(portal.map(|p| p.idp()), Some(idp.as_str()));
        }
        other => panic!("the oracle does not know {other:?}: teach it"),
    }
}

/// The highest role `org`'s `group_roles` map `groups` to in `target`.
fn highest_mapped(org: &OrgPolicy, groups: &[String], target: &str) -> Option<Role> {
    org.group_roles()
        .iter()
        .filter(|entry| entry.grant.org == target && groups.contains(&entry.group))
        .map(|entry| entry.grant.role)
        .max()
}

fn check_new_handle(policy: &Policy, scenario: &Scenario, handle: &str) {
    assert!(
        is_well_formed(handle),
        "handle `{handle}` is not well-formed"
    );
    assert!(
        handle.len() <= policy.max_handle_len(),
        "handle `{handle}` is longer than {}",
        policy.max_handle_len()
    );
    assert!(!is_reserved(handle), "handle `{handle}` is reserved");
    let config = &scenario.config;
    assert!(
        !config
            .reserved_handles
            .iter()
            .any(|word| word.trim().to_lowercase() == handle),
        "handle `{handle}` is reserved by the config"
    );
    assert!(
        !config.orgs.keys().any(|org| org.to_lowercase() == handle),
        "handle `{handle}` is an org id"
    );
    assert!(
        !scenario
            .accounts
            .iter()
            .any(|a| a.handle.to_lowercase() == handle),
        "handle `{handle}` is taken by an existing account"
    );
}

/// Existing accounts are left alone, but for the one identity a link adds and the roles
/// a raise lifts; a creation
/// adds exactly the planned account, without a password.
fn check_store_after(scenario: &Scenario, decision: &Decision, after: &[AccountRecord]) {
    let mut after: BTreeMap<_, _> = after.iter().map(|a| (a.id.clone(), a)).collect();
    for before in &scenario.accounts {
        let Some(now) = after.remove(&before.id) else {
            panic!("account `{}` went away", before.id);
        };
        let mut expected = before.clone();
        match decision.action() {
            Action::LinkAndSignIn { account, identity } if account == &before.id => {
                expected.identities.push(identity.clone());
            }
            Action::RaiseRolesAndSignIn { account, raises } if account == &before.id => {
                for raise in raises {
                    expected.memberships.insert(raise.org.clone(), raise.role);
                }
            }
            _ => {}
        }
        assert_eq!(now, &expected, "an existing account changed: {decision}");
    }
    match decision.action() {
        Action::Create(new) => {
            let created: Vec<_> = after.into_values().collect();
            let [created] = created.as_slice() else {
                panic!("{} accounts were created for one plan", created.len());
            };
            assert_eq!(created.handle, new.handle);
            assert_eq!(created.email, new.email);
            assert_eq!(created.identities, std::slice::from_ref(&new.identity));
            assert!(!created.has_password && !created.disabled);
            let granted: BTreeMap<_, _> = new
                .memberships
                .iter()
                .map(|g| (g.org.clone(), g.role))
                .collect();
            assert_eq!(created.memberships, granted);
        }
        _ => assert!(after.is_empty(), "an account appeared: {decision}"),
    }
}
