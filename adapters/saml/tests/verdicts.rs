//! The 44 responses of `../shared/corpus/saml-verdicts`, from the test suites of five SAML
//! SP libraries, each verified with the settings and clock its own suite uses, through
//! every signature backend of this build.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use jit_provisioning_saml::{SignatureBackend, Verified};

use common::verdicts::{self, Outcome};

#[test]
#[ignore = "reads ../shared/corpus/saml-verdicts (CI provides it; run with --ignored)"]
fn every_undisputed_verdict_matches_on_every_backend() {
    let entries = verdicts::load();
    assert_eq!(entries.len(), 44, "the corpus has 44 responses");
    let mut wrong = Vec::new();
    for backend in SignatureBackend::available() {
        for entry in &entries {
            let outcome = entry.verify(*backend);
            let right = entry.scores(&outcome);
            let decided = verdicts::decided(&entry.id);
            assert!(
                decided.is_none() || entry.disputed,
                "{}: only a disputed verdict may be decided otherwise",
                entry.id
            );
            match (right, decided) {
                (true, _) => {}
                (false, Some(ours)) if ours.matches(&outcome) => {}
                _ => wrong.push(format!(
                    "{backend:?} {}: expected {:?}, got {outcome:?}",
                    entry.id, entry.expect
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
#[ignore = "reads ../shared/corpus/saml-verdicts (CI provides it; run with --ignored)"]
fn an_accepted_response_gives_the_suites_name_id_issuer_and_attributes() {
    for entry in verdicts::load() {
        if entry.expect.verdict != "accept" || verdicts::decided(&entry.id).is_some() {
            continue;
        }
        let outcome = entry.verify(SignatureBackend::Pure);
        let Outcome::Accept(Verified::Assertion(assertion)) = outcome else {
            // Refused as an alternative the suite tolerates (scored by the other test).
            assert!(entry.scores(&outcome), "{}: {outcome:?}", entry.id);
            continue;
        };
        entry.check_content(&assertion);
    }
}
