//! Writes the seed corpus of the `saml_response` target: test-IdP responses for the SP
//! the target verifies against, good and bad, as XML and as the base64 `SAMLResponse`
//! form value, and the IdP's metadata.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --features seeds --bin saml_seeds -- \
//!     fuzz/corpus/saml_response
//! ```
//!
//! The IdP key is the one the target trusts (`fuzz/corpus/saml_response.idp.pem`, made
//! on first use), so the good seeds pass the signature check. Files are named after what
//! they are and overwritten on every run; nothing else in the folder is touched.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jit_provisioning_saml::test_idp::{
    post_form_value, status, BadResponse, ResponseOptions, TestIdp, TestIdpError, TestPerson,
};
use jit_provisioning_saml::{verify, Verified, VerifyOptions};

#[path = "../saml_fixture.rs"]
mod saml_fixture;

use saml_fixture::{now, target, IDP_SSO_URL};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: saml_seeds DIR  (writes the saml_response seeds into DIR)");
        return ExitCode::FAILURE;
    };
    let dir = PathBuf::from(dir);
    let seeds = match seeds(saml_fixture::idp()) {
        Ok(seeds) => seeds,
        Err(error) => {
            eprintln!("the test IdP failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = write_all(&dir, &seeds) {
        eprintln!("cannot write the seeds into {}: {error}", dir.display());
        return ExitCode::FAILURE;
    }
    eprintln!("{} seeds in {}", seeds.len(), dir.display());
    if verdicts(&seeds) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints what the target's SP makes of each XML seed, and whether the good ones pass:
/// a good seed refused (a key file that no longer matches, a clock moved) would leave
/// the fuzzer with no input past the signature check, silently.
fn verdicts(seeds: &[(String, String)]) -> bool {
    let mut all_right = true;
    for (name, text) in seeds {
        let Some(stem) = name.strip_suffix(".xml").filter(|stem| *stem != "metadata") else {
            continue;
        };
        let verdict = verify(
            text,
            saml_fixture::trusted_idp(),
            &saml_fixture::expected(),
            now(),
            &VerifyOptions::default(),
        );
        let right = match (&verdict, stem) {
            (Ok(Verified::Assertion(_)), good) => good.starts_with("good-") || good == "good",
            (Ok(Verified::Status(_)), status) => status == "error-status",
            (Err(_), bad) => bad.starts_with("bad-"),
        };
        let said = match &verdict {
            Ok(Verified::Assertion(signed)) => format!("accepted ({:?})", signed.name_id),
            Ok(Verified::Status(status)) => format!("status {}", status.status),
            Err(error) => format!("refused: {} ({error})", error.category().as_str()),
        };
        eprintln!("  {stem}: {said}{}", if right { "" } else { "  <- WRONG" });
        all_right &= right;
    }
    all_right
}

/// A person with every attribute the mapping reads, in more than one script.
fn person() -> TestPerson {
    TestPerson::new("00u1fuzz")
        .with_given_name("Zoë")
        .with_family_name("Ωνάσης")
        .with_email("zoe@acme.example")
        .with_groups(["Engineering", "CN=Staff,OU=Groups,DC=acme", "山田"])
        .with_attribute("displayName", ["Zoë Ωνάσης"])
}

/// Every seed as (file name, content).
fn seeds(idp: &TestIdp) -> Result<Vec<(String, String)>, TestIdpError> {
    let (person, target, now) = (person(), target(), now());
    let mut xml = vec![
        ("good".to_owned(), idp.response(&person, &target, now)?),
        (
            "good-response-signed".to_owned(),
            idp.response_with(&person, &target, now, &{
                let mut options = ResponseOptions::default();
                options.sign_response = true;
                options
            })?,
        ),
        (
            "good-only-response-signed".to_owned(),
            idp.response_with(&person, &target, now, &{
                let mut options = ResponseOptions::default();
                options.sign_assertion = false;
                options.sign_response = true;
                options
            })?,
        ),
        (
            "good-subject-only".to_owned(),
            idp.response(&TestPerson::new("jane@acme.example"), &target, now)?,
        ),
        (
            "error-status".to_owned(),
            idp.error_response(
                &target,
                status::RESPONDER,
                Some(status::REQUEST_DENIED),
                Some("not assigned to this application"),
                now,
            )?,
        ),
    ];
    for kind in BadResponse::ALL {
        xml.push((
            format!("bad-{kind:?}"),
            idp.bad_response(kind, &person, &target, now)?,
        ));
    }
    let mut seeds: Vec<(String, String)> = Vec::new();
    for (name, text) in &xml {
        seeds.push((format!("{name}.xml"), text.clone()));
    }
    // The POST binding's form value of a few, for the target's `decode_post` path.
    for name in ["good", "error-status", "bad-Tampered"] {
        if let Some((_, text)) = xml.iter().find(|(seed, _)| seed == name) {
            seeds.push((format!("{name}.b64"), post_form_value(text)));
        }
    }
    seeds.push(("metadata.xml".to_owned(), idp.metadata_xml(IDP_SSO_URL)?));
    Ok(seeds)
}

fn write_all(dir: &Path, seeds: &[(String, String)]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, content) in seeds {
        std::fs::write(dir.join(format!("seed-{name}")), content)?;
    }
    Ok(())
}
