#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod attributes;
mod authn_request;
mod cert;
mod check;
mod config;
mod decode_request;
mod encrypted;
mod error;
mod fetch;
mod idp;
mod inspect;
mod metadata;
mod model;
mod pending;
mod provider;
mod resolve;
mod response;
mod signature;
mod slot;
mod sp_key;
#[cfg(feature = "test-idp")]
pub mod test_idp;
mod trial;
mod xml;

pub use attributes::{
    AttributeMapping, MappedPerson, MappingError, Preset, SubjectSource, UnknownPreset,
    GROUPS_OVERAGE_CLAIM,
};
pub use authn_request::RequestBinding;
pub use cert::{Certificate, CertificateError, MIN_RSA_BITS};
pub use check::SamlSettingsCheck;
pub use config::{
    IdpSource, OrgSamlConfig, SamlConfig, SamlConfigError, SamlConfigProblem, SpConfig,
};
pub use decode_request::{
    AuthnRequest, AuthnRequestError, RedirectSignature, MAX_AUTHN_REQUEST_BYTES,
};
pub use error::{Category, VerifyError};
pub use fetch::{address_class, AddressClass, FetchError, FetchedMetadata, MetadataFetcher};
#[cfg(feature = "http-fetch")]
pub use fetch::{HttpFetcher, DEFAULT_FETCH_TIMEOUT, DEFAULT_MAX_METADATA_BYTES};
pub use idp::{IdpError, IdpOptions, TrustedIdp, DEFAULT_SKEW_SECS, MAX_SKEW_SECS};
pub use inspect::{inspect_unverified, Unverified};
pub use metadata::{sp_metadata_xml, IdpMetadata, MetadataError, HTTP_POST, HTTP_REDIRECT};
pub use model::{Attribute, NameId};
pub use pending::{PendingTrust, TrialPass};
pub use provider::{to_assertion, OrgProvider, PostError, ServiceProvider};
pub use response::{
    decode_post, verify, verify_explained, Check, Expected, InResponseTo, SignedAssertion,
    StatusResponse, Verified, VerifyOptions,
};
pub use signature::SignatureBackend;
pub use slot::{
    LoadError, MetadataRefresh, MetadataStatus, DEFAULT_METADATA_MAX_AGE, DEFAULT_REFETCH_INTERVAL,
};
pub use sp_key::{SpKey, SpKeyError};
pub use trial::{SpValues, TrialReport, TrialVerifier};
pub use xml::Limits;
