//! `jit-provisioning saml …`: verify a captured response, print SP metadata.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use jit_provisioning_saml::{
    decode_post, sp_metadata_xml, to_assertion, verify_explained, AttributeMapping, Certificate,
    Check, Expected, IdpMetadata, IdpOptions, InResponseTo, Limits, Preset, SignatureBackend,
    TrustedIdp, Verified, VerifyError, VerifyOptions,
};
use serde_json::{json, Map, Value};

use crate::Verdict;

/// SAML subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum SamlCommand {
    /// Verify a SAML response as the SP would, and print one JSON verdict.
    Verify(VerifyArgs),
    /// Print an org's SP metadata: what its admin pastes into the IdP.
    Metadata(MetadataArgs),
}

impl SamlCommand {
    pub(crate) fn run(self) -> Verdict {
        match self {
            SamlCommand::Verify(args) => verify_command(&args),
            SamlCommand::Metadata(args) => metadata_command(&args),
        }
    }
}

/// `saml verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The response: XML, or base64 as the `SAMLResponse` form field carries it
    /// (URL-encoded too); `-` reads standard input.
    file: PathBuf,
    /// The app's SAML config file (JSON or TOML, as `saml metadata --config` takes): verify
    /// with exactly the settings the app verifies `--org`'s responses with (its IdP's
    /// trust and options, its SP entity id and ACS URL, its attribute mapping), in place
    /// of the --idp-…, --sp-entity-id, --acs-url and --preset flags.
    #[arg(long, requires = "policy")]
    config: Option<PathBuf>,
    /// The core policy config (JSON or TOML) that --config is checked against.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The app's database (`sqlite://PATH` or `postgres://…`), for orgs kept there: verify
    /// with `--org`'s record as the app reads it, in place of the --idp-…,
    /// --sp-entity-id, --acs-url and --preset flags.
    #[arg(long, requires = "base_url", conflicts_with = "config")]
    database: Option<String>,
    /// With --database: the app's base URL (the SP's entity id is
    /// `{base_url}/{org}/saml/metadata` unless the org names its own).
    #[arg(long)]
    base_url: Option<String>,
    /// With --database: an org whose IdP metadata is fetched may fetch it from a private
    /// address, over plain HTTP (a test IdP on this machine).
    #[arg(long)]
    allow_private_addresses: bool,
    /// The IdP's entity id (default: from --idp-metadata).
    #[arg(long, conflicts_with_all = ["config", "database"])]
    idp_entity_id: Option<String>,
    /// A trusted IdP signing certificate (PEM file); repeat for several.
    #[arg(long = "idp-cert", value_name = "PEM", conflicts_with_all = ["config", "database"])]
    idp_certs: Vec<PathBuf>,
    /// The IdP's metadata XML file (entity id and certificates).
    #[arg(long, conflicts_with_all = ["config", "database"])]
    idp_metadata: Option<PathBuf>,
    /// The SP's entity id: the audience the assertion must name.
    #[arg(
        long,
        required_unless_present_any = ["config", "database"],
        conflicts_with_all = ["config", "database"]
    )]
    sp_entity_id: Option<String>,
    /// The ACS URL: the Destination and the Recipient.
    #[arg(
        long,
        required_unless_present_any = ["config", "database"],
        conflicts_with_all = ["config", "database"]
    )]
    acs_url: Option<String>,
    /// An outstanding AuthnRequest id; repeat for several. Without any, the response may
    /// be unsolicited and its InResponseTo is not checked.
    #[arg(long = "request-id", value_name = "ID")]
    request_ids: Vec<String>,
    /// The instant to verify at, RFC 3339 (default: the system clock).
    #[arg(long, value_parser = parse_instant)]
    now: Option<DateTime<Utc>>,
    /// Clock skew allowed, in seconds.
    #[arg(long, default_value_t = jit_provisioning_saml::DEFAULT_SKEW_SECS)]
    skew_secs: u32,
    /// Accept RSA-SHA1 signatures and SHA-1 digests.
    #[arg(long)]
    allow_sha1: bool,
    /// Require a signature on the Response element.
    #[arg(long)]
    require_signed_response: bool,
    /// Require a signature on the Assertion element.
    #[arg(long)]
    require_signed_assertion: bool,
    /// The attribute preset for the mapped assertion.
    #[arg(long, default_value = "auto")]
    preset: Preset,
    /// The org the response is for: with --config, the org whose settings verify it.
    #[arg(long, default_value = "example")]
    org: String,
    /// The signature backend.
    #[arg(long, value_parser = parse_backend, default_value = "pure")]
    backend: SignatureBackend,
    /// Add each check passed or failed, in order, for a person to read.
    #[arg(long)]
    explain: bool,
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|error| format!("not an RFC 3339 instant: {error}"))
}

fn parse_backend(text: &str) -> Result<SignatureBackend, String> {
    SignatureBackend::available()
        .iter()
        .copied()
        .find(|backend| backend.name() == text)
        .ok_or_else(|| {
            let names: Vec<&str> = SignatureBackend::available()
                .iter()
                .map(|backend| backend.name())
                .collect();
            format!(
                "unknown backend `{text}`; this build has: {}",
                names.join(", ")
            )
        })
}

/// Prints `message` as a usage error.
fn usage(message: impl std::fmt::Display) -> Verdict {
    eprintln!("jit-provisioning: {message}");
    Verdict::Usage
}

fn read(path: &Path) -> Result<String, String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|error| format!("cannot read standard input: {error}"))?;
        return Ok(text);
    }
    std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// What a response is verified against: the IdP's trust, the SP's entity id and ACS
/// URL, and the attribute mapping.
struct Settings {
    idp: TrustedIdp,
    sp_entity_id: String,
    acs_url: String,
    mapping: AttributeMapping,
}

/// The settings of `--org` in the app's config, or those the flags give.
fn settings(args: &VerifyArgs) -> Result<Settings, String> {
    if let (Some(config), Some(policy)) = (&args.config, &args.policy) {
        let provider = jit_provisioning_saml::SamlConfig::load(config, &load_policy(policy)?)
            .map_err(|error| error.to_string())?;
        let org = provider.org(&args.org).ok_or_else(|| {
            format!(
                "org `{}` has no SAML settings in {} (it has: {})",
                args.org,
                config.display(),
                provider.org_ids().join(", ")
            )
        })?;
        return Ok(Settings {
            idp: org.idp().clone(),
            sp_entity_id: org.sp_entity_id().to_owned(),
            acs_url: org.acs_url().to_owned(),
            mapping: org.mapping().clone(),
        });
    }
    if let (Some(database), Some(base_url)) = (&args.database, &args.base_url) {
        return database_settings(args, database, base_url);
    }
    let mut mapping = AttributeMapping::default();
    mapping.preset = args.preset;
    Ok(Settings {
        idp: trusted_idp(args)?,
        sp_entity_id: args
            .sp_entity_id
            .clone()
            .ok_or("give --sp-entity-id, or --config")?,
        acs_url: args.acs_url.clone().ok_or("give --acs-url, or --config")?,
        mapping,
    })
}

/// The settings of `--org` as the app reads its record from its database.
fn database_settings(
    args: &VerifyArgs,
    database: &str,
    base_url: &str,
) -> Result<Settings, String> {
    let runtime = crate::runtime().map_err(|_| "cannot start an async runtime".to_owned())?;
    runtime.block_on(async {
        let opened = crate::orgs::open(database, args.allow_private_addresses).await?;
        let fetcher = jit_provisioning_saml::HttpFetcher::new()
            .allow_private_addresses(args.allow_private_addresses)
            .allow_http(args.allow_private_addresses);
        let provider = jit_provisioning_saml::ServiceProvider::from_registry(
            std::sync::Arc::new(opened.registry),
            &jit_provisioning_saml::SpConfig::new(base_url.trim_end_matches('/')),
            None,
        )
        .map_err(|error| error.to_string())?
        .with_metadata_fetcher(std::sync::Arc::new(fetcher));
        let now = args.now.unwrap_or_else(|| SystemTime::now().into());
        let org = provider
            .org_settings(&args.org, now)
            .await
            .map_err(|error| error.to_string())?
            .ok_or_else(|| format!("org `{}` has no SAML settings in {database}", args.org))?;
        Ok(Settings {
            idp: org.idp().clone(),
            sp_entity_id: org.sp_entity_id().to_owned(),
            acs_url: org.acs_url().to_owned(),
            mapping: org.mapping().clone(),
        })
    })
}

fn verify_command(args: &VerifyArgs) -> Verdict {
    let Settings {
        idp,
        sp_entity_id,
        acs_url,
        mapping,
    } = match settings(args) {
        Ok(settings) => settings,
        Err(message) => return usage(message),
    };
    let input = match read(&args.file) {
        Ok(input) => input,
        Err(message) => return usage(message),
    };
    let options = VerifyOptions::default().with_backend(args.backend);
    let now = args.now.unwrap_or_else(|| SystemTime::now().into());
    let expected = Expected::new(
        &sp_entity_id,
        &acs_url,
        if args.request_ids.is_empty() {
            InResponseTo::Unchecked
        } else {
            InResponseTo::OneOf(&args.request_ids)
        },
    );
    let (result, checks) = match response_xml(&input, options.limits) {
        Ok(xml) => verify_explained(&xml, &idp, &expected, now, &options),
        Err(error) => (Err(error), Vec::new()),
    };
    let (mut report, verdict) = match result {
        Ok(Verified::Assertion(signed)) => match to_assertion(&args.org, &signed, &mapping) {
            Ok(assertion) => {
                let mut attributes = Map::new();
                for attribute in &signed.attributes {
                    let values = attributes
                        .entry(attribute.name.clone())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(values) = values {
                        values.extend(attribute.values.iter().cloned().map(Value::String));
                    }
                }
                (
                    json!({
                        "verdict": "accept",
                        "issuer": signed.issuer,
                        "name_id": signed.name_id.as_ref().map(|name_id| &name_id.value),
                        "id": signed.id,
                        "not_on_or_after": signed.not_on_or_after.to_rfc3339(),
                        "attributes": attributes,
                        "assertion": assertion,
                    }),
                    Verdict::Yes,
                )
            }
            Err(error) => (rejection(&error), Verdict::No),
        },
        Ok(Verified::Status(status)) => (
            json!({
                "verdict": "status",
                "status": status.status,
                "sub_status": status.sub_status,
                "message": status.message,
            }),
            Verdict::No,
        ),
        Err(error) => (rejection(&error), Verdict::No),
    };
    if args.explain {
        if let Value::Object(fields) = &mut report {
            fields.insert("checks".into(), explained(&checks, &report_failure(fields)));
        }
    }
    println!("{report}");
    verdict
}

fn rejection(error: &VerifyError) -> Value {
    json!({
        "verdict": "reject",
        "category": error.category().as_str(),
        "detail": error.to_string(),
    })
}

fn report_failure(fields: &Map<String, Value>) -> Option<(String, String)> {
    match fields.get("verdict").and_then(Value::as_str) {
        Some("reject") => Some((
            fields
                .get("category")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            fields
                .get("detail")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        )),
        _ => None,
    }
}

/// The checks passed, then the one that failed, as `{check, result, detail}`.
fn explained(checks: &[Check], failure: &Option<(String, String)>) -> Value {
    let mut out: Vec<Value> = checks
        .iter()
        .map(|check| json!({"check": check.check, "result": "pass", "detail": check.detail}))
        .collect();
    if let Some((category, detail)) = failure {
        out.push(json!({"check": category, "result": "fail", "detail": detail}));
    }
    Value::Array(out)
}

/// The XML of a response given as XML, base64, or URL-encoded base64.
fn response_xml(input: &str, limits: Limits) -> Result<String, VerifyError> {
    let trimmed = input.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('<') {
        return Ok(trimmed.to_owned());
    }
    let value = trimmed.strip_prefix("SAMLResponse=").unwrap_or(trimmed);
    let value = if value.contains('%') {
        percent_decode(value)
    } else {
        value.to_owned()
    };
    decode_post(&value, limits)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (byte, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            _ => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn trusted_idp(args: &VerifyArgs) -> Result<TrustedIdp, String> {
    let metadata = match &args.idp_metadata {
        Some(path) => Some(
            IdpMetadata::parse(&read(path)?, args.idp_entity_id.as_deref())
                .map_err(|error| format!("{}: {error}", path.display()))?,
        ),
        None => None,
    };
    let entity_id = args
        .idp_entity_id
        .clone()
        .or_else(|| metadata.as_ref().map(|metadata| metadata.entity_id.clone()))
        .ok_or("give --idp-entity-id or --idp-metadata")?;
    let mut certificates = Vec::new();
    for path in &args.idp_certs {
        certificates.extend(
            Certificate::from_pem_or_base64(&read(path)?)
                .map_err(|error| format!("{}: {error}", path.display()))?,
        );
    }
    if let Some(metadata) = metadata {
        certificates.extend(metadata.signing_certificates);
    }
    if certificates.is_empty() {
        return Err("give --idp-cert or --idp-metadata: nothing could verify a signature".into());
    }
    let mut options = IdpOptions::default();
    options.allow_sha1 = args.allow_sha1;
    options.require_signed_response = args.require_signed_response;
    options.require_signed_assertion = args.require_signed_assertion;
    // With request ids given, a response must answer one of them.
    options.allow_idp_initiated = false;
    options.skew_secs = args.skew_secs;
    TrustedIdp::new(entity_id, certificates, options).map_err(|error| error.to_string())
}

/// `saml metadata`.
#[derive(Debug, Args)]
pub(crate) struct MetadataArgs {
    /// The org whose SP metadata to print.
    #[arg(long)]
    org: String,
    /// The SAML config file (JSON or TOML), with the policy config it belongs to.
    #[arg(long, requires = "policy", conflicts_with = "base_url")]
    config: Option<PathBuf>,
    /// The core policy config (JSON or TOML) that --config is checked against.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Without a config: the base URL; the entity id is `{base_url}/{org}/saml/metadata`
    /// and the ACS `{base_url}/{org}/saml/acs`.
    #[arg(long, required_unless_present = "config")]
    base_url: Option<String>,
    /// Without a config: the SP's certificate (PEM) to publish.
    #[arg(long)]
    sp_cert: Option<PathBuf>,
}

fn metadata_command(args: &MetadataArgs) -> Verdict {
    match metadata(args) {
        Ok(xml) => {
            print!("{xml}");
            Verdict::Yes
        }
        Err(message) => usage(message),
    }
}

fn metadata(args: &MetadataArgs) -> Result<String, String> {
    if let (Some(config), Some(policy)) = (&args.config, &args.policy) {
        let provider = jit_provisioning_saml::SamlConfig::load(config, &load_policy(policy)?)
            .map_err(|error| error.to_string())?;
        return provider
            .metadata_xml(&args.org)
            .ok_or_else(|| format!("org `{}` has no SAML settings", args.org));
    }
    let base_url = args
        .base_url
        .as_deref()
        .ok_or("give --config or --base-url")?;
    let base_url = base_url.trim_end_matches('/');
    let certificate = match &args.sp_cert {
        Some(path) => Certificate::from_pem_or_base64(&read(path)?)
            .map_err(|error| format!("{}: {error}", path.display()))?
            .into_iter()
            .next(),
        None => None,
    };
    Ok(sp_metadata_xml(
        &format!("{base_url}/{}/saml/metadata", args.org),
        &format!("{base_url}/{}/saml/acs", args.org),
        certificate.as_ref(),
        false,
    ))
}

/// The validated policy config at `path` (JSON, or TOML by its extension).
fn load_policy(path: &Path) -> Result<jit_provisioning::Policy, String> {
    let text = read(path)?;
    let config: jit_provisioning::Config = if path.extension().is_some_and(|e| e == "toml") {
        toml_policy(&text)?
    } else {
        serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?
    };
    config.validate().map_err(|error| error.to_string())
}

fn toml_policy(text: &str) -> Result<jit_provisioning::Config, String> {
    toml::from_str(text).map_err(|error| error.to_string())
}
