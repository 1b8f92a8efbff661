//! Running cases through the provisioner and an in-memory store.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::account::AccountId;
use crate::cases::format::{
    load_paths, resolve_account, Case, CaseAccount, Step, ERROR_OUTCOME, INVALID_CONFIG_REASON,
};
use crate::cases::report::Report;
use crate::decision::Landing;
use crate::deprovision::Deprovisioned;
use crate::invite::Invite;
use crate::memory::MemoryStore;
use crate::provisioner::Provisioner;
use crate::role::Grant;

/// One key whose value differs from what the case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The scenario step it is about, from 1; `None` in a single-request case.
    pub step: Option<usize>,
    /// The `expect` key, or `request` when a step's request named an account that an
    /// earlier step did not make.
    pub key: &'static str,
    /// What the case expects, as JSON.
    pub expected: String,
    /// What came out, as JSON (`null` when nothing did).
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(step) = self.step {
            write!(f, "step {step}: ")?;
        }
        write!(
            f,
            "{}: expected {}, got {}",
            self.key, self.expected, self.actual
        )
    }
}

/// The result of running one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// Every key that differs, in step order; empty when the case passed.
    pub mismatches: Vec<Mismatch>,
    /// What was decided and why (each decision's explanation, the config's problems, or
    /// the provisioner's error), one block per step in a scenario.
    pub explanation: String,
}

impl CaseResult {
    /// Whether every expected key matched.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// What happened, reduced to the keys of `expect`.
#[derive(Default)]
struct Observed {
    outcome: Option<String>,
    account: Option<String>,
    handle: Option<String>,
    grants: Vec<Grant>,
    raises: Vec<Grant>,
    linked: bool,
    password: Option<bool>,
    given_name: Option<String>,
    family_name: Option<String>,
    landing: Option<Landing>,
    force_authn: Option<bool>,
    reason: Option<String>,
    rule: Option<String>,
    message: Option<String>,
}

/// Runs one case through a [`Provisioner`] over a [`MemoryStore`] holding its accounts,
/// blocking until done (the in-memory store never waits).
pub fn run_case(case: &Case) -> CaseResult {
    pollster::block_on(run_case_async(case))
}

/// Runs one case; for callers already inside an async runtime.
pub async fn run_case_async(case: &Case) -> CaseResult {
    let scenario = case.steps.len() > 1 || case.steps.iter().any(|step| step.name.is_some());
    let mut mismatches = Vec::new();
    let mut explanations = Vec::new();
    let provisioner = match case.config.validate() {
        Ok(policy) => match MemoryStore::with_accounts(case.accounts.iter().cloned()) {
            Ok(store) => {
                let store = Arc::new(store);
                for gone in &case.deprovisioned {
                    store.deprovision(
                        &gone.org,
                        gone.identity(),
                        Deprovisioned::new(gone.at, gone.by),
                    );
                }
                seed_invites(&store, &case.invites).await.map(|()| {
                    Provisioner::new(policy, Arc::clone(&store))
                        .with_invites(store.clone())
                        .with_deprovisioning(store)
                })
            }
            Err(error) => Err(format!("the case's accounts: {error}")),
        },
        Err(error) => Err(error.to_string()),
    };
    // The account each step signed in or created, for `{"step": N}`.
    let mut made: Vec<Option<AccountId>> = Vec::with_capacity(case.steps.len());
    for (index, step) in case.steps.iter().enumerate() {
        let number = index + 1;
        let (observed, explanation, account) = match &provisioner {
            Ok(provisioner) => observe(provisioner, step, &made).await,
            Err(problems) => (invalid_config(), problems.clone(), None),
        };
        made.push(account);
        let mut found = match observed {
            Ok(observed) => compare(step, &observed, &made),
            Err(missing_step) => vec![Mismatch {
                step: None,
                key: "request",
                expected: format!("\"the account of step {missing_step}\""),
                actual: "null".to_owned(),
            }],
        };
        for mismatch in &mut found {
            mismatch.step = scenario.then_some(number);
        }
        mismatches.extend(found);
        explanations.push(if scenario {
            let label = step
                .name
                .as_ref()
                .map(|name| format!(" `{name}`"))
                .unwrap_or_default();
            format!("step {number}{label}: {explanation}")
        } else {
            explanation
        });
    }
    CaseResult {
        name: case.name.clone(),
        mismatches,
        explanation: explanations.join("\n"),
    }
}

fn invalid_config() -> Result<Observed, usize> {
    Ok(Observed {
        outcome: Some(ERROR_OUTCOME.to_owned()),
        reason: Some(INVALID_CONFIG_REASON.to_owned()),
        ..Observed::default()
    })
}

/// What one step did: what came out (or the step whose account its request names but
/// which made none), its explanation, and the account it signed in or created.
/// Puts the case's invites into the store, keeping the ids the case gave them.
async fn seed_invites(store: &MemoryStore, invites: &[Invite]) -> Result<(), String> {
    for invite in invites {
        store
            .seed_invite(invite.clone())
            .map_err(|error| format!("the case's invites: {error}"))?;
    }
    Ok(())
}

async fn observe(
    provisioner: &Provisioner<Arc<MemoryStore>>,
    step: &Step,
    made: &[Option<AccountId>],
) -> (Result<Observed, usize>, String, Option<AccountId>) {
    let request = match step.request.resolve(made) {
        Ok(request) => request,
        Err(missing) => {
            let explanation = format!("not run: step {missing} signed in or created no account");
            return (Err(missing), explanation, None);
        }
    };
    match provisioner.handle(&request, step.now).await {
        Ok(done) => {
            let decision = &done.decision;
            let mut grants = decision.grants().to_vec();
            grants.sort();
            let mut raises = decision.raises().to_vec();
            raises.sort();
            let created = decision.new_handle().and(done.account.as_ref());
            let observed = Observed {
                outcome: Some(decision.outcome().as_str().to_owned()),
                account: decision.signed_in_account().map(|id| id.0.clone()),
                handle: decision.new_handle().map(str::to_owned),
                grants,
                raises,
                linked: decision.links_existing_account(),
                // Read back from the store: the account as created, not as planned.
                password: created.map(|account| account.has_password),
                given_name: created.and_then(|account| account.given_name.clone()),
                family_name: created.and_then(|account| account.family_name.clone()),
                landing: decision.landing().cloned(),
                force_authn: decision.force_authn(),
                reason: decision.reason().map(|r| r.code().to_owned()),
                rule: Some(decision.rule().id().to_owned()),
                message: decision.message().map(str::to_owned),
            };
            let account = done.account.map(|account| account.id);
            (Ok(observed), decision.explanation(), account)
        }
        Err(error) => (
            Ok(Observed::default()),
            format!("provisioning failed: {error}"),
            None,
        ),
    }
}

/// Grants as the sorted set a case compares them as.
fn as_set(grants: &[Grant]) -> String {
    let mut grants = grants.to_vec();
    grants.sort();
    grants.dedup();
    json(&grants)
}

fn compare(step: &Step, observed: &Observed, made: &[Option<AccountId>]) -> Vec<Mismatch> {
    let expect = &step.expect;
    let mut mismatches = Vec::new();
    let mut check = |key: &'static str, expected: Option<String>, actual: String| {
        if let Some(expected) = expected {
            if expected != actual {
                mismatches.push(Mismatch {
                    step: None,
                    key,
                    expected,
                    actual,
                });
            }
        }
    };
    check(
        "outcome",
        expect.outcome.as_ref().map(json),
        json(&observed.outcome),
    );
    let expected_account = expect.account.as_ref().map(|account| match account {
        CaseAccount::Id(id) => json(id),
        // The earlier step made no account: nothing can match, and the text says why.
        CaseAccount::Step(step) => resolve_account(account, made)
            .map(|id| json(&id))
            .unwrap_or_else(|_| format!("\"the account of step {step}\" (it made none)")),
    });
    check("account", expected_account, json(&observed.account));
    check(
        "handle",
        expect.handle.as_ref().map(json),
        json(&observed.handle),
    );
    check(
        "grants",
        expect.grants.as_deref().map(as_set),
        json(&observed.grants),
    );
    check(
        "raises",
        expect.raises.as_deref().map(as_set),
        json(&observed.raises),
    );
    check(
        "linked",
        expect.linked.as_ref().map(json),
        json(&observed.linked),
    );
    check(
        "password",
        expect.password.as_ref().map(json),
        json(&observed.password),
    );
    check(
        "given_name",
        expect.given_name.as_ref().map(json),
        json(&observed.given_name),
    );
    check(
        "family_name",
        expect.family_name.as_ref().map(json),
        json(&observed.family_name),
    );
    check(
        "landing",
        expect.landing.as_ref().map(json),
        json(&observed.landing),
    );
    check(
        "force_authn",
        expect.force_authn.as_ref().map(json),
        json(&observed.force_authn),
    );
    check(
        "reason",
        expect.reason.as_ref().map(json),
        json(&observed.reason),
    );
    check("rule", expect.rule.as_ref().map(json), json(&observed.rule));
    if let Some(part) = &expect.message {
        let contains = observed
            .message
            .as_deref()
            .is_some_and(|message| message.contains(part.as_str()));
        if !contains {
            mismatches.push(Mismatch {
                step: None,
                key: "message",
                expected: format!("a message containing {}", json(part)),
                actual: json(&observed.message),
            });
        }
    }
    mismatches
}

/// Both sides are rendered by the same serializer, so equal values give equal text.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|error| format!("<unprintable: {error}>"))
}

/// Loads and runs every case file named, descending into folders.
pub fn run_paths<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Report {
    let mut report = Report::default();
    for loaded in load_paths(paths) {
        match loaded {
            Ok(file) => {
                let results = file.cases.iter().map(run_case).collect();
                report.files.push((file.path, results));
            }
            Err(error) => report.load_errors.push(error),
        }
    }
    report
}
