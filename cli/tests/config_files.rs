//! `config convert` (the old two-file form into one file) and `config check` of a file
//! with SAML settings: the entity id from the metadata, the SAML keys' typos, the
//! certificates that end soon.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;

use common::{cli, out, scratch};

use jit_provisioning_saml::test_idp::TestIdp;

#[test]
fn the_two_file_form_converts_into_one_file_that_checks() {
    let folder = scratch("config-convert");
    let idp = TestIdp::generate("https://idp.acme.example").unwrap();
    fs::write(
        folder.join("idp.xml"),
        idp.metadata_xml("https://idp.acme.example/sso").unwrap(),
    )
    .unwrap();
    fs::write(
        folder.join("policy.toml"),
        "[orgs.acme]\njit = true\nidp = \"https://idp.acme.example\"\n",
    )
    .unwrap();
    fs::write(
        folder.join("saml.toml"),
        "[sp]\nbase_url = \"https://app.example\"\n\n[orgs.acme]\nidp = { metadata_file = \"idp.xml\" }\nattributes = { preset = \"okta\" }\n",
    )
    .unwrap();
    let converted = cli(&[
        "config",
        "convert",
        "--policy",
        folder.join("policy.toml").to_str().unwrap(),
        "--saml",
        folder.join("saml.toml").to_str().unwrap(),
    ]);
    assert_eq!(converted.status.code(), Some(0), "{converted:?}");
    let text = out(&converted);
    assert!(text.contains("[orgs.acme.saml"), "{text}");
    assert!(
        text.contains("EntityDescriptor"),
        "the metadata file is inlined: {text}"
    );
    // Moved elsewhere, the one file still checks: it needs no file beside it.
    let elsewhere = scratch("config-convert-moved").join("orgs.toml");
    fs::write(&elsewhere, &text).unwrap();
    let checked = cli(&["config", "check", elsewhere.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(0), "{}", out(&checked));
    assert!(out(&checked).contains("org `acme`: portal with IdP `https://idp.acme.example`"));
}

#[test]
fn the_entity_id_comes_from_the_metadata_and_a_mismatch_is_named() {
    let folder = scratch("config-entity-id");
    let idp = TestIdp::generate("https://idp.acme.example").unwrap();
    fs::write(
        folder.join("idp.xml"),
        idp.metadata_xml("https://idp.acme.example/sso").unwrap(),
    )
    .unwrap();
    let file = folder.join("orgs.toml");
    fs::write(
        &file,
        "[orgs.acme]\njit = true\n[orgs.acme.saml]\nidp = { metadata_file = \"idp.xml\" }\n",
    )
    .unwrap();
    let checked = cli(&["config", "check", file.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(0), "{}", out(&checked));
    assert!(
        out(&checked).contains("with IdP `https://idp.acme.example`"),
        "{}",
        out(&checked)
    );

    fs::write(&file, "[orgs.acme]\njit = true\nidp = \"https://other.example\"\n[orgs.acme.saml]\nidp = { metadata_file = \"idp.xml\" }\n").unwrap();
    let mismatch = cli(&["config", "check", file.to_str().unwrap()]);
    assert_eq!(mismatch.status.code(), Some(1));
    assert!(out(&mismatch).contains("`idp` is `https://other.example` but the SAML settings' IdP is `https://idp.acme.example`"), "{}", out(&mismatch));
}

#[test]
fn a_typo_in_the_saml_settings_is_named_where_it_is() {
    let folder = scratch("config-typo");
    let file = folder.join("orgs.toml");
    fs::write(
        &file,
        "[orgs.acme]\njit = true\nidp = \"x\"\n[orgs.acme.saml.options]\nallow_sha_1 = true\n",
    )
    .unwrap();
    let checked = cli(&["config", "check", file.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(1));
    assert!(
        out(&checked).contains(
            "unknown key `allow_sha_1` at `.orgs.acme.saml.options`: did you mean `allow_sha1`?"
        ),
        "{}",
        out(&checked)
    );
}
