//! The pages a sign-in lands on: an org's home and an account's own home, both showing
//! who is signed in, their handle and memberships, and the rule that decided.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use jit_provisioning::{AccountRecord, AccountStore, Provisioner};
use jit_provisioning_axum::{escape_html, signed_in, SignedIn};
use tower_sessions::Session;

pub(crate) fn routes<S: AccountStore + 'static>(provisioner: Arc<Provisioner<S>>) -> Router {
    Router::new()
        .route("/", get(index::<S>))
        .route("/{name}", get(home::<S>))
        .route("/{name}/{*rest}", get(deep_page))
        .with_state(provisioner)
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}dt{{font-weight:600}}code{{background:#eee;padding:0 .2rem}}</style></head><body>{body}</body></html>",
        escape_html(title)
    ))
}

async fn index<S: AccountStore + 'static>(
    State(provisioner): State<Arc<Provisioner<S>>>,
) -> Response {
    let mut orgs: Vec<&str> = provisioner
        .policy()
        .orgs()
        .filter(|(_, org)| org.portal().is_some())
        .map(|(id, _)| id)
        .collect();
    orgs.sort_unstable();
    let links: String = orgs
        .iter()
        .map(|org| {
            format!(
                "<li><a href=\"/{0}/login\">/{0}/login</a></li>",
                escape_html(org)
            )
        })
        .collect();
    page(
        "jit-provisioning demo",
        &format!("<h1>jit-provisioning demo</h1><p>Each org's SSO login portal:</p><ul>{links}</ul><p>The demo IdP lets you pick who signs in.</p>"),
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

async fn home<S: AccountStore + 'static>(
    State(provisioner): State<Arc<Provisioner<S>>>,
    session: Session,
    Path(name): Path<String>,
) -> Response {
    let Some(signed_in) = signed_in(&session).await else {
        return (
            StatusCode::UNAUTHORIZED,
            page(
                "Not signed in",
                "<h1>Not signed in</h1><p>Start at an org's login portal.</p>",
            ),
        )
            .into_response();
    };
    let account = match provisioner.store().account_by_id(&signed_in.account).await {
        Ok(Some(account)) => account,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                page("No account", "<h1>No such account</h1>"),
            )
                .into_response()
        }
        Err(error) => {
            tracing::error!(error = %error, "account look-up failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                page("Error", "<h1>Something went wrong</h1>"),
            )
                .into_response();
        }
    };
    if provisioner.policy().org(&name).is_some() {
        let title = format!("{name} — home");
        return page(
            &title,
            &format!(
                "<h1 id=\"title\">{} home</h1>{}",
                escape_html(&name),
                who(&signed_in, &account)
            ),
        )
        .into_response();
    }
    if name.eq_ignore_ascii_case(&account.handle) {
        return page(
            &account.handle,
            &format!(
                "<h1 id=\"title\">{}'s home</h1>{}",
                escape_html(&account.handle),
                who(&signed_in, &account)
            ),
        )
        .into_response();
    }
    (
        StatusCode::NOT_FOUND,
        page("Not found", "<h1>Not found</h1>"),
    )
        .into_response()
}

/// Any deeper page of an org or account: a stand-in for the app's own pages, so that a
/// deep link kept through the trip to the IdP has somewhere to land.
async fn deep_page(session: Session, Path((name, rest)): Path<(String, String)>) -> Response {
    if signed_in(&session).await.is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            page("Not signed in", "<h1>Not signed in</h1>"),
        )
            .into_response();
    }
    page(
        "A deep page",
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

    fn shown(given: Option<&str>, family: Option<&str>) -> String {
        let account = AccountRecord {
            id: "1".into(),
            handle: "jane-doe".into(),
            email: None,
            identities: Vec::new(),
            memberships: Default::default(),
            disabled: false,
            has_password: false,
            given_name: given.map(Into::into),
            family_name: family.map(Into::into),
        };
        let signed_in = SignedIn {
            account: account.id.clone(),
            handle: account.handle.clone(),
            sso_at: None,
            rule: Rule::JitCreate,
            outcome: Outcome::AccountCreated,
        };
        let page = who(&signed_in, &account);
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
}
