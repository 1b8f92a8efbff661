//! Accounts the app had before SSO, written by the adapter so that their keys are the
//! ones its look-ups use.

/// An account made outside SSO (a person who signed up with a password), for
/// [`SqliteStore::import_account`](crate::SqliteStore::import_account) and
/// [`PgStore::import_account`](crate::PgStore::import_account). The adapter computes its
/// `handle_key` and `email_key`; an app never writes those columns itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedAccount {
    /// The handle, as the person chose it.
    pub handle: String,
    /// The email, if any.
    pub email: Option<String>,
    /// Whether the account can sign in with a password.
    pub has_password: bool,
}

/// Selects every account's id and email, for re-keying.
pub(crate) const EMAILS: &str =
    "SELECT id, email, email_key FROM jit_accounts WHERE email IS NOT NULL";

/// Sets one account's email key. Binds the key, the id.
pub(crate) const SET_EMAIL_KEY: &str = "UPDATE jit_accounts SET email_key = $1 WHERE id = $2";

/// Inserts an imported account. Binds handle, handle key, email, email key, password.
pub(crate) const INSERT: &str =
    "INSERT INTO jit_accounts (handle, handle_key, email, email_key, has_password)
    VALUES ($1, $2, $3, $4, $5) RETURNING id";

/// The rows of [`EMAILS`] whose key is not `jit_provisioning::email_key` of the email.
pub(crate) fn stale_keys(rows: Vec<(i64, String, Option<String>)>) -> Vec<(i64, String)> {
    rows.into_iter()
        .filter_map(|(id, email, key)| {
            let wanted = jit_provisioning::email_key(&email);
            (key.as_deref() != Some(wanted.as_str())).then_some((id, wanted))
        })
        .collect()
}
