#![doc = include_str!("../README.md")]
//!
//! # Where to start
//!
//! Three items are the way in; the rest of this page is what they take and give.
//!
//! - [`Config`]: the deployment's provisioning config (JSON, TOML, any serde format),
//!   checked once by [`Config::validate`] into the [`Policy`] everything decides with.
//! - [`Provisioner`]: what a login handler calls. [`Provisioner::handle`] decides a
//!   [`Request`] and carries the decision out in an [`AccountStore`];
//!   [`Provisioner::login`] does the same for a posted SAML response.
//! - [`decide`]: the pure engine, for callers that look the store up themselves (an
//!   [`AccountLookup`]) or only want to know what would happen.
//!
//! Then, by what they are for:
//!
//! | for | items |
//! | --- | --- |
//! | what arrives | [`Request`], [`PortalVisit`], [`Session`], [`Assertion`], [`IdpError`], [`STATUS_REQUEST_DENIED`] |
//! | what is decided | [`Decision`], [`Outcome`], [`Reason`], [`Rule`], [`Landing`], [`Action`], [`Step`], [`AccountRef`] |
//! | carrying it out | [`Provisioned`], [`ProvisionError`], [`LoginError`], [`DEFAULT_MAX_ATTEMPTS`]; [`web`] turns it into an HTTP reply |
//! | the config | [`Config::load`], [`ConfigFileError`], [`CheckedConfig`], [`OrgConfig`], [`GrantConfig`], [`GroupRoleConfig`], [`RoleSync`], [`ScimRoleSync`], [`ScimNameId`], [`Deployment`], [`OrgPolicy`], [`GroupRole`], [`Portal`], [`ConfigError`], [`ConfigProblem`], [`DEFAULT_REAUTH_AFTER_SECS`], [`MAX_REAUTH_AFTER_SECS`], [`MIN_HANDLE_LEN`], [`MAX_HANDLE_LEN`] |
//! | accounts and memberships | [`AccountId`], [`AccountRecord`], [`Identity`], [`NewAccount`], [`display_name`], [`full_name`], [`MAX_DISPLAY_NAME_CHARS`], [`Grant`], [`Role`], [`UnknownRole`] |
//! | the SAML boundary | [`SamlVerifier`], [`SamlPost`], [`SamlAnswer`], [`VerifiedAssertion`], [`VerifyError`], [`IdpTrip`], [`IdpRedirect`], [`IdpBinding`], [`ReplayGuard`], [`MemoryReplayGuard`], [`REPLAY_GRACE_SECS`] |
//! | writing a storage adapter | [`AccountStore`], [`MemoryStore`], [`SeedError`], [`CreateError`], [`LinkError`], [`StoreError`], [`BoxError`], [`is_stem_or_suffixed`], [`email_key`], [`usable_email`]; the `testing` feature's conformance suite |
//! | driving the engine by hand | [`AccountLookup`], [`screen`], [`handle_base`], [`CLOCK_SKEW_SECS`], [`MAX_SUBJECT_LEN`] |
//! | handles and return paths | [`HandleBase`], [`HandleSource`], [`HandleChoice`], [`DEFAULT_MAX_HANDLE_LEN`], the [`handles`] module, [`safe_return_path`], [`ReturnToError`], [`MAX_RETURN_TO_LEN`] |
//! | orgs changed while the app runs | the [`org`] module: [`org::OrgRegistry`] over an [`org::OrgDirectory`], [`Provisioner::with_registry`], [`org::OrgState`] |
//! | org admins' invites and members | [`MembershipStore`], [`MembershipError`], [`Invite`], [`Invitee`], [`Member`], [`Joined`], [`DEFAULT_INVITE_DAYS`], [`Provisioner::with_invites`]; before an org's SSO works, [`OwnerLinks`] ([`MemoryOwnerLinks`], [`new_owner_token`], [`owner_link_expiry`], [`DEFAULT_OWNER_LINK_MINUTES`]) |
//! | what org admins did | [`AuditLog`], [`AdminEvent`], [`AdminAction`], [`MemoryAuditLog`] |
//! | SCIM provisioning | [`ScimTokens`], the bearer tokens of an org's SCIM endpoints: [`MemoryScimTokens`], [`IssuedScimToken`], [`ScimTokenInfo`], [`new_scim_token`], [`is_well_formed_scim_token`], [`scim_token_hint`], [`SCIM_TOKEN_PREFIX`], [`SCIM_LAST_USED_EVERY_SECS`] |
//! | what the IdP's SCIM client ended | [`DeprovisionedIdentities`], [`Deprovisioned`], [`DeprovisionedBy`], [`Provisioner::with_deprovisioning`] |
//! | SCIM users and deprovisioning | [`ScimUsers`] (kept with the accounts; [`MemoryStore`] implements it), [`ProvisionedUser`], [`NewProvisionedUser`], [`ProvisionedUserChange`], [`UserFilter`], [`Deprovisioning`], [`ScimUserError`], [`scim_account`] (the JIT handle rule for SCIM creations), [`SessionRevoker`], [`NoSessionRevoker`] |
//! | SCIM groups and roles | [`ScimGroups`] ([`MemoryStore`] implements it), [`ProvisionedGroup`], [`NewProvisionedGroup`], [`ProvisionedGroupChange`], [`GroupMembersChange`], [`GroupFilter`], [`ScimGroupError`], [`GroupRoleSync`] (what groups do to roles: `scim_roles`), [`Provisioner::with_scim_groups`] (Entra ID's overage decided on the pushed groups) |
//! | policy cases | the [`cases`] module: the case-file format and its runner |
#![forbid(unsafe_code)]

mod account;
mod audit;
pub mod cases;
mod char_class;
mod config;
mod decision;
mod deprovision;
mod display_name;
mod email;
mod engine;
mod group_sync;
mod handle;
mod handle_choice;
mod invite;
mod lookup;
mod membership;
mod memory;
pub mod org;
mod owner_link;
mod provisioner;
mod redirect;
mod replay;
mod request;
mod reserved;
mod role;
mod rule;
mod saml;
mod scim_groups;
mod scim_token;
mod scim_users;
mod store;
mod taken_handles;
#[cfg(feature = "testing")]
pub mod testing;
pub mod web;

pub use account::{AccountId, AccountRecord, Identity, NewAccount};
pub use audit::{AdminAction, AdminEvent, AuditLog, MemoryAuditLog};
pub use cases::ConfigFileError;
pub use config::{
    CheckedConfig, Config, ConfigError, ConfigProblem, Deployment, GrantConfig, GroupRole,
    GroupRoleConfig, OrgConfig, OrgPolicy, Policy, Portal, RoleSync, ScimNameId, ScimRoleSync,
    DEFAULT_REAUTH_AFTER_SECS, MAX_HANDLE_LEN, MAX_REAUTH_AFTER_SECS, MIN_HANDLE_LEN,
};
pub use decision::{AccountRef, Action, Decision, Landing, Outcome, Reason, Step};
pub use deprovision::{Deprovisioned, DeprovisionedBy, DeprovisionedIdentities};
pub use display_name::{display_name, full_name, MAX_DISPLAY_NAME_CHARS};
pub use email::{email_key, usable_email};
pub use engine::{decide, handle_base, screen, CLOCK_SKEW_SECS, MAX_SUBJECT_LEN};
pub use group_sync::GroupRoleSync;
pub use handle::{HandleBase, HandleSource, DEFAULT_MAX_HANDLE_LEN};
pub use handle_choice::HandleChoice;
pub use invite::{Invite, Invitee, Joined, Member, DEFAULT_INVITE_DAYS};
pub use lookup::AccountLookup;
pub use membership::{MembershipError, MembershipStore};
pub use memory::{MemoryStore, SeedError};
pub use owner_link::{
    new_owner_token, owner_link_expiry, MemoryOwnerLinks, OwnerLinks, DEFAULT_OWNER_LINK_MINUTES,
};
pub use provisioner::{LoginError, ProvisionError, Provisioned, Provisioner, DEFAULT_MAX_ATTEMPTS};
pub use redirect::{safe_return_path, ReturnToError, MAX_RETURN_TO_LEN};
pub use replay::{MemoryReplayGuard, ReplayGuard, REPLAY_GRACE_SECS};
pub use request::{Assertion, IdpError, PortalVisit, Request, Session, STATUS_REQUEST_DENIED};
pub use role::{Grant, Role, UnknownRole};
pub use rule::Rule;
pub use saml::{
    IdpBinding, IdpRedirect, IdpTrip, SamlAnswer, SamlPost, SamlVerifier, VerifiedAssertion,
    VerifyError,
};
pub use scim_groups::{
    GroupFilter, GroupMembersChange, NewProvisionedGroup, ProvisionedGroup, ProvisionedGroupChange,
    ScimGroupError, ScimGroups,
};
pub use scim_token::{
    is_well_formed_scim_token, new_scim_token, scim_token_hint, IssuedScimToken, MemoryScimTokens,
    ScimTokenInfo, ScimTokens, SCIM_LAST_USED_EVERY_SECS, SCIM_TOKEN_PREFIX,
};
pub use scim_users::{
    scim_account, Deprovisioning, NewProvisionedUser, NoSessionRevoker, ProvisionedUser,
    ProvisionedUserChange, ScimUserError, ScimUsers, SessionRevoker, UserFilter,
};
pub use store::{is_stem_or_suffixed, AccountStore, BoxError, CreateError, LinkError, StoreError};

/// Handle derivation, for previews and tools outside the decision path.
pub mod handles {
    pub use crate::handle::{cut_at_break, is_well_formed, name_words};
    pub use crate::reserved::{is_built_in as is_reserved, BUILT_IN as RESERVED};
    pub use crate::taken_handles::TakenHandles;
}
