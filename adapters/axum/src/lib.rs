#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod admin;
mod headers;
mod hook;
mod pages;
mod portal;
mod scim;
mod session;

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
