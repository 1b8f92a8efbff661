//! SQL that reads and writes the same way on SQLite and PostgreSQL, and what its results
//! mean. Both accept `$N` placeholders, so one text serves both.

use jit_provisioning::{is_stem_or_suffixed, AccountId, Identity, LinkError};

/// Every row of the accounts picked by `$hit` (a query yielding `id`s), in one statement
/// so that the record is one consistent snapshot: the account itself (part 0), its
/// identities in link order (part 1) and its memberships (part 2). Columns: account id,
/// part, order, two values, then (account rows only) disabled, password, given and
/// family names. With a second argument, the membership rows carry it (an expression on
/// `m`, a membership) in the given name's column.
macro_rules! records_where {
    ($hit:literal) => {
        records_where!($hit, "NULL")
    };
    ($hit:literal, $membership:literal) => {
        concat!(
            "WITH hit AS (",
            $hit,
            ")
            SELECT a.id, 0 AS part, 0 AS seq, a.handle AS a, a.email AS b,
                   a.disabled, a.has_password, a.given_name, a.family_name
              FROM jit_accounts a WHERE a.id IN (SELECT id FROM hit)
            UNION ALL
            SELECT i.account_id, 1, i.id, i.issuer, i.subject, NULL, NULL, NULL, NULL
              FROM jit_identities i WHERE i.account_id IN (SELECT id FROM hit)
            UNION ALL
            SELECT m.account_id, 2, 0, m.org, m.role, NULL, NULL, ",
            $membership,
            ", NULL
              FROM jit_memberships m WHERE m.account_id IN (SELECT id FROM hit)
            ORDER BY 1, 2, 3"
        )
    };
}

/// Everything a decision on an assertion needs, in one statement: the records of the
/// account linked to the identity, or else of the accounts with the email key, and, when
/// neither exists, the taken handle keys among the stems (part 3, account 0). Binds
/// issuer, subject, email key (NULL for none), then each stem's bounds ([`stem_bounds`]).
pub(crate) fn look_up_assertion(stems: usize) -> String {
    let mut ranges = String::new();
    for n in 0..stems {
        if n > 0 {
            ranges.push_str(" OR ");
        }
        let (low, high) = (2 * n + 4, 2 * n + 5);
        ranges.push_str(&format!("(handle_key >= ${low} AND handle_key < ${high})"));
    }
    if ranges.is_empty() {
        ranges.push_str("FALSE");
    }
    format!(
        "WITH linked AS (SELECT account_id AS id FROM jit_identities WHERE issuer = $1 AND subject = $2),
        hit AS (
            SELECT id FROM linked
            UNION
            SELECT id FROM jit_accounts
             WHERE email_key = $3 AND NOT EXISTS (SELECT 1 FROM linked)
        )
        SELECT a.id, 0 AS part, 0 AS seq, a.handle AS a, a.email AS b, a.disabled, a.has_password,
               a.given_name, a.family_name
          FROM jit_accounts a WHERE a.id IN (SELECT id FROM hit)
        UNION ALL
        SELECT i.account_id, 1, i.id, i.issuer, i.subject, NULL, NULL, NULL, NULL
          FROM jit_identities i WHERE i.account_id IN (SELECT id FROM hit)
        UNION ALL
        SELECT m.account_id, 2, 0, m.org, m.role, NULL, NULL, NULL, NULL
          FROM jit_memberships m WHERE m.account_id IN (SELECT id FROM hit)
        UNION ALL
        SELECT 0, 3, 0, handle_key, NULL, NULL, NULL, NULL, NULL
          FROM jit_accounts WHERE NOT EXISTS (SELECT 1 FROM hit) AND ({ranges})
        ORDER BY 1, 2, 3"
    )
}

/// Binds issuer, subject.
pub(crate) const RECORD_BY_IDENTITY: &str = records_where!(
    "SELECT account_id AS id FROM jit_identities WHERE issuer = $1 AND subject = $2"
);

/// Binds the lower-cased email.
pub(crate) const RECORDS_BY_EMAIL: &str =
    records_where!("SELECT id FROM jit_accounts WHERE email_key = $1");

/// Binds the lower-cased handle.
pub(crate) const RECORD_BY_HANDLE: &str =
    records_where!("SELECT id FROM jit_accounts WHERE handle_key = $1");

/// Binds the id.
pub(crate) const RECORD_BY_ID: &str = records_where!("SELECT id FROM jit_accounts WHERE id = $1");

/// The records of an org's members, each membership row with how it joined (`joined`,
/// in the given name's column). Binds the org.
pub(crate) const MEMBERS: &str = records_where!(
    "SELECT account_id AS id FROM jit_memberships WHERE org = $1",
    "m.joined"
);

/// Links an identity to an account that exists; does nothing when the identity is
/// linked already, or the account has an identity from that issuer (either unique
/// constraint: no target, so that a race for either is a no-op, then explained by
/// [`LINK_STATE`]). Binds account id, issuer, subject.
///
/// The account is checked in the statement rather than left to the foreign key, which
/// a pool built without `foreign_keys` would not enforce on SQLite.
pub(crate) const LINK_IDENTITY: &str = "INSERT INTO jit_identities (account_id, issuer, subject)
    SELECT id, $2, $3 FROM jit_accounts WHERE id = $1
    ON CONFLICT DO NOTHING";

/// Why [`LINK_IDENTITY`] inserted nothing: who holds the identity, whether the account
/// exists, and whether it has an identity from the issuer. Binds account id, issuer,
/// subject.
pub(crate) const LINK_STATE: &str = "SELECT
    (SELECT account_id FROM jit_identities WHERE issuer = $2 AND subject = $3),
    EXISTS (SELECT 1 FROM jit_accounts WHERE id = $1),
    EXISTS (SELECT 1 FROM jit_identities WHERE account_id = $1 AND issuer = $2)";

/// Raises a membership's role when the new one ranks higher; in one statement, so two
/// racing raises end at the higher role in either order (PostgreSQL re-checks the `WHERE`
/// on the row a concurrent update left). A role the ranking does not know ranks NULL and
/// is left alone. Binds account id, org, role name.
pub(crate) const RAISE_ROLE: &str = "UPDATE jit_memberships SET role = $3
     WHERE account_id = $1 AND org = $2
       AND (CASE role WHEN 'member' THEN 0 WHEN 'contributor' THEN 1 WHEN 'admin' THEN 2 END)
         < (CASE $3 WHEN 'member' THEN 0 WHEN 'contributor' THEN 1 WHEN 'admin' THEN 2 END)";

/// What [`LINK_STATE`] says about a link of `identity` to `account` that inserted
/// nothing.
pub(crate) fn unlinked(
    account: &AccountId,
    identity: &Identity,
    holder: Option<AccountId>,
    account_exists: bool,
    issuer_linked: bool,
) -> Result<(), LinkError> {
    match holder {
        // Linked already, by this call's twin or earlier: linking is idempotent.
        Some(holder) if holder == *account => Ok(()),
        Some(_) => Err(LinkError::IdentityTaken(identity.clone())),
        None if !account_exists => Err(LinkError::NoSuchAccount(account.clone())),
        None if issuer_linked => Err(LinkError::IssuerTaken {
            account: account.clone(),
            issuer: identity.issuer.clone(),
        }),
        // The holder let go of it between the two statements: the identity changed hands,
        // and the caller looks again, as after any lost race.
        None => Err(LinkError::IdentityTaken(identity.clone())),
    }
}

/// Handles taken among the lower-cased `stems`: for each stem every key from the stem
/// itself up to, not including, the stem followed by `.`, the character after `-`.
/// In byte order that range holds the stem, every `stem-…` and nothing that does not start
/// with the stem, and it is an index range scan on both backends; no `LIKE`, so no
/// wildcard in a stem can widen it. The caller keeps the stem-or-`stem-<digits>` keys.
///
/// Binds each stem's lower and upper bound in turn ([`stem_bounds`]).
pub(crate) fn taken_handles(stems: usize) -> String {
    let mut sql = String::from("SELECT handle_key FROM jit_accounts WHERE ");
    for n in 0..stems {
        if n > 0 {
            sql.push_str(" OR ");
        }
        let (low, high) = (2 * n + 1, 2 * n + 2);
        sql.push_str(&format!("(handle_key >= ${low} AND handle_key < ${high})"));
    }
    sql
}

/// The bounds [`taken_handles`] binds for one lower-cased stem.
pub(crate) fn stem_bounds(stem: &str) -> (String, String) {
    (stem.to_owned(), format!("{stem}."))
}

/// The keys of [`taken_handles`] that are a stem or a stem followed by `-<digits>`.
pub(crate) fn stem_shaped(keys: Vec<String>, stems: &[String]) -> Vec<String> {
    keys.into_iter()
        .filter(|key| stems.iter().any(|stem| is_stem_or_suffixed(key, stem)))
        .collect()
}

#[cfg(test)]
mod tests {
    use jit_provisioning::Role;

    use super::*;

    #[test]
    fn only_stem_shaped_keys_are_kept() {
        let keys = [
            "jane-doe",
            "jane-doe-2",
            "jane-doe-x",
            "jane-doe!",
            "maxi-3",
        ];
        let kept = stem_shaped(
            keys.map(str::to_owned).to_vec(),
            &["jane-doe".to_owned(), "maxi".to_owned()],
        );
        assert_eq!(kept, ["jane-doe", "jane-doe-2", "maxi-3"]);
    }

    #[test]
    fn an_unlinked_identity_is_explained() {
        let (jane, john) = (AccountId::from("1"), AccountId::from("2"));
        let identity = Identity {
            issuer: "https://idp".into(),
            subject: "s".into(),
        };
        assert!(unlinked(&jane, &identity, Some(jane.clone()), true, true).is_ok());
        assert!(matches!(
            unlinked(&jane, &identity, Some(john), true, false),
            Err(LinkError::IdentityTaken(_))
        ));
        assert!(matches!(
            unlinked(&jane, &identity, None, false, false),
            Err(LinkError::NoSuchAccount(_))
        ));
        assert!(matches!(
            unlinked(&jane, &identity, None, true, true),
            Err(LinkError::IssuerTaken { .. })
        ));
    }

    #[test]
    fn one_range_per_stem() {
        assert_eq!(
            taken_handles(2),
            "SELECT handle_key FROM jit_accounts WHERE \
             (handle_key >= $1 AND handle_key < $2) OR (handle_key >= $3 AND handle_key < $4)"
        );
    }

    #[test]
    fn a_stem_range_holds_its_suffixes_and_nothing_else() {
        let (low, high) = stem_bounds("jane-doe");
        let inside = |key: &str| low.as_str() <= key && key < high.as_str();
        for key in [
            "jane-doe",
            "jane-doe-2",
            "jane-doe-10",
            "jane-doe-x",
            "jane-doe-",
        ] {
            assert!(inside(key), "{key}");
        }
        for key in [
            "jane-do",
            "jane-does",
            "jane-doe.",
            "jane-doe0",
            "jane-dof",
            "jane",
        ] {
            assert!(!inside(key), "{key}");
        }
    }

    #[test]
    fn the_raise_ranks_roles_as_the_core_orders_them() {
        let mut roles = [Role::Admin, Role::Member, Role::Contributor];
        roles.sort();
        for (rank, role) in roles.iter().enumerate() {
            let arm = format!("WHEN '{role}' THEN {rank}");
            assert_eq!(RAISE_ROLE.matches(&arm).count(), 2, "{arm}");
        }
    }

    #[test]
    fn the_record_query_names_every_part() {
        for sql in [RECORD_BY_IDENTITY, RECORDS_BY_EMAIL, RECORD_BY_ID, MEMBERS] {
            assert!(sql.starts_with("WITH hit AS (SELECT"));
            assert!(sql.ends_with("ORDER BY 1, 2, 3"));
        }
        assert!(RECORD_BY_ID.contains("m.role, NULL, NULL, NULL, NULL"));
        assert!(MEMBERS.contains("m.role, NULL, NULL, m.joined, NULL"));
    }
}
