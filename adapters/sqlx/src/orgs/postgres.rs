//! [`PgDirectory`]: the orgs in a PostgreSQL database shared by several app servers,
//! written one at a time under an advisory lock.

use sqlx::{PgPool, Postgres};

use jit_provisioning::org::{OrgRecord, WriteError};

use super::{org_directory, Prepared, Tables};
use crate::error::store_error;

/// Taken by every org write for its transaction (`pg_advisory_xact_lock`, released at
/// commit or rollback), apart from the app's own locks and the store's. The bytes of
/// "jitorgs!".
const ORG_WRITES: i64 = 0x6a69_746f_7267_7321;

/// An [`OrgDirectory`](jit_provisioning::org::OrgDirectory) in the PostgreSQL database of
/// a [`PgStore`](crate::PgStore): the tables `jit_orgs` and `jit_org_history`, which the
/// store's `migrate()` makes. Every app server has one, over its own pool; each server's
/// `OrgRegistry` follows the others' writes by their change marks.
///
/// A write is one transaction that first takes a transaction-level advisory lock all org
/// writes share, so they take turns: a history row's key comes from a sequence, which
/// hands numbers out in the order writes *start*, and only under the lock, held until
/// after the commit, is that also the order they commit in. So a server that has seen
/// change mark `m` never misses a change that commits later with a lower one. Org writes
/// are rare (an admin's edit, an import); reads take no lock, and each is one statement.
///
/// ```no_run
/// use std::sync::Arc;
/// use jit_provisioning::{org::OrgRegistry, Config};
/// use jit_provisioning_sqlx::{PgDirectory, PgStore};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = PgStore::connect("postgres://app@127.0.0.1/app").await.unwrap();
/// store.migrate().await.unwrap(); // the org tables too
/// let directory = PgDirectory::new(store.pool().clone());
/// let registry = OrgRegistry::new(Arc::new(directory), &Config::default()).unwrap();
/// let acme = registry.org("acme").await.unwrap();
/// # let _ = acme;
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct PgDirectory {
    tables: Tables<Postgres>,
}

impl PgDirectory {
    /// A directory over a pool of a database that [`PgStore::migrate`](crate::PgStore::migrate)
    /// has migrated: the store's own (`store.pool().clone()`), or one the app built.
    pub fn new(pool: PgPool) -> Self {
        PgDirectory {
            tables: Tables::new(pool),
        }
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        self.tables.pool()
    }

    /// `write` in a transaction that holds the org writes' lock from its start.
    async fn write_now(&self, write: Prepared) -> Result<OrgRecord, WriteError> {
        let mut tx = self.pool().begin().await.map_err(store_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(ORG_WRITES)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        Tables::<Postgres>::write_in(&mut tx, &write).await?;
        tx.commit().await.map_err(store_error)?;
        Ok(write.record)
    }
}

org_directory!(PgDirectory);
