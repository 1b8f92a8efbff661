//! The case-file loader's promises, through the public API: every object of the format
//! refuses unknown keys (naming the key, the case, the file and the nearest valid key),
//! and every error about a value from a closed list says what would be valid.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::path::Path;

use jit_provisioning::cases::{parse, CaseLoadError};

/// A case that loads, with every object of the format present once.
const FULL: &str = r#"{
    "name": "every object",
    "now": "2026-11-28T12:00:00Z",
    "config": { "orgs": { "acme": { "jit": true, "idp": "https://idp.acme.example",
                                    "provision": [ { "org": "acme", "role": "member" } ] } } },
    "accounts": [ { "id": "u7", "handle": "jane-doe", "email": "jane@acme.example",
                    "identities": [ { "issuer": "https://idp.acme.example", "subject": "00u1" } ],
                    "memberships": { "acme": "member" } } ],
    "request": { "portal_visit": { "org": "acme",
                                   "session": { "account": "u7", "sso_at": "2026-11-28T11:00:00Z" } } },
    "expect": { "outcome": "signed_in", "account": "u7", "grants": [ { "org": "acme", "role": "member" } ],
                "landing": { "org_home": "acme" } }
}"#;

fn load(text: &str) -> Result<usize, String> {
    parse(Path::new("suite/cases.json"), text)
        .map(|file| file.cases.len())
        .map_err(|error| error.to_string())
}

/// `text` with the first `from` replaced by `to`, which must change it.
fn typo(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the text");
    text.replacen(from, to, 1)
}

#[test]
fn the_full_case_loads() {
    assert_eq!(load(FULL), Ok(1));
}

#[test]
fn a_misspelt_key_in_any_object_is_a_load_error_naming_it_and_the_nearest_valid_key() {
    // (the key as written, the misspelling, the key it should be)
    let typos = [
        (r#""accounts""#, r#""account""#, "accounts"),
        (r#""expect""#, r#""expected""#, "expect"),
        (r#""memberships""#, r#""membership""#, "memberships"),
        (r#""identities""#, r#""identity""#, "identities"),
        (r#""subject": "00u1""#, r#""subjct": "00u1""#, "subject"),
        (r#""portal_visit""#, r#""portal_vist""#, "portal_visit"),
        (r#""sso_at""#, r#""sso_time""#, "sso_at"),
        (r#""org_home""#, r#""org_hom""#, "org_home"),
        (r#""grants""#, r#""grant""#, "grants"),
        (
            r#""role": "member" } ] } }"#,
            r#""rol": "member" } ] } }"#,
            "role",
        ),
        (r#""provision""#, r#""provisions""#, "provision"),
        (r#""orgs""#, r#""org""#, "orgs"),
        (r#""outcome""#, r#""outcom""#, "outcome"),
    ];
    for (from, to, nearest) in typos {
        let text = typo(FULL, from, to);
        let message = load(&text).expect_err(&format!("`{to}` was accepted"));
        let written = to.split('"').nth(1).unwrap();
        assert!(message.contains("suite/cases.json"), "{message}");
        assert!(message.contains("case 1 `every object`"), "{message}");
        assert!(
            message.contains(&format!("unknown key `{written}`")),
            "{message}"
        );
        assert!(
            message.contains(&format!("did you mean `{nearest}`")),
            "{message}"
        );
    }
}

#[test]
fn a_member_written_with_membership_is_not_silently_a_non_member() {
    // The typo from the issue: without the check, the account had no memberships and a
    // case expecting a non-member's landing passed.
    let text = typo(FULL, r#""memberships""#, r#""membership""#);
    let message = load(&text).unwrap_err();
    assert!(message.contains(".accounts[0]"), "{message}");
}

#[test]
fn errors_about_closed_lists_say_what_would_be_valid() {
    let outcome = load(&typo(FULL, r#""signed_in""#, r#""redirect""#)).unwrap_err();
    assert!(
        outcome.contains("unknown expected outcome `redirect`"),
        "{outcome}"
    );
    assert!(
        outcome.contains("did you mean `redirect_to_idp`"),
        "{outcome}"
    );
    for valid in [
        "signed_in",
        "account_created",
        "redirect_to_idp",
        "denied",
        "not_found",
        "error",
    ] {
        assert!(outcome.contains(&format!("`{valid}`")), "{outcome}");
    }

    let reason = load(&typo(
        FULL,
        r#""outcome": "signed_in""#,
        r#""reason": "email_taken""#,
    ))
    .unwrap_err();
    assert!(reason.contains("did you mean `email_in_use`"), "{reason}");
    for valid in ["app_not_assigned", "handle_unavailable", "invalid_config"] {
        assert!(reason.contains(&format!("`{valid}`")), "{reason}");
    }

    let request = load(&typo(FULL, r#""portal_visit""#, r#""visit""#)).unwrap_err();
    for valid in ["portal_visit", "assertion", "idp_error"] {
        assert!(request.contains(&format!("`{valid}`")), "{request}");
    }

    let role = load(&typo(FULL, r#""acme": "member""#, r#""acme": "owner""#)).unwrap_err();
    for valid in ["member", "contributor", "admin"] {
        assert!(role.contains(&format!("`{valid}`")), "{role}");
    }
}

#[test]
fn a_load_error_has_the_file_it_came_from() {
    let error = parse(Path::new("suite/cases.json"), "[1").unwrap_err();
    assert!(matches!(error, CaseLoadError::NotJson { .. }));
}

mod files {
    //! Config files and folders, on disk.

    use std::fs;
    use std::path::PathBuf;

    use jit_provisioning::cases::{load_paths, run_paths, ConfigSource};

    /// A fresh folder under the test target's scratch space.
    fn folder(name: &str) -> PathBuf {
        let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("case_format-{name}"));
        let _ = fs::remove_dir_all(&folder);
        fs::create_dir_all(&folder).unwrap();
        folder
    }

    const CASE_WITHOUT_CONFIG: &str = r#"{"name": "jane", "now": "2026-11-28T12:00:00Z",
        "request": {"assertion": {"org": "acme", "issuer": "https://idp.acme.example",
                    "subject": "1", "given_name": "Jane", "family_name": "Doe"}},
        "expect": {"outcome": "account_created", "handle": "jane-doe"}}"#;

    const ACME_TOML: &str = "[orgs.acme]\njit = true\nidp = \"https://idp.acme.example\"\n";

    #[test]
    fn a_folder_config_applies_to_the_cases_without_their_own_and_is_not_a_case() {
        for (file, text) in [
            ("config.toml", ACME_TOML),
            (
                "config.json",
                r#"{"orgs": {"acme": {"jit": true, "idp": "https://idp.acme.example"}}}"#,
            ),
        ] {
            let dir = folder(&format!("folder-{file}"));
            fs::write(dir.join(file), text).unwrap();
            fs::write(dir.join("cases.json"), CASE_WITHOUT_CONFIG).unwrap();
            let report = run_paths([&dir]);
            assert!(report.all_passed(), "{file}: {}", report.verbose());
            assert_eq!(report.passed(), 1, "{file}: config.json is no case");
            let loaded = load_paths([dir.join("cases.json")]);
            let case = &loaded[0].as_ref().unwrap().cases[0];
            assert_eq!(case.config_source, ConfigSource::Folder(dir.join(file)));
        }
    }

    #[test]
    fn both_folder_configs_at_once_are_a_load_error() {
        let dir = folder("both");
        fs::write(dir.join("config.toml"), ACME_TOML).unwrap();
        fs::write(dir.join("config.json"), r#"{"orgs": {}}"#).unwrap();
        fs::write(dir.join("cases.json"), CASE_WITHOUT_CONFIG).unwrap();
        let report = run_paths([&dir]);
        let message = report.load_errors[0].to_string();
        assert!(
            message.contains("both `config.json` and `config.toml`"),
            "{message}"
        );
    }

    #[test]
    fn a_named_config_file_is_relative_to_the_case_file_and_is_not_a_case() {
        let dir = folder("named");
        fs::create_dir_all(dir.join("cases")).unwrap();
        fs::write(dir.join("prod.toml"), ACME_TOML).unwrap();
        fs::write(
            dir.join("cases/prod.json"),
            r#"{"orgs": {"acme": {"jit": true, "idp": "https://idp.acme.example"}}}"#,
        )
        .unwrap();
        for (file, config) in [("toml.json", "../prod.toml"), ("json.json", "prod.json")] {
            let case = CASE_WITHOUT_CONFIG.replacen(
                r#""request""#,
                &format!(r#""config": {{"file": "{config}"}}, "request""#),
                1,
            );
            fs::write(dir.join("cases").join(file), case).unwrap();
        }
        let report = run_paths([dir.join("cases")]);
        assert!(report.all_passed(), "{}", report.verbose());
        assert_eq!(report.passed(), 2, "prod.json is a config, not a case file");
    }

    #[test]
    fn a_config_file_with_a_typo_is_a_load_error_naming_the_config_file() {
        let dir = folder("typo");
        fs::write(dir.join("config.toml"), ACME_TOML.replace("idp =", "ipd =")).unwrap();
        fs::write(dir.join("cases.json"), CASE_WITHOUT_CONFIG).unwrap();
        let report = run_paths([&dir]);
        let message = report.load_errors[0].to_string();
        assert!(message.contains("config.toml"), "{message}");
        assert!(message.contains("case 1 `jane`"), "{message}");
        assert!(
            message.contains("unknown key `ipd` at `.orgs.acme`: did you mean `idp`?"),
            "{message}"
        );
        fs::write(dir.join("config.toml"), "[orgs.acme\n").unwrap();
        let message = run_paths([&dir]).load_errors[0].to_string();
        assert!(message.contains("config.toml`: not TOML"), "{message}");
    }

    #[test]
    fn a_config_file_that_is_not_a_regular_file_is_refused_without_reading_it() {
        let dir = folder("device");
        let case = CASE_WITHOUT_CONFIG.replacen(
            r#""request""#,
            r#""config": {"file": "/dev/zero"}, "request""#,
            1,
        );
        fs::write(dir.join("cases.json"), case).unwrap();
        let message = run_paths([&dir]).load_errors[0].to_string();
        assert!(message.contains("not a regular file"), "{message}");
    }
}

mod runs {
    //! What the runner checks.

    use std::path::Path;

    use jit_provisioning::cases::{parse, run_case};

    fn run(text: &str) -> Vec<String> {
        let file = parse(Path::new("cases.json"), text).unwrap();
        run_case(&file.cases[0])
            .mismatches
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const DENIED: &str = r#"{"name": "n", "now": "2026-11-28T12:00:00Z",
        "config": {"orgs": {"acme": {"jit": true, "idp": "https://idp"}}},
        "request": {"idp_error": {"org": "acme", "status": "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"}},
        "expect": EXPECT}"#;

    #[test]
    fn rule_and_message_are_checked() {
        let right = DENIED.replace(
            "EXPECT",
            r#"{"rule": "idp_request_denied", "message": "admin to assign it"}"#,
        );
        assert!(run(&right).is_empty());
        let wrong = DENIED.replace(
            "EXPECT",
            r#"{"rule": "idp_status", "message": "try again later"}"#,
        );
        assert_eq!(
            run(&wrong),
            [
                r#"rule: expected "idp_status", got "idp_request_denied""#.to_owned(),
                format!(
                    "message: expected a message containing \"try again later\", got {}",
                    serde_json::to_string(jit_provisioning::Reason::AppNotAssigned.message())
                        .unwrap()
                ),
            ]
        );
    }

    #[test]
    fn a_step_naming_an_account_that_its_step_did_not_make_fails() {
        let text = r#"{"name": "s", "config": {"orgs": {"acme": {"jit": true, "idp": "https://idp"}}},
          "steps": [
            {"now": "2026-11-28T12:00:00Z", "request": {"portal_visit": {"org": "acme", "session": null}},
             "expect": {"outcome": "redirect_to_idp"}},
            {"now": "2026-11-28T12:00:00Z", "request": {"portal_visit": {"org": "acme",
              "session": {"account": {"step": 1}}}}, "expect": {"outcome": "signed_in"}}]}"#;
        assert_eq!(
            run(text),
            [r#"step 2: request: expected "the account of step 1", got null"#]
        );
    }

    #[test]
    fn an_invalid_config_fails_every_step_that_expects_a_decision() {
        let text = r#"{"name": "s", "config": {"orgs": {"acme": {"jit": true}}},
          "steps": [
            {"now": "2026-11-28T12:00:00Z", "request": {"portal_visit": {"org": "acme", "session": null}},
             "expect": {"outcome": "error", "reason": "invalid_config"}},
            {"now": "2026-11-28T12:00:00Z", "request": {"portal_visit": {"org": "acme", "session": null}},
             "expect": {"outcome": "redirect_to_idp"}}]}"#;
        assert_eq!(
            run(text),
            [r#"step 2: outcome: expected "redirect_to_idp", got "error""#]
        );
    }
}
