//! The pages the portal shows. An app brings its own look by implementing [`Pages`];
//! [`DefaultPages`] ships. Every value written into HTML is escaped.

use std::fmt::Write as _;

/// What the portal page shows.
#[derive(Debug, Clone, Copy)]
pub struct PortalPage<'a> {
    /// The org's id.
    pub org: &'a str,
    /// The link of the "Sign in with SSO" button (it starts the trip to the IdP).
    pub sign_in_href: &'a str,
}

/// The HTML of each page. Implementations must escape what they are given
/// ([`escape_html`] does).
pub trait Pages: Send + Sync {
    /// The SSO login portal: the org's name, a "Sign in with SSO" button, and what to do
    /// when the IdP turns the person away.
    fn portal(&self, page: &PortalPage<'_>) -> String;
    /// A refusal: its message, with nothing internal.
    fn refusal(&self, status: u16, message: &str) -> String;
    /// The HTTP-POST binding's auto-submitting form.
    fn post_form(&self, url: &str, fields: &[(String, String)]) -> String;
}

/// Plain, accessible pages that need no asset.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPages;

/// What a person the IdP turns away should do. Okta, Entra ID and Google show their own
/// error page instead of answering `RequestDenied`, so the portal must say it first.
pub const NOT_ASSIGNED_GUIDANCE: &str = "If your SSO provider says you are not assigned this app, or that you cannot use it, ask your SSO provider's admin to assign the app to you, then come back to this page.";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}a.button,button{{display:inline-block;padding:.6rem 1.2rem;background:#1f6feb;color:#fff;border:0;border-radius:6px;text-decoration:none;font-size:1rem}}.note{{color:#555}}</style></head><body>{body}</body></html>\n",
        escape_html(title)
    )
}

impl Pages for DefaultPages {
    fn portal(&self, page_data: &PortalPage<'_>) -> String {
        let org = escape_html(page_data.org);
        page(
            &format!("Sign in to {}", page_data.org),
            &format!(
                "<h1>Sign in to {org}</h1><p>{org} signs you in through its SSO provider. An account is created for you the first time.</p><p><a class=\"button\" id=\"sign-in\" href=\"{}\">Sign in with SSO</a></p><p class=\"note\" id=\"guidance\">{}</p>",
                escape_html(page_data.sign_in_href),
                escape_html(NOT_ASSIGNED_GUIDANCE)
            ),
        )
    }

    fn refusal(&self, status: u16, message: &str) -> String {
        let title = match status {
            404 => "Not found",
            400 => "Sign-in not verified",
            500..=599 => "Something went wrong",
            _ => "Sign-in refused",
        };
        page(
            title,
            &format!(
                "<h1>{}</h1><p id=\"message\">{}</p>",
                escape_html(title),
                escape_html(message)
            ),
        )
    }

    fn post_form(&self, url: &str, fields: &[(String, String)]) -> String {
        let mut inputs = String::new();
        for (name, value) in fields {
            let _ = write!(
                inputs,
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape_html(name),
                escape_html(value)
            );
        }
        page(
            "Continuing to sign-in",
            &format!(
                "<form id=\"saml\" method=\"post\" action=\"{}\">{inputs}<noscript><p>JavaScript is off: press the button to continue.</p></noscript><button type=\"submit\">Continue</button></form><script>document.getElementById('saml').submit()</script>",
                escape_html(url)
            ),
        )
    }
}

/// `text` escaped for HTML text and double- or single-quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}
