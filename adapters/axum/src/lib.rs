#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod admin;
mod headers;
mod hook;
mod pages;
mod portal;
mod scim;
mod session;

/// The `axum` this crate is built on (0.8): an app that uses it from here, rather than
/// naming its own version, cannot meet a trait error from two axum versions at once.
pub use axum;
/// The `tower-sessions` this crate's [`session_layer`] and [`signed_in`] use (0.14): its
/// `Session`, `SessionStore` and `MemoryStore` (this crate's `memory-store` feature turns
/// that on) from here match the portal's.
pub use tower_sessions;

pub use admin::{
    AdminAccess, AdminAuthorization, AdminRefusal, AdminVisitor, MembersPage, Notice, OrgAdmin,
    PendingInvite, RequireOrgAdmin, CSRF_FIELD, CSRF_HEADER, MAX_EVENTS, OWNER_ACTOR,
    OWNER_SESSION_HOURS, RECENT_EVENTS,
};
pub use headers::{security_headers, CspNonce, SecurityHeaders};
pub use hook::{AfterSignIn, NoHook};
pub use pages::{
    escape_html, not_a_member_notice, DefaultPages, Link, PageKind, Pages, PortalPage, PostForm,
    RefusalPage, NOT_ASSIGNED_GUIDANCE,
};
pub use portal::{Clock, SsoPortal};
pub use scim::ScimEndpoint;
pub use session::{
    is_loopback, session_layer, signed_in, SignedIn, MAX_OUTSTANDING_REQUESTS,
    REQUEST_LIFETIME_SECS,
};
