//! The User resource (RFC 7643 §4.1), with the Enterprise User extension (§4.3).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimType};
use crate::json::{self, items, value_ci, wrong_type};
use crate::limits::MAX_ATTRIBUTE_VALUES;
use crate::meta::{Meta, ResourceKind};
use crate::schema::{same_uri, ENTERPRISE_USER_ATTRS, ENTERPRISE_USER_SCHEMA, USER_SCHEMA};

/// A person's name in parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Name {
    /// The full name as displayed.
    pub formatted: Option<String>,
    /// The family name.
    pub family_name: Option<String>,
    /// The given name.
    pub given_name: Option<String>,
}

impl Name {
    /// A name with a given and a family name.
    pub fn new(given_name: &str, family_name: &str) -> Self {
        Name {
            formatted: None,
            family_name: Some(family_name.to_owned()),
            given_name: Some(given_name.to_owned()),
        }
    }

    fn is_empty(&self) -> bool {
        self.formatted.is_none() && self.family_name.is_none() && self.given_name.is_none()
    }

    fn from_json(value: &Value) -> Result<Option<Name>, ScimError> {
        let object = match value {
            Value::Null => return Ok(None),
            Value::Object(object) => object,
            other => return Err(wrong_type("name", "an object", other)),
        };
        let name = Name {
            formatted: opt_string(object, "formatted", "name.formatted")?,
            family_name: opt_string(object, "familyName", "name.familyName")?,
            given_name: opt_string(object, "givenName", "name.givenName")?,
        };
        Ok((!name.is_empty()).then_some(name))
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        put(&mut object, "formatted", &self.formatted);
        put(&mut object, "familyName", &self.family_name);
        put(&mut object, "givenName", &self.given_name);
        Value::Object(object)
    }
}

/// One of a person's email addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Email {
    /// The address.
    pub value: String,
    /// What it is for: `work`, `home`, `other`.
    pub email_type: Option<String>,
    /// Whether it is the person's main address.
    pub primary: bool,
}

impl Email {
    /// An address with no type, not primary.
    pub fn new(value: &str) -> Self {
        Email {
            value: value.to_owned(),
            email_type: None,
            primary: false,
        }
    }

    /// With a type.
    pub fn with_type(mut self, email_type: &str) -> Self {
        self.email_type = Some(email_type.to_owned());
        self
    }

    /// Marked primary.
    pub fn primary(mut self) -> Self {
        self.primary = true;
        self
    }

    fn from_json(value: &Value) -> Result<Email, ScimError> {
        let Value::Object(object) = value else {
            return Err(wrong_type("emails", "a list of objects", value));
        };
        let address = opt_string(object, "value", "emails.value")?
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                ScimError::new(ScimType::InvalidValue, "each of `emails` needs a `value`")
            })?;
        Ok(Email {
            value: address,
            email_type: opt_string(object, "type", "emails.type")?,
            primary: match value_ci(object, "primary")? {
                Some(primary) => json::boolean(primary, "emails.primary")?.unwrap_or(false),
                None => false,
            },
        })
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("value".into(), Value::from(self.value.as_str()));
        put(&mut object, "type", &self.email_type);
        // Always said, false too: a client that sent `"primary": false` reads it back.
        object.insert("primary".into(), Value::Bool(self.primary));
        Value::Object(object)
    }
}

/// A group the person belongs to, as the store reports it. Read-only: what a request
/// sends in `groups` is ignored, since membership changes through `/Groups`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupRef {
    /// The group's id.
    pub value: String,
    /// The group's display name.
    pub display: Option<String>,
    /// The group's URL (`$ref`).
    pub reference: Option<String>,
    /// `direct` or `indirect`.
    pub membership: Option<String>,
}

impl GroupRef {
    /// A group by id.
    pub fn new(value: &str) -> Self {
        GroupRef {
            value: value.to_owned(),
            display: None,
            reference: None,
            membership: None,
        }
    }

    /// With its display name.
    pub fn with_display(mut self, display: &str) -> Self {
        self.display = Some(display.to_owned());
        self
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("value".into(), Value::from(self.value.as_str()));
        put(&mut object, "display", &self.display);
        put(&mut object, "$ref", &self.reference);
        put(&mut object, "type", &self.membership);
        Value::Object(object)
    }
}

/// A person's manager, in the Enterprise User extension.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Manager {
    /// The manager's id.
    pub value: String,
    /// The manager's URL (`$ref`).
    pub reference: Option<String>,
    /// The manager's name (read-only: set by the store).
    pub display_name: Option<String>,
}

impl Manager {
    /// A manager by id.
    pub fn new(value: &str) -> Self {
        Manager {
            value: value.to_owned(),
            reference: None,
            display_name: None,
        }
    }

    /// Reads `manager` as the IdPs send it: an object (RFC 7643), a bare id (Entra ID's
    /// schema example), a list of one object (Entra ID's PATCH `add manager`), or an
    /// object with OneLogin's `managerId` for `value`. No id means no manager.
    fn from_json(value: &Value) -> Result<Option<Manager>, ScimError> {
        let attribute = "manager";
        match value {
            Value::Null => Ok(None),
            Value::String(id) if id.trim().is_empty() => Ok(None),
            Value::String(id) => Ok(Some(Manager::new(id))),
            Value::Array(list) => match list.as_slice() {
                [] => Ok(None),
                [one] => Manager::from_json(one),
                _ => Err(ScimError::new(
                    ScimType::InvalidValue,
                    "`manager` is one person, not a list",
                )),
            },
            Value::Object(object) => {
                let id = match opt_string(object, "value", "manager.value")? {
                    Some(id) => Some(id),
                    None => opt_string(object, "managerId", "manager.managerId")?,
                };
                let Some(id) = id.filter(|id| !id.trim().is_empty()) else {
                    return Ok(None);
                };
                Ok(Some(Manager {
                    value: id,
                    reference: opt_string(object, "$ref", "manager.$ref")?,
                    display_name: opt_string(object, "displayName", "manager.displayName")?,
                }))
            }
            other => Err(wrong_type(attribute, "an object", other)),
        }
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("value".into(), Value::from(self.value.as_str()));
        put(&mut object, "$ref", &self.reference);
        put(&mut object, "displayName", &self.display_name);
        Value::Object(object)
    }
}

/// The Enterprise User extension (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EnterpriseUser {
    /// The employee number.
    pub employee_number: Option<String>,
    /// The cost center.
    pub cost_center: Option<String>,
    /// The organization.
    pub organization: Option<String>,
    /// The division.
    pub division: Option<String>,
    /// The department.
    pub department: Option<String>,
    /// The manager.
    pub manager: Option<Manager>,
}

impl EnterpriseUser {
    fn is_empty(&self) -> bool {
        *self == EnterpriseUser::default()
    }

    fn read_into(&mut self, object: &Map<String, Value>) -> Result<(), ScimError> {
        let fields: [(&str, &mut Option<String>); 5] = [
            ("employeeNumber", &mut self.employee_number),
            ("costCenter", &mut self.cost_center),
            ("organization", &mut self.organization),
            ("division", &mut self.division),
            ("department", &mut self.department),
        ];
        for (name, field) in fields {
            if let Some(value) = value_ci(object, name)? {
                *field = json::string(value, name)?;
            }
        }
        if let Some(manager) = value_ci(object, "manager")? {
            self.manager = Manager::from_json(manager)?;
        }
        Ok(())
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        put(&mut object, "employeeNumber", &self.employee_number);
        put(&mut object, "costCenter", &self.cost_center);
        put(&mut object, "organization", &self.organization);
        put(&mut object, "division", &self.division);
        put(&mut object, "department", &self.department);
        if let Some(manager) = &self.manager {
            object.insert("manager".into(), manager.to_json());
        }
        Value::Object(object)
    }
}

/// A User resource: what this crate keeps of a person.
///
/// Read from request JSON with [`ScimUser::from_json`], which takes what real IdPs send:
/// attribute names in any case, `null` for "no value", `"True"`/`"False"` for booleans
/// (Entra ID), `emails` as one object (OneLogin's template), the Enterprise User
/// extension, and other extension objects (kept in `extensions`). Attributes of the RFC
/// User schema that this crate does not keep (`nickName`, `phoneNumbers`, …) are
/// dropped, and `password` is never kept.
///
/// ```
/// use jit_provisioning_scim::{ScimUser, ScimType};
/// use serde_json::json;
///
/// let user = ScimUser::from_json(&json!({
///     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
///     "UserName": "bjensen@example.com",
///     "active": "False",
/// }))?;
/// assert_eq!(user.user_name, "bjensen@example.com");
/// assert_eq!(user.active, Some(false));
///
/// let refused = ScimUser::from_json(&json!({
///     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
///     "displayName": "Barbara Jensen",
/// })).unwrap_err();
/// assert_eq!(refused.scim_type(), Some(ScimType::InvalidValue));
/// # Ok::<(), jit_provisioning_scim::ScimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScimUser {
    /// The store's id for the person (read-only to clients).
    pub id: Option<String>,
    /// The IdP's id for the person.
    pub external_id: Option<String>,
    /// The person's unique name in the org.
    pub user_name: String,
    /// The name in parts.
    pub name: Option<Name>,
    /// The name to show.
    pub display_name: Option<String>,
    /// Email addresses; at most one primary.
    pub emails: Vec<Email>,
    /// Whether the person may sign in; `None` when the IdP did not say (RFC 7643 leaves
    /// the default to the service provider).
    pub active: Option<bool>,
    /// The groups the person is in (read-only to clients).
    pub groups: Vec<GroupRef>,
    /// The Enterprise User extension.
    pub enterprise: Option<EnterpriseUser>,
    /// Other extensions, by schema URI, as sent.
    pub extensions: BTreeMap<String, Value>,
    /// `meta` (read-only to clients).
    pub meta: Option<Meta>,
}

impl ScimUser {
    /// A user with only a `userName`.
    pub fn new(user_name: &str) -> Self {
        ScimUser {
            id: None,
            external_id: None,
            user_name: user_name.to_owned(),
            name: None,
            display_name: None,
            emails: Vec::new(),
            active: None,
            groups: Vec::new(),
            enterprise: None,
            extensions: BTreeMap::new(),
            meta: None,
        }
    }

    /// The primary email address, or else the first.
    pub fn primary_email(&self) -> Option<&Email> {
        self.emails
            .iter()
            .find(|e| e.primary)
            .or_else(|| self.emails.first())
    }

    /// Whether the person may sign in: `active`, true when not given.
    pub fn is_active(&self) -> bool {
        self.active.unwrap_or(true)
    }

    /// Reads a User as a request carries it. `id` is kept when given; `groups` and `meta`
    /// are read-only and ignored; `password` is dropped.
    pub fn from_json(value: &Value) -> Result<ScimUser, ScimError> {
        let Value::Object(object) = value else {
            return Err(ScimError::new(
                ScimType::InvalidSyntax,
                format!("a User is a JSON object, not {}", json::type_name(value)),
            ));
        };
        check_schemas(object, ResourceKind::User)?;
        let user_name = match value_ci(object, "userName")? {
            Some(value) => json::string(value, "userName")?,
            None => None,
        };
        let user_name = user_name.filter(|u| !u.trim().is_empty()).ok_or_else(|| {
            ScimError::new(
                ScimType::InvalidValue,
                "`userName` is required: the person's unique name in the org",
            )
        })?;
        let mut user = ScimUser::new(&user_name);
        user.id = opt_string(object, "id", "id")?;
        user.external_id = opt_string(object, "externalId", "externalId")?;
        user.display_name = opt_string(object, "displayName", "displayName")?;
        if let Some(name) = value_ci(object, "name")? {
            user.name = Name::from_json(name)?;
        }
        if let Some(emails) = value_ci(object, "emails")? {
            too_many_values("emails", items(emails).len())?;
            user.emails = items(emails)
                .into_iter()
                .map(Email::from_json)
                .collect::<Result<_, _>>()?;
            if user.emails.iter().filter(|e| e.primary).count() > 1 {
                return Err(ScimError::new(
                    ScimType::InvalidValue,
                    "more than one of `emails` is primary; mark one",
                ));
            }
        }
        if let Some(active) = value_ci(object, "active")? {
            user.active = json::boolean(active, "active")?;
        }
        let mut enterprise = EnterpriseUser::default();
        // Enterprise attributes named without their schema (Entra ID's sample code sends
        // `department` and `manager` at the top): no core attribute shares their names.
        for def in ENTERPRISE_USER_ATTRS {
            if let Some(value) = value_ci(object, def.name)? {
                let mut single = Map::new();
                single.insert(def.name.to_owned(), value.clone());
                enterprise.read_into(&single)?;
            }
        }
        for (key, value) in object {
            let Some(prefix) = key.get(..4) else { continue };
            if !prefix.eq_ignore_ascii_case("urn:") || value.is_null() {
                continue;
            }
            if same_uri(key, ENTERPRISE_USER_SCHEMA) {
                let Value::Object(extension) = value else {
                    return Err(wrong_type(ENTERPRISE_USER_SCHEMA, "an object", value));
                };
                enterprise.read_into(extension)?;
            } else if let Some(attribute) = enterprise_attribute(key) {
                // The pre-2019 Entra ID form: `urn:…:enterprise:2.0:User:department` as a key.
                let mut single = Map::new();
                single.insert(attribute.to_owned(), value.clone());
                enterprise.read_into(&single)?;
            } else if same_uri(key, USER_SCHEMA) {
                // Core attributes qualified by their schema are read above; nothing to keep.
            } else {
                user.extensions.insert(key.clone(), value.clone());
            }
        }
        user.enterprise = (!enterprise.is_empty()).then_some(enterprise);
        Ok(user)
    }

    /// The User as JSON, as a response carries it.
    pub fn to_json(&self) -> Value {
        let mut schemas = vec![Value::from(USER_SCHEMA)];
        let mut object = Map::new();
        if let Some(id) = &self.id {
            object.insert("id".into(), Value::from(id.as_str()));
        }
        put(&mut object, "externalId", &self.external_id);
        object.insert("userName".into(), Value::from(self.user_name.as_str()));
        if let Some(name) = &self.name {
            object.insert("name".into(), name.to_json());
        }
        put(&mut object, "displayName", &self.display_name);
        if !self.emails.is_empty() {
            object.insert(
                "emails".into(),
                self.emails.iter().map(Email::to_json).collect(),
            );
        }
        if let Some(active) = self.active {
            object.insert("active".into(), Value::Bool(active));
        }
        if !self.groups.is_empty() {
            object.insert(
                "groups".into(),
                self.groups.iter().map(GroupRef::to_json).collect(),
            );
        }
        if let Some(enterprise) = &self.enterprise {
            schemas.push(Value::from(ENTERPRISE_USER_SCHEMA));
            object.insert(ENTERPRISE_USER_SCHEMA.into(), enterprise.to_json());
        }
        for (uri, extension) in &self.extensions {
            schemas.push(Value::from(uri.as_str()));
            object.insert(uri.clone(), extension.clone());
        }
        if let Some(meta) = &self.meta {
            object.insert("meta".into(), meta.to_json());
        }
        object.insert("schemas".into(), Value::Array(schemas));
        Value::Object(object)
    }
}

/// Refuses more than [`MAX_ATTRIBUTE_VALUES`] values in one attribute.
pub(crate) fn too_many_values(attribute: &str, count: usize) -> Result<(), ScimError> {
    if count > MAX_ATTRIBUTE_VALUES {
        return Err(ScimError::new(
            ScimType::TooMany,
            format!("`{attribute}` has {count} values; a user has at most {MAX_ATTRIBUTE_VALUES}"),
        ));
    }
    Ok(())
}

/// `urn:…:enterprise:2.0:User:attr` → `attr`.
fn enterprise_attribute(key: &str) -> Option<&str> {
    let n = ENTERPRISE_USER_SCHEMA.len();
    let prefix = key.get(..n)?;
    (same_uri(prefix, ENTERPRISE_USER_SCHEMA) && key.get(n..n + 1) == Some(":"))
        .then(|| key.get(n + 1..))
        .flatten()
        .filter(|a| !a.is_empty())
}

/// Checks `schemas`: present, a list of strings, naming the core schema of `kind`. SCIM
/// 1.x schema URIs are refused with `invalidVers`.
pub(crate) fn check_schemas(
    object: &Map<String, Value>,
    kind: ResourceKind,
) -> Result<(), ScimError> {
    let core = kind.schema();
    let Some(schemas) = value_ci(object, "schemas")? else {
        return Err(ScimError::new(
            ScimType::InvalidSyntax,
            format!(
                "the body has no `schemas`; a {} lists `{core}`",
                kind.name()
            ),
        ));
    };
    let Some(list) = schemas.as_array() else {
        return Err(ScimError::new(
            ScimType::InvalidSyntax,
            format!(
                "`schemas` must be a list of schema URIs, not {}",
                json::type_name(schemas)
            ),
        ));
    };
    let mut uris = Vec::with_capacity(list.len());
    for uri in list {
        let Some(uri) = uri.as_str() else {
            return Err(ScimError::new(
                ScimType::InvalidSyntax,
                "`schemas` must hold only strings",
            ));
        };
        uris.push(uri);
    }
    if uris.iter().any(|u| same_uri(u, core)) {
        return Ok(());
    }
    if uris.iter().any(|u| {
        u.get(..16)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:scim:schemas"))
    }) {
        return Err(ScimError::new(
            ScimType::InvalidVers,
            format!(
                "`schemas` names SCIM 1.x schemas ({}); this endpoint speaks SCIM 2.0: use the IdP's SCIM 2.0 connector",
                uris.join(", ")
            ),
        ));
    }
    Err(ScimError::new(
        ScimType::InvalidSyntax,
        format!(
            "`schemas` must list `{core}` for a {}; it lists [{}]",
            kind.name(),
            uris.join(", ")
        ),
    ))
}

/// A string sub-attribute of `object`.
pub(crate) fn opt_string(
    object: &Map<String, Value>,
    name: &str,
    attribute: &str,
) -> Result<Option<String>, ScimError> {
    match value_ci(object, name)? {
        Some(value) => json::string(value, attribute),
        None => Ok(None),
    }
}

pub(crate) fn put(object: &mut Map<String, Value>, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        object.insert(name.into(), Value::from(value.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn core(extra: Value) -> Value {
        let mut user = json!({"schemas": [USER_SCHEMA], "userName": "bjensen"});
        if let (Some(user), Value::Object(extra)) = (user.as_object_mut(), extra) {
            user.extend(extra);
        }
        user
    }

    fn refusal(value: Value) -> Option<ScimType> {
        ScimUser::from_json(&value)
            .err()
            .and_then(|e| e.scim_type())
    }

    #[test]
    fn reads_what_idps_send() {
        let user = ScimUser::from_json(&core(json!({
            "id": null,
            "EXTERNALID": "00ujl29u0le5T6Aj10h7",
            "name": {"givenName": "Barbara", "familyName": "Jensen", "middleName": ""},
            "emails": {"value": "b@example.com", "type": "work", "primary": "true"},
            "active": "True",
            "password": "t1meMa$heen",
            "groups": [{"value": "g1"}],
            "addresses": null,
            "roles": [],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "m1", "Department": "Sales"},
            "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User": {"tag": "701984"},
        })));
        let user = user.unwrap_or_else(|e| ScimUser::new(&e.to_string()));
        assert_eq!(user.external_id.as_deref(), Some("00ujl29u0le5T6Aj10h7"));
        assert_eq!(user.name, Some(Name::new("Barbara", "Jensen")));
        assert_eq!(
            user.emails,
            vec![Email::new("b@example.com").with_type("work").primary()]
        );
        assert_eq!(user.active, Some(true));
        assert!(user.groups.is_empty(), "groups are read-only");
        let enterprise = user.enterprise.clone().unwrap_or_default();
        assert_eq!(enterprise.manager, Some(Manager::new("m1")));
        assert_eq!(enterprise.department.as_deref(), Some("Sales"));
        assert_eq!(user.extensions.len(), 1);
        assert!(!user.to_json().to_string().contains("t1meMa$heen"));
    }

    #[test]
    fn refuses_bad_users() {
        assert_eq!(
            refusal(json!({"schemas": [USER_SCHEMA]})),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            refusal(json!({"userName": "b"})),
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(
            refusal(json!({"schemas": [GROUP_SCHEMA_FOR_TEST], "userName": "b"})),
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(
            refusal(json!({"schemas": ["urn:scim:schemas:core:1.0"], "userName": "b"})),
            Some(ScimType::InvalidVers)
        );
        assert_eq!(
            refusal(core(json!({"active": "yes"}))),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            refusal(core(json!({"userName": 7}))),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            refusal(core(json!({"emails": [{"type": "work"}]}))),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            refusal(core(
                json!({"emails": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]})
            )),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            refusal(core(json!({"USERNAME": "c"}))),
            Some(ScimType::InvalidSyntax)
        );
    }

    const GROUP_SCHEMA_FOR_TEST: &str = crate::schema::GROUP_SCHEMA;
}
