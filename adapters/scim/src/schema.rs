//! The attributes of each schema: one table that both the `/Schemas` document and the
//! request checks read, so that what is published is what is enforced.

use serde_json::{json, Map, Value};

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The Enterprise User extension (RFC 7643 §4.3), which Entra ID sends by default.
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The message schema of a PATCH body.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The message schema of a list.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The message schema of a `POST …/.search` body.
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// The schema of `/ServiceProviderConfig`.
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// The schema of each `/ResourceTypes` entry.
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The schema of each `/Schemas` entry.
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrType {
    String,
    Boolean,
    Integer,
    Reference,
    Complex,
}

impl AttrType {
    fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Integer => "integer",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Returned {
    Always,
    Never,
    Default,
}

impl Returned {
    fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Uniqueness {
    None,
    Server,
}

impl Uniqueness {
    fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
        }
    }
}

/// One attribute of a schema, as RFC 7643 §7 describes attributes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttrDef {
    pub(crate) name: &'static str,
    pub(crate) ty: AttrType,
    pub(crate) multi: bool,
    pub(crate) required: bool,
    pub(crate) case_exact: bool,
    pub(crate) mutability: Mutability,
    pub(crate) returned: Returned,
    pub(crate) uniqueness: Uniqueness,
    pub(crate) description: &'static str,
    pub(crate) sub: &'static [AttrDef],
    pub(crate) canonical: &'static [&'static str],
    pub(crate) reference_types: &'static [&'static str],
    /// Kept by this crate and published in `/Schemas`. Attributes of the RFC schema that
    /// are not kept are accepted in requests (IdPs send them) and dropped.
    pub(crate) kept: bool,
}

const fn attr(name: &'static str, ty: AttrType, description: &'static str) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        description,
        sub: &[],
        canonical: &[],
        reference_types: &[],
        kept: true,
    }
}

const fn string(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::String, description)
}

const fn complex(
    name: &'static str,
    description: &'static str,
    sub: &'static [AttrDef],
) -> AttrDef {
    AttrDef {
        sub,
        ..attr(name, AttrType::Complex, description)
    }
}

impl AttrDef {
    const fn multi(self) -> Self {
        AttrDef {
            multi: true,
            ..self
        }
    }
    const fn required(self) -> Self {
        AttrDef {
            required: true,
            ..self
        }
    }
    const fn case_exact(self) -> Self {
        AttrDef {
            case_exact: true,
            ..self
        }
    }
    const fn read_only(self) -> Self {
        AttrDef {
            mutability: Mutability::ReadOnly,
            ..self
        }
    }
    const fn immutable(self) -> Self {
        AttrDef {
            mutability: Mutability::Immutable,
            ..self
        }
    }
    const fn unique(self) -> Self {
        AttrDef {
            uniqueness: Uniqueness::Server,
            ..self
        }
    }
    const fn canonical(self, canonical: &'static [&'static str]) -> Self {
        AttrDef { canonical, ..self }
    }
    const fn references(self, reference_types: &'static [&'static str]) -> Self {
        AttrDef {
            reference_types,
            ..self
        }
    }
    const fn dropped(self) -> Self {
        AttrDef {
            kept: false,
            ..self
        }
    }
    const fn always(self) -> Self {
        AttrDef {
            returned: Returned::Always,
            ..self
        }
    }

    pub(crate) fn is_complex(&self) -> bool {
        self.ty == AttrType::Complex
    }

    /// The sub-attribute `name`, matched case-insensitively.
    pub(crate) fn sub_attribute(&self, name: &str) -> Option<&'static AttrDef> {
        find(self.sub, name)
    }

    /// The attribute's description for `/Schemas` (only what is kept).
    fn to_json(self) -> Value {
        let mut object = Map::new();
        object.insert("name".into(), json!(self.name));
        object.insert("type".into(), json!(self.ty.as_str()));
        object.insert("multiValued".into(), json!(self.multi));
        object.insert("description".into(), json!(self.description));
        object.insert("required".into(), json!(self.required));
        if !self.canonical.is_empty() {
            object.insert("canonicalValues".into(), json!(self.canonical));
        }
        object.insert("caseExact".into(), json!(self.case_exact));
        object.insert("mutability".into(), json!(self.mutability.as_str()));
        object.insert("returned".into(), json!(self.returned.as_str()));
        object.insert("uniqueness".into(), json!(self.uniqueness.as_str()));
        if !self.reference_types.is_empty() {
            object.insert("referenceTypes".into(), json!(self.reference_types));
        }
        if self.is_complex() {
            let sub: Vec<Value> = self
                .sub
                .iter()
                .filter(|a| a.kept)
                .map(|a| a.to_json())
                .collect();
            object.insert("subAttributes".into(), Value::Array(sub));
        }
        Value::Object(object)
    }
}

/// The attribute `name` among `attrs`, matched case-insensitively.
pub(crate) fn find(attrs: &'static [AttrDef], name: &str) -> Option<&'static AttrDef> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

use AttrType::{Boolean, Integer, Reference};

const EMAIL_TYPES: &[&str] = &["work", "home", "other"];

const NAME_SUB: &[AttrDef] = &[
    string("formatted", "The full name, as it is displayed"),
    string(
        "familyName",
        "The family name (last name in most Western languages)",
    ),
    string(
        "givenName",
        "The given name (first name in most Western languages)",
    ),
    string("middleName", "The middle name").dropped(),
    string("honorificPrefix", "The honorific prefix, such as Ms.").dropped(),
    string("honorificSuffix", "The honorific suffix, such as III").dropped(),
];

const EMAIL_SUB: &[AttrDef] = &[
    string("value", "The email address"),
    string("display", "A name for display").dropped(),
    string("type", "What the address is for").canonical(EMAIL_TYPES),
    attr(
        "primary",
        Boolean,
        "Whether this is the person's main address",
    ),
];

/// The sub-attributes of the multi-valued attributes this crate does not keep.
const OTHER_MULTI_SUB: &[AttrDef] = &[
    string("value", "The value"),
    string("display", "A name for display"),
    string("type", "What the value is for"),
    attr("primary", Boolean, "Whether this is the main value"),
];

const ADDRESS_SUB: &[AttrDef] = &[
    string("formatted", "The full address"),
    string("streetAddress", "The street"),
    string("locality", "The city"),
    string("region", "The state or region"),
    string("postalCode", "The postal code"),
    string("country", "The country"),
    string("type", "What the address is for"),
    attr("primary", Boolean, "Whether this is the main address"),
];

const USER_GROUPS_SUB: &[AttrDef] = &[
    string("value", "The group's id").read_only(),
    attr("$ref", Reference, "The group's URI")
        .read_only()
        .references(&["Group"]),
    string("display", "The group's display name").read_only(),
    string("type", "How the person is a member")
        .read_only()
        .canonical(&["direct", "indirect"]),
];

/// The core User attributes (RFC 7643 §4.1), the kept ones first.
pub(crate) const USER_ATTRS: &[AttrDef] = &[
    string(
        "userName",
        "The person's unique name in the org, as the IdP knows them",
    )
    .required()
    .unique(),
    complex("name", "The person's name in parts", NAME_SUB),
    string("displayName", "The name to show for the person"),
    complex("emails", "The person's email addresses", EMAIL_SUB).multi(),
    // Required: the service provider always holds a value (true when a creation does
    // not say), so a PATCH may replace it but not remove it (RFC 7644 §3.5.2).
    attr(
        "active",
        Boolean,
        "Whether the person may sign in; always set, so it is replaced, never removed",
    )
    .required(),
    complex(
        "groups",
        "The groups the person belongs to",
        USER_GROUPS_SUB,
    )
    .multi()
    .read_only(),
    string("nickName", "A casual name").dropped(),
    attr("profileUrl", Reference, "A profile page")
        .references(&["external"])
        .dropped(),
    string("title", "The person's title").dropped(),
    string("userType", "The kind of account").dropped(),
    string("preferredLanguage", "The preferred language").dropped(),
    string("locale", "The locale").dropped(),
    string("timezone", "The time zone").dropped(),
    AttrDef {
        returned: Returned::Never,
        mutability: Mutability::WriteOnly,
        ..string("password", "Never kept").dropped()
    },
    complex("phoneNumbers", "Phone numbers", OTHER_MULTI_SUB)
        .multi()
        .dropped(),
    complex("ims", "Instant messaging addresses", OTHER_MULTI_SUB)
        .multi()
        .dropped(),
    complex("photos", "Photos", OTHER_MULTI_SUB)
        .multi()
        .dropped(),
    complex("addresses", "Postal addresses", ADDRESS_SUB)
        .multi()
        .dropped(),
    complex("entitlements", "Entitlements", OTHER_MULTI_SUB)
        .multi()
        .dropped(),
    complex("roles", "Roles", OTHER_MULTI_SUB).multi().dropped(),
    complex("x509Certificates", "Certificates", OTHER_MULTI_SUB)
        .multi()
        .dropped(),
];

const MANAGER_SUB: &[AttrDef] = &[
    string("value", "The manager's id"),
    attr("$ref", Reference, "The manager's URI").references(&["User"]),
    string("displayName", "The manager's name").read_only(),
];

/// The Enterprise User extension's attributes (RFC 7643 §4.3).
pub(crate) const ENTERPRISE_USER_ATTRS: &[AttrDef] = &[
    string("employeeNumber", "The employee number"),
    string("costCenter", "The cost center"),
    string("organization", "The organization"),
    string("division", "The division"),
    string("department", "The department"),
    complex("manager", "The person's manager", MANAGER_SUB),
];

const MEMBER_SUB: &[AttrDef] = &[
    string("value", "The member's id").immutable(),
    attr("$ref", Reference, "The member's URI")
        .immutable()
        .references(&["User", "Group"]),
    string("type", "The kind of member")
        .immutable()
        .canonical(&["User", "Group"]),
    // Read-only: the store keeps members by id, and a name sent with one is not kept.
    string("display", "The member's name").read_only(),
];

/// The core Group attributes (RFC 7643 §4.2).
pub(crate) const GROUP_ATTRS: &[AttrDef] = &[
    string("displayName", "The group's name").required(),
    complex("members", "The group's members", MEMBER_SUB).multi(),
];

const SUPPORTED: &[AttrDef] = &[
    attr("supported", Boolean, "Whether the feature is supported")
        .required()
        .read_only(),
];

const BULK_SUB: &[AttrDef] = &[
    attr(
        "supported",
        Boolean,
        "Whether bulk operations are supported",
    )
    .required()
    .read_only(),
    attr(
        "maxOperations",
        Integer,
        "The most operations one bulk request may carry",
    )
    .required()
    .read_only(),
    attr(
        "maxPayloadSize",
        Integer,
        "The largest bulk payload, in bytes",
    )
    .required()
    .read_only(),
];

const FILTER_SUB: &[AttrDef] = &[
    attr("supported", Boolean, "Whether filters are supported")
        .required()
        .read_only(),
    attr("maxResults", Integer, "The most resources one list returns")
        .required()
        .read_only(),
];

const AUTHENTICATION_SCHEME_SUB: &[AttrDef] = &[
    string("type", "The kind of scheme")
        .required()
        .read_only()
        .canonical(&[
            "oauth",
            "oauth2",
            "oauthbearertoken",
            "httpbasic",
            "httpdigest",
        ]),
    string("name", "The scheme's name").required().read_only(),
    string("description", "What the scheme is")
        .required()
        .read_only(),
    attr("specUri", Reference, "The scheme's specification")
        .read_only()
        .references(&["external"]),
    attr("documentationUri", Reference, "The scheme's documentation")
        .read_only()
        .references(&["external"]),
];

const SERVICE_PROVIDER_CONFIG_ATTRS: &[AttrDef] = &[
    attr(
        "documentationUri",
        Reference,
        "The service provider's documentation",
    )
    .read_only()
    .references(&["external"]),
    complex("patch", "PATCH support", SUPPORTED)
        .required()
        .read_only(),
    complex("bulk", "Bulk support", BULK_SUB)
        .required()
        .read_only(),
    complex("filter", "Filter support", FILTER_SUB)
        .required()
        .read_only(),
    complex("changePassword", "Password change support", SUPPORTED)
        .required()
        .read_only(),
    complex("sort", "Sort support", SUPPORTED)
        .required()
        .read_only(),
    complex("etag", "ETag support", SUPPORTED)
        .required()
        .read_only(),
    complex(
        "authenticationSchemes",
        "How clients authenticate",
        AUTHENTICATION_SCHEME_SUB,
    )
    .multi()
    .required()
    .read_only(),
];

const SCHEMA_EXTENSION_SUB: &[AttrDef] = &[
    attr("schema", Reference, "The extension's schema URI")
        .required()
        .read_only()
        .case_exact()
        .references(&["uri"]),
    attr("required", Boolean, "Whether the extension is required")
        .required()
        .read_only(),
];

const RESOURCE_TYPE_ATTRS: &[AttrDef] = &[
    string("id", "The resource type's id").read_only(),
    string("name", "The resource type's name")
        .required()
        .read_only(),
    string("description", "What the resource type is").read_only(),
    attr(
        "endpoint",
        Reference,
        "The resource type's endpoint, relative to the base URL",
    )
    .required()
    .read_only()
    .references(&["uri"]),
    attr("schema", Reference, "The resource type's core schema URI")
        .required()
        .read_only()
        .case_exact()
        .references(&["uri"]),
    complex(
        "schemaExtensions",
        "The schema extensions",
        SCHEMA_EXTENSION_SUB,
    )
    .multi()
    .read_only(),
];

const ATTRIBUTE_TYPES: &[&str] = &[
    "string",
    "complex",
    "boolean",
    "decimal",
    "integer",
    "dateTime",
    "reference",
    "binary",
];
const MUTABILITIES: &[&str] = &["readOnly", "readWrite", "immutable", "writeOnly"];
const RETURNED: &[&str] = &["always", "never", "default", "request"];
const UNIQUENESS: &[&str] = &["none", "server", "global"];

const SUB_ATTRIBUTE_SUB: &[AttrDef] = &[
    string("name", "The attribute's name")
        .required()
        .read_only()
        .case_exact(),
    string("type", "The attribute's type")
        .required()
        .read_only()
        .canonical(ATTRIBUTE_TYPES),
    attr(
        "multiValued",
        Boolean,
        "Whether the attribute is multi-valued",
    )
    .required()
    .read_only(),
    string("description", "What the attribute is").read_only(),
    attr("required", Boolean, "Whether the attribute is required").read_only(),
    string("canonicalValues", "The attribute's usual values")
        .multi()
        .read_only(),
    attr(
        "caseExact",
        Boolean,
        "Whether the attribute's values compare by case",
    )
    .read_only(),
    string("mutability", "Whether and how the attribute may change")
        .read_only()
        .canonical(MUTABILITIES),
    string("returned", "When the attribute is returned")
        .read_only()
        .canonical(RETURNED),
    string("uniqueness", "How the attribute's values are unique")
        .read_only()
        .canonical(UNIQUENESS),
    string("referenceTypes", "What a reference may point to")
        .multi()
        .read_only(),
];

const ATTRIBUTE_SUB: &[AttrDef] = &[
    string("name", "The attribute's name")
        .required()
        .read_only()
        .case_exact(),
    string("type", "The attribute's type")
        .required()
        .read_only()
        .canonical(ATTRIBUTE_TYPES),
    attr(
        "multiValued",
        Boolean,
        "Whether the attribute is multi-valued",
    )
    .required()
    .read_only(),
    string("description", "What the attribute is").read_only(),
    attr("required", Boolean, "Whether the attribute is required").read_only(),
    string("canonicalValues", "The attribute's usual values")
        .multi()
        .read_only(),
    attr(
        "caseExact",
        Boolean,
        "Whether the attribute's values compare by case",
    )
    .read_only(),
    string("mutability", "Whether and how the attribute may change")
        .read_only()
        .canonical(MUTABILITIES),
    string("returned", "When the attribute is returned")
        .read_only()
        .canonical(RETURNED),
    string("uniqueness", "How the attribute's values are unique")
        .read_only()
        .canonical(UNIQUENESS),
    string("referenceTypes", "What a reference may point to")
        .multi()
        .read_only(),
    complex(
        "subAttributes",
        "The sub-attributes of a complex attribute",
        SUB_ATTRIBUTE_SUB,
    )
    .multi()
    .read_only(),
];

const SCHEMA_ATTRS: &[AttrDef] = &[
    attr("id", Reference, "The schema's URI")
        .required()
        .read_only()
        .case_exact()
        .always(),
    string("name", "The schema's name").read_only(),
    string("description", "What the schema is").read_only(),
    complex("attributes", "The schema's attributes", ATTRIBUTE_SUB)
        .multi()
        .required()
        .read_only(),
];

/// A schema as published at `/Schemas/{id}`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SchemaDef {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) attrs: &'static [AttrDef],
}

/// Every schema published, resources first, then the discovery schemas.
pub(crate) const SCHEMAS: &[SchemaDef] = &[
    SchemaDef {
        id: USER_SCHEMA,
        name: "User",
        description: "A person in the org",
        attrs: USER_ATTRS,
    },
    SchemaDef {
        id: GROUP_SCHEMA,
        name: "Group",
        description: "A group of people in the org",
        attrs: GROUP_ATTRS,
    },
    SchemaDef {
        id: ENTERPRISE_USER_SCHEMA,
        name: "EnterpriseUser",
        description: "The enterprise attributes of a person",
        attrs: ENTERPRISE_USER_ATTRS,
    },
    SchemaDef {
        id: SERVICE_PROVIDER_CONFIG_SCHEMA,
        name: "ServiceProviderConfig",
        description: "What this service provider supports",
        attrs: SERVICE_PROVIDER_CONFIG_ATTRS,
    },
    SchemaDef {
        id: RESOURCE_TYPE_SCHEMA,
        name: "ResourceType",
        description: "A kind of resource and its endpoint",
        attrs: RESOURCE_TYPE_ATTRS,
    },
    SchemaDef {
        id: SCHEMA_SCHEMA,
        name: "Schema",
        description: "The attributes of a schema",
        attrs: SCHEMA_ATTRS,
    },
];

impl SchemaDef {
    /// The schema as RFC 7643 §7 represents it.
    pub(crate) fn to_json(self, base_url: &str) -> Value {
        let attributes: Vec<Value> = self
            .attrs
            .iter()
            .filter(|a| a.kept)
            .map(|a| a.to_json())
            .collect();
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attributes,
            "meta": {
                "resourceType": "Schema",
                "location": format!("{}/Schemas/{}", base_url.trim_end_matches('/'), self.id),
            },
        })
    }
}

/// The schema `id`, matched case-insensitively (schema URIs are, RFC 7643 §2.1).
pub(crate) fn schema_by_id(id: &str) -> Option<&'static SchemaDef> {
    SCHEMAS.iter().find(|s| s.id.eq_ignore_ascii_case(id))
}

/// The spelling of `name` in the RFC schemas, for attribute names that are known;
/// attribute names are case-insensitive, so `USERNAME` becomes `userName`.
pub(crate) fn canonical_name(name: &str) -> Option<&'static str> {
    const COMMON: &[&str] = &[
        "id",
        "externalId",
        "meta",
        "schemas",
        "resourceType",
        "created",
        "lastModified",
        "location",
        "version",
    ];
    if let Some(common) = COMMON.iter().find(|c| c.eq_ignore_ascii_case(name)) {
        return Some(common);
    }
    for attrs in [USER_ATTRS, ENTERPRISE_USER_ATTRS, GROUP_ATTRS] {
        for def in attrs {
            if def.name.eq_ignore_ascii_case(name) {
                return Some(def.name);
            }
            if let Some(sub) = def.sub_attribute(name) {
                return Some(sub.name);
            }
        }
    }
    None
}

/// Case-insensitive equality of two schema URIs.
pub(crate) fn same_uri(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_canonical() {
        assert_eq!(canonical_name("USERNAME"), Some("userName"));
        assert_eq!(canonical_name("givenname"), Some("givenName"));
        assert_eq!(canonical_name("$REF"), Some("$ref"));
        assert_eq!(canonical_name("employeenumber"), Some("employeeNumber"));
        assert_eq!(canonical_name("nosuch"), None);
    }

    #[test]
    fn only_kept_attributes_are_published() {
        let user = SCHEMAS
            .first()
            .map(|s| s.to_json("https://sp.example/scim/v2/acme"));
        let user = user.unwrap_or_default();
        let names: Vec<&str> = user["attributes"]
            .as_array()
            .map(|a| a.iter().filter_map(|a| a["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            names,
            [
                "userName",
                "name",
                "displayName",
                "emails",
                "active",
                "groups"
            ]
        );
        assert_eq!(
            user["meta"]["location"],
            "https://sp.example/scim/v2/acme/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"
        );
    }
}
