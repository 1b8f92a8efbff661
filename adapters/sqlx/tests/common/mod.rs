//! Shared fixtures: the policy, and the crowd of app servers logging people in at once.
#![allow(dead_code)] // each test crate uses its own subset
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::testing::{BurstReport, CountingStore, FIRST_LOGIN_CALLS};
use jit_provisioning::{
    AccountId, AccountStore, Assertion, Config, Identity, Outcome, Policy, Provisioner, Request,
    Role,
};

pub const IDP: &str = "https://idp.acme.example";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

/// Acme provisions into two orgs, so every new account gets two memberships.
pub fn policy() -> Policy {
    let config: Config = serde_json::from_str(
        r#"{"orgs": {
            "acme": {"jit": true, "idp": "https://idp.acme.example",
                     "provision": [{"org": "acme", "role": "member"},
                                   {"org": "acme-labs", "role": "contributor"}]},
            "acme-labs": {}
        }}"#,
    )
    .unwrap();
    config.validate().unwrap()
}

pub fn identity(subject: &str) -> Identity {
    Identity {
        issuer: IDP.into(),
        subject: subject.into(),
    }
}

/// How many people the crowd has, how often each logs in, and on how many app servers.
pub const PEOPLE: usize = 100;
pub const LOGINS_EACH: usize = 4;
pub const SERVERS: usize = 4;

/// Person `n`: half of them are Jane Doe, the rest share two other names.
fn person(n: usize) -> Request {
    let (given, family) = match n % 4 {
        0 | 2 => ("Jane", "Doe"),
        1 => ("John", "Roe"),
        _ => ("José", "Núñez"),
    };
    Request::Assertion({
        let mut built = Assertion::default();
        built.org = "acme".into();
        built.issuer = IDP.into();
        built.subject = format!("00u{n}");
        built.given_name = Some(given.into());
        built.family_name = Some(family.into());
        built
    })
}

/// What the crowd took.
#[derive(Debug)]
pub struct CrowdReport {
    pub accounts: usize,
    pub logins: usize,
    /// `create_account` calls beyond one per account: creations that lost a race for a
    /// handle or an identity and were decided again.
    pub lost_creations: usize,
    pub store_calls: usize,
    pub elapsed: Duration,
}

/// `PEOPLE` people log in `LOGINS_EACH` times each, all at once, spread over one
/// provisioner per store (each store its own pool: an app server), so that every person's
/// logins race on different servers. Checks the outcome and returns the figures.
pub async fn crowd<S: AccountStore + 'static>(stores: Vec<S>) -> CrowdReport {
    assert_eq!(stores.len(), SERVERS);
    let servers: Vec<Arc<Provisioner<CountingStore<S>>>> = stores
        .into_iter()
        .map(|store| {
            // The default attempts: the stores pick the next free suffix themselves, so
            // only a person's own logins racing each other decide again.
            Arc::new(Provisioner::new(policy(), CountingStore::new(store)))
        })
        .collect();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(PEOPLE * LOGINS_EACH);
    for round in 0..LOGINS_EACH {
        for n in 0..PEOPLE {
            let server = Arc::clone(&servers[(n + round) % SERVERS]);
            tasks.push(tokio::spawn(async move {
                (n, server.handle(&person(n), now()).await)
            }));
        }
    }
    let mut account_of: BTreeMap<usize, BTreeSet<AccountId>> = BTreeMap::new();
    let mut created = BTreeMap::<usize, usize>::new();
    let mut errors = Vec::new();
    for task in tasks {
        let (n, result) = task.await.unwrap();
        match result {
            Ok(done) => {
                let outcome = done.decision.outcome();
                assert!(
                    matches!(outcome, Outcome::AccountCreated | Outcome::SignedIn),
                    "person {n}: {}",
                    done.decision
                );
                if outcome == Outcome::AccountCreated {
                    *created.entry(n).or_default() += 1;
                }
                let account = done.account.expect("a signed-in login has its account");
                account_of.entry(n).or_default().insert(account.id);
            }
            Err(error) => errors.push(format!("person {n}: {error}")),
        }
    }
    let elapsed = started.elapsed();
    assert!(
        errors.is_empty(),
        "{} logins failed: {errors:#?}",
        errors.len()
    );

    for n in 0..PEOPLE {
        assert_eq!(created.get(&n), Some(&1), "person {n} was created once");
        assert_eq!(
            account_of.get(&n).map(BTreeSet::len),
            Some(1),
            "all of person {n}'s logins land in one account"
        );
    }
    // What the database holds, read back through the first server's store.
    let store = servers[0].store();
    let mut handles = BTreeSet::new();
    for n in 0..PEOPLE {
        let record = store
            .account_by_identity(&identity(&format!("00u{n}")))
            .await
            .unwrap()
            .expect("every person has an account");
        assert_eq!(account_of[&n].first(), Some(&record.id));
        assert_eq!(
            record.memberships,
            BTreeMap::from([
                ("acme".to_owned(), Role::Member),
                ("acme-labs".to_owned(), Role::Contributor),
            ]),
            "{record:?}"
        );
        assert_eq!(record.identities.len(), 1);
        assert!(
            handles.insert(record.handle.clone()),
            "{} twice",
            record.handle
        );
    }
    let jane_does = handles.iter().filter(|h| h.starts_with("jane-doe")).count();
    assert_eq!(jane_does, PEOPLE / 2);
    for suffix in 2..=PEOPLE / 2 {
        assert!(
            handles.contains(&format!("jane-doe-{suffix}")),
            "jane-doe-{suffix}"
        );
    }
    let accounts: BTreeSet<&AccountId> = account_of.values().flatten().collect();

    let counts: Vec<_> = servers
        .iter()
        .map(|server| server.store().counts())
        .collect();
    let creations: usize = counts.iter().map(|c| c.create_account).sum();
    CrowdReport {
        accounts: accounts.len(),
        logins: PEOPLE * LOGINS_EACH,
        lost_creations: creations - accounts.len(),
        store_calls: counts.iter().map(|c| c.total()).sum(),
        elapsed,
    }
}

/// What every backend's burst of a thousand first logins of one name must show: the last
/// handle `pat-smith-1000`, one look-up and one creation a login, one decision each.
pub fn assert_burst_of_a_thousand(backend: &str, report: &BurstReport) {
    println!(
        "{backend}, 1,000 Pat Smiths over 4 app servers: {:.2?}, at most {} store calls and \
         {} decision(s) a login",
        report.elapsed, report.max_calls, report.max_attempts
    );
    assert_eq!(
        report.handles.last().map(String::as_str),
        Some("pat-smith-1000")
    );
    assert!(
        report.max_calls <= FIRST_LOGIN_CALLS,
        "a login made {} store calls",
        report.max_calls
    );
    assert_eq!(report.max_attempts, 1, "no login had to decide twice");
}
