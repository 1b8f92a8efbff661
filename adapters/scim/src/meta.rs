//! What a resource is and where it lives: `meta` (RFC 7643 §3.1).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::percent::encode_segment;
use crate::schema::{GROUP_SCHEMA, USER_SCHEMA};

/// The kinds of resource this service provider serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResourceKind {
    /// A person (`/Users`).
    User,
    /// A group of people (`/Groups`).
    Group,
}

impl ResourceKind {
    /// The resource type's name: `User`, `Group`.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    /// The endpoint, relative to the base URL: `/Users`, `/Groups`.
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "/Users",
            ResourceKind::Group => "/Groups",
        }
    }

    /// The core schema URI.
    pub fn schema(self) -> &'static str {
        match self {
            ResourceKind::User => USER_SCHEMA,
            ResourceKind::Group => GROUP_SCHEMA,
        }
    }
}

/// The URL of a resource: `{base_url}/Users/{id}`, the id percent-encoded. `base_url` is
/// the org's SCIM base, such as `https://app.example/scim/v2/acme`.
///
/// ```
/// use jit_provisioning_scim::{resource_location, ResourceKind};
///
/// assert_eq!(
///     resource_location("https://app.example/scim/v2/acme/", ResourceKind::User, "u 1"),
///     "https://app.example/scim/v2/acme/Users/u%201"
/// );
/// ```
pub fn resource_location(base_url: &str, kind: ResourceKind, id: &str) -> String {
    format!(
        "{}{}/{}",
        base_url.trim_end_matches('/'),
        kind.endpoint(),
        encode_segment(id)
    )
}

/// A resource's `meta`. It is read-only to clients: the store sets it, and what a
/// request sends there is ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Meta {
    /// The resource type.
    pub resource_type: ResourceKind,
    /// When the resource was created.
    pub created: Option<DateTime<Utc>>,
    /// When it last changed.
    pub last_modified: Option<DateTime<Utc>>,
    /// Its URL (see [`resource_location`]); the `Location` header of a 201.
    pub location: Option<String>,
    /// Its version, as an entity tag (`W/"3694e05e9dff591"`); the `ETag` header.
    pub version: Option<String>,
}

impl Meta {
    /// An empty `meta` for a resource of `kind`.
    pub fn new(resource_type: ResourceKind) -> Self {
        Meta {
            resource_type,
            created: None,
            last_modified: None,
            location: None,
            version: None,
        }
    }

    /// With the creation time (and the same last-modified time, if none is set).
    pub fn with_created(mut self, at: DateTime<Utc>) -> Self {
        self.created = Some(at);
        self.last_modified.get_or_insert(at);
        self
    }

    /// With the last-modified time.
    pub fn with_last_modified(mut self, at: DateTime<Utc>) -> Self {
        self.last_modified = Some(at);
        self
    }

    /// With the URL.
    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// With the version. A bare value is made a weak entity tag (`v7` becomes `W/"v7"`).
    pub fn with_version(mut self, version: &str) -> Self {
        self.version = Some(entity_tag(version));
        self
    }

    /// `meta` as JSON.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert(
            "resourceType".into(),
            Value::from(self.resource_type.name()),
        );
        let time =
            |at: &DateTime<Utc>| Value::from(at.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        if let Some(created) = &self.created {
            object.insert("created".into(), time(created));
        }
        if let Some(last_modified) = &self.last_modified {
            object.insert("lastModified".into(), time(last_modified));
        }
        if let Some(location) = &self.location {
            object.insert("location".into(), Value::from(location.as_str()));
        }
        if let Some(version) = &self.version {
            object.insert("version".into(), Value::from(version.as_str()));
        }
        Value::Object(object)
    }
}

/// `version` as an entity tag: kept if it is one already, else made a weak one.
pub(crate) fn entity_tag(version: &str) -> String {
    let quoted = version.len() >= 2 && version.starts_with('"') && version.ends_with('"');
    if quoted || version.starts_with("W/\"") {
        version.to_owned()
    } else {
        format!("W/\"{}\"", version.replace('"', ""))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn renders_times_and_tags() {
        let at = Utc
            .with_ymd_and_hms(2018, 3, 27, 19, 59, 26)
            .single()
            .unwrap_or_default();
        let meta = Meta::new(ResourceKind::User)
            .with_created(at)
            .with_version("v1");
        let json = meta.to_json();
        assert_eq!(json["created"], "2018-03-27T19:59:26Z");
        assert_eq!(json["lastModified"], "2018-03-27T19:59:26Z");
        assert_eq!(json["version"], "W/\"v1\"");
        assert_eq!(entity_tag("W/\"x\""), "W/\"x\"");
        assert_eq!(entity_tag("\"x\""), "\"x\"");
    }
}
