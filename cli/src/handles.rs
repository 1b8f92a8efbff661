//! `jit-provisioning handles`: the handles JIT would give a whole directory, for an admin
//! about to turn it on.
//!
//! Every row goes through the engine itself, as an assertion at an org of the config, so
//! that the preview cannot drift from what JIT does: the same names and email fallbacks,
//! the same reserved words, the same cuts and suffixes.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;

use chrono::DateTime;
use clap::Args;
use jit_provisioning::handles::{cut_at_break, is_reserved};
use jit_provisioning::{
    decide, handle_base, AccountLookup, Assertion, Config, HandleSource, OrgConfig, Policy, Request,
};

use crate::input::{self, InputError};
use crate::Verdict;

/// `handles`.
#[derive(Debug, Args)]
pub(crate) struct HandlesArgs {
    /// The deployment's config (JSON, or TOML by its `.toml` name): its org ids and
    /// reserved words are taken, and its `max_handle_len` applies.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Existing accounts, as a policy case's `accounts` (a JSON array): their handles are
    /// taken.
    #[arg(long)]
    accounts: Option<PathBuf>,
    /// Longest handle, suffix included (default: the config's, or 39).
    #[arg(long)]
    max_handle_len: Option<usize>,
}

/// The org each row is an assertion at. An id with `_` can never be a handle, so it takes
/// none from the people previewed.
const PREVIEW_ORG: &str = "_handles-preview";
const PREVIEW_IDP: &str = "urn:jit-provisioning:handles-preview";

/// Where each field sits in a row.
#[derive(Debug, Clone, Copy)]
struct Columns {
    first: usize,
    last: usize,
    email: Option<usize>,
    /// Rows with more fields than this have fields that are not read.
    width: usize,
}

const POSITIONAL: Columns = Columns {
    first: 0,
    last: 1,
    email: Some(2),
    width: 3,
};

/// Reads a header row, if `fields` is one.
fn header(fields: &[&str]) -> Option<Columns> {
    let position = |names: &[&str]| {
        fields
            .iter()
            .position(|field| names.contains(&field.trim().to_ascii_lowercase().as_str()))
    };
    let first = position(&["first", "first_name", "given", "given_name", "givenname"])?;
    let last = position(&["last", "last_name", "family", "family_name", "surname"])?;
    Some(Columns {
        first,
        last,
        email: position(&["email", "mail", "e-mail"]),
        width: fields.len(),
    })
}

/// Why a handle cannot be had as it is.
#[derive(Debug, Clone)]
enum Holder {
    Line(usize),
    Account(String),
    OrgId,
    ConfigReserved,
}

/// Handles taken so far, indexed so that a row's candidates are found without a scan.
#[derive(Debug, Default)]
struct Taken {
    holders: HashMap<String, Holder>,
    /// A stem → the taken handles equal to it or to it followed by `-` and digits.
    by_stem: HashMap<String, Vec<String>>,
}

impl Taken {
    fn insert(&mut self, handle: &str, holder: Holder) {
        let handle = handle.to_lowercase();
        self.by_stem
            .entry(handle.clone())
            .or_default()
            .push(handle.clone());
        if let Some((stem, digits)) = handle.rsplit_once('-') {
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                self.by_stem
                    .entry(stem.to_owned())
                    .or_default()
                    .push(handle.clone());
            }
        }
        self.holders.insert(handle, holder);
    }

    fn under(&self, stems: &[String]) -> Vec<String> {
        let mut found: Vec<String> = stems
            .iter()
            .filter_map(|stem| self.by_stem.get(stem))
            .flatten()
            .cloned()
            .collect();
        found.sort();
        found.dedup();
        found
    }
}

/// The config's own reserved words and org ids, as the engine takes them.
fn config_holders(config: &Config) -> Vec<(String, Holder)> {
    let reserved = config
        .reserved_handles
        .iter()
        .map(|word| word.trim().to_lowercase())
        .filter(|word| !word.is_empty())
        .map(|word| (word, Holder::ConfigReserved));
    let orgs = config
        .orgs
        .keys()
        .map(|id| (id.to_lowercase(), Holder::OrgId));
    // An org id that is also reserved: the org id is the better explanation.
    reserved.chain(orgs).collect()
}

impl HandlesArgs {
    pub(crate) fn run(&self) -> Verdict {
        let (policy, config) = match self.policy() {
            Ok(found) => found,
            Err(message) => return crate::usage(message),
        };
        let mut taken = Taken::default();
        for (word, holder) in config_holders(&config) {
            taken.holders.insert(word, holder);
        }
        if let Some(path) = &self.accounts {
            match input::accounts(path) {
                Ok(accounts) => {
                    for account in accounts {
                        taken.insert(&account.handle, Holder::Account(account.id.0));
                    }
                }
                Err(error) => return crate::usage(error.message()),
            }
        }
        match preview(io::stdin().lock(), io::stdout().lock(), &policy, &mut taken) {
            Ok(0) => Verdict::Yes,
            Ok(_) => Verdict::No,
            Err(error) => crate::usage(format!("cannot preview: {error}")),
        }
    }

    /// The policy rows are decided under: the config's, plus the org they arrive at.
    fn policy(&self) -> Result<(Policy, Config), String> {
        let mut config = match &self.config {
            Some(path) => input::config(path).map_err(|error| match error {
                InputError::Unreadable(message) | InputError::Invalid(message) => message,
            })?,
            None => Config::default(),
        };
        if self.max_handle_len.is_some() {
            config.max_handle_len = self.max_handle_len;
        }
        let mut with_preview = config.clone();
        with_preview.orgs.insert(PREVIEW_ORG.to_owned(), {
            let mut built = OrgConfig::default();
            built.jit = true;
            built.idp = Some(PREVIEW_IDP.to_owned());
            built
        });
        let policy = with_preview.validate().map_err(|error| error.to_string())?;
        Ok((policy, config))
    }
}

/// Assigns every row a handle in row order and writes `first<TAB>last<TAB>handle` per
/// row; notes go to standard error. Returns how many rows got no handle.
fn preview(
    input: impl BufRead,
    output: impl Write,
    policy: &Policy,
    taken: &mut Taken,
) -> io::Result<usize> {
    let max_len = policy.max_handle_len();
    let mut out = BufWriter::new(output);
    let mut columns = POSITIONAL;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();

    for (index, line) in input.split(b'\n').enumerate() {
        let number = index + 1;
        let line = line?;
        let line = match std::str::from_utf8(&line) {
            Ok(line) => line.to_owned(),
            Err(_) => {
                eprintln!("line {number}: not UTF-8: read with U+FFFD for the bad bytes");
                String::from_utf8_lossy(&line).into_owned()
            }
        };
        let line = line.strip_suffix('\r').unwrap_or(&line);
        let fields: Vec<&str> = line.split('\t').collect();
        if number == 1 {
            if let Some(found) = header(&fields) {
                columns = found;
                continue;
            }
        }
        if fields.len() > columns.width {
            eprintln!(
                "line {number}: {} fields, expected at most {}: the others are not read",
                fields.len(),
                columns.width
            );
        }
        let raw = |at: usize| fields.get(at).copied().unwrap_or_default();
        let field = |at: usize| Some(raw(at)).filter(|f| !f.trim().is_empty());
        let assertion = {
            let mut built = Assertion::default();
            built.org = PREVIEW_ORG.to_owned();
            built.issuer = PREVIEW_IDP.to_owned();
            built.subject = format!("line-{number}");
            built.given_name = field(columns.first).map(str::to_owned);
            built.family_name = field(columns.last).map(str::to_owned);
            built.email = columns.email.and_then(field).map(str::to_owned);
            built
        };
        let base = handle_base(&assertion);
        let known = {
            let mut built = AccountLookup::default();
            built.taken_handles = taken.under(&base.stems(max_len));
            built
        };
        // No clock is read: the assertion has no `authn_instant` to compare with `now`.
        let decision = decide(
            policy,
            &Request::Assertion(assertion),
            &known,
            DateTime::UNIX_EPOCH,
        );
        let Some(handle) = decision.new_handle().map(str::to_owned) else {
            eprintln!(
                "line {number}: no handle: {} ({})",
                decision.reason().map_or("refused", |reason| reason.code()),
                decision.rule().id()
            );
            writeln!(out, "{}\t{}\t", raw(columns.first), raw(columns.last))?;
            *counts.entry("without a handle").or_default() += 1;
            continue;
        };

        match base.source() {
            HandleSource::Names => {}
            HandleSource::EmailLocalPart => {
                eprintln!("line {number}: `{handle}` comes from the email");
                *counts.entry("from the email").or_default() += 1;
            }
            _ => {
                eprintln!(
                    "line {number}: `{handle}` comes from nothing usable: the `user` fallback"
                );
                *counts.entry("from the `user` fallback").or_default() += 1;
            }
        }
        let base = base.as_str();
        let cut = cut_at_break(base, max_len);
        if handle == cut && cut != base {
            eprintln!(
                "line {number}: `{base}` is longer than {max_len} characters: cut to `{handle}`"
            );
            *counts.entry("cut to the length").or_default() += 1;
        } else if handle != base {
            let why = match taken.holders.get(&cut) {
                Some(Holder::Line(line)) => format!("is taken by line {line}"),
                Some(Holder::Account(id)) => format!("is taken by account `{id}`"),
                Some(Holder::OrgId) => "is an org id".to_owned(),
                Some(Holder::ConfigReserved) => "is reserved by the config".to_owned(),
                None if is_reserved(&cut) => "is reserved".to_owned(),
                _ => "is taken".to_owned(),
            };
            let also_cut = if handle.starts_with(&format!("{base}-")) {
                String::new()
            } else {
                format!(" (`{base}` cut to make room for the suffix within {max_len})")
            };
            eprintln!("line {number}: `{cut}` {why}: `{handle}`{also_cut}");
            *counts.entry("suffixed").or_default() += 1;
        }
        writeln!(
            out,
            "{}\t{}\t{handle}",
            raw(columns.first),
            raw(columns.last)
        )?;
        taken.insert(&handle, Holder::Line(number));
        *counts.entry("assigned").or_default() += 1;
    }
    out.flush()?;
    let summary: Vec<String> = counts
        .iter()
        .map(|(what, count)| format!("{count} {what}"))
        .collect();
    eprintln!("handles: {}", summary.join(", "));
    Ok(counts.get("without a handle").copied().unwrap_or(0))
}
