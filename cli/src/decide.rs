//! `jit-provisioning decide`: one request through the provisioner, over a config and the
//! accounts a store would hold.

use std::path::PathBuf;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use jit_provisioning::{MemoryStore, Outcome, Provisioned, Provisioner, Request};
use serde_json::Value;

use crate::input::{self, InputError};
use crate::Verdict;

/// `decide`.
#[derive(Debug, Args)]
pub(crate) struct DecideArgs {
    /// The request, as a policy case writes it (`{"portal_visit": …}`, `{"assertion": …}`
    /// or `{"idp_error": …}`), in a JSON file; `-` reads standard input.
    request: PathBuf,
    /// The provisioning config (JSON, or TOML by its `.toml` name).
    #[arg(long)]
    config: PathBuf,
    /// The accounts the store holds, as a policy case's `accounts` (a JSON array).
    #[arg(long)]
    accounts: Option<PathBuf>,
    /// The instant to decide at, RFC 3339 (default: the system clock).
    #[arg(long, value_parser = crate::parse_instant)]
    now: Option<DateTime<Utc>>,
    /// How to print the decision.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The decision's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The outcome, the rule, the plan and the landing, as the quickstart prints them.
    Text,
    /// The decision as JSON, with the person's message and the account.
    Json,
}

impl DecideArgs {
    pub(crate) fn run(&self) -> Verdict {
        match self.decide() {
            Ok(done) => {
                match self.format {
                    Format::Text => println!("{}", text(&done)),
                    Format::Json => println!("{}", json(&done)),
                }
                match done.decision.outcome() {
                    Outcome::SignedIn | Outcome::AccountCreated | Outcome::RedirectToIdp => {
                        Verdict::Yes
                    }
                    Outcome::Denied | Outcome::NotFound => Verdict::No,
                }
            }
            Err(message) => crate::usage(message),
        }
    }

    fn decide(&self) -> Result<Provisioned, String> {
        let config = input::config(&self.config).map_err(|error| error.message().to_owned())?;
        let policy = config
            .validate()
            .map_err(|error| format!("`{}`: {error}", self.config.display()))?;
        let accounts = match &self.accounts {
            Some(path) => input::accounts(path).map_err(|error| match error {
                InputError::Unreadable(message) | InputError::Invalid(message) => message,
            })?,
            None => Vec::new(),
        };
        let store = MemoryStore::with_accounts(accounts)
            .map_err(|error| format!("the accounts cannot coexist: {error}"))?;
        let text = input::read_text(&self.request)?;
        let request: Request = serde_json::from_str(&text).map_err(|error| {
            format!(
                "`{}` is not a request (`{{\"portal_visit\": …}}`, `{{\"assertion\": …}}` or \
                 `{{\"idp_error\": …}}`): {error}",
                self.request.display()
            )
        })?;
        let now = self.now.unwrap_or_else(|| SystemTime::now().into());
        let provisioner = Provisioner::new(policy, store);
        pollster::block_on(provisioner.handle(&request, now))
            .map_err(|error| format!("could not decide: {error}"))
    }
}

/// As the quickstart prints a decision: its explanation, and what the person is told.
fn text(done: &Provisioned) -> String {
    let mut text = done.decision.explanation();
    if let Some(message) = done.decision.message() {
        text.push_str("\n  tells the person: ");
        text.push_str(message);
    }
    text
}

/// The decision's own JSON (`outcome`, `rule`, `reason`, `action`, `landing`), with the
/// person's `message` and the `account` as the store holds it afterwards.
fn json(done: &Provisioned) -> Value {
    let mut value = serde_json::to_value(&done.decision).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        fields.insert(
            "message".into(),
            done.decision.message().map_or(Value::Null, Value::from),
        );
        fields.insert(
            "account".into(),
            serde_json::to_value(&done.account).unwrap_or(Value::Null),
        );
    }
    value
}
