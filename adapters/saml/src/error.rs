//! Why a response was refused, in terms a person can act on.

use chrono::{DateTime, Utc};

/// The check a refused response failed: a stable, snake_case code for logs, metrics and
/// the `saml verify` command's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Category {
    /// Not a SAML response this crate can read: bad base64, not XML, a DOCTYPE, a missing
    /// element, too large or too deep.
    Malformed,
    /// No signature covers the assertion.
    Unsigned,
    /// A signature does not verify, is by a key the IdP does not use, or is not made the
    /// way SAML signs (one enveloped reference to its own element); or signed text is
    /// split by a comment, so that what was signed and what would be read differ.
    BadSignature,
    /// The signature or digest uses an algorithm refused by policy (SHA-1 without the
    /// opt-in), or the key is too short.
    WeakAlgorithm,
    /// Signed content is not where the SP reads it: a duplicate ID, or a signed
    /// assertion moved aside for an unsigned one (XML signature wrapping).
    SignatureWrapping,
    /// The Response's or the Assertion's issuer is not the IdP's entity id.
    WrongIssuer,
    /// The assertion is not for this SP's entity id, or names no audience.
    WrongAudience,
    /// The Response's `Destination` is not this ACS URL.
    WrongDestination,
    /// The bearer confirmation's `Recipient` is not this ACS URL.
    WrongRecipient,
    /// The assertion or its confirmation is past its `NotOnOrAfter`.
    Expired,
    /// The assertion's `NotBefore` is still ahead.
    NotYetValid,
    /// `InResponseTo` names no outstanding request, or is missing where IdP-initiated
    /// sign-in is not allowed.
    InResponseToMismatch,
    /// The response carries more than one assertion.
    MultipleAssertions,
    /// The assertion is encrypted and no decryption key is configured.
    EncryptedUnsupported,
    /// The assertion is encrypted and could not be decrypted with the SP's key.
    DecryptionFailed,
    /// No bearer `SubjectConfirmation` with a `NotOnOrAfter`.
    NoBearerConfirmation,
    /// The signed assertion has no usable subject for the configured attribute mapping.
    NoSubject,
}

impl Category {
    /// Every category, in the order of the docs.
    pub const ALL: [Category; 17] = [
        Category::Malformed,
        Category::Unsigned,
        Category::BadSignature,
        Category::WeakAlgorithm,
        Category::SignatureWrapping,
        Category::WrongIssuer,
        Category::WrongAudience,
        Category::WrongDestination,
        Category::WrongRecipient,
        Category::Expired,
        Category::NotYetValid,
        Category::InResponseToMismatch,
        Category::MultipleAssertions,
        Category::EncryptedUnsupported,
        Category::DecryptionFailed,
        Category::NoBearerConfirmation,
        Category::NoSubject,
    ];

    /// The snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Malformed => "malformed",
            Category::Unsigned => "unsigned",
            Category::BadSignature => "bad_signature",
            Category::WeakAlgorithm => "weak_algorithm",
            Category::SignatureWrapping => "signature_wrapping",
            Category::WrongIssuer => "wrong_issuer",
            Category::WrongAudience => "wrong_audience",
            Category::WrongDestination => "wrong_destination",
            Category::WrongRecipient => "wrong_recipient",
            Category::Expired => "expired",
            Category::NotYetValid => "not_yet_valid",
            Category::InResponseToMismatch => "in_response_to_mismatch",
            Category::MultipleAssertions => "multiple_assertions",
            Category::EncryptedUnsupported => "encrypted_unsupported",
            Category::DecryptionFailed => "decryption_failed",
            Category::NoBearerConfirmation => "no_bearer_confirmation",
            Category::NoSubject => "no_subject",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a SAML response was refused. Each variant says what was found against what was
/// expected, so that the admin of the IdP or of the SP can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not a readable SAML response.
    #[error("malformed SAML response: {0}")]
    Malformed(String),
    /// The response is larger than the configured limit.
    #[error("the SAML response is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The response's size in bytes (decoded).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The response contains a document type declaration (entity expansion and
    /// signature-confusion attacks start there; SAML never needs one).
    #[error("the SAML response contains a DOCTYPE, which SAML never uses")]
    Doctype,
    /// Two elements share one ID: a reference could point at either.
    #[error("two elements share the ID `{0}`")]
    DuplicateId(String),
    /// The response holds more than one assertion.
    #[error("the response holds {0} assertions; exactly one is accepted")]
    MultipleAssertions(usize),
    /// The response holds no assertion and its status is Success.
    #[error("the response holds no assertion")]
    NoAssertion,
    /// No valid signature by a trusted key covers the assertion.
    #[error("no signature covers the assertion{}", required_hint(*.response_required, *.assertion_required))]
    Unsigned {
        /// The IdP's options require the Response to be signed.
        response_required: bool,
        /// The IdP's options require the Assertion to be signed.
        assertion_required: bool,
    },
    /// A signature does not verify against any trusted certificate.
    #[error("the signature on {element} does not verify with the trusted certificates (SHA-256 {}): {reason}", .trusted.join(", "))]
    BadSignature {
        /// What was signed (`Response` or `Assertion`).
        element: &'static str,
        /// Why it failed.
        reason: String,
        /// The SHA-256 fingerprints of the certificates tried.
        trusted: Vec<String>,
    },
    /// The signature names a certificate that is not one of the IdP's.
    #[error("the response was signed by a certificate with SHA-256 fingerprint {signer}, but the IdP's trusted certificates are {}; update the IdP's metadata if it rolled its key", .trusted.join(", "))]
    UntrustedSigner {
        /// The fingerprint of the certificate in the signature's KeyInfo.
        signer: String,
        /// The trusted fingerprints.
        trusted: Vec<String>,
    },
    /// A signature is not shaped the way SAML signs: one Reference to the element that
    /// holds it, enveloped-signature and exclusive C14N transforms only.
    #[error("the signature on {element} is not a SAML signature: {reason}")]
    UnsupportedSignature {
        /// `Response` or `Assertion`.
        element: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// SHA-1 is refused unless the IdP's `allow_sha1` option is on.
    #[error("the IdP signs with {algorithm}, which uses SHA-1; configure the IdP to sign with RSA-SHA256 (Okta, Entra ID, ADFS and Google all offer it), or set `allow_sha1` for this IdP to accept it knowingly")]
    Sha1Refused {
        /// The algorithm URI.
        algorithm: String,
    },
    /// The signing key is too short to be trusted.
    #[error("the IdP signs with a {bits}-bit RSA key (certificate SHA-256 {signer}); at least {} bits are required: have the IdP generate a 2048-bit signing key", crate::cert::MIN_RSA_BITS)]
    WeakKey {
        /// The key size.
        bits: usize,
        /// The certificate's fingerprint.
        signer: String,
    },
    /// The algorithm is not one this crate accepts.
    #[error("the signature uses {algorithm}, which is not accepted (RSA-SHA256/384/512, RSA-PSS and ECDSA are)")]
    UnsupportedAlgorithm {
        /// The algorithm URI.
        algorithm: String,
    },
    /// The signed element sits elsewhere than where the SP reads the assertion.
    #[error("signature wrapping: {0}")]
    SignatureWrapping(String),
    /// A comment splits text inside signed content (CVE-2017-11427 class): readers that
    /// drop comments and readers that stop at them would see different values.
    #[error("a comment splits the text of `{0}`")]
    CommentInText(String),
    /// The issuer is not the IdP's entity id.
    #[error("the {element} was issued by `{found}`, but the IdP's entity id is `{expected}`")]
    WrongIssuer {
        /// `Response` or `Assertion`.
        element: &'static str,
        /// The issuer sent.
        found: String,
        /// The issuer configured.
        expected: String,
    },
    /// No AudienceRestriction names the SP.
    #[error("the assertion is for audience {}, but this SP's entity id is `{expected}`", display_list(.found))]
    WrongAudience {
        /// The audiences sent (empty when none was).
        found: Vec<String>,
        /// The SP's entity id.
        expected: String,
    },
    /// The Response's `Destination` is not this ACS.
    #[error("the response is addressed to `{found}`, but this ACS URL is `{expected}`")]
    WrongDestination {
        /// The destination sent.
        found: String,
        /// The ACS URL.
        expected: String,
    },
    /// The bearer confirmation's `Recipient` is not this ACS.
    #[error("the assertion's recipient is `{found}`, but this ACS URL is `{expected}`")]
    WrongRecipient {
        /// The recipient sent (empty when none was).
        found: String,
        /// The ACS URL.
        expected: String,
    },
    /// Past `NotOnOrAfter`, even with the skew allowed.
    #[error("the {what} expired at {not_on_or_after} and it is now {now} (skew allowed: {skew_secs} s); if the IdP's clock is right, check this server's")]
    Expired {
        /// `assertion` (Conditions) or `confirmation` (SubjectConfirmationData).
        what: &'static str,
        /// The end of validity.
        not_on_or_after: DateTime<Utc>,
        /// Our clock.
        now: DateTime<Utc>,
        /// The skew allowed.
        skew_secs: u32,
    },
    /// Before `NotBefore`, even with the skew allowed.
    #[error("the assertion is valid from {not_before} but it is now {now} (skew allowed: {skew_secs} s); the IdP's clock is ahead of this server's")]
    NotYetValid {
        /// The start of validity.
        not_before: DateTime<Utc>,
        /// Our clock.
        now: DateTime<Utc>,
        /// The skew allowed.
        skew_secs: u32,
    },
    /// `InResponseTo` does not match an outstanding request.
    #[error("the response answers request `{found}`, which this browser has not sent or which has expired (outstanding: {})", display_list(.outstanding))]
    InResponseToMismatch {
        /// The `InResponseTo` sent.
        found: String,
        /// The outstanding request ids.
        outstanding: Vec<String>,
    },
    /// The Response and its signed bearer confirmation name different requests.
    #[error("the Response answers request `{response}` but its signed SubjectConfirmationData answers `{confirmation}`; an honest IdP writes the same id in both")]
    InResponseToDisagrees {
        /// The Response element's `InResponseTo`.
        response: String,
        /// The `SubjectConfirmationData`'s `InResponseTo`.
        confirmation: String,
    },
    /// An IdP-initiated (unsolicited) response where the IdP does not allow them.
    #[error("the response answers no request in its signed content (IdP-initiated sign-in; an `InResponseTo` on a Response that no signature covers does not count), which this IdP's settings do not allow; start sign-in at the app, or set `allow_idp_initiated`")]
    Unsolicited,
    /// The assertion is encrypted and no SP key is configured.
    #[error("the assertion is encrypted but no SP decryption key is configured")]
    EncryptedWithoutKey,
    /// The assertion could not be decrypted. One answer for every failure that depends
    /// on the ciphertext (padding, a wrong key, text that is not the assertion), so that
    /// the ACS is no decryption oracle; the detail goes only to the debug log (target
    /// `jit_provisioning_saml::decryption`).
    #[error("the encrypted assertion could not be decrypted with the SP's key (the debug log has the detail)")]
    DecryptionFailed,
    /// The assertion is encrypted with an algorithm this SP refuses (3DES, RSA PKCS#1
    /// v1.5 key transport without the IdP's opt-in, or one it does not know).
    #[error("the assertion is encrypted with `{algorithm}`, which this SP refuses: {fix}")]
    EncryptionRefused {
        /// The algorithm's URI (with its parameters, for OAEP).
        algorithm: String,
        /// What the IdP's admin can change.
        fix: &'static str,
    },
    /// No usable bearer confirmation.
    #[error("no bearer SubjectConfirmation{0}")]
    NoBearerConfirmation(&'static str),
    /// The assertion has no subject the mapping can use.
    #[error("{0}")]
    NoSubject(String),
}

fn required_hint(response: bool, assertion: bool) -> &'static str {
    match (response, assertion) {
        (true, true) => {
            " (the IdP's options require both the Response and the Assertion to be signed)"
        }
        (true, false) => " (the IdP's options require the Response to be signed)",
        (false, true) => " (the IdP's options require the Assertion to be signed)",
        (false, false) => "",
    }
}

fn display_list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(|item| format!("`{item}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl VerifyError {
    /// A signature that verifies with none of the trusted certificates: what an IdP
    /// that rolled its key sends until its metadata is read again.
    pub(crate) fn is_untrusted_key(&self) -> bool {
        matches!(
            self,
            VerifyError::BadSignature { .. } | VerifyError::UntrustedSigner { .. }
        )
    }

    /// The check that failed.
    pub fn category(&self) -> Category {
        match self {
            VerifyError::Malformed(_)
            | VerifyError::TooLarge { .. }
            | VerifyError::Doctype
            | VerifyError::NoAssertion => Category::Malformed,
            VerifyError::DuplicateId(_) | VerifyError::SignatureWrapping(_) => {
                Category::SignatureWrapping
            }
            VerifyError::MultipleAssertions(_) => Category::MultipleAssertions,
            VerifyError::Unsigned { .. } => Category::Unsigned,
            VerifyError::BadSignature { .. }
            | VerifyError::UntrustedSigner { .. }
            | VerifyError::UnsupportedSignature { .. }
            | VerifyError::CommentInText(_) => Category::BadSignature,
            VerifyError::Sha1Refused { .. }
            | VerifyError::UnsupportedAlgorithm { .. }
            | VerifyError::WeakKey { .. } => Category::WeakAlgorithm,
            VerifyError::WrongIssuer { .. } => Category::WrongIssuer,
            VerifyError::WrongAudience { .. } => Category::WrongAudience,
            VerifyError::WrongDestination { .. } => Category::WrongDestination,
            VerifyError::WrongRecipient { .. } => Category::WrongRecipient,
            VerifyError::Expired { .. } => Category::Expired,
            VerifyError::NotYetValid { .. } => Category::NotYetValid,
            VerifyError::InResponseToMismatch { .. }
            | VerifyError::InResponseToDisagrees { .. }
            | VerifyError::Unsolicited => Category::InResponseToMismatch,
            VerifyError::EncryptedWithoutKey => Category::EncryptedUnsupported,
            // A refused algorithm is the same kind of failure, with the same page for the
            // person; only the admin's message names the algorithm.
            VerifyError::DecryptionFailed | VerifyError::EncryptionRefused { .. } => {
                Category::DecryptionFailed
            }
            VerifyError::NoBearerConfirmation(_) => Category::NoBearerConfirmation,
            VerifyError::NoSubject(_) => Category::NoSubject,
        }
    }
}

impl From<VerifyError> for jit_provisioning::VerifyError {
    fn from(error: VerifyError) -> Self {
        jit_provisioning::VerifyError::Refused {
            category: error.category().as_str(),
            source: Box::new(error),
        }
    }
}
