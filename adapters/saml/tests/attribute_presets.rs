//! `Preset::Auto` against the attribute names of real IdP responses: every name that
//! `../shared/corpus/saml/MANIFEST.tsv` lists for a response's given name, surname,
//! email, display name or groups must land in that field, alone and among the response's
//! other attributes.
//!
//! The corpus lives outside the repository, so the tests are ignored by default; run
//! them with `--ignored`. They fail, not skip, when the corpus is missing.
#![allow(clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::path::PathBuf;

use jit_provisioning_saml::{Attribute, AttributeMapping, MappedPerson, NameId};

/// The person fields the manifest has a column for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    GivenName,
    Surname,
    Email,
    DisplayName,
    Groups,
}

impl Field {
    const ALL: [Field; 5] = [
        Field::GivenName,
        Field::Surname,
        Field::Email,
        Field::DisplayName,
        Field::Groups,
    ];

    fn column(self) -> &'static str {
        match self {
            Field::GivenName => "given_name_attr",
            Field::Surname => "surname_attr",
            Field::Email => "email_attr",
            Field::DisplayName => "display_name_attr",
            Field::Groups => "groups_attr",
        }
    }

    /// The value a test attribute for this field carries; the `n`th of the field's
    /// attributes in a row gets its own.
    fn sample(self, n: usize) -> String {
        match self {
            Field::GivenName => format!("Sample{n} Given"),
            Field::Surname => format!("Sample{n} Family"),
            Field::Email => format!("sample{n}.person@example.test"),
            Field::DisplayName => format!("Sample{n} Display Name"),
            Field::Groups => format!("sample-group-{n}"),
        }
    }

    /// Whether the mapped person carries `value` in this field.
    fn holds(self, person: &MappedPerson, value: &str) -> bool {
        match self {
            Field::GivenName => person.given_name.as_deref() == Some(value),
            Field::Surname => person.family_name.as_deref() == Some(value),
            Field::Email => person.email.as_deref() == Some(value),
            Field::DisplayName => person.display_name.as_deref() == Some(value),
            Field::Groups => person.groups.iter().any(|group| group == value),
        }
    }
}

/// An attribute name as the manifest writes it: `name` or `name (FriendlyName=x)`.
#[derive(Debug, Clone)]
struct Name {
    name: String,
    friendly_name: Option<String>,
}

impl Name {
    fn parse(item: &str, file: &str) -> Name {
        match item.split_once(" (FriendlyName=") {
            Some((name, friendly)) => Name {
                name: name.trim().to_owned(),
                friendly_name: Some(
                    friendly
                        .strip_suffix(')')
                        .unwrap_or_else(|| panic!("{file}: unclosed FriendlyName in `{item}`"))
                        .to_owned(),
                ),
            },
            None => {
                assert!(
                    !item.contains('('),
                    "{file}: attribute name `{item}` is in a form this test does not read"
                );
                Name {
                    name: item.to_owned(),
                    friendly_name: None,
                }
            }
        }
    }

    fn attribute(&self, value: String) -> Attribute {
        let attribute = Attribute::new(self.name.clone(), [value]);
        match &self.friendly_name {
            Some(friendly_name) => attribute.with_friendly_name(friendly_name.clone()),
            None => attribute,
        }
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.friendly_name {
            Some(friendly) => write!(f, "{} (FriendlyName={friendly})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// One response row of the manifest.
#[derive(Debug)]
struct Response {
    file: String,
    idp: String,
    /// The names per field, in [`Field::ALL`] order.
    fields: Vec<(Field, Vec<Name>)>,
    other: Vec<Name>,
}

/// A manifest cell: `-` for none, else names separated by ` ; `.
fn names(cell: &str, file: &str) -> Vec<Name> {
    let cell = cell.trim();
    if cell == "-" || cell.is_empty() {
        return Vec::new();
    }
    cell.split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| Name::parse(item, file))
        .collect()
}

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/saml")
}

/// The manifest's response rows (not its certificates or metadata). Panics when the
/// corpus is missing or the manifest's columns have changed.
fn responses() -> Vec<Response> {
    let path = corpus().join("MANIFEST.tsv");
    let manifest = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read {}: {error}. These tests need the shared SAML corpus next to the \
             repository (../shared/corpus/saml).",
            path.display()
        )
    });
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
    let (file, idp, root, other) = (
        column("file"),
        column("idp"),
        column("root"),
        column("other_attrs"),
    );
    let field_columns: Vec<(Field, usize)> = Field::ALL
        .iter()
        .map(|field| (*field, column(field.column())))
        .collect();

    let rows: Vec<Response> = lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split('\t').collect::<Vec<&str>>())
        .filter(|cells| matches!(cells.get(root), Some(&"Response" | &"Assertion")))
        .map(|cells| {
            let cell = |index: usize| {
                *cells
                    .get(index)
                    .unwrap_or_else(|| panic!("short MANIFEST.tsv row: {cells:?}"))
            };
            let file = cell(file).to_owned();
            Response {
                fields: field_columns
                    .iter()
                    .map(|(field, index)| (*field, names(cell(*index), &file)))
                    .collect(),
                other: names(cell(other), &file),
                idp: cell(idp).to_owned(),
                file,
            }
        })
        .collect();
    // The corpus holds 28 responses; far fewer means the manifest was misread.
    assert!(
        rows.len() >= 20,
        "only {} response rows in {}",
        rows.len(),
        path.display()
    );
    rows
}

fn name_id() -> NameId {
    NameId::new(
        "subject-1",
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".to_owned()),
    )
}

#[test]
#[ignore = "needs ../shared/corpus/saml"]
fn auto_reads_each_listed_name_on_its_own() {
    let auto = AttributeMapping::default();
    let mut misses = Vec::new();
    let mut checked = 0;
    for response in responses() {
        for (field, names) in &response.fields {
            for name in names {
                let value = field.sample(0);
                let person = auto
                    .map(Some(&name_id()), &[name.attribute(value.clone())])
                    .expect("the subject comes from the NameID");
                checked += 1;
                if !field.holds(&person, &value) {
                    misses.push(format!(
                        "{} ({}): {field:?} attribute `{name}` mapped to {person:?}",
                        response.file, response.idp
                    ));
                }
            }
        }
    }
    assert!(checked > 0, "no attribute names listed in the manifest");
    assert!(
        misses.is_empty(),
        "Preset::Auto misses {} of {checked} names:\n{}",
        misses.len(),
        misses.join("\n")
    );
}

#[test]
#[ignore = "needs ../shared/corpus/saml"]
fn auto_maps_each_response_with_all_its_attributes() {
    let auto = AttributeMapping::default();
    let mut misses = Vec::new();
    for response in responses() {
        // Every listed attribute with its own value, among the response's other
        // attributes, so that a wrong attribute winning a field shows.
        let mut attributes = Vec::new();
        let mut expected = Vec::new();
        for (field, names) in &response.fields {
            for (n, name) in names.iter().enumerate() {
                let value = field.sample(n);
                attributes.push(name.attribute(value.clone()));
                expected.push((*field, name, value));
            }
        }
        for (n, name) in response.other.iter().enumerate() {
            attributes.push(name.attribute(format!("other value {n}")));
        }
        let person = auto
            .map(Some(&name_id()), &attributes)
            .expect("the subject comes from the NameID");
        for (field, name, value) in expected {
            // Where a row lists several display names (Entra ID's `displayname` and its
            // UPN-bearing `claims/name`), only the first one can win.
            let first_of_several = field == Field::DisplayName && !value.starts_with("Sample0");
            if !first_of_several && !field.holds(&person, &value) {
                misses.push(format!(
                    "{} ({}): {field:?} should be `{value}` from `{name}`; mapped to {person:?}",
                    response.file, response.idp
                ));
            }
        }
    }
    assert!(
        misses.is_empty(),
        "Preset::Auto maps {} fields wrong:\n{}",
        misses.len(),
        misses.join("\n")
    );
}
