//! The Group resource (RFC 7643 §4.2).

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimType};
use crate::json::{self, items, value_ci, wrong_type};
use crate::limits::Limits;
use crate::meta::{Meta, ResourceKind};
use crate::user::{check_schemas, opt_string, put};

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Member {
    /// The member's id (a user's, or a group's).
    pub value: String,
    /// The member's name, as the IdP sent it.
    pub display: Option<String>,
    /// The member's URL (`$ref`).
    pub reference: Option<String>,
    /// `User` or `Group`.
    pub member_type: Option<String>,
}

impl Member {
    /// A member by id.
    pub fn new(value: &str) -> Self {
        Member {
            value: value.to_owned(),
            display: None,
            reference: None,
            member_type: None,
        }
    }

    /// With a display name.
    pub fn with_display(mut self, display: &str) -> Self {
        self.display = Some(display.to_owned());
        self
    }

    /// Reads a member: an object with a `value`, or a bare id.
    pub(crate) fn from_json(value: &Value) -> Result<Member, ScimError> {
        match value {
            Value::String(id) if !id.trim().is_empty() => Ok(Member::new(id)),
            Value::Object(object) => {
                let id = opt_string(object, "value", "members.value")?
                    .filter(|id| !id.trim().is_empty())
                    .ok_or_else(|| {
                        ScimError::new(
                            ScimType::InvalidValue,
                            "each member needs a `value`: the member's id",
                        )
                    })?;
                Ok(Member {
                    value: id,
                    display: opt_string(object, "display", "members.display")?,
                    reference: opt_string(object, "$ref", "members.$ref")?,
                    member_type: opt_string(object, "type", "members.type")?,
                })
            }
            other => Err(wrong_type(
                "members",
                "a list of objects with a `value`",
                other,
            )),
        }
    }

    /// The member as JSON.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("value".into(), Value::from(self.value.as_str()));
        put(&mut object, "display", &self.display);
        put(&mut object, "$ref", &self.reference);
        put(&mut object, "type", &self.member_type);
        Value::Object(object)
    }
}

/// The members a request names, refused with `tooMany` past `limit`.
pub(crate) fn read_members(value: &Value, limit: usize) -> Result<Vec<Member>, ScimError> {
    let list = items(value);
    if list.len() > limit {
        return Err(too_many_members(list.len(), limit));
    }
    list.into_iter().map(Member::from_json).collect()
}

pub(crate) fn too_many_members(count: usize, limit: usize) -> ScimError {
    ScimError::new(
        ScimType::TooMany,
        format!("the request names {count} members; send at most {limit} per request"),
    )
}

/// A Group resource.
///
/// ```
/// use jit_provisioning_scim::ScimGroup;
/// use serde_json::json;
///
/// let group = ScimGroup::from_json(&json!({
///     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
///     "displayName": "Engineering",
///     "members": [{"value": "u1", "display": "bjensen"}],
/// }))?;
/// assert_eq!(group.members.len(), 1);
/// # Ok::<(), jit_provisioning_scim::ScimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScimGroup {
    /// The store's id for the group (read-only to clients).
    pub id: Option<String>,
    /// The IdP's id for the group.
    pub external_id: Option<String>,
    /// The group's name.
    pub display_name: String,
    /// The members. A store may leave this empty when it answers with `members`
    /// excluded (Entra ID asks with `excludedAttributes=members`).
    pub members: Vec<Member>,
    /// `meta` (read-only to clients).
    pub meta: Option<Meta>,
}

impl ScimGroup {
    /// A group with a name and no members.
    pub fn new(display_name: &str) -> Self {
        ScimGroup {
            id: None,
            external_id: None,
            display_name: display_name.to_owned(),
            members: Vec::new(),
            meta: None,
        }
    }

    /// Reads a Group as a request carries it, within the default [`Limits`].
    pub fn from_json(value: &Value) -> Result<ScimGroup, ScimError> {
        ScimGroup::from_json_with_limits(value, &Limits::default())
    }

    /// Reads a Group as a request carries it: more than `max_members_per_request`
    /// members is `tooMany`.
    pub fn from_json_with_limits(value: &Value, limits: &Limits) -> Result<ScimGroup, ScimError> {
        let Value::Object(object) = value else {
            return Err(ScimError::new(
                ScimType::InvalidSyntax,
                format!("a Group is a JSON object, not {}", json::type_name(value)),
            ));
        };
        check_schemas(object, ResourceKind::Group)?;
        let display_name = opt_string(object, "displayName", "displayName")?
            .filter(|d| !d.trim().is_empty())
            .ok_or_else(|| {
                ScimError::new(
                    ScimType::InvalidValue,
                    "`displayName` is required: the group's name",
                )
            })?;
        let mut group = ScimGroup::new(&display_name);
        group.id = opt_string(object, "id", "id")?;
        group.external_id = opt_string(object, "externalId", "externalId")?;
        if let Some(members) = value_ci(object, "members")? {
            group.members = read_members(members, limits.max_members_per_request)?;
        }
        Ok(group)
    }

    /// The Group as JSON, as a response carries it.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert(
            "schemas".into(),
            Value::Array(vec![Value::from(ResourceKind::Group.schema())]),
        );
        if let Some(id) = &self.id {
            object.insert("id".into(), Value::from(id.as_str()));
        }
        put(&mut object, "externalId", &self.external_id);
        object.insert(
            "displayName".into(),
            Value::from(self.display_name.as_str()),
        );
        object.insert(
            "members".into(),
            self.members.iter().map(Member::to_json).collect(),
        );
        if let Some(meta) = &self.meta {
            object.insert("meta".into(), meta.to_json());
        }
        Value::Object(object)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::GROUP_SCHEMA;

    #[test]
    fn members_are_bounded() {
        let members: Vec<Value> = (0..11).map(|i| json!({"value": format!("u{i}")})).collect();
        let body = json!({"schemas": [GROUP_SCHEMA], "displayName": "g", "members": members});
        let limits = Limits::default().with_max_members_per_request(10);
        let refused = ScimGroup::from_json_with_limits(&body, &limits).err();
        assert_eq!(refused.and_then(|e| e.scim_type()), Some(ScimType::TooMany));
        assert!(ScimGroup::from_json(&body).is_ok());
    }

    #[test]
    fn a_group_needs_a_name_and_real_members() {
        let no_name = json!({"schemas": [GROUP_SCHEMA], "members": []});
        assert_eq!(
            ScimGroup::from_json(&no_name)
                .err()
                .and_then(|e| e.scim_type()),
            Some(ScimType::InvalidValue)
        );
        let bad_member =
            json!({"schemas": [GROUP_SCHEMA], "displayName": "g", "members": [{"display": "x"}]});
        assert_eq!(
            ScimGroup::from_json(&bad_member)
                .err()
                .and_then(|e| e.scim_type()),
            Some(ScimType::InvalidValue)
        );
    }
}
