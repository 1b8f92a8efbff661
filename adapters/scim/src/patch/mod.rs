//! PATCH (RFC 7644 §3.5.2): a `PatchOp` body read into a normalised list of operations,
//! whatever shape the IdP sent.

mod group;
mod user;

use std::fmt;

use serde_json::{Map, Value};

pub use group::{GroupChange, MembersChange};

use crate::error::{ScimError, ScimType};
use crate::filter::parser::Parser;
use crate::filter::{canonical_schema, split_schema, AttrPath, CompValue, CompareOp, Filter};
use crate::group::too_many_members;
use crate::json::{self, get_ci, items, parse_object, value_ci};
use crate::limits::Limits;
use crate::meta::ResourceKind;
use crate::schema::{
    find, same_uri, AttrDef, AttrType, Mutability, ENTERPRISE_USER_ATTRS, ENTERPRISE_USER_SCHEMA,
    GROUP_ATTRS, PATCH_OP_SCHEMA, USER_ATTRS,
};

/// What an operation does. Entra ID writes `Add`, `Replace`, `Remove`: any case is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchKind {
    /// Add values (to a multi-valued attribute), or set an attribute.
    Add,
    /// Remove values or an attribute.
    Remove,
    /// Replace values or an attribute.
    Replace,
}

impl PatchKind {
    /// The operation as RFC 7644 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchKind::Add => "add",
            PatchKind::Remove => "remove",
            PatchKind::Replace => "replace",
        }
    }
}

/// A PATCH `path`: `attribute`, `attribute.sub`, or `attribute[filter]` with an optional
/// `.sub`, each with an optional schema URI before it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatchPath {
    /// The schema URI, if one was written.
    pub schema: Option<String>,
    /// The attribute.
    pub attribute: String,
    /// The filter selecting values of a multi-valued attribute.
    pub value_filter: Option<Filter>,
    /// The sub-attribute (after the dot, or after `]`).
    pub sub_attribute: Option<String>,
}

impl PatchPath {
    /// The path to attribute `name`.
    pub fn new(name: &str) -> Self {
        PatchPath::from_attr(AttrPath::new(name))
    }

    fn from_attr(path: AttrPath) -> Self {
        PatchPath {
            schema: path.schema,
            attribute: path.name,
            value_filter: None,
            sub_attribute: path.sub_attribute,
        }
    }

    /// With a value filter.
    pub fn with_filter(mut self, filter: Filter) -> Self {
        self.value_filter = Some(filter);
        self
    }

    /// With a sub-attribute.
    pub fn with_sub_attribute(mut self, sub: &str) -> Self {
        self.sub_attribute = Some(AttrPath::new(sub).name);
        self
    }

    /// Parses a path. Refusals are `invalidPath`.
    ///
    /// ```
    /// use jit_provisioning_scim::PatchPath;
    ///
    /// let path = PatchPath::parse(r#"members[value eq "2819c223"]"#)?;
    /// assert_eq!(path.attribute, "members");
    /// assert_eq!(path.to_string(), r#"members[value eq "2819c223"]"#);
    /// assert!(PatchPath::parse("members[value eq").is_err());
    /// # Ok::<(), jit_provisioning_scim::ScimError>(())
    /// ```
    pub fn parse(text: &str) -> Result<PatchPath, ScimError> {
        PatchPath::parse_with_limits(text, &Limits::default())
    }

    fn parse_with_limits(text: &str, limits: &Limits) -> Result<PatchPath, ScimError> {
        let refuse = |detail: String| {
            ScimError::new(ScimType::InvalidPath, format!("path `{text}`: {detail}"))
        };
        if text.len() > limits.max_filter_bytes {
            return Err(refuse(format!(
                "the path is longer than {} bytes",
                limits.max_filter_bytes
            )));
        }
        let (path, filter, sub) = Parser::new(text.trim(), limits.max_filter_depth)
            .patch_path()
            .map_err(refuse)?;
        let mut parsed = PatchPath::from_attr(path);
        parsed.value_filter = filter;
        if sub.is_some() {
            parsed.sub_attribute = sub;
        }
        Ok(parsed)
    }

    fn is(&self, name: &str) -> bool {
        self.attribute.eq_ignore_ascii_case(name)
    }

    fn in_core(&self) -> bool {
        AttrPath {
            schema: self.schema.clone(),
            name: String::new(),
            sub_attribute: None,
        }
        .is_core()
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.attribute)?;
        if let Some(filter) = &self.value_filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attribute {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// One normalised operation: always with a path (operations without one are split into
/// one per attribute of their value).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatchOperation {
    /// What it does.
    pub op: PatchKind,
    /// What it acts on.
    pub path: PatchPath,
    /// The value, for `add` and `replace`; booleans given as strings are booleans here.
    pub value: Option<Value>,
}

impl PatchOperation {
    /// An operation.
    pub fn new(op: PatchKind, path: PatchPath, value: Option<Value>) -> Self {
        PatchOperation { op, path, value }
    }
}

/// A PATCH request, normalised.
///
/// Reading it takes the IdPs' shapes (sources in the crate README):
///
/// - `op` in any case (Entra ID's `Replace`, `Add`, `Remove`);
/// - no `path`, with an object of attributes (Okta's `{"op": "replace", "value":
///   {"active": false}}`; Entra ID's flagged `name.givenName` and
///   `urn:…:enterprise:2.0:User:employeeNumber` keys): one operation per attribute;
/// - `"value": "False"` for a boolean (Entra ID without `aadOptscim062020`): a boolean;
/// - `remove` `members` with a `value` list (Entra ID without the flag): one
///   `members[value eq "…"]` removal per value, the shape it sends with the flag;
/// - `id` in Okta's group rename value, equal to the group's id: dropped; a different
///   `id` is `mutability`;
/// - `password`: dropped, never kept (and so never printed by `Debug`).
///
/// ```
/// use jit_provisioning_scim::{PatchKind, PatchOp, ResourceKind};
///
/// // Okta deactivates a user.
/// let body = br#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
///                 "Operations": [{"op": "replace", "value": {"active": false}}]}"#;
/// let patch = PatchOp::parse(body, ResourceKind::User, "23a35c27")?;
/// assert_eq!(patch.operations.len(), 1);
/// assert_eq!(patch.operations[0].op, PatchKind::Replace);
/// assert_eq!(patch.operations[0].path.to_string(), "active");
///
/// let no_path = br#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
///                    "Operations": [{"op": "remove"}]}"#;
/// let refused = PatchOp::parse(no_path, ResourceKind::User, "23a35c27").unwrap_err();
/// assert_eq!(refused.scim_type(), Some(jit_provisioning_scim::ScimType::NoTarget));
/// # Ok::<(), jit_provisioning_scim::ScimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatchOp {
    /// The operations, in order.
    pub operations: Vec<PatchOperation>,
}

impl PatchOp {
    /// Operations made by hand (a store's own tests, a migration).
    pub fn new(operations: Vec<PatchOperation>) -> Self {
        PatchOp { operations }
    }

    /// Reads a PATCH body for resource `id` of `kind`, within the default [`Limits`].
    pub fn parse(body: &[u8], kind: ResourceKind, id: &str) -> Result<PatchOp, ScimError> {
        PatchOp::parse_with_limits(body, kind, id, &Limits::default())
    }

    /// Reads a PATCH body within `limits`.
    pub fn parse_with_limits(
        body: &[u8],
        kind: ResourceKind,
        id: &str,
        limits: &Limits,
    ) -> Result<PatchOp, ScimError> {
        if body.len() > limits.max_body_bytes {
            return Err(ScimError::payload_too_large(
                body.len(),
                limits.max_body_bytes,
            ));
        }
        PatchOp::from_json(&parse_object(body)?, kind, id, limits)
    }

    /// Reads a PATCH body already parsed as JSON.
    pub fn from_json(
        body: &Map<String, Value>,
        kind: ResourceKind,
        id: &str,
        limits: &Limits,
    ) -> Result<PatchOp, ScimError> {
        let schemas_ok = value_ci(body, "schemas")?
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .any(|u| same_uri(u, PATCH_OP_SCHEMA))
            });
        if !schemas_ok {
            return Err(ScimError::new(
                ScimType::InvalidSyntax,
                format!("a PATCH body lists `{PATCH_OP_SCHEMA}` in `schemas`"),
            ));
        }
        let operations = match value_ci(body, "Operations")? {
            Some(Value::Array(operations)) if !operations.is_empty() => operations,
            Some(Value::Array(_)) => {
                return Err(ScimError::new(
                    ScimType::InvalidSyntax,
                    "`Operations` is empty; send at least one",
                ))
            }
            Some(other) => return Err(json::wrong_type("Operations", "a list", other)),
            None => {
                return Err(ScimError::new(
                    ScimType::InvalidSyntax,
                    "a PATCH body needs `Operations`",
                ))
            }
        };
        if operations.len() > limits.max_patch_operations {
            return Err(ScimError::new(
                ScimType::TooMany,
                format!(
                    "the PATCH has {} operations; send at most {} per request",
                    operations.len(),
                    limits.max_patch_operations
                ),
            ));
        }
        let mut normaliser = Normaliser {
            kind,
            id,
            limits,
            members: 0,
            out: Vec::with_capacity(operations.len()),
        };
        for (i, operation) in operations.iter().enumerate() {
            normaliser
                .operation(operation)
                .map_err(|e| numbered(e, i + 1, operations.len()))?;
        }
        Ok(PatchOp {
            operations: normaliser.out,
        })
    }
}

/// Prefixes an error's detail with the operation it is about, when there are several.
fn numbered(error: ScimError, n: usize, of: usize) -> ScimError {
    if of < 2 || error.scim_type().is_none() || error.scim_type() == Some(ScimType::TooMany) {
        return error;
    }
    let scim_type = error.scim_type().unwrap_or(ScimType::InvalidValue);
    ScimError::new(scim_type, format!("operation {n}: {}", error.detail()))
}

struct Normaliser<'a> {
    kind: ResourceKind,
    id: &'a str,
    limits: &'a Limits,
    members: usize,
    out: Vec<PatchOperation>,
}

/// Where an operation's path came from: its `path`, or a key of its value object.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Path,
    ValueKey,
}

impl Normaliser<'_> {
    fn operation(&mut self, operation: &Value) -> Result<(), ScimError> {
        let Value::Object(object) = operation else {
            return Err(json::wrong_type(
                "Operations",
                "a list of objects",
                operation,
            ));
        };
        let op_text = match value_ci(object, "op")? {
            Some(Value::String(op)) => op.as_str(),
            Some(other) => return Err(json::wrong_type("op", "a string", other)),
            None => {
                return Err(ScimError::new(
                    ScimType::InvalidSyntax,
                    "an operation needs `op`: add, remove or replace",
                ))
            }
        };
        let op = [PatchKind::Add, PatchKind::Remove, PatchKind::Replace]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(op_text.trim()))
            .ok_or_else(|| {
                ScimError::new(
                    ScimType::InvalidSyntax,
                    format!("`op` must be add, remove or replace, not `{op_text}`"),
                )
            })?;
        let path = match value_ci(object, "path")? {
            Some(Value::String(path)) if !path.trim().is_empty() => Some(path.as_str()),
            Some(Value::String(_)) | None => None,
            Some(other) => return Err(json::wrong_type("path", "a string", other)),
        };
        let value = get_ci(object, "value")?
            .map(|(_, v)| v)
            .filter(|v| !v.is_null());
        match path {
            Some(path)
                if self.kind == ResourceKind::User
                    && same_uri(path.trim(), ENTERPRISE_USER_SCHEMA) =>
            {
                self.whole_extension(op, value)
            }
            Some(path) => {
                let path = PatchPath::parse_with_limits(path, self.limits)?;
                self.push(op, path, value, Origin::Path)
            }
            None if op == PatchKind::Remove => Err(ScimError::new(
                ScimType::NoTarget,
                "`remove` needs a `path` naming what to remove",
            )),
            None => {
                let Some(Value::Object(attributes)) = value else {
                    return Err(ScimError::new(
                        ScimType::InvalidValue,
                        format!(
                            "`{}` without a `path` needs a `value` object of attributes, not {}",
                            op.as_str(),
                            value.map_or("nothing", json::type_name)
                        ),
                    ));
                };
                for (key, value) in attributes {
                    self.value_key(op, key, value)?;
                }
                Ok(())
            }
        }
    }

    /// A path naming the Enterprise User extension itself (RFC 7644 §3.5.2 lets a path be
    /// an extension's schema URI): `remove` takes every attribute of it, `replace` makes
    /// it exactly the value, `add` adds the value's attributes.
    fn whole_extension(&mut self, op: PatchKind, value: Option<&Value>) -> Result<(), ScimError> {
        let limits = self.limits;
        let in_extension = |name: &str| -> Result<PatchPath, ScimError> {
            let mut path = PatchPath::parse_with_limits(name, limits)?;
            path.schema = Some(ENTERPRISE_USER_SCHEMA.to_owned());
            Ok(path)
        };
        if matches!(op, PatchKind::Remove | PatchKind::Replace) {
            for def in ENTERPRISE_USER_ATTRS {
                let path = in_extension(def.name)?;
                self.push(PatchKind::Remove, path, None, Origin::Path)?;
            }
        }
        if op == PatchKind::Remove {
            return Ok(());
        }
        let Some(Value::Object(attributes)) = value else {
            return Err(ScimError::new(
                ScimType::InvalidValue,
                format!(
                    "`{}` of `{ENTERPRISE_USER_SCHEMA}` needs a `value` object of its attributes, not {}",
                    op.as_str(),
                    value.map_or("nothing", json::type_name)
                ),
            ));
        };
        for (name, value) in attributes {
            if name.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let path = in_extension(name)?;
            self.push(op, path, Some(value), Origin::ValueKey)?;
        }
        Ok(())
    }

    /// One key of a path-less operation's value: an attribute, a path (Entra ID's
    /// `name.givenName`), or an extension's object of attributes.
    fn value_key(&mut self, op: PatchKind, key: &str, value: &Value) -> Result<(), ScimError> {
        if key.eq_ignore_ascii_case("schemas") {
            return Ok(());
        }
        if let Value::Object(attributes) = value {
            if is_extension_container(key) {
                for (name, value) in attributes {
                    let mut path = PatchPath::parse_with_limits(name, self.limits)?;
                    path.schema = Some(canonical_schema(key));
                    self.push(op, path, Some(value), Origin::ValueKey)?;
                }
                return Ok(());
            }
        }
        let path = PatchPath::parse_with_limits(key, self.limits)?;
        self.push(op, path, Some(value), Origin::ValueKey)
    }

    fn push(
        &mut self,
        op: PatchKind,
        mut path: PatchPath,
        value: Option<&Value>,
        origin: Origin,
    ) -> Result<(), ScimError> {
        // Entra ID's documented `"path": "manager"`: an Enterprise User attribute named
        // without its schema, which no core attribute shares a name with.
        if self.kind == ResourceKind::User
            && path.schema.is_none()
            && find(USER_ATTRS, &path.attribute).is_none()
            && find(ENTERPRISE_USER_ATTRS, &path.attribute).is_some()
        {
            path.schema = Some(ENTERPRISE_USER_SCHEMA.to_owned());
        }
        if path.is("password") && path.in_core() && self.kind == ResourceKind::User {
            return Ok(());
        }
        if path.in_core() && (path.is("schemas") || path.is("meta")) {
            return match origin {
                Origin::ValueKey => Ok(()),
                Origin::Path => Err(ScimError::new(
                    ScimType::Mutability,
                    format!("`{}` is read-only", path.attribute),
                )),
            };
        }
        if path.in_core() && path.is("id") {
            return self.id(op, &path, value);
        }
        let def = self.check_path(&path, origin)?;
        let Some(def) = def else {
            // `groups` of a user given in a value object: read-only, ignored.
            return Ok(());
        };
        if op == PatchKind::Remove {
            return self.remove(path, value, def);
        }
        let Some(value) = value else {
            return Err(ScimError::new(
                ScimType::InvalidValue,
                format!("`{}` of `{path}` needs a `value`", op.as_str()),
            ));
        };
        let value = normalise_booleans(value, def, &path);
        if path.in_core() && path.is("members") {
            self.count_members(items(&value).len())?;
        }
        self.out.push(PatchOperation::new(op, path, Some(value)));
        Ok(())
    }

    /// `id` may appear only with the resource's own id (Okta's group rename sends it).
    fn id(
        &mut self,
        op: PatchKind,
        path: &PatchPath,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        let same = value.and_then(Value::as_str) == Some(self.id);
        if op != PatchKind::Remove
            && same
            && path.value_filter.is_none()
            && path.sub_attribute.is_none()
        {
            return Ok(());
        }
        Err(ScimError::new(
            ScimType::Mutability,
            format!(
                "`id` is read-only: this {} is `{}`",
                self.kind.name(),
                self.id
            ),
        ))
    }

    /// The attribute's definition, `None` for read-only attributes to ignore. Unknown
    /// attributes are `invalidPath`, read-only ones named by `path` are `mutability`.
    fn check_path(
        &self,
        path: &PatchPath,
        origin: Origin,
    ) -> Result<Option<&'static AttrDef>, ScimError> {
        let (attrs, what): (&'static [AttrDef], &str) = match self.kind {
            ResourceKind::Group if path.in_core() => (
                GROUP_ATTRS,
                "a Group has displayName, externalId and members",
            ),
            ResourceKind::Group => {
                return Err(ScimError::new(
                    ScimType::InvalidPath,
                    format!("`{path}`: a Group has no extension attributes here"),
                ))
            }
            _ if path.in_core() => (USER_ATTRS, "see /Schemas for a User's attributes"),
            _ if path
                .schema
                .as_deref()
                .is_some_and(|s| same_uri(s, ENTERPRISE_USER_SCHEMA)) =>
            {
                (
                    ENTERPRISE_USER_ATTRS,
                    "see /Schemas for the Enterprise User attributes",
                )
            }
            // Other extensions are kept as sent.
            _ => return Ok(Some(&UNKNOWN_EXTENSION_ATTR)),
        };
        let def = if path.in_core() && path.is("externalId") {
            &EXTERNAL_ID
        } else {
            find(attrs, &path.attribute).ok_or_else(|| {
                ScimError::new(
                    ScimType::InvalidPath,
                    format!("`{}` is not an attribute ({what})", path.attribute),
                )
            })?
        };
        if let Some(sub) = &path.sub_attribute {
            let sub_def = def.sub_attribute(sub).ok_or_else(|| {
                ScimError::new(
                    ScimType::InvalidPath,
                    format!("`{}` has no sub-attribute `{sub}`", def.name),
                )
            })?;
            if sub_def.mutability == Mutability::ReadOnly && def.mutability != Mutability::ReadOnly
            {
                return Err(ScimError::new(
                    ScimType::Mutability,
                    format!("`{}.{}` is read-only", def.name, sub_def.name),
                ));
            }
        }
        if path.value_filter.is_some() && !def.multi {
            return Err(ScimError::new(
                ScimType::InvalidPath,
                format!(
                    "`{}` has one value; a value filter `[…]` needs a multi-valued attribute",
                    def.name
                ),
            ));
        }
        if def.multi && path.value_filter.is_none() && path.sub_attribute.is_some() {
            return Err(ScimError::new(
                ScimType::InvalidPath,
                format!(
                    "`{path}` does not say which of `{}` it means: select one, as in `{}[type eq \"work\"].value`",
                    def.name, def.name
                ),
            ));
        }
        if def.mutability == Mutability::ReadOnly {
            return match origin {
                Origin::ValueKey => Ok(None),
                Origin::Path => Err(ScimError::new(
                    ScimType::Mutability,
                    format!("`{}` is read-only", def.name),
                )),
            };
        }
        Ok(Some(def))
    }

    fn remove(
        &mut self,
        path: PatchPath,
        value: Option<&Value>,
        def: &AttrDef,
    ) -> Result<(), ScimError> {
        let is_members = self.kind == ResourceKind::Group && path.is("members");
        let values = value.map(items).unwrap_or_default();
        if !def.multi || path.value_filter.is_some() || values.is_empty() {
            if is_members {
                self.count_members(1)?;
            }
            self.out
                .push(PatchOperation::new(PatchKind::Remove, path, None));
            return Ok(());
        }
        // Entra ID without `aadOptscim062020`: `remove` `members` with the members to
        // remove in `value`. Each becomes the filtered removal RFC 7644 spells.
        if is_members {
            self.count_members(values.len())?;
        }
        for item in values {
            let id = match item {
                Value::String(id) => id.as_str(),
                Value::Object(object) => match value_ci(object, "value")? {
                    Some(Value::String(id)) => id.as_str(),
                    _ => {
                        return Err(ScimError::new(
                            ScimType::InvalidValue,
                            format!("each value to remove from `{}` needs a `value`", def.name),
                        ))
                    }
                },
                other => {
                    return Err(json::wrong_type(
                        def.name,
                        "a list of objects with a `value`",
                        other,
                    ))
                }
            };
            let filter = Filter::Compare {
                path: AttrPath::new("value"),
                op: CompareOp::Eq,
                value: CompValue::String(id.to_owned()),
            };
            let mut one = path.clone();
            one.value_filter = Some(filter);
            self.out
                .push(PatchOperation::new(PatchKind::Remove, one, None));
        }
        Ok(())
    }

    fn count_members(&mut self, n: usize) -> Result<(), ScimError> {
        self.members = self.members.saturating_add(n);
        if self.members > self.limits.max_members_per_request {
            return Err(too_many_members(
                self.members,
                self.limits.max_members_per_request,
            ));
        }
        Ok(())
    }
}

/// `externalId` is common to all resources, so it is in no schema's table.
const EXTERNAL_ID: AttrDef = AttrDef {
    name: "externalId",
    case_exact: true,
    ..UNKNOWN_EXTENSION_ATTR
};

/// An attribute of an extension this crate does not know: kept as sent.
const UNKNOWN_EXTENSION_ATTR: AttrDef = AttrDef {
    name: "",
    ty: AttrType::String,
    multi: false,
    required: false,
    case_exact: false,
    mutability: Mutability::ReadWrite,
    returned: crate::schema::Returned::Default,
    uniqueness: crate::schema::Uniqueness::None,
    description: "",
    sub: &[],
    canonical: &[],
    reference_types: &[],
    kept: true,
};

/// Whether `key` of a path-less value names an extension's whole object rather than one
/// attribute: the Enterprise User URI, or a URI whose last part is a resource type
/// (`urn:…:CustomExtensionName:2.0:User`).
fn is_extension_container(key: &str) -> bool {
    if same_uri(key, ENTERPRISE_USER_SCHEMA) {
        return true;
    }
    match split_schema(key) {
        Ok((Some(schema), last)) => {
            !same_uri(schema, ENTERPRISE_USER_SCHEMA)
                && (last.eq_ignore_ascii_case("User") || last.eq_ignore_ascii_case("Group"))
        }
        _ => false,
    }
}

/// `"True"`/`"False"` given for a boolean attribute (Entra ID) become booleans.
fn normalise_booleans(value: &Value, def: &AttrDef, path: &PatchPath) -> Value {
    let target = match &path.sub_attribute {
        Some(sub) => def.sub_attribute(sub).copied().unwrap_or(*def),
        None => *def,
    };
    let coerce = |v: &Value| match v {
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Value::Bool(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Value::Bool(false),
        other => other.clone(),
    };
    if target.ty == AttrType::Boolean {
        return coerce(value);
    }
    if !target.is_complex() {
        return value.clone();
    }
    // Within complex values: `primary` of emails and the like.
    let fix_object = |object: &Map<String, Value>| -> Value {
        let mut fixed = Map::new();
        for (key, v) in object {
            let boolean = target
                .sub_attribute(key)
                .is_some_and(|d| d.ty == AttrType::Boolean);
            fixed.insert(key.clone(), if boolean { coerce(v) } else { v.clone() });
        }
        Value::Object(fixed)
    };
    match value {
        Value::Object(object) => fix_object(object),
        Value::Array(list) => Value::Array(
            list.iter()
                .map(|item| match item {
                    Value::Object(object) => fix_object(object),
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(kind: ResourceKind, operations: Value) -> Result<PatchOp, ScimError> {
        let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations});
        PatchOp::parse(body.to_string().as_bytes(), kind, "me")
    }

    fn paths(patch: &PatchOp) -> Vec<String> {
        patch
            .operations
            .iter()
            .map(|o| format!("{} {}", o.op.as_str(), o.path))
            .collect()
    }

    #[test]
    fn path_less_values_become_one_operation_per_attribute() {
        let patch = parse(
            ResourceKind::User,
            json!([{"op": "Replace", "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"},
                "id": "me",
                "meta": {"resourceType": "User"},
                "password": "secret",
            }}]),
        );
        let patch = patch.unwrap_or_else(|e| PatchOp {
            operations: vec![PatchOperation::new(
                PatchKind::Add,
                PatchPath::new(&e.to_string()),
                None,
            )],
        });
        let mut got = paths(&patch);
        got.sort();
        assert_eq!(
            got,
            [
                "replace displayName",
                "replace name.givenName",
                "replace urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                "replace urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            ]
        );
        assert!(!format!("{patch:?}").contains("secret"));
    }

    #[test]
    fn refusals_have_their_type() {
        let kind = |ops: Value| {
            parse(ResourceKind::User, ops)
                .err()
                .and_then(|e| e.scim_type())
        };
        assert_eq!(kind(json!([{"op": "remove"}])), Some(ScimType::NoTarget));
        assert_eq!(
            kind(json!([{"op": "replace", "path": "id", "value": "other"}])),
            Some(ScimType::Mutability)
        );
        assert_eq!(
            kind(json!([{"op": "replace", "path": "groups", "value": []}])),
            Some(ScimType::Mutability)
        );
        assert_eq!(
            kind(json!([{"op": "replace", "path": "fooBar", "value": 1}])),
            Some(ScimType::InvalidPath)
        );
        assert_eq!(
            kind(json!([{"op": "replace", "path": "name..x", "value": 1}])),
            Some(ScimType::InvalidPath)
        );
        assert_eq!(
            kind(json!([{"op": "replace", "path": "name[givenName eq \"x\"]", "value": 1}])),
            Some(ScimType::InvalidPath)
        );
        assert_eq!(
            kind(json!([{"op": "replace", "path": "emails.value", "value": "x"}])),
            Some(ScimType::InvalidPath)
        );
        assert_eq!(
            kind(json!([{"op": "move", "path": "active"}])),
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(
            kind(json!([{"op": "add", "path": "active"}])),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            kind(json!([{"op": "add", "value": "x"}])),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(kind(json!([])), Some(ScimType::InvalidSyntax));
        assert_eq!(kind(json!({"op": "add"})), Some(ScimType::InvalidValue));
        let bare = PatchOp::parse(
            br#"{"Operations": [{"op": "remove", "path": "title"}]}"#,
            ResourceKind::User,
            "me",
        );
        assert_eq!(
            bare.err().and_then(|e| e.scim_type()),
            Some(ScimType::InvalidSyntax)
        );
    }

    #[test]
    fn the_id_may_be_echoed() {
        let patch = parse(
            ResourceKind::Group,
            json!([{"op": "replace", "value": {"id": "me", "displayName": "x"}}]),
        );
        assert_eq!(
            patch.map(|p| paths(&p)).ok(),
            Some(vec!["replace displayName".to_owned()])
        );
    }
}
