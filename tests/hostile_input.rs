//! Whatever an IdP or a browser sends, the engine and the provisioner answer with a
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking
//! decision or a typed error, never a panic, and every handle they make is well formed.

mod common;

use chrono::{TimeDelta, TimeZone, Utc};
use jit_provisioning::handles::is_well_formed;
use jit_provisioning::{
    decide, AccountLookup, Assertion, IdpError, Landing, MemoryStore, Outcome, PortalVisit,
    Provisioner, Request, Session,
};

fn hostile_strings() -> Vec<String> {
    vec![
        String::new(),
        " ".into(),
        "a".repeat(10_000),
        "Jane ".repeat(2_000),
        "\u{301}".repeat(10_000),
        format!("J{}ane", "\u{301}\u{302}\u{303}".repeat(3_000)),
        "\0".into(),
        "Jane\0Doe".into(),
        "\u{7}\u{8}\u{1b}[31mred".into(),
        "\u{202E}eoD\u{202C}".into(),
        "\u{2066}\u{2067}\u{2068}\u{2069}\u{200F}".into(),
        "😀".repeat(1_000),
        "👩‍👩‍👧‍👦🏳️‍🌈".into(),
        "\u{FEFF}\u{200B}\u{200C}\u{200D}\u{AD}".into(),
        "Ａｄｍｉｎ".into(),
        "𝐚𝐝𝐦𝐢𝐧".into(),
        "'''".into(),
        "-".repeat(5_000),
        "\u{FFFF}\u{FFFE}\u{10FFFF}".into(),
        "\u{E0041}\u{E0042}".into(),
        "Ǆǅǆ ﬁﬂ ẞ İı".into(),
        "%00%2F%2F".into(),
        "//evil.example".into(),
        "\\\\evil".into(),
        "@@@@".into(),
        "jane@".into(),
        "@acme.example".into(),
        format!("{}@acme.example", "x".repeat(10_000)),
        "王小明".repeat(3_000),
        "ع".repeat(5_000),
    ]
}

fn assertion_with(value: &str, at: usize) -> Assertion {
    let mut assertion = {
        let mut built = Assertion::default();
        built.org = "acme".into();
        built.issuer = common::IDP.into();
        built.subject = "00u1".into();
        built.given_name = Some("Jane".into());
        built.family_name = Some("Doe".into());
        built.email = Some("jane@acme.example".into());
        built
    };
    match at {
        0 => assertion.given_name = Some(value.into()),
        1 => assertion.family_name = Some(value.into()),
        2 => assertion.email = Some(value.into()),
        3 => assertion.subject = value.into(),
        4 => assertion.issuer = value.into(),
        5 => assertion.org = value.into(),
        6 => assertion.groups = vec![value.into()],
        7 => assertion.return_to = Some(value.into()),
        _ => {
            assertion.given_name = Some(value.into());
            assertion.family_name = Some(value.into());
            assertion.email = Some(value.into());
        }
    }
    assertion
}

fn check_decision(decision: &jit_provisioning::Decision, policy: &jit_provisioning::Policy) {
    if let Some(handle) = decision.new_handle() {
        assert!(is_well_formed(handle), "{handle:?}");
        assert!(handle.len() <= policy.max_handle_len(), "{handle:?}");
        assert!(
            !jit_provisioning::handles::is_reserved(handle),
            "{handle:?}"
        );
    }
    if let Some(Landing::Path(path)) = decision.landing() {
        assert!(jit_provisioning::safe_return_path(path).is_ok(), "{path:?}");
    }
    // The explanation renders whatever the input.
    assert!(!decision.explanation().is_empty());
}

#[test]
fn the_engine_decides_on_every_hostile_assertion() {
    let policy = common::policy();
    for value in hostile_strings() {
        for at in 0..9 {
            let request = Request::Assertion(assertion_with(&value, at));
            let decision = decide(&policy, &request, &AccountLookup::default(), common::now());
            check_decision(&decision, &policy);
        }
    }
}

#[test]
fn hostile_portal_visits_and_idp_errors_are_decided() {
    let policy = common::policy();
    let far = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
    let ancient = Utc.with_ymd_and_hms(-9999, 1, 1, 0, 0, 0).unwrap();
    for value in hostile_strings() {
        for sso_at in [
            Some(far),
            Some(ancient),
            None,
            Some(common::now() + TimeDelta::days(1)),
        ] {
            let visit = Request::PortalVisit({
                let mut built = PortalVisit::new("acme");
                built.session = Some(Session::new(value.clone(), sso_at));
                built.return_to = Some(value.clone());
                built
            });
            check_decision(
                &decide(&policy, &visit, &AccountLookup::default(), common::now()),
                &policy,
            );
        }
        let error = Request::IdpError({
            let mut built = IdpError::new("acme", value.clone());
            built.sub_status = Some(value.clone());
            built
        });
        let decision = decide(&policy, &error, &AccountLookup::default(), common::now());
        assert_eq!(decision.outcome(), Outcome::Denied);
    }
}

#[test]
fn extreme_clocks_do_not_overflow() {
    let policy = common::policy();
    for now in [
        Utc.with_ymd_and_hms(-9999, 1, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        chrono::DateTime::<Utc>::MIN_UTC,
        chrono::DateTime::<Utc>::MAX_UTC,
    ] {
        let mut assertion = assertion_with("Jane", 0);
        assertion.authn_instant = Some(chrono::DateTime::<Utc>::MAX_UTC);
        let decision = decide(
            &policy,
            &Request::Assertion(assertion),
            &AccountLookup::default(),
            now,
        );
        check_decision(&decision, &policy);
    }
}

#[tokio::test]
async fn the_provisioner_stores_only_well_formed_accounts() {
    let provisioner = Provisioner::new(common::policy(), MemoryStore::new());
    for (n, value) in hostile_strings().iter().enumerate() {
        for at in [0, 1, 2, 8] {
            let mut assertion = assertion_with(value, at);
            assertion.subject = format!("s-{n}-{at}");
            let done = provisioner
                .handle(&Request::Assertion(assertion), common::now())
                .await
                .expect("the in-memory store does not fail");
            check_decision(&done.decision, provisioner.policy());
        }
    }
    for account in provisioner.store().snapshot() {
        assert!(is_well_formed(&account.handle), "{:?}", account.handle);
    }
}
