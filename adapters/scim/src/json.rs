//! Reading request JSON the way SCIM asks: attribute names case-insensitive, `null` as
//! "no value", and the IdPs' string booleans.

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimType};

/// The JSON type of `value`, for error details.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses a request body: JSON, and an object.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ScimError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::new(
            ScimType::InvalidSyntax,
            "the request has no body; send a JSON object",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(ScimError::new(
            ScimType::InvalidSyntax,
            format!("the body is {}; send a JSON object", type_name(&other)),
        )),
        Err(error) => Err(ScimError::new(
            ScimType::InvalidSyntax,
            format!("the body is not JSON: {error}"),
        )),
    }
}

/// The entry of `object` named `name`, matched case-insensitively. Two keys that differ
/// only by case are refused: which one was meant cannot be told.
pub(crate) fn get_ci<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<(&'a String, &'a Value)>, ScimError> {
    let mut found: Option<(&'a String, &'a Value)> = None;
    for (key, value) in object {
        if key.eq_ignore_ascii_case(name) {
            if let Some((first, _)) = found {
                return Err(duplicate(first, key));
            }
            found = Some((key, value));
        }
    }
    Ok(found)
}

/// The value of `name` in `object`, `None` for absent or `null`.
pub(crate) fn value_ci<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Value>, ScimError> {
    Ok(get_ci(object, name)?
        .map(|(_, v)| v)
        .filter(|v| !v.is_null()))
}

pub(crate) fn duplicate(first: &str, second: &str) -> ScimError {
    ScimError::new(
        ScimType::InvalidSyntax,
        format!("`{first}` and `{second}` are the same attribute (names are case-insensitive); send it once"),
    )
}

/// The key of `object` matching `name` case-insensitively, if any.
pub(crate) fn key_ci(object: &Map<String, Value>, name: &str) -> Option<String> {
    object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
}

/// A string attribute: a string, or nothing for `null`.
pub(crate) fn string(value: &Value, attribute: &str) -> Result<Option<String>, ScimError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(wrong_type(attribute, "a string", other)),
    }
}

/// A boolean attribute. Entra ID sends `"True"` and `"False"` (and OneLogin's templates
/// `"true"`), so strings that say true or false, in any case, count as booleans.
pub(crate) fn boolean(value: &Value, attribute: &str) -> Result<Option<bool>, ScimError> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(Some(false)),
        Value::String(s) => Err(ScimError::new(
            ScimType::InvalidValue,
            format!("`{attribute}` must be true or false, not `{s}`"),
        )),
        other => Err(wrong_type(attribute, "a boolean", other)),
    }
}

pub(crate) fn wrong_type(attribute: &str, expected: &str, found: &Value) -> ScimError {
    ScimError::new(
        ScimType::InvalidValue,
        format!("`{attribute}` must be {expected}, not {}", type_name(found)),
    )
}

/// The items of a multi-valued attribute: an array, `null` for none, and a lone value as
/// a list of one (OneLogin's enterprise template sends `emails` as one object).
pub(crate) fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().filter(|v| !v.is_null()).collect(),
        other => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_booleans_are_booleans() {
        for (value, expected) in [
            (json!(true), Some(true)),
            (json!("True"), Some(true)),
            (json!("FALSE"), Some(false)),
            (json!(" false "), Some(false)),
            (json!(null), None),
        ] {
            assert_eq!(boolean(&value, "active").ok(), Some(expected), "{value}");
        }
        let error = boolean(&json!("maybe"), "active").err();
        assert_eq!(
            error.and_then(|e| e.scim_type()),
            Some(ScimType::InvalidValue)
        );
        let error = boolean(&json!(1), "active").err();
        assert_eq!(
            error.map(|e| e.detail().to_owned()),
            Some("`active` must be a boolean, not a number".into())
        );
    }

    #[test]
    fn names_match_without_case_and_once() {
        let object = json!({"UserName": "a"});
        let object = object.as_object().cloned().unwrap_or_default();
        assert_eq!(
            value_ci(&object, "userName").ok().flatten(),
            Some(&json!("a"))
        );
        let twice = json!({"userName": "a", "USERNAME": "b"});
        let twice = twice.as_object().cloned().unwrap_or_default();
        assert_eq!(
            get_ci(&twice, "username").err().and_then(|e| e.scim_type()),
            Some(ScimType::InvalidSyntax)
        );
    }
}
