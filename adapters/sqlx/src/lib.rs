#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

#[macro_use]
mod admin_records;
// Before the backends, which invoke its macro: a macro's scope is textual.
#[macro_use]
mod scim_tokens;
#[macro_use]
mod scim_users;
#[macro_use]
mod scim_groups;
mod error;
mod import;
mod membership;
mod orgs;
#[cfg(feature = "postgres")]
mod postgres;
mod queries;
mod replay;
mod rows;
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use import::ImportedAccount;
#[cfg(feature = "postgres")]
pub use orgs::PgDirectory;
#[cfg(feature = "sqlite")]
pub use orgs::SqliteDirectory;
#[cfg(feature = "postgres")]
pub use postgres::{PgStore, PING_AFTER_IDLE};
#[cfg(feature = "postgres")]
pub use replay::PgReplayGuard;
#[cfg(feature = "sqlite")]
pub use replay::SqliteReplayGuard;
pub use replay::SWEEP_EVERY;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
