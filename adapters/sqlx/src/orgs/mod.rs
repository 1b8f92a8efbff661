//! Org directories in the adapter's database: [`SqliteDirectory`] and [`PgDirectory`].
//!
//! What the two backends do alike is here, once: the statements (both accept `$N`
//! placeholders, so one text serves both), every read, the steps of a write inside its
//! transaction, and rows and JSON to records and back. A backend's own file says only how
//! a write's transaction starts: what makes org writes take turns, so that the change
//! marks follow the order in which they commit.

use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use jit_provisioning::org::{
    AuditEntry, Changes, FieldChange, OrgRecord, OrgWrite, WriteError, MAX_LISTED_CHANGES,
};
use jit_provisioning::{OrgConfig, StoreError};

use crate::error::store_error;
use crate::queries::stem_shaped;
use crate::rows::key;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use postgres::PgDirectory;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteDirectory;

/// One org's record. Binds the id.
const ORG: &str = "SELECT id, config, version, updated_at, updated_by FROM jit_orgs WHERE id = $1";

/// The first page of records in order of id. Binds the page's length.
const FIRST_PAGE: &str =
    "SELECT id, config, version, updated_at, updated_by FROM jit_orgs ORDER BY id LIMIT $1";

/// The page of records after an id. Binds the id, the page's length.
const NEXT_PAGE: &str = "SELECT id, config, version, updated_at, updated_by FROM jit_orgs
    WHERE id > $1 ORDER BY id LIMIT $2";

/// The first version of an org, unless the id is taken: no row back then. Binds id,
/// folded id, config, version, when, who.
const INSERT: &str = "INSERT INTO jit_orgs (id, folded, config, version, updated_at, updated_by)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (id) DO NOTHING RETURNING version";

/// The next version of an org, only from the expected one: no row back otherwise. Binds
/// as [`INSERT`], then the expected version.
const UPDATE: &str = "UPDATE jit_orgs
    SET folded = $2, config = $3, version = $4, updated_at = $5, updated_by = $6
    WHERE id = $1 AND version = $7 RETURNING version";

/// An org's version. Binds the id.
const VERSION: &str = "SELECT version FROM jit_orgs WHERE id = $1";

/// A write's history entry, which takes the next change mark. Binds org, version, when,
/// who, the changes.
const APPEND: &str = "INSERT INTO jit_org_history (org_id, version, at, actor, changes)
    VALUES ($1, $2, $3, $4, $5)";

/// An org's history, oldest first (the `(org_id, version)` index). Binds the id.
const HISTORY: &str = "SELECT org_id, version, at, actor, changes FROM jit_org_history
    WHERE org_id = $1 ORDER BY version";

/// The latest change mark (its row's org is NULL), and the orgs of the marks after one,
/// up to a number: one statement, so one snapshot, in which every mark after the one
/// asked from up to the latest is listed unless the number was reached. Binds the mark
/// asked from, the number.
const CHANGES: &str = "WITH listed AS (
        SELECT seq, org_id FROM jit_org_history WHERE seq > $1 ORDER BY seq LIMIT $2
    )
    SELECT COALESCE((SELECT MAX(seq) FROM jit_org_history), 0) AS seq, NULL AS org_id
    UNION ALL
    SELECT seq, org_id FROM listed";

/// Ids one [`existing`](Tables::existing) statement asks about, well under either
/// backend's limit on bound values.
const IDS_PER_STATEMENT: usize = 500;

/// Stems one [`ids_under`](Tables::ids_under) statement asks about (three values each).
const STEMS_PER_STATEMENT: usize = 150;

/// Which of `ids` exist: `SELECT id … WHERE id IN ($1, … $ids)`.
fn existing_sql(ids: usize) -> String {
    let list: Vec<String> = (1..=ids).map(|n| format!("${n}")).collect();
    format!("SELECT id FROM jit_orgs WHERE id IN ({})", list.join(", "))
}

/// The folded ids equal to a stem or between the stem followed by `-` and the stem
/// followed by `.` (the character after `-`): for each stem, an index range on `folded`
/// holding the stem's `-<digits>` names and little else. Binds [`stem_range`] of each.
fn ids_under_sql(stems: usize) -> String {
    let ranges: Vec<String> = (0..stems)
        .map(|n| {
            let (stem, low, high) = (3 * n + 1, 3 * n + 2, 3 * n + 3);
            format!("(folded = ${stem} OR (folded > ${low} AND folded < ${high}))")
        })
        .collect();
    format!("SELECT folded FROM jit_orgs WHERE {}", ranges.join(" OR "))
}

/// What [`ids_under_sql`] binds for one lower-cased stem.
fn stem_range(stem: &str) -> [String; 3] {
    [stem.to_owned(), format!("{stem}-"), format!("{stem}.")]
}

/// The [`OrgDirectory`](jit_provisioning::org::OrgDirectory) of a backend's directory:
/// every read from its `tables`, and the write from its own `write_now`.
macro_rules! org_directory {
    ($name:ty) => {
        #[async_trait::async_trait]
        impl jit_provisioning::org::OrgDirectory for $name {
            async fn org(
                &self,
                id: &str,
            ) -> Result<Option<jit_provisioning::org::OrgRecord>, jit_provisioning::StoreError>
            {
                self.tables.org(id).await
            }

            async fn orgs(
                &self,
                after: Option<&str>,
                limit: usize,
            ) -> Result<Vec<jit_provisioning::org::OrgRecord>, jit_provisioning::StoreError> {
                self.tables.orgs(after, limit).await
            }

            async fn existing(
                &self,
                ids: &[String],
            ) -> Result<Vec<String>, jit_provisioning::StoreError> {
                self.tables.existing(ids).await
            }

            async fn ids_under(
                &self,
                stems: &[String],
            ) -> Result<Vec<String>, jit_provisioning::StoreError> {
                self.tables.ids_under(stems).await
            }

            async fn write(
                &self,
                write: jit_provisioning::org::OrgWrite,
            ) -> Result<jit_provisioning::org::OrgRecord, jit_provisioning::org::WriteError> {
                self.write_now($crate::orgs::Prepared::new(write)?).await
            }

            async fn history(
                &self,
                id: &str,
            ) -> Result<Vec<jit_provisioning::org::AuditEntry>, jit_provisioning::StoreError> {
                self.tables.history(id).await
            }

            async fn changes_since(
                &self,
                since: u64,
            ) -> Result<jit_provisioning::org::Changes, jit_provisioning::StoreError> {
                self.tables.changes_since(since).await
            }
        }
    };
}
use org_directory;

/// The org tables over one backend's pool: every read, and the steps of a write inside
/// the transaction that the backend began.
pub(crate) struct Tables<DB: Database> {
    pool: Pool<DB>,
}

impl<DB: Database> Clone for Tables<DB> {
    fn clone(&self) -> Self {
        Tables {
            pool: self.pool.clone(),
        }
    }
}

impl<DB: Database> fmt::Debug for Tables<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tables").field("pool", &self.pool).finish()
    }
}

impl<DB> Tables<DB>
where
    DB: Database,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    pub(crate) fn new(pool: Pool<DB>) -> Self {
        Tables { pool }
    }

    pub(crate) fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    pub(crate) async fn org(&self, id: &str) -> Result<Option<OrgRecord>, StoreError> {
        let rows = self.rows(sqlx::query(ORG).bind(id.to_owned())).await?;
        rows.first().map(Self::record).transpose()
    }

    pub(crate) async fn orgs(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OrgRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let query = match after {
            Some(after) => sqlx::query(NEXT_PAGE).bind(after.to_owned()).bind(limit),
            None => sqlx::query(FIRST_PAGE).bind(limit),
        };
        self.rows(query).await?.iter().map(Self::record).collect()
    }

    pub(crate) async fn existing(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let mut found = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = existing_sql(chunk.len());
            let query = chunk
                .iter()
                .fold(sqlx::query(&sql), |query, id| query.bind(id.clone()));
            found.extend(self.first_column(query).await?);
        }
        Ok(found)
    }

    /// The folded ids under `stems`: index ranges, then the stem-or-`stem-<digits>` ones.
    pub(crate) async fn ids_under(&self, stems: &[String]) -> Result<Vec<String>, StoreError> {
        let stems: Vec<String> = stems.iter().map(|stem| key(stem)).collect();
        let mut found = Vec::new();
        for chunk in stems.chunks(STEMS_PER_STATEMENT) {
            let sql = ids_under_sql(chunk.len());
            let query = chunk
                .iter()
                .flat_map(|stem| stem_range(stem))
                .fold(sqlx::query(&sql), |query, bound| query.bind(bound));
            found.extend(self.first_column(query).await?);
        }
        let mut found = stem_shaped(found, &stems);
        found.sort_unstable();
        found.dedup();
        Ok(found)
    }

    pub(crate) async fn history(&self, id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = self.rows(sqlx::query(HISTORY).bind(id.to_owned())).await?;
        rows.iter().map(Self::entry).collect()
    }

    pub(crate) async fn changes_since(&self, since: u64) -> Result<Changes, StoreError> {
        let listed = i64::try_from(MAX_LISTED_CHANGES.saturating_add(1)).unwrap_or(i64::MAX);
        let since_stored = i64::try_from(since).unwrap_or(i64::MAX);
        let rows = self
            .rows(sqlx::query(CHANGES).bind(since_stored).bind(listed))
            .await?;
        let mut mark = None;
        let mut orgs = Vec::new();
        for row in &rows {
            let decoded = (|| {
                Ok::<_, sqlx::Error>((
                    row.try_get::<i64, _>(0)?,
                    row.try_get::<Option<String>, _>(1)?,
                ))
            })();
            match decoded.map_err(store_error)? {
                (seq, None) => mark = Some(seq),
                (_, Some(org)) => orgs.push(org),
            }
        }
        let mark =
            mark.ok_or_else(|| StoreError::InvalidData("no change mark came back".into()))?;
        let mark = u64::try_from(mark)
            .map_err(|_| StoreError::InvalidData(format!("change mark {mark} is negative")))?;
        Ok(changes(since, mark, orgs))
    }

    /// The steps of `write` on `connection`, inside the transaction its backend began
    /// holding what makes org writes take turns: the record written only from the
    /// expected version, else [`WriteError::Conflict`] with nothing written; then the
    /// history entry, which takes the next change mark. Commit or roll back is the
    /// caller's.
    pub(crate) async fn write_in(
        connection: &mut DB::Connection,
        write: &Prepared,
    ) -> Result<(), WriteError> {
        let statement = if write.expected == 0 { INSERT } else { UPDATE };
        let mut query = sqlx::query(statement)
            .bind(write.record.id.clone())
            .bind(write.folded.clone())
            .bind(write.config.clone())
            .bind(write.version)
            .bind(write.record.updated_at)
            .bind(write.record.updated_by.clone());
        if write.expected != 0 {
            query = query.bind(write.expected);
        }
        let written = query
            .fetch_optional(&mut *connection)
            .await
            .map_err(store_error)?;
        if written.is_none() {
            let current = sqlx::query(VERSION)
                .bind(write.record.id.clone())
                .fetch_optional(&mut *connection)
                .await
                .map_err(store_error)?;
            let current = match current {
                Some(row) => version(&write.record.id, row.try_get(0).map_err(store_error)?)?,
                None => 0,
            };
            return Err(WriteError::Conflict { current });
        }
        sqlx::query(APPEND)
            .bind(write.record.id.clone())
            .bind(write.version)
            .bind(write.record.updated_at)
            .bind(write.record.updated_by.clone())
            .bind(write.changes.clone())
            .execute(&mut *connection)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Every row `query` finds on the pool.
    async fn rows<'q>(
        &self,
        query: sqlx::query::Query<'q, DB, DB::Arguments<'q>>,
    ) -> Result<Vec<DB::Row>, StoreError> {
        query.fetch_all(&self.pool).await.map_err(store_error)
    }

    /// The first column of every row `query` finds, as text.
    async fn first_column<'q>(
        &self,
        query: sqlx::query::Query<'q, DB, DB::Arguments<'q>>,
    ) -> Result<Vec<String>, StoreError> {
        let rows = self.rows(query).await?;
        rows.iter()
            .map(|row| row.try_get(0).map_err(store_error))
            .collect()
    }

    /// A row of [`ORG`], [`FIRST_PAGE`] or [`NEXT_PAGE`].
    fn record(row: &DB::Row) -> Result<OrgRecord, StoreError> {
        let decoded = (|| {
            Ok::<_, sqlx::Error>((
                row.try_get::<String, _>(0)?,
                row.try_get::<String, _>(1)?,
                row.try_get::<i64, _>(2)?,
                row.try_get::<DateTime<Utc>, _>(3)?,
                row.try_get::<String, _>(4)?,
            ))
        })();
        let (id, config, stored, at, by) = decoded.map_err(store_error)?;
        let config = config_from_json(&id, &config)?;
        let version = version(&id, stored)?;
        Ok(OrgRecord::new(id, config, version, at, by))
    }

    /// A row of [`HISTORY`].
    fn entry(row: &DB::Row) -> Result<AuditEntry, StoreError> {
        let decoded = (|| {
            Ok::<_, sqlx::Error>((
                row.try_get::<String, _>(0)?,
                row.try_get::<i64, _>(1)?,
                row.try_get::<DateTime<Utc>, _>(2)?,
                row.try_get::<String, _>(3)?,
                row.try_get::<String, _>(4)?,
            ))
        })();
        let (org, stored, at, actor, changes) = decoded.map_err(store_error)?;
        let changes = changes_from_json(&org, &changes)?;
        let version = version(&org, stored)?;
        Ok(AuditEntry::new(org, version, at, actor, changes))
    }
}

/// A write made ready before its transaction starts (nothing is left to fail but the
/// statements while it holds the lock): the values it binds, and the record it makes.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The record as the write makes it, and as it reads back.
    pub(crate) record: OrgRecord,
    folded: String,
    config: String,
    version: i64,
    expected: i64,
    changes: String,
}

impl Prepared {
    pub(crate) fn new(mut write: OrgWrite) -> Result<Self, WriteError> {
        // PostgreSQL keeps microseconds: both backends keep as much, so that the record
        // a write returns is the one every later read gives.
        write.at = write.at.trunc_subsecs(6);
        let record = write.record();
        let stored = |version: u64| {
            i64::try_from(version).map_err(|_| {
                StoreError::InvalidData(format!("org `{}`: version {version}", write.id))
            })
        };
        Ok(Prepared {
            folded: key(&write.id),
            config: config_json(&write.config)?,
            version: stored(record.version)?,
            expected: stored(write.expected_version)?,
            changes: changes_json(&write.changes),
            record,
        })
    }
}

/// What a [`CHANGES`] answer means: the orgs after `since` up to `mark`, or everything
/// when more were listed than an answer may hold, or when the marks went back (the
/// database was restored, or is another one): the asker cannot tell what it missed.
fn changes(since: u64, mark: u64, mut orgs: Vec<String>) -> Changes {
    if orgs.len() > MAX_LISTED_CHANGES || since > mark {
        return Changes::everything(mark);
    }
    orgs.sort_unstable();
    orgs.dedup();
    Changes::new(mark, orgs)
}

/// A stored version, which a write made positive.
fn version(id: &str, stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored)
        .map_err(|_| StoreError::InvalidData(format!("org `{id}` has version {stored}")))
}

fn config_json(config: &OrgConfig) -> Result<String, StoreError> {
    serde_json::to_string(config)
        .map_err(|error| StoreError::InvalidData(format!("an org config as JSON: {error}")))
}

fn config_from_json(id: &str, text: &str) -> Result<OrgConfig, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::InvalidData(format!("the config of org `{id}`: {error}")))
}

/// The changes of a write as a JSON array of `{"field", "before", "after"}` objects, a
/// side left out when it is `None`: serde would write `None` and `Some(null)` (a field
/// set to null, in an org's `saml` table) both as `null`.
fn changes_json(changes: &[FieldChange]) -> String {
    let objects = changes.iter().map(|change| {
        let mut object = Map::new();
        object.insert("field".into(), Value::String(change.field.clone()));
        for (side, value) in [("before", &change.before), ("after", &change.after)] {
            if let Some(value) = value {
                object.insert(side.into(), value.clone());
            }
        }
        Value::Object(object)
    });
    Value::Array(objects.collect()).to_string()
}

/// The changes [`changes_json`] wrote: a side present is `Some`, even when `null`.
fn changes_from_json(org: &str, text: &str) -> Result<Vec<FieldChange>, StoreError> {
    let invalid = |error: serde_json::Error| {
        StoreError::InvalidData(format!("a history entry of org `{org}`: {error}"))
    };
    let objects: Vec<Map<String, Value>> = serde_json::from_str(text).map_err(invalid)?;
    objects
        .into_iter()
        .map(|object| {
            let mut change: FieldChange =
                serde_json::from_value(Value::Object(object.clone())).map_err(invalid)?;
            change.before = object.get("before").cloned();
            change.after = object.get("after").cloned();
            Ok(change)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use jit_provisioning::org::changes_between;

    use super::*;

    #[test]
    fn changes_read_back_as_written_null_included() {
        let before: OrgConfig = serde_json::from_str(
            r#"{"jit": true, "idp": "https://idp", "saml": {"idp": {"metadata_url": "https://a"}, "sp": null}}"#,
        )
        .unwrap();
        let after: OrgConfig = serde_json::from_str(
            r#"{"jit": false, "idp": "https://idp", "saml": {"idp": {"metadata_url": "https://b"}, "sp": 1}}"#,
        )
        .unwrap();
        for changes in [
            changes_between(None, &before),
            changes_between(Some(&before), &after),
            changes_between(Some(&after), &before),
        ] {
            assert!(!changes.is_empty());
            let text = changes_json(&changes);
            assert_eq!(changes_from_json("acme", &text).unwrap(), changes, "{text}");
        }
        let set_to_null = changes_between(Some(&after), &before);
        assert!(set_to_null
            .iter()
            .any(|change| change.after == Some(Value::Null)));
    }

    #[test]
    fn a_broken_history_entry_is_invalid_data() {
        for text in ["", "{}", r#"[{"before": 1}]"#, r#"[{"field": 3}]"#] {
            assert!(
                matches!(changes_from_json("acme", text), Err(StoreError::InvalidData(m)) if m.contains("`acme`")),
                "{text}"
            );
        }
    }

    #[test]
    fn too_many_changes_or_marks_gone_back_are_everything() {
        let many: Vec<String> = (0..=MAX_LISTED_CHANGES).map(|n| n.to_string()).collect();
        assert_eq!(changes(0, 2_000, many), Changes::everything(2_000));
        assert_eq!(changes(9, 4, vec![]), Changes::everything(4));
        assert_eq!(
            changes(1, 4, vec!["labs".into(), "acme".into(), "labs".into()]),
            Changes::new(4, vec!["acme".into(), "labs".into()])
        );
        assert_eq!(changes(4, 4, vec![]), Changes::new(4, vec![]));
    }

    #[test]
    fn a_stem_range_holds_its_suffixes_and_little_else() {
        let [stem, low, high] = stem_range("jane-doe");
        let inside =
            |folded: &str| folded == stem || (low.as_str() < folded && folded < high.as_str());
        for folded in ["jane-doe", "jane-doe-2", "jane-doe-x"] {
            assert!(inside(folded), "{folded}");
        }
        for folded in [
            "jane-do",
            "jane-does",
            "jane-doe.",
            "jane-doe!",
            "jane-doe-",
            "jane",
        ] {
            assert!(!inside(folded), "{folded}");
        }
        assert_eq!(
            ids_under_sql(2),
            "SELECT folded FROM jit_orgs WHERE (folded = $1 OR (folded > $2 AND folded < $3)) \
             OR (folded = $4 OR (folded > $5 AND folded < $6))"
        );
        assert_eq!(
            existing_sql(3),
            "SELECT id FROM jit_orgs WHERE id IN ($1, $2, $3)"
        );
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_reads_use_the_indexes() {
        use crate::sqlite::tests::plan;

        let store = crate::SqliteStore::connect("sqlite::memory:")
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let binds = ["jane-doe", "jane-doe-", "jane-doe.", "sam", "sam-", "sam."];
        let under = plan(&store, &ids_under_sql(2), &binds).await;
        assert!(under.contains("jit_orgs_folded"), "{under}");
        assert!(!under.contains("SCAN jit_orgs"), "{under}");
        for (sql, binds) in [
            (ORG, &["acme"][..]),
            (NEXT_PAGE, &["acme", "10"][..]),
            (HISTORY, &["acme"][..]),
            (CHANGES, &["7", "1001"][..]),
            (VERSION, &["acme"][..]),
        ] {
            let steps = plan(&store, sql, binds).await;
            assert!(!steps.contains("SCAN jit_org"), "{sql}\n{steps}");
            assert!(!steps.contains("TEMP B-TREE"), "{sql}\n{steps}");
        }
    }

    #[test]
    fn a_write_is_kept_to_the_microsecond() {
        let at = chrono::TimeZone::timestamp_opt(&Utc, 1_800_000_000, 123_456_789).unwrap();
        let write = OrgWrite::new("Acme", OrgConfig::default(), 0, at, "sam", vec![]);
        let prepared = Prepared::new(write).unwrap();
        assert_eq!(
            prepared.record.updated_at.timestamp_subsec_nanos(),
            123_456_000
        );
        assert_eq!((prepared.version, prepared.expected), (1, 0));
        assert_eq!(prepared.folded, "acme");
        assert_eq!(prepared.changes, "[]");
    }
}
