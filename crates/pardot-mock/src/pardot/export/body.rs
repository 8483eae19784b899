//! The body of `POST /api/v5/exports`: a JSON object with `fields`, `procedure`,
//! `includeByteOrderMark` and `maxFileSizeBytes`, read into what the export asks for.

use axum::http::{HeaderMap, header};

use super::columns::Columns;
use super::procedure::Procedure;
use super::registry::ExportRequest;
use super::{flag, invalid};
use crate::pardot::errors::ApiError;
use crate::pardot::prospects::CustomField;

/// The size of a result file when the request names none: 100 MiB.
pub(super) const DEFAULT_MAX_FILE_SIZE: u64 = 100 * 1024 * 1024;
/// The smallest `maxFileSizeBytes` accepted.
pub(super) const MIN_MAX_FILE_SIZE: u64 = 1024;
/// The largest `maxFileSizeBytes` accepted: 1 GiB.
pub(super) const MAX_MAX_FILE_SIZE: u64 = 1024 * 1024 * 1024;

/// Reads a create body into what the export asks for.
pub(super) fn parse_create(
    headers: &HeaderMap,
    body: &[u8],
    now: std::time::SystemTime,
    custom: &[CustomField],
) -> Result<ExportRequest, ApiError> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !json_type {
        return Err(ApiError::code(151));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::code(152));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| ApiError::code(150))?;
    let object = value.as_object().ok_or_else(|| ApiError::code(150))?;
    const KNOWN: [&str; 4] = [
        "fields",
        "procedure",
        "includeByteOrderMark",
        "maxFileSizeBytes",
    ];
    if let Some(key) = object.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(invalid(154, key));
    }
    let procedure = Procedure::parse(
        object
            .get("procedure")
            .ok_or_else(|| invalid(153, "procedure"))?,
        now,
    )?;
    let columns = Columns::parse(
        procedure.selection.object,
        object.get("fields").ok_or_else(|| invalid(153, "fields"))?,
        custom,
    )?;
    let include_bom = flag(
        object,
        "includeByteOrderMark",
        "includeByteOrderMark must be a boolean",
    )?;
    let max_file_size = match object.get("maxFileSizeBytes") {
        None => DEFAULT_MAX_FILE_SIZE,
        Some(v) => v
            .as_u64()
            .filter(|n| (MIN_MAX_FILE_SIZE..=MAX_MAX_FILE_SIZE).contains(n))
            .ok_or_else(|| {
                invalid(
                    154,
                    format!(
                        "maxFileSizeBytes must be a whole number from {MIN_MAX_FILE_SIZE} to {MAX_MAX_FILE_SIZE}"
                    ),
                )
            })?,
    };
    Ok(ExportRequest {
        procedure,
        columns,
        include_bom,
        max_file_size,
    })
}
