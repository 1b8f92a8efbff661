//! What an `engine` fuzz input decodes to: a policy case without its expectations.
//!
//! Independent random strings almost never meet: a request's org would never name a
//! configured org, an assertion's issuer never be the org's IdP. So the input carries,
//! beside the raw values, a few [`Wiring`] choices that copy one value onto another
//! (this org, that account's identity, a reserved word as the name). The wiring is applied
//! once, here, and the [`Scenario`] it gives is what the invariants check and what
//! `engine_to_case` prints: a dumped case needs no wiring to reproduce.

use std::collections::HashSet;

use arbitrary::Arbitrary;
use chrono::{DateTime, TimeDelta, Utc};
use jit_provisioning::handles::RESERVED;
use jit_provisioning::{
    AccountRecord, Config, Request, Role, RoleSync, Session, MAX_HANDLE_LEN, MAX_REAUTH_AFTER_SECS,
    MIN_HANDLE_LEN,
};

/// A situation at an org's login portal: everything a policy case holds but `expect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// The engine's clock.
    pub now: DateTime<Utc>,
    /// The deployment's config, not necessarily valid.
    pub config: Config,
    /// What the store holds; they may clash (then the scenario is skipped).
    pub accounts: Vec<AccountRecord>,
    /// What arrived.
    pub request: Request,
}

/// The raw structured input of the `engine` target.
#[derive(Debug, Clone, Arbitrary)]
pub struct EngineInput {
    // Decoded in this order, and fields past the end of the data come out zero: the wiring
    // goes first so that short inputs are wired too.
    wiring: Wiring,
    request: Request,
    config: Config,
    accounts: Vec<AccountRecord>,
    now: DateTime<Utc>,
}

/// Values copied from one place of the input to another, so that the interesting
/// branches (same org, same IdP, same identity, same email, same name) are reachable.
#[derive(Debug, Clone, Arbitrary)]
struct Wiring {
    /// The request goes to the n-th configured org.
    org: Option<u8>,
    /// The assertion comes from that org's own IdP.
    own_idp: bool,
    /// The request refers to the n-th account, in this way.
    account: Option<(u8, Link)>,
    /// That account is a member of the request's org.
    member: bool,
    /// The new account's name is one that is taken already.
    name: Option<TakenName>,
    /// The assertion's email domain is one the org has verified.
    verify_email_domain: bool,
    /// Timestamps this many seconds around `now`, where freshness and skew are decided.
    near_now: Option<i32>,
    /// Mend the config and the accounts into ones that validate and coexist, and emails
    /// into addresses, so that most inputs reach a decision; without it, their validation
    /// is fuzzed.
    tidy: bool,
}

/// How a request refers to an existing account.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Link {
    /// The assertion carries one of the account's identities; a portal visit has the
    /// account's session.
    Identity(u8),
    /// The assertion carries the account's email, as stored.
    Email,
    /// The assertion carries the account's email, upper-cased.
    EmailUpperCase,
    /// The assertion's given name is the account's handle.
    Handle,
}

/// A name that asks for a handle that is not free.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum TakenName {
    /// A built-in reserved word.
    Reserved(u8),
    /// An org id.
    OrgId(u8),
    /// A word from the config's `reserved_handles`.
    ConfigReserved(u8),
}

fn nth<T>(items: &[T], n: u8) -> Option<&T> {
    items.get(usize::from(n) % items.len().max(1))
}

impl EngineInput {
    /// Applies the wiring.
    pub fn into_scenario(self) -> Scenario {
        let EngineInput {
            wiring,
            mut request,
            mut config,
            mut accounts,
            now,
        } = self;
        if wiring.tidy {
            tidy_config(&mut config);
            tidy_accounts(&mut accounts);
            if let Request::Assertion(assertion) = &mut request {
                if let Some(email) = &mut assertion.email {
                    mend_email(email);
                }
            }
        }
        let org_ids: Vec<String> = config.orgs.keys().cloned().collect();

        if let Some(org) = wiring.org.and_then(|n| nth(&org_ids, n)) {
            match &mut request {
                Request::PortalVisit(visit) => visit.org.clone_from(org),
                Request::Assertion(assertion) => assertion.org.clone_from(org),
                Request::IdpError(error) => error.org.clone_from(org),
                _ => {}
            }
        }
        let org = request.org().to_owned();

        if let Request::Assertion(assertion) = &mut request {
            if wiring.own_idp {
                if let Some(idp) = config.orgs.get(&org).and_then(|o| o.idp.clone()) {
                    assertion.issuer = idp;
                }
            }
        }

        if let Some((n, link)) = wiring.account {
            let at = usize::from(n) % accounts.len().max(1);
            if let (Some(account), true) = (accounts.get_mut(at), wiring.member) {
                account.memberships.insert(org.clone(), Role::Member);
            }
            if let Some(account) = accounts.get(at) {
                match &mut request {
                    Request::PortalVisit(visit) => {
                        let sso_at = visit.session.as_ref().and_then(|s| s.sso_at);
                        visit.session = Some(Session::new(account.id.clone(), sso_at));
                    }
                    Request::Assertion(assertion) => match link {
                        Link::Identity(i) => {
                            if let Some(identity) = nth(&account.identities, i) {
                                assertion.issuer.clone_from(&identity.issuer);
                                assertion.subject.clone_from(&identity.subject);
                            }
                        }
                        Link::Email => assertion.email.clone_from(&account.email),
                        Link::EmailUpperCase => {
                            assertion.email = account.email.as_deref().map(str::to_uppercase);
                        }
                        Link::Handle => {
                            assertion.given_name = Some(account.handle.clone());
                            assertion.family_name = None;
                        }
                    },
                    Request::IdpError(_) => {}
                    _ => {}
                }
            }
        }

        if let Request::Assertion(assertion) = &mut request {
            let taken = match wiring.name {
                Some(TakenName::Reserved(n)) => nth(RESERVED, n).map(|word| (*word).to_owned()),
                Some(TakenName::OrgId(n)) => nth(&org_ids, n).cloned(),
                Some(TakenName::ConfigReserved(n)) => nth(&config.reserved_handles, n).cloned(),
                None => None,
            };
            if let Some(name) = taken {
                assertion.given_name = Some(name);
                assertion.family_name = None;
            }
            if wiring.verify_email_domain {
                let domain = assertion.email.as_deref().and_then(|e| e.rsplit_once('@'));
                if let (Some((_, domain)), Some(org)) = (domain, config.orgs.get_mut(&org)) {
                    org.verified_domains.push(domain.to_owned());
                }
            }
        }

        if let Some(secs) = wiring.near_now {
            let at = now.checked_add_signed(TimeDelta::seconds(i64::from(secs)));
            match &mut request {
                Request::Assertion(assertion) => assertion.authn_instant = at,
                Request::PortalVisit(visit) => {
                    if let Some(session) = &mut visit.session {
                        session.sso_at = at;
                    }
                }
                Request::IdpError(_) => {}
                _ => {}
            }
        }

        // Again, for what the wiring added to the config.
        if wiring.tidy {
            tidy_config(&mut config);
        }

        Scenario {
            now,
            config,
            accounts,
            request,
        }
    }
}

/// Mends what [`Config::validate`] would refuse, keeping every value that it accepts.
fn tidy_config(config: &mut Config) {
    if let Some(deployment) = &mut config.deployment {
        if deployment != "multi_tenant" && deployment != "private_instance" {
            let private = deployment.len() % 2 == 1;
            *deployment = if private {
                "private_instance"
            } else {
                "multi_tenant"
            }
            .to_owned();
        }
    }
    if let Some(len) = &mut config.max_handle_len {
        let span = MAX_HANDLE_LEN - MIN_HANDLE_LEN + 1;
        *len = MIN_HANDLE_LEN + *len % span;
    }
    config
        .reserved_handles
        .retain(|word| !word.trim().is_empty());
    config.orgs.retain(|id, _| !id.is_empty());

    let org_ids: Vec<String> = config.orgs.keys().cloned().collect();
    for (id, org) in &mut config.orgs {
        if org.idp.as_deref().is_some_and(|idp| idp.trim().is_empty()) {
            org.idp = None;
        }
        if org.jit && org.idp.is_none() {
            org.idp = Some(format!("https://idp.{id}"));
        }
        if let Some(secs) = &mut org.reauth_after_secs {
            *secs %= MAX_REAUTH_AFTER_SECS + 1;
        }
        if let Some(provision) = &mut org.provision {
            let mut seen = HashSet::new();
            provision.retain_mut(|grant| {
                let pick = grant.role.len() as u8;
                mend_org_and_role(&mut grant.org, &mut grant.role, &org_ids, pick);
                seen.insert(grant.org.clone())
            });
            if provision.is_empty() {
                org.provision = None;
            }
        }
        org.verified_domains.retain(|domain| {
            let domain = domain.trim();
            !domain.is_empty()
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
        org.required_groups.retain(|group| !group.is_empty());
        org.group_roles.retain_mut(|entry| {
            let pick = entry.group.len() as u8;
            mend_org_and_role(&mut entry.org, &mut entry.role, &org_ids, pick);
            !entry.group.is_empty() && org_ids.contains(&entry.org)
        });
        // Any text picks a mode; upgrade needs group_roles to sync from.
        if let Some(mode) = &mut org.sync_roles {
            let mode_name = [RoleSync::Never, RoleSync::Upgrade][mode.len() % 2].as_str();
            *mode = mode_name.to_owned();
        }
        if org.group_roles.is_empty() {
            org.sync_roles = None;
        }
    }
}

/// Points an unknown org at a configured one (the `pick`-th) and an unknown role at a
/// real one, so that random grants reach the engine instead of failing validation.
fn mend_org_and_role(org: &mut String, role: &mut String, org_ids: &[String], pick: u8) {
    if !org_ids.contains(org) {
        *org = nth(org_ids, pick).cloned().unwrap_or_default();
    }
    if role.parse::<Role>().is_err() {
        *role = [Role::Member, Role::Contributor, Role::Admin][role.len() % 3]
            .as_str()
            .to_owned();
    }
}

/// Random text hardly ever holds an `@` with text on both sides: give it a domain.
fn mend_email(email: &mut String) {
    if !email.contains('@') {
        email.push_str("@acme.example");
    }
}

/// Drops each account that clashes with an earlier one, as a store would refuse it, and
/// gives the emails a domain.
fn tidy_accounts(accounts: &mut Vec<AccountRecord>) {
    for email in accounts.iter_mut().filter_map(|a| a.email.as_mut()) {
        mend_email(email);
    }
    let mut ids = HashSet::new();
    let mut handles = HashSet::new();
    let mut identities = HashSet::new();
    accounts.retain(|account| {
        let fits = !ids.contains(&account.id)
            && !handles.contains(&account.handle.to_lowercase())
            && account.identities.iter().all(|i| !identities.contains(i));
        if fits {
            ids.insert(account.id.clone());
            handles.insert(account.handle.to_lowercase());
            identities.extend(account.identities.iter().cloned());
        }
        fits
    });
}
