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
    Request::Assertion({
        let mut built = Assertion::default();
        built.org = "acme".into();
        built.issuer = IDP.into();
        built.subject = subject.into();
        built.given_name = Some("Jane".into());
        built.family_name = Some("Doe".into());
        built.email = Some(format!("{subject}@acme.example"));
        built
    })
}
