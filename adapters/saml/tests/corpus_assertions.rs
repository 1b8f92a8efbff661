//! The core [`Assertion`] each real IdP response of `../shared/corpus/saml` gives, pinned
//! in `tests/golden/corpus_assertions.json`: a change to the XML reader or to
//! `Preset::Auto` that changes who a real response signs in as shows up here.
//!
//! Most corpus files are unsigned or cannot be verified (no certificate, edited values),
//! so every file is read with [`inspect_unverified`], the one reader that gets every
//! file's attributes, and mapped with [`AttributeMapping::default`] into the assertion the
//! same way [`to_assertion`](jit_provisioning_saml::to_assertion) builds it after
//! verifying. The golden is checked against the manifest's `sample_given|surname` column
//! too, so that it cannot drift into nonsense one regeneration at a time.
//!
//! After a deliberate change, regenerate with
//! `UPDATE_GOLDEN=1 cargo test -p jit-provisioning-saml --test corpus_assertions -- --ignored`
//! and review the diff.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jit_provisioning::Assertion;
use jit_provisioning_saml::{inspect_unverified, AttributeMapping, Limits, NameId, VerifyError};
use serde_json::{json, Value};

/// The org every assertion is built for; the corpus responses belong to no org.
const ORG: &str = "acme";

/// The corpus folder: `shared/corpus/saml` in the first ancestor of this crate that has
/// it. Panics, so that the ignored test fails instead of passing on nothing.
fn root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .map(|dir| dir.join("shared/corpus/saml"))
        .find(|root| root.join("MANIFEST.tsv").is_file())
        .unwrap_or_else(|| {
            panic!(
                "no shared/corpus/saml (with MANIFEST.tsv) beside any folder above {}",
                manifest_dir.display()
            )
        })
}

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/corpus_assertions.json")
}

/// One response or assertion row of the manifest.
#[derive(Debug)]
struct Row {
    file: String,
    /// The `sample_given|surname` cell as written.
    sample: String,
    /// The `issuer` cell: the issuer the manifest's author read from the file.
    issuer: String,
}

/// The manifest's rows whose `root` is `Response` or `Assertion`: the certificate and
/// metadata rows are left out by that column.
fn rows(root: &Path) -> Vec<Row> {
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap();
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines
        .next()
        .expect("MANIFEST.tsv is empty")
        .split('\t')
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|column| *column == name)
            .unwrap_or_else(|| panic!("MANIFEST.tsv has no `{name}` column"))
    };
    let (file, sample, issuer, root_column) = (
        column("file"),
        column("sample_given|surname"),
        column("issuer"),
        column("root"),
    );
    let all: Vec<Vec<&str>> = lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split('\t').collect::<Vec<&str>>())
        .inspect(|cells| assert_eq!(cells.len(), header.len(), "short row: {cells:?}"))
        .collect();
    // Every XML file of the folder has a row, so none is left out unseen.
    for dir_entry in std::fs::read_dir(root).unwrap() {
        let name = dir_entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".xml") {
            assert!(
                all.iter().any(|cells| cells[file] == name),
                "{name} is not in MANIFEST.tsv"
            );
        }
    }
    let rows: Vec<Row> = all
        .iter()
        .filter(|cells| matches!(cells[root_column], "Response" | "Assertion"))
        .map(|cells| Row {
            file: cells[file].to_owned(),
            sample: cells[sample].to_owned(),
            issuer: cells[issuer].to_owned(),
        })
        .collect();
    // 23 responses and 4 bare assertions; another count means the manifest changed or
    // was misread, and the golden needs a look either way.
    assert_eq!(
        rows.len(),
        27,
        "response and assertion rows in MANIFEST.tsv"
    );
    rows
}

/// What one file gives: the assertion, or why it gives none.
fn assertion_of(xml: &str) -> Result<Assertion, String> {
    let unverified = inspect_unverified(xml, Limits::default()).map_err(|e| e.to_string())?;
    let person = AttributeMapping::default()
        .map(unverified.name_id.as_ref(), &unverified.attributes)
        // As `to_assertion` does, so that the recorded text is the one a login would get.
        .map_err(|error| VerifyError::NoSubject(error.to_string()).to_string())?;
    let issuer = unverified
        .issuer
        .ok_or_else(|| "the assertion has no Issuer".to_owned())?;
    // `to_assertion` also takes the verified AuthnInstant, which `inspect_unverified`
    // does not read: nothing unverified may say when someone authenticated.
    let mut assertion = Assertion::new(ORG, issuer, person.subject).with_groups(person.groups);
    assertion.given_name = person.given_name;
    assertion.family_name = person.family_name;
    assertion.email = person.email;
    Ok(assertion)
}

/// Every file's entry, by file name (sorted, as the golden is written).
fn actual(root: &Path, rows: &[Row]) -> BTreeMap<String, Value> {
    rows.iter()
        .map(|row| {
            let xml = std::fs::read_to_string(root.join(&row.file))
                .unwrap_or_else(|error| panic!("{}: {error}", row.file));
            let entry = match assertion_of(&xml) {
                Ok(assertion) => serde_json::to_value(&assertion).unwrap(),
                Err(error) => json!({ "error": error }),
            };
            (row.file.clone(), entry)
        })
        .collect()
}

/// Names the mapping derives that the manifest's sample column does not list, with the
/// reason each is right. The sample column records only what the name attributes carry;
/// these come from a display-name attribute (`cn`, `name`), which the mapping splits when
/// a name attribute is missing.
const DERIVED: &[(&str, Option<&str>, Option<&str>)] = &[
    // Feide sends `sn` = Solberg and `cn` = "Andreas Solberg" but no givenName: the cn
    // ends with the known family name at a word boundary, so what precedes it is the
    // given name. That is the person's name as the directory holds it, not a guess.
    (
        "simplesamlphp__pysaml2__feide_saml2_response.xml",
        Some("Andreas"),
        Some("Solberg"),
    ),
    // `cn` = "Sixto3" is one word and not the family name (`sn` = Martin2): a single
    // display word is taken as the given name, which is what cn and sn together say.
    (
        "simplesamlphp__python3-saml__valid_unsigned_response.xml",
        Some("Sixto3"),
        Some("Martin2"),
    ),
    // Okta (dex) sends only `Name` = "Eric": one word is a given name, never a family
    // name; the sample column lists nothing because there is no name attribute.
    ("okta__dex__okta-resp.xml", Some("Eric"), None),
    // The bare Okta assertion's `name` = "John Doe": split at the last space.
    (
        "okta__pysaml2__okta_assertion.xml",
        Some("John"),
        Some("Doe"),
    ),
];

/// Files whose assertion's `Issuer` is not the one the manifest lists, with (in the
/// comment) why the golden's is right.
const OTHER_ISSUER: &[(&str, &str)] = &[
    // Net::SAML2's Entra ID response: the Response's Issuer is `…/someguid` (what the
    // manifest lists) and the Assertion's `…/some_guid/`, as stored upstream. The
    // assertion's is the one to record: it is the IdP's statement inside the signed
    // assertion, and what `to_assertion` takes from a verified one.
    (
        "azuread__net-saml2__issue-49.xml",
        "https://sts.windows.net/some_guid/",
    ),
];

/// The given and family name that the sample cell lists: `-` for none, else
/// `given|surname` with an empty side meaning none.
fn sample_names(cell: &str) -> (Option<&str>, Option<&str>) {
    if cell.trim() == "-" {
        return (None, None);
    }
    let (given, family) = cell
        .split_once('|')
        .unwrap_or_else(|| panic!("sample cell `{cell}` is not `given|surname`"));
    (non_empty(given), non_empty(family))
}

fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// Files that give no assertion: the file, a part of its error text, and (in the
/// comment) why no assertion is right. Any other error fails the test.
const NO_ASSERTION: &[(&str, &str)] = &[
    // Net::SAML2's ADFS response has no NameID at all (its upstream test reads the
    // attributes only), and the default mapping takes the subject from the NameID. An org
    // whose ADFS sends no NameID maps the subject from an attribute (`upn`,
    // `windowsaccountname`) instead; guessing one here would link accounts by a value
    // nobody chose as the identifier.
    ("adfs__net-saml2__saml-adfs-plain.xml", "has no NameID"),
];

/// The given and family name the default mapping reads from a file's attributes, whatever
/// its subject: for the files of [`NO_ASSERTION`], whose golden entry has no names, so
/// that the sample column still checks their attributes are read right.
fn names_without_subject(xml: &str) -> (Option<String>, Option<String>) {
    let unverified = inspect_unverified(xml, Limits::default()).unwrap();
    // A stand-in subject: the names do not depend on it, only the mapping's success does.
    let stand_in = NameId::new("stand-in", None);
    let person = AttributeMapping::default()
        .map(Some(&stand_in), &unverified.attributes)
        .unwrap();
    (person.given_name, person.family_name)
}

/// Every file's names against the sample column and [`DERIVED`], its issuer against the
/// issuer column and [`OTHER_ISSUER`], and every error against [`NO_ASSERTION`].
fn check_against_manifest(
    root: &Path,
    rows: &[Row],
    entries: &BTreeMap<String, Value>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for row in rows {
        let entry = &entries[&row.file];
        let got: (Option<String>, Option<String>) = match entry.get("error") {
            Some(error) => {
                let error = error.as_str().unwrap_or_default();
                match NO_ASSERTION.iter().find(|(file, _)| *file == row.file) {
                    Some((_, expected)) if error.contains(expected) => {}
                    Some((_, expected)) => wrong.push(format!(
                        "{}: error `{error}`, but NO_ASSERTION expects one with `{expected}`",
                        row.file
                    )),
                    None => wrong.push(format!("{}: no assertion: {error}", row.file)),
                }
                let xml = std::fs::read_to_string(root.join(&row.file)).unwrap();
                names_without_subject(&xml)
            }
            None => {
                if NO_ASSERTION.iter().any(|(file, _)| *file == row.file) {
                    wrong.push(format!(
                        "{}: NO_ASSERTION lists it, but it gives one",
                        row.file
                    ));
                }
                let issuer = entry.get("issuer").and_then(Value::as_str);
                let expected = OTHER_ISSUER
                    .iter()
                    .find(|(file, _)| *file == row.file)
                    .map_or(row.issuer.as_str(), |(_, issuer)| *issuer);
                if issuer != Some(expected) {
                    wrong.push(format!(
                        "{}: issuer {issuer:?}, but {expected:?} is expected",
                        row.file
                    ));
                }
                let field = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_owned);
                (field("given_name"), field("family_name"))
            }
        };
        let got = (got.0.as_deref(), got.1.as_deref());
        let listed = sample_names(&row.sample);
        let derived = DERIVED
            .iter()
            .find(|(file, _, _)| *file == row.file)
            .map(|(_, given, family)| (*given, *family));
        match derived {
            Some(derived) => {
                // A derivation may only fill in a side the sample leaves empty.
                for (listed, derived, side) in [
                    (listed.0, derived.0, "given"),
                    (listed.1, derived.1, "family"),
                ] {
                    if listed.is_some() && listed != derived {
                        wrong.push(format!(
                            "{}: DERIVED changes the listed {side} name {listed:?} to {derived:?}",
                            row.file
                        ));
                    }
                }
                if got != derived {
                    wrong.push(format!(
                        "{}: names {got:?}, but DERIVED says {derived:?} (sample `{}`)",
                        row.file, row.sample
                    ));
                }
            }
            None if got != listed => wrong.push(format!(
                "{}: names {got:?}, but the sample column says `{}`",
                row.file, row.sample
            )),
            None => {}
        }
    }
    let listed = DERIVED
        .iter()
        .map(|(file, _, _)| *file)
        .chain(NO_ASSERTION.iter().map(|(file, _)| *file))
        .chain(OTHER_ISSUER.iter().map(|(file, _)| *file));
    for file in listed {
        if !rows.iter().any(|row| row.file == file) {
            wrong.push(format!("{file} is listed here but not in the manifest"));
        }
    }
    wrong
}

/// A readable difference per file: the golden entry and today's, one per line.
fn diff(golden: &BTreeMap<String, Value>, now: &BTreeMap<String, Value>) -> Vec<String> {
    let line = |entry: Option<&Value>| match entry {
        Some(entry) => serde_json::to_string(entry).unwrap(),
        None => "(no entry)".to_owned(),
    };
    let mut files: Vec<&String> = golden.keys().chain(now.keys()).collect();
    files.sort_unstable();
    files.dedup();
    files
        .into_iter()
        .filter(|file| golden.get(*file) != now.get(*file))
        .map(|file| {
            let (was, is) = (golden.get(file), now.get(file));
            let mut text = format!("{file}:\n  golden: {}\n  now:    {}", line(was), line(is));
            // Name the fields that changed, so a one-field change in a long line is seen.
            if let (Some(Value::Object(was)), Some(Value::Object(is))) = (was, is) {
                let mut keys: Vec<&String> = was.keys().chain(is.keys()).collect();
                keys.sort_unstable();
                keys.dedup();
                for key in keys.into_iter().filter(|key| was.get(*key) != is.get(*key)) {
                    text.push_str(&format!(
                        "\n    {key}: {} -> {}",
                        line(was.get(key)),
                        line(is.get(key))
                    ));
                }
            }
            text
        })
        .collect()
}

#[test]
#[ignore = "reads ../shared/corpus/saml (CI provides it; run with --ignored)"]
fn every_corpus_response_gives_the_golden_assertion() {
    let root = root();
    let rows = rows(&root);
    let now = actual(&root, &rows);

    let wrong = check_against_manifest(&root, &rows, &now);
    assert!(
        wrong.is_empty(),
        "the assertions disagree with MANIFEST.tsv:\n{}",
        wrong.join("\n")
    );

    let path = golden_path();
    let text = serde_json::to_string_pretty(&now).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let golden_text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; generate it with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    let golden: BTreeMap<String, Value> = serde_json::from_str(&golden_text).unwrap();
    let differences = diff(&golden, &now);
    assert!(
        differences.is_empty(),
        "{} of {} files give another assertion than the golden file; if deliberate, \
         regenerate with UPDATE_GOLDEN=1 and review:\n{}",
        differences.len(),
        now.len(),
        differences.join("\n")
    );
    // Same entries but another layout (hand-edited, or another serializer): rewrite it.
    assert_eq!(
        golden_text, text,
        "the golden file is not in the written layout"
    );
}

/// Every golden entry that is an assertion deserializes back into the core's type, with
/// nothing the core would not read (it denies unknown fields).
#[test]
#[ignore = "reads ../shared/corpus/saml (CI provides it; run with --ignored)"]
fn golden_assertions_are_core_assertions() {
    let root = root();
    let rows = rows(&root);
    let golden: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(golden_path()).unwrap()).unwrap();
    assert_eq!(
        golden.len(),
        rows.len(),
        "one golden entry per manifest row"
    );
    for (file, entry) in &golden {
        if entry.get("error").is_some() {
            assert_eq!(
                entry.as_object().map(|o| o.len()),
                Some(1),
                "{file}: {entry}"
            );
            continue;
        }
        let assertion: Assertion = serde_json::from_value(entry.clone())
            .unwrap_or_else(|error| panic!("{file}: {error}: {entry}"));
        assert_eq!(assertion.org, ORG, "{file}");
        assert!(!assertion.subject.trim().is_empty(), "{file}");
    }
}
