//! From a result to an HTTP reply, for any web framework: a status, the headers SCIM
//! asks for, and a JSON body.

use serde_json::{json, Value};

use crate::error::ScimError;
use crate::group::ScimGroup;
use crate::meta::{Meta, ResourceKind};
use crate::query::{ListQuery, Projection};
use crate::schema::LIST_RESPONSE_SCHEMA;
use crate::user::ScimUser;

/// The media type of every SCIM body (RFC 7644 §8.1).
pub const CONTENT_TYPE: &str = "application/scim+json";

/// A resource a response can carry.
pub trait ScimResource {
    /// Its kind.
    fn kind(&self) -> ResourceKind;
    /// Its JSON.
    fn to_json(&self) -> Value;
    /// Its `meta`, where the store has set one.
    fn meta(&self) -> Option<&Meta>;
}

impl ScimResource for ScimUser {
    fn kind(&self) -> ResourceKind {
        ResourceKind::User
    }
    fn to_json(&self) -> Value {
        ScimUser::to_json(self)
    }
    fn meta(&self) -> Option<&Meta> {
        self.meta.as_ref()
    }
}

impl ScimResource for ScimGroup {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Group
    }
    fn to_json(&self) -> Value {
        ScimGroup::to_json(self)
    }
    fn meta(&self) -> Option<&Meta> {
        self.meta.as_ref()
    }
}

/// A page of results (RFC 7644 §3.4.2): `totalResults`, `startIndex`, `itemsPerPage`
/// (the number of resources on this page) and `Resources`.
///
/// ```
/// use jit_provisioning_scim::{ListQuery, ListResponse, ScimUser};
///
/// let query = ListQuery::parse("startIndex=1&count=100")?;
/// let page = ListResponse::of(0, &query, &Vec::<ScimUser>::new());
/// let body = page.to_json();
/// assert_eq!(body["totalResults"], 0);
/// assert_eq!(body["itemsPerPage"], 0);
/// assert_eq!(body["Resources"], serde_json::json!([]));
/// # Ok::<(), jit_provisioning_scim::ScimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListResponse {
    /// How many resources match, over all pages.
    pub total_results: u64,
    /// The 1-based index of this page's first resource.
    pub start_index: u64,
    /// This page's resources, as JSON.
    pub resources: Vec<Value>,
}

impl ListResponse {
    /// A page of resources already rendered.
    pub fn new(total_results: u64, start_index: u64, resources: Vec<Value>) -> Self {
        ListResponse {
            total_results,
            start_index,
            resources,
        }
    }

    /// A page answering `query`: the resources rendered with its projection. The store
    /// gives `total_results` and the page (`query.offset()`, `query.count`).
    pub fn of<R: ScimResource>(total_results: u64, query: &ListQuery, page: &[R]) -> Self {
        let resources = page
            .iter()
            .map(|resource| {
                let mut json = resource.to_json();
                query.projection.apply(&mut json);
                json
            })
            .collect();
        ListResponse::new(total_results, query.start_index, resources)
    }

    /// The body.
    pub fn to_json(&self) -> Value {
        json!({
            "schemas": [LIST_RESPONSE_SCHEMA],
            "totalResults": self.total_results,
            "startIndex": self.start_index,
            "itemsPerPage": self.resources.len(),
            "Resources": self.resources,
        })
    }
}

/// An HTTP reply in no framework's terms: the integration copies the status, the
/// headers from [`ScimResponse::headers`] and the body from [`ScimResponse::body_bytes`].
///
/// ```
/// use jit_provisioning_scim::{resource_location, Meta, ResourceKind, ScimError, ScimResponse, ScimType, ScimUser};
///
/// let mut user = ScimUser::new("bjensen");
/// user.id = Some("u1".into());
/// user.meta = Some(Meta::new(ResourceKind::User)
///     .with_location(resource_location("https://app.example/scim/v2/acme", ResourceKind::User, "u1"))
///     .with_version("1"));
/// let created = ScimResponse::created(&user);
/// assert_eq!(created.status, 201);
/// assert!(created.headers().contains(&("Location", "https://app.example/scim/v2/acme/Users/u1".into())));
/// assert!(created.headers().contains(&("ETag", "W/\"1\"".into())));
///
/// let refused = ScimResponse::from(ScimError::new(ScimType::InvalidFilter, "filter: …"));
/// assert_eq!(refused.status, 400);
/// assert!(refused.headers().contains(&("Content-Type", "application/scim+json".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScimResponse {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body; `None` for 204.
    pub body: Option<Value>,
    /// The `Location` header (201).
    pub location: Option<String>,
    /// The `ETag` header: the resource's `meta.version`.
    pub etag: Option<String>,
    /// The `Allow` header (405).
    pub allow: Option<&'static str>,
}

impl ScimResponse {
    /// A response with a status and a body.
    pub fn json(status: u16, body: Value) -> Self {
        ScimResponse {
            status,
            body: Some(body),
            location: None,
            etag: None,
            allow: None,
        }
    }

    /// 200 with the resource (a GET, a PUT, a user PATCH).
    pub fn ok(resource: &impl ScimResource) -> Self {
        ScimResponse::ok_with(resource, &Projection::all())
    }

    /// 200 with the resource, projected (`attributes`, `excludedAttributes`).
    pub fn ok_with(resource: &impl ScimResource, projection: &Projection) -> Self {
        let mut body = resource.to_json();
        projection.apply(&mut body);
        let mut response = ScimResponse::json(200, body);
        response.etag = resource.meta().and_then(|m| m.version.clone());
        response
    }

    /// 201 with the created resource, `Location` (its `meta.location`) and `ETag`.
    pub fn created(resource: &impl ScimResource) -> Self {
        let mut response = ScimResponse::ok(resource);
        response.status = 201;
        response.location = resource.meta().and_then(|m| m.location.clone());
        response
    }

    /// 200 with a page of results.
    pub fn list(list: &ListResponse) -> Self {
        ScimResponse::json(200, list.to_json())
    }

    /// 204, no body: a DELETE, or a group PATCH (Entra ID asks for 204 there, and Okta
    /// takes it).
    pub fn no_content() -> Self {
        ScimResponse {
            status: 204,
            body: None,
            location: None,
            etag: None,
            allow: None,
        }
    }

    /// The error body with its status (and `Allow` for a 405).
    pub fn error(error: &ScimError) -> Self {
        let mut response = ScimResponse::json(error.status(), error.to_json());
        response.allow = error.allow();
        response
    }

    /// The `Content-Type`: [`CONTENT_TYPE`] when there is a body.
    pub fn content_type(&self) -> Option<&'static str> {
        self.body.as_ref().map(|_| CONTENT_TYPE)
    }

    /// Every header to send.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        if let Some(content_type) = self.content_type() {
            headers.push(("Content-Type", content_type.to_owned()));
        }
        if let Some(location) = &self.location {
            headers.push(("Location", location.clone()));
        }
        if let Some(etag) = &self.etag {
            headers.push(("ETag", etag.clone()));
        }
        if let Some(allow) = self.allow {
            headers.push(("Allow", allow.to_owned()));
        }
        headers
    }

    /// The body as bytes (empty for 204).
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body
            .as_ref()
            .map(|b| b.to_string().into_bytes())
            .unwrap_or_default()
    }
}

impl From<ScimError> for ScimResponse {
    fn from(error: ScimError) -> Self {
        ScimResponse::error(&error)
    }
}

impl From<&ScimError> for ScimResponse {
    fn from(error: &ScimError) -> Self {
        ScimResponse::error(error)
    }
}
