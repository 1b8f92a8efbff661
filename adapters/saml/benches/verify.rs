//! Signed-response verifications per second, every signature backend of this build in
//! one run, on `crewjam-comment-in-nameid-benign` from the verdict corpus (4.8 KB,
//! RSA-SHA256) and on the Google Workspace response it was derived from.
//!
//! The benign file is refused at its very last step (a comment splits the NameID's
//! text, which this crate refuses after the signature verified), so both files cost the
//! whole pipeline: parse, shape checks, digest, RSA, then the SAML checks.
//!
//! Needs `../shared/corpus` beside the checkout; without it the bench says so and stops.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jit_provisioning_saml::{
    verify, Certificate, Expected, IdpOptions, InResponseTo, SignatureBackend, TrustedIdp,
    VerifyOptions,
};

fn shared() -> Option<PathBuf> {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared/corpus"))
        .find(|dir| dir.join("saml-verdicts/manifest.json").is_file())
}

fn verifications(c: &mut Criterion) {
    let Some(corpus) = shared() else {
        eprintln!("benches/verify.rs needs shared/corpus beside the checkout; nothing measured");
        return;
    };
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).unwrap_or_else(|error| {
            eprintln!("cannot read {}: {error}", path.display());
            std::process::exit(2)
        })
    };
    let verdicts = corpus.join("saml-verdicts");
    let certificates = Certificate::from_pem_or_base64(&read(
        verdicts.join("certs/crewjam__google_C02dfl1r1.pem"),
    ))
    .unwrap_or_default();
    let Ok(idp) = TrustedIdp::new(
        "https://accounts.google.com/o/saml2?idpid=C02dfl1r1",
        certificates,
        IdpOptions::default(),
    ) else {
        eprintln!("the Google certificate did not load");
        return;
    };
    let requests = ["id-fd419a5ab0472645427f8e07d87a3a5dd0b2e9a6".to_owned()];
    let expected = Expected::new(
        "https://29ee6d2e.ngrok.io/saml/metadata",
        "https://29ee6d2e.ngrok.io/saml/acs",
        InResponseTo::OneOf(&requests),
    );
    let now: DateTime<Utc> = "2016-01-05T16:55:39Z".parse().unwrap_or_default();
    let files = [
        (
            "benign",
            read(verdicts.join("responses/crewjam-comment-in-nameid-benign.xml")),
        ),
        (
            "google",
            read(
                corpus.join("saml/google__crewjam__TestSPCanHandlePlaintextResponse_response.xml"),
            ),
        ),
    ];
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    for (name, xml) in &files {
        for &backend in SignatureBackend::available() {
            let mut options = VerifyOptions::default();
            options.backend = backend;
            group.bench_function(format!("{name}/{}", backend.name()), |b| {
                b.iter(|| verify(xml, &idp, &expected, now, &options));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, verifications);
criterion_main!(benches);
