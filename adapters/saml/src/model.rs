//! What a verified assertion says, read from its signed XML before any mapping.

use serde::Serialize;

/// The `NameID` of an assertion's `Subject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
