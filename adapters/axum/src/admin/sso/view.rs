//! An org's SSO as its set-up page reads and changes it, apart from HTTP: the record,
//! the trust in use and the pending one, the settings an admin edits, and the engine's
//! problems, field by field.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use jit_provisioning::org::{OrgRecord, OrgState, SamlSection, UpdateError};
use jit_provisioning::{
    ConfigProblem, GrantConfig, GroupRoleConfig, OrgConfig, Role, DEFAULT_REAUTH_AFTER_SECS,
    MAX_REAUTH_AFTER_SECS,
};
use jit_provisioning_saml::{
    OrgProvider, OrgSamlConfig, PendingTrust, Preset, ServiceProvider, SpValues, TrialPass,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::admin::actions::{json_reply, Problem};

/// The largest IdP metadata the page takes, pasted, uploaded or fetched: 1 MB. One IdP's
/// metadata is a few kilobytes; a federation's aggregate of thousands is not an org's
/// IdP.
pub(crate) const MAX_METADATA_BYTES: usize = 1024 * 1024;

/// The roles an admin picks from, in order.
pub(crate) const ROLES: [Role; 3] = [Role::Member, Role::Contributor, Role::Admin];

/// An org's SSO as the page shows it.
#[derive(Debug, Clone)]
pub(crate) struct SsoView {
    pub org: String,
    /// The record the page is drawn from; `None` when the orgs come from a fixed config
    /// (nothing here can change them).
    pub record: Option<OrgRecord>,
    /// The values the IdP's admin enters.
    pub sp: SpValues,
    pub active: Option<TrustSummary>,
    pub pending_summary: Option<TrustSummary>,
    /// What an `auto` preset most likely reads, from the IdP's entity id or SSO URL.
    pub detected: Option<Preset>,
    /// The settings as the page edits them.
    pub form: SettingsForm,
    /// Something about the org's SAML settings that could not be read.
    pub unreadable: Option<String>,
}

impl SsoView {
    pub fn version(&self) -> u64 {
        self.record.as_ref().map_or(0, |record| record.version)
    }

    pub fn state(&self) -> OrgState {
        self.record
            .as_ref()
            .map_or(OrgState::Active, |record| record.config.state)
    }

    /// The org's view: `record` (none for a fixed config), with the trust in use as
    /// `loaded` (the service provider's, when it has one) describes it.
    pub fn read(
        org: &str,
        record: Option<OrgRecord>,
        saml: &ServiceProvider,
        loaded: Option<&OrgProvider>,
    ) -> SsoView {
        let section = record
            .as_ref()
            .and_then(|record| record.config.saml.clone());
        let mut unreadable = None;
        let settings = section
            .as_ref()
            .filter(|section| !section.awaits_first_trust())
            .and_then(|section| match OrgSamlConfig::from_section(section) {
                Ok(settings) => Some(settings),
                Err(problem) => {
                    unreadable = Some(problem);
                    None
                }
            });
        let pending =
            section
                .as_ref()
                .and_then(|section| match PendingTrust::from_section(section) {
                    Ok(pending) => pending,
                    Err(problem) => {
                        unreadable = Some(problem);
                        None
                    }
                });
        let expected_idp = record.as_ref().and_then(|record| record.config.idp.clone());
        let active = settings.as_ref().map(|settings| {
            match saml.provider_now(org, settings, expected_idp.as_deref()) {
                Ok(Some(provider)) => {
                    TrustSummary::of_provider(&provider, Some(source_of(settings)))
                }
                // Metadata from a URL: as the service provider last fetched it, when that
                // is this trust's.
                Ok(None) => match loaded
                    .filter(|provider| expected_idp.as_deref() == Some(provider.idp().entity_id()))
                {
                    Some(provider) => {
                        TrustSummary::of_provider(provider, Some(source_of(settings)))
                    }
                    None => TrustSummary::unread(source_of(settings), expected_idp.clone(), None),
                },
                Err(error) => TrustSummary::unread(
                    source_of(settings),
                    expected_idp.clone(),
                    Some(error.reason),
                ),
            }
        });
        let pending_summary = pending.as_ref().map(|pending| {
            let tried = pending.settings_to_try(section.as_ref());
            let mut summary = match tried
                .map(|settings| saml.provider_now(org, &settings, Some(&pending.entity_id)))
            {
                Ok(Ok(Some(provider))) => {
                    TrustSummary::of_provider(&provider, Some(pending.source.clone()))
                }
                Ok(Ok(None)) => TrustSummary::unread(
                    pending.source.clone(),
                    Some(pending.entity_id.clone()),
                    None,
                ),
                Ok(Err(error)) => TrustSummary::unread(
                    pending.source.clone(),
                    Some(pending.entity_id.clone()),
                    Some(error.reason),
                ),
                Err(problem) => TrustSummary::unread(
                    pending.source.clone(),
                    Some(pending.entity_id.clone()),
                    Some(problem),
                ),
            };
            summary.fingerprint = Some(pending.fingerprint());
            summary.staged = Some((pending.staged_by.clone(), pending.staged_at));
            summary.passed = pending.passed.clone().filter(|_| pending.is_tested());
            summary
        });
        let detected = pending_summary
            .as_ref()
            .or(active.as_ref())
            .and_then(|trust| {
                Preset::detect(trust.entity_id.as_deref()?, trust.sso_url.as_deref())
            });
        let form = match &record {
            Some(record) => SettingsForm::of(org, &record.config, settings.as_ref()),
            None => SettingsForm::default(),
        };
        SsoView {
            org: org.to_owned(),
            sp: saml.sp_values(org, settings.as_ref()),
            record,
            active,
            pending_summary,
            detected,
            form,
            unreadable,
        }
    }

    /// The page's JSON (`GET /{org}/admin/api/sso`).
    pub fn json(&self) -> Value {
        json!({
            "org": self.org,
            "editable": self.record.is_some(),
            "version": self.version(),
            "state": self.state(),
            "sp": {
                "entity_id": self.sp.entity_id,
                "acs_url": self.sp.acs_url,
                "metadata_url": self.sp.metadata_url,
                "metadata_download": super::sso_path(&self.org, "/sp-metadata.xml"),
            },
            "trust": {
                "active": self.active.as_ref().map(TrustSummary::json),
                "pending": self.pending_summary.as_ref().map(TrustSummary::json),
            },
            "settings": self.form.json(),
            "preset_detected": self.detected.map(|preset| preset.as_str()),
        })
    }
}

/// Where a trust in use comes from, in words.
fn source_of(settings: &OrgSamlConfig) -> String {
    let idp = &settings.idp;
    if let Some(url) = &idp.metadata_url {
        url.clone()
    } else if idp.metadata.is_some() {
        "metadata kept in the org's settings".to_owned()
    } else if let Some(file) = &idp.metadata_file {
        format!("metadata file {}", file.display())
    } else {
        "entity id and certificates given by hand".to_owned()
    }
}

/// One IdP trust, as far as it can be read without fetching anything.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustSummary {
    /// Where it comes from: `pasted`, `uploaded`, a URL, …
    pub source: String,
    pub entity_id: Option<String>,
    pub sso_url: Option<String>,
    /// Each signing certificate: its subject, the end of its validity, its SHA-256
    /// fingerprint.
    pub certificates: Vec<(String, Option<DateTime<Utc>>, String)>,
    /// Why it could not be read, if it could not.
    pub problem: Option<String>,
    /// A pending trust's fingerprint.
    pub fingerprint: Option<String>,
    /// Who staged a pending trust, and when.
    pub staged: Option<(String, DateTime<Utc>)>,
    /// The test that passed with exactly this pending trust.
    pub passed: Option<TrialPass>,
}

impl TrustSummary {
    fn of_provider(provider: &OrgProvider, source: Option<String>) -> Self {
        TrustSummary {
            source: source.unwrap_or_default(),
            entity_id: Some(provider.idp().entity_id().to_owned()),
            sso_url: Some(provider.sso_url().to_owned()),
            certificates: provider
                .idp()
                .certificates()
                .iter()
                .map(|certificate| {
                    (
                        certificate.subject().to_owned(),
                        certificate.not_after(),
                        certificate.fingerprint().to_owned(),
                    )
                })
                .collect(),
            ..TrustSummary::default()
        }
    }

    fn unread(source: String, entity_id: Option<String>, problem: Option<String>) -> Self {
        TrustSummary {
            source,
            entity_id,
            problem,
            ..TrustSummary::default()
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "source": self.source,
            "entity_id": self.entity_id,
            "sso_url": self.sso_url,
            "certificates": self.certificates.iter().map(|(subject, not_after, fingerprint)| json!({
                "subject": subject,
                "not_after": not_after,
                "sha256": fingerprint,
            })).collect::<Vec<_>>(),
            "problem": self.problem,
            "fingerprint": self.fingerprint,
            "staged_by": self.staged.as_ref().map(|(by, _)| by),
            "staged_at": self.staged.as_ref().map(|(_, at)| at),
            "tested": self.passed.as_ref().map(|passed| json!({
                "subject": passed.subject,
                "by": passed.by,
                "at": passed.at,
            })),
        })
    }
}

/// One `group → role` row of the org's `group_roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupRow {
    pub group: String,
    pub role: String,
}

/// The settings the page edits, as the admin writes them: strings where the engine
/// checks the value, so that its problem list says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsForm {
    /// The attribute preset (`auto`, `okta`, …).
    pub preset: String,
    pub jit: bool,
    /// The role a new account gets in this org (`provision`), or `none`.
    pub default_role: String,
    /// The org's own `group_roles` rows (rows for other orgs are kept as they are).
    #[serde(default)]
    pub group_roles: Vec<GroupRow>,
    #[serde(default)]
    pub verified_domains: Vec<String>,
    /// `None`: the default ([`DEFAULT_REAUTH_AFTER_SECS`]).
    #[serde(default)]
    pub reauth_after_secs: Option<u64>,
    #[serde(default)]
    pub force_authn: bool,
}

impl Default for SettingsForm {
    fn default() -> Self {
        SettingsForm {
            preset: Preset::Auto.as_str().to_owned(),
            jit: false,
            default_role: Role::Member.to_string(),
            group_roles: Vec::new(),
            verified_domains: Vec::new(),
            reauth_after_secs: None,
            force_authn: false,
        }
    }
}

/// What "not a member" is written as, for the default role.
pub(crate) const NO_ROLE: &str = "none";

impl SettingsForm {
    /// The settings of `org` as `config` has them.
    pub fn of(org: &str, config: &OrgConfig, settings: Option<&OrgSamlConfig>) -> Self {
        let default_role = match &config.provision {
            None => Role::Member.to_string(),
            Some(grants) => grants
                .iter()
                .find(|grant| grant.org == org)
                .map_or_else(|| NO_ROLE.to_owned(), |grant| grant.role.clone()),
        };
        let preset = settings
            .map(|settings| settings.attributes.preset)
            .or_else(|| {
                // A first trust waiting for its test keeps the preset beside it.
                config
                    .saml
                    .as_ref()?
                    .as_json()
                    .get("attributes")?
                    .get("preset")?
                    .as_str()?
                    .parse()
                    .ok()
            })
            .unwrap_or_default();
        SettingsForm {
            preset: preset.as_str().to_owned(),
            jit: config.jit,
            default_role,
            group_roles: config
                .group_roles
                .iter()
                .filter(|entry| entry.org == org)
                .map(|entry| GroupRow {
                    group: entry.group.clone(),
                    role: entry.role.clone(),
                })
                .collect(),
            verified_domains: config.verified_domains.clone(),
            reauth_after_secs: config.reauth_after_secs,
            force_authn: config.force_authn,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// `config` of `org` with these settings, or the problems that stop them being
    /// tried at all (the engine checks the rest).
    pub fn apply(&self, org: &str, config: &OrgConfig) -> Result<OrgConfig, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut config = config.clone();
        config.jit = self.jit;
        config.force_authn = self.force_authn;
        config.reauth_after_secs = self.reauth_after_secs;
        config.verified_domains = self
            .verified_domains
            .iter()
            .map(|domain| domain.trim().to_owned())
            .filter(|domain| !domain.is_empty())
            .collect();

        let role = self.default_role.trim();
        let mut grants = config.provision.clone().unwrap_or_else(|| {
            vec![GrantConfig {
                org: org.to_owned(),
                role: Role::Member.to_string(),
            }]
        });
        let was_default = config.provision.is_none();
        grants.retain(|grant| grant.org != org);
        if role != NO_ROLE {
            grants.insert(
                0,
                GrantConfig {
                    org: org.to_owned(),
                    role: role.to_owned(),
                },
            );
        }
        let is_default = matches!(grants.as_slice(), [only] if only.org == org && only.role == Role::Member.as_str());
        config.provision = if was_default && is_default {
            None
        } else {
            Some(grants)
        };

        let others = config
            .group_roles
            .iter()
            .filter(|entry| entry.org != org)
            .cloned();
        let ours = self.group_roles.iter().map(|row| GroupRoleConfig {
            group: row.group.trim().to_owned(),
            org: org.to_owned(),
            role: row.role.trim().to_owned(),
        });
        config.group_roles = ours.chain(others).collect();

        match self.preset.trim().parse::<Preset>() {
            Ok(preset) => match set_preset(config.saml.as_ref(), preset) {
                Ok(saml) => config.saml = saml,
                Err(problem) => problems.push(problem),
            },
            Err(error) => problems.push(FieldProblem::new("preset", error.to_string())),
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }
}

/// The org's SAML settings with `preset`, everything else kept.
fn set_preset(
    section: Option<&SamlSection>,
    preset: Preset,
) -> Result<Option<SamlSection>, FieldProblem> {
    let Some(section) = section else {
        if preset == Preset::Auto {
            return Ok(None);
        }
        return Err(FieldProblem::new(
            "preset",
            "this org has no SAML settings yet: stage its IdP's metadata first, then choose the preset",
        ));
    };
    let mut settings = section.as_json().clone();
    let mut attributes = match settings.remove("attributes") {
        Some(Value::Object(attributes)) => attributes,
        _ => Map::new(),
    };
    if preset == Preset::Auto {
        attributes.remove("preset");
    } else {
        attributes.insert("preset".into(), Value::String(preset.as_str().to_owned()));
    }
    if !attributes.is_empty() {
        settings.insert("attributes".into(), Value::Object(attributes));
    }
    Ok(Some(SamlSection::from_json(settings)))
}

/// One problem with one field of a save: `field` is the form field's name (`jit`,
/// `default_role`, `group_roles`, `verified_domains`, `reauth_after_secs`, `preset`,
/// `metadata`, `trust`, or `general`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldProblem {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The engine's problem, on the field of the page it is about, in words that say
    /// what to do there.
    pub fn of_config(problem: &ConfigProblem) -> Self {
        let field = match problem {
            ConfigProblem::UnknownRole { .. }
            | ConfigProblem::EmptyProvision { .. }
            | ConfigProblem::UnknownProvisionOrg { .. }
            | ConfigProblem::DuplicateProvisionOrg { .. } => "default_role",
            ConfigProblem::UnknownGroupRole { .. }
            | ConfigProblem::UnknownGroupRoleOrg { .. }
            | ConfigProblem::RoleSyncWithoutGroupRoles { .. }
            | ConfigProblem::EmptyEntry {
                field: "group_roles",
                ..
            } => "group_roles",
            ConfigProblem::InvalidDomain { .. }
            | ConfigProblem::EmptyEntry {
                field: "verified_domains",
                ..
            } => "verified_domains",
            ConfigProblem::ReauthTooLong { .. } => "reauth_after_secs",
            ConfigProblem::JitWithoutIdp { .. } | ConfigProblem::EntityIdInMetadata { .. } => "jit",
            ConfigProblem::EntityIdMismatch { .. } | ConfigProblem::Sso { .. } => "trust",
            _ => "general",
        };
        let message = match problem {
            ConfigProblem::JitWithoutIdp { org } => format!(
                "org `{org}` has no IdP trust in use yet, so JIT sign-ins cannot be on: stage the IdP's metadata, test it and activate it first"
            ),
            ConfigProblem::ReauthTooLong { secs, .. } => format!(
                "{secs} seconds is too long: the reauthentication window is at most {MAX_REAUTH_AFTER_SECS} seconds (366 days); leave it empty for the default, {DEFAULT_REAUTH_AFTER_SECS} (12 hours)"
            ),
            other => other.to_string(),
        };
        FieldProblem::new(field, message)
    }
}

/// Why an SSO change was not made: a refusal of the request, or problems with what it
/// asked for. Nothing changed.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    Problem(Problem),
    /// The engine's (or this page's) problems, field by field: a 422.
    Invalid(Vec<FieldProblem>),
}

impl From<Problem> for Refusal {
    fn from(problem: Problem) -> Self {
        Refusal::Problem(problem)
    }
}

impl Refusal {
    /// The problem of an update the registry refused.
    pub fn of_update(error: UpdateError, org: &str, what: &str) -> Self {
        match error {
            UpdateError::Invalid(error) => {
                Refusal::Invalid(error.problems().iter().map(FieldProblem::of_config).collect())
            }
            UpdateError::Conflict {
                expected, current, ..
            } => Refusal::Problem(Problem::new(
                StatusCode::CONFLICT,
                "version_conflict",
                format!(
                    "someone changed the SSO settings of {org} since this page was drawn (it shows version {expected}, the org is at version {current}); nothing was saved: reload the page and make your change again"
                ),
            )),
            UpdateError::UnknownOrg(_) => Refusal::Problem(Problem::new(
                StatusCode::NOT_FOUND,
                "no_such_org",
                format!("there is no organization `{org}` here: check the address"),
            )),
            other => Refusal::Problem(Problem::failed(what, &other)),
        }
    }

    /// One line for a notice.
    pub fn message(&self) -> String {
        match self {
            Refusal::Problem(problem) => problem.message.clone(),
            Refusal::Invalid(problems) => format!(
                "nothing was saved: {}",
                problems
                    .iter()
                    .map(|problem| problem.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }

    /// The API's error: `{"error", "message"}`, and `"problems"` field by field.
    pub fn json(&self) -> axum::response::Response {
        match self {
            Refusal::Problem(problem) => problem.json(),
            Refusal::Invalid(problems) => json_reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                &json!({
                    "error": if problems.iter().any(|problem| problem.field == "metadata") {
                        "invalid_metadata"
                    } else {
                        "invalid_settings"
                    },
                    "message": self.message(),
                    "problems": problems,
                }),
            ),
        }
    }
}

/// The request's version of the org, as the page or the API gave it.
pub(crate) fn parse_version(text: Option<&str>) -> Result<u64, Problem> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_version",
                "the change names no version of the org's settings to change: reload the page and try again; nothing was saved",
            )
        })
}

/// A reauthentication window as the form writes it: empty for the default.
pub(crate) fn parse_reauth(text: Option<&str>) -> Result<Option<u64>, FieldProblem> {
    let text = text.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        FieldProblem::new(
            "reauth_after_secs",
            format!(
                "`{text}` is not a number of seconds: give a whole number from 0 to {MAX_REAUTH_AFTER_SECS}, or leave it empty for the default ({DEFAULT_REAUTH_AFTER_SECS}, 12 hours)"
            ),
        )
    })
}

/// `group = role` rows, one a line: the last `=` splits them (group names such as LDAP
/// DNs hold `=` themselves).
pub(crate) fn parse_group_rows(text: &str) -> Result<Vec<GroupRow>, FieldProblem> {
    let mut rows = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((group, role)) = line.rsplit_once('=') else {
            return Err(FieldProblem::new(
                "group_roles",
                format!(
                    "line {} (`{line}`) is not `group = role`: write the group as the IdP sends it, then `=`, then member, contributor or admin",
                    number + 1
                ),
            ));
        };
        rows.push(GroupRow {
            group: group.trim().to_owned(),
            role: role.trim().to_owned(),
        });
    }
    Ok(rows)
}

/// Domains, one a line or separated by commas or spaces.
pub(crate) fn parse_domains(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|domain| !domain.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn group_rows_split_at_the_last_equals_sign() {
        let rows =
            parse_group_rows("cn=admins,ou=groups = admin\n\n engineering=contributor ").unwrap();
        assert_eq!(
            rows,
            [
                GroupRow {
                    group: "cn=admins,ou=groups".into(),
                    role: "admin".into()
                },
                GroupRow {
                    group: "engineering".into(),
                    role: "contributor".into()
                }
            ]
        );
        let problem = parse_group_rows("admins").unwrap_err();
        assert_eq!(problem.field, "group_roles");
        assert!(problem.message.contains("line 1"), "{}", problem.message);
    }

    #[test]
    fn the_default_role_stays_the_default_and_other_orgs_grants_stay() {
        let config: OrgConfig = serde_json::from_value(json!({
            "jit": true,
            "idp": "https://idp",
            "group_roles": [{"group": "ops", "org": "globex", "role": "member"}]
        }))
        .unwrap();
        let mut form = SettingsForm::of("acme", &config, None);
        assert_eq!(form.default_role, "member");
        let same = form.apply("acme", &config).unwrap();
        assert_eq!(same.provision, None);
        assert_eq!(same, config);

        form.default_role = "contributor".into();
        form.group_roles = vec![GroupRow {
            group: "eng".into(),
            role: "admin".into(),
        }];
        let changed = form.apply("acme", &config).unwrap();
        let provision = changed.provision.unwrap();
        assert_eq!(provision.len(), 1);
        assert_eq!(provision.first().unwrap().role, "contributor");
        assert_eq!(changed.group_roles.len(), 2);
        assert!(changed
            .group_roles
            .iter()
            .any(|entry| entry.org == "globex"));
    }

    #[test]
    fn a_preset_needs_saml_settings_to_live_in() {
        let config: OrgConfig = serde_json::from_value(json!({})).unwrap();
        let mut form = SettingsForm::of("acme", &config, None);
        form.preset = "okta".into();
        let problems = form.apply("acme", &config).unwrap_err();
        assert_eq!(problems.first().unwrap().field, "preset");
        form.preset = "oktaa".into();
        let problems = form.apply("acme", &config).unwrap_err();
        assert!(problems
            .first()
            .unwrap()
            .message
            .contains("unknown IdP preset"));
    }
}
