//! An org's SSO set-up page (`/{org}/admin/sso`) and its JSON API: the values to enter
//! in the IdP, the IdP's trust (in use, and pending), a test sign-in, activation, and the
//! org's SSO settings.
//!
//! # Trust changes wait for a passing test
//!
//! A new IdP trust (metadata pasted, uploaded or fetched from a URL) is written to the
//! org's record as *pending*, under `saml.pending`
//! ([`PendingTrust`](jit_provisioning_saml::PendingTrust)), so that every app server
//! sees it and a restart keeps it, while `saml.idp`, the trust in use, goes on serving
//! sign-ins. "Test sign-in" sends the admin's browser to the IdP with an AuthnRequest
//! that the session keeps apart from sign-ins' (a [`TestTrip`](crate::session::TestTrip),
//! with the fingerprint of the trust under test). When the IdP posts back to the org's
//! assertion consumer, a response that claims to answer one of those requests is handed
//! here: verified with the trust under test alone, and decided by
//! `Provisioner::test_login` over a trial of the org's registry with that trust in use,
//! so that no one is signed in, nothing is created, and the session's sign-in stays as
//! it was. A pass is written into the pending trust, bound to its fingerprint; staging
//! another trust replaces it, pass and all, so that only the exact trust a test passed
//! with can be activated.

mod page;
mod test;
mod view;

use std::sync::{Arc, PoisonError};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FormRejection};
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use jit_provisioning::org::{
    changes_between, OrgRecord, OrgRegistry, OrgState, OrgUpdate, SamlSection,
};
use jit_provisioning::{AccountStore, AdminAction, AdminEvent, IdpBinding, ReplayGuard};
use jit_provisioning_saml::{FetchError, IdpSource, OrgSamlConfig, PendingTrust, ServiceProvider};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_sessions::Session;

use self::page::{Drawing, SettingsInputs};
use self::test::TestResult;
use self::view::{
    parse_domains, parse_group_rows, parse_reauth, parse_version, FieldProblem, GroupRow, Refusal,
    SettingsForm, SsoView, MAX_METADATA_BYTES,
};
use super::actions::{json_reply, Acting, Problem};
use super::page::admin_path;
use super::{csrf, json_body, Notice, OrgAdmin};
use crate::headers::{CspNonce, FormTarget};
use crate::pages::PostForm;
use crate::portal::{form_target, SsoPortal, SsoTests};
use crate::session;

/// Where the notice of the last SSO change waits for the page that shows it.
const SSO_NOTICE: &str = "jit.admin.sso_notice";

/// `/{org}/admin/sso{path}`.
pub(crate) fn sso_path(org: &str, path: &str) -> String {
    admin_path(org, &format!("/sso{path}"))
}

/// What the SSO pages share with the portal.
pub(crate) struct Shared<S> {
    pub saml: Arc<ServiceProvider>,
    pub replay_guard: Arc<dyn ReplayGuard>,
    /// Where the portal's assertion consumer finds these pages.
    tests: SsoTests<S>,
}

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Shared {
            saml: Arc::clone(&self.saml),
            replay_guard: Arc::clone(&self.replay_guard),
            tests: Arc::clone(&self.tests),
        }
    }
}

impl<S> Shared<S> {
    pub fn of(portal: &SsoPortal<S>) -> Self {
        Shared {
            saml: Arc::clone(&portal.saml),
            replay_guard: Arc::clone(&portal.replay_guard),
            tests: Arc::clone(&portal.sso_tests),
        }
    }
}

/// The routes of the SSO pages.
pub(super) fn routes<S: AccountStore + 'static>() -> Router<OrgAdmin<S>> {
    Router::new()
        .route("/{org}/admin/sso", get(sso_page::<S>))
        .route("/{org}/admin/sso/sp-metadata.xml", get(sp_metadata::<S>))
        .route("/{org}/admin/sso/settings", post(form_settings::<S>))
        .route("/{org}/admin/sso/metadata", post(form_metadata::<S>))
        .route(
            "/{org}/admin/sso/test",
            get(test_page::<S>).post(form_test::<S>),
        )
        .route("/{org}/admin/sso/activate", post(form_activate::<S>))
        .route(
            "/{org}/admin/api/sso",
            get(api_sso::<S>).put(api_settings::<S>),
        )
        .route("/{org}/admin/api/sso/metadata", post(api_metadata::<S>))
        .route(
            "/{org}/admin/api/sso/test",
            get(api_test_result::<S>).post(api_test::<S>),
        )
        .route("/{org}/admin/api/sso/activate", post(api_activate::<S>))
}

/// New IdP metadata, as an admin gave it.
enum Staging {
    /// The XML, pasted (`uploaded`: read from a chosen file).
    Xml { text: String, uploaded: bool },
    /// A URL to fetch it from.
    Url(String),
}

impl<S: AccountStore + 'static> OrgAdmin<S> {
    /// Hands the portal's assertion consumer the answers to these pages' test sign-ins
    /// (a copy of the pages, without the way back to the portal).
    pub(super) fn answer_test_sign_ins(&self) {
        let mut answering = self.clone();
        answering.sso.tests = Arc::default();
        *self
            .sso
            .tests
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(answering);
    }

    /// The registry the org is changed through, or the refusal of a site whose orgs
    /// come from a fixed config.
    fn registry(&self) -> Result<&Arc<OrgRegistry>, Problem> {
        self.provisioner.registry().ok_or_else(|| {
            Problem::new(
                StatusCode::CONFLICT,
                "orgs_from_file",
                "this site's organizations come from its config file: their SSO settings change there, not here; nothing changed",
            )
        })
    }

    /// The org's record as the directory holds it now (not as a cache may).
    async fn current(&self, org: &str) -> Result<OrgRecord, Problem> {
        self.registry()?
            .directory()
            .org(org)
            .await
            .map_err(|error| Problem::failed("the org could not be read", &error))?
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::NOT_FOUND,
                    "no_such_org",
                    format!("there is no organization `{org}` here: check the address"),
                )
            })
    }

    /// The SSO page's view of `org`.
    async fn sso_view(&self, org: &str) -> Result<SsoView, Problem> {
        let record = match self.provisioner.registry() {
            Some(_) => Some(self.current(org).await?),
            None => None,
        };
        let loaded = self.sso.saml.org(org);
        Ok(SsoView::read(
            org,
            record,
            &self.sso.saml,
            loaded.as_deref(),
        ))
    }

    /// Records `action` in the audit log.
    async fn record_sso(&self, acting: Acting<'_>, action: AdminAction) -> Result<(), Problem> {
        tracing::info!(
            org = acting.org,
            actor = acting.actor,
            action = action.name(),
            "{action}"
        );
        let event = AdminEvent::new(acting.org, acting.actor, acting.now, action);
        self.audit.record(&event).await.map_err(|error| {
            tracing::error!(error = %error, org = acting.org, "an SSO change was made but not recorded in the audit log");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "audit_failed",
                "the change was made, but it could not be recorded in the audit log: tell the site's admin",
            )
        })
    }

    /// Saves `form` over the org's settings at `version`.
    async fn save_settings(
        &self,
        acting: Acting<'_>,
        version: u64,
        form: &SettingsForm,
    ) -> Result<String, Refusal> {
        let registry = self.registry()?;
        let record = self.current(acting.org).await?;
        let config = form
            .apply(acting.org, &record.config)
            .map_err(Refusal::Invalid)?;
        let changes = changes_between(Some(&record.config), &config);
        if changes.is_empty() && record.version == version {
            return Ok("the SSO settings are as you sent them already; nothing changed".to_owned());
        }
        let written = registry
            .update(
                OrgUpdate::new(
                    acting.org,
                    config,
                    format!("admin:{}", acting.actor),
                    acting.now,
                )
                .expecting(version),
            )
            .await
            .map_err(|error| {
                Refusal::of_update(error, acting.org, "the SSO settings could not be saved")
            })?;
        let fields: Vec<String> = changes.into_iter().map(|change| change.field).collect();
        self.record_sso(
            acting,
            AdminAction::SsoSettingsChanged {
                version: written.version,
                fields: fields.clone(),
            },
        )
        .await?;
        Ok(format!("saved the SSO settings ({})", fields.join(", ")))
    }

    /// Stages new IdP metadata as the org's pending trust.
    async fn stage(
        &self,
        acting: Acting<'_>,
        version: u64,
        staging: Staging,
    ) -> Result<String, Refusal> {
        let registry = self.registry()?;
        let invalid =
            |message: String| Refusal::Invalid(vec![FieldProblem::new("metadata", message)]);
        let (idp, text, source) = match staging {
            Staging::Xml { text, uploaded } => {
                let text = text.trim().to_owned();
                if text.is_empty() {
                    return Err(invalid(
                        "give the IdP's metadata: paste it, choose its file, or give its URL; nothing was staged".to_owned(),
                    ));
                }
                let idp = IdpSource {
                    metadata: Some(text.clone()),
                    ..IdpSource::default()
                };
                let source = if uploaded { "uploaded" } else { "pasted" };
                (idp, text, source.to_owned())
            }
            Staging::Url(url) => {
                let url = url.trim().to_owned();
                let fetcher = self.sso.saml.metadata_fetcher().ok_or_else(|| {
                    invalid("this site fetches no metadata URLs: paste the IdP's metadata or choose its file instead; nothing was staged".to_owned())
                })?;
                let fetched = fetcher.fetch(&url).await.map_err(|error| {
                    let code = match error {
                        FetchError::RefusedAddress { .. } => "refused_address",
                        FetchError::NotHttps { .. } | FetchError::BadUrl { .. } => "bad_url",
                        FetchError::TooLarge { .. } => "metadata_too_large",
                        _ => "fetch_failed",
                    };
                    tracing::info!(org = acting.org, code, error = %error, "IdP metadata not fetched");
                    if code == "metadata_too_large" {
                        Refusal::Problem(too_large(None))
                    } else {
                        invalid(format!("{error}; nothing was staged"))
                    }
                })?;
                let idp = IdpSource {
                    metadata_url: Some(url.clone()),
                    ..IdpSource::default()
                };
                (idp, fetched.body, url)
            }
        };
        if text.len() > MAX_METADATA_BYTES {
            return Err(too_large(Some(text.len())).into());
        }
        let record = self.current(acting.org).await?;
        let section = record.config.saml.as_ref();
        // The settings in use (attributes, options) with this IdP, read from the text
        // just given or fetched.
        let mut settings = section
            .map(|section| section.as_json().clone())
            .unwrap_or_default();
        settings.remove(SamlSection::PENDING);
        settings.insert("idp".into(), json!({ "metadata": text }));
        let tried = OrgSamlConfig::from_section(&SamlSection::from_json(settings))
            .map_err(|problem| Refusal::Invalid(vec![FieldProblem::new("trust", problem)]))?;
        let provider = self
            .sso
            .saml
            .provider_now(acting.org, &tried, None)
            .map_err(|error| invalid(format!("{}; nothing was staged", error.reason)))?
            .ok_or_else(|| {
                invalid("the IdP metadata could not be read; nothing was staged".to_owned())
            })?;
        let entity_id = provider.idp().entity_id().to_owned();
        let pending = PendingTrust::new(
            idp,
            entity_id.clone(),
            source.clone(),
            acting.actor,
            acting.now,
            version.saturating_add(1),
        );
        let mut config = record.config.clone();
        config.saml = Some(pending.staged_in(section));
        registry
            .update(
                OrgUpdate::new(
                    acting.org,
                    config,
                    format!("admin:{}", acting.actor),
                    acting.now,
                )
                .expecting(version),
            )
            .await
            .map_err(|error| {
                Refusal::of_update(error, acting.org, "the IdP trust could not be staged")
            })?;
        let fingerprint = pending.fingerprint();
        self.record_sso(
            acting,
            AdminAction::SsoTrustStaged {
                trust: fingerprint,
                entity_id: entity_id.clone(),
                source,
            },
        )
        .await?;
        Ok(format!(
            "staged the IdP trust of {entity_id} as pending: sign-ins go on with the trust in use until a test sign-in passes with it and you activate it"
        ))
    }

    /// Makes the pending trust of `fingerprint`, tested, the trust in use.
    async fn activate(&self, acting: Acting<'_>, fingerprint: &str) -> Result<String, Refusal> {
        let registry = self.registry()?;
        let record = self.current(acting.org).await?;
        let section = record.config.saml.as_ref();
        let conflict = |code: &'static str, message: String| {
            Refusal::Problem(Problem::new(StatusCode::CONFLICT, code, message))
        };
        let pending = section
            .map(PendingTrust::from_section)
            .transpose()
            .map_err(|problem| Refusal::Invalid(vec![FieldProblem::new("trust", problem)]))?
            .flatten()
            .ok_or_else(|| {
                conflict(
                    "nothing_pending",
                    format!(
                        "{} has no pending IdP trust to activate; nothing changed",
                        acting.org
                    ),
                )
            })?;
        if pending.fingerprint() != fingerprint.trim() {
            return Err(conflict(
                "trust_changed",
                "the pending IdP trust is not the one you tested: it was changed after the test; test a sign-in with it, then activate it; nothing changed".to_owned(),
            ));
        }
        let Some(passed) = pending.passed.clone().filter(|_| pending.is_tested()) else {
            return Err(conflict(
                "not_tested",
                "no test sign-in has passed with the pending IdP trust: test a sign-in with it first; nothing changed".to_owned(),
            ));
        };
        let mut config = record.config.clone();
        config.saml = Some(pending.promoted(section));
        config.idp = Some(passed.entity_id.clone());
        let opened = config.state == OrgState::Draft;
        if opened {
            config.state = OrgState::Active;
        }
        registry
            .update(
                OrgUpdate::new(
                    acting.org,
                    config,
                    format!("admin:{}", acting.actor),
                    acting.now,
                )
                .expecting(record.version),
            )
            .await
            .map_err(|error| {
                Refusal::of_update(error, acting.org, "the IdP trust could not be activated")
            })?;
        self.record_sso(
            acting,
            AdminAction::SsoTrustActivated {
                trust: fingerprint.trim().to_owned(),
                entity_id: passed.entity_id.clone(),
                opened,
            },
        )
        .await?;
        Ok(format!(
            "activated the IdP trust of {}: sign-ins use it now{}",
            passed.entity_id,
            if opened {
                ", and the org's sign-ins are open"
            } else {
                ""
            }
        ))
    }

    /// The answer to a test sign-in, when `saml_response` (posted to `org`'s assertion
    /// consumer) claims to answer one this session started; `None` for any other post,
    /// which the portal signs in with as usual.
    pub(crate) async fn answer_test(
        &self,
        session: &Session,
        org: &str,
        saml_response: &str,
        nonce: &CspNonce,
    ) -> Option<Response> {
        let now = self.now();
        if !session::awaits_test(session, org, now).await {
            return None;
        }
        let claimed = self.sso.saml.claimed_request_id(saml_response)?;
        let trip = match session::take_test_trip(session, org, &claimed, now).await {
            Ok(Some(trip)) => trip,
            Ok(None) => return None,
            Err(error) => {
                let problem = Problem::failed("the session could not be read", &error);
                return Some(self.problem_page(&problem, org, nonce));
            }
        };
        tracing::info!(org, "the answer to a test sign-in");
        let admitted = match self.page_gate(session, org, None, nonce).await {
            Ok(admitted) => admitted,
            Err(response) => return Some(response),
        };
        let (registry, record) = match self.registry().map(Arc::clone) {
            Ok(registry) => match self.current(org).await {
                Ok(record) => (registry, record),
                Err(problem) => return Some(self.problem_page(&problem, org, nonce)),
            },
            Err(problem) => return Some(self.problem_page(&problem, org, nonce)),
        };
        let mut result = test::run(
            self,
            &registry,
            &record,
            &trip,
            saml_response,
            &admitted.actor,
        )
        .await;
        if result.passed {
            match test::record_pass(&registry, &record, &result, &admitted.actor).await {
                Ok(true) => {
                    result.activatable = true;
                    result.opens = record.config.state == OrgState::Draft;
                }
                Ok(false) => {}
                Err(reason) => {
                    tracing::warn!(org, reason, "a test sign-in passed but was not recorded");
                    result.notes.push(format!(
                        "The test passed, but the pass could not be kept with the pending trust ({reason}): test again before activating."
                    ));
                }
            }
        }
        let acting = self.acting(org, &admitted);
        if let Err(problem) = self.record_sso(acting, result.action()).await {
            result.notes.push(format!("{}.", problem.message));
        }
        if let Err(error) = session::keep_test_result(session, org, &result).await {
            let problem = Problem::failed("the session could not be written", &error);
            return Some(self.problem_page(&problem, org, nonce));
        }
        Some(Redirect::to(&sso_path(org, "/test")).into_response())
    }

    /// The SSO page, with `problems` and the inputs as submitted when a change was
    /// refused (`status` 422, 409, …).
    async fn draw(
        &self,
        visit: Visit<'_>,
        refused: Option<(StatusCode, &[FieldProblem], Resubmitted<'_>)>,
    ) -> Response {
        let Visit {
            session,
            org,
            actor,
            nonce,
        } = visit;
        let drawn = async {
            let token = csrf::token(session).await?;
            let view = self.sso_view(org).await?;
            Ok::<_, Problem>((token, view))
        };
        let (token, view) = match drawn.await {
            Ok(drawn) => drawn,
            Err(problem) => return self.problem_page(&problem, org, nonce),
        };
        let notice = take_notice(session, org).await;
        let (status, problems, resubmitted) =
            refused.unwrap_or((StatusCode::OK, &[], Resubmitted::default()));
        let drawing = Drawing {
            admin: actor,
            csrf_token: &token,
            nonce: nonce.as_str(),
            notice: notice.as_ref(),
            inputs: resubmitted.inputs,
            problems,
            metadata_url: resubmitted.metadata_url,
            scim: self.scim_tokens.is_some(),
        };
        (status, Html(page::render(&view, &drawing))).into_response()
    }

    /// A form's answer: back to the page with a notice, or the page again with the
    /// problems in place.
    async fn after_sso_form(
        &self,
        visit: Visit<'_>,
        result: Result<String, Refusal>,
        resubmitted: Resubmitted<'_>,
    ) -> Response {
        let Visit {
            session,
            org,
            nonce,
            ..
        } = visit;
        let notice = match result {
            Ok(done) => Notice::Done(done),
            Err(Refusal::Problem(problem)) if problem.is_failure() => {
                return self.problem_page(&problem, org, nonce);
            }
            Err(Refusal::Invalid(problems)) => {
                return self
                    .draw(
                        visit,
                        Some((StatusCode::UNPROCESSABLE_ENTITY, &problems, resubmitted)),
                    )
                    .await;
            }
            Err(Refusal::Problem(problem)) => {
                let problems = [FieldProblem::new("general", problem.message.clone())];
                return self
                    .draw(visit, Some((problem.status, &problems, resubmitted)))
                    .await;
            }
        };
        if let Err(error) = session.insert(SSO_NOTICE, (org, &notice)).await {
            let problem = Problem::failed("the session could not be written", &error);
            return self.problem_page(&problem, org, nonce);
        }
        Redirect::to(&sso_path(org, "")).into_response()
    }
}

fn visit<'a>(session: &'a Session, org: &'a str, actor: &'a str, nonce: &'a CspNonce) -> Visit<'a> {
    Visit {
        session,
        org,
        actor,
        nonce,
    }
}

/// A page's request, let in.
#[derive(Clone, Copy)]
struct Visit<'a> {
    session: &'a Session,
    org: &'a str,
    /// Who was let in.
    actor: &'a str,
    nonce: &'a CspNonce,
}

/// What a refused form sent, to show again.
#[derive(Clone, Copy, Default)]
struct Resubmitted<'a> {
    inputs: Option<&'a SettingsInputs>,
    metadata_url: &'a str,
}

/// The refusal of metadata over the limit.
fn too_large(size: Option<usize>) -> Problem {
    let megabytes = MAX_METADATA_BYTES / (1024 * 1024);
    let size = size.map_or_else(String::new, |size| format!(" ({size} bytes)"));
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "metadata_too_large",
        format!(
            "the IdP metadata is larger than the {megabytes} MB ({MAX_METADATA_BYTES} bytes) this page takes{size}: one IdP's metadata is a few kilobytes; give the metadata of your IdP alone, not a federation's; nothing was staged"
        ),
    )
}

/// The notice of the last SSO change of `org`, taken out of the session.
async fn take_notice(session: &Session, org: &str) -> Option<Notice> {
    let (for_org, notice) = session
        .remove::<(String, Notice)>(SSO_NOTICE)
        .await
        .ok()
        .flatten()?;
    (for_org == org).then_some(notice)
}

async fn sso_page<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path(org): Path<String>,
) -> Response {
    let admitted = match admin.page_gate(&session, &org, None, &nonce).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    admin
        .draw(visit(&session, &org, &admitted.actor, &nonce), None)
        .await
}

async fn sp_metadata<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path(org): Path<String>,
) -> Response {
    if let Err(response) = admin.page_gate(&session, &org, None, &nonce).await {
        return response;
    }
    let view = match admin.sso_view(&org).await {
        Ok(view) => view,
        Err(problem) => return admin.problem_page(&problem, &org, &nonce),
    };
    let disposition = format!(
        "attachment; filename=\"{}-sp-metadata.xml\"",
        org.chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect::<String>()
    );
    (
        [
            (
                header::CONTENT_TYPE,
                "application/samlmetadata+xml".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        view.sp.metadata_xml,
    )
        .into_response()
}

/// The settings form's fields, all optional: a missing one is this crate's to refuse.
#[derive(Debug, Default, Deserialize)]
struct SettingsFields {
    csrf_token: Option<String>,
    version: Option<String>,
    preset: Option<String>,
    jit: Option<String>,
    default_role: Option<String>,
    group_roles: Option<String>,
    verified_domains: Option<String>,
    reauth_after_secs: Option<String>,
    force_authn: Option<String>,
}

impl SettingsFields {
    fn inputs(&self) -> SettingsInputs {
        let text = |field: &Option<String>| field.clone().unwrap_or_default();
        SettingsInputs {
            preset: text(&self.preset),
            jit: self.jit.is_some(),
            default_role: text(&self.default_role),
            group_roles: text(&self.group_roles),
            verified_domains: text(&self.verified_domains),
            reauth_after_secs: text(&self.reauth_after_secs),
            force_authn: self.force_authn.is_some(),
        }
    }

    /// The settings, or every problem with the form's text.
    fn settings(&self) -> Result<SettingsForm, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let group_roles = parse_group_rows(self.group_roles.as_deref().unwrap_or_default())
            .unwrap_or_else(|problem| {
                problems.push(problem);
                Vec::new()
            });
        let reauth_after_secs =
            parse_reauth(self.reauth_after_secs.as_deref()).unwrap_or_else(|problem| {
                problems.push(problem);
                None
            });
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(SettingsForm {
            preset: self.preset.clone().unwrap_or_else(|| "auto".to_owned()),
            jit: self.jit.is_some(),
            default_role: self.default_role.clone().unwrap_or_default(),
            group_roles,
            verified_domains: parse_domains(self.verified_domains.as_deref().unwrap_or_default()),
            reauth_after_secs,
            force_authn: self.force_authn.is_some(),
        })
    }
}

/// A form that could not be read: its page, or (for metadata over the body limit) the
/// limit's refusal.
fn unreadable(rejection: &FormRejection) -> Problem {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(None);
    }
    Problem::new(
        rejection.status(),
        "unreadable_form",
        "this form could not be read, so nothing changed: go back to the SSO page and try again",
    )
}

async fn form_settings<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path(org): Path<String>,
    headers: HeaderMap,
    form: Result<Form<SettingsFields>, FormRejection>,
) -> Response {
    let fields = match form {
        Ok(Form(fields)) => fields,
        Err(rejection) => return admin.problem_page(&unreadable(&rejection), &org, &nonce),
    };
    let csrf = Some((&headers, fields.csrf_token.as_deref()));
    let admitted = match admin.page_gate(&session, &org, csrf, &nonce).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let acting = admin.acting(&org, &admitted);
    let inputs = fields.inputs();
    let result = match (parse_version(fields.version.as_deref()), fields.settings()) {
        (Ok(version), Ok(settings)) => admin.save_settings(acting, version, &settings).await,
        (Err(problem), _) => Err(problem.into()),
        (_, Err(problems)) => Err(Refusal::Invalid(problems)),
    };
    admin
        .after_sso_form(
            visit(&session, &org, &admitted.actor, &nonce),
            result,
            Resubmitted {
                inputs: Some(&inputs),
                metadata_url: "",
            },
        )
        .await
}

/// The metadata form's fields.
#[derive(Debug, Default, Deserialize)]
struct MetadataFields {
    csrf_token: Option<String>,
    version: Option<String>,
    metadata: Option<String>,
    metadata_source: Option<String>,
    metadata_url: Option<String>,
}

/// What an admin gave as metadata: the XML or a URL, not both.
fn staging(xml: Option<String>, uploaded: bool, url: Option<String>) -> Result<Staging, Refusal> {
    let xml = xml.filter(|text| !text.trim().is_empty());
    let url = url.filter(|url| !url.trim().is_empty());
    match (xml, url) {
        (Some(text), None) => Ok(Staging::Xml { text, uploaded }),
        (None, Some(url)) => Ok(Staging::Url(url)),
        (Some(_), Some(_)) => Err(Refusal::Invalid(vec![FieldProblem::new(
            "metadata",
            "give the IdP's metadata or its URL, not both; nothing was staged",
        )])),
        (None, None) => Err(Refusal::Invalid(vec![FieldProblem::new(
            "metadata",
            "give the IdP's metadata: paste it, choose its file, or give its URL; nothing was staged",
        )])),
    }
}

async fn form_metadata<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path(org): Path<String>,
    headers: HeaderMap,
    form: Result<Form<MetadataFields>, FormRejection>,
) -> Response {
    let fields = match form {
        Ok(Form(fields)) => fields,
        Err(rejection) => {
            let problem = unreadable(&rejection);
            // Too large: shown in place, if the visitor is let in at all.
            if problem.code == "metadata_too_large" {
                if let Ok(admitted) = admin.page_gate(&session, &org, None, &nonce).await {
                    let problems = [FieldProblem::new("metadata", problem.message)];
                    return admin
                        .draw(
                            visit(&session, &org, &admitted.actor, &nonce),
                            Some((
                                StatusCode::PAYLOAD_TOO_LARGE,
                                &problems,
                                Resubmitted::default(),
                            )),
                        )
                        .await;
                }
            }
            return admin.problem_page(&problem, &org, &nonce);
        }
    };
    let csrf = Some((&headers, fields.csrf_token.as_deref()));
    let admitted = match admin.page_gate(&session, &org, csrf, &nonce).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let acting = admin.acting(&org, &admitted);
    let uploaded = fields.metadata_source.as_deref() == Some("uploaded");
    let url = fields.metadata_url.clone().unwrap_or_default();
    let result = match (
        parse_version(fields.version.as_deref()),
        staging(fields.metadata, uploaded, fields.metadata_url),
    ) {
        (Ok(version), Ok(staging)) => admin.stage(acting, version, staging).await,
        (Err(problem), _) => Err(problem.into()),
        (_, Err(refusal)) => Err(refusal),
    };
    let result = result.map_err(|refusal| match refusal {
        // The size limit is said where the metadata is given.
        Refusal::Problem(problem) if problem.code == "metadata_too_large" => {
            Refusal::Invalid(vec![FieldProblem::new("metadata", problem.message)])
        }
        other => other,
    });
    admin
        .after_sso_form(
            visit(&session, &org, &admitted.actor, &nonce),
            result,
            Resubmitted {
                inputs: None,
                metadata_url: &url,
            },
        )
        .await
}

/// A form of the SSO page that carries only its token (and a trust's fingerprint).
#[derive(Debug, Default, Deserialize)]
struct TrustFields {
    csrf_token: Option<String>,
    fingerprint: Option<String>,
}

async fn form_test<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path(org): Path<String>,
    headers: HeaderMap,
    form: Result<Form<TrustFields>, FormRejection>,
) -> Response {
    let fields = match form {
        Ok(Form(fields)) => fields,
        Err(rejection) => return admin.problem_page(&unreadable(&rejection), &org, &nonce),
    };
    let csrf = Some((&headers, fields.csrf_token.as_deref()));
    let admitted = match admin.page_gate(&session, &org, csrf, &nonce).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let started = async {
        let record = admin.current(&org).await?;
        test::start(&admin, &session, &record).await
    };
    match started.await {
        Ok((redirect, _)) => match redirect.binding {
            IdpBinding::Redirect { url } => Redirect::to(&url).into_response(),
            IdpBinding::Post { url, fields } => {
                let form = PostForm::new(&url, &fields, nonce.as_str());
                let mut response = Html(admin.pages.post_form(&form)).into_response();
                if let Some(target) = form_target(&url) {
                    response.extensions_mut().insert(FormTarget(target));
                }
                response
            }
            _ => admin.problem_page(
                &Problem::failed("a test sign-in", &"an IdP binding this page cannot send"),
                &org,
                &nonce,
            ),
        },
        Err(refusal) => {
            admin
                .after_sso_form(
                    visit(&session, &org, &admitted.actor, &nonce),
                    Err(refusal),
                    Resubmitted::default(),
                )
                .await
        }
    }
}

async fn test_page<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path(org): Path<String>,
) -> Response {
    let admitted = match admin.page_gate(&session, &org, None, &nonce).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let Some(result) = session::test_result::<TestResult>(&session, &org).await else {
        let notice =
            Notice::Refused("no test sign-in to show: start one from this page".to_owned());
        if session.insert(SSO_NOTICE, (&org, &notice)).await.is_err() {
            tracing::warn!(org, "the session could not be written");
        }
        return Redirect::to(&sso_path(&org, "")).into_response();
    };
    let token = match csrf::token(&session).await {
        Ok(token) => token,
        Err(problem) => return admin.problem_page(&problem, &org, &nonce),
    };
    let notice = take_notice(&session, &org).await;
    let drawing = Drawing {
        admin: &admitted.actor,
        csrf_token: &token,
        nonce: nonce.as_str(),
        notice: notice.as_ref(),
        inputs: None,
        problems: &[],
        metadata_url: "",
        scim: admin.scim_tokens.is_some(),
    };
    Html(page::render_result(&result, &drawing)).into_response()
}

async fn form_activate<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    nonce: CspNonce,
    Path(org): Path<String>,
    headers: HeaderMap,
    form: Result<Form<TrustFields>, FormRejection>,
) -> Response {
    let fields = match form {
        Ok(Form(fields)) => fields,
        Err(rejection) => return admin.problem_page(&unreadable(&rejection), &org, &nonce),
    };
    let csrf = Some((&headers, fields.csrf_token.as_deref()));
    let admitted = match admin.page_gate(&session, &org, csrf, &nonce).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let acting = admin.acting(&org, &admitted);
    let result = admin
        .activate(acting, fields.fingerprint.as_deref().unwrap_or_default())
        .await;
    admin
        .after_sso_form(
            visit(&session, &org, &admitted.actor, &nonce),
            result,
            Resubmitted::default(),
        )
        .await
}

/// A read's reply, with the session's CSRF token for the writes to come.
async fn with_token(session: &Session, status: StatusCode, body: Value) -> Response {
    super::with_token(session, status, body).await
}

async fn api_sso<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path(org): Path<String>,
) -> Response {
    if let Err(response) = admin.api_gate(&session, &org, None).await {
        return response;
    }
    match admin.sso_view(&org).await {
        Ok(view) => with_token(&session, StatusCode::OK, view.json()).await,
        Err(problem) => problem.json(),
    }
}

/// `PUT /api/sso`'s body: the version it changes, and each setting to change (a setting
/// left out is kept).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    version: u64,
    preset: Option<String>,
    jit: Option<bool>,
    default_role: Option<String>,
    group_roles: Option<Vec<GroupRow>>,
    verified_domains: Option<Vec<String>>,
    /// `null`: the default; left out: kept.
    #[serde(default, deserialize_with = "present")]
    reauth_after_secs: Option<Value>,
    force_authn: Option<bool>,
}

/// A field given, `null` included (serde reads a `null` `Option` as left out).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl SettingsBody {
    fn over(self, mut form: SettingsForm) -> Result<(u64, SettingsForm), Vec<FieldProblem>> {
        if let Some(preset) = self.preset {
            form.preset = preset;
        }
        if let Some(jit) = self.jit {
            form.jit = jit;
        }
        if let Some(role) = self.default_role {
            form.default_role = role;
        }
        if let Some(rows) = self.group_roles {
            form.group_roles = rows;
        }
        if let Some(domains) = self.verified_domains {
            form.verified_domains = domains;
        }
        if let Some(force) = self.force_authn {
            form.force_authn = force;
        }
        match self.reauth_after_secs {
            None => {}
            Some(Value::Null) => form.reauth_after_secs = None,
            Some(value) => match value.as_u64() {
                Some(secs) => form.reauth_after_secs = Some(secs),
                None => {
                    return Err(vec![FieldProblem::new(
                        "reauth_after_secs",
                        format!("`{value}` is not a number of seconds: give a whole number from 0 to {}, or null for the default", jit_provisioning::MAX_REAUTH_AFTER_SECS),
                    )])
                }
            },
        }
        Ok((self.version, form))
    }
}

async fn api_settings<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let admitted = match admin.api_gate(&session, &org, Some(&headers)).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let body = match json_body::<SettingsBody>(&headers, body) {
        Ok(body) => body,
        Err(problem) => return problem.json(),
    };
    let view = match admin.sso_view(&org).await {
        Ok(view) => view,
        Err(problem) => return problem.json(),
    };
    let acting = admin.acting(&org, &admitted);
    let result = match body.over(view.form) {
        Ok((version, form)) => admin.save_settings(acting, version, &form).await,
        Err(problems) => Err(Refusal::Invalid(problems)),
    };
    api_answer(&admin, &org, result).await
}

/// An API write's answer: the org's SSO as it is now, or the refusal.
async fn api_answer<S: AccountStore + 'static>(
    admin: &OrgAdmin<S>,
    org: &str,
    result: Result<String, Refusal>,
) -> Response {
    match result {
        Ok(done) => match admin.sso_view(org).await {
            Ok(view) => {
                let mut body = view.json();
                if let Value::Object(fields) = &mut body {
                    fields.insert("done".into(), Value::String(done));
                }
                json_reply(StatusCode::OK, &body)
            }
            Err(problem) => problem.json(),
        },
        Err(refusal) => refusal.json(),
    }
}

/// `POST /api/sso/metadata`'s body: the XML or a URL.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetadataBody {
    version: u64,
    xml: Option<String>,
    url: Option<String>,
}

async fn api_metadata<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let admitted = match admin.api_gate(&session, &org, Some(&headers)).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    if matches!(&body, Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE) {
        return too_large(None).json();
    }
    let body = match json_body::<MetadataBody>(&headers, body) {
        Ok(body) => body,
        Err(problem) => return problem.json(),
    };
    let acting = admin.acting(&org, &admitted);
    let result = match staging(body.xml, false, body.url) {
        Ok(staging) => admin.stage(acting, body.version, staging).await,
        Err(refusal) => Err(refusal),
    };
    api_answer(&admin, &org, result).await
}

async fn api_test<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = admin.api_gate(&session, &org, Some(&headers)).await {
        return response;
    }
    let started = async {
        let record = admin.current(&org).await?;
        test::start(&admin, &session, &record).await
    };
    match started.await {
        Ok((redirect, trust)) => json_reply(
            StatusCode::OK,
            &test::trip_json(&redirect, trust.as_deref()),
        ),
        Err(refusal) => refusal.json(),
    }
}

async fn api_test_result<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path(org): Path<String>,
) -> Response {
    if let Err(response) = admin.api_gate(&session, &org, None).await {
        return response;
    }
    match session::test_result::<TestResult>(&session, &org).await {
        Some(result) => with_token(&session, StatusCode::OK, result.json()).await,
        None => Problem::new(
            StatusCode::NOT_FOUND,
            "no_test",
            format!("no test sign-in of {org} in this session yet: start one with POST /{org}/admin/api/sso/test"),
        )
        .json(),
    }
}

/// `POST /api/sso/activate`'s body: the fingerprint of the pending trust tested.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivateBody {
    fingerprint: String,
}

async fn api_activate<S: AccountStore + 'static>(
    State(admin): State<OrgAdmin<S>>,
    session: Session,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let admitted = match admin.api_gate(&session, &org, Some(&headers)).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let body = match json_body::<ActivateBody>(&headers, body) {
        Ok(body) => body,
        Err(problem) => return problem.json(),
    };
    let acting = admin.acting(&org, &admitted);
    let result = admin.activate(acting, &body.fingerprint).await;
    api_answer(&admin, &org, result).await
}
