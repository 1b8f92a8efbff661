//! Store wrappers for tests: one counts round trips, one fails on command.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use crate::account::{AccountId, AccountRecord, Identity, NewAccount};
use crate::lookup::AccountLookup;
use crate::role::Grant;
use crate::store::{AccountStore, CreateError, LinkError, StoreError};

/// Round trips made through a [`CountingStore`], per method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// [`AccountStore::account_by_identity`] calls.
    pub account_by_identity: usize,
    /// [`AccountStore::accounts_by_email`] calls.
    pub accounts_by_email: usize,
    /// [`AccountStore::account_by_id`] calls.
    pub account_by_id: usize,
    /// [`AccountStore::taken_handles`] calls.
    pub taken_handles: usize,
    /// [`AccountStore::create_account`] calls.
    pub create_account: usize,
    /// [`AccountStore::link_identity`] calls.
    pub link_identity: usize,
    /// [`AccountStore::look_up_assertion`] calls (one round trip, whatever the store
    /// does inside).
    pub look_up_assertion: usize,
    /// [`AccountStore::raise_role`] calls.
    pub raise_role: usize,
}

impl CallCounts {
    /// Every call, whatever the method.
    pub fn total(&self) -> usize {
        self.account_by_identity
            + self.accounts_by_email
            + self.account_by_id
            + self.taken_handles
            + self.create_account
            + self.link_identity
            + self.look_up_assertion
            + self.raise_role
    }
}

#[derive(Debug, Default)]
struct Counters([AtomicUsize; 8]);

/// Wraps a store and counts the calls made through it.
#[derive(Debug)]
pub struct CountingStore<S> {
    inner: S,
    counters: Arc<Counters>,
}

impl<S> CountingStore<S> {
    /// Counts calls to `inner`.
    pub fn new(inner: S) -> Self {
        CountingStore {
            inner,
            counters: Arc::default(),
        }
    }

    /// The calls made so far.
    pub fn counts(&self) -> CallCounts {
        let [a, b, c, d, e, f, g, h] = &self.counters.0;
        let load = |counter: &AtomicUsize| counter.load(Ordering::Relaxed);
        CallCounts {
            account_by_identity: load(a),
            accounts_by_email: load(b),
            account_by_id: load(c),
            taken_handles: load(d),
            create_account: load(e),
            link_identity: load(f),
            look_up_assertion: load(g),
            raise_role: load(h),
        }
    }

    /// Starts counting from zero again.
    pub fn reset(&self) {
        for counter in &self.counters.0 {
            counter.store(0, Ordering::Relaxed);
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn count(&self, method: Method) {
        if let Some(counter) = self.counters.0.get(method as usize) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Method {
    AccountByIdentity,
    AccountsByEmail,
    AccountById,
    TakenHandles,
    CreateAccount,
    LinkIdentity,
    LookUpAssertion,
    RaiseRole,
}

#[async_trait]
impl<S: AccountStore> AccountStore for CountingStore<S> {
    async fn look_up_assertion(
        &self,
        identity: &Identity,
        email: Option<&str>,
        stems: &[String],
    ) -> Result<AccountLookup, StoreError> {
        self.count(Method::LookUpAssertion);
        self.inner.look_up_assertion(identity, email, stems).await
    }

    async fn account_by_identity(
        &self,
        identity: &Identity,
    ) -> Result<Option<AccountRecord>, StoreError> {
        self.count(Method::AccountByIdentity);
        self.inner.account_by_identity(identity).await
    }

    async fn accounts_by_email(&self, email: &str) -> Result<Vec<AccountRecord>, StoreError> {
        self.count(Method::AccountsByEmail);
        self.inner.accounts_by_email(email).await
    }

    async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        self.count(Method::AccountById);
        self.inner.account_by_id(id).await
    }

    async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
        self.count(Method::TakenHandles);
        self.inner.taken_handles(stems).await
    }

    async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
        self.count(Method::CreateAccount);
        self.inner.create_account(account).await
    }

    async fn link_identity(
        &self,
        account: &AccountId,
        identity: &Identity,
    ) -> Result<(), LinkError> {
        self.count(Method::LinkIdentity);
        self.inner.link_identity(account, identity).await
    }

    async fn raise_role(&self, account: &AccountId, grant: &Grant) -> Result<bool, StoreError> {
        self.count(Method::RaiseRole);
        self.inner.raise_role(account, grant).await
    }
}

/// Wraps a store and fails exactly one call, the `n`-th (from 1), with
/// [`StoreError::Unavailable`]; every other call goes through. `n = 0` fails nothing.
///
/// The failed call does not reach the inner store: like a connection that drops
/// before the statement runs. Writes that fail after running are covered by each
/// store's own atomicity.
#[derive(Debug)]
pub struct FailingStore<S> {
    inner: S,
    fail_at: usize,
    calls: AtomicUsize,
}

/// The error a [`FailingStore`] injects.
#[derive(Debug, thiserror::Error)]
#[error("injected failure at call {0}")]
pub struct InjectedFailure(pub usize);

impl<S> FailingStore<S> {
    /// Fails the `n`-th call to `inner`.
    pub fn new(inner: S, n: usize) -> Self {
        FailingStore {
            inner,
            fail_at: n,
            calls: AtomicUsize::new(0),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// How many calls were made, the failed one included.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<(), StoreError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call == self.fail_at {
            Err(StoreError::Unavailable(Box::new(InjectedFailure(call))))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl<S: AccountStore> AccountStore for FailingStore<S> {
    // Forwarded, not left to the trait's default: the inner store's own look-up (one SQL
    // query in the sqlx adapter) is what a wrapped store must be tested with.
    async fn look_up_assertion(
        &self,
        identity: &Identity,
        email: Option<&str>,
        stems: &[String],
    ) -> Result<AccountLookup, StoreError> {
        self.check()?;
        self.inner.look_up_assertion(identity, email, stems).await
    }

    async fn account_by_identity(
        &self,
        identity: &Identity,
    ) -> Result<Option<AccountRecord>, StoreError> {
        self.check()?;
        self.inner.account_by_identity(identity).await
    }

    async fn accounts_by_email(&self, email: &str) -> Result<Vec<AccountRecord>, StoreError> {
        self.check()?;
        self.inner.accounts_by_email(email).await
    }

    async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        self.check()?;
        self.inner.account_by_id(id).await
    }

    async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
        self.check()?;
        self.inner.taken_handles(stems).await
    }

    async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
        self.check()?;
        self.inner.create_account(account).await
    }

    async fn link_identity(
        &self,
        account: &AccountId,
        identity: &Identity,
    ) -> Result<(), LinkError> {
        self.check()?;
        self.inner.link_identity(account, identity).await
    }

    async fn raise_role(&self, account: &AccountId, grant: &Grant) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.raise_role(account, grant).await
    }
}
