//! The org-directory contract as runnable checks, for every directory, in memory or SQL.

use std::future::Future;

use chrono::{DateTime, TimeZone, Utc};
use futures_util::future::join_all;

use super::conformance::{ensure, Checked, ConformanceError, CONCURRENCY};
use crate::config::OrgConfig;
use crate::org::{
    changes_between, OrgDirectory, OrgState, OrgWrite, WriteError, MAX_LISTED_CHANGES,
};

fn noon() -> Result<DateTime<Utc>, String> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0)
        .single()
        .ok_or_else(|| "bad date".to_owned())
}

fn org(json: &str) -> Result<OrgConfig, String> {
    serde_json::from_str(json).map_err(|error| format!("a test config does not parse: {error}"))
}

fn acme() -> Result<OrgConfig, String> {
    org(
        r#"{"jit": true, "idp": "https://idp.acme.example", "verified_domains": ["acme.example"],
            "saml": {"idp": {"metadata_url": "https://idp.acme.example/metadata"}, "attributes": {"preset": "okta"}}}"#,
    )
}

/// Writes `config` as the version after `expected`, by `actor`.
async fn put<D: OrgDirectory>(
    directory: &D,
    id: &str,
    config: &OrgConfig,
    expected: u64,
    actor: &str,
) -> Result<Result<u64, u64>, String> {
    let before = directory
        .org(id)
        .await
        .map_err(|error| format!("org failed: {error}"))?;
    let changes = changes_between(before.as_ref().map(|record| &record.config), config);
    let write = OrgWrite::new(id, config.clone(), expected, noon()?, actor, changes);
    match directory.write(write).await {
        Ok(record) => Ok(Ok(record.version)),
        Err(WriteError::Conflict { current }) => Ok(Err(current)),
        Err(error) => Err(format!("write failed: {error}")),
    }
}

/// Runs the whole org-directory contract (see [`OrgDirectory`]). `fresh` makes an empty
/// directory; each check gets its own. Returns every violation found.
///
/// ```
/// # pollster::block_on(async {
/// use jit_provisioning::{org::MemoryDirectory, testing::org_directory_conformance};
///
/// org_directory_conformance(|| async { MemoryDirectory::new() }).await.unwrap();
/// # });
/// ```
pub async fn org_directory_conformance<D, F, Fut>(fresh: F) -> Result<(), ConformanceError>
where
    D: OrgDirectory,
    F: Fn() -> Fut,
    Fut: Future<Output = D>,
{
    run_checks!(
        fresh;
        a_record_reads_back_as_written,
        versions_count_writes,
        a_stale_write_conflicts_and_changes_nothing,
        concurrent_writes_of_one_version,
        history_keeps_every_change,
        listing_pages_in_order_of_id,
        existing_names_the_known_ones,
        ids_under_a_stem,
        changes_follow_writes,
        many_writes_of_one_org_are_not_missed,
    )
}

async fn a_record_reads_back_as_written<D: OrgDirectory>(directory: &D) -> Checked {
    ensure(
        directory
            .org("acme")
            .await
            .map_err(|e| e.to_string())?
            .is_none(),
        || "an empty directory has an org".into(),
    )?;
    let mut config = acme()?;
    config.state = OrgState::Draft;
    put(directory, "acme", &config, 0, "support:sam")
        .await?
        .map_err(|current| {
            format!("the first write of a new org conflicted (current version {current})")
        })?;
    let record = directory
        .org("acme")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the org written is not there")?;
    ensure(record.config == config, || {
        format!(
            "the config read back differs: {:?} vs {config:?}",
            record.config
        )
    })?;
    ensure(record.version == 1, || {
        format!("the first version is {}", record.version)
    })?;
    ensure(record.updated_by == "support:sam", || {
        format!("updated_by is `{}`", record.updated_by)
    })?;
    ensure(record.updated_at == noon()?, || {
        format!("updated_at is {}", record.updated_at)
    })
}

async fn versions_count_writes<D: OrgDirectory>(directory: &D) -> Checked {
    let mut config = acme()?;
    for expected in 0..3 {
        config.force_authn = expected % 2 == 0;
        let version = put(directory, "acme", &config, expected, "a")
            .await?
            .map_err(|current| format!("write after version {expected} conflicted at {current}"))?;
        ensure(version == expected + 1, || {
            format!("the write after version {expected} made version {version}")
        })?;
    }
    Ok(())
}

async fn a_stale_write_conflicts_and_changes_nothing<D: OrgDirectory>(directory: &D) -> Checked {
    let first = acme()?;
    put(directory, "acme", &first, 0, "a")
        .await?
        .map_err(|_| "first write conflicted")?;
    let mut second = first.clone();
    second.jit = false;
    ensure(
        put(directory, "acme", &second, 0, "b").await? == Err(1),
        || "a write expecting a new org did not conflict with version 1".into(),
    )?;
    ensure(
        put(directory, "acme", &second, 5, "b").await? == Err(1),
        || "a write expecting version 5 did not conflict with version 1".into(),
    )?;
    let record = directory
        .org("acme")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the org is gone")?;
    ensure(record.config == first && record.version == 1, || {
        "a conflicting write changed the record".into()
    })?;
    let history = directory.history("acme").await.map_err(|e| e.to_string())?;
    ensure(history.len() == 1, || {
        format!("conflicting writes left history: {} entries", history.len())
    })
}

async fn concurrent_writes_of_one_version<D: OrgDirectory>(directory: &D) -> Checked {
    let base = acme()?;
    put(directory, "acme", &base, 0, "a")
        .await?
        .map_err(|_| "first write conflicted")?;
    let writes = (0..CONCURRENCY).map(|n| {
        let mut config = base.clone();
        config.required_groups = vec![format!("group-{n}")];
        let changes = changes_between(Some(&base), &config);
        let at = noon();
        async move {
            let write = OrgWrite::new("acme", config, 1, at?, format!("admin-{n}"), changes);
            Ok::<_, String>(directory.write(write).await)
        }
    });
    let mut won = Vec::new();
    for (n, result) in join_all(writes).await.into_iter().enumerate() {
        match result? {
            Ok(_) => won.push(n),
            Err(WriteError::Conflict { current: 2 }) => {}
            Err(WriteError::Conflict { current }) => {
                return Err(format!("a losing write saw version {current}, not 2"))
            }
            Err(error) => return Err(format!("write failed: {error}")),
        }
    }
    ensure(won.len() == 1, || {
        format!("{CONCURRENCY} writes of version 1: {} won", won.len())
    })?;
    let record = directory
        .org("acme")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the org is gone")?;
    let winner = won.first().copied().unwrap_or_default();
    ensure(
        record.version == 2
            && record.config.required_groups == [format!("group-{winner}")]
            && record.updated_by == format!("admin-{winner}"),
        || format!("the record is not the winner's whole: {record:?}"),
    )
}

async fn history_keeps_every_change<D: OrgDirectory>(directory: &D) -> Checked {
    let first = acme()?;
    put(directory, "acme", &first, 0, "support:sam")
        .await?
        .map_err(|_| "conflict")?;
    let mut second = first.clone();
    second.state = OrgState::Inactive;
    put(directory, "acme", &second, 1, "admin:jane")
        .await?
        .map_err(|_| "conflict")?;
    put(directory, "other", &first, 0, "x")
        .await?
        .map_err(|_| "conflict")?;
    let history = directory.history("acme").await.map_err(|e| e.to_string())?;
    let summary: Vec<(u64, &str)> = history
        .iter()
        .map(|entry| (entry.version, entry.actor.as_str()))
        .collect();
    ensure(summary == [(1, "support:sam"), (2, "admin:jane")], || {
        format!("history is {summary:?}")
    })?;
    let last = history.last().ok_or("no history")?;
    ensure(
        last.changes == changes_between(Some(&first), &second) && last.org == "acme",
        || format!("the entry of version 2 lists {:?}", last.changes),
    )?;
    ensure(
        history
            .first()
            .is_some_and(|entry| entry.changes == changes_between(None, &first)),
        || "the entry of version 1 lost its changes".into(),
    )
}

async fn listing_pages_in_order_of_id<D: OrgDirectory>(directory: &D) -> Checked {
    let config = org("{}")?;
    for id in ["delta", "alpha", "charlie", "bravo", "echo"] {
        put(directory, id, &config, 0, "a")
            .await?
            .map_err(|_| "conflict")?;
    }
    let ids = |records: Vec<crate::org::OrgRecord>| -> Vec<String> {
        records.into_iter().map(|record| record.id).collect()
    };
    let first = ids(directory.orgs(None, 2).await.map_err(|e| e.to_string())?);
    let next = ids(directory
        .orgs(Some("bravo"), 2)
        .await
        .map_err(|e| e.to_string())?);
    let last = ids(directory
        .orgs(Some("delta"), 2)
        .await
        .map_err(|e| e.to_string())?);
    ensure(
        first == ["alpha", "bravo"] && next == ["charlie", "delta"] && last == ["echo"],
        || format!("pages: {first:?} {next:?} {last:?}"),
    )
}

async fn existing_names_the_known_ones<D: OrgDirectory>(directory: &D) -> Checked {
    put(directory, "acme", &org("{}")?, 0, "a")
        .await?
        .map_err(|_| "conflict")?;
    let mut found = directory
        .existing(&["ghost".into(), "acme".into()])
        .await
        .map_err(|e| e.to_string())?;
    found.sort();
    ensure(found == ["acme"], || format!("existing answered {found:?}"))
}

async fn ids_under_a_stem<D: OrgDirectory>(directory: &D) -> Checked {
    for id in [
        "jane-doe",
        "Jane-Doe-2",
        "jane-doe-x",
        "jane-does",
        "jane",
        "sam-lee-7",
    ] {
        put(directory, id, &org("{}")?, 0, "a")
            .await?
            .map_err(|_| "conflict")?;
    }
    let mut found = directory
        .ids_under(&["jane-doe".into(), "sam-lee".into()])
        .await
        .map_err(|e| e.to_string())?;
    found.sort();
    ensure(found == ["jane-doe", "jane-doe-2", "sam-lee-7"], || {
        format!("ids under jane-doe and sam-lee: {found:?}")
    })
}

async fn changes_follow_writes<D: OrgDirectory>(directory: &D) -> Checked {
    let start = directory
        .changes_since(0)
        .await
        .map_err(|e| e.to_string())?;
    ensure(start.orgs.is_empty() && !start.all, || {
        format!("an empty directory has changes: {start:?}")
    })?;
    let config = org("{}")?;
    put(directory, "acme", &config, 0, "a")
        .await?
        .map_err(|_| "conflict")?;
    put(directory, "labs", &config, 0, "a")
        .await?
        .map_err(|_| "conflict")?;
    let first = directory
        .changes_since(start.mark)
        .await
        .map_err(|e| e.to_string())?;
    let mut orgs = first.orgs.clone();
    orgs.sort();
    ensure(orgs == ["acme", "labs"] && first.mark > start.mark, || {
        format!("after two writes: {first:?}")
    })?;
    let none = directory
        .changes_since(first.mark)
        .await
        .map_err(|e| e.to_string())?;
    ensure(none.orgs.is_empty() && none.mark == first.mark, || {
        format!("no write, yet: {none:?}")
    })?;
    let mut changed = config.clone();
    changed.jit = true;
    changed.idp = Some("https://idp".into());
    put(directory, "labs", &changed, 1, "a")
        .await?
        .map_err(|_| "conflict")?;
    let last = directory
        .changes_since(first.mark)
        .await
        .map_err(|e| e.to_string())?;
    ensure(last.orgs == ["labs"] && last.mark > first.mark, || {
        format!("after one more write: {last:?}")
    })?;
    // A mark from the future (a database restored from a backup): everything changed.
    let restored = directory
        .changes_since(last.mark + 1_000)
        .await
        .map_err(|e| e.to_string())?;
    ensure(restored.all, || {
        format!("asked from a mark past the latest: {restored:?}")
    })
}

async fn many_writes_of_one_org_are_not_missed<D: OrgDirectory>(directory: &D) -> Checked {
    let start = directory
        .changes_since(0)
        .await
        .map_err(|e| e.to_string())?;
    let mut config = org("{}")?;
    for version in 0..=MAX_LISTED_CHANGES as u64 {
        config.force_authn = version % 2 == 0;
        put(directory, "acme", &config, version, "a")
            .await?
            .map_err(|current| format!("write {version} conflicted at {current}"))?;
    }
    let changes = directory
        .changes_since(start.mark)
        .await
        .map_err(|e| e.to_string())?;
    // One org written many times may be listed once; more writes than a page may also
    // say `all`. Either way the org is not missed.
    ensure(changes.all || changes.orgs == ["acme"], || {
        format!(
            "after {} writes of one org: {changes:?}",
            MAX_LISTED_CHANGES + 1
        )
    })
}
