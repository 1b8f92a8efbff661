//! Attribute mapping: from what a verified assertion says (its `NameID` and
//! `Attribute`s) to the person the engine provisions.
//!
//! Every IdP names the same facts differently (`User.FirstName`, `urn:oid:2.5.4.42`,
//! `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname`, …), and most SaaS
//! IdPs let the admin type the names. An [`AttributeMapping`] picks a [`Preset`] of
//! names for each field, [`Preset::Auto`] by default (every preset's names at once), and
//! lets the org override any field's names.
//!
//! How names match: a name is compared with an attribute's `Name` and with its
//! `FriendlyName`, ignoring ASCII case and surrounding whitespace, because IdPs disagree
//! on both (`FirstName`, `firstName`, `firstname`; `urn:oid:` names whose FriendlyName is
//! the familiar one).

mod presets;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::model::{Attribute, NameId};
use presets::Field;
pub use presets::{Preset, UnknownPreset};

/// The `NameID` format that says the NameID is an email address.
const NAME_ID_FORMAT_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/// How an org's assertions map onto a person: which attribute names to read for each
/// field, and where the subject comes from.
///
/// Deserialized from the org's config; every field is optional and the default is
/// [`Preset::Auto`] with no overrides, subject from the `NameID`:
///
/// ```
/// use jit_provisioning_saml::{Attribute, AttributeMapping, NameId, Preset};
///
/// let mapping: AttributeMapping = serde_json::from_str(r#"{
///     "preset": "pingfederate",
///     "email": ["mail", "upn"],
///     "group_separator": ","
/// }"#).unwrap();
/// assert_eq!(mapping.preset, Preset::PingFederate);
///
/// let name_id = NameId::new(
///     "jane@acme.example",
///     Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into()),
/// );
/// let group = Attribute::new("group", ["red,green,blue"]);
/// let person = mapping.map(Some(&name_id), &[group]).unwrap();
/// assert_eq!(person.subject, "jane@acme.example");
/// // No `mail` or `upn` attribute: the email comes from the emailAddress NameID.
/// assert_eq!(person.email.as_deref(), Some("jane@acme.example"));
/// assert_eq!(person.groups, ["red", "green", "blue"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AttributeMapping {
    /// The IdP product whose attribute names to read.
    #[serde(default)]
    pub preset: Preset,
    /// Attribute names for the given name, tried in order; replaces the preset's list.
    /// An empty list reads no attribute for the field (as for every override below); the
    /// given and family names may still be derived from the display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<Vec<String>>,
    /// Attribute names for the family name, tried in order; replaces the preset's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<Vec<String>>,
    /// Attribute names for the email, tried in order; replaces the preset's list. The
    /// `NameID` is still the fallback when none of them has a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Vec<String>>,
    /// Attribute names for the full name, tried in order; replaces the preset's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Vec<String>>,
    /// Attribute names whose values are the person's groups; replaces the preset's list.
    /// Every matching attribute counts, not only the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// Where the subject (the stable id the account is linked by) comes from.
    #[serde(default)]
    pub subject: SubjectSource,
    /// Splits each group value at this character, for IdPs that send every group in one
    /// value (PingFederate sends `red,green,blue`). Off by default for every preset:
    /// group names such as LDAP DNs (`CN=Staff,OU=Groups,DC=acme`) contain commas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_separator: Option<char>,
}

/// Where the subject comes from.
///
/// In configs: `"name_id"` (the default) or `{ "attribute": "<name>" }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectSource {
    /// The assertion's `NameID`.
    #[default]
    NameId,
    /// The first non-empty value of the attribute with this `Name` or `FriendlyName`,
    /// for IdPs whose NameID is transient or reassignable (an `objectidentifier` claim, a
    /// `PersonImmutableID`, a SAML `subject-id`).
    Attribute(String),
}

/// The person an assertion speaks for, as mapped; what
/// [`Assertion`](jit_provisioning::Assertion) needs besides the org, issuer, instant and
/// return path that the caller knows.
///
/// Every value is trimmed and non-empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MappedPerson {
    /// The stable id of the person at the IdP.
    pub subject: String,
    /// Given name, from its attribute or derived from the display name (see
    /// [`AttributeMapping::map`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name, from its attribute or derived from the display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Email, from its attribute or from the `NameID`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Full name, as the IdP sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Group names (or ids, for Entra ID), in the order the IdP sent them, each once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The assertion carries [`GROUPS_OVERAGE_CLAIM`]: the person is in more groups than
    /// the IdP sends, and `groups` holds only part of them, if any.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub groups_incomplete: bool,
}

/// The claim Entra ID sends instead of the groups when a person is in more than 150 (a
/// Graph API link to read them from). Whatever the preset, an assertion carrying it has
/// its groups flagged as incomplete.
pub const GROUPS_OVERAGE_CLAIM: &str = "http://schemas.microsoft.com/claims/groups.link";

/// Why an assertion could not be mapped: it has no usable subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// The subject comes from the `NameID`, and the assertion has none or an empty one.
    #[error(
        "the assertion has no NameID (or an empty one), and the subject comes from the NameID"
    )]
    NoNameId,
    /// The subject comes from an attribute that the assertion lacks or leaves empty.
    #[error("the assertion has no `{name}` attribute with a value, and the subject comes from it")]
    NoSubjectAttribute {
        /// The configured attribute name.
        name: String,
    },
}

impl AttributeMapping {
    /// Maps an assertion's `NameID` and attributes onto the person.
    ///
    /// - Single-valued fields take the first non-empty (trimmed) value of the first name
    ///   in their list that has one: names in list order, then attributes and their
    ///   values in document order.
    /// - A display name that looks like an email address is skipped: Entra ID's
    ///   `claims/name` holds the UPN, not a name.
    /// - The email falls back to the `NameID` when no email attribute has a value and the
    ///   NameID has the `emailAddress` format or looks like an address.
    /// - Groups are every value of every matching attribute (an attribute repeated under
    ///   one name adds its values too), split at [`group_separator`](Self::group_separator) if
    ///   set, trimmed, empty ones dropped, each kept once in first-seen order.
    /// - When the given or family name is missing and there is a display name (or `cn`,
    ///   which presets read as one), the missing one is taken from it: next to the known
    ///   name when the display name ends or starts with it at a word boundary
    ///   (`Andreas Åkre Solberg` with family name `Solberg` gives `Andreas Åkre`), else
    ///   split at the last space, given name first. With neither known, the display name
    ///   splits at its last space; a single word is taken as the given name, never as the
    ///   family name. Names written family name first without the known one to anchor on
    ///   (`山田 太郎` alone) come out the wrong way round: override the fields for such an
    ///   IdP.
    ///
    /// Fails only when the subject is missing; every other field may be empty.
    pub fn map(
        &self,
        name_id: Option<&NameId>,
        attributes: &[Attribute],
    ) -> Result<MappedPerson, MappingError> {
        let subject = self.subject(name_id, attributes)?;
        let given_name = first_value(attributes, &self.names(Field::GivenName), |_| true);
        let family_name = first_value(attributes, &self.names(Field::FamilyName), |_| true);
        let display_name = first_value(attributes, &self.names(Field::DisplayName), |value| {
            !looks_like_address(value)
        });
        let email = first_value(attributes, &self.names(Field::Email), |_| true)
            .or_else(|| email_from_name_id(name_id));
        let (given_name, family_name) =
            fill_names_from_display(given_name, family_name, display_name.as_deref());
        Ok(MappedPerson {
            subject,
            given_name,
            family_name,
            email,
            display_name,
            groups: self.groups(attributes),
            groups_incomplete: attributes
                .iter()
                .any(|attribute| is_named(attribute, GROUPS_OVERAGE_CLAIM)),
        })
    }

    /// The attribute names to read for `field`: the override if set, else the preset's.
    fn names(&self, field: Field) -> Vec<&str> {
        let chosen = match field {
            Field::GivenName => &self.given_name,
            Field::FamilyName => &self.family_name,
            Field::Email => &self.email,
            Field::DisplayName => &self.display_name,
            Field::Groups => &self.groups,
        };
        match chosen {
            Some(names) => names.iter().map(String::as_str).collect(),
            None => self.preset.names(field),
        }
    }

    fn subject(
        &self,
        name_id: Option<&NameId>,
        attributes: &[Attribute],
    ) -> Result<String, MappingError> {
        match &self.subject {
            SubjectSource::NameId => name_id
                .map(|name_id| name_id.value.trim())
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
                .ok_or(MappingError::NoNameId),
            SubjectSource::Attribute(name) => first_value(attributes, &[name.as_str()], |_| true)
                .ok_or_else(|| MappingError::NoSubjectAttribute { name: name.clone() }),
        }
    }

    fn groups<'a>(&self, attributes: &'a [Attribute]) -> Vec<String> {
        let names = self.names(Field::Groups);
        // Borrowed from the attributes: a value is copied only once it is kept.
        let mut seen: HashSet<&'a str> = HashSet::new();
        let mut groups = Vec::new();
        let mut keep = |group: &'a str| {
            let group = group.trim();
            if !group.is_empty() && seen.insert(group) {
                groups.push(group.to_owned());
            }
        };
        let values = attributes
            .iter()
            .filter(|attribute| names.iter().any(|name| is_named(attribute, name)))
            .flat_map(|attribute| &attribute.values);
        for value in values {
            match self.group_separator {
                Some(separator) => value.split(separator).for_each(&mut keep),
                None => keep(value),
            }
        }
        groups
    }
}

/// Whether the attribute's `Name` or `FriendlyName` is `name`, ignoring ASCII case and
/// surrounding whitespace. An empty name (a blank override) matches nothing.
fn is_named(attribute: &Attribute, name: &str) -> bool {
    let name = name.trim();
    !name.is_empty()
        && (attribute.name.trim().eq_ignore_ascii_case(name)
            || attribute
                .friendly_name
                .as_deref()
                .is_some_and(|friendly| friendly.trim().eq_ignore_ascii_case(name)))
}

/// The first non-empty trimmed value that `acceptable` allows, trying `names` in order.
fn first_value(
    attributes: &[Attribute],
    names: &[&str],
    acceptable: impl Fn(&str) -> bool,
) -> Option<String> {
    names
        .iter()
        .find_map(|name| {
            attributes
                .iter()
                .filter(|attribute| is_named(attribute, name))
                .flat_map(|attribute| &attribute.values)
                .map(|value| value.trim())
                .find(|value| !value.is_empty() && acceptable(value))
        })
        .map(str::to_owned)
}

/// Whether the value is shaped like an email address (or a UPN): the engine's own test.
fn looks_like_address(value: &str) -> bool {
    jit_provisioning::usable_email(Some(value)).is_some()
}

/// The NameID as an email, when its format says it is one or it looks like one.
fn email_from_name_id(name_id: Option<&NameId>) -> Option<String> {
    let name_id = name_id?;
    let value = name_id.value.trim();
    let email_format = name_id
        .format
        .as_deref()
        .is_some_and(|format| format.trim().eq_ignore_ascii_case(NAME_ID_FORMAT_EMAIL));
    (!value.is_empty() && (email_format || looks_like_address(value))).then(|| value.to_owned())
}

/// Fills in a missing given or family name from the (trimmed) display name; see
/// [`AttributeMapping::map`] for the rules.
fn fill_names_from_display(
    given_name: Option<String>,
    family_name: Option<String>,
    display_name: Option<&str>,
) -> (Option<String>, Option<String>) {
    let Some(display) = display_name else {
        return (given_name, family_name);
    };
    match (given_name, family_name) {
        (None, None) => match display.rsplit_once(char::is_whitespace) {
            Some((given, family)) => (non_empty(given), non_empty(family)),
            None => (non_empty(display), None),
        },
        (None, Some(family)) => {
            let given = before_word(display, &family)
                .or_else(|| after_word(display, &family))
                .or_else(|| {
                    display
                        .rsplit_once(char::is_whitespace)
                        .map(|(given, _)| given)
                })
                .or_else(|| (display != family).then_some(display));
            (given.and_then(non_empty), Some(family))
        }
        (Some(given), None) => {
            let family = after_word(display, &given)
                .or_else(|| before_word(display, &given))
                .or_else(|| {
                    display
                        .rsplit_once(char::is_whitespace)
                        .map(|(_, family)| family)
                })
                .filter(|family| family.trim() != given);
            (Some(given), family.and_then(non_empty))
        }
        both => both,
    }
}

/// What precedes `word` when `text` ends with it as a whole word.
fn before_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    text.strip_suffix(word)
        .filter(|rest| rest.ends_with(char::is_whitespace))
}

/// What follows `word` when `text` starts with it as a whole word.
fn after_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    text.strip_prefix(word)
        .filter(|rest| rest.starts_with(char::is_whitespace))
}

/// The text trimmed, if anything is left.
fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL_FORMAT: &str = NAME_ID_FORMAT_EMAIL;
    const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
    const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
    const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

    fn attr(name: &str, values: &[&str]) -> Attribute {
        Attribute {
            name: name.to_owned(),
            friendly_name: None,
            values: values.iter().map(|value| (*value).to_owned()).collect(),
        }
    }

    fn oid(name: &str, friendly: &str, values: &[&str]) -> Attribute {
        Attribute {
            friendly_name: Some(friendly.to_owned()),
            ..attr(name, values)
        }
    }

    fn name_id(value: &str, format: &str) -> NameId {
        NameId {
            value: value.to_owned(),
            format: Some(format.to_owned()),
        }
    }

    fn preset(preset: Preset) -> AttributeMapping {
        AttributeMapping {
            preset,
            ..AttributeMapping::default()
        }
    }

    fn person(subject: &str) -> MappedPerson {
        MappedPerson {
            groups_incomplete: false,
            subject: subject.to_owned(),
            given_name: None,
            family_name: None,
            email: None,
            display_name: None,
            groups: Vec::new(),
        }
    }

    fn some(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    fn strings(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|text| (*text).to_owned()).collect()
    }

    /// One IdP's response as the XML reader hands it over, and the person it must map to.
    struct Case {
        preset: Preset,
        name_id: Option<NameId>,
        attributes: Vec<Attribute>,
        group_separator: Option<char>,
        expected: MappedPerson,
    }

    impl Case {
        fn mapping(&self, preset: Preset) -> AttributeMapping {
            AttributeMapping {
                preset,
                group_separator: self.group_separator,
                ..AttributeMapping::default()
            }
        }
    }

    const CLAIMS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";

    fn claim(short: &str, values: &[&str]) -> Attribute {
        attr(&format!("{CLAIMS}/{short}"), values)
    }

    /// A realistic response from each IdP with a preset, shaped after the real responses
    /// in the shared SAML corpus and each vendor's defaults.
    fn cases() -> Vec<Case> {
        vec![
            // Okta: admin-typed names in Okta's capitalisation, a group attribute
            // statement with several values, an email NameID in the unspecified format.
            Case {
                preset: Preset::Okta,
                name_id: Some(name_id("jane.doe@acme.example", UNSPECIFIED)),
                attributes: vec![
                    attr("FirstName", &["Jane"]),
                    attr("LastName", &["Doe"]),
                    attr("Email", &["jane.doe@acme.example"]),
                    attr("groups", &["Everyone", "Engineering"]),
                ],
                group_separator: None,
                expected: MappedPerson {
                    given_name: some("Jane"),
                    family_name: some("Doe"),
                    email: some("jane.doe@acme.example"),
                    groups: strings(&["Everyone", "Engineering"]),
                    ..person("jane.doe@acme.example")
                },
            },
            // Entra ID: claim URIs, a Japanese display name, `claims/name` holding the
            // UPN, group object ids, tenant and object ids beside.
            Case {
                preset: Preset::EntraId,
                name_id: Some(name_id("myuser@netsaml2.example", EMAIL_FORMAT)),
                attributes: vec![
                    attr(
                        "http://schemas.microsoft.com/identity/claims/tenantid",
                        &["5f2a3c4e-0000-4000-8000-000000000001"],
                    ),
                    attr(
                        "http://schemas.microsoft.com/identity/claims/objectidentifier",
                        &["0b0e5b6a-0000-4000-8000-000000000002"],
                    ),
                    claim("name", &["myuser@netsaml2.example"]),
                    claim("givenname", &["Net"]),
                    claim("surname", &["SAML2"]),
                    claim("emailaddress", &["net.saml2@mail.example"]),
                    attr(
                        "http://schemas.microsoft.com/identity/claims/displayname",
                        &["ネット サムル"],
                    ),
                    attr(
                        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
                        &[
                            "a7b3c1d2-0000-4000-8000-000000000010",
                            "a7b3c1d2-0000-4000-8000-000000000011",
                        ],
                    ),
                ],
                group_separator: None,
                expected: MappedPerson {
                    given_name: some("Net"),
                    family_name: some("SAML2"),
                    email: some("net.saml2@mail.example"),
                    display_name: some("ネット サムル"),
                    groups: strings(&[
                        "a7b3c1d2-0000-4000-8000-000000000010",
                        "a7b3c1d2-0000-4000-8000-000000000011",
                    ]),
                    ..person("myuser@netsaml2.example")
                },
            },
            // Google Workspace: `user.`-prefixed names, group membership mapping sent
            // with no value at all.
            Case {
                preset: Preset::Google,
                name_id: Some(name_id("sam@acme.example", EMAIL_FORMAT)),
                attributes: vec![
                    attr("user.id", &["1234567890"]),
                    attr("user.firstName", &["Sam"]),
                    attr("user.lastName", &["Rivera"]),
                    attr("user.email", &["sam@acme.example"]),
                    attr("member-of", &[]),
                ],
                group_separator: None,
                expected: MappedPerson {
                    given_name: some("Sam"),
                    family_name: some("Rivera"),
                    email: some("sam@acme.example"),
                    ..person("sam@acme.example")
                },
            },
            // OneLogin: the connector's default parameters; `memberOf` and
            // `PersonImmutableID` present with one empty value.
            Case {
                preset: Preset::OneLogin,
                name_id: Some(name_id("ross@kndr.example", EMAIL_FORMAT)),
                attributes: vec![
                    attr("User.email", &["ross@kndr.example"]),
                    attr("memberOf", &[""]),
                    attr("User.LastName", &["Kinder"]),
                    attr("PersonImmutableID", &[""]),
                    attr("User.FirstName", &["Ross"]),
                ],
                group_separator: None,
                expected: MappedPerson {
                    given_name: some("Ross"),
                    family_name: some("Kinder"),
                    email: some("ross@kndr.example"),
                    ..person("ross@kndr.example")
                },
            },
            // ADFS: claim URIs, a mojibake given name kept as the parser decoded it,
            // `claims/name` with the full name, two groups, account names beside.
            Case {
                preset: Preset::Adfs,
                name_id: Some(name_id("gb.ruiker@mintlab.example", EMAIL_FORMAT)),
                attributes: vec![
                    claim("givenname", &["GÃ©"]),
                    claim("surname", &["Ruiker"]),
                    claim("emailaddress", &["g.ruiker@mintlab.example"]),
                    claim("name", &["GÃ© G.B.. Ruiker"]),
                    claim("upn", &["gruiker@ad.mintlab.example"]),
                    attr(
                        "http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname",
                        &["MINTLAB\\gruiker"],
                    ),
                    attr(
                        "http://schemas.xmlsoap.org/claims/Group",
                        &["Domain Users", "Zaaksysteemgebruikers"],
                    ),
                ],
                group_separator: None,
                expected: MappedPerson {
                    given_name: some("GÃ©"),
                    family_name: some("Ruiker"),
                    email: some("g.ruiker@mintlab.example"),
                    display_name: some("GÃ© G.B.. Ruiker"),
                    groups: strings(&["Domain Users", "Zaaksysteemgebruikers"]),
                    ..person("gb.ruiker@mintlab.example")
                },
            },
            // Keycloak: the X500 mappers' urn:oid names, the role list mapper's one
            // `Role` attribute per role, a CJK username as NameID.
            Case {
                preset: Preset::Keycloak,
                name_id: Some(name_id("山田太郎", UNSPECIFIED)),
                attributes: vec![
                    oid("urn:oid:2.5.4.42", "givenName", &["太郎"]),
                    oid("urn:oid:2.5.4.4", "surname", &["山田"]),
                    oid(
                        "urn:oid:1.2.840.113549.1.9.1",
                        "email",
                        &["taro@acme.example"],
                    ),
                    attr("Role", &["offline_access"]),
                    attr("Role", &["uma_authorization"]),
                    attr("Role", &["manage-account"]),
                ],
                group_separator: None,
                expected: MappedPerson {
                    given_name: some("太郎"),
                    family_name: some("山田"),
                    email: some("taro@acme.example"),
                    groups: strings(&["offline_access", "uma_authorization", "manage-account"]),
                    ..person("山田太郎")
                },
            },
            // Shibboleth (TestShib): multi-word given and family names, `cn`, an
            // entitlement and an isMemberOf group, a transient NameID.
            Case {
                preset: Preset::Shibboleth,
                name_id: Some(name_id("_41bd295976dadd70e1480f318e772841", TRANSIENT)),
                attributes: vec![
                    oid("urn:oid:0.9.2342.19200300.100.1.1", "uid", &["myself"]),
                    oid(
                        "urn:oid:1.3.6.1.4.1.5923.1.1.1.7",
                        "eduPersonEntitlement",
                        &["urn:mace:dir:entitlement:common-lib-terms"],
                    ),
                    oid("urn:oid:2.5.4.3", "cn", &["Me Myself And I"]),
                    oid("urn:oid:2.5.4.42", "givenName", &["Me Myself"]),
                    oid("urn:oid:2.5.4.4", "sn", &["And I"]),
                    oid(
                        "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
                        "isMemberOf",
                        &["testshib:staff"],
                    ),
                ],
                group_separator: None,
                expected: MappedPerson {
                    given_name: some("Me Myself"),
                    family_name: some("And I"),
                    display_name: some("Me Myself And I"),
                    groups: strings(&[
                        "urn:mace:dir:entitlement:common-lib-terms",
                        "testshib:staff",
                    ]),
                    ..person("_41bd295976dadd70e1480f318e772841")
                },
            },
            // Auth0: the SAML2 addon's default mappings, a social-login NameID.
            Case {
                preset: Preset::Auth0,
                name_id: Some(name_id("google-oauth2|103547991597142817347", UNSPECIFIED)),
                attributes: vec![
                    claim("nameidentifier", &["google-oauth2|103547991597142817347"]),
                    claim("emailaddress", &["russell@scaleft.example"]),
                    claim("name", &["Russell Haering"]),
                    claim("givenname", &["Russell"]),
                    claim("surname", &["Haering"]),
                    claim("upn", &["russell@scaleft.example"]),
                    attr("http://schemas.xmlsoap.org/claims/Group", &["admins"]),
                    attr("http://schemas.auth0.com/email_verified", &["true"]),
                ],
                group_separator: None,
                expected: MappedPerson {
                    given_name: some("Russell"),
                    family_name: some("Haering"),
                    email: some("russell@scaleft.example"),
                    display_name: some("Russell Haering"),
                    groups: strings(&["admins"]),
                    ..person("google-oauth2|103547991597142817347")
                },
            },
            // PingFederate: lower-case names and every group in one comma-joined value.
            Case {
                preset: Preset::PingFederate,
                name_id: Some(name_id("first.last@test.nope", EMAIL_FORMAT)),
                attributes: vec![
                    attr("firstname", &["First"]),
                    attr("lastname", &["Last"]),
                    attr("group", &["red,green,blue"]),
                ],
                group_separator: Some(','),
                expected: MappedPerson {
                    given_name: some("First"),
                    family_name: some("Last"),
                    email: some("first.last@test.nope"),
                    groups: strings(&["red", "green", "blue"]),
                    ..person("first.last@test.nope")
                },
            },
            // JumpCloud: its user attribute names and the `memberOf` group attribute.
            Case {
                preset: Preset::JumpCloud,
                name_id: Some(name_id("alex", UNSPECIFIED)),
                attributes: vec![
                    attr("firstname", &["Alex"]),
                    attr("lastname", &["Morgan"]),
                    attr("email", &["alex@acme.example"]),
                    attr("memberOf", &["All Users", "Developers"]),
                ],
                group_separator: None,
                expected: MappedPerson {
                    given_name: some("Alex"),
                    family_name: some("Morgan"),
                    email: some("alex@acme.example"),
                    groups: strings(&["All Users", "Developers"]),
                    ..person("alex")
                },
            },
            // SimpleSAMLphp (Feide OpenIdP): lower-case eduPerson names, `cn` and `sn`
            // but no given name, which comes from `cn`.
            Case {
                preset: Preset::SimpleSamlPhp,
                name_id: Some(name_id("_6c3a4f8b6c4b0d1a2f", TRANSIENT)),
                attributes: vec![
                    attr("uid", &["andreas"]),
                    attr("edupersonaffiliation", &["employee", "member"]),
                    attr("sn", &["Solberg"]),
                    attr("cn", &["Andreas Åkre Solberg"]),
                    attr("mail", &["andreas@uninett.example"]),
                    attr("eduPersonPrincipalName", &["andreas@rnd.feide.example"]),
                ],
                group_separator: None,
                expected: MappedPerson {
                    given_name: some("Andreas Åkre"),
                    family_name: some("Solberg"),
                    email: some("andreas@uninett.example"),
                    display_name: some("Andreas Åkre Solberg"),
                    groups: strings(&["employee", "member"]),
                    ..person("_6c3a4f8b6c4b0d1a2f")
                },
            },
        ]
    }

    #[test]
    fn every_preset_but_auto_has_a_case() {
        let covered: Vec<Preset> = cases().iter().map(|case| case.preset).collect();
        for preset in Preset::ALL.iter().filter(|preset| **preset != Preset::Auto) {
            assert!(covered.contains(preset), "no case for {preset}");
        }
    }

    #[test]
    fn each_preset_maps_its_idp() {
        for case in cases() {
            let mapped = case
                .mapping(case.preset)
                .map(case.name_id.as_ref(), &case.attributes);
            assert_eq!(mapped, Ok(case.expected), "{}", case.preset);
        }
    }

    #[test]
    fn auto_maps_every_idp_alike() {
        for case in cases() {
            let mapped = case
                .mapping(Preset::Auto)
                .map(case.name_id.as_ref(), &case.attributes);
            assert_eq!(mapped, Ok(case.expected), "auto on {}", case.preset);
        }
    }

    #[test]
    fn auto_reads_every_name_of_every_preset() {
        let fields = [
            Field::GivenName,
            Field::FamilyName,
            Field::Email,
            Field::DisplayName,
            Field::Groups,
        ];
        for field in fields {
            let auto = Preset::Auto.names(field);
            for preset in Preset::ALL {
                for name in preset.names(field) {
                    assert!(
                        auto.iter().any(|known| known.eq_ignore_ascii_case(name)),
                        "auto misses {preset}'s {field:?} name {name}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_preset_reads_only_its_own_names() {
        let onelogin = [
            attr("User.FirstName", &["Ross"]),
            attr("User.LastName", &["Kinder"]),
            attr("User.email", &["ross@kndr.example"]),
            attr("memberOf", &["staff"]),
        ];
        let entra = preset(Preset::EntraId)
            .map(Some(&name_id("00u1", PERSISTENT)), &onelogin)
            .unwrap();
        assert_eq!(entra, person("00u1"));

        let claims = [claim("givenname", &["Net"]), claim("surname", &["SAML2"])];
        let onelogin = preset(Preset::OneLogin)
            .map(Some(&name_id("00u1", PERSISTENT)), &claims)
            .unwrap();
        assert_eq!(onelogin, person("00u1"));
    }

    #[test]
    fn entra_id_does_not_read_the_upn_claim_as_a_name() {
        // Without a displayname claim Entra's `claims/name` is all there is, and it is
        // the UPN: no display name, and no names derived from it.
        let attributes = [claim("name", &["myuser@netsaml2.example"])];
        for preset in [Preset::EntraId, Preset::Auto] {
            let person = self::preset(preset)
                .map(Some(&name_id("x", PERSISTENT)), &attributes)
                .unwrap();
            assert_eq!(person.display_name, None, "{preset}");
            assert_eq!(person.given_name, None, "{preset}");
        }
    }

    #[test]
    fn shibboleth_prefers_display_name_to_cn() {
        let attributes = [
            oid("urn:oid:2.5.4.3", "cn", &["P. Collegeadmin"]),
            oid(
                "urn:oid:2.16.840.1.113730.3.1.241",
                "displayName",
                &["Peter Collegeadmin"],
            ),
        ];
        for preset in [Preset::Shibboleth, Preset::SimpleSamlPhp, Preset::Auto] {
            let person = self::preset(preset)
                .map(Some(&name_id("x", TRANSIENT)), &attributes)
                .unwrap();
            assert_eq!(person.display_name, some("Peter Collegeadmin"), "{preset}");
        }
    }

    #[test]
    fn names_match_friendly_names_and_any_ascii_case() {
        let attributes = [
            attr("FIRSTNAME", &["Jane"]),
            attr(" lastname ", &["Doe"]),
            oid("urn:example:mail", "Email", &["jane@acme.example"]),
        ];
        let person = preset(Preset::Okta)
            .map(Some(&name_id("00u1", PERSISTENT)), &attributes)
            .unwrap();
        assert_eq!(person.given_name, some("Jane"));
        assert_eq!(person.family_name, some("Doe"));
        assert_eq!(person.email, some("jane@acme.example"));
    }

    #[test]
    fn overrides_replace_the_preset_names_and_are_tried_in_order() {
        let attributes = [
            attr("firstName", &["Jane"]),
            attr("lastName", &["Doe"]),
            attr("preferredName", &["  "]),
            attr("nickname", &["JJ"]),
            oid("urn:oid:2.5.4.4", "sn", &["Doe-Smith"]),
            attr("department", &["Sales", "EMEA"]),
            attr("groups", &["Everyone"]),
        ];
        let mapping = AttributeMapping {
            preset: Preset::Okta,
            given_name: Some(strings(&["preferredName", "nickname", "firstName"])),
            family_name: Some(strings(&["sn"])),
            groups: Some(strings(&["department"])),
            ..AttributeMapping::default()
        };
        let person = mapping
            .map(Some(&name_id("00u1", PERSISTENT)), &attributes)
            .unwrap();
        // `preferredName` is blank, so `nickname` is next; `firstName` is not reached.
        assert_eq!(person.given_name, some("JJ"));
        // Matched by FriendlyName; the preset's `lastName` is no longer read.
        assert_eq!(person.family_name, some("Doe-Smith"));
        assert_eq!(person.groups, strings(&["Sales", "EMEA"]));
    }

    #[test]
    fn an_empty_override_reads_nothing() {
        let attributes = [
            attr("email", &["jane@acme.example"]),
            attr("groups", &["a"]),
        ];
        let mapping = AttributeMapping {
            email: Some(Vec::new()),
            groups: Some(strings(&["", "  "])),
            ..AttributeMapping::default()
        };
        let person = mapping
            .map(Some(&name_id("00u1", PERSISTENT)), &attributes)
            .unwrap();
        assert_eq!(person.email, None);
        assert!(person.groups.is_empty());
    }

    #[test]
    fn an_attribute_repeated_under_one_name_is_read_together() {
        // OneLogin (ruby-saml fixture): `role` twice, with a nil and an empty value.
        let attributes = [
            attr("role", &["role1", "role2", ""]),
            attr("uid", &["demo"]),
            attr("role", &["", " role2 ", "role3"]),
        ];
        let person = AttributeMapping::default()
            .map(
                Some(&name_id("demo@onelogin.example", EMAIL_FORMAT)),
                &attributes,
            )
            .unwrap();
        assert_eq!(person.groups, strings(&["role1", "role2", "role3"]));
    }

    #[test]
    fn groups_from_several_names_keep_document_order_and_appear_once() {
        let attributes = [
            attr("memberOf", &["b", "a"]),
            attr("groups", &["a", "c"]),
            attr("Role", &["b", "d"]),
        ];
        let person = AttributeMapping::default()
            .map(Some(&name_id("x", PERSISTENT)), &attributes)
            .unwrap();
        assert_eq!(person.groups, strings(&["b", "a", "c", "d"]));
    }

    #[test]
    fn comma_joined_groups_split_only_with_a_separator() {
        let attributes = [attr("group", &["red,green,blue", " green , ,yellow,"])];
        let whole = preset(Preset::PingFederate)
            .map(Some(&name_id("x", EMAIL_FORMAT)), &attributes)
            .unwrap();
        assert_eq!(
            whole.groups,
            strings(&["red,green,blue", "green , ,yellow,"])
        );

        let split = AttributeMapping {
            preset: Preset::PingFederate,
            group_separator: Some(','),
            ..AttributeMapping::default()
        }
        .map(Some(&name_id("x", EMAIL_FORMAT)), &attributes)
        .unwrap();
        assert_eq!(split.groups, strings(&["red", "green", "blue", "yellow"]));
    }

    #[test]
    fn single_valued_fields_take_the_first_non_empty_value() {
        // eIDAS sends the family name in Latin and in Greek script.
        let attributes = [
            attr("email", &[]),
            attr(
                "email",
                &["", "   ", " first@acme.example ", "second@acme.example"],
            ),
            attr(
                "http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName",
                &["Onasis", "Ωνάσης"],
            ),
        ];
        let person = AttributeMapping::default()
            .map(Some(&name_id("x", PERSISTENT)), &attributes)
            .unwrap();
        assert_eq!(person.email, some("first@acme.example"));
        assert_eq!(person.family_name, some("Onasis"));
    }

    fn derived(attributes: &[Attribute]) -> (Option<String>, Option<String>) {
        let person = AttributeMapping::default()
            .map(Some(&name_id("x", PERSISTENT)), attributes)
            .unwrap();
        (person.given_name, person.family_name)
    }

    #[test]
    fn names_are_derived_from_the_display_name() {
        // Neither known: split at the last space.
        assert_eq!(
            derived(&[attr("displayName", &["Peter  Collegeadmin"])]),
            (some("Peter"), some("Collegeadmin"))
        );
        assert_eq!(
            derived(&[attr("cn", &["Mary Ann de la Cruz"])]),
            (some("Mary Ann de la"), some("Cruz"))
        );
        // A single word is a given name, not a family name.
        assert_eq!(derived(&[attr("cn", &["Sixto3"])]), (some("Sixto3"), None));

        // Family name known and at the end: the rest is the given name.
        assert_eq!(
            derived(&[
                attr("sn", &["de la Cruz"]),
                attr("cn", &["Mary Ann de la Cruz"])
            ]),
            (some("Mary Ann"), some("de la Cruz"))
        );
        // Family name known and first (family-name-first order).
        assert_eq!(
            derived(&[attr("sn", &["山田"]), attr("cn", &["山田 太郎"])]),
            (some("太郎"), some("山田"))
        );
        // Family name known but not in the display name: split at the last space.
        assert_eq!(
            derived(&[attr("sn", &["Martin2"]), attr("cn", &["Sixto Three"])]),
            (some("Sixto"), some("Martin2"))
        );
        // Family name known, display name a single other word: that is the given name.
        assert_eq!(
            derived(&[attr("sn", &["Martin2"]), attr("cn", &["Sixto3"])]),
            (some("Sixto3"), some("Martin2"))
        );
        // Family name known and the display name is only that: no given name.
        assert_eq!(
            derived(&[attr("sn", &["Solberg"]), attr("cn", &["Solberg"])]),
            (None, some("Solberg"))
        );
        // A suffix that is not a whole word does not count.
        assert_eq!(
            derived(&[attr("sn", &["Berg"]), attr("cn", &["Ann Solberg"])]),
            (some("Ann"), some("Berg"))
        );

        // Given name known: the family name follows it, or precedes it, or is the last word.
        assert_eq!(
            derived(&[
                attr("givenName", &["Me Myself"]),
                attr("cn", &["Me Myself And I"])
            ]),
            (some("Me Myself"), some("And I"))
        );
        assert_eq!(
            derived(&[attr("givenName", &["太郎"]), attr("cn", &["山田 太郎"])]),
            (some("太郎"), some("山田"))
        );
        assert_eq!(
            derived(&[attr("givenName", &["Jon"]), attr("cn", &["Jonathan Smith"])]),
            (some("Jon"), some("Smith"))
        );
        // Given name known and the display name is only that, or one other word: no
        // family name.
        assert_eq!(
            derived(&[attr("givenName", &["Cher"]), attr("cn", &["Cher"])]),
            (some("Cher"), None)
        );
        assert_eq!(
            derived(&[attr("givenName", &["Jon"]), attr("cn", &["jonny"])]),
            (some("Jon"), None)
        );

        // Both known: the display name changes nothing.
        assert_eq!(
            derived(&[
                attr("givenName", &["A"]),
                attr("sn", &["B"]),
                attr("cn", &["C D"])
            ]),
            (some("A"), some("B"))
        );
    }

    #[test]
    fn email_falls_back_to_the_name_id() {
        let none: [Attribute; 0] = [];
        let email_of = |name_id: NameId, attributes: &[Attribute]| {
            AttributeMapping::default()
                .map(Some(&name_id), attributes)
                .unwrap()
                .email
        };
        assert_eq!(
            email_of(name_id(" jane@acme.example ", EMAIL_FORMAT), &none),
            some("jane@acme.example")
        );
        // Formats compare without regard to ASCII case.
        assert_eq!(
            email_of(
                name_id(
                    "jane",
                    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailaddress"
                ),
                &none
            ),
            some("jane")
        );
        assert_eq!(
            email_of(name_id("jane@acme.example", PERSISTENT), &none),
            some("jane@acme.example")
        );
        let no_format = NameId {
            value: "jane@acme.example".to_owned(),
            format: None,
        };
        assert_eq!(email_of(no_format, &none), some("jane@acme.example"));
        assert_eq!(email_of(name_id("_a1b2c3", TRANSIENT), &none), None);
        assert_eq!(email_of(name_id("jane doe@acme", UNSPECIFIED), &none), None);
        // The attribute wins over the NameID.
        assert_eq!(
            email_of(
                name_id("jane@acme.example", EMAIL_FORMAT),
                &[attr("mail", &["j.doe@acme.example"])]
            ),
            some("j.doe@acme.example")
        );
        let without_name_id = AttributeMapping {
            subject: SubjectSource::Attribute("uid".to_owned()),
            ..AttributeMapping::default()
        }
        .map(None, &[attr("uid", &["jdoe"])])
        .unwrap();
        assert_eq!(without_name_id.email, None);
    }

    #[test]
    fn the_subject_comes_from_the_name_id_by_default() {
        let mapping = AttributeMapping::default();
        assert_eq!(
            mapping
                .map(Some(&name_id("  00u1\n", PERSISTENT)), &[])
                .unwrap()
                .subject,
            "00u1"
        );
        assert_eq!(mapping.map(None, &[]), Err(MappingError::NoNameId));
        assert_eq!(
            mapping.map(Some(&name_id(" \t ", PERSISTENT)), &[]),
            Err(MappingError::NoNameId)
        );
    }

    #[test]
    fn the_subject_can_come_from_an_attribute() {
        let mapping = AttributeMapping {
            subject: SubjectSource::Attribute("objectidentifier".to_owned()),
            ..AttributeMapping::default()
        };
        let attributes = [
            oid(
                "http://schemas.microsoft.com/identity/claims/objectidentifier",
                "objectidentifier",
                &["", "0b0e5b6a-0000-4000-8000-000000000002"],
            ),
            claim("givenname", &["Net"]),
        ];
        // Found by FriendlyName, and no NameID needed.
        let person = mapping.map(None, &attributes).unwrap();
        assert_eq!(person.subject, "0b0e5b6a-0000-4000-8000-000000000002");
        assert_eq!(person.given_name, some("Net"));

        let error = MappingError::NoSubjectAttribute {
            name: "objectidentifier".to_owned(),
        };
        let missing = Err(error.clone());
        let name_id = name_id("00u1", PERSISTENT);
        assert_eq!(mapping.map(Some(&name_id), &[]), missing);
        assert_eq!(
            mapping.map(Some(&name_id), &[attr("objectidentifier", &["", " "])]),
            missing
        );
        assert_eq!(
            error.to_string(),
            "the assertion has no `objectidentifier` attribute with a value, and the subject comes from it"
        );
    }

    #[test]
    fn preset_names_round_trip() {
        for preset in Preset::ALL {
            assert_eq!(preset.to_string().parse::<Preset>(), Ok(*preset));
            let json = serde_json::to_string(preset).unwrap();
            assert_eq!(json, format!("\"{preset}\""));
            assert_eq!(serde_json::from_str::<Preset>(&json).unwrap(), *preset);
        }
        assert_eq!("azure_ad".parse(), Ok(Preset::EntraId));
        assert_eq!("simple_saml_php".parse(), Ok(Preset::SimpleSamlPhp));
        assert_eq!("google_workspace".parse(), Ok(Preset::Google));
    }

    #[test]
    fn an_unknown_preset_lists_the_valid_names() {
        let error = "Okta".parse::<Preset>().unwrap_err();
        assert_eq!(error.given, "Okta");
        let message = error.to_string();
        for preset in Preset::ALL {
            assert!(message.contains(&format!("`{preset}`")), "{message}");
        }
        let from_config = serde_json::from_str::<AttributeMapping>(r#"{"preset": "okta2"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            from_config.contains("unknown IdP preset `okta2`"),
            "{from_config}"
        );
        assert!(from_config.contains("`simplesamlphp`"), "{from_config}");
    }

    #[test]
    fn mappings_deserialize_from_configs() {
        assert_eq!(
            serde_json::from_str::<AttributeMapping>("{}").unwrap(),
            AttributeMapping::default()
        );
        let mapping: AttributeMapping = serde_json::from_str(
            r#"{
                "preset": "entra_id",
                "given_name": ["nickname"],
                "groups": [],
                "subject": { "attribute": "http://schemas.microsoft.com/identity/claims/objectidentifier" },
                "group_separator": ";"
            }"#,
        )
        .unwrap();
        assert_eq!(
            mapping,
            AttributeMapping {
                preset: Preset::EntraId,
                given_name: Some(strings(&["nickname"])),
                groups: Some(Vec::new()),
                subject: SubjectSource::Attribute(
                    "http://schemas.microsoft.com/identity/claims/objectidentifier".to_owned()
                ),
                group_separator: Some(';'),
                ..AttributeMapping::default()
            }
        );
        let round_trip: AttributeMapping =
            serde_json::from_value(serde_json::to_value(&mapping).unwrap()).unwrap();
        assert_eq!(round_trip, mapping);
        assert_eq!(
            serde_json::from_str::<SubjectSource>(r#""name_id""#).unwrap(),
            SubjectSource::NameId
        );

        for broken in [
            r#"{"preset": "okta", "firstname": ["x"]}"#,
            r#"{"group_separator": ",,"}"#,
            r#"{"subject": "attribute"}"#,
            r#"{"given_name": "firstName"}"#,
        ] {
            assert!(
                serde_json::from_str::<AttributeMapping>(broken).is_err(),
                "{broken}"
            );
        }
    }

    #[test]
    fn hostile_input_maps_without_panicking() {
        let huge = "x".repeat(1 << 20);
        let many_groups: Vec<String> = (0..20_000).map(|n| format!("g{}", n % 5_000)).collect();
        let mut attributes: Vec<Attribute> = (0..5_000)
            .map(|n| attr(&format!("noise{n}"), &["v"]))
            .collect();
        attributes.extend([
            Attribute {
                name: String::new(),
                friendly_name: Some(String::new()),
                values: vec![String::new()],
            },
            attr("givenName", &[&huge]),
            attr("\u{0}", &["\u{0}"]),
            attr("cn", &["\u{200F}\u{202E}ﷺ\u{3000}e\u{301}\u{301}\u{301}"]),
            attr("sn", &["\u{3000}\u{2028}\u{85}"]),
            Attribute {
                name: "groups".to_owned(),
                friendly_name: None,
                values: many_groups,
            },
            attr("memberOf", &[",,,", "\u{FFFF},\u{10FFFF}", "🏳️‍🌈,🏳️‍🌈"]),
        ]);
        for separator in [None, Some(','), Some('\u{0}'), Some('🏳')] {
            let mapping = AttributeMapping {
                group_separator: separator,
                ..AttributeMapping::default()
            };
            let person = mapping
                .map(Some(&name_id(&huge, PERSISTENT)), &attributes)
                .unwrap();
            assert_eq!(person.given_name.as_deref(), Some(huge.as_str()));
            // All-whitespace values count as empty, in every script: `sn` is skipped and
            // the family name is `cn`'s last word, after the ideographic space.
            assert_eq!(person.family_name, some("e\u{301}\u{301}\u{301}"));
            assert!(person.groups.len() >= 5_000);
            assert!(person.groups.iter().all(|group| !group.trim().is_empty()));
        }
        // Empty everything.
        let empty = Attribute {
            name: String::new(),
            friendly_name: None,
            values: Vec::new(),
        };
        for preset in Preset::ALL {
            let person = self::preset(*preset)
                .map(
                    Some(&name_id("x", PERSISTENT)),
                    std::slice::from_ref(&empty),
                )
                .unwrap();
            assert_eq!(person, self::person("x"));
        }
    }
}
