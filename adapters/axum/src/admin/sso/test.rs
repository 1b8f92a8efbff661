//! Test sign-ins: a real trip to the IdP with the trust under test (the pending one, or
//! the one in use when nothing is pending), answered at the org's assertion consumer,
//! verified and decided as if the org were active, with nothing written and no one
//! signed in; and what the result page shows of it.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use jit_provisioning::org::{OrgRecord, OrgRegistry, OrgUpdate};
use jit_provisioning::{
    AccountStore, Decision, IdpBinding, IdpRedirect, IdpTrip, LoginError, Provisioner, Role, Rule,
    SamlPost, SamlVerifier,
};
use jit_provisioning_saml::{OrgProvider, OrgSamlConfig, PendingTrust, TrialPass, TrialReport};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tower_sessions::Session;

use super::view::Refusal;
use crate::admin::actions::Problem;
use crate::admin::OrgAdmin;
use crate::session::{self, TestTrip};

/// What a test sign-in tries.
pub(crate) struct UnderTest {
    /// The pending trust (`None`: the trust in use).
    pub pending: Option<PendingTrust>,
    /// The org's config as it would be with the trust tried in use.
    pub config: jit_provisioning::OrgConfig,
    /// The provider it verifies with.
    pub provider: OrgProvider,
}

impl UnderTest {
    pub fn fingerprint(&self) -> Option<String> {
        self.pending.as_ref().map(PendingTrust::fingerprint)
    }
}

/// The trust of `record` a test sign-in tries: the pending one, or the one in use when
/// nothing is pending; `expect` names the pending trust a test started with, which
/// must still be the one pending. Its metadata is fetched if it comes from a URL.
pub(crate) async fn under_test<S: AccountStore + 'static>(
    admin: &OrgAdmin<S>,
    record: &OrgRecord,
    expect: Option<Option<&str>>,
) -> Result<UnderTest, Problem> {
    let org = record.id.as_str();
    let section = record.config.saml.as_ref();
    let pending = match section.map(PendingTrust::from_section).transpose() {
        Ok(pending) => pending.flatten(),
        Err(problem) => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "trust_unusable",
                format!("{problem}; stage the IdP's metadata again"),
            ))
        }
    };
    if let Some(expected) = expect {
        let found = pending.as_ref().map(PendingTrust::fingerprint);
        if found.as_deref() != expected {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "trust_changed",
                "the IdP trust under test changed while you were at your IdP (someone staged or activated another): start the test sign-in again",
            ));
        }
    }
    let unusable = |what: &str, reason: String| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "trust_unusable",
            format!("{what} cannot be used: {reason}"),
        )
    };
    let mut config = record.config.clone();
    let (settings, expected): (OrgSamlConfig, Option<String>) = match &pending {
        Some(pending) => (
            pending
                .settings_to_try(section)
                .map_err(|problem| unusable("the pending IdP trust", problem))?,
            Some(pending.entity_id.clone()),
        ),
        None => {
            let section =
                section
                    .filter(|section| !section.awaits_first_trust())
                    .ok_or_else(|| {
                        Problem::new(
                    StatusCode::CONFLICT,
                    "nothing_to_test",
                    format!("{org} has no IdP trust to test yet: stage its IdP's metadata first"),
                )
                    })?;
            (
                OrgSamlConfig::from_section(section)
                    .map_err(|problem| unusable("the IdP trust in use", problem))?,
                record.config.idp.clone(),
            )
        }
    };
    let what = if pending.is_some() {
        "the pending IdP trust"
    } else {
        "the IdP trust in use"
    };
    let provider = admin
        .sso
        .saml
        .provider_for(org, &settings, expected.as_deref())
        .await
        .map_err(|error| unusable(what, error.reason))?;
    if let Some(pending) = &pending {
        config.saml = Some(pending.promoted(section));
        config.idp = Some(provider.idp().entity_id().to_owned());
    }
    Ok(UnderTest {
        pending,
        config,
        provider,
    })
}

/// Where the browser goes to make the test's trip: the IdP's redirect, or the form
/// that posts to it.
pub(crate) async fn start<S: AccountStore + 'static>(
    admin: &OrgAdmin<S>,
    session: &Session,
    record: &OrgRecord,
) -> Result<(IdpRedirect, Option<String>), Refusal> {
    let tried = under_test(admin, record, None).await?;
    let verifier = admin.sso.saml.trial(tried.provider.clone());
    let mut trip = IdpTrip::new(record.id.clone(), tried.provider.idp().entity_id());
    trip.force_authn = record.config.force_authn;
    let now = admin.now();
    let redirect = verifier
        .authn_request(&trip, now)
        .await
        .map_err(|error| Problem::failed("no AuthnRequest for a test sign-in", &error))?;
    let trust = tried.fingerprint();
    session::expect_test(
        session,
        TestTrip {
            id: redirect.request_id.clone(),
            org: record.id.clone(),
            issued_at: redirect.issued_at,
            trust: trust.clone(),
        },
    )
    .await
    .map_err(|error| Problem::failed("the session could not be written", &error))?;
    Ok((redirect, trust))
}

/// The API's answer to a started test: where to send the browser.
pub(crate) fn trip_json(redirect: &IdpRedirect, trust: Option<&str>) -> Value {
    let tried =
        json!({"trust": if trust.is_some() { "pending" } else { "in_use" }, "fingerprint": trust});
    let mut body = match &redirect.binding {
        IdpBinding::Redirect { url } => json!({"binding": "redirect", "redirect": url}),
        IdpBinding::Post { url, fields } => json!({
            "binding": "post",
            "redirect": url,
            "url": url,
            "fields": fields
                .iter()
                .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                .collect::<serde_json::Map<String, Value>>(),
        }),
        _ => json!({}),
    };
    if let (Value::Object(body), Value::Object(tried)) = (&mut body, tried) {
        body.extend(tried);
    }
    body
}

/// One check of the result, as `saml verify --explain` lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CheckLine {
    pub check: String,
    /// `pass` or `fail`.
    pub result: String,
    pub detail: String,
}

/// One attribute the IdP sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AttributeLine {
    pub name: String,
    pub values: Vec<String>,
}

/// What the attributes map to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Mapped {
    pub subject: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub groups_incomplete: bool,
}

/// What the sign-in would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DecisionLine {
    pub outcome: String,
    pub rule: String,
    /// The rule, in one sentence.
    pub statement: String,
    pub reason: Option<String>,
    /// What the person would be told, for a refusal.
    pub message: Option<String>,
    /// The account's handle: the one a new account would get, or the existing one's.
    pub handle: Option<String>,
    /// Whether the account would be created.
    pub creates_account: bool,
    /// The roles the account would hold, org by org.
    pub roles: Vec<(String, Role)>,
    /// The whole plan, as the engine explains it.
    pub explanation: String,
}

/// A test sign-in's result: what the result page and `GET /{org}/admin/api/sso/test`
/// show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TestResult {
    pub org: String,
    pub at: DateTime<Utc>,
    /// Who made the test.
    pub by: String,
    /// The fingerprint of the pending trust tested; `None`: the trust in use.
    pub trust: Option<String>,
    pub entity_id: Option<String>,
    pub passed: bool,
    /// The check that failed and what it found, when the test failed.
    pub failure: Option<CheckLine>,
    pub checks: Vec<CheckLine>,
    pub issuer: Option<String>,
    pub name_id: Option<String>,
    pub attributes: Vec<AttributeLine>,
    /// Whether the attributes are from a verified assertion (else: what a response that
    /// did not verify claims).
    pub attributes_verified: bool,
    pub mapped: Option<Mapped>,
    pub decision: Option<DecisionLine>,
    /// What else the admin should know (JIT off, a pass that could not be recorded).
    pub notes: Vec<String>,
    /// Whether the pending trust may be activated now.
    pub activatable: bool,
    /// Whether activating it also opens the sign-ins of a draft org.
    pub opens: bool,
}

impl TestResult {
    pub fn json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(decision) = value.get_mut("decision").and_then(Value::as_object_mut) {
            let roles: Vec<Value> = self
                .decision
                .iter()
                .flat_map(|decision| decision.roles.iter())
                .map(|(org, role)| json!({"org": org, "role": role}))
                .collect();
            decision.insert("roles".into(), Value::Array(roles));
        }
        value
    }

    /// What the audit log records of it.
    pub fn action(&self) -> jit_provisioning::AdminAction {
        match (&self.failure, self.passed) {
            (None, true) => jit_provisioning::AdminAction::SsoTestPassed {
                trust: self.trust.clone(),
                entity_id: self.entity_id.clone().unwrap_or_default(),
                subject: self
                    .mapped
                    .as_ref()
                    .map(|mapped| mapped.subject.clone())
                    .or_else(|| self.name_id.clone())
                    .unwrap_or_default(),
            },
            (failure, _) => jit_provisioning::AdminAction::SsoTestFailed {
                trust: self.trust.clone(),
                check: failure
                    .as_ref()
                    .map_or_else(|| "refused".to_owned(), |line| line.check.clone()),
                detail: failure
                    .as_ref()
                    .map_or_else(String::new, |line| line.detail.clone()),
            },
        }
    }
}

/// The rules that refuse an assertion for what it is, not for whom it is about: a test
/// that ends in one of them did not pass.
const UNSOUND: [Rule; 3] = [
    Rule::InvalidAssertion,
    Rule::ReplayedAssertion,
    Rule::WrongIssuer,
];

/// Verifies and decides the answer to `trip` with the trust it tested, writing nothing.
pub(crate) async fn run<S: AccountStore + 'static>(
    admin: &OrgAdmin<S>,
    registry: &OrgRegistry,
    record: &OrgRecord,
    trip: &TestTrip,
    saml_response: &str,
    actor: &str,
) -> TestResult {
    let now = admin.now();
    let mut result = TestResult {
        org: record.id.clone(),
        at: now,
        by: actor.to_owned(),
        trust: trip.trust.clone(),
        entity_id: None,
        passed: false,
        failure: None,
        checks: Vec::new(),
        issuer: None,
        name_id: None,
        attributes: Vec::new(),
        attributes_verified: false,
        mapped: None,
        decision: None,
        notes: Vec::new(),
        activatable: false,
        opens: false,
    };
    let tried = match under_test(admin, record, Some(trip.trust.as_deref())).await {
        Ok(tried) => tried,
        Err(problem) => {
            result.failure = Some(CheckLine {
                check: problem.code.to_owned(),
                result: "fail".into(),
                detail: problem.message,
            });
            return result;
        }
    };
    result.entity_id = Some(tried.provider.idp().entity_id().to_owned());
    let mut config = tried.config.clone();
    if !config.jit {
        // Without JIT an org has no portal at all: the test shows what a sign-in would
        // do once it is on.
        config.jit = true;
        result.notes.push(format!(
            "JIT sign-ins are off for {}: the decision below is what a sign-in would do with them on.",
            record.id
        ));
    }
    let tried_record = OrgRecord::new(
        record.id.clone(),
        config,
        record.version,
        record.updated_at,
        record.updated_by.clone(),
    );
    // The org as it would be, the rest of the directory as it is; the accounts and
    // invites as they are, read and never written.
    let trial = Arc::new(registry.trial(tried_record));
    let provisioner = Provisioner::with_registry(trial, admin.provisioner.store())
        .with_invites(Arc::clone(&admin.memberships));
    let verifier = admin.sso.saml.trial(tried.provider);
    let post = SamlPost::new(record.id.clone(), saml_response).with_request_ids([trip.id.clone()]);
    let decided = provisioner
        .test_login(&verifier, admin.sso.replay_guard.as_ref(), &post, now)
        .await;
    let report = verifier.report();
    fill_report(&mut result, &report);
    match decided {
        Ok(decision) => {
            let sound = !UNSOUND.contains(&decision.rule());
            result.decision = Some(decision_line(admin, &decision, &record.id).await);
            if report.verified() && sound {
                result.passed = true;
            } else if result.failure.is_none() {
                result.failure = Some(match &report.status {
                    Some(status) => CheckLine {
                        check: "idp_status".into(),
                        result: "fail".into(),
                        detail: format!(
                            "the IdP answered {}{}{} instead of signing the person in",
                            status.status,
                            status
                                .sub_status
                                .as_deref()
                                .map(|sub| format!(" ({sub})"))
                                .unwrap_or_default(),
                            status
                                .message
                                .as_deref()
                                .map(|message| format!(": {message}"))
                                .unwrap_or_default(),
                        ),
                    },
                    None => CheckLine {
                        check: decision.rule().id().to_owned(),
                        result: "fail".into(),
                        detail: decision.rule().statement().to_owned(),
                    },
                });
            }
        }
        Err(LoginError::Unverified(error)) if result.failure.is_none() => {
            result.failure = Some(CheckLine {
                check: "unverified".into(),
                result: "fail".into(),
                detail: error.to_string(),
            });
        }
        Err(LoginError::Unverified(_)) => {}
        Err(error) => {
            tracing::error!(org = %record.id, error = %error, "a test sign-in failed");
            result.failure = Some(CheckLine {
                check: "failed".into(),
                result: "fail".into(),
                detail: jit_provisioning::web::FAILED.to_owned(),
            });
        }
    }
    if let Some(failure) = &result.failure {
        result.checks.push(failure.clone());
    }
    result
}

/// The checks, attributes and mapping of a verifier's report.
fn fill_report(result: &mut TestResult, report: &TrialReport) {
    result.checks = report
        .checks
        .iter()
        .map(|check| CheckLine {
            check: check.check.to_owned(),
            result: "pass".into(),
            detail: check.detail.clone(),
        })
        .collect();
    if let Some(error) = &report.failure {
        result.failure = Some(CheckLine {
            check: error.category().as_str().to_owned(),
            result: "fail".into(),
            detail: error.to_string(),
        });
    }
    let attributes = |list: &[jit_provisioning_saml::Attribute]| {
        list.iter()
            .map(|attribute| AttributeLine {
                name: attribute.name.clone(),
                values: attribute.values.clone(),
            })
            .collect()
    };
    if let Some(signed) = &report.signed {
        result.issuer = Some(signed.issuer.clone());
        result.name_id = signed.name_id.as_ref().map(|name_id| name_id.value.clone());
        result.attributes = attributes(&signed.attributes);
        result.attributes_verified = true;
    } else if let Some(unverified) = &report.unverified {
        result.issuer.clone_from(&unverified.issuer);
        result.name_id = unverified
            .name_id
            .as_ref()
            .map(|name_id| name_id.value.clone());
        result.attributes = attributes(&unverified.attributes);
    }
    if let Some(assertion) = &report.assertion {
        result.mapped = Some(Mapped {
            subject: assertion.subject.clone(),
            given_name: assertion.given_name.clone(),
            family_name: assertion.family_name.clone(),
            email: assertion.email.clone(),
            groups: assertion.groups.clone(),
            groups_incomplete: assertion.groups_incomplete,
        });
    }
}

/// The decision in the result page's words: the handle and the roles it comes to.
async fn decision_line<S: AccountStore + 'static>(
    admin: &OrgAdmin<S>,
    decision: &Decision,
    org: &str,
) -> DecisionLine {
    let existing = match decision.signed_in_account() {
        Some(id) => admin
            .provisioner
            .store()
            .account_by_id(id)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let mut roles: Vec<(String, Role)> = existing
        .as_ref()
        .map(|account| {
            account
                .memberships
                .iter()
                .map(|(org, role)| (org.clone(), *role))
                .collect()
        })
        .unwrap_or_default();
    for grant in decision.grants().iter().chain(decision.raises()) {
        match roles.iter_mut().find(|(held, _)| *held == grant.org) {
            Some((_, role)) => *role = (*role).max(grant.role),
            None => roles.push((grant.org.clone(), grant.role)),
        }
    }
    // The org tested first, then the others by name.
    roles.sort_by(|a, b| (a.0 != org, &a.0).cmp(&(b.0 != org, &b.0)));
    DecisionLine {
        outcome: decision.outcome().to_string(),
        rule: decision.rule().id().to_owned(),
        statement: decision.rule().statement().to_owned(),
        reason: decision.reason().map(|reason| reason.to_string()),
        message: decision.message().map(str::to_owned),
        handle: decision
            .new_handle()
            .map(str::to_owned)
            .or_else(|| existing.map(|account| account.handle)),
        creates_account: decision.new_handle().is_some(),
        roles,
        explanation: decision.explanation(),
    }
}

/// Records a pass with the pending trust in the org's record, bound to the trust's
/// fingerprint: `Ok(false)` when there is nothing to record (the trust in use).
pub(crate) async fn record_pass(
    registry: &OrgRegistry,
    record: &OrgRecord,
    result: &TestResult,
    actor: &str,
) -> Result<bool, String> {
    let Some(fingerprint) = &result.trust else {
        return Ok(false);
    };
    let section = record.config.saml.as_ref();
    let mut pending = section
        .map(PendingTrust::from_section)
        .transpose()?
        .flatten()
        .filter(|pending| pending.fingerprint() == *fingerprint)
        .ok_or("the pending trust changed meanwhile")?;
    pending.passed = Some(TrialPass::new(
        fingerprint.clone(),
        result.entity_id.clone().unwrap_or_default(),
        result
            .mapped
            .as_ref()
            .map(|mapped| mapped.subject.clone())
            .unwrap_or_default(),
        actor,
        result.at,
    ));
    let mut config = record.config.clone();
    config.saml = Some(pending.staged_in(section));
    registry
        .update(
            OrgUpdate::new(
                record.id.clone(),
                config,
                format!("admin:{actor}"),
                result.at,
            )
            .expecting(record.version),
        )
        .await
        .map(|_| true)
        .map_err(|error| error.to_string())
}
