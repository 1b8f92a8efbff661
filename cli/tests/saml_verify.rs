//! `jit-provisioning saml verify` on the verdict corpus and on hand-made input: the
//! JSON and the exit status the docs promise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)] // the adapter's tests use the rest
#[path = "../../adapters/saml/tests/common/verdicts.rs"]
mod verdicts;

use std::process::{Command, Output};

use jit_provisioning_saml::{SignatureBackend, Verified};
use serde_json::Value;
use verdicts::Outcome;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jit-provisioning"))
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&output.stdout)))
}

fn verify_entry(entry: &verdicts::Entry, extra: &[&str]) -> Output {
    let root = verdicts::root();
    let mut command = cli();
    command
        .args(["saml", "verify", "--allow-sha1"])
        .args(["--idp-entity-id", &entry.idp.entity_id])
        .args(["--sp-entity-id", &entry.sp.entity_id])
        .args(["--acs-url", &entry.sp.acs_url])
        .args(["--now", &entry.now.to_rfc3339()])
        .args(extra);
    if let Some(cert) = &entry.idp.cert {
        command.arg("--idp-cert").arg(root.join(cert));
    }
    if let Some(request_id) = &entry.sp.request_id {
        command.args(["--request-id", request_id]);
    }
    if entry.policy.want_response_signed {
        command.arg("--require-signed-response");
    }
    if entry.policy.want_assertion_signed {
        command.arg("--require-signed-assertion");
    }
    command.arg(root.join(&entry.file));
    command.output().unwrap()
}

#[test]
#[ignore = "reads ../shared/corpus/saml-verdicts (CI provides it; run with --ignored)"]
fn every_corpus_verdict_is_the_librarys_with_the_documented_exit_status() {
    for entry in verdicts::load() {
        // Entries without a certificate cannot be given one: the CLI refuses as usage.
        if entry.idp.cert.is_none() {
            let output = verify_entry(&entry, &[]);
            assert_eq!(output.status.code(), Some(2), "{}", entry.id);
            continue;
        }
        let outcome = entry.verify(SignatureBackend::Pure);
        let right = entry.scores(&outcome)
            || verdicts::decided(&entry.id).is_some_and(|ours| ours.matches(&outcome));
        assert!(right, "{}: {outcome:?}", entry.id);
        let output = verify_entry(&entry, &["--explain"]);
        let report = json(&output);
        let (verdict, code) = match &outcome {
            Outcome::Accept(Verified::Assertion(_)) => ("accept", 0),
            Outcome::Accept(Verified::Status(_)) => ("status", 1),
            Outcome::Reject(_) => ("reject", 1),
        };
        assert_eq!(report["verdict"], verdict, "{}: {report}", entry.id);
        assert_eq!(output.status.code(), Some(code), "{}", entry.id);
        if let Outcome::Reject(error) = &outcome {
            assert_eq!(
                report["category"],
                error.category().as_str(),
                "{}",
                entry.id
            );
            let checks = report["checks"].as_array().unwrap();
            assert_eq!(checks.last().unwrap()["result"], "fail", "{}", entry.id);
        }
        if let Outcome::Accept(Verified::Assertion(signed)) = &outcome {
            assert_eq!(report["id"], signed.id.as_str());
            assert_eq!(report["assertion"]["issuer"], entry.idp.entity_id.as_str());
        }
    }
}

#[test]
fn bad_usage_exits_2_and_says_why() {
    let output = cli()
        .args([
            "saml",
            "verify",
            "--sp-entity-id",
            "sp",
            "--acs-url",
            "https://sp/acs",
        ])
        .arg("no-such-file.xml")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--idp-entity-id"));

    let output = cli().args(["saml", "verify", "--bogus"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn metadata_from_a_base_url_names_the_orgs_endpoints() {
    let output = cli()
        .args([
            "saml",
            "metadata",
            "--org",
            "acme",
            "--base-url",
            "https://app.example/",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let xml = String::from_utf8(output.stdout).unwrap();
    assert!(
        xml.contains(r#"entityID="https://app.example/acme/saml/metadata""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"Location="https://app.example/acme/saml/acs""#),
        "{xml}"
    );
}

#[test]
fn metadata_from_the_deployments_configs_uses_the_orgs_settings() {
    let dir = std::env::temp_dir().join(format!("jit-cli-metadata-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let idp =
        jit_provisioning_saml::test_idp::TestIdp::generate("https://idp.acme.example").unwrap();
    std::fs::write(
        dir.join("okta.xml"),
        idp.metadata_xml("https://idp.acme.example/sso").unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("policy.json"),
        r#"{"orgs": {"acme": {"jit": true, "idp": "https://idp.acme.example"}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("saml.toml"),
        "[sp]\nbase_url = \"https://app.example\"\n\n[orgs.acme]\nsp_entity_id = \"urn:app:acme\"\n\n[orgs.acme.idp]\nmetadata_file = \"okta.xml\"\n",
    )
    .unwrap();
    let output = cli()
        .args(["saml", "metadata", "--org", "acme", "--config"])
        .arg(dir.join("saml.toml"))
        .arg("--policy")
        .arg(dir.join("policy.json"))
        .output()
        .unwrap();
    let xml = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(xml.contains(r#"entityID="urn:app:acme""#), "{xml}");
    assert!(
        xml.contains(r#"Location="https://app.example/acme/saml/acs""#),
        "{xml}"
    );

    let output = cli()
        .args(["saml", "metadata", "--org", "globex", "--config"])
        .arg(dir.join("saml.toml"))
        .arg("--policy")
        .arg(dir.join("policy.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verify_with_the_apps_config_uses_the_orgs_settings() {
    use jit_provisioning_saml::test_idp::{ResponseTarget, TestIdp, TestPerson};

    let dir = std::env::temp_dir().join(format!("jit-cli-verify-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let idp = TestIdp::generate("https://idp.acme.example").unwrap();
    std::fs::write(
        dir.join("okta.xml"),
        idp.metadata_xml("https://idp.acme.example/sso").unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("policy.json"),
        r#"{"orgs": {"acme": {"jit": true, "idp": "https://idp.acme.example"}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("saml.toml"),
        "[sp]\nbase_url = \"https://app.example\"\n\n[orgs.acme]\nsp_entity_id = \"urn:app:acme\"\n\n[orgs.acme.idp]\nmetadata_file = \"okta.xml\"\n",
    )
    .unwrap();
    let now = chrono::Utc::now();
    let person = TestPerson::new("00u-jane")
        .with_given_name("Jane")
        .with_family_name("Doe")
        .with_email("jane@acme.example");
    let verify = |target: &ResponseTarget, org: &str| {
        let response = idp.response(&person, target, now).unwrap();
        let file = dir.join(format!("response-{org}.xml"));
        std::fs::write(&file, response).unwrap();
        cli()
            .args(["saml", "verify", "--org", org, "--config"])
            .arg(dir.join("saml.toml"))
            .arg("--policy")
            .arg(dir.join("policy.json"))
            .arg(&file)
            .output()
            .unwrap()
    };

    // The org's own SP entity id and ACS URL, from the config: accepted and mapped.
    let right = ResponseTarget::new("urn:app:acme", "https://app.example/acme/saml/acs");
    let output = verify(&right, "acme");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verdict = json(&output);
    assert_eq!(verdict["verdict"], "accept");
    assert_eq!(verdict["assertion"]["given_name"], "Jane");

    // An audience the app does not have is refused, as the app would refuse it.
    let wrong = ResponseTarget::new(
        "https://app.example/acme/saml/metadata",
        "https://app.example/acme/saml/acs",
    );
    let output = verify(&wrong, "acme");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["verdict"], "reject");

    // An org the config does not have is a usage error naming those it has.
    let output = verify(&right, "globex");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("acme"));
    std::fs::remove_dir_all(&dir).unwrap();
}
