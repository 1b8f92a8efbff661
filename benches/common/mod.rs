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
    Assertion {
        org: "acme".into(),
        issuer: IDP.into(),
        subject: subject.into(),
        given_name: Some(given.into()),
        family_name: Some(family.into()),
        email: Some(format!("{subject}@acme.example")),
        ..Assertion::default()
    }
}

/// Jane Doe, member of acme, linked to subject `00u1`.
pub fn member() -> AccountRecord {
    AccountRecord {
        id: "u7".into(),
        handle: "jane-doe".into(),
        email: Some("jane@acme.example".into()),
        identities: vec![Identity {
            issuer: IDP.into(),
            subject: "00u1".into(),
        }],
        memberships: BTreeMap::from([("acme".to_owned(), Role::Member)]),
        disabled: false,
        has_password: false,
        given_name: None,
        family_name: None,
    }
}

/// `jane-doe`, `jane-doe-2` … `jane-doe-k`: k accounts with one handle base.
pub fn jane_does(k: usize) -> impl Iterator<Item = AccountRecord> {
    (1..=k).map(|n| AccountRecord {
        id: format!("j{n}").into(),
        handle: if n == 1 {
            "jane-doe".to_owned()
        } else {
            format!("jane-doe-{n}")
        },
        email: None,
        identities: Vec::new(),
        memberships: BTreeMap::new(),
        disabled: false,
        has_password: true,
        given_name: None,
        family_name: None,
    })
}

/// Each kind of decision with the facts it is made on.
pub fn decision_scenarios() -> Vec<(&'static str, Request, AccountLookup)> {
    let member_login = Request::Assertion(assertion("00u1", "Jane", "Doe"));
    let new_person = Request::Assertion(assertion("00u2", "José", "Núñez"));
    let forged = Request::Assertion(Assertion {
        issuer: "https://evil.example".into(),
        ..assertion("00u1", "Jane", "Doe")
    });
    let portal = Request::PortalVisit(PortalVisit {
        org: "acme".into(),
        session: Some(Session {
            account: "u7".into(),
            sso_at: Some(now() - chrono::TimeDelta::minutes(30)),
        }),
        return_to: Some("/orgs/acme/projects?tab=open".into()),
    });
    vec![
        (
            "member sign-in",
            member_login,
            AccountLookup {
                by_identity: Some(member()),
                ..AccountLookup::default()
            },
        ),
        (
            "new account",
            new_person,
            AccountLookup {
                taken_handles: vec!["jose-nunez".into()],
                ..AccountLookup::default()
            },
        ),
        ("refusal (wrong issuer)", forged, AccountLookup::default()),
        (
            "portal visit (fresh member)",
            portal,
            AccountLookup {
                session_account: Some(member()),
                ..AccountLookup::default()
            },
        ),
    ]
}
