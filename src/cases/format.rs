//! The case-file format v1 and its loader.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::account::{AccountId, AccountRecord, Identity};
use crate::cases::schema::{self, suggestion};
use crate::config::Config;
use crate::decision::{Landing, Outcome, Reason};
use crate::deprovision::DeprovisionedBy;
use crate::invite::{Invite, Invitee};
use crate::memory::MemoryStore;
use crate::request::{Assertion, IdpError, PortalVisit, Request, Session};
use crate::role::{Grant, Role};
use crate::rule::Rule;

/// The case-file format this crate reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// The outcome a case expects when the config does not validate.
pub(crate) const ERROR_OUTCOME: &str = "error";
/// The reason a case expects when the config does not validate.
pub(crate) const INVALID_CONFIG_REASON: &str = "invalid_config";

/// The folder config's file names, JSON first; a folder may hold one of them.
pub const FOLDER_CONFIGS: [&str; 2] = ["config.json", "config.toml"];

/// Longest config file read: a deployment's config is a few kilobytes, and a reference to
/// `/dev/zero` must not hang the loader.
const MAX_CONFIG_FILE_LEN: u64 = 1 << 20;

/// One policy case: a deployment's config, what its store holds, and one request or a
/// scenario of several, each with what the policy must decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Unique within its file.
    pub name: String,
    /// The deployment's provisioning config, wherever it was written.
    pub config: Config,
    /// Where [`Case::config`] came from.
    pub config_source: ConfigSource,
    /// What the account store holds before the first step.
    pub accounts: Vec<AccountRecord>,
    /// The org admins' open invites before the first step (`invites` in the file; see
    /// [`CaseInvite`]).
    pub invites: Vec<Invite>,
    /// The identities the orgs' IdPs deprovisioned over SCIM before the first step
    /// (`deprovisioned` in the file).
    pub deprovisioned: Vec<CaseDeprovisioned>,
    /// The requests, applied in order to the same store: one for a case written with
    /// `request` and `expect`, several for a scenario written with `steps`.
    pub steps: Vec<Step>,
}

/// Where a case's config was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// In the case itself.
    Inline,
    /// In the file the case names with `"config": {"file": …}`.
    File(PathBuf),
    /// In the `config.json` or `config.toml` beside the case file.
    Folder(PathBuf),
}

/// One request of a case, when it happens and what must come out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// A label for reports; `None` in a single-request case, and optional in a scenario.
    pub name: Option<String>,
    /// The clock the engine uses for this request.
    pub now: DateTime<Utc>,
    /// What arrived.
    pub request: CaseRequest,
    /// What must come out; only the keys present are checked.
    pub expect: Expect,
}

/// An account a case names: by its id, or as the account an earlier step of the scenario
/// signed in or created (its id is the store's choice, unknown when the case is written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseAccount {
    /// `"u7"`: the account with this id.
    Id(AccountId),
    /// `{"step": N}`: the account that step `N` (from 1) signed in or created.
    Step(usize),
}

impl fmt::Display for CaseAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaseAccount::Id(id) => write!(f, "account `{id}`"),
            CaseAccount::Step(step) => write!(f, "the account of step {step}"),
        }
    }
}

impl From<AccountId> for CaseAccount {
    fn from(id: AccountId) -> Self {
        CaseAccount::Id(id)
    }
}

impl Serialize for CaseAccount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            CaseAccount::Id(id) => id.serialize(serializer),
            CaseAccount::Step(step) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("step", step)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for CaseAccount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AccountVisitor;

        impl<'de> Visitor<'de> for AccountVisitor {
            type Value = CaseAccount;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"an account id or {"step": N}, the account an earlier step made"#)
            }

            fn visit_str<E: de::Error>(self, id: &str) -> Result<CaseAccount, E> {
                Ok(CaseAccount::Id(AccountId::from(id)))
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<CaseAccount, M::Error> {
                let mut step = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "step" || step.is_some() {
                        return Err(de::Error::custom(format!(
                            r#"an account reference is {{"step": N}}; `{key}` is not part of it"#
                        )));
                    }
                    step = Some(map.next_value::<usize>()?);
                }
                step.map(CaseAccount::Step)
                    .ok_or_else(|| de::Error::missing_field("step"))
            }
        }

        deserializer.deserialize_any(AccountVisitor)
    }
}

/// A [`Request`] as a case writes it: a portal visit's session may name an account made
/// by an earlier step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseRequest {
    /// Someone opened the org's login portal.
    PortalVisit(CasePortalVisit),
    /// A verified SAML assertion came back to the portal.
    Assertion(Assertion),
    /// The IdP answered with a SAML status code instead of an assertion.
    IdpError(IdpError),
}

/// A [`PortalVisit`] as a case writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasePortalVisit {
    /// The org whose portal was opened.
    pub org: String,
    /// Who is signed in here already, if anyone.
    #[serde(default)]
    pub session: Option<CaseSession>,
    /// Where the person was headed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
}

/// A [`Session`] as a case writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSession {
    /// The signed-in account.
    pub account: CaseAccount,
    /// When the IdP last validated the person; `None` if never.
    #[serde(default)]
    pub sso_at: Option<DateTime<Utc>>,
}

impl CaseRequest {
    /// The request to run, with `{"step": N}` replaced by the account step `N` made
    /// (`made[N - 1]`); `Err(N)` when that step made none.
    pub fn resolve(&self, made: &[Option<AccountId>]) -> Result<Request, usize> {
        Ok(match self {
            CaseRequest::Assertion(assertion) => Request::Assertion(assertion.clone()),
            CaseRequest::IdpError(error) => Request::IdpError(error.clone()),
            CaseRequest::PortalVisit(visit) => {
                let session = match &visit.session {
                    None => None,
                    Some(session) => Some(Session {
                        account: resolve_account(&session.account, made)?,
                        sso_at: session.sso_at,
                    }),
                };
                Request::PortalVisit(PortalVisit {
                    org: visit.org.clone(),
                    session,
                    return_to: visit.return_to.clone(),
                })
            }
        })
    }

    /// The step a portal visit's session names, if it names one.
    fn step_reference(&self) -> Option<usize> {
        match self {
            CaseRequest::PortalVisit(CasePortalVisit {
                session:
                    Some(CaseSession {
                        account: CaseAccount::Step(step),
                        ..
                    }),
                ..
            }) => Some(*step),
            _ => None,
        }
    }
}

/// The id `account` stands for once the steps before have run; `Err(N)` when step `N`
/// made no account.
pub(crate) fn resolve_account(
    account: &CaseAccount,
    made: &[Option<AccountId>],
) -> Result<AccountId, usize> {
    match account {
        CaseAccount::Id(id) => Ok(id.clone()),
        CaseAccount::Step(step) => step
            .checked_sub(1)
            .and_then(|index| made.get(index))
            .and_then(Option::clone)
            .ok_or(*step),
    }
}

impl From<Request> for CaseRequest {
    fn from(request: Request) -> Self {
        match request {
            Request::Assertion(assertion) => CaseRequest::Assertion(assertion),
            Request::IdpError(error) => CaseRequest::IdpError(error),
            Request::PortalVisit(visit) => CaseRequest::PortalVisit(CasePortalVisit {
                org: visit.org,
                session: visit.session.map(|session| CaseSession {
                    account: CaseAccount::Id(session.account),
                    sso_at: session.sso_at,
                }),
                return_to: visit.return_to,
            }),
        }
    }
}

/// What a step expects. `None` fields are not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `signed_in`, `account_created`, `redirect_to_idp`, `denied`, `not_found` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The existing account signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<CaseAccount>,
    /// The new account's handle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// The memberships granted, compared as a set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
    /// The roles raised on the existing account, each as its new role, compared as a set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raises: Option<Vec<Grant>>,
    /// Whether an identity was linked to an existing account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked: Option<bool>,
    /// Whether the new account has a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<bool>,
    /// The new account's given name as stored; `Some(None)` (`null` in the file) says
    /// none was recorded.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub given_name: Option<Option<String>>,
    /// The new account's family name as stored, as `given_name`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub family_name: Option<Option<String>>,
    /// Where the person lands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing: Option<Landing>,
    /// Whether the IdP is asked to re-authenticate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_authn: Option<bool>,
    /// The refusal's reason code, or `invalid_config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The id of the rule that decided (see [`Rule::id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Text the message shown to the person must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A key that is present, even as `null`: `Some(None)`, where an absent key is `None`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
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
    /// One case does not follow format v1, or its config file cannot be used.
    #[error("`{path}`, case {index} `{name}`: {message}")]
    BadCase {
        /// The file.
        path: PathBuf,
        /// The case's position in the file, from 1.
        index: usize,
        /// The case's name, or `?` when it has none.
        name: String,
        /// What is wrong, and what would be valid.
        message: String,
    },
}

impl CaseLoadError {
    /// The file (or folder) the error is about.
    pub fn path(&self) -> &Path {
        match self {
            CaseLoadError::Io { path, .. }
            | CaseLoadError::NotJson { path, .. }
            | CaseLoadError::BadCase { path, .. } => path,
        }
    }
}

/// Loads one case file. Cases without a `config` of their own use the folder config
/// (`config.json` or `config.toml` beside the file).
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
///
/// In a folder, config files are not case files: neither `config.json` nor a JSON file
/// that a case loaded here names with `"config": {"file": …}`.
pub fn load_paths<P: AsRef<Path>>(
    paths: impl IntoIterator<Item = P>,
) -> Vec<Result<CaseFile, CaseLoadError>> {
    // (the result, whether it was found in a folder rather than named)
    let mut loaded = Vec::new();
    for path in paths {
        let path = path.as_ref();
        if path.is_dir() {
            match json_files_under(path) {
                Ok(files) => loaded.extend(files.iter().map(|file| (load_file(file), true))),
                Err(error) => loaded.push((Err(error), false)),
            }
        } else {
            loaded.push((load_file(path), false));
        }
    }
    let configs: HashSet<PathBuf> = loaded
        .iter()
        .filter_map(|(result, _)| result.as_ref().ok())
        .flat_map(|file| &file.cases)
        .filter_map(|case| match &case.config_source {
            ConfigSource::File(path) => fs::canonicalize(path).ok(),
            _ => None,
        })
        .collect();
    loaded
        .into_iter()
        .filter(|(result, in_folder)| {
            let path = match result {
                Ok(file) => file.path.as_path(),
                Err(error) => error.path(),
            };
            !(*in_folder && fs::canonicalize(path).is_ok_and(|path| configs.contains(&path)))
        })
        .map(|(result, _)| result)
        .collect()
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
        } else if path.extension().is_some_and(|ext| ext == "json")
            && path.file_name().is_none_or(|name| name != "config.json")
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Parses case-file text found at `path`: `path` names the source in errors and in the
/// result, and locates the config files its cases use (relative to its folder).
pub fn parse(path: &Path, text: &str) -> Result<CaseFile, CaseLoadError> {
    let not_json = |message: String| CaseLoadError::NotJson {
        path: path.to_owned(),
        message,
    };
    let values = match serde_json::from_str(text).map_err(|e| not_json(e.to_string()))? {
        Value::Array(values) => values,
        object @ Value::Object(_) => vec![object],
        _ => return Err(not_json("expected an object or an array of objects".into())),
    };
    let mut configs = Configs::new(path);
    let mut names = HashSet::new();
    let mut cases = Vec::with_capacity(values.len());
    for (index, value) in values.into_iter().enumerate() {
        let name = value
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let bad_case = |message: String| CaseLoadError::BadCase {
            path: path.to_owned(),
            index: index + 1,
            name: name.clone(),
            message,
        };
        let case = case_from(value, &mut configs).map_err(bad_case)?;
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

/// The config files a case file's cases use, each read once.
struct Configs {
    /// The case file's folder: config file names are relative to it.
    folder: PathBuf,
    files: HashMap<PathBuf, Result<Config, ConfigFileError>>,
    /// The folder config, once looked for: `None` when the folder has none.
    folder_config: Option<Result<Option<(PathBuf, Config)>, String>>,
}

impl Configs {
    fn new(case_file: &Path) -> Self {
        Configs {
            folder: case_file.parent().map(Path::to_owned).unwrap_or_default(),
            files: HashMap::new(),
            folder_config: None,
        }
    }

    fn file(&mut self, name: &str) -> Result<(PathBuf, Config), String> {
        let path = self.folder.join(name);
        let loaded = self
            .files
            .entry(path.clone())
            .or_insert_with(|| load_config(&path))
            .clone();
        loaded
            .map(|config| (path, config))
            .map_err(|error| error.to_string())
    }

    fn folder_config(&mut self) -> Result<Option<(PathBuf, Config)>, String> {
        let folder = &self.folder;
        self.folder_config
            .get_or_insert_with(|| {
                let present: Vec<PathBuf> = FOLDER_CONFIGS
                    .iter()
                    .map(|name| folder.join(name))
                    .filter(|path| path.is_file())
                    .collect();
                match present.as_slice() {
                    [] => Ok(None),
                    [path] => load_config(path)
                        .map(|config| Some((path.clone(), config)))
                        .map_err(|error| error.to_string()),
                    _ => Err(format!(
                        "`{}` holds both `config.json` and `config.toml`: keep one",
                        folder.display()
                    )),
                }
            })
            .clone()
    }
}

/// A config file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// The file could not be read, or is not a regular file of reasonable size.
    #[error("cannot read config file `{path}`: {message}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The file is not JSON or TOML, has a key that a config does not, or a value of
    /// the wrong type.
    #[error("config file `{path}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what would be valid.
        message: String,
    },
}

/// Reads a provisioning config file as a case does: TOML when its name ends in `.toml`,
/// JSON otherwise; an unknown key is an error naming where it is and the nearest valid
/// key. The config is not validated: see [`Config::validate`].
///
/// ```no_run
/// let config = jit_provisioning::cases::load_config("deploy/provisioning.toml".as_ref())?;
/// let policy = config.validate()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_config(path: &Path) -> Result<Config, ConfigFileError> {
    let unreadable = |message: String| ConfigFileError::Unreadable {
        path: path.to_owned(),
        message,
    };
    let invalid = |message: String| ConfigFileError::Invalid {
        path: path.to_owned(),
        message,
    };
    // Only regular files: a FIFO or a device would block or never end.
    match fs::metadata(path) {
        Err(error) => return Err(unreadable(error.to_string())),
        Ok(meta) if !meta.is_file() => return Err(unreadable("not a regular file".into())),
        Ok(_) => {}
    }
    let mut text = String::new();
    fs::File::open(path)
        .and_then(|file| file.take(MAX_CONFIG_FILE_LEN + 1).read_to_string(&mut text))
        .map_err(|error| unreadable(error.to_string()))?;
    if text.len() as u64 > MAX_CONFIG_FILE_LEN {
        return Err(unreadable(format!("over {MAX_CONFIG_FILE_LEN} bytes")));
    }
    let value: Value = if path.extension().is_some_and(|ext| ext == "toml") {
        let table: toml::Table = toml::from_str(&text)
            .map_err(|error| invalid(format!("not TOML: {}", error.to_string().trim_end())))?;
        serde_json::to_value(table).map_err(|error| invalid(error.to_string()))?
    } else {
        serde_json::from_str(&text).map_err(|error| invalid(format!("not JSON: {error}")))?
    };
    config_from(&value).map_err(invalid)
}

/// A provisioning config from JSON, with its unknown keys named and located.
fn config_from(value: &Value) -> Result<Config, String> {
    schema::check_keys(value, schema::CONFIG, "")?;
    Config::deserialize(value).map_err(|error| error.to_string())
}

/// One case from its JSON object.
fn case_from(value: Value, configs: &mut Configs) -> Result<Case, String> {
    schema::check_keys(&value, schema::CASE, "")?;
    let Value::Object(mut object) = value else {
        return Err("a case is a JSON object".into());
    };
    // The config is checked on its own: inline, or in the file it names.
    let config_value = object.remove("config");

    match object.remove("format") {
        None => {}
        Some(Value::Number(n)) if n.as_u64() == Some(FORMAT_VERSION) => {}
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n > FORMAT_VERSION) => {
            return Err(format!(
                "`format` is {n}: this version of jit-provisioning reads format {FORMAT_VERSION}; \
                 a file in a later format needs a later version"
            ))
        }
        Some(other) => {
            return Err(format!(
                "`format` is {other}: expected {FORMAT_VERSION}, the only format there is"
            ))
        }
    }

    let name: String = part(&mut object, "name")?;
    let (config, config_source) = match config_value {
        Some(Value::Object(reference)) if reference.contains_key("file") => {
            let reference = Value::Object(reference);
            schema::check_keys(&reference, schema::CONFIG_FILE, ".config")?;
            let file = reference
                .get("file")
                .and_then(Value::as_str)
                .ok_or("`config.file` must be a path, as a string")?;
            let (path, config) = configs.file(file)?;
            (config, ConfigSource::File(path))
        }
        Some(inline) => {
            schema::check_keys(&inline, schema::CONFIG, ".config")?;
            let config =
                Config::deserialize(inline).map_err(|error| format!("`config`: {error}"))?;
            (config, ConfigSource::Inline)
        }
        None => match configs.folder_config()? {
            Some((path, config)) => (config, ConfigSource::Folder(path)),
            None => {
                return Err(format!(
                    "missing `config`: give one, `{{\"file\": …}}`, or a `config.json` or \
                     `config.toml` in `{}`",
                    display_folder(&configs.folder)
                ))
            }
        },
    };

    let accounts = match object.remove("accounts") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                AccountRecord::deserialize(item)
                    .map_err(|error| format!("`.accounts[{index}]`: {error}"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`accounts` must be an array of accounts".into()),
    };

    let steps = match object.remove("steps") {
        Some(steps) => {
            if let Some(key) = ["now", "request", "expect"]
                .into_iter()
                .find(|key| object.contains_key(*key))
            {
                return Err(format!(
                    "a case with `steps` has no `{key}` of its own: each step has its \
                     `now`, `request` and `expect`"
                ));
            }
            let Value::Array(items) = steps else {
                return Err("`steps` must be an array of steps".into());
            };
            if items.is_empty() {
                return Err("`steps` is empty: a scenario has at least one step".into());
            }
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    let Value::Object(mut step) = item else {
                        return Err(format!("step {} is not a JSON object", index + 1));
                    };
                    step_from(&mut step, index + 1, true)
                        .map_err(|message| format!("step {}: {message}", index + 1))
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        None => vec![step_from(&mut object, 1, false)?],
    };

    MemoryStore::with_accounts(accounts.iter().cloned())
        .map_err(|e| format!("the accounts cannot coexist: {e}"))?;
    let first_now = steps.first().map(|step| step.now).unwrap_or_default();
    let invites = match object.remove("invites") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                CaseInvite::deserialize(item)
                    .map_err(|error| error.to_string())
                    .and_then(|invite| invite.into_invite(index, first_now))
                    .map_err(|error| format!("`.invites[{index}]`: {error}"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`invites` must be an array of invites".into()),
    };
    let deprovisioned = match object.remove("deprovisioned") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                CaseDeprovisioned::deserialize(item)
                    .map_err(|error| format!("`.deprovisioned[{index}]`: {error}"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err("`deprovisioned` must be an array of `{org, issuer, subject}`".into())
        }
    };
    Ok(Case {
        name,
        config,
        config_source,
        accounts,
        invites,
        deprovisioned,
        steps,
    })
}

/// An identity an org's IdP deprovisioned over SCIM, as a case file writes it: `org`,
/// `issuer` and `subject`, and optionally `by` (`deactivated`, the default, or
/// `deleted`) and `at` (when; defaults to the Unix epoch, before any step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseDeprovisioned {
    /// The org whose IdP deprovisioned the identity.
    pub org: String,
    /// The identity's issuer.
    pub issuer: String,
    /// The identity's subject.
    pub subject: String,
    /// How.
    #[serde(default = "deactivated")]
    pub by: DeprovisionedBy,
    /// When.
    #[serde(default)]
    pub at: DateTime<Utc>,
}

fn deactivated() -> DeprovisionedBy {
    DeprovisionedBy::Deactivated
}

impl CaseDeprovisioned {
    /// The identity deprovisioned.
    pub fn identity(&self) -> Identity {
        Identity {
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
        }
    }
}

/// An open invite as a case file writes it: `org` and `role`, and who: `account` (an
/// account id of `accounts`) or `email`, optionally bound to `subject` (`issuer` and
/// `subject`); `expires_at` defaults to a week after the first step's `now`. Its id is
/// `invite-N`, N counting from 1 in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseInvite {
    /// The org.
    pub org: String,
    /// `member`, `contributor` or `admin`.
    pub role: Role,
    /// An existing account's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// An email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The IdP identity the invite is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Identity>,
    /// When it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl CaseInvite {
    fn into_invite(self, index: usize, created_at: DateTime<Utc>) -> Result<Invite, String> {
        let invitee = match (self.account, self.email) {
            (Some(account), None) => Invitee::Account(account),
            (None, Some(email)) => Invitee::Email(email),
            _ => return Err("give `account` or `email`, one of them".into()),
        };
        let mut invite = Invite::new(self.org, self.role, invitee, "case", created_at)
            .with_id(format!("invite-{}", index + 1));
        if let Some(subject) = self.subject {
            invite = invite.bound_to(subject);
        }
        if let Some(expires_at) = self.expires_at {
            invite = invite.expiring_at(expires_at);
        }
        Ok(invite)
    }

    /// The case-file form of `invite`.
    fn of(invite: &Invite) -> CaseInvite {
        let (account, email) = match &invite.invitee {
            Invitee::Account(account) => (Some(account.clone()), None),
            Invitee::Email(email) => (None, Some(email.clone())),
        };
        CaseInvite {
            org: invite.org.clone(),
            role: invite.role,
            account,
            email,
            subject: invite.subject.clone(),
            expires_at: Some(invite.expires_at),
        }
    }
}

fn display_folder(folder: &Path) -> String {
    if folder.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        folder.display().to_string()
    }
}

/// The step at `number` (from 1) from its object: a scenario step, or the case itself.
fn step_from(
    object: &mut serde_json::Map<String, Value>,
    number: usize,
    in_scenario: bool,
) -> Result<Step, String> {
    let name = if in_scenario {
        object
            .remove("name")
            .map(|name| match name {
                Value::String(name) => Ok(name),
                _ => Err("`name` must be a string".to_owned()),
            })
            .transpose()?
    } else {
        None
    };
    let now: DateTime<Utc> = part(object, "now").map_err(|message| {
        format!("{message} (an RFC 3339 instant such as `2026-11-28T12:00:00Z`)")
    })?;
    let request: CaseRequest = part(object, "request")?;
    let expect: Expect = part(object, "expect")?;
    check_expect(&expect)?;
    let earlier = |step: usize| (1..number).contains(&step);
    let what = if in_scenario {
        format!("steps 1 to {} come before this one", number - 1)
    } else {
        "this case has no `steps`".to_owned()
    };
    if let Some(step) = request.step_reference().filter(|step| !earlier(*step)) {
        return Err(format!(
            "the session names the account of step {step}, which is not an earlier step: {what}"
        ));
    }
    if let Some(CaseAccount::Step(step)) = &expect.account {
        if !earlier(*step) {
            return Err(format!(
                "`expect.account` names the account of step {step}, which is not an earlier \
                 step: {what}"
            ));
        }
    }
    Ok(Step {
        name,
        now,
        request,
        expect,
    })
}

/// The required `key`, deserialized; errors name the key.
fn part<T: for<'de> Deserialize<'de>>(
    object: &mut serde_json::Map<String, Value>,
    key: &str,
) -> Result<T, String> {
    let value = object
        .remove(key)
        .ok_or_else(|| format!("missing `{key}`"))?;
    T::deserialize(value).map_err(|error| format!("`{key}`: {error}"))
}

/// The outcomes a case may expect.
pub(crate) const OUTCOMES: [&str; 6] = [
    Outcome::SignedIn.as_str(),
    Outcome::AccountCreated.as_str(),
    Outcome::RedirectToIdp.as_str(),
    Outcome::Denied.as_str(),
    Outcome::NotFound.as_str(),
    ERROR_OUTCOME,
];

/// The reasons a case may expect.
pub(crate) const REASONS: [&str; 14] = [
    Reason::AppNotAssigned.code(),
    Reason::WrongIssuer.code(),
    Reason::EmailInUse.code(),
    Reason::AccountDisabled.code(),
    Reason::InvalidAssertion.code(),
    Reason::JitDisabled.code(),
    Reason::UnknownOrg.code(),
    Reason::IdpError.code(),
    Reason::HandleUnavailable.code(),
    Reason::GroupsOverage.code(),
    Reason::OrgInactive.code(),
    Reason::OrgNotOpen.code(),
    Reason::Deprovisioned.code(),
    INVALID_CONFIG_REASON,
];

/// Every rule, in the policy's order.
pub(crate) const RULES: [Rule; 28] = [
    Rule::UnknownOrg,
    Rule::NoPortal,
    Rule::IdpRequestDenied,
    Rule::IdpStatus,
    Rule::InvalidAssertion,
    Rule::ReplayedAssertion,
    Rule::WrongIssuer,
    Rule::GroupsOverage,
    Rule::MissingRequiredGroup,
    Rule::DeprovisionedIdentity,
    Rule::LinkedAccountDisabled,
    Rule::RoleSyncSkipped,
    Rule::RolesRaised,
    Rule::LinkedMember,
    Rule::InviteAccepted,
    Rule::LinkedNonMember,
    Rule::EmailAmbiguous,
    Rule::EmailUnverifiedDomain,
    Rule::EmailAccountLinkedElsewhere,
    Rule::EmailAccountDisabled,
    Rule::EmailLinked,
    Rule::JitCreate,
    Rule::NoFreeHandle,
    Rule::PortalAnonymous,
    Rule::PortalAccountDisabled,
    Rule::PortalFreshMember,
    Rule::PortalStaleMember,
    Rule::PortalNonMember,
];

/// A rule's position in [`RULES`]. Without a wildcard arm, a new rule fails to compile
/// here until it is listed, and the test below checks that it was listed there.
#[cfg(test)]
const fn rule_position(rule: Rule) -> usize {
    match rule {
        Rule::UnknownOrg => 0,
        Rule::NoPortal => 1,
        Rule::IdpRequestDenied => 2,
        Rule::IdpStatus => 3,
        Rule::InvalidAssertion => 4,
        Rule::ReplayedAssertion => 5,
        Rule::WrongIssuer => 6,
        Rule::GroupsOverage => 7,
        Rule::MissingRequiredGroup => 8,
        Rule::DeprovisionedIdentity => 9,
        Rule::LinkedAccountDisabled => 10,
        Rule::RoleSyncSkipped => 11,
        Rule::RolesRaised => 12,
        Rule::LinkedMember => 13,
        Rule::InviteAccepted => 14,
        Rule::LinkedNonMember => 15,
        Rule::EmailAmbiguous => 16,
        Rule::EmailUnverifiedDomain => 17,
        Rule::EmailAccountLinkedElsewhere => 18,
        Rule::EmailAccountDisabled => 19,
        Rule::EmailLinked => 20,
        Rule::JitCreate => 21,
        Rule::NoFreeHandle => 22,
        Rule::PortalAnonymous => 23,
        Rule::PortalAccountDisabled => 24,
        Rule::PortalFreshMember => 25,
        Rule::PortalStaleMember => 26,
        Rule::PortalNonMember => 27,
    }
}

/// A reason's position in [`REASONS`], for the same purpose as [`rule_position`].
#[cfg(test)]
const fn reason_position(reason: Reason) -> usize {
    match reason {
        Reason::AppNotAssigned => 0,
        Reason::WrongIssuer => 1,
        Reason::EmailInUse => 2,
        Reason::AccountDisabled => 3,
        Reason::InvalidAssertion => 4,
        Reason::JitDisabled => 5,
        Reason::UnknownOrg => 6,
        Reason::IdpError => 7,
        Reason::HandleUnavailable => 8,
        Reason::GroupsOverage => 9,
        Reason::OrgInactive => 10,
        Reason::OrgNotOpen => 11,
        Reason::Deprovisioned => 12,
    }
}

/// What serde cannot check: codes from closed lists.
fn check_expect(expect: &Expect) -> Result<(), String> {
    if let Some(outcome) = &expect.outcome {
        if !OUTCOMES.contains(&outcome.as_str()) {
            return Err(format!(
                "unknown expected outcome `{outcome}`: {}",
                suggestion(outcome, &OUTCOMES)
            ));
        }
    }
    if let Some(reason) = &expect.reason {
        if !REASONS.contains(&reason.as_str()) {
            return Err(format!(
                "unknown expected reason `{reason}`: {}",
                suggestion(reason, &REASONS)
            ));
        }
    }
    if let Some(rule) = &expect.rule {
        let ids = RULES.map(Rule::id);
        if !ids.contains(&rule.as_str()) {
            return Err(format!(
                "unknown expected rule `{rule}`: {}",
                suggestion(rule, &ids)
            ));
        }
    }
    Ok(())
}

impl Serialize for Case {
    /// As case-file text: a single-request case flat, a scenario with `steps`; the config
    /// inline wherever it was written, so that the text stands alone.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("config", &self.config)?;
        map.serialize_entry("accounts", &self.accounts)?;
        if !self.invites.is_empty() {
            let invites: Vec<CaseInvite> = self.invites.iter().map(CaseInvite::of).collect();
            map.serialize_entry("invites", &invites)?;
        }
        if !self.deprovisioned.is_empty() {
            map.serialize_entry("deprovisioned", &self.deprovisioned)?;
        }
        match self.steps.as_slice() {
            [only] if only.name.is_none() => {
                map.serialize_entry("now", &only.now)?;
                map.serialize_entry("request", &only.request)?;
                map.serialize_entry("expect", &only.expect)?;
            }
            steps => {
                let steps: Vec<StepText<'_>> = steps.iter().map(StepText::from).collect();
                map.serialize_entry("steps", &steps)?;
            }
        }
        map.end()
    }
}

/// A scenario step as case-file text.
#[derive(Serialize)]
struct StepText<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: &'a Option<String>,
    now: &'a DateTime<Utc>,
    request: &'a CaseRequest,
    expect: &'a Expect,
}

impl<'a> From<&'a Step> for StepText<'a> {
    fn from(step: &'a Step) -> Self {
        StepText {
            name: &step.name,
            now: &step.now,
            request: &step.request,
            expect: &step.expect,
        }
    }
}

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
    fn the_format_doc_lists_every_outcome_reason_and_rule() {
        // The README is the case format's reference: a code missing there is one a test
        // author cannot find.
        let doc = include_str!("../../tests/cases/README.md");
        let row = |key: &str| {
            doc.lines()
                .find(|line| line.starts_with(&format!("| `{key}` |")))
                .unwrap_or_default()
        };
        for outcome in OUTCOMES {
            assert!(
                row("outcome").contains(&format!("`{outcome}`")),
                "{outcome}"
            );
        }
        for reason in REASONS {
            assert!(row("reason").contains(&format!("`{reason}`")), "{reason}");
        }
        for rule in RULES.map(Rule::id) {
            assert!(row("rule").contains(&format!("`{rule}`")), "{rule}");
        }
    }

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
        assert!(load("[42]")
            .unwrap_err()
            .to_string()
            .contains("a case is a JSON object"));
    }

    #[test]
    fn closed_lists_are_checked_at_load() {
        let bad_outcome = MINIMAL.replace("not_found", "notfound");
        assert!(load(&bad_outcome).is_err());
        let bad_reason = MINIMAL.replace(r#""outcome": "not_found""#, r#""reason": "nope""#);
        assert!(load(&bad_reason).is_err());
        let bad_rule = MINIMAL.replace(r#""outcome": "not_found""#, r#""rule": "unknown_orgs""#);
        let message = load(&bad_rule).unwrap_err().to_string();
        assert!(message.contains("did you mean `unknown_org`"), "{message}");
        assert!(message.contains("`portal_non_member`"), "{message}");
        let twice = format!("[{MINIMAL}, {MINIMAL}]");
        assert!(load(&twice).unwrap_err().to_string().contains("same name"));
    }

    #[test]
    fn the_lists_hold_every_rule_and_reason_in_order() {
        for (position, rule) in RULES.iter().enumerate() {
            assert_eq!(rule_position(*rule), position, "{rule:?}");
        }
        for (position, code) in REASONS.iter().enumerate().take(9) {
            let reason: Reason = serde_json::from_value(Value::String((*code).into())).unwrap();
            assert_eq!(reason_position(reason), position, "{code}");
        }
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

    #[test]
    fn format_one_is_accepted_and_later_formats_are_refused_by_name() {
        let one = MINIMAL.replacen('{', r#"{"format": 1, "#, 1);
        assert!(load(&one).is_ok());
        let two = MINIMAL.replacen('{', r#"{"format": 2, "#, 1);
        let message = load(&two).unwrap_err().to_string();
        assert!(message.contains("reads format 1"), "{message}");
        let text = MINIMAL.replacen('{', r#"{"format": "1", "#, 1);
        assert!(load(&text).is_err());
    }

    const SCENARIO: &str = r#"{"name": "s", "config": {"orgs": {"acme":
        {"jit": true, "idp": "https://idp"}}}, "steps": [
        {"now": "2026-11-28T12:00:00Z", "request": {"assertion": {"org": "acme",
            "issuer": "https://idp", "subject": "1"}}, "expect": {}},
        {"name": "back", "now": "2026-11-28T13:00:00Z", "request": {"portal_visit": {"org": "acme",
            "session": {"account": {"step": 1}, "sso_at": "2026-11-28T12:00:00Z"}}},
            "expect": {"account": {"step": 1}}}]}"#;

    #[test]
    fn a_scenario_loads_its_steps_and_their_references() {
        let case = load(SCENARIO).unwrap().cases.remove(0);
        assert_eq!(case.steps.len(), 2);
        let back = case.steps.get(1).unwrap();
        assert_eq!(back.name.as_deref(), Some("back"));
        assert_eq!(back.expect.account, Some(CaseAccount::Step(1)));
        let made = [Some(AccountId::from("acc-1"))];
        let Ok(Request::PortalVisit(visit)) = back.request.resolve(&made) else {
            panic!("not resolved");
        };
        assert_eq!(visit.session.unwrap().account, AccountId::from("acc-1"));
        assert_eq!(back.request.resolve(&[None]), Err(1));
    }

    #[test]
    fn a_step_may_name_only_an_earlier_step() {
        let forward = SCENARIO.replace(
            r#""expect": {"account": {"step": 1}}"#,
            r#""expect": {"account": {"step": 2}}"#,
        );
        let message = load(&forward).unwrap_err().to_string();
        assert!(
            message.contains("step 2: `expect.account` names the account of step 2"),
            "{message}"
        );
        let zero = SCENARIO.replace(
            r#""session": {"account": {"step": 1}"#,
            r#""session": {"account": {"step": 0}"#,
        );
        assert!(load(&zero)
            .unwrap_err()
            .to_string()
            .contains("not an earlier step"));
        let flat = MINIMAL.replace(
            r#"{"idp_error": {"org": "a", "status": "x"}}"#,
            r#"{"portal_visit": {"org": "a", "session": {"account": {"step": 1}}}}"#,
        );
        assert!(load(&flat)
            .unwrap_err()
            .to_string()
            .contains("this case has no `steps`"));
        let not_a_ref =
            SCENARIO.replace(r#"{"account": {"step": 1}}"#, r#"{"account": {"stp": 1}}"#);
        assert!(load(&not_a_ref)
            .unwrap_err()
            .to_string()
            .contains("did you mean `step`"));
    }

    #[test]
    fn a_scenario_keeps_now_request_and_expect_in_its_steps() {
        let mixed = SCENARIO.replacen(r#""steps""#, r#""now": "2026-11-28T12:00:00Z", "steps""#, 1);
        assert!(load(&mixed)
            .unwrap_err()
            .to_string()
            .contains("has no `now` of its own"));
        let empty = r#"{"name": "e", "config": {"orgs": {}}, "steps": []}"#;
        assert!(load(empty)
            .unwrap_err()
            .to_string()
            .contains("at least one step"));
    }

    #[test]
    fn a_case_serializes_back_to_text_that_loads_the_same() {
        for text in [MINIMAL, SCENARIO] {
            let case = load(text).unwrap().cases.remove(0);
            let written = serde_json::to_string(&case).unwrap();
            assert_eq!(load(&written).unwrap().cases, vec![case]);
        }
    }

    #[test]
    fn an_unknown_key_in_an_inline_config_is_located_in_the_case() {
        let typo = MINIMAL.replace(
            r#""config": {"orgs": {}}"#,
            r#""config": {"orgs": {"a": {"jitt": true}}}"#,
        );
        let message = load(&typo).unwrap_err().to_string();
        assert!(
            message.contains("unknown key `jitt` at `.config.orgs.a`: did you mean `jit`?"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_config_says_where_one_could_be() {
        let without = MINIMAL.replace(r#""config": {"orgs": {}}, "#, "");
        let message = parse(Path::new("no/such/folder/cases.json"), &without)
            .unwrap_err()
            .to_string();
        assert!(message.contains("missing `config`"), "{message}");
        assert!(message.contains("no/such/folder"), "{message}");
    }
}
