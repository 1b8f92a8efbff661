#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod hook;
mod pages;
mod portal;
mod session;

pub use hook::{AfterSignIn, NoHook};
pub use pages::{escape_html, DefaultPages, Pages, PortalPage, NOT_ASSIGNED_GUIDANCE};
pub use portal::{Clock, SsoPortal};
pub use session::{
    is_loopback, session_layer, signed_in, SignedIn, MAX_OUTSTANDING_REQUESTS,
    REQUEST_LIFETIME_SECS,
};
