//! A burst of first logins of one name: many new people called the same, logging in at
//! once over one or several app servers, as on a big customer's first morning on SSO.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use futures_util::future::join_all;

use crate::account::{AccountId, AccountRecord, Identity, NewAccount};
use crate::config::Config;
use crate::decision::Outcome;
use crate::engine::handle_base;
use crate::lookup::AccountLookup;
use crate::provisioner::Provisioner;
use crate::request::{Assertion, Request};
use crate::role::Grant;
use crate::store::{AccountStore, CreateError, LinkError, StoreError};
use crate::testing::CountingStore;

/// The store calls a first login makes on a store that meets the whole contract, in a
/// burst of one name too: one [`AccountStore::look_up_assertion`] and one
/// [`AccountStore::create_account`].
pub const FIRST_LOGIN_CALLS: usize = 2;

const ISSUER: &str = "https://idp.conformance.example";

/// A burst of first logins: `logins` people, all new and all with one name, log in at
/// once. Every login's look-up is answered before any creation starts (a gate in front of
/// the store holds the logins back until then), so that each creation meets every other:
/// the worst case of the race for the lowest free suffix, every time.
///
/// ```
/// # pollster::block_on(async {
/// use jit_provisioning::testing::{Burst, FIRST_LOGIN_CALLS};
/// use jit_provisioning::MemoryStore;
///
/// let report = Burst::new(100).run(&[MemoryStore::new()]).await.unwrap();
/// assert_eq!(report.handles.first().map(String::as_str), Some("pat-smith"));
/// assert_eq!(report.handles.last().map(String::as_str), Some("pat-smith-100"));
/// assert!(report.max_calls <= FIRST_LOGIN_CALLS);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Burst {
    /// How many people log in.
    pub logins: usize,
    /// Their given name.
    pub given_name: String,
    /// Their family name.
    pub family_name: String,
}

/// What a [`Burst`] did. Every login created an account of its own, and the handles
/// were the base and its suffixes from `-2` up, with none missing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BurstReport {
    /// How many people logged in.
    pub logins: usize,
    /// The handles created, in suffix order: `pat-smith`, `pat-smith-2`, …
    pub handles: Vec<String>,
    /// The most store calls one login made (counted by a [`CountingStore`] of its own).
    pub max_calls: usize,
    /// The store calls of all logins together.
    pub calls: usize,
    /// The most times one login was decided ([`Provisioned::attempts`](crate::Provisioned::attempts)).
    pub max_attempts: u32,
    /// From the first login's start to the last one's end: the look-ups and the creations,
    /// not the checks that follow.
    pub elapsed: Duration,
}

impl Burst {
    /// `logins` people called Pat Smith.
    pub fn new(logins: usize) -> Self {
        Burst {
            logins,
            given_name: "Pat".into(),
            family_name: "Smith".into(),
        }
    }

    /// The same burst of people with another name, for another burst on the same store.
    pub fn named(mut self, given_name: &str, family_name: &str) -> Self {
        self.given_name = given_name.into();
        self.family_name = family_name.into();
        self
    }

    /// Runs the burst with the default settings ([`Provisioner::new`]), the logins spread
    /// in turn over `stores`: one store per app server, all on one database. Then checks,
    /// through the first store, that each person's identity leads to the account their
    /// login created. `Err` says what went wrong (and is all a burst without a store or
    /// a login gives).
    pub async fn run<S: AccountStore>(&self, stores: &[S]) -> Result<BurstReport, String> {
        if stores.is_empty() || self.logins == 0 {
            return Err("a burst needs at least one store and one login".into());
        }
        let config: Config = serde_json::from_str(&format!(
            r#"{{"orgs": {{"acme": {{"jit": true, "idp": "{ISSUER}"}}}}}}"#
        ))
        .map_err(|e| e.to_string())?;
        let policy = config.validate().map_err(|e| e.to_string())?;
        let now = Utc
            .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
            .single()
            .ok_or("bad date")?;
        let assertion = |n: usize| Assertion {
            org: "acme".into(),
            issuer: ISSUER.into(),
            subject: format!("burst-{}-{}-{n}", self.given_name, self.family_name),
            given_name: Some(self.given_name.clone()),
            family_name: Some(self.family_name.clone()),
            ..Assertion::default()
        };
        let base = handle_base(&assertion(0)).as_str().to_owned();
        let requests: Vec<Request> = (0..self.logins)
            .map(|n| Request::Assertion(assertion(n)))
            .collect();
        let gate = Gate::new(self.logins);
        let servers: Vec<_> = stores
            .iter()
            .cycle()
            .take(self.logins)
            .map(|store| {
                let gated = Gated {
                    inner: store,
                    gate: &gate,
                };
                Provisioner::new(policy.clone(), CountingStore::new(gated))
            })
            .collect();

        let started = Instant::now();
        let results = join_all(
            servers
                .iter()
                .zip(&requests)
                .map(|(server, request)| server.handle(request, now)),
        )
        .await;
        let elapsed = started.elapsed();

        let mut problems = Vec::new();
        let mut created: Vec<(usize, AccountRecord)> = Vec::new();
        let mut max_attempts = 0;
        for (n, result) in results.into_iter().enumerate() {
            match result {
                Ok(done) => {
                    max_attempts = max_attempts.max(done.attempts);
                    match (done.decision.outcome(), done.account) {
                        (Outcome::AccountCreated, Some(account))
                            if done.decision.new_handle() == Some(account.handle.as_str()) =>
                        {
                            created.push((n, account));
                        }
                        (_, account) => problems.push(format!(
                            "login {n} did not create the account it names: {} ({account:?})",
                            done.decision
                        )),
                    }
                }
                Err(error) => problems.push(format!("login {n} failed: {error}")),
            }
        }
        let calls: Vec<usize> = servers.iter().map(|s| s.store().counts().total()).collect();

        let mut handles: Vec<String> = created.iter().map(|(_, a)| a.handle.clone()).collect();
        handles.sort_by_key(|handle| suffix_of(handle, &base));
        let expected: Vec<String> = (1..=self.logins)
            .map(|n| match n {
                1 => base.clone(),
                n => format!("{base}-{n}"),
            })
            .collect();
        if problems.is_empty() && handles != expected {
            problems.push(format!(
                "the handles are not {base}, {base}-2 … {base}-{}: {}",
                self.logins,
                differences(&handles, &expected)
            ));
        }
        let ids: BTreeSet<&AccountId> = created.iter().map(|(_, a)| &a.id).collect();
        if ids.len() != created.len() {
            problems.push("two logins report one account".into());
        }
        if problems.is_empty() {
            problems.extend(read_back(stores, &requests, &created).await);
        }
        if !problems.is_empty() {
            let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
            return Err(format!(
                "a burst of {} first logins of one name: {} problem(s), first: {}",
                self.logins,
                problems.len(),
                shown.join("; ")
            ));
        }
        Ok(BurstReport {
            logins: self.logins,
            handles,
            max_calls: calls.iter().copied().max().unwrap_or_default(),
            calls: calls.iter().sum(),
            max_attempts,
            elapsed,
        })
    }
}

/// Each created account, read again through the first store by its identity.
async fn read_back<S: AccountStore>(
    stores: &[S],
    requests: &[Request],
    created: &[(usize, AccountRecord)],
) -> Vec<String> {
    let Some(store) = stores.first() else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for (n, account) in created {
        let Some(Request::Assertion(assertion)) = requests.get(*n) else {
            continue;
        };
        match store.account_by_identity(&assertion.identity()).await {
            Ok(Some(found)) if found == *account => {}
            other => problems.push(format!(
                "login {n} created {account:?}, but the store holds {other:?}"
            )),
        }
    }
    problems
}

/// `1` for the base itself, `n` for `base-n`, and past every suffix for anything else.
fn suffix_of(handle: &str, base: &str) -> u64 {
    if handle == base {
        return 1;
    }
    handle
        .strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(u64::MAX)
}

/// The first few handles missing and unexpected.
fn differences(got: &[String], expected: &[String]) -> String {
    let got: BTreeSet<&String> = got.iter().collect();
    let expected: BTreeSet<&String> = expected.iter().collect();
    let missing: Vec<&&String> = expected.difference(&got).take(5).collect();
    let extra: Vec<&&String> = got.difference(&expected).take(5).collect();
    format!("missing {missing:?}, unexpected {extra:?}")
}

/// Holds every caller back until `expected` callers have arrived; later ones pass.
#[derive(Debug)]
struct Gate {
    expected: usize,
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    arrived: usize,
    waiting: Vec<Waker>,
}

impl Gate {
    fn new(expected: usize) -> Self {
        Gate {
            expected,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        // Nothing panics while holding the lock: a poisoned one still holds a count.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one caller in, and opens the gate for everyone when it is the last.
    fn arrive(&self) {
        let woken = {
            let mut state = self.lock();
            state.arrived += 1;
            if state.arrived >= self.expected {
                std::mem::take(&mut state.waiting)
            } else {
                Vec::new()
            }
        };
        woken.into_iter().for_each(Waker::wake);
    }

    /// Ready once the gate is open.
    fn opened(&self) -> Opened<'_> {
        Opened { gate: self }
    }
}

#[derive(Debug)]
struct Opened<'a> {
    gate: &'a Gate,
}

impl Future for Opened<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.gate.lock();
        if state.arrived >= self.gate.expected {
            Poll::Ready(())
        } else {
            state.waiting.push(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// A store whose assertion look-ups wait at the gate once answered.
#[derive(Debug)]
struct Gated<'a, S> {
    inner: &'a S,
    gate: &'a Gate,
}

#[async_trait]
impl<S: AccountStore> AccountStore for Gated<'_, S> {
    async fn look_up_assertion(
        &self,
        identity: &Identity,
        email: Option<&str>,
        stems: &[String],
    ) -> Result<AccountLookup, StoreError> {
        let found = self.inner.look_up_assertion(identity, email, stems).await;
        // A failed look-up arrives too, or the others would wait for it for ever.
        self.gate.arrive();
        self.gate.opened().await;
        found
    }

    async fn account_by_identity(
        &self,
        identity: &Identity,
    ) -> Result<Option<AccountRecord>, StoreError> {
        self.inner.account_by_identity(identity).await
    }

    async fn accounts_by_email(&self, email: &str) -> Result<Vec<AccountRecord>, StoreError> {
        self.inner.accounts_by_email(email).await
    }

    async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        self.inner.account_by_id(id).await
    }

    async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
        self.inner.taken_handles(stems).await
    }

    async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
        self.inner.create_account(account).await
    }

    async fn link_identity(
        &self,
        account: &AccountId,
        identity: &Identity,
    ) -> Result<(), LinkError> {
        self.inner.link_identity(account, identity).await
    }

    async fn raise_role(&self, account: &AccountId, grant: &Grant) -> Result<bool, StoreError> {
        self.inner.raise_role(account, grant).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_order_the_handles() {
        assert_eq!(suffix_of("pat-smith", "pat-smith"), 1);
        assert_eq!(suffix_of("pat-smith-12", "pat-smith"), 12);
        assert_eq!(suffix_of("pat-smithers", "pat-smith"), u64::MAX);
        assert_eq!(suffix_of("other", "pat-smith"), u64::MAX);
    }
}
