//! Walks the product's scenarios through the engine and an in-memory store, printing each
//! decision with the rule that fired: `cargo run --example quickstart`.

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
    let sam = {
        let mut built = AccountRecord::new(AccountId::from("u-sam"), "sam-lee");
        built.email = Some("sam@acme.example".into());
        built.has_password = true;
        built
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
        Request::PortalVisit({
            let mut built = PortalVisit::new("acme");
            built.session = Some(Session::new(jane_id.clone(), Some(sso_at)));
            built.return_to = Some("/orgs/acme/projects?tab=open".into());
            built
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
        &Request::IdpError(IdpError::new("acme", STATUS_REQUEST_DENIED)),
        morning,
    )
    .await?;
    show(
        &provisioner,
        "An assertion signed by some other IdP, claiming Jane's subject",
        &Request::Assertion({
            let mut forged = assertion("00u1", "Jane", "Doe", "jane@acme.example");
            forged.issuer = "https://evil.example".into();
            forged
        }),
        morning,
    )
    .await?;
    show(
        &provisioner,
        "Globex has not turned JIT on",
        &Request::PortalVisit(PortalVisit::new("globex")),
        morning,
    )
    .await?;
    Ok(())
}

fn assertion(subject: &str, given: &str, family: &str, email: &str) -> Assertion {
    {
        let mut built = Assertion::default();
        built.org = "acme".into();
        built.issuer = ACME_IDP.into();
        built.subject = subject.into();
        built.given_name = Some(given.into());
        built.family_name = Some(family.into());
        built.email = Some(email.into());
        built
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
