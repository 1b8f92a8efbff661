#![doc = include_str!("../README.md")]

mod saml;

use std::process::ExitCode;

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
    /// SAML: verify an IdP's responses, print SP metadata.
    #[command(subcommand)]
    Saml(saml::SamlCommand),
}

/// What a subcommand concluded: the process's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Yes,
    No,
    Usage,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verdict = match cli.command {
        Command::Saml(command) => command.run(),
    };
    match verdict {
        Verdict::Yes => ExitCode::SUCCESS,
        Verdict::No => ExitCode::from(1),
        Verdict::Usage => ExitCode::from(2),
    }
}
