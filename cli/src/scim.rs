//! `jit-provisioning scim …`: what an org's SCIM endpoints need from the operator, in
//! the app's database: the bearer tokens its IdP sends.

use chrono::{SecondsFormat, Utc};
use clap::{Args, Subcommand};
use jit_provisioning::org::valid_org_id;
use jit_provisioning::{AdminAction, AdminEvent, ScimTokenInfo, SCIM_TOKEN_PREFIX};

use crate::orgs::{open, Database};
use crate::Verdict;

/// The longest label a token may have, in characters.
const MAX_LABEL_CHARS: usize = 100;

/// SCIM subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum ScimCommand {
    /// The bearer tokens an org's IdP sends with its SCIM requests: create, list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `scim token …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Make a token for an org: printed once, alone on standard output, and kept only as
    /// its SHA-256. It opens that org's SCIM endpoints and no other's.
    Create(CreateArgs),
    /// The org's tokens: id, label, when made, when last used, and the last 4 digits
    /// (never the token).
    List(OrgArgs),
    /// Revoke one of the org's tokens by its id (from `scim token list`): its next
    /// request is refused.
    Revoke(RevokeArgs),
}

/// The database and the org.
#[derive(Debug, Args)]
pub(crate) struct OrgArgs {
    /// The app's database: `sqlite://PATH` or `postgres://…`.
    #[arg(long, value_name = "URL")]
    database: String,
    /// The org's id.
    #[arg(long, value_name = "ORG")]
    org: String,
    /// Who does it, for the org's audit log (the admin pages' "recent changes").
    #[arg(long, default_value = "cli")]
    actor: String,
}

/// `scim token create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// What to call the token, to tell it apart later (`okta`, `entra-prod`).
    #[arg(long, value_name = "TEXT", default_value = "")]
    label: String,
}

/// `scim token revoke`.
#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// The token's id, from `scim token list`.
    id: String,
}

impl ScimCommand {
    pub(crate) fn run(&self) -> Verdict {
        match crate::runtime() {
            Ok(runtime) => runtime.block_on(self.run_async()),
            Err(verdict) => verdict,
        }
    }

    async fn run_async(&self) -> Verdict {
        let ScimCommand::Token(command) = self;
        let args = match command {
            TokenCommand::Create(args) => &args.org,
            TokenCommand::List(args) => args,
            TokenCommand::Revoke(args) => &args.org,
        };
        if !valid_org_id(&args.org) {
            return crate::usage(format!("`{}` is not an org id", args.org));
        }
        if let TokenCommand::Create(create) = command {
            if let Err(message) = check_label(&create.label) {
                return crate::usage(message);
            }
        }
        // The orgs' metadata is never fetched here: no private addresses.
        let database = match open(&args.database, false).await {
            Ok(database) => database,
            Err(message) => return crate::usage(message),
        };
        match command {
            TokenCommand::Create(create) => self::create(&database, args, &create.label).await,
            TokenCommand::List(_) => list(&database, &args.org).await,
            TokenCommand::Revoke(revoke) => self::revoke(&database, args, &revoke.id).await,
        }
    }
}

/// A label is one short line: it is printed in tab-separated lists.
fn check_label(label: &str) -> Result<(), String> {
    if label.chars().any(char::is_control) {
        return Err("--label must be one line of text, without tabs".to_owned());
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(format!(
            "--label is longer than {MAX_LABEL_CHARS} characters"
        ));
    }
    Ok(())
}

/// Whether the database has `org`; `Err` is the verdict to end with.
async fn has_org(database: &Database, org: &str) -> Result<(), Verdict> {
    match database.registry.org(org).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => {
            eprintln!("jit-provisioning: there is no org `{org}` (`orgs import` or `orgs owner-link --create` makes one)");
            Err(Verdict::No)
        }
        Err(error) => Err(crate::usage(format!("the orgs could not be read: {error}"))),
    }
}

/// Records `action` of `args.actor` in the org's audit log.
async fn record(database: &Database, args: &OrgArgs, action: AdminAction) -> Result<(), String> {
    let event = AdminEvent::new(&args.org, &args.actor, Utc::now(), action);
    database
        .audit_log
        .record(&event)
        .await
        .map_err(|error| error.to_string())
}

async fn create(database: &Database, args: &OrgArgs, label: &str) -> Verdict {
    let org = args.org.as_str();
    if let Err(verdict) = has_org(database, org).await {
        return verdict;
    }
    let issued = match database.scim_tokens.create(org, label, Utc::now()).await {
        Ok(issued) => issued,
        Err(error) => return crate::usage(format!("the token could not be stored: {error}")),
    };
    let action = AdminAction::ScimTokenCreated {
        token: issued.info.id.clone(),
        label: issued.info.label.clone(),
    };
    // As on the admin pages: no token opens the endpoint without its trace in the log.
    if let Err(error) = record(database, args, action).await {
        let undone = database.scim_tokens.revoke(org, &issued.info.id).await;
        return crate::usage(match undone {
            Ok(_) => format!("the token could not be recorded in the audit log ({error}), so it was revoked again"),
            Err(also) => format!("the token could not be recorded in the audit log ({error}), nor revoked again ({also}): revoke {} by hand", issued.info.id),
        });
    }
    // Standard output holds the token and nothing else, so that `$(…)` takes it whole.
    println!("{}", issued.token);
    eprintln!(
        "SCIM token {} for `{org}`: it will not be shown again. Give it to the IdP now, as the bearer token of its SCIM connection",
        issued.info.id
    );
    Verdict::Yes
}

async fn list(database: &Database, org: &str) -> Verdict {
    if let Err(verdict) = has_org(database, org).await {
        return verdict;
    }
    match database.scim_tokens.list(org).await {
        Ok(tokens) if tokens.is_empty() => {
            println!("no SCIM tokens for `{org}`");
            Verdict::Yes
        }
        Ok(tokens) => {
            for info in &tokens {
                println!("{}", list_line(info));
            }
            Verdict::Yes
        }
        Err(error) => crate::usage(format!("the tokens could not be read: {error}")),
    }
}

/// id, label, created, last used, hint: tab-separated.
fn list_line(info: &ScimTokenInfo) -> String {
    let label = if info.label.is_empty() {
        "-"
    } else {
        info.label.as_str()
    };
    let last_used = info.last_used_at.map_or_else(
        || "never used".to_owned(),
        |at| {
            format!(
                "last used {}",
                at.to_rfc3339_opts(SecondsFormat::Secs, true)
            )
        },
    );
    format!(
        "{}\t{label}\tcreated {}\t{last_used}\t{SCIM_TOKEN_PREFIX}…{}",
        info.id,
        info.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        info.hint
    )
}

async fn revoke(database: &Database, args: &OrgArgs, id: &str) -> Verdict {
    let org = args.org.as_str();
    // The label, for the audit log, while the token is still listed.
    let label = match database.scim_tokens.list(org).await {
        Ok(tokens) => tokens
            .into_iter()
            .find(|info| info.id == id)
            .map(|info| info.label)
            .unwrap_or_default(),
        Err(error) => return crate::usage(format!("the tokens could not be read: {error}")),
    };
    match database.scim_tokens.revoke(org, id).await {
        Ok(true) => {
            println!("revoked SCIM token {id} of `{org}`");
            let action = AdminAction::ScimTokenRevoked {
                token: id.to_owned(),
                label,
            };
            if let Err(error) = record(database, args, action).await {
                eprintln!("jit-provisioning: the revocation could not be recorded in the audit log: {error}");
                return Verdict::No;
            }
            Verdict::Yes
        }
        Ok(false) => {
            println!("`{org}` has no SCIM token {id}: nothing was revoked");
            Verdict::No
        }
        Err(error) => crate::usage(format!("the token could not be revoked: {error}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail by panicking

    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_listed_token_shows_its_hint_not_its_secret() {
        let made = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let mut info = ScimTokenInfo::new("3", "acme", "", made, "3f9c");
        assert_eq!(
            list_line(&info),
            "3\t-\tcreated 2026-12-06T12:00:00Z\tnever used\tjitscim_…3f9c"
        );
        info.label = "okta".into();
        info.last_used_at = Some(made);
        assert_eq!(
            list_line(&info),
            "3\tokta\tcreated 2026-12-06T12:00:00Z\tlast used 2026-12-06T12:00:00Z\tjitscim_…3f9c"
        );
    }

    #[test]
    fn a_label_is_one_short_line() {
        assert!(check_label("").is_ok());
        assert!(check_label("Okta — prod").is_ok());
        assert!(check_label("a\tb").is_err());
        assert!(check_label("a\nb").is_err());
        assert!(check_label(&"x".repeat(101)).is_err());
        assert!(check_label(&"é".repeat(100)).is_ok());
    }
}
