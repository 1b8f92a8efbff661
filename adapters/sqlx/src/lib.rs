#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
mod postgres;
mod queries;
mod rows;
mod schema;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;
