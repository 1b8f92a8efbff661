#![doc = include_str!("../README.md")]

mod cases;
mod config;
mod decide;
mod handles;
mod input;
mod orgs;
mod saml;
mod scim;

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

/// Just-in-time provisioning for SAML SSO: tools for operators and test suites.
#[derive(Debug, Parser)]
#[command(name = "jit-provisioning", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run policy case files (or folders of them) and report every difference.
    Cases(cases::CasesArgs),
    /// Preview the handles JIT would give a directory: tab-separated
    /// `first<TAB>last[<TAB>email]` rows on standard input, a header row allowed.
    Handles(handles::HandlesArgs),
    /// Provisioning configs: check one.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Decide one request over a config and the accounts a store holds.
    Decide(decide::DecideArgs),
    /// SAML: verify an IdP's responses, print SP metadata.
    #[command(subcommand)]
    Saml(saml::SamlCommand),
    /// The orgs of a running app, in its database: import a config file, list, show,
    /// enable, disable, and each org's history.
    #[command(subcommand)]
    Orgs(orgs::OrgsCommand),
    /// SCIM provisioning: the bearer tokens of an org's SCIM endpoints (create, list,
    /// revoke).
    #[command(subcommand)]
    Scim(scim::ScimCommand),
}

/// What a subcommand concluded: the process's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Yes,
    No,
    Usage,
}

/// Prints `message` as a usage error.
fn usage(message: impl std::fmt::Display) -> Verdict {
    eprintln!("jit-provisioning: {message}");
    Verdict::Usage
}

/// A runtime for the commands that talk to a database or fetch metadata (sqlx and the
/// fetcher run on tokio); a usage error if it cannot start.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Verdict> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| usage(format!("cannot start an async runtime: {error}")))
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|error| format!("not an RFC 3339 instant: {error}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verdict = match cli.command {
        Command::Cases(args) => args.run(),
        Command::Handles(args) => args.run(),
        Command::Config(command) => command.run(),
        Command::Decide(args) => args.run(),
        Command::Saml(command) => command.run(),
        Command::Orgs(command) => command.run(),
        Command::Scim(command) => command.run(),
    };
    match verdict {
        Verdict::Yes => ExitCode::SUCCESS,
        Verdict::No => ExitCode::from(1),
        Verdict::Usage => ExitCode::from(2),
    }
}
