//! The router: an HTTP request's parts in, a typed SCIM operation (or a SCIM error) out.

use serde_json::Value;

use crate::discovery::resource_kind;
use crate::error::{ScimError, ScimType};
use crate::group::ScimGroup;
use crate::json::parse_object;
use crate::limits::Limits;
use crate::meta::ResourceKind;
use crate::patch::{GroupChange, PatchOp};
use crate::percent;
use crate::query::{ListQuery, Projection};
use crate::schema::schema_by_id;
use crate::user::ScimUser;

/// What a request asks for, checked and typed. The store does the ones on resources;
/// [`crate::Discovery::respond`] answers the discovery ones.
///
/// `if_match` carries the `If-Match` header, when the integration passes it, for stores
/// that keep versions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScimOperation {
    /// `POST /Users`: create; answer 201 with [`crate::ScimResponse::created`], or 409
    /// [`ScimError::uniqueness`] when the `userName` is taken.
    CreateUser(ScimUser),
    /// `GET /Users/{id}`: answer 200, or 404.
    GetUser {
        /// The user's id.
        id: String,
        /// Which attributes to return.
        projection: Projection,
    },
    /// `GET /Users?…` or `POST /Users/.search`: answer a [`crate::ListResponse`] (never
    /// 404 for no match: Okta and Entra ID expect an empty list).
    ListUsers(ListQuery),
    /// `PUT /Users/{id}`: replace; the user's `id` is the path's.
    ReplaceUser {
        /// The user's id.
        id: String,
        /// The new user.
        user: ScimUser,
        /// The `If-Match` header.
        if_match: Option<String>,
    },
    /// `PATCH /Users/{id}`: load the user, [`PatchOp::apply_to_user`], store, answer 200
    /// with the user.
    PatchUser {
        /// The user's id.
        id: String,
        /// The operations.
        patch: PatchOp,
        /// The `If-Match` header.
        if_match: Option<String>,
    },
    /// `DELETE /Users/{id}`: answer 204.
    DeleteUser {
        /// The user's id.
        id: String,
        /// The `If-Match` header.
        if_match: Option<String>,
    },
    /// `POST /Groups`.
    CreateGroup(ScimGroup),
    /// `GET /Groups/{id}`.
    GetGroup {
        /// The group's id.
        id: String,
        /// Which attributes to return (Entra ID excludes `members`).
        projection: Projection,
    },
    /// `GET /Groups?…` or `POST /Groups/.search`.
    ListGroups(ListQuery),
    /// `PUT /Groups/{id}`.
    ReplaceGroup {
        /// The group's id.
        id: String,
        /// The new group.
        group: ScimGroup,
        /// The `If-Match` header.
        if_match: Option<String>,
    },
    /// `PATCH /Groups/{id}`: apply the change, answer 200 with the group (RFC 7644
    /// §3.5.2), as `attributes` and `excludedAttributes` select: a client that changes the
    /// members of a large group asks with `excludedAttributes=members` not to have them
    /// all read back.
    PatchGroup {
        /// The group's id.
        id: String,
        /// The change.
        change: GroupChange,
        /// The `If-Match` header.
        if_match: Option<String>,
        /// Which attributes the answer carries.
        projection: Projection,
    },
    /// `DELETE /Groups/{id}`.
    DeleteGroup {
        /// The group's id.
        id: String,
        /// The `If-Match` header.
        if_match: Option<String>,
    },
    /// `POST /.search`: a search of every resource type at once (RFC 7644 §3.4.3), users
    /// then groups, paged as one list.
    Search(ListQuery),
    /// `GET /ServiceProviderConfig`.
    GetServiceProviderConfig,
    /// `GET /Schemas`.
    ListSchemas,
    /// `GET /Schemas/{id}`, a schema that exists (its URI as this crate spells it).
    GetSchema(String),
    /// `GET /ResourceTypes`.
    ListResourceTypes,
    /// `GET /ResourceTypes/{id}`, `User` or `Group`.
    GetResourceType(String),
}

const COLLECTION: &str = "GET, POST";
const RESOURCE: &str = "GET, PUT, PATCH, DELETE";
const SEARCH: &str = "POST";
const DISCOVERY: &str = "GET";

/// A request's parts: the method, the path after `/scim/v2/{org}`, the raw query string,
/// the body, and optionally the `If-Match` and `Content-Type` headers.
///
/// ```
/// use jit_provisioning_scim::{ScimOperation, ScimRequest, SimpleFilter};
///
/// let op = ScimRequest::parse("GET", "/Users", "filter=userName%20eq%20%22b%40example.com%22", b"")?;
/// let ScimOperation::ListUsers(query) = op else { unreachable!() };
/// assert_eq!(query.simple_filter(), Some(SimpleFilter::UserName("b@example.com".into())));
///
/// let refused = ScimRequest::parse("PUT", "/Users", "", b"{}").unwrap_err();
/// assert_eq!(refused.status(), 405);
/// assert_eq!(ScimRequest::parse("GET", "/Widgets", "", b"").unwrap_err().status(), 404);
/// # Ok::<(), jit_provisioning_scim::ScimError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ScimRequest<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    body: &'a [u8],
    if_match: Option<&'a str>,
    content_type: Option<&'a str>,
    limits: Limits,
}

impl<'a> ScimRequest<'a> {
    /// A request, within the default [`Limits`].
    pub fn new(method: &'a str, path_after_org: &'a str, query: &'a str, body: &'a [u8]) -> Self {
        ScimRequest {
            method,
            path: path_after_org,
            query,
            body,
            if_match: None,
            content_type: None,
            limits: Limits::default(),
        }
    }

    /// Reads a request with no headers and the default limits.
    pub fn parse(
        method: &str,
        path_after_org: &str,
        query: &str,
        body: &[u8],
    ) -> Result<ScimOperation, ScimError> {
        ScimRequest::new(method, path_after_org, query, body).operation()
    }

    /// With the `If-Match` header.
    pub fn with_if_match(mut self, if_match: Option<&'a str>) -> Self {
        self.if_match = if_match;
        self
    }

    /// With the `Content-Type` header: bodies must then be JSON (`application/scim+json`,
    /// `application/json`, or another `+json` type), else 415.
    pub fn with_content_type(mut self, content_type: Option<&'a str>) -> Self {
        self.content_type = content_type;
        self
    }

    /// With other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The operation the request asks for, or the refusal to send.
    pub fn operation(&self) -> Result<ScimOperation, ScimError> {
        let trimmed = self.path.strip_prefix('/').unwrap_or(self.path);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        let segments: Vec<&str> = trimmed.split('/').collect();
        let not_found = || {
            ScimError::not_found(format!(
                "no SCIM endpoint at `{}`; the endpoints are /Users, /Groups, /ServiceProviderConfig, /Schemas and /ResourceTypes",
                self.path
            ))
        };
        let method = self.method.trim();
        let is = |m: &str| method.eq_ignore_ascii_case(m);
        match segments.as_slice() {
            [first, rest @ ..] if matches_ci(first, "Users") => {
                self.resource(ResourceKind::User, rest, &is)
            }
            [first, rest @ ..] if matches_ci(first, "Groups") => {
                self.resource(ResourceKind::Group, rest, &is)
            }
            [first]
                if matches_ci(first, "ServiceProviderConfig")
                    || matches_ci(first, "ServiceProviderConfigs") =>
            {
                self.discovery(&is, ScimOperation::GetServiceProviderConfig)
            }
            [first] if matches_ci(first, "Schemas") => {
                self.discovery(&is, ScimOperation::ListSchemas)
            }
            [first, id] if matches_ci(first, "Schemas") => {
                let id = decode_id(id).ok_or_else(not_found)?;
                let schema = schema_by_id(&id)
                    .ok_or_else(|| ScimError::not_found(format!("no schema `{id}`")))?;
                self.discovery(&is, ScimOperation::GetSchema(schema.id.to_owned()))
            }
            [first] if matches_ci(first, "ResourceTypes") => {
                self.discovery(&is, ScimOperation::ListResourceTypes)
            }
            [first, id] if matches_ci(first, "ResourceTypes") => {
                let id = decode_id(id).ok_or_else(not_found)?;
                let kind = resource_kind(&id)
                    .ok_or_else(|| ScimError::not_found(format!("no resource type `{id}`")))?;
                self.discovery(&is, ScimOperation::GetResourceType(kind.name().to_owned()))
            }
            // RFC 7644 §3.4.3: a search of every resource type at once, from the root.
            [search] if *search == ".search" => {
                if !is("POST") {
                    return Err(ScimError::method_not_allowed(
                        self.method,
                        self.path,
                        SEARCH,
                    ));
                }
                let Value::Object(body) = self.body()? else {
                    return Err(ScimError::internal());
                };
                Ok(ScimOperation::Search(ListQuery::from_search_request(
                    &body,
                    &self.limits,
                )?))
            }
            [first] if matches_ci(first, "Bulk") => Err(ScimError::with_status(
                501,
                "bulk operations are not supported (see /ServiceProviderConfig)",
            )),
            [first] if matches_ci(first, "Me") => Err(ScimError::with_status(
                501,
                "/Me is not supported: this endpoint is for the IdP, not for people",
            )),
            _ => Err(not_found()),
        }
    }

    fn discovery(
        &self,
        is: &dyn Fn(&str) -> bool,
        operation: ScimOperation,
    ) -> Result<ScimOperation, ScimError> {
        if !is("GET") {
            return Err(ScimError::method_not_allowed(
                self.method,
                self.path,
                DISCOVERY,
            ));
        }
        if ListQuery::parse(self.query).is_ok_and(|q| q.filter.is_some()) {
            return Err(ScimError::with_status(
                403,
                "the discovery endpoints take no filter (RFC 7644 §4)",
            ));
        }
        Ok(operation)
    }

    fn resource(
        &self,
        kind: ResourceKind,
        rest: &[&str],
        is: &dyn Fn(&str) -> bool,
    ) -> Result<ScimOperation, ScimError> {
        match rest {
            [] => {
                if is("GET") {
                    let query = ListQuery::parse_with_limits(self.query, &self.limits)?;
                    return Ok(match kind {
                        ResourceKind::Group => ScimOperation::ListGroups(query),
                        _ => ScimOperation::ListUsers(query),
                    });
                }
                if is("POST") {
                    let body = self.body()?;
                    return match kind {
                        ResourceKind::Group => {
                            let mut group = ScimGroup::from_json_with_limits(&body, &self.limits)?;
                            group.id = None;
                            group.meta = None;
                            Ok(ScimOperation::CreateGroup(group))
                        }
                        _ => {
                            let mut user = ScimUser::from_json(&body)?;
                            user.id = None;
                            Ok(ScimOperation::CreateUser(user))
                        }
                    };
                }
                Err(ScimError::method_not_allowed(
                    self.method,
                    self.path,
                    COLLECTION,
                ))
            }
            [search] if *search == ".search" => {
                if !is("POST") {
                    return Err(ScimError::method_not_allowed(
                        self.method,
                        self.path,
                        SEARCH,
                    ));
                }
                let Value::Object(body) = self.body()? else {
                    return Err(ScimError::internal());
                };
                let query = ListQuery::from_search_request(&body, &self.limits)?;
                Ok(match kind {
                    ResourceKind::Group => ScimOperation::ListGroups(query),
                    _ => ScimOperation::ListUsers(query),
                })
            }
            [id] => {
                let id = decode_id(id).ok_or_else(|| {
                    ScimError::not_found(format!("no {} at `{}`", kind.name(), self.path))
                })?;
                let if_match = self.if_match.map(str::to_owned);
                if is("GET") {
                    let projection = Projection::parse(self.query)?;
                    return Ok(match kind {
                        ResourceKind::Group => ScimOperation::GetGroup { id, projection },
                        _ => ScimOperation::GetUser { id, projection },
                    });
                }
                if is("DELETE") {
                    return Ok(match kind {
                        ResourceKind::Group => ScimOperation::DeleteGroup { id, if_match },
                        _ => ScimOperation::DeleteUser { id, if_match },
                    });
                }
                if is("PUT") {
                    let body = self.body()?;
                    return match kind {
                        ResourceKind::Group => {
                            let mut group = ScimGroup::from_json_with_limits(&body, &self.limits)?;
                            same_id(group.id.as_deref(), &id, kind)?;
                            group.id = Some(id.clone());
                            group.meta = None;
                            Ok(ScimOperation::ReplaceGroup {
                                id,
                                group,
                                if_match,
                            })
                        }
                        _ => {
                            let mut user = ScimUser::from_json(&body)?;
                            same_id(user.id.as_deref(), &id, kind)?;
                            user.id = Some(id.clone());
                            Ok(ScimOperation::ReplaceUser { id, user, if_match })
                        }
                    };
                }
                if is("PATCH") {
                    let Value::Object(body) = self.body()? else {
                        return Err(ScimError::internal());
                    };
                    let patch = PatchOp::from_json(&body, kind, &id, &self.limits)?;
                    return match kind {
                        ResourceKind::Group => {
                            let change = patch.group_change()?;
                            Ok(ScimOperation::PatchGroup {
                                id,
                                change,
                                if_match,
                                projection: Projection::parse(self.query)?,
                            })
                        }
                        _ => Ok(ScimOperation::PatchUser {
                            id,
                            patch,
                            if_match,
                        }),
                    };
                }
                Err(ScimError::method_not_allowed(
                    self.method,
                    self.path,
                    RESOURCE,
                ))
            }
            _ => Err(ScimError::not_found(format!(
                "no SCIM endpoint at `{}`: a {} is at {}/{{id}}",
                self.path,
                kind.name(),
                kind.endpoint()
            ))),
        }
    }

    /// The body as a JSON object, within the size limit and of a JSON media type.
    fn body(&self) -> Result<Value, ScimError> {
        if self.body.len() > self.limits.max_body_bytes {
            return Err(ScimError::payload_too_large(
                self.body.len(),
                self.limits.max_body_bytes,
            ));
        }
        if let Some(content_type) = self.content_type {
            let media = content_type
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let json =
                media == "application/json" || media.ends_with("+json") || media == "text/json";
            if !json {
                return Err(ScimError::with_status(
                    415,
                    format!("the body is `{content_type}`; send `application/scim+json`"),
                ));
            }
        }
        parse_object(self.body).map(Value::Object)
    }
}

fn matches_ci(segment: &str, name: &str) -> bool {
    segment.eq_ignore_ascii_case(name)
}

/// A resource id from its path segment, percent-decoded; `None` for an empty or
/// malformed one.
fn decode_id(segment: &str) -> Option<String> {
    percent::decode(segment, false).filter(|id| !id.trim().is_empty())
}

/// A PUT body's `id`, if it has one, must be the path's: `id` is read-only.
fn same_id(body_id: Option<&str>, path_id: &str, kind: ResourceKind) -> Result<(), ScimError> {
    match body_id {
        Some(body_id) if body_id != path_id => Err(ScimError::new(
            ScimType::Mutability,
            format!(
                "the body's `id` (`{body_id}`) is not the {}'s id in the path (`{path_id}`); `id` is read-only",
                kind.name()
            ),
        )),
        _ => Ok(()),
    }
}
