//! v5 write bodies: a JSON object with camelCase properties, checked against the object's
//! fields (unknown, read-only and wrongly typed properties refused with code 154), turned into
//! the `(name, value)` parameters the shared stores take, so a v5 write and a v3/v4 write
//! change the same records by the same rules.

use axum::http::{HeaderMap, header};
use serde_json::{Map, Value};

use super::super::errors::ApiError;
use super::errors::{empty_body, not_json, not_json_content_type, read_only_property, wrong_type};

/// The JSON type a property takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JsonType {
    /// A string.
    Text,
    /// An integer.
    Int,
    /// `true` or `false`.
    Bool,
}

impl JsonType {
    fn describe(self) -> &'static str {
        match self {
            Self::Text => "a string",
            Self::Int => "an integer",
            Self::Bool => "a boolean",
        }
    }
}

/// What a write body may do with a property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Property {
    /// Set it: the store's parameter name and the JSON type.
    Writable(String, JsonType),
    /// Nothing: it is a field, but not one a write sets.
    ReadOnly,
    /// Nothing: no such field.
    Unknown,
}

/// The body of a write as a JSON object: code 151 without a JSON content type, 152 when
/// empty, 150 when it is not a JSON object.
pub(super) fn json_object(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(empty_body());
    }
    if !json_type {
        return Err(not_json_content_type());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(not_json()),
    }
}

/// The store parameters of `body`'s properties, each judged by `property`: an unknown or
/// read-only property is code 154, and so is a value of the wrong JSON type (`null` clears a
/// field of any type).
pub(super) fn parameters(
    body: &Map<String, Value>,
    property: impl Fn(&str) -> Property,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::with_capacity(body.len());
    for (name, value) in body {
        let (param, ty) = match property(name) {
            Property::Writable(param, ty) => (param, ty),
            Property::ReadOnly => return Err(read_only_property(name)),
            Property::Unknown => return Err(super::errors::unknown_property(name)),
        };
        let text = match (ty, value) {
            (_, Value::Null) => String::new(),
            (JsonType::Text, Value::String(s)) => s.clone(),
            (JsonType::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            (JsonType::Bool, Value::Bool(b)) => b.to_string(),
            _ => return Err(wrong_type(name, ty.describe())),
        };
        out.push((param, text));
    }
    Ok(out)
}

/// The value of a string property, if given (code 154 for another type).
pub(super) fn text<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(name, JsonType::Text.describe())),
    }
}

/// The value of a boolean property, if given (code 154 for another type).
pub(super) fn flag(body: &Map<String, Value>, name: &str) -> Result<Option<bool>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(name, JsonType::Bool.describe())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Map<String, Value> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        json_object(&headers, text.as_bytes()).unwrap()
    }

    #[test]
    fn bodies_are_json_objects_with_known_writable_properties() {
        let mut headers = HeaderMap::new();
        assert_eq!(json_object(&headers, b"").unwrap_err().code, 152);
        assert_eq!(json_object(&headers, b"{}").unwrap_err().code, 151);
        headers.insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert_eq!(json_object(&headers, b"[1]").unwrap_err().code, 150);
        assert_eq!(json_object(&headers, b"{").unwrap_err().code, 150);
        let judge = |name: &str| match name {
            "name" => Property::Writable("name".into(), JsonType::Text),
            "cost" => Property::Writable("cost".into(), JsonType::Int),
            "id" => Property::ReadOnly,
            _ => Property::Unknown,
        };
        assert_eq!(
            parameters(&body(r#"{"name":"A","cost":5}"#), judge).unwrap(),
            // In name order: the body's map is sorted.
            vec![
                ("cost".to_owned(), "5".to_owned()),
                ("name".to_owned(), "A".to_owned())
            ]
        );
        assert_eq!(
            parameters(&body(r#"{"cost":null}"#), judge).unwrap(),
            vec![("cost".to_owned(), String::new())]
        );
        for bad in [
            r#"{"id":1}"#,
            r#"{"nope":1}"#,
            r#"{"cost":"5"}"#,
            r#"{"cost":1.5}"#,
        ] {
            assert_eq!(
                parameters(&body(bad), judge).unwrap_err().code,
                154,
                "{bad}"
            );
        }
    }
}
