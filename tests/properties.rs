//! Property tests on the pure core: handle derivation and decisions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use jit_provisioning::handles::{cut_at_break, is_reserved, is_well_formed};
use jit_provisioning::{
    decide, AccountLookup, AccountRecord, Action, Assertion, Config, Deployment, GroupRole,
    HandleBase, Identity, IdpError, MemoryStore, Outcome, PortalVisit, Provisioner, Request, Role,
    RoleSync, Session, STATUS_REQUEST_DENIED,
};
use proptest::prelude::*;

const IDP: &str = "https://idp.acme.example";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

/// Names: mostly real-looking, often hostile.
fn name() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        "[A-Za-z' -]{0,20}",
        "\\PC{0,24}",
        any::<String>(),
        Just("José Núñez".to_owned()),
        Just("Ａｄｍｉｎ".to_owned()),
        Just("\u{202E}nimda".to_owned()),
        Just("a\u{200B}d\u{200D}m\u{AD}in".to_owned()),
    ])
}

fn email() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        (
            "[a-z.+]{1,10}",
            prop::sample::select(vec!["acme.example", "ACME.Example", "other.example"])
        )
            .prop_map(|(local, domain)| format!("{local}@{domain}")),
        Just("jane@acme.example".to_owned()),
        Just("JANE@acme.example".to_owned()),
        any::<String>(),
    ])
}

fn handle_inputs() -> impl Strategy<
    Value = (
        Option<String>,
        Option<String>,
        Option<String>,
        usize,
        Vec<u16>,
    ),
> {
    (
        name(),
        name(),
        email(),
        8usize..=255,
        prop::collection::vec(0u16..40, 0..30),
    )
}

/// The candidates a handle search walks, by the spec's words, as an oracle.
fn candidates(base: &str, max_len: usize) -> impl Iterator<Item = String> + '_ {
    std::iter::once(cut_at_break(base, max_len)).chain((2u64..).map(move |n| {
        let suffix = format!("-{n}");
        format!("{}{suffix}", cut_at_break(base, max_len - suffix.len()))
    }))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn handles_are_well_formed_free_and_the_lowest_free_suffix(
        (given, family, email, max_len, taken_suffixes) in handle_inputs()
    ) {
        let base = HandleBase::derive(given.as_deref(), family.as_deref(), email.as_deref());
        prop_assert_eq!(&base, &HandleBase::derive(given.as_deref(), family.as_deref(), email.as_deref()));
        // Take a random selection of the candidates themselves, so collisions happen.
        let all: Vec<String> = candidates(base.as_str(), max_len).take(40).collect();
        let taken: HashSet<String> = taken_suffixes.iter().map(|&i| all[usize::from(i)].clone()).collect();
        let is_taken = |c: &str| taken.contains(c) || is_reserved(c);

        let handle = base.resolve(max_len, taken.len() + 100, is_taken).unwrap();
        prop_assert!(is_well_formed(&handle), "{:?}", handle);
        prop_assert!(handle.len() <= max_len);
        prop_assert!(!is_taken(&handle));
        let expected = candidates(base.as_str(), max_len).find(|c| !is_taken(c)).unwrap();
        prop_assert_eq!(&handle, &expected, "not the lowest free candidate");
        let stems = base.stems(max_len);
        prop_assert!(stems.iter().any(|stem| handle.starts_with(stem.as_str())));
    }
}

#[derive(Debug, Clone)]
struct Scenario {
    config: Config,
    request: Request,
    known: AccountLookup,
    now: DateTime<Utc>,
}

fn account() -> impl Strategy<Value = AccountRecord> {
    (
        "u[0-9]{1,2}",
        prop::sample::select(vec![
            "jane-doe",
            "sam-lee",
            "admin",
            "Jane-Doe",
            "jane-doe-2",
        ]),
        email(),
        prop::collection::vec(
            (
                prop::sample::select(vec![IDP, "https://idp.other.example"]),
                "0u[0-9]",
            ),
            0..3,
        ),
        prop::collection::btree_map(
            prop::sample::select(vec!["acme", "globex"]),
            prop::sample::select(vec![Role::Member, Role::Contributor, Role::Admin]),
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(|(id, handle, email, identities, memberships, disabled)| {
            let mut built = AccountRecord::new(id, handle);
            built.email = email;
            built.identities = identities
                .into_iter()
                .map(|(issuer, subject)| Identity {
                    issuer: issuer.into(),
                    subject,
                })
                .collect();
            built.memberships = memberships
                .into_iter()
                .map(|(org, role)| (org.to_owned(), role))
                .collect();
            built.disabled = disabled;
            built.has_password = true;
            built
        })
}

fn config() -> impl Strategy<Value = Config> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u64..100_000,
        any::<bool>(),
    )
        .prop_map(|(private, verified, groups, two_orgs, reauth, sync)| {
            let mut json = serde_json::json!({
                "orgs": {
                    "acme": { "jit": true, "idp": IDP, "reauth_after_secs": reauth },
                    "globex": {}
                }
            });
            let acme = &mut json["orgs"]["acme"];
            if verified {
                acme["verified_domains"] = serde_json::json!(["acme.example"]);
            }
            if groups {
                acme["required_groups"] = serde_json::json!(["eng"]);
            }
            if two_orgs {
                acme["provision"] = serde_json::json!([
                    { "org": "acme", "role": "contributor" },
                    { "org": "globex", "role": "admin" }
                ]);
            }
            if sync {
                acme["group_roles"] = serde_json::json!([
                    { "group": "eng", "org": "acme", "role": "contributor" },
                    { "group": "ops", "org": "acme", "role": "admin" },
                    { "group": "ops", "org": "globex", "role": "contributor" }
                ]);
                acme["sync_roles"] = serde_json::json!("upgrade");
            }
            if private {
                json["deployment"] = serde_json::json!("private_instance");
            }
            serde_json::from_value(json).unwrap()
        })
}

fn request() -> impl Strategy<Value = Request> {
    // Mostly the org with a portal and its own IdP, so that most cases get past the
    // refusals on their face and reach the store-based rules.
    let org = prop_oneof![8 => Just("acme"), 1 => Just("globex"), 1 => Just("ghost")]
        .prop_map(str::to_owned);
    let return_to = prop::option::of(prop_oneof![
        Just("/orgs/acme?tab=1".to_owned()),
        Just("//evil.example".to_owned()),
        any::<String>()
    ]);
    let assertion = (
        org.clone(),
        prop_oneof![8 => Just(IDP), 1 => Just("https://evil.example")],
        prop_oneof![8 => "0u[0-9]", 1 => Just(String::new()), 1 => any::<String>()],
        name(),
        name(),
        email(),
        prop::collection::vec(prop::sample::select(vec!["eng", "ops", "ENG"]), 0..4),
        prop::bool::weighted(0.2),
        prop::option::of(-1_000i64..1_000),
        return_to.clone(),
    )
        .prop_map(
            |(
                org,
                issuer,
                subject,
                given_name,
                family_name,
                email,
                groups,
                groups_incomplete,
                instant,
                return_to,
            )| {
                Request::Assertion({
                    let mut built = Assertion::default();
                    built.org = org;
                    built.issuer = issuer.into();
                    built.subject = subject;
                    built.given_name = given_name;
                    built.family_name = family_name;
                    built.email = email;
                    built.groups = groups.into_iter().map(str::to_owned).collect();
                    built.groups_incomplete = groups_incomplete;
                    built.authn_instant = instant.map(|secs| now() + TimeDelta::seconds(secs));
                    built.return_to = return_to;
                    built
                })
            },
        );
    let visit = (
        org.clone(),
        prop::option::of(("u[0-9]{1,2}", prop::option::of(-100_000i64..1_000))),
        return_to,
    )
        .prop_map(|(org, session, return_to)| {
            Request::PortalVisit({
                let mut built = PortalVisit::new(org);
                built.session = session.map(|(account, ago)| {
                    Session::new(account, ago.map(|secs| now() - TimeDelta::seconds(secs)))
                });
                built.return_to = return_to;
                built
            })
        });
    let error = (
        org,
        prop_oneof![Just(STATUS_REQUEST_DENIED.to_owned()), any::<String>()],
    )
        .prop_map(|(org, status)| Request::IdpError(IdpError::new(org, status)));
    prop_oneof![3 => assertion, 2 => visit, 1 => error]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        config(),
        request(),
        prop::option::weighted(0.3, account()),
        prop::collection::vec(account(), 0..3),
        prop::option::of(account()),
        prop::collection::vec(
            prop::sample::select(vec!["jane-doe", "jane-doe-2", "user"]),
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(
            |(config, request, by_identity, mut by_email, session_account, taken, same_email)| {
                // A store holds one account per id: two records under one id are no
                // store's answer, and would make "the account matched" ambiguous.
                let mut ids = HashSet::new();
                by_email.retain(|account| ids.insert(account.id.clone()));
                // Give the store's accounts the assertion's email half the time, in another
                // case, so that the email rules are exercised rather than rarely reached.
                if let (true, Request::Assertion(assertion)) = (same_email, &request) {
                    for account in &mut by_email {
                        account.email = assertion.email.as_ref().map(|e| e.to_uppercase());
                    }
                }
                Scenario {
                    config,
                    request,
                    known: {
                        let mut built = AccountLookup::default();
                        built.by_identity = by_identity;
                        built.by_email = by_email;
                        built.session_account = session_account;
                        built.taken_handles = taken.into_iter().map(str::to_owned).collect();
                        built
                    },
                    now: now(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn decisions_keep_the_safety_rules(s in scenario()) {
        let policy = s.config.validate().unwrap();
        let decision = decide(&policy, &s.request, &s.known, s.now);
        prop_assert_eq!(&decision, &decide(&policy, &s.request, &s.known, s.now), "not deterministic");

        // Memberships are granted only when an account is created.
        if !decision.grants().is_empty() {
            prop_assert_eq!(decision.outcome(), Outcome::AccountCreated);
        }
        // Part of the groups never passes a group requirement.
        if let Request::Assertion(assertion) = &s.request {
            let requires = policy.org(&assertion.org).is_some_and(|org| !org.required_groups().is_empty());
            if assertion.groups_incomplete && requires {
                prop_assert!(
                    matches!(decision.outcome(), Outcome::Denied | Outcome::NotFound),
                    "signed in on part of the groups: {:?}", decision
                );
            }
        }
                // Every refusal says why; nothing else does.
        let refused = matches!(decision.outcome(), Outcome::Denied | Outcome::NotFound);
        prop_assert_eq!(refused, decision.reason().is_some());

        match decision.action() {
            Action::LinkAndSignIn { account, identity } => {
                let Request::Assertion(assertion) = &s.request else {
                    return Err(TestCaseError::fail("linked without an assertion"));
                };
                prop_assert!(s.known.by_identity.is_none(), "linked by email over a linked identity");
                let email = assertion.email.as_deref().unwrap().trim().to_lowercase();
                let domain = email.rsplit('@').next().unwrap();
                let org = policy.org(&assertion.org).unwrap();
                prop_assert!(
                    policy.deployment() == Deployment::PrivateInstance
                        || org.verified_domains().iter().any(|d| d == domain),
                    "linked by email outside a verified domain"
                );
                let matched = s.known.by_email.iter().find(|a| &a.id == account).unwrap();
                prop_assert!(!matched.has_identity_from(&identity.issuer));
                prop_assert!(!matched.disabled);
                prop_assert_eq!(&identity.issuer, &assertion.issuer);
            }
            Action::Create(new) => {
                prop_assert!(s.known.by_identity.is_none());
                prop_assert!(is_well_formed(&new.handle));
                prop_assert!(!is_reserved(&new.handle));
                prop_assert!(policy.org(&new.handle).is_none(), "a handle equal to an org id");
                let taken: HashSet<String> = s.known.taken_handles.iter().map(|h| h.to_lowercase()).collect();
                prop_assert!(!taken.contains(&new.handle));
                // A store re-running the choice on what the engine saw makes the same
                // handle; on a store where a concurrent login took it, the next free one
                // by the same rule: never a reserved word, an org id or a taken handle.
                prop_assert!(new.handle_choice.is_some());
                let again = new.free_handle(&s.known.taken_handles);
                prop_assert_eq!(again.as_ref(), Some(&new.handle));
                let mut later = s.known.taken_handles.clone();
                later.push(new.handle.clone());
                if let Some(next) = new.free_handle(&later) {
                    prop_assert!(next != new.handle);
                    prop_assert!(is_well_formed(&next));
                    prop_assert!(!is_reserved(&next));
                    prop_assert!(policy.org(&next).is_none(), "a handle equal to an org id");
                    prop_assert!(!taken.contains(&next));
                    prop_assert!(next.len() <= policy.max_handle_len());
                }
            }
            Action::SignIn { account } => {
                // Signed in only as the account linked to the identity (found by identity,
                // or by email when it holds this very identity) or the session's own.
                let holds_identity = |a: &&AccountRecord| match &s.request {
                    Request::Assertion(assertion) => a.identities.contains(&assertion.identity()),
                    _ => false,
                };
                let known: Vec<&AccountRecord> = s
                    .known
                    .by_identity
                    .iter()
                    .chain(&s.known.session_account)
                    .chain(s.known.by_email.iter().filter(holds_identity))
                    .collect();
                // (Generated look-ups may hold two records under one id.)
                let signed_in = known.iter().any(|a| &a.id == account && !a.disabled);
                prop_assert!(signed_in, "signed in to {:?}", account);
            }
            Action::RaiseRolesAndSignIn { account, raises } => {
                // Only the linked account's roles rise, each strictly, in an org it is
                // already a member of, and only from groups sent whole.
                let Request::Assertion(assertion) = &s.request else {
                    return Err(TestCaseError::fail("raised without an assertion"));
                };
                prop_assert!(!assertion.groups_incomplete, "raised from part of the groups");
                let org = policy.org(&assertion.org).unwrap();
                prop_assert_eq!(org.sync_roles(), RoleSync::Upgrade);
                // The store found it by identity, or by email holding this very identity.
                let linked = s.known.by_identity.iter()
                    .chain(s.known.by_email.iter().filter(|a| a.identities.contains(&assertion.identity())))
                    .find(|a| &a.id == account);
                let Some(linked) = linked else {
                    return Err(TestCaseError::fail(format!("raised {account}, not the linked account")));
                };
                prop_assert!(!linked.disabled);
                prop_assert!(!raises.is_empty());
                for raise in raises {
                    let held = linked.memberships.get(&raise.org);
                    prop_assert!(held.is_some_and(|&held| held < raise.role), "{} over {:?}", raise, held);
                    prop_assert!(
                        org.group_roles().iter().any(|entry| entry.grant == *raise && assertion.groups.contains(&entry.group)),
                        "{} is no group's role", raise
                    );
                }
            }
            Action::Nothing | Action::RedirectToIdp { .. } => {}
            other => {
                return Err(TestCaseError::fail(format!(
                    "an action this oracle does not check: {other:?}"
                )))
            }
        }
        if let Some(jit_provisioning::Landing::Path(path)) = decision.landing() {
            prop_assert!(jit_provisioning::safe_return_path(path).is_ok());
        }
    }
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(vec![Role::Member, Role::Contributor, Role::Admin])
}

/// Random `provision` and `group_roles` for acme, and the groups an assertion carries.
fn grants_scenario() -> impl Strategy<Value = (Config, Vec<String>)> {
    let group = || prop::sample::select(vec!["eng", "ops", "admins", "everyone"]);
    let org = || prop::sample::select(vec!["acme", "globex", "initech"]);
    (
        prop::collection::btree_map(org(), role(), 1..3),
        prop::collection::vec((group(), org(), role()), 0..6),
        prop::collection::vec(group(), 0..4),
    )
        .prop_map(|(provision, group_roles, groups)| {
            let provision: Vec<_> = provision
                .into_iter()
                .map(|(org, role)| serde_json::json!({ "org": org, "role": role }))
                .collect();
            let group_roles: Vec<_> = group_roles
                .into_iter()
                .map(|(group, org, role)| serde_json::json!({ "group": group, "org": org, "role": role }))
                .collect();
            let json = serde_json::json!({
                "orgs": {
                    "acme": { "jit": true, "idp": IDP, "provision": provision, "group_roles": group_roles },
                    "globex": {},
                    "initech": {}
                }
            });
            let groups = groups.into_iter().map(str::to_owned).collect();
            (serde_json::from_value(json).unwrap(), groups)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn new_accounts_get_every_default_and_every_mapped_role_at_least(
        (config, groups) in grants_scenario()
    ) {
        let policy = config.validate().unwrap();
        let acme = policy.org("acme").unwrap();
        let assertion = {
 let mut built = Assertion::default();
built.org = "acme".to_owned();
built.issuer = IDP.to_owned();
built.subject = "00u1".to_owned();
built.given_name = Some("Jane".to_owned());
built.family_name = Some("Doe".to_owned());
built.groups = groups.clone();
built
};
        let decision = decide(&policy, &Request::Assertion(assertion), &AccountLookup::default(), now());
        let Action::Create(new) = decision.action() else {
            return Err(TestCaseError::fail(format!("not created: {decision:?}")));
        };
        let role_in = |org: &str| new.memberships.iter().find(|grant| grant.org == org).map(|grant| grant.role);
        // Never below a default.
        for default in acme.provision() {
            prop_assert!(role_in(&default.org).is_some_and(|role| role >= default.role), "{default} lowered");
        }
        // Never below a group the person is in.
        let mapped: Vec<&GroupRole> = acme.group_roles().iter().filter(|entry| groups.contains(&entry.group)).collect();
        for entry in &mapped {
            prop_assert!(role_in(&entry.grant.org).is_some_and(|role| role >= entry.grant.role), "{} lowered", entry.grant);
        }
        // Nothing else: each org once, with the highest role that a default or a group gives.
        let mut orgs: Vec<&str> = new.memberships.iter().map(|grant| grant.org.as_str()).collect();
        orgs.sort_unstable();
        orgs.dedup();
        prop_assert_eq!(orgs.len(), new.memberships.len(), "an org granted twice");
        for grant in &new.memberships {
            let highest = acme.provision().iter().chain(mapped.iter().map(|entry| &entry.grant))
                .filter(|given| given.org == grant.org)
                .map(|given| given.role)
                .max();
            prop_assert_eq!(Some(grant.role), highest, "{} granted", grant);
        }
    }
}

/// An account linked at acme's IdP with random roles, random `group_roles` under
/// `sync_roles = "upgrade"`, and the groups of a run of sign-ins.
fn sync_scenario() -> impl Strategy<Value = (Config, AccountRecord, Vec<Vec<String>>)> {
    let group = || prop::sample::select(vec!["eng", "ops", "admins", "everyone"]);
    let org = || prop::sample::select(vec!["acme", "globex", "initech"]);
    (
        prop::collection::btree_map(org(), role(), 0..4),
        prop::collection::vec((group(), org(), role()), 1..6),
        prop::collection::vec(prop::collection::vec(group(), 0..4), 1..6),
    )
        .prop_map(|(memberships, group_roles, sign_ins)| {
            let group_roles: Vec<_> = group_roles
                .into_iter()
                .map(|(group, org, role)| serde_json::json!({ "group": group, "org": org, "role": role }))
                .collect();
            let json = serde_json::json!({
                "orgs": {
                    "acme": { "jit": true, "idp": IDP, "group_roles": group_roles, "sync_roles": "upgrade" },
                    "globex": {},
                    "initech": {}
                }
            });
            let account = {
 let mut built = AccountRecord::new("u1", "jane-doe");
built.identities = vec![Identity { issuer: IDP.into(), subject: "00u1".into() }];
built.memberships = memberships.into_iter().map(|(org, role)| (org.to_owned(), role)).collect();
built.has_password = false;
built
};
            let sign_ins = sign_ins
                .into_iter()
                .map(|groups| groups.into_iter().map(str::to_owned).collect())
                .collect();
            (serde_json::from_value(json).unwrap(), account, sign_ins)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// Through the provisioner and a store: sign-ins with any groups, in any order, never
    /// lower a role, never add or drop an org, and end at the highest role held or mapped.
    #[test]
    fn no_role_is_ever_lowered((config, account, sign_ins) in sync_scenario()) {
        let policy = config.validate().unwrap();
        let acme = policy.org("acme").unwrap().clone();
        let store = MemoryStore::with_accounts([account.clone()]).unwrap();
        let provisioner = Provisioner::new(policy, store);
        let mut held = account.memberships.clone();
        for groups in &sign_ins {
            let assertion = {
 let mut built = Assertion::default();
built.org = "acme".to_owned();
built.issuer = IDP.to_owned();
built.subject = "00u1".to_owned();
built.groups = groups.clone();
built
};
            let done = pollster::block_on(provisioner.handle(&Request::Assertion(assertion), now())).unwrap();
            prop_assert_eq!(done.decision.outcome(), Outcome::SignedIn);
            let now_held = provisioner.store().snapshot()[0].memberships.clone();
            prop_assert_eq!(now_held.keys().collect::<Vec<_>>(), held.keys().collect::<Vec<_>>(), "orgs changed");
            for (org, role) in &now_held {
                let before = held[org];
                prop_assert!(*role >= before, "{} lowered from {} to {}", org, before, role);
                let mapped = acme.group_roles().iter()
                    .filter(|entry| entry.grant.org == *org && groups.contains(&entry.group))
                    .map(|entry| entry.grant.role)
                    .max();
                prop_assert_eq!(*role, mapped.map_or(before, |mapped| mapped.max(before)), "{} in {}", role, org);
            }
            prop_assert_eq!(done.account.map(|a| a.memberships), Some(now_held.clone()));
            held = now_held;
        }
    }
}
