//! `jit-provisioning config check FILE`: load and check a config file, its orgs' SAML
//! settings included.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use jit_provisioning::{Deployment, Policy, RoleSync};

use crate::input::{self, InputError};
use crate::Verdict;

/// Config subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Load and check a config file (JSON, or TOML by its `.toml` name), the orgs' SAML
    /// settings included (metadata read, certificates parsed); list every problem, or
    /// what the config means and the IdP certificates that end within 30 days.
    Check(CheckArgs),
    /// Turn the old two-file form (a policy file and a SAML file) into one config file,
    /// each org's SAML settings under its `saml` (metadata files inlined), printed on
    /// standard output.
    Convert(ConvertArgs),
}

/// `config convert`.
#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// The policy file (the core's config).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The SAML file (`sp` and per-org `orgs`); its `sp`, `limits` and `backend` stay
    /// the app's and are not carried over.
    #[arg(long, value_name = "FILE")]
    saml: PathBuf,
}

/// `config check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Fetch `metadata_url`s on private and loopback addresses too (a test IdP on this
    /// machine); refused by default.
    #[arg(long)]
    allow_private_addresses: bool,
    /// The config file.
    file: PathBuf,
}

impl ConfigCommand {
    pub(crate) fn run(&self) -> Verdict {
        match self {
            ConfigCommand::Check(args) => check(args),
            ConfigCommand::Convert(args) => convert(args),
        }
    }
}

fn check(args: &CheckArgs) -> Verdict {
    let shown = args.file.display();
    let config = match input::config(&args.file) {
        Ok(config) => config,
        Err(InputError::Unreadable(message)) => return crate::usage(message),
        Err(InputError::Invalid(message)) => {
            println!("{message}");
            return Verdict::No;
        }
    };
    let runtime = match crate::runtime() {
        Ok(runtime) => runtime,
        Err(verdict) => return verdict,
    };
    let sso = crate::orgs::sso_check_allowing(args.allow_private_addresses);
    match runtime.block_on(config.check(&sso, args.file.parent())) {
        Ok(checked) => {
            println!("`{shown}` is valid");
            for line in summary(&checked.policy) {
                println!("  {line}");
            }
            let now = chrono::Utc::now();
            for (org, facts) in &checked.sso {
                for certificate in facts.expiring(
                    now,
                    chrono::TimeDelta::days(crate::orgs::EXPIRY_WARNING_DAYS),
                ) {
                    let warning = crate::orgs::expiry_warning(
                        &certificate.subject,
                        certificate.not_after,
                        now,
                    );
                    println!("  ! org `{org}`: {warning}");
                }
            }
            Verdict::Yes
        }
        Err(error) => {
            let problems = error.problems();
            let plural = if problems.len() == 1 { "" } else { "s" };
            println!("`{shown}`: {} problem{plural}", problems.len());
            for problem in problems {
                println!("  - {problem}");
            }
            Verdict::No
        }
    }
}

fn convert(args: &ConvertArgs) -> Verdict {
    let policy = match input::config(&args.policy) {
        Ok(config) => config,
        Err(error) => return crate::usage(error.message()),
    };
    let saml = match jit_provisioning_saml::SamlConfig::read(&args.saml) {
        Ok(saml) => saml,
        Err(error) => return crate::usage(error),
    };
    let merged = match saml.merge_into(&policy, args.saml.parent()) {
        Ok(merged) => merged,
        Err(error) => {
            println!("{error}");
            return Verdict::No;
        }
    };
    match crate::orgs::as_toml(&merged) {
        Ok(text) => {
            print!("{text}");
            Verdict::Yes
        }
        Err(error) => crate::usage(error),
    }
}

/// What the config means, one line per org, in id order.
fn summary(policy: &Policy) -> Vec<String> {
    let mut lines = vec![format!(
        "deployment: {}; handles up to {} characters",
        match policy.deployment() {
            Deployment::MultiTenant => "multi_tenant",
            Deployment::PrivateInstance => "private_instance",
        },
        policy.max_handle_len()
    )];
    let mut orgs: Vec<_> = policy.orgs().collect();
    orgs.sort_by_key(|(id, _)| *id);
    for (id, org) in orgs {
        let Some(portal) = org.portal() else {
            lines.push(format!("org `{id}`: no SSO login portal"));
            continue;
        };
        let state = match org.state() {
            jit_provisioning::org::OrgState::Active => "",
            jit_provisioning::org::OrgState::Draft => " (draft: closed but to test sign-ins)",
            jit_provisioning::org::OrgState::Inactive => " (inactive: closed)",
        };
        let grants: Vec<String> = org.provision().iter().map(ToString::to_string).collect();
        let mut line = format!(
            "org `{id}`: portal{state} with IdP `{}`; new accounts get {}; re-validation after {} s",
            portal.idp(),
            grants.join(", "),
            portal.reauth_after().as_secs()
        );
        if portal.force_authn() {
            line.push_str("; the IdP is asked to re-authenticate");
        }
        if !org.verified_domains().is_empty() {
            line.push_str(&format!(
                "; verified domains {}",
                org.verified_domains().join(", ")
            ));
        }
        if !org.required_groups().is_empty() {
            line.push_str(&format!(
                "; requires one of the groups {}",
                org.required_groups().join(", ")
            ));
        }
        if !org.group_roles().is_empty() {
            let mapped: Vec<String> = org
                .group_roles()
                .iter()
                .map(|entry| format!("`{}` → {}", entry.group, entry.grant))
                .collect();
            let when = match org.sync_roles() {
                RoleSync::Never => "at creation",
                RoleSync::Upgrade => "at creation and at each sign-in, never lowering one",
            };
            line.push_str(&format!(
                "; groups raise roles {when}: {}",
                mapped.join(", ")
            ));
        }
        lines.push(line);
    }
    lines
}
