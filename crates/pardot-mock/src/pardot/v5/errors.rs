//! The v5 errors the mock sends, each a code of the Account Engagement error table ("Error
//! Codes and Messages") with a message naming what was wrong.

use super::super::errors::ApiError;

/// An error with the table's code and a message of its own.
pub(super) fn invalid(code: u32, message: impl Into<String>) -> ApiError {
    ApiError::with_message(code, message.into())
}

/// 36: a required query parameter (`fields`) is missing.
pub(super) fn missing_parameter(name: &str) -> ApiError {
    invalid(
        36,
        format!("One or more required parameter values are missing: {name}"),
    )
}

/// 130: a `fields` entry the object does not have.
pub(super) fn unknown_field(name: &str) -> ApiError {
    invalid(130, format!("Invalid field: {name}"))
}

/// 51: a parameter whose value is malformed.
pub(super) fn bad_parameter(name: &str, value: &str) -> ApiError {
    invalid(51, format!("Invalid value specified for {name}: {value}"))
}

/// 150: a body that is not a JSON object.
pub(super) fn not_json() -> ApiError {
    ApiError::code(150)
}

/// 151: a body sent without `Content-Type: application/json`.
pub(super) fn not_json_content_type() -> ApiError {
    ApiError::code(151)
}

/// 152: a write with no body.
pub(super) fn empty_body() -> ApiError {
    ApiError::code(152)
}

/// 153: a create without a property the object needs.
pub(super) fn missing_property(name: &str) -> ApiError {
    invalid(153, format!("Missing required property in request: {name}"))
}

/// 154: a body property the object does not have.
pub(super) fn unknown_property(name: &str) -> ApiError {
    invalid(
        154,
        format!("Invalid property in request: {name} is not a field of this object"),
    )
}

/// 154: a body property the object has but a write may not set.
pub(super) fn read_only_property(name: &str) -> ApiError {
    invalid(
        154,
        format!("Invalid property in request: {name} is read-only"),
    )
}

/// 154: a body property whose JSON value has the wrong type.
pub(super) fn wrong_type(name: &str, wanted: &str) -> ApiError {
    invalid(
        154,
        format!("Invalid property in request: {name} must be {wanted}"),
    )
}

/// 60: a method the object does not serve (read-only objects refuse writes).
pub(super) fn method_not_allowed(object: &str) -> ApiError {
    invalid(
        60,
        format!("Invalid HTTP request method: {object} is read-only"),
    )
}

/// 2: an object the v5 API of the mock does not serve.
pub(super) fn unknown_object(object: &str) -> ApiError {
    invalid(2, format!("Invalid action: no object {object}"))
}
