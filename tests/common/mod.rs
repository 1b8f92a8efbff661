//! Shared fixtures for the integration tests.
#![allow(dead_code)] // each test crate uses its own subset
#![allow(clippy::unwrap_used)] // fixtures are constants; a typo should fail the test loudly

use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning::{Assertion, Config, Policy, Request};

pub const IDP: &str = "https://idp.acme.example";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

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

pub fn jane(subject: &str) -> Request {
    Request::Assertion(Assertion {
        org: "acme".into(),
        issuer: IDP.into(),
        subject: subject.into(),
        given_name: Some("Jane".into()),
        family_name: Some("Doe".into()),
        email: Some(format!("{subject}@acme.example")),
        ..Assertion::default()
    })
}
