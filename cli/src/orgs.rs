//! `jit-provisioning orgs …`: the orgs of a running app, in its database.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use clap::{Args, Subcommand};
use jit_provisioning::org::{
    valid_org_id, AuditEntry, OrgDirectory, OrgRecord, OrgRegistry, OrgState, OrgUpdate, SsoCheck,
    UpdateError,
};
use jit_provisioning::{AuditLog, Config, OrgConfig, OwnerLinks, ScimTokens};
use jit_provisioning_saml::{HttpFetcher, SamlSettingsCheck};
use jit_provisioning_sqlx::{PgDirectory, PgStore, SqliteDirectory, SqliteStore};

use crate::input::{self, InputError};
use crate::Verdict;

/// How far ahead `orgs list` and `config check` warn of a certificate's end.
pub(crate) const EXPIRY_WARNING_DAYS: i64 = 30;

/// How many orgs `orgs list` reads per round trip.
const PAGE: usize = 500;

/// Orgs subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum OrgsCommand {
    /// Write every org of a config file (TOML or JSON) into the database: new orgs are
    /// created, changed ones get a new version, the rest are left alone. The file is
    /// checked as one first; one problem and nothing is written.
    Import(ImportArgs),
    /// One line per org: state, JIT, IdP, version, last change; and every IdP
    /// certificate that ends within 30 days.
    List(DatabaseArgs),
    /// An org's record, as a config file that `orgs import` reads back.
    Show(OrgArgs),
    /// Close an org's SSO: its portal answers as with JIT off, with a page that says so.
    Disable(ChangeArgs),
    /// Open an org's SSO again, as it was.
    Enable(ChangeArgs),
    /// Every change to an org: version, when, who, and what changed.
    History(OrgArgs),
    /// A one-time link that opens an org's admin pages for its first set-up, before
    /// anyone can sign in through its SSO: printed once, kept only as its SHA-256, usable
    /// for an hour (`--minutes`). With `--create`, an org not in the database yet is
    /// created as a draft (JIT off) first.
    OwnerLink(OwnerLinkArgs),
}

/// `orgs owner-link`.
#[derive(Debug, Args)]
pub(crate) struct OwnerLinkArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// The app's address, which the link starts with (`https://app.example`).
    #[arg(long, value_name = "URL")]
    base_url: String,
    /// How long the link stays usable.
    #[arg(long, value_name = "N", default_value_t = jit_provisioning::DEFAULT_OWNER_LINK_MINUTES)]
    minutes: i64,
    /// Create the org as a draft (JIT off) if the database has no such org.
    #[arg(long)]
    create: bool,
    /// Who makes the org, for its history (with `--create`).
    #[arg(long, default_value = "cli")]
    actor: String,
}

/// Where the orgs are.
#[derive(Debug, Args)]
pub(crate) struct DatabaseArgs {
    /// The app's database: `sqlite://PATH` or `postgres://…`.
    #[arg(long, value_name = "URL")]
    database: String,
    /// Fetch `metadata_url`s on private and loopback addresses too (a test IdP on this
    /// machine); refused by default.
    #[arg(long)]
    allow_private_addresses: bool,
}

/// `orgs import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Who makes the change, for the history.
    #[arg(long, default_value = "cli")]
    actor: String,
    /// The config file.
    file: PathBuf,
}

/// A command about one org.
#[derive(Debug, Args)]
pub(crate) struct OrgArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The org's id.
    org: String,
}

/// `orgs enable` and `orgs disable`.
#[derive(Debug, Args)]
pub(crate) struct ChangeArgs {
    #[command(flatten)]
    org: OrgArgs,
    /// Who makes the change, for the history.
    #[arg(long, default_value = "cli")]
    actor: String,
    /// Refuse the change unless the org is at this version (from `orgs show`).
    #[arg(long, value_name = "N")]
    expect_version: Option<u64>,
}

impl OrgsCommand {
    pub(crate) fn run(&self) -> Verdict {
        match crate::runtime() {
            Ok(runtime) => runtime.block_on(self.run_async()),
            Err(verdict) => verdict,
        }
    }

    async fn run_async(&self) -> Verdict {
        let database = match self {
            OrgsCommand::Import(args) => &args.database,
            OrgsCommand::List(args) => args,
            OrgsCommand::Show(args) | OrgsCommand::History(args) => &args.database,
            OrgsCommand::Disable(args) | OrgsCommand::Enable(args) => &args.org.database,
            OrgsCommand::OwnerLink(args) => &args.org.database,
        };
        let opened = match open(&database.database, database.allow_private_addresses).await {
            Ok(opened) => opened,
            Err(message) => return crate::usage(message),
        };
        let (registry, links) = (opened.registry, opened.owner_links);
        match self {
            OrgsCommand::Import(args) => import(&registry, args).await,
            OrgsCommand::List(_) => list(&registry, &sso_check(database)).await,
            OrgsCommand::Show(args) => show(&registry, &args.org).await,
            OrgsCommand::History(args) => history(&registry, &args.org).await,
            OrgsCommand::Disable(args) => set_state(&registry, args, OrgState::Inactive).await,
            OrgsCommand::Enable(args) => set_state(&registry, args, OrgState::Active).await,
            OrgsCommand::OwnerLink(args) => owner_link(&registry, links.as_ref(), args).await,
        }
    }
}

/// The SAML adapter's check, fetching metadata over HTTPS (and on private addresses
/// when allowed).
pub(crate) fn sso_check(database: &DatabaseArgs) -> SamlSettingsCheck {
    sso_check_allowing(database.allow_private_addresses)
}

/// [`sso_check`] without a database.
pub(crate) fn sso_check_allowing(private_addresses: bool) -> SamlSettingsCheck {
    let fetcher = HttpFetcher::new()
        .allow_private_addresses(private_addresses)
        .allow_http(private_addresses);
    SamlSettingsCheck::new().with_fetcher(Arc::new(fetcher))
}

/// What the commands over an app's database work with: its orgs, and the secrets kept
/// for them (owner links, SCIM tokens), in that same database.
pub(crate) struct Database {
    /// The orgs.
    pub(crate) registry: OrgRegistry,
    /// One-time owner links.
    pub(crate) owner_links: Arc<dyn OwnerLinks>,
    /// SCIM bearer tokens.
    pub(crate) scim_tokens: Arc<dyn ScimTokens>,
    /// What admins did: the admin pages' log, which the token commands write too.
    pub(crate) audit_log: Arc<dyn AuditLog>,
}

/// The parts of an app's database the commands use, one store behind the last three.
type Opened = (
    Arc<dyn OrgDirectory>,
    Arc<dyn OwnerLinks>,
    Arc<dyn ScimTokens>,
    Arc<dyn AuditLog>,
);

/// Opens the database at `url` (`sqlite://PATH` or `postgres://…`) and creates or
/// updates its tables; `private_addresses` lets the registry's SSO check fetch metadata
/// inside this network. The message says what failed.
pub(crate) async fn open(url: &str, private_addresses: bool) -> Result<Database, String> {
    let failed = |error: &dyn std::fmt::Display| format!("cannot open `{url}`: {error}");
    let (directory, owner_links, scim_tokens, audit_log): Opened = if url.starts_with("sqlite:") {
        let store = SqliteStore::connect(url).await.map_err(|e| failed(&e))?;
        store.migrate().await.map_err(|e| failed(&e))?;
        let directory = Arc::new(SqliteDirectory::new(store.pool().clone()));
        let store = Arc::new(store);
        (directory, store.clone(), store.clone(), store)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let store = PgStore::connect(url).await.map_err(|e| failed(&e))?;
        store.migrate().await.map_err(|e| failed(&e))?;
        let directory = Arc::new(PgDirectory::new(store.pool().clone()));
        let store = Arc::new(store);
        (directory, store.clone(), store.clone(), store)
    } else {
        return Err(format!(
            "`{url}` is not a database URL: use `sqlite://PATH` or `postgres://…`"
        ));
    };
    let registry = OrgRegistry::new(directory, &Config::default()).map_err(|e| e.to_string())?;
    Ok(Database {
        registry: registry.with_sso_check(Arc::new(sso_check_allowing(private_addresses))),
        owner_links,
        scim_tokens,
        audit_log,
    })
}

async fn owner_link(
    registry: &OrgRegistry,
    links: &dyn OwnerLinks,
    args: &OwnerLinkArgs,
) -> Verdict {
    let org = args.org.org.as_str();
    if !valid_org_id(org) {
        return crate::usage(format!("`{org}` is not an org id"));
    }
    if !(1..=24 * 60).contains(&args.minutes) {
        return crate::usage("--minutes must be between 1 and 1440 (a day)");
    }
    let base = args.base_url.trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return crate::usage(format!(
            "`{}` is not the app's address: give its origin, such as https://app.example",
            args.base_url
        ));
    }
    let now = Utc::now();
    match registry.org(org).await {
        Ok(Some(_)) => {}
        Ok(None) if args.create => {
            let mut draft = OrgConfig::default();
            draft.state = OrgState::Draft;
            let update = OrgUpdate::new(org, draft, &args.actor, now).expecting(0);
            if let Err(error) = registry.update(update).await {
                return refused(&error);
            }
            println!("created `{org}` as a draft: its SSO is closed until its admin sets it up");
        }
        Ok(None) => {
            println!("there is no org `{org}` (add --create to make it as a draft)");
            return Verdict::No;
        }
        Err(error) => return crate::usage(format!("the orgs could not be read: {error}")),
    }
    let expires_at = now + TimeDelta::minutes(args.minutes);
    let token = match links.create(org, now, expires_at).await {
        Ok(token) => token,
        Err(error) => return crate::usage(format!("the link could not be stored: {error}")),
    };
    println!("{base}/{org}/admin/owner/{token}");
    eprintln!(
        "one use, until {}: whoever opens it manages `{org}` until the session ends; send it privately",
        expires_at.to_rfc3339()
    );
    Verdict::Yes
}

async fn import(registry: &OrgRegistry, args: &ImportArgs) -> Verdict {
    let config = match input::config(&args.file) {
        Ok(config) => config,
        Err(InputError::Unreadable(message)) => return crate::usage(message),
        Err(InputError::Invalid(message)) => {
            println!("{message}");
            return Verdict::No;
        }
    };
    let base_dir = args.file.parent();
    match registry
        .import(&config, &args.actor, Utc::now(), base_dir)
        .await
    {
        Ok(report) => {
            for id in &report.created {
                println!("created `{id}` (version 1)");
            }
            for (id, version) in &report.changed {
                println!("changed `{id}` (version {version})");
            }
            for id in &report.unchanged {
                println!("unchanged `{id}`");
            }
            Verdict::Yes
        }
        Err(error) => refused(&error),
    }
}

async fn list(registry: &OrgRegistry, check: &SamlSettingsCheck) -> Verdict {
    let now = Utc::now();
    let mut after: Option<String> = None;
    let mut any = false;
    loop {
        let page = match registry.list(after.as_deref(), PAGE).await {
            Ok(page) => page,
            Err(error) => return crate::usage(error),
        };
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for record in &page {
            any = true;
            println!("{}", list_line(record));
            for warning in expiring(check, record, now).await {
                println!("  ! {warning}");
            }
        }
    }
    if !any {
        println!("no orgs");
    }
    Verdict::Yes
}

fn list_line(record: &OrgRecord) -> String {
    let config = &record.config;
    format!(
        "{}\t{}\tjit {}\tidp {}\tversion {}\t{} by {}",
        record.id,
        config.state,
        if config.jit { "on" } else { "off" },
        config.idp.as_deref().unwrap_or("-"),
        record.version,
        record
            .updated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        record.updated_by
    )
}

/// The org's IdP certificates that end within [`EXPIRY_WARNING_DAYS`], or why they could
/// not be read.
pub(crate) async fn expiring(
    check: &SamlSettingsCheck,
    record: &OrgRecord,
    now: DateTime<Utc>,
) -> Vec<String> {
    let Some(saml) = &record.config.saml else {
        return Vec::new();
    };
    match check.check(&record.id, saml, None).await {
        Ok(facts) => facts
            .expiring(now, TimeDelta::days(EXPIRY_WARNING_DAYS))
            .map(|certificate| expiry_warning(&certificate.subject, certificate.not_after, now))
            .collect(),
        Err(problems) => problems
            .into_iter()
            .map(|problem| format!("the SAML settings cannot be checked: {problem}"))
            .collect(),
    }
}

/// "the IdP certificate `CN=…` ends in 12 days (…)", or "ended …".
pub(crate) fn expiry_warning(
    subject: &str,
    not_after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> String {
    let when = not_after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let days = (not_after - now).num_days();
    if not_after <= now {
        format!("the IdP certificate `{subject}` ended at {when}: sign-ins fail until the IdP's new one is trusted")
    } else {
        format!("the IdP certificate `{subject}` ends in {days} days ({when}): trust its successor before then")
    }
}

async fn show(registry: &OrgRegistry, org: &str) -> Verdict {
    let record = match registry.directory().org(org).await {
        Ok(Some(record)) => record,
        Ok(None) => {
            println!("there is no org `{org}`");
            return Verdict::No;
        }
        Err(error) => return crate::usage(error),
    };
    match as_config_file(&record) {
        Ok(text) => {
            print!("{text}");
            Verdict::Yes
        }
        Err(error) => crate::usage(error),
    }
}

/// The record as a TOML config file that `orgs import` reads back, its version and last
/// change in a comment.
pub(crate) fn as_config_file(record: &OrgRecord) -> Result<String, String> {
    let mut config = Config::default();
    config.orgs.insert(record.id.clone(), record.config.clone());
    let text = as_toml(&config)?;
    Ok(format!(
        "# org `{}`, version {}, written {} by {}\n{text}",
        record.id,
        record.version,
        record
            .updated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        record.updated_by
    ))
}

/// A config as a TOML file.
pub(crate) fn as_toml(config: &Config) -> Result<String, String> {
    // TOML has no null: a JSON null in the SAML settings means "not set".
    let mut value = serde_json::to_value(config).map_err(|error| error.to_string())?;
    drop_nulls(&mut value);
    toml::to_string_pretty(&value).map_err(|error| error.to_string())
}

fn drop_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, inner| !inner.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

async fn history(registry: &OrgRegistry, org: &str) -> Verdict {
    match registry.history(org).await {
        Ok(entries) if entries.is_empty() => {
            println!("no history for `{org}`: there is no such org");
            Verdict::No
        }
        Ok(entries) => {
            for entry in &entries {
                for line in history_lines(entry) {
                    println!("{line}");
                }
            }
            Verdict::Yes
        }
        Err(error) => crate::usage(error),
    }
}

fn history_lines(entry: &AuditEntry) -> Vec<String> {
    let mut lines = vec![format!(
        "version {}\t{}\t{}",
        entry.version,
        entry.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        entry.actor
    )];
    let shown = |value: &Option<serde_json::Value>| match value {
        None => "(not set)".to_owned(),
        Some(value) => value.to_string(),
    };
    for change in &entry.changes {
        lines.push(format!(
            "  {}: {} → {}",
            change.field,
            shown(&change.before),
            shown(&change.after)
        ));
    }
    lines
}

async fn set_state(registry: &OrgRegistry, args: &ChangeArgs, state: OrgState) -> Verdict {
    match registry
        .set_state(
            &args.org.org,
            state,
            args.expect_version,
            &args.actor,
            Utc::now(),
        )
        .await
    {
        Ok(record) => {
            println!(
                "`{}` is {} (version {})",
                record.id, record.config.state, record.version
            );
            Verdict::Yes
        }
        Err(UpdateError::UnknownOrg(org)) => {
            println!("there is no org `{org}`");
            Verdict::No
        }
        Err(error) => refused(&error),
    }
}

/// Prints why a change was refused: every problem, or the conflict.
fn refused(error: &UpdateError) -> Verdict {
    match error {
        UpdateError::Invalid(invalid) => {
            let problems = invalid.problems();
            let plural = if problems.len() == 1 { "" } else { "s" };
            println!("nothing was written: {} problem{plural}", problems.len());
            for problem in problems {
                println!("  - {problem}");
            }
            Verdict::No
        }
        UpdateError::Store(error) => crate::usage(error),
        other => {
            println!("{other}");
            Verdict::No
        }
    }
}
