//! The membership contract (see [`MembershipStore`]) as runnable checks, for every store
//! of invites and memberships, in memory or SQL.

use std::collections::BTreeSet;
use std::future::Future;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use futures_util::future::join_all;

use super::conformance::{ensure, Checked, ConformanceError, CONCURRENCY};
use crate::account::{AccountId, AccountRecord, Identity, NewAccount};
use crate::invite::{Invite, Invitee, Joined, Member};
use crate::membership::{MembershipError, MembershipStore};
use crate::role::{Grant, Role};
use crate::store::AccountStore;

/// Runs the whole membership contract (see [`MembershipStore`]) on stores that hold
/// accounts too: `fresh` makes an empty store; each check gets its own. Returns every
/// violation found, not only the first.
///
/// ```
/// # pollster::block_on(async {
/// use jit_provisioning::{testing::membership_conformance, MemoryStore};
///
/// membership_conformance(|| async { MemoryStore::new() }).await.unwrap();
/// # });
/// ```
pub async fn membership_conformance<S, F, Fut>(fresh: F) -> Result<(), ConformanceError>
where
    S: AccountStore + MembershipStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    run_checks!(
        fresh;
        created_invites_read_back_with_the_store_id,
        open_invites_oldest_first_expired_left_out,
        invites_for_holds_every_invite_for_the_sign_in,
        revoking_takes_an_invite_of_its_org_once,
        an_invite_is_accepted_once,
        a_refused_acceptance_changes_nothing,
        concurrent_acceptances_of_one_invite_give_one_grant,
        an_invite_never_lowers_a_role,
        members_in_handle_order_say_how_they_joined,
        accounts_are_found_by_handle_in_any_case,
        set_role_raises_lowers_and_adds,
        unknown_accounts_are_refused,
        the_last_admin_stays,
        concurrent_demotions_of_the_last_two_admins,
        concurrent_demotions_of_every_admin,
    )
}

const IDP: &str = "https://idp.membership.example";

fn noon() -> Result<DateTime<Utc>, String> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0)
        .single()
        .ok_or_else(|| "bad date".to_owned())
}

fn hours(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

fn identity(subject: &str) -> Identity {
    Identity {
        issuer: IDP.into(),
        subject: subject.into(),
    }
}

fn grant(org: &str, role: Role) -> Grant {
    Grant {
        org: org.into(),
        role,
    }
}

/// Creates, through [`AccountStore::create_account`], `handle` signing in as `subject`
/// with `email`: a member of `acme` and an admin of `acme-labs`, both joined by JIT.
async fn create<S: AccountStore>(
    store: &S,
    handle: &str,
    subject: &str,
    email: Option<&str>,
) -> Result<AccountId, String> {
    let mut account = NewAccount::new(handle, identity(subject));
    account.email = email.map(str::to_owned);
    account.memberships = vec![grant("acme", Role::Member), grant("acme-labs", Role::Admin)];
    store
        .create_account(&account)
        .await
        .map(|record| record.id)
        .map_err(|e| format!("creating `{handle}` failed: {e}"))
}

async fn record<S: AccountStore>(store: &S, id: &AccountId) -> Result<AccountRecord, String> {
    store
        .account_by_id(id)
        .await
        .map_err(|e| format!("reading account `{id}` failed: {e}"))?
        .ok_or_else(|| format!("account `{id}` is gone"))
}

/// The role `account` holds in `org`, read through the account store.
async fn role_in<S: AccountStore>(
    store: &S,
    account: &AccountId,
    org: &str,
) -> Result<Option<Role>, String> {
    Ok(record(store, account).await?.memberships.get(org).copied())
}

/// An invite of `invitee` to `org` as `role`, made `age` hours before noon.
fn invite(org: &str, role: Role, invitee: Invitee, age: i64) -> Result<Invite, String> {
    Ok(Invite::new(
        org,
        role,
        invitee,
        "admin:sam",
        noon()? - hours(age),
    ))
}

fn to_email(email: &str) -> Invitee {
    Invitee::Email(email.into())
}

fn to_account(id: &AccountId) -> Invitee {
    Invitee::Account(id.clone())
}

async fn create_invite<S: MembershipStore>(store: &S, wanted: &Invite) -> Result<Invite, String> {
    store
        .create_invite(wanted)
        .await
        .map_err(|e| format!("creating the invite {wanted:?} failed: {e}"))
}

async fn open<S: MembershipStore>(
    store: &S,
    org: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Invite>, String> {
    store
        .open_invites(org, now)
        .await
        .map_err(|e| format!("listing the open invites of `{org}` failed: {e}"))
}

async fn open_ids<S: MembershipStore>(
    store: &S,
    org: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, String> {
    Ok(open(store, org, now)
        .await?
        .into_iter()
        .map(|invite| invite.id)
        .collect())
}

async fn members<S: MembershipStore>(store: &S, org: &str) -> Result<Vec<Member>, String> {
    store
        .members(org)
        .await
        .map_err(|e| format!("listing the members of `{org}` failed: {e}"))
}

/// `(handle, role, joined)` of each member of `org`, in the order listed.
async fn roster<S: MembershipStore>(
    store: &S,
    org: &str,
) -> Result<Vec<(String, Role, Joined)>, String> {
    Ok(members(store, org)
        .await?
        .into_iter()
        .map(|member| (member.account.handle, member.role, member.joined))
        .collect())
}

fn row(handle: &str, role: Role, joined: Joined) -> (String, Role, Joined) {
    (handle.to_owned(), role, joined)
}

/// How many admins `org` has, by its member list.
async fn admins<S: MembershipStore>(store: &S, org: &str) -> Result<usize, String> {
    Ok(members(store, org)
        .await?
        .iter()
        .filter(|member| member.role == Role::Admin)
        .count())
}

/// The store gives each invite an id of its own, whatever id it was given, and keeps
/// everything else as it was given: the email as typed, the bound identity, the times.
async fn created_invites_read_back_with_the_store_id<S: AccountStore + MembershipStore>(
    store: &S,
) -> Checked {
    let now = noon()?;
    let sam = create(store, "sam-lee", "sam", None).await?;
    let wanted = [
        invite("acme", Role::Member, to_email("Jane@ACME.example"), 3)?.with_id("caller-id"),
        invite("acme", Role::Admin, to_account(&sam), 2)?
            .with_id("caller-id")
            .bound_to(identity("00u42")),
        invite("acme", Role::Contributor, to_email("ΝΙΚΟΣ@acme.example"), 1)?
            .with_id("caller-id")
            .expiring_at(now + TimeDelta::days(30)),
    ];
    let mut created = Vec::new();
    for one in &wanted {
        let stored = create_invite(store, one).await?;
        let expected = one.clone().with_id(stored.id.clone());
        ensure(stored == expected, || {
            format!("created {stored:?}, but the invite asked for is {expected:?}")
        })?;
        created.push(stored);
    }
    let ids: BTreeSet<&str> = created.iter().map(|invite| invite.id.as_str()).collect();
    ensure(
        ids.len() == created.len() && !ids.contains("") && !ids.contains("caller-id"),
        || format!("the store did not give each invite an id of its own: {ids:?}"),
    )?;
    let listed = open(store, "acme", now).await?;
    ensure(listed == created, || {
        format!("created {created:?}, but the open invites read back as {listed:?}")
    })
}

/// Only open invites are listed (item 2), the org's alone, oldest first by their
/// `created_at` whatever the order they were stored in.
async fn open_invites_oldest_first_expired_left_out<S: MembershipStore>(store: &S) -> Checked {
    let now = noon()?;
    let newest = create_invite(
        store,
        &invite("acme", Role::Member, to_email("a@acme.example"), 1)?,
    )
    .await?;
    let oldest = create_invite(
        store,
        &invite("acme", Role::Member, to_email("b@acme.example"), 30)?,
    )
    .await?;
    let middle = create_invite(
        store,
        &invite("acme", Role::Admin, to_email("c@acme.example"), 20)?,
    )
    .await?;
    let expired = create_invite(
        store,
        &invite("acme", Role::Member, to_email("d@acme.example"), 50)?.expiring_at(now - hours(1)),
    )
    .await?;
    let ends_now = create_invite(
        store,
        &invite("acme", Role::Member, to_email("e@acme.example"), 40)?.expiring_at(now),
    )
    .await?;
    let elsewhere = create_invite(
        store,
        &invite("acme-labs", Role::Member, to_email("a@acme.example"), 10)?,
    )
    .await?;

    let listed = open_ids(store, "acme", now).await?;
    let expected = [&oldest, &middle, &newest].map(|invite| invite.id.clone());
    ensure(listed == expected, || {
        format!(
            "the open invites of `acme` at noon, oldest first, are {expected:?} (one expired, one \
             expiring at noon exactly, one of another org); listed {listed:?}"
        )
    })?;
    let before = open_ids(store, "acme", now - hours(2)).await?;
    let expected = [&expired, &ends_now, &oldest, &middle, &newest].map(|invite| invite.id.clone());
    ensure(before == expected, || {
        format!(
            "two hours before noon the open invites, oldest first, are {expected:?} (only \
             expiry counts, not creation); listed {before:?}"
        )
    })?;
    let later = open_ids(store, "acme", now + TimeDelta::days(7) - hours(2)).await?;
    ensure(later == [newest.id.clone()], || {
        format!(
            "six days and 22 hours after noon only `{}` is open; listed {later:?}",
            newest.id
        )
    })?;
    let labs = open_ids(store, "acme-labs", now).await?;
    ensure(labs == [elsewhere.id.clone()], || {
        format!(
            "the open invites of `acme-labs` are [{}]; listed {labs:?}",
            elsewhere.id
        )
    })?;
    let none = open_ids(store, "acme-ghosts", now).await?;
    ensure(none.is_empty(), || {
        format!("an org without invites lists {none:?}")
    })
}

/// `invites_for` holds at least every open invite of the org that [`Invite::is_for`]
/// accepts for the sign-in, and nothing of another org or expired (item 2).
async fn invites_for_holds_every_invite_for_the_sign_in<S: AccountStore + MembershipStore>(
    store: &S,
) -> Checked {
    let now = noon()?;
    let jane = create(store, "jane-doe", "jane", Some("jane@acme.example")).await?;
    let john = create(store, "john-roe", "john", None).await?;
    let wanted = [
        invite("acme", Role::Member, to_account(&jane), 1)?,
        invite("acme", Role::Contributor, to_email("Jane@ACME.example"), 2)?,
        invite("acme", Role::Member, to_email("ΝΙΚΟΣ@acme.example"), 3)?,
        invite("acme", Role::Admin, to_email("someone@acme.example"), 4)?
            .bound_to(identity("jane")),
        invite("acme", Role::Member, to_account(&john), 5)?,
        invite("acme", Role::Member, to_email("jane@acme.example"), 6)?.bound_to(identity("other")),
        invite("acme", Role::Member, to_account(&jane), 7)?.bound_to(identity("other")),
        invite("acme", Role::Member, to_email("jane@acme.example"), 200)?
            .expiring_at(now - hours(1)),
        invite("acme", Role::Member, to_account(&jane), 300)?.expiring_at(now),
        invite("acme-labs", Role::Member, to_email("jane@acme.example"), 1)?,
        invite("acme-labs", Role::Member, to_account(&jane), 1)?,
        invite("acme-labs", Role::Member, to_email("x@acme.example"), 1)?
            .bound_to(identity("jane")),
    ];
    let mut created = Vec::new();
    for one in &wanted {
        created.push(create_invite(store, one).await?);
    }
    let jane_record = record(store, &jane).await?;
    let john_record = record(store, &john).await?;
    let sign_ins: [(&str, Identity, Option<&str>, Option<&AccountRecord>); 8] = [
        (
            "jane, with her email and account",
            identity("jane"),
            Some("jane@acme.example"),
            Some(&jane_record),
        ),
        (
            "a new identity with jane's email in capitals",
            identity("new"),
            Some("JANE@acme.example"),
            None,
        ),
        (
            "jane's identity without an email or account",
            identity("jane"),
            None,
            None,
        ),
        (
            "`νικος` (`ΝΙΚΟΣ` in lower case)",
            identity("nikos"),
            Some("νικος@acme.example"),
            None,
        ),
        (
            "the identity two invites are bound to",
            identity("other"),
            Some("nobody@acme.example"),
            None,
        ),
        (
            "john by his account",
            identity("john"),
            None,
            Some(&john_record),
        ),
        (
            "jane's account through another identity",
            identity("jane-2"),
            Some("jane@other.example"),
            Some(&jane_record),
        ),
        (
            "a stranger",
            identity("stranger"),
            Some("stranger@acme.example"),
            None,
        ),
    ];
    for (who, signing_in, email, account) in sign_ins {
        let got = store
            .invites_for(
                "acme",
                &signing_in,
                email,
                account.map(|record| &record.id),
                now,
            )
            .await
            .map_err(|e| format!("invites_for {who} failed: {e}"))?;
        let got_ids: BTreeSet<&str> = got.iter().map(|invite| invite.id.as_str()).collect();
        let expected: BTreeSet<&str> = created
            .iter()
            .filter(|invite| {
                invite.org == "acme" && invite.is_for(&signing_in, email, account, now)
            })
            .map(|invite| invite.id.as_str())
            .collect();
        ensure(expected.is_subset(&got_ids), || {
            format!(
                "invites_for {who}: `Invite::is_for` accepts {expected:?}, the store found {got_ids:?}"
            )
        })?;
        let stray: Vec<&Invite> = got
            .iter()
            .filter(|invite| invite.org != "acme" || !invite.is_open(now))
            .collect();
        ensure(stray.is_empty(), || {
            format!("invites_for {who} in `acme` at noon found expired or other orgs' invites: {stray:?}")
        })?;
        for found in &got {
            ensure(created.contains(found), || {
                format!("invites_for {who} found {found:?}, which is not an invite as created")
            })?;
        }
    }
    Ok(())
}

/// An invite is revoked once, and only through its own org.
async fn revoking_takes_an_invite_of_its_org_once<S: AccountStore + MembershipStore>(
    store: &S,
) -> Checked {
    let now = noon()?;
    let jane = create(store, "jane-doe", "jane", None).await?;
    let kept = create_invite(
        store,
        &invite("acme", Role::Member, to_email("k@acme.example"), 2)?,
    )
    .await?;
    let revoked = create_invite(store, &invite("acme", Role::Admin, to_account(&jane), 1)?).await?;
    let revoke = |org: &'static str, id: String| async move {
        store
            .revoke_invite(org, &id)
            .await
            .map_err(|e| format!("revoking `{id}` in `{org}` failed: {e}"))
    };
    ensure(!revoke("acme-labs", revoked.id.clone()).await?, || {
        "revoking an invite of `acme` through `acme-labs` returned true".into()
    })?;
    let listed = open_ids(store, "acme", now).await?;
    ensure(listed.contains(&revoked.id), || {
        format!("revoking through another org took the invite away: {listed:?}")
    })?;
    ensure(revoke("acme", revoked.id.clone()).await?, || {
        "revoking an open invite returned false".into()
    })?;
    ensure(!revoke("acme", revoked.id.clone()).await?, || {
        "revoking an invite a second time returned true".into()
    })?;
    ensure(!revoke("acme", "no-such-invite".into()).await?, || {
        "revoking an unknown invite returned true".into()
    })?;
    let listed = open_ids(store, "acme", now).await?;
    ensure(listed == [kept.id.clone()], || {
        format!(
            "after the revocation `acme` lists {listed:?}, expected [{}]",
            kept.id
        )
    })?;
    let found = store
        .invites_for("acme", &identity("jane"), None, Some(&jane), now)
        .await
        .map_err(|e| e.to_string())?;
    ensure(found.iter().all(|invite| invite.id != revoked.id), || {
        format!("invites_for still finds the revoked invite: {found:?}")
    })?;
    let accepted = store
        .accept_invite(&revoked.id, &jane)
        .await
        .map_err(|e| format!("accepting a revoked invite failed: {e}"))?;
    ensure(accepted.is_none(), || {
        format!("a revoked invite was accepted: {accepted:?}")
    })?;
    let role = role_in(store, &jane, "acme").await?;
    ensure(role == Some(Role::Member), || {
        format!("a revoked admin invite changed the role to {role:?}")
    })
}

/// Item 1: the invite is gone and the account holds its role, joined by invite; a second
/// acceptance gives nothing.
async fn an_invite_is_accepted_once<S: AccountStore + MembershipStore>(store: &S) -> Checked {
    let now = noon()?;
    let jane = create(store, "jane-doe", "jane", Some("jane@acme.example")).await?;
    let sent = create_invite(
        store,
        &invite(
            "acme-research",
            Role::Contributor,
            to_email("jane@acme.example"),
            1,
        )?,
    )
    .await?;
    let accepted = store
        .accept_invite(&sent.id, &jane)
        .await
        .map_err(|e| format!("accepting an open invite failed: {e}"))?;
    ensure(
        accepted == Some(grant("acme-research", Role::Contributor)),
        || format!("accepting a contributor invite to `acme-research` gave {accepted:?}"),
    )?;
    let role = role_in(store, &jane, "acme-research").await?;
    ensure(role == Some(Role::Contributor), || {
        format!("after accepting, the account holds {role:?} in `acme-research`")
    })?;
    let listed = roster(store, "acme-research").await?;
    let expected = [row("jane-doe", Role::Contributor, Joined::Invite)];
    ensure(listed == expected, || {
        format!(
            "after accepting, the members of `acme-research` are {listed:?}, expected {expected:?}"
        )
    })?;
    let still_open = open_ids(store, "acme-research", now).await?;
    ensure(still_open.is_empty(), || {
        format!("an accepted invite is still open: {still_open:?}")
    })?;
    let again = store
        .accept_invite(&sent.id, &jane)
        .await
        .map_err(|e| format!("accepting an invite a second time failed: {e}"))?;
    ensure(again.is_none(), || {
        format!("an invite was accepted twice; the second time gave {again:?}")
    })?;
    let unknown = store
        .accept_invite("no-such-invite", &jane)
        .await
        .map_err(|e| format!("accepting an unknown invite failed: {e}"))?;
    ensure(unknown.is_none(), || {
        format!("an unknown invite was accepted: {unknown:?}")
    })
}

/// An acceptance by an account that does not exist takes nothing: the invite stays open
/// for the person it is for.
async fn a_refused_acceptance_changes_nothing<S: AccountStore + MembershipStore>(
    store: &S,
) -> Checked {
    let now = noon()?;
    create(store, "jane-doe", "jane", None).await?;
    let sent = create_invite(
        store,
        &invite("acme", Role::Admin, to_email("x@acme.example"), 1)?,
    )
    .await?;
    let ghost = AccountId::from("no-such-account");
    if let Ok(Some(grant)) = store.accept_invite(&sent.id, &ghost).await {
        return Err(format!(
            "an account that does not exist accepted an invite: {grant:?}"
        ));
    }
    let listed = open_ids(store, "acme", now).await?;
    ensure(listed == [sent.id.clone()], || {
        format!("an acceptance by an account that does not exist took the invite: {listed:?}")
    })?;
    let admins = admins(store, "acme").await?;
    ensure(admins == 0, || {
        format!("an acceptance by an account that does not exist made {admins} admins")
    })
}

/// Many accounts race for one invite: exactly one gets it (item 1).
async fn concurrent_acceptances_of_one_invite_give_one_grant<S: AccountStore + MembershipStore>(
    store: &S,
) -> Checked {
    let mut accounts = Vec::with_capacity(CONCURRENCY);
    for n in 0..CONCURRENCY {
        accounts.push(create(store, &format!("u{n}"), &format!("s{n}"), None).await?);
    }
    let sent = create_invite(
        store,
        &invite(
            "acme-research",
            Role::Contributor,
            to_email("team@acme.example"),
            1,
        )?,
    )
    .await?;
    let results = join_all(accounts.iter().map(|id| store.accept_invite(&sent.id, id))).await;
    let mut granted = Vec::new();
    for (id, result) in accounts.iter().zip(&results) {
        match result {
            Ok(Some(got)) => granted.push((id.clone(), got.clone())),
            Ok(None) => {}
            Err(e) => return Err(format!("a concurrent acceptance failed: {e}")),
        }
    }
    ensure(granted.len() == 1, || {
        format!(
            "{CONCURRENCY} accounts accepting one invite at once: {} got it ({granted:?})",
            granted.len()
        )
    })?;
    let listed = roster(store, "acme-research").await?;
    ensure(
        listed.len() == 1
            && listed
                .iter()
                .all(|(_, role, joined)| *role == Role::Contributor && *joined == Joined::Invite),
        || {
            format!(
                "after {CONCURRENCY} racing acceptances `acme-research` has the members {listed:?}"
            )
        },
    )?;
    // The same account, many times at once.
    let again = create_invite(
        store,
        &invite("acme-ops", Role::Admin, to_email("ops@acme.example"), 1)?,
    )
    .await?;
    let first = accounts.first().ok_or("no account")?;
    let results = join_all((0..CONCURRENCY).map(|_| store.accept_invite(&again.id, first))).await;
    let mut granted = 0;
    for result in &results {
        match result {
            Ok(Some(_)) => granted += 1,
            Ok(None) => {}
            Err(e) => return Err(format!("a concurrent acceptance failed: {e}")),
        }
    }
    ensure(granted == 1, || {
        format!("one account accepting one invite {CONCURRENCY} times at once: {granted} got it")
    })
}

/// A role held never falls by an invite (item 1), and an invite accepted by a member
/// leaves how it joined alone.
async fn an_invite_never_lowers_a_role<S: AccountStore + MembershipStore>(store: &S) -> Checked {
    // acme: member, acme-labs: admin, both by JIT.
    let jane = create(store, "jane-doe", "jane", None).await?;
    let john = create(store, "john-roe", "john", None).await?;
    set_role(store, &john, "acme-ops", Role::Admin).await?;
    let cases = [
        (&jane, "acme-labs", Role::Member, Role::Admin),
        (&jane, "acme", Role::Contributor, Role::Contributor),
        (&john, "acme-ops", Role::Contributor, Role::Admin),
    ];
    for (account, org, invited, held) in cases {
        let sent = create_invite(store, &invite(org, invited, to_account(account), 1)?).await?;
        let accepted = store
            .accept_invite(&sent.id, account)
            .await
            .map_err(|e| format!("accepting an invite to `{org}` failed: {e}"))?;
        ensure(accepted == Some(grant(org, held)), || {
            format!(
                "accepting a {invited} invite to `{org}` gave {accepted:?}: expected the \
                 membership now held, {held} of `{org}`"
            )
        })?;
        let role = role_in(store, account, org).await?;
        ensure(role == Some(held), || {
            format!(
                "after a {invited} invite to `{org}` the account holds {role:?}, expected {held}"
            )
        })?;
    }
    let expected = [
        (
            "acme-labs",
            vec![
                row("jane-doe", Role::Admin, Joined::Jit),
                row("john-roe", Role::Admin, Joined::Jit),
            ],
        ),
        (
            "acme",
            vec![
                row("jane-doe", Role::Contributor, Joined::Jit),
                row("john-roe", Role::Member, Joined::Jit),
            ],
        ),
        (
            "acme-ops",
            vec![row("john-roe", Role::Admin, Joined::ByHand)],
        ),
    ];
    for (org, expected) in expected {
        let listed = roster(store, org).await?;
        ensure(listed == expected, || {
            format!(
                "members already there accepted invites to `{org}`: the members are {listed:?}, \
                 expected {expected:?} (an invite joins only whom it adds)"
            )
        })?;
    }
    Ok(())
}

async fn set_role<S: MembershipStore>(
    store: &S,
    account: &AccountId,
    org: &str,
    role: Role,
) -> Checked {
    store
        .set_role(account, org, role)
        .await
        .map_err(|e| format!("setting `{account}` to {role} of `{org}` failed: {e}"))
}

async fn remove<S: MembershipStore>(
    store: &S,
    account: &AccountId,
    org: &str,
) -> Result<bool, String> {
    store
        .remove_member(account, org)
        .await
        .map_err(|e| format!("removing `{account}` from `{org}` failed: {e}"))
}

/// Item 4, and the order: members by handle (compared case-insensitively), each with how
/// it joined: JIT for the store's own creations, invite, or by hand.
async fn members_in_handle_order_say_how_they_joined<S: AccountStore + MembershipStore>(
    store: &S,
) -> Checked {
    // Created in another order than their handles'.
    let zoe = create(store, "zoe", "zoe", None).await?;
    let adam = create(store, "Adam", "adam", None).await?;
    let mia = create(store, "mia", "mia", None).await?;
    let bo = create(store, "bo", "bo", None).await?;
    for (account, org) in [(&mia, "acme"), (&bo, "acme"), (&bo, "acme-labs")] {
        ensure(remove(store, account, org).await?, || {
            format!("removing a member of `{org}` returned false")
        })?;
    }
    set_role(store, &zoe, "acme-research", Role::Admin).await?;
    set_role(store, &bo, "acme", Role::Contributor).await?;
    let sent = create_invite(
        store,
        &invite("acme-research", Role::Member, to_account(&mia), 1)?,
    )
    .await?;
    store
        .accept_invite(&sent.id, &mia)
        .await
        .map_err(|e| format!("accepting failed: {e}"))?
        .ok_or("an open invite was not accepted")?;
    let sent = create_invite(
        store,
        &invite("acme-research", Role::Contributor, to_account(&adam), 1)?,
    )
    .await?;
    store
        .accept_invite(&sent.id, &adam)
        .await
        .map_err(|e| format!("accepting failed: {e}"))?
        .ok_or("an open invite was not accepted")?;
    set_role(store, &adam, "acme-research", Role::Admin).await?;
    set_role(store, &zoe, "acme", Role::Admin).await?;

    let expected = [
        (
            "acme",
            vec![
                row("Adam", Role::Member, Joined::Jit),
                row("bo", Role::Contributor, Joined::ByHand),
                row("zoe", Role::Admin, Joined::Jit),
            ],
        ),
        (
            "acme-labs",
            vec![
                row("Adam", Role::Admin, Joined::Jit),
                row("mia", Role::Admin, Joined::Jit),
                row("zoe", Role::Admin, Joined::Jit),
            ],
        ),
        (
            "acme-research",
            vec![
                row("Adam", Role::Admin, Joined::Invite),
                row("mia", Role::Member, Joined::Invite),
                row("zoe", Role::Admin, Joined::ByHand),
            ],
        ),
        ("acme-ghosts", vec![]),
    ];
    for (org, expected) in expected {
        let listed = roster(store, org).await?;
        ensure(listed == expected, || {
            format!("the members of `{org}` are {listed:?}, expected {expected:?}")
        })?;
    }
    for member in members(store, "acme-labs").await? {
        let stored = record(store, &member.account.id).await?;
        ensure(member.account == stored, || {
            format!(
                "a member's account is listed as {:?}, but reads as {stored:?}",
                member.account
            )
        })?;
    }
    Ok(())
}

/// `set_role` sets a role higher or lower, or adds the membership; `remove_member` says
/// whether there was one.
async fn accounts_are_found_by_handle_in_any_case<S: AccountStore + MembershipStore>(
    store: &S,
) -> Checked {
    let made = create(store, "Jo-Ng", "jo", None).await?;
    for asked in ["Jo-Ng", "jo-ng", "JO-NG"] {
        let found = store
            .account_by_handle(asked)
            .await
            .map_err(|e| format!("looking up `{asked}` failed: {e}"))?;
        ensure(
            found.map(|account| account.id) == Some(made.clone()),
            || format!("`{asked}` did not find the account `Jo-Ng`"),
        )?;
    }
    let none = store
        .account_by_handle("jo-ng-2")
        .await
        .map_err(|e| format!("looking up `jo-ng-2` failed: {e}"))?;
    ensure(none.is_none(), || "`jo-ng-2` found an account".to_owned())
}

async fn set_role_raises_lowers_and_adds<S: AccountStore + MembershipStore>(store: &S) -> Checked {
    // Members of acme, admins of acme-labs.
    let jane = create(store, "jane-doe", "jane", None).await?;
    create(store, "john-roe", "john", None).await?;
    let steps = [
        ("acme", Role::Contributor),
        ("acme", Role::Member),
        ("acme-labs", Role::Admin),
        ("acme-labs", Role::Contributor),
        ("acme-research", Role::Contributor),
    ];
    for (org, role) in steps {
        set_role(store, &jane, org, role).await?;
        let held = role_in(store, &jane, org).await?;
        ensure(held == Some(role), || {
            format!("after setting {role} of `{org}` the account holds {held:?}")
        })?;
    }
    let memberships: Vec<(String, Role)> = record(store, &jane)
        .await?
        .memberships
        .into_iter()
        .collect();
    let expected = vec![
        ("acme".to_owned(), Role::Member),
        ("acme-labs".to_owned(), Role::Contributor),
        ("acme-research".to_owned(), Role::Contributor),
    ];
    ensure(memberships == expected, || {
        format!("after the changes the account holds {memberships:?}, expected {expected:?}")
    })?;
    ensure(remove(store, &jane, "acme-research").await?, || {
        "removing a member returned false".into()
    })?;
    ensure(!remove(store, &jane, "acme-research").await?, || {
        "removing a member a second time returned true".into()
    })?;
    ensure(!remove(store, &jane, "acme-ghosts").await?, || {
        "removing an account from an org it is not a member of returned true".into()
    })?;
    let held = role_in(store, &jane, "acme-research").await?;
    ensure(held.is_none(), || {
        format!("a removed member still holds {held:?}")
    })
}

/// Changes to an account that does not exist are refused with
/// [`MembershipError::NoSuchAccount`], and change nothing.
async fn unknown_accounts_are_refused<S: AccountStore + MembershipStore>(store: &S) -> Checked {
    create(store, "jane-doe", "jane", None).await?;
    let before = roster(store, "acme").await?;
    for ghost in ["no-such-account", "999999", "0"] {
        let ghost = AccountId::from(ghost);
        for role in [Role::Member, Role::Admin] {
            match store.set_role(&ghost, "acme", role).await {
                Err(MembershipError::NoSuchAccount(named)) if named == ghost => {}
                other => {
                    return Err(format!(
                        "setting a role of account `{ghost}`, which does not exist, gave {other:?}"
                    ))
                }
            }
        }
        match store.remove_member(&ghost, "acme").await {
            Err(MembershipError::NoSuchAccount(named)) if named == ghost => {}
            other => {
                return Err(format!(
                    "removing account `{ghost}`, which does not exist, gave {other:?}"
                ))
            }
        }
    }
    let after = roster(store, "acme").await?;
    ensure(before == after, || {
        format!("refused changes changed the members from {before:?} to {after:?}")
    })
}

fn is_last_admin<T: std::fmt::Debug>(result: &Result<T, MembershipError>) -> bool {
    matches!(result, Err(MembershipError::LastAdmin))
}

/// Item 3, one change at a time: the last admin is neither demoted nor removed, and a
/// refusal changes nothing.
async fn the_last_admin_stays<S: AccountStore + MembershipStore>(store: &S) -> Checked {
    // Admins of acme-labs, members of acme.
    let jane = create(store, "jane-doe", "jane", None).await?;
    let john = create(store, "john-roe", "john", None).await?;
    ensure(remove(store, &john, "acme-labs").await?, || {
        "removing one of two admins returned false".into()
    })?;
    let before = roster(store, "acme-labs").await?;
    for role in [Role::Contributor, Role::Member] {
        let refused = store.set_role(&jane, "acme-labs", role).await;
        ensure(is_last_admin(&refused), || {
            format!("demoting the last admin to {role} gave {refused:?}, expected LastAdmin")
        })?;
    }
    let refused = store.remove_member(&jane, "acme-labs").await;
    ensure(is_last_admin(&refused), || {
        format!("removing the last admin gave {refused:?}, expected LastAdmin")
    })?;
    let after = roster(store, "acme-labs").await?;
    ensure(before == after, || {
        format!("refused changes changed the members from {before:?} to {after:?}")
    })?;
    set_role(store, &jane, "acme-labs", Role::Admin).await?;
    // A second admin: now either may go, but not both.
    set_role(store, &john, "acme-labs", Role::Admin).await?;
    set_role(store, &jane, "acme-labs", Role::Member).await?;
    let refused = store.remove_member(&john, "acme-labs").await;
    ensure(is_last_admin(&refused), || {
        format!("removing the last admin, once the other was demoted, gave {refused:?}")
    })?;
    ensure(remove(store, &jane, "acme-labs").await?, || {
        "removing a member beside the last admin returned false".into()
    })?;
    // An org without admins may lose members (and never gains the refusal).
    ensure(remove(store, &jane, "acme").await?, || {
        "removing a member of an org without admins returned false".into()
    })?;
    set_role(store, &john, "acme", Role::Contributor).await?;
    let expected = [
        (
            "acme",
            vec![row("john-roe", Role::Contributor, Joined::Jit)],
        ),
        (
            "acme-labs",
            vec![row("john-roe", Role::Admin, Joined::ByHand)],
        ),
    ];
    for (org, expected) in expected {
        let listed = roster(store, org).await?;
        ensure(listed == expected, || {
            format!("the members of `{org}` are {listed:?}, expected {expected:?}")
        })?;
    }
    Ok(())
}

/// A demotion or removal, as the races start them.
#[derive(Debug, Clone, Copy)]
enum Change {
    Demote,
    Remove,
}

async fn apply<S: MembershipStore>(
    store: &S,
    change: Change,
    account: &AccountId,
    org: &str,
) -> Result<(), MembershipError> {
    match change {
        Change::Demote => store.set_role(account, org, Role::Member).await,
        Change::Remove => store.remove_member(account, org).await.map(drop),
    }
}

/// Item 3 under concurrency: the only two admins demoted or removed at once, both ways
/// and mixed: exactly one change is made, the other is refused, one admin is left.
async fn concurrent_demotions_of_the_last_two_admins<S: AccountStore + MembershipStore>(
    store: &S,
) -> Checked {
    // Admins of acme-labs.
    let jane = create(store, "jane-doe", "jane", None).await?;
    let john = create(store, "john-roe", "john", None).await?;
    let races = [
        (Change::Demote, Change::Demote),
        (Change::Remove, Change::Remove),
        (Change::Demote, Change::Remove),
        (Change::Remove, Change::Demote),
    ];
    for round in 0..4 {
        for (n, (first, second)) in races.iter().enumerate() {
            let org = format!("team-{round}-{n}");
            set_role(store, &jane, &org, Role::Admin).await?;
            set_role(store, &john, &org, Role::Admin).await?;
            let (a, b) = futures_util::future::join(
                apply(store, *first, &jane, &org),
                apply(store, *second, &john, &org),
            )
            .await;
            let made = usize::from(a.is_ok()) + usize::from(b.is_ok());
            let refused = usize::from(is_last_admin(&a)) + usize::from(is_last_admin(&b));
            ensure(made == 1 && refused == 1, || {
                format!(
                    "{first:?} and {second:?} of the only two admins of `{org}` at once gave \
                     {a:?} and {b:?}: expected one made, one LastAdmin"
                )
            })?;
            let left = roster(store, &org).await?;
            let admins = left
                .iter()
                .filter(|(_, role, _)| *role == Role::Admin)
                .count();
            ensure(admins == 1, || {
                format!("after {first:?} and {second:?} of its only two admins at once `{org}` has the members {left:?}")
            })?;
            let refused_one = if a.is_ok() {
                ("john-roe", &john)
            } else {
                ("jane-doe", &jane)
            };
            ensure(
                left.iter()
                    .any(|(handle, role, _)| handle == refused_one.0 && *role == Role::Admin)
                    && role_in(store, refused_one.1, &org).await? == Some(Role::Admin),
                || {
                    format!(
                        "the refused change still changed `{}` in `{org}`: {left:?}",
                        refused_one.0
                    )
                },
            )?;
        }
    }
    Ok(())
}

/// Every admin of an org demoted or removed at once: all but one change are made.
async fn concurrent_demotions_of_every_admin<S: AccountStore + MembershipStore>(
    store: &S,
) -> Checked {
    let count = CONCURRENCY / 2;
    let mut admins = Vec::with_capacity(count);
    for n in 0..count {
        let id = create(store, &format!("u{n}"), &format!("s{n}"), None).await?;
        set_role(store, &id, "acme", Role::Admin).await?;
        admins.push(id);
    }
    let changes: Vec<Change> = (0..count)
        .map(|n| {
            if n % 2 == 0 {
                Change::Demote
            } else {
                Change::Remove
            }
        })
        .collect();
    let results = join_all(
        admins
            .iter()
            .zip(&changes)
            .map(|(id, change)| apply(store, *change, id, "acme")),
    )
    .await;
    let made = results.iter().filter(|result| result.is_ok()).count();
    let refused = results
        .iter()
        .filter(|result| is_last_admin(result))
        .count();
    ensure(made == count - 1 && refused == 1, || {
        format!(
            "{count} admins of one org demoted or removed at once: {made} made, {refused} \
             LastAdmin, others {:?}; expected {} made and one refused",
            results
                .iter()
                .filter(|r| r.is_err() && !is_last_admin(r))
                .collect::<Vec<_>>(),
            count - 1
        )
    })?;
    let left = self::admins(store, "acme").await?;
    ensure(left == 1, || {
        format!("after {count} admins were demoted or removed at once `acme` has {left} admins")
    })
}
