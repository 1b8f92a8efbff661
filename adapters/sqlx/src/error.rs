//! sqlx errors → the storage contract's typed errors: connection trouble is
//! `Unavailable`, a missing schema `NotSetUp`, and a violated uniqueness rule the
//! conflict it stands for, found by the rule's name and never by guesswork.

use sqlx::error::{DatabaseError, ErrorKind};
#[cfg(feature = "postgres")]
use sqlx::postgres::PgDatabaseError;
#[cfg(feature = "sqlite")]
use sqlx::sqlite::SqliteError;

use jit_provisioning::{CreateError, NewAccount, StoreError};

use crate::schema::Unique;

/// What a failed statement means for the caller.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(database) => match classify(database.as_ref()) {
            Class::Unavailable => {
                StoreError::Unavailable(Box::new(sqlx::Error::Database(database)))
            }
            Class::NotSetUp(what) => StoreError::NotSetUp(format!(
                "{what} ({}): run `migrate()` on the store first",
                database.message()
            )),
            Class::Other => StoreError::Backend(Box::new(sqlx::Error::Database(database))),
        },
        error @ (sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed) => StoreError::Unavailable(Box::new(error)),
        error @ (sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)) => {
            StoreError::InvalidData(error.to_string())
        }
        error => StoreError::Backend(Box::new(error)),
    }
}

/// The uniqueness rule `error` violated, if it is a violation of one the contract types.
pub(crate) fn violated(error: &sqlx::Error) -> Option<Unique> {
    let sqlx::Error::Database(database) = error else {
        return None;
    };
    if database.kind() != ErrorKind::UniqueViolation {
        return None;
    }
    // PostgreSQL names the constraint; SQLite names its columns instead.
    let sqlite_columns = database
        .message()
        .strip_prefix("UNIQUE constraint failed: ");
    Unique::ALL
        .into_iter()
        .find(|unique| match database.constraint() {
            Some(name) => name == unique.name(),
            None => sqlite_columns == Some(unique.sqlite_columns()),
        })
}

/// Why creating `account` failed: the taken handle or identity, or a store failure.
pub(crate) fn create_error(error: sqlx::Error, account: &NewAccount) -> CreateError {
    match violated(&error) {
        Some(Unique::Handle) => CreateError::HandleTaken(account.handle.clone()),
        Some(Unique::Identity) => CreateError::IdentityTaken(account.identity.clone()),
        None => CreateError::Store(store_error(error)),
    }
}

/// Why importing an account with `handle` failed: the handle is taken, or the store.
pub(crate) fn import_error(error: sqlx::Error, handle: &str) -> CreateError {
    match violated(&error) {
        Some(Unique::Handle) => CreateError::HandleTaken(handle.to_owned()),
        _ => CreateError::Store(store_error(error)),
    }
}

/// Whether `error` is a foreign key violation: the account a row points to is gone.
pub(crate) fn is_missing_parent(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database)
        if database.kind() == ErrorKind::ForeignKeyViolation)
}

#[derive(Debug, PartialEq, Eq)]
enum Class {
    Unavailable,
    NotSetUp(&'static str),
    Other,
}

fn classify(database: &dyn DatabaseError) -> Class {
    #[cfg(feature = "postgres")]
    if let Some(postgres) = database.try_downcast_ref::<PgDatabaseError>() {
        return classify_postgres(postgres.code());
    }
    #[cfg(feature = "sqlite")]
    if database.try_downcast_ref::<SqliteError>().is_some() {
        let code = database.code().and_then(|code| code.parse::<i32>().ok());
        return classify_sqlite(code.unwrap_or_default(), database.message());
    }
    Class::Other
}

/// By SQLSTATE (PostgreSQL's appendix A, "Error Codes").
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn classify_postgres(sqlstate: &str) -> Class {
    match sqlstate {
        // connection_exception, invalid_authorization_specification and
        // invalid_password, too_many_connections, and a server shutting down or
        // starting up.
        code if code.starts_with("08") || code.starts_with("28") => Class::Unavailable,
        "53300" | "57P01" | "57P02" | "57P03" => Class::Unavailable,
        "3D000" => Class::NotSetUp("the database does not exist: create it"),
        // undefined_table, undefined_column, invalid_schema_name
        "42P01" | "42703" | "3F000" => Class::NotSetUp("the account tables are missing"),
        _ => Class::Other,
    }
}

/// By result code (<https://www.sqlite.org/rescode.html>); the extended codes keep the
/// primary one in their low byte.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
fn classify_sqlite(code: i32, message: &str) -> Class {
    const ERROR: i32 = 1;
    const BUSY: i32 = 5;
    const LOCKED: i32 = 6;
    const IOERR: i32 = 10;
    const CANTOPEN: i32 = 14;
    const NOTADB: i32 = 26;
    match code & 0xff {
        BUSY | LOCKED | IOERR | CANTOPEN => Class::Unavailable,
        NOTADB => Class::NotSetUp("the file is not a SQLite database"),
        ERROR if message.starts_with("no such table") || message.starts_with("no such column") => {
            Class::NotSetUp("the account tables are missing")
        }
        _ => Class::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_connection_trouble_is_unavailable() {
        for code in ["08006", "08001", "28P01", "53300", "57P01", "57P03"] {
            assert_eq!(classify_postgres(code), Class::Unavailable, "{code}");
        }
    }

    #[test]
    fn a_missing_schema_is_not_set_up() {
        for code in ["42P01", "42703", "3F000", "3D000"] {
            assert!(
                matches!(classify_postgres(code), Class::NotSetUp(_)),
                "{code}"
            );
        }
        assert!(matches!(
            classify_sqlite(1, "no such table: jit_accounts"),
            Class::NotSetUp(_)
        ));
        assert!(matches!(
            classify_sqlite(26, "file is not a database"),
            Class::NotSetUp(_)
        ));
    }

    #[test]
    fn sqlite_locks_and_unopenable_files_are_unavailable() {
        // SQLITE_BUSY_SNAPSHOT (517) is an extended SQLITE_BUSY.
        for code in [5, 517, 6, 10, 14] {
            assert_eq!(classify_sqlite(code, ""), Class::Unavailable, "{code}");
        }
    }

    #[test]
    fn other_failures_stay_backend_errors() {
        assert_eq!(classify_postgres("23505"), Class::Other);
        assert_eq!(classify_postgres("42601"), Class::Other);
        assert_eq!(
            classify_sqlite(1, "near \"SELEC\": syntax error"),
            Class::Other
        );
        assert_eq!(
            classify_sqlite(2067, "UNIQUE constraint failed: t.c"),
            Class::Other
        );
    }

    #[test]
    fn pool_trouble_is_unavailable() {
        for error in [sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            assert!(matches!(store_error(error), StoreError::Unavailable(_)));
        }
    }
}
