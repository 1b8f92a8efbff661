//! Walks the product's scenarios through the engine and an in-memory store, printing each
//! decision with the rule that fired: `cargo run --example quickstart`.

use std::collections::BTreeMap;
use std::error::Error;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use jit_provisioning::{
    AccountId, AccountRecord, Assertion, Config, IdpError, MemoryStore, PortalVisit, Provisioner,
    Request, Session, STATUS_REQUEST_DENIED,
};

const ACME_IDP: &str = "https://idp.acme.example";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let config: Config = serde_json::from_str(
        r#"{
            "orgs": {
                "acme":   { "jit": true, "idp": "https://idp.acme.example",
                            "verified_domains": ["acme.example"] },
                "globex": { "jit": false }
            }
        }"#,
    )?;
    // Sam signed up before Acme turned SSO on: an account, a password, no membership.
    let sam = AccountRecord {
        id: AccountId::from("u-sam"),
        handle: "sam-lee".into(),
        email: Some("sam@acme.example".into()),
        identities: Vec::new(),
        memberships: BTreeMap::new(),
        disabled: false,
        has_password: true,
        given_name: None,
        family_name: None,
    };
    let provisioner = Provisioner::new(config.validate()?, MemoryStore::with_accounts([sam])?);
    let morning = Utc
        .with_ymd_and_hms(2026, 11, 28, 9, 0, 0)
        .single()
        .ok_or("bad date")?;

    let jane = assertion("00u1", "Jane", "Doe", "jane@acme.example");
    let created = show(
        &provisioner,
        "Jane is assigned the app and has no account: she clicks the portal link",
        &Request::Assertion(jane.clone()),
        morning,
    )
    .await?;
    let jane_id = created.ok_or("Jane's account was not created")?;

    let session = |sso_at: DateTime<Utc>| {
        Request::PortalVisit(PortalVisit {
            org: "acme".into(),
            session: Some(Session {
                account: jane_id.clone(),
                sso_at: Some(sso_at),
            }),
            return_to: Some("/orgs/acme/projects?tab=open".into()),
        })
    };
    show(
        &provisioner,
        "An hour later Jane opens the portal again: validated recently",
        &session(morning),
        morning + TimeDelta::hours(1),
    )
    .await?;
    show(
        &provisioner,
        "The next day: her last SSO validation is too old",
        &session(morning),
        morning + TimeDelta::hours(25),
    )
    .await?;
    show(
        &provisioner,
        "She comes back from the IdP",
        &Request::Assertion(jane),
        morning + TimeDelta::hours(25),
    )
    .await?;
    show(
        &provisioner,
        "Sam had an account before SSO and is not a member",
        &Request::Assertion(assertion("00u9", "Sam", "Lee", "Sam@Acme.example")),
        morning,
    )
    .await?;
    show(
        &provisioner,
        "Another Jane Doe joins",
        &Request::Assertion(assertion("00u5", "Jane", "Doe", "jane.doe@acme.example")),
        morning,
    )
    .await?;
    show(
        &provisioner,
        "Someone without the app assigned: the IdP answers RequestDenied",
        &Request::IdpError(IdpError {
            org: "acme".into(),
            status: STATUS_REQUEST_DENIED.into(),
            sub_status: None,
        }),
        morning,
    )
    .await?;
    show(
        &provisioner,
        "An assertion signed by some other IdP, claiming Jane's subject",
        &Request::Assertion(Assertion {
            issuer: "https://evil.example".into(),
            ..assertion("00u1", "Jane", "Doe", "jane@acme.example")
        }),
        morning,
    )
    .await?;
    show(
        &provisioner,
        "Globex has not turned JIT on",
        &Request::PortalVisit(PortalVisit {
            org: "globex".into(),
            session: None,
            return_to: None,
        }),
        morning,
    )
    .await?;
    Ok(())
}

fn assertion(subject: &str, given: &str, family: &str, email: &str) -> Assertion {
    Assertion {
        org: "acme".into(),
        issuer: ACME_IDP.into(),
        subject: subject.into(),
        given_name: Some(given.into()),
        family_name: Some(family.into()),
        email: Some(email.into()),
        ..Assertion::default()
    }
}

/// Prints one scenario and returns the id of the account it signed in or created.
async fn show(
    provisioner: &Provisioner<MemoryStore>,
    title: &str,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<Option<AccountId>, Box<dyn Error>> {
    let done = provisioner.handle(request, now).await?;
    println!("── {title}");
    println!("   {}", done.decision.explanation().replace('\n', "\n   "));
    if let Some(message) = done.decision.message() {
        println!("   tells the person: {message}");
    }
    println!();
    Ok(done.account.map(|account| account.id))
}
