//! Running cases through the provisioner and an in-memory store, and reporting.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::cases::format::{load_paths, Case, CaseLoadError, ERROR_OUTCOME, INVALID_CONFIG_REASON};
use crate::memory::MemoryStore;
use crate::provisioner::Provisioner;
use crate::role::Grant;

/// One key whose value differs from what the case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The `expect` key.
    pub key: &'static str,
    /// What the case expects, as JSON.
    pub expected: String,
    /// What came out, as JSON (`null` when nothing did).
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
    /// Every key that differs; empty when the case passed.
    pub mismatches: Vec<Mismatch>,
    /// What was decided and why (the decision's explanation, the config's problems, or
    /// the provisioner's error).
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
    linked: bool,
    password: Option<bool>,
    landing: Option<crate::decision::Landing>,
    force_authn: Option<bool>,
    reason: Option<String>,
}

/// Runs one case through a [`Provisioner`] over a [`MemoryStore`] holding its accounts,
/// blocking until done (the in-memory store never waits).
pub fn run_case(case: &Case) -> CaseResult {
    pollster::block_on(run_case_async(case))
}

/// Runs one case; for callers already inside an async runtime.
pub async fn run_case_async(case: &Case) -> CaseResult {
    let (observed, explanation) = observe(case).await;
    CaseResult {
        name: case.name.clone(),
        mismatches: compare(case, &observed),
        explanation,
    }
}

async fn observe(case: &Case) -> (Observed, String) {
    let policy = match case.config.validate() {
        Ok(policy) => policy,
        Err(error) => {
            let observed = Observed {
                outcome: Some(ERROR_OUTCOME.to_owned()),
                reason: Some(INVALID_CONFIG_REASON.to_owned()),
                ..Observed::default()
            };
            return (observed, error.to_string());
        }
    };
    let store = match MemoryStore::with_accounts(case.accounts.iter().cloned()) {
        Ok(store) => store,
        Err(error) => return (Observed::default(), format!("the case's accounts: {error}")),
    };
    let provisioner = Provisioner::new(policy, store);
    match provisioner.handle(&case.request, case.now).await {
        Ok(done) => {
            let decision = &done.decision;
            let mut grants = decision.grants().to_vec();
            grants.sort();
            let observed = Observed {
                outcome: Some(decision.outcome().as_str().to_owned()),
                account: decision.signed_in_account().map(|id| id.0.clone()),
                handle: decision.new_handle().map(str::to_owned),
                grants,
                linked: decision.links_existing_account(),
                // Read back from the store: the account as created, not as planned.
                password: decision
                    .new_handle()
                    .and(done.account.as_ref())
                    .map(|account| account.has_password),
                landing: decision.landing().cloned(),
                force_authn: decision.force_authn(),
                reason: decision.reason().map(|r| r.code().to_owned()),
            };
            (observed, decision.explanation())
        }
        Err(error) => (Observed::default(), format!("provisioning failed: {error}")),
    }
}

fn compare(case: &Case, observed: &Observed) -> Vec<Mismatch> {
    let expect = &case.expect;
    let mut mismatches = Vec::new();
    let mut check = |key: &'static str, expected: Option<String>, actual: String| {
        if let Some(expected) = expected {
            if expected != actual {
                mismatches.push(Mismatch {
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
    check(
        "account",
        expect.account.as_ref().map(json),
        json(&observed.account),
    );
    check(
        "handle",
        expect.handle.as_ref().map(json),
        json(&observed.handle),
    );
    let expected_grants = expect.grants.as_ref().map(|grants| {
        let mut grants = grants.clone();
        grants.sort();
        grants.dedup();
        json(&grants)
    });
    check("grants", expected_grants, json(&observed.grants));
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
    mismatches
}

/// Both sides are rendered by the same serializer, so equal values give equal text.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|error| format!("<unprintable: {error}>"))
}

/// The results of running case files.
#[derive(Debug, Default)]
pub struct Report {
    /// Each file's results, in the order run.
    pub files: Vec<(PathBuf, Vec<CaseResult>)>,
    /// Files that could not be loaded.
    pub load_errors: Vec<CaseLoadError>,
}

impl Report {
    /// How many cases passed.
    pub fn passed(&self) -> usize {
        self.results().filter(|r| r.passed()).count()
    }

    /// How many cases failed, counting each file that could not be loaded as one.
    pub fn failed(&self) -> usize {
        self.results().filter(|r| !r.passed()).count() + self.load_errors.len()
    }

    /// Whether every case passed and every file loaded (and there was at least one case).
    pub fn all_passed(&self) -> bool {
        self.failed() == 0 && self.passed() > 0
    }

    fn results(&self) -> impl Iterator<Item = &CaseResult> {
        self.files.iter().flat_map(|(_, results)| results)
    }
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

impl fmt::Display for Report {
    /// One line per case (`PASS` or `FAIL` with the differences and the explanation),
    /// one per load error, then `N passed, M failed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (path, results) in &self.files {
            for result in results {
                if result.passed() {
                    writeln!(f, "PASS {} :: {}", path.display(), result.name)?;
                } else {
                    writeln!(f, "FAIL {} :: {}", path.display(), result.name)?;
                    for mismatch in &result.mismatches {
                        writeln!(f, "    {mismatch}")?;
                    }
                    for line in result.explanation.lines() {
                        writeln!(f, "    | {line}")?;
                    }
                }
            }
        }
        for error in &self.load_errors {
            writeln!(f, "ERROR {error}")?;
        }
        write!(f, "{} passed, {} failed", self.passed(), self.failed())
    }
}
