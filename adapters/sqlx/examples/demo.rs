//! Plays the product's SSO scenarios into a SQLite file, then prints what the database
//! holds: `cargo run -p jit-provisioning-sqlx --example demo [PATH.db]`.
//!
//! Without a path the database is a temporary file, removed at the end. Run it twice on
//! the same path to see returning people signed in instead of created.

use std::error::Error;
use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use jit_provisioning::{
    AccountId, Assertion, Config, IdpError, PortalVisit, Provisioner, Request, Session,
    STATUS_REQUEST_DENIED,
};
use jit_provisioning_sqlx::SqliteStore;

const ACME_IDP: &str = "https://idp.acme.example";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let temporary = tempfile::tempdir()?;
    let path = match std::env::args_os().nth(1) {
        Some(path) => PathBuf::from(path),
        None => temporary.path().join("accounts.db"),
    };
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display())).await?;
    store.migrate().await?;
    seed_sam(&store).await?;

    let config: Config = serde_json::from_str(
        r#"{
            "orgs": {
                "acme": { "jit": true, "idp": "https://idp.acme.example",
                          "verified_domains": ["acme.example"] }
            }
        }"#,
    )?;
    let provisioner = Provisioner::new(config.validate()?, store);
    let morning = Utc
        .with_ymd_and_hms(2026, 11, 28, 9, 0, 0)
        .single()
        .ok_or("bad date")?;

    println!("database: {}\n", path.display());
    let jane = assertion("00u1", "Jane", "Doe", "jane@acme.example");
    let jane_id = show(
        &provisioner,
        "Jane is assigned the app and has no account: she clicks the portal link",
        &Request::Assertion(jane),
        morning,
    )
    .await?
    .ok_or("Jane has no account")?;
    show(
        &provisioner,
        "Another Jane Doe joins",
        &Request::Assertion(assertion("00u5", "Jane", "Doe", "jane.doe@acme.example")),
        morning,
    )
    .await?;
    let visit = |sso_at: DateTime<Utc>| {
        Request::PortalVisit({
            let mut built = PortalVisit::new("acme");
            built.session = Some(Session::new(jane_id.clone(), Some(sso_at)));
            built
        })
    };
    show(
        &provisioner,
        "An hour later Jane opens the portal: validated recently",
        &visit(morning),
        morning + TimeDelta::hours(1),
    )
    .await?;
    show(
        &provisioner,
        "The next day her SSO validation is too old",
        &visit(morning),
        morning + TimeDelta::hours(25),
    )
    .await?;
    show(
        &provisioner,
        "Sam signed up with a password before SSO: his verified email links him",
        &Request::Assertion(assertion("00u9", "Sam", "Lee", "Sam@Acme.example")),
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

    print_tables(provisioner.store()).await?;
    if path.starts_with(temporary.path()) {
        println!("\n(the temporary database is removed now; pass a path to keep one)");
    }
    Ok(())
}

/// Sam's account predates SSO: the app made it at sign-up, so the demo writes it the way
/// an app would, keys included. A second run finds it there already.
async fn seed_sam(store: &SqliteStore) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO jit_accounts (handle, handle_key, email, email_key, has_password)
         VALUES ('sam-lee', 'sam-lee', 'sam@acme.example', 'sam@acme.example', TRUE)
         ON CONFLICT (handle_key) DO NOTHING",
    )
    .execute(store.pool())
    .await
    .map(drop)
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
    provisioner: &Provisioner<SqliteStore>,
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

async fn print_tables(store: &SqliteStore) -> Result<(), sqlx::Error> {
    let accounts: Vec<(i64, String, Option<String>, bool, bool)> = sqlx::query_as(
        "SELECT id, handle, email, disabled, has_password FROM jit_accounts ORDER BY id",
    )
    .fetch_all(store.pool())
    .await?;
    print_table(
        "jit_accounts",
        &["id", "handle", "email", "disabled", "has_password"],
        accounts
            .into_iter()
            .map(|(id, handle, email, disabled, password)| {
                vec![
                    id.to_string(),
                    handle,
                    email.unwrap_or_default(),
                    disabled.to_string(),
                    password.to_string(),
                ]
            }),
    );
    let identities: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT account_id, issuer, subject FROM jit_identities ORDER BY account_id, id",
    )
    .fetch_all(store.pool())
    .await?;
    print_table(
        "jit_identities",
        &["account_id", "issuer", "subject"],
        identities
            .into_iter()
            .map(|(id, issuer, subject)| vec![id.to_string(), issuer, subject]),
    );
    let memberships: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT account_id, org, role FROM jit_memberships ORDER BY account_id, org",
    )
    .fetch_all(store.pool())
    .await?;
    print_table(
        "jit_memberships",
        &["account_id", "org", "role"],
        memberships
            .into_iter()
            .map(|(id, org, role)| vec![id.to_string(), org, role]),
    );
    Ok(())
}

fn print_table(name: &str, header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let rows: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| h.to_string()).collect())
        .chain(rows)
        .collect();
    let mut widths = vec![0; header.len()];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    println!("{name} ({} rows)", rows.len() - 1);
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("  {}", cells.join("  ").trim_end());
    }
    println!();
}
