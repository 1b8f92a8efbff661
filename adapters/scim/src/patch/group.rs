//! A group PATCH as a change a store applies without reading the whole group.

use std::collections::{BTreeMap, BTreeSet};

use super::{PatchKind, PatchOp, PatchOperation};
use crate::error::{ScimError, ScimType};
use crate::filter::{CompValue, CompareOp, Filter};
use crate::group::{Member, ScimGroup};
use crate::json::{self, items};

/// What happens to a group's members.
///
/// Deliberately exhaustive: a store must handle each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembersChange {
    /// Add and remove members; the two lists never share an id, and both may be empty.
    Delta {
        /// Members to add (adding a member already there changes nothing), by id.
        added: Vec<Member>,
        /// Ids of members to remove (removing one not there changes nothing).
        removed: Vec<String>,
    },
    /// The members become exactly these (Okta's full push, `replace` `members`, or
    /// `remove` `members` with no filter, which empties the group).
    Replace(Vec<Member>),
}

/// A group PATCH as a change: at most [`crate::Limits::max_members_per_request`] members,
/// so that a store applies it in work bounded by the request, not by the group's size.
///
/// ```
/// use jit_provisioning_scim::{MembersChange, PatchOp, ResourceKind};
///
/// // Okta's group push: one member out, one in.
/// let body = br#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
///     {"op": "remove", "path": "members[value eq \"89bb1940\"]"},
///     {"op": "add", "path": "members", "value": [{"value": "23a35c27", "display": "test.user@okta.local"}]}]}"#;
/// let change = PatchOp::parse(body, ResourceKind::Group, "abf4dd94")?.group_change()?;
/// let MembersChange::Delta { added, removed } = &change.members else { unreachable!() };
/// assert_eq!(added[0].value, "23a35c27");
/// assert_eq!(removed, &["89bb1940"]);
/// # Ok::<(), jit_provisioning_scim::ScimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupChange {
    /// The new name, if it changes.
    pub display_name: Option<String>,
    /// The new `externalId` (`Some(None)` removes it), if it changes.
    pub external_id: Option<Option<String>>,
    /// What happens to the members.
    pub members: MembersChange,
}

impl Default for GroupChange {
    /// No change.
    fn default() -> Self {
        GroupChange {
            display_name: None,
            external_id: None,
            members: MembersChange::Delta {
                added: Vec::new(),
                removed: Vec::new(),
            },
        }
    }
}

impl GroupChange {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.display_name.is_none()
            && self.external_id.is_none()
            && self.members
                == MembersChange::Delta {
                    added: Vec::new(),
                    removed: Vec::new(),
                }
    }

    /// Applies the change to a group held in memory (an in-memory store's way, and the
    /// tests').
    pub fn apply_to(&self, group: &mut ScimGroup) {
        if let Some(name) = &self.display_name {
            group.display_name.clone_from(name);
        }
        if let Some(external_id) = &self.external_id {
            group.external_id.clone_from(external_id);
        }
        match &self.members {
            MembersChange::Replace(members) => group.members.clone_from(members),
            MembersChange::Delta { added, removed } => {
                let removed: BTreeSet<&str> = removed.iter().map(String::as_str).collect();
                group
                    .members
                    .retain(|m| !removed.contains(m.value.as_str()));
                let present: BTreeSet<String> =
                    group.members.iter().map(|m| m.value.clone()).collect();
                group.members.extend(
                    added
                        .iter()
                        .filter(|m| !present.contains(&m.value))
                        .cloned(),
                );
            }
        }
    }
}

/// Members as the operations leave them, folded in order.
#[derive(Default)]
struct Fold {
    replace: Option<BTreeMap<String, Member>>,
    added: BTreeMap<String, Member>,
    removed: BTreeSet<String>,
}

impl Fold {
    fn add(&mut self, member: Member) {
        match &mut self.replace {
            Some(all) => {
                all.entry(member.value.clone()).or_insert(member);
            }
            None => {
                self.removed.remove(&member.value);
                self.added.entry(member.value.clone()).or_insert(member);
            }
        }
    }

    fn remove(&mut self, id: &str) {
        match &mut self.replace {
            Some(all) => {
                all.remove(id);
            }
            None => {
                self.added.remove(id);
                self.removed.insert(id.to_owned());
            }
        }
    }

    fn replace(&mut self, members: Vec<Member>) {
        self.added.clear();
        self.removed.clear();
        let mut all = BTreeMap::new();
        for member in members {
            all.entry(member.value.clone()).or_insert(member);
        }
        self.replace = Some(all);
    }

    fn finish(self) -> MembersChange {
        match self.replace {
            Some(all) => MembersChange::Replace(all.into_values().collect()),
            None => MembersChange::Delta {
                added: self.added.into_values().collect(),
                removed: self.removed.into_iter().collect(),
            },
        }
    }
}

impl PatchOp {
    /// The change a group PATCH makes. Member filters must select by id
    /// (`members[value eq "…"]`, or several joined by `or`), since the group is not at
    /// hand: other filters are `invalidFilter`.
    pub fn group_change(&self) -> Result<GroupChange, ScimError> {
        let mut change = GroupChange::default();
        let mut fold = Fold::default();
        for operation in &self.operations {
            let path = &operation.path;
            if path.is("displayName") && path.value_filter.is_none() && path.sub_attribute.is_none()
            {
                change.display_name = Some(display_name(operation)?);
            } else if path.is("externalId")
                && path.value_filter.is_none()
                && path.sub_attribute.is_none()
            {
                change.external_id = Some(match operation.op {
                    PatchKind::Remove => None,
                    _ => string_value(operation, "externalId")?,
                });
            } else if path.is("members") && path.sub_attribute.is_none() {
                members(operation, &mut fold)?;
            } else {
                return Err(ScimError::new(
                    ScimType::InvalidPath,
                    format!("`{path}`: a Group PATCH changes displayName, externalId or members"),
                ));
            }
        }
        change.members = fold.finish();
        Ok(change)
    }
}

fn string_value(operation: &PatchOperation, name: &str) -> Result<Option<String>, ScimError> {
    match &operation.value {
        Some(value) => json::string(value, name),
        None => Ok(None),
    }
}

fn display_name(operation: &PatchOperation) -> Result<String, ScimError> {
    if operation.op == PatchKind::Remove {
        return Err(ScimError::new(
            ScimType::InvalidValue,
            "`displayName` is required and cannot be removed",
        ));
    }
    string_value(operation, "displayName")?
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| {
            ScimError::new(
                ScimType::InvalidValue,
                "`displayName` must be a non-empty string",
            )
        })
}

fn members(operation: &PatchOperation, fold: &mut Fold) -> Result<(), ScimError> {
    let list = || -> Result<Vec<Member>, ScimError> {
        operation.value.as_ref().map_or(Ok(Vec::new()), |v| {
            items(v).into_iter().map(Member::from_json).collect()
        })
    };
    match (&operation.path.value_filter, operation.op) {
        (None, PatchKind::Add) => {
            for member in list()? {
                fold.add(member);
            }
        }
        (None, PatchKind::Replace) => fold.replace(list()?),
        (None, PatchKind::Remove) => fold.replace(Vec::new()),
        (Some(filter), PatchKind::Remove) => {
            for id in member_ids(filter)? {
                fold.remove(&id);
            }
        }
        (Some(filter), _) => {
            return Err(ScimError::new(
                ScimType::InvalidFilter,
                format!("`members[{filter}]`: only `remove` takes a member filter; add members with `add` `members`"),
            ))
        }
    }
    Ok(())
}

/// The ids a member filter selects: `value eq "…"`, joined by `or`.
fn member_ids(filter: &Filter) -> Result<Vec<String>, ScimError> {
    let parts: Vec<&Filter> = match filter {
        Filter::Or(items) => items.iter().collect(),
        other => vec![other],
    };
    parts
        .into_iter()
        .map(|part| match part {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: CompValue::String(id),
            } if path.is("value") => Ok(id.clone()),
            other => Err(ScimError::new(
                ScimType::InvalidFilter,
                format!(
                    "`members[{other}]`: select members by id, as in `members[value eq \"…\"]`"
                ),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::limits::Limits;
    use crate::meta::ResourceKind;
    use crate::schema::PATCH_OP_SCHEMA;

    fn change(operations: Value) -> Result<GroupChange, ScimError> {
        let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations});
        PatchOp::parse(body.to_string().as_bytes(), ResourceKind::Group, "g1")?.group_change()
    }

    fn delta(added: &[&str], removed: &[&str]) -> MembersChange {
        MembersChange::Delta {
            added: added.iter().map(|a| Member::new(a)).collect(),
            removed: removed.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    #[test]
    fn operations_fold_in_order() {
        let got = change(json!([
            {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
            {"op": "remove", "path": "members[value eq \"a\" or value eq \"c\"]"},
            {"op": "Remove", "path": "members", "value": [{"value": "d"}]},
            {"op": "add", "path": "members", "value": [{"value": "d"}]},
        ]));
        assert_eq!(
            got.map(|c| c.members).ok(),
            Some(delta(&["b", "d"], &["a", "c"]))
        );

        let replaced = change(json!([
            {"op": "replace", "path": "members", "value": [{"value": "x"}, {"value": "y"}]},
            {"op": "remove", "path": "members[value eq \"y\"]"},
            {"op": "add", "path": "members", "value": [{"value": "z"}]},
        ]));
        assert_eq!(
            replaced.map(|c| c.members).ok(),
            Some(MembersChange::Replace(vec![
                Member::new("x"),
                Member::new("z")
            ]))
        );
        let emptied = change(json!([{"op": "remove", "path": "members"}]));
        assert_eq!(
            emptied.map(|c| c.members).ok(),
            Some(MembersChange::Replace(Vec::new()))
        );
    }

    #[test]
    fn names_and_refusals() {
        let renamed =
            change(json!([{"op": "replace", "value": {"id": "g1", "displayName": "Test SCIMv2"}}]));
        assert_eq!(
            renamed.ok().and_then(|c| c.display_name).as_deref(),
            Some("Test SCIMv2")
        );
        let kind = |ops: Value| change(ops).err().and_then(|e| e.scim_type());
        assert_eq!(
            kind(json!([{"op": "remove", "path": "members[display eq \"x\"]"}])),
            Some(ScimType::InvalidFilter)
        );
        assert_eq!(
            kind(json!([{"op": "remove", "path": "displayName"}])),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            kind(json!([{"op": "replace", "path": "owner", "value": "x"}])),
            Some(ScimType::InvalidPath)
        );
        assert_eq!(
            kind(json!([{"op": "replace", "value": {"id": "g2"}}])),
            Some(ScimType::Mutability)
        );
    }

    #[test]
    fn ten_thousand_members_and_no_more() {
        let members: Vec<Value> = (0..10_000)
            .map(|i| json!({"value": format!("u{i}")}))
            .collect();
        let ok = change(json!([{"op": "add", "path": "members", "value": members}]));
        assert!(
            matches!(ok.map(|c| c.members), Ok(MembersChange::Delta { added, .. }) if added.len() == 10_000)
        );
        let too_many = change(json!([
            {"op": "add", "path": "members", "value": members},
            {"op": "remove", "path": "members[value eq \"x\"]"},
        ]));
        assert_eq!(
            too_many.err().and_then(|e| e.scim_type()),
            Some(ScimType::TooMany)
        );
        assert_eq!(Limits::default().max_members_per_request, 10_000);
    }
}
