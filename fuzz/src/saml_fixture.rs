//! The SP, IdP and clock that the `saml_response` target verifies against and that
//! `saml_seeds` writes its responses for, so that a signed seed passes the signature
//! check and reaches the checks behind it.
//!
//! Included by path (`#[path]`) into both, not through the crate's library: the other
//! targets need none of it.
//!
//! The IdP's key lives in [`KEY_FILE`], beside the corpus (git ignores `fuzz/corpus`).
//! Whoever needs it first, `saml_seeds` or the target, generates it and writes it there;
//! everyone after reads it. A key generated per process would leave every seed's
//! signature unverifiable, and a key committed to the repository is a private key in
//! the repository, which scanners rightly object to. Delete the file and the seeds
//! together: seeds signed by another key only exercise the refusal of an untrusted key.

#![allow(dead_code)] // each includer uses its own part

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use jit_provisioning_saml::test_idp::{ResponseTarget, TestIdp};
use jit_provisioning_saml::{Certificate, Expected, IdpOptions, InResponseTo, TrustedIdp};

/// The test IdP's entity id: every seed's `Issuer`.
pub const IDP_ENTITY_ID: &str = "https://idp.fuzz.example/metadata";
/// The IdP's SSO URL, in its metadata.
pub const IDP_SSO_URL: &str = "https://idp.fuzz.example/sso";
/// The SP's entity id: the audience.
pub const SP_ENTITY_ID: &str = "https://sp.fuzz.example/saml/metadata";
/// The ACS URL: `Destination` and `Recipient`.
pub const ACS_URL: &str = "https://sp.fuzz.example/saml/acs";
/// The one outstanding AuthnRequest the responses answer.
pub const REQUEST_ID: &str = "_fuzz-request-1";

/// Where the IdP's key and certificate are kept, relative to the fuzz crate.
pub const KEY_FILE: &str = "corpus/saml_response.idp.pem";

/// The clock of every verification, and the `now` every seed was issued at, so that a
/// good seed is inside its validity window.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The target the seeds are written for.
pub fn target() -> ResponseTarget {
    ResponseTarget::new(SP_ENTITY_ID, ACS_URL).with_in_response_to(REQUEST_ID)
}

/// What the SP expects: its entity id, its ACS URL and the outstanding request.
pub fn expected() -> Expected<'static> {
    static REQUESTS: OnceLock<[String; 1]> = OnceLock::new();
    Expected::new(
        SP_ENTITY_ID,
        ACS_URL,
        InResponseTo::OneOf(REQUESTS.get_or_init(|| [REQUEST_ID.to_owned()])),
    )
}

fn key_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(KEY_FILE)
}

/// The test IdP: read from [`KEY_FILE`], or generated (RSA-2048, the slow part) and
/// written there. Made once per process.
pub fn idp() -> &'static TestIdp {
    static IDP: OnceLock<TestIdp> = OnceLock::new();
    IDP.get_or_init(|| load_or_generate(&key_path()))
}

/// The IdP as the SP trusts it: its certificate, default options.
pub fn trusted_idp() -> &'static TrustedIdp {
    static TRUSTED: OnceLock<TrustedIdp> = OnceLock::new();
    TRUSTED.get_or_init(|| {
        let certificates = Certificate::from_pem_or_base64(&idp().certificate_pem())
            .unwrap_or_else(|error| panic!("the test IdP's certificate does not load: {error}"));
        TrustedIdp::new(IDP_ENTITY_ID, certificates, IdpOptions::default())
            .unwrap_or_else(|error| panic!("the test IdP cannot be trusted: {error}"))
    })
}

const CERTIFICATE_BEGIN: &str = "-----BEGIN CERTIFICATE-----";

fn load_or_generate(path: &Path) -> TestIdp {
    if let Some(idp) = load(path) {
        return idp;
    }
    let idp = TestIdp::generate(IDP_ENTITY_ID)
        .unwrap_or_else(|error| panic!("generating the test IdP failed: {error}"));
    let pem = format!("{}\n{}", idp.key_pem().trim_end(), idp.certificate_pem());
    // Written whole under another name and then linked in place, which fails if the file
    // appeared meanwhile: two fuzzing processes starting together then agree on one key
    // (the one that lost reads the winner's), and nobody reads half a file.
    let partial = path.with_extension(format!("pem.{}", std::process::id()));
    let saved = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&partial, pem))
        .and_then(|()| std::fs::hard_link(&partial, path));
    let _ = std::fs::remove_file(&partial);
    match saved {
        Ok(()) => idp,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            load(path).unwrap_or_else(|| panic!("{} appeared but does not load", path.display()))
        }
        // Fuzzing still works with this process's key; only the signed seeds stop
        // verifying, so say so once instead of failing.
        Err(error) => {
            eprintln!(
                "cannot keep the test IdP key at {}: {error}; signed seeds will not verify",
                path.display()
            );
            idp
        }
    }
}

/// The IdP of the key file, if there is one. A file that exists but does not load is an
/// error: silently replacing it would orphan the seeds signed with it.
fn load(path: &Path) -> Option<TestIdp> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => panic!("cannot read {}: {error}", path.display()),
    };
    let (key, certificate) = text
        .find(CERTIFICATE_BEGIN)
        .map(|at| text.split_at(at))
        .unwrap_or_else(|| panic!("{} holds no certificate; delete it", path.display()));
    Some(
        TestIdp::from_pem(IDP_ENTITY_ID, key, certificate)
            .unwrap_or_else(|error| panic!("{} does not load: {error}; delete it", path.display())),
    )
}
