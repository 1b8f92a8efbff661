//! `jit-provisioning scim token …` against a SQLite database: a token printed once that
//! opens its org's SCIM endpoints and no other's, listed without its secret, revoked; the
//! database never holding it; and the usage errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::process::Output;

use chrono::Utc;
use common::{cli, out};
use jit_provisioning::ScimTokens;
use jit_provisioning_sqlx::SqliteStore;

/// A database with the orgs `acme` and `globex`, and its URL.
fn database(name: &str) -> String {
    let folder = common::scratch(&format!("scim-{name}"));
    let url = format!("sqlite://{}", folder.join("app.db").display());
    let file = folder.join("orgs.toml");
    fs::write(&file, "[orgs.acme]\n[orgs.globex]\n").unwrap();
    let imported = cli(&["orgs", "import", "--database", &url, file.to_str().unwrap()]);
    assert_eq!(imported.status.code(), Some(0), "{imported:?}");
    url
}

fn err(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn token(command: &str, url: &str, org: &str, extra: &[&str]) -> Output {
    let mut args = vec!["scim", "token", command, "--database", url, "--org", org];
    args.extend_from_slice(extra);
    cli(&args)
}

/// What the app's SCIM endpoints would answer `token` at `org`: the token's id if it
/// opens them.
fn opens(url: &str, org: &str, token: &str) -> Option<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = SqliteStore::connect(url).await.unwrap();
        let opened = store.authenticate(org, token, Utc::now()).await.unwrap();
        store.pool().close().await;
        opened.map(|info| info.id)
    })
}

#[test]
fn a_token_is_printed_once_opens_its_org_only_and_is_revoked() {
    let url = database("round");

    let made = token("create", &url, "acme", &["--label", "okta"]);
    assert_eq!(made.status.code(), Some(0), "{made:?}");
    // The token alone on standard output; its id and the warning on standard error.
    let printed = out(&made);
    let secret = printed.strip_suffix('\n').unwrap();
    assert!(!secret.contains('\n'), "{printed}");
    let hex = secret
        .strip_prefix("jitscim_")
        .unwrap_or_else(|| panic!("{printed}"));
    assert_eq!(hex.len(), 64, "{hex}");
    assert!(hex
        .bytes()
        .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)));
    let said = err(&made);
    assert!(said.starts_with("SCIM token 1 for `acme`"), "{said}");
    assert!(said.contains("will not be shown again"), "{said}");
    assert!(!said.contains(hex), "{said}");

    // It opens acme's endpoints, and not globex's.
    assert_eq!(opens(&url, "acme", secret).as_deref(), Some("1"));
    assert_eq!(opens(&url, "globex", secret), None);

    // Listed, with its last use, never with its secret.
    let other = token("create", &url, "acme", &[]);
    assert_eq!(other.status.code(), Some(0), "{other:?}");
    let other_secret = out(&other).trim_end().to_owned();
    assert_ne!(other_secret, secret);
    let listed = token("list", &url, "acme", &[]);
    assert_eq!(listed.status.code(), Some(0), "{listed:?}");
    let text = out(&listed);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let first: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(first.len(), 5, "{text}");
    assert_eq!(first[..2], ["1", "okta"], "{text}");
    assert!(first[2].starts_with("created "), "{text}");
    assert!(first[3].starts_with("last used "), "{text}");
    assert_eq!(
        first[4],
        format!("jitscim_…{}", hex.get(60..).unwrap()),
        "the hint is the last 4 digits: {text}"
    );
    assert!(lines[1].starts_with("2\t-\tcreated "), "{text}");
    assert!(lines[1].contains("\tnever used\t"), "{text}");
    assert!(
        !text.contains(hex) && !text.contains(&other_secret),
        "{text}"
    );
    assert_eq!(
        out(&token("list", &url, "globex", &[])),
        "no SCIM tokens for `globex`\n"
    );

    // The database keeps hashes, never the tokens.
    let db = url.strip_prefix("sqlite://").unwrap();
    let mut bytes = fs::read(db).unwrap();
    bytes.extend(fs::read(format!("{db}-wal")).unwrap_or_default());
    for kept in [hex, other_secret.trim_start_matches("jitscim_")] {
        assert!(
            !bytes
                .windows(kept.len())
                .any(|window| window == kept.as_bytes()),
            "a token is stored in the database"
        );
    }

    // Another org cannot revoke acme's token.
    let elsewhere = token("revoke", &url, "globex", &["1"]);
    assert_eq!(elsewhere.status.code(), Some(1), "{elsewhere:?}");
    assert_eq!(
        out(&elsewhere),
        "`globex` has no SCIM token 1: nothing was revoked\n"
    );
    assert_eq!(opens(&url, "acme", secret).as_deref(), Some("1"));

    let revoked = token("revoke", &url, "acme", &["1"]);
    assert_eq!(revoked.status.code(), Some(0), "{revoked:?}");
    assert_eq!(out(&revoked), "revoked SCIM token 1 of `acme`\n");
    assert_eq!(opens(&url, "acme", secret), None);
    assert_eq!(opens(&url, "acme", &other_secret).as_deref(), Some("2"));
    let text = out(&token("list", &url, "acme", &[]));
    assert!(
        text.starts_with("2\t") && text.lines().count() == 1,
        "{text}"
    );

    // Again, or an id never given: nothing to revoke.
    for id in ["1", "99", "x"] {
        let none = token("revoke", &url, "acme", &[id]);
        assert_eq!(none.status.code(), Some(1), "{id}: {none:?}");
    }

    // The audit log the admin pages show has each, with the actor and never a secret.
    let events = recent(&url, "acme");
    assert_eq!(
        events,
        [
            "cli: revoked SCIM token 1 (okta)",
            "cli: created SCIM token 2",
            "cli: created SCIM token 1 (okta)"
        ]
    );
    assert!(events.iter().all(|event| !event.contains(secret)));
}

/// The org's audit log, newest first, as `actor: action`.
fn recent(url: &str, org: &str) -> Vec<String> {
    use jit_provisioning::AuditLog;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = SqliteStore::connect(url).await.unwrap();
        let events = store.recent(org, 10).await.unwrap();
        store.pool().close().await;
        events
            .iter()
            .map(|event| format!("{}: {}", event.actor, event.action))
            .collect()
    })
}

#[test]
fn an_org_the_database_lacks_gets_no_token() {
    let url = database("unknown");
    let refused = token("create", &url, "initech", &[]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert_eq!(
        out(&refused),
        "",
        "nothing that looks like a token is printed"
    );
    assert!(
        err(&refused).contains("there is no org `initech`"),
        "{}",
        err(&refused)
    );
    let listed = token("list", &url, "initech", &[]);
    assert_eq!(listed.status.code(), Some(1), "{listed:?}");
}

#[test]
fn usage_errors_exit_2() {
    let url = database("usage");
    let cases: [(&str, Vec<&str>); 8] = [
        // Missing --org, or --database: clap's own errors.
        (
            "no org",
            vec!["scim", "token", "create", "--database", &url],
        ),
        (
            "no database",
            vec!["scim", "token", "list", "--org", "acme"],
        ),
        (
            "no id",
            vec![
                "scim",
                "token",
                "revoke",
                "--database",
                &url,
                "--org",
                "acme",
            ],
        ),
        (
            "no such command",
            vec![
                "scim",
                "token",
                "rotate",
                "--database",
                &url,
                "--org",
                "acme",
            ],
        ),
        (
            "not an org id",
            vec![
                "scim",
                "token",
                "create",
                "--database",
                &url,
                "--org",
                "Not An Org",
            ],
        ),
        (
            "a label of two lines",
            vec![
                "scim",
                "token",
                "create",
                "--database",
                &url,
                "--org",
                "acme",
                "--label",
                "a\nb",
            ],
        ),
        (
            "not a database URL",
            vec![
                "scim",
                "token",
                "list",
                "--database",
                "mysql://x",
                "--org",
                "acme",
            ],
        ),
        (
            "a database that cannot be opened",
            vec![
                "scim",
                "token",
                "list",
                "--database",
                "sqlite:///no/such/folder/app.db",
                "--org",
                "acme",
            ],
        ),
    ];
    for (what, args) in cases {
        let output = cli(&args);
        assert_eq!(output.status.code(), Some(2), "{what}: {output:?}");
        assert_eq!(out(&output), "", "{what}: nothing on standard output");
        assert!(!err(&output).is_empty(), "{what}: no message");
    }
    // None of them made a token.
    assert_eq!(
        out(&token("list", &url, "acme", &[])),
        "no SCIM tokens for `acme`\n"
    );
}
