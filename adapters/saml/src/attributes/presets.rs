//! The attribute names each IdP product sends, per person field.
//!
//! Sources, per preset: the vendor's documentation or source code where the product has
//! fixed names, and what real responses from the product carry where the names are typed
//! by the admin per application (Okta, Google Workspace, OneLogin, PingFederate,
//! JumpCloud). Every list is tried in order, so a preset's most specific name comes first
//! and a full-name attribute (`displayName`) comes before a looser one (`cn`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which IdP product's attribute names to read.
///
/// In configs a preset is a lower-case string: the vendor's own spelling of the product,
/// with `_` where the vendor writes a space (`"entra_id"`, `"onelogin"`,
/// `"pingfederate"`, `"simplesamlphp"`). A few other spellings are accepted too
/// (`"azure_ad"`, `"google_workspace"`, `"one_login"`, `"simple_saml_php"`, …), but
/// [`Display`](fmt::Display) and serialization always write the canonical one.
///
/// ```
/// use jit_provisioning_saml::Preset;
///
/// assert_eq!("entra_id".parse::<Preset>(), Ok(Preset::EntraId));
/// assert_eq!("azure_ad".parse::<Preset>(), Ok(Preset::EntraId));
/// assert_eq!(Preset::SimpleSamlPhp.to_string(), "simplesamlphp");
/// assert!("okta2".parse::<Preset>().unwrap_err().to_string().contains("entra_id"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// Every name any other preset reads, plus names seen from IdPs that have no preset
    /// (eIDAS nodes, admin-typed `forename`/`surname`), so that a response from any of
    /// them maps without configuration.
    #[default]
    Auto,
    /// Okta. Attribute statements are admin-defined; Okta's own examples and real
    /// responses use `firstName`, `lastName`, `email`, `groups` in various cases.
    Okta,
    /// Microsoft Entra ID (Azure AD), including Azure AD B2C. Group values are group
    /// object ids, not names.
    EntraId,
    /// Google Workspace. Names are admin-typed per app; these are the ones seen in real
    /// responses and Google's examples.
    Google,
    /// OneLogin: the default parameters of its SAML connectors.
    OneLogin,
    /// Active Directory Federation Services: the WS-Federation claim types of its claim
    /// descriptions.
    Adfs,
    /// Keycloak: its built-in SAML mappers (user property, X500, role list, group list).
    Keycloak,
    /// Shibboleth IdP and any SAML 2.0 federation that follows the eduPerson / InCommon /
    /// eduGAIN attribute profile (`urn:oid:` names with FriendlyNames).
    Shibboleth,
    /// Auth0's SAML2 Web App addon with its default mappings.
    Auth0,
    /// PingFederate. The attribute contract is admin-defined; these are the names seen
    /// in real responses and the LDAP names a contract fulfilled from a directory carries.
    PingFederate,
    /// JumpCloud: its user attribute names and its group attribute (`memberOf`).
    JumpCloud,
    /// SimpleSAMLphp, which passes its auth source's names through: LDAP names and their
    /// `urn:oid:` forms (its `name2oid` attribute map).
    SimpleSamlPhp,
}

/// The canonical config name of every preset, in [`Preset::ALL`] order.
const CANONICAL_NAMES: &[(&str, Preset)] = &[
    ("auto", Preset::Auto),
    ("okta", Preset::Okta),
    ("entra_id", Preset::EntraId),
    ("google", Preset::Google),
    ("onelogin", Preset::OneLogin),
    ("adfs", Preset::Adfs),
    ("keycloak", Preset::Keycloak),
    ("shibboleth", Preset::Shibboleth),
    ("auth0", Preset::Auth0),
    ("pingfederate", Preset::PingFederate),
    ("jumpcloud", Preset::JumpCloud),
    ("simplesamlphp", Preset::SimpleSamlPhp),
];

/// Other spellings people write: the product's former name, or the variant name in
/// snake case.
const ALIASES: &[(&str, Preset)] = &[
    ("azure_ad", Preset::EntraId),
    ("azure", Preset::EntraId),
    ("entra", Preset::EntraId),
    ("google_workspace", Preset::Google),
    ("one_login", Preset::OneLogin),
    ("ping_federate", Preset::PingFederate),
    ("jump_cloud", Preset::JumpCloud),
    ("simple_saml_php", Preset::SimpleSamlPhp),
];

impl Preset {
    /// Every preset, [`Preset::Auto`] first.
    pub const ALL: &'static [Preset] = &[
        Preset::Auto,
        Preset::Okta,
        Preset::EntraId,
        Preset::Google,
        Preset::OneLogin,
        Preset::Adfs,
        Preset::Keycloak,
        Preset::Shibboleth,
        Preset::Auth0,
        Preset::PingFederate,
        Preset::JumpCloud,
        Preset::SimpleSamlPhp,
    ];

    /// The preset's canonical name, as configs and [`Display`](fmt::Display) write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Preset::Auto => "auto",
            Preset::Okta => "okta",
            Preset::EntraId => "entra_id",
            Preset::Google => "google",
            Preset::OneLogin => "onelogin",
            Preset::Adfs => "adfs",
            Preset::Keycloak => "keycloak",
            Preset::Shibboleth => "shibboleth",
            Preset::Auth0 => "auth0",
            Preset::PingFederate => "pingfederate",
            Preset::JumpCloud => "jumpcloud",
            Preset::SimpleSamlPhp => "simplesamlphp",
        }
    }

    /// The attribute names the preset reads for `field`, in the order they are tried.
    ///
    /// For [`Preset::Auto`] that is every other preset's list in [`Preset::ALL`] order,
    /// then the names no preset owns, without repeats.
    pub(super) fn names(self, field: Field) -> Vec<&'static str> {
        match self.own_names() {
            Some(names) => names.get(field).to_vec(),
            None => {
                let mut all: Vec<&'static str> = Vec::new();
                let lists = Preset::ALL
                    .iter()
                    .filter_map(|preset| preset.own_names())
                    .chain(std::iter::once(&AUTO_ONLY))
                    .map(|names| names.get(field));
                for name in lists.flatten() {
                    if !all.iter().any(|seen| seen.eq_ignore_ascii_case(name)) {
                        all.push(name);
                    }
                }
                all
            }
        }
    }

    /// The preset an IdP's entity id, or else its SSO URL, points to: what
    /// [`Preset::Auto`] most likely reads from it, for an admin page to say. `None` when
    /// neither tells (a PingFederate or Shibboleth entity id is the deployment's own
    /// choice, so only their usual paths are recognised).
    ///
    /// ```
    /// use jit_provisioning_saml::Preset;
    ///
    /// assert_eq!(Preset::detect("http://www.okta.com/exk1abc", None), Some(Preset::Okta));
    /// assert_eq!(
    ///     Preset::detect("https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/", None),
    ///     Some(Preset::EntraId)
    /// );
    /// assert_eq!(Preset::detect("urn:acme:idp", Some("https://idp.acme.example/sso")), None);
    /// ```
    pub fn detect(entity_id: &str, sso_url: Option<&str>) -> Option<Preset> {
        const HINTS: &[(&str, Preset)] = &[
            ("okta.com", Preset::Okta),
            ("oktapreview.com", Preset::Okta),
            ("okta-emea.com", Preset::Okta),
            ("sts.windows.net", Preset::EntraId),
            ("login.microsoftonline.com", Preset::EntraId),
            ("b2clogin.com", Preset::EntraId),
            ("accounts.google.com", Preset::Google),
            ("onelogin.com", Preset::OneLogin),
            ("/adfs/", Preset::Adfs),
            ("/realms/", Preset::Keycloak),
            ("auth0.com", Preset::Auth0),
            ("jumpcloud.com", Preset::JumpCloud),
            ("/simplesaml/", Preset::SimpleSamlPhp),
            ("/idp/shibboleth", Preset::Shibboleth),
            ("/idp/profile/saml2/", Preset::Shibboleth),
            ("pingone.com", Preset::PingFederate),
            ("/idp/sso.saml2", Preset::PingFederate),
        ];
        let find = |text: &str| {
            let text = text.to_ascii_lowercase();
            HINTS
                .iter()
                .find(|(hint, _)| text.contains(hint))
                .map(|(_, preset)| *preset)
        };
        find(entity_id).or_else(|| sso_url.and_then(find))
    }

    /// The preset's own table; `None` for [`Preset::Auto`], which has none of its own.
    const fn own_names(self) -> Option<&'static Names> {
        match self {
            Preset::Auto => None,
            Preset::Okta => Some(&OKTA),
            Preset::EntraId => Some(&ENTRA_ID),
            Preset::Google => Some(&GOOGLE),
            Preset::OneLogin => Some(&ONELOGIN),
            Preset::Adfs => Some(&ADFS),
            Preset::Keycloak => Some(&KEYCLOAK),
            Preset::Shibboleth => Some(&SHIBBOLETH),
            Preset::Auth0 => Some(&AUTH0),
            Preset::PingFederate => Some(&PINGFEDERATE),
            Preset::JumpCloud => Some(&JUMPCLOUD),
            Preset::SimpleSamlPhp => Some(&SIMPLESAMLPHP),
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A preset name that is none of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown IdP preset `{given}`: expected one of {}", valid_names())]
pub struct UnknownPreset {
    /// The name as given.
    pub given: String,
}

/// The canonical names, quoted and comma-separated, for error messages.
fn valid_names() -> String {
    CANONICAL_NAMES
        .iter()
        .map(|(name, _)| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        CANONICAL_NAMES
            .iter()
            .chain(ALIASES)
            .find(|(known, _)| *known == name)
            .map(|(_, preset)| *preset)
            .ok_or_else(|| UnknownPreset {
                given: name.to_owned(),
            })
    }
}

impl Serialize for Preset {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Preset {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through `FromStr`, so that configs accept exactly what `parse` accepts and a
        // wrong name gets the same message listing the valid ones.
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// A person field that attributes map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    GivenName,
    FamilyName,
    Email,
    DisplayName,
    Groups,
}

/// One preset's attribute names per field. Each name is compared, ASCII
/// case-insensitively, with both an attribute's `Name` and its `FriendlyName`.
struct Names {
    given_name: &'static [&'static str],
    family_name: &'static [&'static str],
    email: &'static [&'static str],
    display_name: &'static [&'static str],
    groups: &'static [&'static str],
}

impl Names {
    const fn get(&self, field: Field) -> &'static [&'static str] {
        match field {
            Field::GivenName => self.given_name,
            Field::FamilyName => self.family_name,
            Field::Email => self.email,
            Field::DisplayName => self.display_name,
            Field::Groups => self.groups,
        }
    }
}

// The WS-Federation claim types that ADFS, Entra ID and Auth0 share.
const CLAIM_GIVEN_NAME: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname";
const CLAIM_SURNAME: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname";
const CLAIM_EMAIL: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";
/// A full name at ADFS and Auth0, but the UPN at Entra ID: Entra's preset leaves it out,
/// and mapping never takes an address-shaped value as a display name.
const CLAIM_NAME: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";
const CLAIM_GROUP: &str = "http://schemas.xmlsoap.org/claims/Group";
const CLAIM_ROLE: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";

// The eduPerson / X.500 names (RFC 4519, RFC 4524, eduPerson 202208, SAML2 attribute
// profile of InCommon and eduGAIN) and their SAML 1 `urn:mace:` forms.
const OID_GIVEN_NAME: &str = "urn:oid:2.5.4.42";
const OID_SN: &str = "urn:oid:2.5.4.4";
const OID_MAIL: &str = "urn:oid:0.9.2342.19200300.100.1.3";
const OID_DISPLAY_NAME: &str = "urn:oid:2.16.840.1.113730.3.1.241";
const OID_CN: &str = "urn:oid:2.5.4.3";
const OID_ENTITLEMENT: &str = "urn:oid:1.3.6.1.4.1.5923.1.1.1.7";
const OID_IS_MEMBER_OF: &str = "urn:oid:1.3.6.1.4.1.5923.1.5.1.1";
const OID_AFFILIATION: &str = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1";

/// Okta: no fixed names. Okta's examples and real responses use `firstName`/`FirstName`,
/// `lastName`/`LastName`, `email`/`Email`, `name` for a full name and `groups` for a
/// group attribute statement; `givenName` and `memberOf` are the directory names that
/// admins mirroring an AD or LDAP app type instead.
const OKTA: Names = Names {
    given_name: &["firstName", "givenName"],
    family_name: &["lastName"],
    email: &["email"],
    display_name: &["displayName", "name"],
    groups: &["groups", "memberOf"],
};

/// Entra ID: the claims of a new enterprise app (learn.microsoft.com,
/// reference-saml-tokens). `claims/name` is left out: Entra fills it with the UPN. Past
/// 150 groups Entra sends `http://schemas.microsoft.com/claims/groups.link` instead of
/// the groups; that is a URL, not a group, and is not read. `emailaddress` as a bare
/// name is what Azure AD B2C custom policies send.
const ENTRA_ID: Names = Names {
    given_name: &[CLAIM_GIVEN_NAME],
    family_name: &[CLAIM_SURNAME],
    email: &[CLAIM_EMAIL, "emailaddress"],
    display_name: &["http://schemas.microsoft.com/identity/claims/displayname"],
    groups: &["http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"],
};

/// Google Workspace: no fixed names. Real responses carry `firstName`/`lastName`, or
/// `user.firstName`/`user.lastName`/`user.email` and `member-of` for group membership
/// mapping; `email` and `groups` are the plain names admins type. Google sends no
/// display name of its own.
const GOOGLE: Names = Names {
    given_name: &["firstName", "user.firstName"],
    family_name: &["lastName", "user.lastName"],
    email: &["email", "user.email"],
    display_name: &[],
    groups: &["groups", "member-of"],
};

/// OneLogin: the SAML connectors' default parameters (`User.FirstName`,
/// `User.LastName`, `User.email`, `memberOf`), and the LDAP-style names of a
/// custom-configured connector (`givenName`, `sn`, `group`).
const ONELOGIN: Names = Names {
    given_name: &["User.FirstName", "givenName"],
    family_name: &["User.LastName", "sn"],
    email: &["User.email"],
    display_name: &[],
    groups: &["memberOf", "group"],
};

/// ADFS: its claim descriptions. `claims/name` holds the full name (or the account name,
/// depending on the claim rule); `CommonName` and `EmailAddress` are the ADFS 1.x claim
/// types still in the list. Group membership goes out as `Group` or, with the
/// "Token-Groups as Roles" rule template, as `role`.
const ADFS: Names = Names {
    given_name: &[CLAIM_GIVEN_NAME],
    family_name: &[CLAIM_SURNAME],
    email: &[
        CLAIM_EMAIL,
        "http://schemas.xmlsoap.org/claims/EmailAddress",
    ],
    display_name: &[CLAIM_NAME, "http://schemas.xmlsoap.org/claims/CommonName"],
    groups: &[CLAIM_GROUP, CLAIM_ROLE],
};

/// Keycloak (src: SamlProtocolFactory, X500SAMLProfileConstants, GroupMembershipMapper):
/// the user property mappers (`firstName`, `lastName`, `email`), the X500 mappers
/// (`urn:oid:` names, FriendlyNames `givenName`, `surname`, `email`), the role list
/// mapper (`Role`, in the default `role_list` scope) and the group list mapper (default
/// name `member`; values are group paths like `/staff`).
const KEYCLOAK: Names = Names {
    given_name: &[OID_GIVEN_NAME, "firstName", "givenName"],
    family_name: &[OID_SN, "lastName", "surname"],
    email: &["urn:oid:1.2.840.113549.1.9.1", "email"],
    display_name: &[],
    groups: &["Role", "member", "groups"],
};

/// Shibboleth IdP: the attribute resolver's standard names, matched by `Name` or by
/// their FriendlyName, and the SAML 1 `urn:mace:dir:attribute-def:` forms. Groups are
/// eduPersonEntitlement and isMemberOf.
const SHIBBOLETH: Names = Names {
    given_name: &[
        OID_GIVEN_NAME,
        "givenName",
        "urn:mace:dir:attribute-def:givenName",
    ],
    family_name: &[OID_SN, "sn", "urn:mace:dir:attribute-def:sn"],
    email: &[OID_MAIL, "mail", "urn:mace:dir:attribute-def:mail"],
    display_name: &[
        OID_DISPLAY_NAME,
        "displayName",
        "urn:mace:dir:attribute-def:displayName",
        OID_CN,
        "cn",
        "urn:mace:dir:attribute-def:cn",
    ],
    groups: &[
        OID_IS_MEMBER_OF,
        "isMemberOf",
        "urn:mace:dir:attribute-def:isMemberOf",
        OID_ENTITLEMENT,
        "eduPersonEntitlement",
        "urn:mace:dir:attribute-def:eduPersonEntitlement",
    ],
};

/// Auth0: the SAML2 Web App addon's default `mappings` (given_name, family_name, email,
/// name, groups onto the WS-Federation claim types).
const AUTH0: Names = Names {
    given_name: &[CLAIM_GIVEN_NAME],
    family_name: &[CLAIM_SURNAME],
    email: &[CLAIM_EMAIL],
    display_name: &[CLAIM_NAME],
    groups: &[CLAIM_GROUP],
};

/// PingFederate: no fixed names. Real responses carry `firstname`, `lastname` and
/// `group` (one comma-joined value: set
/// [`group_separator`](super::AttributeMapping::group_separator)); a contract fulfilled
/// from an LDAP data store carries the directory's names.
const PINGFEDERATE: Names = Names {
    given_name: &["firstname", "givenName"],
    family_name: &["lastname", "sn"],
    email: &["email", "mail"],
    display_name: &["displayName", "cn"],
    groups: &["group", "memberOf"],
};

/// JumpCloud: its user attribute names (`firstname`, `lastname`, `email`,
/// `displayname`) and the group attribute that "include group attribute" sends, which
/// its docs and SPs' setup guides name `memberOf`.
const JUMPCLOUD: Names = Names {
    given_name: &["firstname"],
    family_name: &["lastname"],
    email: &["email"],
    display_name: &["displayname"],
    groups: &["memberOf"],
};

/// SimpleSAMLphp: the LDAP names an auth source passes through, their `urn:oid:` forms,
/// and the `first_name`/`last_name`/`email` of a hand-written auth source seen in real
/// responses. Its example auth sources put affiliation in `eduPersonAffiliation`, which
/// is read as groups.
const SIMPLESAMLPHP: Names = Names {
    given_name: &["givenName", OID_GIVEN_NAME, "first_name"],
    family_name: &["sn", OID_SN, "last_name"],
    email: &["mail", OID_MAIL, "email"],
    display_name: &["displayName", OID_DISPLAY_NAME, "cn", OID_CN],
    groups: &["eduPersonAffiliation", OID_AFFILIATION],
};

/// Names [`Preset::Auto`] reads that belong to no preset: the eIDAS natural-person
/// attributes (eIDAS SAML Attribute Profile; FriendlyNames `FirstName`, `FamilyName`),
/// and the admin-typed `forename`/`surname`/`userEmailID` seen from an IdP that did not
/// say what it was.
const AUTO_ONLY: Names = Names {
    given_name: &[
        "http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName",
        "forename",
    ],
    family_name: &[
        "http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName",
        "FamilyName",
        "surname",
    ],
    email: &["userEmailID"],
    display_name: &[],
    groups: &[],
};
