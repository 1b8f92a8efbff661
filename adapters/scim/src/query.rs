//! Query parameters: `filter`, `startIndex`, `count`, `attributes`,
//! `excludedAttributes` (RFC 7644 §3.4.2, §3.9).

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimType};
use crate::filter::{parse_attr_path, AttrPath, Filter, SimpleFilter};
use crate::json::{key_ci, value_ci};
use crate::limits::Limits;
use crate::percent;
use crate::schema::{same_uri, SEARCH_REQUEST_SCHEMA};

/// Which attributes a response carries: `attributes` (only these) and
/// `excludedAttributes` (all but these). `id` and `schemas` are always returned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Projection {
    /// `attributes=`: when not empty, only these (and `id`, `schemas`).
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes=`: never these.
    pub excluded: Vec<AttrPath>,
}

impl Projection {
    /// Every attribute that is returned by default.
    pub fn all() -> Self {
        Projection::default()
    }

    /// Reads `attributes` and `excludedAttributes` from a query string, ignoring other
    /// parameters (for `GET /Users/{id}`).
    pub fn parse(query: &str) -> Result<Projection, ScimError> {
        let params = Params::parse(query)?;
        Ok(Projection {
            attributes: params.paths("attributes")?,
            excluded: params.paths("excludedAttributes")?,
        })
    }

    /// Whether attribute `name` is returned, so that a store can skip loading it (a
    /// group's `members` when Entra ID excludes them).
    ///
    /// ```
    /// use jit_provisioning_scim::Projection;
    ///
    /// let projection = Projection::parse("excludedAttributes=members")?;
    /// assert!(!projection.includes("members"));
    /// assert!(projection.includes("displayName"));
    /// # Ok::<(), jit_provisioning_scim::ScimError>(())
    /// ```
    pub fn includes(&self, name: &str) -> bool {
        if name.eq_ignore_ascii_case("id") || name.eq_ignore_ascii_case("schemas") {
            return true;
        }
        let named = |p: &AttrPath| p.name.eq_ignore_ascii_case(name);
        let excluded = self
            .excluded
            .iter()
            .any(|p| named(p) && p.sub_attribute.is_none());
        let listed = self.attributes.is_empty() || self.attributes.iter().any(named);
        listed && !excluded
    }

    /// Applies the projection to a resource's JSON.
    pub fn apply(&self, resource: &mut Value) {
        let Some(object) = resource.as_object_mut() else {
            return;
        };
        if !self.attributes.is_empty() {
            let mut kept = Map::new();
            for path in &self.attributes {
                copy_path(object, &mut kept, path);
            }
            for always in ["id", "schemas"] {
                if let Some(key) = key_ci(object, always) {
                    if let Some(value) = object.remove(&key) {
                        kept.insert(key, value);
                    }
                }
            }
            *object = kept;
        }
        for path in &self.excluded {
            if path.is("id") || path.is("schemas") {
                continue;
            }
            remove_path(object, path);
        }
    }
}

fn container_key(object: &Map<String, Value>, path: &AttrPath) -> Option<Option<String>> {
    match &path.schema {
        Some(schema) if !path.is_core() => key_ci(object, schema).map(Some),
        _ => Some(None),
    }
}

fn copy_path(from: &Map<String, Value>, to: &mut Map<String, Value>, path: &AttrPath) {
    let Some(container) = container_key(from, path) else {
        return;
    };
    let (source, target) = match &container {
        Some(key) => {
            let Some(Value::Object(source)) = from.get(key) else {
                return;
            };
            let target = to
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(target) = target else {
                return;
            };
            (source, target)
        }
        None => (from, &mut *to),
    };
    let Some(key) = key_ci(source, &path.name) else {
        return;
    };
    let Some(value) = source.get(&key) else {
        return;
    };
    let Some(sub) = &path.sub_attribute else {
        target.insert(key, value.clone());
        return;
    };
    match value {
        Value::Object(inner) => {
            let Some(sub_key) = key_ci(inner, sub) else {
                return;
            };
            let entry = target
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if let (Value::Object(entry), Some(v)) = (entry, inner.get(&sub_key)) {
                entry.insert(sub_key, v.clone());
            }
        }
        Value::Array(list) => {
            let entry = target
                .entry(key)
                .or_insert_with(|| Value::Array(vec![Value::Object(Map::new()); list.len()]));
            let Value::Array(entry) = entry else { return };
            for (item, out) in list.iter().zip(entry.iter_mut()) {
                if let (Value::Object(item), Value::Object(out)) = (item, out) {
                    if let Some(sub_key) = key_ci(item, sub) {
                        if let Some(v) = item.get(&sub_key) {
                            out.insert(sub_key, v.clone());
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

fn remove_path(object: &mut Map<String, Value>, path: &AttrPath) {
    let Some(container) = container_key(object, path) else {
        return;
    };
    let target = match &container {
        Some(key) => match object.get_mut(key) {
            Some(Value::Object(inner)) => inner,
            _ => return,
        },
        None => object,
    };
    let Some(key) = key_ci(target, &path.name) else {
        return;
    };
    match &path.sub_attribute {
        None => {
            target.remove(&key);
        }
        Some(sub) => match target.get_mut(&key) {
            Some(Value::Object(inner)) => {
                if let Some(sub_key) = key_ci(inner, sub) {
                    inner.remove(&sub_key);
                }
            }
            Some(Value::Array(list)) => {
                for item in list.iter_mut().filter_map(Value::as_object_mut) {
                    if let Some(sub_key) = key_ci(item, sub) {
                        item.remove(&sub_key);
                    }
                }
            }
            _ => {}
        },
    }
}

/// A list request: `GET /Users?filter=…&startIndex=…&count=…` or a `.search` body.
///
/// `startIndex` is 1-based and below 1 counts as 1; `count` below 0 counts as 0 and is
/// lowered to the page size limit, which is also the count when none is given.
///
/// ```
/// use jit_provisioning_scim::{ListQuery, SimpleFilter};
///
/// // Okta's "does this user exist?" request.
/// let query = ListQuery::parse("filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100")?;
/// assert_eq!(query.simple_filter(), Some(SimpleFilter::UserName("test.user@okta.local".into())));
/// assert_eq!((query.start_index, query.count, query.offset()), (1, 100, 0));
///
/// let clamped = ListQuery::parse("startIndex=-4&count=100000")?;
/// assert_eq!((clamped.start_index, clamped.count), (1, jit_provisioning_scim::MAX_PAGE_SIZE));
/// # Ok::<(), jit_provisioning_scim::ScimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListQuery {
    /// The filter, if any.
    pub filter: Option<Filter>,
    /// The 1-based index of the first result.
    pub start_index: u64,
    /// How many results at most (0 asks only for `totalResults`).
    pub count: u64,
    /// Which attributes to return.
    pub projection: Projection,
}

impl ListQuery {
    /// Everything, first page.
    pub fn new(limits: &Limits) -> Self {
        ListQuery {
            filter: None,
            start_index: 1,
            count: limits.max_page_size,
            projection: Projection::all(),
        }
    }

    /// Reads a query string within the default [`Limits`].
    pub fn parse(query: &str) -> Result<ListQuery, ScimError> {
        ListQuery::parse_with_limits(query, &Limits::default())
    }

    /// Reads a query string (percent-encoded, `+` as space) within `limits`. Unknown
    /// parameters (such as Entra ID's `aadOptscim062020`) are ignored; `sortBy` and
    /// `sortOrder` too, since sorting is not supported.
    pub fn parse_with_limits(query: &str, limits: &Limits) -> Result<ListQuery, ScimError> {
        let params = Params::parse(query)?;
        let filter = match params.get("filter")? {
            Some(text) => Some(Filter::parse_with_limits(text, limits)?),
            None => None,
        };
        let mut list = ListQuery::new(limits);
        list.filter = filter;
        if let Some(start) = params.get("startIndex")? {
            list.start_index = start_index(integer(start, "startIndex")?);
        }
        if let Some(count) = params.get("count")? {
            list.count = count_of(integer(count, "count")?, limits);
        }
        list.projection = Projection {
            attributes: params.paths("attributes")?,
            excluded: params.paths("excludedAttributes")?,
        };
        list.check_sensitive()?;
        Ok(list)
    }

    /// Reads a `POST …/.search` body (RFC 7644 §3.4.3), whose filter travels in the body
    /// precisely so that it stays out of URLs.
    pub fn from_search_request(
        body: &Map<String, Value>,
        limits: &Limits,
    ) -> Result<ListQuery, ScimError> {
        let schemas_ok = value_ci(body, "schemas")?
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .any(|u| same_uri(u, SEARCH_REQUEST_SCHEMA))
            });
        if !schemas_ok {
            return Err(ScimError::new(
                ScimType::InvalidSyntax,
                format!("a search request lists `{SEARCH_REQUEST_SCHEMA}` in `schemas`"),
            ));
        }
        let mut list = ListQuery::new(limits);
        if let Some(filter) = value_ci(body, "filter")? {
            let text = filter.as_str().ok_or_else(|| {
                ScimError::new(ScimType::InvalidFilter, "`filter` must be a string")
            })?;
            list.filter = Some(Filter::parse_with_limits(text, limits)?);
        }
        if let Some(start) = value_ci(body, "startIndex")? {
            list.start_index = start_index(json_integer(start, "startIndex")?);
        }
        if let Some(count) = value_ci(body, "count")? {
            list.count = count_of(json_integer(count, "count")?, limits);
        }
        list.projection.attributes = json_paths(value_ci(body, "attributes")?, "attributes")?;
        list.projection.excluded =
            json_paths(value_ci(body, "excludedAttributes")?, "excludedAttributes")?;
        Ok(list)
    }

    /// How many results to skip: `startIndex - 1`.
    pub fn offset(&self) -> u64 {
        self.start_index.saturating_sub(1)
    }

    /// The filter as one of the forms a store answers with one lookup, if it is one.
    pub fn simple_filter(&self) -> Option<SimpleFilter> {
        self.filter.as_ref().and_then(Filter::simple)
    }

    /// A password must not travel in a URL (RFC 7644 §7.5.2): filters on it are refused
    /// with `sensitive`.
    fn check_sensitive(&self) -> Result<(), ScimError> {
        match &self.filter {
            Some(filter) if filter.mentions("password") => Err(ScimError::new(
                ScimType::Sensitive,
                "filters on `password` are refused: a password must not travel in a URL",
            )),
            _ => Ok(()),
        }
    }
}

fn start_index(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0).max(1)
}

fn count_of(value: i64, limits: &Limits) -> u64 {
    u64::try_from(value).unwrap_or(0).min(limits.max_page_size)
}

/// An integer parameter, saturating when it has too many digits.
fn integer(text: &str, name: &str) -> Result<i64, ScimError> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ScimError::new(
            ScimType::InvalidValue,
            format!("`{name}` must be an integer, not `{text}`"),
        ));
    }
    let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX);
    Ok(if negative { -magnitude } else { magnitude })
}

fn json_integer(value: &Value, name: &str) -> Result<i64, ScimError> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|_| i64::MAX))
            .ok_or_else(|| {
                ScimError::new(
                    ScimType::InvalidValue,
                    format!("`{name}` must be an integer"),
                )
            }),
        Value::String(s) => integer(s, name),
        _ => Err(ScimError::new(
            ScimType::InvalidValue,
            format!("`{name}` must be an integer"),
        )),
    }
}

fn json_paths(value: Option<&Value>, name: &str) -> Result<Vec<AttrPath>, ScimError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => comma_paths(s, name),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| match v.as_str() {
                Some(s) => path(s, name),
                None => Err(ScimError::new(
                    ScimType::InvalidValue,
                    format!("`{name}` must hold attribute names"),
                )),
            })
            .collect(),
        Some(_) => Err(ScimError::new(
            ScimType::InvalidValue,
            format!("`{name}` must be a list of attribute names"),
        )),
    }
}

fn comma_paths(text: &str, name: &str) -> Result<Vec<AttrPath>, ScimError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| path(s, name))
        .collect()
}

fn path(text: &str, name: &str) -> Result<AttrPath, ScimError> {
    parse_attr_path(text)
        .map_err(|detail| ScimError::new(ScimType::InvalidValue, format!("`{name}`: {detail}")))
}

/// The decoded parameters of a query string.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: &str) -> Result<Params, ScimError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut params = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent::decode(key, true)
                .ok_or_else(|| bad_encoding(key, ScimType::InvalidValue))?;
            let kind = if key.eq_ignore_ascii_case("filter") {
                ScimType::InvalidFilter
            } else {
                ScimType::InvalidValue
            };
            let value = percent::decode(value, true).ok_or_else(|| bad_encoding(&key, kind))?;
            params.push((key, value));
        }
        Ok(Params(params))
    }

    /// The parameter `name` (case-insensitive); given twice is refused.
    fn get(&self, name: &str) -> Result<Option<&str>, ScimError> {
        let mut found = self.0.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name));
        let first = found.next().map(|(_, v)| v.as_str());
        if found.next().is_some() {
            let kind = if name == "filter" {
                ScimType::InvalidFilter
            } else {
                ScimType::InvalidValue
            };
            return Err(ScimError::new(
                kind,
                format!("`{name}` is given more than once; give it once"),
            ));
        }
        Ok(first)
    }

    fn paths(&self, name: &str) -> Result<Vec<AttrPath>, ScimError> {
        match self.get(name)? {
            Some(text) => comma_paths(text, name),
            None => Ok(Vec::new()),
        }
    }
}

fn bad_encoding(name: &str, kind: ScimType) -> ScimError {
    ScimError::new(
        kind,
        format!("the query parameter `{name}` is not valid percent-encoded UTF-8"),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pages_are_clamped() {
        let q = |s: &str| ListQuery::parse(s).map(|q| (q.start_index, q.count));
        assert_eq!(q(""), Ok((1, 200)));
        assert_eq!(q("startIndex=0&count=-5"), Ok((1, 0)));
        assert_eq!(
            q("startIndex=99999999999999999999999&count=99999999999999999999"),
            Ok((i64::MAX as u64, 200))
        );
        assert_eq!(q("startIndex=-99999999999999999999999"), Ok((1, 200)));
        assert_eq!(q("count=7&aadOptscim062020"), Ok((1, 7)));
        assert!(q("count=ten").is_err());
        assert!(q("count=1&count=2").is_err());
        assert!(q("startIndex=1.5").is_err());
    }

    #[test]
    fn projections_keep_and_drop() {
        let mut group =
            json!({"schemas": ["s"], "id": "g", "displayName": "n", "members": [{"value": "u"}]});
        Projection::parse("excludedAttributes=members")
            .unwrap_or_default()
            .apply(&mut group);
        assert_eq!(
            group,
            json!({"schemas": ["s"], "id": "g", "displayName": "n"})
        );

        let mut user = json!({
            "schemas": ["s"], "id": "u", "userName": "b", "name": {"givenName": "B", "familyName": "J"},
            "emails": [{"value": "e", "type": "work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "d", "division": "v"},
        });
        let projection = Projection::parse(
            "attributes=name.givenName,EMAILS.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        )
        .unwrap_or_default();
        projection.apply(&mut user);
        assert_eq!(
            user,
            json!({
                "schemas": ["s"], "id": "u", "name": {"givenName": "B"}, "emails": [{"value": "e"}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "d"},
            })
        );
    }

    #[test]
    fn a_password_in_the_url_is_sensitive() {
        let refused = ListQuery::parse("filter=password%20eq%20%22hunter2%22").err();
        assert_eq!(
            refused.map(|e| (e.status(), e.scim_type())),
            Some((403, Some(ScimType::Sensitive)))
        );
    }
}
