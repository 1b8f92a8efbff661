//! The pages a sign-in lands on: an org's home and an account's own home, both showing
//! who is signed in, their handle and memberships, and the rule that decided. A
//! non-member's own home says why they landed there.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use jit_provisioning::{AccountRecord, AccountStore, Provisioner, Role};
use jit_provisioning_axum::{escape_html, not_a_member_notice, signed_in, CspNonce, SignedIn};
use tower_sessions::Session;

pub(crate) fn routes<S: AccountStore + 'static>(provisioner: Arc<Provisioner<S>>) -> Router {
    Router::new()
        .route("/", get(index::<S>))
        .route("/{name}", get(home::<S>))
        .route("/{name}/{*rest}", get(deep_page::<S>))
        .with_state(provisioner)
}

/// A page of the demo; its one inline style carries the response's CSP nonce.
fn page(title: &str, nonce: &CspNonce, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style nonce=\"{}\">body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}dt{{font-weight:600}}code{{background:#eee;padding:0 .2rem}}.notice{{background:#fff4d6;border-left:4px solid #d4a017;padding:.6rem .8rem}}</style></head><body>{body}</body></html>",
        escape_html(title),
        escape_html(nonce.as_str())
    ))
}

/// How many orgs the demo's pages link to, at most.
const LISTED_ORGS: usize = 100;

/// Links to each org's SSO login portal that is open, as the registry has the orgs now.
async fn portal_links<S: AccountStore>(provisioner: &Provisioner<S>) -> String {
    let orgs = match provisioner.registry() {
        Some(registry) => match registry.list(None, LISTED_ORGS).await {
            Ok(records) => records
                .into_iter()
                .filter(|record| record.config.jit && record.config.state.is_active())
                .map(|record| record.id)
                .collect(),
            Err(error) => {
                tracing::error!(error = %error, "the orgs could not be listed");
                Vec::new()
            }
        },
        None => {
            let mut orgs: Vec<String> = provisioner
                .policy()
                .orgs()
                .filter(|(_, org)| org.portal().is_some())
                .map(|(id, _)| id.to_owned())
                .collect();
            orgs.sort_unstable();
            orgs
        }
    };
    let links: String = orgs
        .iter()
        .map(|org| {
            format!(
                "<li><a href=\"/{0}/login\">/{0}/login</a></li>",
                escape_html(org)
            )
        })
        .collect();
    format!("<ul>{links}</ul>")
}

async fn index<S: AccountStore + 'static>(
    State(provisioner): State<Arc<Provisioner<S>>>,
    nonce: CspNonce,
) -> Response {
    page(
        "jit-provisioning demo",
        &nonce,
        &format!(
            "<h1>jit-provisioning demo</h1><p>Each org's SSO login portal:</p>{}<p>The demo IdP lets you pick who signs in.</p>",
            portal_links(&provisioner).await
        ),
    )
    .into_response()
}

/// Who is signed in, as the page shows it.
fn who(signed_in: &SignedIn, account: &AccountRecord) -> String {
    let memberships = if account.memberships.is_empty() {
        "<dd id=\"memberships\">none</dd>".to_owned()
    } else {
        account
            .memberships
            .iter()
            .map(|(org, role)| {
                format!(
                    "<dd class=\"membership\">{} ({role})</dd>",
                    escape_html(org)
                )
            })
            .collect()
    };
    // The names the IdP sent when the account was made; accounts made before SSO have none.
    let name = account
        .full_name()
        .unwrap_or_else(|| "not recorded".to_owned());
    format!(
        "<dl><dt>Signed in as</dt><dd id=\"handle\">{}</dd><dt>Name</dt><dd id=\"name\">{}</dd><dt>Password</dt><dd id=\"password\">{}</dd><dt>Memberships</dt>{memberships}<dt>Last sign-in decided by</dt><dd id=\"rule\"><code>{}</code> ({})</dd></dl><form method=\"post\" action=\"/logout\"><button type=\"submit\" id=\"sign-out\">Sign out</button></form>",
        escape_html(&account.handle),
        escape_html(&name),
        if account.has_password { "yes" } else { "none (signs in through SSO)" },
        signed_in.rule.id(),
        signed_in.outcome,
    )
}

/// For an admin of `org`, the way to its admin pages.
fn admin_link(org: &str, account: &AccountRecord) -> String {
    if account.memberships.get(org) == Some(&Role::Admin) {
        format!(
            "<p><a id=\"manage-members\" href=\"/{}/admin/members\">Manage the members and invites of {}</a></p>",
            escape_html(org),
            escape_html(org)
        )
    } else {
        String::new()
    }
}

/// Why a non-member landed on their own home, while they are still not a member of the
/// org whose portal signed them in (an admin may have invited them since).
fn not_a_member(signed_in: &SignedIn, account: &AccountRecord) -> String {
    match &signed_in.not_a_member_of {
        Some(org) if !account.is_member_of(org) => format!(
            "<p class=\"notice\" id=\"not-a-member\">{}</p>",
            escape_html(&not_a_member_notice(org))
        ),
        _ => String::new(),
    }
}

/// The page for someone not signed in: where to start.
async fn not_signed_in<S: AccountStore>(
    provisioner: &Provisioner<S>,
    nonce: &CspNonce,
) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        page(
            "Not signed in",
            nonce,
            &format!(
                "<h1 id=\"title\">Not signed in</h1><p id=\"message\">Sign in through your organization's SSO login portal:</p>{}",
                portal_links(provisioner).await
            ),
        ),
    )
        .into_response()
}

async fn home<S: AccountStore + 'static>(
    State(provisioner): State<Arc<Provisioner<S>>>,
    session: Session,
    nonce: CspNonce,
    Path(name): Path<String>,
) -> Response {
    let Some(signed_in) = signed_in(&session).await else {
        return not_signed_in(&provisioner, &nonce).await;
    };
    let account = match provisioner.store().account_by_id(&signed_in.account).await {
        Ok(Some(account)) => account,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                page(
                    "No account",
                    &nonce,
                    "<h1>No such account</h1><p>The account of this session is gone. <a href=\"/\">Sign in again</a>.</p>",
                ),
            )
                .into_response()
        }
        Err(error) => {
            tracing::error!(error = %error, "account look-up failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                page(
                    "Error",
                    &nonce,
                    "<h1>Something went wrong</h1><p>Try again in a moment.</p>",
                ),
            )
                .into_response();
        }
    };
    let is_org = match provisioner.policy_for(&name).await {
        Ok(policy) => policy.org(&name).is_some(),
        Err(error) => {
            tracing::error!(error = %error, "org look-up failed");
            false
        }
    };
    if is_org {
        let title = format!("{name} — home");
        return page(
            &title,
            &nonce,
            &format!(
                "<h1 id=\"title\">{} home</h1>{}{}",
                escape_html(&name),
                who(&signed_in, &account),
                admin_link(&name, &account)
            ),
        )
        .into_response();
    }
    if name.eq_ignore_ascii_case(&account.handle) {
        return page(
            &account.handle,
            &nonce,
            &format!(
                "<h1 id=\"title\">{}'s home</h1>{}{}",
                escape_html(&account.handle),
                not_a_member(&signed_in, &account),
                who(&signed_in, &account)
            ),
        )
        .into_response();
    }
    (
        StatusCode::NOT_FOUND,
        page(
            "Not found",
            &nonce,
            &format!(
                "<h1>Not found</h1><p><a href=\"/{}\">Your own home</a></p>",
                escape_html(&account.handle)
            ),
        ),
    )
        .into_response()
}

/// Any deeper page of an org or account: a stand-in for the app's own pages, so that a
/// deep link kept through the trip to the IdP has somewhere to land.
async fn deep_page<S: AccountStore + 'static>(
    State(provisioner): State<Arc<Provisioner<S>>>,
    session: Session,
    nonce: CspNonce,
    Path((name, rest)): Path<(String, String)>,
) -> Response {
    if signed_in(&session).await.is_none() {
        return not_signed_in(&provisioner, &nonce).await;
    }
    page(
        "A deep page",
        &nonce,
        &format!(
            "<h1 id=\"title\">/{}/{}</h1><p>A page of the app, reached through the SSO trip.</p>",
            escape_html(&name),
            escape_html(&rest)
        ),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jit_provisioning::{Outcome, Rule};

    /// An account as the store would read it (built through serde, as a store's rows
    /// are, so that a new field with a default changes nothing here).
    fn account(
        given: Option<&str>,
        family: Option<&str>,
        memberships: serde_json::Value,
    ) -> AccountRecord {
        serde_json::from_value(serde_json::json!({
            "id": "1",
            "handle": "jane-doe",
            "given_name": given,
            "family_name": family,
            "memberships": memberships,
            "has_password": false,
        }))
        .unwrap()
    }

    fn signed_in(account: &AccountRecord) -> SignedIn {
        SignedIn::new(
            account.id.clone(),
            account.handle.clone(),
            Rule::JitCreate,
            Outcome::AccountCreated,
        )
    }

    fn shown(given: Option<&str>, family: Option<&str>) -> String {
        let account = account(given, family, serde_json::json!({}));
        let page = who(&signed_in(&account), &account);
        let name = page.split("<dd id=\"name\">").nth(1).unwrap();
        name.split("</dd>").next().unwrap().to_owned()
    }

    #[test]
    fn the_page_shows_the_names_recorded_and_escapes_them() {
        assert_eq!(shown(Some("Jane"), Some("Doe")), "Jane Doe");
        assert_eq!(shown(None, Some("李")), "李");
        assert_eq!(shown(None, None), "not recorded");
        assert_eq!(shown(Some("<b>Jane</b>"), None), "&lt;b&gt;Jane&lt;/b&gt;");
    }

    #[test]
    fn a_non_member_is_told_why_until_an_admin_invites_them() {
        let outsider = account(None, None, serde_json::json!({}));
        let session = signed_in(&outsider).with_not_a_member_of("acme");
        let notice = not_a_member(&session, &outsider);
        assert!(notice.contains("id=\"not-a-member\""), "{notice}");
        assert!(notice.contains("not a member of acme"), "{notice}");
        assert!(
            notice.contains("An admin of acme must invite you"),
            "{notice}"
        );

        let invited = account(None, None, serde_json::json!({"acme": "member"}));
        assert_eq!(not_a_member(&session, &invited), "");
        assert_eq!(not_a_member(&signed_in(&outsider), &outsider), "");
    }
}
