//! The members page: what it shows, and the default HTML of it.

use std::fmt::Write as _;

use jit_provisioning::{full_name, AdminEvent, Invite, Invitee, Member, Role};
use serde::{Deserialize, Serialize};

use super::csrf::CSRF_FIELD;
use crate::pages::escape_html;
use crate::portal::percent_encode;

/// An open invite as the members page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingInvite {
    /// The invite.
    pub invite: Invite,
    /// The handle of the invited account (`None` for an email invite, or an account
    /// gone since).
    pub handle: Option<String>,
}

impl PendingInvite {
    /// `invite`, whose invited account has `handle`.
    pub fn new(invite: Invite, handle: Option<String>) -> Self {
        Self { invite, handle }
    }

    /// Who is invited, in a word: the handle, the email, or the account id.
    pub fn who(&self) -> String {
        match (&self.handle, &self.invite.invitee) {
            (Some(handle), _) => handle.clone(),
            (None, Invitee::Email(email)) => email.clone(),
            (None, Invitee::Account(id)) => format!("account {id}"),
        }
    }
}

/// The one line the members page shows after a change: what happened, or why nothing
/// did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Notice {
    /// The change was made.
    Done(String),
    /// The change was refused, or failed; nothing changed (but see the text).
    Refused(String),
}

impl Notice {
    /// The line, in plain text.
    pub fn text(&self) -> &str {
        match self {
            Notice::Done(text) | Notice::Refused(text) => text,
        }
    }

    /// Whether it says why nothing changed.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Notice::Refused(_))
    }
}

/// What the members page of an org shows: its members, its open invites, the latest
/// admin events, the forms that change them, and the notice of the last change.
///
/// Every form posts to an address [`MembersPage::href`] gives and carries the CSRF token
/// in a hidden field named [`MembersPage::CSRF_FIELD`]:
///
/// | form | `href` | fields |
/// | --- | --- | --- |
/// | change a role | `/members/role` | `account`, `role` (`member`, `contributor`, `admin`) |
/// | remove a member | `/members/remove` | `account` |
/// | invite | `/invites` | `invitee` (a handle, or an email), `role`, `subject` (optional: the NameID at [`MembersPage::idp`] to bind the invite to) |
/// | revoke an invite | `/invites/revoke` | `invite` (its id) |
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct MembersPage<'a> {
    /// The org.
    pub org: &'a str,
    /// The handle of the admin looking at the page.
    pub admin: &'a str,
    /// The org's IdP entity id: the issuer of the subject an invite is bound to.
    pub idp: &'a str,
    /// The members, in order of handle.
    pub members: &'a [Member],
    /// The open invites, oldest first.
    pub invites: &'a [PendingInvite],
    /// The latest admin events of the org, newest first.
    pub events: &'a [AdminEvent],
    /// What the last change did, if the page follows one.
    pub notice: Option<&'a Notice>,
    /// The session's CSRF token, for every form's hidden field.
    pub csrf_token: &'a str,
    /// The response's CSP nonce (see [`PortalPage::nonce`](crate::PortalPage::nonce)).
    pub nonce: &'a str,
    /// Whether the org's SCIM page is there
    /// ([`OrgAdmin::with_scim_tokens`](crate::OrgAdmin::with_scim_tokens)), for the
    /// navigation to link to it.
    pub scim: bool,
}

impl<'a> MembersPage<'a> {
    /// The name of the hidden field that carries the CSRF token.
    pub const CSRF_FIELD: &'static str = CSRF_FIELD;

    /// The page of `org`, seen by `admin`, with nothing listed yet, whose forms carry
    /// `csrf_token`, for a response whose nonce is `nonce`.
    pub fn new(org: &'a str, admin: &'a str, csrf_token: &'a str, nonce: &'a str) -> Self {
        Self {
            org,
            admin,
            idp: "",
            members: &[],
            invites: &[],
            events: &[],
            notice: None,
            csrf_token,
            nonce,
            scim: false,
        }
    }

    /// The same page, whose org's IdP is `idp`.
    pub fn with_idp(mut self, idp: &'a str) -> Self {
        self.idp = idp;
        self
    }

    /// The same page, listing `members`, `invites` and `events`.
    pub fn with_lists(
        mut self,
        members: &'a [Member],
        invites: &'a [PendingInvite],
        events: &'a [AdminEvent],
    ) -> Self {
        self.members = members;
        self.invites = invites;
        self.events = events;
        self
    }

    /// The same page, showing `notice`.
    pub fn with_notice(mut self, notice: Option<&'a Notice>) -> Self {
        self.notice = notice;
        self
    }

    /// The same page, whose navigation links to the org's SCIM page when `scim`.
    pub fn with_scim(mut self, scim: bool) -> Self {
        self.scim = scim;
        self
    }

    /// The address of `path` under the org's admin pages (`/members/role` gives
    /// `/{org}/admin/members/role`), the org percent-encoded.
    pub fn href(&self, path: &str) -> String {
        admin_path(self.org, path)
    }
}

/// `/{org}/admin{path}`.
pub(crate) fn admin_path(org: &str, path: &str) -> String {
    format!("/{}/admin{path}", percent_encode(org))
}

/// The admin pages of an org, as the navigation names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Members,
    Sso,
    Scim,
}

/// The navigation between the org's admin pages, `here` marked as the current one; the
/// SCIM page only when the app has it (`scim`).
pub(crate) fn nav(org: &str, here: Section, scim: bool) -> String {
    let sections = [
        (Section::Members, "/members", "Members"),
        (Section::Sso, "/sso", "SSO"),
        (Section::Scim, "/scim", "SCIM"),
    ];
    let mut out = String::from("<nav id=\"admin-nav\" aria-label=\"Admin pages\">");
    for (section, path, label) in sections {
        if section == Section::Scim && !scim {
            continue;
        }
        let current = if section == here {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<a id=\"nav-{}\" href=\"{}\"{current}>{label}</a>",
            label.to_lowercase(),
            escape_html(&admin_path(org, path)),
        );
    }
    out.push_str("</nav>");
    out
}

/// The notice of the last change, if any.
pub(crate) fn notice_html(notice: Option<&Notice>) -> String {
    notice.map_or_else(String::new, |notice| {
        let class = if notice.is_refusal() {
            "refused"
        } else {
            "done"
        };
        format!(
            "<p id=\"notice\" class=\"{class}\" role=\"status\">{}</p>",
            escape_html(notice.text())
        )
    })
}

/// The style of the navigation, for each page's style sheet.
pub(crate) const NAV_STYLE: &str = "nav{margin-bottom:1.5rem}nav a{margin-right:1.2rem}nav a[aria-current]{font-weight:600;color:inherit;text-decoration:none}";

/// An admin page (but the members page, which [`Pages`](crate::Pages) may draw): `body`
/// and `script` under `title`, with the session's CSRF token in a `<meta>` for scripts.
pub(crate) fn layout(
    title: &str,
    csrf_token: &str,
    nonce: &str,
    body: &str,
    script: &str,
) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"csrf-token\" content=\"{}\"><title>{}</title><style nonce=\"{}\">body{{font-family:system-ui,sans-serif;max-width:64rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}table{{border-collapse:collapse;width:100%;margin-bottom:1rem}}th,td{{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}}code{{word-break:break-all}}td:first-child code{{word-break:normal;white-space:nowrap}}form{{margin:.5rem 0}}button{{padding:.3rem .8rem;background:#1f6feb;color:#fff;border:0;border-radius:6px;font-size:.9rem}}button.danger{{background:#b42318}}.note{{color:#555}}.problem{{color:#b42318}}tr.fail td{{background:#fdecea}}#notice,#summary{{padding:.5rem 1rem;border-radius:6px}}.done{{background:#e6f4ea}}.refused{{background:#fdecea}}pre{{background:#f6f8fa;padding:.5rem;white-space:pre-wrap}}{NAV_STYLE}</style></head><body>{body}{script}</body></html>\n",
        escape_html(csrf_token),
        escape_html(title),
        escape_html(nonce),
    )
}

const ROLES: [Role; 3] = [Role::Member, Role::Contributor, Role::Admin];

fn role_options(selected: Role) -> String {
    ROLES.iter().fold(String::new(), |mut out, role| {
        let chosen = if *role == selected { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{role}\"{chosen}>{role}</option>");
        out
    })
}

/// The default HTML of the members page: plain forms, no script.
pub(crate) fn render(page: &MembersPage<'_>) -> String {
    let org = escape_html(page.org);
    let token = escape_html(page.csrf_token);
    let hidden = format!("<input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{token}\">");
    let action = |path: &str| escape_html(&page.href(path));
    let mut body = nav(page.org, Section::Members, page.scim);
    let _ = write!(
        body,
        "<h1>Members of {org}</h1><p class=\"note\">Signed in as {}.</p>",
        escape_html(page.admin)
    );
    body.push_str(&notice_html(page.notice));

    body.push_str("<h2>Members</h2><table id=\"members\"><thead><tr><th>Handle</th><th>Name</th><th>Email</th><th>Role</th><th>Joined by</th><th></th></tr></thead><tbody>");
    for member in page.members {
        let account = &member.account;
        let id = escape_html(account.id.as_str());
        let handle = escape_html(&account.handle);
        let name = full_name(
            account.given_name.as_deref(),
            account.family_name.as_deref(),
        )
        .unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td>{handle}</td><td>{}</td><td>{}</td><td><form method=\"post\" action=\"{}\">{hidden}<input type=\"hidden\" name=\"account\" value=\"{id}\"><label><span class=\"hidden\">Role of {handle}</span> <select name=\"role\">{}</select></label> <button type=\"submit\">Change role</button></form></td><td>{}</td><td><form method=\"post\" action=\"{}\">{hidden}<input type=\"hidden\" name=\"account\" value=\"{id}\"><button type=\"submit\" class=\"danger\">Remove {handle}</button></form></td></tr>",
            escape_html(&name),
            escape_html(account.email.as_deref().unwrap_or_default()),
            action("/members/role"),
            role_options(member.role),
            escape_html(member.joined.as_str()),
            action("/members/remove"),
        );
    }
    body.push_str("</tbody></table>");

    body.push_str("<h2>Open invites</h2>");
    if page.invites.is_empty() {
        body.push_str("<p id=\"no-invites\" class=\"note\">No open invites.</p>");
    } else {
        body.push_str("<table id=\"invites\"><thead><tr><th>Who</th><th>Role</th><th>Bound to IdP subject</th><th>Invited by</th><th>Expires</th><th></th></tr></thead><tbody>");
        for pending in page.invites {
            let invite = &pending.invite;
            let subject = invite
                .subject
                .as_ref()
                .map(|subject| subject.subject.as_str())
                .unwrap_or_default();
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><form method=\"post\" action=\"{}\">{hidden}<input type=\"hidden\" name=\"invite\" value=\"{}\"><button type=\"submit\">Revoke</button></form></td></tr>",
                escape_html(&pending.who()),
                invite.role,
                escape_html(subject),
                escape_html(&invite.invited_by),
                invite.expires_at.format("%Y-%m-%d %H:%M UTC"),
                action("/invites/revoke"),
                escape_html(&invite.id),
            );
        }
        body.push_str("</tbody></table>");
    }

    let _ = write!(
        body,
        "<h2>Invite</h2><form id=\"invite\" method=\"post\" action=\"{}\">{hidden}<p><label>Handle or email <input name=\"invitee\" required></label></p><p><label>Role <select name=\"role\">{}</select></label></p><p><label>IdP subject (optional) <input name=\"subject\"></label><br><span class=\"note\">Binds the invite to this NameID at {}: only a sign-in as that identity accepts it.</span></p><p><button type=\"submit\">Invite</button></p></form><p class=\"note\">The invite is accepted at the person's next sign-in through the SSO of {org}.</p>",
        action("/invites"),
        role_options(Role::Member),
        if page.idp.is_empty() {
            "the org's IdP".to_owned()
        } else {
            format!("<code>{}</code>", escape_html(page.idp))
        },
    );

    body.push_str("<h2>Recent changes</h2>");
    if page.events.is_empty() {
        body.push_str("<p id=\"no-events\" class=\"note\">No changes recorded yet.</p>");
    } else {
        body.push_str("<ol id=\"events\">");
        for event in page.events {
            let _ = write!(
                body,
                "<li><time datetime=\"{}\">{}</time> {}: {}</li>",
                event.at.to_rfc3339(),
                event.at.format("%Y-%m-%d %H:%M UTC"),
                escape_html(&event.actor),
                escape_html(&event.action.to_string()),
            );
        }
        body.push_str("</ol>");
    }

    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"csrf-token\" content=\"{token}\"><title>Members of {org}</title><style nonce=\"{}\">body{{font-family:system-ui,sans-serif;max-width:64rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}table{{border-collapse:collapse;width:100%}}th,td{{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:middle}}form{{margin:0}}button{{padding:.3rem .8rem;background:#1f6feb;color:#fff;border:0;border-radius:6px;font-size:.9rem}}button.danger{{background:#b42318}}.note{{color:#555}}.hidden{{position:absolute;left:-10000px}}#notice{{padding:.5rem 1rem;border-radius:6px}}#notice.done{{background:#e6f4ea}}#notice.refused{{background:#fdecea}}{NAV_STYLE}</style></head><body>{body}</body></html>\n",
        escape_html(page.nonce)
    )
}
