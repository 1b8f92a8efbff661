//! `jit-provisioning orgs …` against a SQLite database: import, list, show (read back by
//! import), disable, enable, history, and what a refused change prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Output;

use common::{cli, out};

/// A fresh scratch folder and the URL of a database in it.
fn scratch(name: &str) -> (PathBuf, String) {
    let folder = common::scratch(&format!("orgs-{name}"));
    let url = format!("sqlite://{}", folder.join("app.db").display());
    (folder, url)
}

const ORGS: &str = r#"
[orgs.acme]
jit = true
idp = "https://idp.acme.example"
verified_domains = ["acme.example"]
provision = [{ org = "acme", role = "member" }, { org = "acme-labs", role = "contributor" }]

[orgs.acme-labs]
"#;

fn import(url: &str, file: &std::path::Path) -> Output {
    cli(&[
        "orgs",
        "import",
        "--database",
        url,
        "--actor",
        "support:sam",
        file.to_str().unwrap(),
    ])
}

#[test]
fn import_list_show_disable_enable_history() {
    let (folder, url) = scratch("round");
    let file = folder.join("orgs.toml");
    fs::write(&file, ORGS).unwrap();

    let imported = import(&url, &file);
    assert_eq!(imported.status.code(), Some(0), "{imported:?}");
    assert_eq!(
        out(&imported),
        "created `acme` (version 1)\ncreated `acme-labs` (version 1)\n"
    );
    // Again: nothing to write.
    let again = import(&url, &file);
    assert_eq!(out(&again), "unchanged `acme`\nunchanged `acme-labs`\n");

    let list = out(&cli(&["orgs", "list", "--database", &url]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].starts_with("acme\tactive\tjit on\tidp https://idp.acme.example\tversion 1\t"),
        "{list}"
    );
    assert!(lines[0].ends_with(" by support:sam"), "{list}");
    assert!(
        lines[1].starts_with("acme-labs\tactive\tjit off\tidp -\tversion 1"),
        "{list}"
    );

    // `show` prints a file that `import` reads back as the same org.
    let shown = cli(&["orgs", "show", "--database", &url, "acme"]);
    assert_eq!(shown.status.code(), Some(0));
    let shown_file = folder.join("acme.toml");
    fs::write(&shown_file, out(&shown)).unwrap();
    assert!(
        out(&shown).starts_with("# org `acme`, version 1, written "),
        "{}",
        out(&shown)
    );
    assert_eq!(out(&import(&url, &shown_file)), "unchanged `acme`\n");

    let disabled = cli(&[
        "orgs",
        "disable",
        "--database",
        &url,
        "--actor",
        "admin:jane",
        "acme",
    ]);
    assert_eq!(out(&disabled), "`acme` is inactive (version 2)\n");
    assert!(out(&cli(&["orgs", "list", "--database", &url])).starts_with("acme\tinactive\t"));
    // A change that names a version the org has left is refused.
    let stale = cli(&[
        "orgs",
        "enable",
        "--database",
        &url,
        "--expect-version",
        "1",
        "acme",
    ]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        out(&stale).contains("is at version 2, not 1"),
        "{}",
        out(&stale)
    );
    let enabled = cli(&[
        "orgs",
        "enable",
        "--database",
        &url,
        "--expect-version",
        "2",
        "acme",
    ]);
    assert_eq!(out(&enabled), "`acme` is active (version 3)\n");

    let history = out(&cli(&["orgs", "history", "--database", &url, "acme"]));
    let versions: Vec<&str> = history
        .lines()
        .filter(|line| line.starts_with("version"))
        .collect();
    assert_eq!(versions.len(), 3, "{history}");
    assert!(versions[1].ends_with("\tadmin:jane"), "{history}");
    assert!(
        history.contains("  state: (not set) → \"inactive\""),
        "{history}"
    );
    assert!(
        history.contains("  state: \"inactive\" → (not set)"),
        "{history}"
    );
}

#[test]
fn a_bad_file_writes_nothing_and_lists_every_problem() {
    let (folder, url) = scratch("bad");
    let file = folder.join("orgs.toml");
    fs::write(
        &file,
        r#"
        [orgs.good]
        jit = true
        idp = "https://idp.good.example"
        [orgs.bad]
        jit = true
        provision = [{ org = "nowhere", role = "owner" }]
        "#,
    )
    .unwrap();
    let refused = import(&url, &file);
    assert_eq!(refused.status.code(), Some(1));
    let text = out(&refused);
    assert!(
        text.starts_with("nothing was written: 3 problems\n"),
        "{text}"
    );
    assert!(text.contains("unknown org `nowhere`"), "{text}");
    assert!(text.contains("unknown role `owner`"), "{text}");
    assert_eq!(
        out(&cli(&["orgs", "list", "--database", &url])),
        "no orgs\n"
    );
}

#[test]
fn a_typo_is_named_with_what_was_meant() {
    let (folder, url) = scratch("typo");
    let file = folder.join("orgs.toml");
    fs::write(
        &file,
        "[orgs.acme]\njit = true\n[orgs.acme.saml.idp]\nmetadata_ulr = \"https://x\"\n",
    )
    .unwrap();
    let refused = import(&url, &file);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        out(&refused).contains("did you mean `metadata_url`"),
        "{}",
        out(&refused)
    );
}

#[test]
fn an_unknown_org_and_a_bad_url_are_said_plainly() {
    let (_, url) = scratch("unknown");
    let missing = cli(&["orgs", "show", "--database", &url, "ghost"]);
    assert_eq!(
        (missing.status.code(), out(&missing)),
        (Some(1), "there is no org `ghost`\n".into())
    );
    let bad = cli(&["orgs", "list", "--database", "mysql://x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use `sqlite://PATH` or `postgres://…`"));
}

#[test]
fn owner_link_prints_a_one_time_link_and_can_create_a_draft_org() {
    let (_folder, url) = scratch("owner-link");
    let args = |extra: &[&str]| {
        let mut args = vec![
            "orgs",
            "owner-link",
            "--database",
            &url,
            "--base-url",
            "https://app.example/",
        ];
        args.extend_from_slice(extra);
        cli(&args)
    };

    // No such org, and no --create: nothing made.
    let missing = args(&["globex"]);
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    assert!(out(&missing).contains("--create"), "{}", out(&missing));

    let made = args(&["--create", "--actor", "ops:kim", "globex"]);
    assert_eq!(made.status.code(), Some(0), "{made:?}");
    let printed = out(&made);
    let link = printed.lines().last().unwrap();
    let token = link
        .strip_prefix("https://app.example/globex/admin/owner/")
        .unwrap_or_else(|| panic!("{printed}"));
    assert_eq!(token.len(), 64, "{token}");
    assert!(token.bytes().all(|byte| byte.is_ascii_hexdigit()));
    assert!(printed.contains("created `globex` as a draft"), "{printed}");
    let list = out(&cli(&["orgs", "list", "--database", &url]));
    assert!(list.starts_with("globex\tdraft\tjit off"), "{list}");

    // Another link for the org, now that it exists: a different token.
    let again = out(&args(&["globex"]));
    assert_ne!(again.lines().last().unwrap(), link);

    // The database keeps hashes, never the token.
    let db = url.strip_prefix("sqlite://").unwrap();
    let mut bytes = fs::read(db).unwrap();
    bytes.extend(fs::read(format!("{db}-wal")).unwrap_or_default());
    assert!(
        !bytes
            .windows(token.len())
            .any(|window| window == token.as_bytes()),
        "the token is stored in the database"
    );

    // Bad input: usage errors.
    assert_eq!(args(&["--minutes", "0", "globex"]).status.code(), Some(2));
    assert_eq!(args(&["Not An Org"]).status.code(), Some(2));
    let bad_base = cli(&[
        "orgs",
        "owner-link",
        "--database",
        &url,
        "--base-url",
        "app.example",
        "globex",
    ]);
    assert_eq!(bad_base.status.code(), Some(2));
}

/// `saml verify --database`: a response checked with the org's record as the app reads it.
#[test]
fn saml_verify_reads_the_org_from_the_database() {
    use jit_provisioning_saml::test_idp::{ResponseTarget, TestIdp, TestPerson};

    let (folder, url) = scratch("verify");
    let idp = TestIdp::generate("https://idp.acme.example").unwrap();
    let metadata = idp
        .metadata_xml("https://idp.acme.example/sso")
        .unwrap()
        .replace('"', "\\\"")
        .replace('\n', "");
    let file = folder.join("orgs.toml");
    fs::write(
        &file,
        format!(
            "[orgs.acme]\njit = true\n[orgs.acme.saml]\nidp = {{ metadata = \"{metadata}\" }}\n"
        ),
    )
    .unwrap();
    assert_eq!(import(&url, &file).status.code(), Some(0));
    let person = TestPerson::new("00u-jane").with_given_name("Jane");
    let target = ResponseTarget::new(
        "https://app.example/acme/saml/metadata",
        "https://app.example/acme/saml/acs",
    );
    let response = folder.join("response.xml");
    fs::write(
        &response,
        idp.response(&person, &target, chrono::Utc::now()).unwrap(),
    )
    .unwrap();
    let verify = |org: &str| {
        cli(&[
            "saml",
            "verify",
            "--database",
            &url,
            "--base-url",
            "https://app.example",
            "--org",
            org,
            response.to_str().unwrap(),
        ])
    };
    let accepted = verify("acme");
    assert_eq!(accepted.status.code(), Some(0), "{accepted:?}");
    assert!(
        out(&accepted).contains(r#""verdict":"accept""#),
        "{}",
        out(&accepted)
    );
    let unknown = verify("globex");
    assert_eq!(unknown.status.code(), Some(2), "{unknown:?}");
}
