//! Bulk handle preview for an admin about to turn JIT on:
//!
//! ```text
//! cargo run --example handles < people.tsv > handles.tsv
//! cargo run --example handles -- --max-handle-len 20 < people.tsv
//! ```
//!
//! Reads tab-separated rows `first<TAB>last[<TAB>email]`. A header row naming its columns
//! (`first`/`given_name`, `last`/`family_name`, `email`; others such as `locale` are
//! ignored) may come first and then sets the column order. Assigns handles in row order,
//! unique across the batch, as JIT would; prints `first<TAB>last<TAB>handle` on stdout.
//! Rows that needed a fallback or a suffix, and malformed rows (skipped), are reported on
//! stderr with their line numbers.

use std::collections::HashSet;
use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use jit_provisioning::handles::is_reserved;
use jit_provisioning::{
    HandleBase, HandleSource, DEFAULT_MAX_HANDLE_LEN, MAX_HANDLE_LEN, MIN_HANDLE_LEN,
};

/// Where each field sits in a row.
#[derive(Debug, Clone, Copy)]
struct Columns {
    first: usize,
    last: usize,
    email: Option<usize>,
    /// Rows with more fields than this are malformed.
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

fn parse_max_len() -> Result<usize, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(DEFAULT_MAX_HANDLE_LEN),
        [flag, value] if flag == "--max-handle-len" => value
            .parse()
            .ok()
            .filter(|len| (MIN_HANDLE_LEN..=MAX_HANDLE_LEN).contains(len))
            .ok_or_else(|| format!("--max-handle-len takes {MIN_HANDLE_LEN} to {MAX_HANDLE_LEN}")),
        _ => Err("usage: cargo run --example handles [-- --max-handle-len N] < people.tsv".into()),
    }
}

fn main() -> ExitCode {
    let max_len = match parse_max_len() {
        Ok(len) => len,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match preview(io::stdin().lock(), io::stdout().lock(), max_len) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn preview(input: impl BufRead, output: impl Write, max_len: usize) -> io::Result<()> {
    let mut out = BufWriter::new(output);
    let mut taken: HashSet<String> = HashSet::new();
    let mut columns = POSITIONAL;
    let (mut assigned, mut fallbacks, mut suffixed, mut malformed) = (0, 0, 0, 0);

    for (index, line) in input.split(b'\n').enumerate() {
        let number = index + 1;
        let line = line?;
        let Ok(line) = std::str::from_utf8(&line) else {
            eprintln!("line {number}: skipped: not UTF-8");
            malformed += 1;
            continue;
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if number == 1 {
            if let Some(found) = header(&fields) {
                columns = found;
                continue;
            }
        }
        let field = |at: usize| fields.get(at).copied().filter(|f| !f.trim().is_empty());
        if fields.len() < 2 || fields.len() > columns.width {
            eprintln!(
                "line {number}: skipped: {} fields, expected 2 to {}",
                fields.len(),
                columns.width
            );
            malformed += 1;
            continue;
        }
        let (first, last) = (field(columns.first), field(columns.last));
        let email = columns.email.and_then(field);

        let base = HandleBase::derive(first, last, email);
        // Within a batch every handle is distinct, so `taken.len() + 1` tries suffice.
        let attempts = taken.len() + jit_provisioning::handles::RESERVED.len() + 1;
        let Some(handle) = base.resolve(max_len, attempts, |candidate| {
            taken.contains(candidate) || is_reserved(candidate)
        }) else {
            eprintln!(
                "line {number}: skipped: no free handle for `{}`",
                base.as_str()
            );
            malformed += 1;
            continue;
        };
        if base.source() != HandleSource::Names {
            let from = match base.source() {
                HandleSource::EmailLocalPart => "the email",
                _ => "nothing usable: the `user` fallback",
            };
            eprintln!("line {number}: `{handle}` comes from {from}");
            fallbacks += 1;
        }
        if handle != base.as_str() {
            eprintln!(
                "line {number}: `{}` was taken or too long: `{handle}`",
                base.as_str()
            );
            suffixed += 1;
        }
        writeln!(
            out,
            "{}\t{}\t{handle}",
            first.unwrap_or_default(),
            last.unwrap_or_default()
        )?;
        taken.insert(handle);
        assigned += 1;
    }
    out.flush()?;
    eprintln!(
        "{assigned} handles assigned; {fallbacks} from a fallback, {suffixed} suffixed or cut, {malformed} rows skipped"
    );
    Ok(())
}
