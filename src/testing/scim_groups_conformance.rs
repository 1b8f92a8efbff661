//! The SCIM groups' contract (see [`ScimGroups`]) as runnable checks, for every store that
//! keeps SCIM groups beside its SCIM users.

use std::future::Future;

use chrono::TimeDelta;
use futures_util::future::join_all;

use super::conformance::{ensure, Checked, ConformanceError, CONCURRENCY};
use super::scim_users_conformance::{account_of, create, identity, new_user, noon};
use crate::config::{GroupRole, ScimRoleSync};
use crate::group_sync::GroupRoleSync;
use crate::role::{Grant, Role};
use crate::scim_groups::{
    GroupFilter, NewProvisionedGroup, ProvisionedGroup, ProvisionedGroupChange, ScimGroupError,
    ScimGroups,
};
use crate::scim_users::{ProvisionedUser, ScimUsers};
use crate::store::AccountStore;

/// Runs the SCIM groups' contract: `fresh` makes an empty store, which keeps accounts,
/// SCIM users and memberships too; each check gets its own. Returns every violation found.
///
/// ```
/// # pollster::block_on(async {
/// use jit_provisioning::{testing, MemoryStore};
///
/// testing::scim_groups_conformance(|| async { MemoryStore::new() }).await.unwrap();
/// # });
/// ```
pub async fn scim_groups_conformance<S, F, Fut>(fresh: F) -> Result<(), ConformanceError>
where
    S: ScimGroups + ScimUsers + AccountStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    run_checks!(
        fresh;
        a_group_keeps_its_members,
        names_and_external_ids_are_unique,
        members_who_are_not_users_are_left_out,
        groups_of_orgs_are_apart,
        changes_add_remove_and_replace,
        lists_filter_and_page_by_id,
        concurrent_changes_lose_no_member,
        joining_a_group_raises_a_role_and_leaving_lowers_none,
        following_lowers_but_keeps_the_last_admin,
        renaming_a_group_changes_what_it_maps_to,
        a_deleted_user_leaves_its_groups,
        groups_of_an_identity,
        unknown_groups_are_not_found,
    )
}

/// `n` users of `org`, each `uN@acme.example`.
async fn users<S: ScimUsers>(
    store: &S,
    org: &str,
    n: usize,
) -> Result<Vec<ProvisionedUser>, String> {
    let mut made = Vec::with_capacity(n);
    for i in 0..n {
        let user = new_user(
            &format!("u{i}@acme.example"),
            "User",
            &format!("N{i}"),
            &[org],
        );
        made.push(create(store, org, user).await?);
    }
    Ok(made)
}

/// `N` users of `org`, as an array to take apart.
async fn people<const N: usize, S: ScimUsers>(
    store: &S,
    org: &str,
) -> Result<[ProvisionedUser; N], String> {
    users(store, org, N)
        .await?
        .try_into()
        .map_err(|made: Vec<ProvisionedUser>| format!("made {} users, not {N}", made.len()))
}

fn ids<'a>(users: impl IntoIterator<Item = &'a ProvisionedUser>) -> Vec<String> {
    let mut ids: Vec<String> = users.into_iter().map(|user| user.id.clone()).collect();
    ids.sort();
    ids
}

async fn make<S: ScimGroups>(
    store: &S,
    org: &str,
    group: NewProvisionedGroup,
    roles: &GroupRoleSync,
) -> Result<ProvisionedGroup, String> {
    let name = group.display_name.clone();
    store
        .create_group(org, group, roles, noon()?)
        .await
        .map_err(|e| format!("creating group `{name}` failed: {e}"))
}

async fn change<S: ScimGroups>(
    store: &S,
    group: &ProvisionedGroup,
    change: ProvisionedGroupChange,
    roles: &GroupRoleSync,
) -> Result<ProvisionedGroup, String> {
    store
        .change_group(
            &group.org,
            &group.id,
            change,
            roles,
            noon()? + TimeDelta::minutes(1),
        )
        .await
        .map_err(|e| format!("changing group `{}` failed: {e}", group.display_name))
}

async fn members_of<S: ScimGroups>(
    store: &S,
    group: &ProvisionedGroup,
) -> Result<Vec<String>, String> {
    store
        .group_members(&group.org, &group.id)
        .await
        .map_err(|e| format!("reading the members failed: {e}"))
}

async fn role_of<S: AccountStore>(
    store: &S,
    user: &ProvisionedUser,
    org: &str,
) -> Result<Option<Role>, String> {
    Ok(account_of(store, user).await?.memberships.get(org).copied())
}

/// acme's `admins` (or whatever group is named) maps to admin of acme.
fn admins_rule(group: &str, mode: ScimRoleSync) -> GroupRoleSync {
    GroupRoleSync::new(
        vec![GroupRole {
            group: group.to_owned(),
            grant: Grant {
                org: "acme".to_owned(),
                role: Role::Admin,
            },
        }],
        vec![Grant {
            org: "acme".to_owned(),
            role: Role::Member,
        }],
        mode,
    )
}

async fn a_group_keeps_its_members<S: ScimGroups + ScimUsers>(store: &S) -> Checked {
    let [ann, bo, cy] = people::<3, _>(store, "acme").await?;
    let mut new = NewProvisionedGroup::new("Engineering").with_members(ids([&ann, &bo]));
    new.external_id = Some("grp-1".to_owned());
    let group = make(store, "acme", new, &GroupRoleSync::none()).await?;
    ensure(
        group.org == "acme"
            && group.display_name == "Engineering"
            && group.external_id.as_deref() == Some("grp-1")
            && group.version == 1
            && group.created_at == noon()?
            && !group.id.is_empty(),
        || format!("a new group reads {group:?}"),
    )?;
    let read = store
        .group("acme", &group.id)
        .await
        .map_err(|e| format!("reading the group failed: {e}"))?;
    ensure(read.as_ref() == Some(&group), || {
        format!("the group reads back as {read:?}, not {group:?}")
    })?;
    let members = members_of(store, &group).await?;
    ensure(members == ids([&ann, &bo]), || {
        format!(
            "the group's members read {members:?}, not {:?}",
            ids([&ann, &bo])
        )
    })?;
    for (user, expected) in [(&ann, true), (&cy, false)] {
        let found = store
            .has_member("acme", &group.id, &user.id)
            .await
            .map_err(|e| format!("asking for a member failed: {e}"))?;
        ensure(found == expected, || {
            format!(
                "has_member of `{}` answered {found}, not {expected}",
                user.user_name
            )
        })?;
    }
    Ok(())
}

async fn names_and_external_ids_are_unique<S: ScimGroups>(store: &S) -> Checked {
    let none = GroupRoleSync::none();
    let mut first = NewProvisionedGroup::new("Engineering");
    first.external_id = Some("grp-1".to_owned());
    make(store, "acme", first, &none).await?;
    let now = noon()?;
    let same_name = store
        .create_group("acme", NewProvisionedGroup::new("engineering"), &none, now)
        .await;
    ensure(
        matches!(same_name, Err(ScimGroupError::Conflict(_))),
        || {
            format!(
                "a displayName differing only in case was answered {same_name:?}, not a conflict"
            )
        },
    )?;
    let mut same_external = NewProvisionedGroup::new("Sales");
    same_external.external_id = Some("grp-1".to_owned());
    let made = store.create_group("acme", same_external, &none, now).await;
    ensure(matches!(made, Err(ScimGroupError::Conflict(_))), || {
        format!("a taken externalId was answered {made:?}, not a conflict")
    })?;
    let sales = make(store, "acme", NewProvisionedGroup::new("Sales"), &none).await?;
    let rename = ProvisionedGroupChange {
        display_name: Some("ENGINEERING".to_owned()),
        ..ProvisionedGroupChange::default()
    };
    let renamed = store
        .change_group("acme", &sales.id, rename, &none, now)
        .await;
    ensure(matches!(renamed, Err(ScimGroupError::Conflict(_))), || {
        format!("renaming onto a taken displayName was answered {renamed:?}, not a conflict")
    })?;
    // Another org may use the same names.
    make(
        store,
        "globex",
        NewProvisionedGroup::new("Engineering"),
        &none,
    )
    .await
    .map(|_| ())
}

async fn members_who_are_not_users_are_left_out<S: ScimGroups + ScimUsers>(store: &S) -> Checked {
    let none = GroupRoleSync::none();
    let [ann, bo, cy] = people::<3, _>(store, "acme").await?;
    store
        .delete_user("acme", &cy.id, noon()?)
        .await
        .map_err(|e| format!("deleting a user failed: {e}"))?;
    let mut with_strangers = ids([&ann, &bo]);
    with_strangers.extend(["no-such-user".to_owned(), cy.id.clone()]);
    let group = make(
        store,
        "acme",
        NewProvisionedGroup::new("Engineering").with_members(with_strangers),
        &none,
    )
    .await?;
    let members = members_of(store, &group).await?;
    ensure(members == ids([&ann, &bo]), || {
        format!("a group made with strangers holds {members:?}")
    })?;
    let changed = change(
        store,
        &group,
        ProvisionedGroupChange::members(vec!["no-such-user".to_owned(), cy.id.clone()], Vec::new()),
        &none,
    )
    .await?;
    let members = members_of(store, &group).await?;
    ensure(members == ids([&ann, &bo]) && changed.version == 2, || {
        format!(
            "adding strangers left {members:?} (version {})",
            changed.version
        )
    })
}

async fn groups_of_orgs_are_apart<S: ScimGroups + ScimUsers>(store: &S) -> Checked {
    let none = GroupRoleSync::none();
    let [ann] = people::<1, _>(store, "acme").await?;
    let globex = create(
        store,
        "globex",
        new_user("g@globex.example", "Gia", "Lo", &["globex"]),
    )
    .await?;
    let group = make(
        store,
        "acme",
        NewProvisionedGroup::new("Engineering").with_members(ids([&ann])),
        &none,
    )
    .await?;
    let seen = store
        .group("globex", &group.id)
        .await
        .map_err(|e| format!("reading failed: {e}"))?;
    ensure(seen.is_none(), || {
        "globex reads acme's group by its id".to_owned()
    })?;
    let members = store
        .group_members("globex", &group.id)
        .await
        .map_err(|e| format!("reading failed: {e}"))?;
    ensure(members.is_empty(), || {
        "globex reads acme's group's members".to_owned()
    })?;
    let now = noon()?;
    let changed = store
        .change_group(
            "globex",
            &group.id,
            ProvisionedGroupChange::default(),
            &none,
            now,
        )
        .await;
    ensure(matches!(changed, Err(ScimGroupError::NotFound(_))), || {
        format!("globex changing acme's group was answered {changed:?}")
    })?;
    change(
        store,
        &group,
        ProvisionedGroupChange::members(vec![globex.id.clone()], Vec::new()),
        &none,
    )
    .await?;
    let members = members_of(store, &group).await?;
    ensure(members == ids([&ann]), || {
        format!("adding globex's user to acme's group left {members:?}")
    })?;
    let deleted = store.delete_group("globex", &group.id, &none, now).await;
    ensure(matches!(deleted, Err(ScimGroupError::NotFound(_))), || {
        format!("globex deleting acme's group was answered {deleted:?}")
    })
}

async fn changes_add_remove_and_replace<S: ScimGroups + ScimUsers>(store: &S) -> Checked {
    let none = GroupRoleSync::none();
    let [ann, bo, cy, di] = people::<4, _>(store, "acme").await?;
    let group = make(
        store,
        "acme",
        NewProvisionedGroup::new("Engineering").with_members(ids([&ann, &bo])),
        &none,
    )
    .await?;
    let added = change(
        store,
        &group,
        ProvisionedGroupChange::members(
            ids([&bo, &cy]),
            vec![ann.id.clone(), "never-a-member".to_owned()],
        ),
        &none,
    )
    .await?;
    let members = members_of(store, &group).await?;
    ensure(members == ids([&bo, &cy]) && added.version == 2, || {
        format!(
            "after adding and removing, the members are {members:?} (version {})",
            added.version
        )
    })?;
    let replaced = change(
        store,
        &group,
        ProvisionedGroupChange::replace("Eng", Some("grp-9".to_owned()), ids([&di])),
        &none,
    )
    .await?;
    let members = members_of(store, &group).await?;
    ensure(
        members == ids([&di])
            && replaced.display_name == "Eng"
            && replaced.external_id.as_deref() == Some("grp-9")
            && replaced.version == 3
            && replaced.updated_at > replaced.created_at,
        || format!("after a replace the group reads {replaced:?} with {members:?}"),
    )?;
    store
        .delete_group("acme", &group.id, &none, noon()?)
        .await
        .map_err(|e| format!("deleting failed: {e}"))?;
    let gone = store
        .group("acme", &group.id)
        .await
        .map_err(|e| format!("reading failed: {e}"))?;
    ensure(gone.is_none(), || "a deleted group still reads".to_owned())
}

async fn lists_filter_and_page_by_id<S: ScimGroups>(store: &S) -> Checked {
    let none = GroupRoleSync::none();
    let mut made = Vec::new();
    for name in ["Engineering", "Sales", "Support"] {
        let mut group = NewProvisionedGroup::new(name);
        group.external_id = Some(format!("ext-{name}"));
        made.push(make(store, "acme", group, &none).await?);
    }
    made.sort_by(|a, b| a.id.cmp(&b.id));
    let (page, total) = store
        .groups("acme", &GroupFilter::All, 1, 1)
        .await
        .map_err(|e| format!("listing failed: {e}"))?;
    ensure(
        total == 3 && page.first().map(|g| &g.id) == made.get(1).map(|g| &g.id),
        || format!("the second page of one reads {page:?} of {total}"),
    )?;
    let (by_name, total) = store
        .groups("acme", &GroupFilter::DisplayName("sales".to_owned()), 0, 10)
        .await
        .map_err(|e| format!("listing failed: {e}"))?;
    ensure(
        total == 1 && by_name.first().map(|g| g.display_name.as_str()) == Some("Sales"),
        || format!("displayName eq \"sales\" found {by_name:?}"),
    )?;
    let (by_external, total) = store
        .groups(
            "acme",
            &GroupFilter::ExternalId("ext-Support".to_owned()),
            0,
            10,
        )
        .await
        .map_err(|e| format!("listing failed: {e}"))?;
    ensure(
        total == 1 && by_external.first().map(|g| g.display_name.as_str()) == Some("Support"),
        || format!("externalId eq \"ext-Support\" found {by_external:?}"),
    )?;
    let (wrong_case, total) = store
        .groups(
            "acme",
            &GroupFilter::ExternalId("EXT-SUPPORT".to_owned()),
            0,
            10,
        )
        .await
        .map_err(|e| format!("listing failed: {e}"))?;
    ensure(total == 0 && wrong_case.is_empty(), || {
        "externalId matched in another case: it is compared exactly".to_owned()
    })
}

async fn concurrent_changes_lose_no_member<S: ScimGroups + ScimUsers>(store: &S) -> Checked {
    let none = GroupRoleSync::none();
    let people = users(store, "acme", CONCURRENCY).await?;
    let group = make(
        store,
        "acme",
        NewProvisionedGroup::new("Engineering"),
        &none,
    )
    .await?;
    let now = noon()?;
    let changes = people.iter().map(|user| {
        store.change_group(
            "acme",
            &group.id,
            ProvisionedGroupChange::members(vec![user.id.clone()], Vec::new()),
            &none,
            now,
        )
    });
    let answers = join_all(changes).await;
    let failed = answers.iter().filter(|answer| answer.is_err()).count();
    ensure(failed == 0, || {
        format!("{failed} of {CONCURRENCY} concurrent changes failed")
    })?;
    let members = members_of(store, &group).await?;
    ensure(members == ids(&people), || {
        format!(
            "{CONCURRENCY} concurrent changes, each adding one member, left {} members",
            members.len()
        )
    })?;
    let held = store
        .group("acme", &group.id)
        .await
        .map_err(|e| format!("reading failed: {e}"))?
        .map(|group| group.version);
    let expected = u64::try_from(CONCURRENCY)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    ensure(held == Some(expected), || {
        format!("after {CONCURRENCY} changes the version is {held:?}, not {expected}")
    })
}

async fn joining_a_group_raises_a_role_and_leaving_lowers_none<
    S: ScimGroups + ScimUsers + AccountStore,
>(
    store: &S,
) -> Checked {
    let rule = admins_rule("acme-admins", ScimRoleSync::Raise);
    let [ann, bo] = people::<2, _>(store, "acme").await?;
    let group = make(
        store,
        "acme",
        NewProvisionedGroup::new("acme-admins").with_members(ids([&ann])),
        &rule,
    )
    .await?;
    let joined = role_of(store, &ann, "acme").await?;
    ensure(joined == Some(Role::Admin), || {
        format!("a member of acme-admins holds {joined:?} at acme, not admin")
    })?;
    let other = role_of(store, &bo, "acme").await?;
    ensure(other == Some(Role::Member), || {
        format!("a person outside acme-admins holds {other:?}")
    })?;
    change(
        store,
        &group,
        ProvisionedGroupChange::members(vec![bo.id.clone()], vec![ann.id.clone()]),
        &rule,
    )
    .await?;
    let left = role_of(store, &ann, "acme").await?;
    let added = role_of(store, &bo, "acme").await?;
    ensure(
        left == Some(Role::Admin) && added == Some(Role::Admin),
        || format!("under raise, leaving left {left:?} and joining gave {added:?}"),
    )
}

async fn following_lowers_but_keeps_the_last_admin<S: ScimGroups + ScimUsers + AccountStore>(
    store: &S,
) -> Checked {
    let rule = admins_rule("acme-admins", ScimRoleSync::Follow);
    let [ann, bo] = people::<2, _>(store, "acme").await?;
    let group = make(
        store,
        "acme",
        NewProvisionedGroup::new("acme-admins").with_members(ids([&ann, &bo])),
        &rule,
    )
    .await?;
    change(
        store,
        &group,
        ProvisionedGroupChange::members(Vec::new(), vec![ann.id.clone()]),
        &rule,
    )
    .await?;
    let lowered = role_of(store, &ann, "acme").await?;
    ensure(lowered == Some(Role::Member), || {
        format!("under follow, leaving acme-admins left {lowered:?}, not member")
    })?;
    change(
        store,
        &group,
        ProvisionedGroupChange::members(Vec::new(), vec![bo.id.clone()]),
        &rule,
    )
    .await?;
    let last = role_of(store, &bo, "acme").await?;
    ensure(last == Some(Role::Admin), || {
        format!("the org's last admin was lowered to {last:?} by a group change")
    })
}

async fn renaming_a_group_changes_what_it_maps_to<S: ScimGroups + ScimUsers + AccountStore>(
    store: &S,
) -> Checked {
    let rule = admins_rule("acme-admins", ScimRoleSync::Raise);
    let [ann] = people::<1, _>(store, "acme").await?;
    let group = make(
        store,
        "acme",
        NewProvisionedGroup::new("Admins to be").with_members(ids([&ann])),
        &rule,
    )
    .await?;
    let before = role_of(store, &ann, "acme").await?;
    let rename = ProvisionedGroupChange {
        external_id: Some(Some("acme-admins".to_owned())),
        ..ProvisionedGroupChange::default()
    };
    change(store, &group, rename, &rule).await?;
    let after = role_of(store, &ann, "acme").await?;
    ensure(
        before == Some(Role::Member) && after == Some(Role::Admin),
        || {
            format!("a group given the externalId acme-admins took its member from {before:?} to {after:?}")
        },
    )
}

async fn a_deleted_user_leaves_its_groups<S: ScimGroups + ScimUsers>(store: &S) -> Checked {
    let none = GroupRoleSync::none();
    let [ann, bo] = people::<2, _>(store, "acme").await?;
    let group = make(
        store,
        "acme",
        NewProvisionedGroup::new("Engineering").with_members(ids([&ann, &bo])),
        &none,
    )
    .await?;
    store
        .delete_user("acme", &ann.id, noon()?)
        .await
        .map_err(|e| format!("deleting a user failed: {e}"))?;
    let members = members_of(store, &group).await?;
    ensure(members == ids([&bo]), || {
        format!("after a member's deletion the group holds {members:?}")
    })
}

async fn groups_of_an_identity<S: ScimGroups + ScimUsers>(store: &S) -> Checked {
    let none = GroupRoleSync::none();
    let [ann, bo] = people::<2, _>(store, "acme").await?;
    let mut eng = NewProvisionedGroup::new("Engineering").with_members(ids([&ann]));
    eng.external_id = Some("0f1e-eng".to_owned());
    make(store, "acme", eng, &none).await?;
    make(
        store,
        "acme",
        NewProvisionedGroup::new("Everyone").with_members(ids([&ann, &bo])),
        &none,
    )
    .await?;
    let of = |user: &ProvisionedUser| user.identity.clone();
    let mut first = store
        .groups_of_identity("acme", &of(&ann))
        .await
        .map_err(|e| format!("reading groups failed: {e}"))?
        .unwrap_or_default();
    first.sort();
    ensure(first == ["0f1e-eng", "Engineering", "Everyone"], || {
        format!("the first person's groups read {first:?}")
    })?;
    let stranger = store
        .groups_of_identity("acme", &identity("nobody@acme.example"))
        .await
        .map_err(|e| format!("reading groups failed: {e}"))?;
    ensure(stranger.is_none(), || {
        format!("an identity with no SCIM user has groups {stranger:?}, not none")
    })?;
    let elsewhere = store
        .groups_of_identity("globex", &of(&ann))
        .await
        .map_err(|e| format!("reading groups failed: {e}"))?;
    ensure(elsewhere.is_none(), || {
        "an acme user has groups at globex".to_owned()
    })
}

async fn unknown_groups_are_not_found<S: ScimGroups>(store: &S) -> Checked {
    let none = GroupRoleSync::none();
    let now = noon()?;
    let read = store
        .group("acme", "no-such-group")
        .await
        .map_err(|e| format!("reading failed: {e}"))?;
    ensure(read.is_none(), || {
        format!("an unknown group reads {read:?}")
    })?;
    let changed = store
        .change_group(
            "acme",
            "no-such-group",
            ProvisionedGroupChange::default(),
            &none,
            now,
        )
        .await;
    ensure(matches!(changed, Err(ScimGroupError::NotFound(_))), || {
        format!("changing an unknown group was answered {changed:?}")
    })?;
    let deleted = store
        .delete_group("acme", "no-such-group", &none, now)
        .await;
    ensure(matches!(deleted, Err(ScimGroupError::NotFound(_))), || {
        format!("deleting an unknown group was answered {deleted:?}")
    })
}
