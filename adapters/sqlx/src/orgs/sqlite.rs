//! [`SqliteDirectory`]: the orgs in a SQLite database, written one at a time under the
//! database's write lock.

use std::sync::Arc;

use sqlx::{Connection, Sqlite, SqlitePool};

use jit_provisioning::org::{OrgRecord, WriteError};

use super::{org_directory, Prepared, Tables};
use crate::error::store_error;
use crate::sqlite::Lease;

/// An [`OrgDirectory`](jit_provisioning::org::OrgDirectory) in the SQLite database of a
/// [`SqliteStore`](crate::SqliteStore): the tables `jit_orgs` and `jit_org_history`, which
/// the store's `migrate()` makes.
///
/// A write is one `BEGIN IMMEDIATE` transaction: it waits for the database's write lock
/// before its first statement, so the writes of every process on the file take turns, and
/// each takes its change mark (the history's `AUTOINCREMENT` key) in the order they
/// commit. The writes of one directory and its clones queue in-process first, as the
/// store's do. Reads are single statements, which WAL lets run beside the writer.
///
/// ```
/// use std::sync::Arc;
/// use chrono::{TimeZone, Utc};
/// use jit_provisioning::org::{OrgRegistry, OrgUpdate};
/// use jit_provisioning::{Config, OrgConfig};
/// use jit_provisioning_sqlx::{SqliteDirectory, SqliteStore};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
/// store.migrate().await.unwrap(); // the org tables too
/// let directory = SqliteDirectory::new(store.pool().clone());
/// let registry = OrgRegistry::new(Arc::new(directory), &Config::default()).unwrap();
///
/// let acme: OrgConfig =
///     serde_json::from_str(r#"{"jit": true, "idp": "https://idp.acme.example"}"#).unwrap();
/// let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
/// registry.update(OrgUpdate::new("acme", acme, "support:sam", now)).await.unwrap();
/// let live = registry.org("acme").await.unwrap().unwrap();
/// assert_eq!(live.record().version, 1);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct SqliteDirectory {
    tables: Tables<Sqlite>,
    /// This directory's writers queue here rather than in SQLite's busy handler.
    writers: Arc<tokio::sync::Mutex<()>>,
}

impl SqliteDirectory {
    /// A directory over a pool of a database that [`SqliteStore::migrate`](crate::SqliteStore::migrate)
    /// has migrated: the store's own (`store.pool().clone()`), or any pool on the file.
    pub fn new(pool: SqlitePool) -> Self {
        SqliteDirectory {
            tables: Tables::new(pool),
            writers: Arc::default(),
        }
    }

    /// The pool.
    pub fn pool(&self) -> &SqlitePool {
        self.tables.pool()
    }

    /// `write` in a transaction that holds the write lock from its start.
    async fn write_now(&self, write: Prepared) -> Result<OrgRecord, WriteError> {
        let _turn = self.writers.lock().await;
        let mut lease = Lease::acquire(self.pool()).await?;
        let written = async {
            let mut tx = lease
                .connection()
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(store_error)?;
            Tables::<Sqlite>::write_in(&mut tx, &write).await?;
            tx.commit().await.map_err(store_error)?;
            Ok(())
        }
        .await;
        lease.settle();
        written.map(|()| write.record)
    }
}

org_directory!(SqliteDirectory);
