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
use jit_provisioning::org::{
    OrgDirectory, OrgRegistry, OrgState, OrgUpdate, OrgWrite, UpdateError,
};
use jit_provisioning::testing::{BurstReport, CountingStore, FIRST_LOGIN_CALLS};
use jit_provisioning::{
    AccountId, AccountStore, Assertion, Config, Identity, OrgConfig, Outcome, Policy, Provisioner,
    Request, Role,
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

/// Acme's SSO as an org record keeps it.
pub fn acme_org() -> OrgConfig {
    serde_json::from_str(
        r#"{"jit": true, "idp": "https://idp.acme.example", "verified_domains": ["acme.example"]}"#,
    )
    .unwrap()
}

/// One registry per app server, each over its own directory (its own pool), with the
/// default refresh.
fn registries(directories: Vec<Arc<dyn OrgDirectory>>) -> Vec<Arc<OrgRegistry>> {
    directories
        .into_iter()
        .map(|directory| Arc::new(OrgRegistry::new(directory, &Config::default()).unwrap()))
        .collect()
}

/// The version of `org` as `registry` serves it now.
async fn version_seen(registry: &OrgRegistry, org: &str) -> u64 {
    let live = registry.org(org).await.unwrap().expect("the org exists");
    live.record().version
}

/// Each app server in turn changes acme (an update, then a state change, alternately)
/// while every server has it cached; every other server is polled until it serves the
/// new version, which must take under a second from the start of the write (the
/// registries' default refresh is half a second, plus a round trip).
pub async fn every_server_sees_each_change(backend: &str, directories: Vec<Arc<dyn OrgDirectory>>) {
    let registries = registries(directories);
    registries[0]
        .update(OrgUpdate::new("acme", acme_org(), "support:sam", now()))
        .await
        .unwrap();
    for registry in &registries {
        assert_eq!(version_seen(registry, "acme").await, 1);
    }
    let mut seen_after = Vec::new();
    for round in 0..2 * registries.len() {
        let writer = round % registries.len();
        let version = round as u64 + 1;
        let started = Instant::now();
        let written = if round % 2 == 0 {
            let mut config = acme_org();
            config.required_groups = vec![format!("round-{round}")];
            let update = OrgUpdate::new("acme", config, format!("admin:{writer}"), now());
            registries[writer].update(update.expecting(version)).await
        } else {
            let state = OrgState::Inactive;
            let actor = format!("admin:{writer}");
            registries[writer]
                .set_state("acme", state, Some(version), &actor, now())
                .await
        };
        assert_eq!(written.unwrap().version, version + 1);
        assert_eq!(
            version_seen(&registries[writer], "acme").await,
            version + 1,
            "the writer sees its own change at once"
        );
        let mut waiting: Vec<usize> = (0..registries.len()).filter(|&n| n != writer).collect();
        while !waiting.is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "servers {waiting:?} still serve version {version} after 5 s"
            );
            let mut still = Vec::new();
            for n in waiting {
                if version_seen(&registries[n], "acme").await == version + 1 {
                    seen_after.push(started.elapsed());
                } else {
                    still.push(n);
                }
            }
            waiting = still;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let slowest = seen_after.iter().max().unwrap();
    println!(
        "{backend}, {} app servers: each change served by every other after at most \
         {slowest:.2?}",
        registries.len()
    );
    assert!(*slowest < Duration::from_secs(1), "{seen_after:?}");
}

/// Rounds of two updates of acme at once on two app servers, both made from the version
/// it is at: one is written, the other is refused as a conflict, and the history gains
/// one entry, the winner's.
pub async fn two_updates_of_one_version(directories: Vec<Arc<dyn OrgDirectory>>) {
    let registries = registries(directories);
    registries[0]
        .update(OrgUpdate::new("acme", acme_org(), "support:sam", now()))
        .await
        .unwrap();
    for round in 0..5u64 {
        let expected = round + 1;
        let updates: Vec<_> = [1, 2]
            .into_iter()
            .map(|server| {
                let registry = Arc::clone(&registries[server]);
                let mut config = acme_org();
                config.required_groups = vec![format!("group-{server}-{round}")];
                let update = OrgUpdate::new("acme", config, format!("admin:{server}"), now())
                    .expecting(expected);
                tokio::spawn(async move { (server, registry.update(update).await) })
            })
            .collect();
        let mut winners = Vec::new();
        for update in updates {
            match update.await.unwrap() {
                (server, Ok(record)) => {
                    assert_eq!(record.version, expected + 1);
                    winners.push(server);
                }
                (
                    _,
                    Err(UpdateError::Conflict {
                        expected: named,
                        current,
                        ..
                    }),
                ) => assert_eq!((named, current), (expected, expected + 1)),
                (server, Err(error)) => panic!("server {server}: {error}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?} won");
        let history = registries[0].history("acme").await.unwrap();
        assert_eq!(history.len() as u64, expected + 1, "round {round}");
        let last = history.last().unwrap();
        assert_eq!(last.actor, format!("admin:{}", winners[0]));
        assert_eq!(last.version, expected + 1);
        let record = registries[3].list(None, 10).await.unwrap();
        let winner = format!("group-{}-{round}", winners[0]);
        assert_eq!(record[0].config.required_groups, [winner]);
    }
}

/// Every app server writes orgs of its own at once while a reader follows the change
/// marks of one of them: every org written is listed by some answer, however the writes
/// interleave (a mark handed out before a lower one commits would be missed for good).
pub async fn change_marks_miss_no_write(directories: Vec<Arc<dyn OrgDirectory>>) {
    const WRITES_EACH: usize = 100;
    let reader = Arc::clone(&directories[0]);
    let writers: Vec<_> = directories
        .into_iter()
        .enumerate()
        .map(|(server, directory)| {
            tokio::spawn(async move {
                for n in 0..WRITES_EACH {
                    let id = format!("org-{server}-{n}");
                    let write = OrgWrite::new(id, acme_org(), 0, now(), "import", vec![]);
                    directory.write(write).await.unwrap();
                }
            })
        })
        .collect();
    let mut mark = 0;
    let mut seen = BTreeSet::new();
    let mut polls = 0;
    loop {
        let done = writers.iter().all(|writer| writer.is_finished());
        let changes = reader.changes_since(mark).await.unwrap();
        assert!(!changes.all, "{WRITES_EACH} writes a server list");
        assert!(changes.mark >= mark);
        seen.extend(changes.orgs);
        mark = changes.mark;
        polls += 1;
        if done {
            break;
        }
        tokio::task::yield_now().await;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let written = SERVERS * WRITES_EACH;
    assert!(polls > 2, "the reader asked while the writers wrote");
    assert_eq!(
        seen.len(),
        written,
        "{} writes missed",
        written - seen.len()
    );
}
