//! What org admins did: the audit trail of invites, revocations, role changes,
//! removals and SSO set-up, behind one storage trait.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{AccountId, Identity};
use crate::invite::Invitee;
use crate::role::Role;
use crate::store::StoreError;

/// One thing an org admin did: who, when, in which org, and what.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use jit_provisioning::{AdminAction, AdminEvent, Invitee, Role};
///
/// let at = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
/// let event = AdminEvent::new(
///     "acme",
///     "jane-doe",
///     at,
///     AdminAction::Invited {
///         invite: "inv-1".into(),
///         invitee: Invitee::Email("sam@acme.example".into()),
///         handle: None,
///         role: Role::Member,
///         subject: None,
///     },
/// );
/// assert_eq!(event.action.to_string(), "invited sam@acme.example as member");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AdminEvent {
    /// The org it happened in.
    pub org: String,
    /// The handle of the admin who did it.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub action: AdminAction,
}

impl AdminEvent {
    /// `actor` did `action` in `org` at `at`.
    pub fn new(
        org: impl Into<String>,
        actor: impl Into<String>,
        at: DateTime<Utc>,
        action: AdminAction,
    ) -> Self {
        AdminEvent {
            org: org.into(),
            actor: actor.into(),
            at,
            action,
        }
    }
}

/// What an org admin did, with the details an auditor asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AdminAction {
    /// Invited someone to the org.
    Invited {
        /// The invite's id.
        invite: String,
        /// Who.
        invitee: Invitee,
        /// The invited account's handle at the time (none for an email invite).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handle: Option<String>,
        /// As what.
        role: Role,
        /// The IdP identity the invite is bound to, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<Identity>,
    },
    /// Revoked an open invite.
    InviteRevoked {
        /// The invite's id.
        invite: String,
        /// Who it was for.
        invitee: Invitee,
        /// The invited account's handle at the time (none for an email invite).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handle: Option<String>,
    },
    /// Changed a member's role.
    RoleChanged {
        /// The member's account.
        account: AccountId,
        /// Its handle at the time.
        handle: String,
        /// The role it held.
        from: Role,
        /// The role it holds now.
        to: Role,
    },
    /// Ended a membership.
    MemberRemoved {
        /// The former member's account.
        account: AccountId,
        /// Its handle at the time.
        handle: String,
        /// The role it held.
        role: Role,
    },
    /// Saved the org's SSO settings (JIT, roles, domains, reauthentication, the attribute
    /// preset): everything but the IdP's trust, which is staged and tested first.
    SsoSettingsChanged {
        /// The org record's version the save wrote.
        version: u64,
        /// The fields that changed, as the org's history names them (`jit`,
        /// `verified_domains`, `saml.attributes.preset`).
        fields: Vec<String>,
    },
    /// Staged a new IdP trust (its metadata pasted, uploaded or fetched from a URL): it
    /// waits, pending, for a test sign-in that passes with it and an admin who activates
    /// it, while the trust in use goes on serving sign-ins.
    SsoTrustStaged {
        /// The pending trust's fingerprint: what a passing test is bound to.
        trust: String,
        /// The IdP's entity id in it.
        entity_id: String,
        /// Where it came from: `pasted`, `uploaded`, or the URL it was fetched from.
        source: String,
    },
    /// A test sign-in passed: the IdP's response verified with the trust under test.
    SsoTestPassed {
        /// The fingerprint of the pending trust tested; `None` for the trust in use.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trust: Option<String>,
        /// The IdP's entity id.
        entity_id: String,
        /// The subject the IdP vouched for.
        subject: String,
    },
    /// A test sign-in failed: nothing was activated.
    SsoTestFailed {
        /// The fingerprint of the pending trust tested; `None` for the trust in use.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trust: Option<String>,
        /// The check that failed (`bad_signature`, `wrong_audience`, `idp_status`, …).
        check: String,
        /// What it found, for people.
        detail: String,
    },
    /// Made a pending IdP trust, tested with a passing sign-in, the trust in use.
    SsoTrustActivated {
        /// The fingerprint of the trust activated.
        trust: String,
        /// The IdP's entity id.
        entity_id: String,
        /// Whether the activation also opened the sign-ins of a draft org.
        opened: bool,
    },
    /// A one-time owner link opened the org's admin pages to a session without an
    /// account, until `until`.
    OwnerLinkUsed {
        /// When the session's right ends.
        until: DateTime<Utc>,
    },
    /// Made a SCIM bearer token for the org's IdP. The token itself is shown once to
    /// whoever made it, and recorded nowhere.
    ScimTokenCreated {
        /// The token's id in the store: what revoking it takes.
        token: String,
        /// What it was called (may be empty).
        label: String,
    },
    /// Revoked a SCIM token: it opens the org's SCIM endpoints no more.
    ScimTokenRevoked {
        /// The token's id in the store.
        token: String,
        /// What it was called (may be empty).
        label: String,
    },
}

impl AdminAction {
    /// The action's name as the API and logs write it (`invited`, `invite_revoked`,
    /// `role_changed`, `member_removed`, `sso_settings_changed`, `sso_trust_staged`,
    /// `sso_test_passed`, `sso_test_failed`, `sso_trust_activated`, `owner_link_used`,
    /// `scim_token_created`, `scim_token_revoked`).
    pub const fn name(&self) -> &'static str {
        match self {
            AdminAction::Invited { .. } => "invited",
            AdminAction::InviteRevoked { .. } => "invite_revoked",
            AdminAction::RoleChanged { .. } => "role_changed",
            AdminAction::MemberRemoved { .. } => "member_removed",
            AdminAction::SsoSettingsChanged { .. } => "sso_settings_changed",
            AdminAction::SsoTrustStaged { .. } => "sso_trust_staged",
            AdminAction::SsoTestPassed { .. } => "sso_test_passed",
            AdminAction::SsoTestFailed { .. } => "sso_test_failed",
            AdminAction::SsoTrustActivated { .. } => "sso_trust_activated",
            AdminAction::OwnerLinkUsed { .. } => "owner_link_used",
            AdminAction::ScimTokenCreated { .. } => "scim_token_created",
            AdminAction::ScimTokenRevoked { .. } => "scim_token_revoked",
        }
    }
}

/// One line in plain words, as the admin pages show it.
impl fmt::Display for AdminAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminAction::Invited {
                invitee,
                handle,
                role,
                subject,
                ..
            } => {
                match handle {
                    Some(handle) => write!(f, "invited {handle} as {role}")?,
                    None => write!(f, "invited {invitee} as {role}")?,
                }
                if let Some(subject) = subject {
                    write!(f, ", bound to {subject}")?;
                }
                Ok(())
            }
            AdminAction::InviteRevoked {
                invite,
                invitee,
                handle,
            } => match handle {
                Some(handle) => write!(f, "revoked invite {invite} for {handle}"),
                None => write!(f, "revoked invite {invite} for {invitee}"),
            },
            AdminAction::RoleChanged {
                handle, from, to, ..
            } => write!(f, "changed the role of {handle} from {from} to {to}"),
            AdminAction::MemberRemoved { handle, role, .. } => {
                write!(f, "removed {handle} ({role})")
            }
            AdminAction::SsoSettingsChanged { fields, .. } => {
                write!(f, "changed the SSO settings ({})", fields.join(", "))
            }
            AdminAction::SsoTrustStaged {
                trust,
                entity_id,
                source,
            } => write!(
                f,
                "staged IdP trust {} for {entity_id} ({source}), pending a test sign-in",
                short(trust)
            ),
            AdminAction::SsoTestPassed {
                trust,
                entity_id,
                subject,
            } => {
                write!(f, "test sign-in as {subject} at {entity_id} passed with ")?;
                tested(f, trust.as_deref())
            }
            AdminAction::SsoTestFailed {
                trust,
                check,
                detail,
            } => {
                write!(f, "test sign-in failed ({check}: {detail}) with ")?;
                tested(f, trust.as_deref())
            }
            AdminAction::SsoTrustActivated {
                trust,
                entity_id,
                opened,
            } => {
                write!(f, "activated IdP trust {} for {entity_id}", short(trust))?;
                if *opened {
                    f.write_str(", and opened sign-ins")?;
                }
                Ok(())
            }
            AdminAction::OwnerLinkUsed { until } => write!(
                f,
                "opened the admin pages with an owner link, until {}",
                until.format("%Y-%m-%d %H:%M UTC")
            ),
            AdminAction::ScimTokenCreated { token, label } => {
                write!(f, "created SCIM token {token}")?;
                labelled(f, label)
            }
            AdminAction::ScimTokenRevoked { token, label } => {
                write!(f, "revoked SCIM token {token}")?;
                labelled(f, label)
            }
        }
    }
}

/// A SCIM token's label after its id, when it has one.
fn labelled(f: &mut fmt::Formatter<'_>, label: &str) -> fmt::Result {
    if label.is_empty() {
        Ok(())
    } else {
        write!(f, " ({label})")
    }
}

/// The first 12 characters of a trust's fingerprint: enough for people to tell two apart.
fn short(fingerprint: &str) -> String {
    fingerprint.chars().take(12).collect()
}

/// Which trust a test sign-in was made with.
fn tested(f: &mut fmt::Formatter<'_>, trust: Option<&str>) -> fmt::Result {
    match trust {
        Some(trust) => write!(f, "pending IdP trust {}", short(trust)),
        None => f.write_str("the IdP trust in use"),
    }
}

/// Where admin events are kept. Implementations must be safe to share between tasks
/// and app servers, and keep what they record: an audit log that forgets is no log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Keeps `event`.
    async fn record(&self, event: &AdminEvent) -> Result<(), StoreError>;

    /// The org's latest `limit` events, newest first.
    async fn recent(&self, org: &str, limit: usize) -> Result<Vec<AdminEvent>, StoreError>;
}

/// An [`AuditLog`] in memory: for tests and single-process apps. It keeps every event
/// until the process ends, and a restart loses them all.
///
/// ```
/// # pollster::block_on(async {
/// use chrono::{TimeZone, Utc};
/// use jit_provisioning::{AdminAction, AdminEvent, AuditLog, MemoryAuditLog, Role};
///
/// let log = MemoryAuditLog::new();
/// let at = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
/// let removed = AdminAction::MemberRemoved {
///     account: "a1".into(),
///     handle: "sam-lee".into(),
///     role: Role::Member,
/// };
/// log.record(&AdminEvent::new("acme", "jane-doe", at, removed)).await.unwrap();
/// assert_eq!(log.recent("acme", 20).await.unwrap().len(), 1);
/// assert!(log.recent("globex", 20).await.unwrap().is_empty());
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemoryAuditLog {
    events: Mutex<Vec<AdminEvent>>,
}

impl MemoryAuditLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event recorded, oldest first.
    pub fn events(&self) -> Vec<AdminEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl AuditLog for MemoryAuditLog {
    async fn record(&self, event: &AdminEvent) -> Result<(), StoreError> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.clone());
        Ok(())
    }

    async fn recent(&self, org: &str, limit: usize) -> Result<Vec<AdminEvent>, StoreError> {
        Ok(self
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .rev()
            .filter(|event| event.org == org)
            .take(limit)
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 12, minute, 0).unwrap()
    }

    #[test]
    fn recent_is_the_org_s_newest_first_up_to_the_limit() {
        let log = MemoryAuditLog::new();
        for minute in 0..5 {
            let org = if minute == 2 { "globex" } else { "acme" };
            let action = AdminAction::InviteRevoked {
                invite: format!("inv-{minute}"),
                invitee: Invitee::Email("sam@acme.example".into()),
                handle: None,
            };
            pollster::block_on(log.record(&AdminEvent::new(org, "jane", at(minute), action)))
                .unwrap();
        }
        let recent = pollster::block_on(log.recent("acme", 2)).unwrap();
        let times: Vec<_> = recent.iter().map(|event| event.at).collect();
        assert_eq!(times, [at(4), at(3)]);
        assert_eq!(pollster::block_on(log.recent("acme", 20)).unwrap().len(), 4);
        assert_eq!(log.events().len(), 5);
    }

    #[test]
    fn events_serialize_with_the_action_named() {
        let event = AdminEvent::new(
            "acme",
            "jane",
            at(0),
            AdminAction::RoleChanged {
                account: "a1".into(),
                handle: "sam-lee".into(),
                from: Role::Member,
                to: Role::Admin,
            },
        );
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["action"]["action"], "role_changed");
        assert_eq!(json["action"]["to"], "admin");
        assert_eq!(
            event.action.to_string(),
            "changed the role of sam-lee from member to admin"
        );
        let back: AdminEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn sso_actions_serialize_flat_with_their_names() {
        let actions = [
            AdminAction::SsoSettingsChanged {
                version: 4,
                fields: vec!["jit".into(), "verified_domains".into()],
            },
            AdminAction::SsoTrustStaged {
                trust: "0123456789abcdef".into(),
                entity_id: "https://idp.acme.example".into(),
                source: "pasted".into(),
            },
            AdminAction::SsoTestPassed {
                trust: Some("0123456789abcdef".into()),
                entity_id: "https://idp.acme.example".into(),
                subject: "00u1".into(),
            },
            AdminAction::SsoTestFailed {
                trust: None,
                check: "bad_signature".into(),
                detail: "signed by an unknown key".into(),
            },
            AdminAction::SsoTrustActivated {
                trust: "0123456789abcdef".into(),
                entity_id: "https://idp.acme.example".into(),
                opened: true,
            },
        ];
        for action in actions {
            let json = serde_json::to_value(&action).unwrap();
            assert_eq!(json["action"], action.name());
            let back: AdminAction = serde_json::from_value(json).unwrap();
            assert_eq!(back, action);
        }
        let failed = AdminAction::SsoTestFailed {
            trust: None,
            check: "bad_signature".into(),
            detail: "signed by an unknown key".into(),
        };
        assert!(serde_json::to_value(&failed)
            .unwrap()
            .get("trust")
            .is_none());
        assert_eq!(
            failed.to_string(),
            "test sign-in failed (bad_signature: signed by an unknown key) with the IdP trust in use"
        );
        let activated = AdminAction::SsoTrustActivated {
            trust: "0123456789abcdef".into(),
            entity_id: "https://idp.acme.example".into(),
            opened: true,
        };
        assert_eq!(
            activated.to_string(),
            "activated IdP trust 0123456789ab for https://idp.acme.example, and opened sign-ins"
        );
    }

    #[test]
    fn scim_token_actions_name_the_token_and_its_label() {
        let created = AdminAction::ScimTokenCreated {
            token: "3".into(),
            label: "okta".into(),
        };
        let revoked = AdminAction::ScimTokenRevoked {
            token: "3".into(),
            label: String::new(),
        };
        for action in [&created, &revoked] {
            let json = serde_json::to_value(action).unwrap();
            assert_eq!(json["action"], action.name());
            let back: AdminAction = serde_json::from_value(json).unwrap();
            assert_eq!(&back, action);
        }
        assert_eq!(created.name(), "scim_token_created");
        assert_eq!(created.to_string(), "created SCIM token 3 (okta)");
        assert_eq!(revoked.name(), "scim_token_revoked");
        assert_eq!(revoked.to_string(), "revoked SCIM token 3");
    }
}
