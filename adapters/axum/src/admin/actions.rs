//! What an org admin does, apart from HTTP: each action checks its input, changes the
//! stores or changes nothing, and is recorded in the audit log. The routes only turn
//! the outcome into a redirect with a notice or a JSON reply.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use jit_provisioning::{
    email_key, usable_email, web, AccountId, AccountStore, AdminAction, AdminEvent, AuditLog,
    Identity, Invite, Invitee, Member, MembershipError, MembershipStore, Role, MAX_SUBJECT_LEN,
};
use serde_json::{json, Value};

use super::page::PendingInvite;

/// An admin request refused or failed, with the status and code the API answers with
/// and a message for people. Nothing changed, except for `audit_failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// Something failed on the site's side: logged, with nothing internal for people.
    pub fn failed(what: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, "{what}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "failed", web::FAILED)
    }

    fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// Whether it is a failure of the site (shown as the error page), not an answer to
    /// the request (shown as a notice).
    pub fn is_failure(&self) -> bool {
        self.code == "failed"
    }

    /// `{"error": code, "message": …}` with the status.
    pub fn json(&self) -> Response {
        json_reply(
            self.status,
            &json!({"error": self.code, "message": self.message}),
        )
    }
}

/// A JSON reply.
pub(crate) fn json_reply(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The admin acting, where, and when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Acting<'a> {
    pub org: &'a str,
    /// The org's IdP entity id, the issuer of a subject an invite is bound to (`None`:
    /// the org has no SSO).
    pub idp: Option<&'a str>,
    /// The admin's handle.
    pub actor: &'a str,
    pub now: DateTime<Utc>,
}

/// Who to invite, as an admin wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Whom {
    Handle(String),
    Email(String),
}

impl Whom {
    /// A handle, or an email when the text has an `@`.
    pub fn parse(text: &str) -> Result<Self, Problem> {
        let text = text.trim();
        if text.is_empty() {
            return Err(missing_invitee());
        }
        Ok(if text.contains('@') {
            Whom::Email(text.to_owned())
        } else {
            Whom::Handle(text.to_owned())
        })
    }
}

pub(crate) fn missing_invitee() -> Problem {
    Problem::invalid(
        "missing_invitee",
        "say whom to invite, by handle or by email; nothing was invited",
    )
}

/// A role as a form writes it.
pub(crate) fn parse_role(text: Option<&str>) -> Result<Role, Problem> {
    let text = text.map(str::trim).unwrap_or_default();
    text.parse::<Role>()
        .map_err(|error| Problem::invalid("invalid_role", format!("{error}; nothing changed")))
}

/// What an action did: the notice for the page, and the API's reply.
#[derive(Debug)]
pub(crate) struct Done {
    pub notice: String,
    pub status: StatusCode,
    pub body: Option<Value>,
}

/// The stores the admin pages read and change.
#[derive(Clone, Copy)]
pub(crate) struct Desk<'a> {
    pub accounts: &'a dyn AccountStore,
    pub memberships: &'a dyn MembershipStore,
    pub audit: &'a dyn AuditLog,
}

impl Desk<'_> {
    pub async fn members(&self, org: &str) -> Result<Vec<Member>, Problem> {
        self.memberships
            .members(org)
            .await
            .map_err(|error| Problem::failed("the members could not be listed", &error))
    }

    /// The open invites, with the handle of each invited account.
    pub async fn invites(
        &self,
        org: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<PendingInvite>, Problem> {
        let invites = self
            .memberships
            .open_invites(org, now)
            .await
            .map_err(|error| Problem::failed("the invites could not be listed", &error))?;
        let mut pending = Vec::with_capacity(invites.len());
        for invite in invites {
            let handle = match &invite.invitee {
                Invitee::Account(id) => self
                    .accounts
                    .account_by_id(id)
                    .await
                    .map_err(|error| {
                        Problem::failed("an invited account could not be read", &error)
                    })?
                    .map(|account| account.handle),
                Invitee::Email(_) => None,
            };
            pending.push(PendingInvite::new(invite, handle));
        }
        Ok(pending)
    }

    pub async fn invite(
        &self,
        acting: Acting<'_>,
        whom: Whom,
        role: Role,
        subject: Option<&str>,
    ) -> Result<Done, Problem> {
        let subject = bound_subject(subject, acting.idp)?;
        let (invitee, handle) = match whom {
            Whom::Email(email) => match usable_email(Some(&email)) {
                Some(email) => (Invitee::Email(email.to_owned()), None),
                None => {
                    return Err(Problem::invalid(
                        "malformed_email",
                        format!("`{email}` is not an email address; nothing was invited"),
                    ))
                }
            },
            Whom::Handle(handle) => {
                let account = self
                    .memberships
                    .account_by_handle(&handle)
                    .await
                    .map_err(|error| Problem::failed("an account could not be looked up", &error))?
                    .ok_or_else(|| {
                        Problem::invalid(
                            "unknown_handle",
                            format!("there is no account with the handle `{handle}`; nothing was invited"),
                        )
                    })?;
                if account.is_member_of(acting.org) {
                    return Err(Problem::new(
                        StatusCode::CONFLICT,
                        "already_a_member",
                        format!(
                            "{} is already a member of {}: change their role instead; nothing was invited",
                            account.handle, acting.org
                        ),
                    ));
                }
                (Invitee::Account(account.id), Some(account.handle))
            }
        };
        let who = handle.clone().unwrap_or_else(|| invitee.to_string());
        let open = self
            .memberships
            .open_invites(acting.org, acting.now)
            .await
            .map_err(|error| Problem::failed("the invites could not be listed", &error))?;
        if open
            .iter()
            .any(|held| same_invitee(&held.invitee, &invitee))
        {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "already_invited",
                format!("{who} has an open invite already: revoke it to invite them again; nothing was invited"),
            ));
        }
        let mut invite = Invite::new(acting.org, role, invitee, acting.actor, acting.now);
        if let Some(subject) = subject {
            invite = invite.bound_to(subject);
        }
        let invite = self
            .memberships
            .create_invite(&invite)
            .await
            .map_err(|error| Problem::failed("the invite could not be stored", &error))?;
        let pending = PendingInvite::new(invite, handle);
        self.record(
            acting,
            AdminAction::Invited {
                invite: pending.invite.id.clone(),
                invitee: pending.invite.invitee.clone(),
                handle: pending.handle.clone(),
                role,
                subject: pending.invite.subject.clone(),
            },
        )
        .await?;
        Ok(Done {
            notice: format!("invited {who} as {role}"),
            status: StatusCode::CREATED,
            body: Some(invite_json(&pending)),
        })
    }

    pub async fn revoke(&self, acting: Acting<'_>, id: &str) -> Result<Done, Problem> {
        let no_such = || {
            Problem::new(
                StatusCode::NOT_FOUND,
                "no_such_invite",
                format!(
                    "{} has no open invite `{id}`; nothing was revoked",
                    acting.org
                ),
            )
        };
        let pending = self.invites(acting.org, acting.now).await?;
        let pending = pending
            .into_iter()
            .find(|pending| pending.invite.id == id)
            .ok_or_else(no_such)?;
        let revoked = self
            .memberships
            .revoke_invite(acting.org, id)
            .await
            .map_err(|error| Problem::failed("the invite could not be revoked", &error))?;
        if !revoked {
            return Err(no_such());
        }
        self.record(
            acting,
            AdminAction::InviteRevoked {
                invite: pending.invite.id.clone(),
                invitee: pending.invite.invitee.clone(),
                handle: pending.handle.clone(),
            },
        )
        .await?;
        Ok(Done {
            notice: format!("revoked the invite of {}", pending.who()),
            status: StatusCode::NO_CONTENT,
            body: None,
        })
    }

    /// The member `account` of the org, or a 404.
    async fn member(&self, org: &str, account: &AccountId) -> Result<Member, Problem> {
        let record = self
            .accounts
            .account_by_id(account)
            .await
            .map_err(|error| Problem::failed("an account could not be read", &error))?;
        let not_a_member = || {
            Problem::new(
                StatusCode::NOT_FOUND,
                "not_a_member",
                format!("account `{account}` is not a member of {org}; nothing changed"),
            )
        };
        let record = record.ok_or_else(not_a_member)?;
        let role = *record.memberships.get(org).ok_or_else(not_a_member)?;
        // How they joined is the member list's to say.
        let members = self.members(org).await?;
        Ok(members
            .into_iter()
            .find(|member| member.account.id == record.id)
            .unwrap_or_else(|| Member::new(record, role, jit_provisioning::Joined::ByHand)))
    }

    pub async fn set_role(
        &self,
        acting: Acting<'_>,
        account: &AccountId,
        role: Role,
    ) -> Result<Done, Problem> {
        let mut member = self.member(acting.org, account).await?;
        let handle = member.account.handle.clone();
        let from = member.role;
        if from == role {
            return Ok(Done {
                notice: format!("{handle} is {role} already; nothing changed"),
                status: StatusCode::OK,
                body: Some(member_json(&member)),
            });
        }
        self.memberships
            .set_role(account, acting.org, role)
            .await
            .map_err(|error| refused_change(&error, "the role could not be changed"))?;
        self.record(
            acting,
            AdminAction::RoleChanged {
                account: account.clone(),
                handle: handle.clone(),
                from,
                to: role,
            },
        )
        .await?;
        member.role = role;
        Ok(Done {
            notice: format!("{handle} is now {role} (was {from})"),
            status: StatusCode::OK,
            body: Some(member_json(&member)),
        })
    }

    pub async fn remove(&self, acting: Acting<'_>, account: &AccountId) -> Result<Done, Problem> {
        let member = self.member(acting.org, account).await?;
        let handle = member.account.handle.clone();
        let removed = self
            .memberships
            .remove_member(account, acting.org)
            .await
            .map_err(|error| refused_change(&error, "the member could not be removed"))?;
        if !removed {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "not_a_member",
                format!(
                    "{handle} is not a member of {}; nothing changed",
                    acting.org
                ),
            ));
        }
        self.record(
            acting,
            AdminAction::MemberRemoved {
                account: account.clone(),
                handle: handle.clone(),
                role: member.role,
            },
        )
        .await?;
        Ok(Done {
            notice: format!("removed {handle} from {}", acting.org),
            status: StatusCode::NO_CONTENT,
            body: None,
        })
    }

    pub async fn record(&self, acting: Acting<'_>, action: AdminAction) -> Result<(), Problem> {
        tracing::info!(
            org = acting.org,
            actor = acting.actor,
            action = action.name(),
            "{action}"
        );
        let event = AdminEvent::new(acting.org, acting.actor, acting.now, action);
        self.audit.record(&event).await.map_err(|error| {
            tracing::error!(error = %error, org = acting.org, "an admin action was made but not recorded in the audit log");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "audit_failed",
                "the change was made, but it could not be recorded in the audit log: tell the site's admin",
            )
        })
    }
}

/// A membership change the store refused (the last admin: 409) or failed.
fn refused_change(error: &MembershipError, what: &str) -> Problem {
    match error {
        MembershipError::LastAdmin => Problem::new(
            StatusCode::CONFLICT,
            "last_admin",
            format!("{error}; nothing changed"),
        ),
        MembershipError::NoSuchAccount(account) => Problem::new(
            StatusCode::NOT_FOUND,
            "not_a_member",
            format!("there is no account `{account}`; nothing changed"),
        ),
        other => Problem::failed(what, other),
    }
}

/// The IdP identity an invite is bound to: the subject the admin gave, at the org's IdP.
fn bound_subject(subject: Option<&str>, idp: Option<&str>) -> Result<Option<Identity>, Problem> {
    let Some(subject) = subject.map(str::trim).filter(|subject| !subject.is_empty()) else {
        return Ok(None);
    };
    let Some(idp) = idp else {
        return Err(Problem::invalid(
            "no_idp",
            "this organization has no SSO, so an invite cannot be bound to an IdP subject; nothing was invited",
        ));
    };
    if subject.len() > MAX_SUBJECT_LEN || subject.chars().any(char::is_control) {
        return Err(Problem::invalid(
            "invalid_subject",
            format!("an IdP subject has at most {MAX_SUBJECT_LEN} bytes and no control characters; nothing was invited"),
        ));
    }
    Ok(Some(Identity {
        issuer: idp.to_owned(),
        subject: subject.to_owned(),
    }))
}

fn same_invitee(a: &Invitee, b: &Invitee) -> bool {
    match (a, b) {
        (Invitee::Account(a), Invitee::Account(b)) => a == b,
        (Invitee::Email(a), Invitee::Email(b)) => email_key(a) == email_key(b),
        _ => false,
    }
}

/// A member as the API shows it.
pub(crate) fn member_json(member: &Member) -> Value {
    let account = &member.account;
    json!({
        "account": account.id,
        "handle": account.handle,
        "name": jit_provisioning::full_name(account.given_name.as_deref(), account.family_name.as_deref()),
        "email": account.email,
        "role": member.role,
        "joined": member.joined,
    })
}

/// An open invite as the API shows it.
pub(crate) fn invite_json(pending: &PendingInvite) -> Value {
    let invite = &pending.invite;
    let invitee = match &invite.invitee {
        Invitee::Account(id) => json!({"account": id, "handle": pending.handle}),
        Invitee::Email(email) => json!({"email": email}),
    };
    json!({
        "id": invite.id,
        "role": invite.role,
        "invitee": invitee,
        "subject": invite.subject,
        "invited_by": invite.invited_by,
        "created_at": invite.created_at,
        "expires_at": invite.expires_at,
    })
}

/// An admin event as the API shows it.
pub(crate) fn event_json(event: &AdminEvent) -> Value {
    json!({
        "at": event.at,
        "actor": event.actor,
        "action": event.action,
        "summary": event.action.to_string(),
    })
}
