//! SAML service provider for jit-provisioning.
#![forbid(unsafe_code)]

mod cert;
mod error;
mod idp;
mod model;
mod response;
mod signature;
mod xml;

pub use cert::{Certificate, CertificateError, MIN_RSA_BITS};
pub use error::{Category, VerifyError};
pub use idp::{IdpError, IdpOptions, TrustedIdp, DEFAULT_SKEW_SECS, MAX_SKEW_SECS};
pub use model::{Attribute, NameId};
pub use response::{
    decode_post, verify, verify_explained, Check, Expected, InResponseTo, SignedAssertion,
    StatusResponse, Verified, VerifyOptions,
};
pub use signature::SignatureBackend;
pub use xml::Limits;
