//! The filters IdPs actually send, recognised so that a store can answer them with one
//! indexed lookup.

use super::{AttrPath, CompValue, CompareOp, Filter};

/// A filter of one of the forms IdPs send to find a resource before they create or change
/// it, which a store can answer with an indexed lookup.
///
/// - Okta: `userName eq "…"` (and `externalId`, `emails.value` when so configured);
/// - Entra ID: `userName eq "…"`, `externalId eq "…"`, `emails[type eq "work"].value eq "…"`
///   for users, `displayName eq "…"` for groups, and `id eq "…" and members eq "…"` to
///   ask whether a group has a member.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimpleFilter {
    /// `id eq "…"`.
    Id(String),
    /// `userName eq "…"` (compared without case: `userName` is not case-exact).
    UserName(String),
    /// `externalId eq "…"` (case-exact).
    ExternalId(String),
    /// `displayName eq "…"`.
    DisplayName(String),
    /// `emails.value eq "…"`, `emails eq "…"`, `emails[value eq "…"]`, or with a type,
    /// `emails[type eq "work" and value eq "…"]` and its Entra ID spelling
    /// `emails[type eq "work"].value eq "…"`.
    Email {
        /// The address.
        value: String,
        /// The `type` the address must have, when the filter says.
        email_type: Option<String>,
    },
    /// `id eq "…" and members eq "…"` (or `members.value eq`, `members[value eq …]`), in
    /// either order: whether a group has a member.
    IdWithMember {
        /// The group's id.
        id: String,
        /// The member's id.
        member: String,
    },
}

impl Filter {
    /// The filter as one of the [`SimpleFilter`] forms, if it is one.
    ///
    /// ```
    /// use jit_provisioning_scim::{Filter, SimpleFilter};
    ///
    /// let entra = Filter::parse(r#"emails[type eq "work"].value eq "b@example.com""#)?;
    /// assert_eq!(
    ///     entra.simple(),
    ///     Some(SimpleFilter::Email { value: "b@example.com".into(), email_type: Some("work".into()) })
    /// );
    /// assert_eq!(Filter::parse(r#"userName sw "b""#)?.simple(), None);
    /// # Ok::<(), jit_provisioning_scim::ScimError>(())
    /// ```
    pub fn simple(&self) -> Option<SimpleFilter> {
        if let Some((path, value)) = equality(self) {
            if path.is("id") {
                return Some(SimpleFilter::Id(value.to_owned()));
            }
            if path.is("userName") {
                return Some(SimpleFilter::UserName(value.to_owned()));
            }
            if path.is("externalId") {
                return Some(SimpleFilter::ExternalId(value.to_owned()));
            }
            if path.is("displayName") {
                return Some(SimpleFilter::DisplayName(value.to_owned()));
            }
            if path.is("emails") || path.is_sub("emails", "value") {
                return Some(SimpleFilter::Email {
                    value: value.to_owned(),
                    email_type: None,
                });
            }
            return None;
        }
        match self {
            Filter::ValuePath { path, filter } if path.is("emails") => email_value_filter(filter),
            Filter::And(items) => match items.as_slice() {
                [a, b] => id_with_member(a, b).or_else(|| id_with_member(b, a)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// `path eq "string"`.
fn equality(filter: &Filter) -> Option<(&AttrPath, &str)> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(value),
        } => Some((path, value)),
        _ => None,
    }
}

/// Inside `emails[…]`: `value eq "…"`, alone or with `type eq "…"`.
fn email_value_filter(inner: &Filter) -> Option<SimpleFilter> {
    if let Some((path, value)) = equality(inner) {
        return path.is("value").then(|| SimpleFilter::Email {
            value: value.to_owned(),
            email_type: None,
        });
    }
    let Filter::And(items) = inner else {
        return None;
    };
    let [a, b] = items.as_slice() else {
        return None;
    };
    let (a, b) = (equality(a)?, equality(b)?);
    let (value, email_type) = match (
        a.0.is("value"),
        a.0.is("type"),
        b.0.is("value"),
        b.0.is("type"),
    ) {
        (true, _, _, true) => (a.1, b.1),
        (_, true, true, _) => (b.1, a.1),
        _ => return None,
    };
    Some(SimpleFilter::Email {
        value: value.to_owned(),
        email_type: Some(email_type.to_owned()),
    })
}

fn id_with_member(id: &Filter, member: &Filter) -> Option<SimpleFilter> {
    let (path, id) = equality(id)?;
    if !path.is("id") {
        return None;
    }
    let member = match member {
        Filter::ValuePath { path, filter } if path.is("members") => {
            let (sub, value) = equality(filter)?;
            sub.is("value").then_some(value)?
        }
        other => {
            let (path, value) = equality(other)?;
            (path.is("members") || path.is_sub("members", "value")).then_some(value)?
        }
    };
    Some(SimpleFilter::IdWithMember {
        id: id.to_owned(),
        member: member.to_owned(),
    })
}
