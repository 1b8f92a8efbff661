//! Reading what the subcommands are given: files or standard input, configs, accounts.

use std::io::Read;
use std::path::Path;

use jit_provisioning::cases::{load_config, ConfigFileError};
use jit_provisioning::{AccountRecord, Config};

/// Why an input cannot be used: unreadable (exit status 2 everywhere) or readable but
/// wrong (what `config check` reports as its answer).
#[derive(Debug)]
pub(crate) enum InputError {
    Unreadable(String),
    Invalid(String),
}

impl InputError {
    pub(crate) fn message(&self) -> &str {
        match self {
            InputError::Unreadable(message) | InputError::Invalid(message) => message,
        }
    }
}

/// The text of `path`, or of standard input for `-`.
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| format!("cannot read standard input: {error}"))?;
        return Ok(text);
    }
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_string(&mut text))
        .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
    Ok(text)
}

/// A provisioning config file (JSON, or TOML by its `.toml` name), read as policy cases
/// read theirs; not yet validated.
pub(crate) fn config(path: &Path) -> Result<Config, InputError> {
    load_config(path).map_err(|error| match error {
        ConfigFileError::Unreadable { .. } => InputError::Unreadable(error.to_string()),
        _ => InputError::Invalid(error.to_string()),
    })
}

/// Accounts as a policy case's `accounts`: a JSON array.
pub(crate) fn accounts(path: &Path) -> Result<Vec<AccountRecord>, InputError> {
    let text = read_text(path).map_err(InputError::Unreadable)?;
    serde_json::from_str(&text).map_err(|error| {
        InputError::Invalid(format!(
            "`{}` is not a JSON array of accounts: {error}",
            path.display()
        ))
    })
}
