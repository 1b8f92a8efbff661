//! Orgs changed while the app runs: the registry's checks, versions, history and cache,
//! and the provisioner deciding each request with the org as the registry has it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::org::{
    MemoryDirectory, OrgDirectory, OrgRegistry, OrgState, OrgUpdate, UpdateError,
};
use jit_provisioning::{
    testing, Assertion, Config, ConfigProblem, MemoryStore, OrgConfig, Outcome, Provisioner,
    Reason, Request,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
}

fn org(json: &str) -> OrgConfig {
    serde_json::from_str(json).unwrap()
}

fn acme() -> OrgConfig {
    org(r#"{"jit": true, "idp": "https://idp.acme.example"}"#)
}

fn registry_over(directory: Arc<dyn OrgDirectory>) -> OrgRegistry {
    OrgRegistry::new(directory, &Config::default()).unwrap()
}

fn registry() -> OrgRegistry {
    registry_over(Arc::new(MemoryDirectory::new()))
}

fn jane(org: &str, subject: &str) -> Request {
    Request::Assertion(
        Assertion::new(org, "https://idp.acme.example", subject).with_names("Jane", "Doe"),
    )
}

#[tokio::test]
async fn the_memory_directory_keeps_the_contract() {
    testing::org_directory_conformance(|| async { MemoryDirectory::new() })
        .await
        .unwrap();
}

#[tokio::test]
async fn an_invalid_update_lists_every_problem_and_writes_nothing() {
    let registry = registry();
    let broken = org(
        r#"{"jit": true, "provision": [{"org": "ghost", "role": "owner"}],
            "verified_domains": ["jane@acme.example"]}"#,
    );
    let Err(UpdateError::Invalid(error)) = registry
        .update(OrgUpdate::new("acme", broken, "support:sam", now()))
        .await
    else {
        panic!("an invalid update was accepted");
    };
    let problems = error.problems();
    for expected in [
        ConfigProblem::JitWithoutIdp { org: "acme".into() },
        ConfigProblem::UnknownProvisionOrg {
            org: "acme".into(),
            target: "ghost".into(),
        },
        ConfigProblem::UnknownRole {
            org: "acme".into(),
            role: "owner".into(),
        },
        ConfigProblem::InvalidDomain {
            org: "acme".into(),
            domain: "jane@acme.example".into(),
        },
    ] {
        assert!(
            problems.contains(&expected),
            "{expected:?} missing from {problems:?}"
        );
    }
    assert!(registry.org("acme").await.unwrap().is_none());
    assert!(registry.history("acme").await.unwrap().is_empty());
}

#[tokio::test]
async fn an_org_id_that_is_not_a_path_segment_is_refused() {
    for id in ["", "acme/labs", "a b", ".hidden", &"x".repeat(65)] {
        let result = registry()
            .update(OrgUpdate::new(id, acme(), "a", now()))
            .await;
        assert!(
            matches!(&result, Err(UpdateError::Invalid(error))
                if error.problems().contains(&ConfigProblem::InvalidOrgId(id.to_owned()))),
            "{id:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn a_stale_update_is_refused_and_the_later_one_wins_whole() {
    let registry = registry();
    registry
        .update(OrgUpdate::new("acme", acme(), "a", now()))
        .await
        .unwrap();
    // Two admins read version 1; one saves first.
    let mut first = acme();
    first.required_groups = vec!["staff".into()];
    let mut second = acme();
    second.force_authn = true;
    registry
        .update(OrgUpdate::new("acme", first.clone(), "admin:jane", now()).expecting(1))
        .await
        .unwrap();
    let refused = registry
        .update(OrgUpdate::new("acme", second.clone(), "admin:joe", now()).expecting(1))
        .await;
    assert!(
        matches!(
            refused,
            Err(UpdateError::Conflict {
                expected: 1,
                current: 2,
                ..
            })
        ),
        "{refused:?}"
    );
    let record = registry.org("acme").await.unwrap().unwrap();
    assert_eq!(record.record().config, first);
    // Without a version the later write wins whole: nothing of the first is mixed in.
    let written = registry
        .update(OrgUpdate::new("acme", second.clone(), "admin:joe", now()))
        .await
        .unwrap();
    assert_eq!((written.version, &written.config), (3, &second));
}

#[tokio::test]
async fn every_change_is_in_the_history_with_who_and_what() {
    let registry = registry();
    registry
        .update(OrgUpdate::new("acme", acme(), "support:sam", now()))
        .await
        .unwrap();
    registry
        .set_state("acme", OrgState::Inactive, Some(1), "admin:jane", now())
        .await
        .unwrap();
    // A change that changes nothing writes nothing.
    let same = registry
        .set_state("acme", OrgState::Inactive, None, "admin:jane", now())
        .await
        .unwrap();
    assert_eq!(same.version, 2);
    let history = registry.history("acme").await.unwrap();
    let summary: Vec<(u64, &str, Vec<&str>)> = history
        .iter()
        .map(|entry| {
            let fields = entry.changes.iter().map(|c| c.field.as_str()).collect();
            (entry.version, entry.actor.as_str(), fields)
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "support:sam", vec!["force_authn", "idp", "jit"]),
            (2, "admin:jane", vec!["state"]),
        ]
    );
}

#[tokio::test]
async fn an_import_checks_the_file_as_one_and_reports_each_org() {
    let registry = registry();
    let config: Config = toml::from_str(
        r#"
        [orgs.acme]
        jit = true
        idp = "https://idp.acme.example"
        provision = [{ org = "acme", role = "member" }, { org = "acme-labs", role = "member" }]
        [orgs.acme-labs]
        "#,
    )
    .unwrap();
    let report = registry
        .import(&config, "import", now(), None)
        .await
        .unwrap();
    assert_eq!(report.created, ["acme", "acme-labs"]);
    // Again, with one org changed: one changed, one left alone.
    let mut changed = config.clone();
    changed.orgs.get_mut("acme-labs").unwrap().state = OrgState::Draft;
    let report = registry
        .import(&changed, "import", now(), None)
        .await
        .unwrap();
    assert_eq!(report.unchanged, ["acme"]);
    assert_eq!(report.changed, [("acme-labs".to_owned(), 2)]);
    // An org may name one the directory has, not in the file.
    let labs_only: Config = toml::from_str(
        r#"
        [orgs.labs-two]
        provision = [{ org = "acme", role = "member" }]
        "#,
    )
    .unwrap();
    registry
        .import(&labs_only, "import", now(), None)
        .await
        .unwrap();
    // One bad org and nothing is written.
    let broken: Config = toml::from_str(
        r#"
        [orgs.fresh]
        jit = true
        idp = "https://idp.fresh.example"
        [orgs.wrong]
        provision = [{ org = "nowhere", role = "member" }]
        "#,
    )
    .unwrap();
    assert!(matches!(
        registry.import(&broken, "import", now(), None).await,
        Err(UpdateError::Invalid(_))
    ));
    assert!(registry.org("fresh").await.unwrap().is_none());
}

#[tokio::test]
async fn every_registry_over_one_directory_sees_a_change_within_a_second() {
    let directory: Arc<dyn OrgDirectory> = Arc::new(MemoryDirectory::new());
    let servers: Vec<OrgRegistry> = (0..4)
        .map(|_| registry_over(Arc::clone(&directory)))
        .collect();
    servers[0]
        .update(OrgUpdate::new("acme", acme(), "a", now()))
        .await
        .unwrap();
    for server in &servers {
        assert_eq!(
            server.org("acme").await.unwrap().unwrap().state(),
            OrgState::Active
        );
    }
    let changed = Instant::now();
    servers[1]
        .set_state("acme", OrgState::Inactive, None, "admin:jane", now())
        .await
        .unwrap();
    for server in &servers {
        loop {
            if server.org("acme").await.unwrap().unwrap().state() == OrgState::Inactive {
                break;
            }
            assert!(
                changed.elapsed() < Duration::from_secs(1),
                "a server still saw the org active after a second"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn a_cached_org_is_read_once() {
    let registry = registry();
    registry
        .update(OrgUpdate::new("acme", acme(), "a", now()))
        .await
        .unwrap();
    let first = registry.org("acme").await.unwrap().unwrap();
    let second = registry.org("acme").await.unwrap().unwrap();
    assert!(
        Arc::ptr_eq(&first, &second),
        "the second look-up read the directory again"
    );
    assert_eq!(registry.cached(), 1);
}

#[tokio::test]
async fn the_provisioner_decides_with_the_org_as_the_registry_has_it() {
    let registry = Arc::new(registry());
    let provisioner = Provisioner::with_registry(Arc::clone(&registry), MemoryStore::new());
    let unknown = provisioner
        .handle(&jane("acme", "00u1"), now())
        .await
        .unwrap();
    assert_eq!(unknown.decision.reason(), Some(Reason::UnknownOrg));

    registry
        .update(OrgUpdate::new("acme", acme(), "a", now()))
        .await
        .unwrap();
    let created = provisioner
        .handle(&jane("acme", "00u1"), now())
        .await
        .unwrap();
    assert_eq!(created.decision.outcome(), Outcome::AccountCreated);

    registry
        .set_state("acme", OrgState::Inactive, None, "admin:jane", now())
        .await
        .unwrap();
    let closed = provisioner
        .handle(&jane("acme", "00u1"), now())
        .await
        .unwrap();
    assert_eq!(closed.decision.reason(), Some(Reason::OrgInactive));
    assert_eq!(closed.decision.outcome(), Outcome::NotFound);
}

#[tokio::test]
async fn a_draft_is_closed_but_a_dry_run_says_what_would_happen_and_writes_nothing() {
    let registry = Arc::new(registry());
    let mut draft = acme();
    draft.state = OrgState::Draft;
    registry
        .update(OrgUpdate::new("acme", draft, "a", now()))
        .await
        .unwrap();
    let provisioner = Provisioner::with_registry(Arc::clone(&registry), MemoryStore::new());
    let closed = provisioner
        .handle(&jane("acme", "00u1"), now())
        .await
        .unwrap();
    assert_eq!(closed.decision.reason(), Some(Reason::OrgNotOpen));
    let would = provisioner
        .dry_run(&jane("acme", "00u1"), now())
        .await
        .unwrap();
    assert_eq!(would.outcome(), Outcome::AccountCreated);
    // Nothing was created: the same dry run still creates.
    let again = provisioner
        .dry_run(&jane("acme", "00u1"), now())
        .await
        .unwrap();
    assert_eq!(again.outcome(), Outcome::AccountCreated);
}

#[tokio::test]
async fn a_new_handle_is_never_an_org_id_the_request_did_not_load() {
    let registry = Arc::new(registry());
    for id in ["acme", "jane-doe", "jane-doe-1"] {
        let config = if id == "acme" { acme() } else { org("{}") };
        registry
            .update(OrgUpdate::new(id, config, "a", now()))
            .await
            .unwrap();
    }
    let provisioner = Provisioner::with_registry(Arc::clone(&registry), MemoryStore::new());
    let created = provisioner
        .handle(&jane("acme", "00u1"), now())
        .await
        .unwrap();
    assert_eq!(created.account.unwrap().handle, "jane-doe-2");
}

#[tokio::test]
async fn a_file_seeds_an_empty_directory_and_then_the_directory_wins() {
    let registry = registry();
    let file: Config = toml::from_str("[orgs.acme]\njit = true\nidp = \"https://idp\"\n").unwrap();
    let first = registry.seed(&file, "seed", now(), None).await.unwrap();
    assert_eq!(first.unwrap().created, ["acme"]);
    registry
        .set_state("acme", OrgState::Inactive, None, "admin:jane", now())
        .await
        .unwrap();
    // The next start seeds nothing: the change made since stays.
    assert!(registry
        .seed(&file, "seed", now(), None)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        registry.org("acme").await.unwrap().unwrap().state(),
        OrgState::Inactive
    );
}
