//! The async driver: look up → decide → apply, against an [`AccountStore`].
//!
//! It is the only code that touches a store. Decisions stay with the pure engine; the
//! provisioner fetches the facts the engine needs, applies the plan with the store's
//! atomic writes, and when a concurrent login wins a race (took the handle, linked the
//! identity) it looks again and decides again.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::account::AccountId;
use crate::account::AccountRecord;
use crate::config::Policy;
use crate::decision::{Action, Decision, Landing, Outcome, Reason};
use crate::deprovision::DeprovisionedIdentities;
use crate::email::usable_email;
use crate::engine::{decide, handle_base, portal_of, screen};
use crate::lookup::AccountLookup;
use crate::membership::MembershipStore;
use crate::org::OrgRegistry;
use crate::replay::ReplayGuard;
use crate::request::{Assertion, Request};
use crate::rule::Rule;
use crate::saml::{
    IdpRedirect, IdpTrip, SamlAnswer, SamlPost, SamlVerifier, VerifiedAssertion, VerifyError,
};
use crate::scim_groups::ScimGroups;
use crate::store::{AccountStore, CreateError, LinkError, StoreError};

/// How many times a request is decided, at most, by default.
///
/// On a store that meets the whole contract a first login is decided once even in a
/// burst of one name: the store picks the lowest free suffix inside the insert
/// ([`NewAccount::free_handle`](crate::NewAccount::free_handle)), so a creation loses a
/// race only to a person of another name whose handle looks like one of its suffixes
/// (`Jane Doe 2`), or to a concurrent login of the same person. The bound is generous
/// for stores that only report [`CreateError::HandleTaken`]: there each creation in a
/// burst of N can lose to every earlier one, all of them aiming at the same suffix.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 64;

/// Applies decisions through an [`AccountStore`].
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use jit_provisioning::{Assertion, Config, MemoryStore, Outcome, Provisioner, Request};
///
/// # pollster::block_on(async {
/// let config: Config = serde_json::from_str(r#"{
///     "orgs": { "acme": { "jit": true, "idp": "https://idp.acme.example" } }
/// }"#).unwrap();
/// let provisioner = Provisioner::new(config.validate().unwrap(), MemoryStore::new());
/// let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
/// let login = Request::Assertion(
///     Assertion::new("acme", "https://idp.acme.example", "00u1").with_names("Jane", "Doe"),
/// );
///
/// let first = provisioner.handle(&login, now).await.unwrap();
/// assert_eq!(first.decision.outcome(), Outcome::AccountCreated);
/// let second = provisioner.handle(&login, now).await.unwrap();
/// assert_eq!(second.decision.outcome(), Outcome::SignedIn);
/// assert_eq!(second.account.unwrap().id, first.account.unwrap().id);
/// # });
/// ```
pub struct Provisioner<S> {
    /// The fixed policy; under a registry, the deployment's settings with no org.
    policy: Policy,
    /// Where each request's org comes from, when the orgs change at run time.
    registry: Option<Arc<OrgRegistry>>,
    store: S,
    /// Where invites are, when the app has org admins who invite.
    invites: Option<Arc<dyn MembershipStore>>,
    /// Where the IdPs' SCIM deprovisionings are, when orgs provision over SCIM.
    deprovisioning: Option<Arc<dyn DeprovisionedIdentities>>,
    /// Where the IdPs' SCIM groups are, when orgs push them.
    scim_groups: Option<Arc<dyn ScimGroups>>,
    max_attempts: u32,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Provisioner<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioner")
            .field("policy", &self.policy)
            .field("registry", &self.registry)
            .field("store", &self.store)
            .field(
                "invites",
                &self.invites.as_ref().map(|_| "a membership store"),
            )
            .field(
                "deprovisioning",
                &self.deprovisioning.as_ref().map(|_| "a SCIM store"),
            )
            .field(
                "scim_groups",
                &self.scim_groups.as_ref().map(|_| "a SCIM groups store"),
            )
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

/// A decision that has been carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Provisioned {
    /// What was decided.
    pub decision: Decision,
    /// The account signed in or created, as the store holds it after the change; `None`
    /// for refusals and redirects.
    pub account: Option<AccountRecord>,
    /// How many times the request was decided: 1, plus one for each race lost to a
    /// concurrent login (a handle or identity taken between look-up and write).
    pub attempts: u32,
    /// When the IdP validated the person for this sign-in: the assertion's
    /// `AuthnInstant` (never the time of the post). A session records it as its
    /// `sso_at`. `None` for portal visits and IdP errors.
    pub sso_at: Option<DateTime<Utc>>,
}

/// The request could not be carried out; nothing was written half-way, and repeating
/// it later is safe.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Concurrent logins kept winning the race for the handle or identity.
    #[error(
        "gave up after {attempts} attempts: concurrent logins kept taking the handle or identity"
    )]
    Contention {
        /// How many times the request was decided.
        attempts: u32,
    },
}

/// A SAML sign-in could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// What the IdP posted did not verify.
    #[error(transparent)]
    Unverified(#[from] VerifyError),
    /// The store failed or the request lost every race.
    #[error(transparent)]
    Provision(#[from] ProvisionError),
}

impl Provisioned {
    fn refused(decision: Decision) -> Self {
        Provisioned {
            decision,
            account: None,
            attempts: 1,
            sso_at: None,
        }
    }
}

/// A SAML post, verified: a request to decide, or already refused.
enum Verified {
    Request(Request),
    Refused(Decision),
}

enum Applied {
    Done(Option<AccountRecord>),
    /// Another login changed what the decision was based on: look again.
    LostRace,
}

impl<S: AccountStore> Provisioner<S> {
    /// A provisioner deciding with `policy` and writing to `store`.
    pub fn new(policy: Policy, store: S) -> Self {
        Provisioner {
            policy,
            registry: None,
            store,
            invites: None,
            deprovisioning: None,
            scim_groups: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// A provisioner deciding each request with its org as `registry` has it at that
    /// moment (a change made on any app server is seen within a second), and writing to
    /// `store`.
    pub fn with_registry(registry: Arc<OrgRegistry>, store: S) -> Self {
        Provisioner {
            policy: registry.policy_of("", None),
            registry: Some(registry),
            store,
            invites: None,
            deprovisioning: None,
            scim_groups: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// Accepts org admins' invites from `invites` at sign-in (rule
    /// [`InviteAccepted`](crate::Rule::InviteAccepted)): usually the same store as the
    /// accounts', shared. Asked only when the decision would otherwise leave the person a
    /// non-member, or create their account, so a member's sign-in costs no more.
    pub fn with_invites(mut self, invites: Arc<dyn MembershipStore>) -> Self {
        self.invites = Some(invites);
        self
    }

    /// Refuses the sign-ins of identities an org's IdP deprovisioned over SCIM (rule
    /// [`DeprovisionedIdentity`](crate::Rule::DeprovisionedIdentity)), as `scim` says:
    /// usually the same store as the accounts'. Asked once for every assertion, before
    /// anything else is decided, so no account, link or invite brings such a person back.
    pub fn with_deprovisioning(mut self, scim: Arc<dyn DeprovisionedIdentities>) -> Self {
        self.deprovisioning = Some(scim);
        self
    }

    /// Decides a sign-in whose IdP sent only part of the groups (Entra ID's overage,
    /// [`Assertion::groups_incomplete`]) on the groups the org's IdP pushed over SCIM,
    /// when `scim` has the person as a SCIM user: their pushed groups (names and
    /// externalIds) join the claimed ones and the groups count as complete. Asked only
    /// for such sign-ins; without a SCIM user, the org refuses as before
    /// ([`Rule::GroupsOverage`](crate::Rule::GroupsOverage)).
    pub fn with_scim_groups(mut self, scim: Arc<dyn ScimGroups>) -> Self {
        self.scim_groups = Some(scim);
        self
    }

    /// How many times to decide again after losing a race before giving up (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The policy decisions are made with. Under a registry, the deployment's settings
    /// with no org: see [`Provisioner::policy_for`].
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The registry the orgs come from, if they change at run time.
    pub fn registry(&self) -> Option<&Arc<OrgRegistry>> {
        self.registry.as_ref()
    }

    /// The policy a request at `org` is decided with now: the fixed one, or the org as
    /// the registry has it.
    pub async fn policy_for(&self, org: &str) -> Result<Cow<'_, Policy>, StoreError> {
        match &self.registry {
            None => Ok(Cow::Borrowed(&self.policy)),
            Some(registry) => Ok(Cow::Owned(registry.policy_for(org).await?)),
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Decides `request` at time `now` and carries the decision out.
    ///
    /// A refusal is `Ok`; `Err` means the store failed or the request lost every race.
    pub async fn handle(
        &self,
        request: &Request,
        now: DateTime<Utc>,
    ) -> Result<Provisioned, ProvisionError> {
        let policy = self.policy_for(request.org()).await?;
        self.handle_with(&policy, request, now).await
    }

    /// What `request` would come to at `now`, were its org active, with nothing
    /// written: what a test sign-in of a [draft](crate::org::OrgState::Draft) org shows
    /// the admin setting it up.
    pub async fn dry_run(
        &self,
        request: &Request,
        now: DateTime<Utc>,
    ) -> Result<Decision, ProvisionError> {
        let policy = self
            .policy_for(request.org())
            .await?
            .into_owned()
            .with_org_active(request.org());
        let request = &*self.complete_groups(request).await?;
        if let Some(decision) = screen(&policy, request, now) {
            return Ok(decision);
        }
        let mut known = self.look_up(&policy, request).await?;
        Ok(self.decide(&policy, request, &mut known, now).await?)
    }

    async fn handle_with(
        &self,
        policy: &Policy,
        request: &Request,
        now: DateTime<Utc>,
    ) -> Result<Provisioned, ProvisionError> {
        let request = &*self.complete_groups(request).await?;
        if let Some(decision) = screen(policy, request, now) {
            return Ok(Provisioned::refused(decision));
        }
        for attempt in 1..=self.max_attempts {
            let mut known = self.look_up(policy, request).await?;
            let decision = self.decide(policy, request, &mut known, now).await?;
            if let Applied::Done(account) = self.apply(&decision, known).await? {
                // The store may have created the account under the next free handle, the
                // proposed one taken meanwhile: the decision names the handle it has.
                let decision = match &account {
                    Some(record) => decision.created_as(&record.handle),
                    None => decision,
                };
                return Ok(Provisioned {
                    decision,
                    account,
                    attempts: attempt,
                    sso_at: match request {
                        Request::Assertion(assertion) => assertion.authn_instant,
                        _ => None,
                    },
                });
            }
        }
        Err(ProvisionError::Contention {
            attempts: self.max_attempts,
        })
    }

    /// `request`, its groups completed from SCIM where the IdP sent only part of them and
    /// the org pushed the person's groups.
    async fn complete_groups<'r>(
        &self,
        request: &'r Request,
    ) -> Result<Cow<'r, Request>, StoreError> {
        let (Some(scim), Request::Assertion(assertion)) = (&self.scim_groups, request) else {
            return Ok(Cow::Borrowed(request));
        };
        if !assertion.groups_incomplete {
            return Ok(Cow::Borrowed(request));
        }
        let Some(pushed) = scim
            .groups_of_identity(&assertion.org, &assertion.identity())
            .await?
        else {
            return Ok(Cow::Borrowed(request));
        };
        let mut completed = assertion.clone();
        for group in pushed {
            if !completed.groups.contains(&group) {
                completed.groups.push(group);
            }
        }
        completed.groups_incomplete = false;
        Ok(Cow::Owned(Request::Assertion(completed)))
    }

    /// The engine's decision. Under a registry, a creation is decided again knowing the
    /// org ids its handle search could meet: the registry's policy of one org does not
    /// hold every org id, and asking the directory only for creations keeps sign-ins at
    /// one round trip.
    async fn decide(
        &self,
        policy: &Policy,
        request: &Request,
        known: &mut AccountLookup,
        now: DateTime<Utc>,
    ) -> Result<Decision, StoreError> {
        if let (Some(scim), Request::Assertion(assertion)) = (&self.deprovisioning, request) {
            known.deprovisioned = scim
                .deprovisioned(&assertion.org, &assertion.identity())
                .await?;
        }
        let mut decision = decide(policy, request, known, now);
        if let (Some(invites), Request::Assertion(assertion)) = (&self.invites, request) {
            if let Some(account) = self.may_take_an_invite(&decision, known) {
                known.invites = invites
                    .invites_for(
                        &assertion.org,
                        &assertion.identity(),
                        usable_email(assertion.email.as_deref()),
                        account.as_ref(),
                        now,
                    )
                    .await?;
                if !known.invites.is_empty() {
                    decision = decide(policy, request, known, now);
                }
            }
        }
        let (Some(registry), Action::Create(_), Request::Assertion(assertion)) =
            (&self.registry, decision.action(), request)
        else {
            return Ok(decision);
        };
        let stems = handle_base(assertion).stems(policy.max_handle_len());
        let org_ids = registry.ids_under(&stems).await?;
        if org_ids.is_empty() {
            return Ok(decision);
        }
        let policy = policy.clone().with_kept_org_ids(org_ids);
        Ok(decide(&policy, request, known, now))
    }

    /// Whether `decision` leaves the person a non-member or creates their account, so
    /// that an invite could change it; with the account it concerns (`None`: a new one).
    fn may_take_an_invite(
        &self,
        decision: &Decision,
        known: &AccountLookup,
    ) -> Option<Option<AccountId>> {
        match (decision.rule(), decision.action()) {
            (Rule::LinkedNonMember, Action::SignIn { account }) => Some(Some(account.clone())),
            (Rule::EmailLinked, Action::LinkAndSignIn { account, .. })
                if matches!(decision.landing(), Some(Landing::UserHome(_))) =>
            {
                Some(Some(account.clone()))
            }
            (Rule::JitCreate, Action::Create(_)) => Some(None),
            // A sign-in whose roles rise may still be a non-member's.
            (Rule::RolesRaised | Rule::RoleSyncSkipped, _) => known
                .by_identity
                .as_ref()
                .filter(|account| {
                    decision.landing() == Some(&Landing::UserHome(account.handle.clone()))
                })
                .map(|account| Some(account.id.clone())),
            _ => None,
        }
    }

    /// The whole SAML sign-in: verifies what the IdP posted, refuses a replayed
    /// assertion, then decides and applies like [`Provisioner::handle`].
    ///
    /// `RelayState` becomes the assertion's `return_to` unless the verifier set one; it is
    /// validated like any `return_to`. A response that fails verification is an `Err`
    /// ([`LoginError::Unverified`]): there is no person to decide about.
    pub async fn login(
        &self,
        saml: &dyn SamlVerifier,
        replay_guard: &dyn ReplayGuard,
        post: &SamlPost,
        now: DateTime<Utc>,
    ) -> Result<Provisioned, LoginError> {
        let policy = self
            .policy_for(&post.org)
            .await
            .map_err(ProvisionError::from)?;
        match self
            .verified(&policy, saml, replay_guard, post, now)
            .await?
        {
            Verified::Request(request) => Ok(self.handle_with(&policy, &request, now).await?),
            Verified::Refused(decision) => Ok(Provisioned::refused(decision)),
        }
    }

    /// A test sign-in: verifies what the IdP posted and refuses a replay like
    /// [`Provisioner::login`], then says what the sign-in would come to were the org
    /// active, and writes nothing. For the admin of a
    /// [draft](crate::org::OrgState::Draft) org checking the connection before opening it.
    pub async fn test_login(
        &self,
        saml: &dyn SamlVerifier,
        replay_guard: &dyn ReplayGuard,
        post: &SamlPost,
        now: DateTime<Utc>,
    ) -> Result<Decision, LoginError> {
        let policy = self
            .policy_for(&post.org)
            .await
            .map_err(ProvisionError::from)?
            .into_owned()
            .with_org_active(&post.org);
        match self
            .verified(&policy, saml, replay_guard, post, now)
            .await?
        {
            Verified::Request(request) => {
                let mut known = self
                    .look_up(&policy, &request)
                    .await
                    .map_err(ProvisionError::from)?;
                Ok(self
                    .decide(&policy, &request, &mut known, now)
                    .await
                    .map_err(ProvisionError::from)?)
            }
            Verified::Refused(decision) => Ok(decision),
        }
    }

    /// What the IdP posted, verified and not replayed, as a request to decide.
    async fn verified(
        &self,
        policy: &Policy,
        saml: &dyn SamlVerifier,
        replay_guard: &dyn ReplayGuard,
        post: &SamlPost,
        now: DateTime<Utc>,
    ) -> Result<Verified, LoginError> {
        let portal = match portal_of(policy, &post.org) {
            Ok((_, portal)) => portal,
            Err(missing) => return Ok(Verified::Refused(missing.decision())),
        };
        let verified = match saml.verify(post, portal.idp(), now).await? {
            SamlAnswer::Status(status) => return Ok(Verified::Request(Request::IdpError(status))),
            SamlAnswer::Assertion(verified) => verified,
        };
        let VerifiedAssertion {
            mut assertion,
            id,
            not_on_or_after,
        } = verified;
        // The org is the one whose ACS received the post, never one the verifier names: a
        // response for one org must not provision into another.
        assertion.org.clone_from(&post.org);
        if assertion.return_to.is_none() {
            assertion.return_to.clone_from(&post.relay_state);
        }
        let issuer = assertion.issuer.clone();
        let request = Request::Assertion(assertion);
        // Screen first: an assertion refused on its face must not use up its id.
        if let Some(decision) = screen(policy, &request, now) {
            return Ok(Verified::Refused(decision));
        }
        if !replay_guard
            .first_use(&issuer, &id, not_on_or_after, now)
            .await
            .map_err(ProvisionError::from)?
        {
            return Ok(Verified::Refused(Decision::refuse(
                Outcome::Denied,
                Rule::ReplayedAssertion,
                Reason::InvalidAssertion,
            )));
        }
        Ok(Verified::Request(request))
    }

    /// The browser redirect for a `redirect_to_idp` decision, issued at `now`; `None` for
    /// any other. `RelayState` carries the landing when it is a validated path. Keep the
    /// returned [`IdpRedirect::request_id`] in the browser's session.
    pub async fn idp_redirect(
        &self,
        saml: &dyn SamlVerifier,
        decision: &Decision,
        now: DateTime<Utc>,
    ) -> Result<Option<IdpRedirect>, VerifyError> {
        let Action::RedirectToIdp {
            org,
            idp,
            force_authn,
        } = decision.action()
        else {
            return Ok(None);
        };
        let trip = IdpTrip {
            org: org.clone(),
            idp: idp.clone(),
            force_authn: *force_authn,
            relay_state: match decision.landing() {
                Some(Landing::Path(path)) => Some(path.clone()),
                _ => None,
            },
        };
        saml.authn_request(&trip, now).await.map(Some)
    }

    /// Fetches what the engine reads for this request, and no more: a sign-in by a linked
    /// identity costs one round trip (`look_up_assertion`), a new account two (the look-up
    /// and the creation) on a store that answers the look-up in one query.
    async fn look_up(
        &self,
        policy: &Policy,
        request: &Request,
    ) -> Result<AccountLookup, StoreError> {
        let mut known = AccountLookup::default();
        match request {
            Request::PortalVisit(visit) => {
                if let Some(session) = &visit.session {
                    known.session_account = self.store.account_by_id(&session.account).await?;
                }
            }
            Request::Assertion(assertion) => {
                self.look_up_assertion(policy, assertion, &mut known)
                    .await?
            }
            Request::IdpError(_) => {}
        }
        Ok(known)
    }

    async fn look_up_assertion(
        &self,
        policy: &Policy,
        assertion: &Assertion,
        known: &mut AccountLookup,
    ) -> Result<(), StoreError> {
        // The stems are only read if nobody is known, but asking for everything at once
        // is what lets a SQL store answer in one round trip.
        let stems = handle_base(assertion).stems(policy.max_handle_len());
        let found = self
            .store
            .look_up_assertion(
                &assertion.identity(),
                usable_email(assertion.email.as_deref()),
                &stems,
            )
            .await?;
        known.by_identity = found.by_identity;
        known.by_email = found.by_email;
        known.taken_handles = found.taken_handles;
        Ok(())
    }

    async fn apply(
        &self,
        decision: &Decision,
        known: AccountLookup,
    ) -> Result<Applied, StoreError> {
        match decision.action() {
            Action::Nothing | Action::RedirectToIdp { .. } => Ok(Applied::Done(None)),
            Action::SignIn { account } => {
                let record = known
                    .by_identity
                    .into_iter()
                    .chain(known.session_account)
                    .chain(known.by_email)
                    .find(|record| record.id == *account);
                Ok(Applied::Done(record))
            }
            Action::LinkAndSignIn { account, identity } => {
                match self.store.link_identity(account, identity).await {
                    Ok(()) => {
                        let record = known.by_email.into_iter().find(|r| r.id == *account).map(
                            |mut record| {
                                record.identities.push(identity.clone());
                                record
                            },
                        );
                        Ok(Applied::Done(record))
                    }
                    // Linked meanwhile by another login (this identity elsewhere, or another
                    // subject of this issuer here), or the account went away: the next
                    // decision sees which.
                    Err(
                        LinkError::IdentityTaken(_)
                        | LinkError::IssuerTaken { .. }
                        | LinkError::NoSuchAccount(_),
                    ) => Ok(Applied::LostRace),
                    Err(LinkError::Store(error)) => Err(error),
                }
            }
            Action::RaiseRolesAndSignIn { account, raises } => {
                let mut all_rose = true;
                for grant in raises {
                    // A raise that finds the role already as high, or the membership gone,
                    // is not a lost race: roles only rise, and the sign-in stands.
                    all_rose &= self.store.raise_role(account, grant).await?;
                }
                let seen = known.by_identity.filter(|record| record.id == *account);
                let record = match seen {
                    Some(mut record) if all_rose => {
                        for grant in raises {
                            record.memberships.insert(grant.org.clone(), grant.role);
                        }
                        Some(record)
                    }
                    // Someone else changed a membership meanwhile: read what it is now.
                    _ => self.store.account_by_id(account).await?,
                };
                Ok(Applied::Done(record))
            }
            Action::AcceptInviteAndSignIn {
                account,
                invite,
                identity,
                ..
            } => {
                let Some(invites) = &self.invites else {
                    // Only a provisioner with a membership store looks invites up.
                    return Ok(Applied::LostRace);
                };
                if let Some(identity) = identity {
                    match self.store.link_identity(account, identity).await {
                        Ok(()) => {}
                        Err(
                            LinkError::IdentityTaken(_)
                            | LinkError::IssuerTaken { .. }
                            | LinkError::NoSuchAccount(_),
                        ) => return Ok(Applied::LostRace),
                        Err(LinkError::Store(error)) => return Err(error),
                    }
                }
                // Revoked, expired or used meanwhile: the next decision goes without it.
                if invites.accept_invite(invite, account).await?.is_none() {
                    return Ok(Applied::LostRace);
                }
                Ok(Applied::Done(self.store.account_by_id(account).await?))
            }
            Action::Create(new) => match self.store.create_account(new).await {
                Ok(record) => {
                    // The invite's role is in the new account's memberships already;
                    // using it up may fail or find it gone, and the account stands.
                    if let (Some(invites), Some(invite)) = (&self.invites, &new.invite) {
                        invites.accept_invite(&invite.id, &record.id).await?;
                    }
                    Ok(Applied::Done(Some(record)))
                }
                // The next look-up sees the new holder of the handle (on a store that
                // picks the free suffix itself: a handle of another base, or no free
                // handle left, which the next decision refuses), or signs in to the
                // account a concurrent login of the same person created.
                Err(CreateError::HandleTaken(_) | CreateError::IdentityTaken(_)) => {
                    Ok(Applied::LostRace)
                }
                Err(CreateError::Store(error)) => Err(error),
            },
        }
    }
}
