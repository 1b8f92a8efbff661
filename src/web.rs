//! From a decision to an HTTP reply, for any web framework.
//!
//! [`reply`] says what the response must do — start a session and redirect, send the
//! browser to the IdP, or show a refusal with its status — and nothing about how a
//! framework spells it. An integration is then a small file that turns a [`Reply`]
//! into its response type; `jit-provisioning-axum` is one.
//!
//! ```
//! use jit_provisioning::web::{Reply, REFUSED_UNVERIFIED};
//! use jit_provisioning::IdpBinding;
//!
//! /// A response in some framework's terms.
//! enum Response { Redirect(String), Html(u16, String) }
//!
//! fn respond(reply: Reply) -> Response {
//!     match reply {
//!         Reply::SignIn { location, .. } | Reply::Redirect { location } => Response::Redirect(location),
//!         Reply::ToIdp(redirect) => match redirect.binding {
//!             IdpBinding::Redirect { url } => Response::Redirect(url),
//!             // Render the auto-submitting form (escaping every value).
//!             _ => Response::Html(200, String::from("<form …>")),
//!         },
//!         Reply::Refusal { status, message, .. } => Response::Html(status, message.into()),
//!     }
//! }
//! # let _ = respond(Reply::Refusal { status: 400, reason: None, message: REFUSED_UNVERIFIED });
//! ```
//!
//! The session work a [`Reply::SignIn`] asks for is the integration's: a fresh session id
//! (against session fixation), the account id, and `sso_at`, which portal visits compare
//! with `reauth_after_secs`.

use chrono::{DateTime, Utc};

use crate::account::AccountId;
use crate::decision::{Landing, Outcome, Reason};
use crate::provisioner::{Provisioned, Provisioner};
use crate::rule::Rule;
use crate::saml::{IdpRedirect, SamlVerifier, VerifyError};
use crate::store::AccountStore;

/// The message of the page shown when the IdP's answer could not be verified. The
/// detail goes to the log, never to the person.
pub const REFUSED_UNVERIFIED: &str =
    "The sign-in could not be verified. Start again from your organization's login page.";

/// The message shown when something failed on our side.
pub const FAILED: &str = "Something went wrong on our side. Please try again in a moment.";

/// What the HTTP response must do. Deliberately exhaustive: a new kind of reply must
/// break every integration's match rather than fall through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Start a session for `account` under a new session id, record `sso_at`, then
    /// redirect (303) to `location`.
    SignIn {
        /// The account.
        account: AccountId,
        /// Its handle, for the integration's own session or logs.
        handle: String,
        /// When the IdP validated the person (the assertion's `AuthnInstant`); `None`
        /// when the IdP did not say, and the next portal visit goes to the IdP.
        sso_at: Option<DateTime<Utc>>,
        /// Where the person lands.
        location: String,
    },
    /// The session stays as it is: redirect (303) to `location` (a member validated
    /// recently, back at the portal).
    Redirect {
        /// Where the person lands.
        location: String,
    },
    /// Send the browser to the IdP. Keep `request_id` in the session: the response must
    /// answer it.
    ToIdp(IdpRedirect),
    /// Show a page with `message` and `status`: 403 for a refusal, 404 for an org
    /// without a portal, 400 for a response that did not verify.
    Refusal {
        /// The HTTP status.
        status: u16,
        /// The decision's reason, when a decision refused.
        reason: Option<Reason>,
        /// What the person is told.
        message: &'static str,
    },
}

/// Where the landings of this site are.
pub trait Sitemap: Send + Sync {
    /// The URL path of an org's home page.
    fn org_home(&self, org: &str) -> String;
    /// The URL path of an account's own home page.
    fn user_home(&self, handle: &str) -> String;

    /// The URL path a landing stands for.
    fn location(&self, landing: &Landing) -> String {
        match landing {
            Landing::OrgHome(org) => self.org_home(org),
            Landing::UserHome(handle) => self.user_home(handle),
            Landing::Path(path) => path.clone(),
        }
    }
}

/// `/{org}` and `/{handle}`: handles never equal an org id, so the two cannot collide.
#[derive(Debug, Clone, Copy, Default)]
pub struct RootSitemap;

impl Sitemap for RootSitemap {
    fn org_home(&self, org: &str) -> String {
        format!("/{org}")
    }

    fn user_home(&self, handle: &str) -> String {
        format!("/{handle}")
    }
}

/// Why no reply could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// A sign-in decision came without its account: a store that broke its contract.
    #[error("a sign-in decision without an account")]
    NoAccount,
    /// The trip to the IdP could not be built.
    #[error("the trip to the IdP could not be built")]
    Trip(#[source] VerifyError),
}

/// The HTTP status of a refused decision.
pub fn refusal_status(outcome: Outcome) -> u16 {
    match outcome {
        Outcome::NotFound => 404,
        _ => 403,
    }
}

/// The reply to what the provisioner did, at `now`.
pub async fn reply<S: AccountStore>(
    provisioner: &Provisioner<S>,
    saml: &dyn SamlVerifier,
    done: &Provisioned,
    sitemap: &dyn Sitemap,
    now: DateTime<Utc>,
) -> Result<Reply, ReplyError> {
    let decision = &done.decision;
    let location = || {
        decision
            .landing()
            .map_or_else(|| "/".to_owned(), |landing| sitemap.location(landing))
    };
    Ok(match decision.outcome() {
        // A member back at the portal, validated recently: the session stands.
        Outcome::SignedIn if decision.rule() == Rule::PortalFreshMember => Reply::Redirect {
            location: location(),
        },
        Outcome::SignedIn | Outcome::AccountCreated => {
            let account = done.account.as_ref().ok_or(ReplyError::NoAccount)?;
            Reply::SignIn {
                account: account.id.clone(),
                handle: account.handle.clone(),
                sso_at: done.sso_at,
                location: location(),
            }
        }
        Outcome::RedirectToIdp => Reply::ToIdp(
            provisioner
                .idp_redirect(saml, decision, now)
                .await
                .map_err(ReplyError::Trip)?
                .ok_or(ReplyError::NoAccount)?,
        ),
        Outcome::Denied | Outcome::NotFound => Reply::Refusal {
            status: refusal_status(decision.outcome()),
            reason: decision.reason(),
            message: decision.message().unwrap_or(FAILED),
        },
    })
}
