//! The storage contract as runnable checks: every store, in memory or SQL, passes the
//! same suite.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::future::Future;

use chrono::{TimeZone, Utc};
use futures_util::future::join_all;

use crate::account::{AccountId, Identity, NewAccount};
use crate::config::Config;
use crate::handle::HandleBase;
use crate::handle_choice::HandleChoice;
use crate::provisioner::Provisioner;
use crate::request::{Assertion, Request};
use crate::role::{Grant, Role};
use crate::store::{AccountStore, CreateError, LinkError};
use crate::testing::{Burst, FIRST_LOGIN_CALLS};

/// How many operations the concurrency checks start at once.
pub const CONCURRENCY: usize = 32;

/// One broken promise of the storage contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The check that found it.
    pub check: &'static str,
    /// What was wrong.
    pub message: String,
}

/// A store that breaks the contract: every violation found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ConformanceError {
    /// Every violation, in the order the checks ran.
    pub violations: Vec<Violation>,
}

impl ConformanceError {
    pub(crate) fn new(violations: Vec<Violation>) -> Self {
        Self { violations }
    }
}

impl fmt::Display for ConformanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the store breaks the storage contract:")?;
        for violation in &self.violations {
            write!(f, "\n  - {}: {}", violation.check, violation.message)?;
        }
        Ok(())
    }
}

/// What a check concludes: `Err` says what broke the contract.
pub(crate) type Checked = Result<(), String>;

/// `Ok` when `condition` holds, else the violation `message` describes.
pub(crate) fn ensure(condition: bool, message: impl FnOnce() -> String) -> Checked {
    if condition {
        Ok(())
    } else {
        Err(message())
    }
}

/// Runs the whole storage contract. `fresh` makes an empty store; each check gets its
/// own. Returns every violation found, not only the first.
///
/// ```
/// # pollster::block_on(async {
/// use jit_provisioning::{testing::conformance, MemoryStore};
///
/// conformance(|| async { MemoryStore::new() }).await.unwrap();
/// # });
/// ```
pub async fn conformance<S, F, Fut>(fresh: F) -> Result<(), ConformanceError>
where
    S: AccountStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    run_checks!(
        fresh;
        created_accounts_are_found_every_way,
        names_are_kept_as_given,
        unknown_keys_find_nothing,
        handles_are_unique_case_insensitively,
        identities_are_unique,
        issuers_tell_identities_apart,
        failed_creation_leaves_nothing,
        taken_handles_follow_the_stem_shape,
        a_taken_handle_gives_way_to_the_lowest_free_one,
        no_free_handle_is_a_taken_handle,
        emails_match_case_insensitively,
        linking_follows_the_rules,
        one_identity_per_issuer_per_account,
        the_assertion_look_up_stops_at_the_first_find,
        concurrent_creates_of_one_handle,
        concurrent_creates_of_one_identity,
        concurrent_links_of_one_identity,
        concurrent_links_of_one_issuer_to_one_account,
        concurrent_first_logins,
        concurrent_takeovers_by_email,
        roles_only_rise,
        concurrent_raises_end_at_the_highest,
    )
}

fn identity(subject: &str) -> Identity {
    Identity {
        issuer: "https://idp.conformance.example".into(),
        subject: subject.into(),
    }
}

/// An identity at a second IdP: an account may hold one from each.
fn other_idp_identity(subject: &str) -> Identity {
    Identity {
        issuer: "https://other-idp.conformance.example".into(),
        subject: subject.into(),
    }
}

fn new_account(handle: &str, subject: &str, email: Option<&str>) -> NewAccount {
    NewAccount {
        handle: handle.into(),
        email: email.map(str::to_owned),
        given_name: None,
        family_name: None,
        identity: identity(subject),
        memberships: vec![
            Grant {
                org: "acme".into(),
                role: Role::Member,
            },
            Grant {
                org: "acme-labs".into(),
                role: Role::Admin,
            },
        ],
        handle_choice: None,
        invite: None,
    }
}

/// [`new_account`] proposing `handle`, chosen from the base of `given` and `family` with
/// handles of at most `max_len` characters, of which the policy keeps `kept`.
fn chosen_account(
    handle: &str,
    subject: &str,
    (given, family): (&str, &str),
    max_len: usize,
    kept: &[&str],
) -> NewAccount {
    let base = HandleBase::derive(Some(given), Some(family), None);
    let kept = kept.iter().map(|&word| word.to_owned()).collect();
    NewAccount {
        handle_choice: Some(HandleChoice::new(base, max_len, kept)),
        ..new_account(handle, subject, None)
    }
}

async fn create<S: AccountStore>(store: &S, account: &NewAccount) -> Result<AccountId, String> {
    store
        .create_account(account)
        .await
        .map(|record| record.id)
        .map_err(|e| format!("creating `{}` failed: {e}", account.handle))
}

async fn created_accounts_are_found_every_way<S: AccountStore>(store: &S) -> Checked {
    let wanted = new_account("jane-doe", "s1", Some("Jane@Acme.example"));
    let created = store
        .create_account(&wanted)
        .await
        .map_err(|e| format!("create failed: {e}"))?;
    ensure(
        created.handle == "jane-doe"
            && created.email.as_deref() == Some("Jane@Acme.example")
            && created.identities == [identity("s1")]
            && created.memberships.get("acme") == Some(&Role::Member)
            && created.memberships.get("acme-labs") == Some(&Role::Admin)
            && created.memberships.len() == 2
            && !created.has_password
            && !created.disabled,
        || format!("the created record does not hold what was asked: {created:?}"),
    )?;
    let by_identity = store
        .account_by_identity(&identity("s1"))
        .await
        .map_err(|e| e.to_string())?;
    ensure(by_identity.as_ref() == Some(&created), || {
        format!("by identity: expected {created:?}, got {by_identity:?}")
    })?;
    let by_id = store
        .account_by_id(&created.id)
        .await
        .map_err(|e| e.to_string())?;
    ensure(by_id.as_ref() == Some(&created), || {
        format!("by id: expected {created:?}, got {by_id:?}")
    })?;
    let by_email = store
        .accounts_by_email("jane@acme.example")
        .await
        .map_err(|e| e.to_string())?;
    ensure(by_email == [created.clone()], || {
        format!("by email: expected [{created:?}], got {by_email:?}")
    })
}

/// Given and family names come back exactly as created, every way an account is read:
/// any script, one without the other, or neither.
async fn names_are_kept_as_given<S: AccountStore>(store: &S) -> Checked {
    let named =
        |handle: &str, subject: &str, given: Option<&str>, family: Option<&str>| NewAccount {
            given_name: given.map(str::to_owned),
            family_name: family.map(str::to_owned),
            ..new_account(handle, subject, Some(&format!("{handle}@acme.example")))
        };
    for wanted in [
        named("zoe-nguyen", "s1", Some("Zoë"), Some("Nguyễn Văn")),
        named("li", "s2", None, Some("李")),
        named("madonna", "s3", Some("Madonna"), None),
        named("anonymous", "s4", None, None),
        named(
            "o-brien",
            "s5",
            Some("Seán"),
            Some("O'Brien-Ó Súilleabháin"),
        ),
    ] {
        let created = store
            .create_account(&wanted)
            .await
            .map_err(|e| format!("creating `{}` failed: {e}", wanted.handle))?;
        let expected = wanted.record(created.id.clone());
        ensure(created == expected, || {
            format!("created {created:?}, but the account asked for is {expected:?}")
        })?;
        let by_id = store
            .account_by_id(&created.id)
            .await
            .map_err(|e| e.to_string())?;
        let by_identity = store
            .account_by_identity(&wanted.identity)
            .await
            .map_err(|e| e.to_string())?;
        let by_email = store
            .accounts_by_email(wanted.email.as_deref().unwrap_or_default())
            .await
            .map_err(|e| e.to_string())?;
        let looked_up = store
            .look_up_assertion(&wanted.identity, None, &[])
            .await
            .map_err(|e| e.to_string())?;
        let by_email_look_up = store
            .look_up_assertion(&identity("nobody"), wanted.email.as_deref(), &[])
            .await
            .map_err(|e| e.to_string())?;
        for (how, found) in [
            ("by id", by_id),
            ("by identity", by_identity),
            ("by email", by_email.into_iter().next()),
            ("by the assertion look-up", looked_up.by_identity),
            (
                "by the assertion look-up's email",
                by_email_look_up.by_email.into_iter().next(),
            ),
        ] {
            ensure(found.as_ref() == Some(&expected), || {
                format!("{how}: expected {expected:?}, got {found:?}")
            })?;
        }
    }
    Ok(())
}

async fn unknown_keys_find_nothing<S: AccountStore>(store: &S) -> Checked {
    create(
        store,
        &new_account("jane-doe", "s1", Some("jane@acme.example")),
    )
    .await?;
    let none = store
        .account_by_identity(&identity("s2"))
        .await
        .map_err(|e| e.to_string())?;
    ensure(none.is_none(), || {
        format!("unknown identity found {none:?}")
    })?;
    let none = store
        .account_by_id(&AccountId::from("no-such-account"))
        .await
        .map_err(|e| e.to_string())?;
    ensure(none.is_none(), || format!("unknown id found {none:?}"))?;
    let none = store
        .accounts_by_email("jane@acme.example.org")
        .await
        .map_err(|e| e.to_string())?;
    ensure(none.is_empty(), || {
        format!("another email matched {none:?}")
    })
}

async fn handles_are_unique_case_insensitively<S: AccountStore>(store: &S) -> Checked {
    create(store, &new_account("jane-doe", "s1", None)).await?;
    for clash in ["jane-doe", "Jane-Doe", "JANE-DOE"] {
        match store.create_account(&new_account(clash, "s2", None)).await {
            Err(CreateError::HandleTaken(_)) => {}
            other => return Err(format!("creating `{clash}` over `jane-doe` gave {other:?}")),
        }
    }
    let ghost = store
        .account_by_identity(&identity("s2"))
        .await
        .map_err(|e| e.to_string())?;
    ensure(ghost.is_none(), || {
        format!("a refused creation left its identity behind: {ghost:?}")
    })
}

async fn identities_are_unique<S: AccountStore>(store: &S) -> Checked {
    create(store, &new_account("jane-doe", "s1", None)).await?;
    match store
        .create_account(&new_account("john-roe", "s1", None))
        .await
    {
        Err(CreateError::IdentityTaken(taken)) if taken == identity("s1") => Ok(()),
        other => Err(format!("a second account for one identity gave {other:?}")),
    }
}

async fn issuers_tell_identities_apart<S: AccountStore>(store: &S) -> Checked {
    let first = create(store, &new_account("jane-doe", "s1", None)).await?;
    let mut other_issuer = new_account("jane-doe-2", "s1", None);
    other_issuer.identity.issuer = "https://idp.other.example".into();
    let second = create(store, &other_issuer).await?;
    ensure(first != second, || "two accounts got one id".into())?;
    let found = store
        .account_by_identity(&other_issuer.identity)
        .await
        .map_err(|e| e.to_string())?
        .map(|record| record.id);
    ensure(found.as_ref() == Some(&second), || {
        format!("the same subject from another issuer found {found:?}, not {second}")
    })
}

async fn failed_creation_leaves_nothing<S: AccountStore>(store: &S) -> Checked {
    create(store, &new_account("jane-doe", "s1", None)).await?;
    // The identity clashes; the handle and email are new. None of it may stay.
    let refused = new_account("john-roe", "s1", Some("john@acme.example"));
    if store.create_account(&refused).await.is_ok() {
        return Err("a creation with a taken identity succeeded".into());
    }
    let taken = store
        .taken_handles(&["john-roe".to_owned()])
        .await
        .map_err(|e| e.to_string())?;
    ensure(taken.is_empty(), || {
        format!("a refused creation left its handle taken: {taken:?}")
    })?;
    let by_email = store
        .accounts_by_email("john@acme.example")
        .await
        .map_err(|e| e.to_string())?;
    ensure(by_email.is_empty(), || {
        format!("a refused creation left an account: {by_email:?}")
    })?;
    create(
        store,
        &new_account("john-roe", "s2", Some("john@acme.example")),
    )
    .await
    .map(drop)
}

async fn taken_handles_follow_the_stem_shape<S: AccountStore>(store: &S) -> Checked {
    let handles = [
        "jane-doe",
        "Jane-Doe-2",
        "jane-doe-10",
        "jane-doe-x",
        "jane-does",
        "jane-doe-smith",
        "jane",
        "maximiliana-alexandra",
        "maximiliana-3",
    ];
    for (n, handle) in handles.iter().enumerate() {
        create(store, &new_account(handle, &format!("s{n}"), None)).await?;
    }
    let stems = ["jane-doe".to_owned(), "maximiliana".to_owned()];
    let required: BTreeSet<String> = ["jane-doe", "jane-doe-2", "jane-doe-10", "maximiliana-3"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let all: BTreeSet<String> = handles.iter().map(|h| h.to_lowercase()).collect();
    let got: BTreeSet<String> = store
        .taken_handles(&stems)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|handle| handle.to_lowercase())
        .collect();
    ensure(required.is_subset(&got) && got.is_subset(&all), || {
        format!(
            "taken handles for stems {stems:?}: expected {required:?} (more allowed), got {got:?}"
        )
    })
}

/// A creation whose proposed handle was taken meanwhile (a concurrent first login of the
/// same name won it) is made under the lowest free handle by the engine's rule, in the
/// same atomic step: the store's handles under the stems, case-insensitively, and the
/// policy's kept ones are skipped. A free proposal is created as it is.
async fn a_taken_handle_gives_way_to_the_lowest_free_one<S: AccountStore>(store: &S) -> Checked {
    for (n, handle) in [
        "jane-doe",
        "Jane-Doe-2",
        "jane-doe-5",
        "jane-does",
        "jane-doe-x",
    ]
    .iter()
    .enumerate()
    {
        create(store, &new_account(handle, &format!("s{n}"), None)).await?;
    }
    let jane = ("Jane", "Doe");
    for (proposed, subject, expected) in [
        ("jane-doe", "s10", "jane-doe-4"),
        ("jane-doe-2", "s11", "jane-doe-6"),
        ("jane-doe-9", "s12", "jane-doe-9"),
    ] {
        let wanted = chosen_account(proposed, subject, jane, 39, &["jane-doe-3"]);
        let created = store
            .create_account(&wanted)
            .await
            .map_err(|e| format!("creating over a taken `{proposed}` failed: {e}"))?;
        let as_expected = wanted
            .with_handle(expected.to_owned())
            .record(created.id.clone());
        ensure(created == as_expected, || {
            format!(
                "proposing `{proposed}` (`jane-doe`, `jane-doe-2`, `jane-doe-5` taken,                  `jane-doe-3` kept) created {created:?}, expected {as_expected:?}"
            )
        })?;
        let found = store
            .account_by_identity(&identity(subject))
            .await
            .map_err(|e| e.to_string())?;
        ensure(found.as_ref() == Some(&as_expected), || {
            format!("by identity: expected {as_expected:?}, got {found:?}")
        })?;
    }
    // A fixed handle (no choice) is created as it is or not at all.
    match store
        .create_account(&new_account("jane-doe", "s20", None))
        .await
    {
        Err(CreateError::HandleTaken(_)) => Ok(()),
        other => Err(format!("a fixed, taken handle gave {other:?}")),
    }
}

/// When every handle the rule allows is taken, the creation is `HandleTaken` and leaves
/// nothing behind (the provisioner then refuses the login with `no_free_handle`).
async fn no_free_handle_is_a_taken_handle<S: AccountStore>(store: &S) -> Checked {
    // Handles of at most 3 characters: `jo`, then `j-2` … `j-9`, and no room for `-10`.
    let all: Vec<String> = std::iter::once("jo".to_owned())
        .chain((2..=9).map(|n| format!("j-{n}")))
        .collect();
    for (n, handle) in all.iter().enumerate() {
        create(store, &new_account(handle, &format!("s{n}"), None)).await?;
    }
    let wanted = chosen_account("jo", "s10", ("Jo", ""), 3, &[]);
    match store.create_account(&wanted).await {
        Err(CreateError::HandleTaken(_)) => {}
        other => {
            return Err(format!(
                "with every handle taken, a creation gave {other:?}"
            ))
        }
    }
    let ghost = store
        .account_by_identity(&identity("s10"))
        .await
        .map_err(|e| e.to_string())?;
    ensure(ghost.is_none(), || {
        format!("a creation with no free handle left its identity behind: {ghost:?}")
    })
}

async fn emails_match_case_insensitively<S: AccountStore>(store: &S) -> Checked {
    let a = create(
        store,
        &new_account("jane-doe", "s1", Some("jane@acme.example")),
    )
    .await?;
    let b = create(
        store,
        &new_account("jane-doe-2", "s2", Some("JANE@ACME.EXAMPLE")),
    )
    .await?;
    create(store, &new_account("jane-doe-3", "s3", None)).await?;
    create(
        store,
        &new_account("jane-doe-4", "s4", Some("other@acme.example")),
    )
    .await?;
    let found: HashSet<AccountId> = store
        .accounts_by_email("Jane@Acme.Example")
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|record| record.id)
        .collect();
    ensure(found == HashSet::from([a, b]), || {
        format!("by email: expected both case variants, got {found:?}")
    })?;
    // Capitals fold the same in every script: `ΝΙΚΟΣ` is `νικος`, final sigma and all.
    let nikos = create(
        store,
        &new_account("nikos", "s5", Some("ΝΙΚΟΣ@acme.example")),
    )
    .await?;
    let found: Vec<AccountId> = store
        .accounts_by_email("νικος@acme.example")
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|record| record.id)
        .collect();
    ensure(found == [nikos], || {
        format!("by email: `νικος` should find `ΝΙΚΟΣ` (see `email_key`), got {found:?}")
    })
}

async fn linking_follows_the_rules<S: AccountStore>(store: &S) -> Checked {
    let jane = create(store, &new_account("jane-doe", "s1", None)).await?;
    let john = create(store, &new_account("john-roe", "s2", None)).await?;
    store
        .link_identity(&jane, &other_idp_identity("s3"))
        .await
        .map_err(|e| format!("linking a free identity failed: {e}"))?;
    let found = store
        .account_by_identity(&other_idp_identity("s3"))
        .await
        .map_err(|e| e.to_string())?;
    ensure(found.as_ref().map(|r| &r.id) == Some(&jane), || {
        format!("a linked identity found {found:?}")
    })?;
    ensure(
        found.is_some_and(|r| r.identities.contains(&identity("s1")) && r.identities.len() == 2),
        || "linking dropped the account's first identity".into(),
    )?;
    store
        .link_identity(&jane, &other_idp_identity("s3"))
        .await
        .map_err(|e| format!("linking an identity again to its own account failed: {e}"))?;
    match store.link_identity(&john, &other_idp_identity("s3")).await {
        Err(LinkError::IdentityTaken(_)) => {}
        other => return Err(format!("linking another account's identity gave {other:?}")),
    }
    match store
        .link_identity(
            &AccountId::from("no-such-account"),
            &other_idp_identity("s4"),
        )
        .await
    {
        Err(LinkError::NoSuchAccount(_)) => Ok(()),
        other => Err(format!("linking to a missing account gave {other:?}")),
    }
}

async fn one_identity_per_issuer_per_account<S: AccountStore>(store: &S) -> Checked {
    let jane = create(store, &new_account("jane-doe", "s1", None)).await?;
    match store.link_identity(&jane, &identity("s9")).await {
        Err(LinkError::IssuerTaken { account, issuer }) => {
            ensure(account == jane && issuer == identity("s9").issuer, || {
                format!("IssuerTaken named {account} and {issuer}")
            })
        }
        other => Err(format!(
            "linking a second subject of the same issuer to one account gave {other:?}"
        )),
    }?;
    let found = store
        .account_by_identity(&identity("s9"))
        .await
        .map_err(|e| e.to_string())?;
    ensure(found.is_none(), || {
        format!("the refused identity was linked anyway: {found:?}")
    })
}

async fn the_assertion_look_up_stops_at_the_first_find<S: AccountStore>(store: &S) -> Checked {
    let jane = create(
        store,
        &new_account("jane-doe", "s1", Some("jane@acme.example")),
    )
    .await?;
    create(
        store,
        &new_account("jane-doe-2", "s2", Some("other@acme.example")),
    )
    .await?;
    let stems = vec!["jane-doe".to_owned()];
    let linked = store
        .look_up_assertion(&identity("s1"), Some("other@acme.example"), &stems)
        .await
        .map_err(|e| e.to_string())?;
    ensure(
        linked.by_identity.as_ref().map(|r| &r.id) == Some(&jane)
            && linked.by_email.is_empty()
            && linked.taken_handles.is_empty(),
        || format!("a linked identity's look-up gave {linked:?}"),
    )?;
    let by_email = store
        .look_up_assertion(&identity("new"), Some("JANE@acme.example"), &stems)
        .await
        .map_err(|e| e.to_string())?;
    ensure(
        by_email.by_identity.is_none()
            && by_email.by_email.iter().map(|r| &r.id).collect::<Vec<_>>() == [&jane]
            && by_email.taken_handles.is_empty(),
        || format!("an email's look-up gave {by_email:?}"),
    )?;
    let nobody = store
        .look_up_assertion(&identity("new"), Some("nobody@acme.example"), &stems)
        .await
        .map_err(|e| e.to_string())?;
    let taken: BTreeSet<String> = nobody
        .taken_handles
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    ensure(
        nobody.by_identity.is_none()
            && nobody.by_email.is_empty()
            && taken == BTreeSet::from(["jane-doe".to_owned(), "jane-doe-2".to_owned()]),
        || format!("a stranger's look-up gave {nobody:?}"),
    )?;
    let no_email = store
        .look_up_assertion(&identity("new"), None, &stems)
        .await
        .map_err(|e| e.to_string())?;
    ensure(no_email.taken_handles.len() == 2, || {
        format!("a look-up without an email gave {no_email:?}")
    })
}

async fn concurrent_creates_of_one_handle<S: AccountStore>(store: &S) -> Checked {
    let accounts: Vec<NewAccount> = (0..CONCURRENCY)
        .map(|n| new_account("jane-doe", &format!("s{n}"), None))
        .collect();
    let results = join_all(accounts.iter().map(|a| store.create_account(a))).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    let taken = results
        .iter()
        .filter(|r| matches!(r, Err(CreateError::HandleTaken(_))))
        .count();
    ensure(created == 1 && taken == CONCURRENCY - 1, || {
        format!("{CONCURRENCY} creates of one handle: {created} created, {taken} HandleTaken, others {:?}",
            results.iter().filter_map(|r| r.as_ref().err()).filter(|e| !matches!(e, CreateError::HandleTaken(_))).collect::<Vec<_>>())
    })
}

async fn concurrent_creates_of_one_identity<S: AccountStore>(store: &S) -> Checked {
    let accounts: Vec<NewAccount> = (0..CONCURRENCY)
        .map(|n| new_account(&format!("jane-doe-{}", n + 2), "s1", None))
        .collect();
    let results = join_all(accounts.iter().map(|a| store.create_account(a))).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    let taken = results
        .iter()
        .filter(|r| matches!(r, Err(CreateError::IdentityTaken(_))))
        .count();
    ensure(created == 1 && taken == CONCURRENCY - 1, || {
        format!("{CONCURRENCY} creates of one identity: {created} created, {taken} IdentityTaken")
    })
}

async fn concurrent_links_of_one_identity<S: AccountStore>(store: &S) -> Checked {
    let mut ids = Vec::with_capacity(CONCURRENCY);
    for n in 0..CONCURRENCY {
        ids.push(
            create(
                store,
                &new_account(&format!("u{n}"), &format!("s{n}"), None),
            )
            .await?,
        );
    }
    let contested = other_idp_identity("contested");
    let results = join_all(ids.iter().map(|id| store.link_identity(id, &contested))).await;
    let linked = results.iter().filter(|r| r.is_ok()).count();
    ensure(linked == 1, || {
        format!("{CONCURRENCY} links of one identity to different accounts: {linked} succeeded")
    })
}

async fn concurrent_links_of_one_issuer_to_one_account<S: AccountStore>(store: &S) -> Checked {
    // An account from another IdP; then many subjects of this IdP race to link to it.
    let account = create(
        store,
        &NewAccount {
            identity: other_idp_identity("elsewhere"),
            ..new_account("shared", "unused", None)
        },
    )
    .await?;
    let subjects: Vec<Identity> = (0..CONCURRENCY)
        .map(|n| identity(&format!("racer-{n}")))
        .collect();
    let results = join_all(subjects.iter().map(|s| store.link_identity(&account, s))).await;
    let linked = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(LinkError::IssuerTaken { .. })))
        .count();
    ensure(linked == 1 && refused == CONCURRENCY - 1, || {
        format!("{CONCURRENCY} subjects of one issuer linking to one account: {linked} linked, {refused} IssuerTaken")
    })
}

/// Two people with one email in a verified domain, logging in at once: the account is
/// taken over by one of them at most (the README's "never over an identity already linked
/// from the same IdP").
async fn concurrent_takeovers_by_email<S: AccountStore>(store: &S) -> Checked {
    let account = create(
        store,
        &NewAccount {
            identity: other_idp_identity("elsewhere"),
            ..new_account("sam-lee", "unused", Some("sam@acme.example"))
        },
    )
    .await?;
    let config: Config = serde_json::from_str(
        r#"{"orgs": {"acme": {"jit": true, "idp": "https://idp.conformance.example",
                              "verified_domains": ["acme.example"]}}}"#,
    )
    .map_err(|e| e.to_string())?;
    let policy = config.validate().map_err(|e| e.to_string())?;
    let provisioner = Provisioner::new(policy, store).with_max_attempts(CONCURRENCY as u32 + 1);
    let now = Utc
        .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
        .single()
        .ok_or("bad date")?;
    let requests: Vec<Request> = (0..CONCURRENCY)
        .map(|n| {
            Request::Assertion(Assertion {
                org: "acme".into(),
                issuer: "https://idp.conformance.example".into(),
                subject: format!("claimant-{n}"),
                email: Some("sam@acme.example".into()),
                ..Assertion::default()
            })
        })
        .collect();
    let results = join_all(requests.iter().map(|r| provisioner.handle(r, now))).await;
    let mut signed_in = 0;
    for result in results {
        let done = result.map_err(|e| format!("a concurrent takeover failed: {e}"))?;
        if done
            .account
            .as_ref()
            .is_some_and(|record| record.id == account)
        {
            signed_in += 1;
        }
    }
    let record = store
        .account_by_id(&account)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the account vanished")?;
    let from_this_idp = record
        .identities
        .iter()
        .filter(|linked| linked.issuer == "https://idp.conformance.example")
        .count();
    ensure(signed_in == 1 && from_this_idp == 1, || {
        format!(
            "{CONCURRENCY} subjects claiming one email at once: {signed_in} signed in to the account, \
             which now has {from_this_idp} identities from the IdP"
        )
    })
}

/// A burst of first logins of one name, every look-up answered before any creation: with
/// the default settings every login succeeds on its first decision, with one look-up and
/// one creation, and the handles are `jane-doe`, `jane-doe-2` … with none missing.
async fn concurrent_first_logins<S: AccountStore>(store: &S) -> Checked {
    let report = Burst::new(CONCURRENCY)
        .named("Jane", "Doe")
        .run(&[store])
        .await?;
    ensure(report.max_calls <= FIRST_LOGIN_CALLS, || {
        format!(
            "in a burst of {CONCURRENCY} first logins of one name a login made {} store calls \
             (at most {FIRST_LOGIN_CALLS}: the look-up and the creation; a store that finds \
             the proposed handle taken creates the account under `NewAccount::free_handle`)",
            report.max_calls
        )
    })
}

fn grant(org: &str, role: Role) -> Grant {
    Grant {
        org: org.into(),
        role,
    }
}

/// The roles `account` holds now, or why they cannot be read.
async fn roles_of<S: AccountStore>(
    store: &S,
    account: &AccountId,
) -> Result<Vec<(String, Role)>, String> {
    let record = store
        .account_by_id(account)
        .await
        .map_err(|e| format!("reading `{account}` failed: {e}"))?
        .ok_or_else(|| format!("account `{account}` is gone"))?;
    Ok(record.memberships.into_iter().collect())
}

async fn roles_only_rise<S: AccountStore>(store: &S) -> Checked {
    // acme: member, acme-labs: admin.
    let account = create(store, &new_account("jane-doe", "s1", None)).await?;
    let attempts = [
        (grant("acme", Role::Contributor), true),
        (grant("acme", Role::Contributor), false),
        (grant("acme", Role::Member), false),
        (grant("acme-labs", Role::Contributor), false),
        (grant("acme-ghosts", Role::Admin), false),
    ];
    for (wanted, rises) in &attempts {
        let rose = store
            .raise_role(&account, wanted)
            .await
            .map_err(|e| format!("raising to {wanted} failed: {e}"))?;
        ensure(rose == *rises, || {
            format!("raising to {wanted} returned {rose}, expected {rises}")
        })?;
    }
    let roles = roles_of(store, &account).await?;
    let expected = [
        ("acme".to_owned(), Role::Contributor),
        ("acme-labs".to_owned(), Role::Admin),
    ];
    ensure(roles == expected, || {
        format!("after the raises the account holds {roles:?}, expected {expected:?}: a role fell, or a raise added a membership")
    })?;
    let nobody = store
        .raise_role(
            &AccountId::from("no-such-account"),
            &grant("acme", Role::Admin),
        )
        .await
        .map_err(|e| {
            format!("raising an unknown account failed instead of returning false: {e}")
        })?;
    ensure(!nobody, || {
        "raising an unknown account returned true".to_owned()
    })
}

/// Sign-ins with different groups, racing: the role ends at the highest, whatever the
/// order, and only the raises that found a lower role report one.
async fn concurrent_raises_end_at_the_highest<S: AccountStore>(store: &S) -> Checked {
    let account = create(store, &new_account("jane-doe", "s1", None)).await?;
    let raises: Vec<Grant> = (0..CONCURRENCY)
        .map(|n| {
            grant(
                "acme",
                if n % 2 == 0 {
                    Role::Contributor
                } else {
                    Role::Admin
                },
            )
        })
        .collect();
    let results = join_all(raises.iter().map(|g| store.raise_role(&account, g))).await;
    let mut to_admin = 0;
    let mut to_contributor = 0;
    for (wanted, result) in raises.iter().zip(&results) {
        match result {
            Ok(true) if wanted.role == Role::Admin => to_admin += 1,
            Ok(true) => to_contributor += 1,
            Ok(false) => {}
            Err(e) => return Err(format!("a concurrent raise failed: {e}")),
        }
    }
    ensure(to_admin == 1 && to_contributor <= 1, || {
        format!("{CONCURRENCY} racing raises: {to_admin} rose to admin and {to_contributor} to contributor; expected 1 and at most 1")
    })?;
    let roles = roles_of(store, &account).await?;
    ensure(
        roles.first() == Some(&("acme".to_owned(), Role::Admin)),
        || format!("after racing raises the account holds {roles:?}, expected admin of acme"),
    )
}
