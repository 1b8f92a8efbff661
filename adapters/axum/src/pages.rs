//! The pages the portal shows. An app brings its own look by implementing [`Pages`];
//! [`DefaultPages`] ships. Every value written into HTML is escaped, and every page a
//! person can see says what to do next.

use std::fmt::Write as _;

use jit_provisioning::Reason;

use crate::admin::MembersPage;

/// What the portal page shows.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PortalPage<'a> {
    /// The org's id.
    pub org: &'a str,
    /// The link of the "Sign in with SSO" button (it starts the trip to the IdP).
    pub sign_in_href: &'a str,
    /// The nonce of the response's Content-Security-Policy: an inline `<script>` or
    /// `<style>` must carry it (`nonce="…"`) to run.
    pub nonce: &'a str,
}

impl<'a> PortalPage<'a> {
    /// The portal page of `org`, whose button links to `sign_in_href`, for a response
    /// whose nonce is `nonce`.
    pub fn new(org: &'a str, sign_in_href: &'a str, nonce: &'a str) -> Self {
        Self {
            org,
            sign_in_href,
            nonce,
        }
    }
}

/// What a page that ends the sign-in here is about: what an app may word or style each
/// its own way. [`PageKind::title`] is the default pages' heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PageKind {
    /// The policy refused the sign-in (403): the message is the decision's.
    Refused,
    /// No SSO login portal at this address (404).
    NotFound,
    /// The IdP's answer could not be verified (400); the detail is in the log only.
    Unverified,
    /// A request the portal cannot read: the IdP's answer not in a form it reads (400,
    /// 413, 415, 422), or an address whose query does not parse (400).
    BadRequest,
    /// The assertion consumer opened as a page (a reload, a bookmark, the back button):
    /// it only receives the IdP's POST (405).
    Reload,
    /// An address of the portal asked with a method it does not answer, such as
    /// `GET /logout` (405).
    WrongMethod,
    /// A sign-out posted from another site, refused (403).
    SignOutRefused,
    /// Something failed on the site's side (500).
    Failed,
    /// An org's admin pages, asked for by someone signed in who may not use them (403).
    NotAllowed,
    /// An admin change refused because it did not come from this site's own page, or
    /// carried no valid CSRF token (403): nothing changed.
    FormRefused,
    /// Admin pages of an org that does not exist (404).
    NoSuchOrg,
}

impl PageKind {
    /// The page's heading, in plain words.
    pub fn title(self) -> &'static str {
        match self {
            PageKind::Refused => "Sign-in refused",
            PageKind::NotFound => "No SSO login here",
            PageKind::Unverified => "Sign-in not verified",
            PageKind::BadRequest => "Request not understood",
            PageKind::Reload => "Start the sign-in again",
            PageKind::WrongMethod => "Nothing to see at this address",
            PageKind::SignOutRefused => "Not signed out",
            PageKind::Failed => "Something went wrong",
            PageKind::NotAllowed => "Not allowed",
            PageKind::FormRefused => "Nothing changed",
            PageKind::NoSuchOrg => "No such organization",
        }
    }
}

/// A link to where a person goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Link<'a> {
    /// Where it goes (a path on this site).
    pub href: &'a str,
    /// What it says.
    pub label: &'a str,
}

impl<'a> Link<'a> {
    /// A link to `href` that says `label`.
    pub fn new(href: &'a str, label: &'a str) -> Self {
        Self { href, label }
    }
}

/// What a page that ends the sign-in here shows: a refusal, an answer that could not be
/// read, a failure.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RefusalPage<'a> {
    /// What the page is about.
    pub kind: PageKind,
    /// The HTTP status it is served with.
    pub status: u16,
    /// What the person is told: what happened and what to do next. Nothing internal.
    pub message: &'a str,
    /// The way back: the org's portal page when there is one (the sign-in can start
    /// again there), else the site's home, or nothing for an address that leads nowhere.
    pub next: Option<Link<'a>>,
    /// The decision's reason, when the policy refused ([`PageKind::Refused`],
    /// [`PageKind::NotFound`]): for an app that words each reason its own way.
    pub reason: Option<Reason>,
    /// The response's CSP nonce (see [`PortalPage::nonce`]).
    pub nonce: &'a str,
}

impl<'a> RefusalPage<'a> {
    /// A page of `kind`, served with `status`, saying `message`, for a response whose
    /// nonce is `nonce`; no link nor reason until [`RefusalPage::with_next`] and
    /// [`RefusalPage::with_reason`].
    pub fn new(kind: PageKind, status: u16, message: &'a str, nonce: &'a str) -> Self {
        Self {
            kind,
            status,
            message,
            next: None,
            reason: None,
            nonce,
        }
    }

    /// The same page with a link to where the person goes next.
    pub fn with_next(mut self, next: Link<'a>) -> Self {
        self.next = Some(next);
        self
    }

    /// The same page, for a refusal the policy decided with `reason`.
    pub fn with_reason(mut self, reason: Option<Reason>) -> Self {
        self.reason = reason;
        self
    }
}

/// The HTTP-POST binding's auto-submitting form: the AuthnRequest on its way to the IdP.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PostForm<'a> {
    /// Where the form posts (the IdP's SSO URL).
    pub url: &'a str,
    /// The hidden fields (`SAMLRequest`, `RelayState`).
    pub fields: &'a [(String, String)],
    /// The response's CSP nonce: the script that submits the form must carry it.
    pub nonce: &'a str,
}

impl<'a> PostForm<'a> {
    /// A form posting `fields` to `url`, for a response whose nonce is `nonce`.
    pub fn new(url: &'a str, fields: &'a [(String, String)], nonce: &'a str) -> Self {
        Self { url, fields, nonce }
    }
}

/// The HTML of each page. Implementations must escape what they are given
/// ([`escape_html`] does), and put the nonce on every inline `<script>` and `<style>`:
/// the Content-Security-Policy blocks any other (and every inline event handler).
pub trait Pages: Send + Sync {
    /// The SSO login portal: the org's name, a "Sign in with SSO" button, and what to do
    /// when the IdP turns the person away.
    fn portal(&self, page: &PortalPage<'_>) -> String;
    /// A page that ends the sign-in here, with its message and the way back.
    fn refusal(&self, page: &RefusalPage<'_>) -> String;
    /// The HTTP-POST binding's auto-submitting form.
    fn post_form(&self, form: &PostForm<'_>) -> String;
    /// An org's members page, of the admin pages ([`OrgAdmin`](crate::OrgAdmin)): by
    /// default [`DefaultPages`]' plain tables and forms. Every form must carry the CSRF
    /// token (see [`MembersPage`]).
    fn members(&self, page: &MembersPage<'_>) -> String {
        crate::admin::render_members(page)
    }
}

/// Plain, accessible pages that need no asset.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultPages;

/// What a person the IdP turns away should do. Okta, Entra ID and Google show their own
/// error page instead of answering `RequestDenied`, so the portal must say it first.
pub const NOT_ASSIGNED_GUIDANCE: &str = "If your SSO provider says you are not assigned this app, or that you cannot use it, ask your SSO provider's admin to assign the app to you, then come back to this page.";

/// What the page a non-member lands on should say (see
/// [`SignedIn::not_a_member_of`](crate::SignedIn::not_a_member_of)): they are signed
/// in, they are not a member of `org`, and who can change that. Plain text: escape it
/// for HTML.
pub fn not_a_member_notice(org: &str) -> String {
    format!(
        "You are signed in, but you are not a member of {org}. An admin of {org} must invite you to the organization before you can use it."
    )
}

/// A whole page in the portal's style around `body` (HTML the caller escaped).
pub(crate) fn page(title: &str, nonce: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style nonce=\"{}\">body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}a.button,button{{display:inline-block;padding:.6rem 1.2rem;background:#1f6feb;color:#fff;border:0;border-radius:6px;text-decoration:none;font-size:1rem}}.note{{color:#555}}</style></head><body>{body}</body></html>\n",
        escape_html(title),
        escape_html(nonce)
    )
}

impl Pages for DefaultPages {
    fn portal(&self, page_data: &PortalPage<'_>) -> String {
        let org = escape_html(page_data.org);
        page(
            &format!("Sign in to {}", page_data.org),
            page_data.nonce,
            &format!(
                "<h1>Sign in to {org}</h1><p>{org} signs you in through its SSO provider. An account is created for you the first time.</p><p><a class=\"button\" id=\"sign-in\" href=\"{}\">Sign in with SSO</a></p><p class=\"note\" id=\"guidance\">{}</p>",
                escape_html(page_data.sign_in_href),
                escape_html(NOT_ASSIGNED_GUIDANCE)
            ),
        )
    }

    fn refusal(&self, page_data: &RefusalPage<'_>) -> String {
        let title = page_data.kind.title();
        let next = page_data.next.map_or_else(String::new, |next| {
            format!(
                "<p><a class=\"button\" id=\"next\" href=\"{}\">{}</a></p>",
                escape_html(next.href),
                escape_html(next.label)
            )
        });
        page(
            title,
            page_data.nonce,
            &format!(
                "<h1 id=\"title\">{}</h1><p id=\"message\">{}</p>{next}",
                escape_html(title),
                escape_html(page_data.message)
            ),
        )
    }

    fn post_form(&self, form: &PostForm<'_>) -> String {
        let mut inputs = String::new();
        for (name, value) in form.fields {
            let _ = write!(
                inputs,
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape_html(name),
                escape_html(value)
            );
        }
        let nonce = escape_html(form.nonce);
        page(
            "Continuing to sign-in",
            form.nonce,
            &format!(
                "<form id=\"saml\" method=\"post\" action=\"{}\">{inputs}<noscript><p>JavaScript is off: press the button to continue.</p></noscript><button type=\"submit\">Continue</button></form><script nonce=\"{nonce}\">document.getElementById('saml').submit()</script>",
                escape_html(form.url)
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
