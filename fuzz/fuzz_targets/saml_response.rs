//! Raw bytes through the SAML adapter's XML readers: as a response's text, and as the
//! base64 `SAMLResponse` form value the POST binding carries. Nothing may panic, and
//! `verify` and `verify_explained` must reach the same result.
//!
//! The SP trusts a test IdP whose key `saml_seeds` signs the seeds with, so seeds reach
//! the checks after the signature (times, audience, recipient, wrapping). Seed it first:
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --features seeds --bin saml_seeds -- \
//!     fuzz/corpus/saml_response
//! cargo fuzz run saml_response -s none fuzz/corpus/saml_response -- \
//!     -dict=fuzz/dicts/saml_response.dict
//! ```

#![no_main]

use jit_provisioning_saml::{
    decode_post, inspect_unverified, to_assertion, verify, verify_explained, AttributeMapping,
    IdpMetadata, Limits, Verified, VerifyOptions,
};
use libfuzzer_sys::fuzz_target;

#[path = "../src/saml_fixture.rs"]
mod saml_fixture;

fuzz_target!(|data: &[u8]| {
    // Every reader takes text: bytes that are not UTF-8 never get past the form decoder.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_xml(text);
    if let Ok(xml) = decode_post(text, Limits::default()) {
        check_xml(&xml);
    }
});

fn check_xml(xml: &str) {
    let idp = saml_fixture::trusted_idp();
    let expected = saml_fixture::expected();
    let now = saml_fixture::now();
    let options = VerifyOptions::default();

    let verified = verify(xml, idp, &expected, now, &options);
    let (explained, checks) = verify_explained(xml, idp, &expected, now, &options);
    assert_eq!(
        verified, explained,
        "verify and verify_explained disagree after the checks {checks:?}"
    );
    if let Ok(Verified::Assertion(signed)) = &verified {
        let _ = to_assertion("acme", signed, &AttributeMapping::default());
    }

    // The unverified reading, and the attribute mapping over whatever it finds: the
    // mapping otherwise only sees attributes behind a valid signature, which mutated
    // inputs hardly ever keep.
    if let Ok(unverified) = inspect_unverified(xml, Limits::default()) {
        let _ =
            AttributeMapping::default().map(unverified.name_id.as_ref(), &unverified.attributes);
    }
    let _ = IdpMetadata::parse(xml, None);
    let _ = IdpMetadata::parse(xml, Some(saml_fixture::IDP_ENTITY_ID));
}
