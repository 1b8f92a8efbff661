//! The deployment's provisioning config: the raw, deserializable form and the checked
//! [`Policy`] the engine runs on.
//!
//! A config is validated once, when it is loaded, so that the decision path never meets a
//! contradiction: every problem is reported together in one [`ConfigError`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cases::ConfigFileError;
use crate::handle::DEFAULT_MAX_HANDLE_LEN;
use crate::org::{OrgState, SamlSection, SsoCheck, SsoFacts};
use crate::role::{Grant, Role};

/// Shortest `max_handle_len` accepted: room for a word and a six-digit suffix.
pub const MIN_HANDLE_LEN: usize = 8;
/// Longest `max_handle_len` accepted.
pub const MAX_HANDLE_LEN: usize = 255;
/// Default `reauth_after_secs`: twelve hours.
pub const DEFAULT_REAUTH_AFTER_SECS: u64 = 43_200;
/// Longest `reauth_after_secs` accepted (366 days); anything longer is surely a typo.
pub const MAX_REAUTH_AFTER_SECS: u64 = 366 * 24 * 3600;

/// The provisioning config as written by the deployment (JSON, TOML, or any serde format).
///
/// Role and deployment names stay strings here so that a wrong one is reported by
/// [`Config::validate`] together with every other problem, rather than as a parse error.
///
/// ```
/// use jit_provisioning::Config;
///
/// let config: Config = serde_json::from_str(r#"{
///     "orgs": { "acme": { "jit": true, "idp": "https://idp.acme.example" } }
/// }"#).unwrap();
/// let policy = config.validate().unwrap();
/// assert!(policy.org("acme").unwrap().portal().is_some());
///
/// // Every contradiction is listed, not only the first.
/// let broken: Config = serde_json::from_str(r#"{
///     "orgs": { "acme": { "jit": true, "provision": [ { "org": "nowhere", "role": "owner" } ] } }
/// }"#).unwrap();
/// assert_eq!(broken.validate().unwrap_err().problems().len(), 3);
/// ```
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// `"multi_tenant"` (the default) or `"private_instance"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// Org id → org config.
    pub orgs: BTreeMap<String, OrgConfig>,
    /// Handles no JIT account may take, on top of the crate's built-in list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reserved_handles: Vec<String>,
    /// Longest handle, suffix included (default 39).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_handle_len: Option<usize>,
}

/// One organization's raw config.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OrgConfig {
    /// The org has an SSO login portal with JIT provisioning.
    #[serde(default)]
    pub jit: bool,
    /// Entity id of the org's identity provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// Memberships a JIT-created account gets (default: Member of this org).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provision: Option<Vec<GrantConfig>>,
    /// How long an SSO validation lets a portal visit sign in without the IdP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reauth_after_secs: Option<u64>,
    /// The trip to the IdP asks it to re-authenticate the person.
    #[serde(default)]
    pub force_authn: bool,
    /// Email domains whose addresses may match an existing account without an SSO identity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verified_domains: Vec<String>,
    /// When not empty, an assertion must carry one of these groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_groups: Vec<String>,
    /// Roles a new account gets from the IdP's groups, on top of `provision`: in each org,
    /// the highest role its groups map to, never below the `provision` role there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_roles: Vec<GroupRoleConfig>,
    /// What later sign-ins do to roles: `"never"` (the default: an admin changes them) or
    /// `"upgrade"` (each sign-in raises an existing membership to what `group_roles` maps
    /// the person's groups to, and never lowers one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_roles: Option<String>,
    /// What the org's SCIM groups do to roles through `group_roles`: `"raise"` (the
    /// default: joining a group raises a role, leaving one lowers nothing) or `"follow"`
    /// (roles follow the groups both ways, never below the `provision` role, and never
    /// taking the org's last admin away).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim_roles: Option<String>,
    /// Which SCIM attribute of a user carries the value the IdP sends as the SAML NameID:
    /// `"userName"` (the default) or `"externalId"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim_name_id: Option<String>,
    /// Where the org's SSO connection stands: `draft`, `active` (the default) or
    /// `inactive`.
    #[serde(default, skip_serializing_if = "OrgState::is_active")]
    pub state: OrgState,
    /// The org's SAML settings: the IdP's trust and how its answers are read. The
    /// entity id in `idp` may be left out when these name the IdP's metadata or
    /// `idp.entity_id`: the SAML adapter's check reads it from there
    /// ([`Config::check`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml: Option<SamlSection>,
}

/// One raw `group_roles` entry: members of `group` get `role` in `org`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRoleConfig {
    /// A group value as the IdP sends it, compared exactly (Entra ID sends object ids).
    pub group: String,
    /// The org the role is in.
    pub org: String,
    /// `member`, `contributor` or `admin`.
    pub role: String,
}

/// One raw `provision` entry.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantConfig {
    /// The org to grant membership of.
    pub org: String,
    /// `member`, `contributor` or `admin`.
    pub role: String,
}

/// What an org's SCIM groups do to roles (`scim_roles`), through its `group_roles`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScimRoleSync {
    /// Joining a group raises the role of each membership the account holds in the orgs
    /// the group maps to; leaving a group lowers nothing. An admin's promotion by hand
    /// survives every group change.
    #[default]
    Raise,
    /// Roles follow the groups both ways: each affected membership becomes the highest
    /// role its groups map to, never below the org's `provision` role (member where
    /// `provision` names no role there), and the org's last admin keeps the role.
    Follow,
}

impl ScimRoleSync {
    /// The name as a config writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            ScimRoleSync::Raise => "raise",
            ScimRoleSync::Follow => "follow",
        }
    }
}

/// Which SCIM attribute of a user holds the value the org's IdP sends as the SAML
/// NameID (`scim_name_id`): the subject of the identity a SCIM user pre-links, so that
/// the person's first SSO sign-in finds the SCIM-made account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScimNameId {
    /// `userName` (Okta's and Entra ID's default: the NameID is the email or the UPN).
    #[default]
    #[serde(rename = "userName")]
    UserName,
    /// `externalId` (an IdP whose NameID is its own immutable id, such as Okta's `00u…`).
    #[serde(rename = "externalId")]
    ExternalId,
}

impl ScimNameId {
    /// The name as a config writes it: the SCIM attribute's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ScimNameId::UserName => "userName",
            ScimNameId::ExternalId => "externalId",
        }
    }
}

/// What an org's later sign-ins do to the roles of existing accounts (`sync_roles`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleSync {
    /// Roles change only by hand, as the seed has it: an admin invites existing accounts.
    #[default]
    Never,
    /// Each sign-in raises a role the account holds to the highest its groups map to in
    /// `group_roles`; no role ever falls, and no membership is added.
    Upgrade,
}

impl RoleSync {
    /// The name as a config writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            RoleSync::Never => "never",
            RoleSync::Upgrade => "upgrade",
        }
    }
}

/// Whether the app serves many organizations or one customer's private instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deployment {
    /// Many orgs; each turns JIT on for itself.
    MultiTenant,
    /// One customer: JIT is on for every org that has an IdP, and an email may always
    /// match an existing account.
    PrivateInstance,
}

/// One thing wrong with a [`Config`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// `deployment` is neither `multi_tenant` nor `private_instance`.
    #[error("unknown deployment `{0}`: expected `multi_tenant` or `private_instance`")]
    UnknownDeployment(String),
    /// An org id is empty.
    #[error("an org id is empty")]
    EmptyOrgId,
    /// An org id that a registry does not accept: see
    /// [`valid_org_id`](crate::org::valid_org_id).
    #[error("org id `{0}` is not usable in an address: use at most 64 ASCII letters, digits, `-`, `_` and `.`, not starting with `.`")]
    InvalidOrgId(String),
    /// `jit` is on but there is no `idp` to trust.
    #[error("org `{org}` has `jit` on but no `idp`")]
    JitWithoutIdp {
        /// The org.
        org: String,
    },
    /// `jit` is on, `idp` is left out, and the SAML settings name metadata that was not
    /// read: [`Config::validate`] does not read SAML metadata.
    #[error("org `{org}` has `jit` on and its IdP's entity id in its SAML metadata, which `validate` does not read: check the config with `Config::check` and the SAML adapter's check, or give `idp`")]
    EntityIdInMetadata {
        /// The org.
        org: String,
    },
    /// `idp` and the SAML settings name different entity ids.
    #[error("org `{org}`: `idp` is `{policy}` but the SAML settings' IdP is `{saml}`; they must be the same entity id (or leave `idp` out)")]
    EntityIdMismatch {
        /// The org.
        org: String,
        /// `idp`.
        policy: String,
        /// The entity id of the SAML settings (`idp.entity_id` or the metadata's).
        saml: String,
    },
    /// The SAML settings of an org are wrong (found by the SAML adapter's check).
    #[error("org `{org}`: {problem}")]
    Sso {
        /// The org.
        org: String,
        /// What is wrong, as the check says it.
        problem: String,
    },
    /// `idp` is an empty string.
    #[error("org `{org}` has an empty `idp`")]
    EmptyIdp {
        /// The org.
        org: String,
    },
    /// `provision` is present but lists nothing.
    #[error("org `{org}` has an empty `provision` list")]
    EmptyProvision {
        /// The org.
        org: String,
    },
    /// A `provision` entry names an org that is not configured.
    #[error("org `{org}` provisions into unknown org `{target}`")]
    UnknownProvisionOrg {
        /// The org whose `provision` is wrong.
        org: String,
        /// The unknown org it names.
        target: String,
    },
    /// A `provision` list names the same org twice.
    #[error("org `{org}` provisions into `{target}` more than once")]
    DuplicateProvisionOrg {
        /// The org whose `provision` is wrong.
        org: String,
        /// The org named twice.
        target: String,
    },
    /// A `provision` entry has a role that does not exist.
    #[error(
        "org `{org}` provisions unknown role `{role}`: expected `member`, `contributor` or `admin`"
    )]
    UnknownRole {
        /// The org whose `provision` is wrong.
        org: String,
        /// The unknown role.
        role: String,
    },
    /// A `group_roles` entry names an org the config does not know.
    #[error("org `{org}` maps group `{group}` to unknown org `{target}` in `group_roles`")]
    UnknownGroupRoleOrg {
        /// The org whose `group_roles` is wrong.
        org: String,
        /// The group of the entry.
        group: String,
        /// The unknown org.
        target: String,
    },
    /// A `group_roles` entry has a role that does not exist.
    #[error(
        "org `{org}` maps group `{group}` to unknown role `{role}` in `group_roles`: expected `member`, `contributor` or `admin`"
    )]
    UnknownGroupRole {
        /// The org whose `group_roles` is wrong.
        org: String,
        /// The group of the entry.
        group: String,
        /// The unknown role.
        role: String,
    },
    /// `sync_roles` is neither `never` nor `upgrade`.
    #[error("org `{org}` has unknown `sync_roles` `{value}`: expected `never` or `upgrade`")]
    UnknownRoleSync {
        /// The org.
        org: String,
        /// The value given.
        value: String,
    },
    /// `scim_roles` is neither `raise` nor `follow`.
    #[error("org `{org}` has unknown `scim_roles` `{value}`: expected `raise` or `follow`")]
    UnknownScimRoles {
        /// The org.
        org: String,
        /// The value given.
        value: String,
    },
    /// `scim_name_id` is neither `userName` nor `externalId`.
    #[error(
        "org `{org}` has unknown `scim_name_id` `{value}`: expected `userName` or `externalId`"
    )]
    UnknownScimNameId {
        /// The org.
        org: String,
        /// The value given.
        value: String,
    },
    /// `sync_roles` is `upgrade` but the org has no `group_roles` to raise roles to.
    #[error("org `{org}` has `sync_roles` `upgrade` but no `group_roles` to sync from")]
    RoleSyncWithoutGroupRoles {
        /// The org.
        org: String,
    },
    /// `max_handle_len` is outside [`MIN_HANDLE_LEN`]..=[`MAX_HANDLE_LEN`].
    #[error("`max_handle_len` is {0}: it must be between {MIN_HANDLE_LEN} and {MAX_HANDLE_LEN}")]
    MaxHandleLenOutOfRange(usize),
    /// `reauth_after_secs` is longer than [`MAX_REAUTH_AFTER_SECS`].
    #[error(
        "org `{org}` has `reauth_after_secs` {secs}: at most {MAX_REAUTH_AFTER_SECS} is allowed"
    )]
    ReauthTooLong {
        /// The org.
        org: String,
        /// The value given.
        secs: u64,
    },
    /// A list holds an empty entry.
    #[error("{place} holds an empty entry in `{field}`")]
    EmptyEntry {
        /// `the config` or `org \`…\``.
        place: String,
        /// The list's key.
        field: &'static str,
    },
    /// A `verified_domains` entry is not a domain.
    #[error("org `{org}` lists `{domain}` in `verified_domains`, which is not a domain")]
    InvalidDomain {
        /// The org.
        org: String,
        /// The entry.
        domain: String,
    },
}

/// A [`Config`] that contradicts itself; lists every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ConfigError {
    problems: Vec<ConfigProblem>,
}

impl ConfigError {
    pub(crate) fn new(problems: Vec<ConfigProblem>) -> Self {
        ConfigError { problems }
    }

    /// Every problem found, in a stable order.
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid provisioning config:")?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// A validated config: what the engine decides with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    deployment: Deployment,
    /// Shared with an [`OrgRegistry`](crate::org::OrgRegistry)'s cache, which builds a
    /// policy of one org for each request.
    orgs: HashMap<String, Arc<OrgPolicy>>,
    /// Configured reserved handles and every org id, lower-cased: a handle equal to an
    /// org id would make `/{name}` ambiguous. Ordered, so that the names under one stem
    /// are one range, however many orgs there are.
    taken_names: Arc<BTreeSet<String>>,
    /// A registry's policy of one org: the org ids, lower-cased, that the handle search
    /// of the request could meet (the registry asked its directory for them).
    kept_org_ids: Vec<String>,
    max_handle_len: usize,
}

/// One organization's validated config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgPolicy {
    state: OrgState,
    portal: Option<Portal>,
    provision: Vec<Grant>,
    verified_domains: Vec<String>,
    required_groups: Vec<String>,
    group_roles: Vec<GroupRole>,
    sync_roles: RoleSync,
    scim_roles: ScimRoleSync,
    scim_name_id: ScimNameId,
}

/// A validated `group_roles` entry: members of `group` get `grant`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRole {
    /// The group value, as the IdP sends it.
    pub group: String,
    /// The membership the group maps to.
    pub grant: Grant,
}

/// An org's SSO login portal: present when JIT provisioning is on for the org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portal {
    idp: String,
    reauth_after: Duration,
    force_authn: bool,
}

impl Config {
    /// Reads a config file: TOML when its name ends in `.toml`, JSON otherwise. An
    /// unknown key, at any level and in the SAML settings too, is an error that says
    /// where it is and the nearest valid key ("did you mean"). The config is not
    /// checked: see [`Config::validate`] and [`Config::check`].
    ///
    /// ```no_run
    /// let config = jit_provisioning::Config::load("deploy/orgs.toml".as_ref())?;
    /// let policy = config.validate()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(path: &Path) -> Result<Config, ConfigFileError> {
        crate::cases::load_config(path)
    }

    /// Checks the config and returns the [`Policy`] the engine runs on, or every problem.
    ///
    /// An org whose entity id is only in its SAML metadata is reported
    /// ([`ConfigProblem::EntityIdInMetadata`]): [`Config::check`] with the SAML adapter's
    /// check reads it from there.
    pub fn validate(&self) -> Result<Policy, ConfigError> {
        self.validate_resolved(&BTreeMap::new(), Vec::new())
    }

    /// Checks the config like [`Config::validate`], and each org's SAML settings with
    /// `sso` (the SAML adapter's check: metadata read and parsed, certificates, keys),
    /// taking an org's entity id from its metadata when `idp` leaves it out. Relative
    /// `*_file` paths are resolved against `base_dir`. Every problem of both is listed.
    pub async fn check(
        &self,
        sso: &dyn SsoCheck,
        base_dir: Option<&Path>,
    ) -> Result<CheckedConfig, ConfigError> {
        let mut facts = BTreeMap::new();
        let mut problems = Vec::new();
        for (id, org) in &self.orgs {
            let Some(saml) = &org.saml else { continue };
            match sso.check(id, saml, base_dir).await {
                Ok(found) => {
                    facts.insert(id.clone(), found);
                }
                Err(found) => {
                    problems.extend(found.into_iter().map(|problem| ConfigProblem::Sso {
                        org: id.clone(),
                        problem,
                    }))
                }
            }
        }
        let entity_ids = facts
            .iter()
            .map(|(id, found)| (id.clone(), found.entity_id.clone()))
            .collect();
        let policy = self.validate_resolved(&entity_ids, problems)?;
        Ok(CheckedConfig { policy, sso: facts })
    }

    /// The deployment-wide settings alone (no orgs): what an [`OrgRegistry`](crate::org::OrgRegistry)
    /// decides with besides each org's record.
    pub fn without_orgs(&self) -> Config {
        Config {
            orgs: BTreeMap::new(),
            ..self.clone()
        }
    }

    fn validate_resolved(
        &self,
        entity_ids: &BTreeMap<String, String>,
        mut problems: Vec<ConfigProblem>,
    ) -> Result<Policy, ConfigError> {
        let settings = match self.settings() {
            Ok(settings) => Some(settings),
            Err(found) => {
                problems.extend(found);
                None
            }
        };
        let deployment = settings
            .as_ref()
            .map_or(Deployment::MultiTenant, |s| s.deployment);
        let mut taken_names = settings
            .as_ref()
            .map(|s| (*s.reserved).clone())
            .unwrap_or_default();

        let known_org = |id: &str| self.orgs.contains_key(id);
        let mut orgs = HashMap::with_capacity(self.orgs.len());
        for (id, org) in &self.orgs {
            if id.is_empty() {
                problems.push(ConfigProblem::EmptyOrgId);
            }
            taken_names.insert(id.to_lowercase());
            let resolved = entity_ids.get(id).map(String::as_str);
            orgs.insert(
                id.clone(),
                Arc::new(org.validate(id, deployment, &known_org, resolved, &mut problems)),
            );
        }

        match settings {
            Some(settings) if problems.is_empty() => Ok(Policy {
                deployment,
                orgs,
                taken_names: Arc::new(taken_names),
                kept_org_ids: Vec::new(),
                max_handle_len: settings.max_handle_len,
            }),
            _ => Err(ConfigError { problems }),
        }
    }

    /// The deployment-wide settings, checked.
    pub(crate) fn settings(&self) -> Result<Settings, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let deployment = match self.deployment.as_deref() {
            None | Some("multi_tenant") => Deployment::MultiTenant,
            Some("private_instance") => Deployment::PrivateInstance,
            Some(other) => {
                problems.push(ConfigProblem::UnknownDeployment(other.to_owned()));
                Deployment::MultiTenant
            }
        };

        let max_handle_len = self.max_handle_len.unwrap_or(DEFAULT_MAX_HANDLE_LEN);
        if !(MIN_HANDLE_LEN..=MAX_HANDLE_LEN).contains(&max_handle_len) {
            problems.push(ConfigProblem::MaxHandleLenOutOfRange(max_handle_len));
        }

        let mut reserved = BTreeSet::new();
        for word in &self.reserved_handles {
            let word = word.trim();
            if word.is_empty() {
                problems.push(ConfigProblem::EmptyEntry {
                    place: "the config".to_owned(),
                    field: "reserved_handles",
                });
            } else {
                reserved.insert(word.to_lowercase());
            }
        }
        if problems.is_empty() {
            Ok(Settings {
                deployment,
                max_handle_len,
                reserved: Arc::new(reserved),
            })
        } else {
            Err(problems)
        }
    }
}

/// A config checked with its SAML settings ([`Config::check`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckedConfig {
    /// What the engine decides with.
    pub policy: Policy,
    /// What the SAML check found, by org: the entity id and the certificates.
    pub sso: BTreeMap<String, SsoFacts>,
}

/// The deployment-wide part of a checked config.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) deployment: Deployment,
    pub(crate) max_handle_len: usize,
    /// Configured reserved handles, lower-cased.
    pub(crate) reserved: Arc<BTreeSet<String>>,
}

impl OrgConfig {
    /// Checks one org: `known_org` says which orgs its grants may name, and
    /// `resolved_idp` is the entity id the SAML check read from its metadata.
    pub(crate) fn validate(
        &self,
        id: &str,
        deployment: Deployment,
        known_org: &dyn Fn(&str) -> bool,
        resolved_idp: Option<&str>,
        problems: &mut Vec<ConfigProblem>,
    ) -> OrgPolicy {
        let org = || id.to_owned();
        let place = || format!("org `{id}`");

        if self.idp.as_deref().is_some_and(|idp| idp.trim().is_empty()) {
            problems.push(ConfigProblem::EmptyIdp { org: org() });
        }
        let from_saml = resolved_idp.or(self.saml.as_ref().and_then(SamlSection::entity_id));
        let given = self.idp.as_deref().filter(|idp| !idp.trim().is_empty());
        if let (Some(policy), Some(saml)) = (given, from_saml) {
            if policy != saml {
                problems.push(ConfigProblem::EntityIdMismatch {
                    org: org(),
                    policy: policy.to_owned(),
                    saml: saml.to_owned(),
                });
            }
        }
        let idp = given.or(from_saml);
        let idp_missing = || {
            if self.saml.as_ref().is_some_and(SamlSection::has_metadata) {
                ConfigProblem::EntityIdInMetadata { org: org() }
            } else {
                ConfigProblem::JitWithoutIdp { org: org() }
            }
        };
        let portal_wanted = match deployment {
            // A private instance has JIT on for every org whatever `jit` says; an org
            // without an IdP simply has no portal there, unless its metadata names one.
            Deployment::PrivateInstance => {
                if idp.is_none() && self.saml.as_ref().is_some_and(SamlSection::has_metadata) {
                    problems.push(idp_missing());
                }
                idp.is_some()
            }
            Deployment::MultiTenant => {
                if self.jit && idp.is_none() && self.idp.is_none() {
                    problems.push(idp_missing());
                }
                self.jit
            }
        };

        let reauth_after_secs = self.reauth_after_secs.unwrap_or(DEFAULT_REAUTH_AFTER_SECS);
        if reauth_after_secs > MAX_REAUTH_AFTER_SECS {
            problems.push(ConfigProblem::ReauthTooLong {
                org: org(),
                secs: reauth_after_secs,
            });
        }
        let portal = idp.filter(|_| portal_wanted).map(|idp| Portal {
            idp: idp.to_owned(),
            reauth_after: Duration::from_secs(reauth_after_secs),
            force_authn: self.force_authn,
        });

        let provision = match &self.provision {
            None => vec![Grant {
                org: org(),
                role: Role::Member,
            }],
            Some(entries) => {
                if entries.is_empty() {
                    problems.push(ConfigProblem::EmptyProvision { org: org() });
                }
                let mut seen = HashSet::new();
                let mut grants = Vec::with_capacity(entries.len());
                for entry in entries {
                    if !known_org(&entry.org) {
                        problems.push(ConfigProblem::UnknownProvisionOrg {
                            org: org(),
                            target: entry.org.clone(),
                        });
                    }
                    if !seen.insert(entry.org.as_str()) {
                        problems.push(ConfigProblem::DuplicateProvisionOrg {
                            org: org(),
                            target: entry.org.clone(),
                        });
                    }
                    match entry.role.parse::<Role>() {
                        Ok(role) => grants.push(Grant {
                            org: entry.org.clone(),
                            role,
                        }),
                        Err(_) => problems.push(ConfigProblem::UnknownRole {
                            org: org(),
                            role: entry.role.clone(),
                        }),
                    }
                }
                grants
            }
        };

        let mut verified_domains = Vec::with_capacity(self.verified_domains.len());
        for domain in &self.verified_domains {
            let domain = domain.trim();
            if domain.is_empty() {
                problems.push(ConfigProblem::EmptyEntry {
                    place: place(),
                    field: "verified_domains",
                });
            } else if !looks_like_domain(domain) {
                problems.push(ConfigProblem::InvalidDomain {
                    org: org(),
                    domain: domain.to_owned(),
                });
            } else {
                verified_domains.push(domain.to_ascii_lowercase());
            }
        }

        if self.required_groups.iter().any(|group| group.is_empty()) {
            problems.push(ConfigProblem::EmptyEntry {
                place: place(),
                field: "required_groups",
            });
        }

        let mut group_roles = Vec::with_capacity(self.group_roles.len());
        for entry in &self.group_roles {
            if entry.group.is_empty() {
                problems.push(ConfigProblem::EmptyEntry {
                    place: place(),
                    field: "group_roles",
                });
            }
            if !known_org(&entry.org) {
                problems.push(ConfigProblem::UnknownGroupRoleOrg {
                    org: org(),
                    group: entry.group.clone(),
                    target: entry.org.clone(),
                });
            }
            match entry.role.parse::<Role>() {
                Ok(role) => group_roles.push(GroupRole {
                    group: entry.group.clone(),
                    grant: Grant {
                        org: entry.org.clone(),
                        role,
                    },
                }),
                Err(_) => problems.push(ConfigProblem::UnknownGroupRole {
                    org: org(),
                    group: entry.group.clone(),
                    role: entry.role.clone(),
                }),
            }
        }

        let sync_roles = match self.sync_roles.as_deref() {
            None | Some("never") => RoleSync::Never,
            Some("upgrade") => {
                if self.group_roles.is_empty() {
                    problems.push(ConfigProblem::RoleSyncWithoutGroupRoles { org: org() });
                }
                RoleSync::Upgrade
            }
            Some(other) => {
                problems.push(ConfigProblem::UnknownRoleSync {
                    org: org(),
                    value: other.to_owned(),
                });
                RoleSync::Never
            }
        };

        let scim_roles = match self.scim_roles.as_deref() {
            None | Some("raise") => ScimRoleSync::Raise,
            Some("follow") => ScimRoleSync::Follow,
            Some(other) => {
                problems.push(ConfigProblem::UnknownScimRoles {
                    org: org(),
                    value: other.to_owned(),
                });
                ScimRoleSync::Raise
            }
        };
        let scim_name_id = match self.scim_name_id.as_deref() {
            None | Some("userName") => ScimNameId::UserName,
            Some("externalId") => ScimNameId::ExternalId,
            Some(other) => {
                problems.push(ConfigProblem::UnknownScimNameId {
                    org: org(),
                    value: other.to_owned(),
                });
                ScimNameId::UserName
            }
        };

        OrgPolicy {
            state: self.state,
            portal,
            provision,
            verified_domains,
            required_groups: self.required_groups.clone(),
            group_roles,
            sync_roles,
            scim_roles,
            scim_name_id,
        }
    }
}

/// Loose on purpose: the point is to catch `@acme.example` or `jane@acme.example` pasted
/// where a bare domain belongs, not to validate DNS.
fn looks_like_domain(domain: &str) -> bool {
    domain
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

impl Policy {
    /// The deployment kind.
    pub fn deployment(&self) -> Deployment {
        self.deployment
    }

    /// One org's validated config, if the org is configured.
    pub fn org(&self, id: &str) -> Option<&OrgPolicy> {
        self.orgs.get(id).map(Arc::as_ref)
    }

    /// Every configured org with its id, in no particular order. A registry's policy of
    /// one request has the request's org only.
    pub fn orgs(&self) -> impl Iterator<Item = (&str, &OrgPolicy)> {
        self.orgs
            .iter()
            .map(|(id, org)| (id.as_str(), org.as_ref()))
    }

    /// A registry's policy of a request at an org that does not exist.
    pub(crate) fn of_no_org(settings: &Settings) -> Policy {
        Policy {
            deployment: settings.deployment,
            orgs: HashMap::new(),
            taken_names: Arc::clone(&settings.reserved),
            kept_org_ids: Vec::new(),
            max_handle_len: settings.max_handle_len,
        }
    }

    /// The same policy, knowing that the request's handle search could meet
    /// `org_ids` (lower-cased).
    pub(crate) fn with_kept_org_ids(mut self, org_ids: Vec<String>) -> Policy {
        self.kept_org_ids = org_ids;
        self
    }

    /// The same policy with `org` treated as active (a test sign-in of a draft).
    pub(crate) fn with_org_active(mut self, org: &str) -> Policy {
        if let Some(policy) = self.orgs.get_mut(org) {
            if policy.state != OrgState::Active {
                let mut active = (**policy).clone();
                active.state = OrgState::Active;
                *policy = Arc::new(active);
            }
        }
        self
    }

    /// The policy of one request at one org of a registry: the deployment's settings,
    /// the org, and the org ids the request's handle search could meet.
    pub(crate) fn of_one_org(
        settings: &Settings,
        id: &str,
        org: Arc<OrgPolicy>,
        kept_org_ids: Vec<String>,
    ) -> Policy {
        Policy {
            deployment: settings.deployment,
            orgs: HashMap::from([(id.to_owned(), org)]),
            taken_names: Arc::clone(&settings.reserved),
            kept_org_ids,
            max_handle_len: settings.max_handle_len,
        }
    }

    /// Longest handle, suffix included.
    pub fn max_handle_len(&self) -> usize {
        self.max_handle_len
    }

    /// Whether `handle` (lower-case) is kept from JIT accounts by the config: an org id or
    /// a configured reserved word. The built-in list is checked separately.
    #[cfg(test)]
    pub(crate) fn config_takes(&self, handle: &str) -> bool {
        self.taken_names.contains(handle)
    }

    /// The names the config keeps (org ids, configured reserved words) that are `stem` or
    /// `stem-<digits>`: the ones a handle search under `stem` could meet. A range of the
    /// ordered set, so the work does not grow with the number of orgs.
    pub(crate) fn config_kept_under<'a>(&'a self, stem: &'a str) -> impl Iterator<Item = &'a str> {
        self.taken_names
            .range::<str, _>((Bound::Included(stem), Bound::Unbounded))
            .take_while(move |name| name.starts_with(stem))
            .chain(&self.kept_org_ids)
            .filter(move |name| crate::store::is_stem_or_suffixed(name, stem))
            .map(String::as_str)
    }
}

impl OrgPolicy {
    /// Where the org's SSO connection stands.
    pub fn state(&self) -> OrgState {
        self.state
    }

    /// The org's login portal, or `None` when the org has no JIT portal. An org that is
    /// not [`OrgState::Active`] may have one: its portal is closed, not gone.
    pub fn portal(&self) -> Option<&Portal> {
        self.portal.as_ref()
    }

    /// The `group_roles` entries, in config order.
    pub fn group_roles(&self) -> &[GroupRole] {
        &self.group_roles
    }

    /// The memberships a new account with `groups` gets: the `provision` grants, each
    /// raised to the highest role a `group_roles` entry of one of `groups` maps to in that
    /// org, then the orgs only `group_roles` names, in config order. A role never falls
    /// below `provision`'s, and an org appears once.
    ///
    /// ```
    /// use jit_provisioning::{Config, Grant, Role};
    ///
    /// let config: Config = serde_json::from_str(r#"{"orgs": {
    ///     "acme": {"jit": true, "idp": "https://idp.acme.example",
    ///              "provision": [{"org": "acme", "role": "contributor"}],
    ///              "group_roles": [{"group": "eng", "org": "acme", "role": "member"},
    ///                              {"group": "eng-admins", "org": "acme", "role": "admin"},
    ///                              {"group": "ops", "org": "acme-ops", "role": "member"}]},
    ///     "acme-ops": {}
    /// }}"#).unwrap();
    /// let policy = config.validate().unwrap();
    /// let acme = policy.org("acme").unwrap();
    /// let grant = |org: &str, role| Grant { org: org.to_owned(), role };
    ///
    /// // `eng` maps to member, below provision's contributor: contributor stays.
    /// assert_eq!(acme.grants_for(&["eng".into()]), [grant("acme", Role::Contributor)]);
    /// assert_eq!(
    ///     acme.grants_for(&["ops".into(), "eng-admins".into()]),
    ///     [grant("acme", Role::Admin), grant("acme-ops", Role::Member)]
    /// );
    /// ```
    pub fn grants_for(&self, groups: &[String]) -> Vec<Grant> {
        let mut grants = self.provision.clone();
        for entry in &self.group_roles {
            if !groups.contains(&entry.group) {
                continue;
            }
            match grants.iter_mut().find(|grant| grant.org == entry.grant.org) {
                Some(grant) => grant.role = grant.role.max(entry.grant.role),
                None => grants.push(entry.grant.clone()),
            }
        }
        grants
    }

    /// What later sign-ins do to the roles of existing accounts.
    pub fn sync_roles(&self) -> RoleSync {
        self.sync_roles
    }

    /// The roles a sign-in raises, under `sync_roles = "upgrade"`: for each org in
    /// `memberships`, the highest role a `group_roles` entry of one of `groups` maps to
    /// there, when it is above the role held. Nothing is lowered and no org is added; with
    /// [`RoleSync::Never`] the answer is always empty.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use jit_provisioning::{Config, Grant, Role};
    ///
    /// let config: Config = serde_json::from_str(r#"{"orgs": {
    ///     "acme": {"jit": true, "idp": "https://idp.acme.example", "sync_roles": "upgrade",
    ///              "group_roles": [{"group": "eng", "org": "acme", "role": "contributor"},
    ///                              {"group": "ops", "org": "acme-ops", "role": "admin"}]},
    ///     "acme-ops": {}
    /// }}"#).unwrap();
    /// let policy = config.validate().unwrap();
    /// let acme = policy.org("acme").unwrap();
    /// let held = BTreeMap::from([("acme".to_owned(), Role::Member)]);
    ///
    /// // Member rises to contributor; acme-ops is not joined by a sign-in.
    /// assert_eq!(
    ///     acme.raises_for(&held, &["eng".into(), "ops".into()]),
    ///     [Grant { org: "acme".to_owned(), role: Role::Contributor }]
    /// );
    /// // An admin stays an admin.
    /// let admin = BTreeMap::from([("acme".to_owned(), Role::Admin)]);
    /// assert!(acme.raises_for(&admin, &["eng".into()]).is_empty());
    /// ```
    pub fn raises_for(
        &self,
        memberships: &BTreeMap<String, Role>,
        groups: &[String],
    ) -> Vec<Grant> {
        let mut raises: Vec<Grant> = Vec::new();
        if self.sync_roles == RoleSync::Never {
            return raises;
        }
        for entry in &self.group_roles {
            let target = &entry.grant;
            let Some(&held) = memberships.get(&target.org) else {
                continue;
            };
            if target.role <= held || !groups.contains(&entry.group) {
                continue;
            }
            match raises.iter_mut().find(|raise| raise.org == target.org) {
                Some(raise) => raise.role = raise.role.max(target.role),
                None => raises.push(target.clone()),
            }
        }
        raises
    }

    /// What the org's SCIM groups do to roles.
    pub fn scim_roles(&self) -> ScimRoleSync {
        self.scim_roles
    }

    /// Which SCIM user attribute the org's IdP sends as the SAML NameID.
    pub fn scim_name_id(&self) -> ScimNameId {
        self.scim_name_id
    }

    /// Memberships a JIT-created account gets.
    pub fn provision(&self) -> &[Grant] {
        &self.provision
    }

    /// Lower-cased email domains trusted to match existing accounts.
    pub fn verified_domains(&self) -> &[String] {
        &self.verified_domains
    }

    /// Groups of which an assertion must carry one; empty when there is no such rule.
    pub fn required_groups(&self) -> &[String] {
        &self.required_groups
    }
}

impl Portal {
    /// Entity id of the org's identity provider.
    pub fn idp(&self) -> &str {
        &self.idp
    }

    /// How long an SSO validation stays fresh for a portal visit.
    pub fn reauth_after(&self) -> Duration {
        self.reauth_after
    }

    /// Whether the IdP is asked to re-authenticate the person.
    pub fn force_authn(&self) -> bool {
        self.force_authn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Config {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_follow_the_spec() {
        let policy = parse(r#"{"orgs": {"acme": {"jit": true, "idp": "https://idp"}}}"#)
            .validate()
            .unwrap();
        assert_eq!(policy.deployment(), Deployment::MultiTenant);
        assert_eq!(policy.max_handle_len(), 39);
        let acme = policy.org("acme").unwrap();
        let portal = acme.portal().unwrap();
        assert_eq!(portal.reauth_after(), Duration::from_secs(43_200));
        assert!(!portal.force_authn());
        assert_eq!(
            acme.provision(),
            [Grant {
                org: "acme".into(),
                role: Role::Member
            }]
        );
        assert!(policy.config_takes("acme"));
    }

    #[test]
    fn private_instance_turns_jit_on_only_where_there_is_an_idp() {
        let policy = parse(
            r#"{"deployment": "private_instance",
                "orgs": {"corp": {"idp": "https://sso"}, "lab": {}}}"#,
        )
        .validate()
        .unwrap();
        assert!(policy.org("corp").unwrap().portal().is_some());
        assert!(policy.org("lab").unwrap().portal().is_none());
    }

    #[test]
    fn every_problem_is_listed() {
        let error = parse(
            r#"{"deployment": "cloud", "max_handle_len": 0, "reserved_handles": [" "],
                "orgs": {
                  "acme": {"jit": true, "reauth_after_secs": 99999999,
                           "provision": [{"org": "acme", "role": "owner"},
                                         {"org": "acme", "role": "member"},
                                         {"org": "ghost", "role": "member"}],
                           "verified_domains": ["jane@acme.example", ""],
                           "required_groups": [""]},
                  "labs": {"jit": true, "idp": " ", "provision": []}
                }}"#,
        )
        .validate()
        .unwrap_err();
        let problems = error.problems();
        let expected = [
            ConfigProblem::UnknownDeployment("cloud".into()),
            ConfigProblem::MaxHandleLenOutOfRange(0),
            ConfigProblem::JitWithoutIdp { org: "acme".into() },
            ConfigProblem::UnknownRole {
                org: "acme".into(),
                role: "owner".into(),
            },
            ConfigProblem::DuplicateProvisionOrg {
                org: "acme".into(),
                target: "acme".into(),
            },
            ConfigProblem::UnknownProvisionOrg {
                org: "acme".into(),
                target: "ghost".into(),
            },
            ConfigProblem::InvalidDomain {
                org: "acme".into(),
                domain: "jane@acme.example".into(),
            },
            ConfigProblem::EmptyIdp { org: "labs".into() },
            ConfigProblem::EmptyProvision { org: "labs".into() },
        ];
        for problem in &expected {
            assert!(
                problems.contains(problem),
                "missing {problem:?} in {problems:?}"
            );
        }
        assert_eq!(problems.len(), expected.len() + 4, "{problems:#?}");
        assert!(error.to_string().contains("unknown role `owner`"));
    }

    #[test]
    fn sync_roles_is_checked() {
        let problems = |json: &str| {
            parse(json)
                .validate()
                .map(|_| ())
                .unwrap_err()
                .problems()
                .to_vec()
        };
        assert_eq!(
            problems(
                r#"{"orgs": {"acme": {"sync_roles": "always", "group_roles": [{"group": "g", "org": "acme", "role": "admin"}]}}}"#
            ),
            [ConfigProblem::UnknownRoleSync {
                org: "acme".into(),
                value: "always".into()
            }]
        );
        assert_eq!(
            problems(r#"{"orgs": {"acme": {"sync_roles": "upgrade"}}}"#),
            [ConfigProblem::RoleSyncWithoutGroupRoles { org: "acme".into() }]
        );
        let policy = parse(r#"{"orgs": {"acme": {"sync_roles": "upgrade", "group_roles": [{"group": "g", "org": "acme", "role": "admin"}]}, "labs": {"sync_roles": "never"}}}"#)
            .validate()
            .unwrap();
        assert_eq!(policy.org("acme").unwrap().sync_roles(), RoleSync::Upgrade);
        assert_eq!(policy.org("labs").unwrap().sync_roles(), RoleSync::Never);
    }

    #[test]
    fn scim_settings_are_checked() {
        let problems =
            parse(r#"{"orgs": {"acme": {"scim_roles": "lower", "scim_name_id": "username"}}}"#)
                .validate()
                .map(|_| ())
                .unwrap_err()
                .problems()
                .to_vec();
        assert_eq!(
            problems,
            [
                ConfigProblem::UnknownScimRoles {
                    org: "acme".into(),
                    value: "lower".into()
                },
                ConfigProblem::UnknownScimNameId {
                    org: "acme".into(),
                    value: "username".into()
                }
            ]
        );
        let policy = parse(
            r#"{"orgs": {"acme": {"scim_roles": "follow", "scim_name_id": "externalId"}, "labs": {}}}"#,
        )
        .validate()
        .unwrap();
        let acme = policy.org("acme").unwrap();
        assert_eq!(acme.scim_roles(), ScimRoleSync::Follow);
        assert_eq!(acme.scim_name_id(), ScimNameId::ExternalId);
        let labs = policy.org("labs").unwrap();
        assert_eq!(labs.scim_roles(), ScimRoleSync::Raise);
        assert_eq!(labs.scim_name_id(), ScimNameId::UserName);
    }

    #[test]
    fn unknown_keys_are_refused_so_typos_do_not_fall_back_silently() {
        let result = serde_json::from_str::<Config>(
            r#"{"orgs": {"acme": {"jit": true, "idp": "x", "reauth_after_sec": 5}}}"#,
        );
        assert!(result.is_err());
    }

    #[test]
    fn toml_configs_load_too() {
        let config: Config = toml::from_str(
            r#"
            deployment = "multi_tenant"
            reserved_handles = ["ceo"]

            [orgs.acme]
            jit = true
            idp = "https://idp.acme.example"
            verified_domains = ["Acme.Example"]
            provision = [{ org = "acme", role = "contributor" }]
            "#,
        )
        .unwrap();
        let policy = config.validate().unwrap();
        assert!(policy.config_takes("ceo"));
        assert_eq!(
            policy.org("acme").unwrap().verified_domains(),
            ["acme.example"]
        );
        assert_eq!(
            policy.org("acme").unwrap().provision()[0].role,
            Role::Contributor
        );
    }
}
