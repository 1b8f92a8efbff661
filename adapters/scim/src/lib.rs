#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod discovery;
mod error;
mod filter;
mod group;
mod json;
mod limits;
mod meta;
mod patch;
mod percent;
mod query;
mod request;
mod response;
mod schema;
mod service;
mod user;

pub use discovery::Discovery;
pub use error::{ScimError, ScimType, ERROR_SCHEMA};
pub use filter::{AttrPath, CompValue, CompareOp, Filter, SimpleFilter};
pub use group::{Member, ScimGroup};
pub use limits::{
    Limits, MAX_ATTRIBUTE_VALUES, MAX_BODY_BYTES, MAX_FILTER_BYTES, MAX_FILTER_DEPTH,
    MAX_MEMBERS_PER_REQUEST, MAX_PAGE_SIZE, MAX_PATCH_OPERATIONS,
};
pub use meta::{resource_location, Meta, ResourceKind};
pub use patch::{GroupChange, MembersChange, PatchKind, PatchOp, PatchOperation, PatchPath};
pub use query::{ListQuery, Projection};
pub use request::{ScimOperation, ScimRequest};
pub use response::{ListResponse, ScimResource, ScimResponse, CONTENT_TYPE};
pub use schema::{
    ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, LIST_RESPONSE_SCHEMA, PATCH_OP_SCHEMA,
    RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA, SEARCH_REQUEST_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA,
    USER_SCHEMA,
};
pub use service::{NameIdField, ScimService};
pub use user::{Email, EnterpriseUser, GroupRef, Manager, Name, ScimUser};
