//! The SCIM users of an org, served: a parsed [`ScimOperation`] in, a [`ScimResponse`]
//! out, over a [`ScimUsers`] store. Still no web framework and no clock: the routes pass
//! the org (after checking its bearer token) and `now`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use jit_provisioning::org::OrgRegistry;
use jit_provisioning::{
    scim_account, AccountId, GroupRoleSync, Identity, NewProvisionedUser, Policy, ProvisionedUser,
    ProvisionedUserChange, ScimGroups, ScimUserError, ScimUsers, SessionRevoker, UserFilter,
};

use crate::discovery::Discovery;
use crate::error::{ScimError, ScimType};
use crate::group::ScimGroup;
use crate::meta::{resource_location, Meta, ResourceKind};
use crate::query::ListQuery;
use crate::request::ScimOperation;
use crate::response::{ListResponse, ScimResponse};
use crate::user::{Email, Name, ScimUser};
use crate::SimpleFilter;

mod groups;

/// Which SCIM attribute holds the value the org's IdP sends as the SAML NameID: the
/// core's [`ScimNameId`](jit_provisioning::ScimNameId), set per org by its
/// `scim_name_id` or by [`ScimService::with_name_id`].
pub use jit_provisioning::ScimNameId as NameIdField;

/// Where the orgs' policies come from: the same sources a
/// [`Provisioner`](jit_provisioning::Provisioner) reads, so that a SCIM creation gets the
/// handle and the grants a JIT creation would.
#[derive(Clone)]
enum Policies {
    Fixed(Arc<Policy>),
    Registry(Arc<OrgRegistry>),
}

/// Serves the SCIM `Users` endpoints and discovery of every org over one [`ScimUsers`]
/// store.
///
/// - Creation makes the account by the JIT handle rule with the org's `provision`
///   grants and links the identity (the org's IdP entity id and the value of its
///   [`NameIdField`]), so the person's first SSO sign-in signs in to it.
/// - `active: false` (PATCH or PUT) and DELETE deprovision, as
///   [`ScimUsers`](jit_provisioning::ScimUsers) item 5 says (membership removed, the
///   account disabled where the org owns it), and then end the account's sessions
///   through the [`SessionRevoker`]. Sessions are ended on every request that leaves a
///   user inactive, not only the one that deactivated it: revoking twice is harmless,
///   and an IdP retrying after a failed revocation gets it done.
/// - Groups, once [`ScimService::with_groups`] gives a store, feed the org's
///   `group_roles` as its `scim_roles` says (by default a group raises roles and never
///   lowers one); without one they answer 501.
pub struct ScimService {
    users: Arc<dyn ScimUsers>,
    groups: Option<Arc<dyn ScimGroups>>,
    policies: Policies,
    revoker: Arc<dyn SessionRevoker>,
    base_url: String,
    name_ids: HashMap<String, NameIdField>,
}

impl fmt::Debug for ScimService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimService")
            .field("base_url", &self.base_url)
            .field("name_ids", &self.name_ids)
            .finish_non_exhaustive()
    }
}

impl ScimService {
    /// Serves `users` with the orgs of `policy`, at `base_url` (the URL before
    /// `/{org}`, such as `https://app.example/scim/v2`), ending sessions with `revoker`.
    pub fn new(
        users: Arc<dyn ScimUsers>,
        policy: Policy,
        revoker: Arc<dyn SessionRevoker>,
        base_url: &str,
    ) -> Self {
        ScimService {
            users,
            groups: None,
            policies: Policies::Fixed(Arc::new(policy)),
            revoker,
            base_url: base_url.trim_end_matches('/').to_owned(),
            name_ids: HashMap::new(),
        }
    }

    /// Reads each org as `registry` has it at the time of the request, as
    /// [`Provisioner::with_registry`](jit_provisioning::Provisioner::with_registry) does.
    pub fn with_registry(mut self, registry: Arc<OrgRegistry>) -> Self {
        self.policies = Policies::Registry(registry);
        self
    }

    /// Serves `/Groups` over `groups`: usually the same store as the users'.
    pub fn with_groups(mut self, groups: Arc<dyn ScimGroups>) -> Self {
        self.groups = Some(groups);
        self
    }

    /// `org`'s IdP sends `field` as the NameID, whatever the org's `scim_name_id` says
    /// (which is [`NameIdField::UserName`] unless set).
    pub fn with_name_id(mut self, org: impl Into<String>, field: NameIdField) -> Self {
        self.name_ids.insert(org.into(), field);
        self
    }

    /// The NameID field `org` was given with [`ScimService::with_name_id`], if any.
    pub fn name_id(&self, org: &str) -> Option<NameIdField> {
        self.name_ids.get(org).copied()
    }

    /// Answers `operation` at `org` at time `now`. The caller has checked the org's
    /// bearer token.
    pub async fn handle(
        &self,
        org: &str,
        operation: ScimOperation,
        now: DateTime<Utc>,
    ) -> ScimResponse {
        match self.serve(org, operation, now).await {
            Ok(response) => response,
            Err(refusal) => refusal.into(),
        }
    }

    async fn serve(
        &self,
        org: &str,
        operation: ScimOperation,
        now: DateTime<Utc>,
    ) -> Result<ScimResponse, ScimError> {
        let policy = self.policy(org).await?;
        let org_policy = policy
            .org(org)
            .ok_or_else(|| ScimError::not_found(format!("no org `{org}`")))?;
        let field = self
            .name_id(org)
            .unwrap_or_else(|| org_policy.scim_name_id());
        let roles = GroupRoleSync::of(org_policy);
        let idp = org_policy
            .portal()
            .map(|portal| portal.idp().to_owned())
            // SCIM users sign in through the org's SSO portal: without one, there is no
            // IdP to pre-link their identities to.
            .ok_or_else(|| ScimError::not_found(format!("org `{org}` has no SSO portal")))?;
        let base = format!("{}/{org}", self.base_url);
        // `If-Match` is honoured on every write, so discovery says ETags are supported.
        let discovery = Discovery::new(&base).with_etag_supported(true);
        if let Some(reply) = discovery.respond(&operation) {
            return Ok(reply);
        }
        let at = Org {
            id: org,
            idp: &idp,
            base: &base,
            field,
        };
        match operation {
            ScimOperation::CreateUser(user) => self.create(&at, &policy, user, now).await,
            ScimOperation::GetUser { id, projection } => {
                let user = self.load(&at, &id).await?;
                Ok(ScimResponse::ok_with(&at.scim_user(&user), &projection))
            }
            ScimOperation::ListUsers(query) => self.list(&at, &query).await,
            ScimOperation::ReplaceUser { id, user, if_match } => {
                let held = self.load(&at, &id).await?;
                check_version(held.version, if_match.as_deref())?;
                self.replace(&at, &held, user, now).await
            }
            ScimOperation::PatchUser {
                id,
                patch,
                if_match,
            } => {
                let held = self.load(&at, &id).await?;
                check_version(held.version, if_match.as_deref())?;
                let patched = patch.apply_to_user(&at.scim_user(&held))?;
                self.replace(&at, &held, patched, now).await
            }
            ScimOperation::DeleteUser { id, if_match } => {
                let held = self.load(&at, &id).await?;
                check_version(held.version, if_match.as_deref())?;
                let done = self
                    .users
                    .delete_user(org, &id, now)
                    .await
                    .map_err(store_refusal)?;
                self.revoke(&done.account).await?;
                Ok(ScimResponse::no_content())
            }
            ScimOperation::Search(query) => self.search(&at, &query).await,
            group_operation => match &self.groups {
                Some(groups) => {
                    groups::serve(groups.as_ref(), &at, &roles, group_operation, now).await
                }
                None => Err(ScimError::with_status(
                    501,
                    "this service provisions users only: it keeps no groups",
                )),
            },
        }
    }

    async fn policy(&self, org: &str) -> Result<Arc<Policy>, ScimError> {
        match &self.policies {
            Policies::Fixed(policy) => Ok(Arc::clone(policy)),
            Policies::Registry(registry) => registry
                .policy_for(org)
                .await
                .map(Arc::new)
                .map_err(|_| ScimError::internal()),
        }
    }

    async fn load(&self, at: &Org<'_>, id: &str) -> Result<ProvisionedUser, ScimError> {
        self.users
            .user(at.id, id)
            .await
            .map_err(|_| ScimError::internal())?
            .ok_or_else(|| ScimError::not_found(format!("no user `{id}`")))
    }

    async fn revoke(&self, account: &AccountId) -> Result<(), ScimError> {
        // A failure answers 500, so that the IdP tries again; the deprovisioning itself
        // is done and stays done.
        self.revoker
            .revoke_sessions(account)
            .await
            .map_err(|_| ScimError::internal())
    }

    async fn create(
        &self,
        at: &Org<'_>,
        policy: &Policy,
        user: ScimUser,
        now: DateTime<Utc>,
    ) -> Result<ScimResponse, ScimError> {
        let identity = at.identity(&user)?;
        let name = user.name.clone().unwrap_or_default();
        let email = user.primary_email().map(|email| email.value.clone());
        let account = scim_account(
            policy,
            at.id,
            identity,
            name.given_name.as_deref(),
            name.family_name.as_deref(),
            email.as_deref(),
        )
        .ok_or_else(|| {
            ScimError::new(
                ScimType::InvalidValue,
                format!("no handle is free for `{}`", user.user_name),
            )
        })?;
        let mut new = NewProvisionedUser::new(user.user_name.clone(), account);
        new.external_id = user.external_id.clone();
        new.display_name = user.display_name.clone();
        new.emails = emails_of(&user);
        new.resource = resource_of(&user);
        let mut made = self
            .users
            .create_user(at.id, new, now)
            .await
            .map_err(store_refusal)?;
        if user.active == Some(false) {
            let (inactive, _) = self
                .users
                .set_active(at.id, &made.id, false, now)
                .await
                .map_err(store_refusal)?;
            self.revoke(&inactive.account).await?;
            made = inactive;
        }
        Ok(ScimResponse::created(&at.scim_user(&made)))
    }

    async fn list(&self, at: &Org<'_>, query: &ListQuery) -> Result<ScimResponse, ScimError> {
        let start = usize::try_from(query.offset()).unwrap_or(usize::MAX);
        let count = usize::try_from(query.count).unwrap_or(usize::MAX);
        let simple = match query.simple_filter() {
            None if query.filter.is_none() => Some(UserFilter::All),
            Some(SimpleFilter::UserName(name)) => Some(UserFilter::UserName(name)),
            Some(SimpleFilter::ExternalId(id)) => Some(UserFilter::ExternalId(id)),
            Some(SimpleFilter::Email {
                value,
                email_type: None,
            }) => Some(UserFilter::Email(value)),
            Some(SimpleFilter::Id(id)) => {
                let found = self
                    .users
                    .user(at.id, &id)
                    .await
                    .map_err(|_| ScimError::internal())?;
                let all: Vec<ScimUser> = found.iter().map(|user| at.scim_user(user)).collect();
                let page: Vec<ScimUser> = all.iter().skip(start).take(count).cloned().collect();
                return Ok(ScimResponse::list(&ListResponse::of(
                    all.len() as u64,
                    query,
                    &page,
                )));
            }
            _ => None,
        };
        let (page, total) = match simple {
            Some(filter) => {
                let (found, total) = self
                    .users
                    .users(at.id, &filter, start, count)
                    .await
                    .map_err(|_| ScimError::internal())?;
                let page: Vec<ScimUser> = found.iter().map(|user| at.scim_user(user)).collect();
                (page, total)
            }
            None => {
                // Any other filter: evaluated here over every user of the org.
                let (found, _) = self
                    .users
                    .users(at.id, &UserFilter::All, 0, usize::MAX)
                    .await
                    .map_err(|_| ScimError::internal())?;
                let matching: Vec<ScimUser> = found
                    .iter()
                    .map(|user| at.scim_user(user))
                    .filter(|user| {
                        query
                            .filter
                            .as_ref()
                            .is_none_or(|filter| filter.matches(&user.to_json()))
                    })
                    .collect();
                let total = matching.len();
                (
                    matching.into_iter().skip(start).take(count).collect(),
                    total,
                )
            }
        };
        Ok(ScimResponse::list(&ListResponse::of(
            total as u64,
            query,
            &page,
        )))
    }

    /// A search from the root (RFC 7644 §3.4.3): the users the filter matches, then the
    /// groups, paged as one list. Such searches are optional and rare (a conformance
    /// checker's, not an IdP's), so this reads the org's resources whole rather than
    /// asking the store per resource type.
    async fn search(&self, at: &Org<'_>, query: &ListQuery) -> Result<ScimResponse, ScimError> {
        let (users, _) = self
            .users
            .users(at.id, &UserFilter::All, 0, usize::MAX)
            .await
            .map_err(|_| ScimError::internal())?;
        let matches = |json: &serde_json::Value| {
            query
                .filter
                .as_ref()
                .is_none_or(|filter| filter.matches(json))
        };
        let mut found: Vec<serde_json::Value> = users
            .iter()
            .map(|user| at.scim_user(user).to_json())
            .filter(|json| matches(json))
            .collect();
        if let Some(groups) = &self.groups {
            found.extend(
                groups::all_matching(groups.as_ref(), at, query)
                    .await?
                    .iter()
                    .map(ScimGroup::to_json),
            );
        }
        let total = found.len();
        let start = usize::try_from(query.offset()).unwrap_or(usize::MAX);
        let count = usize::try_from(query.count).unwrap_or(usize::MAX);
        let page = found
            .into_iter()
            .skip(start)
            .take(count)
            .map(|mut json| {
                query.projection.apply(&mut json);
                json
            })
            .collect();
        Ok(ScimResponse::list(&ListResponse::new(
            total as u64,
            query.start_index,
            page,
        )))
    }

    async fn replace(
        &self,
        at: &Org<'_>,
        held: &ProvisionedUser,
        user: ScimUser,
        now: DateTime<Utc>,
    ) -> Result<ScimResponse, ScimError> {
        let identity = at.identity(&user)?;
        let mut change = ProvisionedUserChange::new(user.user_name.clone(), identity);
        change.external_id = user.external_id.clone();
        if let Some(name) = &user.name {
            change.given_name = name.given_name.clone();
            change.family_name = name.family_name.clone();
        }
        change.display_name = user.display_name.clone();
        change.emails = emails_of(&user);
        change.resource = resource_of(&user);
        let mut done = self
            .users
            .replace_user(at.id, &held.id, change, now)
            .await
            .map_err(store_refusal)?;
        if let Some(active) = user.active {
            if active != done.active {
                let (changed, _) = self
                    .users
                    .set_active(at.id, &held.id, active, now)
                    .await
                    .map_err(store_refusal)?;
                done = changed;
            }
            if !active {
                self.revoke(&done.account).await?;
            }
        }
        Ok(ScimResponse::ok(&at.scim_user(&done)))
    }
}

/// The org a request is served at.
struct Org<'a> {
    id: &'a str,
    idp: &'a str,
    base: &'a str,
    field: NameIdField,
}

impl Org<'_> {
    /// The identity `user` pre-links: the org's IdP and the NameID field's value.
    fn identity(&self, user: &ScimUser) -> Result<Identity, ScimError> {
        let subject = match self.field {
            NameIdField::UserName => Some(user.user_name.clone()),
            NameIdField::ExternalId => user.external_id.clone(),
        }
        .filter(|subject| !subject.is_empty())
        .ok_or_else(|| {
            ScimError::new(
                ScimType::InvalidValue,
                "`externalId` is required: this org's IdP sends it as the SAML NameID",
            )
        })?;
        Ok(Identity {
            issuer: self.idp.to_owned(),
            subject,
        })
    }

    /// `user` as SCIM shows it: the resource as last written, with what the store's
    /// fields hold (and the service sets) over it.
    fn scim_user(&self, user: &ProvisionedUser) -> ScimUser {
        let mut scim = user
            .resource
            .as_deref()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .and_then(|value| ScimUser::from_json(&value).ok())
            .unwrap_or_else(|| ScimUser::new(&user.user_name));
        scim.user_name.clone_from(&user.user_name);
        scim.id = Some(user.id.clone());
        scim.external_id.clone_from(&user.external_id);
        if user.given_name.is_some() || user.family_name.is_some() || scim.name.is_some() {
            let name = scim.name.get_or_insert(Name {
                formatted: None,
                given_name: None,
                family_name: None,
            });
            name.given_name.clone_from(&user.given_name);
            name.family_name.clone_from(&user.family_name);
        }
        scim.display_name.clone_from(&user.display_name);
        // The emails as written (types, which is primary) while they are the ones held.
        if emails_of(&scim) != user.emails {
            scim.emails = user
                .emails
                .iter()
                .enumerate()
                .map(|(n, address)| {
                    let mut email = Email::new(address);
                    email.email_type = Some("work".to_owned());
                    email.primary = n == 0;
                    email
                })
                .collect();
        }
        scim.active = Some(user.active);
        scim.meta = Some(
            Meta::new(ResourceKind::User)
                .with_created(user.created_at)
                .with_last_modified(user.updated_at)
                .with_location(resource_location(self.base, ResourceKind::User, &user.id))
                .with_version(&version_tag(user.version)),
        );
        scim
    }
}

/// What the store keeps of `user` as written: its JSON, less what the service sets (the
/// id, `meta`, `active`, the groups).
fn resource_of(user: &ScimUser) -> Option<String> {
    let mut kept = user.clone();
    kept.id = None;
    kept.meta = None;
    kept.active = None;
    kept.groups = Vec::new();
    serde_json::to_string(&kept.to_json()).ok()
}

fn version_tag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// 412 when `If-Match` names another version than the resource's.
fn check_version(version: u64, if_match: Option<&str>) -> Result<(), ScimError> {
    let current = version_tag(version);
    match if_match.map(str::trim) {
        Some(tag) if tag != "*" && tag != current => Err(ScimError::precondition_failed(&current)),
        _ => Ok(()),
    }
}

/// The addresses of `user`, the primary first.
fn emails_of(user: &ScimUser) -> Vec<String> {
    let mut emails: Vec<String> = user
        .emails
        .iter()
        .filter(|email| email.primary)
        .map(|email| email.value.clone())
        .collect();
    emails.extend(
        user.emails
            .iter()
            .filter(|email| !email.primary)
            .map(|email| email.value.clone()),
    );
    emails
}

fn store_refusal(error: ScimUserError) -> ScimError {
    match error {
        ScimUserError::NotFound(id) => ScimError::not_found(format!("no user `{id}`")),
        ScimUserError::Conflict(detail) => ScimError::uniqueness(detail),
        ScimUserError::NoFreeHandle(name) => ScimError::new(
            ScimType::InvalidValue,
            format!("no handle is free for `{name}`"),
        ),
        _ => ScimError::internal(),
    }
}
