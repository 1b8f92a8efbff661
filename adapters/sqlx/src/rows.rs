//! Rows → [`AccountRecord`], and the conversions between the store's integer ids and
//! [`AccountId`].

use sqlx::{ColumnIndex, Decode, Row, Type};

use std::collections::HashMap;

use jit_provisioning::{
    AccountId, AccountLookup, AccountRecord, Identity, Joined, Member, NewAccount, Role, StoreError,
};

/// One row of the record queries in [`crate::queries`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    account: i64,
    kind: PartKind,
    a: String,
    b: Option<String>,
    disabled: Option<bool>,
    has_password: Option<bool>,
    /// The given name on an account row; how the membership came to be on a membership
    /// row of [`MEMBERS`](crate::queries::MEMBERS).
    given_name: Option<String>,
    family_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartKind {
    /// `a` is the handle, `b` the email.
    Account,
    /// `a` is the issuer, `b` the subject.
    Identity,
    /// `a` is the org, `b` the role.
    Membership,
    /// `a` is a taken handle key (of no account in particular).
    TakenHandle,
}

/// Reads one row of a record query; the same code for either backend's rows.
pub(crate) fn part<R>(row: &R) -> Result<Part, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i32: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
{
    let kind = match row
        .try_get::<i32, _>(1)
        .map_err(crate::error::store_error)?
    {
        0 => PartKind::Account,
        1 => PartKind::Identity,
        2 => PartKind::Membership,
        3 => PartKind::TakenHandle,
        other => return Err(StoreError::InvalidData(format!("unknown row part {other}"))),
    };
    let decoded = (|| {
        Ok::<_, sqlx::Error>(Part {
            account: row.try_get(0)?,
            kind,
            a: row.try_get(3)?,
            b: row.try_get(4)?,
            disabled: row.try_get(5)?,
            has_password: row.try_get(6)?,
            given_name: row.try_get(7)?,
            family_name: row.try_get(8)?,
        })
    })();
    decoded.map_err(crate::error::store_error)
}

/// What a one-statement assertion look-up found: the rows of the
/// [`look_up_assertion`](crate::queries::look_up_assertion) query, for `identity`.
pub(crate) fn lookup(
    parts: Vec<Part>,
    identity: &Identity,
    stems: &[String],
) -> Result<AccountLookup, StoreError> {
    let (handles, accounts): (Vec<Part>, Vec<Part>) = parts
        .into_iter()
        .partition(|part| part.kind == PartKind::TakenHandle);
    let found = records(accounts)?;
    let mut known = AccountLookup::default();
    if let Some(linked) = found
        .iter()
        .position(|record| record.identities.contains(identity))
    {
        known.by_identity = found.into_iter().nth(linked);
    } else {
        known.by_email = found;
    }
    known.taken_handles =
        crate::queries::stem_shaped(handles.into_iter().map(|part| part.a).collect(), stems);
    Ok(known)
}

/// Assembles records from rows ordered by account, part and link order.
pub(crate) fn records(parts: Vec<Part>) -> Result<Vec<AccountRecord>, StoreError> {
    let mut records: Vec<AccountRecord> = Vec::new();
    for part in parts {
        let id = account_id(part.account);
        if part.kind == PartKind::Account {
            let mut record = AccountRecord::new(id, part.a);
            record.email = part.b;
            record.disabled = part.disabled.unwrap_or_default();
            record.has_password = part.has_password.unwrap_or_default();
            record.given_name = part.given_name;
            record.family_name = part.family_name;
            records.push(record);
            continue;
        }
        let Some(record) = records.last_mut().filter(|record| record.id == id) else {
            return Err(StoreError::InvalidData(format!(
                "a row of account `{id}` came without the account"
            )));
        };
        let second = part.b.ok_or_else(|| {
            StoreError::InvalidData(format!("account `{id}` has a row with a missing value"))
        })?;
        match part.kind {
            PartKind::Identity => record.identities.push(jit_provisioning::Identity {
                issuer: part.a,
                subject: second,
            }),
            PartKind::Membership => {
                let role: Role = second.parse().map_err(|error| {
                    StoreError::InvalidData(format!("account `{id}` in org `{}`: {error}", part.a))
                })?;
                record.memberships.insert(part.a, role);
            }
            PartKind::Account | PartKind::TakenHandle => {}
        }
    }
    Ok(records)
}

/// The members of `org` from the rows of [`MEMBERS`](crate::queries::MEMBERS), in order of
/// handle key (byte order of the lower-cased handle, as `handle_key` is compared).
pub(crate) fn members(parts: Vec<Part>, org: &str) -> Result<Vec<Member>, StoreError> {
    let mut joined: HashMap<i64, Option<String>> = HashMap::new();
    for part in &parts {
        if part.kind == PartKind::Membership && part.a == org {
            joined.insert(part.account, part.given_name.clone());
        }
    }
    let mut members = Vec::with_capacity(joined.len());
    for record in records(parts)? {
        let Some(&role) = record.memberships.get(org) else {
            continue;
        };
        let how = row_id(&record.id)
            .and_then(|id| joined.get(&id))
            .and_then(|how| how.as_deref());
        let how = how.and_then(joined_from).ok_or_else(|| {
            StoreError::InvalidData(format!(
                "account `{}` in org `{org}` joined by {how:?}",
                record.id
            ))
        })?;
        members.push(Member::new(record, role, how));
    }
    members.sort_by_cached_key(|member| key(&member.account.handle));
    Ok(members)
}

/// How a membership came to be, as `jit_memberships.joined` stores it.
pub(crate) fn joined_name(joined: Joined) -> &'static str {
    match joined {
        Joined::Jit => "jit",
        Joined::Invite => "invite",
        Joined::Scim => "scim",
        // `ByHand`, and any way the core adds later until this adapter stores it.
        _ => "hand",
    }
}

/// What [`joined_name`] stored; `None` for anything else.
pub(crate) fn joined_from(stored: &str) -> Option<Joined> {
    match stored {
        "jit" => Some(Joined::Jit),
        "invite" => Some(Joined::Invite),
        "hand" => Some(Joined::ByHand),
        "scim" => Some(Joined::Scim),
        _ => None,
    }
}

/// How each membership of an account that `account` creates came to be: by JIT, but the
/// org of the invite it accepts (if any) by invite, as the core's `MemoryStore` records it.
pub(crate) fn joined_by_creation(account: &NewAccount, org: &str) -> &'static str {
    let invited = account
        .invite
        .as_ref()
        .is_some_and(|invite| invite.org == org);
    joined_name(if invited { Joined::Invite } else { Joined::Jit })
}

/// The record of an account just created from `account`: what the database now holds.
pub(crate) fn created(id: i64, account: &NewAccount) -> AccountRecord {
    account.record(account_id(id))
}

/// The [`AccountId`] of a row id: its decimal form.
pub(crate) fn account_id(id: i64) -> AccountId {
    AccountId(id.to_string())
}

/// The row id an [`AccountId`] names, if it names one. Only the exact decimal form
/// counts, so `07` or `+7` is no other spelling of account `7`.
pub(crate) fn row_id(id: &AccountId) -> Option<i64> {
    decimal(id.as_str())
}

/// The row id `text` names in the exact decimal form, if any (account and invite ids).
pub(crate) fn decimal(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().filter(|n| n.to_string() == text)
}

/// The key a handle is compared by (emails use [`jit_provisioning::email_key`]).
pub(crate) fn key(text: &str) -> String {
    text.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(account: i64, kind: PartKind, a: &str, b: Option<&str>) -> Part {
        Part {
            account,
            kind,
            a: a.into(),
            b: b.map(Into::into),
            disabled: (kind == PartKind::Account).then_some(false),
            has_password: (kind == PartKind::Account).then_some(true),
            given_name: (kind == PartKind::Account).then(|| "Jane".into()),
            family_name: None,
        }
    }

    #[test]
    fn rows_become_records() {
        let records = records(vec![
            part(1, PartKind::Account, "jane-doe", Some("jane@acme.example")),
            part(1, PartKind::Identity, "https://idp", Some("s1")),
            part(1, PartKind::Identity, "https://idp", Some("s2")),
            part(1, PartKind::Membership, "acme", Some("admin")),
            part(2, PartKind::Account, "sam-lee", None),
        ])
        .unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].id, AccountId::from("1"));
        assert_eq!(records[0].identities.len(), 2);
        assert_eq!(records[0].identities[1].subject, "s2");
        assert_eq!(records[0].memberships.get("acme"), Some(&Role::Admin));
        assert!(records[0].has_password);
        assert_eq!(records[0].given_name.as_deref(), Some("Jane"));
        assert_eq!(records[0].family_name, None);
        assert_eq!(records[1].email, None);
        assert!(records[1].identities.is_empty());
    }

    #[test]
    fn an_unknown_role_is_invalid_data() {
        let error = records(vec![
            part(1, PartKind::Account, "jane-doe", None),
            part(1, PartKind::Membership, "acme", Some("owner")),
        ])
        .unwrap_err();
        assert!(
            matches!(&error, StoreError::InvalidData(m) if m.contains("`owner`")),
            "{error:?}"
        );
    }

    #[test]
    fn an_orphan_row_is_invalid_data() {
        let error = records(vec![part(3, PartKind::Identity, "https://idp", Some("s"))]);
        assert!(matches!(error, Err(StoreError::InvalidData(_))));
    }

    #[test]
    fn membership_rows_say_how_each_member_joined_in_handle_order() {
        let joined = |account: i64, org: &str, role: &str, how: Option<&str>| Part {
            given_name: how.map(Into::into),
            ..part(account, PartKind::Membership, org, Some(role))
        };
        let members = members(
            vec![
                part(1, PartKind::Account, "zoe", None),
                joined(1, "acme", "admin", Some("jit")),
                joined(1, "labs", "member", Some("invite")),
                part(2, PartKind::Account, "Adam", None),
                joined(2, "acme", "member", Some("hand")),
                part(3, PartKind::Account, "mia", None),
                joined(3, "acme", "contributor", Some("invite")),
            ],
            "acme",
        )
        .unwrap();
        let listed: Vec<_> = members
            .iter()
            .map(|m| (m.account.handle.as_str(), m.role, m.joined))
            .collect();
        assert_eq!(
            listed,
            [
                ("Adam", Role::Member, Joined::ByHand),
                ("mia", Role::Contributor, Joined::Invite),
                ("zoe", Role::Admin, Joined::Jit),
            ]
        );
        assert_eq!(members[2].account.memberships.len(), 2);
        for how in [Joined::Jit, Joined::Invite, Joined::ByHand, Joined::Scim] {
            assert_eq!(joined_from(joined_name(how)), Some(how));
        }
        let unknown = super::members(
            vec![
                part(1, PartKind::Account, "zoe", None),
                joined(1, "acme", "admin", Some("by_hand")),
            ],
            "acme",
        );
        assert!(matches!(unknown, Err(StoreError::InvalidData(m)) if m.contains("by_hand")));
    }

    #[test]
    fn only_the_decimal_form_names_a_row() {
        assert_eq!(row_id(&"7".into()), Some(7));
        assert_eq!(row_id(&account_id(42)), Some(42));
        for other in ["07", "+7", " 7", "7 ", "", "acct-7", "99999999999999999999"] {
            assert_eq!(row_id(&other.into()), None, "{other:?}");
        }
    }
}
