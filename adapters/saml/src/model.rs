//! What a verified assertion says, read from its signed XML before any mapping.

use serde::Serialize;

/// The `NameID` of an assertion's `Subject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NameId {
    /// The identifier itself.
    pub value: String,
    /// The `Format` attribute (`urn:oasis:names:tc:SAML:2.0:nameid-format:persistent`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// One `saml:Attribute` of an `AttributeStatement`, as the IdP named it.
///
/// Values keep the IdP's order. An attribute that appears twice under one name is two
/// entries; [`AttributeMapping`](crate::AttributeMapping) reads them together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Attribute {
    /// The `Name` attribute: a claim URI, a `urn:oid:` name or what the admin typed.
    pub name: String,
    /// The `FriendlyName` attribute, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    /// The text of each `AttributeValue`. An empty or `xsi:nil` value is an empty string;
    /// a value holding a nested `NameID` (eduPersonTargetedID) is that NameID's text.
    pub values: Vec<String>,
}

impl NameId {
    /// A NameID with this value and `format`.
    pub fn new(value: impl Into<String>, format: Option<String>) -> Self {
        Self {
            value: value.into(),
            format,
        }
    }
}

impl Attribute {
    /// An attribute named `name` (without a `FriendlyName`) holding `values`.
    pub fn new<I, V>(name: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        Self {
            name: name.into(),
            friendly_name: None,
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// This attribute, with a `FriendlyName`.
    pub fn with_friendly_name(mut self, friendly_name: impl Into<String>) -> Self {
        self.friendly_name = Some(friendly_name.into());
        self
    }
}
