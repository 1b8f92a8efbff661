//! A thread-safe in-memory [`AccountStore`]: for tests, examples, the case runner and
//! single-process apps that keep accounts elsewhere.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::account::{AccountId, AccountRecord, Identity, NewAccount};
use crate::deprovision::DeprovisionedBy;
use crate::deprovision::{Deprovisioned, DeprovisionedIdentities};
use crate::email::email_key;
use crate::invite::{Invite, Joined, Member};
use crate::membership::{MembershipError, MembershipStore};
use crate::role::Grant;
use crate::role::Role;
use crate::scim_users::{
    Deprovisioning, NewProvisionedUser, ProvisionedUser, ProvisionedUserChange, ScimUserError,
    ScimUsers, UserFilter,
};
use crate::store::{is_stem_or_suffixed, AccountStore, CreateError, LinkError, StoreError};

mod scim_groups;

use scim_groups::GroupEntry;

/// An [`AccountStore`] in memory. Every operation takes one lock, so each is atomic and
/// the store meets the whole storage contract: a creation whose handle was taken picks
/// the next free one under that lock.
///
/// ```
/// use jit_provisioning::{AccountRecord, MemoryStore};
///
/// let store =
///     MemoryStore::with_accounts([AccountRecord::new("u1", "jane-doe").with_email("jane@acme.example")])
///         .unwrap();
/// assert_eq!(store.len(), 1);
///
/// // Two accounts may not share a handle, whatever its case.
/// let clash = MemoryStore::with_accounts([
///     AccountRecord::new("u1", "jane-doe"),
///     AccountRecord::new("u2", "Jane-Doe"),
/// ]);
/// assert!(clash.is_err());
///
/// // Removing an account frees its handle, identities and email.
/// assert!(store.remove(&"u1".into()).is_some());
/// assert!(store.is_empty());
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Accounts>,
}

#[derive(Debug, Default)]
struct Accounts {
    by_id: BTreeMap<AccountId, AccountRecord>,
    /// Lower-cased handle → id; ordered so that a stem's suffixes are one range scan.
    by_handle: BTreeMap<String, AccountId>,
    by_identity: HashMap<Identity, AccountId>,
    /// [`email_key`] → ids; several accounts may share one email.
    by_email: HashMap<String, Vec<AccountId>>,
    next_id: u64,
    /// How each membership came to be, where it was not by hand.
    joined: HashMap<(AccountId, String), Joined>,
    /// Open and expired invites, by id.
    invites: BTreeMap<u64, Invite>,
    next_invite: u64,
    /// (org, identity) → how the org's IdP deprovisioned it.
    deprovisioned: HashMap<(String, Identity), Deprovisioned>,
    /// SCIM users by id (ordered, so that pages are stable), deleted ones kept as
    /// tombstones.
    scim_users: BTreeMap<String, ScimEntry>,
    next_scim: u64,
    /// SCIM groups by id, with their members.
    scim_groups: BTreeMap<String, GroupEntry>,
    next_group: u64,
}

/// A SCIM user and what restoring it gives back.
#[derive(Debug, Clone)]
struct ScimEntry {
    user: ProvisionedUser,
    deleted: bool,
    /// The role the SCIM creation granted at the org, if any: given back on restoring
    /// when no other role was held at deprovisioning.
    provisioned_role: Option<Role>,
    /// Set while deprovisioned: what deprovisioning took.
    taken: Option<Taken>,
}

/// What deprovisioning took from an account, to give back on restoring.
#[derive(Debug, Clone, Copy)]
struct Taken {
    role: Option<Role>,
    joined: Option<Joined>,
    disabled: bool,
}

/// Why accounts given to [`MemoryStore::with_accounts`] cannot coexist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// Two accounts have the same id.
    #[error("account id `{0}` appears twice")]
    DuplicateId(AccountId),
    /// Two accounts have the same handle, compared case-insensitively.
    #[error("handle `{0}` is taken by two accounts")]
    DuplicateHandle(String),
    /// Two accounts are linked to the same identity.
    #[error("identity {0} is linked to two accounts")]
    DuplicateIdentity(Identity),
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `accounts`, which must have distinct ids, handles and identities.
    pub fn with_accounts(
        accounts: impl IntoIterator<Item = AccountRecord>,
    ) -> Result<Self, SeedError> {
        let mut inner = Accounts::default();
        for account in accounts {
            if inner.by_id.contains_key(&account.id) {
                return Err(SeedError::DuplicateId(account.id));
            }
            let handle = account.handle.to_lowercase();
            if inner.by_handle.contains_key(&handle) {
                return Err(SeedError::DuplicateHandle(account.handle));
            }
            for identity in &account.identities {
                if inner.by_identity.contains_key(identity) {
                    return Err(SeedError::DuplicateIdentity(identity.clone()));
                }
            }
            inner.insert(account, handle);
        }
        Ok(MemoryStore {
            inner: Mutex::new(inner),
        })
    }

    /// How many accounts the store holds.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether the store holds no account.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of every account, ordered by id.
    pub fn snapshot(&self) -> Vec<AccountRecord> {
        self.lock().by_id.values().cloned().collect()
    }

    /// Records that `org`'s IdP deprovisioned `identity` (what a SCIM deactivation or
    /// deletion writes), replacing an earlier record.
    pub fn deprovision(&self, org: &str, identity: Identity, deprovisioned: Deprovisioned) {
        self.lock()
            .deprovisioned
            .insert((org.to_owned(), identity), deprovisioned);
    }

    /// Restores `identity` at `org` (a SCIM reactivation); whether it was deprovisioned.
    pub fn reactivate(&self, org: &str, identity: &Identity) -> bool {
        self.lock()
            .deprovisioned
            .remove(&(org.to_owned(), identity.clone()))
            .is_some()
    }

    /// Adds `invite` as it is, its id included (tests and policy cases name their
    /// invites); refused when an invite has that id already.
    pub fn seed_invite(&self, invite: Invite) -> Result<(), String> {
        let mut inner = self.lock();
        if inner.invites.values().any(|held| held.id == invite.id) {
            return Err(format!("invite id `{}` appears twice", invite.id));
        }
        inner.next_invite += 1;
        let key = inner.next_invite;
        inner.invites.insert(key, invite);
        Ok(())
    }

    /// Removes an account with its identities, returning it if it existed. (The
    /// [`AccountStore`] boundary has no deletion; tests and benchmarks use this to undo.)
    pub fn remove(&self, id: &AccountId) -> Option<AccountRecord> {
        let mut inner = self.lock();
        let account = inner.by_id.remove(id)?;
        inner.by_handle.remove(&account.handle.to_lowercase());
        for identity in &account.identities {
            inner.by_identity.remove(identity);
        }
        if let Some(email) = &account.email {
            let key = email_key(email);
            if let Some(ids) = inner.by_email.get_mut(&key) {
                ids.retain(|other| other != id);
                if ids.is_empty() {
                    inner.by_email.remove(&key);
                }
            }
        }
        Some(account)
    }

    fn lock(&self) -> MutexGuard<'_, Accounts> {
        // No code path panics while holding the lock, so a poisoned lock still guards
        // consistent data.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Accounts {
    fn insert(&mut self, account: AccountRecord, lower_handle: String) {
        self.by_handle.insert(lower_handle, account.id.clone());
        for identity in &account.identities {
            self.by_identity
                .insert(identity.clone(), account.id.clone());
        }
        if let Some(email) = &account.email {
            self.by_email
                .entry(email_key(email))
                .or_default()
                .push(account.id.clone());
        }
        self.by_id.insert(account.id.clone(), account);
    }

    /// Every handle equal to one of `stems` or to a stem, `-` and digits, lower-cased.
    fn taken_under(&self, stems: &[String]) -> Vec<String> {
        let mut taken = Vec::new();
        for stem in stems {
            let stem = stem.to_lowercase();
            let from = Bound::Included(stem.as_str());
            taken.extend(
                self.by_handle
                    .range::<str, _>((from, Bound::Unbounded))
                    .map(|(handle, _)| handle)
                    .take_while(|handle| handle.starts_with(&stem))
                    .filter(|handle| is_stem_or_suffixed(handle, &stem))
                    .cloned(),
            );
        }
        taken
    }

    fn fresh_id(&mut self) -> AccountId {
        loop {
            self.next_id += 1;
            let id = AccountId(format!("acct-{}", self.next_id));
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn account_by_identity(
        &self,
        identity: &Identity,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .by_identity
            .get(identity)
            .and_then(|id| inner.by_id.get(id))
            .cloned())
    }

    async fn accounts_by_email(&self, email: &str) -> Result<Vec<AccountRecord>, StoreError> {
        let inner = self.lock();
        let ids = inner.by_email.get(&email_key(email));
        Ok(ids
            .into_iter()
            .flatten()
            .filter_map(|id| inner.by_id.get(id))
            .cloned()
            .collect())
    }

    async fn account_by_id(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        Ok(self.lock().by_id.get(id).cloned())
    }

    async fn taken_handles(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
        Ok(self.lock().taken_under(stems))
    }

    async fn create_account(&self, account: &NewAccount) -> Result<AccountRecord, CreateError> {
        let mut inner = self.lock();
        let mut handle = account.handle.clone();
        if inner.by_handle.contains_key(&handle.to_lowercase()) {
            // Taken since the engine looked: the next free handle by the engine's rule,
            // under the same lock, so no other creation can take it first.
            let taken = inner.taken_under(&account.stems());
            handle = account
                .free_handle(&taken)
                .filter(|free| !inner.by_handle.contains_key(&free.to_lowercase()))
                .ok_or_else(|| CreateError::HandleTaken(account.handle.clone()))?;
        }
        if inner.by_identity.contains_key(&account.identity) {
            return Err(CreateError::IdentityTaken(account.identity.clone()));
        }
        let mut record = account.record(inner.fresh_id());
        let key = handle.to_lowercase();
        record.handle = handle;
        let invited_to = account.invite.as_ref().map(|invite| invite.org.as_str());
        for org in record.memberships.keys() {
            let joined = if invited_to == Some(org.as_str()) {
                Joined::Invite
            } else {
                Joined::Jit
            };
            inner
                .joined
                .insert((record.id.clone(), org.clone()), joined);
        }
        inner.insert(record.clone(), key);
        Ok(record)
    }

    async fn link_identity(
        &self,
        account: &AccountId,
        identity: &Identity,
    ) -> Result<(), LinkError> {
        let mut inner = self.lock();
        match inner.by_identity.get(identity) {
            Some(owner) if owner == account => return Ok(()),
            Some(_) => return Err(LinkError::IdentityTaken(identity.clone())),
            None => {}
        }
        let Some(record) = inner.by_id.get_mut(account) else {
            return Err(LinkError::NoSuchAccount(account.clone()));
        };
        if record
            .identities
            .iter()
            .any(|linked| linked.issuer == identity.issuer)
        {
            return Err(LinkError::IssuerTaken {
                account: account.clone(),
                issuer: identity.issuer.clone(),
            });
        }
        record.identities.push(identity.clone());
        inner.by_identity.insert(identity.clone(), account.clone());
        Ok(())
    }
    async fn raise_role(&self, account: &AccountId, grant: &Grant) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let held = inner
            .by_id
            .get_mut(account)
            .and_then(|record| record.memberships.get_mut(&grant.org));
        match held {
            Some(role) if *role < grant.role => {
                *role = grant.role;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

impl Accounts {
    /// How many admins `org` has.
    fn admins_of(&self, org: &str) -> usize {
        self.by_id
            .values()
            .filter(|account| account.memberships.get(org) == Some(&Role::Admin))
            .count()
    }
}

#[async_trait]
impl DeprovisionedIdentities for MemoryStore {
    async fn deprovisioned(
        &self,
        org: &str,
        identity: &Identity,
    ) -> Result<Option<Deprovisioned>, StoreError> {
        Ok(self
            .lock()
            .deprovisioned
            .get(&(org.to_owned(), identity.clone()))
            .cloned())
    }
}

#[async_trait]
impl MembershipStore for MemoryStore {
    async fn create_invite(&self, invite: &Invite) -> Result<Invite, StoreError> {
        let mut inner = self.lock();
        inner.next_invite += 1;
        let id = inner.next_invite;
        let stored = invite.clone().with_id(format!("inv-{id}"));
        inner.invites.insert(id, stored.clone());
        Ok(stored)
    }

    async fn open_invites(&self, org: &str, now: DateTime<Utc>) -> Result<Vec<Invite>, StoreError> {
        let mut open: Vec<Invite> = self
            .lock()
            .invites
            .values()
            .filter(|invite| invite.org == org && invite.is_open(now))
            .cloned()
            .collect();
        // Oldest first by when they were made; a stable sort keeps invites made at one
        // moment in the order they were stored.
        open.sort_by_key(|invite| invite.created_at);
        Ok(open)
    }

    async fn invites_for(
        &self,
        org: &str,
        identity: &Identity,
        email: Option<&str>,
        account: Option<&AccountId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invite>, StoreError> {
        let inner = self.lock();
        let account = account.and_then(|id| inner.by_id.get(id));
        Ok(inner
            .invites
            .values()
            .filter(|invite| invite.org == org && invite.is_for(identity, email, account, now))
            .cloned()
            .collect())
    }

    async fn revoke_invite(&self, org: &str, id: &str) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let key = inner
            .invites
            .iter()
            .find(|(_, invite)| invite.id == id && invite.org == org)
            .map(|(key, _)| *key);
        Ok(key.and_then(|key| inner.invites.remove(&key)).is_some())
    }

    async fn accept_invite(
        &self,
        id: &str,
        account: &AccountId,
    ) -> Result<Option<Grant>, StoreError> {
        let mut inner = self.lock();
        if !inner.by_id.contains_key(account) {
            return Ok(None);
        }
        let Some(key) = inner
            .invites
            .iter()
            .find(|(_, invite)| invite.id == id)
            .map(|(key, _)| *key)
        else {
            return Ok(None);
        };
        let Some(invite) = inner.invites.remove(&key) else {
            return Ok(None);
        };
        let Some(record) = inner.by_id.get_mut(account) else {
            return Ok(None);
        };
        let added = !record.memberships.contains_key(&invite.org);
        let role = record
            .memberships
            .entry(invite.org.clone())
            .and_modify(|held| *held = (*held).max(invite.role))
            .or_insert(invite.role);
        let grant = Grant {
            org: invite.org.clone(),
            role: *role,
        };
        // Joined by invite only when the invite added the membership: a member already
        // there (by JIT, by hand) keeps how it joined.
        if added {
            inner
                .joined
                .insert((account.clone(), invite.org), Joined::Invite);
        }
        Ok(Some(grant))
    }

    async fn account_by_handle(&self, handle: &str) -> Result<Option<AccountRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .by_handle
            .get(&handle.to_lowercase())
            .and_then(|id| inner.by_id.get(id))
            .cloned())
    }

    async fn members(&self, org: &str) -> Result<Vec<Member>, StoreError> {
        let inner = self.lock();
        let mut members: Vec<Member> = inner
            .by_id
            .values()
            .filter_map(|account| {
                let role = *account.memberships.get(org)?;
                let joined = inner
                    .joined
                    .get(&(account.id.clone(), org.to_owned()))
                    .copied()
                    .unwrap_or(Joined::ByHand);
                Some(Member::new(account.clone(), role, joined))
            })
            .collect();
        members.sort_by(|a, b| {
            a.account
                .handle
                .to_lowercase()
                .cmp(&b.account.handle.to_lowercase())
        });
        Ok(members)
    }

    async fn set_role(
        &self,
        account: &AccountId,
        org: &str,
        role: Role,
    ) -> Result<(), MembershipError> {
        let mut inner = self.lock();
        let admins = inner.admins_of(org);
        let record = inner
            .by_id
            .get_mut(account)
            .ok_or_else(|| MembershipError::NoSuchAccount(account.clone()))?;
        let held = record.memberships.get(org).copied();
        if held == Some(Role::Admin) && role != Role::Admin && admins <= 1 {
            return Err(MembershipError::LastAdmin);
        }
        record.memberships.insert(org.to_owned(), role);
        Ok(())
    }

    async fn remove_member(&self, account: &AccountId, org: &str) -> Result<bool, MembershipError> {
        let mut inner = self.lock();
        let admins = inner.admins_of(org);
        let record = inner
            .by_id
            .get_mut(account)
            .ok_or_else(|| MembershipError::NoSuchAccount(account.clone()))?;
        if record.memberships.get(org) == Some(&Role::Admin) && admins <= 1 {
            return Err(MembershipError::LastAdmin);
        }
        let removed = record.memberships.remove(org).is_some();
        inner.joined.remove(&(account.clone(), org.to_owned()));
        Ok(removed)
    }
}

impl Accounts {
    /// The live (not deleted) SCIM users of `org`.
    fn live_users<'a>(&'a self, org: &'a str) -> impl Iterator<Item = &'a ScimEntry> + 'a {
        self.scim_users
            .values()
            .filter(move |entry| !entry.deleted && entry.user.org == org)
    }

    /// A conflict with another live user of `org` than `except`, described.
    fn scim_conflict(
        &self,
        org: &str,
        except: Option<&str>,
        user_name: &str,
        external_id: Option<&str>,
        identity: &Identity,
    ) -> Option<String> {
        let lower = user_name.to_lowercase();
        self.live_users(org)
            .filter(|entry| Some(entry.user.id.as_str()) != except)
            .find_map(|entry| {
                if entry.user.user_name.to_lowercase() == lower {
                    Some(format!("userName `{user_name}` is taken"))
                } else if external_id.is_some() && entry.user.external_id.as_deref() == external_id
                {
                    Some(format!(
                        "externalId `{}` is taken",
                        external_id.unwrap_or_default()
                    ))
                } else if entry.user.identity == *identity {
                    Some(format!("identity {identity} belongs to another user"))
                } else {
                    None
                }
            })
    }

    /// Creates `account` as [`AccountStore::create_account`] does, its memberships joined
    /// by SCIM.
    fn create_for_scim(&mut self, account: &NewAccount) -> Result<AccountRecord, ScimUserError> {
        let mut handle = account.handle.clone();
        if self.by_handle.contains_key(&handle.to_lowercase()) {
            let taken = self.taken_under(&account.stems());
            handle = account
                .free_handle(&taken)
                .filter(|free| !self.by_handle.contains_key(&free.to_lowercase()))
                .ok_or_else(|| ScimUserError::NoFreeHandle(account.handle.clone()))?;
        }
        let mut record = account.record(self.fresh_id());
        let key = handle.to_lowercase();
        record.handle = handle;
        for org in record.memberships.keys() {
            self.joined
                .insert((record.id.clone(), org.clone()), Joined::Scim);
        }
        self.insert(record.clone(), key);
        Ok(record)
    }

    fn fresh_scim_id(&mut self) -> String {
        loop {
            self.next_scim += 1;
            // Zero-padded, so that the ids' order is the order they were made in.
            let id = format!("{:012}", self.next_scim);
            if !self.scim_users.contains_key(&id) {
                return id;
            }
        }
    }

    /// Ends `id`'s access to its org (contract item 5), marking it deprovisioned `by`.
    fn deprovision_user(
        &mut self,
        id: &str,
        by: DeprovisionedBy,
        now: DateTime<Utc>,
    ) -> Option<Deprovisioning> {
        let entry = self.scim_users.get(id)?;
        let (org, account, identity) = (
            entry.user.org.clone(),
            entry.user.account.clone(),
            entry.user.identity.clone(),
        );
        let joined = self.joined.remove(&(account.clone(), org.clone()));
        let mut taken = Taken {
            role: None,
            joined,
            disabled: false,
        };
        if let Some(record) = self.by_id.get_mut(&account) {
            taken.role = record.memberships.remove(&org);
            // The org owns the account when it made it and it belongs to no other org:
            // only then is disabling it the org's call.
            let owned = taken.role.is_some()
                && record.memberships.is_empty()
                && matches!(joined, Some(Joined::Jit | Joined::Scim));
            if owned && !record.disabled {
                record.disabled = true;
                taken.disabled = true;
            }
        }
        self.deprovisioned
            .insert((org, identity), Deprovisioned::new(now, by));
        let entry = self.scim_users.get_mut(id)?;
        entry.taken = Some(taken);
        Some(Deprovisioning::new(
            account,
            taken.role.is_some(),
            taken.disabled,
        ))
    }

    /// Gives back what deprovisioning took (contract item 6) and clears the mark.
    fn restore_user(&mut self, id: &str) {
        let Some(entry) = self.scim_users.get_mut(id) else {
            return;
        };
        let taken = entry.taken.take();
        let (org, account, identity, provisioned_role) = (
            entry.user.org.clone(),
            entry.user.account.clone(),
            entry.user.identity.clone(),
            entry.provisioned_role,
        );
        let role = taken.and_then(|taken| taken.role).or(provisioned_role);
        if let Some(record) = self.by_id.get_mut(&account) {
            if let Some(role) = role {
                if !record.memberships.contains_key(&org) {
                    record.memberships.insert(org.clone(), role);
                    let joined = taken.and_then(|taken| taken.joined).unwrap_or(Joined::Scim);
                    self.joined.insert((account.clone(), org.clone()), joined);
                }
            }
            if taken.is_some_and(|taken| taken.disabled) {
                record.disabled = false;
            }
        }
        self.deprovisioned.remove(&(org, identity));
    }

    fn live_user_mut(&mut self, org: &str, id: &str) -> Result<&mut ScimEntry, ScimUserError> {
        self.scim_users
            .get_mut(id)
            .filter(|entry| !entry.deleted && entry.user.org == org)
            .ok_or_else(|| ScimUserError::NotFound(id.to_owned()))
    }
}

fn filter_matches(user: &ProvisionedUser, filter: &UserFilter) -> bool {
    match filter {
        UserFilter::UserName(name) => user.user_name.to_lowercase() == name.to_lowercase(),
        UserFilter::ExternalId(id) => user.external_id.as_deref() == Some(id.as_str()),
        UserFilter::Email(email) => {
            let key = email_key(email);
            user.emails.iter().any(|held| email_key(held) == key)
        }
        _ => true,
    }
}

/// SCIM users kept with the accounts, under the same lock: a creation makes the account
/// and the user together, and deprovisioning writes the mark that
/// [`DeprovisionedIdentities`] reads.
///
/// A creation whose identity is already linked to an account (the person signed in by
/// JIT before the org turned SCIM on, or a deleted user created again) takes that
/// account over rather than refusing: the SCIM user then signs in to it, restored as
/// `set_active(true)` restores (contract items 6 and 7).
#[async_trait]
impl ScimUsers for MemoryStore {
    async fn create_user(
        &self,
        org: &str,
        user: NewProvisionedUser,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedUser, ScimUserError> {
        let mut inner = self.lock();
        let identity = user.account.identity.clone();
        if let Some(conflict) = inner.scim_conflict(
            org,
            None,
            &user.user_name,
            user.external_id.as_deref(),
            &identity,
        ) {
            return Err(ScimUserError::Conflict(conflict));
        }
        let provisioned_role = user
            .account
            .memberships
            .iter()
            .filter(|grant| grant.org == org)
            .map(|grant| grant.role)
            .max();
        // A tombstone of this identity at this org: what deleting it took.
        let tombstone = inner
            .scim_users
            .iter()
            .find(|(_, entry)| {
                entry.deleted && entry.user.org == org && entry.user.identity == identity
            })
            .map(|(id, entry)| (id.clone(), entry.taken));
        let existing = inner.by_identity.get(&identity).cloned();
        let (account, taken) = match existing {
            Some(account) => (account, tombstone.as_ref().and_then(|(_, taken)| *taken)),
            None => (inner.create_for_scim(&user.account)?.id, None),
        };
        if let Some((id, _)) = &tombstone {
            if let Some(entry) = inner.scim_users.get_mut(id) {
                // Its restoration moves to the new record.
                entry.taken = None;
            }
        }
        let id = inner.fresh_scim_id();
        let record = ProvisionedUser {
            org: org.to_owned(),
            id: id.clone(),
            account,
            user_name: user.user_name,
            external_id: user.external_id,
            active: true,
            given_name: user.account.given_name.clone(),
            family_name: user.account.family_name.clone(),
            display_name: user.display_name,
            emails: user.emails,
            resource: user.resource,
            identity,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        inner.scim_users.insert(
            id.clone(),
            ScimEntry {
                user: record.clone(),
                deleted: false,
                provisioned_role,
                taken,
            },
        );
        // Taken over or created again: restored, and no longer deprovisioned.
        inner.restore_user(&id);
        Ok(record)
    }

    async fn user(&self, org: &str, id: &str) -> Result<Option<ProvisionedUser>, StoreError> {
        Ok(self
            .lock()
            .scim_users
            .get(id)
            .filter(|entry| !entry.deleted && entry.user.org == org)
            .map(|entry| entry.user.clone()))
    }

    async fn users(
        &self,
        org: &str,
        filter: &UserFilter,
        start: usize,
        count: usize,
    ) -> Result<(Vec<ProvisionedUser>, usize), StoreError> {
        let inner = self.lock();
        let matching: Vec<&ScimEntry> = inner
            .live_users(org)
            .filter(|entry| filter_matches(&entry.user, filter))
            .collect();
        let total = matching.len();
        let page = matching
            .into_iter()
            .skip(start)
            .take(count)
            .map(|entry| entry.user.clone())
            .collect();
        Ok((page, total))
    }

    async fn replace_user(
        &self,
        org: &str,
        id: &str,
        change: ProvisionedUserChange,
        now: DateTime<Utc>,
    ) -> Result<ProvisionedUser, ScimUserError> {
        let mut inner = self.lock();
        let held = inner.live_user_mut(org, id)?.user.clone();
        if let Some(conflict) = inner.scim_conflict(
            org,
            Some(id),
            &change.user_name,
            change.external_id.as_deref(),
            &change.identity,
        ) {
            return Err(ScimUserError::Conflict(conflict));
        }
        if change.identity != held.identity {
            if inner.by_identity.contains_key(&change.identity) {
                return Err(ScimUserError::Conflict(format!(
                    "identity {} is linked to another account",
                    change.identity
                )));
            }
            inner.by_identity.remove(&held.identity);
            inner
                .by_identity
                .insert(change.identity.clone(), held.account.clone());
            if let Some(record) = inner.by_id.get_mut(&held.account) {
                record.identities.retain(|linked| *linked != held.identity);
                record.identities.push(change.identity.clone());
            }
            let mark = inner
                .deprovisioned
                .remove(&(org.to_owned(), held.identity.clone()));
            if let Some(mark) = mark {
                inner
                    .deprovisioned
                    .insert((org.to_owned(), change.identity.clone()), mark);
            }
        }
        let entry = inner.live_user_mut(org, id)?;
        let user = &mut entry.user;
        user.user_name = change.user_name;
        user.external_id = change.external_id;
        user.given_name = change.given_name;
        user.family_name = change.family_name;
        user.display_name = change.display_name;
        user.emails = change.emails;
        user.resource = change.resource;
        user.identity = change.identity;
        user.updated_at = now;
        user.version += 1;
        Ok(user.clone())
    }

    async fn set_active(
        &self,
        org: &str,
        id: &str,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<(ProvisionedUser, Option<Deprovisioning>), ScimUserError> {
        let mut inner = self.lock();
        let was = inner.live_user_mut(org, id)?.user.active;
        if was == active {
            let user = inner.live_user_mut(org, id)?.user.clone();
            return Ok((user, None));
        }
        let done = if active {
            inner.restore_user(id);
            None
        } else {
            inner.deprovision_user(id, DeprovisionedBy::Deactivated, now)
        };
        let entry = inner.live_user_mut(org, id)?;
        entry.user.active = active;
        entry.user.updated_at = now;
        entry.user.version += 1;
        Ok((entry.user.clone(), done))
    }

    async fn delete_user(
        &self,
        org: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Deprovisioning, ScimUserError> {
        let mut inner = self.lock();
        let entry = inner.live_user_mut(org, id)?;
        let (active, account) = (entry.user.active, entry.user.account.clone());
        let done = if active {
            inner.deprovision_user(id, DeprovisionedBy::Deleted, now)
        } else {
            // Already deactivated: the mark now says deleted; nothing more is taken.
            let key = {
                let entry = inner.live_user_mut(org, id)?;
                (org.to_owned(), entry.user.identity.clone())
            };
            inner
                .deprovisioned
                .insert(key, Deprovisioned::new(now, DeprovisionedBy::Deleted));
            None
        };
        inner.leave_groups(org, id);
        let entry = inner.live_user_mut(org, id)?;
        entry.deleted = true;
        entry.user.active = false;
        entry.user.updated_at = now;
        entry.user.version += 1;
        Ok(done.unwrap_or_else(|| Deprovisioning::new(account, false, false)))
    }
}
