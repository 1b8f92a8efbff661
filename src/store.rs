//! The account store boundary: the look-ups decisions need and the atomic writes that
//! carry them out.
//!
//! See [`AccountStore`] for the contract a storage adapter meets.

use std::error::Error as StdError;
use std::sync::Arc;

use async_trait::async_trait;

use crate::account::{AccountId, AccountRecord, Identity, NewAccount};
use crate::lookup::AccountLookup;
use crate::role::Grant;

/// A boxed error from a storage backend.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The store failed; nothing about the request was decided or written half-way.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached (connection refused, pool exhausted, timed out).
    #[error("the account store is unavailable")]
    Unavailable(#[source] BoxError),
    /// The store is reachable but not usable (for example its schema is missing).
    #[error("the account store is not set up: {0}")]
    NotSetUp(String),
    /// The store holds data that breaks the contract (for example an unknown role).
    #[error("the account store holds invalid data: {0}")]
    InvalidData(String),
    /// Any other backend failure.
    #[error("the account store failed")]
    Backend(#[source] BoxError),
}

/// Why [`AccountStore::create_account`] created nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateError {
    /// Another account took the handle first (compared case-insensitively), and no
    /// other free handle could be given instead (a fixed handle, none free, or one of
    /// another base taken meanwhile).
    #[error("handle `{0}` is taken")]
    HandleTaken(String),
    /// Another account holds the identity already.
    #[error("identity {0} is linked to another account")]
    IdentityTaken(Identity),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why [`AccountStore::link_identity`] linked nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Another account holds the identity already.
    #[error("identity {0} is linked to another account")]
    IdentityTaken(Identity),
    /// The account does not exist (any more).
    #[error("account `{0}` does not exist")]
    NoSuchAccount(AccountId),
    /// The account is linked already to another subject of the same issuer: one person
    /// has one identity at an IdP, so a second is a takeover attempt or two logins
    /// racing for one account.
    #[error("account `{account}` already has an identity from `{issuer}`")]
    IssuerTaken {
        /// The account.
        account: AccountId,
        /// The issuer it has an identity from.
        issuer: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where accounts live. Implementations must be safe to share between tasks and app
/// servers.
///
/// # Writing a storage adapter
///
/// An adapter implements this trait over its database. The provisioner relies on
/// these guarantees, which the conformance suite
/// (`jit_provisioning::testing::conformance`, behind the `testing` feature) checks:
///
/// 1. **Handles are unique case-insensitively.** `Jane-Doe` and `jane-doe` cannot both
///    exist. [`AccountStore::create_account`] reports [`CreateError::HandleTaken`] when the
///    handle is taken, never a generic error.
/// 2. **An identity belongs to at most one account, and an account has at most one
///    identity per issuer.** (issuer, subject) pairs are unique, and so are (account,
///    issuer) pairs: creating or linking a taken identity reports `IdentityTaken`, linking
///    a second subject of one issuer to an account reports [`LinkError::IssuerTaken`].
///    Both must hold atomically under concurrent links (a unique constraint in SQL):
///    otherwise two people with one email, racing, could both take over the account.
/// 3. **Creation is atomic and keeps everything.** The account, its identity and all its
///    memberships appear together or not at all, whatever fails and whenever; every
///    look-up then returns what [`NewAccount::record`] gives, the person's given and
///    family names included, exactly as given.
/// 4. **Emails compare by [`email_key`](crate::email_key)** (case-insensitively, in every
///    script) in [`AccountStore::accounts_by_email`], which returns every match (the
///    engine refuses an ambiguous email). Index the key, not a database's own `lower()`:
///    the engine must see exactly the matches the store finds.
/// 5. **Taken handles come back in one call.** [`AccountStore::taken_handles`] gets the
///    stems of one handle base and returns every handle equal to a stem or to a stem
///    followed by `-` and ASCII digits, so the lowest free suffix is found in one round
///    trip however many `jane-doe-N` exist. Returning more handles is harmless; fewer is
///    a bug.
/// 6. **Linking is atomic and idempotent.** [`AccountStore::link_identity`] succeeds when
///    the identity is free or already linked to that account, reports
///    [`LinkError::IdentityTaken`] when another account holds it,
///    [`LinkError::IssuerTaken`] when the account has another identity from that issuer,
///    and [`LinkError::NoSuchAccount`] when the account is gone.
/// 7. **Roles only rise.** [`AccountStore::raise_role`] changes a membership's role only
///    when the new role is higher, in one atomic step (a conditional `UPDATE` in SQL), so
///    that two sign-ins racing with different groups end at the higher role whatever
///    their order, and a role an admin set higher by hand is never lowered. It never
///    adds a membership.
/// 8. **Errors are values.** A failing backend returns [`StoreError`] (`Unavailable` for
///    connection trouble, `NotSetUp` for a missing schema); nothing panics.
/// 9. **A taken handle gives way to the next free one, inside the insert.** The engine
///    proposes the lowest free handle among those the look-up saw; in a burst of first
///    logins of one name, every login proposes the same one. When
///    [`AccountStore::create_account`] finds the proposed handle taken and the
///    [`NewAccount`] carries a [`handle_choice`](NewAccount::handle_choice), it reads the
///    handles it holds under [`NewAccount::stems`] and creates the account under
///    [`NewAccount::free_handle`] of them, **in the same atomic step** as the insert, so
///    that no other creation can take that handle in between; the record it returns
///    names the handle made. It reports [`CreateError::HandleTaken`] only when the handle
///    is fixed (no choice), when `free_handle` finds nothing free, or when a handle of
///    another base took the free one (a person named `Jane Doe 2`). A free proposed
///    handle is created as it is. In memory that is one lock; in SQL with one writer at
///    a time (SQLite), the read and the insert in the write transaction; with concurrent
///    writers (PostgreSQL), creations of one base
///    ([`HandleChoice::base`](crate::HandleChoice::base)) serialised by an advisory
///    lock, shared for the plain insert, exclusive for the read and the insert after a
///    collision.
///
/// With all nine, a first login makes two store calls, [`AccountStore::look_up_assertion`]
/// and `create_account`, and is decided once, in a burst of a thousand first logins of
/// one name over several app servers too (the `testing` feature's `Burst` runs one).
///
/// Items 1 to 8 keep accounts right: a store that breaks one can give two people one
/// account, or lose part of one. Item 9 keeps bursts cheap. A store written before it
/// (it creates the proposed handle or reports `HandleTaken`) still gives everyone the
/// right account, because the provisioner looks again and decides again after a lost
/// race; but in a burst of N first logins of one name each round has one winner, so a
/// login may take up to N rounds and give up after
/// [`DEFAULT_MAX_ATTEMPTS`](crate::DEFAULT_MAX_ATTEMPTS)
/// ([`ProvisionError::Contention`](crate::ProvisionError::Contention)). The conformance
/// suite reports such a store (checks
/// `a_taken_handle_gives_way_to_the_lowest_free_one` and `concurrent_first_logins`).
///
/// Run the suite from the adapter's tests with
/// `testing::conformance` (feature `testing`), giving it a
/// way to make an empty store; see the `testing` module for an example.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Everything a decision on an assertion needs, in one call: the account linked to
    /// `identity`; when there is none, the accounts with the `email` (if one is given);
    /// when there are none either, the taken handles among `stems` (see
    /// [`AccountStore::taken_handles`]). Fields the answer does not reach stay empty.
    ///
    /// The default makes those calls in turn, stopping at the first that finds someone,
    /// so a simple store need not implement it; a SQL store answers in one query, and a
    /// sign-in or a first login then costs the round trip of this call alone.
    async fn look_up_assertion(
        &self,
        identity: &Identity,
        email: Option<&str>,
        stems: &[String],
    ) -> Result<AccountLookup, StoreError> {
        let mut known = AccountLookup {
            by_identity: self.account_by_identity(identity).await?,
            ..AccountLookup::default()
        };
        if known.by_identity.is_some() {
            return Ok(known);
        }
        if let Some(email) = email {
            known.by_email = self.accounts_by_email(email).await?;
            if !known.by_email.is_empty() {
                return Ok(known);
            }
        }
        known.taken_handles = self.taken_handles(stems).await?;
        Ok(known)
    }

    /// The account linked to `identity`.
    async fn account_by_identity(
        &self,
        identity: &Identity,
    ) -> Result<Option<AccountRecord>, StoreError>;

    /// Every account whose email has the same [`email_key`](crate::email_key) as `email`.
    async fn accounts_by_email(&self, email: &str) -> Result<Vec<AccountRecord>, StoreError>;

    /// The account with this id.
    async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError>;

    /// Every taken handle equal to one of `stems` or to a stem followed by `-` and digits,
    /// compared case-insensitively; in one round trip.
    async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError>;

    /// Creates the account with its names, identity and memberships, atomically; when
    /// its proposed handle is taken, under [`NewAccount::free_handle`] (item 9 above).
    /// The record returned names the handle the account has.
    async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError>;

    /// Links `identity` to an existing account, atomically.
    async fn link_identity(
        &self,
        account: &AccountId,
        identity: &Identity,
    ) -> Result<(), LinkError>;

    /// Raises the account's role in `grant.org` to `grant.role` if that is higher than the
    /// role it holds, atomically; never lowers a role and never adds a membership.
    /// Returns whether the role rose: `false` when the account already holds that role or
    /// a higher one, is not a member of the org (any more), or does not exist.
    async fn raise_role(&self, account: &AccountId, grant: &Grant) -> Result<bool, StoreError>;
}

/// Implements [`AccountStore`] for a pointer type by forwarding every call to the store
/// it points to.
macro_rules! forward_store {
    ($(#[$doc:meta])* $pointer:ty) => {
        $(#[$doc])*
        #[async_trait]
        impl<S: AccountStore + ?Sized> AccountStore for $pointer {
            async fn look_up_assertion(
                &self,
                identity: &Identity,
                email: Option<&str>,
                stems: &[String],
            ) -> Result<AccountLookup, StoreError> {
                (**self).look_up_assertion(identity, email, stems).await
            }

            async fn account_by_identity(
                &self,
                identity: &Identity,
            ) -> Result<Option<AccountRecord>, StoreError> {
                (**self).account_by_identity(identity).await
            }

            async fn accounts_by_email(&self, email: &str) -> Result<Vec<AccountRecord>, StoreError> {
                (**self).accounts_by_email(email).await
            }

            async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
                (**self).account_by_id(id).await
            }

            async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
                (**self).taken_handles(stems).await
            }

            async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
                (**self).create_account(account).await
            }

            async fn link_identity(
                &self,
                account: &AccountId,
                identity: &Identity,
            ) -> Result<(), LinkError> {
                (**self).link_identity(account, identity).await
            }

            async fn raise_role(&self, account: &AccountId, grant: &Grant) -> Result<bool, StoreError> {
                (**self).raise_role(account, grant).await
            }
        }
    };
}

forward_store!(
    /// Forwards every call, so a shared store can be handed around as `Arc<S>`.
    Arc<S>
);
forward_store!(
    /// Forwards every call, so a store can be lent to a short-lived provisioner.
    &S
);
forward_store!(
    /// Forwards every call, so that an app picks its store at run time
    /// (`Box<dyn AccountStore>`, as `Arc<dyn AccountStore>` does) without generics
    /// everywhere:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use jit_provisioning::{AccountStore, Config, MemoryStore, Provisioner};
    ///
    /// // SQLite or PostgreSQL from an environment variable, in a real app.
    /// let store: Box<dyn AccountStore> = Box::new(MemoryStore::new());
    /// let shared: Arc<dyn AccountStore> = Arc::new(MemoryStore::new());
    /// let policy = Config::default().validate().unwrap();
    /// let _one: Provisioner<Box<dyn AccountStore>> = Provisioner::new(policy.clone(), store);
    /// let _two: Provisioner<Arc<dyn AccountStore>> = Provisioner::new(policy, shared);
    /// ```
    Box<S>
);

/// Whether `handle` is `stem` or `stem-<digits>`, ASCII case-insensitively: the shape
/// [`AccountStore::taken_handles`] must return.
pub fn is_stem_or_suffixed(handle: &str, stem: &str) -> bool {
    let Some(rest) = strip_prefix_ignore_ascii_case(handle, stem) else {
        return false;
    };
    match rest.strip_prefix('-') {
        None => rest.is_empty(),
        Some(digits) => !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
    }
}

fn strip_prefix_ignore_ascii_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let mut chars = text.char_indices();
    for expected in prefix.chars() {
        let (_, actual) = chars.next()?;
        if !actual.eq_ignore_ascii_case(&expected) {
            return None;
        }
    }
    Some(chars.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stem_shapes() {
        assert!(is_stem_or_suffixed("jane-doe", "jane-doe"));
        assert!(is_stem_or_suffixed("Jane-Doe-12", "jane-doe"));
        assert!(!is_stem_or_suffixed("jane-doe-", "jane-doe"));
        assert!(!is_stem_or_suffixed("jane-doe-x", "jane-doe"));
        assert!(!is_stem_or_suffixed("jane-does", "jane-doe"));
        assert!(!is_stem_or_suffixed("jane-doe-2-3", "jane-doe"));
        assert!(!is_stem_or_suffixed("jane", "jane-doe"));
        assert!(!is_stem_or_suffixed("jané-doe", "jane-doe"));
    }
}
