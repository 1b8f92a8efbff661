//! Fixtures shared by the benchmarks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // each bench uses a subset; fixtures are constants

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::{
    AccountLookup, AccountRecord, Assertion, Config, Identity, Policy, PortalVisit, Request, Role,
    Session,
};

pub const IDP: &str = "https://idp.acme.example";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

pub fn policy() -> Policy {
    let config: Config = serde_json::from_str(
        r#"{"orgs": {"acme": {"jit": true, "idp": "https://idp.acme.example",
                               "verified_domains": ["acme.example"]}}}"#,
    )
    .unwrap();
    config.validate().unwrap()
}

/// The 10,000 `(first, last)` names of `../shared/corpus/names.tsv`, in file order: read
/// where the shared data lives beside the checkout, never copied into it.
pub fn corpus() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/names.tsv");
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("this bench reads {path}: {error}"));
    text.lines()
        .skip(1)
        .map(|line| {
            let mut fields = line.split('\t').skip(1);
            let first = fields.next().unwrap_or_default().to_owned();
            let last = fields.next().unwrap_or_default().to_owned();
            (first, last)
        })
        .collect()
}

pub fn assertion(subject: &str, given: &str, family: &str) -> Assertion {
    {
        let mut built = Assertion::default();
        built.org = "acme".into();
        built.issuer = IDP.into();
        built.subject = subject.into();
        built.given_name = Some(given.into());
        built.family_name = Some(family.into());
        built.email = Some(format!("{subject}@acme.example"));
        built
    }
}

/// Jane Doe, member of acme, linked to subject `00u1`.
pub fn member() -> AccountRecord {
    {
        let mut built = AccountRecord::new("u7", "jane-doe");
        built.email = Some("jane@acme.example".into());
        built.identities = vec![Identity {
            issuer: IDP.into(),
            subject: "00u1".into(),
        }];
        built.memberships = BTreeMap::from([("acme".to_owned(), Role::Member)]);
        built.has_password = false;
        built
    }
}

/// `jane-doe`, `jane-doe-2` … `jane-doe-k`: k accounts with one handle base.
pub fn jane_does(k: usize) -> impl Iterator<Item = AccountRecord> {
    (1..=k).map(|n| {
        let mut built = AccountRecord::new(
            format!("j{n}"),
            if n == 1 {
                "jane-doe".to_owned()
            } else {
                format!("jane-doe-{n}")
            },
        );
        built.has_password = true;
        built
    })
}

/// Each kind of decision with the facts it is made on.
pub fn decision_scenarios() -> Vec<(&'static str, Request, AccountLookup)> {
    let member_login = Request::Assertion(assertion("00u1", "Jane", "Doe"));
    let new_person = Request::Assertion(assertion("00u2", "José", "Núñez"));
    let mut forged = assertion("00u1", "Jane", "Doe");
    forged.issuer = "https://evil.example".into();
    let forged = Request::Assertion(forged);
    let portal = Request::PortalVisit({
        let mut built = PortalVisit::new("acme");
        built.session = Some(Session::new(
            "u7",
            Some(now() - chrono::TimeDelta::minutes(30)),
        ));
        built.return_to = Some("/orgs/acme/projects?tab=open".into());
        built
    });
    vec![
        ("member sign-in", member_login, {
            let mut built = AccountLookup::default();
            built.by_identity = Some(member());
            built
        }),
        ("new account", new_person, {
            let mut built = AccountLookup::default();
            built.taken_handles = vec!["jose-nunez".into()];
            built
        }),
        ("refusal (wrong issuer)", forged, AccountLookup::default()),
        ("portal visit (fresh member)", portal, {
            let mut built = AccountLookup::default();
            built.session_account = Some(member());
            built
        }),
    ]
}
