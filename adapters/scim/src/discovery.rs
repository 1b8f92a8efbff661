//! The discovery documents (RFC 7644 §4): `/ServiceProviderConfig`, `/Schemas`,
//! `/ResourceTypes`.

use serde_json::{json, Value};

use crate::limits::MAX_PAGE_SIZE;
use crate::meta::ResourceKind;
use crate::request::ScimOperation;
use crate::response::{ListResponse, ScimResponse};
use crate::schema::{
    schema_by_id, ENTERPRISE_USER_SCHEMA, RESOURCE_TYPE_SCHEMA, SCHEMAS,
    SERVICE_PROVIDER_CONFIG_SCHEMA,
};
use crate::ScimError;

/// What this service provider publishes about itself, for one org's SCIM base URL.
///
/// It says: PATCH supported; bulk, password changes and sorting not; filters supported
/// with `maxResults` the page size limit; ETags as configured (off by default, since
/// honouring `If-Match` is the store's); authentication by an OAuth bearer token.
///
/// ```
/// use jit_provisioning_scim::{Discovery, ScimOperation, ScimRequest};
///
/// let discovery = Discovery::new("https://app.example/scim/v2/acme");
/// let config = discovery.service_provider_config();
/// assert_eq!(config["patch"]["supported"], true);
/// assert_eq!(config["bulk"]["supported"], false);
/// assert_eq!(config["authenticationSchemes"][0]["type"], "oauthbearertoken");
///
/// let op = ScimRequest::parse("GET", "/ResourceTypes/User", "", b"")?;
/// let reply = discovery.respond(&op).expect("a discovery request");
/// assert_eq!(reply.status, 200);
/// # Ok::<(), jit_provisioning_scim::ScimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discovery {
    /// The org's SCIM base URL (`https://app.example/scim/v2/acme`), for `meta.location`.
    pub base_url: String,
    /// A page documenting the integration, published as `documentationUri`.
    pub documentation_uri: Option<String>,
    /// Whether the store honours `If-Match` and returns versions (`etag.supported`).
    pub etag_supported: bool,
    /// `filter.maxResults`: the page size limit.
    pub max_results: u64,
}

impl Discovery {
    /// The documents for `base_url`, with the defaults above.
    pub fn new(base_url: &str) -> Self {
        Discovery {
            base_url: base_url.trim_end_matches('/').to_owned(),
            documentation_uri: None,
            etag_supported: false,
            max_results: MAX_PAGE_SIZE,
        }
    }

    /// With a documentation page.
    pub fn with_documentation_uri(mut self, uri: &str) -> Self {
        self.documentation_uri = Some(uri.to_owned());
        self
    }

    /// Saying whether ETags are supported.
    pub fn with_etag_supported(mut self, supported: bool) -> Self {
        self.etag_supported = supported;
        self
    }

    /// With another `maxResults` (use [`crate::Limits::max_page_size`]).
    pub fn with_max_results(mut self, max_results: u64) -> Self {
        self.max_results = max_results;
        self
    }

    /// `/ServiceProviderConfig` (RFC 7643 §5).
    pub fn service_provider_config(&self) -> Value {
        let mut config = json!({
            "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": self.max_results},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": self.etag_supported},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A bearer token in the Authorization header, made for the org by its admin",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": true,
            }],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": format!("{}/ServiceProviderConfig", self.base_url),
            },
        });
        if let (Some(uri), Some(object)) = (&self.documentation_uri, config.as_object_mut()) {
            object.insert("documentationUri".into(), Value::from(uri.as_str()));
        }
        config
    }

    /// `/Schemas`: User, Group, EnterpriseUser, and the schemas of the discovery
    /// documents themselves.
    pub fn schemas(&self) -> ListResponse {
        let schemas: Vec<Value> = SCHEMAS.iter().map(|s| s.to_json(&self.base_url)).collect();
        ListResponse::new(schemas.len() as u64, 1, schemas)
    }

    /// `/Schemas/{id}`, the id matched without case.
    pub fn schema(&self, id: &str) -> Option<Value> {
        schema_by_id(id).map(|s| s.to_json(&self.base_url))
    }

    /// `/ResourceTypes`: User (with the Enterprise User extension) and Group.
    pub fn resource_types(&self) -> ListResponse {
        let types: Vec<Value> = [ResourceKind::User, ResourceKind::Group]
            .into_iter()
            .map(|k| self.resource_type_json(k))
            .collect();
        ListResponse::new(types.len() as u64, 1, types)
    }

    /// `/ResourceTypes/{id}` (`User`, `Group`), matched without case.
    pub fn resource_type(&self, id: &str) -> Option<Value> {
        resource_kind(id).map(|k| self.resource_type_json(k))
    }

    fn resource_type_json(&self, kind: ResourceKind) -> Value {
        let (description, extensions) = match kind {
            ResourceKind::Group => ("A group of people in the org", json!([])),
            _ => (
                "A person in the org",
                json!([{"schema": ENTERPRISE_USER_SCHEMA, "required": false}]),
            ),
        };
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": kind.name(),
            "name": kind.name(),
            "endpoint": kind.endpoint(),
            "description": description,
            "schema": kind.schema(),
            "schemaExtensions": extensions,
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{}/ResourceTypes/{}", self.base_url, kind.name()),
            },
        })
    }

    /// The reply to a discovery operation; `None` for the others, which are the store's.
    pub fn respond(&self, operation: &ScimOperation) -> Option<ScimResponse> {
        let found = |doc: Option<Value>, what: &str| match doc {
            Some(doc) => ScimResponse::json(200, doc),
            None => ScimResponse::from(ScimError::not_found(format!("no {what}"))),
        };
        Some(match operation {
            ScimOperation::GetServiceProviderConfig => {
                ScimResponse::json(200, self.service_provider_config())
            }
            ScimOperation::ListSchemas => ScimResponse::list(&self.schemas()),
            ScimOperation::GetSchema(id) => found(self.schema(id), &format!("schema `{id}`")),
            ScimOperation::ListResourceTypes => ScimResponse::list(&self.resource_types()),
            ScimOperation::GetResourceType(id) => {
                found(self.resource_type(id), &format!("resource type `{id}`"))
            }
            _ => return None,
        })
    }
}

/// `User` or `Group`, in any case.
pub(crate) fn resource_kind(name: &str) -> Option<ResourceKind> {
    [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(name))
}
