//! The tables the adapter owns: numbered migrations embedded in the binary, and the
//! uniqueness rules that carry the storage contract.

/// One step of the schema, applied at most once per database.
#[derive(Debug)]
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) description: &'static str,
    pub(crate) sql: &'static str,
}

/// The SQLite schema, oldest first.
#[cfg(any(feature = "sqlite", test))]
pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        description: "accounts, identities and memberships",
        sql: include_str!("../migrations/sqlite/0001_accounts.sql"),
    },
    Migration {
        version: 2,
        description: "one identity per issuer per account; assertion ids",
        sql: include_str!(
            "../migrations/sqlite/0002_one_identity_per_issuer_and_assertion_ids.sql"
        ),
    },
    // Version 3 is [`REKEY_EMAILS`], done in Rust.
    Migration {
        version: 4,
        description: "given and family names",
        sql: include_str!("../migrations/sqlite/0004_display_names.sql"),
    },
    Migration {
        version: 5,
        description: "orgs and their history",
        sql: include_str!("../migrations/sqlite/0005_orgs.sql"),
    },
    Migration {
        version: 6,
        description: "invites, and how each membership came to be",
        sql: include_str!("../migrations/sqlite/0006_invites.sql"),
    },
    Migration {
        version: 7,
        description: "admin events and owner links",
        sql: include_str!("../migrations/sqlite/0007_admin_events_and_owner_links.sql"),
    },
    Migration {
        version: 8,
        description: "SCIM tokens",
        sql: include_str!("../migrations/sqlite/0008_scim_tokens.sql"),
    },
    Migration {
        version: 9,
        description: "SCIM users and deprovisioned identities",
        sql: include_str!("../migrations/sqlite/0009_scim_users.sql"),
    },
    Migration {
        version: 10,
        description: "SCIM groups and their members",
        sql: include_str!("../migrations/sqlite/0010_scim_groups.sql"),
    },
];

/// The PostgreSQL schema, oldest first.
#[cfg(any(feature = "postgres", test))]
pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        description: "accounts, identities and memberships",
        sql: include_str!("../migrations/postgres/0001_accounts.sql"),
    },
    Migration {
        version: 2,
        description: "one identity per issuer per account; assertion ids",
        sql: include_str!(
            "../migrations/postgres/0002_one_identity_per_issuer_and_assertion_ids.sql"
        ),
    },
    // Version 3 is [`REKEY_EMAILS`], done in Rust.
    Migration {
        version: 4,
        description: "given and family names",
        sql: include_str!("../migrations/postgres/0004_display_names.sql"),
    },
    Migration {
        version: 5,
        description: "orgs and their history",
        sql: include_str!("../migrations/postgres/0005_orgs.sql"),
    },
    Migration {
        version: 6,
        description: "invites, and how each membership came to be",
        sql: include_str!("../migrations/postgres/0006_invites.sql"),
    },
    Migration {
        version: 7,
        description: "admin events and owner links",
        sql: include_str!("../migrations/postgres/0007_admin_events_and_owner_links.sql"),
    },
    Migration {
        version: 8,
        description: "SCIM tokens",
        sql: include_str!("../migrations/postgres/0008_scim_tokens.sql"),
    },
    Migration {
        version: 9,
        description: "SCIM users and deprovisioned identities",
        sql: include_str!("../migrations/postgres/0009_scim_users.sql"),
    },
    Migration {
        version: 10,
        description: "SCIM groups and their members",
        sql: include_str!("../migrations/postgres/0010_scim_groups.sql"),
    },
];

/// The migration done in Rust rather than SQL: every `email_key` recomputed with
/// `jit_provisioning::email_key` (rows an app wrote with `str::to_lowercase`, as this
/// crate's README once said, miss a final sigma's fold and more).
pub(crate) const REKEY_EMAILS: Migration = Migration {
    version: 3,
    description: "email keys recomputed with jit_provisioning::email_key",
    sql: "",
};

/// Which migrations a database has had. Not sqlx's `_sqlx_migrations`: the app's own
/// migrations live there, and would then see ours as unknown ones.
pub(crate) const CREATE_VERSIONS: &str = "CREATE TABLE IF NOT EXISTS jit_schema_migrations (
    version     BIGINT PRIMARY KEY,
    description TEXT   NOT NULL
)";

pub(crate) const APPLIED_VERSIONS: &str = "SELECT version FROM jit_schema_migrations";

pub(crate) const RECORD_VERSION: &str =
    "INSERT INTO jit_schema_migrations (version, description) VALUES ($1, $2)";

/// The migrations of `all` that `applied` lacks, in order.
pub(crate) fn pending<'a>(
    all: &'a [Migration],
    applied: &'a [i64],
) -> impl Iterator<Item = &'a Migration> {
    all.iter()
        .filter(move |migration| !applied.contains(&migration.version))
}

/// A uniqueness rule whose violation is a typed conflict rather than a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unique {
    /// `jit_accounts.handle_key`: handles, case-insensitively.
    Handle,
    /// `jit_identities (issuer, subject)`: one account per identity.
    Identity,
}

impl Unique {
    pub(crate) const ALL: [Unique; 2] = [Unique::Handle, Unique::Identity];

    /// The constraint's name in both schemas; PostgreSQL reports it with a violation.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Unique::Handle => "jit_accounts_handle_key_unique",
            Unique::Identity => "jit_identities_issuer_subject_unique",
        }
    }

    /// What SQLite reports instead of the name: the constrained columns.
    pub(crate) fn sqlite_columns(self) -> &'static str {
        match self {
            Unique::Handle => "jit_accounts.handle_key",
            Unique::Identity => "jit_identities.issuer, jit_identities.subject",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_ascend_and_match_across_backends() {
        for migrations in [SQLITE, POSTGRES] {
            let versions: Vec<i64> = migrations.iter().map(|m| m.version).collect();
            let mut sorted = versions.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(versions, sorted);
        }
        let sqlite: Vec<_> = SQLITE.iter().map(|m| (m.version, m.description)).collect();
        let postgres: Vec<_> = POSTGRES
            .iter()
            .map(|m| (m.version, m.description))
            .collect();
        assert_eq!(sqlite, postgres);
    }

    #[test]
    fn constraint_names_appear_in_both_schemas() {
        for unique in Unique::ALL {
            for migrations in [SQLITE, POSTGRES] {
                assert!(
                    migrations.iter().any(|m| m.sql.contains(unique.name())),
                    "{} is not named in a migration",
                    unique.name()
                );
            }
        }
    }

    #[test]
    fn only_missing_versions_are_pending() {
        let pending: Vec<i64> = pending(SQLITE, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
            .map(|m| m.version)
            .collect();
        assert!(pending.is_empty());
        assert_eq!(pending_versions(&[1, 2, 3, 4, 5, 6, 7, 8, 9]), [10]);
        assert_eq!(pending_versions(&[1, 2, 3, 4, 5, 6, 7, 8]), [9, 10]);
        assert_eq!(pending_versions(&[1, 2, 3, 4, 5, 6, 7]), [8, 9, 10]);
        assert_eq!(pending_versions(&[1, 2, 3, 4, 5]), [6, 7, 8, 9, 10]);
        assert_eq!(pending_versions(&[1, 2, 3]), [4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(pending_versions(&[1]), [2, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(pending_versions(&[]), [1, 2, 4, 5, 6, 7, 8, 9, 10]);
    }

    fn pending_versions(applied: &[i64]) -> Vec<i64> {
        pending(POSTGRES, applied).map(|m| m.version).collect()
    }
}
