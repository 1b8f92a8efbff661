//! Raw bytes through the AuthnRequest decoder, as XML, as a Redirect-binding query and as
//! a POST-binding field: never a panic, and what is accepted is a request a reader can
//! trust the shape of.

#![no_main]

use jit_provisioning_saml::{AuthnRequest, MAX_AUTHN_REQUEST_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = AuthnRequest::from_xml(data) {
        assert!(!request.id.is_empty(), "an accepted request has an ID");
        assert!(!request.issuer.is_empty(), "an accepted request has an Issuer");
        assert!(request.xml.len() <= MAX_AUTHN_REQUEST_BYTES);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(request) = AuthnRequest::from_redirect_query(text) {
        assert!(request.xml.len() <= MAX_AUTHN_REQUEST_BYTES);
    }
    if let Ok(request) = AuthnRequest::from_post_form(text, None) {
        assert!(request.xml.len() <= MAX_AUTHN_REQUEST_BYTES);
    }
});
