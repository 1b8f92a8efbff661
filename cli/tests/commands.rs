//! `jit-provisioning cases`, `config check` and `decide`: the output and the exit
//! statuses that cli/README.md documents.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn cli(args: &[&str]) -> Output {
    run(args, "")
}

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jit-provisioning"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    // A command that refuses its input may exit before reading all of it.
    if let Err(error) = written {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

fn out(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn err(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh scratch folder.
fn scratch(name: &str) -> PathBuf {
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = fs::remove_dir_all(&folder);
    fs::create_dir_all(&folder).unwrap();
    folder
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

mod cases {
    use super::*;

    const FAILING: &str = r#"{"name": "a <wrong> expectation", "now": "2026-11-28T12:00:00Z",
        "config": {"orgs": {}}, "request": {"idp_error": {"org": "x", "status": "s"}},
        "expect": {"outcome": "denied"}}"#;

    #[test]
    fn the_projects_cases_pass_and_print_only_the_summary() {
        let output = cli(&["cases", path(&repo().join("tests/cases"))]);
        assert_eq!(output.status.code(), Some(0), "{}", out(&output));
        let text = out(&output);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert!(lines[0].ends_with(" passed, 0 failed"), "{text}");
    }

    #[test]
    fn verbose_lists_every_case() {
        let output = cli(&["cases", "--verbose", path(&repo().join("tests/cases/acme"))]);
        assert_eq!(output.status.code(), Some(0));
        let text = out(&output);
        assert!(text.contains("PASS "), "{text}");
        assert!(text.contains(":: Globex has not turned JIT on"), "{text}");
        assert_eq!(text.lines().last(), Some("2 passed, 0 failed"));
    }

    #[test]
    fn a_failure_exits_1_in_every_format() {
        let dir = scratch("cases-failing");
        fs::write(dir.join("wrong.json"), FAILING).unwrap();
        fs::write(dir.join("broken.json"), "[").unwrap();

        let text = cli(&["cases", path(&dir)]);
        assert_eq!(text.status.code(), Some(1));
        let shown = out(&text);
        assert!(shown.contains(":: a <wrong> expectation"), "{shown}");
        assert!(
            shown.contains(r#"outcome: expected "denied", got "not_found""#),
            "{shown}"
        );
        assert!(shown.contains("ERROR "), "{shown}");
        assert_eq!(shown.lines().last(), Some("0 passed, 2 failed"));

        let json = cli(&["cases", "--format", "json", path(&dir)]);
        assert_eq!(json.status.code(), Some(1));
        let report: Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(report["failed"], 2);
        assert_eq!(report["files"][0]["cases"][0]["passed"], false);

        let junit = cli(&["cases", "--format", "junit", path(&dir)]);
        assert_eq!(junit.status.code(), Some(1));
        let xml = out(&junit);
        assert!(xml.starts_with("<?xml"), "{xml}");
        assert!(
            xml.contains(r#"name="a &lt;wrong&gt; expectation""#),
            "{xml}"
        );
        assert!(xml.contains("<failure message="), "{xml}");
        assert!(xml.contains("<error message="), "{xml}");
    }

    #[test]
    fn nothing_to_run_fails_and_bad_usage_exits_2() {
        let empty = scratch("cases-empty");
        let output = cli(&["cases", path(&empty)]);
        assert_eq!(output.status.code(), Some(1));
        assert!(err(&output).contains("no case files found"));
        assert_eq!(cli(&["cases"]).status.code(), Some(2));
        assert_eq!(
            cli(&["cases", "--format", "yaml", "x"]).status.code(),
            Some(2)
        );
    }
}

mod config_check {
    use super::*;

    #[test]
    fn a_valid_config_says_what_it_means() {
        let output = cli(&[
            "config",
            "check",
            path(&repo().join("tests/cases/acme/config.toml")),
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", err(&output));
        let text = out(&output);
        assert!(text.contains("is valid"), "{text}");
        assert!(
            text.contains("org `acme`: portal with IdP `https://idp.acme.example`"),
            "{text}"
        );
        assert!(text.contains("org `globex`: no SSO login portal"), "{text}");
    }

    #[test]
    fn every_problem_is_listed_and_exits_1() {
        let dir = scratch("config-check");
        let file = dir.join("broken.json");
        fs::write(
            &file,
            r#"{"deployment": "cloud", "orgs": {"acme": {"jit": true,
                "provision": [{"org": "nowhere", "role": "owner"}]}}}"#,
        )
        .unwrap();
        let output = cli(&["config", "check", path(&file)]);
        assert_eq!(output.status.code(), Some(1));
        let text = out(&output);
        assert!(text.contains("4 problems"), "{text}");
        for problem in [
            "unknown deployment `cloud`",
            "no `idp`",
            "`nowhere`",
            "`owner`",
        ] {
            assert!(text.contains(problem), "{problem}: {text}");
        }

        let typo = dir.join("typo.toml");
        fs::write(&typo, "[orgs.acme]\njit = true\nipd = \"x\"\n").unwrap();
        let output = cli(&["config", "check", path(&typo)]);
        assert_eq!(output.status.code(), Some(1));
        assert!(
            out(&output).contains("did you mean `idp`?"),
            "{}",
            out(&output)
        );
    }

    #[test]
    fn group_roles_are_summarized_and_checked() {
        let dir = scratch("config-check-group-roles");
        let file = dir.join("groups.toml");
        fs::write(
            &file,
            "[orgs.acme]\njit = true\nidp = \"https://idp.acme.example\"\n\
             group_roles = [{ group = \"eng-admins\", org = \"acme\", role = \"admin\" }]\n",
        )
        .unwrap();
        let output = cli(&["config", "check", path(&file)]);
        assert_eq!(output.status.code(), Some(0), "{}", err(&output));
        assert!(
            out(&output).contains("groups raise roles at creation: `eng-admins` → admin of `acme`"),
            "{}",
            out(&output)
        );

        let synced = dir.join("synced.toml");
        fs::write(
            &synced,
            "[orgs.acme]\njit = true\nidp = \"https://idp.acme.example\"\nsync_roles = \"upgrade\"\n\
             group_roles = [{ group = \"eng-admins\", org = \"acme\", role = \"admin\" }]\n",
        )
        .unwrap();
        let output = cli(&["config", "check", path(&synced)]);
        assert_eq!(output.status.code(), Some(0), "{}", err(&output));
        assert!(
            out(&output).contains(
                "groups raise roles at creation and at each sign-in, never lowering one: `eng-admins`"
            ),
            "{}",
            out(&output)
        );

        let broken = dir.join("broken.toml");
        fs::write(
            &broken,
            "[orgs.acme]\njit = true\nidp = \"x\"\n\
             group_roles = [{ group = \"eng\", org = \"nowhere\", role = \"owner\" }]\n",
        )
        .unwrap();
        let output = cli(&["config", "check", path(&broken)]);
        assert_eq!(output.status.code(), Some(1));
        let text = out(&output);
        assert!(
            text.contains("unknown org `nowhere` in `group_roles`"),
            "{text}"
        );
        assert!(
            text.contains("unknown role `owner` in `group_roles`"),
            "{text}"
        );
    }

    #[test]
    fn an_unreadable_file_exits_2() {
        let output = cli(&["config", "check", "/no/such/config.toml"]);
        assert_eq!(output.status.code(), Some(2));
        assert!(err(&output).contains("cannot read config file"));
    }
}

mod decide {
    use super::*;

    const JANE: &str = r#"{"assertion": {"org": "acme", "issuer": "https://idp.acme.example",
        "subject": "00u1", "given_name": "Jane", "family_name": "Doe", "email": "jane@acme.example"}}"#;

    fn config() -> String {
        repo()
            .join("tests/cases/acme/config.toml")
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_new_person_gets_an_account_printed_as_the_quickstart_prints_it() {
        let output = run(
            &[
                "decide",
                "--config",
                &config(),
                "--now",
                "2026-11-28T12:00:00Z",
                "-",
            ],
            JANE,
        );
        assert_eq!(output.status.code(), Some(0), "{}", err(&output));
        let text = out(&output);
        assert!(
            text.starts_with("account_created\n  rule jit_create: "),
            "{text}"
        );
        assert!(text.contains("then create account `jane-doe`"), "{text}");
        assert!(text.contains("lands on the home of org `acme`"), "{text}");
    }

    #[test]
    fn the_accounts_are_the_stores_and_json_is_the_decisions() {
        let dir = scratch("decide");
        let accounts = dir.join("accounts.json");
        fs::write(
            &accounts,
            r#"[{"id": "u7", "handle": "jane-doe", "email": "jane@acme.example"}]"#,
        )
        .unwrap();
        let output = run(
            &[
                "decide",
                "--config",
                &config(),
                "--accounts",
                path(&accounts),
                "--now",
                "2026-11-28T12:00:00Z",
                "--format",
                "json",
                "-",
            ],
            JANE,
        );
        assert_eq!(output.status.code(), Some(0), "{}", err(&output));
        let decision: Value = serde_json::from_slice(&output.stdout).unwrap();
        // Jane's email is in a verified domain: her existing account is linked.
        assert_eq!(decision["outcome"], "signed_in");
        assert_eq!(decision["rule"], "email_linked");
        assert_eq!(decision["account"]["id"], "u7");
        assert_eq!(decision["message"], Value::Null);
    }

    #[test]
    fn a_refusal_exits_1_with_the_message_for_the_person() {
        let request = r#"{"idp_error": {"org": "acme",
            "status": "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"}}"#;
        let output = run(&["decide", "--config", &config(), "-"], request);
        assert_eq!(output.status.code(), Some(1));
        let text = out(&output);
        assert!(text.starts_with("denied (app_not_assigned)"), "{text}");
        assert!(
            text.contains("tells the person: This app is not assigned"),
            "{text}"
        );
    }

    #[test]
    fn bad_input_exits_2() {
        let not_a_request = run(&["decide", "--config", &config(), "-"], r#"{"login": {}}"#);
        assert_eq!(not_a_request.status.code(), Some(2));
        assert!(
            err(&not_a_request).contains("is not a request"),
            "{}",
            err(&not_a_request)
        );
        let dir = scratch("decide-bad");
        let invalid = dir.join("invalid.json");
        fs::write(&invalid, r#"{"orgs": {"acme": {"jit": true}}}"#).unwrap();
        let output = run(&["decide", "--config", path(&invalid), "-"], JANE);
        assert_eq!(output.status.code(), Some(2));
        assert!(err(&output).contains("no `idp`"), "{}", err(&output));
    }
}
