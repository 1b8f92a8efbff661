//! SCIM filters (RFC 7644 §3.4.2.2): the whole grammar, parsed within limits.

mod eval;
pub(crate) mod lexer;
pub(crate) mod parser;
mod simple;

use std::fmt;

use serde_json::{Number, Value};

use crate::error::{ScimError, ScimType};
use crate::limits::Limits;
use crate::schema::{canonical_name, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

pub use simple::SimpleFilter;

/// An attribute path: an optional schema URI, an attribute, an optional sub-attribute
/// (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`).
///
/// Attribute names are case-insensitive, so names this crate knows are kept in their RFC
/// spelling (`USERNAME` becomes `userName`); others are kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AttrPath {
    /// The schema URI before the attribute, if one was written.
    pub schema: Option<String>,
    /// The attribute.
    pub name: String,
    /// The sub-attribute after a dot.
    pub sub_attribute: Option<String>,
}

impl AttrPath {
    /// The attribute `name`, in its RFC spelling where it is known.
    pub fn new(name: &str) -> Self {
        AttrPath {
            schema: None,
            name: canonical(name),
            sub_attribute: None,
        }
    }

    /// With a sub-attribute.
    pub fn with_sub_attribute(mut self, sub_attribute: &str) -> Self {
        self.sub_attribute = Some(canonical(sub_attribute));
        self
    }

    /// With a schema URI.
    pub fn with_schema(mut self, schema: &str) -> Self {
        self.schema = Some(canonical_schema(schema));
        self
    }

    /// Parses an attribute path as written in `attributes=` or a filter.
    ///
    /// ```
    /// use jit_provisioning_scim::AttrPath;
    ///
    /// let path = AttrPath::parse("NAME.givenname")?;
    /// assert_eq!(path.to_string(), "name.givenName");
    /// assert!(AttrPath::parse("name..givenName").is_err());
    /// # Ok::<(), jit_provisioning_scim::ScimError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        parse_attr_path(text.trim()).map_err(|detail| ScimError::new(ScimType::InvalidPath, detail))
    }

    /// Whether this names attribute `name` (of the core schema or none), with no
    /// sub-attribute.
    pub fn is(&self, name: &str) -> bool {
        self.is_core() && self.sub_attribute.is_none() && self.name.eq_ignore_ascii_case(name)
    }

    /// Whether this names sub-attribute `sub` of attribute `name` (of the core schema or
    /// none).
    pub fn is_sub(&self, name: &str, sub: &str) -> bool {
        self.is_core()
            && self.name.eq_ignore_ascii_case(name)
            && self
                .sub_attribute
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(sub))
    }

    /// Whether the schema is absent or one of the core resource schemas.
    pub fn is_core(&self) -> bool {
        self.schema.as_deref().is_none_or(|s| {
            s.eq_ignore_ascii_case(USER_SCHEMA) || s.eq_ignore_ascii_case(GROUP_SCHEMA)
        })
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attribute {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

pub(crate) fn canonical(name: &str) -> String {
    canonical_name(name).map_or_else(|| name.to_owned(), str::to_owned)
}

pub(crate) fn canonical_schema(uri: &str) -> String {
    [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA]
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(uri))
        .map_or_else(|| uri.to_owned(), str::to_owned)
}

pub(crate) fn is_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if first.is_ascii_alphabetic() => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }
        _ => name.eq_ignore_ascii_case("$ref"),
    }
}

/// Splits `urn:…:attr.sub` at the schema, then the attribute at its dot.
pub(crate) fn parse_attr_path(text: &str) -> Result<AttrPath, String> {
    let (schema, rest) = split_schema(text)?;
    let mut parts = rest.split('.');
    let name = parts.next().unwrap_or_default();
    let sub = parts.next();
    if parts.next().is_some() {
        return Err(format!(
            "`{text}` has more than one sub-attribute; SCIM paths go one level deep"
        ));
    }
    if !is_attr_name(name) {
        return Err(format!("`{name}` is not an attribute name (in `{text}`)"));
    }
    if let Some(sub) = sub {
        if !is_attr_name(sub) {
            return Err(format!("`{sub}` is not a sub-attribute name (in `{text}`)"));
        }
    }
    Ok(AttrPath {
        schema: schema.map(canonical_schema),
        name: canonical(name),
        sub_attribute: sub.map(canonical),
    })
}

/// The schema URI and the attribute part of `text`. Known schema URIs are matched whole
/// (their `2.0` holds a dot); for others the attribute is what follows the last colon.
pub(crate) fn split_schema(text: &str) -> Result<(Option<&str>, &str), String> {
    let is_urn = text
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    if !is_urn {
        return Ok((None, text));
    }
    for known in [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA] {
        let n = known.len();
        if text.get(..n).is_some_and(|p| p.eq_ignore_ascii_case(known))
            && text.get(n..n + 1) == Some(":")
        {
            let rest = text.get(n + 1..).unwrap_or_default();
            if rest.is_empty() {
                return Err(format!(
                    "`{text}` is a schema URI with no attribute after it"
                ));
            }
            return Ok((text.get(..n), rest));
        }
    }
    match text.rsplit_once(':') {
        Some((schema, rest)) if !rest.is_empty() && schema.len() > 4 => Ok((Some(schema), rest)),
        _ => Err(format!(
            "`{text}` is a schema URI with no attribute after it"
        )),
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Contains (strings).
    Co,
    /// Starts with (strings).
    Sw,
    /// Ends with (strings).
    Ew,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
}

impl CompareOp {
    /// Every operator.
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The operator as written, lower-case.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator `text`, in any case.
    pub fn parse(text: &str) -> Option<Self> {
        CompareOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(text))
    }
}

/// The value a comparison compares with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number.
    Number(Number),
    /// A JSON string, its escapes decoded.
    String(String),
}

impl CompValue {
    /// The string, for a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            CompValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as JSON.
    pub fn to_json(&self) -> Value {
        match self {
            CompValue::Null => Value::Null,
            CompValue::Bool(b) => Value::Bool(*b),
            CompValue::Number(n) => Value::Number(n.clone()),
            CompValue::String(s) => Value::String(s.clone()),
        }
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

/// A parsed filter. The grammar is fixed by RFC 7644, so this enum is deliberately
/// exhaustive: a store's `match` covers every filter.
///
/// `and` and `or` hold two or more filters each, flattened (`a and (b and c)` is one
/// `And` of three), so that equal filters have equal trees and printing then parsing a
/// filter gives it back.
///
/// ```
/// use jit_provisioning_scim::{Filter, SimpleFilter, ScimType};
///
/// let filter = Filter::parse(r#"userName Eq "bjensen@example.com""#)?;
/// assert_eq!(filter.to_string(), r#"userName eq "bjensen@example.com""#);
/// assert_eq!(filter.simple(), Some(SimpleFilter::UserName("bjensen@example.com".into())));
///
/// let refused = Filter::parse(r#"userName eq "unterminated"#).unwrap_err();
/// assert_eq!(refused.scim_type(), Some(ScimType::InvalidFilter));
/// # Ok::<(), jit_provisioning_scim::ScimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `attrPath op value`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The value compared with.
        value: CompValue,
    },
    /// `attrPath pr`: the attribute has a value.
    Present(AttrPath),
    /// Every filter holds.
    And(Vec<Filter>),
    /// Some filter holds.
    Or(Vec<Filter>),
    /// `not (filter)`.
    Not(Box<Filter>),
    /// `attrPath[filter]`: some value of a multi-valued attribute matches `filter`, whose
    /// paths name sub-attributes of that value.
    ValuePath {
        /// The multi-valued attribute.
        path: AttrPath,
        /// The filter each value is tried against.
        filter: Box<Filter>,
    },
}

impl Filter {
    /// Parses a filter within the default [`Limits`]. Every refusal is `invalidFilter`,
    /// with a detail that says where and why.
    pub fn parse(text: &str) -> Result<Filter, ScimError> {
        Filter::parse_with_limits(text, &Limits::default())
    }

    /// Parses a filter within `limits` (`max_filter_bytes`, `max_filter_depth`).
    pub fn parse_with_limits(text: &str, limits: &Limits) -> Result<Filter, ScimError> {
        let refuse =
            |detail: String| ScimError::new(ScimType::InvalidFilter, format!("filter: {detail}"));
        if text.len() > limits.max_filter_bytes {
            return Err(refuse(format!(
                "the filter is {} bytes; the limit is {}",
                text.len(),
                limits.max_filter_bytes
            )));
        }
        if text.trim().is_empty() {
            return Err(refuse("the filter is empty".into()));
        }
        parser::Parser::new(text, limits.max_filter_depth)
            .filter()
            .map_err(refuse)
    }

    /// `a and b and …`, flattened; one filter is itself.
    pub fn and(filters: Vec<Filter>) -> Filter {
        Filter::join(filters, true)
    }

    /// `a or b or …`, flattened; one filter is itself.
    pub fn or(filters: Vec<Filter>) -> Filter {
        Filter::join(filters, false)
    }

    fn join(filters: Vec<Filter>, and: bool) -> Filter {
        let mut flat = Vec::with_capacity(filters.len());
        for filter in filters {
            match filter {
                Filter::And(items) if and => flat.extend(items),
                Filter::Or(items) if !and => flat.extend(items),
                other => flat.push(other),
            }
        }
        if flat.len() == 1 {
            if let Some(only) = flat.pop() {
                return only;
            }
        }
        if and {
            Filter::And(flat)
        } else {
            Filter::Or(flat)
        }
    }

    /// `path eq "value"`.
    pub fn eq(path: AttrPath, value: &str) -> Filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(value.to_owned()),
        }
    }

    /// Whether the filter names attribute `name` anywhere (in any schema, as an attribute
    /// or a sub-attribute).
    pub fn mentions(&self, name: &str) -> bool {
        let named = |p: &AttrPath| {
            p.name.eq_ignore_ascii_case(name)
                || p.sub_attribute
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(name))
        };
        match self {
            Filter::Compare { path, .. } | Filter::Present(path) => named(path),
            Filter::And(items) | Filter::Or(items) => items.iter().any(|f| f.mentions(name)),
            Filter::Not(inner) => inner.mentions(name),
            Filter::ValuePath { path, filter } => named(path) || filter.mentions(name),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str()),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::And(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    match item {
                        Filter::Or(_) => write!(f, "({item})")?,
                        _ => write!(f, "{item}")?,
                    }
                }
                Ok(())
            }
            Filter::Or(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}
