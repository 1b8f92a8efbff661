//! The SCIM users' contract (see [`ScimUsers`]) as runnable checks, for every store that
//! keeps SCIM users with its accounts.

use std::future::Future;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use futures_util::future::join_all;

use super::conformance::{ensure, Checked, ConformanceError, CONCURRENCY};
use crate::account::{AccountRecord, Identity, NewAccount};
use crate::deprovision::{DeprovisionedBy, DeprovisionedIdentities};
use crate::handle::HandleBase;
use crate::handle_choice::HandleChoice;
use crate::invite::Joined;
use crate::membership::MembershipStore;
use crate::role::{Grant, Role};
use crate::scim_users::{
    Deprovisioning, NewProvisionedUser, ProvisionedUser, ProvisionedUserChange, ScimUserError,
    ScimUsers, UserFilter,
};
use crate::store::AccountStore;

/// Runs the SCIM users' contract: `fresh` makes an empty store, which keeps accounts,
/// memberships and deprovisioned identities too; each check gets its own. Returns every
/// violation found.
///
/// ```
/// # pollster::block_on(async {
/// use jit_provisioning::{testing, MemoryStore};
///
/// testing::scim_users_conformance(|| async { MemoryStore::new() }).await.unwrap();
/// # });
/// ```
pub async fn scim_users_conformance<S, F, Fut>(fresh: F) -> Result<(), ConformanceError>
where
    S: ScimUsers + AccountStore + MembershipStore + DeprovisionedIdentities,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    run_checks!(
        fresh;
        a_creation_makes_the_account_and_the_user,
        a_taken_handle_gives_way_to_the_next_free_one,
        user_names_external_ids_and_identities_are_unique,
        orgs_are_apart,
        lists_filter_and_page_by_id,
        a_replace_changes_and_relinks,
        deactivating_an_owned_account_disables_it,
        deactivating_a_shared_account_removes_only_the_membership,
        reactivating_restores_the_role_it_had,
        a_deleted_user_stays_deprovisioned_until_created_again,
        unknown_ids_are_not_found,
        concurrent_creations_of_one_user_name,
    )
}

const IDP: &str = "https://idp.acme.example";

pub(super) fn noon() -> Result<DateTime<Utc>, String> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0)
        .single()
        .ok_or_else(|| "bad date".to_owned())
}

pub(super) fn identity(subject: &str) -> Identity {
    Identity {
        issuer: IDP.to_owned(),
        subject: subject.to_owned(),
    }
}

/// The user `user_name` of `org`, its account by the JIT handle rule from its names,
/// granted `orgs` as members.
pub(super) fn new_user(
    user_name: &str,
    given: &str,
    family: &str,
    orgs: &[&str],
) -> NewProvisionedUser {
    let base = HandleBase::derive(Some(given), Some(family), None);
    let choice = HandleChoice::new(base, 39, Vec::new());
    let handle = choice.free_handle(&[]).unwrap_or_default();
    let mut account = NewAccount::new(handle, identity(user_name));
    account.given_name = Some(given.to_owned());
    account.family_name = Some(family.to_owned());
    account.memberships = orgs
        .iter()
        .map(|org| Grant {
            org: (*org).to_owned(),
            role: Role::Member,
        })
        .collect();
    account.handle_choice = Some(choice);
    let mut user = NewProvisionedUser::new(user_name, account);
    user.emails = vec![user_name.to_owned()];
    user.resource = Some(format!(
        r#"{{"userName":"{user_name}","title":"Engineer"}}"#
    ));
    user
}

pub(super) async fn create<S: ScimUsers>(
    store: &S,
    org: &str,
    user: NewProvisionedUser,
) -> Result<ProvisionedUser, String> {
    let name = user.user_name.clone();
    store
        .create_user(org, user, noon()?)
        .await
        .map_err(|e| format!("creating `{name}` failed: {e}"))
}

pub(super) async fn account_of<S: AccountStore>(
    store: &S,
    user: &ProvisionedUser,
) -> Result<AccountRecord, String> {
    store
        .account_by_id(&user.account)
        .await
        .map_err(|e| format!("reading an account failed: {e}"))?
        .ok_or_else(|| format!("the account of `{}` is gone", user.user_name))
}

async fn mark<S: DeprovisionedIdentities>(
    store: &S,
    org: &str,
    identity: &Identity,
) -> Result<Option<DeprovisionedBy>, String> {
    Ok(store
        .deprovisioned(org, identity)
        .await
        .map_err(|e| format!("reading deprovisioned identities failed: {e}"))?
        .map(|mark| mark.by))
}

async fn set_active<S: ScimUsers>(
    store: &S,
    user: &ProvisionedUser,
    active: bool,
) -> Result<(ProvisionedUser, Option<Deprovisioning>), String> {
    store
        .set_active(&user.org, &user.id, active, noon()? + TimeDelta::minutes(5))
        .await
        .map_err(|e| format!("setting `{}` active {active} failed: {e}", user.user_name))
}

async fn a_creation_makes_the_account_and_the_user<
    S: ScimUsers + AccountStore + MembershipStore,
>(
    store: &S,
) -> Checked {
    let user = create(
        store,
        "acme",
        new_user("jane@acme.example", "Jane", "Doe", &["acme"]),
    )
    .await?;
    ensure(
        user.org == "acme"
            && user.user_name == "jane@acme.example"
            && user.active
            && user.identity == identity("jane@acme.example")
            && user.given_name.as_deref() == Some("Jane")
            && user.created_at == noon()?
            && user.resource.as_deref()
                == Some(r#"{"userName":"jane@acme.example","title":"Engineer"}"#)
            && !user.id.is_empty(),
        || format!("a new user reads {user:?}"),
    )?;
    let by_identity = store
        .account_by_identity(&identity("jane@acme.example"))
        .await
        .map_err(|e| format!("reading by identity failed: {e}"))?;
    ensure(
        by_identity.as_ref().map(|account| &account.id) == Some(&user.account),
        || {
            "the user's identity does not find its account: a first SSO sign-in would make a second"
                .to_owned()
        },
    )?;
    let account = account_of(store, &user).await?;
    ensure(
        account.handle == "jane-doe"
            && !account.has_password
            && !account.disabled
            && account.memberships.get("acme") == Some(&Role::Member),
        || format!("the user's account reads {account:?}"),
    )?;
    let fetched = store
        .user("acme", &user.id)
        .await
        .map_err(|e| format!("reading the user failed: {e}"))?;
    ensure(fetched.as_ref() == Some(&user), || {
        format!("the user reads back as {fetched:?}, not {user:?}")
    })?;
    let members = store
        .members("acme")
        .await
        .map_err(|e| format!("listing members failed: {e}"))?;
    ensure(
        members
            .iter()
            .any(|member| member.account.id == user.account && member.joined == Joined::Scim),
        || "the user's membership is not listed as joined by scim".to_owned(),
    )
}

async fn a_taken_handle_gives_way_to_the_next_free_one<S: ScimUsers + AccountStore>(
    store: &S,
) -> Checked {
    store
        .create_account(&NewAccount::new("jane-doe", identity("other")))
        .await
        .map_err(|e| format!("creating jane-doe failed: {e}"))?;
    let user = create(
        store,
        "acme",
        new_user("jane@acme.example", "Jane", "Doe", &["acme"]),
    )
    .await?;
    let account = account_of(store, &user).await?;
    ensure(account.handle == "jane-doe-2", || {
        format!(
            "with jane-doe taken, the user got the handle `{}`",
            account.handle
        )
    })
}

fn is_conflict(result: &Result<ProvisionedUser, ScimUserError>) -> bool {
    matches!(result, Err(ScimUserError::Conflict(_)))
}

async fn user_names_external_ids_and_identities_are_unique<S: ScimUsers>(store: &S) -> Checked {
    let mut first = new_user("jane@acme.example", "Jane", "Doe", &["acme"]);
    first.external_id = Some("00u1".to_owned());
    create(store, "acme", first).await?;
    let now = noon()?;
    let mut same_name = new_user("Jane@Acme.Example", "Jane", "Doe", &["acme"]);
    same_name.account.identity = identity("other-1");
    let made = store.create_user("acme", same_name, now).await;
    ensure(is_conflict(&made), || {
        format!("a userName differing only in case was answered {made:?}, not a conflict")
    })?;
    let mut same_external = new_user("sam@acme.example", "Sam", "Lee", &["acme"]);
    same_external.external_id = Some("00u1".to_owned());
    let made = store.create_user("acme", same_external, now).await;
    ensure(is_conflict(&made), || {
        format!("a taken externalId was answered {made:?}, not a conflict")
    })?;
    let mut same_identity = new_user("ann@acme.example", "Ann", "Lee", &["acme"]);
    same_identity.account.identity = identity("jane@acme.example");
    let made = store.create_user("acme", same_identity, now).await;
    ensure(is_conflict(&made), || {
        format!("an identity another user holds was answered {made:?}, not a conflict")
    })
}

async fn orgs_are_apart<S: ScimUsers>(store: &S) -> Checked {
    let acme = create(
        store,
        "acme",
        new_user("jane@acme.example", "Jane", "Doe", &["acme"]),
    )
    .await?;
    let other = store
        .user("globex", &acme.id)
        .await
        .map_err(|e| format!("reading failed: {e}"))?;
    ensure(other.is_none(), || {
        "acme's user was read at globex".to_owned()
    })?;
    let (listed, total) = store
        .users("globex", &UserFilter::All, 0, 10)
        .await
        .map_err(|e| format!("listing failed: {e}"))?;
    ensure(listed.is_empty() && total == 0, || {
        "acme's user was listed at globex".to_owned()
    })?;
    let mut globex = new_user("jane@acme.example", "Jane", "Doe", &["globex"]);
    globex.account.identity = identity("globex-jane");
    create(store, "globex", globex).await.map(|_| ())
}

async fn lists_filter_and_page_by_id<S: ScimUsers>(store: &S) -> Checked {
    let mut made = Vec::new();
    for (n, name) in ["Ann", "Bob", "Cy", "Di", "Ed"].into_iter().enumerate() {
        let mut user = new_user(&format!("{name}@acme.example"), name, "Lee", &["acme"]);
        user.external_id = Some(format!("ext-{n}"));
        made.push(create(store, "acme", user).await?);
    }
    let mut ids: Vec<String> = made.iter().map(|user| user.id.clone()).collect();
    ids.sort();
    let mut paged = Vec::new();
    for start in [0, 2, 4] {
        let (page, total) = store
            .users("acme", &UserFilter::All, start, 2)
            .await
            .map_err(|e| format!("listing failed: {e}"))?;
        ensure(total == 5, || format!("a list of 5 users says {total}"))?;
        paged.extend(page.into_iter().map(|user| user.id));
    }
    ensure(paged == ids, || {
        format!("pages of 2 gave {paged:?}, not the ids in order {ids:?}")
    })?;
    for (filter, expected) in [
        (UserFilter::UserName("bob@ACME.example".to_owned()), "Bob"),
        (UserFilter::ExternalId("ext-2".to_owned()), "Cy"),
        (UserFilter::Email("DI@acme.example".to_owned()), "Di"),
    ] {
        let (found, total) = store
            .users("acme", &filter, 0, 10)
            .await
            .map_err(|e| format!("listing failed: {e}"))?;
        let names: Vec<&str> = found.iter().map(|user| user.user_name.as_str()).collect();
        ensure(
            total == 1 && names == [format!("{expected}@acme.example").as_str()],
            || format!("{filter:?} found {names:?} of {total}, not {expected}"),
        )?;
    }
    let (none, total) = store
        .users("acme", &UserFilter::ExternalId("EXT-2".to_owned()), 0, 10)
        .await
        .map_err(|e| format!("listing failed: {e}"))?;
    ensure(none.is_empty() && total == 0, || {
        "externalId matched in another case".to_owned()
    })
}

async fn a_replace_changes_and_relinks<S: ScimUsers + AccountStore>(store: &S) -> Checked {
    let jane = create(
        store,
        "acme",
        new_user("jane@acme.example", "Jane", "Doe", &["acme"]),
    )
    .await?;
    create(
        store,
        "acme",
        new_user("sam@acme.example", "Sam", "Lee", &["acme"]),
    )
    .await?;
    let later = noon()? + TimeDelta::hours(1);
    let taken = ProvisionedUserChange::new("SAM@acme.example", identity("jane.doe@acme.example"));
    let answer = store.replace_user("acme", &jane.id, taken, later).await;
    ensure(is_conflict(&answer), || {
        format!("renaming to a taken userName was answered {answer:?}")
    })?;
    let mut change =
        ProvisionedUserChange::new("jane.doe@acme.example", identity("jane.doe@acme.example"));
    change.family_name = Some("Roe".to_owned());
    change.emails = vec!["jane.doe@acme.example".to_owned()];
    change.resource = Some(r#"{"title":"Lead"}"#.to_owned());
    let changed = store
        .replace_user("acme", &jane.id, change, later)
        .await
        .map_err(|e| format!("replacing failed: {e}"))?;
    ensure(
        changed.user_name == "jane.doe@acme.example"
            && changed.family_name.as_deref() == Some("Roe")
            && changed.resource.as_deref() == Some(r#"{"title":"Lead"}"#)
            && changed.version > jane.version
            && changed.updated_at == later
            && changed.account == jane.account,
        || format!("the replaced user reads {changed:?}"),
    )?;
    let old = store
        .account_by_identity(&identity("jane@acme.example"))
        .await
        .map_err(|e| format!("reading failed: {e}"))?;
    let new = store
        .account_by_identity(&identity("jane.doe@acme.example"))
        .await
        .map_err(|e| format!("reading failed: {e}"))?;
    ensure(
        old.is_none() && new.map(|account| account.id) == Some(jane.account.clone()),
        || "a changed NameID value did not relink the account".to_owned(),
    )
}

async fn deactivating_an_owned_account_disables_it<
    S: ScimUsers + AccountStore + DeprovisionedIdentities,
>(
    store: &S,
) -> Checked {
    let jane = create(
        store,
        "acme",
        new_user("jane@acme.example", "Jane", "Doe", &["acme"]),
    )
    .await?;
    let (user, done) = set_active(store, &jane, false).await?;
    let expected = Deprovisioning::new(jane.account.clone(), true, true);
    ensure(!user.active && done.as_ref() == Some(&expected), || {
        format!("deactivating answered {user:?} and {done:?}, not {expected:?}")
    })?;
    let account = account_of(store, &jane).await?;
    ensure(account.disabled && !account.is_member_of("acme"), || {
        format!("an account only acme made stays {account:?} once deactivated")
    })?;
    let marked = mark(store, "acme", &jane.identity).await?;
    ensure(marked == Some(DeprovisionedBy::Deactivated), || {
        format!("the identity is marked {marked:?}, not deactivated")
    })?;
    let (_, again) = set_active(store, &user, false).await?;
    ensure(again.is_none(), || {
        "deactivating twice deprovisioned twice".to_owned()
    })
}

async fn deactivating_a_shared_account_removes_only_the_membership<
    S: ScimUsers + AccountStore + DeprovisionedIdentities,
>(
    store: &S,
) -> Checked {
    let jane = create(
        store,
        "acme",
        new_user("jane@acme.example", "Jane", "Doe", &["acme", "globex"]),
    )
    .await?;
    let (_, done) = set_active(store, &jane, false).await?;
    let expected = Deprovisioning::new(jane.account.clone(), true, false);
    ensure(done.as_ref() == Some(&expected), || {
        format!("deactivating a shared account answered {done:?}, not {expected:?}")
    })?;
    let account = account_of(store, &jane).await?;
    ensure(
        !account.disabled && !account.is_member_of("acme") && account.is_member_of("globex"),
        || format!("an account globex shares reads {account:?} once acme deactivated it"),
    )?;
    let marked = mark(store, "acme", &jane.identity).await?;
    let elsewhere = mark(store, "globex", &jane.identity).await?;
    ensure(
        marked == Some(DeprovisionedBy::Deactivated) && elsewhere.is_none(),
        || format!("the identity is marked {marked:?} at acme and {elsewhere:?} at globex"),
    )
}

async fn reactivating_restores_the_role_it_had<
    S: ScimUsers + AccountStore + MembershipStore + DeprovisionedIdentities,
>(
    store: &S,
) -> Checked {
    let jane = create(
        store,
        "acme",
        new_user("jane@acme.example", "Jane", "Doe", &["acme"]),
    )
    .await?;
    create(
        store,
        "acme",
        new_user("sam@acme.example", "Sam", "Lee", &["acme"]),
    )
    .await?;
    store
        .set_role(&jane.account, "acme", Role::Admin)
        .await
        .map_err(|e| format!("promoting failed: {e}"))?;
    let (user, _) = set_active(store, &jane, false).await?;
    let (user, done) = set_active(store, &user, true).await?;
    ensure(user.active && done.is_none(), || {
        format!("reactivating answered {user:?} and {done:?}")
    })?;
    let account = account_of(store, &jane).await?;
    ensure(
        !account.disabled && account.memberships.get("acme") == Some(&Role::Admin),
        || format!("a reactivated admin's account reads {account:?}"),
    )?;
    let marked = mark(store, "acme", &jane.identity).await?;
    ensure(marked.is_none(), || {
        format!("a reactivated identity is still marked {marked:?}")
    })
}

async fn a_deleted_user_stays_deprovisioned_until_created_again<
    S: ScimUsers + AccountStore + DeprovisionedIdentities,
>(
    store: &S,
) -> Checked {
    let jane = create(
        store,
        "acme",
        new_user("jane@acme.example", "Jane", "Doe", &["acme"]),
    )
    .await?;
    let done = store
        .delete_user("acme", &jane.id, noon()?)
        .await
        .map_err(|e| format!("deleting failed: {e}"))?;
    let expected = Deprovisioning::new(jane.account.clone(), true, true);
    ensure(done == expected, || {
        format!("deleting answered {done:?}, not {expected:?}")
    })?;
    let gone = store
        .user("acme", &jane.id)
        .await
        .map_err(|e| format!("reading failed: {e}"))?;
    ensure(gone.is_none(), || "a deleted user still reads".to_owned())?;
    let marked = mark(store, "acme", &jane.identity).await?;
    ensure(marked == Some(DeprovisionedBy::Deleted), || {
        format!("a deleted identity is marked {marked:?}, not deleted")
    })?;
    let again = create(
        store,
        "acme",
        new_user("jane@acme.example", "Jane", "Doe", &["acme"]),
    )
    .await?;
    let account = account_of(store, &again).await?;
    ensure(
        again.account == jane.account && !account.disabled && account.is_member_of("acme"),
        || format!("creating a deleted user again gave {again:?} over {account:?}"),
    )?;
    let marked = mark(store, "acme", &jane.identity).await?;
    ensure(marked.is_none(), || {
        format!("a user created again is still marked {marked:?}")
    })
}

async fn unknown_ids_are_not_found<S: ScimUsers>(store: &S) -> Checked {
    let now = noon()?;
    let jane = create(
        store,
        "acme",
        new_user("jane@acme.example", "Jane", "Doe", &["acme"]),
    )
    .await?;
    let change = ProvisionedUserChange::new("x", identity("x"));
    let replaced = store.replace_user("globex", &jane.id, change, now).await;
    ensure(matches!(replaced, Err(ScimUserError::NotFound(_))), || {
        format!("replacing another org's user answered {replaced:?}")
    })?;
    let set = store.set_active("acme", "no-such-id", false, now).await;
    ensure(matches!(set, Err(ScimUserError::NotFound(_))), || {
        format!("deactivating an unknown id answered {set:?}")
    })?;
    let deleted = store.delete_user("globex", &jane.id, now).await;
    ensure(matches!(deleted, Err(ScimUserError::NotFound(_))), || {
        format!("deleting another org's user answered {deleted:?}")
    })
}

async fn concurrent_creations_of_one_user_name<S: ScimUsers>(store: &S) -> Checked {
    let now = noon()?;
    let creations = (0..CONCURRENCY).map(|n| {
        let mut user = new_user("jane@acme.example", "Jane", "Doe", &["acme"]);
        // Distinct identities: only the userName collides.
        user.account.identity = identity(&format!("jane-{n}"));
        store.create_user("acme", user, now)
    });
    let answers = join_all(creations).await;
    let created = answers.iter().filter(|answer| answer.is_ok()).count();
    let conflicts = answers.iter().filter(|answer| is_conflict(answer)).count();
    ensure(created == 1 && conflicts == CONCURRENCY - 1, || {
        format!(
            "{CONCURRENCY} creations of one userName at once: {created} made, {conflicts} conflicts"
        )
    })?;
    let (_, total) = store
        .users("acme", &UserFilter::All, 0, 100)
        .await
        .map_err(|e| format!("listing failed: {e}"))?;
    ensure(total == 1, || format!("{total} users hold one userName"))
}
