//! The case-file format v1 and its loader.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{AccountId, AccountRecord};
use crate::config::Config;
use crate::decision::{Landing, Outcome, Reason};
use crate::memory::MemoryStore;
use crate::request::Request;
use crate::role::Grant;

/// The outcome a case expects when the config does not validate.
pub(crate) const ERROR_OUTCOME: &str = "error";
/// The reason a case expects when the config does not validate.
pub(crate) const INVALID_CONFIG_REASON: &str = "invalid_config";

/// One policy case: a situation and what the policy must decide in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Unique within its file.
    pub name: String,
    /// The clock the engine uses for this case.
    pub now: DateTime<Utc>,
    /// The deployment's provisioning config.
    pub config: Config,
    /// What the account store holds before the request.
    #[serde(default)]
    pub accounts: Vec<AccountRecord>,
    /// What arrived.
    pub request: Request,
    /// What must come out; only the keys present are checked.
    pub expect: Expect,
}

/// What a case expects. `None` fields are not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `signed_in`, `account_created`, `redirect_to_idp`, `denied`, `not_found` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The existing account signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// The new account's handle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// The memberships granted, compared as a set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
    /// Whether an identity was linked to an existing account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked: Option<bool>,
    /// Whether the new account has a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<bool>,
    /// Where the person lands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing: Option<Landing>,
    /// Whether the IdP is asked to re-authenticate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_authn: Option<bool>,
    /// The refusal's reason code, or `invalid_config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The cases of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFile {
    /// Where the cases came from.
    pub path: PathBuf,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// A case file that cannot be run: not readable, not JSON, or not format v1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaseLoadError {
    /// The file or folder could not be read.
    #[error("cannot read `{path}`")]
    Io {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON, or holds neither an object nor an array of objects.
    #[error("`{path}` is not a JSON case file: {message}")]
    NotJson {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// One case does not follow format v1.
    #[error("`{path}`, case {index} `{name}`: {message}")]
    BadCase {
        /// The file.
        path: PathBuf,
        /// The case's position in the file, from 1.
        index: usize,
        /// The case's name, or `?` when it has none.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// Loads one case file.
pub fn load_file(path: impl AsRef<Path>) -> Result<CaseFile, CaseLoadError> {
    let path = path.as_ref();
    let text = fs::read_to_string(path).map_err(|source| CaseLoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text)
}

/// Loads every case file named, descending into folders (their `*.json` files, sorted).
/// Each entry is a file's cases or the reason it cannot be loaded.
pub fn load_paths<P: AsRef<Path>>(
    paths: impl IntoIterator<Item = P>,
) -> Vec<Result<CaseFile, CaseLoadError>> {
    let mut loaded = Vec::new();
    for path in paths {
        let path = path.as_ref();
        if path.is_dir() {
            match json_files_under(path) {
                Ok(files) => loaded.extend(files.iter().map(load_file)),
                Err(error) => loaded.push(Err(error)),
            }
        } else {
            loaded.push(load_file(path));
        }
    }
    loaded
}

fn json_files_under(folder: &Path) -> Result<Vec<PathBuf>, CaseLoadError> {
    let io_error = |source| CaseLoadError::Io {
        path: folder.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(folder).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        if path.is_dir() {
            files.extend(json_files_under(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Parses case-file text; `path` only names the source in errors and in the result.
pub fn parse(path: &Path, text: &str) -> Result<CaseFile, CaseLoadError> {
    let not_json = |message: String| CaseLoadError::NotJson {
        path: path.to_owned(),
        message,
    };
    let values = match serde_json::from_str(text).map_err(|e| not_json(e.to_string()))? {
        serde_json::Value::Array(values) => values,
        object @ serde_json::Value::Object(_) => vec![object],
        _ => return Err(not_json("expected an object or an array of objects".into())),
    };
    let mut names = HashSet::new();
    let mut cases = Vec::with_capacity(values.len());
    for (index, value) in values.into_iter().enumerate() {
        let name = value
            .get("name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let bad_case = |message: String| CaseLoadError::BadCase {
            path: path.to_owned(),
            index: index + 1,
            name: name.clone(),
            message,
        };
        let case: Case = serde_json::from_value(value).map_err(|e| bad_case(e.to_string()))?;
        check(&case).map_err(bad_case)?;
        if !names.insert(case.name.clone()) {
            return Err(bad_case(
                "another case in this file has the same name".into(),
            ));
        }
        cases.push(case);
    }
    Ok(CaseFile {
        path: path.to_owned(),
        cases,
    })
}

/// What serde cannot check: codes from closed lists, and accounts that can coexist.
fn check(case: &Case) -> Result<(), String> {
    if let Some(outcome) = &case.expect.outcome {
        let known = [
            Outcome::SignedIn,
            Outcome::AccountCreated,
            Outcome::RedirectToIdp,
            Outcome::Denied,
            Outcome::NotFound,
        ]
        .iter()
        .any(|o| o.as_str() == outcome)
            || outcome == ERROR_OUTCOME;
        if !known {
            return Err(format!("unknown expected outcome `{outcome}`"));
        }
    }
    if let Some(reason) = &case.expect.reason {
        let known =
            ALL_REASONS.iter().any(|r| r.code() == reason) || reason == INVALID_CONFIG_REASON;
        if !known {
            return Err(format!("unknown expected reason `{reason}`"));
        }
    }
    MemoryStore::with_accounts(case.accounts.iter().cloned())
        .map(drop)
        .map_err(|e| format!("the accounts cannot coexist: {e}"))
}

const ALL_REASONS: [Reason; 9] = [
    Reason::AppNotAssigned,
    Reason::WrongIssuer,
    Reason::EmailInUse,
    Reason::AccountDisabled,
    Reason::InvalidAssertion,
    Reason::JitDisabled,
    Reason::UnknownOrg,
    Reason::IdpError,
    Reason::HandleUnavailable,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<CaseFile, CaseLoadError> {
        parse(Path::new("cases.json"), text)
    }

    const MINIMAL: &str = r#"{"name": "n", "now": "2026-11-28T12:00:00Z",
        "config": {"orgs": {}}, "request": {"idp_error": {"org": "a", "status": "x"}},
        "expect": {"outcome": "not_found"}}"#;

    #[test]
    fn one_object_or_an_array() {
        assert_eq!(load(MINIMAL).unwrap().cases.len(), 1);
        assert_eq!(load(&format!("[{MINIMAL}]")).unwrap().cases.len(), 1);
    }

    #[test]
    fn errors_name_the_file_and_the_case() {
        let typo = MINIMAL.replace("\"outcome\"", "\"outcom\"");
        let message = load(&format!("[{MINIMAL}, {typo}]"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("cases.json"), "{message}");
        assert!(message.contains("case 2 `n`"), "{message}");
        assert!(message.contains("outcom"), "{message}");

        let message = load("[1, 2").unwrap_err().to_string();
        assert!(
            message.starts_with("`cases.json` is not a JSON case file"),
            "{message}"
        );
        assert!(load("42").is_err());
    }

    #[test]
    fn closed_lists_are_checked_at_load() {
        let bad_outcome = MINIMAL.replace("not_found", "notfound");
        assert!(load(&bad_outcome).is_err());
        let bad_reason = MINIMAL.replace(r#""outcome": "not_found""#, r#""reason": "nope""#);
        assert!(load(&bad_reason).is_err());
        let twice = format!("[{MINIMAL}, {MINIMAL}]");
        assert!(load(&twice).unwrap_err().to_string().contains("same name"));
    }

    #[test]
    fn clashing_accounts_are_a_load_error() {
        let clash = MINIMAL.replace(
            r#""request""#,
            r#""accounts": [{"id": "1", "handle": "a"}, {"id": "2", "handle": "A"}], "request""#,
        );
        assert!(load(&clash)
            .unwrap_err()
            .to_string()
            .contains("cannot coexist"));
    }
}
