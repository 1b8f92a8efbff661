//! SCIM errors, rendered as RFC 7644 §3.12 error bodies.

use std::fmt;

use serde_json::{json, Value};

/// The schema URI of a SCIM error body.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` of a 400, 403 or 409 error: the check that failed, as RFC 7644 §3.12
/// names it (table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ScimType {
    /// The filter is not valid SCIM filter syntax, or compares in a way that is not
    /// supported (400).
    InvalidFilter,
    /// The request asks for more than this service provider will process at once (400).
    TooMany,
    /// A value that must be unique is already taken (409).
    Uniqueness,
    /// The request would change an attribute that cannot change, such as `id` (400).
    Mutability,
    /// The body is not the JSON message the endpoint takes (400).
    InvalidSyntax,
    /// A PATCH `path` is malformed or names no attribute of the resource (400).
    InvalidPath,
    /// A PATCH operation selects nothing to act on (400).
    NoTarget,
    /// A required value is missing, or a value has the wrong type or form (400).
    InvalidValue,
    /// The request speaks a SCIM version this endpoint does not (400).
    InvalidVers,
    /// The request carries sensitive information in its URI (403).
    Sensitive,
}

impl ScimType {
    /// Every `scimType`, in RFC 7644's order.
    pub const ALL: [ScimType; 10] = [
        ScimType::InvalidFilter,
        ScimType::TooMany,
        ScimType::Uniqueness,
        ScimType::Mutability,
        ScimType::InvalidSyntax,
        ScimType::InvalidPath,
        ScimType::NoTarget,
        ScimType::InvalidValue,
        ScimType::InvalidVers,
        ScimType::Sensitive,
    ];

    /// The keyword as it appears in the error body (`"invalidFilter"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }

    /// The HTTP status RFC 7644 gives this `scimType`: 409 for `uniqueness`, 403 for
    /// `sensitive`, 400 for the others.
    pub fn status(self) -> u16 {
        match self {
            ScimType::Uniqueness => 409,
            ScimType::Sensitive => 403,
            _ => 400,
        }
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal, with the HTTP status, the `scimType` where RFC 7644 has one, and a detail
/// a person can act on.
///
/// ```
/// use jit_provisioning_scim::{ScimError, ScimType};
///
/// let error = ScimError::new(ScimType::InvalidValue, "`userName` is required");
/// assert_eq!(error.status(), 400);
/// assert_eq!(error.to_json()["scimType"], "invalidValue");
/// assert_eq!(error.to_json()["status"], "400");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScimError {
    status: u16,
    scim_type: Option<ScimType>,
    detail: String,
    allow: Option<&'static str>,
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scim_type {
            Some(scim_type) => write!(f, "{} {}: {}", self.status, scim_type, self.detail),
            None => write!(f, "{}: {}", self.status, self.detail),
        }
    }
}

impl ScimError {
    /// An error of `scim_type`, with the status RFC 7644 gives it.
    pub fn new(scim_type: ScimType, detail: impl Into<String>) -> Self {
        ScimError {
            status: scim_type.status(),
            scim_type: Some(scim_type),
            detail: detail.into(),
            allow: None,
        }
    }

    /// An error with a status and no `scimType` (404, 412, 500, …).
    pub fn with_status(status: u16, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type: None,
            detail: detail.into(),
            allow: None,
        }
    }

    /// 404: no such resource, or no such endpoint.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError::with_status(404, detail)
    }

    /// 405, with the methods the endpoint takes for the `Allow` header.
    pub fn method_not_allowed(method: &str, path: &str, allow: &'static str) -> Self {
        ScimError {
            status: 405,
            scim_type: None,
            detail: format!("`{method}` is not allowed on `{path}`; it takes {allow}"),
            allow: Some(allow),
        }
    }

    /// 413: the body is larger than `limit` bytes.
    pub fn payload_too_large(size: usize, limit: usize) -> Self {
        ScimError::with_status(
            413,
            format!("the request body is {size} bytes; this endpoint takes at most {limit}"),
        )
    }

    /// 409 `uniqueness`: what a store answers when a `userName` (or a group's
    /// `displayName`) is already taken in the org.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        ScimError::new(ScimType::Uniqueness, detail)
    }

    /// 412: the `If-Match` version is not the resource's current version.
    pub fn precondition_failed(current: &str) -> Self {
        ScimError::with_status(
            412,
            format!("the resource has changed: its version is now `{current}`; read it again"),
        )
    }

    /// 500, for a failure on the service provider's side. The detail says nothing of
    /// the cause, which belongs in the log.
    pub fn internal() -> Self {
        ScimError::with_status(500, "the request failed on our side; try again in a moment")
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The `scimType`, where RFC 7644 has one for this refusal.
    pub fn scim_type(&self) -> Option<ScimType> {
        self.scim_type
    }

    /// The detail for people.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// For a 405: the methods the endpoint takes, for the `Allow` header.
    pub fn allow(&self) -> Option<&'static str> {
        self.allow
    }

    /// The RFC 7644 §3.12 error body: `schemas`, `status` as a string, `scimType` where
    /// there is one, and `detail`.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(scim_type), Some(object)) = (self.scim_type, body.as_object_mut()) {
            object.insert("scimType".into(), Value::from(scim_type.as_str()));
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_renders_its_status_and_keyword() {
        for scim_type in ScimType::ALL {
            let body = ScimError::new(scim_type, "detail").to_json();
            assert_eq!(body["schemas"][0], ERROR_SCHEMA);
            assert_eq!(body["scimType"], scim_type.as_str());
            assert_eq!(body["status"], scim_type.status().to_string());
            assert_eq!(body["detail"], "detail");
        }
        assert_eq!(ScimType::Uniqueness.status(), 409);
        assert_eq!(ScimType::Sensitive.status(), 403);
    }

    #[test]
    fn a_status_error_has_no_scim_type() {
        let body = ScimError::not_found("no user `x`").to_json();
        assert_eq!(body["status"], "404");
        assert!(body.get("scimType").is_none());
        let error = ScimError::method_not_allowed("PUT", "/Users", "GET, POST");
        assert_eq!(error.status(), 405);
        assert_eq!(error.allow(), Some("GET, POST"));
        assert_eq!(
            error.to_string(),
            "405: `PUT` is not allowed on `/Users`; it takes GET, POST"
        );
    }
}
