//! An identity provider as the SP trusts it: its entity id, its signing certificates
//! and the options that relax or tighten the checks for it.

use crate::cert::Certificate;
use crate::signature::TrustedKeys;

/// The clock skew allowed by default between the IdP and this server, in seconds.
pub const DEFAULT_SKEW_SECS: u32 = 180;
/// The largest skew that can be configured, in seconds. Replay guards keep assertion
/// ids for at least this long past their `NotOnOrAfter`.
pub const MAX_SKEW_SECS: u32 = 600;

// Replay guards remember ids for REPLAY_GRACE_SECS past NotOnOrAfter: never less than
// the skew a verifier here may allow.
const _: () = assert!(MAX_SKEW_SECS as i64 <= jit_provisioning::REPLAY_GRACE_SECS);

/// Per-IdP options. The defaults are the strict ones.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct IdpOptions {
    /// Accept RSA-SHA1 signatures and SHA-1 digests. SHA-1 collisions are practical;
    /// turn this on only for an IdP that cannot be configured for SHA-256, and plan to
    /// turn it off.
    pub allow_sha1: bool,
    /// Require a signature on the Response element (most IdPs sign the Assertion).
    pub require_signed_response: bool,
    /// Require a signature on the Assertion element itself.
    pub require_signed_assertion: bool,
    /// Accept responses that answer no AuthnRequest (sign-in started from the IdP's
    /// dashboard). Off by default: an unsolicited response is easier to replay into
    /// another browser.
    pub allow_idp_initiated: bool,
    /// The clock skew allowed on every time check, in seconds (at most
    /// [`MAX_SKEW_SECS`]).
    pub skew_secs: u32,
    /// Accept an `EncryptedAssertion` whose key is transported with RSA PKCS#1 v1.5
    /// (`http://www.w3.org/2001/04/xmlenc#rsa-1_5`). That padding is open to
    /// Bleichenbacher's attack: leave this off and configure the IdP for RSA-OAEP; turn
    /// it on only for an IdP that offers nothing else, and plan to turn it off.
    pub insecure_allow_rsa1_5_key_transport: bool,
}

impl Default for IdpOptions {
    fn default() -> Self {
        Self {
            allow_sha1: false,
            require_signed_response: false,
            require_signed_assertion: false,
            allow_idp_initiated: false,
            skew_secs: DEFAULT_SKEW_SECS,
            insecure_allow_rsa1_5_key_transport: false,
        }
    }
}

/// An IdP ready to verify against: its certificates prepared once for the signature
/// backends.
#[derive(Debug, Clone)]
pub struct TrustedIdp {
    entity_id: String,
    certificates: Vec<Certificate>,
    keys: TrustedKeys,
    options: IdpOptions,
}

/// An IdP that cannot be trusted as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdpError {
    /// No signing certificate: nothing could ever verify.
    #[error("the IdP `{0}` has no signing certificate")]
    NoCertificate(String),
    /// A certificate's key cannot be used for verification.
    #[error("a certificate of the IdP `{entity_id}` cannot be used: {reason}")]
    UnusableCertificate {
        /// The IdP.
        entity_id: String,
        /// Why.
        reason: String,
    },
    /// The skew is over [`MAX_SKEW_SECS`].
    #[error("the IdP `{entity_id}` allows {skew_secs} s of clock skew; at most {MAX_SKEW_SECS} s is accepted")]
    SkewTooLarge {
        /// The IdP.
        entity_id: String,
        /// The configured skew.
        skew_secs: u32,
    },
}

impl TrustedIdp {
    /// Trusts `certificates` to sign for `entity_id`. Several certificates are allowed
    /// for key rollover.
    pub fn new(
        entity_id: impl Into<String>,
        certificates: Vec<Certificate>,
        options: IdpOptions,
    ) -> Result<Self, IdpError> {
        let entity_id = entity_id.into();
        if certificates.is_empty() {
            return Err(IdpError::NoCertificate(entity_id));
        }
        if options.skew_secs > MAX_SKEW_SECS {
            return Err(IdpError::SkewTooLarge {
                entity_id,
                skew_secs: options.skew_secs,
            });
        }
        let keys =
            TrustedKeys::new(&certificates).map_err(|reason| IdpError::UnusableCertificate {
                entity_id: entity_id.clone(),
                reason,
            })?;
        Ok(Self {
            entity_id,
            certificates,
            keys,
            options,
        })
    }

    /// The IdP's entity id: the `Issuer` of its responses.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The trusted signing certificates.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// The options.
    pub fn options(&self) -> &IdpOptions {
        &self.options
    }

    pub(crate) fn keys(&self) -> &TrustedKeys {
        &self.keys
    }
}
